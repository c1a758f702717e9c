//! `phasegen bench-train`: benchmark the training engine.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Benchmark the training engine: speed (s/epoch, samples/s, memory,
/// scaling), accuracy of the repo's configs, robustness to dispersion
/// and noise. Prints Markdown; run from the repository root.
#[derive(clap::Args)]
pub struct Args {
    /// Small sizes and 1-2 epochs: only checks that everything runs.
    #[arg(long)]
    quick: bool,
    /// Epochs timed for the speed figure (the median is reported).
    #[arg(long, default_value_t = 3)]
    speed_epochs: usize,
    /// Skip the accuracy section (training the repo's configs).
    #[arg(long)]
    no_accuracy: bool,
    /// Skip the robustness section (accuracy under frequency dispersion
    /// and phase noise).
    #[arg(long)]
    no_robustness: bool,
    /// Also write the report to this file (default: none).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        quick,
        speed_epochs,
        no_accuracy,
        no_robustness,
        out,
    } = args;
    if speed_epochs == 0 {
        bail!("--speed-epochs 0: time at least one epoch");
    }
    let md = crate::bench::bench_train(&crate::bench::BenchOptions {
        quick,
        speed_epochs,
        no_accuracy,
        no_robustness,
    })?;
    print!("{md}");
    if let Some(p) = out {
        std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("report written to {}", p.display());
    }
    Ok(())
}
