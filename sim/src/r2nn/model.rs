//! The R²NN: a grid of masses, each carrying a local resonator, joined to
//! its neighbours by springs (and optionally dashpots), some nodes fixed.
//!
//! # Dynamics
//!
//! Every free grid node `i` has a main mass `m_c` (displacement `y_i`) and a
//! local resonator: a mass `m_n` (displacement `y_i'`) hung on a spring `k_n,i`
//! (and optionally a dashpot `c_n`) from it. Neighbouring grid nodes are
//! joined by springs `k_c,e` and, optionally, dashpots `c_c,e` (the paper's
//! resistive coupling); optionally every main mass has a dashpot `c_g` to
//! ground. Fixed nodes stay at zero, so an element joining a free node to a
//! fixed one acts as an element to ground. With `M`, `C`, `K` the mass,
//! damping and stiffness matrices (every element of value `v` between
//! coordinates `a` and `b` adds `v (e_a − e_b)(e_a − e_b)ᵀ`), and `P` the
//! input placement,
//!
//! ```text
//! M ÿ + C ẏ + K y = P f(t).
//! ```
//!
//! Time is measured in input samples. A signal of `N` samples is integrated
//! in `T = N·S` steps of `h = 1/S` (`S` = `substeps`, 1 in the authors'
//! code); the force between samples is interpolated linearly.
//!
//! # Central differences (as in the authors' code)
//!
//! ```text
//! (M + h/2 C) y_{n+1} = (2M − h² K) y_n − (M − h/2 C) y_{n−1} + h² P f_n,
//! y_0 = 0,   y_{−1} = (h²/2) M⁻¹ P f_0   (the scheme's start from rest).
//! ```
//!
//! The fast engine steps the equivalent velocity form (better rounding):
//! `v_n = (y_n − y_{n−1})/h`, `(M + h/2 C) v_{n+1} = (M − h/2 C) v_n +
//! h (P f_n − K y_n)`, `y_{n+1} = y_n + h v_{n+1}`.
//!
//! # Stability
//!
//! The scheme is stable if and only if `h² λ_max(M⁻¹K) < 4`, i.e.
//! `ω_max·h < 2` with `ω_max` the highest undamped natural frequency: the
//! modified energy `½ v_{n+½}ᵀ(M − h²K/4) v_{n+½} + …` is then positive
//! definite, and dashpots only remove energy from it. [`Net::check_stable`]
//! refuses `ω_max·h ≥ 2`. Since `K` grows (in the PSD order) with every
//! spring constant, `ω_max` is largest at the upper stiffness bounds;
//! [`Spec::validate`] requires `ω_max·h ≤` [`BOUND_LIMIT`] there, so no
//! parameter set training can reach ever gets near the limit.
//!
//! # Output
//!
//! The energy `E_p = (1/S) Σ_{n=1..T} y_{p,n}²` at every probe coordinate
//! (one probe per class), normalized to `E_p / Σ_q E_q` and scaled by
//! `logit_scale` into the logits of a softmax cross-entropy.

use crate::rng::Rng;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// The central-difference limit of `ω_max·h`.
pub const STABILITY_LIMIT: f64 = 2.0;
/// What the stiffness bounds may allow: 5% below [`STABILITY_LIMIT`].
pub const BOUND_LIMIT: f64 = 1.9;

/// A lower and an upper bound.
pub type Range = [f64; 2];

/// The realizable range of every trainable parameter (a spring `k` is an
/// inductor `L = 1/k`, so `k` must stay above 0; a dashpot `c` of 0 is an
/// open circuit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Resonator springs `k_n`.
    pub kn: Range,
    /// Coupling springs `k_c`.
    pub kc: Range,
    /// Coupling dashpots `c_c` (used when `Spec::coupling_dashpots`).
    pub cc: Range,
}

/// A measured coordinate: a grid node's main mass or its resonator mass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Grid node, row-major (`row * cols + col`).
    pub node: usize,
    /// The node's resonator mass rather than its main mass.
    pub resonator: bool,
}

