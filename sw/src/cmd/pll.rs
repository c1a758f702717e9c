//! `phasegen pll`: the core clock of a board and how it is made.

use super::common::retarget;
use anyhow::Result;
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::ModelFile;
use std::path::PathBuf;

/// Show the core clock of a model's board: the oscillator or the PLL
/// setting (icepll/ecppll search) and the frequency it achieves.
#[derive(clap::Args)]
pub struct Args {
    /// Model file (its config's target.board and target.clock_hz; default:
    /// none, and with neither --model nor --config the embedded digits
    /// config).
    #[arg(long, conflicts_with_all = ["config", "board"])]
    model: Option<PathBuf>,
    /// Config file (its target.board and target.clock_hz; default: none,
    /// and with neither --model nor --config the embedded digits config).
    #[arg(long, conflicts_with = "board")]
    config: Option<PathBuf>,
    /// Board name (with --clock-hz, or its oscillator; default: the model's
    /// or config's target.board).
    #[arg(long)]
    board: Option<String>,
    /// Requested core clock in Hz (overrides the model's or config's;
    /// default: their target.clock_hz, or the oscillator of a --board other
    /// than theirs).
    #[arg(long)]
    clock_hz: Option<u64>,
    /// Print only the achieved frequency in MHz (for nextpnr --freq).
    #[arg(long)]
    mhz: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        config,
        board,
        clock_hz,
        mhz,
    } = args;
    let mut cfg = match (&model, &config) {
        (Some(m), _) => ModelFile::load(m)?.config,
        (None, Some(c)) => Config::load(c)?,
        (None, None) => Config::default_config(),
    };
    retarget(&mut cfg, board.as_deref(), clock_hz)?;
    let plan = cfg.clock_plan()?;
    if mhz {
        println!("{:.6}", plan.achieved_hz() / 1e6);
    } else {
        println!("board {}: {}", plan.board, plan.describe());
    }
    Ok(())
}
