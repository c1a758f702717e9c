//! `phasegen serve`: a simulated board on a pseudo-terminal.

use super::common::load_model;
use crate::cosim::scratch_dir;
use crate::uartsim::{build_top, PtyServer};
use anyhow::Result;
use phasegen_hdl::uart::clocks_per_bit;
use std::io::Write;
use std::path::PathBuf;

/// Serve the Verilated design of a model on a pseudo-terminal (a board
/// without a board): prints the port path, runs until killed.
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Stop after this many seconds (0 = run until killed).
    #[arg(long, default_value_t = 0)]
    seconds: u64,
}

pub fn run(args: Args) -> Result<()> {
    let Args { model, seconds } = args;
    let (mf, hw) = load_model(&model)?;
    let cfg = &mf.config;
    let built = build_top(cfg, &hw, &scratch_dir(&format!("serve-{}", cfg.name)))?;
    let clock_hz = cfg.clock_plan()?.core_clock_hz();
    let server = PtyServer::start(built, clocks_per_bit(clock_hz, cfg.target.baud))?;
    println!("{}", server.path);
    std::io::stdout().flush().ok();
    eprintln!(
        "serving the simulated {} on {} (baud {} simulated bit by bit); stop with Ctrl-C",
        cfg.name, server.path, cfg.target.baud
    );
    if seconds > 0 {
        std::thread::sleep(std::time::Duration::from_secs(seconds));
        let cycles = server.stop()?;
        eprintln!("simulated {cycles} cycles");
    } else {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    Ok(())
}
