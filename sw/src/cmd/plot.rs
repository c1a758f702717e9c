//! The `phasegen plot` commands: training curves from a `phasegen train --log`
//! file, and the phases and order parameter of one test sample settling.
//!
//! The Kuramoto order parameter of a set of oscillators is
//! `R = |(1/N) Σ_j exp(i θ_j)|`: 1 when all phases agree, near 0 when they
//! are spread around the circle (or split into opposite clusters, as the
//! second-harmonic locking `K` drives them to).

use crate::plot::{render, Chart, Marker, Series, PALETTE};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::float::{field, predict, Net, Settle};
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::onn::train::{free_settle, nudged_settle};
use phasegen_sim::rng::Rng;
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

/// Draw SVG plots: training curves, or one sample settling.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    what: PlotCommand,
}

pub fn run(args: Args) -> Result<()> {
    args.what.run()
}

#[derive(Subcommand, Debug)]
pub enum PlotCommand {
    /// Loss and train/test accuracy per epoch from a `phasegen train --log` file.
    Curves {
        /// The per-epoch JSON-lines log.
        #[arg(long)]
        log: PathBuf,
        /// The SVG to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Phases θ_i(t) and the order parameter R(t) while one test sample
    /// settles: the free phase (train.t1 steps), then the nudged one (train.t2).
    Settle {
        /// The model file (from `phasegen train`).
        #[arg(long)]
        model: PathBuf,
        /// Data folder (default: the model config's train.data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Index of the test sample.
        #[arg(long, default_value_t = 0)]
        sample: usize,
        /// Nudge strength (default: the config's train.beta; 0 = free phase only).
        #[arg(long, allow_negative_numbers = true)]
        beta: Option<f64>,
        /// The SVG to write.
        #[arg(long)]
        out: PathBuf,
    },
}

impl PlotCommand {
    pub fn run(&self) -> Result<()> {
        let (svg, out) = match self {
            PlotCommand::Curves { log, out } => (curves_svg(&read_log(log)?, log), out),
            PlotCommand::Settle {
                model,
                data,
                sample,
                beta,
                out,
            } => (settle_svg(model, data.as_deref(), *sample, *beta)?, out),
        };
        if let Some(d) = out.parent() {
            if !d.as_os_str().is_empty() {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create folder {}", d.display()))?;
            }
        }
        std::fs::write(out, svg).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {}", out.display());
        Ok(())
    }
}

/// One line of the training log (other fields are ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: f64,
    pub loss: f64,
    pub train_acc: f64,
    pub test_acc: f64,
    /// Validation accuracy, in logs of runs with `train.validation > 0`.
    pub val_acc: Option<f64>,
}

/// Parses a training log; `origin` (the file name) and the 1-based line
/// number appear in every error. Blank lines are skipped.
pub fn parse_log(text: &str, origin: &str) -> Result<Vec<EpochRecord>> {
    const WHAT: &str = "each line must be one JSON object with the numbers epoch, loss, \
                        train_acc and test_acc (and optionally val_acc), as written by \
                        `phasegen train --log`";
    let mut recs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                // serde's position is within the line: report the column only
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or("");
                bail!(
                    "{origin} line {n}: not JSON ({msg} at column {}); {WHAT}; fix or delete the line",
                    e.column()
                );
            }
        };
        let Some(obj) = v.as_object() else {
            bail!("{origin} line {n}: not a JSON object; {WHAT}; fix or delete the line");
        };
        let num = |key: &str| -> Result<f64> {
            match obj.get(key) {
                None => bail!("{origin} line {n}: missing field `{key}`; {WHAT}"),
                Some(serde_json::Value::Null) => bail!(
                    "{origin} line {n}: `{key}` is null, not a finite number (NaN and infinity are written as null: did the training diverge?); delete the line or retrain with a lower train.lr"
                ),
                Some(x) => match x.as_f64() {
                    Some(f) if f.is_finite() => Ok(f),
                    _ => bail!(
                        "{origin} line {n}: `{key}` is {x}, not a finite number; {WHAT}"
                    ),
                },
            }
        };
        recs.push(EpochRecord {
            epoch: num("epoch")?,
            loss: num("loss")?,
            train_acc: num("train_acc")?,
            test_acc: num("test_acc")?,
            val_acc: if obj.contains_key("val_acc") {
                Some(num("val_acc")?)
            } else {
                None
            },
        });
    }
    if recs.is_empty() {
        bail!(
            "{origin} holds no epochs (the log is empty); write one with `phasegen train --log {origin}` and let at least one epoch finish"
        );
    }
    Ok(recs)
}

