//! `phasegen r2nn`: the resonant recurrent network (R²NN) of MODEL.md
//! section 3: synthetic data, training, evaluation, the speed benchmark,
//! the circuit (SPICE export, E-series snapping, tolerances) and its
//! verification with ngspice. docs/r2nn.md describes each command.

use crate::cmd::common::create_log;
use crate::confusion::Confusion;
use crate::plot::{render, Chart, Series as Line, PALETTE};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use phasegen_sim::r2nn::circuit::{eng, Circuit, Kind, Scale, Series};
use phasegen_sim::r2nn::data::{write_csv, Signals, Task};
use phasegen_sim::r2nn::engine::{Engine, Work};
use phasegen_sim::r2nn::file::{DataSource, ModelFile, SplitSpec, FORMAT, VERSION};
use phasegen_sim::r2nn::model::{Net, Spec};
use phasegen_sim::r2nn::parts::{realtime, BankFn, Part, PartTable, RheostatFn, Slot};
use phasegen_sim::r2nn::realize::{board_scale, realize, resonance_errors, Role};
use phasegen_sim::r2nn::spice;
use phasegen_sim::r2nn::train::{self, predict, EpochLog, TrainOptions};
use phasegen_sim::rng::Rng;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seconds per training epoch of the authors' PyTorch code on this machine
/// (5×5 grid, 2000-sample signals, batch 240, 2400 signals per epoch;
/// issue 7). Only used for the ratio column of `r2nn bench`.
pub const AUTHORS_S_PER_EPOCH: f64 = 53.0;
/// The speed goal: at least this many times faster.
pub const SPEEDUP_GOAL: f64 = 20.0;

/// The resonant recurrent network (R²NN): train, evaluate, benchmark,
/// export to SPICE and verify with ngspice (docs/r2nn.md).
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    what: R2nnCommand,
}

pub fn run(args: Args) -> Result<()> {
    args.what.run()
}

