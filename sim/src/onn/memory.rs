//! Associative memory: a fully connected oscillator network (MODEL.md
//! section 1, `Topology { inputs: 0, layers: [N], intralayer: true }`) that
//! stores binary patterns as phases and retrieves them from corrupted ones.
//!
//! A pattern `ξ ∈ {±1}^N` is the phase state `θ_i = 0` for `ξ_i = +1` and
//! `θ_i = π` for `ξ_i = −1`. On such states `cos(θ_i − θ_j) = ξ_i ξ_j`, so
//! with no field (`h = 0`, no inputs) the energy
//! `E = −Σ_{i<j} W_ij cos(θ_i − θ_j) − Σ_i (K/2) cos 2θ_i`
//! is the Hopfield energy `−Σ_{i<j} W_ij ξ_i ξ_j` up to the constant `−NK/2`.
//! The second-harmonic term pulls every phase to 0 or π (binarizes).
//!
//! Learning rules (the diagonal `W_ii` is dropped: the topology has no
//! self-coupling):
//! - Hebbian: `W_ij = (1/N) Σ_p ξ_i^p ξ_j^p`. Random patterns are retrieved
//!   up to `P ≈ 0.14 N` (Amit, Gutfreund & Sompolinsky 1985); correlated
//!   patterns (digits) interfere much earlier.
//! - Pseudo-inverse (projection, Personnaz et al. 1985; Kanter & Sompolinsky
//!   1987): `W = (1/N) Ξ C⁻¹ Ξᵀ` with the overlap matrix
//!   `C_pq = (1/N) Σ_i ξ_i^p ξ_i^q`. The full matrix is the orthogonal
//!   projector onto the span of the patterns, so `W ξ^p = ξ^p` for every
//!   stored pattern, correlated or not, up to `P < N` (independent patterns).
//! - Equilibrium Propagation ([`train_ep`]): trained from corrupted starts,
//!   a free phase and a phase nudged towards the (sign-aligned) pattern.
//!
//! Stability: at a binary state `s` every `sin` vanishes, so every binary state
//! is an equilibrium; it is a minimum of `E` when the Hessian, in the
//! coordinates `φ_i = s_i δθ_i`, `H = diag(s_i f_i + 2K) − (s_i W_ij s_j)` with
//! the local field `f_i = Σ_j W_ij s_j`, is positive definite. A wrong bit
//! (`s_i f_i < 0`) flips only when `|f_i| > 2K` roughly, so a large `K`
//! freezes the corrupted start: `K` trades phase binarization against basin
//! size. For the pseudo-inverse rule at a stored pattern
//! `H = (1 + 2K) I − D Π D` (`Π` the projector, `D = diag ξ`), eigenvalues
//! `2K` (P-fold) and `1 + 2K`: `K > 0` makes the patterns strict minima.
//! Starting exactly on a binary state nothing moves, so retrieval needs a
//! little phase jitter, noise or frequency dispersion.
//!
//! Reference: with `h = 0` the energy is invariant to the global flip
//! `θ → θ + π` (and, when `K = 0`, to any global rotation), so `ξ` and `−ξ`
//! are the same memory: the overlap is reported as an absolute value,
//! `m = |(1/N) Σ_i s_i ξ_i|` with the readout `s_i = sign(cos θ_i)` against
//! the reference oscillator (phase 0).

use crate::data::Dataset;
use crate::onn::float::{field, wrap, Net, Settle};
use crate::onn::net::{Params, Topology};
use crate::rng::Rng;
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::f32::consts::PI;
use std::fmt::Write;

/// A binary pattern `ξ ∈ {±1}^N`.
pub type Pattern = Vec<i8>;

/// Euler steps between two convergence checks.
pub const CHECK_EVERY: usize = 10;

/// The learning rule that turns patterns into couplings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    Hebb,
    Pinv,
    Ep,
}

