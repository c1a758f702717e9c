//! The fast float engine: the oscillator network of [`crate::onn::float`],
//! settled [`LANES`] samples at a time.
//!
//! A *chunk* holds up to [`LANES`] samples; every per-oscillator quantity is
//! a [`Lane`], one value per sample, so each operation is a vector operation
//! over the samples (the weights are scalars broadcast to all lanes). The
//! arithmetic is elementwise in the lanes and the summation order is fixed,
//! so results do not depend on the vector width or on the number of threads.
//! Kernels are compiled for AVX-512 and AVX2 as well as the baseline and
//! picked at run time; Rust does not fuse multiplies and adds on its own, so
//! all three give the same bits.
//!
//! Differences from [`crate::onn::float::Net`], the scalar reference: sin and cos
//! come from a polynomial (absolute error below 3e-7, see [`sin_cos`]) and
//! the coupling sums run in another order, so phases agree to float rounding,
//! not bit for bit (`agrees_with_the_scalar_reference` checks it).
//!
//! The input field `h + U x` of a chunk and the `U` part of the EP gradient
//! are matrix products (`matrixmultiply::sgemm`).

// Lane loops index several arrays by the same lane number on purpose: that is
// the form the vectorizer turns into one instruction per operation.
#![allow(clippy::needless_range_loop)]

use crate::onn::float::Settle;
use crate::onn::net::{Params, Topology};
use crate::rng::Rng;
use std::f32::consts::{FRAC_PI_2, PI, TAU};

/// Samples per chunk.
pub const LANES: usize = 16;
/// One value per sample of a chunk.
pub type Lane = [f32; LANES];
pub(crate) const ZERO: Lane = [0.0; LANES];

/// sin and cos of `x` for `x` in about [−π − 0.1, π + 0.1] (wrapped phases):
/// folded to [−π/2, π/2] and evaluated by the Taylor polynomial of degree 11
/// (truncation error below 6e-8 there; total error below 3e-7).
#[inline(always)]
pub fn sin_cos(x: f32) -> (f32, f32) {
    let z = x + FRAC_PI_2;
    let z = if z >= PI { z - TAU } else { z };
    (sin_folded(x), sin_folded(z))
}

#[inline(always)]
fn sin_folded(x: f32) -> f32 {
    let y = if x > FRAC_PI_2 { PI - x } else { x };
    let y = if y < -FRAC_PI_2 { -PI - y } else { y };
    let y2 = y * y;
    let p = -1.0 / 39_916_800.0;
    let p = p * y2 + 1.0 / 362_880.0;
    let p = p * y2 - 1.0 / 5040.0;
    let p = p * y2 + 1.0 / 120.0;
    let p = p * y2 - 1.0 / 6.0;
    let p = p * y2 + 1.0;
    y * p
}

/// Wraps into [−π, π] (up to one rounding at the ends).
#[inline(always)]
fn wrap(t: f32) -> f32 {
    t - TAU * ((t + PI) * (1.0 / TAU)).floor()
}

/// The coupling matrix W in dense per-layer blocks, for the lane kernels
/// (the phase engine's and the amplitude-phase model's).
#[derive(Debug, Clone)]
pub(crate) struct Coupling {
    /// First oscillator of each layer, and one past the last.
    pub(crate) offs: Vec<usize>,
    /// `down[l]`: W between layer l and l+1, `n_l × n_{l+1}` row-major.
    down: Vec<Vec<f32>>,
    /// `up[l]`: its transpose.
    up: Vec<Vec<f32>>,
    /// `intra[l]`: W within layer l, `n_l × n_l`, zero diagonal (empty if none).
    intra: Vec<Vec<f32>>,
}