#[derive(Subcommand, Debug)]
pub enum R2nnCommand {
    /// Write a synthetic task's signals to a CSV file (the format `--csv` reads).
    Data {
        /// tactile, bearing or vowels.
        #[arg(long)]
        task: String,
        /// Signals (default: the task's 3000).
        #[arg(long)]
        count: Option<usize>,
        /// Samples per signal (default: the task's).
        #[arg(long)]
        len: Option<usize>,
        /// Seed of the signals.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Train an R²NN on a synthetic task or on your own signals.
    Train(Box<TrainArgs>),
    /// Test accuracy and confusion matrix of a trained model.
    Eval {
        /// The model file (from `phasegen r2nn train`).
        #[arg(long)]
        model: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Training speed: the authors' network size, signal length, batch and
    /// epoch size; median seconds per epoch and the ratio to their code.
    Bench(BenchArgs),
    /// Write the SPICE netlist of a trained model driven by one test signal.
    ExportSpice {
        /// The model file (from `phasegen r2nn train`).
        #[arg(long)]
        model: PathBuf,
        /// The netlist to write.
        #[arg(long)]
        out: PathBuf,
        /// Index of the test signal that drives it.
        #[arg(long, default_value_t = 0)]
        signal: usize,
        #[command(flatten)]
        scale: ScaleArgs,
    },
    /// Run test signals through the circuit in ngspice and compare its probe
    /// waveforms and classes with the model's.
    VerifySpice {
        /// The model file (from `phasegen r2nn train`).
        #[arg(long)]
        model: PathBuf,
        /// Test signals to simulate.
        #[arg(long, default_value_t = 20)]
        count: usize,
        #[command(flatten)]
        scale: ScaleArgs,
        /// Work folder for the netlists and ngspice output.
        #[arg(long, default_value = "build/r2nn-spice")]
        dir: PathBuf,
        /// Also compare with the model at this many times more steps per
        /// sample (separates the time-step error from the circuit's).
        #[arg(long, default_value_t = 8)]
        fine: usize,
        /// Fail when a waveform's normalized RMS error exceeds this
        /// (default: no bound).
        #[arg(long)]
        max_nrmse: Option<f64>,
        /// Draw the first signal's probe waveforms (model and ngspice) to
        /// this SVG (default: none).
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The component values, E-series snapping errors and their effect on
    /// the test accuracy.
    Components {
        /// The model file (from `phasegen r2nn train`).
        #[arg(long)]
        model: PathBuf,
        /// Series to snap to.
        #[arg(long, value_delimiter = ',', default_value = "E12,E24,E96")]
        series: Vec<String>,
        /// Samples per second the circuit runs at (default: chosen for common part values).
        #[arg(long)]
        sample_rate: Option<f64>,
        /// Impedance scale in ohms (default: chosen for common part values).
        #[arg(long)]
        z0: Option<f64>,
    },
    /// Monte Carlo over component tolerances: test accuracy under spread.
    Tolerance {
        /// The model file (from `phasegen r2nn train`).
        #[arg(long)]
        model: PathBuf,
        /// Tolerances in percent (every part drawn uniformly within ±tol).
        #[arg(long, value_delimiter = ',', default_value = "1,5")]
        tol: Vec<f64>,
        /// Circuits drawn per tolerance.
        #[arg(long, default_value_t = 20)]
        trials: usize,
        /// Seed of the drawn circuits (draw `k` of the `i`-th tolerance is
        /// the same however the draws are split into jobs).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        scale: ScaleArgs,
        /// Draws per job with --engine (0: all of a tolerance's draws in
        /// one job).
        #[arg(long, default_value_t = 0)]
        draws_per_job: usize,
        #[command(flatten)]
        job: crate::jobs::JobArgs,
        /// One job: draws FROM..TO of the tolerance at index I of --tol,
        /// `I:FROM:TO`, into --piece-out (what --engine runs; default: none).
        #[arg(long, requires = "piece_out")]
        piece: Option<String>,
        /// Where --piece writes its draws, JSON (default: none).
        #[arg(long, requires = "piece")]
        piece_out: Option<PathBuf>,
    },
    /// Part codes for a reference board: every element's code and the value
    /// it realizes, and the test accuracy of the realized circuit next to the
    /// trained one (docs/metacircuit-board.md).
    Codes(CodesArgs),
    /// Real time on a board: input samples/s each model's circuit needs
    /// against what the DAC and ADC SPI paths achieve, and the --sample-rate
    /// to use when they do not keep up (docs/metacircuit-board.md).
    Realtime(RealtimeArgs),
    /// Program a metacircuit board for a model over its controller's UART,
    /// verify the codes, classify the test signals; prints accuracy and the
    /// confusion matrix.
    Deploy(super::r2nn_deploy::DeployArgs),
    /// Serve the Verilated metacircuit controller on its simulated board
    /// (part models and circuit in the loop) on a pseudo-terminal.
    ServeBoard(super::r2nn_deploy::ServeBoardArgs),
    /// Write the metacircuit controller's Verilog (`pg_ctl_top` and its
    /// modules) for a model's board.
    GenCtl(super::r2nn_deploy::GenCtlArgs),
    /// Per model: real-time rates, closed-loop cosimulation speed, and the
    /// accuracy trained, of the realized values and in the closed loop.
    BenchCtl(super::r2nn_deploy::BenchCtlArgs),
}

pub use super::common::REFERENCE_PARTS;

#[derive(clap::Args, Debug)]
pub struct CodesArgs {
    /// The model file (from `phasegen r2nn train`).
    #[arg(long)]
    model: PathBuf,
    /// The board's part table (TOML).
    #[arg(long, default_value = REFERENCE_PARTS)]
    parts: PathBuf,
    /// Samples per second the circuit runs at (default: chosen for common
    /// part values; `r2nn realtime` says which rate the board keeps up with).
    #[arg(long)]
    sample_rate: Option<f64>,
    /// Impedance scale in ohms (default: the one that puts a main mass on
    /// the board's main capacitor).
    #[arg(long)]
    z0: Option<f64>,
    /// Write every element's code and value and every bus's words as JSON
    /// to this file (default: none).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct RealtimeArgs {
    /// The model files, one row each.
    #[arg(long, required = true, num_args = 1..)]
    model: Vec<PathBuf>,
    /// The board's part table (TOML).
    #[arg(long, default_value = REFERENCE_PARTS)]
    parts: PathBuf,
    /// The controller's clock in Hz: every SPI clock becomes the fastest
    /// even division of it the part allows (default: the buses' clock_hz
    /// in the part table).
    #[arg(long)]
    clock_hz: Option<f64>,
}

/// How the model's values become component values.
#[derive(clap::Args, Debug, Clone)]
pub struct ScaleArgs {
    /// Snap every value to this E series (E12, E24, E96; default: none, the
    /// exact values).
    #[arg(long)]
    series: Option<String>,
    /// Samples per second the circuit runs at (default: chosen for common part values).
    #[arg(long)]
    sample_rate: Option<f64>,
    /// Impedance scale in ohms (default: chosen for common part values).
    #[arg(long)]
    z0: Option<f64>,
}

#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// A synthetic task: tactile, bearing or vowels (default: none; give
    /// --task, --csv or --wav).
    #[arg(long, conflicts_with_all = ["csv", "wav"])]
    task: Option<String>,
    /// Your signals as CSV (label,x0,x1,... per line; default: none; give
    /// --task, --csv or --wav).
    #[arg(long, conflicts_with = "wav")]
    csv: Option<PathBuf>,
    /// Your signals as WAV files, one folder per class (default: none; give
    /// --task, --csv or --wav).
    #[arg(long)]
    wav: Option<PathBuf>,
    /// Task: signals to generate (default 3000).
    #[arg(long)]
    count: Option<usize>,
    /// Task: samples per signal; WAV: cut or pad to this length (default:
    /// the task's, tactile 1000, bearing 2000, vowels 2000; WAV: the
    /// shortest file's length; CSV: not used).
    #[arg(long)]
    len: Option<usize>,
    /// Task: seed of the signals.
    #[arg(long, default_value_t = 1)]
    data_seed: u64,
    /// Fraction of the signals held out for testing.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 0)]
    split_seed: u64,
    /// Training epochs (default: 30); 0 trains nothing and writes the
    /// initial parameters (after the warm start).
    #[arg(long)]
    epochs: Option<usize>,
    /// Signals per mini-batch, one Adam step each (default: 48).
    #[arg(long)]
    batch: Option<usize>,
    /// Adam step size (default: 0.05).
    #[arg(long)]
    lr: Option<f64>,
    /// The learning rate is multiplied by this after every epoch, in (0, 1]
    /// (default: 0.93).
    #[arg(long)]
    lr_decay: Option<f64>,
    /// Seed of the initial parameters and shuffles (default: 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Warm start: candidate frequencies tried per probe resonator (0 = none;
    /// default: 16, and 0 for the vowels task).
    #[arg(long)]
    sweep: Option<usize>,
    /// Initial value of every coupling spring (default: half its upper bound;
    /// for the vowels task the geometric middle of its bounds).
    #[arg(long)]
    kc_init: Option<f64>,
    /// Integration steps per sample (default: 2, and 4 for the bearing task).
    #[arg(long)]
    substeps: Option<usize>,
    /// Grid size ROWSxCOLS (default 5x5).
    #[arg(long, default_value = "5x5")]
    grid: String,
    /// Resonator band in rad/sample, LO,HI (default: 0.02,0.8 for your data;
    /// tasks have their own: tactile 0.04,0.6, bearing 0.03,0.7, vowels
    /// 0.03,0.8).
    #[arg(long, value_delimiter = ',')]
    band: Option<Vec<f64>>,
    /// Logit scale s (logits = s·E/ΣE; default: 10).
    #[arg(long)]
    logit_scale: Option<f64>,
    /// Ground damping c_g of every main mass (default: 0.01).
    #[arg(long)]
    damping: Option<f64>,
    /// No coupling dashpots (springs only).
    #[arg(long)]
    no_dashpots: bool,
    /// The model file to write.
    #[arg(long)]
    out: PathBuf,
    /// Per-epoch log, JSON lines (default: none).
    #[arg(long)]
    log: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Epochs timed (the median is reported).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Signals per epoch.
    #[arg(long, default_value_t = 2400)]
    signals: usize,
    /// Samples per signal.
    #[arg(long, default_value_t = 2000)]
    len: usize,
    /// Signals per mini-batch.
    #[arg(long, default_value_t = 240)]
    batch: usize,
    /// Skip the single-thread and task-network rows.
    #[arg(long)]
    short: bool,
    /// Also write the report to this file (default: none).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl R2nnCommand {
    pub fn run(self) -> Result<()> {
        match self {
            R2nnCommand::Data {
                task,
                count,
                len,
                seed,
                out,
            } => {
                let t = Task::parse(&task)?;
                let s = t.generate(count.unwrap_or(t.count()), len.unwrap_or(t.length()), seed);
                write_csv(&out, &s)?;
                eprintln!(
                    "wrote {} {} signals of {} samples ({} Hz) to {}",
                    s.count(),
                    t.name(),
                    s.len,
                    t.sample_rate(),
                    out.display()
                );
            }
            R2nnCommand::Train(a) => train_cmd(*a)?,
            R2nnCommand::Eval { model, json } => eval_cmd(&model, json)?,
            R2nnCommand::Bench(a) => bench_cmd(a)?,
            R2nnCommand::ExportSpice {
                model,
                out,
                signal,
                scale,
            } => {
                let mf = ModelFile::load(&model)?;
                let (_, test) = mf.split_data()?;
                if signal >= test.count() {
                    bail!(
                        "--signal {signal}: the test set has {} signals",
                        test.count()
                    );
                }
                let (c, _) = circuit_of(&mf, &scale)?;
                let text = spice::netlist(
                    &c,
                    test.signal(signal),
                    &format!(
                        "phasegen r2nn {}: test signal {signal} (class {})",
                        model.display(),
                        mf.classes[test.labels[signal]]
                    ),
                    "r2nn-probes.txt",
                );
                if let Some(d) = out.parent() {
                    if !d.as_os_str().is_empty() {
                        std::fs::create_dir_all(d).ok();
                    }
                }
                std::fs::write(&out, text)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                print!("{}", c.summary());
                eprintln!(
                    "wrote {} ({} C, {} L, {} R; probes {}); run: ngspice -b {}",
                    out.display(),
                    c.count(Kind::C),
                    c.count(Kind::L),
                    c.count(Kind::R),
                    c.probes.join(" "),
                    out.display()
                );
            }
            R2nnCommand::VerifySpice {
                model,
                count,
                scale,
                dir,
                fine,
                max_nrmse,
                plot,
                json,
            } => verify_cmd(
                &model,
                count,
                &scale,
                &dir,
                fine,
                max_nrmse,
                plot.as_deref(),
                json,
            )?,
            R2nnCommand::Components {
                model,
                series,
                sample_rate,
                z0,
            } => components_cmd(&model, &series, sample_rate, z0)?,
            R2nnCommand::Tolerance {
                model,
                tol,
                trials,
                seed,
                scale,
                draws_per_job,
                job,
                piece,
                piece_out,
            } => tolerance_cmd(
                &model,
                &Tolerance {
                    tols: tol,
                    trials,
                    seed,
                    per_job: draws_per_job,
                },
                &scale,
                &job,
                piece.as_deref().zip(piece_out.as_deref()),
            )?,
            R2nnCommand::Codes(a) => codes_cmd(a)?,
            R2nnCommand::Realtime(a) => realtime_cmd(a)?,
            R2nnCommand::Deploy(a) => super::r2nn_deploy::deploy(a)?,
            R2nnCommand::ServeBoard(a) => super::r2nn_deploy::serve_board(a)?,
            R2nnCommand::GenCtl(a) => super::r2nn_deploy::gen_ctl(a)?,
            R2nnCommand::BenchCtl(a) => super::r2nn_deploy::bench_ctl(a)?,
        }
        Ok(())
    }
}

/// The resonator band of your own data (--csv, --wav), rad/sample.
const OWN_DATA_BAND: [f64; 2] = [0.02, 0.8];
/// Integration steps per sample of your own data.
const OWN_DATA_SUBSTEPS: usize = 2;

/// The training settings of your own data: a task's (`Task::options`) with
/// the probe warm start.
fn own_data_options() -> TrainOptions {
    TrainOptions {
        epochs: 30,
        batch: 48,
        lr: 0.05,
        lr_decay: 0.93,
        seed: 1,
        sweep: 16,
        kc_init: None,
    }
}

fn train_cmd(a: TrainArgs) -> Result<()> {
    let (source, task) = match (&a.task, &a.csv, &a.wav) {
        (Some(t), _, _) => {
            let task = Task::parse(t)?;
            (
                DataSource::Task {
                    task: task.name().into(),
                    count: a.count.unwrap_or(task.count()),
                    len: a.len.unwrap_or(task.length()),
                    seed: a.data_seed,
                },
                Some(task),
            )
        }
        (None, Some(p), _) => (DataSource::Csv { path: p.clone() }, None),
        (None, None, Some(p)) => (
            DataSource::Wav {
                path: p.clone(),
                len: a.len,
            },
            None,
        ),
        (None, None, None) => bail!("give the data: --task NAME, --csv FILE or --wav FOLDER"),
    };
    let all = source.load()?;
    let split = SplitSpec {
        test_fraction: a.test_fraction,
        seed: a.split_seed,
    };
    let (tr, te) = all
        .split(split.test_fraction, split.seed)
        .with_context(|| {
            format!(
                "cannot split {} signals into training and test sets (--test-fraction {}{})",
                all.count(),
                split.test_fraction,
                if task.is_some() {
                    ", --count"
                } else {
                    "; the CSV or WAV data has too few signals"
                }
            )
        })?;
    let substeps = a
        .substeps
        .unwrap_or(task.map_or(OWN_DATA_SUBSTEPS, |t| t.substeps()));
    let (rows, cols) = a
        .grid
        .split_once('x')
        .and_then(|(r, c)| Some((r.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
        .with_context(|| format!("--grid {}: give ROWSxCOLS, e.g. 5x5", a.grid))?;
    let band = match (task, &a.band) {
        (_, Some(b)) if b.len() != 2 => bail!("--band takes LO,HI in rad/sample"),
        (_, Some(b)) => [b[0], b[1]],
        (Some(t), None) => t.band(),
        (None, None) => OWN_DATA_BAND,
    };
    let mut spec = Spec::preset_grid(rows, cols, all.classes.len(), band, substeps)?;
    if let Some(s) = a.logit_scale {
        spec.logit_scale = s;
    }
    if let Some(d) = a.damping {
        spec.damping = d;
    }
    if a.no_dashpots {
        spec.coupling_dashpots = false;
    }
    spec.validate()?;
    let mut opts = task.map_or_else(own_data_options, TrainOptions::for_task);
    if let Some(v) = a.epochs {
        opts.epochs = v;
    }
    if let Some(v) = a.batch {
        opts.batch = v;
    }
    if let Some(v) = a.lr {
        opts.lr = v;
    }
    if let Some(v) = a.lr_decay {
        opts.lr_decay = v;
    }
    if let Some(v) = a.seed {
        opts.seed = v;
    }
    if let Some(v) = a.sweep {
        opts.sweep = v;
    }
    if a.kc_init.is_some() {
        opts.kc_init = a.kc_init;
    }
    opts.validate()?;
    eprintln!(
        "training a {}x{} R²NN ({} classes, {} steps/sample) on {}: {} train / {} test signals of {} samples, {} epochs",
        spec.rows,
        spec.cols,
        spec.classes(),
        spec.substeps,
        source.describe(),
        tr.count(),
        te.count(),
        tr.len,
        opts.epochs
    );
    let mut logf = create_log(&a.log)?;
    let mut last = 0.0;
    let mut log_err = None;
    let bar = crate::progress::bar("r2nn train", "epochs", opts.epochs as u64);
    let params = train::train(
        &spec,
        spec.init(opts.seed),
        &tr,
        &te,
        &opts,
        &mut |e: &EpochLog, _| {
            bar.suspend(|| {
                eprintln!(
                    "epoch {:3}  loss {:.4}  train {:.2}%  test {:.2}%  {:.2} s",
                    e.epoch,
                    e.loss,
                    100.0 * e.train_acc,
                    100.0 * e.test_acc,
                    e.seconds
                )
            });
            bar.set_position(e.epoch as u64);
            last = e.test_acc;
            if let Some(f) = logf.as_mut() {
                if let Err(err) = writeln!(
                    f,
                    "{}",
                    serde_json::to_string(e).expect("log line serializes")
                ) {
                    log_err.get_or_insert(err);
                }
            }
        },
    )?;
    bar.finish_and_clear();
    if let Some(e) = log_err {
        return Err(e).context("cannot write the training log");
    }
    let said = if opts.epochs == 0 {
        // no epoch evaluated it: the file's test accuracy is the initial model's
        last = eval_net(&spec, &spec.net(&params)?, &te).acc;
        let warm = if opts.sweep > 0 {
            format!(
                " after the warm start over {} candidates per probe resonator",
                opts.sweep
            )
        } else {
            String::new()
        };
        format!(
            "nothing was trained (--epochs 0): {} holds the initial parameters of seed {}{warm}; test {:.2}%",
            a.out.display(),
            opts.seed,
            100.0 * last
        )
    } else {
        format!(
            "model written to {}: epoch {} of {} (the last), test {:.2}%",
            a.out.display(),
            opts.epochs,
            opts.epochs,
            100.0 * last
        )
    };
    ModelFile {
        format: FORMAT.into(),
        version: VERSION,
        spec,
        params,
        train: opts,
        data: source,
        split,
        classes: all.classes.clone(),
        sample_rate: all.sample_rate,
        test_acc: last,
    }
    .save(&a.out)?;
    eprintln!("{said}");
    Ok(())
}

/// Accuracy of a net on signals, and its predictions.
fn eval_net(spec: &Spec, net: &Net, data: &Signals) -> train::Eval {
    train::evaluate(spec, &Engine::new(net), data)
}

fn eval_cmd(model: &Path, json: bool) -> Result<()> {
    let mf = ModelFile::load(model)?;
    let (_, test) = mf.split_data()?;
    let net = mf.spec.net(&mf.params)?;
    let ev = eval_net(&mf.spec, &net, &test);
    let mut conf = Confusion::new(mf.classes.clone());
    for (i, &p) in ev.pred.iter().enumerate() {
        conf.add(test.labels[i], p);
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"model": model.display().to_string(), "test_acc": ev.acc,
                "test_loss": ev.loss, "test_signals": test.count(), "classes": mf.classes,
                "confusion": conf.counts, "omega_max_h": net.omega_max() * net.h()})
        );
        return Ok(());
    }
    println!(
        "{}: test accuracy {:.2}% ({} signals), loss {:.4}; ω_max·h = {:.3}",
        model.display(),
        100.0 * ev.acc,
        test.count(),
        ev.loss,
        net.omega_max() * net.h()
    );
    print!("{conf}");
    Ok(())
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// CPU seconds this process has used (all threads), from /proc/self/stat
/// (user + system, in the kernel's 100 Hz ticks); None off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Times `epochs` training epochs of `spec` on `data` (the test part is a
/// token 8 signals: only the training part is timed); returns the wall
/// seconds of each epoch and the CPU seconds of each (with its tiny test).
fn time_epochs(
    spec: &Spec,
    data: &Signals,
    batch: usize,
    epochs: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let test = data.head(8);
    let opts = TrainOptions {
        epochs,
        batch,
        lr: 0.01,
        lr_decay: 1.0,
        seed: 1,
        sweep: 0,
        kc_init: None,
    };
    let mut secs = vec![];
    let mut cpu = vec![];
    let mut last = cpu_seconds();
    train::train(
        spec,
        spec.init(1),
        data,
        &test,
        &opts,
        &mut |e: &EpochLog, _| {
            let now = cpu_seconds();
            let c = match (last, now) {
                (Some(a), Some(b)) => b - a,
                _ => f64::NAN,
            };
            last = now;
            eprintln!(
                "  epoch {}: {:.3} s wall, {:.2} s CPU (loss {:.4})",
                e.epoch, e.seconds, c, e.loss
            );
            secs.push(e.seconds);
            cpu.push(c);
        },
    )?;
    Ok((secs, cpu))
}

fn bench_cmd(a: BenchArgs) -> Result<()> {
    if a.epochs == 0 || a.signals == 0 || a.len == 0 || a.batch == 0 {
        bail!("--epochs, --signals, --len and --batch must be positive");
    }
    let threads = rayon::current_num_threads();
    let simd = crate::bench::simd_level();
    let mut md = String::new();
    writeln!(md, "# R²NN training speed (`phasegen r2nn bench`)\n").ok();
    writeln!(
        md,
        "One epoch = forward and adjoint pass of {} signals of {} samples in mini-batches of {}, one Adam step per batch (the authors' demo: 2400 signals of 2000 samples, batch 240). {threads} threads, {simd} kernels. Median of {} epochs.\n",
        a.signals, a.len, a.batch, a.epochs
    )
    .ok();
    writeln!(
        md,
        "| network | threads | s/epoch (median) | CPU s/epoch (median) | signals/s | vs authors' {AUTHORS_S_PER_EPOCH} s | goal ≤ {:.2} s |",
        AUTHORS_S_PER_EPOCH / SPEEDUP_GOAL
    )
    .ok();
    writeln!(md, "|---|---|---|---|---|---|---|").ok();
    let data = Task::Tactile.generate(a.signals, a.len, 1);
    let authors = Spec::authors();
    let mut rows: Vec<(String, Spec, usize)> = vec![(
        "authors' 5×5 (1 step/sample, no dashpots)".into(),
        authors.clone(),
        threads,
    )];
    if !a.short {
        if threads > 1 {
            rows.push((
                "authors' 5×5 (1 step/sample, no dashpots)".into(),
                authors,
                1,
            ));
        }
        rows.push((
            "task preset 5×5 (2 steps/sample, coupling and ground dashpots)".into(),
            Task::Tactile.spec(),
            threads,
        ));
    }
    let mut headline = f64::NAN;
    for (name, spec, th) in rows {
        eprintln!("{name}, {th} thread(s):");
        let pool = rayon::ThreadPoolBuilder::new().num_threads(th).build()?;
        let (secs, cpu) = pool.install(|| time_epochs(&spec, &data, a.batch, a.epochs))?;
        let m = median(&secs);
        if headline.is_nan() {
            headline = m;
        }
        let goal = if spec.substeps == 1 && !spec.coupling_dashpots {
            if m <= AUTHORS_S_PER_EPOCH / SPEEDUP_GOAL {
                "met"
            } else {
                "NOT met"
            }
        } else {
            "(other model)"
        };
        writeln!(
            md,
            "| {name} | {th} | {m:.3} | {:.2} | {:.0} | {:.1}× faster | {goal} |",
            median(&cpu),
            a.signals as f64 / m,
            AUTHORS_S_PER_EPOCH / m
        )
        .ok();
    }
    writeln!(
        md,
        "\nHeadline: {headline:.3} s per epoch, {:.1}× the authors' {AUTHORS_S_PER_EPOCH} s (goal: {SPEEDUP_GOAL}×). Wall time on a shared machine: CPU s/epoch divided by the threads is what an idle machine gives; the load average at the start was {}.",
        AUTHORS_S_PER_EPOCH / headline,
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
            .unwrap_or_else(|| "unknown".into())
    )
    .ok();
    print!("{md}");
    if let Some(p) = a.out {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).ok();
        }
        std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("report written to {}", p.display());
    }
    Ok(())
}

/// The model's circuit at the requested scale, snapped when asked (then
/// `Z0` is first nudged so the main-mass capacitors are exact series
/// values). Also returns the net the circuit's values make.
fn circuit_of(mf: &ModelFile, a: &ScaleArgs) -> Result<(Circuit, Net)> {
    let net = mf.spec.net(&mf.params)?;
    let mut scale = Scale::choose(&net, a.sample_rate, a.z0)?;
    let c = match &a.series {
        None => Circuit::from_net(&net, scale),
        Some(s) => {
            let series = Series::parse(s)?;
            if a.z0.is_none() {
                let cm = scale.tau * mf.spec.m_main / scale.z0;
                scale.z0 *= cm / series.nearest(cm);
            }
            Circuit::from_net(&net, scale).snap(series).0
        }
    };
    let n = c.to_net();
    Ok((c, n))
}

/// Normalized RMS difference `‖a − b‖ / ‖b‖`.
fn nrmse(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    (d / n.max(1e-300)).sqrt()
}

/// The probe traces of one signal from the engine, at steps `1..=T·fine`
/// of a net with `fine` times its steps, kept at every `fine`-th step.
fn model_traces(net: &Net, x: &[f32], fine: usize) -> Vec<Vec<f64>> {
    let mut n = net.clone();
    n.substeps *= fine;
    let eng = Engine::new(&n);
    let mut w = Work::default();
    eng.forward(&mut w, &[x], true);
    (0..eng.probes())
        .map(|p| {
            eng.trace(&w, p, 0)
                .into_iter()
                .skip(fine - 1)
                .step_by(fine)
                .collect()
        })
        .collect()
}

/// Probe waveforms, one vector per probe.
type Traces = Vec<Vec<f64>>;

/// Per-signal comparison of the circuit with the model.
#[derive(Debug, Clone, serde::Serialize)]
struct SignalCheck {
    index: usize,
    label: usize,
    model_class: usize,
    circuit_class: usize,
    /// Largest probe NRMSE: ngspice vs the model, and vs the model at `fine`× steps.
    nrmse: f64,
    nrmse_fine: f64,
    /// Largest relative probe-energy difference, ngspice vs model.
    energy_err: f64,
}

#[allow(clippy::too_many_arguments)]
fn verify_cmd(
    model: &Path,
    count: usize,
    a: &ScaleArgs,
    dir: &Path,
    fine: usize,
    max_nrmse: Option<f64>,
    plot: Option<&Path>,
    json: bool,
) -> Result<()> {
    if count == 0 || fine == 0 {
        bail!("--count and --fine must be positive");
    }
    let mf = ModelFile::load(model)?;
    let (_, test) = mf.split_data()?;
    let count = count.min(test.count());
    let (c, net) = circuit_of(&mf, a)?;
    net.check_stable()
        .context("the snapped circuit's values as a model")?;
    let fine_net = {
        let mut n = net.clone();
        n.substeps *= fine;
        n
    };
    fine_net.check_stable()?;
    let s = net.substeps as f64;
    let t0 = Instant::now();
    let progress = crate::progress::bar("verify-spice", "signals", count as u64);
    let checks: Vec<Result<(SignalCheck, Traces, Traces)>> = (0..count)
        .into_par_iter()
        .map(|i| {
            let x = test.signal(i);
            let sp = spice::simulate(&c, x, dir, &format!("signal{i}"))?;
            let m = model_traces(&net, x, 1);
            let mf_tr = model_traces(&net, x, fine);
            let en = |tr: &[Vec<f64>]| -> Vec<f64> {
                tr.iter()
                    .map(|p| p.iter().map(|v| v * v).sum::<f64>() / s)
                    .collect()
            };
            let (es, em) = (en(&sp), en(&m));
            let worst = |other: &[Vec<f64>]| {
                sp.iter()
                    .zip(other)
                    .map(|(a, b)| nrmse(a, b))
                    .fold(0.0, f64::max)
            };
            let check = SignalCheck {
                index: i,
                label: test.labels[i],
                model_class: predict(&em),
                circuit_class: predict(&es),
                nrmse: worst(&m),
                nrmse_fine: worst(&mf_tr),
                energy_err: es
                    .iter()
                    .zip(&em)
                    .map(|(a, b)| (a / b - 1.0).abs())
                    .fold(0.0, f64::max),
            };
            progress.inc(1);
            Ok((check, sp, m))
        })
        .collect();
    progress.finish_and_clear();
    let mut rows = vec![];
    let mut first = None;
    for r in checks {
        let (ch, sp, m) = r?;
        if first.is_none() {
            first = Some((sp, m));
        }
        rows.push(ch);
    }
    let secs = t0.elapsed().as_secs_f64();
    let agree = rows
        .iter()
        .filter(|r| r.model_class == r.circuit_class)
        .count();
    let correct_c = rows.iter().filter(|r| r.label == r.circuit_class).count();
    let correct_m = rows.iter().filter(|r| r.label == r.model_class).count();
    let worst = rows.iter().map(|r| r.nrmse).fold(0.0, f64::max);
    let worst_fine = rows.iter().map(|r| r.nrmse_fine).fold(0.0, f64::max);
    let med = median(&rows.iter().map(|r| r.nrmse).collect::<Vec<_>>());
    let worst_e = rows.iter().map(|r| r.energy_err).fold(0.0, f64::max);
    if let (Some(p), Some((sp, m))) = (plot, &first) {
        let charts: Vec<Chart> = (0..sp.len())
            .map(|k| Chart {
                title: format!("probe {} ({}): test signal 0", k, c.probes[k]),
                x_label: "time (samples)".into(),
                y_label: "displacement".into(),
                series: vec![
                    Line::new(
                        "model",
                        PALETTE[0],
                        m[k].iter()
                            .enumerate()
                            .map(|(n, v)| ((n + 1) as f64 / s, *v))
                            .collect(),
                    ),
                    Line::new(
                        "ngspice",
                        PALETTE[1],
                        sp[k]
                            .iter()
                            .enumerate()
                            .map(|(n, v)| ((n + 1) as f64 / s, *v))
                            .collect(),
                    ),
                ],
                ..Chart::default()
            })
            .collect();
        std::fs::write(p, render(&charts))
            .with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("plot written to {}", p.display());
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"model": model.display().to_string(), "signals": count,
                "agree": agree, "circuit_correct": correct_c, "model_correct": correct_m,
                "max_nrmse": worst, "median_nrmse": med, "max_nrmse_fine": worst_fine, "fine": fine,
                "max_energy_err": worst_e, "series": a.series, "seconds": secs, "rows": rows})
        );
    } else {
        print!("{}", c.summary());
        println!(
            "\n{count} test signals through ngspice ({secs:.1} s): circuit class = model class on {agree}/{count}; accuracy circuit {correct_c}/{count}, model {correct_m}/{count}"
        );
        println!(
            "probe waveforms, normalized RMS error ngspice vs model: max {:.3}%, median {:.3}%; vs the model at {fine}x steps: max {:.3}%; probe energies: max error {:.3}%",
            100.0 * worst,
            100.0 * med,
            100.0 * worst_fine,
            100.0 * worst_e
        );
    }
    if let Some(b) = max_nrmse {
        if worst > b {
            let r = rows
                .iter()
                .max_by(|x, y| x.nrmse.total_cmp(&y.nrmse))
                .expect("rows");
            bail!(
                "FAILED: signal {} has waveform NRMSE {:.4} above the bound {b:e}",
                r.index,
                r.nrmse
            );
        }
    }
    if agree != count {
        bail!(
            "FAILED: the circuit and the model disagree on {} of {count} signals",
            count - agree
        );
    }
    println!("SPICE OK");
    Ok(())
}

