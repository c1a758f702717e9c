//! The fast time stepping of a [`Net`]: [`LANES`] signals at a time, one
//! per vector lane, forward and reverse (adjoint) pass.
//!
//! Every per-coordinate quantity is a [`Lane`] (one f64 per signal), stored
//! coordinate-major (structure of arrays), so each element's update is one
//! vector operation over the signals; element values are scalars broadcast
//! to all lanes. The summation order is fixed and Rust never fuses
//! multiplies and adds on its own, so the kernels compiled for AVX-512, AVX2
//! and the baseline give the same bits.
//!
//! # Forward (velocity form of the central differences, see [`super::model`])
//!
//! ```text
//! A v_{n+1} = D v_n + h (P f_n − K y_n),   y_{n+1} = y_n + h v_{n+1},
//! A = M + (h/2) C,   D = M − (h/2) C,   y_0 = 0,   v_0 = −(h/2) M⁻¹ P f_0.
//! ```
//!
//! `A` is diagonal without dashpots between moving masses; otherwise it is
//! banded (the coordinates interleave main and resonator masses in grid
//! order), factored once per parameter set as `L D Lᵀ` and solved by band
//! substitution every step.
//!
//! # Reverse (the adjoint of the recurrence)
//!
//! With the loss `J(y_1 … y_T)` and `g_m = ∂J/∂y_m`, the Lagrangian
//! `J − Σ μ_{n+1}ᵀ(A v_{n+1} − D v_n − h(P f_n − K y_n)) − Σ ν_{n+1}ᵀ(y_{n+1} − y_n − h v_{n+1})`
//! is stationary in the states when, from `μ_{T+1} = ν_{T+1} = 0` backwards,
//!
//! ```text
//! ν_m = ν_{m+1} + g_m − h K μ_{m+1},    A μ_m = D μ_{m+1} + h ν_m,
//! ```
//!
//! and then `dJ/dθ = −Σ_{n=0}^{T−1} μ_{n+1}ᵀ(∂A/∂θ v_{n+1} − ∂D/∂θ v_n + h ∂K/∂θ y_n)`:
//! for a spring `k` between `a` and `b` (`Δ` = value at `a` minus at `b`)
//! `dJ/dk = −h Σ Δμ_{n+1} Δy_n`, for a dashpot `c`
//! `dJ/dc = −½ Σ Δμ_{n+1} (Δy_{n+1} − Δy_{n−1})` (as `v_{n+1} + v_n =
//! (y_{n+1} − y_{n−1})/h`). The forward pass keeps every `y_n` for this
//! (`(T + 3) · n` lanes per chunk, allocated once per worker and reused).

// Lane loops index several arrays by the same lane number on purpose: that is
// the form the vectorizer turns into one instruction per operation.
#![allow(clippy::needless_range_loop)]

use super::model::{force_at, Net};

/// Signals per chunk (one AVX-512 register of f64).
pub const LANES: usize = 8;
/// One value per signal of a chunk.
pub type Lane = [f64; LANES];
const ZERO: Lane = [0.0; LANES];

/// How `A = M + (h/2) C` is solved.
#[derive(Debug, Clone)]
enum Solver {
    /// `1 / A_ii`, every value repeated [`LANES`] times.
    Diag(Vec<f64>),
    /// Leaves first, then a banded core (see [`sparse_solver`]).
    Sparse(Box<Sparse>),
}

/// `A` with its leaf coordinates (dashpot to at most one other coordinate,
/// such as a resonator mass) eliminated by their Schur complement, and the
/// rest (the core, in coordinate order) factored `L D Lᵀ` with unit lower
/// triangular `L` of half-bandwidth `b` in core positions.
#[derive(Debug, Clone)]
struct Sparse {
    /// `(leaf, partner, 1/A_ll, A_lp)`; a leaf with no partner has
    /// `partner == leaf` and `A_lp == 0`.
    leaves: Vec<(usize, usize, f64, f64)>,
    /// Core coordinates in order.
    core: Vec<usize>,
    b: usize,
    /// `l[i*b + t]` is `L[i][i − b + t]` (core positions).
    l: Vec<f64>,
    inv_d: Vec<f64>,
}

