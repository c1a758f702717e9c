//! `phasegen report`: summarize a nextpnr report.

use super::common::{count_of, float_vs_twin, load_model};
use anyhow::Result;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::ModelFile;
use std::path::{Path, PathBuf};

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
    /// Model file, to state how the core clock is made and to measure the
    /// float model's and the twin's test accuracy for the summary (default:
    /// none, neither stated).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The bitstream the report belongs to, named in the summary (default:
    /// none).
    #[arg(long)]
    bitstream: Option<PathBuf>,
    /// Test images the summary's accuracies are measured on (0 = all; -1 =
    /// do not measure them).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    count: i64,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        pnr,
        out,
        device,
        yosys_json,
        model,
        bitstream,
        count,
    } = args;
    let clock = match &model {
        Some(m) => Some(ModelFile::load(m)?.config.clock_plan()?.describe()),
        None => None,
    };
    let rep =
        crate::report::write_report(&pnr, &out, &device, yosys_json.as_deref(), clock.as_deref())?;
    // the flow's last words: where the results are and what they are
    let stem = out.display();
    println!("== {} ==", rep.device);
    if let Some(b) = &bitstream {
        println!("bitstream   {}", b.display());
    }
    println!("report      {stem}.md ({stem}.json)");
    if let Some(c) = &rep.clock {
        println!("clock       {c}");
    }
    let lines = rep.summary_lines();
    for (k, l) in lines.iter().enumerate() {
        println!(
            "{}{l}",
            if k == 0 {
                "timing      "
            } else {
                "resources   "
            }
        );
    }
    if let Some(note) = rep.global_buffer_note() {
        println!("note        {note}");
    }
    match (&model, usize::try_from(count)) {
        (Some(m), Ok(count)) => println!("accuracy    {}", accuracy_line(m, count)),
        (Some(_), Err(_)) => println!("accuracy    not measured (--count {count})"),
        (None, _) => {}
    }
    Ok(())
}

/// Test accuracy of the float model and of its twin (the hardware, bit for
/// bit), or why it could not be measured.
fn accuracy_line(model: &Path, count: usize) -> String {
    let measure = || -> Result<String> {
        let (mf, hw) = load_model(model)?;
        let split = load_dir(Path::new(&mf.config.train.data))?;
        let n = count_of(count, split.test.len());
        let (f, t) = float_vs_twin(&mf, &hw, &split.test, n);
        Ok(format!(
            "on {n} test images: float {:.2} %, twin (= the hardware) {:.2} %",
            100.0 * f,
            100.0 * t
        ))
    };
    measure().unwrap_or_else(|e| format!("not measured: {e:#}"))
}