fn components_cmd(
    model: &Path,
    series: &[String],
    sample_rate: Option<f64>,
    z0: Option<f64>,
) -> Result<()> {
    let mf = ModelFile::load(model)?;
    let (_, test) = mf.split_data()?;
    let net = mf.spec.net(&mf.params)?;
    let base = eval_net(&mf.spec, &net, &test);
    let plain = ScaleArgs {
        series: None,
        sample_rate,
        z0,
    };
    let (c, _) = circuit_of(&mf, &plain)?;
    print!("{}", c.summary());
    println!(
        "\nunsnapped: test accuracy {:.2}% ({} signals)\n",
        100.0 * base.acc,
        test.count()
    );
    println!("| series | Z0 | C max/mean error | L max/mean error | R max/mean error | test accuracy | same class as unsnapped |");
    println!("|---|---|---|---|---|---|---|");
    for s in series {
        let ser = Series::parse(s)?;
        let a = ScaleArgs {
            series: Some(s.clone()),
            sample_rate,
            z0,
        };
        let (snapped, snet) = circuit_of(&mf, &a)?;
        // The errors against the unsnapped values at the same scale.
        let (_, rep) = Circuit::from_net(&net, snapped.scale).snap(ser);
        let cell = |e: phasegen_sim::r2nn::circuit::SnapError| {
            if e.count == 0 {
                "–".to_string()
            } else {
                format!("{:.2}% / {:.2}%", 100.0 * e.max, 100.0 * e.mean)
            }
        };
        let mut n = snet.clone();
        let bumped = stabilize(&mut n);
        let ev = eval_net(&mf.spec, &n, &test);
        let same = ev
            .pred
            .iter()
            .zip(&base.pred)
            .filter(|(a, b)| a == b)
            .count();
        println!(
            "| {} | {} | {} | {} | {} | {:.2}%{} | {:.2}% |",
            ser.name(),
            eng(snapped.scale.z0, "Ω"),
            cell(rep.c),
            cell(rep.l),
            cell(rep.r),
            100.0 * ev.acc,
            if bumped { " (more steps/sample)" } else { "" },
            100.0 * same as f64 / test.count() as f64
        );
    }
    Ok(())
}

