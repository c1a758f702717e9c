//! `phasegen train --backend twin --onchip`: what a learning design does
//! in fabric, run on the integer twin (docs/learning.md): per sample the
//! free and nudged phases and the update of every parameter in place, with
//! shadow parameters. Its accuracy is the hardware's.

use anyhow::Result;
use phasegen_sim::config::Config;
use phasegen_sim::data::Split;
use phasegen_sim::link::onchip;
use phasegen_sim::onn::net::ModelFile;
use phasegen_sim::onn::train::EpochLog;
use phasegen_sim::twin::learn::Rounding;
use std::path::Path;

/// How the updates reach the parameters (`--rounding`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoundingKind {
    Shadow,
    Stochastic,
}

impl RoundingKind {
    pub fn rounding(self) -> Rounding {
        match self {
            RoundingKind::Shadow => Rounding::Shadow,
            RoundingKind::Stochastic => Rounding::Stochastic,
        }
    }
}

/// On-chip training: on the twin of a learning design, or with `device`
/// on a learning device over the UART (its parameters written first, so
/// that it starts where the twin does); the learned model written to
/// `out`.
#[allow(clippy::too_many_arguments)]
pub fn run<P: std::io::Read + std::io::Write>(
    cfg: &Config,
    split: &Split,
    out: &Path,
    shadow_bits: u32,
    rounding: Rounding,
    feed: onchip::Feed,
    device: Option<crate::device::Device<P>>,
    on_epoch: &mut dyn FnMut(&EpochLog),
    on_sample: &mut dyn FnMut(usize, usize),
) -> Result<Vec<EpochLog>> {
    let (p, l) = onchip::learner(cfg, split.train.max_pixel, shadow_bits, rounding)?;
    eprintln!("{}", onchip::describe(&l));
    if feed == onchip::Feed::Store {
        eprintln!(
            "the training set goes into the device's sample store once (hardware.store = {}); each epoch is one Epoch request",
            cfg.hardware.store
        );
    }
    let spec = l.spec.clone();
    let (learned, logs) = match device {
        Some(dev) => {
            let mut d = crate::onchip_device::DeviceLearner::new(dev, &l.hw)?;
            onchip::train_logged(&mut d, feed, cfg, split, &p, &spec, on_epoch, on_sample)?
        }
        None => {
            let mut t = onchip::TwinLearner::new(l);
            onchip::train_logged(&mut t, feed, cfg, split, &p, &spec, on_epoch, on_sample)?
        }
    };
    let params = onchip::learned_model(cfg, split, &p, &learned)?;
    ModelFile::new(cfg.clone(), params, split.train.max_pixel).save(out)?;
    Ok(logs)
}
