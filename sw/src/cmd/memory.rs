//! `phasegen memory`: associative memory in a fully connected oscillator
//! network.

use anyhow::{bail, Result};
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use std::path::PathBuf;
use std::time::Instant;

/// Associative memory: store binary patterns in a fully connected
/// oscillator network, retrieve them from corrupted starts.
#[derive(clap::Args)]
pub struct Args {
    /// Data folder (IDX layout); patterns are its first test image of each
    /// class 0..P, binarized at half of the largest pixel value.
    #[arg(long, default_value = "data/digits-8x8")]
    data: PathBuf,
    /// Number of digit patterns (classes 0..P).
    #[arg(long, default_value_t = 10)]
    patterns: usize,
    /// Learning rule: Hebbian, pseudo-inverse (projection) or Equilibrium
    /// Propagation (trained from corrupted starts; the --ep-* flags).
    #[arg(long, default_value = "pinv", value_parser = ["hebb", "pinv", "ep"])]
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
    /// Standard deviation of the frequency mismatch δω (rad per unit time)
    /// (default: 0; 0.05 with --onchip on an EP memory, whose nudge needs
    /// the phases off exact 0 and π: docs/learning.md).
    #[arg(long, allow_negative_numbers = true)]
    dispersion: Option<f64>,
    /// Seed of the random draws: the frequency mismatch, the corrupted
    /// starts and the noise (and the sweep's random patterns).
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
    /// EP: passes over the patterns, each with fresh corrupted starts.
    #[arg(long, default_value_t = 100)]
    ep_epochs: usize,
    /// EP: learning rate η of ΔW = (η/β)[cos(θ^β_i − θ^β_j) − cos(θ⁰_i − θ⁰_j)]
    /// per pattern and epoch (default 1/(8N)).
    #[arg(long, allow_negative_numbers = true)]
    ep_eta: Option<f64>,
    /// EP: nudge strength β (must flip wrong bits: docs/memory.md).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    ep_beta: f64,
    /// EP: nudge at +β and −β.
    #[arg(long)]
    ep_symmetric: bool,
    /// EP: second-harmonic locking K while training (default: --k).
    #[arg(long, allow_negative_numbers = true)]
    ep_k: Option<f64>,
    /// EP: Euler steps of the nudged phase.
    #[arg(long, default_value_t = 200)]
    ep_nudge_steps: usize,
    /// EP: corrupted starts per pattern and epoch.
    #[arg(long, default_value_t = 1)]
    ep_starts: usize,
    /// EP: fraction of flipped bits of the training starts (default: --corrupt).
    #[arg(long, allow_negative_numbers = true)]
    ep_corrupt: Option<f64>,
    /// EP: initial couplings, Hebbian or zero.
    #[arg(long, default_value = "zero", value_parser = ["hebb", "zero"])]
    ep_init: String,
    /// Capacity table: random patterns stored by each of --rules at each of
    /// --sizes and --loads, retrieved from each of --corrupts on the float
    /// model and on the integer twin at a hardware design's formats.
    #[arg(long, conflicts_with = "sweep")]
    capacity: bool,
    /// Capacity: corruptions (fractions of flipped bits).
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0.1,0.2,0.3"
    )]
    corrupts: Vec<f64>,
    /// Capacity: learning rules.
    #[arg(long, value_delimiter = ',', default_value = "ep,hebb,pinv", value_parser = ["hebb", "pinv", "ep"])]
    rules: Vec<String>,
    /// Capacity: stored patterns probed per point.
    #[arg(long, default_value_t = 8)]
    probed: usize,
    /// Capacity: design configs whose hardware formats the twin uses; size N
    /// takes the smallest with at least N oscillators.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "configs/asic/full-64.toml,configs/full-256.toml,configs/full-1024.toml"
    )]
    designs: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The memory learns on chip: the design of --config imprints the
    /// patterns (hardware.learning = "hebbian", Imprint) or learns them by
    /// EP (learning = "ep", nudge = "pattern": --ep-epochs, --ep-starts,
    /// --ep-corrupt, --ep-k; β, the rate and the steps are the config's)
    /// and retrieves them; on its twin, or with --port on the device,
    /// checked against the twin bit for bit. Digit patterns when the design has as
    /// many oscillators as the data has pixels, else --patterns random
    /// ones (docs/learning.md).
    #[arg(long, conflicts_with_all = ["sweep", "capacity"])]
    onchip: bool,
    /// With --onchip: the learning memory's config (default: none; --onchip
    /// needs one).
    #[arg(long, requires = "onchip")]
    config: Option<PathBuf>,
    /// With --onchip: the device's serial port (default: the twin only).
    #[arg(long, requires = "onchip")]
    port: Option<String>,
    /// With --port: baud rate (default: the config's target.baud).
    #[arg(long, requires = "port")]
    baud: Option<u32>,
    /// With --onchip: hardware steps of each retrieval.
    #[arg(long, default_value_t = 200)]
    run_steps: u16,
}

/// `--dispersion`'s default with `--onchip` on an EP memory: its free
/// states sit at 0 or π, where the sine table is exactly 0 over a whole
/// table step, so without a mismatch the nudge cannot move a wrong bit
/// (docs/learning.md "EP trains the memory on chip").
const EP_DISPERSION: f64 = 0.05;

