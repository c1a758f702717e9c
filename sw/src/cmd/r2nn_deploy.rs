//! `phasegen r2nn deploy` and `phasegen r2nn serve-board`: the metacircuit
//! controller (`pg_ctl_top`) programmed, verified and used to classify over
//! its UART, on a board or on the simulated board of `serve-board` (the
//! Verilated controller with the part models and the circuit in the loop).

use crate::confusion::Confusion;
use crate::cosim::scratch_dir;
use crate::ctlsim::{board_setup, build_ctl_top, dac_codes, CtlPtyServer};
use anyhow::{bail, Result};
use phasegen_hdl::uart::clocks_per_bit;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The board a model needs and the controller for it.
#[derive(clap::Args, Debug)]
pub struct BoardArgs {
    /// The model file (from `phasegen r2nn train`).
    #[arg(long)]
    model: PathBuf,
    /// The part table (TOML).
    #[arg(long, default_value = super::common::REFERENCE_PARTS)]
    parts: PathBuf,
    /// Input samples per second the circuit runs at (the DAC's limit with
    /// the reference parts, docs/metacircuit-board.md).
    #[arg(long, default_value_t = 100e3)]
    sample_rate: f64,
    /// The controller's clock, Hz.
    #[arg(long, default_value_t = 48e6)]
    clock_hz: f64,
    /// Longest signal the sample RAM holds.
    #[arg(long, default_value_t = 2048)]
    max_samples: usize,
    /// UART baud rate.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
}

/// Program a metacircuit board for a model, read the codes back, classify
/// the test signals and print the accuracy and the confusion matrix.
#[derive(clap::Args, Debug)]
pub struct DeployArgs {
    #[command(flatten)]
    board: BoardArgs,
    /// The controller's serial port (a board, or `r2nn serve-board`'s
    /// pseudo-terminal).
    #[arg(long)]
    port: String,
    /// Test signals to classify (0 = all).
    #[arg(long, default_value_t = 0)]
    count: usize,
    /// Seconds to wait for a reply (a simulated board is slow).
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
}

/// Serve the Verilated controller on its simulated board (part models and
/// circuit) on a pseudo-terminal: prints the port path, runs until killed.
#[derive(clap::Args, Debug)]
pub struct ServeBoardArgs {
    #[command(flatten)]
    board: BoardArgs,
    /// Stop after this many seconds (0 = run until killed).
    #[arg(long, default_value_t = 0)]
    seconds: u64,
}

/// Write the metacircuit controller's Verilog for a model's board
/// (`pg_ctl_top.v`, `pg_ctl.v`, `pg_spi_<bus>.v`, `pg_uart_rx.v`,
/// `pg_uart_tx.v`, and hex files of large memories).
#[derive(clap::Args, Debug)]
pub struct GenCtlArgs {
    #[command(flatten)]
    board: BoardArgs,
    /// Folder to write to.
    #[arg(long)]
    out: PathBuf,
    /// Also write `pg_pll.v` making --clock-hz from this board's oscillator
    /// (icebreaker, ulx3s-85f, ...), for its board top (default: none, no
    /// `pg_pll.v`).
    #[arg(long = "board")]
    fpga_board: Option<String>,
}

