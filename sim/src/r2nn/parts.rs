//! The part table of a metacircuit board: which real, programmable or fixed
//! part realizes each kind of circuit element, its transfer function (code →
//! value), range, tolerance and SPI timing, and how the board wires them
//! (docs/metacircuit-board.md). The table is data (TOML, e.g.
//! `configs/parts/reference.toml`), so a lab can swap a part without
//! touching code; [`PartTable::parse`] refuses a bad table naming the field
//! and its value.
//!
//! # Transfer functions
//!
//! - **Rheostat** (a digital potentiometer in rheostat mode, e.g. AD5293):
//!   `R(D) = wiper + D · full_scale / steps` for codes `min_code..=max_code`.
//!   A *rheostat slot* puts a fixed resistor `series_ohms` in series and,
//!   optionally, one channel of an SPI switch that opens the element (the
//!   value "open", a dashpot of 0). Codes are chosen nearest in
//!   *conductance* (a dashpot `c = Z0/R` is what the model sees).
//! - **Capacitor bank** (an SPI octal switch, e.g. ADG1414, and fixed
//!   capacitors): `C(code) = fixed + Σ_{bit i of code} weights[i]`; the
//!   achievable set is every subset sum, computed and searched exactly.
//! - **Series** (a fixed part picked per model from an E series): the nearest
//!   series value within `[min, max]`; no code.
//! - **Fixed** (one value on the board): the value, within its tolerance.
//!
//! A code is refused (by [`PartTable`]'s users in [`super::realize`]) when
//! the value it should make lies outside what the slot can realize: the
//! error names the element and the slot's range.

use super::circuit::{eng, Series};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// SPI timing of a part: what a controller must do to talk to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spi {
    /// SPI mode 0..=3 (CPOL·2 + CPHA).
    pub mode: u8,
    /// Highest SCLK the datasheet allows, Hz.
    pub max_clock_hz: f64,
    /// Bits per frame (per chip in a daisy chain).
    pub frame_bits: u32,
    /// The command bits of a write, ORed with `code << code_shift`.
    #[serde(default)]
    pub write: u64,
    /// Where the code sits in the frame.
    #[serde(default)]
    pub code_shift: u32,
    /// Frames to send once after power-up, before any write.
    #[serde(default)]
    pub init: Vec<u64>,
    /// The frame that asks for a readback (the answer comes in the next
    /// frame), if the part can read back.
    #[serde(default)]
    pub read: Option<u64>,
    /// The frame that changes nothing, sent to clock a readback's answer
    /// out (0 when not given: the AD5293's NOP).
    #[serde(default)]
    pub nop: u64,
    /// The part passes data on to the next one (SDO to DIN).
    #[serde(default)]
    pub daisy_chain: bool,
}

/// One kind of purchasable part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Part {
    Rheostat {
        part: String,
        datasheet: String,
        /// Code width.
        bits: u32,
        /// `R(D) = wiper_ohms + D · full_scale_ohms / steps`.
        steps: u32,
        full_scale_ohms: f64,
        #[serde(default)]
        wiper_ohms: f64,
        min_code: u64,
        max_code: u64,
        /// Relative tolerance of the value (±).
        tolerance: f64,
        spi: Spi,
    },
    Switch {
        part: String,
        datasheet: String,
        /// Switches per chip (one code bit each).
        channels: u32,
        on_ohms: f64,
        spi: Spi,
    },
    Dac {
        part: String,
        datasheet: String,
        bits: u32,
        /// Output settling time of a full-scale step, s: the shortest update
        /// period.
        settling_s: f64,
        spi: Spi,
    },
    Adc {
        part: String,
        datasheet: String,
        bits: u32,
        channels: u32,
        /// Conversions per second of one chip, all channels together.
        max_rate: f64,
        /// Input range ±volts used.
        range_volts: f64,
        spi: Spi,
    },
}

impl Part {
    pub fn spi(&self) -> &Spi {
        match self {
            Part::Rheostat { spi, .. }
            | Part::Switch { spi, .. }
            | Part::Dac { spi, .. }
            | Part::Adc { spi, .. } => spi,
        }
    }

    pub fn number(&self) -> &str {
        match self {
            Part::Rheostat { part, .. }
            | Part::Switch { part, .. }
            | Part::Dac { part, .. }
            | Part::Adc { part, .. } => part,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Part::Rheostat { .. } => "rheostat",
            Part::Switch { .. } => "switch",
            Part::Dac { .. } => "dac",
            Part::Adc { .. } => "adc",
        }
    }
}