/// Doubles a net's steps per sample until it passes the stability check
/// (perturbed values may stiffen it); true if it had to.
fn stabilize(n: &mut Net) -> bool {
    let mut bumped = false;
    while n.check_stable().is_err() && n.substeps < 256 {
        n.substeps *= 2;
        bumped = true;
    }
    bumped
}

/// What `r2nn tolerance` draws.
struct Tolerance {
    tols: Vec<f64>,
    trials: usize,
    seed: u64,
    /// Draws per job (0: a tolerance's draws in one job).
    per_job: usize,
}

/// One drawn circuit: its test accuracy, its predictions (compared with
/// the nominal circuit's when merging) and whether it needed more steps
/// per sample to be stable.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Draw {
    acc: f64,
    pred: Vec<usize>,
    bumped: bool,
}

/// Draws `from..to` of the tolerance at index `ti` (`tol` percent). Draw
/// `k` comes from its own stream of `seed`, so a tolerance's draws are the
/// same however they are split into jobs.
#[allow(clippy::too_many_arguments)]
fn draw(
    spec: &Spec,
    c: &Circuit,
    test: &Signals,
    seed: u64,
    ti: usize,
    tol: f64,
    range: std::ops::Range<usize>,
    bar: &indicatif::ProgressBar,
) -> Vec<Draw> {
    range
        .map(|trial| {
            let mut rng = Rng::stream(seed, (ti * 100_000 + trial) as u64);
            let mut n = c.perturb(tol / 100.0, &mut rng).to_net();
            let bumped = stabilize(&mut n);
            let ev = eval_net(spec, &n, test);
            bar.inc(1);
            Draw {
                acc: ev.acc,
                pred: ev.pred,
                bumped,
            }
        })
        .collect()
}

