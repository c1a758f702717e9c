//! The coupling function `H` of the phase network (docs/reduction.md).
//!
//! Oscillator `i` feels `Σ_j W_ij H(θ_j − θ_i)`. MODEL.md section 1 is
//! `H(ψ) = sin ψ`; a physical oscillator reduced to its phase
//! ([`crate::reduce`]) gives other shapes. This one is
//!
//! `H(ψ) = sin(ψ − α) + Σ_{n≥2} a_n sin nψ  (+ sin α with train.diffusive)`
//!
//! with the Sakaguchi phase lag `α` and extra odd terms `a_n` (`train.alpha`,
//! `train.harmonics = [a_2, a_3, …]`). Plain Sakaguchi has `H(0) = −sin α`:
//! oscillators in phase still pull each other's frequency, by
//! `−sin α Σ_j W_ij`. A coupling element between two nodes carries nothing
//! when they are in phase, so a reduced physical `H` has `H(0) = 0`; the
//! diffusive form adds the constant `sin α` to get it. Its even part
//! (`−sin α cos ψ`, with `+ sin α` when diffusive) makes the dynamics a
//! non-gradient flow; its odd part
//! `H_odd(ψ) = cos α sin ψ + Σ a_n sin nψ` is the gradient of the energy
//! `E_c = −Σ_{i<j} W_ij Q(θ_i − θ_j)`, `Q(φ) = cos α cos φ + Σ (a_n/n) cos nφ`
//! (`−∂E_c/∂θ_i = −Σ_j W_ij Q'(θ_i − θ_j) = Σ_j W_ij H_odd(θ_j − θ_i)`).
//! EP keeps its usual update, the difference of `∂E_c/∂W_ij = −Q(θ_i − θ_j)`
//! between the nudged and the free state; with `α ≠ 0` this is no longer
//! the gradient of the cost, and `reduce::ep` measures by how much.
//!
//! The input field `b_i cos θ_i` from the reference is left as it is: a
//! lag there, `−b_i sin(θ_i + α)`, depends on `θ_i` alone and is the
//! gradient of `−b_i cos(θ_i + α)`, so it cannot break the gradient
//! structure (it only turns the readout).

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

pub use crate::config::MAX_HARMONICS;

/// `H(ψ) = sin(ψ − α) + Σ_{n≥2} a_n sin nψ` (see the module docs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouplingFn {
    /// The Sakaguchi phase lag `α` (rad).
    pub alpha: f32,
    /// `a_2, a_3, …`: the coefficients of `sin 2ψ, sin 3ψ, …`.
    pub harmonics: Vec<f32>,
    /// Add `sin α`, so that `H(0) = 0` (`train.diffusive`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub diffusive: bool,
}

impl CouplingFn {
    /// From the training config (`train.alpha`, `train.harmonics`).
    pub fn from_train(t: &crate::config::TrainConfig) -> CouplingFn {
        CouplingFn {
            alpha: t.alpha as f32,
            harmonics: t.harmonics.iter().map(|&a| a as f32).collect(),
            diffusive: t.diffusive,
        }
    }

    /// `H(ψ) = sin ψ`: MODEL.md section 1, computed by the original code
    /// path (bit for bit what it always was).
    pub fn is_plain(&self) -> bool {
        self.alpha == 0.0 && self.harmonics.iter().all(|&a| a == 0.0)
    }

    /// The highest harmonic with a non-zero coefficient (1 for `sin(ψ − α)` alone).
    pub fn order(&self) -> usize {
        self.harmonics
            .iter()
            .rposition(|&a| a != 0.0)
            .map_or(1, |k| k + 2)
    }

    /// `a_n` (`a_1 = 1`; 0 beyond the list).
    pub fn coef(&self, n: usize) -> f32 {
        match n {
            0 => 0.0,
            1 => 1.0,
            _ => self.harmonics.get(n - 2).copied().unwrap_or(0.0),
        }
    }

    /// The constant `H` holds: `sin α` when diffusive, else 0.
    pub fn offset(&self) -> f32 {
        if self.diffusive {
            self.alpha.sin()
        } else {
            0.0
        }
    }

    /// `H(ψ)`.
    pub fn h(&self, psi: f64) -> f64 {
        let mut v = (psi - self.alpha as f64).sin() + self.offset() as f64;
        for n in 2..=self.order() {
            v += self.coef(n) as f64 * (n as f64 * psi).sin();
        }
        v
    }

