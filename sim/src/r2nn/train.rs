//! Training of the R²NN by exact gradients through time.
//!
//! Loss per signal: softmax cross-entropy of the logits
//! `z_p = s · E_p / Σ_q E_q` (`s` = `Spec::logit_scale`, `E` the probe
//! energies); the predicted class is the probe with the most energy. Its
//! gradient with respect to the energies,
//! `∂J/∂E_q = (s/ΣE) (δ_q − Σ_p δ_p E_p/ΣE)` with `δ = softmax(z) − onehot`,
//! seeds the engine's reverse pass.
//!
//! Optimizer: Adam on transformed coordinates, `ln k` for springs (steps are
//! relative, so one learning rate fits values spread over decades) and
//! `c / c_max` for dashpots, each value clamped into its bounds after every
//! step. A mini-batch is cut into chunks of [`LANES`] signals stepped in
//! parallel (rayon); chunk results are added in chunk order, so a seed gives
//! the same model whatever the number of threads.

use super::data::{Signals, Task};
use super::engine::{Engine, Lane, Work, LANES};
use super::model::{Params, Spec};
use crate::rng::Rng;
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainOptions {
    pub epochs: usize,
    /// Signals per mini-batch (one Adam step each).
    pub batch: usize,
    /// Adam step size in the transformed coordinates.
    pub lr: f64,
    /// The learning rate is multiplied by this after every epoch.
    pub lr_decay: f64,
    /// Seed of the initial parameters and the shuffles.
    pub seed: u64,
    /// Warm start: candidate frequencies per probe resonator in the coarse
    /// search before the first epoch (0 = none; see [`probe_sweep`]).
    #[serde(default)]
    pub sweep: usize,
    /// Initial value of every coupling spring (default: half its upper
    /// bound, see [`Spec::init`]).
    #[serde(default)]
    pub kc_init: Option<f64>,
}

impl TrainOptions {
    /// The task's training settings: 30 epochs of mini-batches of 48. Tactile
    /// and bearing use the probe-resonator warm start over 16 candidates
    /// (bearing needs it to find the fault band); the vowels train better
    /// without it, from a softer lattice (coupling springs at the geometric
    /// middle of their bounds instead of half the upper bound). docs/r2nn.md
    /// gives the accuracies of the alternatives.
    pub fn for_task(task: Task) -> TrainOptions {
        let spec = task.spec();
        TrainOptions {
            epochs: 30,
            batch: 48,
            lr: 0.05,
            lr_decay: 0.93,
            seed: 1,
            sweep: if task == Task::Vowels { 0 } else { 16 },
            kc_init: match task {
                Task::Vowels => Some((spec.bounds.kc[0] * spec.bounds.kc[1]).sqrt()),
                _ => None,
            },
        }
    }

    /// Checks the settings. `epochs = 0` is allowed: [`train`] then returns
    /// the initial parameters (after `kc_init` and the warm start).
    pub fn validate(&self) -> Result<()> {
        if self.batch == 0 {
            bail!("batch = 0: use at least one signal per mini-batch");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("lr = {}: must be positive", self.lr);
        }
        if let Some(k) = self.kc_init {
            if !(k.is_finite() && k > 0.0) {
                bail!("kc_init = {k}: must be positive");
            }
        }
        if !(self.lr_decay.is_finite() && self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            bail!("lr_decay = {}: use a value in (0, 1]", self.lr_decay);
        }
        Ok(())
    }
}

/// One line of the training log (JSON lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    /// Mean training loss over the epoch (each batch before its update).
    pub loss: f64,
    pub train_acc: f64,
    pub test_acc: f64,
    pub test_loss: f64,
    /// Learning rate used in this epoch.
    pub lr: f64,
    /// Wall time of the training part of the epoch.
    pub seconds: f64,
}