/// The network's fixed structure and constants (everything but the trained
/// parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub rows: usize,
    pub cols: usize,
    /// Grid nodes held at zero displacement (row-major indices).
    pub fixed: Vec<usize>,
    /// Grid nodes whose main mass the input force drives.
    pub sources: Vec<usize>,
    /// The probes, one per class, in class order.
    pub probes: Vec<Probe>,
    /// Main mass `m_c` of every grid node.
    pub m_main: f64,
    /// Resonator mass `m_n`.
    pub m_res: f64,
    /// Dashpot `c_g` from every free main mass to ground (0 = none).
    pub damping: f64,
    /// Dashpot `c_n` across every resonator spring (0 = none).
    pub res_damping: f64,
    /// Trainable coupling dashpots `c_c` beside the coupling springs.
    pub coupling_dashpots: bool,
    /// Integration steps per input sample (`h = 1/substeps`).
    pub substeps: usize,
    /// Logits are `logit_scale · E_p / Σ_q E_q`.
    pub logit_scale: f64,
    pub bounds: Bounds,
}

/// The trained values. Every vector has its full length whatever is fixed
/// or disabled (entries that no element uses keep their value and get a
/// zero gradient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Resonator spring of every grid node (row-major).
    pub kn: Vec<f64>,
    /// Coupling spring of every grid edge (order of [`grid_edges`]).
    pub kc: Vec<f64>,
    /// Coupling dashpot of every grid edge (all 0 without coupling dashpots).
    pub cc: Vec<f64>,
}

/// Which parameter an element's value is (index into [`Params::flat`]).
pub type ParamIndex = Option<usize>;

/// Grid edges: first the horizontal ones row by row (`(r,c)–(r,c+1)`), then
/// the vertical ones (`(r,c)–(r+1,c)`), as pairs of row-major node indices.
pub fn grid_edges(rows: usize, cols: usize) -> Vec<(usize, usize)> {
    let mut e = Vec::with_capacity(rows * cols.saturating_sub(1) + rows.saturating_sub(1) * cols);
    for r in 0..rows {
        for c in 0..cols.saturating_sub(1) {
            e.push((r * cols + c, r * cols + c + 1));
        }
    }
    for r in 0..rows.saturating_sub(1) {
        for c in 0..cols {
            e.push((r * cols + c, (r + 1) * cols + c));
        }
    }
    e
}

impl Params {
    /// All values in one vector: `kn`, then `kc`, then `cc`.
    pub fn flat(&self) -> Vec<f64> {
        let mut v = self.kn.clone();
        v.extend_from_slice(&self.kc);
        v.extend_from_slice(&self.cc);
        v
    }

    pub fn from_flat(spec: &Spec, v: &[f64]) -> Params {
        let (n, e) = (spec.nodes(), spec.edges().len());
        assert_eq!(
            v.len(),
            n + 2 * e,
            "flat parameter vector of the wrong length"
        );
        Params {
            kn: v[..n].to_vec(),
            kc: v[n..n + e].to_vec(),
            cc: v[n + e..].to_vec(),
        }
    }
}

impl Spec {
    /// The authors' pulse-task network: 5×5, `m_c` = 13.033e-3,
    /// `m_n` = 35.258e-3, corners fixed, the force at node 2 (top middle),
    /// probes on the resonators of nodes 10, 14 and 22, no damping, one step
    /// per sample. Their `k_n` start in [1e-3, 7e-3] and `k_c` at 5e-3; the
    /// bounds here keep those ranges and the stability margin.
    pub fn authors() -> Spec {
        Spec {
            rows: 5,
            cols: 5,
            fixed: vec![0, 4, 20, 24],
            sources: vec![2],
            probes: [10, 14, 22]
                .iter()
                .map(|&node| Probe {
                    node,
                    resonator: true,
                })
                .collect(),
            m_main: 13.033e-3,
            m_res: 35.258e-3,
            damping: 0.0,
            res_damping: 0.0,
            coupling_dashpots: false,
            substeps: 1,
            logit_scale: 1.0,
            bounds: Bounds {
                kn: [1e-4, 7e-3],
                kc: [1e-4, 5e-3],
                cc: [0.0, 0.0],
            },
        }
    }

