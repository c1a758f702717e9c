//! The fourth-order Runge-Kutta step the reduction integrates with, on
//! states of any fixed size.

/// One classical RK4 step of `dx/dt = f(x)` of size `h`.
#[inline]
pub fn rk4<const D: usize>(f: impl Fn(&[f64; D]) -> [f64; D], x: &[f64; D], h: f64) -> [f64; D] {
    let add = |a: &[f64; D], b: &[f64; D], s: f64| {
        let mut o = *a;
        for k in 0..D {
            o[k] += s * b[k];
        }
        o
    };
    let k1 = f(x);
    let k2 = f(&add(x, &k1, h / 2.0));
    let k3 = f(&add(x, &k2, h / 2.0));
    let k4 = f(&add(x, &k3, h));
    let mut o = *x;
    for k in 0..D {
        o[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
    }
    o
}

/// The time in `[0, h]` where the cubic Hermite interpolant of a scalar
/// `y` (values `y0`, `y1`, slopes `d0`, `d1` at the ends of a step of size
/// `h`) crosses zero, for a step over which `y` changes sign (Newton from
/// the secant, kept in the step).
pub fn hermite_zero(y0: f64, y1: f64, d0: f64, d1: f64, h: f64) -> f64 {
    let p = |s: f64| {
        let (s2, s3) = (s * s, s * s * s);
        (2.0 * s3 - 3.0 * s2 + 1.0) * y0
            + (s3 - 2.0 * s2 + s) * h * d0
            + (-2.0 * s3 + 3.0 * s2) * y1
            + (s3 - s2) * h * d1
    };
    let dp = |s: f64| {
        let s2 = s * s;
        (6.0 * s2 - 6.0 * s) * y0
            + (3.0 * s2 - 4.0 * s + 1.0) * h * d0
            + (-6.0 * s2 + 6.0 * s) * y1
            + (3.0 * s2 - 2.0 * s) * h * d1
    };
    let mut s = if y1 != y0 { y0 / (y0 - y1) } else { 0.5 };
    for _ in 0..20 {
        let d = dp(s);
        if d == 0.0 {
            break;
        }
        let next = (s - p(s) / d).clamp(0.0, 1.0);
        if (next - s).abs() < 1e-15 {
            s = next;
            break;
        }
        s = next;
    }
    s * h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rk4_is_fourth_order_and_hermite_finds_zeros() {
        // x'' = −x from (1, 0): x(t) = cos t
        let f = |x: &[f64; 2]| [x[1], -x[0]];
        let err = |n: usize| {
            let h = 1.0 / n as f64;
            let mut x = [1.0, 0.0];
            for _ in 0..n {
                x = rk4(f, &x, h);
            }
            (x[0] - 1f64.cos()).abs()
        };
        let ratio = err(20) / err(40);
        assert!((ratio - 16.0).abs() < 1.0, "{ratio}");
        // cos t crosses zero at π/2, inside the step [1.5, 1.6]
        let (a, b) = (1.5f64, 1.6f64);
        let t = a + hermite_zero(a.cos(), b.cos(), -a.sin(), -b.sin(), b - a);
        assert!((t - std::f64::consts::FRAC_PI_2).abs() < 1e-7, "{t}");
    }
}
