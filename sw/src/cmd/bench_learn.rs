//! `phasegen bench-learn`: on-chip learning against host training.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// On-chip learning (the twin of a learning design) against training on
/// the host with the twin, on the digits at several weight widths, and the
/// rounding schemes of the small updates. Prints Markdown; run from the
/// repository root.
#[derive(clap::Args)]
pub struct Args {
    /// 2 epochs of 300 samples at 8 bits, one seed: only checks that
    /// everything runs.
    #[arg(long)]
    quick: bool,
    /// Weight widths (hardware.weight_bits), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,6")]
    widths: Vec<u32>,
    /// Seeds (train.seed) each row is averaged over, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    seeds: Vec<u64>,
    /// Instead of the accuracy table: the learning digits design's speed in
    /// RTL (Verilator) over this many training images (default: not run).
    #[arg(long)]
    rtl: Option<usize>,
    /// Also write the report to this file (default: none).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(n) = args.rtl {
        if n == 0 {
            bail!("--rtl 0: learn at least one image");
        }
        let md = crate::bench_learn::bench_learn_rtl(n)?;
        print!("{md}");
        if let Some(p) = args.out {
            std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("report written to {}", p.display());
        }
        return Ok(());
    }
    if args.widths.is_empty() || args.seeds.is_empty() {
        bail!("give at least one --widths and one --seeds value");
    }
    if let Some(w) = args.widths.iter().find(|&&w| !(2..=16).contains(&w)) {
        bail!("--widths {w}: weight widths are 2 to 16 bits");
    }
    let (widths, seeds) = if args.quick {
        (vec![8], vec![1])
    } else {
        (args.widths, args.seeds)
    };
    let md = crate::bench_learn::bench_learn(&crate::bench_learn::LearnBenchOptions {
        quick: args.quick,
        widths,
        seeds,
    })?;
    print!("{md}");
    if let Some(p) = args.out {
        std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("report written to {}", p.display());
    }
    Ok(())
}