/// Loss, predicted class and `∂J/∂E` of one signal's probe energies.
pub fn loss_grad(e: &[f64], label: usize, scale: f64) -> (f64, usize, Vec<f64>) {
    let total: f64 = e.iter().sum();
    let pred = predict(e);
    if !(total > 0.0 && total.is_finite()) {
        // No energy at all (a zero signal): uniform logits, nothing to learn.
        let c = e.len() as f64;
        return (c.ln(), pred, vec![0.0; e.len()]);
    }
    let z: Vec<f64> = e.iter().map(|v| scale * v / total).collect();
    let zmax = z.iter().cloned().fold(f64::MIN, f64::max);
    let ex: Vec<f64> = z.iter().map(|v| (v - zmax).exp()).collect();
    let sum: f64 = ex.iter().sum();
    let loss = -(z[label] - zmax - sum.ln());
    let delta: Vec<f64> = ex
        .iter()
        .enumerate()
        .map(|(p, v)| v / sum - (p == label) as u8 as f64)
        .collect();
    let mean: f64 = delta.iter().zip(e).map(|(d, v)| d * v).sum::<f64>() / total;
    let g = delta.iter().map(|d| scale / total * (d - mean)).collect();
    (loss, pred, g)
}

/// The class of a set of probe energies: the probe with the most energy
/// (the first on a tie).
pub fn predict(e: &[f64]) -> usize {
    let mut best = 0;
    for (p, &v) in e.iter().enumerate() {
        if v > e[best] {
            best = p;
        }
    }
    best
}

/// What a set of chunks added up to.
#[derive(Debug, Clone, Default)]
pub struct Sums {
    pub loss: f64,
    pub correct: usize,
    pub count: usize,
    pub grad: Vec<f64>,
}

fn chunk_xs<'a>(data: &'a Signals, idx: &[usize]) -> Vec<&'a [f32]> {
    idx.iter().map(|&i| data.signal(i)).collect()
}

/// Loss, accuracy and (summed, not averaged) gradient over the signals
/// `idx` of `data`, in parallel chunks, deterministic.
pub fn batch_gradient(spec: &Spec, eng: &Engine, data: &Signals, idx: &[usize]) -> Sums {
    let n_params = spec.n_params();
    let parts: Vec<Sums> = idx
        .par_chunks(LANES)
        .map_init(Work::default, |w, chunk| {
            let xs = chunk_xs(data, chunk);
            eng.forward(w, &xs, true);
            let e = eng.energies(w);
            let mut dje = vec![[0.0; LANES]; eng.probes()];
            let mut s = Sums {
                grad: vec![0.0; n_params],
                count: chunk.len(),
                ..Sums::default()
            };
            for (q, &i) in chunk.iter().enumerate() {
                let eq: Vec<f64> = e.iter().map(|l| l[q]).collect();
                let label = data.labels[i];
                let (loss, pred, g) = loss_grad(&eq, label, spec.logit_scale);
                s.loss += loss;
                s.correct += (pred == label) as usize;
                for (p, gp) in g.iter().enumerate() {
                    dje[p][q] = *gp;
                }
            }
            eng.backward(w, &dje);
            eng.add_gradient(w, &mut s.grad);
            s
        })
        .collect();
    let mut total = Sums {
        grad: vec![0.0; n_params],
        ..Sums::default()
    };
    for p in parts {
        total.loss += p.loss;
        total.correct += p.correct;
        total.count += p.count;
        for (t, g) in total.grad.iter_mut().zip(&p.grad) {
            *t += g;
        }
    }
    total
}

/// Probe energies of every signal of `data` (forward only, in parallel).
pub fn energies(eng: &Engine, data: &Signals) -> Vec<Vec<f64>> {
    let idx: Vec<usize> = (0..data.count()).collect();
    let parts: Vec<Vec<Vec<f64>>> = idx
        .par_chunks(LANES)
        .map_init(Work::default, |w, chunk| {
            eng.forward(w, &chunk_xs(data, chunk), false);
            let e: Vec<Lane> = eng.energies(w);
            (0..chunk.len())
                .map(|q| e.iter().map(|l| l[q]).collect())
                .collect()
        })
        .collect();
    parts.into_iter().flatten().collect()
}