/// How one kind of circuit element is built on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Slot {
    /// One value on the board.
    Fixed {
        value: f64,
        tolerance: f64,
        /// What to buy.
        part: String,
    },
    /// A fixed part picked per model from a preferred series.
    Series {
        series: String,
        min: f64,
        max: f64,
        tolerance: f64,
        part: String,
    },
    /// A rheostat part in series with a fixed resistor, optionally opened by
    /// one channel of a switch on `open_bus`.
    Rheostat {
        part: String,
        series_ohms: f64,
        bus: String,
        #[serde(default)]
        open_bus: Option<String>,
    },
    /// A fixed capacitor in parallel with switched binary-weighted ones, one
    /// switch chip per element on `bus`.
    Bank {
        switch: String,
        bus: String,
        fixed: f64,
        weights: Vec<f64>,
        tolerance: f64,
        /// What the capacitors are.
        capacitors: String,
    },
}

/// Which slot builds each kind of element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// The capacitor of a main mass (a node with several springs).
    pub main_capacitor: String,
    /// The capacitor of a resonator mass (a node hung on one spring).
    pub resonator_capacitor: String,
    /// The inductor of a resonator's spring.
    pub resonator_inductor: String,
    /// Every other inductor (coupling springs, springs to fixed nodes).
    pub coupling_inductor: String,
    /// A trained dashpot's resistor.
    pub trained_resistor: String,
    /// An untrained dashpot's resistor (ground damping).
    pub fixed_resistor: String,
    /// Tune each resonator's capacitor to the trained resonance `1/√(LC)`
    /// with the inductor the series gives (the capacitor slot must be a
    /// bank).
    #[serde(default)]
    pub tune_resonance: bool,
}

/// One SPI bus: a part kind, its SCLK, and (for daisy chains) its chips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bus {
    pub part: String,
    /// SCLK the controller drives, Hz (at most the part's `max_clock_hz`).
    pub clock_hz: f64,
    /// What the bus is for.
    pub purpose: String,
}

/// The input: a DAC on a bus and the voltage-to-current (Howland) stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub bus: String,
    /// DAC updates per input sample (1: a sample-and-hold of the integrated
    /// force at every sample).
    pub updates_per_sample: u32,
    /// The Howland stage's output current at the DAC's full scale, ± A.
    pub full_scale_amps: f64,
}

/// The probes: one ADC per bus (separate data lines, sampled together);
/// the probes are spread evenly over them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    pub buses: Vec<String>,
}

/// A board's part table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartTable {
    pub name: String,
    /// Where the figures come from and what to check before ordering.
    pub source: String,
    pub parts: BTreeMap<String, Part>,
    pub slots: BTreeMap<String, Slot>,
    pub roles: Roles,
    pub buses: BTreeMap<String, Bus>,
    pub input: Input,
    pub probes: Probes,
}

/// Refuses `nan`/`inf` anywhere, naming the field (so the range checks
/// below compare finite numbers).
fn finite(path: &str, v: &toml::Value) -> Result<()> {
    match v {
        toml::Value::Float(x) if !x.is_finite() => {
            bail!("{path} = {x} is not a finite number")
        }
        toml::Value::Table(t) => t.iter().try_for_each(|(k, v)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            finite(&p, v)
        }),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| finite(&format!("{path}[{i}]"), v)),
        _ => Ok(()),
    }
}

fn positive(field: &str, v: f64) -> Result<()> {
    if v <= 0.0 {
        bail!("{field} = {v}: must be positive");
    }
    Ok(())
}

fn fraction(field: &str, v: f64) -> Result<()> {
    if !(0.0..0.5).contains(&v) {
        bail!("{field} = {v}: give a relative tolerance in [0, 0.5) (0.01 is ±1%)");
    }
    Ok(())
}

impl Spi {
    fn validate(&self, at: &str) -> Result<()> {
        if self.mode > 3 {
            bail!("{at}.mode = {}: SPI modes are 0, 1, 2, 3", self.mode);
        }
        positive(&format!("{at}.max_clock_hz"), self.max_clock_hz)?;
        if !(1..=64).contains(&self.frame_bits) {
            bail!("{at}.frame_bits = {}: give 1..=64", self.frame_bits);
        }
        let fits = |w: u64| self.frame_bits == 64 || w >> self.frame_bits == 0;
        if !fits(self.write) {
            bail!(
                "{at}.write = {:#x} does not fit in frame_bits = {}",
                self.write,
                self.frame_bits
            );
        }
        for (i, &w) in self.init.iter().enumerate() {
            if !fits(w) {
                bail!(
                    "{at}.init[{i}] = {w:#x} does not fit in frame_bits = {}",
                    self.frame_bits
                );
            }
        }
        if let Some(r) = self.read {
            if !fits(r) {
                bail!(
                    "{at}.read = {r:#x} does not fit in frame_bits = {}",
                    self.frame_bits
                );
            }
        }
        Ok(())
    }
}

