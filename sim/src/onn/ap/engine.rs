//! The fast amplitude-phase engine: the model of [`crate::onn::ap::float`]
//! settled [`LANES`] samples at a time, in the phase engine's style
//! ([`crate::onn::batch`]): every per-oscillator quantity is a [`Lane`], the
//! coupling sums `Σ_j W_ij x_j` and `Σ_j W_ij y_j` go through the same
//! dense blocks (`Coupling::sums`, which the phase engine feeds with
//! `cos θ`, `sin θ`), and the summation order is fixed, so results do not
//! depend on the vector width or the number of threads. There is no sin or
//! cos: the state is Cartesian.

// Lane loops index several arrays by the same lane number on purpose: that is
// the form the vectorizer turns into one instruction per operation.
#![allow(clippy::needless_range_loop)]

use crate::onn::ap::params::ApParams;
use crate::onn::batch::{field, Coupling, Lane, Nudge, Settled, LANES, ZERO};
use crate::onn::float::Settle;
use crate::onn::net::{Grad, Topology};
use crate::onn::train::LaneEngine;
use crate::rng::Rng;

/// The state of a chunk: `z_i = x[i] + i y[i]`, per lane.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub x: Vec<Lane>,
    pub y: Vec<Lane>,
}

/// The network in the engine's layout.
#[derive(Debug, Clone)]
pub struct ApEngine<'a> {
    pub p: &'a ApParams,
    cpl: Coupling,
    edges: Vec<(u32, u32)>,
}

/// Scratch of one settle: the coupling sums.
struct Work {
    ax: Vec<Lane>,
    ay: Vec<Lane>,
}

impl<'a> ApEngine<'a> {
    pub fn new(p: &'a ApParams) -> ApEngine<'a> {
        let edges = p
            .topo
            .edges()
            .into_iter()
            .map(|(i, j)| (i as u32, j as u32))
            .collect();
        ApEngine {
            p,
            cpl: Coupling::new(&p.topo, &p.w),
            edges,
        }
    }

    pub fn n(&self) -> usize {
        self.cpl.n()
    }

    /// Steps from `st` (in/out) with the field `b` (see
    /// [`crate::onn::ap::float::Net::settle`]); the first
    /// `rngs.len()` lanes are the valid samples, each with its noise stream
    /// (per step, after the update: `x` then `y` of every oscillator in
    /// order, as the scalar model draws them). With `s.tol > 0` it stops
    /// once no valid lane's `x` or `y` moved by more than `s.tol` in a step.
    pub fn settle(
        &self,
        st: &mut State,
        b: &[Lane],
        nudge: Option<Nudge>,
        s: &Settle,
        rngs: &mut [Rng],
    ) -> Settled {
        let n = self.n();
        assert_eq!(st.x.len(), n, "state has the wrong length");
        assert_eq!(b.len(), n, "field has the wrong length");
        assert!(rngs.len() <= LANES, "more than {LANES} noise streams");
        let outs = self.p.topo.outputs();
        let mut tgt = vec![ZERO; outs.len()];
        let beta = match nudge {
            Some(nu) if nu.beta != 0.0 => {
                assert!(nu.labels.len() <= LANES, "more labels than lanes");
                for (o, t) in tgt.iter_mut().enumerate() {
                    for q in 0..LANES {
                        t[q] = if nu.labels.get(q) == Some(&o) {
                            1.0
                        } else {
                            -1.0
                        };
                    }
                }
                nu.beta
            }
            _ => 0.0,
        };
        let mut w = Work {
            ax: vec![ZERO; n],
            ay: vec![ZERO; n],
        };
        let kick = s.eps.sqrt() * s.noise;
        let valid = rngs.len();
        let mut done = Settled {
            steps: 0,
            last_change: 0.0,
        };
        for _ in 0..s.steps {
            let change = kernels::step(self, &mut w, st, b, &tgt, 0.5 * beta, s.eps, valid);
            if kick > 0.0 {
                for (q, rng) in rngs.iter_mut().enumerate() {
                    for i in 0..n {
                        st.x[i][q] += kick * rng.normal() as f32;
                        st.y[i][q] += kick * rng.normal() as f32;
                    }
                }
            }
            done.steps += 1;
            done.last_change = change;
            if s.tol > 0.0 && change < s.tol {
                break;
            }
        }
        done
    }

    /// EP's estimate of a chunk from the states `a` (nudged) and `b` (free,
    /// `den = β`, or nudged by `−β`, `den = 2β`), added into `g` (W, h) with
    /// `∂E/∂W_ij = −2(x_i x_j + y_i y_j)` and `∂E/∂h_i = −2 x_i`; returns the
    /// U factor `d_i = −2(x_i^a − x_i^b) / den` per input-layer oscillator
    /// and lane (zero in lanes `valid..`): `∂C/∂U_ik ≈ Σ_q d_iq x_qk`.
    pub fn ep_grad(&self, a: &State, b: &State, den: f32, valid: usize, g: &mut Grad) -> Vec<Lane> {
        let inv = 1.0 / den;
        let mut mask = ZERO;
        for m in mask.iter_mut().take(valid) {
            *m = 1.0;
        }
        for (e, &(i, j)) in self.edges.iter().enumerate() {
            let (i, j) = (i as usize, j as usize);
            let mut acc = 0f32;
            for q in 0..LANES {
                let da = a.x[i][q] * a.x[j][q] + a.y[i][q] * a.y[j][q];
                let db = b.x[i][q] * b.x[j][q] + b.y[i][q] * b.y[j][q];
                acc += (da - db) * mask[q];
            }
            g.w[e] -= 2.0 * acc * inv;
        }
        let n0 = self.p.topo.layers[0];
        let mut d = vec![ZERO; n0];
        for i in 0..self.n() {
            let mut dh = 0f32;
            for q in 0..LANES {
                let diff = (a.x[i][q] - b.x[i][q]) * mask[q];
                dh += diff;
                if i < n0 {
                    d[i][q] = -2.0 * diff * inv;
                }
            }
            g.h[i] -= 2.0 * dh * inv;
        }
        d
    }
}

impl LaneEngine for ApEngine<'_> {
    type State = State;

