//! The oscillator TOML of `phasegen reduce` (examples in `configs/reduce/`,
//! every key in docs/reduction.md). Unknown keys are refused, and so is
//! every bad value, with a message naming the key and what to give.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::Path;

/// How two oscillators are coupled (see `reduce::oscillator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouplingKind {
    /// A resistor between the nodes: current `∝ v_j − v_i`.
    Resistive,
    /// A capacitor between the nodes: current `∝ d/dt (v_j − v_i)`.
    Capacitive,
    /// An inductor between the nodes (van der Pol only): `ε(x_j − x_i)` in `ẍ`.
    Inductive,
}

impl CouplingKind {
    pub fn name(self) -> &'static str {
        match self {
            CouplingKind::Resistive => "resistive",
            CouplingKind::Capacitive => "capacitive",
            CouplingKind::Inductive => "inductive",
        }
    }
}

/// A validated oscillator section.
#[derive(Debug, Clone, PartialEq)]
pub enum OscConfig {
    VanDerPol {
        mu: f64,
    },
    Lc {
        l: f64,
        c: f64,
        gm: f64,
        g3: f64,
        rl: f64,
    },
}

/// A validated oscillator file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceConfig {
    pub oscillator: OscConfig,
    pub coupling: CouplingKind,
    /// Samples of the cycle per period (`reduce.points`).
    pub points: usize,
    /// Harmonics of `H` in the table (`reduce.harmonics`).
    pub harmonics: usize,
    pub check: CheckConfig,
}

