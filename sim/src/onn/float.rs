//! The float oscillator network of MODEL.md section 1.
//!
//! Energy
//! `E(θ; x) = −Σ_{i<j} W_ij cos(θ_i − θ_j) − Σ_i b_i cos θ_i − Σ_i (K_i/2) cos 2θ_i`
//! with the input field `b = h + U x`, and the dynamics
//! `dθ_i/dt = δω_i − ∂E/∂θ_i (+ nudge) + σ ξ_i`, integrated by explicit
//! (Jacobi) Euler steps. The coupling sum uses the identity
//! `Σ_j W_ij sin(θ_i − θ_j) = sin θ_i Σ_j W_ij cos θ_j − cos θ_i Σ_j W_ij sin θ_j`
//! over an adjacency (CSR) built once from `topo.edges()`. With another
//! coupling function ([`crate::onn::coupling`]) each pair's
//! `W_ij H(θ_j − θ_i)` is computed as it is written (in f64), the plain
//! reference of the engine's harmonic sums.

use crate::onn::net::Params;
use crate::rng::Rng;
use std::f32::consts::PI;

/// How to settle: Euler time step, number of steps, phase-noise σ, and the
/// convergence stop: with `tol > 0`, stop once no phase moves by more than
/// `tol` (rad) in a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settle {
    pub eps: f32,
    pub steps: usize,
    pub noise: f32,
    pub tol: f32,
}

/// The coupling matrix as a symmetric adjacency in CSR form with the weight
/// values copied in: row `i` holds `(j, W_ij)` for every neighbour `j`.
/// Build it once per parameter set and settle many samples with it.
#[derive(Debug, Clone)]
pub struct Net<'a> {
    pub p: &'a Params,
    start: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f32>,
}

