//! The scalar amplitude-phase network, one sample at a time: the oracle of
//! the lane engine ([`crate::onn::ap::engine`]) and the model the gradient
//! check differentiates. The equations are in [`crate::onn::ap`].

use crate::onn::ap::params::ApParams;
use crate::onn::float::Settle;
use crate::rng::Rng;

/// The coupling as neighbour lists, built once per parameter set: row `i`
/// holds `(j, W_ij)` for every neighbour `j`.
#[derive(Debug, Clone)]
pub struct Net<'a> {
    pub p: &'a ApParams,
    adj: Vec<Vec<(usize, f32)>>,
}

/// A state: `z_i = re[i] + i im[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub re: Vec<f32>,
    pub im: Vec<f32>,
}

impl State {
    /// The initial state of `p`.
    pub fn initial(p: &ApParams) -> State {
        State {
            re: p.x0.clone(),
            im: p.y0.clone(),
        }
    }
}

impl<'a> Net<'a> {
    pub fn new(p: &'a ApParams) -> Net<'a> {
        let edges = p.topo.edges();
        assert_eq!(edges.len(), p.w.len(), "w does not match the topology");
        let mut adj = vec![Vec::new(); p.topo.n()];
        for (e, &(i, j)) in edges.iter().enumerate() {
            adj[i].push((j, p.w[e]));
            adj[j].push((i, p.w[e]));
        }
        Net { p, adj }
    }

    /// Steps from `z` (in/out) with the input `x`: free with `beta = 0`,
    /// else nudged toward `label`. Each step is
    /// `z ← (z + eps (μ z + Σ_j W z_j + b + i δω z + nudge)) / (1 + eps |z|²)`
    /// (all on the right at the old state), then the noise.
    pub fn settle(
        &self,
        x: &[f32],
        z: &mut State,
        beta: f32,
        label: Option<usize>,
        s: &Settle,
        rng: &mut Rng,
    ) {
        let b = field(self.p, x);
        let p = self.p;
        let n = p.topo.n();
        assert_eq!(z.re.len(), n, "state has the wrong length");
        let outs = p.topo.outputs();
        if beta != 0.0 {
            assert!(label.is_some(), "a nudged settle needs a label");
        }
        let label = label.unwrap_or(usize::MAX);
        let kick = s.eps.sqrt() * s.noise;
        let mut nx = vec![0f32; n];
        let mut ny = vec![0f32; n];
        for _ in 0..s.steps {
            for i in 0..n {
                let (mut ax, mut ay) = (0f32, 0f32);
                for &(j, w) in &self.adj[i] {
                    ax += w * z.re[j];
                    ay += w * z.im[j];
                }
                let (x, y) = (z.re[i], z.im[i]);
                let (mu, dw) = (p.mu[i], p.domega[i]);
                let mut fx = mu * x + ax + b[i] - dw * y;
                let fy = mu * y + ay + dw * x;
                if beta != 0.0 && outs.contains(&i) {
                    let t = if i - outs.start == label { 1.0 } else { -1.0 };
                    fx -= 0.5 * beta * (x - t);
                }
                // the saturation −|z|² z taken implicitly (see the module docs)
                let den = 1.0 + s.eps * (x * x + y * y);
                nx[i] = (x + s.eps * fx) / den;
                ny[i] = (y + s.eps * fy) / den;
            }
            let mut change = 0f32;
            for i in 0..n {
                change = change
                    .max((nx[i] - z.re[i]).abs())
                    .max((ny[i] - z.im[i]).abs());
                z.re[i] = nx[i];
                z.im[i] = ny[i];
            }
            if kick > 0.0 {
                for i in 0..n {
                    z.re[i] += kick * rng.normal() as f32;
                    z.im[i] += kick * rng.normal() as f32;
                }
            }
            if s.tol > 0.0 && change < s.tol {
                break;
            }
        }
    }
}

/// The input field `b_i = h_i + Σ_k U_ik x_k` (just `h_i` outside the input layer).
pub fn field(p: &ApParams, x: &[f32]) -> Vec<f32> {
    let ni = p.topo.inputs;
    assert_eq!(x.len(), ni, "input has the wrong length");
    let mut b = p.h.clone();
    for (r, i) in p.topo.input_layer().enumerate() {
        let row = &p.u[r * ni..(r + 1) * ni];
        b[i] += row.iter().zip(x).map(|(u, x)| u * x).sum::<f32>();
    }
    b
}

/// The energy `E(z; x)` (in f64).
pub fn energy(p: &ApParams, x: &[f32], z: &State) -> f64 {
    let b = field(p, x);
    let (re, im) = (&z.re, &z.im);
    let mut e = 0f64;
    for (k, &(i, j)) in p.topo.edges().iter().enumerate() {
        let dot = re[i] as f64 * re[j] as f64 + im[i] as f64 * im[j] as f64;
        e -= 2.0 * p.w[k] as f64 * dot;
    }
    for i in 0..p.topo.n() {
        let r2 = (re[i] as f64).powi(2) + (im[i] as f64).powi(2);
        e += -(p.mu[i] as f64) * r2 + 0.5 * r2 * r2 - 2.0 * b[i] as f64 * re[i] as f64;
    }
    e
}

/// The cost `C = ½ Σ_o (Re z_o − t_o)²`, `t_o = +1` for the label, −1 otherwise.
pub fn cost(p: &ApParams, z: &State, label: usize) -> f64 {
    let mut c = 0f64;
    for (k, i) in p.topo.outputs().enumerate() {
        let t = if k == label { 1.0 } else { -1.0 };
        c += 0.5 * (z.re[i] as f64 - t).powi(2);
    }
    c
}

/// Predicted class: argmax over the outputs of `Re z_o` (lowest index wins ties).
pub fn predict(p: &ApParams, z: &State) -> usize {
    let mut best = (f32::NEG_INFINITY, 0);
    for (k, i) in p.topo.outputs().enumerate() {
        if z.re[i] > best.0 {
            best = (z.re[i], k);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    pub(crate) fn tiny(layers: &str, intra: bool, seed: u64) -> ApParams {
        let c = Config::parse(
            &format!(
                "name='t'\n[network]\ninputs=5\nlayers={layers}\nintralayer={intra}\noscillator='amplitude-phase'\n[train]\nseed={seed}\n"
            ),
            "t",
        )
        .unwrap();
        let mut p = ApParams::init(&c);
        for (i, h) in p.h.iter_mut().enumerate() {
            *h = 0.1 * (i % 4) as f32 - 0.15;
        }
        p
    }

    const X: [f32; 5] = [0.9, 0.1, 0.5, 0.0, 1.0];

    /// One step solves `z' (1 + eps |z|²) = z + eps (−½∇E(z) + |z|² z)`
    /// (E's gradient by finite differences): explicit Euler on `−½∇E`
    /// except for the saturation, taken at the new state.
    #[test]
    fn a_step_follows_half_the_energy_gradient() {
        let p = tiny("[3,2]", true, 3);
        let z0 = State {
            re: vec![0.3, -1.0, 0.7, 0.1, -0.5],
            im: vec![0.2, 0.4, -0.9, 1.1, 0.0],
        };
        let mut z1 = z0.clone();
        let eps = 0.01;
        let s = Settle {
            eps,
            steps: 1,
            noise: 0.0,
            tol: 0.0,
        };
        Net::new(&p).settle(&X, &mut z1, 0.0, None, &s, &mut Rng::new(1));
        let h = 1e-3f32;
        for i in 0..5 {
            let r2 = (z0.re[i] * z0.re[i] + z0.im[i] * z0.im[i]) as f64;
            for part in 0..2 {
                let at = |d: f32| {
                    let mut z = z0.clone();
                    if part == 0 {
                        z.re[i] += d;
                    } else {
                        z.im[i] += d;
                    }
                    energy(&p, &X, &z)
                };
                let de = (at(h) - at(-h)) / (2.0 * h as f64);
                let (was, now) = if part == 0 {
                    (z0.re[i] as f64, z1.re[i] as f64)
                } else {
                    (z0.im[i] as f64, z1.im[i] as f64)
                };
                let lhs = now * (1.0 + eps as f64 * r2) - was;
                let rhs = eps as f64 * (-0.5 * de + r2 * was);
                assert!((lhs - rhs).abs() < 2e-5, "{i}/{part}: {lhs} {rhs}");
            }
        }
    }

    #[test]
    fn free_settle_descends_the_energy_and_the_nudge_lowers_the_cost() {
        let mut p = tiny("[6,4]", false, 5);
        for w in p.w.iter_mut() {
            *w *= 2.0;
        }
        let net = Net::new(&p);
        let one = Settle {
            eps: 0.05,
            steps: 1,
            noise: 0.0,
            tol: 0.0,
        };
        let mut z = State::initial(&p);
        let mut rng = Rng::new(1);
        let e0 = energy(&p, &X, &z);
        let mut e = e0;
        for _ in 0..400 {
            net.settle(&X, &mut z, 0.0, None, &one, &mut rng);
            let e2 = energy(&p, &X, &z);
            assert!(e2 <= e + 1e-6, "energy rose: {e} -> {e2}");
            e = e2;
        }
        assert!(e < e0 - 0.1, "{e0} -> {e}");
        let long = Settle { steps: 400, ..one };
        let c0 = cost(&p, &z, 2);
        net.settle(&X, &mut z, 1.0, Some(2), &long, &mut rng);
        assert!(cost(&p, &z, 2) < c0 - 1e-3);
        assert_eq!(predict(&p, &z), 2);
    }

    #[test]
    fn noise_is_seeded_and_dispersion_turns_the_state() {
        let mut p = tiny("[3,2]", false, 1);
        let s = Settle {
            eps: 0.1,
            steps: 50,
            noise: 0.2,
            tol: 0.0,
        };
        let run = |p: &ApParams, s: &Settle, seed: u64| {
            let mut z = State::initial(p);
            Net::new(p).settle(&X, &mut z, 0.0, None, s, &mut Rng::new(seed));
            z
        };
        assert_eq!(run(&p, &s, 9), run(&p, &s, 9));
        assert_ne!(run(&p, &s, 9), run(&p, &s, 10));
        // an isolated oscillator (no coupling, no field) with δω turns at δω
        p.w.iter_mut().for_each(|w| *w = 0.0);
        p.u.iter_mut().for_each(|u| *u = 0.0);
        p.h = vec![0.0; 5];
        p.domega = vec![0.3; 5];
        let quiet = Settle {
            noise: 0.0,
            eps: 0.001,
            steps: 1000,
            ..s
        };
        let z = run(&p, &quiet, 1);
        for i in 0..5 {
            let turned = z.im[i].atan2(z.re[i]) - p.y0[i].atan2(p.x0[i]);
            assert!((turned - 0.3).abs() < 2e-3, "{i}: {turned}");
        }
    }
}