/// A [`Net`] in the engine's layout, for one parameter set.
#[derive(Debug, Clone)]
pub struct Engine {
    n: usize,
    h: f64,
    substeps: usize,
    mass: Vec<f64>,
    /// `mass` with every value repeated [`LANES`] times (for flat loops).
    mass8: Vec<f64>,
    /// Springs between moving masses: `(a, b, h·k)`.
    k_int: Vec<(usize, usize, f64)>,
    /// Springs to a fixed point: `(a, h·k)`.
    k_gnd: Vec<(usize, f64)>,
    /// Dashpots between moving masses: `(a, b, (h/2)·c)`.
    c_int: Vec<(usize, usize, f64)>,
    c_gnd: Vec<(usize, f64)>,
    /// Per accumulator slot (k_int, k_gnd, c_int, c_gnd in that order): the
    /// parameter and the factor turning the lane sum into `dJ/dθ`.
    slots: Vec<(Option<usize>, f64)>,
    solver: Solver,
    sources: Vec<usize>,
    probes: Vec<usize>,
}

/// Per-worker scratch, grown on demand and reused (no allocation per step).
#[derive(Debug, Clone, Default)]
pub struct Work {
    traj: Vec<Lane>,
    v: Vec<Lane>,
    rhs: Vec<Lane>,
    fin: Vec<Lane>,
    mu: Vec<Lane>,
    nu: Vec<Lane>,
    kmu: Vec<Lane>,
    acc: Vec<Lane>,
    energy: Vec<Lane>,
    steps: usize,
    stored: bool,
}

fn grow(v: &mut Vec<Lane>, len: usize) {
    if v.len() < len {
        v.resize(len, ZERO);
    }
}

impl Engine {
    pub fn new(net: &Net) -> Engine {
        let n = net.n();
        let h = net.h();
        let mut e = Engine {
            n,
            h,
            substeps: net.substeps,
            mass: net.mass.clone(),
            mass8: net.mass.iter().flat_map(|&m| [m; LANES]).collect(),
            k_int: vec![],
            k_gnd: vec![],
            c_int: vec![],
            c_gnd: vec![],
            slots: vec![],
            solver: Solver::Diag(vec![]),
            sources: net.sources.clone(),
            probes: net.probes.clone(),
        };
        let mut gnd_slots = vec![];
        for s in &net.springs {
            match s.b {
                Some(b) => {
                    e.k_int.push((s.a, b, h * s.value));
                    e.slots.push((s.param, -h));
                }
                None => {
                    e.k_gnd.push((s.a, h * s.value));
                    gnd_slots.push((s.param, -h));
                }
            }
        }
        e.slots.append(&mut gnd_slots);
        for d in &net.dashpots {
            match d.b {
                Some(b) => {
                    e.c_int.push((d.a, b, h / 2.0 * d.value));
                    e.slots.push((d.param, -0.5));
                }
                None => {
                    e.c_gnd.push((d.a, h / 2.0 * d.value));
                    gnd_slots.push((d.param, -0.5));
                }
            }
        }
        e.slots.append(&mut gnd_slots);
        // A = M + (h/2) C.
        let mut diag = net.mass.clone();
        for &(a, b, hc) in &e.c_int {
            diag[a] += hc;
            diag[b] += hc;
        }
        for &(a, hc) in &e.c_gnd {
            diag[a] += hc;
        }
        e.solver = if e.c_int.is_empty() {
            Solver::Diag(diag.iter().flat_map(|d| [1.0 / d; LANES]).collect())
        } else {
            Solver::Sparse(Box::new(sparse_solver(n, &diag, &e.c_int)))
        };
        e
    }

    pub fn probes(&self) -> usize {
        self.probes.len()
    }

