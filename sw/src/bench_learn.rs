//! `phasegen bench-learn`: on-chip learning against host training on the
//! twin, and the rounding schemes that let low-precision parameters learn
//! (docs/learning.md quotes it).

use anyhow::{Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::data::{load_dir, Split};
use phasegen_sim::link::hil::{pin_formats, TwinBackend};
use phasegen_sim::link::onchip;
use phasegen_sim::onn::train::{train_on, EpochLog};
use phasegen_sim::twin::learn::Rounding;
use std::fmt::Write;
use std::path::Path;

pub struct LearnBenchOptions {
    /// 2 epochs of 300 samples, one width, one seed: checks that it runs.
    pub quick: bool,
    pub widths: Vec<u32>,
    pub seeds: Vec<u64>,
}

/// One way of training.
#[derive(Clone, Copy)]
enum Way {
    /// The host trains on the twin (mini-batches, momentum: the config's).
    Host,
    /// On chip with this rounding and shadow bits.
    Chip(Rounding, u32),
}

impl Way {
    fn name(self) -> String {
        match self {
            Way::Host => "host, `--backend twin` (config's batch, momentum)".into(),
            Way::Chip(Rounding::Shadow, 0) => {
                "on chip, updates rounded to the parameter (0 shadow bits)".into()
            }
            Way::Chip(Rounding::Shadow, b) => format!("on chip, {b} shadow bits"),
            Way::Chip(Rounding::Stochastic, b) => {
                format!("on chip, stochastic rounding ({b} LFSR bits, no shadow)")
            }
        }
    }
}

const WAYS: [Way; 5] = [
    Way::Host,
    Way::Chip(Rounding::Shadow, 0),
    Way::Chip(Rounding::Shadow, 4),
    Way::Chip(Rounding::Shadow, 8),
    Way::Chip(Rounding::Stochastic, 8),
];

/// The SIMD level this machine runs the float kernels with.
pub fn cpu_line() -> String {
    let simd = if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("avx512f") {
        "AVX-512"
    } else if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("avx2") {
        "AVX2"
    } else {
        "baseline"
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{threads} hardware threads, {simd}")
}

fn run_way(cfg: &Config, split: &Split, way: Way) -> Result<Vec<EpochLog>> {
    Ok(match way {
        Way::Host => {
            let mut be = TwinBackend::new(cfg, split.train.max_pixel)?;
            let mut logs = Vec::new();
            train_on(
                &mut be,
                cfg,
                split,
                &mut |l, _| logs.push(l.clone()),
                &mut |_| {},
            )?;
            logs
        }
        Way::Chip(r, sb) => onchip::learn(cfg, split, sb, r, &mut |_| {}, &mut |_, _| {})?.2,
    })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The table, Markdown. Run from the repository root.
pub fn bench_learn(o: &LearnBenchOptions) -> Result<String> {
    let split = load_dir(Path::new("data/digits-8x8"))?;
    let base = Config::default_config();
    let mut md = String::new();
    writeln!(
        md,
        "`phasegen bench-learn{}`: the embedded digits config (64-32-10, {} epochs{}), seeds {:?}; machine: {}.\n",
        if o.quick { " --quick" } else { "" },
        if o.quick { 2 } else { base.train.epochs },
        if o.quick { ", 300 training samples" } else { "" },
        o.seeds,
        cpu_line()
    )?;
    writeln!(
        md,
        "| weight bits | training | best test % | final test % | s/epoch |\n|---|---|---|---|---|"
    )?;
    for &wb in &o.widths {
        for way in WAYS {
            let (mut best, mut last, mut secs) = (Vec::new(), Vec::new(), Vec::new());
            for &seed in &o.seeds {
                let mut cfg = base.clone();
                cfg.hardware.weight_bits = wb;
                cfg.train.seed = seed;
                if o.quick {
                    cfg.train.epochs = 2;
                    cfg.train.max_train = 300;
                }
                pin_formats(&mut cfg, split.train.max_pixel)?;
                let logs = run_way(&cfg, &split, way)
                    .with_context(|| format!("{} at {wb} weight bits, seed {seed}", way.name()))?;
                best.push(logs.iter().map(|l| l.test_acc).fold(0.0, f64::max));
                last.push(logs.last().map_or(0.0, |l| l.test_acc));
                let mut s: Vec<f64> = logs.iter().map(|l| l.train_seconds).collect();
                s.sort_by(f64::total_cmp);
                secs.push(s.get(s.len() / 2).copied().unwrap_or(0.0));
                eprintln!(
                    "{wb} bits, {}, seed {seed}: best {:.2}%, final {:.2}%",
                    way.name(),
                    100.0 * best.last().unwrap(),
                    100.0 * last.last().unwrap()
                );
            }
            secs.sort_by(f64::total_cmp);
            writeln!(
                md,
                "| {wb} | {} | {:.2} | {:.2} | {:.2} |",
                way.name(),
                100.0 * mean(&best),
                100.0 * mean(&last),
                secs[secs.len() / 2]
            )?;
        }
    }
    writeln!(
        md,
        "\nAccuracies are means over the seeds; s/epoch is the median training time of an epoch on this machine (the twin on the host; on chip the device's time is in the speed table)."
    )?;
    Ok(md)
}

/// The speed of the learning digits design (`configs/digits-learn.toml`)
/// in RTL: its core and engine (`pg_lcore`) under Verilator learn
/// `samples` training images; the cycles per learning step, the samples/s
/// they give at the iCEBreaker's and the ULX3S's clocks, and the UART
/// time of streaming one sample (WriteInput and Learn with their answers)
/// at 115200 and 3,000,000 baud. Markdown; run from the repository root.
pub fn bench_learn_rtl(samples: usize) -> Result<String> {
    use phasegen_sim::link::protocol::{request, response, Cmd};
    let split = load_dir(Path::new("data/digits-8x8"))?;
    let mut cfg = Config::load(Path::new("configs/digits-learn.toml"))?;
    pin_formats(&mut cfg, split.train.max_pixel)?;
    let (_, mut l) = onchip::learner(
        &cfg,
        split.train.max_pixel,
        cfg.hardware.shadow_bits,
        Rounding::Shadow,
    )?;
    let dir = crate::cosim::scratch_dir("bench-learn-rtl");
    let built = crate::learnsim::build(&l.hw, &l.spec, &dir, None)?;
    let mut sim = crate::learnsim::LearnSim::new(&built)?;
    let mut cycles = Vec::new();
    for i in 0..samples.min(split.train.len()) {
        let x = l.hw.inputs_of_image(split.train.image(i));
        let label = split.train.labels[i] as usize;
        let (class, w) = sim.learn(&x, label)?;
        if class != l.learn(&x, label) {
            anyhow::bail!("sample {i}: the RTL's class differs from the twin's");
        }
        cycles.push(w.cycles as f64);
    }
    cycles.sort_by(f64::total_cmp);
    let med = cycles[cycles.len() / 2];
    // one streamed sample: WriteInput (all inputs) and Learn, both answers
    let mut wi = vec![0u8, 0];
    wi.extend(std::iter::repeat_n(0u8, cfg.network.inputs));
    let bytes = request(Cmd::WriteInput, &wi).len()
        + response(Cmd::WriteInput as u8, &[]).len()
        + request(Cmd::Learn, &[0]).len()
        + response(Cmd::Learn as u8, &[0]).len();
    let uart_s = |baud: f64| bytes as f64 * 10.0 / baud;
    let mut md = String::new();
    writeln!(
        md,
        "`phasegen bench-learn --rtl {samples}`: configs/digits-learn.toml (64-32-10, {} lane, t1 = {}, t2 = {}, symmetric = {}), {} training images learned by pg_core + pg_learn under Verilator, every class equal to the twin's.\n",
        l.hw.lanes, l.spec.t1, l.spec.t2, l.spec.symmetric, cycles.len()
    )?;
    writeln!(
        md,
        "| | value |\n|---|---|\n| cycles per learning step (median) | {med:.0} |\n| samples/s at 12 MHz (iCEBreaker) | {:.0} |\n| samples/s at 25 MHz (ULX3S 85F) | {:.0} |\n| UART bytes per streamed sample (WriteInput + Learn, both answers) | {bytes} |\n| their time at 115200 baud | {:.2} ms |\n| their time at 3,000,000 baud | {:.3} ms |",
        12e6 / med,
        25e6 / med,
        1e3 * uart_s(115_200.0),
        1e3 * uart_s(3_000_000.0)
    )?;
    Ok(md)
}
