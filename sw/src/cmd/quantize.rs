//! `phasegen quantize`: the hardware formats of a model and what they cost
//! in accuracy.

use super::common::{count_of, float_vs_twin};
use anyhow::{Context, Result};
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::ModelFile;
use phasegen_sim::twin::quant::quantize;
use std::path::{Path, PathBuf};

/// Quantize a model and print the formats, clipping and float-vs-twin accuracy.
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Test samples to compare (0 = all).
    #[arg(long, default_value_t = 0)]
    count: usize,
    /// Also write an SVG of each parameter group's distribution against
    /// the format's range (default: none).
    #[arg(long)]
    plot: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let Args { model, count, plot } = args;
    let mf = ModelFile::load(&model)?;
    super::common::require_hardware_coupling(&mf, &model)?;
    let (hw, rep) = quantize(&mf.config, &mf.params, mf.max_pixel)?;
    print!("{rep}");
    for w in rep.warnings() {
        println!("{w}");
    }
    if let Some(p) = plot {
        std::fs::write(&p, crate::sweep::weight_plot(&mf, &hw))
            .with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    let split = load_dir(Path::new(&mf.config.train.data))?;
    let n = count_of(count, split.test.len());
    let (float_acc, twin_acc) = float_vs_twin(&mf, &hw, &split.test, n);
    println!(
        "test accuracy on {n} samples: float {:.2}%, twin {:.2}%",
        100.0 * float_acc,
        100.0 * twin_acc
    );
    Ok(())
}