impl Coupling {
    /// The blocks of `w` (`w[e]` for the pair `t.edges()[e]`).
    pub(crate) fn new(t: &Topology, w: &[f32]) -> Coupling {
        let nl = t.layers.len();
        let mut offs = vec![0usize; nl + 1];
        for l in 0..nl {
            offs[l + 1] = offs[l] + t.layers[l];
        }
        let mut down: Vec<Vec<f32>> = (0..nl.saturating_sub(1))
            .map(|l| vec![0.0; t.layers[l] * t.layers[l + 1]])
            .collect();
        let mut intra: Vec<Vec<f32>> = (0..nl)
            .map(|l| {
                if t.intralayer {
                    vec![0.0; t.layers[l] * t.layers[l]]
                } else {
                    Vec::new()
                }
            })
            .collect();
        let edges = t.edges();
        assert_eq!(edges.len(), w.len(), "w does not match the topology");
        let layer_of = |i: usize| offs.partition_point(|&o| o <= i) - 1;
        for (e, &(i, j)) in edges.iter().enumerate() {
            let (li, lj) = (layer_of(i), layer_of(j));
            let (a, b) = (i - offs[li], j - offs[lj]);
            if li == lj {
                let n = t.layers[li];
                intra[li][a * n + b] = w[e];
                intra[li][b * n + a] = w[e];
            } else {
                debug_assert_eq!(lj, li + 1);
                down[li][a * t.layers[lj] + b] = w[e];
            }
        }
        let up = (0..down.len())
            .map(|l| transpose(&down[l], t.layers[l], t.layers[l + 1]))
            .collect();
        Coupling {
            offs,
            down,
            up,
            intra,
        }
    }

    /// Oscillators.
    pub(crate) fn n(&self) -> usize {
        *self.offs.last().unwrap()
    }

    /// `ac[i] += Σ_j W_ij c[j]` and `as_[i] += Σ_j W_ij s[j]` for every
    /// oscillator, in a fixed order (layer blocks, then intralayer blocks).
    #[inline(always)]
    pub(crate) fn sums(&self, c: &[Lane], s: &[Lane], ac: &mut [Lane], as_: &mut [Lane]) {
        let offs = &self.offs;
        for l in 0..self.down.len() {
            let (a, m, z) = (offs[l], offs[l + 1], offs[l + 2]);
            let cols_down = z - m;
            let (lo_ac, hi_ac) = ac.split_at_mut(m);
            let (lo_as, hi_as) = as_.split_at_mut(m);
            // layer l from layer l+1, then layer l+1 from layer l
            matvec(
                &self.down[l],
                cols_down,
                &c[m..z],
                &s[m..z],
                &mut lo_ac[a..m],
                &mut lo_as[a..m],
            );
            matvec(
                &self.up[l],
                m - a,
                &c[a..m],
                &s[a..m],
                &mut hi_ac[..z - m],
                &mut hi_as[..z - m],
            );
        }
        for (l, wl) in self.intra.iter().enumerate() {
            if wl.is_empty() {
                continue;
            }
            let (a, z) = (offs[l], offs[l + 1]);
            matvec(wl, z - a, &c[a..z], &s[a..z], &mut ac[a..z], &mut as_[a..z]);
        }
    }
}

/// The input field `b = h + U x` of a chunk: `xs` holds up to [`LANES`]
/// samples' inputs, sample-major (`valid × inputs`); `u` is row-major, one
/// row per oscillator of the first layer.
pub(crate) fn field(t: &Topology, h: &[f32], u: &[f32], xs: &[f32]) -> Vec<Lane> {
    let ni = t.inputs;
    let n0 = t.layers[0];
    let mut b: Vec<Lane> = h.iter().map(|&h| [h; LANES]).collect();
    if ni == 0 || xs.is_empty() {
        return b;
    }
    assert_eq!(xs.len() % ni, 0, "inputs are not a whole number of samples");
    let valid = xs.len() / ni;
    assert!(valid <= LANES, "more than {LANES} samples in a chunk");
    assert_eq!(u.len(), n0 * ni, "u does not match the topology");
    let mut ux = vec![0f32; n0 * LANES];
    // SAFETY: U is n0 × ni row-major, xs is valid × ni row-major (read as
    // its transpose, ni × valid), ux is n0 × LANES row-major: every
    // index the product touches is inside the three slices.
    unsafe {
        matrixmultiply::sgemm(
            n0,
            ni,
            valid,
            1.0,
            u.as_ptr(),
            ni as isize,
            1,
            xs.as_ptr(),
            1,
            ni as isize,
            0.0,
            ux.as_mut_ptr(),
            LANES as isize,
            1,
        );
    }
    for (r, bi) in b[..n0].iter_mut().enumerate() {
        for (q, v) in bi.iter_mut().enumerate() {
            *v += ux[r * LANES + q];
        }
    }
    b
}

