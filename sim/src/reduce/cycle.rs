//! The limit cycle `x₀(t)` of an oscillator and its period `T`.
//!
//! Phase 0 is the upward zero crossing of the section variable (`x` or
//! `v`). From the oscillator's starting state, RK4 runs until the
//! crossings repeat: each crossing is located inside its step by a cubic
//! Hermite interpolant (error `O(h⁵)`), and the cycle has converged when
//! two successive crossings' states and periods agree to 1e-10. Then the
//! cycle is integrated once more from the crossing with exactly `2m`
//! steps of `T/2m` and sampled: the even samples are the `m` phases
//! `θ_k = 2πk/m`, the odd ones the midpoints the adjoint's RK4 needs.

use crate::reduce::ode::{hermite_zero, rk4};
use crate::reduce::oscillator::Oscillator;
use anyhow::{bail, Result};

/// A limit cycle sampled at `2m` equal time steps.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub period: f64,
    /// `ω = 2π/T`.
    pub omega: f64,
    /// Phases per period.
    pub m: usize,
    /// `x₀(kT/2m)` for `k = 0..2m`.
    pub x: Vec<[f64; 2]>,
    /// How far the sampled orbit misses its start after one period.
    pub closure: f64,
    /// Crossings integrated until convergence.
    pub crossings: usize,
}

impl Cycle {
    /// `x₀(θ_k)`, `θ_k = 2πk/m` (`k` taken mod `m`).
    pub fn at(&self, k: usize) -> [f64; 2] {
        self.x[2 * (k % self.m)]
    }
}

/// Integrates from `x` with step `h` up to the next upward zero crossing of
/// component `sec`; returns the crossing state and the time taken.
fn next_crossing(
    o: &Oscillator,
    mut x: [f64; 2],
    h: f64,
    sec: usize,
    max_t: f64,
) -> Result<([f64; 2], f64)> {
    let f = |s: &[f64; 2]| o.f(s);
    let mut t = 0.0;
    // armed once the section variable has been negative after a step, so a
    // start on the section (within rounding) is not a crossing
    let mut armed = false;
    while t < max_t {
        let y = rk4(f, &x, h);
        if armed && x[sec] < 0.0 && y[sec] >= 0.0 {
            let d0 = o.f(&x)[sec];
            let d1 = o.f(&y)[sec];
            // Newton on the RK4 partial step from the interpolant's guess,
            // so the crossing state is on the section to rounding
            let mut s = hermite_zero(x[sec], y[sec], d0, d1, h);
            let mut at = rk4(f, &x, s);
            for _ in 0..4 {
                let d = o.f(&at)[sec];
                if d <= 0.0 {
                    break;
                }
                s = (s - at[sec] / d).clamp(0.0, h);
                at = rk4(f, &x, s);
            }
            return Ok((at, t + s));
        }
        if y[sec] < 0.0 {
            armed = true;
        }
        x = y;
        t += h;
    }
    bail!(
        "{}: no upward crossing of the section within {max_t} time units; the oscillator does not oscillate from its start",
        o.describe()
    )
}

/// The limit cycle of `o`, sampled at `m` phases (see the module docs).
pub fn limit_cycle(o: &Oscillator, m: usize) -> Result<Cycle> {
    let sec = o.section();
    let h = 2e-3;
    let (mut x, _) = next_crossing(o, o.start(), h, sec, 1e4)?;
    let mut last_t = f64::NAN;
    let mut crossings = 1;
    let period = loop {
        let (y, t) = next_crossing(o, x, h, sec, 1e4)?;
        crossings += 1;
        let dx = ((y[0] - x[0]).powi(2) + (y[1] - x[1]).powi(2)).sqrt();
        let settled = dx < 1e-10 && (t - last_t).abs() < 1e-10;
        x = y;
        if settled {
            break t;
        }
        last_t = t;
        if crossings > 20_000 {
            bail!(
                "{}: the cycle did not converge in 20000 periods (last change {dx:e}); is its limit cycle stable?",
                o.describe()
            );
        }
    };
    // the sampled orbit, with the crossing point moved exactly onto the section
    let n = 2 * m;
    let hs = period / n as f64;
    let mut xs = Vec::with_capacity(n + 1);
    let mut s = x;
    s[sec] = 0.0;
    xs.push(s);
    for _ in 0..n {
        s = rk4(|v: &[f64; 2]| o.f(v), &s, hs);
        xs.push(s);
    }
    let end = xs.pop().expect("n + 1 samples");
    let closure = ((end[0] - xs[0][0]).powi(2) + (end[1] - xs[0][1]).powi(2)).sqrt();
    Ok(Cycle {
        period,
        omega: 2.0 * std::f64::consts::PI / period,
        m,
        x: xs,
        closure,
        crossings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// van der Pol's period against the small-μ expansion
    /// `T = 2π(1 + μ²/16 + O(μ⁴))` and its amplitude 2.
    #[test]
    fn van_der_pol_period_and_amplitude() {
        let c = limit_cycle(&Oscillator::VanDerPol { mu: 0.1 }, 256).unwrap();
        let want = 2.0 * std::f64::consts::PI * (1.0 + 0.01 / 16.0);
        assert!((c.period - want).abs() < 1e-4, "{} vs {want}", c.period);
        let amp = c.x.iter().map(|v| v[0].abs()).fold(0.0, f64::max);
        assert!((amp - 2.0).abs() < 1e-3, "{amp}");
        assert!(c.closure < 1e-8, "{}", c.closure);
        // μ = 1: the literature's 6.6633 (e.g. Strogatz)
        let c = limit_cycle(&Oscillator::VanDerPol { mu: 1.0 }, 256).unwrap();
        assert!((c.period - 6.6633).abs() < 1e-3, "{}", c.period);
    }
}
