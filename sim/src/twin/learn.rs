//! On-chip Equilibrium Propagation on the integer twin: the learning step
//! a learning design runs in fabric, bit for bit (docs/learning.md).
//!
//! Per sample, with the parameters the datapath holds:
//! 1. free phase: the input field, `t1` steps from `theta0` with `β = 0`;
//!    its class is the sample's answer (training accuracy);
//! 2. nudged phase(s) from the free state: `+β` for `t2` steps, and with
//!    the symmetric variant `−β` for `t2` steps from the free state again;
//!    the reference state is the `−β` one (symmetric) or the free one;
//! 3. the update, every parameter in place, from the nudged state `+` and
//!    the reference state `−` (MODEL.md section 1):
//!    - `W_ij`: `d = c⁺_ij − c⁻_ij`, `c_ij = cos(θ_i − θ_j)` read from the
//!      sine table at the folded difference (below);
//!    - `U_ik`: `d = x_k (cos θ⁺_i − cos θ⁻_i)` (table values);
//!    - `h_i`: `d = cos θ⁺_i − cos θ⁻_i`;
//!
//!    and the parameter's **shadow** (the parameter with `shadow_bits`
//!    more fraction bits, in RAM beside the datapath's copy) gains
//!    `round_shift(m · d, r)`, saturated to its width; the datapath then
//!    reads `sat(round_shift(shadow, shadow_bits))`. `m / 2^r` is the
//!    group's learning rate `η / β'` in these integer units ([`Rate`]).
//!
//! `cos(θ_i − θ_j)` is the table's cosine at `δ = wrap(θ_i − θ_j)` folded to
//! half a turn (`δ > 2^(P−1)` becomes `2^P − δ`; cos is even, so this is
//! the same angle): `(i, j)` and `(j, i)` read the same entry and `W` stays
//! exactly symmetric, with one table read and no multiplier per pair.
//!
//! `K`, the detunings and the initial phases are not learned. The study
//! alternative to shadow weights, stochastic rounding (no shadow RAM: the
//! update at the shadow scale plus `shadow_bits` random bits from a 32-bit
//! LFSR, floor-shifted), is here too so that `phasegen learn-bench`
//! can show why the shadow weights were chosen.

use crate::onn::net::Params;
use crate::twin::model::{HwModel, Twin};
pub use crate::twin::model::{LearnSpec, Rate, Rounding, RATE_BITS};
use crate::twin::qformat::{round_shift, sat, wrap};

/// The 32-bit Galois LFSR of the stochastic rounding (taps
/// `x^32 + x^22 + x^2 + x + 1`, mask `0x8020_0003`), stepped once per bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lfsr(pub u32);

impl Lfsr {
    pub const SEED: u32 = 0xACE1_2468;

    pub fn bit(&mut self) -> u32 {
        let out = self.0 & 1;
        self.0 >>= 1;
        if out == 1 {
            self.0 ^= 0x8020_0003;
        }
        out
    }

    /// `k` bits, the first drawn the most significant.
    pub fn bits(&mut self, k: u32) -> i64 {
        (0..k).fold(0i64, |acc, _| (acc << 1) | self.bit() as i64)
    }
}

/// A learning design's parameters: the datapath's (in `hw`) and their
/// shadows.
#[derive(Debug, Clone, PartialEq)]
pub struct Learner {
    pub hw: HwModel,
    pub spec: LearnSpec,
    /// Per row of `hw.rows`, the shadows of its weights (`rows` layout).
    pub shadow_w: Vec<Vec<i64>>,
    pub shadow_u: Vec<i64>,
    pub shadow_h: Vec<i64>,
    pub lfsr: Lfsr,
}

/// The phases of one sample's learning step.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnStates {
    pub free: Vec<u64>,
    /// The `+β` state.
    pub plus: Vec<u64>,
    /// The reference state: `−β` (symmetric) or the free one.
    pub minus: Vec<u64>,
}

