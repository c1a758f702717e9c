//! `phasegen train`: train the float network with Equilibrium Propagation,
//! on the float engine, the integer twin or a device.

use super::common::{create_log, data_dir, retarget};
use crate::device;
use anyhow::{bail, Context, Result};
use phasegen_sim::config::{Config, Keep, Oscillator};
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::ap::file::ApModelFile;
use phasegen_sim::onn::ap::train::ApFloatBackend;
use phasegen_sim::onn::net::ModelFile;
use phasegen_sim::onn::train;
use std::io::Write;
use std::path::PathBuf;

/// Train the float network with Equilibrium Propagation.
#[derive(clap::Args)]
pub struct Args {
    /// Config file (default: the embedded digits config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data folder in the MNIST IDX layout (default: the config's train.data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where to write the model file (default: none; required except with
    /// --sweep, whose points write theirs into their folders).
    #[arg(long, required_unless_present = "sweep", conflicts_with = "sweep")]
    out: Option<PathBuf>,
    /// Per-epoch log, JSON lines (default: none; with --sweep each point
    /// writes its own).
    #[arg(long, conflicts_with = "sweep")]
    log: Option<PathBuf>,
    /// A training sweep: a TOML grid of config keys and their values, e.g.
    /// `train.lr = [0.005, 0.01]` (sw/src/grid.rs, docs/cluster.md); each
    /// combination trains as a job in its own folder under --results, and
    /// the runs merge into one table (default: none, one training run).
    #[arg(long)]
    sweep: Option<PathBuf>,
    #[command(flatten)]
    job: crate::jobs::JobArgs,
    /// Build for this board instead of the config's target.board; the
    /// clock becomes the board's oscillator unless --clock-hz is given
    /// (default: the config's target.board).
    #[arg(long)]
    board: Option<String>,
    /// Core clock in Hz instead of the config's target.clock_hz (made
    /// by the board's PLL; default: the config's target.clock_hz, or the
    /// oscillator of a --board other than the config's).
    #[arg(long)]
    clock_hz: Option<u64>,
    /// Where the free and nudged phases run: the float engine, the
    /// integer twin of the hardware (parameters quantized every
    /// mini-batch: quantization-aware training), or the device on
    /// --port (a design of this config with hardware.params = "ram"; the
    /// same results as twin, bit for bit).
    #[arg(long, value_enum, default_value_t = BackendKind::Float)]
    backend: BackendKind,
    /// Serial port of the device (--backend device, which needs it;
    /// default: none).
    #[arg(long)]
    port: Option<String>,
    /// Baud rate (default: the config's target.baud).
    #[arg(long)]
    baud: Option<u32>,
    /// The oscillator model, instead of the config's network.oscillator:
    /// phase (the hardware's) or amplitude-phase (complex amplitudes,
    /// float backend only; the model file it writes is refused by the
    /// hardware commands). Default: the config's.
    #[arg(long, value_enum)]
    oscillator: Option<OscillatorKind>,
    /// Sakaguchi phase lag α (rad) of the coupling function
    /// H(ψ) = sin(ψ − α) + Σ a_n sin nψ, float backend only
    /// (docs/reduction.md; default: the config's train.alpha).
    #[arg(long, allow_hyphen_values = true)]
    alpha: Option<f64>,
    /// The extra odd harmonics a_2,a_3,… of the coupling function,
    /// comma-separated, float backend only (default: the config's
    /// train.harmonics).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    harmonics: Option<Vec<f64>>,
    /// Add sin α to the coupling function, so H(0) = 0 (train.diffusive;
    /// the config's value when absent).
    #[arg(long)]
    diffusive: bool,
    /// With --backend twin: learn as a learning design does on chip
    /// (docs/learning.md): every sample's update computed and applied in
    /// place by the twin, train.lr and train.lr_bias per sample.
    #[arg(long)]
    onchip: bool,
    /// With --onchip: extra fraction bits of the shadow parameters the
    /// updates accumulate in (0: rounded to the parameters' own precision;
    /// default: the config's hardware.shadow_bits, 8 unless set).
    #[arg(long)]
    shadow_bits: Option<u32>,
    /// With --onchip: how updates reach the parameters, shadow parameters
    /// or stochastic rounding (the study's alternative, twin only).
    #[arg(long, value_enum, default_value_t = super::train_onchip::RoundingKind::Shadow)]
    rounding: super::train_onchip::RoundingKind,
    /// With --onchip on a design with a sample store (hardware.store):
    /// stream every sample over the UART (WriteInput, Learn) instead of
    /// storing the training set once and sending one Epoch per epoch.
    #[arg(long)]
    stream: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OscillatorKind {
    Phase,
    AmplitudePhase,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendKind {
    Float,
    Twin,
    Device,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        config,
        data,
        out,
        log,
        sweep,
        job,
        board,
        clock_hz,
        backend,
        port,
        baud,
        oscillator,
        alpha,
        harmonics,
        diffusive,
        onchip,
        shadow_bits,
        rounding,
        stream,
    } = args;
    if onchip && backend == BackendKind::Float {
        bail!("--onchip runs the learning design's step: give --backend twin (its twin) or --backend device --port P (a learning design over its UART)");
    }
    if port.is_some() != (backend == BackendKind::Device) {
        bail!("--port names the device of --backend device, and that backend needs it: give both or neither");
    }
    let mut cfg = match &config {
        Some(p) => Config::load(p)?,
        None => Config::default_config(),
    };
    if let Some(a) = alpha {
        cfg.train.alpha = a;
    }
    if let Some(h) = harmonics {
        cfg.train.harmonics = h;
    }
    if diffusive {
        cfg.train.diffusive = true;
    }
    cfg.validate().context("with --alpha / --harmonics")?;
    if backend != BackendKind::Float {
        phasegen_sim::onn::coupling::CouplingFn::from_train(&cfg.train)
            .require_plain("the twin and device backends")?;
    }
    retarget(&mut cfg, board.as_deref(), clock_hz)?;
    if let Some(o) = oscillator {
        cfg.network.oscillator = match o {
            OscillatorKind::Phase => Oscillator::Phase,
            OscillatorKind::AmplitudePhase => Oscillator::AmplitudePhase,
        };
        cfg.validate().with_context(|| {
            format!("config with --oscillator {}", cfg.network.oscillator.name())
        })?;
    }
    if let Some(grid) = sweep {
        if onchip {
            bail!("--sweep with --onchip: a training sweep's points train on the float or twin backend; run --onchip once per config");
        }
        if backend == BackendKind::Device {
            bail!("--sweep with --backend device: a sweep's points train at once, one device cannot; sweep on --backend float or twin");
        }
        return train_sweep(&cfg, &grid, &data, backend, &job);
    }
    if job.engine.is_some() || job.results.is_some() {
        bail!("--engine and --results run the points of a training sweep: give --sweep grid.toml, or leave them out for one training run");
    }
    let out = out.expect("clap requires --out without --sweep");
    let ap = cfg.network.oscillator == Oscillator::AmplitudePhase;
    if ap && backend != BackendKind::Float {
        bail!(
            "--backend {} settles on the hardware's phase oscillators; an amplitude-phase network (network.oscillator = \"amplitude-phase\") trains on --backend float only",
            if backend == BackendKind::Twin { "twin" } else { "device" }
        );
    }
    let dir = data_dir(&cfg, &data);
    let split = load_dir(&dir)?;
    if backend != BackendKind::Float {
        // the twin and the device keep the formats they start with;
        // the model file records them, so `gen` builds that design
        phasegen_sim::link::hil::pin_formats(&mut cfg, split.train.max_pixel)?;
    }
    let mut logf = create_log(&log)?;
    let (n_train, n_val) = train::split_sizes(&cfg.train, split.train.len())?;
    let held = if n_val > 0 {
        format!(" + {n_val} validation held out of the training set")
    } else {
        String::new()
    };
    eprintln!(
        "training {}{} ({} -> {:?}) on {} ({} train{held} / {} test), {} epochs",
        cfg.name,
        if ap {
            ", amplitude-phase oscillators"
        } else {
            ""
        },
        cfg.network.inputs,
        cfg.network.layers,
        dir.display(),
        n_train,
        split.test.len(),
        cfg.train.epochs
    );
    let mut log_err = None;
    // batches of the epoch on a terminal; the epoch lines print above it
    let bar = crate::progress::bar("epoch", "batches", 1);
    let mut on_epoch = |e: &train::EpochLog| {
        let val = e
            .val_acc
            .map_or(String::new(), |v| format!("  validation {:.2}%", 100.0 * v));
        bar.suspend(|| {
            eprintln!(
                "epoch {:3}  loss {:.4}  train {:.2}%{val}  test {:.2}%  {:.1} s",
                e.epoch,
                e.loss,
                100.0 * e.train_acc,
                100.0 * e.test_acc,
                e.seconds
            )
        });
        if let Some(f) = logf.as_mut() {
            let line = serde_json::to_string(e).expect("log line serializes");
            if let Err(err) = writeln!(f, "{line}") {
                log_err.get_or_insert(err);
            }
        }
    };
    let epochs = cfg.train.epochs;
    let mut on_batch = |p: &train::Progress| {
        if p.done == 1 {
            bar.reset();
            bar.set_length(p.total as u64);
            bar.set_prefix(format!("epoch {}/{epochs}", p.epoch));
        }
        bar.set_position(p.done as u64);
        bar.set_message(format!("loss {:.4}", p.loss));
    };
    if stream && !onchip {
        bail!("--stream chooses how --onchip feeds a design with a sample store: give it with --onchip");
    }
    if onchip {
        let n = n_train as u64;
        let mut bar_epoch = 0;
        let device = match backend {
            BackendKind::Device => {
                use phasegen_sim::config::Learning;
                if cfg.hardware.learning != Learning::Ep {
                    bail!("--backend device --onchip needs a learning design: set hardware.learning = \"ep\" in the config and build that design");
                }
                if shadow_bits.is_some_and(|b| b != cfg.hardware.shadow_bits)
                    || rounding != super::train_onchip::RoundingKind::Shadow
                {
                    bail!("the device learns with the shadow bits it was built with (hardware.shadow_bits = {}): leave out --shadow-bits and --rounding with --backend device", cfg.hardware.shadow_bits);
                }
                let port = port.as_deref().expect("checked above");
                Some(device::open(port, baud.unwrap_or(cfg.target.baud as u32))?)
            }
            _ => None,
        };
        let where_ = if device.is_some() {
            "the device"
        } else {
            "the twin"
        };
        let logs = super::train_onchip::run(
            &cfg,
            &split,
            &out,
            shadow_bits.unwrap_or(cfg.hardware.shadow_bits),
            rounding.rounding(),
            phasegen_sim::link::onchip::Feed::of(&cfg, stream),
            device,
            &mut |e| on_epoch(e),
            &mut |ep, k| {
                if ep != bar_epoch {
                    bar_epoch = ep;
                    bar.reset();
                    bar.set_length(n);
                    bar.set_prefix(format!("epoch {ep}/{epochs}"));
                }
                bar.set_position(k as u64);
            },
        )?;
        if let Some(e) = log_err {
            return Err(e).context("cannot write the training log");
        }
        match logs.last() {
            Some(l) => eprintln!(
                "model written to {}: learned on chip ({where_}), epoch {}, test {:.2}%",
                out.display(),
                l.epoch,
                100.0 * l.test_acc
            ),
            None => eprintln!(
                "nothing was trained (train.epochs = 0): {} holds the initial parameters",
                out.display()
            ),
        }
        return Ok(());
    }
    if ap {
        let run = train::train_on(
            &mut ApFloatBackend,
            &cfg,
            &split,
            &mut |e, _| on_epoch(e),
            &mut on_batch,
        )?;
        if let Some(e) = log_err {
            return Err(e).context("cannot write the training log");
        }
        let said = written(&run, &cfg, &out);
        ApModelFile::new(cfg, run.params, split.train.max_pixel).save(&out)?;
        eprintln!("{said}");
        return Ok(());
    }
    let mut be: Box<dyn train::Backend> = match backend {
        BackendKind::Float => Box::new(train::FloatBackend),
        BackendKind::Twin => Box::new(phasegen_sim::link::hil::TwinBackend::new(
            &cfg,
            split.train.max_pixel,
        )?),
        BackendKind::Device => {
            let port = port.as_deref().expect("checked above");
            let dev = device::open(port, baud.unwrap_or(cfg.target.baud as u32))?;
            Box::new(
                crate::hil_device::DeviceBackend::new(&cfg, split.train.max_pixel, dev)
                    .with_context(|| format!("the device on {port}"))?,
            )
        }
    };
    let run = train::train_on(
        be.as_mut(),
        &cfg,
        &split,
        &mut |e, _| on_epoch(e),
        &mut on_batch,
    )?;
    if let Some(e) = log_err {
        return Err(e).context("cannot write the training log");
    }
    let said = written(&run, &cfg, &out);
    ModelFile::new(cfg, run.params, split.train.max_pixel).save(&out)?;
    eprintln!("{said}");
    Ok(())
}

/// The closing line: which epoch's parameters `out` holds, with its
/// validation and test accuracy; with `keep = "last"` and a validation
/// set, the best validation epoch for information; with no epoch, that
/// nothing was trained.
fn written<P>(run: &train::Trained<P>, cfg: &Config, out: &std::path::Path) -> String {
    let pct = |x: f64| format!("{:.2}%", 100.0 * x);
    let accs = |e: &train::EpochLog| match e.val_acc {
        Some(v) => format!("validation {}, test {}", pct(v), pct(e.test_acc)),
        None => format!("test {}", pct(e.test_acc)),
    };
    let t = &cfg.train;
    let Some(kept) = &run.kept else {
        return format!(
            "nothing was trained (train.epochs = 0): {} holds the initial parameters, drawn from train.seed = {}",
            out.display(),
            t.seed
        );
    };
    let head = format!(
        "model written to {}: epoch {} of {}",
        out.display(),
        kept.epoch,
        t.epochs
    );
    match (t.keep, &run.best, &run.last) {
        (Keep::Best, _, Some(last)) if last.epoch != kept.epoch => format!(
            "{head} (best validation accuracy, train.keep = \"best\"), {}; the last, epoch {}, had {}",
            accs(kept),
            last.epoch,
            accs(last)
        ),
        (Keep::Best, _, _) => format!(
            "{head} (best validation accuracy, train.keep = \"best\": the last epoch), {}",
            accs(kept)
        ),
        (Keep::Last, Some(best), _) if best.epoch != kept.epoch => format!(
            "{head} (the last, train.keep = \"last\"), {}; the best validation epoch was {} ({}; train.keep = \"best\" writes it)",
            accs(kept),
            best.epoch,
            accs(best)
        ),
        (Keep::Last, Some(_), _) => format!(
            "{head} (the last, train.keep = \"last\", also the best validation epoch), {}",
            accs(kept)
        ),
        (Keep::Last, None, _) => format!(
            "{head} (the last; no validation set, train.validation = 0), {}",
            accs(kept)
        ),
    }
}

/// `train --sweep`: one job per point of the grid, each
/// `phasegen train --config <folder>/config.toml --out <folder>/model.json
/// --log <folder>/train.jsonl` (the point's whole config, so flags that
/// change the config, e.g. --board or --alpha, are in it already); the
/// table is read from the logs.
fn train_sweep(
    base: &Config,
    grid: &std::path::Path,
    data: &Option<PathBuf>,
    backend: BackendKind,
    job: &crate::jobs::JobArgs,
) -> Result<()> {
    use crate::grid::{outcome, table, Grid};
    use crate::jobs::{abs, key, run_merge, Engine, Task};
    job.check()?;
    let g = Grid::load(grid)?;
    let configs = g.configs(base)?;
    // a missing data folder fails every job alike: say so once, before
    for cfg in &configs {
        let d = data_dir(cfg, data);
        if !d.is_dir() {
            bail!(
                "data folder {} does not exist (relative paths resolve from the current folder, {}): run from the repository root or give --data",
                d.display(),
                std::env::current_dir()
                    .map(|c| c.display().to_string())
                    .unwrap_or_default()
            );
        }
    }
    let stem = grid
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "grid".into());
    let dir = job.folder(PathBuf::from("build").join(format!("sweep-{stem}")))?;
    let data_abs = data.as_deref().map(abs).transpose()?;
    let backend_name = match backend {
        BackendKind::Twin => "twin",
        _ => "float",
    };
    let mut tasks = vec![];
    let mut folders = vec![];
    for (i, cfg) in configs.iter().enumerate() {
        let text = toml::to_string(cfg).context("the point's config does not serialize")?;
        let folder = format!(
            "{backend_name}-{}",
            key(&[
                text.as_bytes(),
                data_abs.as_deref().unwrap_or("").as_bytes()
            ])
        );
        let d = dir.join(&folder);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        let config = d.join("config.toml");
        crate::cosim::write_if_changed(&config, &text)?;
        let what = g
            .keys
            .iter()
            .zip(g.point(i))
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut argv: Vec<String> = vec![
            "train".into(),
            "--config".into(),
            config.display().to_string(),
            "--out".into(),
            d.join("model.json").display().to_string(),
            "--log".into(),
            d.join("train.jsonl").display().to_string(),
            "--backend".into(),
            backend_name.into(),
        ];
        if let Some(a) = &data_abs {
            argv.extend(["--data".into(), a.clone()]);
        }
        tasks.push(Task {
            argv,
            out: d.join("model.json"),
            what: format!("point {i} ({what})"),
        });
        folders.push(folder);
    }
    let engine = job.engine.unwrap_or(Engine::Local);
    let outcomes = run_merge(job, engine, &dir, "train sweep", &tasks, |t| {
        let log = t.out.with_file_name("train.jsonl");
        let text = std::fs::read_to_string(&log)
            .with_context(|| format!("cannot read {}", log.display()))?;
        outcome(&text).with_context(|| format!("{}", log.display()))
    })?;
    let t = table(&g, &outcomes, &folders);
    std::fs::write(dir.join("table.md"), &t)
        .with_context(|| format!("cannot write {}", dir.join("table.md").display()))?;
    print!("{t}");
    eprintln!(
        "train sweep: {} points, their folders in {} (config.toml, model.json, train.jsonl each), this table in {}",
        tasks.len(),
        dir.display(),
        dir.join("table.md").display()
    );
    Ok(())
}
