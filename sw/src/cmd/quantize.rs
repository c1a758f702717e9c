//! `phasegen quantize`: the hardware formats of a model and what they cost
//! in accuracy.

use super::common::count_of;
use anyhow::{Context, Result};
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::onn::train;
use phasegen_sim::twin::model::{HwModel, Twin};
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
    let (hw, rep) = quantize(&mf.config, &mf.params, mf.max_pixel)?;
    print!("{rep}");
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

/// Accuracy of the float model and of the twin on the first `n` samples.
fn float_vs_twin(
    mf: &ModelFile,
    hw: &HwModel,
    test: &phasegen_sim::data::Dataset,
    n: usize,
) -> (f64, f64) {
    let p: &Params = &mf.params;
    let s = train::free_settle(&mf.config.train);
    let (float_acc, _) = if n == test.len() {
        train::evaluate(p, test, &s, mf.config.train.seed)
    } else {
        let mut sub = test.clone();
        sub.images.truncate(n * test.pixels());
        sub.labels.truncate(n);
        train::evaluate(p, &sub, &s, mf.config.train.seed)
    };
    let mut twin = Twin::new(hw);
    let ok = (0..n)
        .filter(|&i| twin.infer(&hw.inputs_of_image(test.image(i))) == test.labels[i] as usize)
        .count();
    (float_acc, ok as f64 / n.max(1) as f64)
}