impl PartTable {
    pub fn load(path: &Path) -> Result<PartTable> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the part table {}", path.display()))?;
        PartTable::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<PartTable> {
        let value: toml::Value = toml::from_str(text)
            .with_context(|| format!("part table {origin} is not valid TOML"))?;
        finite("", &value).with_context(|| format!("part table {origin} is invalid"))?;
        let t: PartTable = value
            .try_into()
            .with_context(|| format!("part table {origin} does not have the fields of a part table (docs/metacircuit-board.md)"))?;
        t.validate()
            .with_context(|| format!("part table {origin} is invalid"))?;
        Ok(t)
    }

    pub fn part(&self, key: &str) -> Result<&Part> {
        self.parts.get(key).with_context(|| {
            format!(
                "no part '{key}' in [parts] (there are: {})",
                self.parts.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn slot(&self, key: &str) -> Result<&Slot> {
        self.slots.get(key).with_context(|| {
            format!(
                "no slot '{key}' in [slots] (there are: {})",
                self.slots.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn bus(&self, key: &str) -> Result<&Bus> {
        self.buses.get(key).with_context(|| {
            format!(
                "no bus '{key}' in [buses] (there are: {})",
                self.buses.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The part on a bus, required to be of `kind`.
    fn bus_part(&self, field: &str, bus: &str, kind: &str) -> Result<&Part> {
        let b = self
            .bus(bus)
            .with_context(|| format!("{field} = \"{bus}\""))?;
        let p = self
            .part(&b.part)
            .with_context(|| format!("buses.{bus}.part = \"{}\"", b.part))?;
        if p.kind() != kind {
            bail!(
                "{field} = \"{bus}\": that bus carries {} ({}), not a {kind}",
                b.part,
                p.kind()
            );
        }
        Ok(p)
    }

    pub fn validate(&self) -> Result<()> {
        for (k, p) in &self.parts {
            let at = format!("parts.{k}");
            p.spi().validate(&format!("{at}.spi"))?;
            match p {
                Part::Rheostat {
                    bits,
                    steps,
                    full_scale_ohms,
                    wiper_ohms,
                    min_code,
                    max_code,
                    tolerance,
                    ..
                } => {
                    if !(1..=24).contains(bits) {
                        bail!("{at}.bits = {bits}: give 1..=24");
                    }
                    positive(&format!("{at}.steps"), *steps as f64)?;
                    positive(&format!("{at}.full_scale_ohms"), *full_scale_ohms)?;
                    if *wiper_ohms < 0.0 {
                        bail!("{at}.wiper_ohms = {wiper_ohms}: must be 0 or more");
                    }
                    if *max_code >= 1u64 << bits {
                        bail!(
                            "{at}.max_code = {max_code} does not fit in bits = {bits} (at most {})",
                            (1u64 << bits) - 1
                        );
                    }
                    if min_code >= max_code {
                        bail!("{at}.min_code = {min_code} must be below max_code = {max_code}");
                    }
                    fraction(&format!("{at}.tolerance"), *tolerance)?;
                }
                Part::Switch {
                    channels, on_ohms, ..
                } => {
                    if !(1..=64).contains(channels) {
                        bail!("{at}.channels = {channels}: give 1..=64");
                    }
                    if *on_ohms < 0.0 {
                        bail!("{at}.on_ohms = {on_ohms}: must be 0 or more");
                    }
                }
                Part::Dac {
                    bits, settling_s, ..
                } => {
                    if !(1..=24).contains(bits) {
                        bail!("{at}.bits = {bits}: give 1..=24");
                    }
                    positive(&format!("{at}.settling_s"), *settling_s)?;
                }
                Part::Adc {
                    bits,
                    channels,
                    max_rate,
                    range_volts,
                    ..
                } => {
                    if !(1..=24).contains(bits) {
                        bail!("{at}.bits = {bits}: give 1..=24");
                    }
                    if *channels == 0 {
                        bail!("{at}.channels = 0: an ADC has at least one channel");
                    }
                    positive(&format!("{at}.max_rate"), *max_rate)?;
                    positive(&format!("{at}.range_volts"), *range_volts)?;
                }
            }
        }
        for (k, b) in &self.buses {
            let p = self
                .part(&b.part)
                .with_context(|| format!("buses.{k}.part = \"{}\"", b.part))?;
            positive(&format!("buses.{k}.clock_hz"), b.clock_hz)?;
            let max = p.spi().max_clock_hz;
            if b.clock_hz > max {
                bail!(
                    "buses.{k}.clock_hz = {}: above the {} maximum of {} (parts.{}.spi.max_clock_hz)",
                    b.clock_hz,
                    p.number(),
                    max,
                    b.part
                );
            }
        }
        for (k, s) in &self.slots {
            let at = format!("slots.{k}");
            match s {
                Slot::Fixed {
                    value, tolerance, ..
                } => {
                    positive(&format!("{at}.value"), *value)?;
                    fraction(&format!("{at}.tolerance"), *tolerance)?;
                }
                Slot::Series {
                    series,
                    min,
                    max,
                    tolerance,
                    ..
                } => {
                    Series::parse(series).with_context(|| format!("{at}.series"))?;
                    positive(&format!("{at}.min"), *min)?;
                    if max <= min {
                        bail!("{at}.max = {max} must be above min = {min}");
                    }
                    fraction(&format!("{at}.tolerance"), *tolerance)?;
                }
                Slot::Rheostat {
                    part,
                    series_ohms,
                    bus,
                    open_bus,
                } => {
                    let p = self
                        .part(part)
                        .with_context(|| format!("{at}.part = \"{part}\""))?;
                    if !matches!(p, Part::Rheostat { .. }) {
                        bail!("{at}.part = \"{part}\" is a {}, not a rheostat", p.kind());
                    }
                    if *series_ohms < 0.0 {
                        bail!("{at}.series_ohms = {series_ohms}: must be 0 or more");
                    }
                    let bp = self.bus_part(&format!("{at}.bus"), bus, "rheostat")?;
                    if bp != p {
                        bail!(
                            "{at}.bus = \"{bus}\" carries {}, not this slot's {}",
                            bp.number(),
                            p.number()
                        );
                    }
                    if let Some(o) = open_bus {
                        self.bus_part(&format!("{at}.open_bus"), o, "switch")?;
                    }
                }
                Slot::Bank {
                    switch,
                    bus,
                    fixed,
                    weights,
                    tolerance,
                    ..
                } => {
                    let p = self
                        .part(switch)
                        .with_context(|| format!("{at}.switch = \"{switch}\""))?;
                    let Part::Switch { channels, .. } = p else {
                        bail!("{at}.switch = \"{switch}\" is a {}, not a switch", p.kind());
                    };
                    self.bus_part(&format!("{at}.bus"), bus, "switch")?;
                    if *fixed < 0.0 {
                        bail!("{at}.fixed = {fixed}: must be 0 or more");
                    }
                    if weights.is_empty() || weights.len() > *channels as usize {
                        bail!(
                            "{at}.weights has {} capacitors: give 1 to {channels} (the channels of {})",
                            weights.len(),
                            p.number()
                        );
                    }
                    if weights.len() > 16 {
                        bail!("{at}.weights has {} capacitors: at most 16", weights.len());
                    }
                    for (i, &w) in weights.iter().enumerate() {
                        positive(&format!("{at}.weights[{i}]"), w)?;
                    }
                    fraction(&format!("{at}.tolerance"), *tolerance)?;
                }
            }
        }
        let r = &self.roles;
        let role = |name: &str, slot: &str, allowed: &[&str]| -> Result<()> {
            let s = self
                .slot(slot)
                .with_context(|| format!("roles.{name} = \"{slot}\""))?;
            let kind = match s {
                Slot::Fixed { .. } => "fixed",
                Slot::Series { .. } => "series",
                Slot::Rheostat { .. } => "rheostat",
                Slot::Bank { .. } => "bank",
            };
            if !allowed.contains(&kind) {
                bail!(
                    "roles.{name} = \"{slot}\": slot {slot} is a {kind} slot; this role takes a {} slot",
                    allowed.join(" or ")
                );
            }
            Ok(())
        };
        let caps = ["fixed", "series", "bank"];
        let inds = ["fixed", "series"];
        let ress = ["fixed", "series", "rheostat"];
        role("main_capacitor", &r.main_capacitor, &caps)?;
        role("resonator_capacitor", &r.resonator_capacitor, &caps)?;
        role("resonator_inductor", &r.resonator_inductor, &inds)?;
        role("coupling_inductor", &r.coupling_inductor, &inds)?;
        role("trained_resistor", &r.trained_resistor, &ress)?;
        role("fixed_resistor", &r.fixed_resistor, &ress)?;
        if r.tune_resonance {
            role("resonator_capacitor", &r.resonator_capacitor, &["bank"])
                .context("roles.tune_resonance = true needs a bank for the resonator capacitors")?;
        }
        let dac = self.bus_part("input.bus", &self.input.bus, "dac")?;
        let _ = dac;
        if self.input.updates_per_sample == 0 {
            bail!("input.updates_per_sample = 0: the DAC is updated at least once per sample");
        }
        positive("input.full_scale_amps", self.input.full_scale_amps)?;
        if self.probes.buses.is_empty() {
            bail!("probes.buses is empty: give at least one ADC bus");
        }
        for (i, b) in self.probes.buses.iter().enumerate() {
            self.bus_part(&format!("probes.buses[{i}]"), b, "adc")?;
        }
        Ok(())
    }
}

/// A rheostat slot's transfer function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RheostatFn {
    pub series: f64,
    pub wiper: f64,
    pub step: f64,
    pub min_code: u64,
    pub max_code: u64,
    pub can_open: bool,
}

/// What a rheostat slot is set to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RSetting {
    Code(u64),
    Open,
}

impl RheostatFn {
    pub fn of(table: &PartTable, slot: &Slot) -> Result<RheostatFn> {
        let Slot::Rheostat {
            part,
            series_ohms,
            open_bus,
            ..
        } = slot
        else {
            bail!("not a rheostat slot");
        };
        let Part::Rheostat {
            steps,
            full_scale_ohms,
            wiper_ohms,
            min_code,
            max_code,
            ..
        } = table.part(part)?
        else {
            bail!("{part} is not a rheostat");
        };
        Ok(RheostatFn {
            series: *series_ohms,
            wiper: *wiper_ohms,
            step: full_scale_ohms / *steps as f64,
            min_code: *min_code,
            max_code: *max_code,
            can_open: open_bus.is_some(),
        })
    }

    /// `series + wiper + D · step` (infinite when open).
    pub fn ohms(&self, s: RSetting) -> f64 {
        match s {
            RSetting::Code(d) => self.series + self.wiper + d as f64 * self.step,
            RSetting::Open => f64::INFINITY,
        }
    }

    pub fn range(&self) -> (f64, f64) {
        (
            self.ohms(RSetting::Code(self.min_code)),
            self.ohms(RSetting::Code(self.max_code)),
        )
    }

    pub fn describe(&self) -> String {
        let (lo, hi) = self.range();
        format!(
            "{}–{} in steps of {}{}",
            eng(lo, "Ω"),
            eng(hi, "Ω"),
            eng(self.step, "Ω"),
            if self.can_open { ", or open" } else { "" }
        )
    }

    /// The setting nearest in conductance to `ohms` (> 0, may be infinite),
    /// and the bound on the conductance error (half the gap to the
    /// neighbouring settings); `None` when `ohms` is below the range (by more
    /// than half a step) or above it with no open switch (idem).
    pub fn nearest(&self, ohms: f64) -> Option<(RSetting, f64)> {
        let g = 1.0 / ohms;
        let (lo, hi) = self.range();
        let g_of = |d: u64| 1.0 / self.ohms(RSetting::Code(d));
        if ohms < lo - self.step / 2.0 {
            return None;
        }
        if ohms > hi {
            let gh = 1.0 / hi;
            if self.can_open {
                // between the top code and open (conductance 0)
                return Some(if g < gh / 2.0 {
                    (RSetting::Open, gh / 2.0)
                } else {
                    (RSetting::Code(self.max_code), gh / 2.0)
                });
            }
            if ohms > hi + self.step / 2.0 {
                return None;
            }
        }
        let x = ((ohms - self.series - self.wiper) / self.step).round();
        let d0 = (x.max(self.min_code as f64) as u64).min(self.max_code);
        let mut best = d0;
        for d in [d0.saturating_sub(1), d0 + 1] {
            if (self.min_code..=self.max_code).contains(&d)
                && (g_of(d) - g).abs() < (g_of(best) - g).abs()
            {
                best = d;
            }
        }
        let below = if best > self.min_code {
            g_of(best - 1) - g_of(best)
        } else {
            0.0
        };
        let above = if best < self.max_code {
            g_of(best) - g_of(best + 1)
        } else if self.can_open {
            g_of(best)
        } else {
            0.0
        };
        Some((RSetting::Code(best), below.max(above) / 2.0))
    }

    /// The code that realizes `ohms` exactly on the grid (for a round trip).
    pub fn code_of(&self, ohms: f64) -> Option<u64> {
        match self.nearest(ohms)? {
            (RSetting::Code(d), _) => Some(d),
            (RSetting::Open, _) => None,
        }
    }
}

/// A capacitor bank slot's transfer function: every subset sum, sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct BankFn {
    pub fixed: f64,
    pub weights: Vec<f64>,
    /// (value, code) for every code, sorted by value.
    pub table: Vec<(f64, u64)>,
}

impl BankFn {
    pub fn of(slot: &Slot) -> Result<BankFn> {
        let Slot::Bank { fixed, weights, .. } = slot else {
            bail!("not a bank slot");
        };
        Ok(BankFn::new(*fixed, weights))
    }

    pub fn new(fixed: f64, weights: &[f64]) -> BankFn {
        let mut table: Vec<(f64, u64)> = (0..1u64 << weights.len())
            .map(|code| {
                let v = fixed
                    + weights
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| code >> i & 1 == 1)
                        .map(|(_, w)| w)
                        .sum::<f64>();
                (v, code)
            })
            .collect();
        table.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        BankFn {
            fixed,
            weights: weights.to_vec(),
            table,
        }
    }

    /// `fixed + Σ weights[i]` over the set bits of `code`.
    pub fn value(&self, code: u64) -> f64 {
        self.fixed
            + self
                .weights
                .iter()
                .enumerate()
                .filter(|(i, _)| code >> i & 1 == 1)
                .map(|(_, w)| w)
                .sum::<f64>()
    }

    pub fn range(&self) -> (f64, f64) {
        (self.table[0].0, self.table[self.table.len() - 1].0)
    }

    /// The largest gap between neighbouring achievable values.
    pub fn worst_gap(&self) -> f64 {
        self.table
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .fold(0.0, f64::max)
    }

    pub fn describe(&self) -> String {
        let (lo, hi) = self.range();
        format!(
            "{}–{}, {} codes, largest step {}",
            eng(lo, "F"),
            eng(hi, "F"),
            self.table.len(),
            eng(self.worst_gap(), "F")
        )
    }

    /// The code of the nearest achievable value, and the bound on the error
    /// (half the larger gap beside it); `None` beyond the range by more than
    /// half the end gap.
    pub fn nearest(&self, farads: f64) -> Option<(u64, f64)> {
        let t = &self.table;
        let k = t.partition_point(|&(v, _)| v < farads);
        let cand = [k.saturating_sub(1), k.min(t.len() - 1)];
        let i = *cand
            .iter()
            .min_by(|&&a, &&b| (t[a].0 - farads).abs().total_cmp(&(t[b].0 - farads).abs()))
            .expect("two candidates");
        let gap = |a: usize, b: usize| t[b].0 - t[a].0;
        let below = if i > 0 { gap(i - 1, i) } else { 0.0 };
        let above = if i + 1 < t.len() { gap(i, i + 1) } else { 0.0 };
        let bound = below.max(above) / 2.0;
        let end = if i == 0 { above } else { below };
        if (farads - t[i].0).abs() > bound.max(end / 2.0) {
            return None;
        }
        Some((t[i].1, bound))
    }
}

/// A series slot: the nearest preferred value (in ratio) within `[min, max]`,
/// with the error bound `hi − √(lo·hi)` of the series values `lo`, `hi`
/// around the target.
pub fn series_nearest(slot: &Slot, v: f64) -> Result<Option<(f64, f64)>> {
    let Slot::Series {
        series, min, max, ..
    } = slot
    else {
        bail!("not a series slot");
    };
    let s = Series::parse(series)?;
    let near = s.nearest(v);
    if near < min * (1.0 - 1e-9) || near > max * (1.0 + 1e-9) {
        return Ok(None);
    }
    // the series values just below and above v
    let (mut lo, mut hi) = (near, near);
    if near <= v {
        hi = s.nearest(near * 1.12).max(near);
        let mut f = 1.01;
        while hi <= v && f < 1.5 {
            hi = s.nearest(near * f);
            f += 0.01;
        }
    } else {
        let mut f = 0.99;
        while lo >= v && f > 0.6 {
            lo = s.nearest(near * f);
            f -= 0.01;
        }
    }
    // nearest in ratio: below the geometric middle √(lo·hi) the lower value,
    // above it the upper one; the error is largest just above the middle
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    Ok(Some((near, hi - (lo * hi).sqrt())))
}

/// SCLK a controller clocked at `clock_hz` can make for a part: the fastest
/// `clock_hz / (2n)` not above the part's maximum.
pub fn divided_clock(clock_hz: f64, max_hz: f64) -> f64 {
    let n = (clock_hz / (2.0 * max_hz)).ceil().max(1.0);
    clock_hz / (2.0 * n)
}

/// What the input and probe paths achieve, and what a model needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Realtime {
    /// Input samples per second the circuit consumes at its scale.
    pub needed: f64,
    pub dac_sclk: f64,
    /// DAC updates per second the SPI frame and the settling time allow.
    pub dac_rate: f64,
    pub adc_sclk: f64,
    /// Conversions per second of one ADC (frame and part limit).
    pub adc_rate: f64,
    /// Probes on the busiest ADC.
    pub probes_per_adc: usize,
    /// The highest input sample rate both paths keep up with.
    pub max_sample_rate: f64,
    pub real_time: bool,
    /// The `--sample-rate` to use (the needed rate when real time, else the
    /// achievable one rounded down to two significant digits).
    pub use_rate: f64,
}

/// The controller holds chip select high for one SCLK period between
/// frames (every part here needs far less).
pub const CS_GAP_BITS: u32 = 1;

/// Real-time figures for a circuit consuming `needed` samples/s with
/// `probes` probes; SCLKs from the buses, or divided from `clock_hz`.
pub fn realtime(
    t: &PartTable,
    needed: f64,
    probes: usize,
    clock_hz: Option<f64>,
) -> Result<Realtime> {
    let sclk = |bus: &Bus, p: &Part| match clock_hz {
        Some(c) => divided_clock(c, p.spi().max_clock_hz),
        None => bus.clock_hz,
    };
    let dbus = t.bus(&t.input.bus)?;
    let dac = t.part(&dbus.part)?;
    let Part::Dac { settling_s, .. } = dac else {
        bail!("input.bus does not carry a DAC");
    };
    let dac_sclk = sclk(dbus, dac);
    let frame = |p: &Part, s: f64| (p.spi().frame_bits + CS_GAP_BITS) as f64 / s;
    let dac_rate = (1.0 / frame(dac, dac_sclk)).min(1.0 / settling_s);
    let n_adc = t.probes.buses.len();
    let probes_per_adc = probes.div_ceil(n_adc);
    let mut adc_rate = f64::INFINITY;
    let mut adc_sclk = f64::INFINITY;
    for b in &t.probes.buses {
        let bus = t.bus(b)?;
        let p = t.part(&bus.part)?;
        let Part::Adc {
            max_rate, channels, ..
        } = p
        else {
            bail!("probes bus {b} does not carry an ADC");
        };
        if probes_per_adc > *channels as usize {
            bail!(
                "{probes} probes on {n_adc} ADC(s) need {probes_per_adc} channels per ADC; {} has {channels}",
                p.number()
            );
        }
        let s = sclk(bus, p);
        adc_sclk = adc_sclk.min(s);
        adc_rate = adc_rate.min((1.0 / frame(p, s)).min(*max_rate));
    }
    let max_sample_rate =
        (dac_rate / t.input.updates_per_sample as f64).min(adc_rate / probes_per_adc.max(1) as f64);
    let real_time = needed <= max_sample_rate;
    let use_rate = if real_time {
        needed
    } else {
        let mag = 10f64.powf(max_sample_rate.log10().floor() - 1.0);
        (max_sample_rate / mag * (1.0 + 1e-9)).floor() * mag
    };
    Ok(Realtime {
        needed,
        dac_sclk,
        dac_rate,
        adc_sclk,
        adc_rate,
        probes_per_adc,
        max_sample_rate,
        real_time,
        use_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("../../../configs/parts/reference.toml");

    fn reference() -> PartTable {
        PartTable::parse(REFERENCE, "reference.toml").unwrap()
    }

    fn refused(edit: impl Fn(&mut toml::Value)) -> String {
        let mut v: toml::Value = toml::from_str(REFERENCE).unwrap();
        edit(&mut v);
        let text = toml::to_string(&v).unwrap();
        format!("{:#}", PartTable::parse(&text, "bad.toml").unwrap_err())
    }

    fn set(v: &mut toml::Value, path: &str, x: toml::Value) {
        let mut cur = v;
        let keys: Vec<&str> = path.split('.').collect();
        for k in &keys[..keys.len() - 1] {
            cur = cur.get_mut(*k).unwrap();
        }
        cur.as_table_mut()
            .unwrap()
            .insert(keys[keys.len() - 1].into(), x);
    }

    #[test]
    fn the_reference_table_loads() {
        let t = reference();
        assert!(t.parts.len() >= 4 && t.slots.len() >= 5);
    }

    #[test]
    fn rheostat_codes_round_trip_and_refuse_out_of_range() {
        let f = RheostatFn {
            series: 499.0,
            wiper: 0.0,
            step: 20_000.0 / 1024.0,
            min_code: 1,
            max_code: 1023,
            can_open: false,
        };
        for d in f.min_code..=f.max_code {
            let r = f.ohms(RSetting::Code(d));
            assert_eq!(f.code_of(r), Some(d), "code {d}");
            // half a step off still comes back to the same code (nearest in
            // conductance is nearest in resistance within a step)
            let (s, bound) = f.nearest(r + 0.3 * f.step).unwrap();
            assert_eq!(s, RSetting::Code(d));
            assert!((1.0 / r - 1.0 / (r + 0.3 * f.step)).abs() <= bound + 1e-15);
        }
        let (lo, hi) = f.range();
        assert!(f.nearest(lo - f.step).is_none());
        assert!(f.nearest(hi + f.step).is_none());
        // with an open switch, anything above the range is the top code or
        // open, whichever is nearer in conductance
        let o = RheostatFn {
            can_open: true,
            ..f
        };
        assert_eq!(o.nearest(1e9).unwrap().0, RSetting::Open);
        assert_eq!(
            o.nearest(hi * 1.5).unwrap().0,
            RSetting::Code(o.max_code),
            "2/3 of the top conductance is nearer the top code than 0"
        );
        assert_eq!(o.nearest(hi * 2.5).unwrap().0, RSetting::Open);
    }

    #[test]
    fn bank_codes_round_trip_and_refuse_out_of_range() {
        let b = BankFn::new(82e-9, &[150e-12, 300e-12, 620e-12, 1.2e-9]);
        for code in 0..16u64 {
            let v = b.value(code);
            let (c, bound) = b.nearest(v).unwrap();
            assert_eq!(b.value(c), v, "code {code}");
            assert!(bound <= b.worst_gap() / 2.0 + 1e-21);
            let (c2, _) = b.nearest(v + 0.2 * 150e-12).unwrap();
            assert!((b.value(c2) - v).abs() <= 0.2 * 150e-12 + 1e-21 || c2 == c);
        }
        let (lo, hi) = b.range();
        assert_eq!(lo, 82e-9);
        assert!(b.nearest(lo - 1e-9).is_none());
        assert!(b.nearest(hi + 1e-9).is_none());
        assert_eq!(b.table.len(), 16);
    }

    #[test]
    fn series_slots_snap_within_their_range() {
        let s = Slot::Series {
            series: "E12".into(),
            min: 1e-6,
            max: 1.0,
            tolerance: 0.05,
            part: "inductor".into(),
        };
        let (v, bound) = series_nearest(&s, 4.3e-3).unwrap().unwrap();
        assert_eq!(v, 4.7e-3);
        assert!((v - 4.3e-3).abs() <= bound, "{bound}");
        assert!(series_nearest(&s, 2.0).unwrap().is_none());
        assert!(series_nearest(&s, 0.5e-6).unwrap().is_none());
    }

    #[test]
    fn the_reference_board_keeps_up_with_its_dac() {
        let t = reference();
        // DAC8551: 10 µs settling → 100 k updates/s, below the 24 MHz frame
        // rate; two ADS8688 at 12 MHz, 33 SCLKs a conversion
        let rt = realtime(&t, 214e3, 3, None).unwrap();
        assert!((rt.dac_rate - 100e3).abs() < 1e-6, "{rt:?}");
        assert!((rt.adc_rate - 12e6 / 33.0).abs() < 1e-6);
        assert_eq!(rt.probes_per_adc, 2);
        assert!(!rt.real_time);
        assert_eq!(rt.use_rate, 100e3);
        let rt = realtime(&t, 80e3, 3, None).unwrap();
        assert!(rt.real_time && rt.use_rate == 80e3);
        // from a 68 MHz controller the ADCs reach their 500 kSPS
        let rt = realtime(&t, 80e3, 4, Some(68e6)).unwrap();
        assert_eq!(rt.adc_sclk, 17e6);
        assert_eq!(rt.adc_rate, 500e3);
        // 17 probes do not fit on two 8-channel ADCs
        let e = realtime(&t, 80e3, 17, None).unwrap_err().to_string();
        assert!(
            e.contains("need 9 channels per ADC; ADS8688IDBT has 8"),
            "{e}"
        );
    }

    #[test]
    fn divided_clocks_stay_at_or_below_the_maximum() {
        assert_eq!(divided_clock(48e6, 30e6), 24e6);
        assert_eq!(divided_clock(48e6, 17e6), 12e6);
        assert_eq!(divided_clock(12e6, 50e6), 6e6);
    }

    #[test]
    fn bad_tables_are_refused_by_name() {
        let e = refused(|v| {
            set(
                v,
                "parts.ad5293_20.bits",
                toml::Value::Integer(9), // max_code 1023 no longer fits
            )
        });
        assert!(
            e.contains("parts.ad5293_20.max_code = 1023 does not fit in bits = 9"),
            "{e}"
        );
        let e = refused(|v| set(v, "parts.ads8688.spi.mode", toml::Value::Integer(4)));
        assert!(e.contains("parts.ads8688.spi.mode = 4"), "{e}");
        let e = refused(|v| set(v, "buses.dac.clock_hz", toml::Value::Float(40e6)));
        assert!(
            e.contains("buses.dac.clock_hz = 40000000: above the DAC8551")
                && e.contains("30000000"),
            "{e}"
        );
        let e = refused(|v| {
            set(
                v,
                "roles.main_capacitor",
                toml::Value::String("r_prog".into()),
            )
        });
        assert!(
            e.contains("roles.main_capacitor = \"r_prog\": slot r_prog is a rheostat slot"),
            "{e}"
        );
        let e = refused(|v| set(v, "slots.c_bank.tolerance", toml::Value::Float(2.0)));
        assert!(e.contains("slots.c_bank.tolerance = 2"), "{e}");
        let e = refused(|v| set(v, "slots.r_prog.part", toml::Value::String("nope".into())));
        assert!(
            e.contains("slots.r_prog.part = \"nope\"") && e.contains("no part 'nope'"),
            "{e}"
        );
        let e = refused(|v| set(v, "slots.c_main.value", toml::Value::Float(f64::NAN)));
        assert!(
            e.contains("slots.c_main.value = NaN is not a finite number"),
            "{e}"
        );
        let e = refused(|v| set(v, "input.colour", toml::Value::Integer(1)));
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = refused(|v| {
            let w = v
                .get_mut("slots")
                .and_then(|s| s.get_mut("c_bank"))
                .and_then(|s| s.get_mut("weights"))
                .and_then(|w| w.as_array_mut())
                .unwrap();
            w.push(toml::Value::Float(1e-9));
        });
        assert!(
            e.contains("slots.c_bank.weights has 9 capacitors: give 1 to 8"),
            "{e}"
        );
    }
}
