//! The physical oscillators the reduction knows, each a planar ODE
//! `dx/dt = F(x)` in its natural time unit, with its Jacobian and the
//! equation a coupling current enters (its *node*).
//!
//! - **van der Pol**, `ẍ − μ(1 − x²)ẋ + x = 0`, state `(x, y = ẋ)`:
//!   `F = (y, μ(1 − x²)y − x)`. Read as a circuit, `x` is the node voltage
//!   of a parallel LC tank with a cubic negative conductance, and the
//!   second-order equation is the node's current balance differentiated
//!   once; a current `I` injected into the node enters it as `İ`. So the
//!   node equation is `ẏ` (row 1) and the coupling currents are:
//!   resistive `ε(ẋ_j − ẋ_i) = ε(y_j − y_i)`, capacitive `ε(ẍ_j − ẍ_i)`,
//!   inductive `ε(x_j − x_i)` (MODEL.md's "`x_j − x_i` on the velocity").
//! - **Cross-coupled LC** (`lc`): a tank `L ∥ C` whose inductor has a series
//!   resistance `r_L`, and the cross-coupled pair as a negative conductance
//!   `i_NL(v) = −g_m v + g_3 v³`. State `(v, i_L)`:
//!   `C dv/dt = −i_L + g_m v − g_3 v³ + I`, `L di_L/dt = v − r_L i_L`.
//!   In the time unit `√(LC)` (`ω_0 = 1/√(LC)` is 1) and with the current
//!   as a voltage, `j = Z_0 i_L`, `Z_0 = √(L/C)`:
//!   `dv/dτ = −j + a v − b v³ + Z_0 I`, `dj/dτ = v − r j`,
//!   `a = Z_0 g_m`, `b = Z_0 g_3`, `r = r_L / Z_0`. The node is row 0:
//!   resistive `I = g_c(v_j − v_i)` gives `ε = Z_0 g_c`; capacitive
//!   `I = C_c d/dt(v_j − v_i)` gives `ε = C_c / C`.

use crate::reduce::config::{CouplingKind, OscConfig};

/// A planar oscillator in its natural time unit (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Oscillator {
    VanDerPol {
        mu: f64,
    },
    Lc {
        /// The circuit's values, for the report.
        l: f64,
        c: f64,
        /// `a = Z_0 g_m`, `b = Z_0 g_3`, `r = r_L / Z_0`.
        a: f64,
        b: f64,
        r: f64,
    },
}

impl Oscillator {
    /// The oscillator of a validated config section.
    pub fn from_config(o: &OscConfig) -> Oscillator {
        match o {
            OscConfig::VanDerPol { mu } => Oscillator::VanDerPol { mu: *mu },
            OscConfig::Lc { l, c, gm, g3, rl } => {
                let z0 = (l / c).sqrt();
                Oscillator::Lc {
                    l: *l,
                    c: *c,
                    a: z0 * gm,
                    b: z0 * g3,
                    r: rl / z0,
                }
            }
        }
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match self {
            Oscillator::VanDerPol { mu } => format!("van der Pol, mu = {mu}"),
            Oscillator::Lc { l, c, a, b, r } => format!(
                "cross-coupled LC, L = {l:e} H, C = {c:e} F (Z0 = {:.4} ohm, f0 = {:.6e} Hz), a = Z0 gm = {a}, b = Z0 g3 = {b} /V^2, r = rL/Z0 = {r}",
                (l / c).sqrt(),
                1.0 / (2.0 * std::f64::consts::PI * (l * c).sqrt())
            ),
        }
    }

    /// Seconds per natural time unit (`√(LC)` for the LC; van der Pol is
    /// dimensionless: 1).
    pub fn time_unit(&self) -> f64 {
        match self {
            Oscillator::VanDerPol { .. } => 1.0,
            Oscillator::Lc { l, c, .. } => (l * c).sqrt(),
        }
    }

    /// `F(x)`.
    #[inline]
    pub fn f(&self, x: &[f64; 2]) -> [f64; 2] {
        match *self {
            Oscillator::VanDerPol { mu } => [x[1], mu * (1.0 - x[0] * x[0]) * x[1] - x[0]],
            Oscillator::Lc { a, b, r, .. } => {
                [-x[1] + a * x[0] - b * x[0] * x[0] * x[0], x[0] - r * x[1]]
            }
        }
    }

    /// The Jacobian `J[row][col] = ∂F_row/∂x_col`.
    pub fn jac(&self, x: &[f64; 2]) -> [[f64; 2]; 2] {
        match *self {
            Oscillator::VanDerPol { mu } => [
                [0.0, 1.0],
                [-2.0 * mu * x[0] * x[1] - 1.0, mu * (1.0 - x[0] * x[0])],
            ],
            Oscillator::Lc { a, b, r, .. } => [[a - 3.0 * b * x[0] * x[0], -1.0], [1.0, -r]],
        }
    }

    /// The row of `F` a coupling current enters.
    pub fn node(&self) -> usize {
        match self {
            Oscillator::VanDerPol { .. } => 1,
            Oscillator::Lc { .. } => 0,
        }
    }

    /// The component whose upward zero crossing marks phase 0 (`x`, `v`).
    pub fn section(&self) -> usize {
        0
    }

    /// A state near the limit cycle to start from: the amplitude of the
    /// averaged (weakly nonlinear) cycle.
    pub fn start(&self) -> [f64; 2] {
        match *self {
            Oscillator::VanDerPol { .. } => [2.0, 0.0],
            Oscillator::Lc { a, b, r, .. } => [(4.0 * (a - r) / (3.0 * b)).sqrt(), 0.0],
        }
    }

    /// The quantity whose difference a coupling of `kind` injects into the
    /// node equation: `G(x_i, x_j) = e_node (g(x_j) − g(x_i))` (capacitive:
    /// the node variable's rate `F_node`, the first-order reduction of
    /// `d/dt` of it; see `reduce::hfun`).
    #[inline]
    pub fn observable(&self, kind: CouplingKind, x: &[f64; 2]) -> f64 {
        match (self, kind) {
            (Oscillator::VanDerPol { .. }, CouplingKind::Resistive) => x[1],
            (Oscillator::VanDerPol { .. }, CouplingKind::Inductive) => x[0],
            (Oscillator::Lc { .. }, CouplingKind::Resistive) => x[0],
            (_, CouplingKind::Capacitive) => self.f(x)[self.node()],
            (Oscillator::Lc { .. }, CouplingKind::Inductive) => {
                unreachable!("the config refuses inductive coupling of the LC")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobians_match_finite_differences() {
        for o in [
            Oscillator::VanDerPol { mu: 1.3 },
            Oscillator::Lc {
                l: 1e-6,
                c: 1e-9,
                a: 0.4,
                b: 0.2,
                r: 0.05,
            },
        ] {
            let x = [0.7, -0.4];
            let j = o.jac(&x);
            for col in 0..2 {
                let h = 1e-6;
                let (mut p, mut m) = (x, x);
                p[col] += h;
                m[col] -= h;
                let (fp, fm) = (o.f(&p), o.f(&m));
                for row in 0..2 {
                    let fd = (fp[row] - fm[row]) / (2.0 * h);
                    assert!((fd - j[row][col]).abs() < 1e-7, "{o:?} {row} {col}");
                }
            }
        }
    }
}