    /// Steps the chunk `xs` (1 to [`LANES`] signals of one length) forward.
    /// With `store`, keeps every state for [`Engine::backward`] and
    /// [`Engine::trace`]; without, only the energies.
    pub fn forward(&self, w: &mut Work, xs: &[&[f32]], store: bool) {
        assert!(
            !xs.is_empty() && xs.len() <= LANES,
            "1..={LANES} signals per chunk"
        );
        let len = xs[0].len();
        assert!(len > 0, "empty signal");
        assert!(
            xs.iter().all(|x| x.len() == len),
            "signals of one chunk must have one length"
        );
        let t = len * self.substeps;
        let n = self.n;
        grow(&mut w.fin, t);
        for step in 0..t {
            let mut f = ZERO;
            for (q, x) in xs.iter().enumerate() {
                f[q] = force_at(x, step, self.substeps);
            }
            w.fin[step] = f;
        }
        grow(&mut w.traj, if store { (t + 3) * n } else { 2 * n });
        grow(&mut w.v, n);
        grow(&mut w.rhs, n);
        grow(&mut w.energy, self.probes.len());
        w.steps = t;
        w.stored = store;
        kernels::forward(self, w, t, store);
    }

    /// The probe energies `E_p = (1/S) Σ_n y_p,n²` of the last forward pass,
    /// one lane per signal.
    pub fn energies(&self, w: &Work) -> Vec<Lane> {
        let s = 1.0 / self.substeps as f64;
        w.energy[..self.probes.len()]
            .iter()
            .map(|e| e.map(|v| v * s))
            .collect()
    }

    /// Probe `p`'s displacement at steps `1..=T` in lane `q`, after a stored
    /// forward pass.
    pub fn trace(&self, w: &Work, p: usize, q: usize) -> Vec<f64> {
        assert!(w.stored, "trace needs a stored forward pass");
        let c = self.probes[p];
        (1..=w.steps)
            .map(|n| w.traj[(n + 1) * self.n + c][q])
            .collect()
    }

    /// The reverse pass after a stored forward pass: `dj_de[p][q]` is
    /// `∂J/∂E_p` of the signal in lane `q` (0 for unused lanes). Leaves the
    /// per-element sums in `w`; [`Engine::add_gradient`] reads them.
    pub fn backward(&self, w: &mut Work, dj_de: &[Lane]) {
        assert!(w.stored, "backward needs a stored forward pass");
        assert_eq!(dj_de.len(), self.probes.len());
        let n = self.n;
        grow(&mut w.mu, n);
        grow(&mut w.nu, n);
        grow(&mut w.kmu, n);
        grow(&mut w.acc, self.slots.len());
        // g_m = ∂J/∂E · ∂E/∂y_m = ∂J/∂E · (2/S) y_m.
        let s2 = 2.0 / self.substeps as f64;
        let wp: Vec<Lane> = dj_de.iter().map(|l| l.map(|v| v * s2)).collect();
        kernels::backward(self, w, w.steps, &wp);
    }

    /// Adds the gradient of the last reverse pass, summed over the lanes in
    /// lane order, to `grad` (indexed like [`super::model::Params::flat`]).
    pub fn add_gradient(&self, w: &Work, grad: &mut [f64]) {
        for (slot, &(param, factor)) in self.slots.iter().enumerate() {
            if let Some(p) = param {
                let s: f64 = w.acc[slot].iter().sum();
                grad[p] += factor * s;
            }
        }
    }
}

