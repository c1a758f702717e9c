//! `phasegen report`: summarize a nextpnr report.

use anyhow::Result;
use phasegen_sim::onn::net::ModelFile;
use std::path::PathBuf;

/// Summarize a nextpnr report; fails when timing is not met.
#[derive(clap::Args)]
pub struct Args {
    /// nextpnr --report JSON.
    #[arg(long)]
    pnr: PathBuf,
    /// Output stem: writes STEM.md and STEM.json.
    #[arg(long)]
    out: PathBuf,
    /// The part named in the report, e.g. up5k-sg48; empty: the family
    /// (iCE40 or ECP5) recognized from the placed cells.
    #[arg(long, default_value = "")]
    device: String,
    /// Yosys JSON netlist, for the flip-flop count (default: none, no count).
    #[arg(long)]
    yosys_json: Option<PathBuf>,
    /// Model file, to state how the core clock is made (default: none, not
    /// stated).
    #[arg(long)]
    model: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        pnr,
        out,
        device,
        yosys_json,
        model,
    } = args;
    let clock = match &model {
        Some(m) => Some(ModelFile::load(m)?.config.clock_plan()?.describe()),
        None => None,
    };
    let r =
        crate::report::write_report(&pnr, &out, &device, yosys_json.as_deref(), clock.as_deref());
    match r {
        Ok(rep) => print!("{}", rep.to_markdown()),
        Err(e) => return Err(e),
    }
    Ok(())
}