    /// The network used for the synthetic tasks and the user's data: 5×5,
    /// unit masses, corners fixed, the force at node 2 (top middle), probes
    /// on the resonators of the first `classes` of nodes 10, 14, 22, 16, 18,
    /// 12, 21, 23, 11, 13 (left, right, bottom, then inwards), ground
    /// dashpots 0.01 (a quality factor of about 100·ω at unit mass),
    /// trainable coupling springs and dashpots. With unit masses a spring
    /// `k` resonates at `√k` rad/sample, so `band` (rad/sample) sets the
    /// resonator springs' bounds to `[lo², hi²]`; the coupling springs may
    /// reach `hi²/2`.
    pub fn preset(classes: usize, band: [f64; 2], substeps: usize) -> Result<Spec> {
        Spec::preset_grid(5, 5, classes, band, substeps)
    }

    /// [`Spec::preset`] on a `rows × cols` grid (at least 3×3): corners
    /// fixed, the force at the top middle node, probes on resonators: on 5×5
    /// the list of [`Spec::preset`], otherwise the middle of the left, right
    /// and bottom edges, then the other nodes of the lower half, farthest
    /// from the source first.
    pub fn preset_grid(
        rows: usize,
        cols: usize,
        classes: usize,
        band: [f64; 2],
        substeps: usize,
    ) -> Result<Spec> {
        if !(3..=64).contains(&rows) || !(3..=64).contains(&cols) {
            bail!("grid {rows}x{cols}: the preset needs 3..=64 rows and columns");
        }
        let node = |r: usize, c: usize| r * cols + c;
        let fixed = vec![
            node(0, 0),
            node(0, cols - 1),
            node(rows - 1, 0),
            node(rows - 1, cols - 1),
        ];
        let source = node(0, cols / 2);
        let candidates: Vec<usize> = if (rows, cols) == (5, 5) {
            vec![10, 14, 22, 16, 18, 12, 21, 23, 11, 13]
        } else {
            let mut v = vec![
                node(rows / 2, 0),
                node(rows / 2, cols - 1),
                node(rows - 1, cols / 2),
            ];
            let mut rest: Vec<usize> = (rows / 2..rows)
                .flat_map(|r| (0..cols).map(move |c| node(r, c)))
                .filter(|n| !v.contains(n) && !fixed.contains(n) && *n != source)
                .collect();
            let dist = |n: usize| {
                let (r, c) = ((n / cols) as f64, (n % cols) as f64);
                r * r + (c - (cols / 2) as f64).powi(2)
            };
            rest.sort_by(|a, b| dist(*b).total_cmp(&dist(*a)).then(a.cmp(b)));
            v.extend(rest);
            v
        };
        if !(2..=candidates.len()).contains(&classes) {
            bail!(
                "{classes} classes: the {rows}x{cols} preset has probes for 2 to {}",
                candidates.len()
            );
        }
        let [lo, hi] = band;
        if !(lo > 0.0 && lo < hi && hi.is_finite()) {
            bail!("band [{lo}, {hi}] rad/sample: need 0 < lo < hi");
        }
        let s = Spec {
            rows,
            cols,
            fixed,
            sources: vec![source],
            probes: candidates[..classes]
                .iter()
                .map(|&node| Probe {
                    node,
                    resonator: true,
                })
                .collect(),
            m_main: 1.0,
            m_res: 1.0,
            damping: 0.01,
            res_damping: 0.0,
            coupling_dashpots: true,
            substeps,
            logit_scale: 10.0,
            bounds: Bounds {
                kn: [lo * lo, hi * hi],
                kc: [1e-4, hi * hi / 2.0],
                cc: [0.0, 0.05],
            },
        };
        s.validate()?;
        Ok(s)
    }