/// Factors `A = diag + off-diagonal −(h/2)c` (the `c_int` entries carry
/// `(h/2)c`), done once per parameter set. A coordinate whose dashpots join
/// it to at most one other coordinate (of more connections, or of one when
/// the pair is eliminated from its lower index) is a leaf: it is eliminated
/// first, adding `−A_lp²/A_ll` to its partner's diagonal. The remaining core
/// is factored densely within its band (the grid's main masses: half-
/// bandwidth = the grid's shorter side).
fn sparse_solver(n: usize, diag: &[f64], c_int: &[(usize, usize, f64)]) -> Sparse {
    let mut adj: Vec<Vec<(usize, f64)>> = vec![vec![]; n];
    for &(a, b, hc) in c_int {
        adj[a].push((b, -hc));
        adj[b].push((a, -hc));
    }
    let mut d = diag.to_vec();
    let mut is_leaf = vec![false; n];
    let mut leaves = vec![];
    for i in 0..n {
        let leaf = match adj[i].as_slice() {
            [] => true,
            [(p, _)] => adj[*p].len() > 1 || (*p > i && !is_leaf[*p]),
            _ => false,
        };
        if leaf {
            is_leaf[i] = true;
        }
    }
    for i in 0..n {
        if !is_leaf[i] {
            continue;
        }
        match adj[i].as_slice() {
            [] => leaves.push((i, i, 1.0 / d[i], 0.0)),
            [(p, a)] => {
                // Merge parallel dashpots to the partner (adjacency may repeat).
                leaves.push((i, *p, 1.0 / d[i], *a));
                d[*p] -= a * a / d[i];
            }
            _ => unreachable!("a leaf has at most one partner"),
        }
    }
    let core: Vec<usize> = (0..n).filter(|&i| !is_leaf[i]).collect();
    let mut pos = vec![usize::MAX; n];
    for (k, &i) in core.iter().enumerate() {
        pos[i] = k;
    }
    let m = core.len();
    let mut a = vec![0.0; m * m];
    for (k, &i) in core.iter().enumerate() {
        a[k * m + k] = d[i];
    }
    let mut b = 0;
    for &(x, y, hc) in c_int {
        if pos[x] != usize::MAX && pos[y] != usize::MAX {
            let (px, py) = (pos[x], pos[y]);
            a[px * m + py] -= hc;
            a[py * m + px] -= hc;
            b = b.max(px.abs_diff(py));
        }
    }
    let mut l = vec![0.0; m * m];
    let mut dd = vec![0.0; m];
    for j in 0..m {
        let mut dj = a[j * m + j];
        for k in j.saturating_sub(b)..j {
            dj -= l[j * m + k] * l[j * m + k] * dd[k];
        }
        dd[j] = dj;
        for i in j + 1..(j + b + 1).min(m) {
            let mut v = a[i * m + j];
            for k in i.saturating_sub(b)..j {
                v -= l[i * m + k] * l[j * m + k] * dd[k];
            }
            l[i * m + j] = v / dj;
        }
    }
    let mut band = vec![0.0; m * b];
    for i in 0..m {
        for j in i.saturating_sub(b)..i {
            band[i * b + (j + b - i)] = l[i * m + j];
        }
    }
    Sparse {
        leaves,
        core,
        b,
        l: band,
        inv_d: dd.iter().map(|v| 1.0 / v).collect(),
    }
}

// Whole-lane operations. Each element update reads its lanes into values,
// computes and writes them back, so the compiler sees no aliasing between
// `x[a]` and `x[b]` and emits one vector instruction per operation.

#[inline(always)]
fn add(a: Lane, b: Lane) -> Lane {
    let mut r = ZERO;
    for q in 0..LANES {
        r[q] = a[q] + b[q];
    }
    r
}

#[inline(always)]
fn sub(a: Lane, b: Lane) -> Lane {
    let mut r = ZERO;
    for q in 0..LANES {
        r[q] = a[q] - b[q];
    }
    r
}

#[inline(always)]
fn mul(a: Lane, b: Lane) -> Lane {
    let mut r = ZERO;
    for q in 0..LANES {
        r[q] = a[q] * b[q];
    }
    r
}

#[inline(always)]
fn scale(s: f64, a: Lane) -> Lane {
    let mut r = ZERO;
    for q in 0..LANES {
        r[q] = s * a[q];
    }
    r
}