pub fn gen_ctl(a: GenCtlArgs) -> Result<()> {
    let s = setup(&a.board)?;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", a.out.display()))?;
    let clock = a.board.clock_hz.round() as u64;
    let mut files = phasegen_hdl::generate_ctl_top_files(&s.plan, clock, a.board.baud as u64);
    if let Some(b) = &a.fpga_board {
        let board = phasegen_sim::board::board(b)?;
        let cp = phasegen_sim::board::pll::plan(board, clock)?;
        if cp.core_clock_hz() != clock {
            bail!(
                "board {b}'s PLL makes {} Hz, not --clock-hz {clock}: give a clock it makes ({})",
                cp.core_clock_hz(),
                cp.describe()
            );
        }
        files.push(phasegen_hdl::generate_ctl_pll(&s.plan, &cp));
    }
    for f in &files {
        let p = a.out.join(&f.name);
        std::fs::write(&p, &f.text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
    }
    println!(
        "wrote {} files to {}: pg_ctl_top for plan {:08x} ({} program words, {} probes, {} cycles per sample at {} MHz, runs up to {} samples, {}-bit energies)",
        files.len(),
        a.out.display(),
        phasegen_hdl::ctl_plan_id(&s.plan),
        s.plan.prog_words.len(),
        s.plan.probes,
        s.plan.period,
        a.board.clock_hz / 1e6,
        s.plan.max_samples,
        s.plan.energy_bits()
    );
    Ok(())
}

/// Per model: the samples/s its circuit needs against what the SPI paths
/// achieve at the controller clock; the closed loop's speed (the Verilated
/// `pg_ctl` with the part models and the circuit); test accuracy trained,
/// of the realized values, and in the closed loop.
#[derive(clap::Args, Debug)]
pub struct BenchCtlArgs {
    /// Model files (from `phasegen r2nn train`).
    #[arg(long, required = true, num_args = 1..)]
    model: Vec<PathBuf>,
    /// The part table (TOML).
    #[arg(long, default_value = super::common::REFERENCE_PARTS)]
    parts: PathBuf,
    /// Input samples per second the circuits run at on the board.
    #[arg(long, default_value_t = 100e3)]
    sample_rate: f64,
    /// The controller's clock, Hz.
    #[arg(long, default_value_t = 48e6)]
    clock_hz: f64,
    /// Test signals through the closed loop (0 = all).
    #[arg(long, default_value_t = 50)]
    count: usize,
}

pub fn bench_ctl(a: BenchCtlArgs) -> Result<()> {
    use phasegen_sim::r2nn::circuit::{eng, Scale};
    use phasegen_sim::r2nn::engine::Engine;
    use phasegen_sim::r2nn::train::evaluate;
    let table = phasegen_sim::r2nn::parts::PartTable::load(&a.parts)?;
    println!(
        "| model | the circuit's rate (1/τ) | samples/s the DAC and ADC paths keep up with at {} | rate used | signals | closed loop: simulated cycles/s, samples/s | accuracy: trained / realized values / closed loop | closed loop = realized |",
        eng(a.clock_hz, "Hz")
    );
    println!("|---|---|---|---|---|---|---|---|");
    for m in &a.model {
        let mf = phasegen_sim::r2nn::file::ModelFile::load(m)?;
        let net = mf.spec.net(&mf.params)?;
        let needed = Scale::choose(&net, None, None)?.sample_rate();
        let rt = phasegen_sim::r2nn::parts::realtime(
            &table,
            needed,
            net.probes.len(),
            Some(a.clock_hz),
        )?;
        let name = m
            .file_stem()
            .map_or("?".into(), |s| s.to_string_lossy().into_owned());
        let head = format!(
            "| {name} | {}/s | {}/s | {}/s",
            eng(needed, ""),
            eng(rt.max_sample_rate, ""),
            eng(a.sample_rate, "")
        );
        let s = match board_setup(m, &a.parts, a.sample_rate, a.clock_hz, 2048) {
            Ok(s) => s,
            Err(e) => {
                println!(
                    "{head} | – | – | – | not built: {} |",
                    format!("{e:#}").replace('|', "/")
                );
                continue;
            }
        };
        let n = if a.count == 0 {
            s.test.count()
        } else {
            a.count.min(s.test.count())
        };
        let idx: Vec<usize> = (0..n).collect();
        let sub = s.test.subset(&idx);
        let trained = evaluate(&mf.spec, &Engine::new(&net), &sub);
        let real = evaluate(&mf.spec, &Engine::new(&s.realized.circuit.to_net()), &sub);
        let built =
            crate::ctlsim::build_ctl(&s.plan, &scratch_dir(&format!("bench-ctl-{name}")), None)?;
        let mut c =
            crate::ctlsim::CtlSim::new(&built, &s.plan, &s.table, s.volts_per_unit, s.full_scale)?;
        c.reset_and_program(10_000_000)?;
        c.build_circuit(&s.table, &s.realized)?;
        let t0 = Instant::now();
        let (mut right, mut same, mut cycles) = (0, 0, 0);
        for i in 0..n {
            let codes = dac_codes(sub.signal(i), s.full_scale);
            let r = c.classify(&codes, 10 * s.plan.period * codes.len() as u64)?;
            cycles += r.cycles;
            right += (r.class == sub.labels[i]) as usize;
            same += (r.class == real.pred[i]) as usize;
        }
        let secs = t0.elapsed().as_secs_f64();
        if !c.violations().is_empty() {
            bail!(
                "{}: the part models flagged {:?}",
                m.display(),
                c.violations()
            );
        }
        println!(
            "{head} | {n} | {:.2} M, {:.0} | {:.2}% / {:.2}% / {:.2}% | {:.2}% |",
            cycles as f64 / secs / 1e6,
            (n * s.test.len) as f64 / secs,
            100.0 * trained.acc,
            100.0 * real.acc,
            100.0 * right as f64 / n as f64,
            100.0 * same as f64 / n as f64
        );
    }
    Ok(())
}

fn setup(b: &BoardArgs) -> Result<crate::ctlsim::BoardSetup> {
    board_setup(&b.model, &b.parts, b.sample_rate, b.clock_hz, b.max_samples)
}

pub fn serve_board(a: ServeBoardArgs) -> Result<()> {
    let s = setup(&a.board)?;
    let clock = a.board.clock_hz.round() as u64;
    let built = build_ctl_top(
        &s.plan,
        clock,
        a.board.baud as u64,
        &scratch_dir("serve-board"),
    )?;
    let server = CtlPtyServer::start(built, &s, clocks_per_bit(clock, a.board.baud as u64))?;
    println!("{}", server.path);
    std::io::stdout().flush().ok();
    eprintln!(
        "serving the simulated metacircuit controller for {} on {} (baud {}, bit by bit); stop with Ctrl-C",
        a.board.model.display(),
        server.path,
        a.board.baud
    );
    if a.seconds > 0 {
        std::thread::sleep(Duration::from_secs(a.seconds));
        let cycles = server.stop()?;
        eprintln!("simulated {cycles} cycles");
    } else {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    Ok(())
}

pub fn deploy(a: DeployArgs) -> Result<()> {
    let s = setup(&a.board)?;
    let mut dev = crate::device::open(&a.port, a.board.baud)?;
    dev.timeout = Duration::from_secs_f64(a.timeout);
    let id = dev.ctl_identify()?;
    let want = phasegen_hdl::ctl_plan_id(&s.plan);
    if id.plan_id != want {
        bail!(
            "the controller on {} was built for plan {:08x}, this model and part table make {want:08x}: build the controller for this model (same --parts, --sample-rate, --clock-hz, --max-samples)",
            a.port,
            id.plan_id
        );
    }
    let words = &s.plan.prog_words;
    let rbw = s.plan.rb_words();
    if id.prog_words as usize != words.len()
        || id.probes as usize != s.plan.probes
        || id.readback_words as usize != rbw
    {
        bail!(
            "the controller has {} program words, {} probes and {} readback words, the model's board {}, {} and {}",
            id.prog_words,
            id.probes,
            id.readback_words,
            words.len(),
            s.plan.probes,
            rbw
        );
    }
    let t0 = Instant::now();
    dev.write_codes(words)?;
    let back = dev.read_codes(words.len())?;
    if let Some(k) = (0..words.len()).find(|&k| back[k] != words[k]) {
        bail!(
            "program word {k} reads back {:#06x}, written {:#06x}",
            back[k],
            words[k]
        );
    }
    dev.program(Duration::from_secs_f64(a.timeout))?;
    let answers = dev.read_parts(rbw)?;
    let wrong = s.plan.readback_errors(words, &answers, &s.realized);
    if !wrong.is_empty() {
        bail!(
            "the parts do not hold their program: {} of {rbw} read back wrong:\n  {}\ncheck the chains' wiring, supplies and SDO pull-ups (docs/metacircuit-board.md)",
            wrong.len(),
            wrong.join("\n  ")
        );
    }
    println!(
        "programmed {} words on {} chains ({}); the program RAM and the parts ({rbw} chips) read back and verified in {:.1} s",
        words.len(),
        s.plan.prog.len(),
        s.plan
            .prog
            .iter()
            .map(|p| format!("{}: {} chips", p.bus, p.chips))
            .collect::<Vec<_>>()
            .join(", "),
        t0.elapsed().as_secs_f64()
    );
    let n = if a.count == 0 {
        s.test.count()
    } else {
        a.count.min(s.test.count())
    };
    let mut conf = Confusion::new(s.test.classes.clone());
    let t1 = Instant::now();
    for i in 0..n {
        let codes = dac_codes(s.test.signal(i), s.full_scale);
        let c = dev.classify_signal(&codes, Duration::from_secs_f64(a.timeout))?;
        if c >= s.plan.probes {
            bail!(
                "the controller answered class {c} for signal {i}; the model has {} classes",
                s.plan.probes
            );
        }
        conf.add(s.test.labels[i], c);
    }
    let right: usize = (0..conf.names.len()).map(|c| conf.counts[c][c]).sum();
    println!(
        "closed-loop test accuracy on {n} signals: {:.2}% ({right}/{n}), {:.2} s per signal over the port",
        100.0 * right as f64 / n.max(1) as f64,
        t1.elapsed().as_secs_f64() / n.max(1) as f64
    );
    print!("{conf}");
    Ok(())
}