/// The table's row of one tolerance from its draws, in draw order.
fn tolerance_row(tol: f64, draws: &[Draw], nominal: &[usize]) -> String {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let accs: Vec<f64> = draws.iter().map(|d| d.acc).collect();
    let agrees: Vec<f64> = draws
        .iter()
        .map(|d| {
            d.pred.iter().zip(nominal).filter(|(x, y)| x == y).count() as f64 / nominal.len() as f64
        })
        .collect();
    format!(
        "| ±{tol}% | {:.2}% | {:.2}% | {:.2}% | {:.2}% | {} |",
        100.0 * mean(&accs),
        100.0 * accs.iter().cloned().fold(f64::MAX, f64::min),
        100.0 * accs.iter().cloned().fold(f64::MIN, f64::max),
        100.0 * mean(&agrees),
        draws.iter().filter(|d| d.bumped).count()
    )
}

/// `I:FROM:TO` of `--piece`.
fn parse_piece(p: &str, t: &Tolerance) -> Result<(usize, usize, usize)> {
    let v: Vec<usize> = p
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<Vec<_>>>()
        .filter(|v| v.len() == 3)
        .with_context(|| format!("--piece {p:?}: give I:FROM:TO, e.g. 0:0:10"))?;
    if v[0] >= t.tols.len() || v[1] >= v[2] || v[2] > t.trials {
        bail!(
            "--piece {p}: give a tolerance index below {} and draws FROM < TO <= --trials {}",
            t.tols.len(),
            t.trials
        );
    }
    Ok((v[0], v[1], v[2]))
}