/// The direct simulation of two coupled copies (`[check]`).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    /// Coupling strength `ε` (dimensionless, see `reduce::oscillator`).
    pub epsilon: f64,
    /// The detuning of the locking-offset run, as a fraction of the
    /// predicted locking range.
    pub detuning: f64,
    /// Periods simulated per run (after as many again of transient).
    pub periods: usize,
    /// RK4 steps per period.
    pub steps: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    oscillator: RawOsc,
    coupling: RawCoupling,
    #[serde(default)]
    reduce: RawReduce,
    #[serde(default)]
    check: RawCheck,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOsc {
    kind: String,
    mu: Option<f64>,
    l: Option<f64>,
    c: Option<f64>,
    gm: Option<f64>,
    g3: Option<f64>,
    rl: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoupling {
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawReduce {
    points: usize,
    harmonics: usize,
}

impl Default for RawReduce {
    fn default() -> Self {
        RawReduce {
            points: 1024,
            harmonics: 5,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCheck {
    epsilon: f64,
    detuning: f64,
    periods: usize,
    steps: usize,
}

impl Default for RawCheck {
    fn default() -> Self {
        RawCheck {
            epsilon: 0.01,
            detuning: 0.5,
            periods: 2000,
            steps: 128,
        }
    }
}

/// `v` in `lo..=hi` (a NaN is out of range too), or an error naming `key`.
fn range<T: PartialOrd + std::fmt::Display + Copy>(key: &str, v: T, lo: T, hi: T) -> Result<()> {
    if !(v >= lo && v <= hi) {
        bail!("{key} = {v} is out of range; give a value in {lo}..={hi}");
    }
    Ok(())
}

impl ReduceConfig {
    pub fn load(path: &Path) -> Result<ReduceConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read oscillator file {}", path.display()))?;
        ReduceConfig::parse(&text).with_context(|| format!("oscillator file {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<ReduceConfig> {
        let raw: Raw = toml::from_str(text).context(
            "not a valid oscillator file (sections [oscillator], [coupling], optional [reduce], [check]; docs/reduction.md)",
        )?;
        let o = &raw.oscillator;
        let given = [
            ("mu", o.mu),
            ("l", o.l),
            ("c", o.c),
            ("gm", o.gm),
            ("g3", o.g3),
            ("rl", o.rl),
        ];
        let takes: &[&str] = match o.kind.as_str() {
            "van-der-pol" => &["mu"],
            "lc" => &["l", "c", "gm", "g3", "rl"],
            k => bail!(
                "oscillator.kind = {k:?} is not an oscillator phasegen knows; give \"van-der-pol\" or \"lc\""
            ),
        };
        for (key, v) in given {
            if v.is_some() && !takes.contains(&key) {
                bail!(
                    "oscillator.{key} is not a parameter of kind = {:?}, which takes {}; remove it",
                    o.kind,
                    takes.join(", ")
                );
            }
        }
        let need = |key: &str, v: Option<f64>| {
            v.with_context(|| {
                format!(
                    "oscillator.{key} is missing: kind = {:?} needs {}",
                    o.kind,
                    takes.join(", ")
                )
            })
        };
        let oscillator = match o.kind.as_str() {
            "van-der-pol" => {
                let mu = need("mu", o.mu)?;
                range("oscillator.mu", mu, 0.01, 5.0)?;
                OscConfig::VanDerPol { mu }
            }
            _ => {
                let (l, c, gm, g3) = (
                    need("l", o.l)?,
                    need("c", o.c)?,
                    need("gm", o.gm)?,
                    need("g3", o.g3)?,
                );
                let rl = o.rl.unwrap_or(0.0);
                range("oscillator.l (H)", l, 1e-15, 1e3)?;
                range("oscillator.c (F)", c, 1e-18, 1e3)?;
                range("oscillator.gm (S)", gm, 1e-12, 1e6)?;
                range("oscillator.g3 (S/V^2)", g3, 1e-12, 1e6)?;
                range("oscillator.rl (ohm)", rl, 0.0, 1e9)?;
                let z0 = (l / c).sqrt();
                let (a, r) = (z0 * gm, rl / z0);
                if a <= r {
                    bail!(
                        "oscillator.gm = {gm} S does not start the oscillator: the tank loses rl·C/L = {:e} S, so give gm above that (or a smaller rl)",
                        rl * c / l
                    );
                }
                if a - r > 5.0 {
                    bail!(
                        "oscillator.gm = {gm} S makes a relaxation oscillator (net gain (gm − rl·C/L)·sqrt(L/C) = {:.3} > 5) the reduction's fixed-step integrator does not resolve; give gm below {:e} S",
                        a - r,
                        (5.0 + r) / z0
                    );
                }
                OscConfig::Lc { l, c, gm, g3, rl }
            }
        };
        let coupling = match raw.coupling.kind.as_str() {
            "resistive" => CouplingKind::Resistive,
            "capacitive" => CouplingKind::Capacitive,
            "inductive" => CouplingKind::Inductive,
            k => bail!(
                "coupling.kind = {k:?} is not a coupling phasegen knows; give \"resistive\" or \"capacitive\" (or \"inductive\" for van-der-pol)"
            ),
        };
        if coupling == CouplingKind::Inductive && !matches!(oscillator, OscConfig::VanDerPol { .. })
        {
            bail!(
                "coupling.kind = \"inductive\" is for van-der-pol only (an inductor between two LC nodes adds a state); give \"resistive\" or \"capacitive\""
            );
        }
        let r = &raw.reduce;
        range("reduce.points", r.points, 64, 16384)?;
        if !r.points.is_power_of_two() {
            bail!(
                "reduce.points = {} must be a power of two (e.g. {})",
                r.points,
                r.points.next_power_of_two()
            );
        }
        range("reduce.harmonics", r.harmonics, 1, r.points / 4)?;
        let c = &raw.check;
        range("check.epsilon", c.epsilon, 1e-5, 0.2)?;
        range("check.detuning", c.detuning, 0.0, 0.95)?;
        range("check.periods", c.periods, 50, 1_000_000)?;
        range("check.steps", c.steps, 32, 4096)?;
        Ok(ReduceConfig {
            oscillator,
            coupling,
            points: r.points,
            harmonics: r.harmonics,
            check: CheckConfig {
                epsilon: c.epsilon,
                detuning: c.detuning,
                periods: c.periods,
                steps: c.steps,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", ReduceConfig::parse(text).unwrap_err())
    }

    #[test]
    fn bad_files_are_refused_by_key() {
        let vdp = "[oscillator]\nkind = 'van-der-pol'\nmu = 1.0\n[coupling]\nkind = 'resistive'\n";
        let c = ReduceConfig::parse(vdp).unwrap();
        assert_eq!(c.oscillator, OscConfig::VanDerPol { mu: 1.0 });
        assert_eq!((c.points, c.harmonics), (1024, 5));
        let cases = [
            ("[oscillator]\nkind = 'duffing'\n[coupling]\nkind = 'resistive'\n", "oscillator.kind = \"duffing\""),
            ("[oscillator]\nkind = 'van-der-pol'\n[coupling]\nkind = 'resistive'\n", "oscillator.mu is missing"),
            (&vdp.replace("mu = 1.0", "mu = -1.0"), "oscillator.mu = -1"),
            (&vdp.replace("mu = 1.0", "mu = nan"), "oscillator.mu = NaN"),
            (&vdp.replace("mu = 1.0", "mu = 1.0\nl = 1e-6"), "oscillator.l is not a parameter of kind = \"van-der-pol\""),
            (&vdp.replace("mu = 1.0", "mu = 1.0\nmuu = 2"), "muu"),
            (&vdp.replace("'resistive'", "'magnetic'"), "coupling.kind = \"magnetic\""),
            (&format!("{vdp}[reduce]\npoints = 1000\n"), "reduce.points = 1000 must be a power of two"),
            (&format!("{vdp}[check]\nepsilon = 0.5\n"), "check.epsilon = 0.5"),
            (&format!("{vdp}[check]\nepsilonn = 0.1\n"), "epsilonn"),
            ("[oscillator]\nkind = 'lc'\nl = 1e-6\nc = 1e-9\ng3 = 1e-3\n[coupling]\nkind = 'resistive'\n", "oscillator.gm is missing"),
            ("[oscillator]\nkind = 'lc'\nl = 1e-6\nc = 1e-9\ngm = 1e-3\ng3 = 1e-3\nrl = 50\n[coupling]\nkind = 'resistive'\n", "does not start the oscillator"),
            ("[oscillator]\nkind = 'lc'\nl = 1e-6\nc = 1e-9\ngm = 1e-3\ng3 = 1e-3\n[coupling]\nkind = 'inductive'\n", "for van-der-pol only"),
        ];
        for (text, want) in cases {
            let e = err(text);
            assert!(e.contains(want), "{want:?} not in: {e}");
        }
    }
}