#[inline(always)]
fn solve(solver: &Solver, rhs: &[Lane], out: &mut [Lane]) {
    match solver {
        Solver::Diag(inv) => {
            let (r, o) = (rhs.as_flattened(), out.as_flattened_mut());
            for k in 0..o.len() {
                o[k] = inv[k] * r[k];
            }
        }
        Solver::Sparse(sp) => {
            let Sparse {
                leaves,
                core,
                b,
                l,
                inv_d,
            } = sp.as_ref();
            let b = *b;
            out.copy_from_slice(rhs);
            // Eliminate the leaves: rhs_p −= (A_pl / A_ll) rhs_l.
            for &(i, p, inv, apl) in leaves {
                if p != i {
                    out[p] = sub(out[p], scale(apl * inv, out[i]));
                }
            }
            // The banded core, forward, diagonal and back substitution.
            let m = core.len();
            for k in 0..m {
                let mut z = out[core[k]];
                for j in k.saturating_sub(b)..k {
                    z = sub(z, scale(l[k * b + (j + b - k)], out[core[j]]));
                }
                out[core[k]] = z;
            }
            for k in 0..m {
                out[core[k]] = scale(inv_d[k], out[core[k]]);
            }
            for k in (0..m).rev() {
                let mut z = out[core[k]];
                for j in k + 1..(k + b + 1).min(m) {
                    z = sub(z, scale(l[j * b + (k + b - j)], out[core[j]]));
                }
                out[core[k]] = z;
            }
            // Back to the leaves: x_l = (rhs_l − A_lp x_p) / A_ll.
            for &(i, p, inv, apl) in leaves.iter().rev() {
                let r = if p != i {
                    sub(out[i], scale(apl, out[p]))
                } else {
                    out[i]
                };
                out[i] = scale(inv, r);
            }
        }
    }
}

/// Row `r` read-only and row `s` writable (`r != s`) of a row-major table.
#[inline(always)]
fn rows2(t: &mut [Lane], n: usize, r: usize, s: usize) -> (&[Lane], &mut [Lane]) {
    if r < s {
        let (lo, hi) = t.split_at_mut(s * n);
        (&lo[r * n..(r + 1) * n], &mut hi[..n])
    } else {
        let (lo, hi) = t.split_at_mut(r * n);
        (&hi[..n], &mut lo[s * n..(s + 1) * n])
    }
}

#[inline(always)]
fn forward_body(e: &Engine, w: &mut Work, t: usize, store: bool) {
    let n = e.n;
    let h = e.h;
    let v = &mut w.v[..n];
    let rhs = &mut w.rhs[..n];
    let energy = &mut w.energy[..e.probes.len()];
    energy.iter_mut().for_each(|x| *x = ZERO);
    v.iter_mut().for_each(|x| *x = ZERO);
    for &s in &e.sources {
        v[s] = sub(v[s], scale(h / 2.0 / e.mass[s], w.fin[0]));
    }
    // Rows: stored, row r holds y_{r−1} (y_{−1}, y_0, …, y_T, and a zero
    // y_{T+1}); otherwise two rows used in turn.
    let first = if store { 1 } else { 0 };
    w.traj[first * n..(first + 1) * n]
        .iter_mut()
        .for_each(|x| *x = ZERO);
    if store {
        for i in 0..n {
            w.traj[i] = scale(-h, v[i]);
        }
    }
    for step in 0..t {
        let (cur, nxt) = if store {
            (step + 1, step + 2)
        } else {
            (step & 1, (step + 1) & 1)
        };
        let (y, ynew) = rows2(&mut w.traj, n, cur, nxt);
        // rhs = D v + h (P f − K y), D = M − (h/2) C.
        {
            let (r, vf) = (rhs.as_flattened_mut(), v.as_flattened());
            for k in 0..r.len() {
                r[k] = e.mass8[k] * vf[k];
            }
        }
        let hf = scale(h, w.fin[step]);
        for &s in &e.sources {
            rhs[s] = add(rhs[s], hf);
        }
        for &(a, b, hk) in &e.k_int {
            let d = scale(hk, sub(y[a], y[b]));
            rhs[a] = sub(rhs[a], d);
            rhs[b] = add(rhs[b], d);
        }
        for &(a, hk) in &e.k_gnd {
            rhs[a] = sub(rhs[a], scale(hk, y[a]));
        }
        for &(a, b, hc) in &e.c_int {
            let d = scale(hc, sub(v[a], v[b]));
            rhs[a] = sub(rhs[a], d);
            rhs[b] = add(rhs[b], d);
        }
        for &(a, hc) in &e.c_gnd {
            rhs[a] = sub(rhs[a], scale(hc, v[a]));
        }
        solve(&e.solver, rhs, v);
        {
            let (yn, yf, vf) = (ynew.as_flattened_mut(), y.as_flattened(), v.as_flattened());
            for k in 0..yn.len() {
                yn[k] = yf[k] + h * vf[k];
            }
        }
        for (p, &c) in e.probes.iter().enumerate() {
            energy[p] = add(energy[p], mul(ynew[c], ynew[c]));
        }
    }
    if store {
        w.traj[(t + 2) * n..(t + 3) * n]
            .iter_mut()
            .for_each(|x| *x = ZERO);
    }
}

