//! The bit-exact integer model of the generated hardware: the oracle that the
//! Verilated RTL and the synthesized netlist must match at every step.
//!
//! Deliberately plain integer code. Every operation below is written the way
//! docs/hardware.md states it and the generator (phasegen-hdl `core`) builds it.
//!
//! Scales: parameters (h, K, β) are signed `weight_bits` integers at
//! `2^frac`, the coupling weights W at `2^w_frac` and the input weights U at
//! `2^u_frac` (both `>= frac`: each group gets the fraction bits its own
//! range allows); the sine table has amplitude `A = 2^(S-1) - 1`; inputs are
//! `input_bits` unsigned integers at `2^input_bits`.

use crate::onn::net::Topology;
use crate::twin::qformat::{clog2, round_shift, sat, wrap};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Integer formats of one design (all derived from the config and the
/// quantizer; see docs/hardware.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formats {
    /// P: phase bits.
    pub phase_bits: u32,
    /// L: log2 of the table length.
    pub table_bits: u32,
    /// S: table amplitude bits (signed).
    pub amp_bits: u32,
    /// Parameter bits (signed) and their fractional bits.
    pub weight_bits: u32,
    pub frac: u32,
    /// Fraction bits of the coupling weights W (`>= frac`).
    pub w_frac: u32,
    /// Fraction bits of the input weights U (`>= frac`).
    pub u_frac: u32,
    /// Input bits (unsigned).
    pub input_bits: u32,
    /// D: saturation width of the drive multiplier's parameter-side operands.
    pub drive_bits: u32,
    /// The Euler step as a right shift of the drive.
    pub step_shift: u32,
}

impl Formats {
    /// Table amplitude `A = 2^(S-1) - 1`.
    pub fn amp(&self) -> i64 {
        (1i64 << (self.amp_bits - 1)) - 1
    }

    /// The table index of a phase: its top `L` bits.
    pub fn index(&self, theta: u64) -> usize {
        (theta >> (self.phase_bits - self.table_bits)) as usize
    }

    /// Quarter turn in table entries.
    pub fn quarter(&self) -> usize {
        1 << (self.table_bits - 2)
    }

    /// Effective Euler step of the hardware in the float model's time units:
    /// `ε = 2π · 2^(frac + S - 1) / 2^(P + step_shift)`.
    pub fn eps(&self) -> f64 {
        2.0 * std::f64::consts::PI * 2f64.powi(self.frac as i32 + self.amp_bits as i32 - 1)
            / 2f64.powi((self.phase_bits + self.step_shift) as i32)
    }

    /// Width of the coupling accumulators: `weight_bits + amp_bits` for one
    /// product plus enough carry bits for `max_degree` terms.
    pub fn acc_bits(&self, max_degree: usize) -> u32 {
        self.weight_bits + self.amp_bits + clog2(max_degree as u64 + 1)
    }

    /// U's extra fraction bits over the other parameters' (`u_frac - frac`).
    pub fn u_shift(&self) -> u32 {
        self.u_frac - self.frac
    }

    /// The coupling sums' rounding shift: the table's scale and W's extra
    /// fraction bits (`S - 1 + w_frac - frac`).
    pub fn coupling_shift(&self) -> u32 {
        self.amp_bits - 1 + self.w_frac - self.frac
    }

    /// The field's rounding shift: the inputs' bits and U's extra fraction.
    pub fn field_shift(&self) -> u32 {
        self.input_bits + self.u_shift()
    }

    /// Width of the field accumulator: `(h << field_shift) + Σ U x`.
    pub fn field_acc_bits(&self, inputs: usize) -> u32 {
        self.weight_bits + self.field_shift() + 1 + clog2(inputs as u64 + 1)
    }

    /// Width of the drive sum: six products of `D + S + 1` bits (seven
    /// terms with the harmonics' term, which is saturated to that width).
    pub fn drive_acc_bits(&self) -> u32 {
        self.drive_bits + self.amp_bits + 1 + 3
    }

    /// Width of one harmonic's rotation `t_n = s_n cos nθ_i − c_n sin nθ_i`:
    /// two products of `D + S` bits.
    pub fn harm_t_bits(&self) -> u32 {
        self.drive_bits + self.amp_bits + 1
    }

