//! Two coupled copies simulated directly, against what `H` predicts.
//!
//! The pair: oscillator 1 at its own speed, oscillator 2 detuned by running
//! `1 + δ` times faster (`ω_2 = (1 + δ)ω` exactly, the cycle's shape
//! unchanged):
//!
//! `dx_1/dt = F(x_1) + ε G(x_1, x_2)`, `dx_2/dt = (1 + δ)(F(x_2) + ε G(x_2, x_1))`
//!
//! with the resistive and inductive `G` of `reduce::oscillator` as they
//! are, and the capacitive one exact: the node rates `u_i` solve
//! `u_i = s_i (F_node(x_i) + ε (u_j − u_i))`, a 2x2 linear system per step.
//! RK4 with `check.steps` steps per period, from `x₀(0)` and `x₀(φ_0)`.
//!
//! Phases from zero crossings: at each upward crossing of oscillator 1
//! (its phase 0), oscillator 2's phase is read off linearly between its
//! own crossings; `φ = θ_2 − θ_1` is unwrapped over the run. The pair is
//! locked when `φ` moves by less than π over the observed periods. These
//! phases are the cycle's phases up to the `O(ε)` distance of the
//! perturbed orbit from the cycle.
//!
//! The reduced pair: `dθ_1/dt = ω + ε H(φ)`,
//! `dθ_2/dt = (1 + δ)(ω + ε H(−φ))`, so
//! `dφ/dt = R(φ) = δω + ε((1 + δ) H(−φ) − H(φ))`: it locks at a zero of `R`
//! with `R' < 0`, at the frequency `Ω = ω + ε H(φ*)`, and the locking
//! range is the `δ` for which `R` has a zero (to first order
//! `|δω| ≤ 2ε max H_odd`: only the odd part locks; the even part moves the
//! frequency).

use crate::reduce::config::CouplingKind;
use crate::reduce::cycle::Cycle;
use crate::reduce::hfun::HFun;
use crate::reduce::ode::{hermite_zero, rk4};
use crate::reduce::oscillator::Oscillator;
use std::f64::consts::{PI, TAU};

/// The coupled pair.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub o: &'a Oscillator,
    pub kind: CouplingKind,
    pub eps: f64,
    pub delta: f64,
}

impl Pair<'_> {
    /// The pair's vector field on `(x_1, x_2)`.
    pub fn rhs(&self, s: &[f64; 4]) -> [f64; 4] {
        let (x1, x2) = ([s[0], s[1]], [s[2], s[3]]);
        let (mut d1, mut d2) = (self.o.f(&x1), self.o.f(&x2));
        let node = self.o.node();
        let (eps, s2) = (self.eps, 1.0 + self.delta);
        match self.kind {
            CouplingKind::Capacitive => {
                // u1 (1 + ε) − ε u2 = F1,  −s2 ε u1 + (1 + s2 ε) u2 = s2 F2
                let (f1, f2) = (d1[node], s2 * d2[node]);
                let (a, b, c, d) = (1.0 + eps, -eps, -s2 * eps, 1.0 + s2 * eps);
                let det = a * d - b * c;
                let u1 = (f1 * d - b * f2) / det;
                let u2 = (a * f2 - c * f1) / det;
                d2 = [s2 * d2[0], s2 * d2[1]];
                d1[node] = u1;
                d2[node] = u2;
            }
            kind => {
                let (g1, g2) = (self.o.observable(kind, &x1), self.o.observable(kind, &x2));
                d1[node] += eps * (g2 - g1);
                d2[node] += eps * (g1 - g2);
                d2 = [s2 * d2[0], s2 * d2[1]];
            }
        }
        [d1[0], d1[1], d2[0], d2[1]]
    }

    /// Runs `2 · periods` periods of the uncoupled cycle from phase
    /// difference `phi0` and measures the second half.
    pub fn run(&self, c: &Cycle, phi0: f64, periods: usize, steps: usize) -> Measured {
        let k2 = ((phi0.rem_euclid(TAU) / TAU) * c.m as f64).round() as usize;
        let (a, b) = (c.at(0), c.at(k2));
        let mut s = [a[0], a[1], b[0], b[1]];
        let h = c.period / steps as f64;
        let sec = self.o.section();
        let total = 2 * periods * steps;
        let (mut t1, mut t2) = (Vec::new(), Vec::new());
        let mut d = self.rhs(&s);
        for k in 0..total {
            let y = rk4(|v: &[f64; 4]| self.rhs(v), &s, h);
            let dy = self.rhs(&y);
            let t = k as f64 * h;
            for (osc, list) in [(0usize, &mut t1), (1, &mut t2)] {
                let i = 2 * osc + sec;
                if s[i] < 0.0 && y[i] >= 0.0 {
                    list.push(t + hermite_zero(s[i], y[i], d[i], dy[i], h));
                }
            }
            s = y;
            d = dy;
        }
        Measured::from_crossings(&t1, &t2, periods as f64 * c.period)
    }
}

/// What a run of the pair shows over its observed half.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// `φ = θ_2 − θ_1` at the last crossing of oscillator 1, in (−π, π].
    pub phi: f64,
    /// The mean of `φ` over the observed crossings (wrapped), when locked.
    pub phi_mean: f64,
    /// How far the unwrapped `φ` moved over the observed crossings.
    pub drift: f64,
    /// Oscillator 1's mean angular frequency over the observed crossings.
    pub omega1: f64,
}