impl Learner {
    /// A learner powered up with `hw`'s parameters (the shadows are them
    /// with zero extra fraction bits).
    pub fn new(hw: HwModel, spec: LearnSpec) -> Learner {
        let sb = spec.shadow_bits;
        let up = |v: &i64| v << sb;
        Learner {
            shadow_w: hw
                .rows
                .iter()
                .map(|r| r.iter().map(|(_, w)| up(w)).collect())
                .collect(),
            shadow_u: hw.u.iter().map(up).collect(),
            shadow_h: hw.h.iter().map(up).collect(),
            hw,
            spec,
            lfsr: Lfsr(Lfsr::SEED),
        }
    }

    /// The states of one sample (steps 1 and 2), with the free class.
    pub fn states(&self, x: &[u64], label: usize) -> (LearnStates, usize) {
        let classes = self.hw.topo.classes();
        self.states_with(x, |tw| {
            ((0..classes).map(|o| o == label).collect(), tw.class())
        })
    }

    /// Steps 1 and 2 with the nudge's targets (one per output) and what
    /// else the step keeps taken from the free state by `after_free`.
    fn states_with<T>(
        &self,
        x: &[u64],
        after_free: impl FnOnce(&Twin) -> (Vec<bool>, T),
    ) -> (LearnStates, T) {
        let s = &self.spec;
        let mut twin = Twin::new(&self.hw);
        twin.load_input(x);
        twin.set_nudge(0, None);
        for _ in 0..s.t1 {
            twin.step();
        }
        let (t, kept) = after_free(&twin);
        let free = twin.theta.clone();
        let mut nudged = |b: i64| {
            twin.theta = free.clone();
            twin.set_nudge_targets(b, &t);
            for _ in 0..s.t2 {
                twin.step();
            }
            twin.theta.clone()
        };
        let plus = nudged(s.beta);
        let minus = if s.symmetric {
            nudged(-s.beta)
        } else {
            free.clone()
        };
        (LearnStates { free, plus, minus }, kept)
    }

    /// The table's `cos(θ_i − θ_j)` at the folded difference.
    pub fn cos_diff(&self, twin_sin: &[i64], a: u64, b: u64) -> i64 {
        let f = &self.hw.fmt;
        let d = wrap(a as i64 - b as i64, f.phase_bits);
        let half = 1u64 << (f.phase_bits - 1);
        let d = if d > half {
            (1u64 << f.phase_bits) - d
        } else {
            d
        };
        twin_sin[(f.index(d) + f.quarter()) & ((1 << f.table_bits) - 1)]
    }

    /// A shadow moved by `d` at `rate`, and the datapath's value of it.
    fn apply(
        spec: &LearnSpec,
        lfsr: &mut Lfsr,
        bits: u32,
        shadow: &mut i64,
        rate: Rate,
        d: i64,
    ) -> i64 {
        let sb = spec.shadow_bits;
        match spec.rounding {
            Rounding::Shadow => {
                *shadow = sat(*shadow + round_shift(rate.mult * d, rate.shift), bits + sb);
                sat(round_shift(*shadow, sb), bits)
            }
            Rounding::Stochastic => {
                // at the shadow scale, then down to the parameter with
                // random low bits: the datapath value is the stored one
                let fine = round_shift(rate.mult * d, rate.shift);
                let step = (fine + lfsr.bits(sb)) >> sb;
                *shadow = sat((*shadow >> sb) + step, bits) << sb;
                *shadow >> sb
            }
        }
    }

