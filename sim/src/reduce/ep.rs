//! Where Equilibrium Propagation breaks: the phase network with a coupling
//! function whose even part is not zero (a Sakaguchi lag `α`,
//! `onn::coupling`).
//!
//! With `α ≠ 0` the free dynamics is no gradient flow and EP, which keeps
//! its usual update (the nudged-minus-free difference of `∂E_c/∂param` of
//! the odd part's energy), estimates something else than the gradient of
//! the cost. Two measures against `α`:
//!
//! - [`gradient_cosine`]: on small networks (3 inputs, 3-2 oscillators, as
//!   `onn::train`'s own gradient test) settled to their fixed point, the
//!   cosine similarity between EP's estimate (`β = 0.01`, one-sided and
//!   symmetric) and the true gradient of the cost at the free fixed point
//!   (central finite differences of the scalar model, every parameter).
//! - [`digits_accuracy`]: the default digits network (`configs/digits.toml`,
//!   64-32-10) trained for a few epochs with the lag, its test accuracy.

use crate::config::Config;
use crate::data::Split;
use crate::onn::coupling::CouplingFn;
use crate::onn::float::{cost, Net, Settle};
use crate::onn::net::Params;
use crate::onn::train::{ep_batch, train, EpSettings, Inputs};
use crate::rng::Rng;
use anyhow::Result;

/// The cosine of EP's estimate with the true gradient, over networks.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineRow {
    /// Symmetric nudging: mean and minimum over the networks.
    pub symmetric: (f64, f64),
    /// One-sided nudging: mean and minimum.
    pub one_sided: (f64, f64),
    /// The largest `|dθ/dt|` left at a free state (is it a fixed point?).
    pub residual: f64,
    /// Networks whose free state is a fixed point (`|dθ/dt| < 1e-4`).
    pub settled: usize,
    /// Networks measured.
    pub networks: usize,
    /// Networks where a cosine is undefined (EP's estimate or the finite
    /// differences vanish or are not finite); left out of the means.
    pub undefined: usize,
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn param_mut(q: &mut Params, which: usize, idx: usize) -> &mut f32 {
    match which {
        0 => &mut q.w[idx],
        1 => &mut q.u[idx],
        2 => &mut q.h[idx],
        _ => &mut q.k[idx],
    }
}

/// The small network of seed `seed` with coupling `c`, its input and label.
fn small_net(seed: u64, c: &CouplingFn) -> (Params, Vec<f32>, usize) {
    let cfg = Config::parse(
        &format!("name='g'\n[network]\ninputs=3\nlayers=[3,2]\n[train]\nseed={seed}\nk_init=0.1\n"),
        "reduce::ep",
    )
    .expect("a valid config");
    let mut p = Params::init(&cfg);
    let mut rng = Rng::stream(seed, 0x6570);
    for w in p.w.iter_mut() {
        *w *= 2.0;
    }
    for h in p.h.iter_mut() {
        *h = rng.uniform(-0.3, 0.3) as f32;
    }
    p.coupling = c.clone();
    let x = (0..3).map(|_| rng.uniform(0.0, 1.0) as f32).collect();
    (p, x, (seed % 2) as usize)
}

/// The settle of the measurements: long enough to reach the fixed point.
const SETTLE: Settle = Settle {
    eps: 0.1,
    steps: 4000,
    noise: 0.0,
    tol: 0.0,
};

/// The free state of `q` on input `x`.
fn free_state(q: &Params, x: &[f32]) -> Vec<f32> {
    let mut th = q.theta0.clone();
    Net::new(q).settle(x, &mut th, 0.0, None, &SETTLE, &mut Rng::new(0));
    th
}

/// The true gradient of the cost at the free state: central differences
/// (step `h`, 0.01 in the measurements) over W, U, h, K.
fn fd_gradient(p: &Params, x: &[f32], label: usize, h: f32) -> Vec<f32> {
    let mut fd = Vec::new();
    for which in 0..4 {
        let len = [p.w.len(), p.u.len(), p.h.len(), p.k.len()][which];
        for idx in 0..len {
            let mut plus = p.clone();
            let mut minus = p.clone();
            *param_mut(&mut plus, which, idx) += h;
            *param_mut(&mut minus, which, idx) -= h;
            let cp = cost(&plus, &free_state(&plus, x), label);
            let cm = cost(&minus, &free_state(&minus, x), label);
            fd.push(((cp - cm) / (2.0 * h as f64)) as f32);
        }
    }
    fd
}

