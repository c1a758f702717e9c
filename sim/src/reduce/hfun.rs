//! The coupling function of the phase-reduced pair (MODEL.md section 4):
//!
//! `H(ψ) = (1/2π) ∫₀^{2π} Z(φ) · G(x₀(φ), x₀(φ + ψ)) dφ`
//!
//! for `dx_i/dt = F(x_i) + ε G(x_i, x_j)`, so that
//! `dθ_i/dt = ω + ε H(θ_j − θ_i)`. Every coupling here injects into the
//! node row the difference of one observable,
//! `G(x_i, x_j) = e_node (g(x_j) − g(x_i))` (see `reduce::oscillator`), so
//! `H(ψ_p) = (1/m) Σ_k Z_node(θ_k) (g(θ_{k+p}) − g(θ_k))` on the cycle's `m`
//! phases: the trapezoid rule, spectrally accurate for these smooth
//! periodic integrands.
//!
//! A capacitive coupling injects `ε d/dt (v_j − v_i)`, which depends on the
//! coupled rates; to first order in `ε` the rates are the uncoupled ones,
//! `d/dt v = F_node(x)`, and that is the `g` the reduction uses (the
//! direct simulation in `reduce::pair` solves the exact implicit system,
//! so the check measures what this drops).
//!
//! `H(ψ) = a_0 + Σ_n (a_n cos nψ + b_n sin nψ)`: the `b_n` make the odd
//! part, the `a_n` (with `a_0`) the even part.

use crate::reduce::config::CouplingKind;
use crate::reduce::cycle::Cycle;
use crate::reduce::oscillator::Oscillator;
use crate::reduce::prc::Prc;
use std::f64::consts::TAU;

/// `H` on the grid `ψ_p = 2πp/m` and its Fourier coefficients.
#[derive(Debug, Clone)]
pub struct HFun {
    pub kind: CouplingKind,
    /// `H(ψ_p)`.
    pub h: Vec<f64>,
    /// `a_0, a_1, …` (cosines; `a_0` the mean).
    pub a: Vec<f64>,
    /// `b_0 = 0, b_1, …` (sines).
    pub b: Vec<f64>,
}

/// The coefficients computed (and used to evaluate `H` between grid points).
const SERIES: usize = 48;

impl HFun {
    /// `H` of oscillator `o` with the coupling `kind`, from its cycle and PRC.
    pub fn new(o: &Oscillator, c: &Cycle, z: &Prc, kind: CouplingKind) -> HFun {
        let m = c.m;
        let node = o.node();
        let g: Vec<f64> = (0..m).map(|k| o.observable(kind, &c.at(k))).collect();
        let zn: Vec<f64> = z.z.iter().map(|v| v[node]).collect();
        let h: Vec<f64> = (0..m)
            .map(|p| {
                let mut s = 0.0;
                for k in 0..m {
                    s += zn[k] * (g[(k + p) % m] - g[k]);
                }
                s / m as f64
            })
            .collect();
        let nmax = SERIES.min(m / 2 - 1);
        let mut a = vec![0.0; nmax + 1];
        let mut b = vec![0.0; nmax + 1];
        a[0] = h.iter().sum::<f64>() / m as f64;
        for n in 1..=nmax {
            for (p, hp) in h.iter().enumerate() {
                let ang = TAU * ((n * p) % m) as f64 / m as f64;
                a[n] += hp * ang.cos();
                b[n] += hp * ang.sin();
            }
            a[n] *= 2.0 / m as f64;
            b[n] *= 2.0 / m as f64;
        }
        HFun { kind, h, a, b }
    }

    /// `H(ψ)` from the series.
    pub fn eval(&self, psi: f64) -> f64 {
        self.odd(psi) + self.even(psi)
    }

    /// `H_odd(ψ) = Σ b_n sin nψ`.
    pub fn odd(&self, psi: f64) -> f64 {
        (1..self.b.len())
            .map(|n| self.b[n] * (n as f64 * psi).sin())
            .sum()
    }

    /// `H_even(ψ) = a_0 + Σ a_n cos nψ`.
    pub fn even(&self, psi: f64) -> f64 {
        self.a[0]
            + (1..self.a.len())
                .map(|n| self.a[n] * (n as f64 * psi).cos())
                .sum::<f64>()
    }

    /// `H_odd'(ψ)`.
    pub fn odd_slope(&self, psi: f64) -> f64 {
        (1..self.b.len())
            .map(|n| n as f64 * self.b[n] * (n as f64 * psi).cos())
            .sum()
    }

