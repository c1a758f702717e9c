//! The `phasegen` command line: train, eval, bench-train, generate, verify,
//! report, infer, serve, plot, memory, r2nn.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use phasegen::cosim::{build_core_with, scratch_dir, verify_sample, CoreSim, Plan};
use phasegen::device;
use phasegen::uartsim::{build_top, PtyServer};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::onn::train;
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::{beta_int, quantize};
use phasegen_vl::{Options, Trace};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "phasegen",
    version,
    about = "Oscillator neural networks trained with Equilibrium Propagation, turned into FPGA hardware"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendKind {
    Float,
    Twin,
    Device,
}

#[derive(Subcommand)]
enum Command {
    /// Train the float network with Equilibrium Propagation.
    Train {
        /// Config file (default: the embedded digits config).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data folder in the MNIST IDX layout (default: the config's train.data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Where to write the model file.
        #[arg(long)]
        out: PathBuf,
        /// Per-epoch log, JSON lines.
        #[arg(long)]
        log: Option<PathBuf>,
        /// Build for this board instead of the config's target.board; the
        /// clock becomes the board's oscillator unless --clock-hz is given.
        #[arg(long)]
        board: Option<String>,
        /// Core clock in Hz instead of the config's target.clock_hz (made
        /// by the board's PLL).
        #[arg(long)]
        clock_hz: Option<u64>,
        /// Where the free and nudged phases run: the float engine, the
        /// integer twin of the hardware (parameters quantized every
        /// mini-batch: quantization-aware training), or the device on
        /// --port (a design of this config with hardware.params = "ram"; the
        /// same results as twin, bit for bit).
        #[arg(long, value_enum, default_value_t = BackendKind::Float)]
        backend: BackendKind,
        /// Serial port of the device (--backend device).
        #[arg(long)]
        port: Option<String>,
        /// Baud rate (default: the config's target.baud).
        #[arg(long)]
        baud: Option<u32>,
    },
    /// Benchmark the training engine: speed (s/epoch, samples/s, memory,
    /// scaling), accuracy of the repo's configs, robustness to dispersion
    /// and noise. Prints Markdown; run from the repository root.
    BenchTrain {
        /// Small sizes and 1-2 epochs: only checks that everything runs.
        #[arg(long)]
        quick: bool,
        /// Epochs timed for the speed figure (the median is reported).
        #[arg(long, default_value_t = 3)]
        speed_epochs: usize,
        #[arg(long)]
        no_accuracy: bool,
        #[arg(long)]
        no_robustness: bool,
        /// Also write the report to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Find the largest network that places and routes on a board with
    /// timing met (runs `make report` for each size; minutes per size), then
    /// simulate it to count its cycles per step.
    Capacity {
        #[arg(long)]
        board: String,
        #[arg(long, value_enum)]
        kind: phasegen::capacity::Kind,
        /// First size tried (oscillators of the full net / hidden size);
        /// default: per board and kind, near the block RAM's limit.
        #[arg(long)]
        lo: Option<usize>,
        /// Largest size tried (default: per board and kind).
        #[arg(long)]
        hi: Option<usize>,
        /// Grow the size by this factor while it fits, before bisecting.
        #[arg(long, default_value_t = 1.5)]
        grow: f64,
        /// Stop when the bracket is narrower than this fraction.
        #[arg(long, default_value_t = 0.1)]
        resolution: f64,
        /// Multiply-accumulate lanes (default: as many as the part's DSPs
        /// allow, at most 16; 2 on the HX8K).
        #[arg(long)]
        lanes: Option<u32>,
        /// Where the input weights live: rom, ram or auto (default: ram for
        /// MNIST on the UP5K, whose SPRAM holds it; rom otherwise).
        #[arg(long)]
        u_memory: Option<String>,
        /// How the coupling stream reads W: rows, or pairs (each pair's
        /// weight once; fully connected only). Default: pairs for --kind
        /// full, rows for layered.
        #[arg(long)]
        coupling: Option<String>,
        /// Further [hardware] lines, comma-separated, e.g. "amp_bits = 8".
        #[arg(long, default_value = "")]
        hardware: String,
        /// Free and nudged steps simulated to count the cycles per step of
        /// the largest design (a whole inference follows); 0: no simulation.
        #[arg(long, default_value_t = 4)]
        sim_steps: u32,
        /// Build folder of the trials.
        #[arg(long, default_value = "build/capacity")]
        dir: PathBuf,
        /// Append the result row (Markdown) to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Benchmark simulation: Verilator cycles/s of the generated core for a
    /// small and larger designs (median of several runs), as Markdown.
    BenchSim {
        /// Timed runs per figure.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Simulated cycles per timed run.
        #[arg(long, default_value_t = 2_000_000)]
        cycles: u64,
        /// Also time the default design's synthesized iCE40 netlist.
        #[arg(long)]
        netlist: bool,
        /// Only the small design.
        #[arg(long)]
        quick: bool,
        /// Also write the table to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Evaluate a trained float model on the test set, optionally with other
    /// frequency dispersion, phase noise or settle length than it was trained with.
    Eval {
        #[arg(long)]
        model: PathBuf,
        /// Data folder (default: the model config's train.data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Redraw the natural-frequency mismatch δω ~ N(0, d²) of every
        /// oscillator (units of the mean natural frequency; 0.05 = 5%).
        #[arg(long)]
        dispersion: Option<f64>,
        /// Phase noise σ while settling (default: the model's train.noise).
        #[arg(long)]
        noise: Option<f64>,
        /// Free settle steps (default: the model's train.t1).
        #[arg(long)]
        steps: Option<usize>,
        /// Seed of the redrawn δω and of the noise.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also evaluate on the training set.
        #[arg(long)]
        train: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Quantize a model and print the formats, clipping and float-vs-twin accuracy.
    Quantize {
        #[arg(long)]
        model: PathBuf,
        /// Test samples to compare (0 = all).
        #[arg(long, default_value_t = 0)]
        count: usize,
        /// Also write an SVG of each parameter group's distribution against
        /// the format's range.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Twin test accuracy against weight bits and phase bits (the other
    /// formats as configured): where does the hardware break?
    Sweep {
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
    },
    /// Show the core clock of a model's board: the oscillator or the PLL
    /// setting (icepll/ecppll search) and the frequency it achieves.
    Pll {
        /// Model file (its config's target.board and target.clock_hz).
        #[arg(long, conflicts_with_all = ["config", "board"])]
        model: Option<PathBuf>,
        /// Config file (its target.board and target.clock_hz).
        #[arg(long, conflicts_with = "board")]
        config: Option<PathBuf>,
        /// Board name (with --clock-hz, or its oscillator).
        #[arg(long)]
        board: Option<String>,
        /// Requested core clock in Hz (overrides the model's or config's).
        #[arg(long)]
        clock_hz: Option<u64>,
        /// Print only the achieved frequency in MHz (for nextpnr --freq).
        #[arg(long)]
        mhz: bool,
    },
    /// Generate the Verilog for a trained model (pg_top.v, the modules it
    /// uses, and pg_pll.v for the board top).
    Gen {
        #[arg(long)]
        model: PathBuf,
        /// Output folder (pg_top.v and the modules it uses).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verilator cosimulation of the generated core against the twin, every step.
    Verify {
        #[arg(long)]
        model: PathBuf,
        /// Free steps to compare per sample (then 100 nudged steps).
        #[arg(long, default_value_t = 1000)]
        steps: u32,
        /// Test samples to run.
        #[arg(long, default_value_t = 2)]
        samples: usize,
        /// Write a waveform of every signal of the whole run to FILE (*.vcd or
        /// *.fst; one clock cycle is 10 time units). Large: pair it with a few
        /// --steps and --samples 1.
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
    },
    /// Summarize a nextpnr report; fails when timing is not met.
    Report {
        /// nextpnr --report JSON.
        #[arg(long)]
        pnr: PathBuf,
        /// Output stem: writes STEM.md and STEM.json.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "")]
        device: String,
        /// Yosys JSON netlist, for the flip-flop count.
        #[arg(long)]
        yosys_json: Option<PathBuf>,
        /// Model file, to state how the core clock is made.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Classify test images on a device over a serial port.
    Infer {
        /// Serial port (a board's UART or a pseudo-terminal from `phasegen serve`).
        #[arg(long)]
        port: String,
        #[arg(long)]
        model: PathBuf,
        /// Data folder (default: the model's train.data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Test samples to classify (0 = all).
        #[arg(long, default_value_t = 0)]
        count: usize,
        /// Baud rate (default: the model config's target.baud).
        #[arg(long)]
        baud: Option<u32>,
        /// Per-sample results, JSON lines (index, label, device class, twin class).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Reply timeout in milliseconds.
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
    },
    /// Associative memory: store binary patterns in a fully connected
    /// oscillator network, retrieve them from corrupted starts.
    Memory(MemoryArgs),
    /// Serve the Verilated design of a model on a pseudo-terminal (a board
    /// without a board): prints the port path, runs until killed.
    Serve {
        #[arg(long)]
        model: PathBuf,
        /// Stop after this many seconds (0 = run until killed).
        #[arg(long, default_value_t = 0)]
        seconds: u64,
    },
    /// Draw SVG plots: training curves, or one sample settling.
    Plot {
        #[command(subcommand)]
        what: phasegen::plot_cmd::PlotCommand,
    },
    /// The resonant recurrent network (R²NN): train, evaluate, benchmark,
    /// export to SPICE and verify with ngspice (docs/r2nn.md).
    R2nn {
        #[command(subcommand)]
        what: phasegen::r2nn_cmd::R2nnCommand,
    },
}

#[derive(Args)]
struct MemoryArgs {
    /// Data folder (IDX layout); patterns are its first test image of each
    /// class 0..P, binarized at half of the largest pixel value.
    #[arg(long, default_value = "data/digits-8x8")]
    data: PathBuf,
    /// Number of digit patterns (classes 0..P).
    #[arg(long, default_value_t = 10)]
    patterns: usize,
    /// Learning rule: Hebbian or pseudo-inverse (projection).
    #[arg(long, default_value = "pinv", value_parser = ["hebb", "pinv"])]
    rule: String,
    /// Fraction of the bits flipped in each corrupted start, 0..=0.5.
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    corrupt: f64,
    /// Uniform phase jitter of the start (rad).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    jitter: f64,
    /// Corrupted starts per pattern.
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// Second-harmonic locking K (binarizes the phases).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    k: f64,
    /// Euler time step.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    eps: f64,
    /// Maximum Euler steps (a retrieval stops earlier once converged).
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Phase noise σ.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    noise: f64,
    /// Standard deviation of the frequency mismatch δω (rad per unit time).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    dispersion: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Capacity sweep with random patterns instead of digits.
    #[arg(long)]
    sweep: bool,
    /// Sweep: network sizes N.
    #[arg(long, value_delimiter = ',', default_value = "64,128,256")]
    sizes: Vec<usize>,
    /// Sweep: loads P/N.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0.05,0.1,0.14,0.2,0.3,0.5"
    )]
    loads: Vec<f64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn memory(a: MemoryArgs) -> Result<()> {
    use phasegen_sim::onn::memory as mem;
    let o = mem::Options {
        rule: mem::Rule::parse(&a.rule)?,
        corrupt: a.corrupt,
        jitter: a.jitter,
        trials: a.trials,
        k: a.k,
        eps: a.eps,
        steps: a.steps,
        noise: a.noise,
        dispersion: a.dispersion,
        seed: a.seed,
    };
    o.validate()?;
    if a.sweep {
        mem::validate_sweep(&a.sizes, &a.loads, o.rule)?;
        let points = mem::sweep(&a.sizes, &a.loads, &o)?;
        if a.json {
            println!("{}", serde_json::json!({"options": o, "sweep": points}));
        } else {
            print!("{}", mem::sweep_table(&o, &points));
        }
        return Ok(());
    }
    let split = load_dir(&a.data)?;
    let classes = split
        .test
        .labels
        .iter()
        .map(|&l| l as usize + 1)
        .max()
        .unwrap_or(0);
    if !(1..=classes).contains(&a.patterns) {
        bail!(
            "--patterns {} is out of range: {} has {classes} classes, so give 1 to {classes} patterns",
            a.patterns,
            a.data.display()
        );
    }
    let (labels, pats): (Vec<u8>, Vec<mem::Pattern>) =
        mem::digit_patterns(&split.test, a.patterns)?
            .into_iter()
            .unzip();
    let m = mem::Memory::store(pats, o.rule, o.k as f32, o.dispersion as f32, o.seed)?;
    let stats = mem::evaluate(&m, &o.recall(), o.trials, a.patterns, o.seed);
    if a.json {
        println!(
            "{}",
            serde_json::json!({"options": o, "data": a.data, "n": m.n(), "classes": labels,
                "patterns": stats, "summary": mem::summary(&stats)})
        );
    } else {
        print!("{}", mem::table(&m, Some(&labels), &o, &stats));
    }
    Ok(())
}

fn load_model(path: &Path) -> Result<(ModelFile, HwModel)> {
    let mf = ModelFile::load(path)?;
    let (hw, _) = quantize(&mf.config, &mf.params, mf.max_pixel)
        .with_context(|| format!("cannot quantize model {}", path.display()))?;
    Ok((mf, hw))
}

fn data_dir(cfg: &Config, data: &Option<PathBuf>) -> PathBuf {
    data.clone()
        .unwrap_or_else(|| PathBuf::from(&cfg.train.data))
}

fn count_of(n: usize, len: usize) -> usize {
    if n == 0 {
        len
    } else {
        n.min(len)
    }
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Command::Train {
            config,
            data,
            out,
            log,
            backend,
            port,
            baud,
            board,
            clock_hz,
        } => {
            if port.is_some() != (backend == BackendKind::Device) {
                bail!("--port names the device of --backend device, and that backend needs it: give both or neither");
            }
            let mut cfg = match &config {
                Some(p) => Config::load(p)?,
                None => Config::default_config(),
            };
            retarget(&mut cfg, board.as_deref(), clock_hz)?;
            let dir = data_dir(&cfg, &data);
            let split = load_dir(&dir)?;
            if backend != BackendKind::Float {
                // the twin and the device keep the formats they start with;
                // the model file records them, so `gen` builds that design
                phasegen_sim::link::hil::pin_formats(&mut cfg, split.train.max_pixel)?;
            }
            let mut logf = match &log {
                Some(p) => {
                    if let Some(d) = p.parent() {
                        std::fs::create_dir_all(d).ok();
                    }
                    Some(
                        std::fs::File::create(p)
                            .with_context(|| format!("cannot create log {}", p.display()))?,
                    )
                }
                None => None,
            };
            eprintln!(
                "training {} ({} -> {:?}) on {} ({} train / {} test), {} epochs",
                cfg.name,
                cfg.network.inputs,
                cfg.network.layers,
                dir.display(),
                split.train.len(),
                split.test.len(),
                cfg.train.epochs
            );
            let mut log_err = None;
            let bar = std::cell::RefCell::new(Progress::new());
            let mut on_epoch = |e: &train::EpochLog, _: &Params| {
                bar.borrow_mut().clear();
                eprintln!(
                    "epoch {:3}  loss {:.4}  train {:.2}%  test {:.2}%  {:.1} s",
                    e.epoch,
                    e.loss,
                    100.0 * e.train_acc,
                    100.0 * e.test_acc,
                    e.seconds
                );
                if let Some(f) = logf.as_mut() {
                    let line = serde_json::to_string(e).expect("log line serializes");
                    if let Err(err) = writeln!(f, "{line}") {
                        log_err.get_or_insert(err);
                    }
                }
            };
            let mut on_batch = |p: &train::Progress| bar.borrow_mut().show(p, cfg.train.epochs);
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
                        phasegen::hil_device::DeviceBackend::new(&cfg, split.train.max_pixel, dev)
                            .with_context(|| format!("the device on {port}"))?,
                    )
                }
            };
            let params = train::train_on(be.as_mut(), &cfg, &split, &mut on_epoch, &mut on_batch)?;
            if let Some(e) = log_err {
                return Err(e).context("cannot write the training log");
            }
            ModelFile::new(cfg, params, split.train.max_pixel).save(&out)?;
            eprintln!("model written to {}", out.display());
        }
        Command::BenchTrain {
            quick,
            speed_epochs,
            no_accuracy,
            no_robustness,
            out,
        } => {
            if speed_epochs == 0 {
                bail!("--speed-epochs 0: time at least one epoch");
            }
            let md = phasegen::bench::bench_train(&phasegen::bench::BenchOptions {
                quick,
                speed_epochs,
                no_accuracy,
                no_robustness,
            })?;
            print!("{md}");
            if let Some(p) = out {
                std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!("report written to {}", p.display());
            }
        }
        Command::Capacity {
            board,
            kind,
            lo,
            hi,
            grow,
            resolution,
            lanes,
            u_memory,
            coupling,
            hardware,
            sim_steps,
            dir,
            out,
        } => {
            use phasegen::capacity as cap;
            cap::check_root()?;
            if !(0.0..1.0).contains(&resolution) || resolution == 0.0 {
                bail!("--resolution {resolution}: give a fraction in (0, 1), e.g. 0.1");
            }
            phasegen_sim::board::board(&board).context("--board")?;
            let coupling = match coupling.as_deref() {
                None => cap::default_coupling(kind),
                Some("rows") => phasegen_sim::config::Coupling::Rows,
                Some("pairs") => phasegen_sim::config::Coupling::Pairs,
                Some(o) => bail!("--coupling {o}: give rows or pairs"),
            };
            let lanes = match lanes {
                Some(l) => l,
                None => cap::default_lanes(&board, coupling)?,
            };
            let (dlo, dhi) = cap::default_range(&board, kind, coupling)?;
            if !(1..=cap::MAX_LANES).contains(&lanes) {
                bail!("--lanes {lanes}: give 1 to {}", cap::MAX_LANES);
            }
            let u_memory = match u_memory.as_deref() {
                None => cap::u_memory(&board, kind)?,
                Some("rom") => phasegen_sim::config::UMemory::Rom,
                Some("ram") => phasegen_sim::config::UMemory::Ram,
                Some("auto") => phasegen_sim::config::UMemory::Auto,
                Some(o) => bail!("--u-memory {o}: give rom, ram or auto"),
            };
            let s = cap::Study {
                board: board.clone(),
                kind,
                lanes,
                u_memory,
                coupling,
                hardware: hardware.replace(',', "\n"),
                lo: lo.unwrap_or(dlo),
                hi: hi.unwrap_or(dhi),
                grow,
                resolution,
                dir: dir.join(&board),
                make: std::env::var("MAKE").unwrap_or_else(|_| "make".into()),
            };
            let t0 = Instant::now();
            let (search, trials) = cap::largest(&s)?;
            let best = search
                .best
                .and_then(|n| trials.iter().rev().find(|t| t.n == n));
            let cycles = match best {
                Some(t) if sim_steps > 0 => match cap::check_cycles(&t.dir, sim_steps) {
                    Ok(c) => {
                        eprintln!(
                            "  simulated {} ({} steps, RTL = twin): schedule {} cycles/step, \
                             measured {:?} (verilated in {:.0} s, simulated in {:.0} s)",
                            kind.describe(t.n),
                            c.steps,
                            c.schedule,
                            (c.intervals.iter().min(), c.intervals.iter().max()),
                            c.build_secs,
                            c.sim_secs
                        );
                        if !c.agrees() {
                            eprintln!(
                                "  WARNING: the simulated steps do not all last the schedule's count"
                            );
                        }
                        Some(Ok(c))
                    }
                    Err(e) => {
                        eprintln!("  WARNING: simulating {} failed: {e:#}", t.dir.display());
                        Some(Err(format!("{e:#}")))
                    }
                },
                _ => None,
            };
            let row = cap::row(
                &s,
                &search,
                &trials,
                cycles.as_ref().map(|c| c.as_ref().map_err(|e| e.as_str())),
            )?;
            println!("{row}");
            // the trials, for build/capacity/<board>/<kind>-trials.md
            let mut log = format!(
                "# {} {:?}: lanes {}, {}, sizes from {} (x{} while they fit, at most {}), resolution {}\n\n| size | fits | Fmax (MHz) | build (s) | note |\n|---|---|---|---|---|\n",
                board,
                kind,
                lanes,
                s.formats(),
                s.lo,
                s.grow,
                s.hi,
                s.resolution
            );
            for t in &trials {
                log.push_str(&format!(
                    "| {} | {} | {} | {:.0} | {} |\n",
                    t.n,
                    if t.fits { "yes" } else { "no" },
                    t.fmax_mhz.map(|f| format!("{f:.1}")).unwrap_or_default(),
                    t.secs,
                    t.note.replace('|', "/")
                ));
                eprintln!(
                    "  trial {}: {}{}",
                    t.n,
                    if t.fits { "fits" } else { "no" },
                    if t.note.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", t.note)
                    }
                );
            }
            log.push_str(&format!(
                "\ntotal {:.0} s (builds and simulation)\n\n{row}\n",
                t0.elapsed().as_secs_f64()
            ));
            let lp = s
                .dir
                .join(format!("{}-trials.md", format!("{kind:?}").to_lowercase()));
            std::fs::create_dir_all(&s.dir)?;
            std::fs::write(&lp, log).with_context(|| format!("cannot write {}", lp.display()))?;
            eprintln!("  trials written to {}", lp.display());
            if let Some(p) = out {
                use std::io::Write as _;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .with_context(|| format!("cannot open {}", p.display()))?;
                writeln!(f, "{row}")?;
            }
        }
        Command::BenchSim {
            runs,
            cycles,
            netlist,
            quick,
            out,
        } => {
            if runs == 0 || cycles == 0 {
                bail!("--runs and --cycles must be at least 1");
            }
            let o = phasegen::bench_sim::SimBenchOptions {
                runs,
                cycles,
                netlist,
                quick,
            };
            let md = phasegen::bench_sim::to_markdown(&phasegen::bench_sim::bench_sim(&o)?, &o);
            print!("{md}");
            if let Some(p) = out {
                std::fs::write(&p, &md).with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!("table written to {}", p.display());
            }
        }
        Command::Eval {
            model,
            data,
            dispersion,
            noise,
            steps,
            seed,
            train: on_train,
            json,
        } => {
            let mf = ModelFile::load(&model)?;
            let dir = data_dir(&mf.config, &data);
            let split = load_dir(&dir)?;
            train::check_data(&mf.config, "test", &split.test)?;
            let mut p = mf.params.clone();
            let mut t = mf.config.train.clone();
            if let Some(d) = dispersion {
                if !(0.0..=1.0).contains(&d) {
                    bail!("--dispersion {d} is out of range; use a value in 0..=1 (0.05 = 5%)");
                }
                p.domega = train::draw_dispersion(p.topo.n(), d, seed);
                t.dispersion = d;
            }
            if let Some(sig) = noise {
                if !(0.0..=10.0).contains(&sig) {
                    bail!("--noise {sig} is out of range; use a value in 0..=10");
                }
                t.noise = sig;
            }
            if let Some(n) = steps {
                if n == 0 {
                    bail!("--steps 0: give at least one settle step");
                }
                t.t1 = n;
            }
            let s = train::free_settle(&t);
            let (acc, loss) = train::evaluate(&p, &split.test, &s, seed);
            let tr = on_train.then(|| train::evaluate(&p, &split.train, &s, seed));
            if json {
                let mut v = serde_json::json!({
                    "model": model.display().to_string(), "data": dir.display().to_string(),
                    "dispersion": t.dispersion, "noise": t.noise, "steps": t.t1,
                    "test_acc": acc, "test_loss": loss, "test_samples": split.test.len(),
                });
                if let Some((a, l)) = tr {
                    v["train_acc"] = a.into();
                    v["train_loss"] = l.into();
                }
                println!("{v}");
            } else {
                println!(
                    "{}: dispersion {}, noise {}, {} steps: test accuracy {:.2}% ({} samples), cost {:.4}",
                    model.display(),
                    t.dispersion,
                    t.noise,
                    t.t1,
                    100.0 * acc,
                    split.test.len(),
                    loss
                );
                if let Some((a, l)) = tr {
                    println!(
                        "train accuracy {:.2}% ({} samples), cost {:.4}",
                        100.0 * a,
                        split.train.len(),
                        l
                    );
                }
            }
        }
        Command::Sweep {
            model,
            data,
            count,
            weight_bits,
            phase_bits,
            json,
        } => {
            let wb = phasegen::sweep::parse_range(&weight_bits, "--weight-bits", 2, 16)?;
            let pb = phasegen::sweep::parse_range(&phase_bits, "--phase-bits", 4, 24)?;
            let mf = ModelFile::load(&model)?;
            let dir = data_dir(&mf.config, &data);
            let split = load_dir(&dir)?;
            train::check_data(&mf.config, "test", &split.test)?;
            let n = count_of(count, split.test.len());
            let sw = phasegen::sweep::sweep(&mf, &split.test, n, &wb, &pb);
            if json {
                println!("{}", serde_json::to_string(&sw).expect("sweep serializes"));
            } else {
                print!("{}", sw.markdown());
            }
        }
        Command::Quantize { model, count, plot } => {
            let mf = ModelFile::load(&model)?;
            let (hw, rep) = quantize(&mf.config, &mf.params, mf.max_pixel)?;
            print!("{rep}");
            if let Some(p) = plot {
                std::fs::write(&p, phasegen::sweep::weight_plot(&mf, &hw))
                    .with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!("wrote {}", p.display());
            }
            let split = load_dir(Path::new(&mf.config.train.data))?;
            let n = count_of(count, split.test.len());
            let (float_acc, twin_acc) = float_vs_twin(&mf, &hw, &split.test, n);
            println!(
                "test accuracy on {n} samples: float {:.2}%, twin {:.2}%",
                100.0 * float_acc,
                100.0 * twin_acc
            );
        }
        Command::Pll {
            model,
            config,
            board,
            clock_hz,
            mhz,
        } => {
            let mut cfg = match (&model, &config) {
                (Some(m), _) => ModelFile::load(m)?.config,
                (None, Some(c)) => Config::load(c)?,
                (None, None) => Config::default_config(),
            };
            retarget(&mut cfg, board.as_deref(), clock_hz)?;
            let plan = cfg.clock_plan()?;
            if mhz {
                println!("{:.6}", plan.achieved_hz() / 1e6);
            } else {
                println!("board {}: {}", plan.board, plan.describe());
            }
        }
        Command::Gen { model, out } => {
            let (mf, hw) = load_model(&model)?;
            let cfg = &mf.config;
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let plan = cfg.clock_plan()?;
            eprintln!("clock of board {}: {}", plan.board, plan.describe());
            let mut files = phasegen_hdl::generate_design(
                &cfg.hash_hex(),
                phasegen_hdl::design_id(&cfg.hash_hex(), &hw),
                &hw,
                plan.core_clock_hz(),
                cfg.target.baud,
            );
            files.push(phasegen_hdl::generate_pll(&cfg.hash_hex(), &hw, &plan));
            for f in &files {
                let p = out.join(&f.name);
                std::fs::write(&p, &f.text)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!("wrote {}", p.display());
            }
        }
        Command::Verify {
            model,
            steps,
            samples,
            trace,
        } => {
            let trace_format = trace.as_deref().map(Trace::for_path).transpose()?;
            let (mf, hw) = load_model(&model)?;
            let cfg = &mf.config;
            let split = load_dir(Path::new(&cfg.train.data))?;
            let t = Instant::now();
            let options = Options {
                trace: trace_format,
                ..Options::default()
            };
            let built = build_core_with(
                &hw,
                &cfg.hash_hex(),
                &scratch_dir(&format!("verify-{}", cfg.name)),
                &options,
            )?;
            eprintln!("verilated pg_core in {:.1} s", t.elapsed().as_secs_f64());
            let mut sim = CoreSim::new(&built, hw.n())?;
            if let Some(path) = &trace {
                sim.sim.trace_to(path)?;
            }
            let beta = beta_int(&hw.fmt, cfg.train.beta);
            let per_lane = if hw.pairs { 2.0 } else { 1.0 };
            for s in 0..count_of(samples, split.test.len()) {
                let x = hw.inputs_of_image(split.test.image(s));
                let label = split.test.labels[s] as usize;
                let t = Instant::now();
                match verify_sample(&mut sim, &hw, &x, &Plan { free_steps: steps, nudge_steps: 100, beta, label, fault: None })? {
                    // (a pairs-stream lane makes two coupling products per
                    // cycle: its row's and, from the same weight, row j's)
                    Ok(r) => eprintln!(
                        "sample {s}: {} steps bit-exact (free and nudged), {:.0} cycles/step, {} lane(s){}: {:.1}% of the lanes busy in the coupling loop, {:.1}% over the run; class {} ({:.1} s)",
                        r.steps_compared,
                        r.cycles_per_step,
                        r.lanes,
                        if hw.pairs { " of the pairs stream, two products each" } else { "" },
                        100.0 * r.free_run.loop_efficiency(r.lanes) / per_lane,
                        100.0 * r.free_run.step_efficiency(r.lanes) / per_lane,
                        r.class,
                        t.elapsed().as_secs_f64()
                    ),
                    Err(m) => bail!("{m}"),
                }
            }
            if let Some(path) = &trace {
                sim.sim.trace_close();
                let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                eprintln!("wrote {} ({:.1} MB)", path.display(), len as f64 / 1e6);
            }
            println!("TESTBENCH OK");
        }
        Command::Report {
            pnr,
            out,
            device,
            yosys_json,
            model,
        } => {
            let clock = match &model {
                Some(m) => Some(ModelFile::load(m)?.config.clock_plan()?.describe()),
                None => None,
            };
            let r = phasegen::report::write_report(
                &pnr,
                &out,
                &device,
                yosys_json.as_deref(),
                clock.as_deref(),
            );
            match r {
                Ok(rep) => print!("{}", rep.to_markdown()),
                Err(e) => return Err(e),
            }
        }
        Command::Infer {
            port,
            model,
            data,
            count,
            baud,
            out,
            timeout_ms,
        } => {
            let (mf, hw) = load_model(&model)?;
            let cfg = &mf.config;
            let split = load_dir(&data_dir(cfg, &data))?;
            if split.test.pixels() != hw.topo.inputs {
                bail!(
                    "the data in {} has {} pixels per image but the model takes {} inputs",
                    data_dir(cfg, &data).display(),
                    split.test.pixels(),
                    hw.topo.inputs
                );
            }
            let mut dev = device::open(&port, baud.unwrap_or(cfg.target.baud as u32))?;
            dev.timeout = std::time::Duration::from_millis(timeout_ms);
            let id = dev.identify()?;
            let want = phasegen_hdl::design_id(&cfg.hash_hex(), &hw);
            if id.design_id != want {
                bail!(
                    "the device on {port} runs design {:08x}, but model {} is design {want:08x}: build and load the bitstream for this model (make bitstream), or pass the model it was built from",
                    id.design_id,
                    model.display()
                );
            }
            // the weights that live in RAM (SPRAM on a UP5K), which the
            // bitstream cannot fill: send them first
            use phasegen_sim::link::protocol::Block;
            let sched = phasegen_sim::twin::sched::Schedule::new(&hw);
            for (b, held, what) in [
                (Block::U, hw.u_in_ram, "input"),
                (Block::W, hw.w_in_ram, "coupling"),
            ] {
                if held {
                    let image = sched.image(&hw, b);
                    let t = Instant::now();
                    dev.write_block(b, &image, sched.word_bytes(&hw, b), None)?;
                    eprintln!(
                        "wrote {} bytes of {what} weights in {:.1} s",
                        image.len(),
                        t.elapsed().as_secs_f64()
                    );
                }
            }
            let n = count_of(count, split.test.len());
            let mut outf = match &out {
                Some(p) => Some(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                ),
                None => None,
            };
            let t = Instant::now();
            let (mut correct, mut agree) = (0, 0);
            let xs: Vec<Vec<u64>> = (0..n)
                .map(|s| hw.inputs_of_image(split.test.image(s)))
                .collect();
            let classes = dev.infer_stream(&xs)?;
            let secs = t.elapsed().as_secs_f64();
            for (s, x) in xs.iter().enumerate() {
                let label = split.test.labels[s] as usize;
                let got = classes[s];
                let twin = Twin::new(&hw).infer(x);
                correct += (got == label) as usize;
                agree += (got == twin) as usize;
                if let Some(f) = outf.as_mut() {
                    writeln!(
                        f,
                        "{}",
                        serde_json::json!({"index": s, "label": label, "device": got, "twin": twin})
                    )?;
                }
            }
            println!(
                "{n} images: accuracy {:.2}%, device = twin on {agree}/{n}, {:.1} images/s",
                100.0 * correct as f64 / n as f64,
                n as f64 / secs
            );
            if agree != n {
                bail!(
                    "the device disagreed with the twin on {} of {n} images",
                    n - agree
                );
            }
        }
        Command::Memory(a) => memory(a)?,
        Command::Serve { model, seconds } => {
            let (mf, hw) = load_model(&model)?;
            let cfg = &mf.config;
            let built = build_top(cfg, &hw, &scratch_dir(&format!("serve-{}", cfg.name)))?;
            let clock_hz = cfg.clock_plan()?.core_clock_hz();
            let server = PtyServer::start(built, clocks_per_bit(clock_hz, cfg.target.baud))?;
            println!("{}", server.path);
            std::io::stdout().flush().ok();
            eprintln!(
                "serving the simulated {} on {} (baud {} simulated bit by bit); stop with Ctrl-C",
                cfg.name, server.path, cfg.target.baud
            );
            if seconds > 0 {
                std::thread::sleep(std::time::Duration::from_secs(seconds));
                let cycles = server.stop()?;
                eprintln!("simulated {cycles} cycles");
            } else {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                }
            }
        }
        Command::Plot { what } => what.run()?,
        Command::R2nn { what } => what.run()?,
    }
    Ok(())
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct Progress {
    tty: bool,
    start: Instant,
    drawn: bool,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            tty: std::io::stderr().is_terminal(),
            start: Instant::now(),
            drawn: false,
        }
    }

    fn show(&mut self, p: &train::Progress, epochs: usize) {
        if !self.tty {
            return;
        }
        if p.done == 1 {
            self.start = Instant::now();
        }
        const W: usize = 30;
        let filled = W * p.done / p.total.max(1);
        let el = self.start.elapsed().as_secs_f64();
        let eta = el / p.done as f64 * (p.total - p.done) as f64;
        eprint!(
            "\repoch {}/{} [{}{}] {}/{} batches  loss {:.4}  {:.0} s left  ",
            p.epoch,
            epochs,
            "#".repeat(filled),
            ".".repeat(W - filled),
            p.done,
            p.total,
            p.loss,
            eta
        );
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r{}\r", " ".repeat(100));
            self.drawn = false;
        }
    }
}

