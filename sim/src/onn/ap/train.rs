//! Equilibrium Propagation of the amplitude-phase network: the float
//! backend of the trainer ([`crate::onn::train::train_on`], the same loop,
//! options and logs as the phase network's) on the lane engine
//! [`ApEngine`].

use crate::config::{Config, Oscillator};
use crate::data::{Dataset, Split};
use crate::onn::ap::engine::ApEngine;
use crate::onn::ap::params::ApParams;
use crate::onn::float::Settle;
use crate::onn::train::{
    ep_batch_on, evaluate_on, train_on, Backend, BatchGrad, EpSettings, EpochLog, Inputs, Progress,
    Trained,
};
use anyhow::{bail, Result};

/// The float engine for amplitude-phase parameters.
pub struct ApFloatBackend;

impl Backend<ApParams> for ApFloatBackend {
    fn name(&self) -> &'static str {
        "float"
    }

    fn ep_batch(
        &mut self,
        p: &ApParams,
        data: &Inputs,
        idx: &[usize],
        ep: &EpSettings,
    ) -> Result<BatchGrad> {
        Ok(ep_batch_on(&ApEngine::new(p), data, idx, ep))
    }

    fn evaluate(
        &mut self,
        p: &ApParams,
        data: &Inputs,
        s: &Settle,
        seed: u64,
    ) -> Result<(f64, f64)> {
        Ok(evaluate_on(&ApEngine::new(p), data, s, seed))
    }
}

/// Trains an amplitude-phase network of `cfg` (which must say
/// `network.oscillator = "amplitude-phase"`) from [`ApParams::init`].
pub fn train(
    cfg: &Config,
    split: &Split,
    on_epoch: &mut dyn FnMut(&EpochLog, &ApParams),
    on_batch: &mut dyn FnMut(&Progress),
) -> Result<Trained<ApParams>> {
    if cfg.network.oscillator != Oscillator::AmplitudePhase {
        bail!(
            "config {} has network.oscillator = \"{}\"; the amplitude-phase trainer needs network.oscillator = \"amplitude-phase\"",
            cfg.name,
            cfg.network.oscillator.name()
        );
    }
    train_on(&mut ApFloatBackend, cfg, split, on_epoch, on_batch)
}

/// Accuracy and mean free-phase cost `C` of `p` on `data` (noise streams
/// from `seed`, one per sample).
pub fn evaluate(p: &ApParams, data: &Dataset, s: &Settle, seed: u64) -> (f64, f64) {
    evaluate_on(&ApEngine::new(p), &Inputs::new(data, data.len()), s, seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_dir;
    use crate::onn::ap::float::{cost, Net, State};
    use crate::onn::train::ep_batch_on;
    use crate::rng::Rng;
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

    /// EP's gradient estimate (lane engine) agrees with central finite
    /// differences of the cost at the free equilibrium (scalar model),
    /// over every trained parameter (W, U, h), at δω = σ = 0 and small β,
    /// one-sided and symmetric.
    #[test]
    fn ep_gradient_matches_finite_differences() {
        let cfg = Config::parse(
            "name='g'\n[network]\ninputs=3\nlayers=[3,2]\noscillator='amplitude-phase'\n[train]\nseed=3\n",
            "t",
        )
        .unwrap();
        let mut p = ApParams::init(&cfg);
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
        let c_at = |q: &ApParams| {
            let mut z = State::initial(q);
            Net::new(q).settle(&x, &mut z, 0.0, None, &s, &mut Rng::new(0));
            cost(q, &z, label)
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
            let ep = ep_batch_on(&ApEngine::new(&p), &data, &[0], &ep);
            let h = 1e-2f32;
            let mut fd = Vec::new();
            for which in 0..3 {
                let len = [p.w.len(), p.u.len(), p.h.len()][which];
                for idx in 0..len {
                    let at = |d: f32| {
                        let mut q = p.clone();
                        [&mut q.w, &mut q.u, &mut q.h][which][idx] += d;
                        c_at(&q)
                    };
                    fd.push(((at(h) - at(-h)) / (2.0 * h as f64)) as f32);
                }
            }
            let e = [&ep.grad.w[..], &ep.grad.u, &ep.grad.h].concat();
            assert!(ep.grad.k.is_empty());
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

    /// The same seed trains the same network whatever the number of
    /// threads, with noise, dispersion, augmentation and random β signs.
    #[test]
    fn deterministic_across_thread_counts() {
        let s = digits();
        let cfg = Config::parse(
            "name='d'\n[network]\ninputs=64\nlayers=[12,10]\noscillator='amplitude-phase'\n[train]\nepochs=2\nbatch=40\nmax_train=150\naugment=0.5\nbeta_sign='random'\nnoise=0.05\ndispersion=0.02\nt1=10\nt2=5\n",
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
                    let p = train(
                        &cfg,
                        &s,
                        &mut |l, _| logs.push((l.loss, l.test_acc)),
                        &mut |_| {},
                    )
                    .unwrap()
                    .params;
                    (p, logs)
                })
        };
        let (a, la) = run(1);
        let (b, lb) = run(2);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert_ne!(a, ApParams::init(&cfg), "training changed nothing");
    }

    /// A short run learns the 8x8 digits: 64-32-10, Adam, 12 epochs (about
    /// half a second on 2 cores), at least 90% on the test set; the model
    /// evaluates to the logged accuracy.
    #[test]
    fn learns_digits() {
        let s = digits();
        let cfg = Config::parse(
            "name='l'\n[network]\ninputs=64\nlayers=[32,10]\noscillator='amplitude-phase'\n[train]\nepochs=12\nbatch=16\noptimizer='adam'\nlr=0.003\nlr_bias=0.003\n",
            "t",
        )
        .unwrap();
        let t0 = std::time::Instant::now();
        let mut logs = Vec::new();
        let p = train(&cfg, &s, &mut |l, _| logs.push(l.clone()), &mut |_| {})
            .unwrap()
            .params;
        let last = logs.last().unwrap();
        eprintln!(
            "test accuracy by epoch {:?}, {:.2} s",
            logs.iter().map(|l| l.test_acc).collect::<Vec<_>>(),
            t0.elapsed().as_secs_f64()
        );
        assert!(last.test_acc >= 0.90, "test accuracy {}", last.test_acc);
        assert!(logs[0].loss > 1.5 * last.loss, "the loss did not fall");
        let free = crate::onn::train::free_settle(&cfg.train);
        let (acc, _) = evaluate(&p, &s.test, &free, 0);
        assert_eq!(acc, last.test_acc);
    }

    #[test]
    fn refuses_a_phase_config() {
        let cfg = Config::default_config();
        let e = format!(
            "{:#}",
            train(&cfg, &digits(), &mut |_, _| {}, &mut |_| {}).unwrap_err()
        );
        assert!(e.contains("network.oscillator = \"phase\""), "{e}");
    }
}