    /// Width of the harmonics' exact sum `Σ_n a_n t_n` over `count` terms.
    pub fn harm_acc_bits(&self, count: usize) -> u32 {
        self.weight_bits + self.harm_t_bits() + clog2(count as u64)
    }

    /// `n θ mod 2^P`: the phase whose table entry is `sin nθ`.
    pub fn times(&self, theta: u64, n: usize) -> u64 {
        theta.wrapping_mul(n as u64) & ((1u64 << self.phase_bits) - 1)
    }
}

/// The sine table: `round(A sin(2π k / 2^L))`, `k = 0 .. 2^L - 1`.
pub fn sin_table(f: &Formats) -> Vec<i64> {
    let n = 1usize << f.table_bits;
    let a = f.amp() as f64;
    (0..n)
        .map(|k| (a * (2.0 * std::f64::consts::PI * k as f64 / n as f64).sin()).round() as i64)
        .collect()
}

// ---- on-chip learning's settings (the step itself: crate::twin::learn) ----

/// A learning rate in integer units: `Δshadow = round_shift(m · d, shift)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub mult: i64,
    pub shift: u32,
}

/// How the small updates reach the low-precision parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rounding {
    /// Shadow parameters with `shadow_bits` more fraction bits (0: the
    /// update rounded to the parameter's own precision).
    Shadow,
    /// No shadow: the update plus `shadow_bits` LFSR bits, floor-shifted.
    Stochastic,
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

/// What the learning step needs besides the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnSpec {
    /// Nudge in the parameter format (`> 0`).
    pub beta: i64,
    pub symmetric: bool,
    pub t1: u32,
    pub t2: u32,
    pub shadow_bits: u32,
    pub rounding: Rounding,
    pub w: Rate,
    pub u: Rate,
    pub h: Rate,
    /// Samples the design's sample store holds (`hardware.store`; 0: none;
    /// left out of the serialized model then, so model hashes keep).
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub store: usize,
    /// `hardware.nudge = "pattern"`: a memory's step (`LearnPattern`):
    /// every oscillator is nudged towards its bit of the pattern by the
    /// field `β t_i` (the cost `Σ (1 − t_i cos θ_i)`), the pattern's sign
    /// taken from the free state, and only W is learned
    /// ([`crate::twin::learn`]). Left out of the serialized model when
    /// false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pattern: bool,
}

/// Significant bits of a learning-rate multiplier `m` (unsigned).
pub const RATE_BITS: u32 = 10;

impl Rate {
    /// The rate nearest `g` (the update per unit of `d`, in shadow units)
    /// with a [`RATE_BITS`]-bit multiplier; `what` names the rate in errors.
    pub fn of(g: f64, what: &str) -> Result<Rate> {
        if !(g.is_finite() && g > 0.0) {
            bail!("{what}: the learning rate must be positive and finite, not {g}");
        }
        // the largest shift with m < 2^RATE_BITS
        let shift = (RATE_BITS as f64 - g.log2()).floor();
        if shift < 1.0 {
            bail!("{what}: the learning rate is {g:.3e} shadow units per step of d, too large for a {RATE_BITS}-bit multiplier; lower it (train.lr, train.lr_bias) or raise train.beta");
        }
        if shift > 62.0 {
            bail!("{what}: the learning rate {g:.3e} is below what the shadow weights can hold; raise it or hardware.shadow_bits");
        }
        let shift = shift as u32;
        let mult = (g * 2f64.powi(shift as i32)).round() as i64;
        Ok(if mult == 1 << RATE_BITS {
            Rate {
                mult: mult / 2,
                shift: shift - 1,
            }
        } else {
            Rate { mult, shift }
        })
    }

    pub fn value(&self) -> f64 {
        self.mult as f64 / 2f64.powi(self.shift as i32)
    }
}

