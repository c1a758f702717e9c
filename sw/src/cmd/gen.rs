//! `phasegen gen`: the Verilog of a trained model.

use super::common::load_model_report;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Generate the Verilog for a trained model (pg_top.v, the modules it
/// uses, and pg_pll.v for the board top).
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Output folder (pg_top.v and the modules it uses).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let Args { model, out } = args;
    let (mf, hw, rep) = load_model_report(&model)?;
    for w in rep.warnings() {
        eprintln!("{w}");
    }
    let cfg = &mf.config;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let plan = cfg.clock_plan()?;
    eprintln!("clock of board {}: {}", plan.board, plan.describe());
    let (config_hash, model_hash) = (cfg.hash_hex(), phasegen_hdl::model_hash(&hw));
    let id = phasegen_hdl::design_id(&config_hash, &hw);
    // docs/protocol.md, "design_id": the recipe and what Identify reports
    eprintln!(
        "design id {id:08x} (SHA-256 of \"{config_hash}/{model_hash}\": config {config_hash}, model {model_hash}); an Infer runs {} steps",
        hw.steps
    );
    let mut files = phasegen_hdl::generate_design(
        &cfg.hash_hex(),
        id,
        &hw,
        plan.core_clock_hz(),
        cfg.target.baud,
    );
    files.push(phasegen_hdl::generate_pll(&cfg.hash_hex(), &hw, &plan));
    for f in &files {
        let p = out.join(&f.name);
        std::fs::write(&p, &f.text).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
