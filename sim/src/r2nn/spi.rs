//! Behavioural models of the metacircuit board's SPI parts, seen from their
//! pins: what the controller's frames do to each part, and every way a
//! frame can break the part's data sheet (docs/metacircuit-board.md).
//!
//! The models watch the pins once per controller clock cycle (the
//! controller's outputs are registers, so every pin changes only at a clock
//! edge) and decode frames the way the part does:
//!
//! - [`SpiSlave`]: the shift register of one chip select. It takes a bit on
//!   every *sampling* edge of SCLK (the leading edge in modes 0 and 2, the
//!   trailing edge in modes 1 and 3) and flags, in [`SpiSlave::violations`]:
//!   an SCLK phase shorter than the part's `1 / (2 · max_clock_hz)`
//!   ("SCLK too fast"), SCLK not at its idle level (CPOL) when the chip
//!   select falls or rises, data that changes in the same cycle as the
//!   sampling edge (the master drives on the edge the part samples on: the
//!   other clock phase, a wrong mode) and a frame whose bit count is not
//!   what the part (or the chain) takes ("short frame").
//! - [`Ad5293Chain`]: a daisy chain of AD5293 rheostats (16-bit words, the
//!   last word shifted lands in chip 0, the one on the controller's data
//!   line); command 6 unlocks the wiper (`0x1802`), command 1 writes the
//!   RDAC, command 2 reads it back in the next frame.
//! - [`Adg1414Chain`]: a daisy chain of ADG1414 octal switches (8-bit words,
//!   bit n closes switch n); the chain's SDO shifts the previous frame out
//!   during the next one.
//! - [`Dac8551`]: the 24-bit frame `6 don't-care, PD1 PD0, D15..D0`; the
//!   output follows the code at the frame's end (power-down bits other than
//!   00 are flagged).
//! - [`Ads8688`]: the 32-bit frame; a `MAN_Ch_n` command (`0xC000 | n <<
//!   10`) selects the channel of the *next* frame's conversion, whose
//!   sample is taken when that frame's chip select falls and shifted out,
//!   MSB first, in its last 16 SCLKs; program register writes set a
//!   channel's range (0: ±10.24 V, 1: ±5.12 V, 2: ±2.56 V, the power-up
//!   value 0). The code is straight binary with 0 V at 0x8000 (`round(V /
//!   LSB) + 32768`, LSB = `2 · range / 65536`, saturating; noise-free
//!   rounding), which the controller turns into two's complement by
//!   inverting the top bit.

use super::parts::{Part, PartTable, Spi};
use anyhow::{bail, Result};

/// What a [`SpiSlave`] saw in one clock cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edge {
    Nothing,
    /// The chip select fell: a frame begins.
    Start,
    /// The chip select rose: the bits of the frame, first shifted first.
    End(Vec<bool>),
}

/// The pins and the timing of one chip select.
#[derive(Debug, Clone)]
pub struct SpiSlave {
    /// Name in messages (`"dac"`, `"rheo"`, …).
    pub name: String,
    pub mode: u8,
    /// The part's highest SCLK.
    pub max_clock_hz: f64,
    /// The controller clock the pins are sampled at.
    pub clock_hz: f64,
    /// Bits a frame must have (`frame_bits` × chips in a chain).
    pub frame_len: usize,
    pub violations: Vec<String>,
    cs: bool,
    sclk: bool,
    mosi: bool,
    last_edge: Option<u64>,
    bits: Vec<bool>,
    /// Bits the part shifts out, first first; the next one is on MISO.
    out: Vec<bool>,
    out_pos: usize,
    cycle: u64,
    /// Frames decoded so far.
    pub frames: u64,
    /// Every frame's bits, first shifted first.
    pub log: Vec<Vec<bool>>,
}

impl SpiSlave {
    pub fn new(name: &str, spi: &Spi, chips: usize, clock_hz: f64) -> SpiSlave {
        let cpol = spi.mode >> 1 == 1;
        SpiSlave {
            name: name.to_string(),
            mode: spi.mode,
            max_clock_hz: spi.max_clock_hz,
            clock_hz,
            frame_len: spi.frame_bits as usize * chips,
            violations: vec![],
            cs: false,
            sclk: cpol,
            mosi: false,
            last_edge: None,
            bits: vec![],
            out: vec![],
            out_pos: 0,
            cycle: 0,
            frames: 0,
            log: vec![],
        }
    }

