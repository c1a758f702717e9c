//! `phasegen sweep`: twin accuracy against weight and phase bits.

use super::common::{count_of, data_dir};
use anyhow::{Context, Result};
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
    #[command(flatten)]
    job: crate::jobs::JobArgs,
    /// One job: the point `WEIGHT_BITS:PHASE_BITS` alone, its result as
    /// JSON into --point-out (what --engine runs; default: none).
    #[arg(long, requires = "point_out")]
    point: Option<String>,
    /// Where --point writes its result (default: none).
    #[arg(long, requires = "point")]
    point_out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        data,
        count,
        weight_bits,
        phase_bits,
        json,
        job,
        point,
        point_out,
    } = args;
    let wb = crate::sweep::parse_range(&weight_bits, "--weight-bits", 2, 16)?;
    let pb = crate::sweep::parse_range(&phase_bits, "--phase-bits", 4, 24)?;
    let mf = ModelFile::load(&model)?;
    super::common::require_hardware_coupling(&mf, &model)?;
    let dir = data_dir(&mf.config, &data);
    let split = load_dir(&dir)?;
    train::check_data(&mf.config, "test", &split.test)?;
    let n = count_of(count, split.test.len());
    job.check()?;
    if let (Some(pt), Some(out)) = (&point, &point_out) {
        let (w, p) = pt
            .split_once(':')
            .and_then(|(w, p)| Some((w.parse().ok()?, p.parse().ok()?)))
            .with_context(|| format!("--point {pt:?}: give WEIGHT_BITS:PHASE_BITS, e.g. 8:12"))?;
        let r = crate::sweep::point(&mf, &split.test, n, w, p);
        return crate::jobs::write_json(out, &r);
    }
    let sw = match job.engine {
        None => crate::sweep::sweep(&mf, &split.test, n, &wb, &pb),
        Some(engine) => {
            let dir = job.folder(
                model
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join("sweep-jobs"),
            )?;
            let model_abs = crate::jobs::abs(&model)?;
            let data_abs = crate::jobs::abs(&data_dir(&mf.config, &data))?;
            // one job per distinct format (the config's may be swept too)
            let order = crate::sweep::points(&mf, &wb, &pb);
            let mut uniq: Vec<(u32, u32)> = vec![];
            for p in &order {
                if !uniq.contains(p) {
                    uniq.push(*p);
                }
            }
            let tasks: Vec<crate::jobs::Task> = uniq
                .iter()
                .map(|&(w, p)| {
                    let out = dir.join(format!("point-w{w}-p{p}-n{n}.json"));
                    crate::jobs::Task {
                        argv: vec![
                            "sweep".into(),
                            "--model".into(),
                            model_abs.clone(),
                            "--data".into(),
                            data_abs.clone(),
                            "--count".into(),
                            n.to_string(),
                            "--point".into(),
                            format!("{w}:{p}"),
                            "--point-out".into(),
                            out.display().to_string(),
                        ],
                        out,
                        what: format!("weight bits {w}, phase bits {p}"),
                    }
                })
                .collect();
            let got: Vec<crate::sweep::Point> =
                crate::jobs::run_merge(&job, engine, &dir, "sweep", &tasks, |t| {
                    crate::jobs::read_json(&t.out)
                })?;
            let pts = order
                .iter()
                .map(|p| got[uniq.iter().position(|u| u == p).expect("a task per format")].clone())
                .collect();
            crate::sweep::assemble(&mf, &split.test, n, wb.len(), pts)
        }
    };
    if json {
        println!("{}", serde_json::to_string(&sw).expect("sweep serializes"));
    } else {
        print!("{}", sw.markdown());
    }
    Ok(())
}
