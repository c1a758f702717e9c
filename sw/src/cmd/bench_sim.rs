//! `phasegen bench-sim`: Verilator simulation speed.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Benchmark simulation: Verilator cycles/s of the generated core for a
/// small and larger designs (median of several runs), as Markdown.
#[derive(clap::Args)]
pub struct Args {
    /// Timed runs per figure.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Simulated cycles per timed run.
    #[arg(long, default_value_t = 2_000_000)]
    cycles: u64,
    /// Also time the default design's synthesized iCE40 netlist.
    #[arg(long)]
    netlist: bool,
    /// Only the small design.
    #[arg(long)]
    quick: bool,
    /// Also write the table to this file (default: none).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        runs,
        cycles,
        netlist,
        quick,
        out,
    } = args;
    if runs == 0 || cycles == 0 {
        bail!("--runs and --cycles must be at least 1");
    }
    let o = crate::bench_sim::SimBenchOptions {
        runs,
        cycles,
        netlist,
        quick,
    };
    let md = crate::bench_sim::to_markdown(&crate::bench_sim::bench_sim(&o)?, &o);
    print!("{md}");
    if let Some(p) = out {
        std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("table written to {}", p.display());
    }
    Ok(())
}