impl LearnSpec {
    /// The rates of learning rates `lr` (W, U) and `lr_bias` (h) for `hw`'s
    /// formats: with `β' = β` (one-sided) or `2β` (symmetric) and the
    /// table amplitude `A`, `W` moves `lr/β' · d/A` per sample
    /// (`2^(w_frac + shadow_bits)` shadow units per unit), `U` moves
    /// `lr/β' · d/(A 2^B)` and `h` `lr_bias/β' · d/A`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        f: &Formats,
        beta: i64,
        symmetric: bool,
        t1: u32,
        t2: u32,
        lr: f64,
        lr_bias: f64,
        shadow_bits: u32,
        rounding: Rounding,
    ) -> Result<LearnSpec> {
        if beta <= 0 {
            bail!("on-chip learning nudges with β > 0 (the sign is the variant's): β = {beta} in the parameter format");
        }
        if shadow_bits > 24 {
            bail!("shadow bits = {shadow_bits}: give 0 to 24");
        }
        if t1 == 0 || t2 == 0 {
            bail!("on-chip learning needs t1 >= 1 and t2 >= 1 steps (t1 = {t1}, t2 = {t2})");
        }
        let bq = beta as f64 / 2f64.powi(f.frac as i32);
        let den = if symmetric { 2.0 * bq } else { bq };
        let a = f.amp() as f64;
        let sc = |frac: u32| 2f64.powi((frac + shadow_bits) as i32);
        Ok(LearnSpec {
            beta,
            symmetric,
            t1,
            t2,
            shadow_bits,
            rounding,
            w: Rate::of(lr / den * sc(f.w_frac) / a, "the W rate (train.lr)")?,
            u: Rate::of(
                lr / den * sc(f.u_frac) / (a * 2f64.powi(f.input_bits as i32)),
                "the U rate (train.lr)",
            )?,
            h: Rate::of(lr_bias / den * sc(f.frac) / a, "the h rate (train.lr_bias)")?,
            store: 0,
            pattern: false,
        })
    }
}

/// Everything the hardware stores: the quantized network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HwModel {
    pub topo: Topology,
    pub fmt: Formats,
    /// Per oscillator, its neighbours `(j, W_ij)` in ascending `j`: the CSR
    /// rows streamed by the coupling loop.
    pub rows: Vec<Vec<(usize, i64)>>,
    /// Input weights, row-major over the input layer.
    pub u: Vec<i64>,
    pub h: Vec<i64>,
    pub k: Vec<i64>,
    /// Per-step phase increment of the detuning `δω_i`, in phase units (the
    /// oscillator's advance relative to the reference).
    pub omega: Vec<i64>,
    /// Per-step advance of the reference (and of every oscillator) in the
    /// absolute frame, `ω0`, in phase units.
    #[serde(default)]
    pub omega0: i64,
    /// Oscillators on the pins (`o_osc`): `pins` of them from `pin_first`.
    #[serde(default)]
    pub pin_first: usize,
    #[serde(default)]
    pub pins: usize,
    /// U lives in RAM the host fills at run time (`hardware.u_memory`).
    #[serde(default)]
    pub u_in_ram: bool,
    /// W, the per-oscillator constants and U are writable RAMs
    /// (`hardware.params = "ram"`); U keeps the trained model at power-up
    /// unless `u_in_ram` (then nothing fills it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub params_in_ram: bool,
    /// W lives in one RAM the host fills at run time (`hardware.w_memory`;
    /// SPRAM on a UP5K): nothing fills it at power-up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub w_in_ram: bool,
    /// The target has SPRAM (a UP5K): the memories the host fills (U, W in
    /// RAM) are generated for it.
    #[serde(default)]
    pub spram: bool,
    /// The coupling stream reads each pair's weight once
    /// (`hardware.coupling = "pairs"`, [`crate::twin::pairs`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pairs: bool,
    /// `pg_top` takes its requests on AXI4-Stream byte ports, not the UART
    /// (`hardware.interface = "axis"`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub axis: bool,
    /// The coupling's extra odd harmonics `a_2, a_3, …` of
    /// `H(ψ) = sin ψ + Σ_{n≥2} a_n sin nψ` (`train.harmonics`): entry `k` is
    /// `a_{k+2}` as a `weight_bits` signed integer at `2^-harm_frac`, trailing
    /// zeros dropped. Empty for `H = sin ψ` (then nothing below changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub harmonics: Vec<i64>,
    /// Fraction bits of [`HwModel::harmonics`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub harm_frac: u32,
    /// Initial phases.
    pub theta0: Vec<u64>,
    /// Pixel value that maps to the top of the input range (from the data set).
    pub max_pixel: u8,
    /// Steps of one inference.
    pub steps: u32,
    /// Parallel multiply-accumulate lanes of the coupling and field loops
    /// (a property of the datapath; the arithmetic does not depend on it).
    #[serde(default = "one_lane")]
    pub lanes: u32,
    /// On-chip learning (`hardware.learning = "ep"`): how the design learns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learn: Option<LearnSpec>,
    /// On-chip Hebbian imprinting (`hardware.learning = "hebbian"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hebb: Option<HebbSpec>,
}

