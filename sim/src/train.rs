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

use crate::config::{Config, TrainConfig};
use crate::data::{Dataset, Split};
use crate::float::{cost, field, predict, Net, Settle};
use crate::net::Params;
use crate::rng::Rng;
use anyhow::{bail, Result};
use rayon::prelude::*;
use std::time::Instant;

/// What one epoch did. `epoch` counts from 1.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochLog {
    pub epoch: usize,
    /// Mean cost `C` at the free equilibrium over the epoch's training samples
    /// (each measured just before the update of its mini-batch).
    pub loss: f64,
    /// Free-phase accuracy over the epoch's training samples (same timing).
    pub train_acc: f64,
    /// Accuracy on the test set after the epoch.
    pub test_acc: f64,
    /// Wall time of the epoch, test evaluation included.
    pub seconds: f64,
}

/// A gradient (or an update direction) with the shape of the trained
/// parameters W, U, h, K.
#[derive(Debug, Clone, PartialEq)]
pub struct Grad {
    pub w: Vec<f32>,
    pub u: Vec<f32>,
    pub h: Vec<f32>,
    pub k: Vec<f32>,
}

impl Grad {
    pub fn zeros(p: &Params) -> Grad {
        Grad {
            w: vec![0.0; p.w.len()],
            u: vec![0.0; p.u.len()],
            h: vec![0.0; p.h.len()],
            k: vec![0.0; p.k.len()],
        }
    }