fn tolerance_cmd(
    model: &Path,
    t: &Tolerance,
    a: &ScaleArgs,
    job: &crate::jobs::JobArgs,
    piece: Option<(&str, &Path)>,
) -> Result<()> {
    use crate::jobs::{abs, key, read_json, run_merge, write_json, Task};
    if t.trials == 0 {
        bail!("--trials 0: draw at least one circuit");
    }
    if let Some(tol) = t.tols.iter().find(|x| !(0.0..100.0).contains(*x)) {
        bail!("--tol {tol}: give percentages in [0, 100)");
    }
    job.check()?;
    let mf = ModelFile::load(model)?;
    let (_, test) = mf.split_data()?;
    let (c, nominal) = circuit_of(&mf, a)?;
    if let Some((p, out)) = piece {
        let (ti, from, to) = parse_piece(p, t)?;
        let d = draw(
            &mf.spec,
            &c,
            &test,
            t.seed,
            ti,
            t.tols[ti],
            from..to,
            &indicatif::ProgressBar::hidden(),
        );
        return write_json(out, &d);
    }
    let base = eval_net(&mf.spec, &nominal, &test);
    let per: Vec<Vec<Draw>> = match job.engine {
        None => {
            let bar =
                crate::progress::bar("tolerance", "circuits", (t.tols.len() * t.trials) as u64);
            let v = t
                .tols
                .iter()
                .enumerate()
                .map(|(ti, &tol)| draw(&mf.spec, &c, &test, t.seed, ti, tol, 0..t.trials, &bar))
                .collect();
            bar.finish_and_clear();
            v
        }
        Some(engine) => {
            let dir = job.folder(
                model
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join("tolerance-jobs"),
            )?;
            let model_abs = abs(model)?;
            let bytes =
                std::fs::read(model).with_context(|| format!("cannot read {}", model.display()))?;
            let mut scale = vec![];
            if let Some(s) = &a.series {
                scale.extend(["--series".to_string(), s.clone()]);
            }
            if let Some(r) = a.sample_rate {
                scale.extend(["--sample-rate".to_string(), r.to_string()]);
            }
            if let Some(z) = a.z0 {
                scale.extend(["--z0".to_string(), z.to_string()]);
            }
            let tols = t
                .tols
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let step = if t.per_job == 0 { t.trials } else { t.per_job };
            let mut tasks = vec![];
            let mut owner = vec![];
            for (ti, &tol) in t.tols.iter().enumerate() {
                let k = key(&[
                    &bytes,
                    tol.to_string().as_bytes(),
                    &t.seed.to_le_bytes(),
                    scale.join(" ").as_bytes(),
                ]);
                for from in (0..t.trials).step_by(step) {
                    let to = (from + step).min(t.trials);
                    let out = dir.join(format!("tol{ti}-draws{from}-{to}-{k}.json"));
                    let mut argv: Vec<String> = vec![
                        "r2nn".into(),
                        "tolerance".into(),
                        "--model".into(),
                        model_abs.clone(),
                        format!("--tol={tols}"),
                        "--trials".into(),
                        t.trials.to_string(),
                        "--seed".into(),
                        t.seed.to_string(),
                    ];
                    argv.extend(scale.iter().cloned());
                    argv.extend([
                        "--piece".into(),
                        format!("{ti}:{from}:{to}"),
                        "--piece-out".into(),
                        out.display().to_string(),
                    ]);
                    tasks.push(Task {
                        argv,
                        out,
                        what: format!("±{tol}%, draws {from}..{to}"),
                    });
                    owner.push(ti);
                }
            }
            let got: Vec<Vec<Draw>> =
                run_merge(job, engine, &dir, "r2nn tolerance", &tasks, |t| {
                    read_json(&t.out)
                })?;
            let mut per = vec![vec![]; t.tols.len()];
            for (ti, d) in owner.into_iter().zip(got) {
                per[ti].extend(d);
            }
            per
        }
    };
    println!(
        "nominal circuit{}: test accuracy {:.2}% ({} signals); {} circuits per tolerance, every part uniform within ±tol\n",
        a.series.as_deref().map(|s| format!(" ({s} values)")).unwrap_or_default(),
        100.0 * base.acc,
        test.count(),
        t.trials
    );
    println!("| tolerance | mean accuracy | min | max | mean agreement with nominal | draws needing more steps/sample |");
    println!("|---|---|---|---|---|---|");
    for (tol, d) in t.tols.iter().zip(&per) {
        if d.len() != t.trials {
            bail!(
                "±{tol}%: {} draws came back, {} expected (results of another --trials?)",
                d.len(),
                t.trials
            );
        }
        println!("{}", tolerance_row(*tol, d, &base.pred));
    }
    Ok(())
}