/// The network in the engine's layout: dense per-layer coupling matrices.
#[derive(Debug, Clone)]
pub struct Engine<'a> {
    pub p: &'a Params,
    cpl: Coupling,
    /// `2 K_i`.
    k2: Vec<f32>,
    edges: Vec<(u32, u32)>,
    /// Another coupling function than `sin ψ` (`None`: the plain path).
    harm: Option<Harm>,
}

/// A coupling function `H(ψ) = sin(ψ − α) + Σ_{n≥2} a_n sin nψ` in the
/// engine's terms. With `C_n = Σ_j W_ij cos nθ_j`, `S_n = Σ_j W_ij sin nθ_j`
/// (the same matrix products as the plain model, on `nθ`):
/// `Σ_j W_ij H(θ_j − θ_i) = cos α (cos θ_i S_1 − sin θ_i C_1)
///   − sin α (cos θ_i C_1 + sin θ_i S_1) + Σ_n a_n (cos nθ_i S_n − sin nθ_i C_n)`.
#[derive(Debug, Clone)]
struct Harm {
    cos_a: f32,
    sin_a: f32,
    /// `a_n` for `n = 2..=order` (index `n − 2`).
    a: Vec<f32>,
    /// The constant of `H` times each row's sum of weights: `offset Σ_j W_ij`.
    pull: Vec<f32>,
}

impl Harm {
    fn new(p: &Params) -> Option<Harm> {
        let c = &p.coupling;
        if c.is_plain() {
            return None;
        }
        let mut pull = vec![0f32; p.topo.n()];
        let off = c.offset();
        if off != 0.0 {
            for (e, &(i, j)) in p.topo.edges().iter().enumerate() {
                pull[i] += off * p.w[e];
                pull[j] += off * p.w[e];
            }
        }
        Some(Harm {
            cos_a: c.alpha.cos(),
            sin_a: c.alpha.sin(),
            a: (2..=c.order()).map(|n| c.coef(n)).collect(),
            pull,
        })
    }
}

/// `out_s[m][i] = sin nθ_i`, `out_c[m][i] = cos nθ_i` for `n = m + 2` from
/// `s1 = sin θ`, `c1 = cos θ` by the angle-addition recurrence.
#[inline(always)]
fn multiples(s1: &[Lane], c1: &[Lane], out_s: &mut [Vec<Lane>], out_c: &mut [Vec<Lane>]) {
    for m in 0..out_s.len() {
        for i in 0..s1.len() {
            let (sp, cp) = if m == 0 {
                (s1[i], c1[i])
            } else {
                (out_s[m - 1][i], out_c[m - 1][i])
            };
            for q in 0..LANES {
                out_s[m][i][q] = sp[q] * c1[i][q] + cp[q] * s1[i][q];
                out_c[m][i][q] = cp[q] * c1[i][q] - sp[q] * s1[i][q];
            }
        }
    }
}

/// The targets of a nudged settle: `β` and, per lane, the label.
#[derive(Debug, Clone, Copy)]
pub struct Nudge<'a> {
    pub beta: f32,
    pub labels: &'a [usize],
}

/// What [`Engine::settle`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settled {
    /// Euler steps taken (fewer than asked when the convergence stop fired).
    pub steps: usize,
    /// Largest phase change of a valid lane in the last step (rad).
    pub last_change: f32,
}

