//! `phasegen report`: summarize a nextpnr report, as Markdown, JSON and one
//! self-contained HTML page (`crate::report_html`).

use super::common::{count_of, float_vs_twin, load_model};
use crate::report::with_suffix;
use crate::report_html::{Accuracy, Design, Facts};
use anyhow::{Context, Result};
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
    /// Training log (`train --log`) for the page's training curves
    /// (default: none; a path that does not exist is skipped).
    #[arg(long)]
    log: Option<PathBuf>,
    /// `phasegen sweep --json` output for the page's format sweep (default:
    /// none; a path that does not exist is skipped).
    #[arg(long)]
    sweep: Option<PathBuf>,
    /// A tool whose version the page lists, `NAME=COMMAND ARGS` (e.g.
    /// `yosys=yosys -V`); repeatable. A tool that does not run is listed as
    /// such (default: none).
    #[arg(long = "tool")]
    tools: Vec<String>,
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
        log,
        sweep,
        tools,
    } = args;
    let clock = match &model {
        Some(m) => Some(ModelFile::load(m)?.config.clock_plan()?.describe()),
        None => None,
    };
    let rep =
        crate::report::write_files(&pnr, &out, &device, yosys_json.as_deref(), clock.as_deref())?;
    let acc = match (&model, usize::try_from(count)) {
        (Some(m), Ok(count)) => Some(accuracy(m, count)),
        _ => None,
    };
    let facts = Facts {
        design: match &model {
            Some(m) => Some(design(m)?),
            None => None,
        },
        accuracy: acc.as_ref().and_then(|a| a.as_ref().ok().copied()),
        curves: match log.as_deref().filter(|l| l.exists()) {
            Some(l) => {
                let text = std::fs::read_to_string(l)
                    .with_context(|| format!("cannot read {}", l.display()))?;
                // train.epochs = 0 (capacity's trials) logs nothing: no curves
                if text.trim().is_empty() {
                    None
                } else {
                    Some(crate::cmd::plot::curves_svg(
                        &crate::cmd::plot::parse_log(&text, &l.display().to_string())?,
                        l,
                    ))
                }
            }
            None => None,
        },
        settle: match &model {
            Some(m) => Some(crate::cmd::plot::settle_svg(m, None, 0, None)?),
            None => None,
        },
        sweep: match sweep.as_deref().filter(|p| p.exists()) {
            Some(p) => Some(
                serde_json::from_str(
                    &std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read {}", p.display()))?,
                )
                .with_context(|| {
                    format!(
                        "{} is not `phasegen sweep --json` output (JSON)",
                        p.display()
                    )
                })?,
            ),
            None => None,
        },
        tools: tools
            .iter()
            .map(|t| tool_version(t))
            .collect::<Result<_>>()?,
        bitstream: bitstream.as_ref().map(|b| b.display().to_string()),
    };
    let html = with_suffix(&out, ".html");
    std::fs::write(&html, crate::report_html::render(&rep, &facts))
        .with_context(|| format!("cannot write {}", html.display()))?;
    // the page's figures in the JSON too
    let js = with_suffix(&out, ".json");
    let mut j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&js).with_context(|| format!("cannot read {}", js.display()))?,
    )?;
    if let (Some(o), serde_json::Value::Object(extra)) = (j.as_object_mut(), facts.to_json()) {
        o.extend(extra);
    }
    std::fs::write(&js, serde_json::to_string_pretty(&j)? + "\n")
        .with_context(|| format!("cannot write {}", js.display()))?;
    rep.check_timing(&out)?;
    // the flow's last words: where the results are and what they are
    let stem = out.display();
    println!("== {} ==", rep.device);
    if let Some(b) = &bitstream {
        println!("bitstream   {}", b.display());
    }
    println!("report      {stem}.md ({stem}.json, {stem}.html)");
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
    match (&acc, model.is_some()) {
        (Some(Ok(a)), _) => println!(
            "accuracy    on {} test images: float {:.2} %, twin (= the hardware) {:.2} %",
            a.count,
            100.0 * a.float,
            100.0 * a.twin
        ),
        (Some(Err(e)), _) => println!("accuracy    not measured: {e:#}"),
        (None, true) => println!("accuracy    not measured (--count {count})"),
        (None, false) => {}
    }
    Ok(())
}

/// Test accuracy of the float model and of its twin (the hardware, bit for
/// bit), or why it could not be measured.
fn accuracy(model: &Path, count: usize) -> Result<Accuracy> {
    let (mf, hw) = load_model(model)?;
    let split = load_dir(Path::new(&mf.config.train.data))?;
    let n = count_of(count, split.test.len());
    let (float, twin) = float_vs_twin(&mf, &hw, &split.test, n);
    Ok(Accuracy {
        count: n,
        float,
        twin,
    })
}

/// The model's network, formats, identity and schedule.
fn design(model: &Path) -> Result<Design> {
    let (mf, hw) = load_model(model)?;
    let cfg = &mf.config;
    let plan = cfg.clock_plan()?;
    let formats = match serde_json::to_value(&cfg.hardware)? {
        serde_json::Value::Object(o) => o
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    v => v.to_string(),
                };
                (k, v)
            })
            .collect(),
        _ => vec![],
    };
    let sched = phasegen_sim::twin::sched::Schedule::new(&hw);
    let frames = crate::device::infer_frames(&vec![0; hw.topo.inputs])?;
    Ok(Design {
        name: cfg.name.clone(),
        inputs: cfg.network.inputs,
        layers: cfg.network.layers.clone(),
        intralayer: cfg.network.intralayer,
        formats,
        config_hash: cfg.hash_hex(),
        design_id: phasegen_hdl::design_id(&cfg.hash_hex(), &hw),
        clock_hz: plan.core_clock_hz(),
        clock: plan.describe(),
        baud: cfg.target.baud,
        steps: hw.steps as u64,
        step_cycles: sched.step_cycles() as u64,
        field_cycles: sched.field_cycles() as u64,
        request_bytes: frames.iter().map(|f| f.len() as u64).sum(),
        reply_bytes: phasegen_sim::link::protocol::response(
            phasegen_sim::link::protocol::Cmd::Infer as u8,
            &[0],
        )
        .len() as u64,
    })
}

/// `NAME=COMMAND ARGS` run, its first line of output kept.
fn tool_version(spec: &str) -> Result<(String, String)> {
    let (name, cmd) = spec.split_once('=').with_context(|| {
        format!("--tool {spec:?}: give NAME=COMMAND ARGS, e.g. --tool 'yosys=yosys -V'")
    })?;
    let mut words = cmd.split_whitespace();
    let Some(prog) = words.next() else {
        anyhow::bail!("--tool {spec:?}: the command is empty");
    };
    let line = match std::process::Command::new(prog).args(words).output() {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("(no output)")
                .to_string()
        }
        Err(e) => format!("{cmd} does not run: {e}"),
    };
    Ok((name.to_string(), line))
}