    fn cpol(&self) -> bool {
        self.mode >> 1 == 1
    }

    fn cpha(&self) -> bool {
        self.mode & 1 == 1
    }

    fn flag(&mut self, what: String) {
        // the first few are enough to say what is wrong
        if self.violations.len() < 16 {
            self.violations
                .push(format!("{} at cycle {}: {what}", self.name, self.cycle));
        }
    }

    /// Bits to shift out in the next frame (first first).
    pub fn load_out(&mut self, bits: Vec<bool>) {
        self.out = bits;
        self.out_pos = 0;
    }

    /// The level the part drives on MISO (high when it has nothing to say:
    /// an open-drain output with a pull-up).
    pub fn miso(&self) -> bool {
        if !self.cs {
            return true;
        }
        let k = if self.cpha() {
            match self.out_pos.checked_sub(1) {
                Some(k) => k,
                None => return true,
            }
        } else {
            self.out_pos
        };
        self.out.get(k).copied().unwrap_or(true)
    }

    /// One controller clock cycle with the pins as they are after its edge;
    /// `cs_n` is the chip select (active low).
    pub fn clock(&mut self, cs_n: bool, sclk: bool, mosi: bool) -> Edge {
        self.cycle += 1;
        let mut ev = Edge::Nothing;
        let selected = !cs_n;
        if selected && !self.cs {
            if sclk != self.cpol() {
                self.flag(format!(
                    "SCLK is {} when the chip select falls; mode {} idles it {} (wrong mode)",
                    sclk as u8,
                    self.mode,
                    self.cpol() as u8
                ));
            }
            self.bits.clear();
            self.out_pos = 0;
            self.last_edge = None;
            ev = Edge::Start;
        }
        if selected && self.cs && sclk != self.sclk {
            let c = self.cycle;
            if let Some(prev) = self.last_edge {
                let half = (c - prev) as f64 / self.clock_hz;
                let min = 1.0 / (2.0 * self.max_clock_hz);
                if half < min * (1.0 - 1e-9) {
                    self.flag(format!(
                        "SCLK too fast: a phase of {:.1} ns, the part needs at least {:.1} ns (max_clock_hz {})",
                        half * 1e9,
                        min * 1e9,
                        self.max_clock_hz
                    ));
                }
            }
            self.last_edge = Some(c);
            let leading = sclk != self.cpol();
            let sampling = leading != self.cpha();
            if sampling {
                if mosi != self.mosi {
                    self.flag(format!(
                        "MOSI changes on the edge a mode {} part samples on (the master drives the other clock phase: wrong mode)",
                        self.mode
                    ));
                }
                self.bits.push(mosi);
            }
            // the part drives bit k after the k-th driving edge (modes 1, 3:
            // every leading edge; modes 0, 2: bit 0 at the chip select's
            // fall, then every trailing edge)
            if !sampling {
                self.out_pos += 1;
            }
        }
        if !selected && self.cs {
            if sclk != self.cpol() {
                self.flag(format!(
                    "SCLK is {} when the chip select rises; mode {} idles it {} (wrong mode)",
                    sclk as u8,
                    self.mode,
                    self.cpol() as u8
                ));
            }
            if self.bits.len() != self.frame_len {
                let n = self.bits.len();
                self.flag(format!(
                    "{} frame: {n} bits between the chip select's edges, the part takes {}",
                    if n < self.frame_len { "short" } else { "long" },
                    self.frame_len
                ));
            }
            self.frames += 1;
            let bits = std::mem::take(&mut self.bits);
            self.log.push(bits.clone());
            ev = Edge::End(bits);
        }
        self.cs = selected;
        self.sclk = sclk;
        self.mosi = mosi;
        ev
    }
}

/// The `frame`-bit words of a frame, first shifted first, MSB first.
pub fn words(bits: &[bool], frame: usize) -> Vec<u64> {
    bits.chunks(frame)
        .map(|c| c.iter().fold(0u64, |w, &b| w << 1 | b as u64))
        .collect()
}

/// `w`'s low `n` bits, MSB first.
pub fn bits_of(w: u64, n: usize) -> Vec<bool> {
    (0..n).rev().map(|i| w >> i & 1 == 1).collect()
}