impl Measured {
    pub fn locked(&self) -> bool {
        self.drift.abs() < PI
    }

    fn from_crossings(t1: &[f64], t2: &[f64], from: f64) -> Measured {
        let mut phis = Vec::new();
        let mut times = Vec::new();
        for &t in t1.iter().filter(|&&t| t >= from) {
            let k = t2.partition_point(|&u| u <= t);
            if k == 0 || k >= t2.len() {
                continue;
            }
            let (p, n) = (t2[k - 1], t2[k]);
            // oscillator 2's phase at t, θ_1 = 0 there
            phis.push(TAU * (t - p) / (n - p));
            times.push(t);
        }
        if phis.len() < 2 {
            return Measured {
                phi: f64::NAN,
                phi_mean: f64::NAN,
                drift: f64::INFINITY,
                omega1: f64::NAN,
            };
        }
        let mut un = vec![phis[0]];
        for w in phis.windows(2) {
            let d = w[1] - w[0];
            let last = *un.last().expect("not empty");
            un.push(last + d - TAU * (d / TAU).round());
        }
        let wrap = |x: f64| x - TAU * ((x + PI) / TAU).floor();
        let mean = un.iter().sum::<f64>() / un.len() as f64;
        let span = times[times.len() - 1] - times[0];
        Measured {
            phi: wrap(*un.last().expect("not empty")),
            phi_mean: wrap(mean),
            drift: un[un.len() - 1] - un[0],
            omega1: TAU * (times.len() - 1) as f64 / span,
        }
    }
}

/// The reduced pair's prediction for detuning `delta`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predicted {
    /// The stable locked `φ*` (in (−π, π]), if the pair locks.
    pub phi: Option<f64>,
    /// `Ω = ω + ε H(φ*)`.
    pub omega1: Option<f64>,
}

/// `R(φ) = δω + ε((1 + δ) H(−φ) − H(φ))`.
fn r(h: &HFun, omega: f64, eps: f64, delta: f64, phi: f64) -> f64 {
    delta * omega + eps * ((1.0 + delta) * h.eval(-phi) - h.eval(phi))
}

/// The reduced pair's locked state at detuning `delta` (see the module docs).
pub fn predict(h: &HFun, omega: f64, eps: f64, delta: f64) -> Predicted {
    let n = 2048;
    let at = |k: usize| -PI + TAU * k as f64 / n as f64;
    let mut best: Option<(f64, f64)> = None;
    for k in 0..n {
        let (p0, p1) = (at(k), at(k + 1));
        let (r0, r1) = (r(h, omega, eps, delta, p0), r(h, omega, eps, delta, p1));
        // a stable zero: R goes from positive to negative
        if r0 > 0.0 && r1 <= 0.0 {
            let (mut lo, mut hi) = (p0, p1);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if r(h, omega, eps, delta, mid) > 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let phi = 0.5 * (lo + hi);
            // of several stable zeros, the one nearest in-phase
            let nearer = match best {
                None => true,
                Some((b, _)) => phi.abs() < b.abs(),
            };
            if nearer {
                best = Some((phi, omega + eps * h.eval(phi)));
            }
        }
    }
    Predicted {
        phi: best.map(|b| b.0),
        omega1: best.map(|b| b.1),
    }
}

/// The predicted edge of the locking range on the side of `sign` (±1): the
/// `δ` where `R` stops having a zero (bisection).
pub fn predicted_edge(h: &HFun, omega: f64, eps: f64, sign: f64) -> f64 {
    let locks = |delta: f64| predict(h, omega, eps, delta).phi.is_some();
    let (mut lo, mut hi) = (0.0, sign * 1e-6);
    while locks(hi) {
        lo = hi;
        hi *= 2.0;
        if hi.abs() > 1.0 {
            return hi;
        }
    }
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if locks(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The measured edge of the locking range near the predicted `guess`:
/// bisection on `δ` with runs started at the predicted `φ*` (or at the
/// maximum of `H_odd` where none is predicted), to a relative width `tol`.
pub fn measured_edge(
    pair: Pair,
    c: &Cycle,
    h: &HFun,
    guess: f64,
    periods: usize,
    steps: usize,
    tol: f64,
) -> f64 {
    let start = |delta: f64| {
        predict(h, c.omega, pair.eps, delta)
            .phi
            .unwrap_or_else(|| delta.signum() * h.odd_max().1)
    };
    let locked = |delta: f64| {
        Pair { delta, ..pair }
            .run(c, start(delta), periods, steps)
            .locked()
    };
    let (mut lo, mut hi) = (0.8 * guess, 1.25 * guess);
    while !locked(lo) {
        hi = lo;
        lo *= 0.7;
        if lo.abs() < 1e-3 * guess.abs() {
            return 0.0;
        }
    }
    while locked(hi) {
        lo = hi;
        hi *= 1.4;
        if hi.abs() > 100.0 * guess.abs() {
            return f64::INFINITY;
        }
    }
    while (hi - lo).abs() > tol * guess.abs() {
        let mid = 0.5 * (lo + hi);
        if locked(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