/// Accuracy, mean loss and the predicted classes on `data`.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    pub acc: f64,
    pub loss: f64,
    pub pred: Vec<usize>,
}

pub fn evaluate(spec: &Spec, eng: &Engine, data: &Signals) -> Eval {
    let e = energies(eng, data);
    let mut loss = 0.0;
    let mut ok = 0;
    let mut pred = Vec::with_capacity(e.len());
    for (i, ei) in e.iter().enumerate() {
        let (l, p, _) = loss_grad(ei, data.labels[i], spec.logit_scale);
        loss += l;
        ok += (p == data.labels[i]) as usize;
        pred.push(p);
    }
    let n = data.count().max(1) as f64;
    Eval {
        acc: ok as f64 / n,
        loss: loss / n,
        pred,
    }
}

/// Adam over the transformed coordinates (see the module docs).
#[derive(Debug, Clone)]
pub struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    pub const B1: f64 = 0.9;
    pub const B2: f64 = 0.999;
    pub const EPS: f64 = 1e-8;

    pub fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step on `p` with the mean gradient `grad` (flat layout), then the
    /// projection into the bounds.
    pub fn step(&mut self, spec: &Spec, p: &mut Params, grad: &[f64], lr: f64) {
        self.t += 1;
        let nodes = spec.nodes();
        let edges = spec.edges().len();
        let cc_hi = spec.bounds.cc[1];
        let mut flat = p.flat();
        let b1t = 1.0 - Self::B1.powi(self.t);
        let b2t = 1.0 - Self::B2.powi(self.t);
        for (i, x) in flat.iter_mut().enumerate() {
            let is_cc = i >= nodes + edges;
            if is_cc && !spec.coupling_dashpots {
                continue;
            }
            // Chain rule into the transformed coordinate u.
            let g = if is_cc { grad[i] * cc_hi } else { grad[i] * *x };
            self.m[i] = Self::B1 * self.m[i] + (1.0 - Self::B1) * g;
            self.v[i] = Self::B2 * self.v[i] + (1.0 - Self::B2) * g * g;
            let step = lr * (self.m[i] / b1t) / ((self.v[i] / b2t).sqrt() + Self::EPS);
            if is_cc {
                *x = (*x / cc_hi - step) * cc_hi;
            } else {
                *x = (x.ln() - step).exp();
            }
        }
        *p = Params::from_flat(spec, &flat);
        spec.project(p);
    }
}

/// Trains from `init` on `train`, evaluating on `test` after every epoch.
/// With `opts.epochs = 0` no epoch runs and `on_epoch` is never called: the
/// result is `init` with `kc_init` and the warm start (`opts.sweep`) applied.
pub fn train(
    spec: &Spec,
    init: Params,
    train: &Signals,
    test: &Signals,
    opts: &TrainOptions,
    on_epoch: &mut dyn FnMut(&EpochLog, &Params),
) -> Result<Params> {
    spec.validate()?;
    opts.validate()?;
    check_data(spec, "training", train)?;
    check_data(spec, "test", test)?;
    let mut p = init;
    if let Some(k) = opts.kc_init {
        p.kc.iter_mut().for_each(|v| *v = k);
    }
    spec.project(&mut p);
    spec.net(&p)?;
    if opts.sweep > 0 {
        probe_sweep(spec, &mut p, train, opts.sweep, opts.seed);
    }
    let mut adam = Adam::new(spec.n_params());
    let mut lr = opts.lr;
    for epoch in 1..=opts.epochs {
        let t0 = Instant::now();
        let mut order: Vec<usize> = (0..train.count()).collect();
        Rng::stream(opts.seed, epoch as u64).shuffle(&mut order);
        let (mut loss, mut correct) = (0.0, 0);
        for batch in order.chunks(opts.batch) {
            // The bounds keep every projected parameter set stable
            // (Spec::validate checked the stiffest one).
            let eng = Engine::new(&spec.net_unchecked(&p));
            let s = batch_gradient(spec, &eng, train, batch);
            loss += s.loss;
            correct += s.correct;
            let g: Vec<f64> = s.grad.iter().map(|v| v / batch.len() as f64).collect();
            adam.step(spec, &mut p, &g, lr);
        }
        let seconds = t0.elapsed().as_secs_f64();
        let eng = Engine::new(&spec.net(&p)?);
        let ev = evaluate(spec, &eng, test);
        let log = EpochLog {
            epoch,
            loss: loss / train.count() as f64,
            train_acc: correct as f64 / train.count() as f64,
            test_acc: ev.acc,
            test_loss: ev.loss,
            lr,
            seconds,
        };
        on_epoch(&log, &p);
        lr *= opts.lr_decay;
    }
    Ok(p)
}