impl Rule {
    pub fn parse(s: &str) -> Result<Rule> {
        match s {
            "hebb" => Ok(Rule::Hebb),
            "pinv" => Ok(Rule::Pinv),
            "ep" => Ok(Rule::Ep),
            _ => bail!("unknown learning rule {s:?}: use hebb, pinv or ep"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::Hebb => "hebb",
            Rule::Pinv => "pinv",
            Rule::Ep => "ep",
        }
    }
}

/// The fully connected topology of `n` oscillators: one layer, every pair
/// coupled, no input field.
pub fn topology(n: usize) -> Topology {
    Topology {
        inputs: 0,
        layers: vec![n],
        intralayer: true,
    }
}

fn check_patterns(patterns: &[Pattern]) -> Result<usize> {
    let Some(first) = patterns.first() else {
        bail!("no patterns to store: give at least one");
    };
    let n = first.len();
    if n < 2 {
        bail!("patterns of {n} bits are too short: a memory needs at least 2 oscillators");
    }
    for (p, x) in patterns.iter().enumerate() {
        if x.len() != n {
            bail!(
                "pattern {p} has {} bits but pattern 0 has {n}: all patterns must have the same length",
                x.len()
            );
        }
        if let Some(i) = x.iter().position(|&v| v != 1 && v != -1) {
            bail!("pattern {p} bit {i} is {}: bits must be +1 or -1", x[i]);
        }
    }
    Ok(n)
}

/// Hebbian couplings `W_ij = (1/N) Σ_p ξ_i^p ξ_j^p`, in the order of
/// `topology(N).edges()`.
pub fn hebbian(patterns: &[Pattern]) -> Result<Vec<f32>> {
    let n = check_patterns(patterns)?;
    let inv_n = 1.0 / n as f64;
    Ok(topology(n)
        .edges()
        .iter()
        .map(|&(i, j)| {
            let s: i64 = patterns.iter().map(|x| (x[i] * x[j]) as i64).sum();
            (s as f64 * inv_n) as f32
        })
        .collect())
}

/// Inverts a square matrix (row-major, f64) by Gauss-Jordan elimination with
/// partial pivoting. `Err(col)` names the column whose pivot vanished.
fn invert(a: &[f64], m: usize) -> std::result::Result<Vec<f64>, usize> {
    let mut a = a.to_vec();
    let mut inv = vec![0f64; m * m];
    for i in 0..m {
        inv[i * m + i] = 1.0;
    }
    for c in 0..m {
        let piv = (c..m)
            .max_by(|&r, &s| a[r * m + c].abs().total_cmp(&a[s * m + c].abs()))
            .unwrap_or(c);
        // C has unit diagonal; a pivot this small means a dependent pattern
        if a[piv * m + c].abs() < 1e-9 {
            return Err(c);
        }
        if piv != c {
            for k in 0..m {
                a.swap(piv * m + k, c * m + k);
                inv.swap(piv * m + k, c * m + k);
            }
        }
        let d = 1.0 / a[c * m + c];
        for k in 0..m {
            a[c * m + k] *= d;
            inv[c * m + k] *= d;
        }
        for r in 0..m {
            let f = a[r * m + c];
            if r != c && f != 0.0 {
                for k in 0..m {
                    a[r * m + k] -= f * a[c * m + k];
                    inv[r * m + k] -= f * inv[c * m + k];
                }
            }
        }
    }
    Ok(inv)
}

/// Pseudo-inverse (projection) couplings `W = (1/N) Ξ C⁻¹ Ξᵀ`,
/// `C_pq = (1/N) Σ_i ξ_i^p ξ_i^q`, in the order of `topology(N).edges()`.
/// Fails when the patterns are linearly dependent (C singular).
pub fn pinv(patterns: &[Pattern]) -> Result<Vec<f32>> {
    let n = check_patterns(patterns)?;
    let m = patterns.len();
    if m >= n {
        bail!(
            "the pseudo-inverse rule stores fewer patterns than oscillators: {m} patterns of {n} bits; use at most {}",
            n - 1
        );
    }
    let inv_n = 1.0 / n as f64;
    let mut c = vec![0f64; m * m];
    for p in 0..m {
        for q in 0..m {
            let s: i64 = (0..n)
                .map(|i| (patterns[p][i] * patterns[q][i]) as i64)
                .sum();
            c[p * m + q] = s as f64 * inv_n;
        }
    }
    let ci = invert(&c, m).map_err(|q| {
        anyhow::anyhow!(
            "the pseudo-inverse rule needs linearly independent patterns, but pattern {q} is a combination of the others (a repeat, or its negative?); drop it or use --rule hebb"
        )
    })?;
    // a[i][q] = Σ_p ξ_i^p (C⁻¹)_pq
    let mut a = vec![0f64; n * m];
    for i in 0..n {
        for q in 0..m {
            a[i * m + q] = (0..m).map(|p| patterns[p][i] as f64 * ci[p * m + q]).sum();
        }
    }
    Ok(topology(n)
        .edges()
        .iter()
        .map(|&(i, j)| {
            let s: f64 = (0..m).map(|q| a[i * m + q] * patterns[q][j] as f64).sum();
            (s * inv_n) as f32
        })
        .collect())
}

/// The phases of a pattern: 0 for +1, π for −1.
pub fn phases(x: &[i8]) -> Vec<f32> {
    x.iter().map(|&v| if v > 0 { 0.0 } else { PI }).collect()
}

/// The readout `s_i = sign(cos θ_i)` (+1 on a tie).
pub fn readout(theta: &[f32]) -> Pattern {
    theta
        .iter()
        .map(|t| if t.cos() >= 0.0 { 1 } else { -1 })
        .collect()
}

/// `Σ_i s_i ξ_i`, the signed agreement count.
fn agreement(s: &[i8], x: &[i8]) -> i64 {
    assert_eq!(s.len(), x.len(), "patterns of different lengths");
    s.iter().zip(x).map(|(&a, &b)| (a * b) as i64).sum()
}

/// The overlap `m = |(1/N) Σ_i s_i ξ_i|` (the global flip is the same state).
pub fn overlap(s: &[i8], x: &[i8]) -> f64 {
    agreement(s, x).unsigned_abs() as f64 / x.len() as f64
}

/// Number of bits a fraction `frac` of `n` flips (rounded to nearest).
pub fn flips(n: usize, frac: f64) -> usize {
    ((frac * n as f64).round() as usize).min(n)
}

/// A corrupted start: `flips(N, frac)` distinct bits of `x`, chosen by `rng`,
/// are flipped; the phases get uniform jitter in `±jitter` rad.
pub fn corrupt(x: &[i8], frac: f64, jitter: f32, rng: &mut Rng) -> Vec<f32> {
    let n = x.len();
    let mut idx: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut idx);
    let mut s = x.to_vec();
    for &i in &idx[..flips(n, frac)] {
        s[i] = -s[i];
    }
    let mut theta = phases(&s);
    if jitter > 0.0 {
        for t in theta.iter_mut() {
            *t = wrap(*t + rng.uniform(-jitter as f64, jitter as f64) as f32);
        }
    }
    theta
}

/// Binarizes an image: a pixel is on (+1) when it is at least half of
/// `max_pixel`, off (−1) otherwise.
pub fn binarize(image: &[u8], max_pixel: u8) -> Pattern {
    image
        .iter()
        .map(|&v| {
            if 2 * v as u32 >= max_pixel as u32 {
                1
            } else {
                -1
            }
        })
        .collect()
}

/// The first image of each class `0..count` in `set`, binarized at half of
/// `max_pixel`; returns `(class, pattern)` pairs.
pub fn digit_patterns(set: &Dataset, count: usize) -> Result<Vec<(u8, Pattern)>> {
    let mut out = Vec::with_capacity(count);
    for c in 0..count {
        let Some(i) = set.labels.iter().position(|&l| l as usize == c) else {
            bail!("the data set has no image of class {c}, so it cannot give {count} patterns (one per class 0..{count})");
        };
        out.push((c as u8, binarize(set.image(i), set.max_pixel)));
    }
    Ok(out)
}

/// `p` random patterns of `n` bits, each bit ±1 with probability 1/2.
pub fn random_patterns(n: usize, p: usize, rng: &mut Rng) -> Vec<Pattern> {
    (0..p)
        .map(|_| {
            (0..n)
                .map(|_| if rng.next_u64() >> 63 == 0 { 1 } else { -1 })
                .collect()
        })
        .collect()
}

/// The frequency mismatch `δω_i ~ N(0, dispersion²)` of a memory, from its
/// own stream of `seed` (apart from the trials' and the training's streams).
pub fn mismatch(n: usize, dispersion: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::stream(seed, u64::MAX);
    (0..n)
        .map(|_| (rng.normal() * dispersion as f64) as f32)
        .collect()
}

/// Stored patterns and the oscillator network that holds them.
#[derive(Debug, Clone)]
pub struct Memory {
    pub rule: Rule,
    pub patterns: Vec<Pattern>,
    /// `topology(N)`, `h = 0`, `K_i = k`, `δω_i ~ N(0, dispersion²)` (fixed
    /// per memory, like a device's mismatch), `theta0 = 0`.
    pub params: Params,
}

impl Memory {
    pub fn store(
        patterns: Vec<Pattern>,
        rule: Rule,
        k: f32,
        dispersion: f32,
        seed: u64,
    ) -> Result<Memory> {
        let w = match rule {
            Rule::Hebb => hebbian(&patterns)?,
            Rule::Pinv => pinv(&patterns)?,
            Rule::Ep => {
                bail!("the EP rule trains its couplings: use Memory::train with the EP options")
            }
        };
        Memory::with_couplings(patterns, rule, w, k, dispersion, seed)
    }

    /// The memory of `patterns` with the couplings `w` (in the order of
    /// `topology(N).edges()`), `K_i = k` and `δω_i ~ N(0, dispersion²)`
    /// drawn from the seed's mismatch stream.
    fn with_couplings(
        patterns: Vec<Pattern>,
        rule: Rule,
        w: Vec<f32>,
        k: f32,
        dispersion: f32,
        seed: u64,
    ) -> Result<Memory> {
        let n = check_patterns(&patterns)?;
        let params = Params {
            topo: topology(n),
            w,
            u: Vec::new(),
            h: vec![0.0; n],
            k: vec![k; n],
            domega: mismatch(n, dispersion, seed),
            theta0: vec![0.0; n],
            coupling: Default::default(),
        };
        params.check()?;
        Ok(Memory {
            rule,
            patterns,
            params,
        })
    }