    /// Grid nodes.
    pub fn nodes(&self) -> usize {
        self.rows * self.cols
    }

    pub fn edges(&self) -> Vec<(usize, usize)> {
        grid_edges(self.rows, self.cols)
    }

    pub fn classes(&self) -> usize {
        self.probes.len()
    }

    pub fn is_fixed(&self, node: usize) -> bool {
        self.fixed.contains(&node)
    }

    /// `(row, col)` of a node.
    pub fn rc(&self, node: usize) -> (usize, usize) {
        (node / self.cols, node % self.cols)
    }

    /// Length of [`Params::flat`].
    pub fn n_params(&self) -> usize {
        self.nodes() + 2 * self.edges().len()
    }

    /// Checks the structure, the constants and the bounds, and that the
    /// stiffest parameters the bounds allow keep `ω_max·h` within
    /// [`BOUND_LIMIT`].
    pub fn validate(&self) -> Result<()> {
        if !(1..=64).contains(&self.rows) || !(1..=64).contains(&self.cols) || self.nodes() < 2 {
            bail!(
                "grid {}x{}: rows and cols must be 1..=64 with at least 2 nodes",
                self.rows,
                self.cols
            );
        }
        let n = self.nodes();
        for (what, list) in [("fixed", &self.fixed), ("source", &self.sources)] {
            for (k, &i) in list.iter().enumerate() {
                if i >= n {
                    bail!(
                        "{what} node {i} is outside the {}x{} grid (nodes 0..{n})",
                        self.rows,
                        self.cols
                    );
                }
                if list[..k].contains(&i) {
                    bail!("{what} node {i} is listed twice");
                }
            }
        }
        if self.sources.is_empty() {
            bail!("no source node: the input force must drive at least one node");
        }
        if let Some(s) = self.sources.iter().find(|&&s| self.is_fixed(s)) {
            bail!("source node {s} is fixed; drive a free node");
        }
        if self.probes.len() < 2 {
            bail!(
                "{} probe(s): give one probe per class, at least 2",
                self.probes.len()
            );
        }
        for (k, p) in self.probes.iter().enumerate() {
            if p.node >= n {
                bail!("probe node {} is outside the grid (nodes 0..{n})", p.node);
            }
            if self.is_fixed(p.node) {
                bail!(
                    "probe node {} is fixed (its displacement is always 0)",
                    p.node
                );
            }
            if self.probes[..k].contains(p) {
                bail!("probe {:?} is listed twice", p);
            }
        }
        let positive = |name: &str, v: f64| -> Result<()> {
            if !(v.is_finite() && v > 0.0) {
                bail!("{name} = {v}: must be a positive number");
            }
            Ok(())
        };
        positive("m_main", self.m_main)?;
        positive("m_res", self.m_res)?;
        positive("logit_scale", self.logit_scale)?;
        for (name, v) in [("damping", self.damping), ("res_damping", self.res_damping)] {
            if !(v.is_finite() && v >= 0.0) {
                bail!("{name} = {v}: must be 0 or positive");
            }
        }
        if !(1..=64).contains(&self.substeps) {
            bail!("substeps = {}: use 1..=64", self.substeps);
        }
        for (name, [lo, hi]) in [("kn", self.bounds.kn), ("kc", self.bounds.kc)] {
            if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
                bail!("bounds.{name} = [{lo}, {hi}]: need 0 < lo <= hi (a spring k is an inductor L = 1/k)");
            }
        }
        let [lo, hi] = self.bounds.cc;
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi) {
            bail!("bounds.cc = [{lo}, {hi}]: need 0 <= lo <= hi");
        }
        if self.coupling_dashpots && hi <= 0.0 {
            bail!("coupling dashpots are on but bounds.cc = [{lo}, {hi}] allows only 0; raise its upper bound");
        }
        let stiff = self.stiffest();
        let net = self.net_unchecked(&stiff);
        let wh = net.omega_max() * net.h();
        if wh > BOUND_LIMIT {
            let need = (net.omega_max() / BOUND_LIMIT).ceil() as usize;
            bail!(
                "the stiffness bounds (kn <= {}, kc <= {}) allow ω_max·h = {wh:.3} (ω_max = {:.4} rad/sample, h = 1/{}), above {BOUND_LIMIT} (5% inside the central-difference limit {STABILITY_LIMIT}); lower the upper bounds or use substeps >= {need}",
                self.bounds.kn[1],
                self.bounds.kc[1],
                net.omega_max(),
                self.substeps
            );
        }
        Ok(())
    }

    /// Every spring at its upper bound (dashpots at their lower bound).
    pub fn stiffest(&self) -> Params {
        Params {
            kn: vec![self.bounds.kn[1]; self.nodes()],
            kc: vec![self.bounds.kc[1]; self.edges().len()],
            cc: vec![
                if self.coupling_dashpots {
                    self.bounds.cc[0]
                } else {
                    0.0
                };
                self.edges().len()
            ],
        }
    }

    /// Initial parameters: `k_n` log-uniform over its bounds (spreading the
    /// local resonances over the band), `k_c` at half its upper bound (a
    /// lattice stiff enough to carry the resonators' band: its passband
    /// reaches about `√(8 k_c/m)`), `c_c` at its lower bound.
    pub fn init(&self, seed: u64) -> Params {
        let mut rng = Rng::new(seed);
        let [lo, hi] = self.bounds.kn;
        let kn = (0..self.nodes())
            .map(|_| (lo.ln() + (hi.ln() - lo.ln()) * rng.f64()).exp())
            .collect();
        let kc = vec![(self.bounds.kc[1] / 2.0).max(self.bounds.kc[0]); self.edges().len()];
        let cc0 = if self.coupling_dashpots {
            self.bounds.cc[0]
        } else {
            0.0
        };
        Params {
            kn,
            kc,
            cc: vec![cc0; self.edges().len()],
        }
    }

    /// Clamps every value into its bounds (coupling dashpots to 0 when off).
    pub fn project(&self, p: &mut Params) {
        let clamp = |v: &mut f64, [lo, hi]: Range| *v = v.clamp(lo, hi);
        p.kn.iter_mut().for_each(|v| clamp(v, self.bounds.kn));
        p.kc.iter_mut().for_each(|v| clamp(v, self.bounds.kc));
        if self.coupling_dashpots {
            p.cc.iter_mut().for_each(|v| clamp(v, self.bounds.cc));
        } else {
            p.cc.iter_mut().for_each(|v| *v = 0.0);
        }
    }

    /// Checks the lengths of `p` and that every value is within its bounds
    /// (to a relative 1e-9).
    pub fn check_params(&self, p: &Params) -> Result<()> {
        let (n, e) = (self.nodes(), self.edges().len());
        if p.kn.len() != n || p.kc.len() != e || p.cc.len() != e {
            bail!(
                "parameters have {} kn, {} kc, {} cc values but the {}x{} grid needs {n}, {e}, {e}",
                p.kn.len(),
                p.kc.len(),
                p.cc.len(),
                self.rows,
                self.cols
            );
        }
        let cc_bounds = if self.coupling_dashpots {
            self.bounds.cc
        } else {
            [0.0, 0.0]
        };
        for (name, vals, [lo, hi]) in [
            ("kn", &p.kn, self.bounds.kn),
            ("kc", &p.kc, self.bounds.kc),
            ("cc", &p.cc, cc_bounds),
        ] {
            for (i, &v) in vals.iter().enumerate() {
                let tol = 1e-9 * hi.abs().max(1e-300);
                if !(v.is_finite() && v >= lo - tol && v <= hi + tol) {
                    bail!("{name}[{i}] = {v} is outside its bounds [{lo}, {hi}]");
                }
            }
        }
        Ok(())
    }

    /// The network of these parameters, after checking them against the
    /// bounds and the time step against the stability limit.
    pub fn net(&self, p: &Params) -> Result<Net> {
        self.check_params(p)?;
        let net = self.net_unchecked(p);
        net.check_stable()?;
        Ok(net)
    }

    /// Free main nodes in the order that keeps the coupling band narrow:
    /// row-major when the grid is at least as tall as wide, else column-major.
    pub fn free_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = if self.cols <= self.rows {
            (0..self.nodes()).collect()
        } else {
            (0..self.cols)
                .flat_map(|c| (0..self.rows).map(move |r| (r, c)))
                .map(|(r, c)| r * self.cols + c)
                .collect()
        };
        order.retain(|&i| !self.is_fixed(i));
        order
    }

    /// Builds the network without any check. Coordinates interleave each free
    /// main mass (`2k`) with its resonator (`2k + 1`) in [`Spec::free_order`].
    pub fn net_unchecked(&self, p: &Params) -> Net {
        let order = self.free_order();
        let mut slot = vec![usize::MAX; self.nodes()];
        for (k, &i) in order.iter().enumerate() {
            slot[i] = k;
        }
        let main = |i: usize| (slot[i] != usize::MAX).then(|| 2 * slot[i]);
        let mut labels = Vec::with_capacity(2 * order.len());
        let mut mass = Vec::with_capacity(2 * order.len());
        for &i in &order {
            let (r, c) = self.rc(i);
            labels.push(format!("m{r}_{c}"));
            labels.push(format!("r{r}_{c}"));
            mass.push(self.m_main);
            mass.push(self.m_res);
        }
        let n = self.nodes();
        let edges = self.edges();
        let mut springs = Vec::new();
        let mut dashpots = Vec::new();
        for (e, &(a, b)) in edges.iter().enumerate() {
            let ends = match (main(a), main(b)) {
                (Some(x), Some(y)) => Some((x, Some(y))),
                (Some(x), None) => Some((x, None)),
                (None, Some(y)) => Some((y, None)),
                (None, None) => None,
            };
            if let Some((x, y)) = ends {
                springs.push(Link {
                    a: x,
                    b: y,
                    value: p.kc[e],
                    param: Some(n + e),
                });
                if self.coupling_dashpots {
                    dashpots.push(Link {
                        a: x,
                        b: y,
                        value: p.cc[e],
                        param: Some(n + edges.len() + e),
                    });
                }
            }
        }
        for (k, &i) in order.iter().enumerate() {
            springs.push(Link {
                a: 2 * k,
                b: Some(2 * k + 1),
                value: p.kn[i],
                param: Some(i),
            });
            if self.res_damping > 0.0 {
                dashpots.push(Link {
                    a: 2 * k,
                    b: Some(2 * k + 1),
                    value: self.res_damping,
                    param: None,
                });
            }
            if self.damping > 0.0 {
                dashpots.push(Link {
                    a: 2 * k,
                    b: None,
                    value: self.damping,
                    param: None,
                });
            }
        }
        let sources = self.sources.iter().filter_map(|&s| main(s)).collect();
        let probes = self
            .probes
            .iter()
            .map(|p| main(p.node).expect("probe on a free node (validated)") + p.resonator as usize)
            .collect();
        Net {
            labels,
            mass,
            springs,
            dashpots,
            sources,
            probes,
            substeps: self.substeps,
        }
    }
}