pub fn read_log(path: &Path) -> Result<Vec<EpochRecord>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read training log {}", path.display()))?;
    parse_log(&text, &path.display().to_string())
}

/// Two panels: the loss, and the train, validation (when the log has it)
/// and test accuracy in percent.
pub fn curves_svg(recs: &[EpochRecord], log: &Path) -> String {
    let pts = |f: fn(&EpochRecord) -> f64| recs.iter().map(|r| (r.epoch, f(r))).collect();
    let dotted = |mut s: Series| {
        s.dots = true;
        s
    };
    let name = log.file_name().unwrap_or(log.as_os_str()).to_string_lossy();
    let loss = Chart {
        title: format!("training loss ({name})"),
        x_label: "epoch".into(),
        x_integer: true,
        y_label: "mean free-phase cost C".into(),
        series: vec![dotted(Series::new("loss", PALETTE[3], pts(|r| r.loss)))],
        ..Chart::default()
    };
    let mut acc_series = vec![dotted(Series::new(
        "train",
        PALETTE[0],
        pts(|r| 100.0 * r.train_acc),
    ))];
    let val: Vec<(f64, f64)> = recs
        .iter()
        .filter_map(|r| r.val_acc.map(|v| (r.epoch, 100.0 * v)))
        .collect();
    if !val.is_empty() {
        acc_series.push(dotted(Series::new("validation", PALETTE[2], val)));
    }
    acc_series.push(dotted(Series::new(
        "test",
        PALETTE[1],
        pts(|r| 100.0 * r.test_acc),
    )));
    let acc = Chart {
        title: "accuracy".into(),
        x_label: "epoch".into(),
        x_integer: true,
        y_label: "accuracy (%)".into(),
        series: acc_series,
        ..Chart::default()
    };
    render(&[loss, acc])
}

/// The phases of every oscillator at every step of a settle.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// `theta[t]` after `t` steps; `theta[0]` is `params.theta0`.
    pub theta: Vec<Vec<f32>>,
    /// Free steps; the nudged ones follow.
    pub free_steps: usize,
    /// Class predicted at the end of the free phase.
    pub predicted: usize,
    /// Class predicted at the end of the nudged phase, if there was one.
    pub predicted_nudged: Option<usize>,
}

/// Settles `x` one step at a time from `theta0`: `free.steps` free steps,
/// then, unless `beta` is 0, `nudged.steps` steps nudged toward `label`. The
/// steps draw the same noise as one settle of all the steps would.
pub fn record_settle(
    p: &Params,
    x: &[f32],
    label: usize,
    beta: f32,
    free: &Settle,
    nudged: &Settle,
    rng: &mut Rng,
) -> Trajectory {
    let net = Net::new(p);
    let b = field(p, x);
    let mut th = p.theta0.clone();
    let mut theta = vec![th.clone()];
    let one = |s: &Settle| Settle { steps: 1, ..*s };
    for _ in 0..free.steps {
        net.settle_field(&b, &mut th, 0.0, None, &one(free), rng);
        theta.push(th.clone());
    }
    let predicted = predict(p, &th);
    let mut predicted_nudged = None;
    if beta != 0.0 {
        for _ in 0..nudged.steps {
            net.settle_field(&b, &mut th, beta, Some(label), &one(nudged), rng);
            theta.push(th.clone());
        }
        predicted_nudged = Some(predict(p, &th));
    }
    Trajectory {
        theta,
        free_steps: free.steps,
        predicted,
        predicted_nudged,
    }
}