    /// Stores `patterns` by `o.rule`; the EP rule trains (see [`train_ep`])
    /// and returns its per-epoch log.
    pub fn train(patterns: Vec<Pattern>, o: &Options, seed: u64) -> Result<(Memory, Vec<EpEpoch>)> {
        let (k, d) = (o.k as f32, o.dispersion as f32);
        if o.rule != Rule::Ep {
            return Ok((Memory::store(patterns, o.rule, k, d, seed)?, Vec::new()));
        }
        let (w, log) = train_ep(&patterns, o, seed)?;
        Ok((
            Memory::with_couplings(patterns, Rule::Ep, w, k, d, seed)?,
            log,
        ))
    }

    pub fn n(&self) -> usize {
        self.params.topo.n()
    }
}

/// How a retrieval runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recall {
    /// Euler step, maximum number of steps, phase noise σ.
    pub settle: Settle,
    /// Fraction of the bits flipped in the start state.
    pub corrupt: f64,
    /// Uniform phase jitter of the start state (rad).
    pub jitter: f32,
    /// Convergence stop: end early when no phase moved more than this (rad)
    /// over [`CHECK_EVERY`] steps; 0 runs every step. Not used with noise.
    pub stop: f32,
}

/// The outcome of one retrieval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trial {
    pub overlap: f64,
    pub exact: bool,
    pub steps: usize,
    /// Mean `|sin θ_i|` at the end: 0 when every phase is at 0 or π.
    pub abs_sin: f64,
}

/// Settles `theta` with the float model, in chunks of [`CHECK_EVERY`] steps
/// until converged (see [`Recall::stop`]) or `r.settle.steps` are done.
/// Returns the number of steps run.
pub fn settle(net: &Net, b: &[f32], theta: &mut [f32], r: &Recall, rng: &mut Rng) -> usize {
    let total = r.settle.steps;
    let check = r.stop > 0.0 && r.settle.noise == 0.0;
    let mut done = 0;
    let mut prev = theta.to_vec();
    while done < total {
        let chunk = CHECK_EVERY.min(total - done);
        let s = Settle {
            steps: chunk,
            ..r.settle
        };
        net.settle_field(b, theta, 0.0, None, &s, rng);
        done += chunk;
        if check {
            let moved = theta
                .iter()
                .zip(&prev)
                .map(|(a, b)| wrap(a - b).abs())
                .fold(0f32, f32::max);
            if moved <= r.stop {
                break;
            }
            prev.copy_from_slice(theta);
        }
    }
    done
}

/// One retrieval of pattern `p` from a corrupted start drawn with `rng`.
pub fn recall(mem: &Memory, net: &Net, p: usize, r: &Recall, rng: &mut Rng) -> Trial {
    let x = &mem.patterns[p];
    let b = field(&mem.params, &[]);
    let mut theta = corrupt(x, r.corrupt, r.jitter, rng);
    let steps = settle(net, &b, &mut theta, r, rng);
    let a = agreement(&readout(&theta), x);
    Trial {
        overlap: a.unsigned_abs() as f64 / x.len() as f64,
        exact: a.unsigned_abs() as usize == x.len(),
        steps,
        abs_sin: theta.iter().map(|t| t.sin().abs() as f64).sum::<f64>() / x.len() as f64,
    }
}

/// Retrieval statistics of one stored pattern over the trials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternStats {
    pub pattern: usize,
    /// Bits that are +1.
    pub on: usize,
    pub mean_overlap: f64,
    pub min_overlap: f64,
    /// Fraction of trials that recovered the pattern exactly (or its negative).
    pub exact_rate: f64,
    pub mean_steps: f64,
    /// Mean `|sin θ_i|` of the settled states (how far from binary phases).
    pub mean_abs_sin: f64,
}

/// Runs `trials` retrievals of each of the first `count` stored patterns, in
/// parallel; trial `t` of pattern `p` draws from `Rng::stream(seed, p·trials + t)`,
/// so the result does not depend on the number of threads.
pub fn evaluate(
    mem: &Memory,
    r: &Recall,
    trials: usize,
    count: usize,
    seed: u64,
) -> Vec<PatternStats> {
    let net = Net::new(&mem.params);
    let count = count.min(mem.patterns.len());
    let results: Vec<Trial> = (0..count * trials)
        .into_par_iter()
        .map(|k| {
            let mut rng = Rng::stream(seed, k as u64);
            recall(mem, &net, k / trials, r, &mut rng)
        })
        .collect();
    pattern_stats(mem, &results, trials)
}

/// Per-pattern statistics of `results`, `trials` consecutive ones per
/// pattern from pattern 0 (as [`evaluate`] orders them).
pub fn pattern_stats(mem: &Memory, results: &[Trial], trials: usize) -> Vec<PatternStats> {
    results
        .chunks(trials.max(1))
        .enumerate()
        .map(|(p, ts)| {
            let t = ts.len().max(1) as f64;
            PatternStats {
                pattern: p,
                on: mem.patterns[p].iter().filter(|&&v| v > 0).count(),
                mean_overlap: ts.iter().map(|x| x.overlap).sum::<f64>() / t,
                min_overlap: ts.iter().map(|x| x.overlap).fold(1.0, f64::min),
                exact_rate: ts.iter().filter(|x| x.exact).count() as f64 / t,
                mean_steps: ts.iter().map(|x| x.steps as f64).sum::<f64>() / t,
                mean_abs_sin: ts.iter().map(|x| x.abs_sin).sum::<f64>() / t,
            }
        })
        .collect()
}

/// Means over patterns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean_overlap: f64,
    pub exact_rate: f64,
    pub mean_abs_sin: f64,
}

pub fn summary(stats: &[PatternStats]) -> Summary {
    let n = stats.len().max(1) as f64;
    let mean = |f: fn(&PatternStats) -> f64| stats.iter().map(f).sum::<f64>() / n;
    Summary {
        mean_overlap: mean(|s| s.mean_overlap),
        exact_rate: mean(|s| s.exact_rate),
        mean_abs_sin: mean(|s| s.mean_abs_sin),
    }
}

/// One point of a capacity sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    pub n: usize,
    pub p: usize,
    /// `P / N`.
    pub load: f64,
    /// Stored patterns that were probed (at most [`SWEEP_PROBED`]).
    pub probed: usize,
    #[serde(flatten)]
    pub summary: Summary,
}

/// Patterns probed per sweep point (the first ones stored; all are equivalent).
pub const SWEEP_PROBED: usize = 8;

/// Capacity sweep: for every size `N` and load `P/N`, stores `P = round(load·N)`
/// random patterns and retrieves up to [`SWEEP_PROBED`] of them `trials` times.
pub fn sweep(sizes: &[usize], loads: &[f64], o: &Options) -> Result<Vec<SweepPoint>> {
    let r = o.recall();
    let mut out = Vec::new();
    for (a, &n) in sizes.iter().enumerate() {
        for (b, &load) in loads.iter().enumerate() {
            let p = ((load * n as f64).round() as usize).max(1);
            let point_seed = Rng::stream(o.seed, (a * loads.len() + b) as u64).next_u64();
            let pats = random_patterns(n, p, &mut Rng::new(point_seed));
            let (mem, _) = Memory::train(pats, o, point_seed)?;
            let stats = evaluate(&mem, &r, o.trials, SWEEP_PROBED, point_seed);
            out.push(SweepPoint {
                n,
                p,
                load: p as f64 / n as f64,
                probed: stats.len(),
                summary: summary(&stats),
            });
        }
    }
    Ok(out)
}