/// One two-terminal element: between coordinates `a` and `b`, or from `a` to
/// a fixed point (ground) when `b` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub a: usize,
    pub b: Option<usize>,
    pub value: f64,
    /// The trained parameter this value is, if any.
    pub param: ParamIndex,
}

/// A linear mass-spring-dashpot network in general form: what the engine
/// steps and what the circuit is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// A name per coordinate (also its SPICE node name).
    pub labels: Vec<String>,
    /// Mass of every coordinate.
    pub mass: Vec<f64>,
    pub springs: Vec<Link>,
    pub dashpots: Vec<Link>,
    /// Coordinates the input force drives (each with the full force).
    pub sources: Vec<usize>,
    /// Measured coordinates, one per class.
    pub probes: Vec<usize>,
    pub substeps: usize,
}

impl Net {
    /// Coordinates.
    pub fn n(&self) -> usize {
        self.mass.len()
    }

    /// The time step in samples.
    pub fn h(&self) -> f64 {
        1.0 / self.substeps as f64
    }

    /// `K u` (stiffness matrix times a vector).
    pub fn k_mul(&self, u: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for s in &self.springs {
            let d = u[s.a] - s.b.map_or(0.0, |b| u[b]);
            out[s.a] += s.value * d;
            if let Some(b) = s.b {
                out[b] -= s.value * d;
            }
        }
    }

