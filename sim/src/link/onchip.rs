//! The host's side of on-chip learning: the device learns every sample
//! itself ([`crate::twin::learn`]); the host only streams the samples, an
//! epoch at a time in a shuffled order, counts the free-phase classes the
//! device answers (training accuracy), and after each epoch reads the
//! parameters back and evaluates them on the twin (bit-exact, so its
//! accuracy is the device's).

use crate::config::Config;
use crate::data::Split;
use crate::link::hil::evaluate_from_phases;
use crate::onn::net::Params;
use crate::onn::train::{check_data, split_sizes, EpochLog, Inputs};
use crate::rng::Rng;
use crate::twin::learn::{learned_params, LearnSpec, Learner, Rounding};
use crate::twin::model::{HwModel, Twin};
use crate::twin::quant::{beta_int, quantize};
use crate::twin::store::{SampleStore, StoreLayout};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use std::time::Instant;

/// A device that learns on chip: the twin ([`TwinLearner`]) or a board.
pub trait LearningDevice {
    fn name(&self) -> &'static str;
    /// One sample's learning step; the free phase's class.
    fn learn(&mut self, x: &[u64], label: usize) -> Result<usize>;
    /// The parameters as the device holds them now.
    fn model(&mut self) -> Result<HwModel>;
    /// Writes sample `index` (its inputs and label) into the device's
    /// sample store (`hardware.store`).
    fn store(&mut self, index: usize, x: &[u64], label: usize) -> Result<()>;
    /// Learns `count` stored samples, `(first + k · stride) mod count` for
    /// `k = 0 .. count`; the number whose free class equalled the label.
    fn epoch(&mut self, count: usize, first: usize, stride: usize) -> Result<usize>;
}

/// The twin as a learning device: the learner and, for a design with a
/// sample store, what the store holds.
pub struct TwinLearner {
    pub l: Learner,
    pub store: Option<SampleStore>,
}

impl TwinLearner {
    pub fn new(l: Learner) -> TwinLearner {
        let store = (l.spec.store > 0).then(|| {
            SampleStore::new(StoreLayout::new(
                l.spec.store,
                l.hw.topo.inputs,
                l.hw.fmt.input_bits,
            ))
        });
        TwinLearner { l, store }
    }

    fn the_store(&mut self) -> Result<&mut SampleStore> {
        self.store
            .as_mut()
            .context("the design has no sample store: set hardware.store")
    }
}

impl LearningDevice for TwinLearner {
    fn name(&self) -> &'static str {
        "twin"
    }

    fn learn(&mut self, x: &[u64], label: usize) -> Result<usize> {
        Ok(self.l.learn(x, label))
    }

    fn model(&mut self) -> Result<HwModel> {
        Ok(self.l.hw.clone())
    }

    fn store(&mut self, index: usize, x: &[u64], label: usize) -> Result<()> {
        let classes = self.l.hw.topo.classes();
        self.the_store()?.write(index, label, classes, 0, x)
    }

    fn epoch(&mut self, count: usize, first: usize, stride: usize) -> Result<usize> {
        let store = self
            .store
            .as_ref()
            .context("the design has no sample store: set hardware.store")?;
        store.epoch(&mut self.l, count, first, stride)
    }
}

/// How the host feeds the samples to a learning device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Every sample over the UART: WriteInput, then Learn.
    Stream,
    /// The training set written once into the sample store, then one
    /// Epoch per epoch.
    Store,
}

impl Feed {
    /// The store when the design has one (`hardware.store > 0`) and the
    /// user did not ask to stream.
    pub fn of(cfg: &Config, stream: bool) -> Feed {
        if cfg.hardware.store > 0 && !stream {
            Feed::Store
        } else {
            Feed::Stream
        }
    }
}

/// The free phases and the class (the device's readout: argmax of the
/// table's cosines) of every sample of `data` after `steps` steps on `hw`.
pub fn free_phases(
    hw: &HwModel,
    data: &crate::data::Dataset,
    steps: u32,
) -> Vec<(Vec<u64>, usize)> {
    (0..data.len())
        .into_par_iter()
        .map(|i| {
            let mut tw = Twin::new(hw);
            tw.load_input(&hw.inputs_of_image(data.image(i)));
            tw.set_nudge(0, None);
            for _ in 0..steps {
                tw.step();
            }
            let c = tw.class();
            (tw.theta, c)
        })
        .collect()
}

/// Accuracy (the device's classes) and mean free-phase cost of `hw` on
/// `data` (`steps` free steps), `p` giving the topology of the readout.
pub fn evaluate(p: &Params, hw: &HwModel, data: &crate::data::Dataset, steps: u32) -> (f64, f64) {
    let (free, classes): (Vec<Vec<u64>>, Vec<usize>) =
        free_phases(hw, data, steps).into_iter().unzip();
    let inputs = Inputs::new(data, data.len());
    let (_, cost) = evaluate_from_phases(p, &inputs, hw.fmt.phase_bits, &free);
    let ok = classes
        .iter()
        .zip(&data.labels)
        .filter(|(&c, &l)| c == l as usize)
        .count();
    (ok as f64 / data.len().max(1) as f64, cost)
}

