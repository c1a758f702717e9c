//! The metacircuit: a [`Net`] as capacitors, inductors and resistors by the
//! mechanical-electrical mobility analogy, with state scaling, E-series
//! snapping and component tolerances.
//!
//! # The analogy (force ↔ current, velocity ↔ voltage)
//!
//! A node voltage is the velocity of its mass; the current into a node is
//! the force on it. Then Newton's law of a mass, `f = m dv/dt`, is a
//! capacitor to ground `i = C dV/dt`; a spring, `f = k ∫ Δv dt`, is an
//! inductor `i = (1/L) ∫ ΔV dt` between the two nodes (to ground when the
//! other end is fixed); a dashpot, `f = c Δv`, is a resistor `i = ΔV/R`.
//! A fixed node is the ground node. So `C = m`, `L = 1/k`, `R = 1/c`, and a
//! local resonator (spring `k_n` to a mass `m_n`) is a series L–C branch
//! from its node to ground, whose admittance `1/(jωL + 1/(jωC))` turns
//! negative (inductive) above its resonance `1/√(LC)`.
//!
//! **Displacement as voltage.** The model's output is the displacement `y`,
//! the integral of the velocity. The circuit is linear and starts at rest,
//! so driving it with the integral of the force, `I(t) = ∫₀ᵗ f`, gives node
//! voltages equal to the integral of the velocities: the displacements. The
//! netlist's current source therefore carries the running integral of the
//! input signal, and the probe node voltages are the model's `y` directly.
//!
//! # State scaling
//!
//! The model's time unit is one input sample and its values are
//! dimensionless. With `τ` seconds per sample (the frequency scale: the
//! circuit consumes `1/τ` samples per second) and `Z0` ohms (the impedance
//! scale), `V = Z0 β y` and `I = β F` (`β` = [`AMPS`] per unit of force ×
//! sample) give, from `M ẏ + C y + K ∫y = F` (the integrated equation of
//! motion, time in samples),
//!
//! ```text
//! C = τ m / Z0,    L = Z0 τ / k,    R = Z0 / c,    ω_circuit = ω_model / τ.
//! ```
//!
//! By default `τ` and `Z0` put the median resonator at [`L_REF`] and
//! [`C_REF`] (common parts: `τ = √(L_REF C_REF k/m)`, `Z0 = τ m / C_REF`);
//! [`Scale::choose`] lets either be fixed instead.

use super::model::Net;
use crate::rng::Rng;
use anyhow::{bail, Result};

/// Input current per unit of integrated force (A).
pub const AMPS: f64 = 1e-3;
/// Default target for the median resonator's inductor (H).
pub const L_REF: f64 = 10e-3;
/// Default target for the median resonator's capacitor (F).
pub const C_REF: f64 = 100e-9;

/// The frequency and impedance scales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Seconds per input sample.
    pub tau: f64,
    /// Ohms per unit of mechanical impedance.
    pub z0: f64,
}

impl Scale {
    /// `τ` and `Z0` for `net`: fixed by `sample_rate` (samples per second)
    /// and/or `z0` when given, else chosen so the median resonator (the
    /// spring and mass of the median-stiffness resonator) lands at
    /// [`L_REF`], [`C_REF`]: `τ` sets its frequency to `1/√(L_REF C_REF)`,
    /// `Z0` its `√(L/C)` to `√(L_REF/C_REF)`.
    pub fn choose(net: &Net, sample_rate: Option<f64>, z0: Option<f64>) -> Result<Scale> {
        let (k, m) = median_resonator(net);
        let ratio = (L_REF / C_REF).sqrt();
        let tau = match sample_rate {
            Some(fs) if !(fs.is_finite() && fs > 0.0) => {
                bail!("sample rate {fs}: must be positive")
            }
            Some(fs) => 1.0 / fs,
            None => (L_REF * C_REF * k / m).sqrt(),
        };
        let z0 = match z0 {
            Some(z) if !(z.is_finite() && z > 0.0) => {
                bail!("impedance scale {z}: must be positive")
            }
            Some(z) => z,
            None => ratio * (k * m).sqrt(),
        };
        Ok(Scale { tau, z0 })
    }

    pub fn sample_rate(&self) -> f64 {
        1.0 / self.tau
    }
}