/// Point a config at another board and/or clock: a new board runs from
/// its oscillator unless a clock is given. The result is validated (the
/// clock must be one the board's PLL can make).
fn retarget(cfg: &mut Config, board: Option<&str>, clock_hz: Option<u64>) -> Result<()> {
    if let Some(name) = board {
        if name != cfg.target.board {
            let b = phasegen_sim::board::board(name).context("--board")?;
            cfg.target.board = b.name.to_string();
            cfg.target.clock_hz = b.clock_hz;
        }
    }
    if let Some(hz) = clock_hz {
        cfg.target.clock_hz = hz;
    }
    cfg.validate()
        .with_context(|| format!("config retargeted to board {}", cfg.target.board))
}

/// Accuracy of the float model and of the twin on the first `n` samples.
fn float_vs_twin(
    mf: &ModelFile,
    hw: &HwModel,
    test: &phasegen_sim::data::Dataset,
    n: usize,
) -> (f64, f64) {
    let p: &Params = &mf.params;
    let s = train::free_settle(&mf.config.train);
    let (float_acc, _) = if n == test.len() {
        train::evaluate(p, test, &s, mf.config.train.seed)
    } else {
        let mut sub = test.clone();
        sub.images.truncate(n * test.pixels());
        sub.labels.truncate(n);
        train::evaluate(p, &sub, &s, mf.config.train.seed)
    };
    let mut twin = Twin::new(hw);
    let ok = (0..n)
        .filter(|&i| twin.infer(&hw.inputs_of_image(test.image(i))) == test.labels[i] as usize)
        .count();
    (float_acc, ok as f64 / n.max(1) as f64)
}