/// The seed of the host's sample order.
const ORDER_SEED: u64 = 0x4C45_4152_4E00;

/// The seed of the stored epochs' orders.
const STRIDE_SEED: u64 = ORDER_SEED ^ 0x5354;

/// The `(first, stride)` of epoch `epoch` of `n` stored samples: a
/// random start and a random stride coprime to `n`, so the epoch visits
/// every sample once ([`crate::twin::store`]).
pub fn epoch_stride(seed: u64, epoch: usize, n: usize) -> (usize, usize) {
    if n <= 1 {
        return (0, 0);
    }
    let mut r = Rng::stream(seed ^ STRIDE_SEED, epoch as u64);
    let first = r.below(n as u64) as usize;
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    loop {
        let stride = 1 + r.below(n as u64 - 1) as usize;
        if gcd(stride, n) == 1 {
            return (first, stride);
        }
    }
}

/// The order the host streams epoch `epoch`'s samples in.
pub fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::stream(seed ^ ORDER_SEED, epoch as u64).shuffle(&mut order);
    order
}

/// Trains on the device: `train.epochs` epochs of the first `train.max_train`
/// training samples (all with 0), each in the order of [`epoch_order`].
/// `p` is the float model the device was powered up with (for the
/// readout's topology). The log's `loss` is the free-phase cost over the
/// training samples evaluated after the epoch (the device answers only a
/// class while it learns); `steps_per_sample` counts the device's steps.
/// With [`Feed::Store`] the samples are written into the device's store
/// before the first epoch and each epoch is one Epoch request, in the
/// order of [`epoch_stride`].
#[allow(clippy::too_many_arguments)]
pub fn train(
    dev: &mut dyn LearningDevice,
    feed: Feed,
    cfg: &Config,
    split: &Split,
    p: &Params,
    t1: u32,
    steps_per_sample: u32,
    on_epoch: &mut dyn FnMut(&EpochLog, &HwModel),
    on_sample: &mut dyn FnMut(usize, usize),
) -> Result<HwModel> {
    let t = &cfg.train;
    check_data(cfg, "training", &split.train)?;
    check_data(cfg, "test", &split.test)?;
    if split.train.is_empty() {
        bail!("the training set is empty");
    }
    if t.validation != 0.0 {
        bail!("on-chip learning streams every training sample: train.validation = {} is not supported; set it to 0", t.validation);
    }
    let (n, _) = split_sizes(t, split.train.len())?;
    let train_set = split.train.subset(&(0..n).collect::<Vec<_>>());
    let mut hw = dev.model()?;
    if feed == Feed::Store {
        if n > cfg.hardware.store {
            bail!(
                "the training set has {n} samples, more than the sample store holds (hardware.store = {}): raise hardware.store, set train.max_train to at most {}, or stream the samples (--stream)",
                cfg.hardware.store,
                cfg.hardware.store
            );
        }
        for i in 0..n {
            let x = hw.inputs_of_image(train_set.image(i));
            dev.store(i, &x, train_set.labels[i] as usize)
                .with_context(|| format!("storing training sample {i}"))?;
        }
    }
    for epoch in 1..=t.epochs {
        let start = Instant::now();
        let mut correct = 0usize;
        match feed {
            Feed::Stream => {
                for (k, &i) in epoch_order(t.seed, epoch, n).iter().enumerate() {
                    let x = hw.inputs_of_image(train_set.image(i));
                    let label = train_set.labels[i] as usize;
                    let class = dev.learn(&x, label).with_context(|| {
                        format!("epoch {epoch}, sample {} (training index {i})", k + 1)
                    })?;
                    correct += (class == label) as usize;
                    on_sample(epoch, k + 1);
                }
            }
            Feed::Store => {
                let (first, stride) = epoch_stride(t.seed, epoch, n);
                correct = dev
                    .epoch(n, first, stride)
                    .with_context(|| format!("epoch {epoch} of the stored samples"))?;
                on_sample(epoch, n);
            }
        }
        let train_seconds = start.elapsed().as_secs_f64();
        hw = dev
            .model()
            .with_context(|| format!("reading the parameters back after epoch {epoch}"))?;
        let (_, loss) = evaluate(p, &hw, &train_set, t1);
        let (test_acc, test_loss) = evaluate(p, &hw, &split.test, t1);
        let log = EpochLog {
            epoch,
            loss,
            train_acc: correct as f64 / n as f64,
            test_acc,
            test_loss,
            lr: t.lr,
            train_seconds,
            seconds: start.elapsed().as_secs_f64(),
            steps_per_sample: steps_per_sample as f64,
            val_acc: None,
            val_loss: None,
        };
        on_epoch(&log, &hw);
    }
    Ok(hw)
}