/// Spring and mass of the resonator with the median spring (a spring whose
/// far end is a coordinate with no other spring), else the median spring
/// and mass of the whole net.
fn median_resonator(net: &Net) -> (f64, f64) {
    let mut deg = vec![0usize; net.n()];
    for s in &net.springs {
        deg[s.a] += 1;
        if let Some(b) = s.b {
            deg[b] += 1;
        }
    }
    let mut res: Vec<(f64, f64)> = net
        .springs
        .iter()
        .filter_map(|s| s.b.filter(|&b| deg[b] == 1).map(|b| (s.value, net.mass[b])))
        .filter(|(k, _)| *k > 0.0)
        .collect();
    if res.is_empty() {
        res = net
            .springs
            .iter()
            .filter(|s| s.value > 0.0)
            .map(|s| (s.value, net.mass[s.a]))
            .collect();
    }
    if res.is_empty() {
        return (1.0, 1.0);
    }
    res.sort_by(|a, b| a.0.total_cmp(&b.0));
    res[res.len() / 2]
}

/// What a component stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The mass of a coordinate.
    Mass(usize),
    /// `Net::springs[i]`.
    Spring(usize),
    /// `Net::dashpots[i]`.
    Dashpot(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    C,
    L,
    R,
}

impl Kind {
    pub fn unit(self) -> &'static str {
        match self {
            Kind::C => "F",
            Kind::L => "H",
            Kind::R => "Ω",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// SPICE name (`C…`, `L…`, `R…`).
    pub name: String,
    pub kind: Kind,
    /// Nodes (`"0"` is ground).
    pub a: String,
    pub b: String,
    pub value: f64,
    pub origin: Origin,
}

/// The circuit of a net at a scale.
#[derive(Debug, Clone)]
pub struct Circuit {
    pub scale: Scale,
    pub parts: Vec<Component>,
    /// Driven nodes (each gets the full input current).
    pub sources: Vec<String>,
    /// Probe nodes, in class order.
    pub probes: Vec<String>,
    /// The net the circuit was made from (structure and substeps).
    pub net: Net,
}

impl Circuit {
    /// Every mass, spring and dashpot as C, L, R (dashpots of value 0 are
    /// open circuits and left out).
    pub fn from_net(net: &Net, scale: Scale) -> Circuit {
        let Scale { tau, z0 } = scale;
        let node = |i: Option<usize>| i.map_or("0".to_string(), |i| net.labels[i].clone());
        let mut parts = vec![];
        for (i, &m) in net.mass.iter().enumerate() {
            parts.push(Component {
                name: format!("C{}", net.labels[i]),
                kind: Kind::C,
                a: node(Some(i)),
                b: "0".into(),
                value: tau * m / z0,
                origin: Origin::Mass(i),
            });
        }
        for (i, s) in net.springs.iter().enumerate() {
            parts.push(Component {
                name: format!("L{i}_{}", net.labels[s.a]),
                kind: Kind::L,
                a: node(Some(s.a)),
                b: node(s.b),
                value: z0 * tau / s.value,
                origin: Origin::Spring(i),
            });
        }
        for (i, d) in net.dashpots.iter().enumerate() {
            if d.value > 0.0 {
                parts.push(Component {
                    name: format!("R{i}_{}", net.labels[d.a]),
                    kind: Kind::R,
                    a: node(Some(d.a)),
                    b: node(d.b),
                    value: z0 / d.value,
                    origin: Origin::Dashpot(i),
                });
            }
        }
        Circuit {
            scale,
            parts,
            sources: net.sources.iter().map(|&s| net.labels[s].clone()).collect(),
            probes: net.probes.iter().map(|&p| net.labels[p].clone()).collect(),
            net: net.clone(),
        }
    }

    /// The mechanical net these component values make (the inverse map).
    pub fn to_net(&self) -> Net {
        let Scale { tau, z0 } = self.scale;
        let mut net = self.net.clone();
        for d in &mut net.dashpots {
            d.value = 0.0;
        }
        for p in &self.parts {
            match p.origin {
                Origin::Mass(i) => net.mass[i] = p.value * z0 / tau,
                Origin::Spring(i) => net.springs[i].value = z0 * tau / p.value,
                Origin::Dashpot(i) => net.dashpots[i].value = z0 / p.value,
            }
        }
        net
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.parts.iter().filter(|p| p.kind == kind).count()
    }