/// How a Hebbian memory imprints a pattern (sim/src/twin/hebb.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HebbSpec {
    /// LSBs of W per pattern and pair: `round(2^w_frac / N)`, at least 1.
    pub step: i64,
}

impl HebbSpec {
    /// The step of `n` oscillators at W's format: `1/N` of a unit.
    pub fn new(f: &Formats, n: usize) -> HebbSpec {
        let step = (2f64.powi(f.w_frac as i32) / n.max(1) as f64).round() as i64;
        HebbSpec { step: step.max(1) }
    }
}

fn one_lane() -> u32 {
    1
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl HwModel {
    pub fn n(&self) -> usize {
        self.topo.n()
    }

    pub fn nnz(&self) -> usize {
        self.rows.iter().map(|r| r.len()).sum()
    }

    pub fn max_degree(&self) -> usize {
        self.rows.iter().map(|r| r.len()).max().unwrap_or(0)
    }

    /// A pixel as the device's input integer: `round(p (2^B - 1) / max_pixel)`.
    pub fn input_of_pixel(&self, p: u8) -> u64 {
        let top = (1u64 << self.fmt.input_bits) - 1;
        let m = self.max_pixel.max(1) as u64;
        let p = (p as u64).min(m);
        (p * top * 2 + m) / (2 * m)
    }

    pub fn inputs_of_image(&self, img: &[u8]) -> Vec<u64> {
        img.iter().map(|&p| self.input_of_pixel(p)).collect()
    }

    /// The harmonics the hardware computes: `(n, a_n)` for every non-zero
    /// quantized coefficient, ascending `n`.
    pub fn harmonic_terms(&self) -> Vec<(usize, i64)> {
        self.harmonics
            .iter()
            .enumerate()
            .filter(|&(_, &a)| a != 0)
            .map(|(k, &a)| (k + 2, a))
            .collect()
    }
}

/// What the device holds while it runs: phases, the field, the nudge.
///
/// The device's phase accumulators run in the absolute frame: oscillator `i`
/// holds `θ_i^abs = ψ_i + φ`, where `φ` is the phase of the reference
/// oscillator, which advances by `ω0` every step as every oscillator does.
/// Everything the dynamics look up is relative to the reference (`ψ_i =
/// θ_i^abs − φ`, see docs/hardware.md), so the twin keeps `ψ` (`theta`) and
/// `φ` (`phi`) separately; [`Twin::abs_phase`] is what the accumulators hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Twin<'a> {
    pub m: &'a HwModel,
    pub sin: Vec<i64>,
    /// Phases relative to the reference, `ψ_i` (what `ReadPhases` returns).
    pub theta: Vec<u64>,
    /// The reference's phase `φ` in the absolute frame.
    pub phi: u64,
    pub field: Vec<i64>,
    pub beta: i64,
    /// Per output: `true` for target +1 (the label), `false` for -1.
    pub target: Vec<bool>,
    /// The nudge is a memory's field (`LearnSpec::pattern`).
    pub pattern_nudge: bool,
}