    fn field(&self, xs: &[f32]) -> Vec<Lane> {
        field(&self.p.topo, &self.p.h, &self.p.u, xs)
    }

    fn initial(&self) -> State {
        State {
            x: self.p.x0.iter().map(|&v| [v; LANES]).collect(),
            y: self.p.y0.iter().map(|&v| [v; LANES]).collect(),
        }
    }

    fn settle(
        &self,
        st: &mut State,
        b: &[Lane],
        nudge: Option<Nudge>,
        s: &Settle,
        rngs: &mut [Rng],
    ) -> Settled {
        ApEngine::settle(self, st, b, nudge, s, rngs)
    }

    fn ep_grad(&self, a: &State, b: &State, den: f32, valid: usize, g: &mut Grad) -> Vec<Lane> {
        ApEngine::ep_grad(self, a, b, den, valid, g)
    }

    /// `C = ½ Σ_o (x_o − t_o)²` and the argmax of `x_o` (lowest index wins ties).
    fn readout(&self, st: &State, labels: &[usize]) -> Vec<(f64, usize)> {
        let outs = self.p.topo.outputs();
        labels
            .iter()
            .enumerate()
            .map(|(q, &label)| {
                let mut c = 0f64;
                let mut best = (f32::NEG_INFINITY, 0usize);
                for (k, i) in outs.clone().enumerate() {
                    let y = st.x[i][q];
                    let t = if k == label { 1.0 } else { -1.0 };
                    c += 0.5 * (y as f64 - t).powi(2);
                    if y > best.0 {
                        best = (y, k);
                    }
                }
                (c, best.1)
            })
            .collect()
    }

    fn chunk_grad_zeros(&self) -> Grad {
        Grad {
            w: vec![0.0; self.p.w.len()],
            u: Vec::new(),
            h: vec![0.0; self.p.h.len()],
            k: Vec::new(),
        }
    }

    fn topo(&self) -> &Topology {
        &self.p.topo
    }
}

/// One step of every lane (the scalar model's semi-implicit step); returns
/// the largest change of `x` or `y` of a valid lane. `half_beta` is `β/2` (0: free). Generic code, inlined
/// into per-ISA entry points.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step_generic(
    e: &ApEngine,
    w: &mut Work,
    st: &mut State,
    b: &[Lane],
    tgt: &[Lane],
    half_beta: f32,
    eps: f32,
    valid: usize,
) -> f32 {
    let n = st.x.len();
    for v in w.ax.iter_mut().chain(w.ay.iter_mut()) {
        *v = ZERO;
    }
    e.cpl.sums(&st.x, &st.y, &mut w.ax, &mut w.ay);
    let p = e.p;
    let o0 = n - tgt.len();
    let mut change = ZERO;
    for i in 0..n {
        let (xi, yi) = (&mut st.x[i], &mut st.y[i]);
        let (axi, ayi, bi) = (&w.ax[i], &w.ay[i], &b[i]);
        let (mu, dw) = (p.mu[i], p.domega[i]);
        let mut fx = ZERO;
        let mut fy = ZERO;
        for q in 0..LANES {
            // the flow (μ − |z|²) z + Σ W z_j + b + i δω z without its saturation
            fx[q] = mu * xi[q] + axi[q] + bi[q] - dw * yi[q];
            fy[q] = mu * yi[q] + ayi[q] + dw * xi[q];
        }
        if half_beta != 0.0 && i >= o0 {
            let t = &tgt[i - o0];
            for q in 0..LANES {
                fx[q] -= half_beta * (xi[q] - t[q]);
            }
        }
        for q in 0..LANES {
            // ... which is taken at the new state: z' (1 + eps |z|²) = z + eps f
            let den = 1.0 + eps * (xi[q] * xi[q] + yi[q] * yi[q]);
            let nx = (xi[q] + eps * fx[q]) / den;
            let ny = (yi[q] + eps * fy[q]) / den;
            change[q] = change[q].max((nx - xi[q]).abs()).max((ny - yi[q]).abs());
            xi[q] = nx;
            yi[q] = ny;
        }
    }
    change[..valid].iter().fold(0f32, |m, &v| m.max(v))
}