    /// The highest undamped natural frequency `sqrt(λ_max(M⁻¹K))` in rad
    /// per sample, by power iteration on `M^{-1/2} K M^{-1/2}` (symmetric,
    /// positive semi-definite) until the Rayleigh quotient settles to 1e-13.
    pub fn omega_max(&self) -> f64 {
        let n = self.n();
        let isq: Vec<f64> = self.mass.iter().map(|m| 1.0 / m.sqrt()).collect();
        let mut rng = Rng::new(0x5eed);
        let mut u: Vec<f64> = (0..n).map(|_| rng.f64() - 0.5).collect();
        let (mut t, mut w) = (vec![0.0; n], vec![0.0; n]);
        let mut lambda = 0.0;
        for it in 0..200_000 {
            let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                return 0.0;
            }
            for i in 0..n {
                t[i] = u[i] / norm * isq[i];
            }
            self.k_mul(&t, &mut w);
            let mut l = 0.0;
            for i in 0..n {
                w[i] *= isq[i];
                l += w[i] * u[i] / norm;
            }
            std::mem::swap(&mut u, &mut w);
            if it > 10 && (l - lambda).abs() <= 1e-13 * l.abs() {
                lambda = l;
                break;
            }
            lambda = l;
        }
        lambda.max(0.0).sqrt()
    }

    /// Refuses a time step at or above the central-difference limit
    /// `ω_max·h < 2`, naming the value and the limit.
    pub fn check_stable(&self) -> Result<()> {
        for (i, &m) in self.mass.iter().enumerate() {
            if !(m.is_finite() && m > 0.0) {
                bail!("mass of {} is {m}: masses must be positive", self.labels[i]);
            }
        }
        for l in self.springs.iter().chain(&self.dashpots) {
            if !(l.value.is_finite() && l.value >= 0.0) {
                bail!(
                    "an element at {} has value {}: springs and dashpots must be >= 0",
                    self.labels[l.a],
                    l.value
                );
            }
        }
        let w = self.omega_max();
        let wh = w * self.h();
        if wh >= STABILITY_LIMIT {
            bail!(
                "unstable time step: ω_max·h = {wh:.4} (ω_max = {w:.4} rad/sample, h = 1/{} sample) is at or above the central-difference limit {STABILITY_LIMIT}; use substeps >= {} or softer springs",
                self.substeps,
                (w / BOUND_LIMIT).ceil() as usize
            );
        }
        Ok(())
    }
}