/// The Kuramoto order parameter `R = |(1/N) Σ_j exp(i θ_j)|` (0 for no phases).
pub fn order_parameter(theta: &[f32]) -> f64 {
    if theta.is_empty() {
        return 0.0;
    }
    let (c, s) = theta.iter().fold((0f64, 0f64), |(c, s), &t| {
        let t = t as f64;
        (c + t.cos(), s + t.sin())
    });
    c.hypot(s) / theta.len() as f64
}

/// `(t, θ(t))` of a wrapped phase, with a break (a NaN point) wherever the
/// phase crosses ±π, so the line does not jump across the plot.
pub fn wrapped_points(phases: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for (t, y) in phases.enumerate() {
        if let Some(&(_, prev)) = pts.last() {
            // one Euler step moves a phase far less than π; a bigger change is the wrap
            if (y - prev).abs() > PI {
                pts.push((f64::NAN, f64::NAN));
            }
        }
        pts.push((t as f64, y));
    }
    pts
}

/// At most `m` indices spread evenly over `0..n`.
fn spread(n: usize, m: usize) -> Vec<usize> {
    let m = m.min(n);
    (0..m).map(|k| k * n / m).collect()
}

/// The `plot settle` figure; prints the label and the predictions to stderr.
pub fn settle_svg(
    model: &Path,
    data: Option<&Path>,
    sample: usize,
    beta: Option<f64>,
) -> Result<String> {
    let mf = ModelFile::load(model)?;
    let cfg = &mf.config;
    let p = &mf.params;
    p.check()
        .with_context(|| format!("model file {}", model.display()))?;
    let dir = data
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(&cfg.train.data));
    let test = load_dir(&dir)?.test;
    if test.pixels() != p.topo.inputs {
        bail!(
            "the data in {} has {} pixels per image but model {} takes {} inputs; pass the model's data with --data",
            dir.display(),
            test.pixels(),
            model.display(),
            p.topo.inputs
        );
    }
    if sample >= test.len() {
        bail!(
            "--sample {sample} is out of range: the test set in {} has {} samples (0..{})",
            dir.display(),
            test.len(),
            test.len().saturating_sub(1)
        );
    }
    let classes = p.topo.classes();
    let label = test.labels[sample] as usize;
    if label >= classes {
        bail!(
            "test sample {sample} in {} has label {label}, but model {} has {classes} outputs",
            dir.display(),
            model.display()
        );
    }
    let beta = beta.unwrap_or(cfg.train.beta);
    if !beta.is_finite() {
        bail!("--beta {beta} is not a finite number");
    }
    // inputs scaled as in training, by the training set's largest pixel
    let scale = 1.0 / mf.max_pixel.max(1) as f32;
    let x: Vec<f32> = test
        .image(sample)
        .iter()
        .map(|&v| v as f32 * scale)
        .collect();
    // the noise stream `phasegen quantize` uses for this sample's float accuracy
    let mut rng = Rng::stream(cfg.train.seed, sample as u64);
    let tr = record_settle(
        p,
        &x,
        label,
        beta as f32,
        &free_settle(&cfg.train),
        &nudged_settle(&cfg.train),
        &mut rng,
    );
    let mut msg = format!(
        "test sample {sample}: label {label}, predicted {} after {} free steps",
        tr.predicted, tr.free_steps
    );
    if let Some(c) = tr.predicted_nudged {
        msg += &format!(
            ", {c} after {} steps nudged with beta {beta}",
            tr.theta.len() - 1 - tr.free_steps
        );
    }
    eprintln!("{msg}");
    Ok(render(&settle_charts(p, &tr, sample, label, beta)))
}