/// Largest |∫f| over the signals (the integrated force the DAC plays, in
/// force × samples), largest |y| at the probes of `net`, and at any of its
/// coordinates (every node voltage of the circuit).
fn drive_levels(net: &Net, data: &Signals) -> (f64, f64, f64) {
    let mut all = net.clone();
    all.probes = (0..net.n()).collect();
    let (p_in, p_probe) = peaks(net, data);
    let (_, p_all) = peaks(&all, data);
    (p_in, p_probe, p_all)
}

fn peaks(net: &Net, data: &Signals) -> (f64, f64) {
    let peak_in = (0..data.count())
        .map(|i| {
            spice::integrated_force(data.signal(i), 1)
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
        })
        .fold(0.0, f64::max);
    let eng = Engine::new(net);
    let idx: Vec<usize> = (0..data.count()).collect();
    let peak_y = idx
        .par_chunks(phasegen_sim::r2nn::engine::LANES)
        .map_init(Work::default, |w, chunk| {
            let xs: Vec<&[f32]> = chunk.iter().map(|&i| data.signal(i)).collect();
            eng.forward(w, &xs, true);
            let mut m = 0.0f64;
            for p in 0..eng.probes() {
                for q in 0..chunk.len() {
                    m = eng.trace(w, p, q).iter().fold(m, |m, v| m.max(v.abs()));
                }
            }
            m
        })
        .reduce(|| 0.0, f64::max);
    (peak_in, peak_y)
}