    fn add(&mut self, o: &Grad) {
        for (a, b) in [
            (&mut self.w, &o.w),
            (&mut self.u, &o.u),
            (&mut self.h, &o.h),
            (&mut self.k, &o.k),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// All values in one vector: W, then U, h, K.
    pub fn flat(&self) -> Vec<f32> {
        [&self.w[..], &self.u, &self.h, &self.k].concat()
    }
}

/// The settle of the free phase from a training config.
pub fn free_settle(t: &TrainConfig) -> Settle {
    Settle {
        eps: t.eps as f32,
        steps: t.t1,
        noise: t.noise as f32,
    }
}

/// The settle of the nudged phase(s) from a training config.
pub fn nudged_settle(t: &TrainConfig) -> Settle {
    Settle {
        steps: t.t2,
        ..free_settle(t)
    }
}

/// The result of one sample's EP phases.
#[derive(Debug, Clone)]
pub struct SampleGrad {
    /// EP estimate of dC/dparam (C at the free equilibrium).
    pub grad: Grad,
    /// Cost C at the free equilibrium.
    pub cost: f64,
    /// Prediction at the free equilibrium.
    pub predicted: usize,
}

/// Runs the free and nudged phases for one sample and returns EP's estimate
/// of the gradient of `C` at the free equilibrium.
#[allow(clippy::too_many_arguments)]
pub fn ep_gradient(
    net: &Net,
    x: &[f32],
    label: usize,
    beta: f32,
    symmetric: bool,
    free: &Settle,
    nudged: &Settle,
    rng: &mut Rng,
) -> SampleGrad {
    let p = net.p;
    let b = field(p, x);
    let mut th0 = p.theta0.clone();
    net.settle_field(&b, &mut th0, 0.0, None, free, rng);
    let c = cost(p, &th0, label);
    let predicted = predict(p, &th0);
    let mut ta = th0.clone();
    net.settle_field(&b, &mut ta, beta, Some(label), nudged, rng);
    let (tb, den) = if symmetric {
        let mut tb = th0.clone();
        net.settle_field(&b, &mut tb, -beta, Some(label), nudged, rng);
        (tb, 2.0 * beta)
    } else {
        (th0, beta)
    };
    let inv = 1.0 / den;
    let n = p.topo.n();
    let (ca, sa): (Vec<f32>, Vec<f32>) = ta.iter().map(|t| t.cos_sin()).unzip();
    let (cb, sb): (Vec<f32>, Vec<f32>) = tb.iter().map(|t| t.cos_sin()).unzip();
    let mut g = Grad::zeros(p);
    // ∂E/∂W_ij = −cos(θi − θj) = −(cos θi cos θj + sin θi sin θj)
    for (e, &(i, j)) in p.topo.edges().iter().enumerate() {
        let da = ca[i] * ca[j] + sa[i] * sa[j];
        let db = cb[i] * cb[j] + sb[i] * sb[j];
        g.w[e] = -(da - db) * inv;
    }
    for i in 0..n {
        g.h[i] = -(ca[i] - cb[i]) * inv;
        // cos 2θ = 2cos²θ − 1, ∂E/∂K = −½ cos 2θ
        g.k[i] = -(ca[i] * ca[i] - cb[i] * cb[i]) * inv;
    }
    let ni = p.topo.inputs;
    for (r, i) in p.topo.input_layer().enumerate() {
        let gh = g.h[i];
        for (gu, &xk) in g.u[r * ni..(r + 1) * ni].iter_mut().zip(x) {
            *gu = gh * xk;
        }
    }
    SampleGrad {
        grad: g,
        cost: c,
        predicted,
    }
}

trait CosSin {
    fn cos_sin(&self) -> (f32, f32);
}
impl CosSin for f32 {
    fn cos_sin(&self) -> (f32, f32) {
        let (s, c) = self.sin_cos();
        (c, s)
    }
}

/// Accuracy and mean free-phase cost `C` of `p` on `data`, settling every
/// sample from `theta0` (in parallel; noise streams from `seed`, one per sample).
pub fn evaluate(p: &Params, data: &Dataset, s: &Settle, seed: u64) -> (f64, f64) {
    if data.is_empty() {
        return (0.0, 0.0);
    }
    let net = Net::new(p);
    let res: Vec<(bool, f64)> = (0..data.len())
        .into_par_iter()
        .map(|i| {
            let mut rng = Rng::stream(seed, i as u64);
            let x = data.x(i);
            let mut th = p.theta0.clone();
            net.settle(&x, &mut th, 0.0, None, s, &mut rng);
            let label = data.labels[i] as usize;
            (predict(p, &th) == label, cost(p, &th, label))
        })
        .collect();
    let correct = res.iter().filter(|r| r.0).count();
    let c: f64 = res.iter().map(|r| r.1).sum();
    let n = data.len() as f64;
    (correct as f64 / n, c / n)
}

/// Checks that the data fits the network: pixels = inputs, labels < classes.
fn check_data(cfg: &Config, name: &str, d: &Dataset) -> Result<()> {
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
const EVAL_SEED: u64 = 0x6576_616c_7365_6564;
/// Seed offset of the per-epoch shuffle.
const SHUFFLE_SEED: u64 = 0x7368_7566_666c_6521;

/// Trains a network from `Params::init(cfg)` with EP; calls `on_epoch` after
/// every epoch with its log and the current parameters.
pub fn train(
    cfg: &Config,
    split: &Split,
    on_epoch: &mut dyn FnMut(&EpochLog, &Params),
) -> Result<Params> {
    let t = &cfg.train;
    check_data(cfg, "training", &split.train)?;
    check_data(cfg, "test", &split.test)?;
    if split.train.is_empty() {
        bail!("the training set is empty");
    }
    let mut p = Params::init(cfg);
    p.check()?;
    let n = if t.max_train > 0 {
        t.max_train.min(split.train.len())
    } else {
        split.train.len()
    };
    let free = free_settle(t);
    let nudged = nudged_settle(t);
    let beta = t.beta as f32;
    let mom = t.momentum as f32;
    let lr = t.lr as f32;
    let lr_bias = t.lr_bias as f32;
    let mut vel = Grad::zeros(&p);
    let xs: Vec<Vec<f32>> = (0..n).map(|i| split.train.x(i)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    for epoch in 1..=t.epochs {
        let start = Instant::now();
        Rng::stream(t.seed ^ SHUFFLE_SEED, epoch as u64).shuffle(&mut order);
        let mut loss = 0f64;
        let mut correct = 0usize;
        for batch in order.chunks(t.batch) {
            let net = Net::new(&p);
            let base = (epoch as u64 - 1) * n as u64;
            let res: Vec<SampleGrad> = batch
                .par_iter()
                .map(|&i| {
                    let mut rng = Rng::stream(t.seed, base + i as u64);
                    let label = split.train.labels[i] as usize;
                    ep_gradient(
                        &net,
                        &xs[i],
                        label,
                        beta,
                        t.symmetric,
                        &free,
                        &nudged,
                        &mut rng,
                    )
                })
                .collect();
            // reduce in the batch's order: the same sums whatever the threads
            let mut g = Grad::zeros(&p);
            for (r, &i) in res.iter().zip(batch) {
                g.add(&r.grad);
                loss += r.cost;
                correct += (r.predicted == split.train.labels[i] as usize) as usize;
            }
            let scale = 1.0 / batch.len() as f32;
            for (param, v, gr, rate) in [
                (&mut p.w, &mut vel.w, &g.w, lr),
                (&mut p.u, &mut vel.u, &g.u, lr),
                (&mut p.h, &mut vel.h, &g.h, lr_bias),
                (&mut p.k, &mut vel.k, &g.k, lr_bias),
            ] {
                for ((q, v), gr) in param.iter_mut().zip(v.iter_mut()).zip(gr) {
                    *v = mom * *v + gr * scale;
                    *q -= rate * *v;
                }
            }
        }
        if let Err(e) = p.check() {
            bail!("training diverged in epoch {epoch} ({e}); lower train.lr or train.beta");
        }
        let (test_acc, _) = evaluate(&p, &split.test, &free, t.seed ^ EVAL_SEED);
        let log = EpochLog {
            epoch,
            loss: loss / n as f64,
            train_acc: correct as f64 / n as f64,
            test_acc,
            seconds: start.elapsed().as_secs_f64(),
        };
        on_epoch(&log, &p);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_dir;
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
        };
        let c_at = |q: &Params| {
            let mut th = q.theta0.clone();
            Net::new(q).settle(&x, &mut th, 0.0, None, &s, &mut Rng::new(0));
            cost(q, &th, label)
        };
        let net = Net::new(&p);
        for symmetric in [true, false] {
            let ep = ep_gradient(&net, &x, label, 0.01, symmetric, &s, &s, &mut Rng::new(0));
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
    fn deterministic_across_thread_counts() {
        let s = digits();
        let cfg = Config::parse(
            "name='d'\n[network]\ninputs=64\nlayers=[12,10]\n[train]\nepochs=2\nbatch=7\nmax_train=60\nnoise=0.05\ndispersion=0.02\nt1=10\nt2=5\n",
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
                    let p = train(&cfg, &s, &mut |l, _| logs.push((l.loss, l.test_acc))).unwrap();
                    (p, logs)
                })
        };
        let (a, la) = run(1);
        let (b, lb) = run(2);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert_ne!(a, Params::init(&cfg), "training changed nothing");
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
        .unwrap();
        let last = logs.last().unwrap();
        eprintln!("total {:.1} s", t0.elapsed().as_secs_f64());
        assert!(last.test_acc >= 0.90, "test accuracy {}", last.test_acc);
        let (acc, _) = evaluate(&p, &s.test, &free_settle(&cfg.train), 0);
        assert!((acc - last.test_acc).abs() < 1e-9 || cfg.train.noise > 0.0);
        let wmax = p.w.iter().chain(&p.u).fold(0f32, |m, v| m.max(v.abs()));
        assert!(wmax < 8.0, "weights grew to {wmax}");
    }
}