/// Where EP training starts W.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EpInit {
    /// The Hebbian couplings of the patterns.
    Hebb,
    /// `W = 0`.
    Zero,
}

impl EpInit {
    pub fn parse(s: &str) -> Result<EpInit> {
        match s {
            "hebb" => Ok(EpInit::Hebb),
            "zero" => Ok(EpInit::Zero),
            _ => bail!("--ep-init {s:?} is unknown: use hebb or zero"),
        }
    }
}

/// The settings of EP training (`--rule ep`), checked by [`Options::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpOptions {
    /// Passes over the patterns, each with fresh corrupted starts.
    pub epochs: usize,
    /// Learning rate η of `ΔW = (η/β)[…]` (per pattern and epoch); `None`
    /// is `1/(8N)`.
    pub eta: Option<f64>,
    /// Nudge strength β (large enough to move a wrong bit: see [`train_ep`]).
    pub beta: f64,
    /// Nudge at `+β` and `−β` and take the difference over `2β`.
    pub symmetric: bool,
    /// `K` while training (retrieval uses [`Options::k`]).
    pub k: f64,
    /// Euler steps of the nudged phase (run in full: it starts on an
    /// equilibrium of the free energy).
    pub nudge_steps: usize,
    /// Corrupted starts per pattern and epoch.
    pub starts: usize,
    /// Fraction of flipped bits of the training starts.
    pub corrupt: f64,
    pub init: EpInit,
}

impl Default for EpOptions {
    fn default() -> EpOptions {
        EpOptions {
            epochs: 100,
            eta: None,
            beta: 2.0,
            symmetric: false,
            k: 0.2,
            nudge_steps: 200,
            starts: 1,
            corrupt: 0.2,
            init: EpInit::Zero,
        }
    }
}

impl EpOptions {
    pub fn validate(&self) -> Result<()> {
        if self.epochs > 100_000 {
            bail!(
                "--ep-epochs {} is out of range: give 0 to 100000 passes over the patterns",
                self.epochs
            );
        }
        if let Some(eta) = self.eta {
            if !(eta > 0.0 && eta <= 10.0) {
                bail!("--ep-eta {eta} is out of range: the learning rate must be in (0, 10] (leave it out for 1/N)");
            }
        }
        if !(self.beta > 0.0 && self.beta <= 10.0) {
            bail!(
                "--ep-beta {} is out of range: the nudge β must be in (0, 10]",
                self.beta
            );
        }
        in_range(
            "--ep-k",
            self.k,
            0.0,
            100.0,
            "the second-harmonic locking K while training must be in [0, 100]",
        )?;
        if !(1..=1_000_000).contains(&self.nudge_steps) {
            bail!(
                "--ep-nudge-steps {} is out of range: give 1 to 1000000 Euler steps",
                self.nudge_steps
            );
        }
        if !(1..=1000).contains(&self.starts) {
            bail!(
                "--ep-starts {} is out of range: give 1 to 1000 corrupted starts per pattern and epoch",
                self.starts
            );
        }
        in_range(
            "--ep-corrupt",
            self.corrupt,
            0.0,
            0.5,
            "the fraction of flipped bits of the training starts must be in [0, 0.5]",
        )
    }
}

/// One epoch of EP training, measured on its own free phases (before the
/// epoch's update).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpEpoch {
    pub epoch: usize,
    /// Mean overlap of the free states with their patterns.
    pub free_overlap: f64,
    /// Share of the free states that were their pattern (up to the global
    /// flip): those contribute no update.
    pub free_exact: f64,
}

/// One training example: its free state and its nudged state(s).
struct Example {
    overlap: f64,
    exact: bool,
    /// `(θ⁰, θ^β)` or, symmetric, `(θ^−β, θ^+β)`; `None` when the free state
    /// is already the pattern.
    pair: Option<(Vec<f32>, Vec<f32>)>,
}