    /// RMS of the even and of the odd part over a period.
    pub fn rms_even_odd(&self) -> (f64, f64) {
        let odd: f64 = self.b[1..].iter().map(|v| v * v / 2.0).sum();
        let even: f64 =
            self.a[0] * self.a[0] + self.a[1..].iter().map(|v| v * v / 2.0).sum::<f64>();
        (even.sqrt(), odd.sqrt())
    }

    /// The largest `H_odd` over a period and where it is (dense grid, then
    /// Newton on `H_odd' = 0`).
    pub fn odd_max(&self) -> (f64, f64) {
        let n = 4096;
        let mut best = (f64::NEG_INFINITY, 0.0);
        for k in 0..n {
            let psi = TAU * k as f64 / n as f64;
            let v = self.odd(psi);
            if v > best.0 {
                best = (v, psi);
            }
        }
        let mut psi = best.1;
        for _ in 0..20 {
            let d2: f64 = (1..self.b.len())
                .map(|k| -((k * k) as f64) * self.b[k] * (k as f64 * psi).sin())
                .sum();
            if d2 >= 0.0 {
                break;
            }
            psi -= self.odd_slope(psi) / d2;
        }
        (self.odd(psi), psi)
    }

    /// The phase network's coupling function that is closest to this `H`
    /// (`onn::coupling`): `H ≈ r (sin(ψ − α) + Σ_{n≥2} c_n sin nψ) + rest`
    /// with `r = |a_1 + i b_1|`, `α = atan2(−a_1, b_1)`, `c_n = b_n / r`
    /// for `n = 2..=harmonics`. Returns `(r, α, [c_2 …])`; the rest (the
    /// constant `a_0` and the even parts of `n ≥ 2`) has no place in it.
    pub fn network_form(&self, harmonics: usize) -> (f64, f64, Vec<f64>) {
        let r = self.a[1].hypot(self.b[1]);
        let alpha = (-self.a[1]).atan2(self.b[1]);
        let c = (2..=harmonics.min(self.b.len() - 1))
            .map(|n| self.b[n] / r)
            .collect();
        (r, alpha, c)
    }
}

impl HFun {
    /// The odd part as the hardware computes it (no lag: docs/hardware.md):
    /// `H_odd(ψ) = b_1 (sin ψ + Σ_{n=2..harmonics} a_n sin nψ)`, `a_n = b_n / b_1`,
    /// what `train.harmonics` takes with `train.alpha = 0` (the factor `b_1`
    /// goes into the trained weights). Harmonics that vanish by symmetry are
    /// 0. Returns `b_1` and `[a_2, …]`.
    pub fn odd_form(&self, harmonics: usize) -> (f64, Vec<f64>) {
        let b1 = self.b[1];
        let a = (2..=harmonics.min(self.b.len() - 1))
            .map(|n| {
                let v = self.b[n] / b1;
                if v.abs() < 1e-9 {
                    0.0
                } else {
                    v
                }
            })
            .collect();
        (b1, a)
    }