/// `--onchip`: the memory learns the patterns itself.
fn onchip(a: &Args) -> Result<()> {
    use phasegen_sim::onn::memory as mem;
    let Some(path) = &a.config else {
        bail!("--onchip needs --config: a learning memory (hardware.learning = \"hebbian\", or \"ep\" with hardware.nudge = \"pattern\")");
    };
    if a.patterns == 0 {
        bail!("--patterns 0: imprint at least one pattern");
    }
    if a.run_steps == 0 {
        bail!("--run-steps 0: a retrieval needs at least one step");
    }
    let cfg = Config::load(path)?;
    let n: usize = cfg.network.layers.iter().sum();
    let split = load_dir(&a.data)?;
    let pixels = split.test.pixels();
    let (pats, what) = if n == pixels {
        let p: Vec<mem::Pattern> = mem::digit_patterns(&split.test, a.patterns)?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        (
            p,
            format!("digits 0..{} of {}", a.patterns, a.data.display()),
        )
    } else {
        let mut rng = phasegen_sim::rng::Rng::new(a.seed);
        (
            mem::random_patterns(n, a.patterns, &mut rng),
            format!("random, seed {}", a.seed),
        )
    };
    let r = crate::memory_onchip::MemoryRun {
        k: a.k,
        corrupt: a.corrupt,
        jitter: a.jitter as f32,
        trials: a.trials,
        steps: a.run_steps,
        dispersion: a.dispersion.unwrap_or(
            if cfg.hardware.learning == phasegen_sim::config::Learning::Ep {
                EP_DISPERSION
            } else {
                0.0
            },
        ) as f32,
        seed: a.seed,
    };
    // (a learning memory: the design's train section sets β, the rate and
    // the free and nudged steps; these set the starts)
    let ep = crate::memory_onchip::EpRun {
        epochs: a.ep_epochs,
        starts: a.ep_starts,
        corrupt: a.ep_corrupt.unwrap_or(a.corrupt),
        k: a.ep_k.unwrap_or(a.k),
    };
    if !(0.0..=0.5).contains(&ep.corrupt) {
        bail!(
            "--ep-corrupt {} is out of range: the fraction of flipped bits must be in [0, 0.5]",
            ep.corrupt
        );
    }
    if ep.starts == 0 {
        bail!("--ep-starts 0: learn each pattern from at least one start");
    }
    let md = match &a.port {
        Some(port) => {
            let dev = crate::device::open(port, a.baud.unwrap_or(cfg.target.baud as u32))?;
            crate::memory_onchip::run(&cfg, &pats, &what, &r, &ep, Some(dev))?
        }
        None => crate::memory_onchip::run::<std::fs::File>(&cfg, &pats, &what, &r, &ep, None)?,
    };
    print!("{md}");
    Ok(())
}

/// `--capacity`: the table of docs/memory.md, rows on stderr as they come.
fn capacity(a: &Args, o: &phasegen_sim::onn::memory::Options) -> Result<()> {
    use phasegen_sim::onn::memory as mem;
    use phasegen_sim::twin::memory as tm;
    let designs = a
        .designs
        .iter()
        .map(|p| Ok(tm::Design::new(Config::load(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let plan = tm::CapacityPlan {
        sizes: a.sizes.clone(),
        loads: a.loads.clone(),
        corrupts: a.corrupts.clone(),
        rules: a
            .rules
            .iter()
            .map(|r| mem::Rule::parse(r))
            .collect::<Result<_>>()?,
        probed: a.probed,
        designs,
    };
    plan.validate(o)?;
    let t0 = Instant::now();
    let rows = tm::capacity(o, &plan, |r| {
        eprintln!(
            "N {} P {} {} corrupt {}: float {:.3} / {:.0}%, twin {:.3} / {:.0}% (store {:.1} s, recall {:.1} s, {:.0} s so far)",
            r.n,
            r.p,
            r.rule.name(),
            r.corrupt,
            r.float.mean_overlap,
            100.0 * r.float.exact_rate,
            r.twin.mean_overlap,
            100.0 * r.twin.exact_rate,
            r.store_s,
            r.recall_s,
            t0.elapsed().as_secs_f64()
        )
    })?;
    let secs = t0.elapsed().as_secs_f64();
    if a.json {
        println!(
            "{}",
            serde_json::json!({"options": o, "capacity": rows, "seconds": secs})
        );
    } else {
        print!("{}", tm::capacity_table(o, &plan, &rows));
        println!("\nmade in {secs:.0} s");
    }
    Ok(())
}

pub fn run(a: Args) -> Result<()> {
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
        dispersion: a.dispersion.unwrap_or(0.0),
        seed: a.seed,
        ep: mem::EpOptions {
            epochs: a.ep_epochs,
            eta: a.ep_eta,
            beta: a.ep_beta,
            symmetric: a.ep_symmetric,
            k: a.ep_k.unwrap_or(a.k),
            nudge_steps: a.ep_nudge_steps,
            starts: a.ep_starts,
            corrupt: a.ep_corrupt.unwrap_or(a.corrupt),
            init: mem::EpInit::parse(&a.ep_init)?,
        },
    };
    o.validate()?;
    if a.onchip {
        return onchip(&a);
    }
    if a.capacity {
        return capacity(&a, &o);
    }
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
    let t0 = std::time::Instant::now();
    let (m, log) = mem::Memory::train(pats, &o, o.seed)?;
    let train_s = t0.elapsed().as_secs_f64();
    let stats = mem::evaluate(&m, &o.recall(), o.trials, a.patterns, o.seed);
    if a.json {
        println!(
            "{}",
            serde_json::json!({"options": o, "data": a.data, "n": m.n(), "classes": labels,
                "patterns": stats, "summary": mem::summary(&stats), "ep_log": log})
        );
    } else {
        if let Some(last) = log.last() {
            println!(
                "EP: {} epochs in {train_s:.1} s; last epoch's free phases: mean overlap {:.3}, exact {:.1}%",
                log.len(),
                last.free_overlap,
                100.0 * last.free_exact
            );
        }
        print!("{}", mem::table(&m, Some(&labels), &o, &stats));
    }
    Ok(())
}