fn codes_cmd(a: CodesArgs) -> Result<()> {
    let mf = ModelFile::load(&a.model)?;
    let table = PartTable::load(&a.parts)?;
    let (_, test) = mf.split_data()?;
    let net = mf.spec.net(&mf.params)?;
    let scale = board_scale(&net, &table, a.sample_rate, a.z0)?;
    let c = Circuit::from_net(&net, scale);
    let r = realize(&c, &table).with_context(|| {
        format!(
            "{} cannot be built on {} at {}samples/s (try another --sample-rate, or parts that reach this value)",
            a.model.display(),
            a.parts.display(),
            eng(scale.sample_rate(), "")
        )
    })?;
    println!("parts: {} ({})", table.name, a.parts.display());
    println!(
        "scale: τ = {} per sample ({}samples/s), Z0 = {}",
        eng(scale.tau, "s"),
        eng(scale.sample_rate(), ""),
        eng(scale.z0, "Ω")
    );
    println!("\n| role | slot | elements | what the slot realizes | value vs target: max / mean error | codes |");
    println!("|---|---|---|---|---|---|");
    for role in Role::ALL {
        let es: Vec<_> = r.elements.iter().filter(|e| e.role == role).collect();
        if es.is_empty() {
            continue;
        }
        let slot_name = role.slot(&table);
        let slot = table.slot(slot_name)?;
        let what = match slot {
            Slot::Fixed { value, part, .. } => format!("{} ({part})", eng(*value, "F")),
            Slot::Series {
                series, min, max, ..
            } => {
                let unit = if role == Role::FixedResistor {
                    "Ω"
                } else {
                    "H"
                };
                format!("{series} values, {}–{}", eng(*min, unit), eng(*max, unit))
            }
            Slot::Rheostat { part, .. } => format!(
                "{}: {}",
                table.part(part)?.number(),
                RheostatFn::of(&table, slot)?.describe()
            ),
            Slot::Bank { switch, .. } => format!(
                "{} bank: {}",
                table.part(switch)?.number(),
                BankFn::of(slot)?.describe()
            ),
        };
        let errs: Vec<f64> = es
            .iter()
            .filter_map(|e| e.value.map(|v| (v / e.target - 1.0).abs()))
            .collect();
        let max = errs.iter().cloned().fold(0.0, f64::max);
        let mean = errs.iter().sum::<f64>() / errs.len().max(1) as f64;
        let opens = es.iter().filter(|e| e.open).count();
        let codes = match es.iter().filter_map(|e| e.code).max() {
            Some(m) => format!("max code {m}"),
            None => "– (fixed parts)".into(),
        };
        println!(
            "| {} | {slot_name} | {}{} | {what} | {:.3}% / {:.3}% | {codes} |",
            role.name(),
            es.len(),
            if opens > 0 {
                format!(" ({opens} open)")
            } else {
                String::new()
            },
            100.0 * max,
            100.0 * mean
        );
    }
    let res = resonance_errors(&r);
    if !res.is_empty() {
        let max = res.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        let mean = res.iter().map(|e| e.abs()).sum::<f64>() / res.len() as f64;
        println!(
            "\nresonances 1/√(LC) of the {} resonators, realized against trained: max error {:.3}%, mean {:.3}%{}",
            res.len(),
            100.0 * max,
            100.0 * mean,
            if table.roles.tune_resonance {
                " (each capacitor bank tuned to its E-series inductor)"
            } else {
                ""
            }
        );
    }
    let base = eval_net(&mf.spec, &net, &test);
    let mut real = r.circuit.to_net();
    let bumped = stabilize(&mut real);
    let ev = eval_net(&mf.spec, &real, &test);
    let same = ev
        .pred
        .iter()
        .zip(&base.pred)
        .filter(|(x, y)| x == y)
        .count();
    let (peak_in, peak_y, peak_node) = drive_levels(&real, &test);
    let beta = table.input.full_scale_amps / peak_in;
    let dac_bits = match table.part(&table.bus(&table.input.bus)?.part)? {
        Part::Dac { bits, .. } => *bits,
        _ => bail!("input.bus does not carry a DAC"),
    };
    let adc = table.part(&table.bus(&table.probes.buses[0])?.part)?;
    let (adc_bits, range) = match adc {
        Part::Adc {
            bits, range_volts, ..
        } => (*bits, *range_volts),
        _ => bail!("probes.buses[0] does not carry an ADC"),
    };
    let v_peak = scale.z0 * beta * peak_y;
    println!(
        "input: the test signals' integrated force peaks at {peak_in:.2} (force × samples); the Howland stage's ±{} at the DAC's ends gives {}A per unit, one {dac_bits}-bit DAC step = {:.2e} of the peak",
        eng(table.input.full_scale_amps, "A"),
        eng(beta, ""),
        2.0 / (1u64 << dac_bits) as f64
    );
    println!(
        "probes: |y| peaks at {peak_y:.3}, {} at the probe nodes (Z0·β·y), {:.1}% of the {} ±{} V range; one {adc_bits}-bit step = {:.2e} of the peak",
        eng(v_peak, "V"),
        100.0 * v_peak / range,
        adc.number(),
        range,
        2.0 * range / (1u64 << adc_bits) as f64 / v_peak
    );
    println!(
        "nodes: the largest voltage on any node is {} (|y| = {peak_node:.3})",
        eng(scale.z0 * beta * peak_node, "V")
    );
    println!(
        "test accuracy on {} signals: trained {:.2}%, realized values {:.2}%{} (same class as trained: {:.2}%)",
        test.count(),
        100.0 * base.acc,
        100.0 * ev.acc,
        if bumped {
            format!(" (at {} steps/sample for stability)", real.substeps)
        } else {
            String::new()
        },
        100.0 * same as f64 / test.count() as f64
    );
    if let Some(out) = &a.out {
        let json = serde_json::json!({
            "format": "phasegen-r2nn-codes", "version": 1,
            "model": a.model.display().to_string(), "parts": a.parts.display().to_string(),
            "tau": scale.tau, "z0": scale.z0, "sample_rate": scale.sample_rate(),
            "trained_acc": base.acc, "realized_acc": ev.acc,
            "elements": r.elements, "buses": r.buses,
        });
        if let Some(d) = out.parent() {
            if !d.as_os_str().is_empty() {
                std::fs::create_dir_all(d).ok();
            }
        }
        std::fs::write(out, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!(
            "codes written to {} ({} elements, {} buses, {} chips)",
            out.display(),
            r.elements.len(),
            r.buses.len(),
            r.buses.iter().map(|b| b.chips.len()).sum::<usize>()
        );
    }
    Ok(())
}

fn realtime_cmd(a: RealtimeArgs) -> Result<()> {
    let table = PartTable::load(&a.parts)?;
    let part_of = |bus: &str| -> Result<&Part> { table.part(&table.bus(bus)?.part) };
    let dac = part_of(&table.input.bus)?;
    let adc = part_of(&table.probes.buses[0])?;
    let mut rows = vec![];
    let mut first = None;
    for m in &a.model {
        let mf = ModelFile::load(m)?;
        let net = mf.spec.net(&mf.params)?;
        let scale = board_scale(&net, &table, None, None)?;
        let rt = realtime(&table, scale.sample_rate(), net.probes.len(), a.clock_hz)?;
        let fits = match board_scale(&net, &table, Some(rt.use_rate), None)
            .and_then(|s| realize(&Circuit::from_net(&net, s), &table))
        {
            Ok(_) => "yes".to_string(),
            Err(e) => format!("no: {e}"),
        };
        first.get_or_insert(rt.clone());
        rows.push(format!(
            "| {} | {} | {} | {}/s | {}/s | {}/s ({} probes per ADC) | {} | {} | {fits} |",
            m.display(),
            net.substeps,
            net.probes.len(),
            eng(rt.needed, ""),
            eng(rt.dac_rate / table.input.updates_per_sample as f64, ""),
            eng(rt.adc_rate / rt.probes_per_adc as f64, ""),
            rt.probes_per_adc,
            if rt.real_time { "yes" } else { "no" },
            if rt.real_time {
                "– (the default)".to_string()
            } else {
                format!("`--sample-rate {}`", rt.use_rate)
            },
        ));
    }
    let rt = first.expect("at least one model");
    let Part::Dac { settling_s, .. } = dac else {
        bail!("input.bus does not carry a DAC");
    };
    let Part::Adc { max_rate, .. } = adc else {
        bail!("probes.buses[0] does not carry an ADC");
    };
    let frame = |p: &Part| p.spi().frame_bits + phasegen_sim::r2nn::parts::CS_GAP_BITS;
    println!("parts: {} ({})", table.name, a.parts.display());
    println!(
        "input: {} at {} SCLK, {} bits per update (frame and chip-select gap): {}updates/s by the frame, {}updates/s by its {} settling time; {} update(s) per sample",
        dac.number(),
        eng(rt.dac_sclk, "Hz"),
        frame(dac),
        eng(rt.dac_sclk / frame(dac) as f64, ""),
        eng(1.0 / settling_s, ""),
        eng(*settling_s, "s"),
        table.input.updates_per_sample
    );
    println!(
        "probes: {} × {} at {} SCLK, {} bits per conversion: {}conversions/s each by the frame, {} by the part",
        table.probes.buses.len(),
        adc.number(),
        eng(rt.adc_sclk, "Hz"),
        frame(adc),
        eng(rt.adc_sclk / frame(adc) as f64, ""),
        eng(*max_rate, "")
    );
    if let Some(c) = a.clock_hz {
        println!(
            "(SPI clocks divided from a {} controller clock)",
            eng(c, "Hz")
        );
    }
    println!("\n| model | steps/sample | probes | the circuit's rate (1/τ) | input samples/s the DAC keeps up with | probe samples/s an ADC keeps up with | real time | rate to use | parts fit at that rate |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults that `r2nn train --help` states are the ones it uses.
    #[test]
    fn train_help_states_the_defaults() {
        let cmd = <TrainArgs as clap::Args>::augment_args(clap::Command::new("train"));
        let help = |id: &str| {
            let arg = cmd.get_arguments().find(|a| a.get_id() == id);
            arg.and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        let says = |id: &str, what: String| {
            assert!(
                help(id).contains(&what),
                "--{id} should say {what:?}: {:?}",
                help(id)
            );
        };
        let own = own_data_options();
        says("epochs", format!("default: {}", own.epochs));
        says("batch", format!("default: {}", own.batch));
        says("lr", format!("default: {}", own.lr));
        says("lr_decay", format!("default: {}", own.lr_decay));
        says("seed", format!("default: {}", own.seed));
        says(
            "sweep",
            format!("default: {}, and 0 for the vowels task", own.sweep),
        );
        says("kc_init", "default: half its upper bound".into());
        assert_eq!(own.kc_init, None);
        says(
            "substeps",
            format!("default: {OWN_DATA_SUBSTEPS}, and 4 for the bearing task"),
        );
        let [lo, hi] = OWN_DATA_BAND;
        says("band", format!("default: {lo},{hi} for your data"));
        for t in Task::ALL {
            let o = TrainOptions::for_task(t);
            assert_eq!(
                (o.epochs, o.batch, o.lr, o.lr_decay, o.seed),
                (own.epochs, own.batch, own.lr, own.lr_decay, own.seed),
                "{t:?}"
            );
            let vowels = t == Task::Vowels;
            assert_eq!(o.sweep, if vowels { 0 } else { own.sweep }, "{t:?}");
            assert_eq!(o.kc_init.is_some(), vowels, "{t:?}");
            let bearing = t == Task::Bearing;
            assert_eq!(t.substeps(), if bearing { 4 } else { OWN_DATA_SUBSTEPS });
            let [lo, hi] = t.band();
            says("band", format!("{} {lo},{hi}", t.name()));
            says("len", format!("{} {}", t.name(), t.length()));
            says("count", format!("default {}", t.count()));
        }
        let spec = Spec::preset_grid(5, 5, 3, OWN_DATA_BAND, OWN_DATA_SUBSTEPS).unwrap();
        says("logit_scale", format!("default: {}", spec.logit_scale));
        says("damping", format!("default: {}", spec.damping));
    }
}