/// (a) output phases and a few hidden ones; (b) R(t) overall and per layer.
pub fn settle_charts(
    p: &Params,
    tr: &Trajectory,
    sample: usize,
    label: usize,
    beta: f64,
) -> [Chart; 2] {
    let topo = &p.topo;
    let outs = topo.outputs();
    let phase = |i: usize| wrapped_points(tr.theta.iter().map(|th| th[i] as f64));
    let mut series = Vec::new();
    let hidden = spread(outs.start, 8);
    for (k, &i) in hidden.iter().enumerate() {
        let mut s = Series::new(
            format!("hidden ({} of {})", hidden.len(), outs.start),
            "#b0b0b0",
            phase(i),
        );
        s.width = 0.8;
        s.legend = k == 0;
        series.push(s);
    }
    for (c, i) in outs.clone().enumerate() {
        let name = if c == label {
            format!("{c} (label)")
        } else {
            c.to_string()
        };
        let mut s = Series::new(name, PALETTE[c % PALETTE.len()], phase(i));
        if c == label {
            s.width = 2.5;
        }
        series.push(s);
    }
    let markers = if tr.predicted_nudged.is_some() {
        vec![Marker {
            x: tr.free_steps as f64,
            label: format!("nudge, β = {beta}"),
        }]
    } else {
        Vec::new()
    };
    let phases = Chart {
        title: format!(
            "phases while settling: test sample {sample}, label {label}, predicted {}",
            tr.predicted
        ),
        x_label: "settle step".into(),
        y_label: "phase θ (rad, wrapped to [−π, π))".into(),
        y_range: Some((-PI, PI)),
        series,
        markers: markers.clone(),
        ..Chart::default()
    };
    let r_of = |range: std::ops::Range<usize>| -> Vec<(f64, f64)> {
        tr.theta
            .iter()
            .enumerate()
            .map(|(t, th)| (t as f64, order_parameter(&th[range.clone()])))
            .collect()
    };
    let mut rs = vec![{
        let mut s = Series::new(format!("all ({})", topo.n()), "black", r_of(0..topo.n()));
        s.width = 2.5;
        s
    }];
    let last = topo.layers.len() - 1;
    for l in 0..topo.layers.len() {
        let name = if l == last {
            format!("output ({})", topo.layers[l])
        } else {
            format!("hidden {} ({})", l + 1, topo.layers[l])
        };
        rs.push(Series::new(
            name,
            PALETTE[l % PALETTE.len()],
            r_of(topo.layer_range(l)),
        ));
    }
    let order = Chart {
        title: "Kuramoto order parameter R = |mean of exp(iθ)|".into(),
        x_label: "settle step".into(),
        y_label: "R".into(),
        y_range: Some((0.0, 1.0)),
        series: rs,
        markers,
        ..Chart::default()
    };
    [phases, order]
}

#[cfg(test)]
mod tests {
    use super::*;
    use phasegen_sim::config::Config;