impl<'a> Engine<'a> {
    pub fn new(p: &'a Params) -> Engine<'a> {
        let edges: Vec<(u32, u32)> = p
            .topo
            .edges()
            .into_iter()
            .map(|(i, j)| (i as u32, j as u32))
            .collect();
        Engine {
            p,
            cpl: Coupling::new(&p.topo, &p.w),
            k2: p.k.iter().map(|k| 2.0 * k).collect(),
            edges,
            harm: Harm::new(p),
        }
    }

    /// Oscillators.
    pub fn n(&self) -> usize {
        self.cpl.n()
    }

    /// The input field `b = h + U x` of a chunk: `xs` holds up to [`LANES`]
    /// samples' inputs, sample-major (`valid × inputs`).
    pub fn field(&self, xs: &[f32]) -> Vec<Lane> {
        field(&self.p.topo, &self.p.h, &self.p.u, xs)
    }

    /// Every oscillator at its initial phase `theta0`, in all lanes.
    pub fn initial(&self) -> Vec<Lane> {
        self.p.theta0.iter().map(|&t| [t; LANES]).collect()
    }

    /// Euler steps from `theta` (in/out) with the field `b`; the first
    /// `rngs.len()` lanes are the valid samples, each with its noise stream.
    /// With `s.tol > 0` it stops early once no valid lane's phase moved by
    /// more than `s.tol` in a step.
    pub fn settle(
        &self,
        theta: &mut [Lane],
        b: &[Lane],
        nudge: Option<Nudge>,
        s: &Settle,
        rngs: &mut [Rng],
    ) -> Settled {
        let n = self.n();
        assert_eq!(theta.len(), n, "theta has the wrong length");
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
        let nh = self.harm.as_ref().map_or(0, |h| h.a.len());
        let mut w = Work {
            s: vec![ZERO; n],
            c: vec![ZERO; n],
            ac: vec![ZERO; n],
            as_: vec![ZERO; n],
            hs: vec![vec![ZERO; n]; nh],
            hc: vec![vec![ZERO; n]; nh],
            hac: vec![ZERO; n],
            has: vec![ZERO; n],
            hsum: vec![ZERO; n],
        };
        let kick = s.eps.sqrt() * s.noise;
        let valid = rngs.len();
        let mut done = Settled {
            steps: 0,
            last_change: 0.0,
        };
        for _ in 0..s.steps {
            let change = kernels::step(self, &mut w, theta, b, &tgt, beta, s.eps, valid);
            if kick > 0.0 {
                for (q, rng) in rngs.iter_mut().enumerate() {
                    for t in theta.iter_mut() {
                        t[q] = wrap(t[q] + kick * rng.normal() as f32);
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

    /// The EP gradient estimate of a chunk, added into `g` (W, h, K) and
    /// returned for U as `d_i = −(cos θ_i^a − cos θ_i^b) / den` per input-layer
    /// oscillator and lane (zero in lanes `valid..`): `∂C/∂U_ik ≈ Σ_q d_iq x_qk`.
    /// `a` is the nudged state, `b` the free state (`den = β`) or the state
    /// nudged by `−β` (`den = 2β`).
    pub fn ep_grad(
        &self,
        a: &[Lane],
        b: &[Lane],
        den: f32,
        valid: usize,
        g: &mut crate::onn::net::Grad,
    ) -> Vec<Lane> {
        let n = self.n();
        let inv = 1.0 / den;
        let mut mask = ZERO;
        for m in mask.iter_mut().take(valid) {
            *m = 1.0;
        }
        let cs = |t: &[Lane]| {
            let mut c = vec![ZERO; n];
            let mut s = vec![ZERO; n];
            for i in 0..n {
                for q in 0..LANES {
                    let (sv, cv) = sin_cos(t[i][q]);
                    s[i][q] = sv;
                    c[i][q] = cv;
                }
            }
            (c, s)
        };
        let (ca, sa) = cs(a);
        let (cb, sb) = cs(b);
        if let Some(h) = &self.harm {
            // ∂E_c/∂W_ij = −Q(θi − θj) = −(cos α cos(θi − θj) + Σ (a_n/n) cos n(θi − θj))
            let nh = h.a.len();
            let mult = |c: &[Lane], s: &[Lane]| {
                let mut hs = vec![vec![ZERO; n]; nh];
                let mut hc = vec![vec![ZERO; n]; nh];
                multiples(s, c, &mut hs, &mut hc);
                (hc, hs)
            };
            let (hca, hsa) = mult(&ca, &sa);
            let (hcb, hsb) = mult(&cb, &sb);
            for (e, &(i, j)) in self.edges.iter().enumerate() {
                let (i, j) = (i as usize, j as usize);
                let mut acc = 0f32;
                for q in 0..LANES {
                    let mut da = h.cos_a * (ca[i][q] * ca[j][q] + sa[i][q] * sa[j][q]);
                    let mut db = h.cos_a * (cb[i][q] * cb[j][q] + sb[i][q] * sb[j][q]);
                    for (m, &an) in h.a.iter().enumerate() {
                        let f = an / (m + 2) as f32;
                        da += f * (hca[m][i][q] * hca[m][j][q] + hsa[m][i][q] * hsa[m][j][q]);
                        db += f * (hcb[m][i][q] * hcb[m][j][q] + hsb[m][i][q] * hsb[m][j][q]);
                    }
                    acc += (da - db) * mask[q];
                }
                g.w[e] -= acc * inv;
            }
        } else {
            // ∂E/∂W_ij = −cos(θi − θj) = −(cos θi cos θj + sin θi sin θj)
            for (e, &(i, j)) in self.edges.iter().enumerate() {
                let (i, j) = (i as usize, j as usize);
                let mut acc = 0f32;
                for q in 0..LANES {
                    let da = ca[i][q] * ca[j][q] + sa[i][q] * sa[j][q];
                    let db = cb[i][q] * cb[j][q] + sb[i][q] * sb[j][q];
                    acc += (da - db) * mask[q];
                }
                g.w[e] -= acc * inv;
            }
        }
        let n0 = self.p.topo.layers[0];
        let mut d = vec![ZERO; n0];
        for i in 0..n {
            let mut dh = 0f32;
            let mut dk = 0f32;
            for q in 0..LANES {
                let diff = (ca[i][q] - cb[i][q]) * mask[q];
                dh += diff;
                // ∂E/∂K = −½ cos 2θ = −cos²θ + ½
                dk += (ca[i][q] * ca[i][q] - cb[i][q] * cb[i][q]) * mask[q];
                if i < n0 {
                    d[i][q] = -diff * inv;
                }
            }
            g.h[i] -= dh * inv;
            g.k[i] -= dk * inv;
        }
        d
    }
}

fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

/// Scratch of one settle.
struct Work {
    s: Vec<Lane>,
    c: Vec<Lane>,
    ac: Vec<Lane>,
    as_: Vec<Lane>,
    /// With another coupling function: `sin nθ_i`, `cos nθ_i` (`[n − 2][i]`),
    /// the sums `C_n`, `S_n` of one harmonic, and the
    /// harmonics' part of the coupling term.
    hs: Vec<Vec<Lane>>,
    hc: Vec<Vec<Lane>>,
    hac: Vec<Lane>,
    has: Vec<Lane>,
    hsum: Vec<Lane>,
}

/// `ac_i = Σ_j W_ij c_j`, `as_i = Σ_j W_ij s_j` over the layers' dense
/// matrices (zeroed first).
#[inline(always)]
fn coupling_sums(e: &Engine, c: &[Lane], s: &[Lane], ac: &mut [Lane], as_: &mut [Lane]) {
    for v in ac.iter_mut().chain(as_.iter_mut()) {
        *v = ZERO;
    }
    e.cpl.sums(c, s, ac, as_);
}

/// `ac[r] += Σ_k m[r][k] c[k]`, `as[r] += Σ_k m[r][k] s[k]` for an
/// `rows × cols` row-major `m`, four rows at a time.
#[inline(always)]
pub(crate) fn matvec(
    m: &[f32],
    cols: usize,
    c: &[Lane],
    s: &[Lane],
    ac: &mut [Lane],
    as_: &mut [Lane],
) {
    let rows = ac.len();
    debug_assert_eq!(m.len(), rows * cols);
    debug_assert_eq!(c.len(), cols);
    let mut r = 0;
    while r + 4 <= rows {
        let m4 = &m[r * cols..(r + 4) * cols];
        let mut a = [ZERO; 4];
        let mut b = [ZERO; 4];
        for k in 0..cols {
            let (ck, sk) = (&c[k], &s[k]);
            for t in 0..4 {
                let w = m4[t * cols + k];
                for q in 0..LANES {
                    a[t][q] += w * ck[q];
                    b[t][q] += w * sk[q];
                }
            }
        }
        for t in 0..4 {
            for q in 0..LANES {
                ac[r + t][q] += a[t][q];
                as_[r + t][q] += b[t][q];
            }
        }
        r += 4;
    }
    while r < rows {
        let row = &m[r * cols..(r + 1) * cols];
        let mut a = ZERO;
        let mut b = ZERO;
        for (k, &w) in row.iter().enumerate() {
            for q in 0..LANES {
                a[q] += w * c[k][q];
                b[q] += w * s[k][q];
            }
        }
        for q in 0..LANES {
            ac[r][q] += a[q];
            as_[r][q] += b[q];
        }
        r += 1;
    }
}

/// One Euler step of every lane, returns the largest phase change of a
/// valid lane. Generic code, inlined into per-ISA entry points.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step_generic(
    e: &Engine,
    w: &mut Work,
    theta: &mut [Lane],
    b: &[Lane],
    tgt: &[Lane],
    beta: f32,
    eps: f32,
    valid: usize,
) -> f32 {
    let n = theta.len();
    for i in 0..n {
        for q in 0..LANES {
            let (sv, cv) = sin_cos(theta[i][q]);
            w.s[i][q] = sv;
            w.c[i][q] = cv;
        }
    }
    coupling_sums(e, &w.c, &w.s, &mut w.ac, &mut w.as_);
    if let Some(h) = &e.harm {
        multiples(&w.s, &w.c, &mut w.hs, &mut w.hc);
        for v in w.hsum.iter_mut() {
            *v = ZERO;
        }
        for (m, &an) in h.a.iter().enumerate() {
            if an == 0.0 {
                continue;
            }
            let (cm, sm) = (&w.hc[m], &w.hs[m]);
            coupling_sums(e, cm, sm, &mut w.hac, &mut w.has);
            for i in 0..n {
                for q in 0..LANES {
                    w.hsum[i][q] += an * (cm[i][q] * w.has[i][q] - sm[i][q] * w.hac[i][q]);
                }
            }
        }
    }
    let p = e.p;
    let o0 = n - tgt.len();
    let mut change = ZERO;
    for i in 0..n {
        let (si, ci, aci, asi, bi) = (&w.s[i], &w.c[i], &w.ac[i], &w.as_[i], &b[i]);
        let (dw, k2) = (p.domega[i], e.k2[i]);
        let mut d = ZERO;
        if let Some(h) = &e.harm {
            let hs = &w.hsum[i];
            for q in 0..LANES {
                // Σ_j W_ij H(θj − θi) (see `Harm`) − b sin θi − K sin 2θi
                let cpl = h.cos_a * (ci[q] * asi[q] - si[q] * aci[q])
                    - h.sin_a * (ci[q] * aci[q] + si[q] * asi[q])
                    + hs[q]
                    + h.pull[i];
                d[q] = dw + cpl - bi[q] * si[q] - k2 * si[q] * ci[q];
            }
        } else {
            for q in 0..LANES {
                // −∂E/∂θ_i = −(sin θi Σ W cos θj − cos θi Σ W sin θj) − b sin θi − K sin 2θi
                d[q] = dw - (si[q] * aci[q] - ci[q] * asi[q]) - bi[q] * si[q] - k2 * si[q] * ci[q];
            }
        }
        if beta != 0.0 && i >= o0 {
            let t = &tgt[i - o0];
            for q in 0..LANES {
                d[q] += beta * (ci[q] - t[q]) * si[q];
            }
        }
        for q in 0..LANES {
            let dt = eps * d[q];
            change[q] = change[q].max(dt.abs());
            theta[i][q] = wrap(theta[i][q] + dt);
        }
    }
    change[..valid].iter().fold(0f32, |m, &v| m.max(v))
}

mod kernels {
    use super::*;

    /// One Euler step on the widest vector unit the CPU has.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step(
        e: &Engine,
        w: &mut Work,
        theta: &mut [Lane],
        b: &[Lane],
        tgt: &[Lane],
        beta: f32,
        eps: f32,
        valid: usize,
    ) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { step_avx512(e, w, theta, b, tgt, beta, eps, valid) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { step_avx2(e, w, theta, b, tgt, beta, eps, valid) };
            }
        }
        step_generic(e, w, theta, b, tgt, beta, eps, valid)
    }

    /// The generic step compiled for one instruction set.
    macro_rules! step_for {
        ($name:ident, $features:literal) => {
            #[cfg(target_arch = "x86_64")]
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = $features)]
            unsafe fn $name(
                e: &Engine,
                w: &mut Work,
                theta: &mut [Lane],
                b: &[Lane],
                tgt: &[Lane],
                beta: f32,
                eps: f32,
                valid: usize,
            ) -> f32 {
                step_generic(e, w, theta, b, tgt, beta, eps, valid)
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
    use crate::onn::float::Net;

    fn params(layers: &str, intralayer: bool, seed: u64) -> Params {
        let c = Config::parse(
            &format!(
                "name='t'\n[network]\ninputs=7\nlayers={layers}\nintralayer={intralayer}\n[train]\nseed={seed}\ndispersion=0.1\nk_init=0.2\n"
            ),
            "t",
        )
        .unwrap();
        let mut p = Params::init(&c);
        for (i, h) in p.h.iter_mut().enumerate() {
            *h = 0.05 * (i % 5) as f32 - 0.1;
        }
        p
    }

    #[test]
    fn sin_cos_is_accurate_over_wrapped_phases() {
        let mut worst = 0f64;
        for k in 0..=200_000 {
            let x = -PI - 0.1 + (TAU + 0.2) * k as f32 / 200_000.0;
            let (s, c) = sin_cos(x);
            let xd = x as f64;
            worst = worst.max((s as f64 - xd.sin()).abs());
            worst = worst.max((c as f64 - xd.cos()).abs());
        }
        assert!(worst < 3e-7, "worst error {worst}");
    }

    #[test]
    fn agrees_with_the_scalar_reference() {
        for (layers, intra) in [("[6,5,3]", false), ("[5,4]", true), ("[21,3]", false)] {
            let p = params(layers, intra, 4);
            let eng = Engine::new(&p);
            let net = Net::new(&p);
            let valid = 11;
            let xs: Vec<f32> = (0..valid * 7)
                .map(|k| ((k * 37) % 11) as f32 / 10.0)
                .collect();
            let b = eng.field(&xs);
            let labels: Vec<usize> = (0..valid).map(|q| q % 3).collect();
            for (beta, noise) in [(0.0, 0.0), (0.7, 0.0), (-0.5, 0.05)] {
                let s = Settle {
                    eps: 0.2,
                    steps: 60,
                    noise,
                    tol: 0.0,
                };
                let mut th = eng.initial();
                let mut rngs: Vec<Rng> = (0..valid).map(|q| Rng::stream(5, q as u64)).collect();
                let nu = Nudge {
                    beta,
                    labels: &labels,
                };
                eng.settle(&mut th, &b, Some(nu), &s, &mut rngs);
                for q in 0..valid {
                    let x = &xs[q * 7..(q + 1) * 7];
                    let mut t = p.theta0.clone();
                    let mut rng = Rng::stream(5, q as u64);
                    net.settle(x, &mut t, beta, Some(labels[q]), &s, &mut rng);
                    for i in 0..p.topo.n() {
                        let d = crate::onn::float::wrap(th[i][q] - t[i]).abs();
                        assert!(
                            d < 2e-4,
                            "{layers} β={beta} lane {q} osc {i}: {} vs {}",
                            th[i][q],
                            t[i]
                        );
                    }
                }
            }
        }
    }

    /// With a phase lag and extra harmonics the engine's harmonic sums
    /// agree with the scalar model's pairwise `W_ij H(θ_j − θ_i)`, and its
    /// EP estimate of `∂E_c/∂W` with `−Q` computed pair by pair.
    #[test]
    fn other_coupling_functions_agree_with_the_scalar_reference() {
        use crate::onn::coupling::CouplingFn;
        for (layers, intra) in [("[6,5,3]", false), ("[5,4]", true)] {
            let mut p = params(layers, intra, 7);
            p.coupling = CouplingFn {
                alpha: 0.4,
                harmonics: vec![0.3, 0.0, -0.2],
                diffusive: intra,
            };
            let eng = Engine::new(&p);
            let net = Net::new(&p);
            let valid = 5;
            let xs: Vec<f32> = (0..valid * 7)
                .map(|k| ((k * 13) % 7) as f32 / 6.0)
                .collect();
            let b = eng.field(&xs);
            let labels: Vec<usize> = (0..valid).map(|q| q % 3).collect();
            let s = Settle {
                eps: 0.1,
                steps: 80,
                noise: 0.0,
                tol: 0.0,
            };
            let nu = Nudge {
                beta: 0.5,
                labels: &labels,
            };
            let mut th = eng.initial();
            let mut rngs: Vec<Rng> = (0..valid).map(|q| Rng::stream(1, q as u64)).collect();
            eng.settle(&mut th, &b, Some(nu), &s, &mut rngs);
            for q in 0..valid {
                let x = &xs[q * 7..(q + 1) * 7];
                let mut t = p.theta0.clone();
                net.settle(x, &mut t, 0.5, Some(labels[q]), &s, &mut Rng::new(1));
                for i in 0..p.topo.n() {
                    let d = crate::onn::float::wrap(th[i][q] - t[i]).abs();
                    assert!(
                        d < 2e-4,
                        "{layers} lane {q} osc {i}: {} vs {}",
                        th[i][q],
                        t[i]
                    );
                }
            }
            // the W part of the EP estimate against −Q pair by pair
            let th0 = eng.initial();
            let mut g = crate::onn::net::Grad::zeros(&p);
            eng.ep_grad(&th, &th0, 0.5, valid, &mut g);
            for (e, &(i, j)) in p.topo.edges().iter().enumerate() {
                let want: f64 = (0..valid)
                    .map(|q| {
                        let qa = p.coupling.q((th[i][q] - th[j][q]) as f64);
                        let qb = p.coupling.q((th0[i][q] - th0[j][q]) as f64);
                        -(qa - qb) / 0.5
                    })
                    .sum();
                assert!(
                    (g.w[e] as f64 - want).abs() < 1e-4,
                    "edge {e}: {} vs {want}",
                    g.w[e]
                );
            }
        }
    }

    #[test]
    fn convergence_stop_and_padding_lanes() {
        let p = params("[6,3]", false, 2);
        let eng = Engine::new(&p);
        let xs = vec![0.5f32; 2 * 7];
        let b = eng.field(&xs);
        let s = Settle {
            eps: 0.2,
            steps: 5000,
            noise: 0.0,
            tol: 1e-5,
        };
        let mut th = eng.initial();
        let mut rngs = vec![Rng::new(1), Rng::new(2)];
        let r = eng.settle(&mut th, &b, None, &s, &mut rngs);
        assert!(r.steps < 5000 && r.last_change < 1e-5, "{r:?}");
        // the same two samples with no stop: almost the same state
        let mut th2 = eng.initial();
        let s2 = Settle { tol: 0.0, ..s };
        eng.settle(&mut th2, &b, None, &s2, &mut rngs);
        for i in 0..p.topo.n() {
            for q in 0..2 {
                assert!((th[i][q] - th2[i][q]).abs() < 1e-2);
            }
        }
    }
}
