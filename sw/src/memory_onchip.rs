//! `phasegen memory --onchip`: the fully connected memory learns its
//! patterns on chip (a Hebbian design, `hardware.learning = "hebbian"`,
//! docs/learning.md "The memory learns on chip"). The host clears W, sets
//! the oscillator constants (K, no field), sends each pattern once
//! (`Imprint`), then retrieves every pattern from corrupted starts: the
//! start written as the initial phases, a Run, ReadPhases. On the twin
//! (`phasegen_sim::twin::hebb`) or on a device over its UART; with a
//! device, the twin runs beside it and every retrieval's phases must be
//! its phases, bit for bit.

use crate::device::Device;
use anyhow::{bail, Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::link::protocol::{Block, Cmd};
use phasegen_sim::onn::memory::{corrupt, Pattern};
use phasegen_sim::onn::net::Params;
use phasegen_sim::rng::Rng;
use phasegen_sim::twin::hebb::{imprint, pattern_payload};
use phasegen_sim::twin::memory::phase_int;
use phasegen_sim::twin::model::{HebbSpec, HwModel, Twin};
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::time::Instant;

/// What a retrieval run does.
pub struct MemoryRun {
    /// Second-harmonic locking K (in the parameter format when written).
    pub k: f64,
    pub corrupt: f64,
    pub jitter: f32,
    pub trials: usize,
    /// Hardware steps of each retrieval.
    pub steps: u16,
    pub seed: u64,
}

/// The Hebbian design of `cfg` as the host powers it up: W cleared, no
/// field, K set, θ0 = 0.
pub fn cleared(cfg: &Config, k: f64) -> Result<(HwModel, HebbSpec)> {
    let mut hw = quantize(cfg, &Params::init(cfg), 1)?.0;
    let Some(spec) = hw.hebb else {
        bail!("{}: not a Hebbian design: set hardware.learning = \"hebbian\" (a fully connected layer, params = \"ram\")", cfg.name);
    };
    for r in hw.rows.iter_mut() {
        for t in r.iter_mut() {
            t.1 = 0;
        }
    }
    hw.h.iter_mut().for_each(|v| *v = 0);
    hw.u.iter_mut().for_each(|v| *v = 0);
    let kq = (k * 2f64.powi(hw.fmt.frac as i32)).round() as i64;
    let lim = 1i64 << (hw.fmt.weight_bits - 1);
    if !(0..lim).contains(&kq) {
        bail!(
            "--k {k} is {kq} in the parameter format Q.{}, outside 0..{lim}: give a smaller K",
            hw.fmt.frac
        );
    }
    hw.k.iter_mut().for_each(|v| *v = kq);
    hw.theta0.iter_mut().for_each(|v| *v = 0);
    Ok((hw, spec))
}

/// The twin's retrieval from the initial phases `theta0`: the phases after
/// `steps` steps (no input, no nudge).
pub fn recall_twin(hw: &HwModel, theta0: &[u64], steps: u16) -> Vec<u64> {
    let mut h = hw.clone();
    h.theta0 = theta0.to_vec();
    let mut tw = Twin::new(&h);
    tw.load_input(&vec![0; hw.topo.inputs]);
    tw.set_nudge(0, None);
    for _ in 0..steps {
        tw.step();
    }
    tw.theta
}

/// A Hebbian device over its UART.
pub struct MemoryDevice<P: Read + Write> {
    pub dev: Device<P>,
    id: phasegen_sim::link::protocol::Identity,
    sched: Schedule,
}

impl<P: Read + Write> MemoryDevice<P> {
    /// The device on `dev`, which must be a Hebbian design of `hw`'s size;
    /// its parameters set to `hw`'s.
    pub fn new(mut dev: Device<P>, hw: &HwModel) -> Result<MemoryDevice<P>> {
        let id = dev.identify()?;
        if !id.imprints() {
            bail!("the device does not imprint patterns (Identify's blocks = {:#04x}): build the design with hardware.learning = \"hebbian\"", id.blocks);
        }
        if id.oscillators as usize != hw.n() || id.phase_bits as u32 != hw.fmt.phase_bits {
            bail!(
                "the device has {} oscillators of {} phase bits, this config's design {} of {}: build and load the design of this config",
                id.oscillators,
                id.phase_bits,
                hw.n(),
                hw.fmt.phase_bits
            );
        }
        let sched = Schedule::new(hw);
        let mut d = MemoryDevice { dev, id, sched };
        // (U cleared too: no field whatever the input RAM holds)
        for b in Block::ALL {
            if Schedule::writable(hw, b) {
                d.write(hw, b)?;
            }
        }
        Ok(d)
    }

    fn write(&mut self, hw: &HwModel, b: Block) -> Result<()> {
        self.dev
            .write_block(
                b,
                &self.sched.image(hw, b),
                self.sched.word_bytes(hw, b),
                None,
            )
            .with_context(|| format!("writing {} to the device", b.name()))?;
        Ok(())
    }

    pub fn imprint(&mut self, xi: &[bool]) -> Result<()> {
        let t = self.dev.timeout;
        self.dev.transact(Cmd::Imprint, &pattern_payload(xi), t)?;
        Ok(())
    }

    /// A retrieval: `hw` with initial phases `theta0` written, a Run of
    /// `steps`, the phases read.
    pub fn recall(&mut self, hw: &HwModel, theta0: &[u64], steps: u16) -> Result<Vec<u64>> {
        let mut h = hw.clone();
        h.theta0 = theta0.to_vec();
        self.write(&h, Block::Osc)?;
        let target = vec![false; hw.topo.classes()];
        self.dev.run(true, steps, 0, &target)?;
        let n = hw.n();
        let pb = phasegen_sim::link::protocol::phase_bytes(hw.fmt.phase_bits);
        let per = (255 / pb).min(255);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let c = per.min(n - out.len());
            let id = self.id;
            out.extend(self.dev.read_phases(&id, out.len() as u16, c as u8)?);
        }
        Ok(out)
    }
}