/// Trains the couplings of a memory of `patterns` with Equilibrium
/// Propagation (MODEL.md section 1), the supervised formulation of a memory:
///
/// - free phase: from a corrupted start (`ep.corrupt` of the bits flipped,
///   the retrieval's jitter), settle with `K = ep.k` to `θ⁰` (as a
///   retrieval, [`settle`]);
/// - target: `t = σ ξ` with `σ = sign Σ_i ξ_i cos θ⁰_i` (+1 on a tie):
///   `ξ` and `−ξ` are the same memory (the energy is invariant to the global
///   flip), so the cost must not pull a state that found `−ξ` towards `ξ`;
/// - nudged phase: from `θ⁰`, `ep.nudge_steps` steps of `F = E + β C` with
///   the cost `C = Σ_i (1 − t_i cos θ_i)` on every oscillator, to `θ^β`:
///   the nudge is a field `b_i = β t_i` from the reference, which the
///   hardware has (`h`). On binary states it equals MODEL.md's
///   `½ Σ_i (cos θ_i − t_i)²` (2 per wrong bit, 0 per right one), but that
///   cost is `¼ cos 2θ − t cos θ + const`: its nudge also lowers the second
///   harmonic to `K − β/2`, and at the β that moves a wrong bit (below) `K`
///   turns negative and pulls the nudged phases to ±π/2 (measured: mean
///   |sin θ^β| 0.2-0.7 on the digits, and training that does not learn);
/// - update: `ΔW_ij = (η/β)[cos(θ_i^β − θ_j^β) − cos(θ_i⁰ − θ_j⁰)]` summed
///   over the epoch's patterns (averaged over a pattern's starts;
///   symmetric: `(η/2β)[… at +β − … at −β]`), applied once per epoch; W stays symmetric with a zero diagonal (one
///   value per pair).
///
/// Why β is not small: every binary state (`θ_i ∈ {0, π}`) is an equilibrium
/// for every W, and `K > 0` makes the free states binary, so `θ⁰` does not
/// move with W and the gradient of any cost at `θ⁰` is zero; the small-β
/// limit of EP gives zero, as it should. A wrong bit at `θ_i = π`,
/// `t_i = +1`, has stiffness `s_i f_i + 2K` (see the module's Hessian); the
/// nudge adds `−β`, so `β > s_i f_i + 2K` makes it flip towards `t_i`. The
/// update is then EP at finite β, `(η/β)[t_i t_j − s_i s_j]` on the pairs
/// the nudge changed: a contrastive Hebbian rule that learns the target's
/// correlations and unlearns the spurious state's. A free state that is
/// already its pattern gives no update (the nudge holds it where it is, up
/// to the settle's residual) and is skipped. The nudged phase starts on an
/// equilibrium of `E` (unstable under the nudge), so it runs all its steps.
///
/// Example `x` of epoch `e` draws from its own stream, so the result does
/// not depend on the number of threads; the update sums the examples in
/// order.
pub fn train_ep(patterns: &[Pattern], o: &Options, seed: u64) -> Result<(Vec<f32>, Vec<EpEpoch>)> {
    let n = check_patterns(patterns)?;
    let ep = &o.ep;
    ep.validate()?;
    let mut w = match ep.init {
        EpInit::Hebb => hebbian(patterns)?,
        EpInit::Zero => vec![0.0; n * (n - 1) / 2],
    };
    let eta = ep.eta.unwrap_or(1.0 / (8.0 * n as f64));
    let beta = ep.beta as f32;
    let free_r = Recall {
        corrupt: ep.corrupt,
        ..o.recall()
    };
    let nudge_r = Recall {
        settle: Settle {
            steps: ep.nudge_steps,
            ..free_r.settle
        },
        stop: 0.0,
        ..free_r
    };
    let domega = mismatch(n, o.dispersion as f32, seed);
    let with_k = |w: Vec<f32>, k: f32| Params {
        topo: topology(n),
        w,
        u: Vec::new(),
        h: vec![0.0; n],
        k: vec![k; n],
        domega: domega.clone(),
        theta0: vec![0.0; n],
        coupling: Default::default(),
    };
    let k = ep.k as f32;
    let train_seed = Rng::stream(seed, u64::MAX - 1).next_u64();
    let per_epoch = patterns.len() * ep.starts;
    let mut log = Vec::with_capacity(ep.epochs);
    for e in 0..ep.epochs {
        let free = with_k(w.clone(), k);
        let free_net = Net::new(&free);
        let zero = vec![0f32; n];
        let examples: Vec<Example> = (0..per_epoch)
            .into_par_iter()
            .map(|x| {
                let mut rng = Rng::stream(train_seed, (e * per_epoch + x) as u64);
                let xi = &patterns[x / ep.starts];
                let mut th0 = corrupt(xi, ep.corrupt, free_r.jitter, &mut rng);
                settle(&free_net, &zero, &mut th0, &free_r, &mut rng);
                let c: f32 = xi.iter().zip(&th0).map(|(&v, t)| v as f32 * t.cos()).sum();
                let sigma = if c >= 0.0 { 1.0 } else { -1.0 };
                let a = agreement(&readout(&th0), xi);
                let exact = a.unsigned_abs() as usize == n;
                let overlap = a.unsigned_abs() as f64 / n as f64;
                if exact {
                    return Example {
                        overlap,
                        exact,
                        pair: None,
                    };
                }
                let nudged = |net: &Net, sign: f32, rng: &mut Rng| {
                    let b: Vec<f32> = xi.iter().map(|&v| sign * beta * sigma * v as f32).collect();
                    let mut th = th0.clone();
                    settle(net, &b, &mut th, &nudge_r, rng);
                    th
                };
                let hi = nudged(&free_net, 1.0, &mut rng);
                let lo = if ep.symmetric {
                    nudged(&free_net, -1.0, &mut rng)
                } else {
                    th0.clone()
                };
                Example {
                    overlap,
                    exact,
                    pair: Some((lo, hi)),
                }
            })
            .collect();
        let m = per_epoch.max(1) as f64;
        log.push(EpEpoch {
            epoch: e,
            free_overlap: examples.iter().map(|x| x.overlap).sum::<f64>() / m,
            free_exact: examples.iter().filter(|x| x.exact).count() as f64 / m,
        });
        // (sin, cos) of every phase of the two states of each example
        type SinCos = Vec<(f32, f32)>;
        let pairs: Vec<(SinCos, SinCos)> = examples
            .iter()
            .filter_map(|x| x.pair.as_ref())
            .map(|(lo, hi)| {
                let cs = |t: &[f32]| t.iter().map(|v| v.sin_cos()).collect::<Vec<_>>();
                (cs(lo), cs(hi))
            })
            .collect();
        if pairs.is_empty() {
            continue;
        }
        // per pattern: the mean over its starts
        let b = if ep.symmetric { 2.0 * ep.beta } else { ep.beta };
        let scale = (eta / (b * ep.starts as f64)) as f32;
        // row i holds the pairs (i, j > i): edges() order for one layer
        let rows: Vec<Vec<f32>> = (0..n)
            .into_par_iter()
            .map(|i| {
                (i + 1..n)
                    .map(|j| {
                        let mut d = 0f32;
                        for (lo, hi) in &pairs {
                            // cos(a − b) = cos a cos b + sin a sin b
                            d += hi[i].1 * hi[j].1 + hi[i].0 * hi[j].0
                                - lo[i].1 * lo[j].1
                                - lo[i].0 * lo[j].0;
                        }
                        scale * d
                    })
                    .collect()
            })
            .collect();
        for (wv, d) in w.iter_mut().zip(rows.iter().flatten()) {
            *wv += d;
        }
    }
    Ok((w, log))
}

/// The command-line settings of a memory run, checked by [`Options::validate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    pub rule: Rule,
    pub corrupt: f64,
    pub jitter: f64,
    pub trials: usize,
    pub k: f64,
    pub eps: f64,
    pub steps: usize,
    pub noise: f64,
    pub dispersion: f64,
    pub seed: u64,
    /// EP training (used by `rule = ep`).
    pub ep: EpOptions,
}

fn in_range(name: &str, v: f64, lo: f64, hi: f64, why: &str) -> Result<()> {
    // written so that NaN fails
    if !(v >= lo && v <= hi) {
        bail!("{name} {v} is out of range: {why}");
    }
    Ok(())
}

impl Options {
    pub fn validate(&self) -> Result<()> {
        in_range(
            "--corrupt",
            self.corrupt,
            0.0,
            0.5,
            "the fraction of flipped bits must be in [0, 0.5] (past 0.5 the start is nearer the pattern's negative, the same phase state)",
        )?;
        in_range(
            "--jitter",
            self.jitter,
            0.0,
            1.5,
            "the start's phase jitter must be in [0, 1.5] rad (below π/2, so the start still reads as the corrupted pattern)",
        )?;
        if !(1..=1_000_000).contains(&self.trials) {
            bail!(
                "--trials {} is out of range: give 1 to 1000000 corrupted starts per pattern",
                self.trials
            );
        }
        in_range(
            "--k",
            self.k,
            0.0,
            100.0,
            "the second-harmonic locking K must be in [0, 100] (negative K would lock phases at ±π/2)",
        )?;
        if !(self.eps > 0.0 && self.eps <= 1.0) {
            bail!(
                "--eps {} is out of range: the Euler step must be in (0, 1]",
                self.eps
            );
        }
        if !(1..=10_000_000).contains(&self.steps) {
            bail!(
                "--steps {} is out of range: give 1 to 10000000 Euler steps",
                self.steps
            );
        }
        in_range(
            "--noise",
            self.noise,
            0.0,
            10.0,
            "the phase noise σ must be in [0, 10]",
        )?;
        in_range(
            "--dispersion",
            self.dispersion,
            0.0,
            10.0,
            "the standard deviation of δω must be in [0, 10] rad per unit time",
        )?;
        self.ep.validate()
    }