/// The input force at step `n` of a signal `x` integrated with `s` steps
/// per sample: linear interpolation between samples, the last held.
#[inline]
pub fn force_at(x: &[f32], n: usize, s: usize) -> f64 {
    let k = n / s;
    let a = x[k] as f64;
    let r = n % s;
    if r == 0 {
        return a;
    }
    let b = x.get(k + 1).map_or(a, |&v| v as f64);
    a + (b - a) * (r as f64 / s as f64)
}

/// The plain reference of the time stepping: dense `M`, `C`, `K`, the
/// two-step central-difference form as written in the module docs, the
/// implicit matrix inverted once by Gauss-Jordan. Returns every probe's
/// displacement at steps `1..=T`. Slow; it is the oracle of the engine.
// Dense matrix algebra reads best with indices.
#[allow(clippy::needless_range_loop)]
pub fn reference_run(net: &Net, x: &[f32]) -> Vec<Vec<f64>> {
    let n = net.n();
    let h = net.h();
    let dense = |links: &[Link]| {
        let mut m = vec![vec![0.0; n]; n];
        for l in links {
            m[l.a][l.a] += l.value;
            if let Some(b) = l.b {
                m[b][b] += l.value;
                m[l.a][b] -= l.value;
                m[b][l.a] -= l.value;
            }
        }
        m
    };
    let k = dense(&net.springs);
    let c = dense(&net.dashpots);
    let mut a = c.clone();
    for i in 0..n {
        for j in 0..n {
            a[i][j] *= h / 2.0;
        }
        a[i][i] += net.mass[i];
    }
    let ainv = invert(a);
    let t = x.len() * net.substeps;
    let mut yprev = vec![0.0; n];
    let f0 = force_at(x, 0, net.substeps);
    for &s in &net.sources {
        yprev[s] += h * h / 2.0 * f0 / net.mass[s];
    }
    let mut y = vec![0.0; n];
    let mut out = vec![Vec::with_capacity(t); net.probes.len()];
    let mut rhs = vec![0.0; n];
    for step in 0..t {
        let f = force_at(x, step, net.substeps);
        for i in 0..n {
            let mut r = 2.0 * net.mass[i] * y[i] - net.mass[i] * yprev[i];
            for j in 0..n {
                r += -h * h * k[i][j] * y[j] + h / 2.0 * c[i][j] * yprev[j];
            }
            rhs[i] = r;
        }
        for &s in &net.sources {
            rhs[s] += h * h * f;
        }
        let ynew: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| ainv[i][j] * rhs[j]).sum())
            .collect();
        yprev = std::mem::replace(&mut y, ynew);
        for (p, &q) in net.probes.iter().enumerate() {
            out[p].push(y[q]);
        }
    }
    out
}