/// Signals of the training set the warm start scores candidates on.
pub const SWEEP_SIGNALS: usize = 480;

/// The warm start: the loss is far from convex in a resonator's frequency
/// (a probe resonator only collects a band's energy once it is near that
/// band), so gradient descent from a random start can miss a band that
/// tells a class apart. For each probe on a resonator, in probe order, this
/// tries `candidates` springs spread geometrically over the `k_n` bounds and
/// keeps the one of least mean loss over [`SWEEP_SIGNALS`] training signals
/// (a seeded random subset; forward passes only). The other parameters stay
/// as they are. (Choosing the lattice stiffness the same way was tried and
/// misleads: the initial loss barely depends on it.)
pub fn probe_sweep(spec: &Spec, p: &mut Params, train: &Signals, candidates: usize, seed: u64) {
    let mut idx: Vec<usize> = (0..train.count()).collect();
    Rng::stream(seed, u64::MAX).shuffle(&mut idx);
    idx.truncate(SWEEP_SIGNALS);
    let subset = train.subset(&idx);
    let [lo, hi] = spec.bounds.kn;
    let loss = |q: &Params| evaluate(spec, &Engine::new(&spec.net_unchecked(q)), &subset).loss;
    for probe in spec.probes.iter().filter(|pr| pr.resonator) {
        let mut best = (loss(p), p.kn[probe.node]);
        for c in 0..candidates {
            let f = if candidates == 1 {
                0.5
            } else {
                c as f64 / (candidates - 1) as f64
            };
            let k = (lo.ln() + (hi.ln() - lo.ln()) * f).exp();
            let mut q = p.clone();
            q.kn[probe.node] = k;
            let l = loss(&q);
            if l < best.0 {
                best = (l, k);
            }
        }
        p.kn[probe.node] = best.1;
    }
}

/// Checks that `data` fits the network: labels below the number of probes,
/// at least one signal.
pub fn check_data(spec: &Spec, what: &str, data: &Signals) -> Result<()> {
    if data.count() == 0 {
        bail!("the {what} set is empty");
    }
    if let Some(&l) = data.labels.iter().find(|&&l| l >= spec.classes()) {
        bail!(
            "the {what} set has class {l} but the network has {} probes (classes 0..{})",
            spec.classes(),
            spec.classes()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_gradient_matches_finite_differences() {
        let e = [0.3, 1.2, 0.5];
        for label in 0..3 {
            let (_, _, g) = loss_grad(&e, label, 4.0);
            for q in 0..3 {
                let mut a = e;
                let mut b = e;
                a[q] += 1e-6;
                b[q] -= 1e-6;
                let fd = (loss_grad(&a, label, 4.0).0 - loss_grad(&b, label, 4.0).0) / 2e-6;
                assert!((fd - g[q]).abs() < 1e-7, "{fd} vs {}", g[q]);
            }
        }
    }
}
