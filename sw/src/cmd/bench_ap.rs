//! `phasegen bench-ap`: phase against amplitude-phase oscillators.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Phase against amplitude-phase oscillators: accuracy and training speed
/// of the repo's digits and MNIST configs with each model, and accuracy
/// against frequency dispersion. Prints Markdown; run from the repository
/// root.
#[derive(clap::Args)]
pub struct Args {
    /// Digits only, a small network and 2 epochs: only checks that
    /// everything runs.
    #[arg(long)]
    quick: bool,
    /// Skip 784-512-10 (its two runs are most of the time).
    #[arg(long)]
    no_mnist_512: bool,
    /// Device instances (δω draws) each clean-trained network is evaluated
    /// on per dispersion.
    #[arg(long, default_value_t = 5)]
    instances: u64,
    /// Also write the report to this file (default: none).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    if args.instances == 0 {
        bail!("--instances 0: evaluate on at least one device instance");
    }
    let md = crate::bench_ap::bench_ap(&crate::bench_ap::ApBenchOptions {
        quick: args.quick,
        no_mnist_512: args.no_mnist_512,
        instances: args.instances,
    })?;
    print!("{md}");
    if let Some(p) = args.out {
        std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("report written to {}", p.display());
    }
    Ok(())
}