/// Gauss-Jordan inverse with partial pivoting (the matrices here are
/// symmetric positive definite).
#[allow(clippy::needless_range_loop)]
pub(crate) fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| (i == j) as u8 as f64).collect())
        .collect();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("non-empty");
        a.swap(col, piv);
        inv.swap(col, piv);
        let d = a[col][col];
        for j in 0..n {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for i in 0..n {
            if i != col {
                let f = a[i][col];
                if f != 0.0 {
                    for j in 0..n {
                        a[i][j] -= f * a[col][j];
                        inv[i][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_of_a_grid() {
        let e = grid_edges(2, 3);
        assert_eq!(
            e,
            vec![(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5)]
        );
        assert_eq!(grid_edges(5, 5).len(), 40);
    }

    #[test]
    fn the_authors_network_is_valid_and_stable() {
        let s = Spec::authors();
        s.validate().unwrap();
        let net = s.net(&s.init(0)).unwrap();
        assert_eq!(net.n(), 42);
        assert_eq!(net.springs.len(), 40 + 21);
        assert!(net.omega_max() < 2.0);
    }

    #[test]
    fn omega_max_of_one_oscillator() {
        let net = Net {
            labels: vec!["a".into()],
            mass: vec![4.0],
            springs: vec![Link {
                a: 0,
                b: None,
                value: 1.0,
                param: None,
            }],
            dashpots: vec![],
            sources: vec![0],
            probes: vec![0],
            substeps: 1,
        };
        assert!((net.omega_max() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn force_interpolates_between_samples() {
        let x = [0.0f32, 1.0, 3.0];
        let f: Vec<f64> = (0..6).map(|n| force_at(&x, n, 2)).collect();
        assert_eq!(f, vec![0.0, 0.5, 1.0, 2.0, 3.0, 3.0]);
    }
}