    #[test]
    fn log_lines_parse_and_errors_name_the_line() {
        let ok = "{\"epoch\":1,\"loss\":0.5,\"train_acc\":0.5,\"test_acc\":0.4,\"seconds\":1.0,\"lr\":0.01}\n\n\
                  {\"epoch\":2,\"loss\":0.25,\"train_acc\":0.75,\"test_acc\":0.7,\"seconds\":1.0}\n";
        let r = parse_log(ok, "t.jsonl").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].test_acc, 0.7);
        let svg = curves_svg(&r, Path::new("dir/t.jsonl"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains("t.jsonl") && !svg.contains("dir/"));
        assert!(!svg.contains(">validation<"));
        // a run with a validation set: a fourth curve
        let with_val = "{\"epoch\":1,\"loss\":0.5,\"train_acc\":0.5,\"test_acc\":0.4,\"val_acc\":0.45}\n\
                        {\"epoch\":2,\"loss\":0.25,\"train_acc\":0.75,\"test_acc\":0.7,\"val_acc\":0.8}\n";
        let r = parse_log(with_val, "t.jsonl").unwrap();
        assert_eq!(r[1].val_acc, Some(0.8));
        let svg = curves_svg(&r, Path::new("t.jsonl"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains(">validation<"), "{svg}");

        let bad = |text: &str| format!("{:#}", parse_log(text, "t.jsonl").unwrap_err());
        let line1 = ok.lines().next().unwrap();
        let e = bad(&format!("{line1}\n{{oops\n"));
        assert!(
            e.contains("t.jsonl line 2: not JSON (key must be a string at column 2)"),
            "{e}"
        );
        let e = bad(&format!("{line1}\n{line1}\n[1, 2]\n"));
        assert!(e.contains("t.jsonl line 3: not a JSON object"), "{e}");
        let e = bad("{\"epoch\":1,\"loss\":0.5,\"train_acc\":0.5}");
        assert!(e.contains("line 1: missing field `test_acc`"), "{e}");
        let e = bad("{\"epoch\":1,\"loss\":null,\"train_acc\":0.5,\"test_acc\":0.5}");
        assert!(
            e.contains("line 1: `loss` is null, not a finite number"),
            "{e}"
        );
        let e = bad("{\"epoch\":1,\"loss\":\"NaN\",\"train_acc\":0.5,\"test_acc\":0.5}");
        assert!(
            e.contains("line 1: `loss` is \"NaN\", not a finite number"),
            "{e}"
        );
        let e = bad("\n  \n");
        assert!(e.contains("t.jsonl holds no epochs"), "{e}");
    }

    #[test]
    fn order_parameter_and_wrap_breaks() {
        assert!((order_parameter(&[0.7; 5]) - 1.0).abs() < 1e-9);
        assert!(order_parameter(&[0.3, 0.3 + std::f32::consts::PI]) < 1e-6);
        assert!(
            (order_parameter(&[0.0, std::f32::consts::FRAC_PI_2]) - 0.5f64.sqrt()).abs() < 1e-6
        );
        assert_eq!(order_parameter(&[]), 0.0);
        let pts = wrapped_points([3.0, 3.1, -3.1, -3.0, -2.9].into_iter());
        assert_eq!(pts.len(), 6);
        assert!(pts[2].0.is_nan());
        assert_eq!(pts[3], (2.0, -3.1));
        assert_eq!(spread(32, 8), [0, 4, 8, 12, 16, 20, 24, 28]);
        assert_eq!(spread(3, 8), [0, 1, 2]);
    }

    #[test]
    fn stepwise_settle_matches_one_settle() {
        let c = Config::parse(
            "name='t'\n[network]\ninputs=4\nlayers=[6,3]\n[train]\nnoise=0.2\nt1=30\nt2=10\n",
            "t",
        )
        .unwrap();
        let p = Params::init(&c);
        let x = [0.1, 0.9, 0.5, 0.3];
        let (free, nudged) = (free_settle(&c.train), nudged_settle(&c.train));
        let tr = record_settle(&p, &x, 2, 1.0, &free, &nudged, &mut Rng::new(4));
        assert_eq!(tr.theta.len(), 41);
        let mut rng = Rng::new(4);
        let mut th = p.theta0.clone();
        let net = Net::new(&p);
        net.settle(&x, &mut th, 0.0, None, &free, &mut rng);
        assert_eq!(th, tr.theta[30]);
        assert_eq!(tr.predicted, predict(&p, &th));
        net.settle(&x, &mut th, 1.0, Some(2), &nudged, &mut rng);
        assert_eq!(th, tr.theta[40]);
        let free_only = record_settle(&p, &x, 2, 0.0, &free, &nudged, &mut Rng::new(4));
        assert_eq!(free_only.theta.len(), 31);
        assert_eq!(free_only.predicted_nudged, None);
        let [a, b] = settle_charts(&p, &tr, 0, 2, 1.0);
        // 6 hidden (all of them, fewer than 8) + 3 outputs; all + 2 layers
        assert_eq!((a.series.len(), b.series.len()), (9, 3));
        assert_eq!(a.series.iter().filter(|s| s.legend).count(), 4);
        assert_eq!(a.markers.len(), 1);
    }
}
