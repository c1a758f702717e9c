//! `phasegen sweep`: twin accuracy against weight and phase bits.

use super::common::{count_of, data_dir};
use anyhow::Result;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::ModelFile;
use phasegen_sim::onn::train;
use std::path::PathBuf;

/// Twin test accuracy against weight bits and phase bits (the other
/// formats as configured): where does the hardware break?
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Data folder (default: the model config's train.data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Test samples (0 = all).
    #[arg(long, default_value_t = 0)]
    count: usize,
    /// Weight widths, e.g. 3..10.
    #[arg(long, default_value = "3..10")]
    weight_bits: String,
    /// Phase widths, e.g. 4..16.
    #[arg(long, default_value = "4..16")]
    phase_bits: String,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        data,
        count,
        weight_bits,
        phase_bits,
        json,
    } = args;
    let wb = crate::sweep::parse_range(&weight_bits, "--weight-bits", 2, 16)?;
    let pb = crate::sweep::parse_range(&phase_bits, "--phase-bits", 4, 24)?;
    let mf = ModelFile::load(&model)?;
    super::common::require_sine_coupling(&mf, &model)?;
    let dir = data_dir(&mf.config, &data);
    let split = load_dir(&dir)?;
    train::check_data(&mf.config, "test", &split.test)?;
    let n = count_of(count, split.test.len());
    let sw = crate::sweep::sweep(&mf, &split.test, n, &wb, &pb);
    if json {
        println!("{}", serde_json::to_string(&sw).expect("sweep serializes"));
    } else {
        print!("{}", sw.markdown());
    }
    Ok(())
}