fn spi_of<'a>(t: &'a PartTable, bus: &str) -> Result<(&'a Part, &'a Spi)> {
    let p = t.part(&t.bus(bus)?.part)?;
    Ok((p, p.spi()))
}

/// A daisy chain of AD5293 rheostats.
#[derive(Debug, Clone)]
pub struct Ad5293Chain {
    pub spi: SpiSlave,
    /// RDAC code of every chip, chip 0 on the controller's data line.
    pub rdac: Vec<u64>,
    pub unlocked: Vec<bool>,
    shift: Vec<u64>,
}

impl Ad5293Chain {
    pub fn new(t: &PartTable, bus: &str, chips: usize, clock_hz: f64) -> Result<Ad5293Chain> {
        let (p, spi) = spi_of(t, bus)?;
        if !matches!(p, Part::Rheostat { .. }) || spi.frame_bits != 16 {
            bail!("bus {bus} does not carry a 16-bit rheostat (AD5293-like) part");
        }
        Ok(Ad5293Chain {
            spi: SpiSlave::new(bus, spi, chips, clock_hz),
            rdac: vec![0; chips],
            unlocked: vec![false; chips],
            shift: vec![0; chips],
        })
    }

    pub fn clock(&mut self, cs_n: bool, sclk: bool, mosi: bool) {
        if let Edge::End(bits) = self.spi.clock(cs_n, sclk, mosi) {
            if bits.len() != self.spi.frame_len {
                return;
            }
            let n = self.rdac.len();
            let ws = words(&bits, 16);
            for (k, &w) in ws.iter().enumerate() {
                // the first word shifted ends in the last chip
                let chip = n - 1 - k;
                let cmd = w >> 10 & 0xf;
                let data = w & 0x3ff;
                self.shift[chip] = w;
                match cmd {
                    0 => {}
                    1 if self.unlocked[chip] => self.rdac[chip] = data,
                    1 => self.spi.flag(format!(
                        "RDAC write {w:#06x} to chip {chip} while its wiper is locked (send the control word 0x1802 first)"
                    )),
                    2 => self.shift[chip] = self.rdac[chip],
                    6 => self.unlocked[chip] = data >> 1 & 1 == 1,
                    _ => self.spi.flag(format!(
                        "word {w:#06x} to chip {chip}: command {cmd} is not one the controller should send"
                    )),
                }
            }
            // SDO of the chain: the last chip's register first
            let mut out = vec![];
            for chip in (0..n).rev() {
                out.extend(bits_of(self.shift[chip], 16));
            }
            self.spi.load_out(out);
        }
    }
}

/// A daisy chain of ADG1414 octal switches.
#[derive(Debug, Clone)]
pub struct Adg1414Chain {
    pub spi: SpiSlave,
    /// The switch word of every chip, chip 0 on the controller's data line.
    pub switches: Vec<u64>,
}

impl Adg1414Chain {
    pub fn new(t: &PartTable, bus: &str, chips: usize, clock_hz: f64) -> Result<Adg1414Chain> {
        let (p, spi) = spi_of(t, bus)?;
        if !matches!(p, Part::Switch { .. }) || spi.frame_bits != 8 {
            bail!("bus {bus} does not carry an 8-bit switch (ADG1414-like) part");
        }
        Ok(Adg1414Chain {
            spi: SpiSlave::new(bus, spi, chips, clock_hz),
            switches: vec![0; chips],
        })
    }

    pub fn clock(&mut self, cs_n: bool, sclk: bool, mosi: bool) {
        if let Edge::End(bits) = self.spi.clock(cs_n, sclk, mosi) {
            if bits.len() != self.spi.frame_len {
                return;
            }
            let n = self.switches.len();
            for (k, w) in words(&bits, 8).into_iter().enumerate() {
                self.switches[n - 1 - k] = w;
            }
            // the last chip holds the first word: SDO repeats the frame
            self.spi.load_out(bits);
        }
    }
}

/// The input DAC.
#[derive(Debug, Clone)]
pub struct Dac8551 {
    pub spi: SpiSlave,
    pub code: u64,
    pub updates: u64,
}