    pub fn recall(&self) -> Recall {
        Recall {
            settle: Settle {
                eps: self.eps as f32,
                steps: self.steps,
                noise: self.noise as f32,
                tol: 0.0,
            },
            corrupt: self.corrupt,
            jitter: self.jitter as f32,
            stop: 1e-4,
        }
    }
}

/// Checks the sizes and loads of a sweep.
pub fn validate_sweep(sizes: &[usize], loads: &[f64], rule: Rule) -> Result<()> {
    if sizes.is_empty() || loads.is_empty() {
        bail!("a sweep needs at least one size (--sizes) and one load (--loads)");
    }
    for &n in sizes {
        if !(4..=2048).contains(&n) {
            bail!("--sizes {n} is out of range: a swept memory has 4 to 2048 oscillators");
        }
    }
    for &l in loads {
        // written so that NaN fails
        if !(l > 0.0 && l < 1.0) {
            bail!("--loads {l} is out of range: a load P/N must be in (0, 1)");
        }
        if rule == Rule::Pinv {
            for &n in sizes {
                let p = ((l * n as f64).round() as usize).max(1);
                if p >= n {
                    bail!("--loads {l} with --sizes {n} gives {p} patterns: the pseudo-inverse rule stores at most N - 1 = {}", n - 1);
                }
            }
        }
    }
    Ok(())
}

/// The per-pattern table, with a class column when `labels` are given.
pub fn table(mem: &Memory, labels: Option<&[u8]>, o: &Options, stats: &[PatternStats]) -> String {
    let n = mem.n();
    let f = flips(n, o.corrupt);
    let mut s = String::new();
    writeln!(
        s,
        "{} patterns of {n} oscillators, rule {}, K {}, {} of {n} bits flipped (start overlap {:.3}), jitter {} rad, {} trials each",
        mem.patterns.len(),
        mem.rule.name(),
        o.k,
        f,
        1.0 - 2.0 * f as f64 / n as f64,
        o.jitter,
        o.trials
    )
    .ok();
    writeln!(
        s,
        "settle: eps {}, at most {} steps (stop when converged), noise {}, dispersion {}, seed {}",
        o.eps, o.steps, o.noise, o.dispersion, o.seed
    )
    .ok();
    writeln!(s).ok();
    writeln!(
        s,
        "| pattern | class | on bits | mean overlap | min overlap | exact recall | mean steps | mean abs sin |"
    )
    .ok();
    writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|").ok();
    for st in stats {
        let class = labels
            .and_then(|l| l.get(st.pattern))
            .map_or("-".to_string(), |c| c.to_string());
        writeln!(
            s,
            "| {} | {class} | {} | {:.3} | {:.3} | {:.0}% | {:.0} | {:.3} |",
            st.pattern,
            st.on,
            st.mean_overlap,
            st.min_overlap,
            100.0 * st.exact_rate,
            st.mean_steps,
            st.mean_abs_sin
        )
        .ok();
    }
    let m = summary(stats);
    writeln!(
        s,
        "\nall patterns: mean overlap {:.3}, exact recall {:.1}%, mean abs sin {:.3}",
        m.mean_overlap,
        100.0 * m.exact_rate,
        m.mean_abs_sin
    )
    .ok();
    s
}