    /// Step 3 from the states `st` of the sample with inputs `x`.
    pub fn update(&mut self, x: &[u64], st: &LearnStates) {
        let tw = Twin::new(&self.hw);
        let sin = tw.sin.clone();
        let (cp, cm): (Vec<i64>, Vec<i64>) = (0..self.hw.n())
            .map(|i| (tw.cos_of(st.plus[i]), tw.cos_of(st.minus[i])))
            .unzip();
        drop(tw);
        let wb = self.hw.fmt.weight_bits;
        let spec = self.spec.clone();
        // W: with shadows every entry on its own (as the engine's words
        // hold them, each direction; equal for a symmetric W); stochastic
        // rounding once per pair (i < j), both directions set, so that
        // both get the pair's draw
        let per_pair = spec.rounding == Rounding::Stochastic;
        for i in 0..self.hw.n() {
            for e in 0..self.hw.rows[i].len() {
                let j = self.hw.rows[i][e].0;
                if per_pair && j < i {
                    continue;
                }
                let d = self.cos_diff(&sin, st.plus[i], st.plus[j])
                    - self.cos_diff(&sin, st.minus[i], st.minus[j]);
                let v = Self::apply(
                    &spec,
                    &mut self.lfsr,
                    wb,
                    &mut self.shadow_w[i][e],
                    spec.w,
                    d,
                );
                self.hw.rows[i][e].1 = v;
                if per_pair {
                    let back = self.hw.rows[j]
                        .iter()
                        .position(|t| t.0 == i)
                        .expect("W is symmetric: j's row holds i");
                    self.shadow_w[j][back] = self.shadow_w[i][e];
                    self.hw.rows[j][back].1 = v;
                }
            }
        }
        if spec.pattern {
            // a memory learns W only
            return;
        }
        // U, row-major over the input layer, and h
        let ni = self.hw.topo.inputs;
        for i in self.hw.topo.input_layer() {
            let dc = cp[i] - cm[i];
            for (k, &xk) in x.iter().enumerate() {
                let q = i * ni + k;
                let v = Self::apply(
                    &spec,
                    &mut self.lfsr,
                    wb,
                    &mut self.shadow_u[q],
                    spec.u,
                    dc * xk as i64,
                );
                self.hw.u[q] = v;
            }
        }
        for i in 0..self.hw.n() {
            let v = Self::apply(
                &spec,
                &mut self.lfsr,
                wb,
                &mut self.shadow_h[i],
                spec.h,
                cp[i] - cm[i],
            );
            self.hw.h[i] = v;
        }
    }

    /// The host writes whole words of block `b` at word `offset`
    /// (WriteWeights): the parameters they hold take the written values
    /// and their shadows those values with zero extra fraction bits, as the
    /// engine's memories do.
    pub fn host_write(&mut self, b: crate::twin::image::Block, offset: usize, bytes: &[u8]) {
        use crate::twin::image::Block;
        let sched = crate::twin::sched::Schedule::new(&self.hw);
        sched.apply(&mut self.hw, b, offset, bytes);
        let sb = self.spec.shadow_bits;
        let words = bytes.len() / sched.word_bytes(&self.hw, b);
        let ni = self.hw.topo.inputs;
        for a in offset..offset + words {
            match b {
                Block::W => {
                    let g = sched.words[..a].iter().filter(|w| w.last).count();
                    let (first, w) = (sched.groups[g].first, &sched.words[a]);
                    for l in 0..sched.lanes {
                        if w.mask >> l & 1 == 1 {
                            let i = first + l;
                            let e = self.hw.rows[i]
                                .iter()
                                .position(|t| t.0 == w.j)
                                .expect("a stream entry is a row entry");
                            self.shadow_w[i][e] = self.hw.rows[i][e].1 << sb;
                        }
                    }
                }
                Block::U => {
                    let (g, k) = (sched.field[a / sched.field_len], a % sched.field_len);
                    if k < ni {
                        for l in (0..g.rows).filter(|&l| g.first + l < self.hw.topo.layers[0]) {
                            let q = (g.first + l) * ni + k;
                            self.shadow_u[q] = self.hw.u[q] << sb;
                        }
                    }
                }
                Block::Osc => self.shadow_h[a] = self.hw.h[a] << sb,
            }
        }
    }

    /// One sample's learning step: states, update; returns the free class.
    pub fn learn(&mut self, x: &[u64], label: usize) -> usize {
        let (st, class) = self.states(x, label);
        self.update(x, &st);
        class
    }