impl Dac8551 {
    pub fn new(t: &PartTable, bus: &str, clock_hz: f64) -> Result<Dac8551> {
        let (p, spi) = spi_of(t, bus)?;
        if !matches!(p, Part::Dac { bits: 16, .. }) || spi.frame_bits != 24 {
            bail!("bus {bus} does not carry a 16-bit DAC with 24-bit frames (DAC8551-like)");
        }
        Ok(Dac8551 {
            spi: SpiSlave::new(bus, spi, 1, clock_hz),
            code: 0x8000,
            updates: 0,
        })
    }

    /// One cycle; returns the new code when the output changed.
    pub fn clock(&mut self, cs_n: bool, sclk: bool, mosi: bool) -> Option<u64> {
        if let Edge::End(bits) = self.spi.clock(cs_n, sclk, mosi) {
            if bits.len() != 24 {
                return None;
            }
            let w = words(&bits, 24)[0];
            let pd = w >> 16 & 3;
            if pd != 0 {
                self.spi.flag(format!(
                    "frame {w:#08x} sets power-down bits {pd:02b}: the output is switched off"
                ));
                return None;
            }
            self.code = w & 0xffff;
            self.updates += 1;
            return Some(self.code);
        }
        None
    }
}

/// One probe ADC.
#[derive(Debug, Clone)]
pub struct Ads8688 {
    pub spi: SpiSlave,
    /// Range register of every channel (0: ±10.24 V, 1: ±5.12 V, 2: ±2.56 V).
    pub range: Vec<u64>,
    /// The channel the next frame converts.
    next: Option<usize>,
    /// Conversions taken: (channel, code).
    pub conversions: Vec<(usize, u64)>,
    /// Codes at either end of the range.
    pub clipped: u64,
}

impl Ads8688 {
    pub fn new(t: &PartTable, bus: &str, clock_hz: f64) -> Result<Ads8688> {
        let (p, spi) = spi_of(t, bus)?;
        let Part::Adc {
            bits: 16, channels, ..
        } = p
        else {
            bail!("bus {bus} does not carry a 16-bit ADC (ADS8688-like)");
        };
        if spi.frame_bits != 32 {
            bail!(
                "bus {bus}: an ADS8688-like ADC takes 32-bit frames, the table says {}",
                spi.frame_bits
            );
        }
        Ok(Ads8688 {
            spi: SpiSlave::new(bus, spi, 1, clock_hz),
            range: vec![0; *channels as usize],
            next: None,
            conversions: vec![],
            clipped: 0,
        })
    }

    /// Volts of one LSB at range register value `r`.
    pub fn lsb(r: u64) -> Option<f64> {
        let range = match r {
            0 => 10.24,
            1 => 5.12,
            2 => 2.56,
            _ => return None,
        };
        Some(2.0 * range / 65536.0)
    }

    /// The code of `volts` at range register `r` (straight binary).
    pub fn code(volts: f64, r: u64) -> (u64, bool) {
        let lsb = Ads8688::lsb(r).expect("a bipolar range");
        let q = (volts / lsb).round() + 32768.0;
        let c = q.clamp(0.0, 65535.0);
        (c as u64, c != q || c == 0.0 || c == 65535.0)
    }

    /// One cycle with `volts` on the channels; returns `(channel, code)` when
    /// a conversion was taken (at the chip select's falling edge).
    pub fn clock(
        &mut self,
        cs_n: bool,
        sclk: bool,
        mosi: bool,
        volts: &[f64],
    ) -> Option<(usize, u64)> {
        match self.spi.clock(cs_n, sclk, mosi) {
            Edge::Start => {
                let mut out = vec![false; 16];
                let mut got = None;
                if let Some(ch) = self.next {
                    let r = self.range[ch];
                    let v = volts.get(ch).copied().unwrap_or(0.0);
                    match Ads8688::lsb(r) {
                        Some(_) => {
                            let (c, clip) = Ads8688::code(v, r);
                            self.clipped += clip as u64;
                            self.conversions.push((ch, c));
                            out.extend(bits_of(c, 16));
                            got = Some((ch, c));
                        }
                        None => self.spi.flag(format!(
                            "channel {ch} has range register {r}, not a bipolar range this model knows"
                        )),
                    }
                }
                self.spi.load_out(out);
                got
            }
            Edge::End(bits) => {
                if bits.len() == 32 {
                    let w = words(&bits, 32)[0];
                    let cmd = w >> 16;
                    if cmd >> 14 == 0b11 && cmd & 0x3ff == 0 && (cmd >> 10 & 0xf) < 8 {
                        self.next = Some((cmd >> 10 & 7) as usize);
                    } else if cmd >> 9 >= 5 && cmd >> 9 <= 12 && cmd >> 8 & 1 == 1 {
                        let ch = (cmd >> 9) as usize - 5;
                        if ch < self.range.len() {
                            self.range[ch] = cmd & 0xf;
                        }
                        self.next = None;
                    } else if cmd == 0 {
                        // NO_OP: the device goes on with the channel it had
                    } else {
                        self.spi.flag(format!(
                            "command word {cmd:#06x} is neither MAN_Ch_n, a range write nor NO_OP"
                        ));
                        self.next = None;
                    }
                }
                None
            }
            Edge::Nothing => None,
        }
    }
}