#[inline(always)]
fn backward_body(e: &Engine, w: &mut Work, t: usize, wp: &[Lane]) {
    let n = e.n;
    let h = e.h;
    let mu = &mut w.mu[..n];
    let nu = &mut w.nu[..n];
    let kmu = &mut w.kmu[..n];
    let rhs = &mut w.rhs[..n];
    let acc = &mut w.acc[..e.slots.len()];
    mu.iter_mut().for_each(|x| *x = ZERO);
    nu.iter_mut().for_each(|x| *x = ZERO);
    acc.iter_mut().for_each(|x| *x = ZERO);
    let nk = e.k_int.len();
    let ng = nk + e.k_gnd.len();
    let nc = ng + e.c_int.len();
    for m in (0..=t).rev() {
        // y_{m−1}, y_m, y_{m+1} are rows m, m+1, m+2.
        let ymm = &w.traj[m * n..(m + 1) * n];
        let ym = &w.traj[(m + 1) * n..(m + 2) * n];
        let yp = &w.traj[(m + 2) * n..(m + 3) * n];
        kmu.as_flattened_mut().fill(0.0);
        for (s, &(a, b, hk)) in e.k_int.iter().enumerate() {
            let dmu = sub(mu[a], mu[b]);
            let d = scale(hk, dmu);
            kmu[a] = add(kmu[a], d);
            kmu[b] = sub(kmu[b], d);
            acc[s] = add(acc[s], mul(dmu, sub(ym[a], ym[b])));
        }
        for (s, &(a, hk)) in e.k_gnd.iter().enumerate() {
            kmu[a] = add(kmu[a], scale(hk, mu[a]));
            acc[nk + s] = add(acc[nk + s], mul(mu[a], ym[a]));
        }
        {
            let (nf, kf) = (nu.as_flattened_mut(), kmu.as_flattened());
            for k in 0..nf.len() {
                nf[k] -= kf[k];
            }
        }
        for (p, &c) in e.probes.iter().enumerate() {
            nu[c] = add(nu[c], mul(wp[p], ym[c]));
        }
        {
            let (r, mf, nf) = (rhs.as_flattened_mut(), mu.as_flattened(), nu.as_flattened());
            for k in 0..r.len() {
                r[k] = e.mass8[k] * mf[k] + h * nf[k];
            }
        }
        for (s, &(a, b, hc)) in e.c_int.iter().enumerate() {
            let dmu = sub(mu[a], mu[b]);
            let d = scale(hc, dmu);
            rhs[a] = sub(rhs[a], d);
            rhs[b] = add(rhs[b], d);
            let dy = sub(sub(yp[a], yp[b]), sub(ymm[a], ymm[b]));
            acc[ng + s] = add(acc[ng + s], mul(dmu, dy));
        }
        for (s, &(a, hc)) in e.c_gnd.iter().enumerate() {
            rhs[a] = sub(rhs[a], scale(hc, mu[a]));
            acc[nc + s] = add(acc[nc + s], mul(mu[a], sub(yp[a], ymm[a])));
        }
        solve(&e.solver, rhs, mu);
    }
}