/// The first `count` seeds (from 1) whose small network has, at `α = 0`,
/// a cost gradient of norm at least 0.01 that finite differences resolve
/// (steps 0.01 and 0.005 agree within 5%). Many networks settle to phases
/// of exactly 0 or π, where the readout `cos θ_o` is flat and the gradient
/// vanishes, or sit where a step of 0.01 flips them into another state;
/// those say nothing about EP. The choice is made once, without a lag, and
/// the same networks are measured at every `α`.
pub fn networks(count: usize) -> Vec<u64> {
    let plain = CouplingFn::default();
    let norm = |g: &[f32]| g.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
    (1u64..)
        .filter(|&seed| {
            let (p, x, label) = small_net(seed, &plain);
            let g = fd_gradient(&p, &x, label, 1e-2);
            let g2 = fd_gradient(&p, &x, label, 5e-3);
            let diff: Vec<f32> = g.iter().zip(&g2).map(|(a, b)| a - b).collect();
            norm(&g) >= 0.01 && norm(&diff) <= 0.05 * norm(&g)
        })
        .take(count)
        .collect()
}

/// EP against finite differences for the coupling `c` on the networks of
/// `seeds` (see the module docs; [`networks`] chooses them).
pub fn gradient_cosine(c: &CouplingFn, seeds: &[u64]) -> CosineRow {
    let s = SETTLE;
    let mut sym = Vec::new();
    let mut one = Vec::new();
    let mut residual = 0f64;
    let mut settled = 0;
    for &seed in seeds {
        let (p, x, label) = small_net(seed, c);
        let th = free_state(&p, &x);
        let mut next = th.clone();
        let one_step = Settle { steps: 1, ..s };
        Net::new(&p).settle(&x, &mut next, 0.0, None, &one_step, &mut Rng::new(0));
        let mut here = 0f64;
        for (a, b) in th.iter().zip(&next) {
            let d = crate::onn::float::wrap(b - a) as f64 / s.eps as f64;
            here = here.max(d.abs());
        }
        residual = residual.max(here);
        settled += (here < 1e-4) as usize;
        let fd = fd_gradient(&p, &x, label, 1e-2);
        let data = Inputs {
            inputs: 3,
            rows: 1,
            cols: 3,
            x: x.clone(),
            labels: vec![label],
        };
        for (symmetric, out) in [(true, &mut sym), (false, &mut one)] {
            let ep = EpSettings {
                beta: 0.01,
                symmetric,
                free: s,
                nudged: s,
                seed: 0,
                stream_base: 0,
                augment: 0.0,
            };
            let g = ep_batch(&p, &data, &[0], &ep).grad.flat();
            out.push(cosine(&g, &fd));
        }
    }
    let undefined = sym
        .iter()
        .zip(&one)
        .filter(|(a, b)| !a.is_finite() || !b.is_finite())
        .count();
    let stats = |v: &[f64]| {
        let ok: Vec<f64> = v.iter().copied().filter(|c| c.is_finite()).collect();
        (
            ok.iter().sum::<f64>() / ok.len() as f64,
            ok.iter().copied().fold(f64::INFINITY, f64::min),
        )
    };
    CosineRow {
        symmetric: stats(&sym),
        one_sided: stats(&one),
        residual,
        settled,
        networks: seeds.len(),
        undefined,
    }
}

/// The default digits config trained for `epochs` epochs with seed `seed`
/// and coupling `c`: its last epoch's test accuracy.
pub fn digits_accuracy(split: &Split, c: &CouplingFn, epochs: usize, seed: u64) -> Result<f64> {
    let mut cfg = Config::default_config();
    cfg.train.epochs = epochs;
    cfg.train.seed = seed;
    cfg.train.alpha = c.alpha as f64;
    cfg.train.harmonics = c.harmonics.iter().map(|&a| a as f64).collect();
    cfg.train.diffusive = c.diffusive;
    cfg.validate()?;
    let mut last = f64::NAN;
    train(&cfg, split, &mut |l, _| last = l.test_acc)?;
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At `α = 0` EP is the gradient (cosine near 1); at a large lag it is
    /// measurably not.
    #[test]
    fn ep_follows_the_gradient_at_zero_lag_only() {
        let seeds = networks(4);
        eprintln!("networks {seeds:?}");
        let plain = gradient_cosine(&CouplingFn::default(), &seeds);
        let lag = gradient_cosine(
            &CouplingFn {
                alpha: 1.0,
                harmonics: Vec::new(),
                diffusive: false,
            },
            &seeds,
        );
        eprintln!("{plain:?}\n{lag:?}");
        assert!(plain.symmetric.1 > 0.99, "{plain:?}");
        assert!(plain.residual < 1e-4, "{plain:?}");
        assert!(lag.symmetric.0 < plain.symmetric.0 - 0.02, "{lag:?}");
        assert!(lag.residual > 1e-3, "a lag of 1 rad still settles: {lag:?}");
    }
}
