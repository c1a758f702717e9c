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

/// [`onchip::learn`], and the learned model written to `out`.
pub fn run(
    cfg: &Config,
    split: &Split,
    out: &Path,
    shadow_bits: u32,
    rounding: Rounding,
    on_epoch: &mut dyn FnMut(&EpochLog),
    on_sample: &mut dyn FnMut(usize, usize),
) -> Result<Vec<EpochLog>> {
    let (_, l) = onchip::learner(cfg, split.train.max_pixel, shadow_bits, rounding)?;
    eprintln!("{}", onchip::describe(&l));
    let (learned, _, logs) = onchip::learn(cfg, split, shadow_bits, rounding, on_epoch, on_sample)?;
    ModelFile::new(cfg.clone(), learned, split.train.max_pixel).save(out)?;
    Ok(logs)
}