mod kernels {
    use super::*;

    /// One Euler step on the widest vector unit the CPU has.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step(
        e: &ApEngine,
        w: &mut Work,
        st: &mut State,
        b: &[Lane],
        tgt: &[Lane],
        half_beta: f32,
        eps: f32,
        valid: usize,
    ) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { step_avx512(e, w, st, b, tgt, half_beta, eps, valid) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { step_avx2(e, w, st, b, tgt, half_beta, eps, valid) };
            }
        }
        step_generic(e, w, st, b, tgt, half_beta, eps, valid)
    }

    /// The generic step compiled for one instruction set.
    macro_rules! step_for {
        ($name:ident, $features:literal) => {
            #[cfg(target_arch = "x86_64")]
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = $features)]
            unsafe fn $name(
                e: &ApEngine,
                w: &mut Work,
                st: &mut State,
                b: &[Lane],
                tgt: &[Lane],
                half_beta: f32,
                eps: f32,
                valid: usize,
            ) -> f32 {
                step_generic(e, w, st, b, tgt, half_beta, eps, valid)
            }
        };
    }
    step_for!(step_avx512, "avx512f,avx2,avx,sse4.1");
    step_for!(step_avx2, "avx2,avx,sse4.1");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::onn::ap::float::{self, Net};

    fn params(layers: &str, intra: bool, seed: u64) -> ApParams {
        let c = Config::parse(
            &format!(
                "name='t'\n[network]\ninputs=7\nlayers={layers}\nintralayer={intra}\noscillator='amplitude-phase'\nmu=0.8\n[train]\nseed={seed}\ndispersion=0.1\n"
            ),
            "t",
        )
        .unwrap();
        let mut p = ApParams::init(&c);
        for (i, h) in p.h.iter_mut().enumerate() {
            *h = 0.05 * (i % 5) as f32 - 0.1;
        }
        p
    }

    #[test]
    fn agrees_with_the_scalar_reference() {
        for (layers, intra) in [("[6,5,3]", false), ("[5,4]", true), ("[21,3]", false)] {
            let p = params(layers, intra, 4);
            let eng = ApEngine::new(&p);
            let net = Net::new(&p);
            let valid = 11;
            let xs: Vec<f32> = (0..valid * 7)
                .map(|k| ((k * 37) % 11) as f32 / 10.0)
                .collect();
            let b = LaneEngine::field(&eng, &xs);
            let labels: Vec<usize> = (0..valid).map(|q| q % 3).collect();
            for (beta, noise) in [(0.0, 0.0), (0.7, 0.0), (-0.5, 0.05)] {
                let s = Settle {
                    eps: 0.1,
                    steps: 60,
                    noise,
                    tol: 0.0,
                };
                let mut st = eng.initial();
                let mut rngs: Vec<Rng> = (0..valid).map(|q| Rng::stream(5, q as u64)).collect();
                let nu = Nudge {
                    beta,
                    labels: &labels,
                };
                eng.settle(&mut st, &b, Some(nu), &s, &mut rngs);
                for q in 0..valid {
                    let x = &xs[q * 7..(q + 1) * 7];
                    let mut z = float::State::initial(&p);
                    let mut rng = Rng::stream(5, q as u64);
                    net.settle(x, &mut z, beta, Some(labels[q]), &s, &mut rng);
                    for i in 0..p.topo.n() {
                        let d = (st.x[i][q] - z.re[i]).abs() + (st.y[i][q] - z.im[i]).abs();
                        assert!(
                            d < 1e-4,
                            "{layers} β={beta} lane {q} osc {i}: ({}, {}) vs ({}, {})",
                            st.x[i][q],
                            st.y[i][q],
                            z.re[i],
                            z.im[i]
                        );
                    }
                    let r = LaneEngine::readout(&eng, &st, &labels);
                    assert_eq!(r[q].1, float::predict(&p, &z));
                    assert!((r[q].0 - float::cost(&p, &z, labels[q])).abs() < 1e-4);
                }
            }
        }
    }

    #[test]
    fn convergence_stop_ends_a_settled_chunk() {
        // without dispersion the free dynamics descend E to a fixed point
        let p = ApParams {
            domega: vec![0.0; 9],
            ..params("[6,3]", false, 2)
        };
        let eng = ApEngine::new(&p);
        let b = LaneEngine::field(&eng, &[0.5f32; 2 * 7]);
        let s = Settle {
            eps: 0.1,
            steps: 5000,
            noise: 0.0,
            tol: 1e-6,
        };
        let mut st = eng.initial();
        let r = eng.settle(&mut st, &b, None, &s, &mut [Rng::new(1), Rng::new(2)]);
        assert!(r.steps < 5000 && r.last_change < 1e-6, "{r:?}");
    }
}