    /// The states of a memory's step (`LearnPattern`, [`LearnSpec::pattern`])
    /// towards `pattern` (`true`: `ξ_i = +1`), with the inputs `x` the
    /// device holds, and the free state's agreement `m` ([`agreement`]).
    /// The nudge is one-sided or symmetric as for a class; its targets are
    /// `t = σ ξ` with `σ = +1` when `m ≥ 0`, else `−1`: `ξ` and `−ξ` are
    /// the same memory, so a free state nearer `−ξ` is pulled to `−ξ`.
    pub fn pattern_states(&self, x: &[u64], pattern: &[bool]) -> (LearnStates, i64) {
        assert!(
            self.spec.pattern,
            "a pattern step needs hardware.nudge = \"pattern\""
        );
        let bits = self.hw.fmt.phase_bits;
        self.states_with(x, |tw| {
            let m = agreement(&tw.theta, pattern, bits);
            (pattern.iter().map(|&p| p == (m >= 0)).collect(), m)
        })
    }

    /// A memory's learning step towards `pattern`: states, update of W;
    /// returns the free state's agreement `m`.
    pub fn learn_pattern(&mut self, x: &[u64], pattern: &[bool]) -> i64 {
        let (st, m) = self.pattern_states(x, pattern);
        self.update(x, &st);
        m
    }

    /// The learned parameters as a float model ([`learned_params`]).
    pub fn params(&self, init: &Params) -> Params {
        learned_params(&self.hw, init)
    }
}

/// The readout of phase `psi` (`P` bits, relative to the reference): `+1`
/// when `cos ψ ≥ 0` by its two top bits (`ψ` in `[−π/2, π/2)`: the bits
/// equal), else `−1`.
pub fn readout(psi: u64, phase_bits: u32) -> i64 {
    let (hi, lo) = (psi >> (phase_bits - 1) & 1, psi >> (phase_bits - 2) & 1);
    if hi == lo {
        1
    } else {
        -1
    }
}

/// A state's agreement with a pattern: `m = Σ_i ξ_i s_i` over the
/// oscillators, `s_i` the [`readout`] (`N` when the state is the pattern,
/// `−N` when it is its negative).
pub fn agreement(theta: &[u64], pattern: &[bool], phase_bits: u32) -> i64 {
    theta
        .iter()
        .zip(pattern)
        .map(|(&t, &p)| if p { 1 } else { -1 } * readout(t, phase_bits))
        .sum()
}

