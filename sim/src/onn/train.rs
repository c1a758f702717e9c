//! Equilibrium Propagation training of the float oscillator network
//! (MODEL.md section 1).
//!
//! Per sample: settle free for `t1` steps from `theta0` to `θ⁰`, then nudged
//! for `t2` steps from `θ⁰` to `θ^β` (and `θ^{−β}` with symmetric nudging).
//! EP's estimate of the gradient of the cost `C` at the free equilibrium is
//! `(1/β)(∂E/∂param(θ^β) − ∂E/∂param(θ⁰))` (symmetric:
//! `(1/2β)(∂E/∂param(θ^{+β}) − ∂E/∂param(θ^{−β}))`), with
//! `∂E/∂W_ij = −cos(θ_i − θ_j)`, `∂E/∂U_ik = −cos θ_i x_k`,
//! `∂E/∂h_i = −cos θ_i`, `∂E/∂K_i = −½ cos 2θ_i`. Parameters move against it
//! by SGD with momentum over mini-batches settled in parallel; the result is
//! the same for a given seed whatever the number of threads.

use crate::config::{BetaSign, Config, Keep, Optimizer, Schedule, TrainConfig};
use crate::data::{Dataset, Split};
use crate::onn::batch::{Engine, Lane, Nudge, Settled, LANES};
use crate::onn::float::Settle;
use crate::onn::net::{Grad, Params, Topology};
use crate::rng::Rng;
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use std::time::Instant;

/// What one epoch did. `epoch` counts from 1. One line of the JSON-lines
/// training log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    /// Mean cost `C` at the free equilibrium over the epoch's training samples
    /// (each measured just before the update of its mini-batch).
    pub loss: f64,
    /// Free-phase accuracy over the epoch's training samples (same timing).
    pub train_acc: f64,
    /// Accuracy on the test set after the epoch.
    pub test_acc: f64,
    /// Mean free-phase cost on the test set after the epoch.
    pub test_loss: f64,
    /// Learning rate of W and U at the epoch's last mini-batch.
    pub lr: f64,
    /// Wall time of the training part of the epoch.
    pub train_seconds: f64,
    /// Wall time of the epoch, test evaluation included.
    pub seconds: f64,
    /// Euler steps per training sample (free + nudged; fewer than
    /// t1 + t2 (+ t2) when the convergence stop fires).
    pub steps_per_sample: f64,
    /// Accuracy on the validation set after the epoch (absent without one:
    /// `train.validation = 0`, and in logs of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_acc: Option<f64>,
    /// Mean free-phase cost on the validation set after the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
}

/// What a training run returns (`P`: the model's parameters, [`Params`]
/// for the phase network).
#[derive(Debug, Clone, PartialEq)]
pub struct Trained<P = Params> {
    /// The parameters to write: those after the last epoch, or with
    /// `train.keep = "best"` those after the best validation epoch; the
    /// initial ones (`Params::init`) when `train.epochs = 0`.
    pub params: P,
    /// The log of the epoch `params` come from (`None`: no epoch ran).
    pub kept: Option<EpochLog>,
    /// The last epoch's log.
    pub last: Option<EpochLog>,
    /// The epoch of highest validation accuracy (ties: the lower validation
    /// cost, then the earlier epoch), when there is a validation set.
    pub best: Option<EpochLog>,
}

/// Is `a` a better validation result than `b`: higher accuracy, or equal
/// accuracy and lower cost (an earlier epoch wins a full tie). Looks only
/// at the validation fields, never at the test set's.
fn better(a: &EpochLog, b: &EpochLog) -> bool {
    match (a.val_acc, a.val_loss, b.val_acc, b.val_loss) {
        (Some(aa), Some(al), Some(ba), Some(bl)) => aa > ba || (aa == ba && al < bl),
        _ => false,
    }
}

/// How many of the `train_len` training samples train and how many are
/// held out for validation: `train.max_train` first, then
/// `train.validation` of those (rounded, at least one). Refuses a split
/// that leaves either part empty.
pub fn split_sizes(t: &TrainConfig, train_len: usize) -> Result<(usize, usize)> {
    let n = if t.max_train > 0 {
        t.max_train.min(train_len)
    } else {
        train_len
    };
    if t.validation == 0.0 {
        return Ok((n, 0));
    }
    let held = ((n as f64 * t.validation).round() as usize).max(1);
    if held >= n {
        bail!(
            "train.validation = {} of {n} training sample(s) leaves none to train on; use more training samples (train.max_train) or a smaller fraction",
            t.validation
        );
    }
    Ok((n - held, held))
}

/// The settle of the free phase from a training config.
pub fn free_settle(t: &TrainConfig) -> Settle {
    Settle {
        eps: t.eps as f32,
        steps: t.t1,
        noise: t.noise as f32,
        tol: t.tol as f32,
    }
}

/// The settle of the nudged phase(s) from a training config.
pub fn nudged_settle(t: &TrainConfig) -> Settle {
    Settle {
        steps: t.t2,
        ..free_settle(t)
    }
}

/// Samples as a flat, sample-major matrix of inputs (pixel / max_pixel).
#[derive(Debug, Clone)]
pub struct Inputs {
    pub inputs: usize,
    /// Image geometry (rows × cols = inputs), for augmentation.
    pub rows: usize,
    pub cols: usize,
    pub x: Vec<f32>,
    pub labels: Vec<usize>,
}

impl Inputs {
    pub fn new(d: &Dataset, n: usize) -> Inputs {
        let n = n.min(d.len());
        let mut x = Vec::with_capacity(n * d.pixels());
        for i in 0..n {
            x.extend(d.x(i));
        }
        Inputs {
            inputs: d.pixels(),
            rows: d.rows,
            cols: d.cols,
            x,
            labels: d.labels[..n].iter().map(|&l| l as usize).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.inputs..(i + 1) * self.inputs]
    }

    /// The rows `idx`, gathered into one sample-major matrix.
    pub(crate) fn gather(&self, idx: &[usize]) -> Vec<f32> {
        let mut x = Vec::with_capacity(idx.len() * self.inputs);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        x
    }

    /// Sample `i` shifted by `(dy, dx)` pixels (down, right; fractions by
    /// bilinear interpolation), zeros shifted in.
    pub fn shifted(&self, i: usize, dy: f32, dx: f32) -> Vec<f32> {
        let (r, c) = (self.rows as i32, self.cols as i32);
        let src = self.row(i);
        let at = |y: i32, x: i32| {
            if (0..r).contains(&y) && (0..c).contains(&x) {
                src[(y * c + x) as usize]
            } else {
                0.0
            }
        };
        let (fy, fx) = (dy.floor(), dx.floor());
        let (wy, wx) = (dy - fy, dx - fx);
        let (iy, ix) = (fy as i32, fx as i32);
        let mut out = vec![0f32; self.inputs];
        for y in 0..r {
            for x in 0..c {
                // out(y, x) = src(y − dy, x − dx)
                let (sy, sx) = (y - iy, x - ix);
                out[(y * c + x) as usize] = (1.0 - wy) * (1.0 - wx) * at(sy, sx)
                    + (1.0 - wy) * wx * at(sy, sx - 1)
                    + wy * (1.0 - wx) * at(sy - 1, sx)
                    + wy * wx * at(sy - 1, sx - 1);
            }
        }
        out
    }