impl<'a> Net<'a> {
    pub fn new(p: &'a Params) -> Net<'a> {
        let n = p.topo.n();
        let edges = p.topo.edges();
        assert_eq!(edges.len(), p.w.len(), "w does not match the topology");
        let mut deg = vec![0usize; n];
        for &(i, j) in &edges {
            deg[i] += 1;
            deg[j] += 1;
        }
        let mut start = vec![0usize; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + deg[i];
        }
        let mut fill = start.clone();
        let mut col = vec![0u32; start[n]];
        let mut val = vec![0f32; start[n]];
        for (e, &(i, j)) in edges.iter().enumerate() {
            col[fill[i]] = j as u32;
            val[fill[i]] = p.w[e];
            fill[i] += 1;
            col[fill[j]] = i as u32;
            val[fill[j]] = p.w[e];
            fill[j] += 1;
        }
        Net { p, start, col, val }
    }

    /// [`settle`] with this net's adjacency (computes the field from `x`).
    pub fn settle(
        &self,
        x: &[f32],
        theta: &mut [f32],
        beta: f32,
        label: Option<usize>,
        s: &Settle,
        rng: &mut Rng,
    ) {
        let b = field(self.p, x);
        self.settle_field(&b, theta, beta, label, s, rng);
    }

    /// Settles with a precomputed input field `b` (see [`field`]).
    pub fn settle_field(
        &self,
        b: &[f32],
        theta: &mut [f32],
        beta: f32,
        label: Option<usize>,
        s: &Settle,
        rng: &mut Rng,
    ) {
        let p = self.p;
        let n = p.topo.n();
        assert_eq!(theta.len(), n, "theta has the wrong length");
        assert_eq!(b.len(), n, "field has the wrong length");
        let outs = p.topo.outputs();
        let nudge = beta != 0.0;
        if nudge {
            assert!(label.is_some(), "a nudged settle needs a label");
        }
        let label = label.unwrap_or(usize::MAX);
        let mut sn = vec![0f32; n];
        let mut cs = vec![0f32; n];
        let mut drive = vec![0f32; n];
        let kick = s.eps.sqrt() * s.noise;
        let plain = p.coupling.is_plain();
        for _ in 0..s.steps {
            let mut change = 0f32;
            for i in 0..n {
                let (si, ci) = theta[i].sin_cos();
                sn[i] = si;
                cs[i] = ci;
            }
            for i in 0..n {
                let mut c = 0f32;
                let mut sm = 0f32;
                for q in self.start[i]..self.start[i + 1] {
                    let j = self.col[q] as usize;
                    let w = self.val[q];
                    c += w * cs[j];
                    sm += w * sn[j];
                }
                let (si, ci) = (sn[i], cs[i]);
                let mut d = if plain {
                    // −∂E/∂θ_i = −Σ W sin(θi−θj) − b sinθ − K sin2θ
                    p.domega[i] - (si * c - ci * sm) - b[i] * si - p.k[i] * 2.0 * si * ci
                } else {
                    let mut hs = 0f64;
                    for q in self.start[i]..self.start[i + 1] {
                        let j = self.col[q] as usize;
                        hs += self.val[q] as f64 * p.coupling.h((theta[j] - theta[i]) as f64);
                    }
                    p.domega[i] + hs as f32 - b[i] * si - p.k[i] * 2.0 * si * ci
                };
                if nudge && outs.contains(&i) {
                    let t = if i - outs.start == label { 1.0 } else { -1.0 };
                    d += beta * (ci - t) * si;
                }
                drive[i] = d;
            }
            for i in 0..n {
                let dt = s.eps * drive[i];
                change = change.max(dt.abs());
                let mut t = theta[i] + dt;
                if kick > 0.0 {
                    t += kick * rng.normal() as f32;
                }
                theta[i] = wrap(t);
            }
            if s.tol > 0.0 && change < s.tol {
                break;
            }
        }
    }
}

/// Wraps a phase into [−π, π).
#[inline]
pub fn wrap(t: f32) -> f32 {
    if (-PI..PI).contains(&t) {
        t
    } else {
        let two_pi = 2.0 * PI;
        t - two_pi * ((t + PI) / two_pi).floor()
    }
}

/// Euler steps of `dθ_i/dt = δω_i − ∂E/∂θ_i + nudge + σ ξ`, with the input
/// field `b = h + U x` computed once. `beta` = 0 means free; nudged adds
/// `β (cos θ_o − t_o) sin θ_o` to the outputs, `t_o = +1` for the label,
/// −1 otherwise. Starts from `theta` (in/out), so the nudged phase continues
/// from the free equilibrium.
pub fn settle(
    p: &Params,
    x: &[f32],
    theta: &mut [f32],
    beta: f32,
    label: Option<usize>,
    s: &Settle,
    rng: &mut Rng,
) {
    Net::new(p).settle(x, theta, beta, label, s, rng)
}

/// Predicted class: argmax over the outputs of `cos θ_o` (lowest index wins ties).
pub fn predict(p: &Params, theta: &[f32]) -> usize {
    let outs = p.topo.outputs();
    let mut best = 0;
    let mut best_v = f32::NEG_INFINITY;
    for (k, i) in outs.enumerate() {
        let v = theta[i].cos();
        if v > best_v {
            best_v = v;
            best = k;
        }
    }
    best
}

/// The input field `b_i = h_i + Σ_k U_ik x_k` (just `h_i` outside the input layer).
pub fn field(p: &Params, x: &[f32]) -> Vec<f32> {
    let ni = p.topo.inputs;
    assert_eq!(x.len(), ni, "input has the wrong length");
    let mut b = p.h.clone();
    for (r, i) in p.topo.input_layer().enumerate() {
        let row = &p.u[r * ni..(r + 1) * ni];
        b[i] += row.iter().zip(x).map(|(u, x)| u * x).sum::<f32>();
    }
    b
}

/// The energy `E(θ; x)` (in f64); with another coupling function, the
/// energy of its odd part (`−W_ij Q(θ_i − θ_j)` per pair; the even part has
/// none).
pub fn energy(p: &Params, x: &[f32], theta: &[f32]) -> f64 {
    let b = field(p, x);
    let mut e = 0f64;
    let plain = p.coupling.is_plain();
    for (k, &(i, j)) in p.topo.edges().iter().enumerate() {
        let d = theta[i] as f64 - theta[j] as f64;
        e -= p.w[k] as f64 * if plain { d.cos() } else { p.coupling.q(d) };
    }
    for i in 0..p.topo.n() {
        let t = theta[i] as f64;
        e -= b[i] as f64 * t.cos() + 0.5 * p.k[i] as f64 * (2.0 * t).cos();
    }
    e
}

/// The cost `C = ½ Σ_o (cos θ_o − t_o)²`, `t_o = +1` for the label, −1 otherwise.
pub fn cost(p: &Params, theta: &[f32], label: usize) -> f64 {
    let outs = p.topo.outputs();
    let mut c = 0f64;
    for (k, i) in outs.enumerate() {
        let t = if k == label { 1.0 } else { -1.0 };
        let d = (theta[i] as f64).cos() - t;
        c += 0.5 * d * d;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn tiny(layers: &str, seed: u64) -> Params {
        let c = Config::parse(
            &format!(
                "name='t'\n[network]\ninputs=5\nlayers={layers}\n[train]\nseed={seed}\ndispersion=0.0\n"
            ),
            "t",
        )
        .unwrap();
        Params::init(&c)
    }

    #[test]
    fn field_and_coupling_match_definitions() {
        let mut p = tiny("[3,2]", 3);
        p.h = vec![0.1, -0.2, 0.3, 0.4, -0.5];
        p.k = vec![0.2; 5];
        let x = [0.0, 0.5, 1.0, 0.25, 0.75];
        let b = field(&p, &x);
        for (r, &br) in b.iter().enumerate().take(3) {
            let want: f32 = p.h[r] + (0..5).map(|k| p.u[r * 5 + k] * x[k]).sum::<f32>();
            assert!((br - want).abs() < 1e-6);
        }
        assert_eq!(&b[3..], &p.h[3..]);
        // one Euler step (no noise) equals θ − eps ∂E/∂θ by finite differences
        let theta: Vec<f32> = vec![0.3, -1.0, 2.0, 0.1, -2.5];
        let mut t1 = theta.clone();
        let s = Settle {
            eps: 0.01,
            steps: 1,
            noise: 0.0,
            tol: 0.0,
        };
        settle(&p, &x, &mut t1, 0.0, None, &s, &mut Rng::new(1));
        for i in 0..5 {
            let h = 1e-3f32;
            let mut a = theta.clone();
            a[i] += h;
            let mut m = theta.clone();
            m[i] -= h;
            let de = (energy(&p, &x, &a) - energy(&p, &x, &m)) / (2.0 * h as f64);
            let want = theta[i] as f64 - 0.01 * de;
            assert!((t1[i] as f64 - want).abs() < 2e-5, "{i}: {} {want}", t1[i]);
        }
    }

    #[test]
    fn free_settle_descends_energy() {
        let mut p = tiny("[6,4]", 5);
        for w in p.w.iter_mut() {
            *w *= 3.0;
        }
        p.k = vec![0.3; 10];
        p.h = (0..10).map(|i| 0.1 * i as f32 - 0.4).collect();
        let x = [0.9, 0.1, 0.5, 0.0, 1.0];
        let s = Settle {
            eps: 0.05,
            steps: 1,
            noise: 0.0,
            tol: 0.0,
        };
        let net = Net::new(&p);
        let mut theta = p.theta0.clone();
        let mut rng = Rng::new(1);
        let mut e = energy(&p, &x, &theta);
        let e0 = e;
        for _ in 0..400 {
            net.settle(&x, &mut theta, 0.0, None, &s, &mut rng);
            let e2 = energy(&p, &x, &theta);
            assert!(e2 <= e + 1e-6, "energy rose: {e} -> {e2}");
            e = e2;
        }
        assert!(e < e0 - 0.1, "{e0} -> {e}");
    }

    #[test]
    fn nudge_lowers_cost_and_predict() {
        let p = tiny("[4,3]", 2);
        let x = [0.2, 0.4, 0.6, 0.8, 1.0];
        let s = Settle {
            eps: 0.2,
            steps: 200,
            noise: 0.0,
            tol: 0.0,
        };
        let mut rng = Rng::new(1);
        let mut th = p.theta0.clone();
        settle(&p, &x, &mut th, 0.0, None, &s, &mut rng);
        let c0 = cost(&p, &th, 1);
        settle(&p, &x, &mut th, 1.0, Some(1), &s, &mut rng);
        assert!(cost(&p, &th, 1) < c0);
        let mut t = vec![0.0; 7];
        t[4] = 0.1;
        t[5] = 0.5;
        t[6] = 3.0;
        assert_eq!(predict(&p, &t), 0);
        t[4] = 0.5;
        assert_eq!(predict(&p, &t), 0, "ties go to the lowest index");
        t[5] = 0.2;
        assert_eq!(predict(&p, &t), 1);
    }

    #[test]
    fn noise_is_seeded_and_phases_wrap() {
        let mut p = tiny("[3,2]", 1);
        p.domega = vec![1.0; 5];
        let x = [0.5; 5];
        let s = Settle {
            eps: 0.25,
            steps: 100,
            noise: 0.3,
            tol: 0.0,
        };
        let mut a = p.theta0.clone();
        let mut b = p.theta0.clone();
        settle(&p, &x, &mut a, 0.0, None, &s, &mut Rng::new(9));
        settle(&p, &x, &mut b, 0.0, None, &s, &mut Rng::new(9));
        assert_eq!(a, b);
        assert!(a.iter().all(|t| (-PI..PI).contains(t)));
        let mut c = p.theta0.clone();
        settle(&p, &x, &mut c, 0.0, None, &s, &mut Rng::new(10));
        assert_ne!(a, c);
        assert!((wrap(7.0) - (7.0 - 2.0 * PI)).abs() < 1e-6);
        assert!((wrap(-4.0) - (-4.0 + 2.0 * PI)).abs() < 1e-6);
    }
}
