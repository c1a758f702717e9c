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
    let simd = crate::bench::simd_level();
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
        Way::Chip(r, sb) => {
            onchip::learn(
                cfg,
                split,
                sb,
                r,
                onchip::Feed::Stream,
                &mut |_| {},
                &mut |_, _| {},
            )?
            .2
        }
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
    // the host loop on the same network: its UART bytes per sample, and
    // the device time of its runs (the core's steps, no update)
    let hil_samples = 64;
    let hil = host_loop_bytes(&cfg, &split, hil_samples)?;
    let sched = phasegen_sim::twin::sched::Schedule::new(&l.hw);
    let runs = (l.spec.t1 + l.spec.t2) as usize * if l.spec.symmetric { 2 } else { 1 };
    let hil_cycles = (runs * sched.step_cycles()) as f64;
    let per_sample =
        |line_bytes: f64, cycles: f64, baud: f64, hz: f64| line_bytes * 10.0 / baud + cycles / hz;
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
    writeln!(
        md,
        "\nAgainst host-in-the-loop training (`phasegen train --backend device`: per sample WriteInput, the free and nudged runs, ReadPhases after each; per mini-batch of {} the parameter blocks written), counted on the device model over {hil_samples} samples: {hil:.0} UART bytes per sample; its device time {runs} steps × {} cycles. Per sample, the UART time plus the device time, each request answered before the next (as both host clients do):\n",
        cfg.train.batch,
        sched.step_cycles()
    )?;
    writeln!(
        md,
        "| at 12 MHz | host loop | on chip, streamed | on chip / host loop |\n|---|---|---|---|"
    )?;
    for baud in [115_200.0, 3_000_000.0] {
        let h = per_sample(hil, hil_cycles, baud, 12e6);
        let o = per_sample(bytes as f64, med, baud, 12e6);
        writeln!(
            md,
            "| {baud:.0} baud | {:.2} ms ({:.0} samples/s) | {:.2} ms ({:.0} samples/s) | {:.1}× |",
            1e3 * h,
            1.0 / h,
            1e3 * o,
            1.0 / o,
            h / o
        )?;
    }
    writeln!(
        md,
        "\nThe learning step alone (no UART: the bound of a training set held on chip) is {:.2} ms at 12 MHz: {:.1}× the host loop at 115200 baud.",
        1e3 * med / 12e6,
        per_sample(hil, hil_cycles, 115_200.0, 12e6) / (med / 12e6)
    )?;
    Ok(md)
}

/// The device model in-process as a serial port: every byte written goes
/// to the model, its replies are read back; the bytes each way are counted
/// (in `bytes`, shared with the caller).
struct ModelPort {
    model: phasegen_sim::link::devmodel::DeviceModel,
    pending: std::collections::VecDeque<u8>,
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
}

impl std::io::Write for ModelPort {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if let Some(r) = self.model.byte(b) {
                self.pending.extend(r);
            }
        }
        self.bytes.set(self.bytes.get() + buf.len() as u64);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Read for ModelPort {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let k = buf.len().min(self.pending.len());
        for b in buf.iter_mut().take(k) {
            *b = self.pending.pop_front().expect("k bytes are pending");
        }
        self.bytes.set(self.bytes.get() + k as u64);
        Ok(k)
    }
}

/// Host-in-the-loop training (`phasegen train --backend device`) of `cfg`
/// on its first `samples` training images, one epoch, against the device
/// model: the UART bytes per trained sample, both directions (every
/// mini-batch's parameter writes, every sample's input, runs and phase
/// reads; the epoch's evaluation not counted).
pub fn host_loop_bytes(cfg: &Config, split: &Split, samples: usize) -> Result<f64> {
    use phasegen_sim::onn::net::Params;
    let mut cfg = cfg.clone();
    cfg.train.epochs = 1;
    cfg.train.max_train = samples;
    cfg.train.validation = 0.0;
    let max_pixel = split.train.max_pixel;
    let hw = TwinBackend::new(&cfg, max_pixel)?.quantized(&Params::init(&cfg))?;
    let id = phasegen_hdl::top::identity(&hw, 0).to_bytes();
    let bytes = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let port = ModelPort {
        model: phasegen_sim::link::devmodel::DeviceModel::new(&hw, id),
        pending: Default::default(),
        bytes: bytes.clone(),
    };
    let mut be =
        crate::hil_device::DeviceBackend::new(&cfg, max_pixel, crate::device::Device::new(port))?;
    let start = bytes.get();
    let small = Split {
        train: split.train.clone(),
        test: split.test.subset(&[0]),
    };
    let (mut seen, mut at_last) = (0usize, start);
    let batch = cfg.train.batch;
    train_on(&mut be, &cfg, &small, &mut |_, _| {}, &mut |pr| {
        seen = (pr.done * batch).min(samples);
        at_last = bytes.get();
    })?;
    if seen == 0 {
        anyhow::bail!("the host loop trained no sample");
    }
    Ok((at_last - start) as f64 / seen as f64)
}
