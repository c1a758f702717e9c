//! `phasegen verify`: Verilator cosimulation of the generated core against
//! the twin.

use super::common::{count_of, load_model};
use crate::cosim::{build_core_with, scratch_dir, verify_sample, CoreSim, Plan};
use anyhow::{bail, Result};
use phasegen_sim::data::load_dir;
use phasegen_sim::twin::quant::beta_int;
use phasegen_vl::{Options, Trace};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Verilator cosimulation of the generated core against the twin, every step.
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Free steps to compare per sample (then 100 nudged steps).
    #[arg(long, default_value_t = 1000)]
    steps: u32,
    /// Test samples to run.
    #[arg(long, default_value_t = 2)]
    samples: usize,
    /// Write a waveform of every signal of the whole run to FILE (*.vcd or
    /// *.fst; one clock cycle is 10 time units; default: none). Large: pair
    /// it with a few --steps and --samples 1.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        steps,
        samples,
        trace,
    } = args;
    let trace_format = trace.as_deref().map(Trace::for_path).transpose()?;
    let (mf, hw) = load_model(&model)?;
    let cfg = &mf.config;
    let split = load_dir(Path::new(&cfg.train.data))?;
    let t = Instant::now();
    let options = Options {
        trace: trace_format,
        ..Options::default()
    };
    let built = build_core_with(
        &hw,
        &cfg.hash_hex(),
        &scratch_dir(&format!("verify-{}", cfg.name)),
        &options,
    )?;
    eprintln!("verilated pg_core in {:.1} s", t.elapsed().as_secs_f64());
    let mut sim = CoreSim::new(&built, hw.n())?;
    if let Some(path) = &trace {
        sim.sim.trace_to(path)?;
    }
    let beta = beta_int(&hw.fmt, cfg.train.beta);
    let per_lane = if hw.pairs { 2.0 } else { 1.0 };
    let n = count_of(samples, split.test.len());
    let bar = crate::progress::bar("verify", "samples", n as u64);
    for s in 0..n {
        let x = hw.inputs_of_image(split.test.image(s));
        let label = split.test.labels[s] as usize;
        let t = Instant::now();
        match verify_sample(&mut sim, &hw, &x, &Plan { free_steps: steps, nudge_steps: 100, beta, label, fault: None })? {
            // (a pairs-stream lane makes two coupling products per
            // cycle: its row's and, from the same weight, row j's)
            Ok(r) => bar.suspend(|| eprintln!(
                "sample {s}: {} steps bit-exact (free and nudged), {:.0} cycles/step, {} lane(s){}: {:.1}% of the lanes busy in the coupling loop, {:.1}% over the run; class {} ({:.1} s)",
                r.steps_compared,
                r.cycles_per_step,
                r.lanes,
                if hw.pairs { " of the pairs stream, two products each" } else { "" },
                100.0 * r.free_run.loop_efficiency(r.lanes) / per_lane,
                100.0 * r.free_run.step_efficiency(r.lanes) / per_lane,
                r.class,
                t.elapsed().as_secs_f64()
            )),
            Err(m) => bail!("{m}"),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(path) = &trace {
        sim.sim.trace_close();
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        eprintln!("wrote {} ({:.1} MB)", path.display(), len as f64 / 1e6);
    }
    println!("TESTBENCH OK");
    Ok(())
}