/// The parameters `hw` holds as a float model (each integer at its
/// format's scale; quantized again with the same pinned formats they give
/// these integers back), the rest of `init` kept.
pub fn learned_params(hw: &HwModel, init: &Params) -> Params {
    let f = &hw.fmt;
    let sc = |v: i64, frac: u32| (v as f64 / 2f64.powi(frac as i32)) as f32;
    let mut p = init.clone();
    let edges = p.topo.edges();
    for (e, &(i, j)) in edges.iter().enumerate() {
        let w = hw.rows[i]
            .iter()
            .find(|&&(k, _)| k == j)
            .map_or(0, |&(_, w)| w);
        p.w[e] = sc(w, f.w_frac);
    }
    // the quantizer folds the input gain 2^B / (2^B − 1) into U
    let top = 2f64.powi(f.input_bits as i32);
    for (q, &u) in hw.u.iter().enumerate() {
        p.u[q] = (u as f64 / 2f64.powi(f.u_frac as i32) * (top - 1.0) / top) as f32;
    }
    for (i, &h) in hw.h.iter().enumerate() {
        p.h[i] = sc(h, f.frac);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::twin::quant::quantize;

    fn model() -> (Config, Params, HwModel) {
        let mut c = Config::parse(
            "name='l'\n[network]\ninputs=16\nlayers=[8,4]\n[hardware]\nweight_frac=4\nw_frac=5\nu_frac=7\n",
            "t",
        )
        .unwrap();
        c.train.seed = 3;
        let p = Params::init(&c);
        let hw = quantize(&c, &p, 16).unwrap().0;
        (c, p, hw)
    }

    fn spec(hw: &HwModel, sb: u32, r: Rounding) -> LearnSpec {
        LearnSpec::new(&hw.fmt, 16, true, 20, 8, 0.05, 0.05, sb, r).unwrap()
    }

    fn x(s: u64) -> Vec<u64> {
        (0..16).map(|k| (k * 7 + s * 3) % 16).collect()
    }

    #[test]
    fn rates_hold_the_learning_rate_to_their_precision() {
        for g in [1e-4, 0.0123, 0.9, 300.0] {
            let r = Rate::of(g, "t").unwrap();
            assert!(
                r.mult < 1 << RATE_BITS && r.mult >= 1 << (RATE_BITS - 1),
                "{r:?}"
            );
            assert!((r.value() / g - 1.0).abs() < 2f64.powi(-(RATE_BITS as i32 - 1)));
        }
        let e = Rate::of(5000.0, "the W rate (train.lr)")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the W rate (train.lr)") && e.contains("lower it"),
            "{e}"
        );
        assert!(Rate::of(0.0, "t").is_err() && Rate::of(f64::NAN, "t").is_err());
    }

    #[test]
    fn the_folded_cosine_is_symmetric_and_the_cosine() {
        let (_, _, hw) = model();
        let l = Learner::new(hw.clone(), spec(&hw, 8, Rounding::Shadow));
        let tw = Twin::new(&hw);
        let a = hw.fmt.amp() as f64;
        let mut r = crate::rng::Rng::new(5);
        for _ in 0..2000 {
            let (p, q) = (r.below(1 << 16), r.below(1 << 16));
            let c = l.cos_diff(&tw.sin, p, q);
            assert_eq!(c, l.cos_diff(&tw.sin, q, p));
            let ang = (p as f64 - q as f64) / 65536.0 * std::f64::consts::TAU;
            // one table step of 2π/2^L at most
            assert!((c as f64 / a - ang.cos()).abs() < 0.025, "{p} {q} {c}");
        }
    }

    /// The update is EP's: W moves towards the nudged correlations, stays
    /// symmetric, and the datapath holds the rounded shadows.
    #[test]
    fn one_step_moves_every_group_and_keeps_w_symmetric() {
        let (_, _, hw) = model();
        let mut l = Learner::new(hw.clone(), spec(&hw, 8, Rounding::Shadow));
        for s in 0..20 {
            l.learn(&x(s), (s % 4) as usize);
        }
        let sb = l.spec.shadow_bits;
        let mut moved = 0;
        for i in 0..hw.n() {
            for (e, &(j, w)) in l.hw.rows[i].iter().enumerate() {
                let back = l.hw.rows[j].iter().find(|t| t.0 == i).unwrap().1;
                assert_eq!(w, back, "W[{i}][{j}] symmetric");
                assert_eq!(w, sat(round_shift(l.shadow_w[i][e], sb), 8));
                moved += (l.shadow_w[i][e] != hw.rows[i][e].1 << sb) as usize;
            }
        }
        assert!(moved > hw.nnz() / 2, "{moved} of {}", hw.nnz());
        assert_ne!(l.hw.u, hw.u);
        assert_ne!(l.hw.h, hw.h);
        // stochastic rounding draws once per pair: W stays symmetric too
        let mut st = Learner::new(hw.clone(), spec(&hw, 8, Rounding::Stochastic));
        for s in 0..20 {
            st.learn(&x(s), (s % 4) as usize);
        }
        for i in 0..hw.n() {
            for &(j, w) in &st.hw.rows[i] {
                assert_eq!(w, st.hw.rows[j].iter().find(|t| t.0 == i).unwrap().1);
            }
        }
        assert_ne!(st.hw.rows, l.hw.rows);
        // the same samples again: the same bits (deterministic)
        let mut again = Learner::new(hw.clone(), spec(&hw, 8, Rounding::Shadow));
        for s in 0..20 {
            again.learn(&x(s), (s % 4) as usize);
        }
        assert_eq!(again, l);
    }

    /// With no nudge difference nothing moves; one output's nudge moves its
    /// correlations the way the gradient says (the label output is pulled
    /// to cos θ = +1, the field h of the label rises).
    #[test]
    fn the_update_follows_the_nudge() {
        let (_, _, hw) = model();
        let mut l = Learner::new(hw.clone(), spec(&hw, 10, Rounding::Shadow));
        let (st, _) = l.states(&x(1), 2);
        let same = LearnStates {
            free: st.free.clone(),
            plus: st.free.clone(),
            minus: st.free.clone(),
        };
        let before = l.clone();
        l.update(&x(1), &same);
        assert_eq!(l.shadow_w, before.shadow_w);
        assert_eq!(l.shadow_h, before.shadow_h);
        l.update(&x(1), &st);
        let o = hw.topo.outputs().start;
        assert!(
            l.shadow_h[o + 2] > before.shadow_h[o + 2],
            "label's h rises"
        );
        for k in [0, 1, 3] {
            assert!(
                l.shadow_h[o + k] < before.shadow_h[o + k],
                "output {k}'s h falls"
            );
        }
    }

    #[test]
    fn shadows_saturate_and_stochastic_rounding_is_unbiased() {
        let (_, _, hw) = model();
        let s = spec(&hw, 8, Rounding::Shadow);
        let mut lf = Lfsr(Lfsr::SEED);
        let mut sh = 127i64 << 8;
        let v = Learner::apply(&s, &mut lf, 8, &mut sh, Rate { mult: 1, shift: 0 }, 1 << 12);
        assert_eq!((v, sh), (127, (1 << 15) - 1));
        // stochastic: many updates of a quarter LSB add up to about a quarter each
        let st = spec(&hw, 8, Rounding::Stochastic);
        let mut sh = 0i64;
        for _ in 0..400 {
            Learner::apply(&st, &mut lf, 8, &mut sh, Rate { mult: 64, shift: 0 }, 1);
        }
        let got = sh >> 8;
        assert!((80..=120).contains(&got), "{got} of 100 expected");
        // shadow of 8 bits keeps the quarters exactly, 0 bits loses them
        let mut sh = 0i64;
        for _ in 0..400 {
            Learner::apply(&s, &mut lf, 8, &mut sh, Rate { mult: 64, shift: 0 }, 1);
        }
        assert_eq!(sh >> 8, 100);
        let s0 = spec(&hw, 0, Rounding::Shadow);
        let mut sh = 0i64;
        for _ in 0..400 {
            Learner::apply(&s0, &mut lf, 8, &mut sh, Rate { mult: 64, shift: 8 }, 1);
        }
        assert_eq!(sh, 0);
    }

    #[test]
    fn learned_params_quantize_back_to_the_learned_integers() {
        let (c, p, hw) = model();
        let mut l = Learner::new(hw.clone(), spec(&hw, 8, Rounding::Shadow));
        for s in 0..10 {
            l.learn(&x(s), (s % 4) as usize);
        }
        let back = quantize(&c, &l.params(&p), 16).unwrap().0;
        assert_eq!(back.rows, l.hw.rows);
        assert_eq!((back.u, back.h), (l.hw.u.clone(), l.hw.h.clone()));
    }

    /// A learning memory of `n` oscillators: W, U, h cleared, K = 1/4, a
    /// small frequency mismatch.
    fn memory(n: usize) -> Learner {
        let c = Config::parse(
            &format!("name='m'\n[network]\ninputs=1\nlayers=[{n}]\nintralayer=true\n[train]\nbeta=2.0\nlr=0.02\neps=0.125\nt1=40\nt2=80\nsymmetric=false\n[hardware]\nparams='ram'\nlearning='ep'\nnudge='pattern'\nweight_frac=5\nw_frac=6\n"),
            "t",
        )
        .unwrap();
        let mut hw = quantize(&c, &Params::init(&c), 16).unwrap().0;
        for r in hw.rows.iter_mut() {
            r.iter_mut().for_each(|t| t.1 = 0);
        }
        hw.h.iter_mut().for_each(|v| *v = 0);
        hw.u.iter_mut().for_each(|v| *v = 0);
        hw.k.iter_mut().for_each(|v| *v = 1 << (hw.fmt.frac - 2));
        for (i, w) in hw.omega.iter_mut().enumerate() {
            *w = ((i as i64 * 5) % 7 - 3) * 20;
        }
        let spec = hw.learn.clone().unwrap();
        assert!(spec.pattern);
        Learner::new(hw, spec)
    }

    /// A start: `xi` with the bits `flip` flipped, a little jitter.
    fn start(xi: &[bool], flip: &[usize], bits: u32) -> Vec<u64> {
        let half = 1i64 << (bits - 1);
        xi.iter()
            .enumerate()
            .map(|(i, &b)| {
                let b = b != flip.contains(&i);
                let j = ((i as i64 * 37) % 11 - 5) * 300;
                wrap(if b { j } else { half + j }, bits)
            })
            .collect()
    }

    #[test]
    fn the_readout_is_the_cosine_sign_by_quadrant() {
        let b = 16;
        for (psi, s) in [
            (0u64, 1),
            (16383, 1),
            (16384, -1),
            (49151, -1),
            (49152, 1),
            (65535, 1),
        ] {
            assert_eq!(readout(psi, b), s, "ψ = {psi}");
        }
        let xi = [true, false, true];
        assert_eq!(agreement(&[0, 32768, 0], &xi, b), 3);
        assert_eq!(agreement(&[32768, 0, 32768], &xi, b), -3);
        assert_eq!(agreement(&[0, 0, 0], &xi, b), 1);
    }

    /// The nudge pulls the wrong bits of the free state to the pattern (or
    /// to its negative when the free state is nearer that), W learns the
    /// pattern's pairs and stays symmetric, U and h do not move.
    #[test]
    fn a_memory_step_pulls_towards_the_pattern_or_its_negative() {
        let n = 12;
        let xi: Vec<bool> = (0..n).map(|i| (i * 7) % 3 != 1).collect();
        let bits = 16;
        for (flip, sign) in [(vec![1, 4], 1i64), ((2..n).collect::<Vec<_>>(), -1)] {
            let mut l = memory(n);
            l.hw.theta0 = start(&xi, &flip, bits);
            let (st, m) = l.pattern_states(&[0], &xi);
            assert_eq!(m.signum(), sign, "flip {flip:?}: m = {m}");
            assert_eq!(m, agreement(&st.free, &xi, bits));
            // the free state keeps the wrong bits (W = 0); the nudged one
            // is σ ξ
            assert_eq!(
                agreement(&st.plus, &xi, bits),
                sign * n as i64,
                "flip {flip:?}"
            );
            let (u, h) = (l.hw.u.clone(), l.hw.h.clone());
            assert_eq!(l.learn_pattern(&[0], &xi), m);
            assert_eq!((&l.hw.u, &l.hw.h), (&u, &h), "only W is learned");
            // pairs of a flipped bit and a kept one move towards ξ_i ξ_j
            let wrong: Vec<usize> = if sign > 0 {
                flip.clone()
            } else {
                (0..2).collect()
            };
            for i in 0..n {
                for &(j, w) in &l.hw.rows[i] {
                    let back = l.hw.rows[j].iter().find(|t| t.0 == i).unwrap().1;
                    assert_eq!(w, back, "W[{i}][{j}] symmetric");
                    if wrong.contains(&i) != wrong.contains(&j) {
                        let want = if xi[i] == xi[j] { 1 } else { -1 };
                        assert_eq!(w.signum(), want, "W[{i}][{j}] = {w}");
                    }
                }
            }
        }
    }

    /// Without a frequency mismatch a state at exact 0 and π stays there,
    /// nudged or not: the table's sine is 0 there (why `phasegen memory
    /// --onchip` sets a mismatch).
    #[test]
    fn without_a_mismatch_the_nudge_cannot_move_a_binary_state() {
        let n = 12;
        let xi: Vec<bool> = (0..n).map(|i| (i * 7) % 3 != 1).collect();
        let mut l = memory(n);
        l.hw.omega.iter_mut().for_each(|w| *w = 0);
        let half = 1u64 << 15;
        l.hw.theta0 = (0..n)
            .map(|i| if xi[i] != (i == 1) { 0 } else { half })
            .collect();
        let (st, m) = l.pattern_states(&[0], &xi);
        assert_eq!((&st.free, &st.plus), (&l.hw.theta0, &l.hw.theta0));
        assert_eq!(m, n as i64 - 2);
    }
}