/// A bit-banging SPI master at `half` cycles per SCLK phase, for the part
/// models' unit tests and for hosts without the controller: the pin levels
/// of one frame, cycle by cycle.
pub fn bitbang(mode: u8, half: usize, bits: &[bool]) -> Vec<(bool, bool, bool)> {
    let cpol = mode >> 1 == 1;
    let cpha = mode & 1 == 1;
    let mut v = vec![(true, cpol, false)];
    let mut mosi = if cpha { false } else { bits[0] };
    for _ in 0..half {
        v.push((false, cpol, mosi));
    }
    for (i, &b) in bits.iter().enumerate() {
        // leading edge
        if cpha {
            mosi = b;
        }
        for _ in 0..half {
            v.push((false, !cpol, mosi));
        }
        // trailing edge
        if !cpha {
            mosi = bits.get(i + 1).copied().unwrap_or(mosi);
        }
        for _ in 0..half {
            v.push((false, cpol, mosi));
        }
    }
    v.push((true, cpol, mosi));
    v.push((true, cpol, mosi));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PartTable {
        PartTable::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../configs/parts/reference.toml"
        )))
        .unwrap()
    }

    fn frame(words_: &[u64], n: usize) -> Vec<bool> {
        words_.iter().flat_map(|&w| bits_of(w, n)).collect()
    }

    #[test]
    fn a_rheostat_chain_decodes_unlock_writes_and_readback() {
        let t = table();
        let mut c = Ad5293Chain::new(&t, "rheo", 3, 48e6).unwrap();
        let run = |c: &mut Ad5293Chain, ws: &[u64]| {
            for (cs, sclk, mosi) in bitbang(1, 24, &frame(ws, 16)) {
                c.clock(cs, sclk, mosi);
            }
        };
        // locked: a write is refused and flagged
        run(&mut c, &[0x0400 | 5, 0x0400 | 6, 0x0400 | 7]);
        assert_eq!(c.rdac, vec![0, 0, 0]);
        assert!(
            c.spi.violations[0].contains("locked"),
            "{:?}",
            c.spi.violations
        );
        c.spi.violations.clear();
        run(&mut c, &[0x1802; 3]);
        // the first word shifted lands in the last chip
        run(&mut c, &[0x0400 | 5, 0x0400 | 6, 0x0400 | 1023]);
        assert_eq!(c.rdac, vec![1023, 6, 5]);
        run(&mut c, &[0x0800; 3]);
        assert!(c.spi.violations.is_empty(), "{:?}", c.spi.violations);
        // the answer comes out in the next frame, last chip first
        assert_eq!(c.spi.out, frame(&[5, 6, 1023], 16));
    }

    #[test]
    fn a_switch_chain_and_the_dac_decode_their_words() {
        let t = table();
        let mut s = Adg1414Chain::new(&t, "bank", 2, 48e6).unwrap();
        // a frame shifts the previous one out, sampled at the trailing edges
        let mut send = |ws: &[u64]| {
            let (mut out, mut prev) = (vec![], false);
            for (cs, sclk, mosi) in bitbang(1, 24, &frame(ws, 8)) {
                if !cs && prev && !sclk {
                    out.push(s.spi.miso());
                }
                s.clock(cs, sclk, mosi);
                prev = sclk;
            }
            (words(&out, 8), s.switches.clone())
        };
        assert_eq!(send(&[0xa5, 0x3c]).1, vec![0x3c, 0xa5]);
        assert_eq!(send(&[0x01, 0x02]), (vec![0xa5, 0x3c], vec![0x02, 0x01]));
        let mut d = Dac8551::new(&t, "dac", 48e6).unwrap();
        let mut got = None;
        for (cs, sclk, mosi) in bitbang(1, 1, &bits_of(0x00_1234, 24)) {
            got = got.or(d.clock(cs, sclk, mosi));
        }
        assert_eq!(got, Some(0x1234));
        assert!(d.spi.violations.is_empty(), "{:?}", d.spi.violations);
    }

    #[test]
    fn the_adc_converts_the_channel_the_previous_frame_chose() {
        let t = table();
        let mut a = Ads8688::new(&t, "adc0", 48e6).unwrap();
        let volts = [0.5, -0.25, 0.0, 0.0];
        let send = |a: &mut Ads8688, w: u64| {
            let mut got = None;
            let mut miso = vec![];
            let mut prev_sclk = false;
            for (cs, sclk, mosi) in bitbang(1, 2, &bits_of(w, 32)) {
                // the master samples MISO at its trailing (falling) edges
                if !cs && prev_sclk && !sclk {
                    miso.push(a.spi.miso());
                }
                got = got.or(a.clock(cs, sclk, mosi, &volts));
                prev_sclk = sclk;
            }
            (got, words(&miso, 32)[0])
        };
        send(&mut a, 0x0B02_0000); // channel 0: ±2.56 V
        send(&mut a, 0x0D02_0000); // channel 1
        assert_eq!(a.range[..2], [2, 2]);
        send(&mut a, 0xC400_0000); // MAN_Ch_1
        let (got, out) = send(&mut a, 0xC000_0000);
        let lsb: f64 = 5.12 / 65536.0;
        let c1 = (32768.0 + (-0.25 / lsb).round()) as u64;
        assert_eq!(got, Some((1, c1)));
        assert_eq!(out & 0xffff, c1);
        let (got, _) = send(&mut a, 0);
        assert_eq!(got, Some((0, (32768.0 + (0.5 / lsb).round()) as u64)));
        assert!(a.spi.violations.is_empty(), "{:?}", a.spi.violations);
    }

    #[test]
    fn too_fast_a_clock_a_wrong_mode_and_a_short_frame_are_flagged() {
        let t = table();
        // 24 MHz SCLK from 48 MHz on a part rated 17 MHz
        let mut a = Ads8688::new(&t, "adc0", 48e6).unwrap();
        for (cs, sclk, mosi) in bitbang(1, 1, &bits_of(0xC000_0000, 32)) {
            a.clock(cs, sclk, mosi, &[0.0]);
        }
        assert!(
            a.spi.violations[0].contains("SCLK too fast"),
            "{:?}",
            a.spi.violations
        );
        // a mode 0 master on a mode 1 part
        let mut d = Dac8551::new(&t, "dac", 48e6).unwrap();
        for (cs, sclk, mosi) in bitbang(0, 2, &bits_of(0x00_5555, 24)) {
            d.clock(cs, sclk, mosi);
        }
        assert!(
            d.spi.violations.iter().any(|v| v.contains("wrong mode")),
            "{:?}",
            d.spi.violations
        );
        // 23 bits
        let mut d = Dac8551::new(&t, "dac", 48e6).unwrap();
        let mut got = None;
        for (cs, sclk, mosi) in bitbang(1, 2, &bits_of(0x1234, 23)) {
            got = got.or(d.clock(cs, sclk, mosi));
        }
        assert_eq!(got, None);
        assert!(
            d.spi.violations[0].contains("short frame: 23 bits"),
            "{:?}",
            d.spi.violations
        );
        // a chain of 3 rheostats given 2 words
        let mut c = Ad5293Chain::new(&t, "rheo", 3, 48e6).unwrap();
        for (cs, sclk, mosi) in bitbang(1, 24, &frame(&[0x1802, 0x1802], 16)) {
            c.clock(cs, sclk, mosi);
        }
        assert!(
            c.spi.violations[0].contains("short frame: 32 bits"),
            "{:?}",
            c.spi.violations
        );
        assert_eq!(c.unlocked, vec![false; 3]);
    }
}