    /// [`HFun::network_form`] as the phase network's coupling function,
    /// with `α` brought into `[−π/2, π/2]` (the range `train.alpha` takes)
    /// by turning the sign of `H` (`H` and `−H` train the same networks
    /// with `W` negated), and diffusive (`H(0) = 0`, as the reduced `H` of
    /// a coupling element has). Returns it and the factor `±r` it was
    /// divided by.
    pub fn network_coupling(&self, harmonics: usize) -> (crate::onn::coupling::CouplingFn, f64) {
        use std::f64::consts::{FRAC_PI_2, PI};
        let (mut r, mut alpha, mut c) = self.network_form(harmonics);
        // harmonics that vanish by symmetry come out at rounding level
        c.iter_mut()
            .filter(|v| v.abs() < 1e-9)
            .for_each(|v| *v = 0.0);
        if alpha.abs() > FRAC_PI_2 {
            alpha -= PI * alpha.signum();
            r = -r;
            c.iter_mut().for_each(|v| *v = -*v);
        }
        (
            crate::onn::coupling::CouplingFn {
                alpha: alpha as f32,
                harmonics: c.iter().map(|&v| v as f32).collect(),
                diffusive: true,
            },
            r,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::cycle::limit_cycle;
    use crate::reduce::prc::prc;

    fn hfun(mu: f64, kind: CouplingKind) -> HFun {
        let o = Oscillator::VanDerPol { mu };
        let c = limit_cycle(&o, 512).unwrap();
        let z = prc(&o, &c).unwrap();
        HFun::new(&o, &c, &z, kind)
    }

    /// Small μ: van der Pol is a harmonic oscillator of amplitude 2 with
    /// `Z = −(sin θ, cos θ)/2`; resistive coupling gives `H = sin ψ / 2`
    /// (odd), inductive `H = (1 − cos ψ)/2` (even: reactive coupling
    /// pulls the frequency and does not lock), capacitive
    /// `H = −(1 − cos ψ)/2`.
    #[test]
    fn small_mu_matches_the_harmonic_limit() {
        let r = hfun(0.02, CouplingKind::Resistive);
        assert!(
            (r.b[1] - 0.5).abs() < 0.01 && r.a[1].abs() < 0.01,
            "{:?} {:?}",
            r.a,
            r.b
        );
        let l = hfun(0.02, CouplingKind::Inductive);
        assert!((l.a[1] + 0.5).abs() < 0.01 && (l.a[0] - 0.5).abs() < 0.01 && l.b[1].abs() < 0.01);
        let c = hfun(0.02, CouplingKind::Capacitive);
        assert!((c.a[1] - 0.5).abs() < 0.01 && (c.a[0] + 0.5).abs() < 0.01 && c.b[1].abs() < 0.01);
        // grid values and series agree
        for (p, hp) in r.h.iter().enumerate().step_by(37) {
            let psi = TAU * p as f64 / r.h.len() as f64;
            assert!((r.eval(psi) - hp).abs() < 1e-9);
        }
    }

    /// van der Pol is symmetric under `x → −x` (a half-period shift of the
    /// cycle), so `H` has only odd harmonics `n = 1, 3, 5, …` for every μ;
    /// resistive coupling is diffusive (`H(0) = 0`). Its even part is not
    /// zero: it grows with μ (the first harmonic's lag is 0.073 rad at
    /// μ = 0.3 and 0.185 at μ = 1, and the constant `a_0` grows with it),
    /// but stays below the odd part (RMS 0.13 and 0.35 of it).
    #[test]
    fn van_der_pol_resistive_symmetry_and_small_even_part() {
        let mut lags = Vec::new();
        for mu in [0.3, 1.0] {
            let h = hfun(mu, CouplingKind::Resistive);
            let top = h.b[1].abs();
            for n in (2..12).step_by(2) {
                assert!(
                    h.a[n].abs() < 1e-8 * top && h.b[n].abs() < 1e-8 * top,
                    "μ {mu} n {n}"
                );
            }
            assert!(h.eval(0.0).abs() < 1e-9);
            let (even, odd) = h.rms_even_odd();
            let (_, alpha, _) = h.network_form(3);
            eprintln!(
                "mu {mu}: rms even {even:.5} odd {odd:.5}, alpha {alpha:.5}, a {:?}, b {:?}",
                &h.a[..6],
                &h.b[..6]
            );
            assert!(even < 0.4 * odd, "μ {mu}: even {even} odd {odd}");
            lags.push(alpha.abs());
        }
        assert!(lags[0] > 0.05 && lags[0] < 0.1, "{lags:?}");
        // as a network coupling, r (sin(ψ − α) + Σ c_n sin nψ) reproduces H's
        // first harmonic and odd higher ones
        let h = hfun(1.0, CouplingKind::Resistive);
        let (cf, r) = h.network_coupling(5);
        for k in 0..16 {
            let psi = k as f64 * 0.4;
            let odd_rest: f64 = (2..=5).map(|n| h.b[n] * (n as f64 * psi).sin()).sum();
            let first = h.a[1] * (psi.cos() - 1.0) + h.b[1] * psi.sin();
            assert!((r * cf.h(psi) - first - odd_rest).abs() < 1e-6);
        }
        assert!(lags[1] > 0.15 && lags[1] < 0.22, "{lags:?}");
        // the odd part for the hardware: b_1 (sin ψ + Σ a_n sin nψ) is
        // H's odd part up to its 9th harmonic; no even n
        let (b1, odd) = h.odd_form(9);
        assert_eq!(odd.len(), 8);
        assert!(odd.iter().step_by(2).all(|&v| v == 0.0), "{odd:?}");
        assert!((odd[1] + 0.0364).abs() < 5e-4, "a_3 = {}", odd[1]);
        for k in 0..16 {
            let psi = k as f64 * 0.4;
            let want = 0.5 * (h.eval(psi) - h.eval(-psi));
            let cf = crate::onn::coupling::CouplingFn {
                alpha: 0.0,
                harmonics: odd.iter().map(|&v| v as f32).collect(),
                diffusive: false,
            };
            assert!((b1 * cf.h(psi) - want).abs() < 1e-5, "ψ {psi}");
        }
    }
}