mod kernels {
    use super::*;

    pub(super) fn forward(e: &Engine, w: &mut Work, t: usize, store: bool) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { forward_avx512(e, w, t, store) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { forward_avx2(e, w, t, store) };
            }
        }
        forward_body(e, w, t, store)
    }

    pub(super) fn backward(e: &Engine, w: &mut Work, t: usize, wp: &[Lane]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { backward_avx512(e, w, t, wp) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { backward_avx2(e, w, t, wp) };
            }
        }
        backward_body(e, w, t, wp)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,avx,sse4.1")]
    unsafe fn forward_avx512(e: &Engine, w: &mut Work, t: usize, store: bool) {
        forward_body(e, w, t, store)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,avx,sse4.1")]
    unsafe fn forward_avx2(e: &Engine, w: &mut Work, t: usize, store: bool) {
        forward_body(e, w, t, store)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,avx,sse4.1")]
    unsafe fn backward_avx512(e: &Engine, w: &mut Work, t: usize, wp: &[Lane]) {
        backward_body(e, w, t, wp)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,avx,sse4.1")]
    unsafe fn backward_avx2(e: &Engine, w: &mut Work, t: usize, wp: &[Lane]) {
        backward_body(e, w, t, wp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::r2nn::model::{reference_run, Spec};

    fn small_spec(dashpots: bool) -> Spec {
        let mut s = Spec::authors();
        s.rows = 3;
        s.cols = 4;
        s.fixed = vec![0, 11];
        s.sources = vec![1];
        s.probes = vec![
            crate::r2nn::model::Probe {
                node: 6,
                resonator: true,
            },
            crate::r2nn::model::Probe {
                node: 9,
                resonator: false,
            },
        ];
        s.m_main = 1.0;
        s.m_res = 0.7;
        s.bounds.kn = [0.01, 0.3];
        s.bounds.kc = [0.01, 0.2];
        s.substeps = 2;
        if dashpots {
            s.coupling_dashpots = true;
            s.bounds.cc = [0.0, 0.05];
            s.damping = 0.01;
            s.res_damping = 0.02;
        }
        s
    }

    #[test]
    fn engine_agrees_with_the_dense_reference() {
        for dashpots in [false, true] {
            let spec = small_spec(dashpots);
            spec.validate().unwrap();
            let mut p = spec.init(3);
            for (i, c) in p.cc.iter_mut().enumerate() {
                *c = if dashpots { 0.01 * (i % 4) as f64 } else { 0.0 };
            }
            let net = spec.net(&p).unwrap();
            let eng = Engine::new(&net);
            let sigs: Vec<Vec<f32>> = (0..3)
                .map(|k| {
                    (0..60)
                        .map(|i| ((i * (k + 2)) as f32 * 0.3).sin())
                        .collect()
                })
                .collect();
            let xs: Vec<&[f32]> = sigs.iter().map(|s| s.as_slice()).collect();
            let mut w = Work::default();
            eng.forward(&mut w, &xs, true);
            for (q, x) in sigs.iter().enumerate() {
                let r = reference_run(&net, x);
                for p in 0..2 {
                    let got = eng.trace(&w, p, q);
                    let scale = r[p].iter().fold(0f64, |m, v| m.max(v.abs()));
                    for (a, b) in got.iter().zip(&r[p]) {
                        assert!(
                            (a - b).abs() <= 1e-10 * scale,
                            "{a} vs {b} (dashpots {dashpots})"
                        );
                    }
                }
            }
        }
    }
}