/// The readout: `+1` where the table's cosine is not negative.
fn bits(hw: &HwModel, theta: &[u64]) -> Vec<bool> {
    let tw = Twin::new(hw);
    theta.iter().map(|&t| tw.cos_of(t) >= 0).collect()
}

/// Imprints `pats` and retrieves each from `r.trials` corrupted starts, on
/// the twin and, given one, on the device. The report (Markdown).
pub fn run<P: Read + Write>(
    cfg: &Config,
    pats: &[Pattern],
    what: &str,
    r: &MemoryRun,
    device: Option<Device<P>>,
) -> Result<String> {
    let (mut hw, spec) = cleared(cfg, r.k)?;
    let n = hw.n();
    if let Some(p) = pats.iter().find(|p| p.len() != n) {
        bail!(
            "a pattern of {} bits for a memory of {n} oscillators",
            p.len()
        );
    }
    let mut dev = match device {
        Some(d) => Some(MemoryDevice::new(d, &hw)?),
        None => None,
    };
    let xis: Vec<Vec<bool>> = pats
        .iter()
        .map(|p| p.iter().map(|&v| v > 0).collect())
        .collect();
    let t0 = Instant::now();
    for xi in &xis {
        imprint(&mut hw, &spec, xi);
        if let Some(d) = dev.as_mut() {
            d.imprint(xi)?;
        }
    }
    let imprint_s = t0.elapsed().as_secs_f64();
    let mut md = String::new();
    writeln!(
        md,
        "Hebbian memory on chip ({}): {n} oscillators, {} patterns ({what}) imprinted, W moving {} LSB (Q.{}) per pattern and pair; {} retrievals per pattern from {:.0}% flipped bits, {} steps each{}.\n",
        cfg.name,
        pats.len(),
        spec.step,
        hw.fmt.w_frac,
        r.trials,
        100.0 * r.corrupt,
        r.steps,
        if dev.is_some() {
            ", on the device and on its twin"
        } else {
            ", on the twin"
        }
    )?;
    writeln!(md, "| pattern | mean overlap | exact |\n|---|---|---|")?;
    let (mut all_ov, mut all_ex, mut diffs) = (0.0, 0usize, 0usize);
    for (p, x) in pats.iter().enumerate() {
        let (mut ov, mut ex) = (0.0, 0usize);
        for t in 0..r.trials {
            let mut rng = Rng::stream(r.seed, (p * r.trials + t) as u64);
            let start = corrupt(x, r.corrupt, r.jitter, &mut rng);
            let theta0: Vec<u64> = start
                .iter()
                .map(|&v| phase_int(v, hw.fmt.phase_bits))
                .collect();
            let ph = recall_twin(&hw, &theta0, r.steps);
            if let Some(d) = dev.as_mut() {
                let got = d.recall(&hw, &theta0, r.steps)?;
                diffs += (got != ph) as usize;
            }
            let b = bits(&hw, &ph);
            let a: i64 = b
                .iter()
                .zip(x)
                .map(|(&s, &v)| if s { v as i64 } else { -(v as i64) })
                .sum();
            ov += a.unsigned_abs() as f64 / n as f64;
            ex += (a.unsigned_abs() as usize == n) as usize;
        }
        let tr = r.trials.max(1) as f64;
        writeln!(
            md,
            "| {p} | {:.3} | {:.0}% |",
            ov / tr,
            100.0 * ex as f64 / tr
        )?;
        all_ov += ov;
        all_ex += ex;
    }
    let total = (pats.len() * r.trials).max(1) as f64;
    writeln!(
        md,
        "| all | {:.3} | {:.0}% |",
        all_ov / total,
        100.0 * all_ex as f64 / total
    )?;
    if dev.is_some() {
        writeln!(
            md,
            "\nDevice against twin: {diffs} of {} retrievals differ in any phase bit; imprinting took {:.3} s over the UART ({:.1} ms a pattern).",
            pats.len() * r.trials,
            imprint_s,
            1e3 * imprint_s / pats.len().max(1) as f64
        )?;
        if diffs > 0 {
            bail!("{md}\nthe device's retrievals differ from its twin's in {diffs} cases");
        }
    }
    Ok(md)
}
