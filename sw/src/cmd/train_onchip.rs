//! `phasegen train --backend twin --onchip`: what a learning design does
//! in fabric, run on the integer twin (docs/learning.md): per sample the
//! free and nudged phases and the update of every parameter in place, with
//! shadow parameters. Its accuracy is the hardware's.

use anyhow::{bail, Result};
use phasegen_sim::config::Config;
use phasegen_sim::data::Split;
use phasegen_sim::link::onchip;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::onn::train::EpochLog;
use phasegen_sim::twin::learn::{LearnSpec, Learner, Rounding};
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::quant::{beta_int, quantize};
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
    phasegen_sim::onn::coupling::CouplingFn::from_train(t).require_plain("on-chip learning")?;
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
        &hw,
        b,
        t.symmetric,
        t.t1 as u32,
        t.t2 as u32,
        t.lr,
        t.lr_bias,
        shadow_bits,
        rounding,
    )?;
    Ok((p, Learner::new(hw, spec)))
}

/// Steps the device settles per learned sample.
pub fn steps_per_sample(spec: &LearnSpec) -> u32 {
    spec.t1 + spec.t2 * (1 + spec.symmetric as u32)
}

/// Trains on the twin of a learning design and writes the learned model
/// to `out` (quantized again with the pinned formats, it gives the learned
/// integers back).
pub fn run(
    cfg: &Config,
    split: &Split,
    out: &Path,
    shadow_bits: u32,
    rounding: Rounding,
    on_epoch: &mut dyn FnMut(&EpochLog),
    on_sample: &mut dyn FnMut(usize, usize),
) -> Result<Vec<EpochLog>> {
    let (p, mut l) = learner(cfg, split.train.max_pixel, shadow_bits, rounding)?;
    let s = &l.spec;
    eprintln!(
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
    );
    let (t1, per) = (s.t1, steps_per_sample(s));
    let mut logs = Vec::new();
    onchip::train(
        &mut l,
        cfg,
        split,
        &p,
        t1,
        per,
        &mut |e, _| {
            on_epoch(e);
            logs.push(e.clone());
        },
        on_sample,
    )?;
    let learned = l.params(&p);
    let back = quantize(cfg, &learned, split.train.max_pixel)?.0;
    if back.rows != l.hw.rows || back.u != l.hw.u || back.h != l.hw.h {
        bail!("internal: the learned model does not quantize back to the learned integers (formats not pinned?)");
    }
    ModelFile::new(cfg.clone(), learned, split.train.max_pixel).save(out)?;
    Ok(logs)
}