/// The sweep table.
pub fn sweep_table(o: &Options, points: &[SweepPoint]) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "capacity sweep, rule {}, random patterns, K {}, {:.0}% of bits flipped, {} trials on each of up to {SWEEP_PROBED} patterns",
        o.rule.name(),
        o.k,
        100.0 * o.corrupt,
        o.trials
    )
    .ok();
    writeln!(s).ok();
    writeln!(
        s,
        "| N | P | P/N | mean overlap | exact recall | mean abs sin |"
    )
    .ok();
    writeln!(s, "|---:|---:|---:|---:|---:|---:|").ok();
    for p in points {
        writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} | {:.0}% | {:.3} |",
            p.n,
            p.p,
            p.load,
            p.summary.mean_overlap,
            100.0 * p.summary.exact_rate,
            p.summary.mean_abs_sin
        )
        .ok();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onn::float::energy;
    use std::path::Path;

    fn opts() -> Options {
        Options {
            rule: Rule::Pinv,
            corrupt: 0.15,
            jitter: 0.1,
            trials: 4,
            k: 0.2,
            eps: 0.1,
            steps: 2000,
            noise: 0.0,
            dispersion: 0.0,
            seed: 1,
            ep: EpOptions::default(),
        }
    }

    fn digits(count: usize) -> Vec<Pattern> {
        let d = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits-8x8"));
        let split = crate::data::load_dir(d).unwrap();
        digit_patterns(&split.test, count)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// The float model (written for layered nets) on `inputs = 0` and one
    /// fully coupled layer: parameters check, the field is `h`, and an Euler
    /// step is `θ − eps ∂E/∂θ`.
    #[test]
    fn fully_connected_topology_in_float_model() {
        let n = 6;
        let t = topology(n);
        assert_eq!(t.edges().len(), n * (n - 1) / 2);
        assert_eq!(t.outputs(), 0..n);
        let mut rng = Rng::new(3);
        let pats = random_patterns(n, 2, &mut rng);
        let mut mem = Memory::store(pats, Rule::Hebb, 0.3, 0.0, 1).unwrap();
        mem.params.h = vec![0.1, -0.2, 0.0, 0.3, 0.0, 0.05];
        let p = &mem.params;
        assert_eq!(field(p, &[]), p.h);
        let theta: Vec<f32> = vec![0.3, -1.0, 2.0, 0.1, -2.5, 3.0];
        let mut t1 = theta.clone();
        let s = Settle {
            eps: 0.01,
            steps: 1,
            noise: 0.0,
            tol: 0.0,
        };
        Net::new(p).settle(&[], &mut t1, 0.0, None, &s, &mut Rng::new(1));
        for i in 0..n {
            let h = 1e-3f32;
            let (mut a, mut m) = (theta.clone(), theta.clone());
            a[i] += h;
            m[i] -= h;
            let de = (energy(p, &[], &a) - energy(p, &[], &m)) / (2.0 * h as f64);
            let want = theta[i] as f64 - 0.01 * de;
            assert!((t1[i] as f64 - want).abs() < 2e-5, "{i}: {} {want}", t1[i]);
        }
    }

    #[test]
    fn rules_match_their_definitions() {
        let pats: Vec<Pattern> = vec![vec![1, -1, 1, 1, -1], vec![1, 1, -1, 1, 1]];
        let w = hebbian(&pats).unwrap();
        let e = topology(5).edges();
        // (0,1): (−1 + 1)/5, (0,3): (1 + 1)/5, (1,2): (−1 − 1)/5
        assert_eq!(w[e.iter().position(|&x| x == (0, 1)).unwrap()], 0.0);
        assert_eq!(w[e.iter().position(|&x| x == (0, 3)).unwrap()], 0.4);
        assert_eq!(w[e.iter().position(|&x| x == (1, 2)).unwrap()], -0.4);
        // projection: (W + diag) ξ = ξ for every stored pattern, with the
        // dropped diagonal W_ii = 1 − Σ_j W_ij ξ_i ξ_j, the same for all patterns
        let n = 16;
        let pats = random_patterns(n, 5, &mut Rng::new(2));
        let w = pinv(&pats).unwrap();
        let mut full = vec![0f64; n * n];
        for (k, &(i, j)) in topology(n).edges().iter().enumerate() {
            full[i * n + j] = w[k] as f64;
            full[j * n + i] = w[k] as f64;
        }
        let diag: Vec<f64> = (0..n)
            .map(|i| {
                let x = &pats[0];
                1.0 - (0..n)
                    .map(|j| full[i * n + j] * (x[i] * x[j]) as f64)
                    .sum::<f64>()
            })
            .collect();
        for x in &pats {
            for i in 0..n {
                let f: f64 = (0..n).map(|j| full[i * n + j] * x[j] as f64).sum();
                assert!((f + diag[i] * x[i] as f64 - x[i] as f64).abs() < 1e-5);
            }
        }
        // Σ_i W_ii = trace of a rank-5 projector = 5
        assert!((diag.iter().sum::<f64>() - 5.0).abs() < 1e-4);
    }

    #[test]
    fn bad_patterns_are_refused() {
        let x = vec![1i8, -1, 1, 1, -1, 1];
        let e = format!(
            "{:#}",
            pinv(&[x.clone(), x.iter().map(|v| -v).collect()]).unwrap_err()
        );
        assert!(e.contains("pattern 1") && e.contains("independent"), "{e}");
        let e = format!("{:#}", pinv(&vec![x.clone(); 6]).unwrap_err());
        assert!(e.contains("at most 5"), "{e}");
        let e = format!("{:#}", hebbian(&[x.clone(), vec![1, 1]]).unwrap_err());
        assert!(e.contains("pattern 1 has 2 bits"), "{e}");
        let e = format!("{:#}", hebbian(&[vec![1, 0, 1]]).unwrap_err());
        assert!(e.contains("bit 1 is 0"), "{e}");
        assert!(hebbian(&[]).is_err());
    }

    #[test]
    fn corrupt_flips_the_asked_number_of_bits() {
        let x = random_patterns(64, 1, &mut Rng::new(5)).remove(0);
        let mut rng = Rng::new(6);
        let th = corrupt(&x, 0.2, 0.0, &mut rng);
        let s = readout(&th);
        let wrong = s.iter().zip(&x).filter(|(a, b)| a != b).count();
        assert_eq!(wrong, 13); // round(0.2 · 64)
        assert!((overlap(&s, &x) - (64.0 - 26.0) / 64.0).abs() < 1e-12);
        let neg: Pattern = x.iter().map(|v| -v).collect();
        assert_eq!(overlap(&neg, &x), 1.0);
        let th = corrupt(&x, 0.0, 0.3, &mut rng);
        assert!(th
            .iter()
            .zip(phases(&x))
            .all(|(a, b)| wrap(a - b).abs() <= 0.3 + 1e-6));
        assert_eq!(readout(&th), x);
    }

    #[test]
    fn binarize_digits_at_half_scale() {
        assert_eq!(binarize(&[0, 7, 8, 16], 16), vec![-1, -1, 1, 1]);
        let d = digits(10);
        assert_eq!(d.len(), 10);
        assert!(d.iter().all(|p| p.len() == 64));
        for p in &d {
            let on = p.iter().filter(|&&v| v > 0).count();
            assert!((10..50).contains(&on), "{on}");
        }
    }

    /// A stored pattern is an energy minimum: from a jittered copy the
    /// network settles back onto it, and the energy there is below the
    /// jittered states'. Started on the pattern with a frequency mismatch it
    /// stays within a small locking offset.
    #[test]
    fn stored_pattern_is_a_fixed_point() {
        for rule in [Rule::Hebb, Rule::Pinv] {
            let pats = match rule {
                Rule::Hebb => random_patterns(64, 3, &mut Rng::new(8)),
                Rule::Pinv | Rule::Ep => digits(3),
            };
            let mem = Memory::store(pats, rule, 0.2, 0.0, 1).unwrap();
            let net = Net::new(&mem.params);
            let b = field(&mem.params, &[]);
            let r = Recall {
                jitter: 0.3,
                corrupt: 0.0,
                ..opts().recall()
            };
            let dev = |th: &[f32], x: &[i8]| {
                th.iter()
                    .zip(phases(x))
                    .map(|(a, b)| wrap(a - b).abs())
                    .fold(0f32, f32::max)
            };
            for p in 0..3 {
                let x = &mem.patterns[p];
                let e_star = energy(&mem.params, &[], &phases(x));
                let mut rng = Rng::new(p as u64);
                let mut th = corrupt(x, 0.0, r.jitter, &mut rng);
                assert!(energy(&mem.params, &[], &th) > e_star);
                settle(&net, &b, &mut th, &r, &mut rng);
                let d = dev(&th, x);
                assert!(d < 0.01, "{rule:?} pattern {p}: max deviation {d} rad");
                assert!(energy(&mem.params, &[], &th) >= e_star - 1e-4);
            }
            // δω ~ N(0, 0.02²): the phases lock with small offsets
            let pats = mem.patterns.clone();
            let mem = Memory::store(pats, rule, 0.2, 0.02, 1).unwrap();
            let net = Net::new(&mem.params);
            for p in 0..3 {
                let x = &mem.patterns[p];
                let mut th = phases(x);
                settle(&net, &b, &mut th, &r, &mut Rng::new(0));
                let d = dev(&th, x);
                assert!(
                    d < 0.1,
                    "{rule:?} pattern {p} with δω: max deviation {d} rad"
                );
                assert_eq!(&readout(&th), x);
            }
        }
    }

    #[test]
    fn pinv_recalls_three_digits_from_15_percent_corruption() {
        let o = opts();
        let mem = Memory::store(digits(3), Rule::Pinv, o.k as f32, 0.0, 1).unwrap();
        let stats = evaluate(&mem, &o.recall(), 8, 3, 7);
        for s in &stats {
            assert!(s.min_overlap >= 0.95, "{s:?}");
        }
    }

    /// Hebbian storage of random patterns: loaded at P = 0.06 N it recalls,
    /// overloaded at P = 0.5 N (far past ≈ 0.14 N) it does not.
    #[test]
    fn hebbian_overload_fails() {
        let o = opts();
        let r = Recall {
            corrupt: 0.1,
            ..o.recall()
        };
        let at = |p: usize| {
            let pats = random_patterns(64, p, &mut Rng::new(11));
            let mem = Memory::store(pats, Rule::Hebb, o.k as f32, 0.0, 2).unwrap();
            summary(&evaluate(&mem, &r, 4, 4, 3))
        };
        let light = at(4);
        let heavy = at(32);
        let (light_m, light_e) = (light.mean_overlap, light.exact_rate);
        let (heavy_m, heavy_e) = (heavy.mean_overlap, heavy.exact_rate);
        assert!(light_m >= 0.98 && light_e >= 0.75, "{light_m} {light_e}");
        assert!(heavy_m < light_m - 0.3, "{heavy_m} vs {light_m}");
        assert!(heavy_e < 0.25, "{heavy_e}");
    }

    #[test]
    fn seeded_runs_repeat() {
        let mut o = opts();
        o.noise = 0.05;
        o.dispersion = 0.02;
        let mem = Memory::store(digits(3), Rule::Pinv, o.k as f32, o.dispersion as f32, 4).unwrap();
        let r = Recall {
            settle: Settle {
                steps: 200,
                ..o.recall().settle
            },
            ..o.recall()
        };
        let a = evaluate(&mem, &r, 3, 3, 9);
        let b = evaluate(&mem, &r, 3, 3, 9);
        assert_eq!(a, b);
        let mut x = Rng::new(1);
        let mut y = Rng::new(1);
        let mut z = Rng::new(2);
        let p = &mem.patterns[0];
        assert_eq!(corrupt(p, 0.2, 0.1, &mut x), corrupt(p, 0.2, 0.1, &mut y));
        assert_ne!(corrupt(p, 0.2, 0.1, &mut x), corrupt(p, 0.2, 0.1, &mut z));
        let m2 = Memory::store(digits(3), Rule::Pinv, o.k as f32, o.dispersion as f32, 4).unwrap();
        assert_eq!(m2.params, mem.params);
    }

    #[test]
    fn options_name_bad_values() {
        let bad = |f: &dyn Fn(&mut Options)| {
            let mut o = opts();
            f(&mut o);
            format!("{:#}", o.validate().unwrap_err())
        };
        assert!(opts().validate().is_ok());
        let e = bad(&|o| o.corrupt = 0.7);
        assert!(e.contains("--corrupt 0.7") && e.contains("[0, 0.5]"), "{e}");
        let e = bad(&|o| o.k = -1.0);
        assert!(e.contains("--k -1") && e.contains("[0, 100]"), "{e}");
        let e = bad(&|o| o.eps = f64::NAN);
        assert!(e.contains("--eps NaN"), "{e}");
        let e = bad(&|o| o.trials = 0);
        assert!(e.contains("--trials 0"), "{e}");
        let e = format!(
            "{:#}",
            validate_sweep(&[64], &[0.0], Rule::Hebb).unwrap_err()
        );
        assert!(e.contains("--loads 0"), "{e}");
        let e = format!(
            "{:#}",
            validate_sweep(&[8], &[0.95], Rule::Pinv).unwrap_err()
        );
        assert!(e.contains("at most N - 1 = 7"), "{e}");
        let e = format!(
            "{:#}",
            validate_sweep(&[2], &[0.1], Rule::Hebb).unwrap_err()
        );
        assert!(e.contains("--sizes 2"), "{e}");
        assert!(Rule::parse("hebbian").is_err());
    }

    /// The digit memory of the EP tests: five digits, trained once.
    fn ep_digits() -> &'static (Memory, Vec<EpEpoch>) {
        static MEM: std::sync::OnceLock<(Memory, Vec<EpEpoch>)> = std::sync::OnceLock::new();
        MEM.get_or_init(|| {
            let mut o = opts();
            o.rule = Rule::Ep;
            o.ep.epochs = 60;
            o.ep.corrupt = 0.15;
            Memory::train(digits(5), &o, 3).unwrap()
        })
    }

    /// EP stores five digits (zero start, 60 epochs from 15% corrupted
    /// starts) and recalls them from 15% corruption: measured mean overlap
    /// 0.99 and 80% exact recall; asserted with a margin.
    #[test]
    fn ep_recalls_five_digits_from_15_percent_corruption() {
        let (mem, log) = ep_digits();
        assert_eq!(mem.rule, Rule::Ep);
        assert_eq!(log.len(), 60);
        // training helped: the last epochs' free phases beat the first's
        let first = log[0].free_overlap;
        let late = log[50..].iter().map(|e| e.free_overlap).sum::<f64>() / 10.0;
        assert!(late > first + 0.2, "{first} -> {late}");
        let r = Recall {
            corrupt: 0.15,
            ..opts().recall()
        };
        let m = summary(&evaluate(mem, &r, 10, 5, 21));
        assert!(m.mean_overlap >= 0.97 && m.exact_rate >= 0.6, "{m:?}");
        assert!(m.mean_abs_sin < 0.01, "{m:?}");
    }

    /// The digits are correlated: the Hebbian rule falls into spurious
    /// states (mean overlap about 0.7, exact recall about 10%) where EP
    /// recalls them. 50 trials: the margins are far beyond chance.
    #[test]
    fn ep_beats_hebbian_on_correlated_digits() {
        let (mem, _) = ep_digits();
        let hebb = Memory::store(digits(5), Rule::Hebb, 0.2, 0.0, 3).unwrap();
        let r = Recall {
            corrupt: 0.15,
            ..opts().recall()
        };
        let e = summary(&evaluate(mem, &r, 10, 5, 22));
        let h = summary(&evaluate(&hebb, &r, 10, 5, 22));
        assert!(
            e.mean_overlap >= h.mean_overlap + 0.2,
            "ep {e:?} hebb {h:?}"
        );
        assert!(e.exact_rate >= h.exact_rate + 0.4, "ep {e:?} hebb {h:?}");
    }

    /// EP training is a function of the seed: the same couplings with one
    /// thread or several, others with another seed.
    #[test]
    fn ep_training_repeats_for_any_thread_count() {
        let mut o = opts();
        o.rule = Rule::Ep;
        o.ep.epochs = 4;
        o.ep.starts = 2;
        o.ep.symmetric = true;
        let pats = digits(3);
        let run = |threads: usize, seed: u64| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| train_ep(&pats, &o, seed).unwrap())
        };
        let (w1, log1) = run(1, 5);
        let (w3, log3) = run(3, 5);
        assert_eq!(w1, w3);
        assert_eq!(log1, log3);
        assert!(w1.iter().any(|&w| w != 0.0), "the updates moved W");
        let (w_other, _) = run(2, 6);
        assert_ne!(w1, w_other);
    }

    #[test]
    fn ep_options_name_bad_values() {
        let bad = |f: &dyn Fn(&mut EpOptions)| {
            let mut o = opts();
            f(&mut o.ep);
            format!("{:#}", o.validate().unwrap_err())
        };
        let e = bad(&|o| o.beta = 0.0);
        assert!(e.contains("--ep-beta 0") && e.contains("(0, 10]"), "{e}");
        let e = bad(&|o| o.eta = Some(-1.0));
        assert!(e.contains("--ep-eta -1"), "{e}");
        let e = bad(&|o| o.epochs = 200_000);
        assert!(e.contains("--ep-epochs 200000"), "{e}");
        let e = bad(&|o| o.k = f64::NAN);
        assert!(e.contains("--ep-k NaN"), "{e}");
        let e = bad(&|o| o.nudge_steps = 0);
        assert!(e.contains("--ep-nudge-steps 0"), "{e}");
        let e = bad(&|o| o.starts = 0);
        assert!(e.contains("--ep-starts 0"), "{e}");
        let e = bad(&|o| o.corrupt = 0.6);
        assert!(e.contains("--ep-corrupt 0.6"), "{e}");
        assert!(EpInit::parse("random").is_err());
        let e = format!(
            "{:#}",
            Memory::store(digits(2), Rule::Ep, 0.2, 0.0, 1).unwrap_err()
        );
        assert!(e.contains("Memory::train"), "{e}");
    }
}
