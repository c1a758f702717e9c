//! The phase response curve `Z(θ) = ∇_x θ` on the limit cycle, by the
//! adjoint method (the textbook construction; MODEL.md section 4).
//!
//! `Z` solves `dZ/dt = −J(x₀(t))ᵀ Z`, which is unstable forward in time
//! and stable backward: integrated backward over whole periods (RK4 with
//! steps `T/m`, the cycle's midpoint samples giving `J` at the half steps)
//! it converges to its periodic solution, whatever it starts from, up to a
//! factor. The factor is fixed by `Z(θ)·F(x₀(θ)) = ω`, which the exact
//! solution keeps at every `θ` (`d/dt (Z·F) = −JᵀZ·F + Z·JF = 0`); how
//! far the computed one strays is reported as the normalization error.

use crate::reduce::cycle::Cycle;
use crate::reduce::oscillator::Oscillator;
use anyhow::{bail, Result};

/// `Z(θ_k)` at the cycle's `m` phases.
#[derive(Debug, Clone)]
pub struct Prc {
    pub z: Vec<[f64; 2]>,
    /// `max_k |Z_k·F(x₀(θ_k)) − ω| / ω`.
    pub norm_error: f64,
    /// Backward periods integrated until `Z` repeated.
    pub periods: usize,
}

/// `−J(x)ᵀ z`.
fn rhs(o: &Oscillator, x: &[f64; 2], z: &[f64; 2]) -> [f64; 2] {
    let j = o.jac(x);
    [
        -(j[0][0] * z[0] + j[1][0] * z[1]),
        -(j[0][1] * z[0] + j[1][1] * z[1]),
    ]
}

/// One backward period from `Z(T) = z`: returns `Z(θ_k)` for `k = 0..m`
/// (`out[k]` at time `kT/m`).
fn backward_period(o: &Oscillator, c: &Cycle, z: [f64; 2]) -> Vec<[f64; 2]> {
    let m = c.m;
    let h = -c.period / m as f64;
    let mut out = vec![[0.0; 2]; m + 1];
    out[m] = z;
    let mut z = z;
    let xat = |i: usize| c.x[i % (2 * m)];
    for k in (1..=m).rev() {
        // from t_k back to t_{k−1}: J at samples 2k, 2k − 1, 2k − 2
        let (x0, xh, x1) = (xat(2 * k), xat(2 * k - 1), xat(2 * k - 2));
        let add = |a: &[f64; 2], b: &[f64; 2], s: f64| [a[0] + s * b[0], a[1] + s * b[1]];
        let k1 = rhs(o, &x0, &z);
        let k2 = rhs(o, &xh, &add(&z, &k1, h / 2.0));
        let k3 = rhs(o, &xh, &add(&z, &k2, h / 2.0));
        let k4 = rhs(o, &x1, &add(&z, &k3, h));
        for d in 0..2 {
            z[d] += h / 6.0 * (k1[d] + 2.0 * k2[d] + 2.0 * k3[d] + k4[d]);
        }
        out[k - 1] = z;
    }
    out
}

/// The PRC of `o` on its cycle `c`.
pub fn prc(o: &Oscillator, c: &Cycle) -> Result<Prc> {
    let scale = |z: [f64; 2]| {
        let f = o.f(&c.at(0));
        let s = c.omega / (z[0] * f[0] + z[1] * f[1]);
        [z[0] * s, z[1] * s]
    };
    let mut z = scale(o.f(&c.at(0)));
    let mut periods = 0;
    let zs = loop {
        let run = backward_period(o, c, z);
        periods += 1;
        let next = scale(run[0]);
        let d = ((next[0] - z[0]).powi(2) + (next[1] - z[1]).powi(2)).sqrt();
        let size = (next[0].powi(2) + next[1].powi(2)).sqrt();
        z = next;
        if d < 1e-12 * size.max(1.0) {
            break backward_period(o, c, z);
        }
        if periods > 5000 {
            bail!(
                "{}: the adjoint did not converge in 5000 periods (last change {d:e})",
                o.describe()
            );
        }
    };
    let z: Vec<[f64; 2]> = zs[..c.m].to_vec();
    let mut norm_error = 0f64;
    for (k, zk) in z.iter().enumerate() {
        let f = o.f(&c.at(k));
        let v = zk[0] * f[0] + zk[1] * f[1];
        norm_error = norm_error.max((v - c.omega).abs() / c.omega);
    }
    Ok(Prc {
        z,
        norm_error,
        periods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::cycle::limit_cycle;

    /// `Z·F = ω` all along the cycle, and `Z` is the phase's gradient: a
    /// small kick `δ` of the state at phase θ shifts the asymptotic phase
    /// by `Z(θ)·δ` (measured by integrating the kicked and the unkicked
    /// state and comparing their later crossing times).
    #[test]
    fn prc_is_normalized_and_predicts_kicks() {
        for o in [
            Oscillator::VanDerPol { mu: 1.0 },
            Oscillator::Lc {
                l: 1e-6,
                c: 1e-9,
                a: 0.6,
                b: 0.3,
                r: 0.1,
            },
        ] {
            let c = limit_cycle(&o, 512).unwrap();
            let p = prc(&o, &c).unwrap();
            assert!(p.norm_error < 1e-6, "{o:?}: {}", p.norm_error);
            for k in [0, 100, 333] {
                for dir in 0..2 {
                    let d = 1e-5;
                    let mut x = c.at(k);
                    x[dir] += d;
                    // both run on by whole steps of the sampled grid, then to a crossing
                    let h = c.period / (2 * c.m) as f64;
                    let t_cross = |mut s: [f64; 2]| {
                        for _ in 0..(4 * c.m) {
                            s = crate::reduce::ode::rk4(|v: &[f64; 2]| o.f(v), &s, h);
                        }
                        let mut t = 0.0;
                        while s[0] >= 0.0 {
                            s = crate::reduce::ode::rk4(|v: &[f64; 2]| o.f(v), &s, h);
                            t += h;
                        }
                        loop {
                            let y = crate::reduce::ode::rk4(|v: &[f64; 2]| o.f(v), &s, h);
                            if y[0] >= 0.0 {
                                let hz = crate::reduce::ode::hermite_zero(
                                    s[0],
                                    y[0],
                                    o.f(&s)[0],
                                    o.f(&y)[0],
                                    h,
                                );
                                return t + hz;
                            }
                            s = y;
                            t += h;
                        }
                    };
                    let tau = std::f64::consts::TAU;
                    let shift = (t_cross(c.at(k)) - t_cross(x)) * c.omega;
                    // the two may cross on either side of a period's end
                    let shift = shift - tau * (shift / tau).round();
                    let want = p.z[k][dir] * d;
                    assert!(
                        (shift - want).abs() < 1e-3 * d * p.z[k][dir].abs().max(0.1) + 1e-9,
                        "{o:?} k {k} dir {dir}: {shift} vs {want}"
                    );
                }
            }
        }
    }
}