    /// The rows `idx`, each shifted at random by up to `a` pixels per axis
    /// (the shift of sample `i` from `Rng::stream(seed, base + i)`).
    pub(crate) fn gather_shifted(&self, idx: &[usize], a: f32, seed: u64, base: u64) -> Vec<f32> {
        if a == 0.0 || self.rows * self.cols != self.inputs {
            return self.gather(idx);
        }
        let mut x = Vec::with_capacity(idx.len() * self.inputs);
        for &i in idx {
            let mut rng = Rng::stream(seed, base + i as u64);
            let dy = rng.uniform(-a as f64, a as f64) as f32;
            let dx = rng.uniform(-a as f64, a as f64) as f32;
            x.extend(self.shifted(i, dy, dx));
        }
        x
    }
}

/// Cost `C` and prediction of every valid lane of a settled chunk.
pub(crate) fn readout(p: &Params, th: &[Lane], labels: &[usize]) -> Vec<(f64, usize)> {
    let outs = p.topo.outputs();
    labels
        .iter()
        .enumerate()
        .map(|(q, &label)| {
            let mut c = 0f64;
            let mut best = (f32::NEG_INFINITY, 0usize);
            for (k, i) in outs.clone().enumerate() {
                let y = th[i][q].cos();
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

/// The result of EP on one mini-batch.
#[derive(Debug, Clone)]
pub struct BatchGrad {
    /// Sum over the batch of EP's estimate of dC/dparam (C at the free equilibrium).
    pub grad: Grad,
    /// Sum of the cost C at the free equilibrium.
    pub loss: f64,
    /// Free-phase predictions that equal the label.
    pub correct: usize,
    /// Euler steps taken, summed over samples (free and nudged).
    pub steps: usize,
}

/// How EP runs on a mini-batch.
#[derive(Debug, Clone, Copy)]
pub struct EpSettings {
    /// Signed nudge strength.
    pub beta: f32,
    pub symmetric: bool,
    pub free: Settle,
    pub nudged: Settle,
    /// Noise streams: sample `i` uses `Rng::stream(seed, stream_base + i)`.
    pub seed: u64,
    pub stream_base: u64,
    /// Random shifts of up to this many pixels (see `train.augment`).
    pub augment: f32,
}

/// Chunk-level part of a batch gradient (U is done for the whole batch).
pub(crate) struct ChunkGrad {
    /// W, h, K parts (U empty).
    pub g: Grad,
    /// Per input-layer oscillator and lane: the U factor (see [`Engine::ep_grad`]).
    pub d: Vec<Lane>,
    /// Per valid lane: free-phase cost and prediction.
    pub res: Vec<(f64, usize)>,
    pub steps: usize,
    /// The chunk's inputs as settled (augmented), sample-major.
    pub xs: Vec<f32>,
}

/// What the trainer needs of a model's parameters: the phase network's
/// [`Params`], or another oscillator model's. The trained values come in
/// four groups, moved by the optimizer with `lr`, `lr`, `lr_bias`,
/// `lr_bias` (weight decay on the first two, `train.clip` on all four):
/// W, U, h, K for the phase network.
pub trait Trainable: Clone + PartialEq + std::fmt::Debug {
    /// The initial parameters of a config (drawn from `train.seed`).
    fn init(cfg: &Config) -> Self;
    fn topo(&self) -> &Topology;
    /// Every value finite and every length right for the topology.
    fn check(&self) -> Result<()>;
    /// The four groups of trained values (an empty slice for a group the
    /// model does not have).
    fn groups_mut(&mut self) -> [&mut [f32]; 4];
    /// A zero gradient with the groups' shape (W, U, h, K of [`Grad`]).
    fn grad_zeros(&self) -> Grad;
}

impl Trainable for Params {
    fn init(cfg: &Config) -> Params {
        Params::init(cfg)
    }

    fn topo(&self) -> &Topology {
        &self.topo
    }

    fn check(&self) -> Result<()> {
        Params::check(self)
    }

    fn groups_mut(&mut self) -> [&mut [f32]; 4] {
        [&mut self.w, &mut self.u, &mut self.h, &mut self.k]
    }

    fn grad_zeros(&self) -> Grad {
        Grad::zeros(self)
    }
}

/// An empty W, h, K gradient for a chunk.
pub(crate) fn chunk_grad_zeros(p: &Params) -> Grad {
    Grad {
        w: vec![0.0; p.w.len()],
        u: Vec::new(),
        h: vec![0.0; p.h.len()],
        k: vec![0.0; p.k.len()],
    }
}

/// What EP and evaluation need of a lane engine: the phase network's
/// [`Engine`], or another oscillator model's. The model's state of a chunk
/// is `State` ([`LANES`] samples); everything else (chunks, threads, noise
/// streams, augmentation, the order of the sums) is the trainer's, the same
/// for every model.
pub trait LaneEngine: Sync {
    type State: Clone + Send;
    /// The input field `h + U x` of a chunk (`xs` sample-major).
    fn field(&self, xs: &[f32]) -> Vec<Lane>;
    /// The initial state, in all lanes.
    fn initial(&self) -> Self::State;
    /// Euler steps from `st` (in/out); see [`Engine::settle`].
    fn settle(
        &self,
        st: &mut Self::State,
        b: &[Lane],
        nudge: Option<Nudge>,
        s: &Settle,
        rngs: &mut [Rng],
    ) -> Settled;
    /// EP's estimate from the states `a` (nudged) and `b` (free or nudged
    /// the other way), divided by `den`, added into `g` (all but U), and the
    /// U factor per input-layer oscillator and lane (see [`Engine::ep_grad`]).
    fn ep_grad(
        &self,
        a: &Self::State,
        b: &Self::State,
        den: f32,
        valid: usize,
        g: &mut Grad,
    ) -> Vec<Lane>;
    /// Cost `C` and prediction of every valid lane.
    fn readout(&self, st: &Self::State, labels: &[usize]) -> Vec<(f64, usize)>;
    /// A zero gradient for a chunk (U left empty).
    fn chunk_grad_zeros(&self) -> Grad;
    /// Oscillators in the first layer and inputs (the U gradient's shape).
    fn topo(&self) -> &Topology;
}

impl LaneEngine for Engine<'_> {
    type State = Vec<Lane>;

    fn field(&self, xs: &[f32]) -> Vec<Lane> {
        Engine::field(self, xs)
    }

    fn initial(&self) -> Vec<Lane> {
        Engine::initial(self)
    }

    fn settle(
        &self,
        st: &mut Vec<Lane>,
        b: &[Lane],
        nudge: Option<Nudge>,
        s: &Settle,
        rngs: &mut [Rng],
    ) -> Settled {
        Engine::settle(self, st, b, nudge, s, rngs)
    }

    fn ep_grad(
        &self,
        a: &Vec<Lane>,
        b: &Vec<Lane>,
        den: f32,
        valid: usize,
        g: &mut Grad,
    ) -> Vec<Lane> {
        Engine::ep_grad(self, a, b, den, valid, g)
    }

    fn readout(&self, st: &Vec<Lane>, labels: &[usize]) -> Vec<(f64, usize)> {
        readout(self.p, st, labels)
    }

    fn chunk_grad_zeros(&self) -> Grad {
        chunk_grad_zeros(self.p)
    }

    fn topo(&self) -> &Topology {
        &self.p.topo
    }
}

/// EP on the samples `idx` of `data`: settles free from `theta0`, then
/// nudged (at `+β`, and `−β` if symmetric) from the free state, in chunks of
/// [`LANES`] samples on all threads, and returns the summed gradient
/// estimate. Sums are taken in a fixed order: the result does not depend on
/// the number of threads.
pub fn ep_batch(p: &Params, data: &Inputs, idx: &[usize], ep: &EpSettings) -> BatchGrad {
    ep_batch_on(&Engine::new(p), data, idx, ep)
}

/// [`ep_batch`] on any lane engine.
pub fn ep_batch_on<E: LaneEngine>(
    eng: &E,
    data: &Inputs,
    idx: &[usize],
    ep: &EpSettings,
) -> BatchGrad {
    let chunks: Vec<&[usize]> = idx.chunks(LANES).collect();
    let parts: Vec<ChunkGrad> = chunks
        .par_iter()
        .map(|ch| {
            let xs = data.gather_shifted(ch, ep.augment, ep.seed ^ AUGMENT_SEED, ep.stream_base);
            let labels: Vec<usize> = ch.iter().map(|&i| data.labels[i]).collect();
            let mut rngs: Vec<Rng> = ch
                .iter()
                .map(|&i| Rng::stream(ep.seed, ep.stream_base + i as u64))
                .collect();
            let b = eng.field(&xs);
            let mut th0 = eng.initial();
            // steps are counted per sample: a chunk's settle moves every valid lane
            let per = ch.len();
            let mut steps = per * eng.settle(&mut th0, &b, None, &ep.free, &mut rngs).steps;
            let res = eng.readout(&th0, &labels);
            let nudge = |beta: f32, rngs: &mut [Rng], steps: &mut usize| {
                let mut t = th0.clone();
                let nu = Nudge {
                    beta,
                    labels: &labels,
                };
                *steps += per * eng.settle(&mut t, &b, Some(nu), &ep.nudged, rngs).steps;
                t
            };
            let ta = nudge(ep.beta, &mut rngs, &mut steps);
            let (tb, den) = if ep.symmetric {
                (nudge(-ep.beta, &mut rngs, &mut steps), 2.0 * ep.beta)
            } else {
                (th0.clone(), ep.beta)
            };
            let mut g = eng.chunk_grad_zeros();
            let d = eng.ep_grad(&ta, &tb, den, ch.len(), &mut g);
            ChunkGrad {
                g,
                d,
                res,
                steps,
                xs,
            }
        })
        .collect();
    reduce_parts(
        eng.topo().layers[0],
        eng.chunk_grad_zeros(),
        data,
        &chunks,
        &parts,
    )
}

/// Sums chunk gradients in chunk order and computes the U gradient of the
/// whole batch as one matrix product.
pub(crate) fn reduce_chunks<P: Trainable>(
    p: &P,
    data: &Inputs,
    chunks: &[&[usize]],
    parts: &[ChunkGrad],
) -> BatchGrad {
    reduce_parts(p.topo().layers[0], p.grad_zeros(), data, chunks, parts)
}

/// [`reduce_chunks`] from the first layer's size `n0` and a zero gradient
/// of W, h, K (its U is made here: first layer × inputs).
fn reduce_parts(
    n0: usize,
    mut grad: Grad,
    data: &Inputs,
    chunks: &[&[usize]],
    parts: &[ChunkGrad],
) -> BatchGrad {
    grad.u = vec![0.0; n0 * data.inputs];
    let mut loss = 0f64;
    let mut correct = 0;
    let mut steps = 0;
    let cols = chunks.len() * LANES;
    let mut dm = vec![0f32; n0 * cols];
    let mut xm = vec![0f32; cols * data.inputs];
    for (c, (part, ch)) in parts.iter().zip(chunks).enumerate() {
        for (a, b) in [
            (&mut grad.w, &part.g.w),
            (&mut grad.h, &part.g.h),
            (&mut grad.k, &part.g.k),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (r, lane) in part.d.iter().enumerate() {
            dm[r * cols + c * LANES..r * cols + (c + 1) * LANES].copy_from_slice(lane);
        }
        let at = c * LANES * data.inputs;
        xm[at..at + part.xs.len()].copy_from_slice(&part.xs);
        for (&(cost, pred), &i) in part.res.iter().zip(ch.iter()) {
            loss += cost;
            correct += (pred == data.labels[i]) as usize;
        }
        steps += part.steps;
    }
    if data.inputs > 0 && n0 * cols > 0 {
        // SAFETY: dm is n0 × cols, xm is cols × inputs, grad.u is
        // n0 × inputs, all row-major: every index is inside the slices.
        unsafe {
            matrixmultiply::sgemm(
                n0,
                cols,
                data.inputs,
                1.0,
                dm.as_ptr(),
                cols as isize,
                1,
                xm.as_ptr(),
                data.inputs as isize,
                1,
                0.0,
                grad.u.as_mut_ptr(),
                data.inputs as isize,
                1,
            );
        }
    }
    BatchGrad {
        grad,
        loss,
        correct,
        steps,
    }
}

/// Accuracy and mean free-phase cost `C` of `p` on `data`, settling every
/// sample from `theta0` (in parallel; noise streams from `seed`, one per sample).
pub fn evaluate(p: &Params, data: &Dataset, s: &Settle, seed: u64) -> (f64, f64) {
    evaluate_inputs(p, &Inputs::new(data, data.len()), s, seed)
}

/// [`evaluate`] on prepared inputs.
pub fn evaluate_inputs(p: &Params, data: &Inputs, s: &Settle, seed: u64) -> (f64, f64) {
    evaluate_on(&Engine::new(p), data, s, seed)
}

/// [`evaluate_inputs`] on any lane engine.
pub fn evaluate_on<E: LaneEngine>(eng: &E, data: &Inputs, s: &Settle, seed: u64) -> (f64, f64) {
    if data.is_empty() {
        return (0.0, 0.0);
    }
    let idx: Vec<usize> = (0..data.len()).collect();
    let res: Vec<(f64, usize)> = idx
        .par_chunks(LANES)
        .flat_map_iter(|ch| {
            let xs = data.gather(ch);
            let labels: Vec<usize> = ch.iter().map(|&i| data.labels[i]).collect();
            let mut rngs: Vec<Rng> = ch.iter().map(|&i| Rng::stream(seed, i as u64)).collect();
            let b = eng.field(&xs);
            let mut th = eng.initial();
            eng.settle(&mut th, &b, None, s, &mut rngs);
            eng.readout(&th, &labels)
        })
        .collect();
    let correct = res
        .iter()
        .zip(&data.labels)
        .filter(|((_, pred), &l)| *pred == l)
        .count();
    let c: f64 = res.iter().map(|r| r.0).sum();
    let n = data.len() as f64;
    (correct as f64 / n, c / n)
}

/// Where the free and nudged phases of EP run: the float engine, the
/// integer twin, or a device; `P` is the model's parameters ([`Params`]:
/// the phase network). The trainer around it (shuffling, optimizer,
/// schedule, logs) is the same for all.
pub trait Backend<P = Params> {
    /// Short name for messages ("float", "twin", "device").
    fn name(&self) -> &'static str;
    /// EP on the samples `idx` of `data` with the parameters `p`: the summed
    /// gradient estimate, cost and correct predictions of the free phase.
    fn ep_batch(
        &mut self,
        p: &P,
        data: &Inputs,
        idx: &[usize],
        ep: &EpSettings,
    ) -> Result<BatchGrad>;
    /// Accuracy and mean free-phase cost of `p` on `data`.
    fn evaluate(&mut self, p: &P, data: &Inputs, s: &Settle, seed: u64) -> Result<(f64, f64)>;
}

/// The float engine ([`ep_batch`], [`evaluate_inputs`]).
pub struct FloatBackend;

impl Backend for FloatBackend {
    fn name(&self) -> &'static str {
        "float"
    }

    fn ep_batch(
        &mut self,
        p: &Params,
        data: &Inputs,
        idx: &[usize],
        ep: &EpSettings,
    ) -> Result<BatchGrad> {
        Ok(ep_batch(p, data, idx, ep))
    }

    fn evaluate(&mut self, p: &Params, data: &Inputs, s: &Settle, seed: u64) -> Result<(f64, f64)> {
        Ok(evaluate_inputs(p, data, s, seed))
    }
}

/// Checks that the data fits the network: pixels = inputs, labels < classes.
pub fn check_data(cfg: &Config, name: &str, d: &Dataset) -> Result<()> {
    let inputs = cfg.network.inputs;
    if d.pixels() != inputs {
        bail!(
            "the {name} images have {}x{} = {} pixels but network.inputs = {inputs}; set network.inputs = {} or use another data set",
            d.rows,
            d.cols,
            d.pixels(),
            d.pixels()
        );
    }
    let classes = *cfg.network.layers.last().unwrap_or(&0);
    if let Some(i) = d.labels.iter().position(|&l| l as usize >= classes) {
        bail!(
            "{name} label {} (sample {i}) does not fit the output layer of {classes} oscillators (last of network.layers); use at least {} outputs",
            d.labels[i],
            d.labels.iter().copied().max().unwrap_or(0) as usize + 1
        );
    }
    Ok(())
}

/// Seed offset of the evaluation noise streams, so they differ from training's.
pub const EVAL_SEED: u64 = 0x6576_616c_7365_6564;
/// Seed offset of the per-epoch shuffle.
const SHUFFLE_SEED: u64 = 0x7368_7566_666c_6521;
/// Seed offset of the augmentation shifts.
const AUGMENT_SEED: u64 = 0x6175_676d_656e_7421;
/// Seed offset of the random sign of beta.
const SIGN_SEED: u64 = 0x7369_676e_6f66_6265;
/// Seed offset of the draw of the validation samples.
const VALIDATION_SEED: u64 = 0x7661_6c69_6461_7465;
/// Seed offset of the validation evaluation's noise streams.
const VAL_EVAL_SEED: u64 = 0x7661_6c65_7661_6c73;

/// The parameter update rule with its state.
enum Stepper {
    Sgd { vel: Grad },
    Adam { m: Grad, v: Grad, t: i32 },
}

impl Stepper {
    fn new<P: Trainable>(t: &TrainConfig, p: &P) -> Stepper {
        match t.optimizer {
            Optimizer::Sgd => Stepper::Sgd {
                vel: p.grad_zeros(),
            },
            Optimizer::Adam => Stepper::Adam {
                m: p.grad_zeros(),
                v: p.grad_zeros(),
                t: 0,
            },
        }
    }

    /// Moves `p` against the mean gradient `g` with rates `lr` (W, U) and
    /// `lr_bias` (h, K).
    fn step<P: Trainable>(&mut self, p: &mut P, g: &Grad, lr: f32, lr_bias: f32, momentum: f32) {
        let [pw, pu, ph, pk] = p.groups_mut();
        let params = [
            (pw, &g.w, lr),
            (pu, &g.u, lr),
            (ph, &g.h, lr_bias),
            (pk, &g.k, lr_bias),
        ];
        match self {
            Stepper::Sgd { vel } => {
                let vs = [&mut vel.w, &mut vel.u, &mut vel.h, &mut vel.k];
                for ((q, gr, rate), v) in params.into_iter().zip(vs) {
                    for ((q, v), gr) in q.iter_mut().zip(v.iter_mut()).zip(gr) {
                        *v = momentum * *v + gr;
                        *q -= rate * *v;
                    }
                }
            }
            Stepper::Adam { m, v, t } => {
                const B1: f32 = 0.9;
                const B2: f32 = 0.999;
                const EPS: f32 = 1e-8;
                *t += 1;
                let c1 = 1.0 - B1.powi(*t);
                let c2 = 1.0 - B2.powi(*t);
                let ms = [&mut m.w, &mut m.u, &mut m.h, &mut m.k];
                let vs = [&mut v.w, &mut v.u, &mut v.h, &mut v.k];
                for (((q, gr, rate), m), v) in params.into_iter().zip(ms).zip(vs) {
                    for (((q, m), v), &gr) in
                        q.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(gr)
                    {
                        *m = B1 * *m + (1.0 - B1) * gr;
                        *v = B2 * *v + (1.0 - B2) * gr * gr;
                        *q -= rate * (*m / c1) / ((*v / c2).sqrt() + EPS);
                    }
                }
            }
        }
    }
}

/// The learning-rate factor after `done` of `total` mini-batches.
pub fn schedule(t: &TrainConfig, done: usize, total: usize) -> f64 {
    match t.lr_schedule {
        Schedule::Constant => 1.0,
        Schedule::Cosine => {
            let x = done as f64 / total.max(1) as f64;
            t.lr_min + (1.0 - t.lr_min) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
        }
    }
}

/// A natural-frequency mismatch `δω_i ~ N(0, d²)` for `n` oscillators,
/// drawn from `seed` (the same draw as [`Params::init`] makes for its seed
/// only when `seed` is the config's seed; use this to test a trained network
/// on other device instances).
pub fn draw_dispersion(n: usize, d: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng::stream(seed ^ DISPERSION_SEED, n as u64);
    (0..n).map(|_| (rng.normal() * d) as f32).collect()
}

/// Seed offset of redrawn dispersions.
const DISPERSION_SEED: u64 = 0x6469_7370_6572_7365;

/// The largest magnitudes `[lo, hi]` that `train.clip` keeps parameters in:
/// the range of the hardware's signed weight format.
pub fn clip_range(cfg: &Config) -> (f32, f32) {
    format_range(cfg.hardware.weight_bits, cfg.hardware.weight_frac)
}

/// The range of `bits` signed bits at `2^-frac`.
fn format_range(bits: u32, frac: u32) -> (f32, f32) {
    let scale = 2f64.powi(-(frac as i32));
    let top = 2f64.powi(bits as i32 - 1);
    ((-top * scale) as f32, ((top - 1.0) * scale) as f32)
}

/// The clip ranges of W, U, h and K: the shared format's, or W's and U's
/// own where `hardware.w_frac` / `u_frac` pin them.
pub fn clip_ranges(cfg: &Config) -> [(f32, f32); 4] {
    let h = &cfg.hardware;
    let own = |f: u32| format_range(h.weight_bits, if f > 0 { f } else { h.weight_frac });
    let shared = clip_range(cfg);
    [own(h.w_frac), own(h.u_frac), shared, shared]
}

/// Progress of a running epoch, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub epoch: usize,
    pub done: usize,
    pub total: usize,
    /// Mean free-phase cost so far this epoch.
    pub loss: f64,
}

/// Trains a network from `Params::init(cfg)` with EP; calls `on_epoch` after
/// every epoch with its log and the current parameters.
pub fn train(
    cfg: &Config,
    split: &Split,
    on_epoch: &mut dyn FnMut(&EpochLog, &Params),
) -> Result<Trained> {
    train_with_progress(cfg, split, on_epoch, &mut |_| {})
}

/// [`train`], also calling `on_batch` after every mini-batch.
pub fn train_with_progress(
    cfg: &Config,
    split: &Split,
    on_epoch: &mut dyn FnMut(&EpochLog, &Params),
    on_batch: &mut dyn FnMut(&Progress),
) -> Result<Trained> {
    train_on::<Params>(&mut FloatBackend, cfg, split, on_epoch, on_batch)
}

/// [`train_with_progress`] with the EP phases run by `backend`.
///
/// With `train.validation > 0` a part of the training samples (see
/// [`split_sizes`], drawn from the seed) is held out before training: it
/// is never trained on, and it is evaluated after every epoch. With
/// `train.keep = "best"` the parameters of the best validation epoch are
/// returned; the test set is evaluated for the log only and never chooses.
pub fn train_on<P: Trainable>(
    backend: &mut dyn Backend<P>,
    cfg: &Config,
    split: &Split,
    on_epoch: &mut dyn FnMut(&EpochLog, &P),
    on_batch: &mut dyn FnMut(&Progress),
) -> Result<Trained<P>> {
    let t = &cfg.train;
    check_data(cfg, "training", &split.train)?;
    check_data(cfg, "test", &split.test)?;
    if split.train.is_empty() {
        bail!("the training set is empty");
    }
    if t.keep == Keep::Best && t.validation == 0.0 {
        bail!("train.keep = \"best\" needs a validation set: set train.validation (e.g. 0.1)");
    }
    let mut p = P::init(cfg);
    p.check()?;
    let (n, held) = split_sizes(t, split.train.len())?;
    let (train_in, val_in) = if held > 0 {
        let (rest, val) = split
            .train
            .hold_out(n + held, held, t.seed ^ VALIDATION_SEED);
        (Inputs::new(&rest, n), Some(Inputs::new(&val, held)))
    } else {
        (Inputs::new(&split.train, n), None)
    };
    let test_in = Inputs::new(&split.test, split.test.len());
    let free = free_settle(t);
    let mut ep = EpSettings {
        beta: t.beta as f32,
        symmetric: t.symmetric,
        free,
        nudged: nudged_settle(t),
        seed: t.seed,
        stream_base: 0,
        augment: t.augment as f32,
    };
    let clip = t.clip.then(|| clip_ranges(cfg));
    let mut stepper = Stepper::new(t, &p);
    let mut order: Vec<usize> = (0..n).collect();
    let batches = n.div_ceil(t.batch);
    let total = batches * t.epochs;
    let mut done = 0usize;
    let mut last: Option<EpochLog> = None;
    let mut best: Option<EpochLog> = None;
    let mut best_params: Option<P> = None;
    for epoch in 1..=t.epochs {
        let start = Instant::now();
        Rng::stream(t.seed ^ SHUFFLE_SEED, epoch as u64).shuffle(&mut order);
        let mut sign = Rng::stream(t.seed ^ SIGN_SEED, epoch as u64);
        let mut loss = 0f64;
        let mut correct = 0usize;
        let mut seen = 0usize;
        let mut steps = 0usize;
        let mut lr_now = 0.0;
        for (bi, batch) in order.chunks(t.batch).enumerate() {
            ep.stream_base = (epoch as u64 - 1) * n as u64;
            ep.beta = match t.beta_sign {
                BetaSign::Fixed => t.beta as f32,
                BetaSign::Random if sign.below(2) == 1 => -t.beta as f32,
                BetaSign::Random => t.beta as f32,
            };
            let r = backend
                .ep_batch(&p, &train_in, batch, &ep)
                .with_context(|| format!("epoch {epoch}, mini-batch {}", bi + 1))?;
            loss += r.loss;
            correct += r.correct;
            steps += r.steps;
            seen += batch.len();
            let mut g = r.grad;
            let scale = 1.0 / batch.len() as f32;
            for v in [&mut g.w, &mut g.u, &mut g.h, &mut g.k] {
                for x in v.iter_mut() {
                    *x *= scale;
                }
            }
            let f = schedule(t, done, total);
            lr_now = t.lr * f;
            stepper.step(
                &mut p,
                &g,
                lr_now as f32,
                (t.lr_bias * f) as f32,
                t.momentum as f32,
            );
            if t.weight_decay > 0.0 {
                let keep = (1.0 - lr_now * t.weight_decay) as f32;
                let [w, u, _, _] = p.groups_mut();
                for x in w.iter_mut().chain(u.iter_mut()) {
                    *x *= keep;
                }
            }
            if let Some(ranges) = clip {
                for (v, (lo, hi)) in p.groups_mut().into_iter().zip(ranges) {
                    for x in v.iter_mut() {
                        *x = x.clamp(lo, hi);
                    }
                }
            }
            done += 1;
            on_batch(&Progress {
                epoch,
                done: bi + 1,
                total: batches,
                loss: loss / seen as f64,
            });
        }
        if let Err(e) = p.check() {
            bail!("training diverged in epoch {epoch} ({e}); lower train.lr or train.beta");
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let val = match &val_in {
            Some(v) => Some(
                backend
                    .evaluate(&p, v, &free, t.seed ^ VAL_EVAL_SEED)
                    .with_context(|| format!("validation after epoch {epoch}"))?,
            ),
            None => None,
        };
        let (test_acc, test_loss) = backend
            .evaluate(&p, &test_in, &free, t.seed ^ EVAL_SEED)
            .with_context(|| format!("test evaluation after epoch {epoch}"))?;
        let log = EpochLog {
            epoch,
            loss: loss / n as f64,
            train_acc: correct as f64 / n as f64,
            test_acc,
            test_loss,
            lr: lr_now,
            train_seconds,
            seconds: start.elapsed().as_secs_f64(),
            steps_per_sample: steps as f64 / n as f64,
            val_acc: val.map(|v| v.0),
            val_loss: val.map(|v| v.1),
        };
        on_epoch(&log, &p);
        let improves = match &best {
            None => val.is_some(),
            Some(b) => better(&log, b),
        };
        if improves {
            best = Some(log.clone());
            if t.keep == Keep::Best {
                best_params = Some(p.clone());
            }
        }
        last = Some(log);
    }
    Ok(match (t.keep, best_params) {
        (Keep::Best, Some(bp)) => Trained {
            params: bp,
            kept: best.clone(),
            last,
            best,
        },
        _ => Trained {
            params: p,
            kept: last.clone(),
            last,
            best,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_dir;
    use crate::onn::float::{cost, Net};
    use std::path::Path;

    fn digits() -> Split {
        load_dir(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/digits-8x8"
        )))
        .unwrap()
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

    /// EP's gradient estimate agrees with finite differences of the cost at
    /// the free equilibrium (δω = σ = 0, small β, converged settles).
    #[test]
    fn ep_gradient_matches_finite_differences() {
        let cfg = Config::parse(
            "name='g'\n[network]\ninputs=3\nlayers=[3,2]\n[train]\nseed=3\nk_init=0.1\n",
            "t",
        )
        .unwrap();
        let mut p = Params::init(&cfg);
        for w in p.w.iter_mut() {
            *w *= 2.0;
        }
        p.h = vec![0.2, -0.3, 0.1, 0.25, -0.15];
        let x = [0.8f32, 0.1, 0.5];
        let label = 1;
        let s = Settle {
            eps: 0.1,
            steps: 4000,
            noise: 0.0,
            tol: 0.0,
        };
        let c_at = |q: &Params| {
            let mut th = q.theta0.clone();
            Net::new(q).settle(&x, &mut th, 0.0, None, &s, &mut Rng::new(0));
            cost(q, &th, label)
        };
        let data = Inputs {
            inputs: 3,
            rows: 1,
            cols: 3,
            x: x.to_vec(),
            labels: vec![label],
        };
        for symmetric in [true, false] {
            let ep = EpSettings {
                beta: 0.01,
                symmetric,
                free: s,
                nudged: s,
                seed: 0,
                stream_base: 0,
                augment: 0.0,
            };
            let ep = ep_batch(&p, &data, &[0], &ep);
            // finite differences over every trained parameter
            let h = 1e-2f32;
            let mut fd = Vec::new();
            for which in 0..4 {
                let len = [p.w.len(), p.u.len(), p.h.len(), p.k.len()][which];
                for idx in 0..len {
                    let mut plus = p.clone();
                    let mut minus = p.clone();
                    *param_mut(&mut plus, which, idx) += h;
                    *param_mut(&mut minus, which, idx) -= h;
                    fd.push(((c_at(&plus) - c_at(&minus)) / (2.0 * h as f64)) as f32);
                }
            }
            let e = ep.grad.flat();
            let cs = cosine(&e, &fd);
            eprintln!("symmetric={symmetric}: cosine(EP, finite differences) = {cs:.6}");
            assert!(
                cs >= 0.99,
                "symmetric={symmetric}: cosine {cs}\nEP {e:?}\nFD {fd:?}"
            );
            let norm: f32 = fd.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!(norm > 1e-3, "degenerate test: gradient norm {norm}");
        }
    }

    #[test]
    fn rejects_mismatched_data() {
        let s = digits();
        let cfg = Config::parse("name='m'\n[network]\ninputs=784\nlayers=[8,10]\n", "t").unwrap();
        let e = format!("{:#}", train(&cfg, &s, &mut |_, _| {}).unwrap_err());
        assert!(e.contains("8x8 = 64 pixels") && e.contains("784"), "{e}");
        let cfg = Config::parse("name='m'\n[network]\ninputs=64\nlayers=[8,5]\n", "t").unwrap();
        let e = format!("{:#}", train(&cfg, &s, &mut |_, _| {}).unwrap_err());
        assert!(e.contains("output layer of 5"), "{e}");
    }

    #[test]
    fn shifts_move_pixels_and_interpolate() {
        let d = Inputs {
            inputs: 9,
            rows: 3,
            cols: 3,
            x: (1..=9).map(|v| v as f32).collect(),
            labels: vec![0],
        };
        // one row down: the top row is shifted in as zeros
        assert_eq!(
            d.shifted(0, 1.0, 0.0),
            vec![0., 0., 0., 1., 2., 3., 4., 5., 6.]
        );
        // one column left
        assert_eq!(
            d.shifted(0, 0.0, -1.0),
            vec![2., 3., 0., 5., 6., 0., 8., 9., 0.]
        );
        // half a column right: the mean of each pixel and its left neighbour
        let h = d.shifted(0, 0.0, 0.5);
        assert_eq!(h, vec![0.5, 1.5, 2.5, 2.0, 4.5, 5.5, 3.5, 7.5, 8.5]);
        assert_eq!(d.shifted(0, 0.0, 0.0), d.x);
    }

    #[test]
    fn cosine_schedule_and_clip_range() {
        let mut t = TrainConfig {
            lr_schedule: Schedule::Cosine,
            lr_min: 0.1,
            ..TrainConfig::default()
        };
        assert_eq!(schedule(&t, 0, 100), 1.0);
        assert!((schedule(&t, 50, 100) - 0.55).abs() < 1e-12);
        assert!((schedule(&t, 100, 100) - 0.1).abs() < 1e-12);
        t.lr_schedule = Schedule::Constant;
        assert_eq!(schedule(&t, 70, 100), 1.0);
        let mut cfg = Config::default_config();
        cfg.hardware.weight_bits = 8;
        cfg.hardware.weight_frac = 6;
        assert_eq!(clip_range(&cfg), (-2.0, 127.0 / 64.0));
        // W pinned to two more fraction bits: its own, smaller range
        cfg.hardware.w_frac = cfg.hardware.weight_frac + 2;
        let r = clip_ranges(&cfg);
        assert_eq!(r[0], (-0.5, 127.0 / 256.0));
        assert_eq!(&r[1..], &[(-2.0, 127.0 / 64.0); 3]);
    }

    /// Adam, random β signs, weight decay, augmentation and clipping all run,
    /// keep parameters in range and still learn.
    #[test]
    fn optimizers_and_options_learn() {
        let s = digits();
        let mut accs = Vec::new();
        for (opt, extra) in [
            ("sgd", "lr = 0.05\nlr_bias = 0.05\nmomentum = 0.9\n"),
            ("adam", "lr = 0.003\nlr_bias = 0.003\nbeta_sign = 'random'\nsymmetric = false\n"),
            ("adam", "lr = 0.003\nlr_bias = 0.003\nweight_decay = 0.5\naugment = 0.3\nclip = true\nlr_schedule = 'cosine'\nlr_min = 0.2\n"),
        ] {
            let cfg = Config::parse(
                &format!("name='o'\n[network]\ninputs=64\nlayers=[32,10]\n[train]\nepochs=5\nbatch=16\noptimizer='{opt}'\n{extra}[hardware]\nweight_frac=6\n"),
                "t",
            )
            .unwrap();
            let mut last = 0.0;
            let p = train(&cfg, &s, &mut |l, _| last = l.test_acc).unwrap().params;
            if cfg.train.clip {
                let (lo, hi) = clip_range(&cfg);
                assert!(p.w.iter().chain(&p.u).chain(&p.h).chain(&p.k).all(|v| (lo..=hi).contains(v)));
            }
            accs.push(last);
        }
        assert!(accs.iter().all(|&a| a > 0.75), "{accs:?}");
    }

    #[test]
    fn deterministic_across_thread_counts() {
        let s = digits();
        let cfg = Config::parse(
            "name='d'\n[network]\ninputs=64\nlayers=[12,10]\n[train]\nepochs=2\nbatch=40\nmax_train=150\naugment=0.5\nbeta_sign='random'\nnoise=0.05\ndispersion=0.02\nt1=10\nt2=5\n",
            "t",
        )
        .unwrap();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let mut logs = Vec::new();
                    let p = train(&cfg, &s, &mut |l, _| logs.push((l.loss, l.test_acc)))
                        .unwrap()
                        .params;
                    (p, logs)
                })
        };
        let (a, la) = run(1);
        let (b, lb) = run(2);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert_ne!(a, Params::init(&cfg), "training changed nothing");
    }

    /// A float backend that records which samples it trains on and which
    /// sets it evaluates (each sample by its pixels).
    struct Recording {
        trained: Vec<Vec<u32>>,
        evaluated: Vec<Vec<Vec<u32>>>,
    }

    fn key(d: &Inputs, i: usize) -> Vec<u32> {
        d.row(i).iter().map(|v| v.to_bits()).collect()
    }

    impl Backend for Recording {
        fn name(&self) -> &'static str {
            "recording"
        }
        fn ep_batch(
            &mut self,
            p: &Params,
            data: &Inputs,
            idx: &[usize],
            ep: &EpSettings,
        ) -> Result<BatchGrad> {
            self.trained.extend(idx.iter().map(|&i| key(data, i)));
            FloatBackend.ep_batch(p, data, idx, ep)
        }
        fn evaluate(
            &mut self,
            p: &Params,
            data: &Inputs,
            s: &Settle,
            seed: u64,
        ) -> Result<(f64, f64)> {
            self.evaluated
                .push((0..data.len()).map(|i| key(data, i)).collect());
            FloatBackend.evaluate(p, data, s, seed)
        }
    }

    /// The validation samples are drawn from the seed out of the first
    /// `max_train` training samples, never trained on, evaluated every
    /// epoch before the test set, and the same on every run.
    #[test]
    fn validation_set_is_held_out_disjoint_and_deterministic() {
        // 4x4 images whose first two pixels number the sample: all distinct
        let n_all = 300;
        let mut images = Vec::new();
        let mut rng = Rng::new(5);
        for i in 0..n_all {
            images.extend([(i % 256) as u8, (i / 256) as u8]);
            images.extend((0..14).map(|_| rng.below(256) as u8));
        }
        let train_set = Dataset {
            rows: 4,
            cols: 4,
            max_pixel: 255,
            images,
            labels: (0..n_all).map(|i| (i % 3) as u8).collect(),
        };
        let test = train_set.subset(&[0, 1, 2, 3, 4]);
        let split = Split {
            train: train_set,
            test,
        };
        let cfg = Config::parse(
            "name='v'\n[network]\ninputs=16\nlayers=[4,3]\n[train]\nepochs=2\nbatch=16\nmax_train=250\nvalidation=0.2\nt1=5\nt2=3\n",
            "t",
        )
        .unwrap();
        assert_eq!(split_sizes(&cfg.train, n_all).unwrap(), (200, 50));
        let run = || {
            let mut b = Recording {
                trained: Vec::new(),
                evaluated: Vec::new(),
            };
            let mut logs = Vec::new();
            let r = train_on(
                &mut b,
                &cfg,
                &split,
                &mut |l, _| logs.push(l.clone()),
                &mut |_| {},
            )
            .unwrap();
            (b, logs, r)
        };
        let (a, logs, r) = run();
        // per epoch: the validation set, then the test set
        assert_eq!(a.evaluated.len(), 4);
        let val = &a.evaluated[0];
        assert_eq!(val.len(), 50);
        assert_eq!(
            &a.evaluated[2], val,
            "the validation set changed between epochs"
        );
        assert_eq!(a.evaluated[1].len(), 5, "the test set");
        // 2 epochs of the same 200 samples, none of them held out
        assert_eq!(a.trained.len(), 400);
        let trained: std::collections::BTreeSet<_> = a.trained.iter().cloned().collect();
        assert_eq!(trained.len(), 200);
        assert!(
            val.iter().all(|v| !trained.contains(v)),
            "a validation sample was trained on"
        );
        // together they are the first max_train samples, spread over them
        let number = |k: &Vec<u32>| {
            (f32::from_bits(k[0]) * 255.0).round() as usize
                + 256 * (f32::from_bits(k[1]) * 255.0).round() as usize
        };
        let mut all: Vec<usize> = trained.iter().chain(val).map(number).collect();
        all.sort_unstable();
        assert_eq!(all, (0..250).collect::<Vec<_>>());
        let held: Vec<usize> = val.iter().map(number).collect();
        assert!(held.iter().any(|&i| i < 50) && held.iter().any(|&i| i >= 200));
        assert!(logs
            .iter()
            .all(|l| l.val_acc.is_some() && l.val_loss.is_some()));
        assert_eq!(
            r.best.as_ref().map(|b| b.val_acc),
            Some(
                logs.iter()
                    .map(|l| l.val_acc)
                    .max_by(|x, y| x.partial_cmp(y).unwrap())
                    .unwrap()
            )
        );
        // the same split and run again
        let (b, logs2, r2) = run();
        assert_eq!((a.trained, a.evaluated), (b.trained, b.evaluated));
        let strip = |v: &[EpochLog]| {
            v.iter()
                .map(|l| (l.loss, l.val_acc, l.test_acc))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&logs), strip(&logs2));
        assert_eq!(r.params, r2.params);
        // too small a training set for the fraction: refused by name
        let mut tiny = cfg.clone();
        tiny.train.max_train = 1;
        let e = format!("{:#}", split_sizes(&tiny.train, n_all).unwrap_err());
        assert!(
            e.contains("train.validation = 0.2 of 1 training sample"),
            "{e}"
        );
    }

    /// `keep = "best"` returns the parameters of the epoch of highest
    /// validation accuracy; `keep = "last"` the last epoch's, reporting the
    /// best for information; `keep` does not change the training itself.
    /// The choice looks only at the validation set: here the test set's best
    /// epoch is another one (the last), and a test set that disagrees more
    /// (its labels rotated) changes nothing but the test figures.
    #[test]
    fn keep_best_returns_the_best_validation_epoch_never_the_best_test_epoch() {
        let s = digits();
        let text = |keep: &str| {
            format!("name='k'\n[network]\ninputs=64\nlayers=[24,10]\n[train]\nepochs=7\nbatch=16\nmax_train=400\nvalidation=0.25\nkeep='{keep}'\nlr=0.005\nlr_bias=0.005\nlr_schedule='constant'\nt1=30\nt2=10\n")
        };
        let run = |keep: &str, split: &Split| {
            let cfg = Config::parse(&text(keep), "t").unwrap();
            let mut seen: Vec<(EpochLog, Params)> = Vec::new();
            let r = train(&cfg, split, &mut |l, p| seen.push((l.clone(), p.clone()))).unwrap();
            (r, seen)
        };
        let (best, seen) = run("best", &s);
        let logs: Vec<&EpochLog> = seen.iter().map(|(l, _)| l).collect();
        eprintln!(
            "val {:?}\ntest {:?}",
            logs.iter().map(|l| l.val_acc.unwrap()).collect::<Vec<_>>(),
            logs.iter().map(|l| l.test_acc).collect::<Vec<_>>()
        );
        // the expected epoch, chosen here from the validation figures alone
        let mut want = 0;
        for (i, l) in logs.iter().enumerate() {
            let (a, c) = (l.val_acc.unwrap(), l.val_loss.unwrap());
            let (ba, bc) = (logs[want].val_acc.unwrap(), logs[want].val_loss.unwrap());
            if a > ba || (a == ba && c < bc) {
                want = i;
            }
        }
        let kept = best.kept.as_ref().unwrap();
        assert_eq!(kept.epoch, want + 1);
        assert_eq!(best.params, seen[want].1, "not the best epoch's parameters");
        assert_eq!(best.best.as_ref(), Some(kept));
        assert_eq!(best.last.as_ref().unwrap().epoch, 7);
        assert_ne!(kept.epoch, 7, "degenerate test: the best epoch is the last");
        let best_test = |seen: &[(EpochLog, Params)]| {
            seen.iter()
                .max_by(|a, b| a.0.test_acc.total_cmp(&b.0.test_acc))
                .unwrap()
                .0
                .epoch
        };
        // here the test set would have chosen another epoch (the last)
        assert_ne!(
            best_test(&seen),
            kept.epoch,
            "degenerate test: test and validation agree"
        );

        // keep = "last": the same run, the last parameters, the same best epoch
        let (last, seen_last) = run("last", &s);
        assert_eq!(last.params, seen_last[6].1);
        assert_eq!(last.params, seen[6].1, "keep changed the training");
        assert_eq!(last.kept.as_ref().unwrap().epoch, 7);
        assert_eq!(last.best.as_ref().unwrap().epoch, kept.epoch);

        // a test set that disagrees with the validation set
        let mut wrong = s.clone();
        for l in wrong.test.labels.iter_mut() {
            *l = (*l + 1) % 10;
        }
        let (other, seen_wrong) = run("best", &wrong);
        assert_ne!(
            best_test(&seen_wrong),
            kept.epoch,
            "degenerate test: test and validation agree"
        );
        assert_eq!(other.params, best.params);
        assert_eq!(other.kept.as_ref().unwrap().epoch, kept.epoch);
        assert_ne!(other.kept.as_ref().unwrap().test_acc, kept.test_acc);
    }

    /// `train.alpha = 0` with zero harmonics is MODEL.md's `H = sin ψ`,
    /// computed by the original code path: the same parameters, logs,
    /// config hash and model file bytes as a config that does not name
    /// them; a phase lag does change the run.
    #[test]
    fn zero_alpha_trains_the_plain_model_bit_for_bit() {
        let s = digits();
        let base = "name='a'\n[network]\ninputs=64\nlayers=[12,10]\n[train]\nepochs=2\nmax_train=200\nt1=20\nt2=8\n";
        let run = |extra: &str| {
            let cfg = Config::parse(&format!("{base}{extra}"), "t").unwrap();
            let mut logs = Vec::new();
            let p = train(&cfg, &s, &mut |l, _| logs.push((l.loss, l.test_acc)))
                .unwrap()
                .params;
            let file =
                serde_json::to_string(&crate::onn::net::ModelFile::new(cfg.clone(), p.clone(), 16))
                    .unwrap();
            (cfg.hash_hex(), p, logs, file)
        };
        let plain = run("");
        let zero = run("alpha = 0.0\nharmonics = [0.0, 0.0]\n");
        assert_eq!(plain.0, zero.0, "config hash");
        assert_eq!(plain.1.w, zero.1.w);
        assert_eq!(plain.1.u, zero.1.u);
        assert_eq!(plain.2, zero.2, "logs");
        assert_eq!(plain.3, zero.3, "model file bytes");
        assert!(!plain.3.contains("coupling"));
        let lag = run("alpha = 0.3\n");
        assert_ne!(plain.0, lag.0);
        assert_ne!(plain.1.w, lag.1.w, "a phase lag changed nothing");
        assert!(lag.3.contains("\"coupling\""));
    }

    /// `epochs = 0` returns the initial parameters and no epoch.
    #[test]
    fn zero_epochs_return_the_initial_parameters() {
        let s = digits();
        let cfg = Config::parse(
            "name='z'\n[network]\ninputs=64\nlayers=[8,10]\n[train]\nepochs=0\nseed=4\n",
            "t",
        )
        .unwrap();
        let mut calls = 0;
        let r = train(&cfg, &s, &mut |_, _| calls += 1).unwrap();
        assert_eq!(calls, 0);
        assert_eq!(r.params, Params::init(&cfg));
        assert!(r.kept.is_none() && r.last.is_none() && r.best.is_none());
    }

    /// The default training settings learn the 8x8 digits.
    #[test]
    fn default_config_learns_digits() {
        let s = digits();
        let cfg = Config::default_config();
        assert_eq!(cfg.network.layers, vec![32, 10]);
        let t0 = Instant::now();
        let mut logs = Vec::new();
        let p = train(&cfg, &s, &mut |l, _| {
            eprintln!(
                "epoch {} loss {:.4} train {:.4} test {:.4} ({:.1} s)",
                l.epoch, l.loss, l.train_acc, l.test_acc, l.seconds
            );
            logs.push(l.clone());
        })
        .unwrap()
        .params;
        let last = logs.last().unwrap();
        eprintln!("total {:.1} s", t0.elapsed().as_secs_f64());
        assert!(last.test_acc >= 0.90, "test accuracy {}", last.test_acc);
        let (acc, _) = evaluate(&p, &s.test, &free_settle(&cfg.train), 0);
        assert!((acc - last.test_acc).abs() < 1e-9 || cfg.train.noise > 0.0);
        let wmax = p.w.iter().chain(&p.u).fold(0f32, |m, v| m.max(v.abs()));
        assert!(wmax < 8.0, "weights grew to {wmax}");
    }
}