impl<'a> Twin<'a> {
    pub fn new(m: &'a HwModel) -> Twin<'a> {
        Twin {
            m,
            sin: sin_table(&m.fmt),
            theta: m.theta0.clone(),
            phi: 0,
            field: m.h.clone(),
            beta: 0,
            target: vec![false; m.topo.classes()],
            pattern_nudge: m.learn.as_ref().is_some_and(|l| l.pattern),
        }
    }

    pub fn sin_of(&self, theta: u64) -> i64 {
        self.sin[self.m.fmt.index(theta)]
    }

    pub fn cos_of(&self, theta: u64) -> i64 {
        let f = &self.m.fmt;
        self.sin[(f.index(theta) + f.quarter()) & ((1 << f.table_bits) - 1)]
    }

    /// sin 2θ: the table at the top bits of `2θ mod 2^P`.
    pub fn sin2_of(&self, theta: u64) -> i64 {
        let f = &self.m.fmt;
        self.sin[f.index(wrap((theta << 1) as i64, f.phase_bits))]
    }

    /// sin nθ: the table at the top bits of `nθ mod 2^P`.
    pub fn sin_n_of(&self, theta: u64, n: usize) -> i64 {
        self.sin_of(self.m.fmt.times(theta, n))
    }

    /// cos nθ: the table a quarter turn on from `nθ mod 2^P`'s index.
    pub fn cos_n_of(&self, theta: u64, n: usize) -> i64 {
        self.cos_of(self.m.fmt.times(theta, n))
    }

    /// The harmonics' term of oscillator `i`'s drive, at the drive's scale
    /// `2^(frac + S - 1)` (docs/hardware.md), from the step's old phases:
    /// per harmonic `n` the exact sums `C_n = Σ_j W_ij cos nθ_j`,
    /// `S_n = Σ_j W_ij sin nθ_j`, rounded like the first harmonic's
    /// (`c_n = sat_D(round_shift(C_n, S'))`, `s_n` likewise), the exact
    /// rotation `t_n = s_n cos nθ_i − c_n sin nθ_i`
    /// (`= Σ_j W_ij sin n(θ_j − θ_i)` up to the roundings), then
    /// `sat_{D+S+1}(round_shift(Σ_n a_n t_n, harm_frac))`. 0 without harmonics.
    pub fn harmonic_drive(&self, i: usize) -> i64 {
        let m = self.m;
        let f = &m.fmt;
        let terms = m.harmonic_terms();
        if terms.is_empty() {
            return 0;
        }
        let mut acc = 0i64;
        for (n, a) in terms {
            let (mut acc_c, mut acc_s) = (0i64, 0i64);
            for &(j, w) in &m.rows[i] {
                acc_c += w * self.cos_n_of(self.theta[j], n);
                acc_s += w * self.sin_n_of(self.theta[j], n);
            }
            let c = sat(round_shift(acc_c, f.coupling_shift()), f.drive_bits);
            let s = sat(round_shift(acc_s, f.coupling_shift()), f.drive_bits);
            let th = self.theta[i];
            let t = s * self.cos_n_of(th, n) - c * self.sin_n_of(th, n);
            acc += a * t;
        }
        sat(round_shift(acc, m.harm_frac), f.harm_t_bits())
    }

    /// The absolute phase of oscillator `i`: `wrap(ψ_i + φ)`, what its
    /// phase accumulator holds.
    pub fn abs_phase(&self, i: usize) -> u64 {
        wrap((self.theta[i] + self.phi) as i64, self.m.fmt.phase_bits)
    }

    /// What `o_osc` shows: bit `k` is the top bit of the absolute phase of
    /// oscillator `pin_first + k`.
    pub fn pins(&self) -> u64 {
        let top = self.m.fmt.phase_bits - 1;
        (0..self.m.pins).fold(0, |acc, k| {
            acc | ((self.abs_phase(self.m.pin_first + k) >> top) << k)
        })
    }

    /// Start a sample: phases back to `theta0` (and the reference to 0), and the input field
    /// `b_i = sat_D(round_shift((h_i << B') + Σ_k U_ik x_k, B'))` for the
    /// input layer, `B' = input_bits + u_frac - frac` (`b_i = h_i` elsewhere).
    pub fn load_input(&mut self, x: &[u64]) {
        let m = self.m;
        let f = &m.fmt;
        assert_eq!(x.len(), m.topo.inputs, "input length");
        self.theta = m.theta0.clone();
        self.phi = 0;
        let ni = m.topo.inputs;
        for i in 0..m.n() {
            self.field[i] = if m.topo.input_layer().contains(&i) {
                let mut acc = m.h[i] << f.field_shift();
                for (k, &xk) in x.iter().enumerate() {
                    acc += m.u[i * ni + k] * xk as i64;
                }
                sat(round_shift(acc, f.field_shift()), f.drive_bits)
            } else {
                m.h[i]
            };
        }
    }

    /// Set the nudge for the following steps: `beta = 0` is the free phase.
    pub fn set_nudge(&mut self, beta: i64, label: Option<usize>) {
        self.beta = beta;
        for (o, t) in self.target.iter_mut().enumerate() {
            *t = Some(o) == label;
        }
    }

    /// A nudge at `beta` towards the targets `t` (`true`: +1), one per
    /// output.
    pub fn set_nudge_targets(&mut self, beta: i64, t: &[bool]) {
        assert_eq!(t.len(), self.target.len(), "one target per output");
        self.beta = beta;
        self.target.copy_from_slice(t);
    }

    /// The table's cos and sin of every phase: the look-ups of a step.
    pub fn lookups(&self) -> (Vec<i64>, Vec<i64>) {
        self.theta
            .iter()
            .map(|&t| (self.cos_of(t), self.sin_of(t)))
            .unzip()
    }

    /// The drive of oscillator `i` (before the step shift), at scale
    /// `2^(frac + S - 1)`.
    pub fn drive(&self, i: usize) -> i64 {
        let (cos, sin) = self.lookups();
        self.drive_with(i, &cos, &sin)
    }

    /// [`Twin::drive`] with the step's look-ups (`cos[j]`, `sin[j]` the
    /// table at `θ_j`, from [`Twin::lookups`]).
    pub fn drive_with(&self, i: usize, cos: &[i64], sin: &[i64]) -> i64 {
        let m = self.m;
        let f = &m.fmt;
        let d = f.drive_bits;
        let th = self.theta[i];
        let (s_i, c_i, s2_i) = (sin[i], cos[i], self.sin2_of(th));
        // coupling sums at 2^(w_frac + S - 1), exact
        let (mut acc_c, mut acc_s) = (0i64, 0i64);
        for &(j, w) in &m.rows[i] {
            acc_c += w * cos[j];
            acc_s += w * sin[j];
        }
        let c = sat(round_shift(acc_c, f.coupling_shift()), d);
        let s = sat(round_shift(acc_s, f.coupling_shift()), d);
        // −∂E/∂θ_i = −sinθ_i Σ W cosθ_j + cosθ_i Σ W sinθ_j − b_i sinθ_i − K_i sin2θ_i
        let mut drive = -c * s_i + s * c_i - self.field[i] * s_i - m.k[i] * s2_i;
        let outs = m.topo.outputs();
        if outs.contains(&i) {
            // nudge β (cosθ_o − t_o) sinθ_o, t_o = ±A; a memory's pattern
            // nudge is the field β t_o: −β t_o sinθ_o (no cosθ_o term)
            let t = if self.target[i - outs.start] {
                f.amp()
            } else {
                -f.amp()
            };
            let e = if self.pattern_nudge { 0 } else { c_i } - t;
            let g = sat(round_shift(self.beta * e, f.amp_bits - 1), d);
            drive += g * s_i;
        }
        drive + self.harmonic_drive(i)
    }

    /// One Euler step, all oscillators from the same old phases (Jacobi):
    /// `θ_i ← θ_i + sat_P(round_shift(drive_i, step_shift)) + ω0 + ω_i  (mod 2^P)`
    /// in the absolute frame, `φ ← φ + ω0`; relative to the reference,
    /// `ψ_i ← ψ_i + sat_P(round_shift(drive_i, step_shift)) + ω_i`.
    pub fn step(&mut self) {
        let f = self.m.fmt;
        let (cos, sin) = self.lookups();
        let new: Vec<u64> = (0..self.m.n())
            .map(|i| {
                let delta = sat(
                    round_shift(self.drive_with(i, &cos, &sin), f.step_shift),
                    f.phase_bits,
                );
                wrap(self.theta[i] as i64 + delta + self.m.omega[i], f.phase_bits)
            })
            .collect();
        self.theta = new;
        self.phi = wrap(self.phi as i64 + self.m.omega0, f.phase_bits);
    }

    /// Predicted class: argmax over outputs of the table's cos θ_o; the
    /// lowest index wins a tie.
    pub fn class(&self) -> usize {
        let outs = self.m.topo.outputs();
        let mut best = 0;
        let mut best_v = i64::MIN;
        for (o, i) in outs.enumerate() {
            let v = self.cos_of(self.theta[i]);
            if v > best_v {
                best_v = v;
                best = o;
            }
        }
        best
    }

    /// Run one inference: load, settle `m.steps` free steps, classify.
    pub fn infer(&mut self, x: &[u64]) -> usize {
        self.load_input(x);
        self.set_nudge(0, None);
        for _ in 0..self.m.steps {
            self.step();
        }
        self.class()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::onn::net::Params;
    use crate::twin::quant::quantize;

    fn model(omega0: f64) -> HwModel {
        let mut c = Config::default_config();
        c.train.dispersion = 0.05;
        c.hardware.omega0 = omega0;
        quantize(&c, &Params::init(&c), 16).unwrap().0
    }

    /// The reference frame's dynamics do not depend on ω0: only φ and the
    /// absolute phases rotate.
    #[test]
    fn absolute_frame_rotates_without_changing_the_dynamics() {
        let (still, turning) = (model(0.0), model(1.0));
        assert_eq!(still.omega0, 0);
        assert!(turning.omega0 > 0);
        let x: Vec<u64> = (0..64).map(|k| k % 16).collect();
        let (mut a, mut b) = (Twin::new(&still), Twin::new(&turning));
        a.load_input(&x);
        b.load_input(&x);
        b.set_nudge(3, Some(2));
        a.set_nudge(3, Some(2));
        let mut toggles = vec![0; turning.pins];
        let mut last = b.pins();
        for t in 1..=100u64 {
            a.step();
            b.step();
            assert_eq!(a.theta, b.theta, "step {t}");
            assert_eq!(b.phi, wrap((t as i64) * turning.omega0, 16));
            for i in 0..turning.n() {
                assert_eq!(
                    b.abs_phase(i),
                    wrap((b.theta[i] + b.phi) as i64, 16),
                    "step {t}"
                );
            }
            let p = b.pins();
            for (k, tg) in toggles.iter_mut().enumerate() {
                *tg += ((p ^ last) >> k & 1) as usize;
            }
            last = p;
        }
        // about 4 % of a turn per step: every pin toggles several times
        assert!(toggles.iter().all(|&t| t >= 4), "{toggles:?}");
        assert_eq!((turning.pin_first, turning.pins), (32, 10));
        // a new sample restarts the reference with the phases
        b.load_input(&x);
        assert_eq!((b.phi, b.theta.clone()), (0, turning.theta0.clone()));
    }

    fn harmonic_model(a: &[f32]) -> (HwModel, Params) {
        let mut c = Config::default_config();
        c.train.harmonics = a.iter().map(|&v| v as f64).collect();
        let mut p = Params::init(&c);
        p.coupling = crate::onn::coupling::CouplingFn::from_train(&c.train);
        // larger couplings than the initial ones, so the terms are well above
        // the formats' resolution
        for w in p.w.iter_mut() {
            *w *= 4.0;
        }
        (quantize(&c, &p, 16).unwrap().0, p)
    }

    /// The harmonics' term against the float `Σ_j W_ij Σ_n a_n sin n(θ_j − θ_i)`
    /// (the quantized W, the float a_n) within the error the formats allow.
    #[test]
    fn harmonic_term_matches_the_float_coupling() {
        let a = [0.3f32, -0.45];
        let (hw, _) = harmonic_model(&a);
        let f = hw.fmt;
        assert_eq!(hw.harmonics.len(), 2, "{:?}", hw.harmonics);
        assert!(hw.harm_frac > 0);
        let mut t = Twin::new(&hw);
        let mut rng = crate::rng::Rng::new(7);
        let turn = 2f64.powi(f.phase_bits as i32);
        let to_rad = |v: u64| v as f64 * 2.0 * std::f64::consts::PI / turn;
        let scale = 2f64.powi((f.frac + f.amp_bits - 1) as i32);
        let (mut worst, mut biggest) = (0f64, 0f64);
        for _ in 0..20 {
            for th in t.theta.iter_mut() {
                *th = rng.uniform(0.0, turn) as u64 % (1 << f.phase_bits);
            }
            for i in 0..hw.n() {
                let mut want = 0.0;
                let mut wsum = 0.0;
                for &(j, w) in &hw.rows[i] {
                    let wf = w as f64 / 2f64.powi(f.w_frac as i32);
                    wsum += wf.abs();
                    for (k, &an) in a.iter().enumerate() {
                        let n = (k + 2) as f64;
                        want +=
                            wf * an as f64 * (n * (to_rad(t.theta[j]) - to_rad(t.theta[i]))).sin();
                    }
                }
                let got = t.harmonic_drive(i) as f64 / scale;
                // per look-up: the index's truncation (2π/2^L of nθ) and the
                // table's rounding; per sum: the rounding to 2^-frac; a_n's
                // own rounding; the final rounding
                let lut = 2.0 * std::f64::consts::PI / (1u64 << f.table_bits) as f64
                    + 0.5 / f.amp() as f64;
                let asum: f64 = a.iter().map(|&v| v.abs() as f64).sum();
                let tol = asum * (wsum * 2.0 * lut + 2.0 * 2f64.powi(-(f.frac as i32)))
                    + a.len() as f64 * 2f64.powi(-(hw.harm_frac as i32 + 1)) * wsum
                    + 1.0 / scale;
                assert!(
                    (got - want).abs() <= tol,
                    "oscillator {i}: {got} against {want} (tolerance {tol})"
                );
                worst = worst.max((got - want).abs() / tol);
                biggest = biggest.max(want.abs() / tol);
            }
        }
        // the comparison means something: the terms are many tolerances large
        assert!(biggest > 5.0, "largest term only {biggest} tolerances");
        assert!(worst < 1.0);
    }

    /// Harmonics that are all zero quantize to the plain model (same JSON,
    /// same steps); non-zero ones change the dynamics.
    #[test]
    fn plain_models_are_unchanged_by_the_harmonics() {
        let (zero, _) = harmonic_model(&[0.0, 0.0]);
        let (plain, _) = harmonic_model(&[]);
        let (harm, _) = harmonic_model(&[0.0, -0.2]);
        assert_eq!(
            serde_json::to_string(&zero).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
        assert!(!serde_json::to_string(&plain).unwrap().contains("harm"));
        assert_eq!(harm.harmonics.len(), 2);
        assert_eq!(harm.harmonic_terms().len(), 1);
        let x: Vec<u64> = (0..64).map(|k| (k * 7) % 16).collect();
        let (mut a, mut b) = (Twin::new(&plain), Twin::new(&harm));
        a.load_input(&x);
        b.load_input(&x);
        let mut differ = false;
        for _ in 0..30 {
            assert!((0..plain.n()).all(|i| a.harmonic_drive(i) == 0));
            a.step();
            b.step();
            differ |= a.theta != b.theta;
        }
        assert!(differ, "a_3 = -0.2 changed nothing");
    }

    #[test]
    fn lag_and_pairs_with_harmonics_are_refused() {
        let mut c = Config::default_config();
        c.train.alpha = 0.1;
        let mut p = Params::init(&c);
        p.coupling = crate::onn::coupling::CouplingFn::from_train(&c.train);
        let e = format!("{:#}", quantize(&c, &p, 16).unwrap_err());
        assert!(e.contains("train.alpha = 0.1"), "{e}");
        let mut c = Config::default_config();
        c.train.harmonics = vec![0.1];
        c.hardware.coupling = crate::config::Coupling::Pairs;
        let mut p = Params::init(&c);
        p.coupling = crate::onn::coupling::CouplingFn::from_train(&c.train);
        let e = format!("{:#}", quantize(&c, &p, 16).unwrap_err());
        assert!(e.contains("hardware.coupling = \"pairs\""), "{e}");
    }

    #[test]
    fn omega0_beyond_half_a_turn_is_refused() {
        let mut c = Config::default_config();
        c.hardware.omega0 = 100.0;
        let e = format!("{:#}", quantize(&c, &Params::init(&c), 16).unwrap_err());
        assert!(e.contains("hardware.omega0 = 100"), "{e}");
    }
}