    /// Smallest and largest value of a kind.
    pub fn range(&self, kind: Kind) -> Option<(f64, f64)> {
        let v: Vec<f64> = self
            .parts
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.value)
            .collect();
        if v.is_empty() {
            return None;
        }
        Some((
            v.iter().cloned().fold(f64::MAX, f64::min),
            v.iter().cloned().fold(f64::MIN, f64::max),
        ))
    }

    /// Every value snapped to the nearest (in ratio) value of `series`,
    /// with the relative errors.
    pub fn snap(&self, series: Series) -> (Circuit, SnapReport) {
        let mut c = self.clone();
        let mut rep = SnapReport {
            series,
            ..SnapReport::default()
        };
        for p in &mut c.parts {
            let v = series.nearest(p.value);
            let err = v / p.value - 1.0;
            let e = match p.kind {
                Kind::C => &mut rep.c,
                Kind::L => &mut rep.l,
                Kind::R => &mut rep.r,
            };
            e.count += 1;
            e.max = e.max.max(err.abs());
            e.mean += err.abs();
            p.value = v;
        }
        for e in [&mut rep.c, &mut rep.l, &mut rep.r] {
            if e.count > 0 {
                e.mean /= e.count as f64;
            }
        }
        (c, rep)
    }

    /// Every value multiplied by `1 + tol·u`, `u` uniform in [−1, 1]
    /// (independent parts of tolerance ±tol).
    pub fn perturb(&self, tol: f64, rng: &mut Rng) -> Circuit {
        let mut c = self.clone();
        for p in &mut c.parts {
            p.value *= 1.0 + tol * rng.uniform(-1.0, 1.0);
        }
        c
    }

    /// A Markdown table of the values, grouped by kind, with ranges.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        writeln!(
            s,
            "scale: τ = {} per sample ({}samples/s), Z0 = {}, input {} per unit force·sample",
            eng(self.scale.tau, "s"),
            eng(self.scale.sample_rate(), ""),
            eng(self.scale.z0, "Ω"),
            eng(AMPS, "A")
        )
        .ok();
        writeln!(s, "\n| kind | count | min | max |\n|---|---|---|---|").ok();
        for k in [Kind::C, Kind::L, Kind::R] {
            if let Some((lo, hi)) = self.range(k) {
                writeln!(
                    s,
                    "| {:?} | {} | {} | {} |",
                    k,
                    self.count(k),
                    eng(lo, k.unit()),
                    eng(hi, k.unit())
                )
                .ok();
            }
        }
        s
    }
}

/// Snapping errors of one kind of part.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SnapError {
    pub count: usize,
    /// Largest and mean |relative error|.
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SnapReport {
    pub series: Series,
    pub c: SnapError,
    pub l: SnapError,
    pub r: SnapError,
}

/// An IEC 60063 preferred-number series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Series {
    E12,
    #[default]
    E24,
    E96,
}

const E12: [f64; 12] = [1.0, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3, 3.9, 4.7, 5.6, 6.8, 8.2];
const E24: [f64; 24] = [
    1.0, 1.1, 1.2, 1.3, 1.5, 1.6, 1.8, 2.0, 2.2, 2.4, 2.7, 3.0, 3.3, 3.6, 3.9, 4.3, 4.7, 5.1, 5.6,
    6.2, 6.8, 7.5, 8.2, 9.1,
];
const E96: [f64; 96] = [
    1.00, 1.02, 1.05, 1.07, 1.10, 1.13, 1.15, 1.18, 1.21, 1.24, 1.27, 1.30, 1.33, 1.37, 1.40, 1.43,
    1.47, 1.50, 1.54, 1.58, 1.62, 1.65, 1.69, 1.74, 1.78, 1.82, 1.87, 1.91, 1.96, 2.00, 2.05, 2.10,
    2.15, 2.21, 2.26, 2.32, 2.37, 2.43, 2.49, 2.55, 2.61, 2.67, 2.74, 2.80, 2.87, 2.94, 3.01, 3.09,
    3.16, 3.24, 3.32, 3.40, 3.48, 3.57, 3.65, 3.74, 3.83, 3.92, 4.02, 4.12, 4.22, 4.32, 4.42, 4.53,
    4.64, 4.75, 4.87, 4.99, 5.11, 5.23, 5.36, 5.49, 5.62, 5.76, 5.90, 6.04, 6.19, 6.34, 6.49, 6.65,
    6.81, 6.98, 7.15, 7.32, 7.50, 7.68, 7.87, 8.06, 8.25, 8.45, 8.66, 8.87, 9.09, 9.31, 9.53, 9.76,
];

