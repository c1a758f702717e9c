//! `phasegen sweep`: twin accuracy against weight and phase bits.

use super::common::{count_of, data_dir};
use anyhow::{bail, Context, Result};
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
    /// Run each format as a job: `local` (a pool of --jobs processes) or
    /// `slurm` (a job array, docs/cluster.md); results go to --results and
    /// merge into the same table (default: none, all in this process).
    #[arg(long, value_enum)]
    engine: Option<crate::jobs::Engine>,
    /// Processes at once with --engine local.
    #[arg(short = 'j', long, default_value_t = 2)]
    jobs: usize,
    /// The jobs' shared results folder (default: `sweep-jobs` beside the
    /// model file); a format whose result is there is not run again.
    #[arg(long)]
    results: Option<PathBuf>,
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
        engine,
        jobs,
        results,
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
    if jobs == 0 {
        bail!("-j 0: give the number of processes at once, at least 1");
    }
    if let (Some(pt), Some(out)) = (&point, &point_out) {
        let (w, p) = pt
            .split_once(':')
            .and_then(|(w, p)| Some((w.parse().ok()?, p.parse().ok()?)))
            .with_context(|| format!("--point {pt:?}: give WEIGHT_BITS:PHASE_BITS, e.g. 8:12"))?;
        let r = crate::sweep::point(&mf, &split.test, n, w, p);
        let tmp = out.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string(&r)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
        return Ok(());
    }
    let sw = match engine {
        None => crate::sweep::sweep(&mf, &split.test, n, &wb, &pb),
        Some(engine) => {
            let dir = results.unwrap_or_else(|| {
                model
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join("sweep-jobs")
            });
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let dir = dir.canonicalize()?;
            let model_abs = model
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", model.display()))?;
            let data_abs = dir_abs(&data_dir(&mf.config, &data))?;
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
                            model_abs.display().to_string(),
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
                    }
                })
                .collect();
            crate::jobs::run(engine, jobs, &dir, "sweep", &tasks)?;
            let pts = order
                .iter()
                .map(|p| -> Result<crate::sweep::Point> {
                    let t = &tasks[uniq.iter().position(|u| u == p).expect("a task per format")];
                    let text = std::fs::read_to_string(&t.out)
                        .with_context(|| format!("cannot read {}", t.out.display()))?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("{} is not a sweep point", t.out.display()))
                })
                .collect::<Result<Vec<_>>>()?;
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

/// `d` as an absolute path (the jobs may run elsewhere).
fn dir_abs(d: &std::path::Path) -> Result<String> {
    Ok(d.canonicalize()
        .with_context(|| format!("cannot resolve the data folder {}", d.display()))?
        .display()
        .to_string())
}