/// The learner a config powers up with: its initial parameters quantized
/// with pinned formats (the caller pins them), the config's β, variant,
/// `t1`, `t2` (hardware steps) and learning rates (per sample).
pub fn learner(
    cfg: &Config,
    max_pixel: u8,
    shadow_bits: u32,
    rounding: Rounding,
) -> Result<(Params, Learner)> {
    let t = &cfg.train;
    if t.noise > 0.0 || t.tol > 0.0 {
        bail!(
            "on-chip learning runs the hardware's fixed step counts without noise: train.noise = {} and train.tol = {} must be 0",
            t.noise,
            t.tol
        );
    }
    crate::onn::coupling::CouplingFn::from_train(t).require_plain("on-chip learning")?;
    let p = Params::init(cfg);
    let hw: HwModel = quantize(cfg, &p, max_pixel)?.0;
    let b = beta_int(&hw.fmt, t.beta.abs());
    if b == 0 {
        bail!(
            "train.beta = {} rounds to 0 in the hardware format Q.{}: raise beta or hardware.weight_frac",
            t.beta,
            hw.fmt.frac
        );
    }
    let spec = LearnSpec::new(
        &hw.fmt,
        b,
        t.symmetric,
        t.t1 as u32,
        t.t2 as u32,
        t.lr,
        t.lr_bias,
        shadow_bits,
        rounding,
    )?;
    let spec = LearnSpec {
        store: cfg.hardware.store,
        ..spec
    };
    Ok((p, Learner::new(hw, spec)))
}

/// Steps the device settles per learned sample.
pub fn steps_per_sample(spec: &LearnSpec) -> u32 {
    spec.t1 + spec.t2 * (1 + spec.symmetric as u32)
}

/// Trains `dev`, a device learning with `spec` and powered up with `p`
/// quantized, for the config's epochs: the parameters it ends with and
/// the epochs' logs ([`train`]).
#[allow(clippy::too_many_arguments)]
pub fn train_logged(
    dev: &mut dyn LearningDevice,
    feed: Feed,
    cfg: &Config,
    split: &Split,
    p: &Params,
    spec: &LearnSpec,
    on_epoch: &mut dyn FnMut(&EpochLog),
    on_sample: &mut dyn FnMut(usize, usize),
) -> Result<(HwModel, Vec<EpochLog>)> {
    let mut logs = Vec::new();
    let hw = train(
        dev,
        feed,
        cfg,
        split,
        p,
        spec.t1,
        steps_per_sample(spec),
        &mut |e, _| {
            on_epoch(e);
            logs.push(e.clone());
        },
        on_sample,
    )?;
    Ok((hw, logs))
}

/// The learned parameters `hw` holds as a float model over `p`, checked to
/// quantize back to exactly these integers (the formats must be pinned).
pub fn learned_model(cfg: &Config, split: &Split, p: &Params, hw: &HwModel) -> Result<Params> {
    let learned = learned_params(hw, p);
    let back = quantize(cfg, &learned, split.train.max_pixel)?.0;
    if back.rows != hw.rows || back.u != hw.u || back.h != hw.h {
        bail!("internal: the learned model does not quantize back to the learned integers (formats not pinned?)");
    }
    Ok(learned)
}

/// Trains on the twin of a learning design: the learned float model
/// ([`learned_model`]), the learner and the epochs' logs.
pub fn learn(
    cfg: &Config,
    split: &Split,
    shadow_bits: u32,
    rounding: Rounding,
    feed: Feed,
    on_epoch: &mut dyn FnMut(&EpochLog),
    on_sample: &mut dyn FnMut(usize, usize),
) -> Result<(Params, Learner, Vec<EpochLog>)> {
    let (p, l) = learner(cfg, split.train.max_pixel, shadow_bits, rounding)?;
    let spec = l.spec.clone();
    let mut t = TwinLearner::new(l);
    let (hw, logs) = train_logged(&mut t, feed, cfg, split, &p, &spec, on_epoch, on_sample)?;
    Ok((learned_model(cfg, split, &p, &hw)?, t.l, logs))
}