impl Series {
    pub fn parse(s: &str) -> Result<Series> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "E12" => Series::E12,
            "E24" => Series::E24,
            "E96" => Series::E96,
            _ => bail!("unknown series '{s}': use E12, E24 or E96"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Series::E12 => "E12",
            Series::E24 => "E24",
            Series::E96 => "E96",
        }
    }

    /// The mantissas of one decade.
    pub fn values(self) -> &'static [f64] {
        match self {
            Series::E12 => &E12,
            Series::E24 => &E24,
            Series::E96 => &E96,
        }
    }

    /// The series value nearest to `v > 0` in ratio (|ln(s/v)| least).
    pub fn nearest(self, v: f64) -> f64 {
        let dec = v.log10().floor();
        let mut best = v;
        let mut err = f64::MAX;
        for d in [dec - 1.0, dec, dec + 1.0] {
            let p = 10f64.powf(d);
            for &m in self.values() {
                let c = m * p;
                let e = (c / v).ln().abs();
                if e < err {
                    err = e;
                    best = c;
                }
            }
        }
        // Round away the binary noise of m·10^d (e.g. 4.7e-9).
        let digits = 3 - best.log10().floor() as i32;
        let f = 10f64.powi(digits);
        (best * f).round() / f
    }
}

/// A value with an SI prefix, 4 significant digits: `eng(4.7e-9, "F")` is
/// `4.700 nF`.
pub fn eng(v: f64, unit: &str) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v} {unit}");
    }
    const P: [(f64, &str); 11] = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
        (1e-15, "f"),
        (1e-18, "a"),
    ];
    let a = v.abs();
    let (f, p) = P
        .iter()
        .find(|(f, _)| a >= *f * 0.9995)
        .copied()
        .unwrap_or((1e-18, "a"));
    let x = v / f;
    let dec = if x.abs() >= 99.95 {
        1
    } else if x.abs() >= 9.995 {
        2
    } else {
        3
    };
    format!("{x:.dec$} {p}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::r2nn::model::Spec;

    #[test]
    fn series_snap_to_the_nearest_value() {
        assert_eq!(Series::E12.nearest(4.3e-9), 4.7e-9);
        assert_eq!(Series::E24.nearest(4.3e-9), 4.3e-9);
        assert_eq!(Series::E24.nearest(9.6), 10.0);
        assert_eq!(Series::E96.nearest(1234.0), 1240.0);
        // Every E96 mantissa is round(10^(i/96), 2) but for 9.20 → 9.19 style
        // exceptions none occur; check the ratio stays within the half-step.
        for w in E96.windows(2) {
            assert!(w[1] / w[0] < 1.031 && w[1] > w[0]);
        }
    }

    #[test]
    fn circuit_round_trips_to_the_net() {
        let s = Spec::authors();
        let net = s.net(&s.init(1)).unwrap();
        let c = Circuit::from_net(&net, Scale::choose(&net, None, None).unwrap());
        let back = c.to_net();
        for (a, b) in net.springs.iter().zip(&back.springs) {
            assert!((a.value / b.value - 1.0).abs() < 1e-12);
        }
        for (a, b) in net.mass.iter().zip(&back.mass) {
            assert!((a / b - 1.0).abs() < 1e-12);
        }
        // The default scale puts the median resonator at L_REF, C_REF.
        let (lo, hi) = c.range(Kind::L).unwrap();
        assert!(lo <= L_REF * 1.0001 && hi >= L_REF * 0.9999);
    }

    #[test]
    fn eng_formats_with_prefixes() {
        assert_eq!(eng(4.7e-9, "F"), "4.700 nF");
        assert_eq!(eng(12500.0, "Ω"), "12.50 kΩ");
        assert_eq!(eng(0.25, "H"), "250.0 mH");
    }
}
