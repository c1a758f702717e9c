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

/// The learning designs the speed bench measures: the iCEBreaker's (one
/// lane) and the ULX3S 85F's (16 lanes), both with the training set in
/// their sample store.
pub const RTL_BENCH_CONFIGS: [&str; 2] = [
    "configs/digits-learn.toml",
    "configs/digits-learn-ulx3s.toml",
];

/// One learning design's speed in RTL.
struct RtlSpeed {
    name: String,
    lanes: usize,
    clock_hz: f64,
    /// Cycles per sample of an Epoch (store reads, learning step), from
    /// the Epoch request's end to its answer's first bit.
    cycles: f64,
    /// The same design's step in cycles (the host loop's runs).
    step_cycles: usize,
    /// Steps the host loop runs per sample.
    runs: usize,
    /// UART bytes per sample: host-in-the-loop training, streamed on-chip
    /// learning (WriteInput + Learn), an Epoch's two frames.
    host_bytes: f64,
    stream_bytes: usize,
    epoch_bytes: usize,
    mini_batch: usize,
}

/// An Epoch of `samples` stored digits in the Verilated `pg_top` of the
/// learning design `config` (over its UART at the config's baud): every
/// reply equal to the device model's; the cycles it took.
fn rtl_epoch(config: &str, split: &Split, samples: usize) -> Result<RtlSpeed> {
    use phasegen_sim::link::devmodel::DeviceModel;
    use phasegen_sim::link::protocol::{self, request, response, Cmd, Decoder};
    let mut cfg = Config::load(Path::new(config))?;
    pin_formats(&mut cfg, split.train.max_pixel)?;
    let (_, l) = onchip::learner(
        &cfg,
        split.train.max_pixel,
        cfg.hardware.shadow_bits,
        Rounding::Shadow,
    )?;
    let hw = l.hw.clone();
    if hw.learn.as_ref().is_none_or(|s| s.store < samples) {
        anyhow::bail!("{config}: the bench needs a learning design with a sample store of at least {samples} (hardware.store)");
    }
    let dir = crate::cosim::scratch_dir(&format!("bench-learn-rtl-{}", cfg.name));
    let built = crate::uartsim::build_top(&cfg, &hw, &dir)?;
    let cpb = phasegen_hdl::uart::clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = crate::uartsim::TopSim::new(&built, cpb)?;
    let id = phasegen_hdl::top::identity(&hw, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
    let mut model = DeviceModel::new(&hw, id.to_bytes());
    // one request to both; the cycles from its last bit to the reply
    let mut ask = |top: &mut crate::uartsim::TopSim, cmd: Cmd, p: &[u8]| -> Result<u64> {
        let req = request(cmd, p);
        let want = req
            .iter()
            .filter_map(|&b| model.byte(b))
            .last()
            .context("the device model did not answer")?;
        top.to_device.extend(&req);
        while !top.idle() {
            top.run(1);
        }
        let mut cycles = 0u64;
        // the cycle the reply's first byte was received (after its stop bit)
        let mut first = None;
        let mut dec = Decoder::default();
        loop {
            top.run(1);
            cycles += 1;
            if !top.from_device.is_empty() {
                first.get_or_insert(cycles);
                dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
                if let Some(r) = dec.next_frame()? {
                    let got = response(r.cmd, &r.payload);
                    if got != want {
                        anyhow::bail!("{config}: {cmd:?}: the RTL answered {got:02x?}, the device model {want:02x?}");
                    }
                    return Ok(first.expect("a byte arrived"));
                }
            }
            if cycles > 1 << 34 {
                anyhow::bail!("{config}: no answer to {cmd:?}");
            }
        }
    };
    let ipw = phasegen_sim::twin::store::StoreLayout::of(&hw)
        .expect("checked above")
        .ipw;
    for i in 0..samples {
        let x = hw.inputs_of_image(split.train.image(i));
        let label = split.train.labels[i] as usize;
        let per = (250 / ipw) * ipw;
        for (c, chunk) in x.chunks(per).enumerate() {
            let p = protocol::store_sample_payload(i, label, c * per, chunk);
            ask(&mut top, Cmd::StoreSample, &p)?;
        }
    }
    let (first, stride) = onchip::epoch_stride(cfg.train.seed, 1, samples);
    let epoch = protocol::epoch_payload(samples, first, stride);
    // from the request's end to the reply's first bit: the first byte
    // arrives 10 bit times after it began
    let cycles = ask(&mut top, Cmd::Epoch, &epoch)? - 10 * cpb;
    let mut wi = vec![0u8, 0];
    wi.extend(std::iter::repeat_n(0u8, cfg.network.inputs));
    let stream_bytes = request(Cmd::WriteInput, &wi).len()
        + response(Cmd::WriteInput as u8, &[]).len()
        + request(Cmd::Learn, &[0]).len()
        + response(Cmd::Learn as u8, &[0]).len();
    let epoch_bytes = request(Cmd::Epoch, &epoch).len() + response(Cmd::Epoch as u8, &[0, 0]).len();
    let sched = phasegen_sim::twin::sched::Schedule::new(&hw);
    let runs = (l.spec.t1 + l.spec.t2) as usize * if l.spec.symmetric { 2 } else { 1 };
    Ok(RtlSpeed {
        name: config.to_string(),
        lanes: hw.lanes as usize,
        clock_hz: cfg.target.clock_hz as f64,
        cycles: cycles as f64 / samples as f64,
        step_cycles: sched.step_cycles(),
        runs,
        host_bytes: host_loop_bytes(&cfg, split, 64)?,
        stream_bytes,
        epoch_bytes,
        mini_batch: cfg.train.batch,
    })
}

/// The speed of the learning digits designs ([`RTL_BENCH_CONFIGS`]) in
/// RTL: the Verilated `pg_top` stores `samples` training images and learns
/// them in one Epoch; its cycles per sample at the board's clock against
/// host-in-the-loop training of the same network (its UART bytes counted
/// on the device model, its runs' cycles from the schedule) at 115200 and
/// 3,000,000 baud, and against streaming the samples to the learning
/// design. Markdown; run from the repository root.
pub fn bench_learn_rtl(samples: usize) -> Result<String> {
    let split = load_dir(Path::new("data/digits-8x8"))?;
    let rows: Vec<RtlSpeed> = RTL_BENCH_CONFIGS
        .iter()
        .map(|c| rtl_epoch(c, &split, samples.min(split.train.len())))
        .collect::<Result<_>>()?;
    let mut md = String::new();
    writeln!(
        md,
        "`phasegen bench-learn --rtl {samples}`: each learning design's `pg_top` under Verilator stores {samples} training images over its UART and learns them in one Epoch; every reply equals the device model's (the twin's learning steps).\n"
    )?;
    writeln!(
        md,
        "| design | lanes | clock | cycles per sample (Epoch, RTL) | samples/s on chip | epoch of the 1437 digits |\n|---|---|---|---|---|---|"
    )?;
    for r in &rows {
        let t = r.cycles / r.clock_hz;
        writeln!(
            md,
            "| {} | {} | {:.0} MHz | {:.0} | {:.0} | {:.2} s |",
            r.name,
            r.lanes,
            r.clock_hz / 1e6,
            r.cycles,
            1.0 / t,
            1437.0 * t
        )?;
    }
    writeln!(
        md,
        "\nAgainst host-in-the-loop training of the same design (`phasegen train --backend device`: per sample WriteInput, the free and nudged runs, ReadPhases after each; per mini-batch of {} the parameter blocks written), its UART bytes per sample counted on the device model over 64 samples, its device time the runs' steps times the schedule's cycles per step. Per sample, the UART time plus the device time (each request answered before the next, as both host clients do); on chip with the training set stored the UART carries only the Epoch's {} bytes per epoch; streamed, {} bytes per sample (WriteInput + Learn):\n",
        rows[0].mini_batch, rows[0].epoch_bytes, rows[0].stream_bytes
    )?;
    writeln!(
        md,
        "| design | baud | host loop | on chip, stored | stored / host loop | on chip, streamed | streamed / host loop |\n|---|---|---|---|---|---|---|"
    )?;
    for r in &rows {
        for baud in [115_200.0, 3_000_000.0] {
            let host = r.host_bytes * 10.0 / baud + (r.runs * r.step_cycles) as f64 / r.clock_hz;
            let stored = r.cycles / r.clock_hz + r.epoch_bytes as f64 * 10.0 / baud / 1437.0;
            let streamed = r.stream_bytes as f64 * 10.0 / baud + r.cycles / r.clock_hz;
            writeln!(
                md,
                "| {} | {baud:.0} | {:.2} ms ({:.0} bytes) | {:.3} ms | **{:.1}×** | {:.2} ms | {:.1}× |",
                r.name,
                1e3 * host,
                r.host_bytes,
                1e3 * stored,
                host / stored,
                1e3 * streamed,
                host / streamed
            )?;
        }
    }
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