/// The spec's line for the user.
pub fn describe(l: &Learner) -> String {
    let s = &l.spec;
    format!(
        "on chip: β = {} (Q.{}), {} steps per sample, rates W {}/2^{}, U {}/2^{}, h {}/2^{}, {} shadow bits ({:?})",
        s.beta,
        l.hw.fmt.frac,
        steps_per_sample(s),
        s.w.mult,
        s.w.shift,
        s.u.mult,
        s.u.shift,
        s.h.mult,
        s.h.shift,
        s.shadow_bits,
        s.rounding
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_dir;
    use crate::link::hil::pin_formats;
    use std::path::Path;

    /// The twin learns the digits on chip: a short run improves clearly on
    /// the untrained network, and the order of the samples is the seed's.
    #[test]
    fn the_twin_learns_digits_on_chip() {
        let s = load_dir(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/digits-8x8"
        )))
        .unwrap();
        let mut cfg = Config::parse(
            "name='oc'\n[network]\ninputs=64\nlayers=[16,10]\n[train]\nepochs=2\nmax_train=400\nlr=0.01\nlr_bias=0.01\nt1=30\nt2=10\n",
            "t",
        )
        .unwrap();
        pin_formats(&mut cfg, s.train.max_pixel).unwrap();
        let p = Params::init(&cfg);
        let hw = quantize(&cfg, &p, s.train.max_pixel).unwrap().0;
        let (acc0, _) = evaluate(&p, &hw, &s.test, 30);
        let b = beta_int(&hw.fmt, cfg.train.beta);
        let spec =
            LearnSpec::new(&hw.fmt, b, true, 30, 10, 0.01, 0.01, 8, Rounding::Shadow).unwrap();
        let mut l = TwinLearner::new(Learner::new(hw, spec));
        let mut logs = Vec::new();
        let out = train(
            &mut l,
            Feed::Stream,
            &cfg,
            &s,
            &p,
            30,
            50,
            &mut |lg, _| logs.push(lg.clone()),
            &mut |_, _| {},
        )
        .unwrap();
        eprintln!("untrained {acc0}, {logs:?}");
        assert_eq!(out, l.l.hw);
        assert!(logs[1].test_acc > acc0 + 0.3, "{acc0} -> {logs:?}");
        assert!(logs[1].loss < logs[0].loss + 0.05, "{logs:?}");
        assert_ne!(epoch_order(1, 1, 50), epoch_order(1, 2, 50));
        assert_eq!(epoch_order(1, 1, 50), epoch_order(1, 1, 50));
    }

    /// With a sample store, the host stores the training set once and
    /// each epoch is one Epoch: the same learning steps as the samples
    /// learned one by one in the epoch's order, every sample once.
    #[test]
    fn an_epoch_of_stored_samples_is_the_samples_learned_in_its_order() {
        let s = load_dir(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/digits-8x8"
        )))
        .unwrap();
        let mut cfg = Config::parse(
            "name='oc'\n[network]\ninputs=64\nlayers=[8,10]\n[train]\nepochs=2\nmax_train=60\nlr=0.01\nlr_bias=0.01\nt1=12\nt2=4\n",
            "t",
        )
        .unwrap();
        pin_formats(&mut cfg, s.train.max_pixel).unwrap();
        cfg.hardware.store = 59;
        let p = Params::init(&cfg);
        let hw = quantize(&cfg, &p, s.train.max_pixel).unwrap().0;
        let b = beta_int(&hw.fmt, cfg.train.beta);
        let spec = LearnSpec {
            store: 60,
            ..LearnSpec::new(&hw.fmt, b, true, 12, 4, 0.01, 0.01, 8, Rounding::Shadow).unwrap()
        };
        let l0 = Learner::new(hw.clone(), spec.clone());
        let run = |cfg: &Config| {
            let mut d = TwinLearner::new(l0.clone());
            let mut logs = Vec::new();
            let r = train(
                &mut d,
                Feed::Store,
                cfg,
                &s,
                &p,
                12,
                20,
                &mut |lg, _| logs.push(lg.clone()),
                &mut |_, _| {},
            );
            r.map(|hw| (hw, logs))
        };
        // 60 samples do not fit 59
        let e = run(&cfg).unwrap_err().to_string();
        assert!(e.contains("hardware.store = 59"), "{e}");
        cfg.hardware.store = 60;
        let (out, logs) = run(&cfg).unwrap();
        // by hand: the samples in each epoch's order
        let mut l = l0.clone();
        for (e, log) in logs.iter().enumerate() {
            let (first, stride) = epoch_stride(cfg.train.seed, e + 1, 60);
            let order: Vec<usize> = (0..60)
                .map(|k| crate::twin::store::epoch_index(first, stride, 60, k))
                .collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..60).collect::<Vec<_>>(), "every sample once");
            let correct = order
                .iter()
                .filter(|&&i| {
                    let x = hw.inputs_of_image(s.train.image(i));
                    l.learn(&x, s.train.labels[i] as usize) == s.train.labels[i] as usize
                })
                .count();
            assert_eq!(log.train_acc, correct as f64 / 60.0);
        }
        assert_eq!(out, l.hw);
        assert_ne!(epoch_stride(1, 1, 60), epoch_stride(1, 2, 60));
    }
}