    /// The energy kernel of `H`'s odd part: `Q(φ) = cos α cos φ + Σ (a_n/n) cos nφ`,
    /// so that `E_c = −Σ_{i<j} W_ij Q(θ_i − θ_j)`.
    pub fn q(&self, phi: f64) -> f64 {
        let mut v = (self.alpha as f64).cos() * phi.cos();
        for n in 2..=self.order() {
            v += self.coef(n) as f64 / n as f64 * (n as f64 * phi).cos();
        }
        v
    }

    /// Refuses a coupling function the hardware does not implement: the
    /// twin and the generated core compute `H(ψ) = sin ψ + Σ_{n≥2} a_n sin nψ`
    /// (the odd harmonics, docs/hardware.md) but no phase lag, whose even
    /// part `−sin α cos ψ` is not a gradient flow. Names `what` needed it.
    pub fn require_hardware(&self, what: &str) -> Result<()> {
        if self.alpha != 0.0 {
            bail!(
                "{what}: the hardware computes the coupling H(ψ) = sin ψ + Σ a_n sin nψ (train.harmonics), without a phase lag, and this model has train.alpha = {}{}; a lag's even part is not a gradient flow: train with alpha = 0 for hardware (keep train.harmonics), or use the float model (`phasegen eval`)",
                self.alpha,
                if self.diffusive { " (diffusive)" } else { "" }
            );
        }
        if self.harmonics.iter().any(|a| !a.is_finite()) {
            bail!(
                "{what}: train.harmonics = {:?} holds a value that is not finite; retrain with finite coefficients",
                self.harmonics
            );
        }
        Ok(())
    }

    /// Refuses any coupling function but `H(ψ) = sin ψ` (what the twin
    /// and device backends of training compute their EP updates for),
    /// naming `what` needed it.
    pub fn require_plain(&self, what: &str) -> Result<()> {
        if !self.is_plain() {
            bail!(
                "{what}: these compute their EP update for the coupling H(ψ) = sin ψ only, and this model has train.alpha = {}, train.harmonics = {:?}, diffusive = {}: train with the float backend (the default; the hardware then runs the harmonics, with alpha = 0), or with alpha = 0 and no harmonics",
                self.alpha,
                self.harmonics,
                self.diffusive
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Q'` is minus the odd part of `H`, `H − H_odd` is `−sin α cos ψ`.
    #[test]
    fn q_is_the_energy_of_the_odd_part() {
        let c = CouplingFn {
            alpha: 0.3,
            harmonics: vec![0.2, -0.1, 0.0],
            diffusive: false,
        };
        let d = CouplingFn {
            diffusive: true,
            ..c.clone()
        };
        assert!(d.h(0.0).abs() < 1e-7 && (c.h(0.0) + 0.3f64.sin()).abs() < 1e-7);
        assert_eq!(c.order(), 3);
        assert!(!c.is_plain());
        for k in 0..50 {
            let psi = -3.0 + 6.0 * k as f64 / 49.0;
            let odd = 0.5 * (c.h(psi) - c.h(-psi));
            let even = 0.5 * (c.h(psi) + c.h(-psi));
            let d = 1e-5;
            let dq = (c.q(psi + d) - c.q(psi - d)) / (2.0 * d);
            assert!((dq + odd).abs() < 1e-8, "{psi}: {dq} {odd}");
            assert!((even + (0.3f64).sin() * psi.cos()).abs() < 1e-6);
        }
        assert!(CouplingFn::default().is_plain());
        assert!(CouplingFn {
            alpha: 0.0,
            harmonics: vec![0.0; 3],
            diffusive: true,
        }
        .is_plain());
        let e = format!("{:#}", c.require_plain("pg_core").unwrap_err());
        assert!(
            e.contains("train.alpha = 0.3") && e.contains("pg_core"),
            "{e}"
        );
        let e = format!("{:#}", d.require_hardware("pg_core").unwrap_err());
        assert!(
            e.contains("train.alpha = 0.3 (diffusive)") && e.contains("alpha = 0 for hardware"),
            "{e}"
        );
        let h = CouplingFn {
            alpha: 0.0,
            ..c.clone()
        };
        h.require_hardware("pg_core").unwrap();
        assert!(h.require_plain("pg_core").is_err());
    }
}
