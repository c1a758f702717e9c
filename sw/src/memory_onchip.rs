//! `phasegen memory --onchip`: the fully connected memory learns its
//! patterns on chip (docs/learning.md "The memory learns on chip"). The
//! host clears W, sets the oscillator constants (K, no field), and the
//! device learns the patterns:
//! - a Hebbian design (`hardware.learning = "hebbian"`): each pattern sent
//!   once (`Imprint`, `phasegen_sim::twin::hebb`);
//! - a learning memory (`hardware.learning = "ep"`, `hardware.nudge =
//!   "pattern"`): EP epochs, every pattern from fresh corrupted starts, the
//!   start written as the initial phases and a `LearnPattern`
//!   (`phasegen_sim::twin::learn`); then W is read back.
//!
//! Then it retrieves every pattern from corrupted starts: the start
//! written as the initial phases, a Run, ReadPhases. On the twin or on a
//! device over its UART; with a device, the twin runs beside it and every
//! answer, W and every retrieval's phases must be the twin's, bit for bit.

use crate::device::Device;
use anyhow::{bail, Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::link::protocol::{Block, Cmd};
use phasegen_sim::onn::memory::{corrupt, Pattern};
use phasegen_sim::onn::net::Params;
use phasegen_sim::rng::Rng;
use phasegen_sim::twin::hebb::{imprint, pattern_payload};
use phasegen_sim::twin::learn::Learner;
use phasegen_sim::twin::memory::phase_int;
use phasegen_sim::twin::model::{HebbSpec, HwModel, LearnSpec, Twin};
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
    /// The frequency mismatch `δω_i ~ N(0, dispersion²)` (rad per unit
    /// time), drawn once from the seed as `phasegen memory` draws it.
    pub dispersion: f32,
    pub seed: u64,
}

/// How a design learns its patterns on chip.
#[derive(Debug, Clone)]
pub enum OnChipRule {
    /// Imprint (`hardware.learning = "hebbian"`).
    Hebb(HebbSpec),
    /// LearnPattern (`hardware.learning = "ep"`, `nudge = "pattern"`).
    Ep(LearnSpec),
}

/// EP training on chip: passes over the patterns, each from `starts`
/// fresh corrupted starts (`corrupt` of the bits flipped, the retrieval's
/// jitter), with second-harmonic locking `k`.
pub struct EpRun {
    pub epochs: usize,
    pub starts: usize,
    pub corrupt: f64,
    pub k: f64,
}

/// K in the parameter format of `hw`.
fn k_int(hw: &HwModel, k: f64) -> Result<i64> {
    let kq = (k * 2f64.powi(hw.fmt.frac as i32)).round() as i64;
    let lim = 1i64 << (hw.fmt.weight_bits - 1);
    if !(0..lim).contains(&kq) {
        bail!(
            "K = {k} is {kq} in the parameter format Q.{}, outside 0..{lim}: give a smaller K (--k, --ep-k)",
            hw.fmt.frac
        );
    }
    Ok(kq)
}

/// The learning memory of `cfg` as the host powers it up: W cleared, no
/// field, K set, θ0 = 0.
pub fn cleared(cfg: &Config, k: f64, dispersion: f32, seed: u64) -> Result<(HwModel, OnChipRule)> {
    let mut p = Params::init(cfg);
    p.domega = phasegen_sim::onn::memory::mismatch(p.domega.len(), dispersion, seed);
    let mut hw = quantize(cfg, &p, 1)?.0;
    let rule = match (&hw.hebb, &hw.learn) {
        (Some(spec), _) => OnChipRule::Hebb(*spec),
        (None, Some(spec)) if spec.pattern => OnChipRule::Ep(spec.clone()),
        _ => bail!("{}: not a learning memory: set hardware.learning = \"hebbian\", or \"ep\" with hardware.nudge = \"pattern\" (a fully connected layer, params = \"ram\")", cfg.name),
    };
    for r in hw.rows.iter_mut() {
        for t in r.iter_mut() {
            t.1 = 0;
        }
    }
    hw.h.iter_mut().for_each(|v| *v = 0);
    hw.u.iter_mut().for_each(|v| *v = 0);
    let kq = k_int(&hw, k)?;
    hw.k.iter_mut().for_each(|v| *v = kq);
    hw.theta0.iter_mut().for_each(|v| *v = 0);
    Ok((hw, rule))
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
        let ep = hw.learn.is_some();
        if ep && !id.learns_patterns() {
            bail!("the device does not learn patterns (Identify's blocks = {:#04x}): build the design with hardware.learning = \"ep\" and hardware.nudge = \"pattern\"", id.blocks);
        }
        if !ep && !id.imprints() {
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
        // the inputs 0 (U is cleared: no field whatever they are; a
        // learning step's twin takes them as written)
        dev.write_input(&vec![0; hw.topo.inputs])?;
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

    /// A learning step: `hw` with initial phases `theta0` written (its
    /// oscillator block), LearnPattern of `xi`; the agreement.
    pub fn learn(&mut self, hw: &HwModel, theta0: &[u64], xi: &[bool]) -> Result<i64> {
        let mut h = hw.clone();
        h.theta0 = theta0.to_vec();
        self.write(&h, Block::Osc)?;
        self.dev.learn_pattern(xi)
    }

    /// W as the device computes with it, in WriteWeights' layout.
    pub fn read_w(&mut self, hw: &HwModel) -> Result<Vec<u8>> {
        let wb = self.sched.word_bytes(hw, Block::W);
        let words = self.sched.block_words(hw, Block::W);
        self.dev.read_block(Block::W, words, wb)
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

/// The training starts' stream: epoch `e`, pattern `p`, start `s` (apart
/// from the retrievals' streams `p · trials + t`).
fn train_stream(seed: u64, e: usize, p: usize, s: usize, pats: usize, starts: usize) -> Rng {
    Rng::stream(seed, (1u64 << 40) + ((e * pats + p) * starts + s) as u64)
}

/// A start `x` corrupted by `rng` as the design's initial phases.
fn start_of(hw: &HwModel, x: &Pattern, corrupt_frac: f64, jitter: f32, rng: &mut Rng) -> Vec<u64> {
    corrupt(x, corrupt_frac, jitter, rng)
        .iter()
        .map(|&v| phase_int(v, hw.fmt.phase_bits))
        .collect()
}

/// EP on chip: `ep.epochs` passes over `xis`, on the twin's [`Learner`]
/// and, given one, the device (each agreement equal to the twin's, and W
/// read back equal at the end). The learned couplings (K reset to the
/// cleared design's) and the per-epoch log (Markdown).
fn train_ep<P: Read + Write>(
    hw: &HwModel,
    spec: &LearnSpec,
    pats: &[Pattern],
    xis: &[Vec<bool>],
    r: &MemoryRun,
    ep: &EpRun,
    dev: Option<&mut MemoryDevice<P>>,
) -> Result<(HwModel, String)> {
    let n = hw.n();
    let mut h = hw.clone();
    let kq = k_int(hw, ep.k)?;
    h.k.iter_mut().for_each(|v| *v = kq);
    let mut l = Learner::new(h, spec.clone());
    let sched = Schedule::new(hw);
    let x0 = vec![0; hw.topo.inputs];
    let mut dev = dev;
    let mut log = String::from("| epoch | free states: mean overlap | exact |\n|---|---|---|\n");
    for e in 0..ep.epochs {
        let (mut ov, mut ex) = (0.0, 0usize);
        for (p, (x, xi)) in pats.iter().zip(xis).enumerate() {
            for s in 0..ep.starts {
                let mut rng = train_stream(r.seed, e, p, s, pats.len(), ep.starts);
                let theta0 = start_of(hw, x, ep.corrupt, r.jitter, &mut rng);
                let mut h = l.hw.clone();
                h.theta0 = theta0.clone();
                l.host_write(Block::Osc, 0, &sched.image(&h, Block::Osc));
                let m = l.learn_pattern(&x0, xi);
                if let Some(d) = dev.as_deref_mut() {
                    let got = d.learn(&l.hw, &theta0, xi)?;
                    if got != m {
                        bail!("epoch {e}, pattern {p}, start {s}: the device's LearnPattern answered agreement {got}, its twin {m}");
                    }
                }
                ov += m.unsigned_abs() as f64 / n as f64;
                ex += (m.unsigned_abs() as usize == n) as usize;
            }
        }
        let tot = (pats.len() * ep.starts).max(1) as f64;
        writeln!(
            log,
            "| {} | {:.3} | {:.0}% |",
            e + 1,
            ov / tot,
            100.0 * ex as f64 / tot
        )?;
    }
    if let Some(d) = dev {
        let got = d.read_w(&l.hw)?;
        if got != sched.image(&l.hw, Block::W) {
            bail!("the device's W read back after training differs from its twin's");
        }
        writeln!(log, "\nW read back from the device equals its twin's.")?;
    }
    let mut out = l.hw;
    out.k = hw.k.clone();
    out.theta0 = hw.theta0.clone();
    Ok((out, log))
}

/// Stores `pats` (Imprint, or EP epochs `ep`) and retrieves each from
/// `r.trials` corrupted starts, on the twin and, given one, on the device.
/// The report (Markdown).
pub fn run<P: Read + Write>(
    cfg: &Config,
    pats: &[Pattern],
    what: &str,
    r: &MemoryRun,
    ep: &EpRun,
    device: Option<Device<P>>,
) -> Result<String> {
    let (mut hw, rule) = cleared(cfg, r.k, r.dispersion, r.seed)?;
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
    let where_ = if dev.is_some() {
        ", on the device and on its twin"
    } else {
        ", on the twin"
    };
    let mut md = String::new();
    let mut train_log = String::new();
    match &rule {
        OnChipRule::Hebb(spec) => {
            for xi in &xis {
                imprint(&mut hw, spec, xi);
                if let Some(d) = dev.as_mut() {
                    d.imprint(xi)?;
                }
            }
            writeln!(
                md,
                "Hebbian memory on chip ({}): {n} oscillators, {} patterns ({what}) imprinted, W moving {} LSB (Q.{}) per pattern and pair; {} retrievals per pattern from {:.0}% flipped bits, {} steps each{where_}.\n",
                cfg.name,
                pats.len(),
                spec.step,
                hw.fmt.w_frac,
                r.trials,
                100.0 * r.corrupt,
                r.steps,
            )?;
        }
        OnChipRule::Ep(spec) => {
            let (learned, log) = train_ep(&hw, spec, pats, &xis, r, ep, dev.as_mut())?;
            hw = learned;
            train_log = log;
            writeln!(
                md,
                "EP memory on chip ({}): {n} oscillators, {} patterns ({what}) learned in {} epochs of {} start(s) per pattern ({:.0}% flipped, K = {}; {} free and {} nudged steps at β = {} in Q.{}, {}); {} retrievals per pattern from {:.0}% flipped bits, K = {}, {} steps each{where_}.\n",
                cfg.name,
                pats.len(),
                ep.epochs,
                ep.starts,
                100.0 * ep.corrupt,
                ep.k,
                spec.t1,
                spec.t2,
                spec.beta,
                hw.fmt.frac,
                if spec.symmetric { "symmetric" } else { "one-sided" },
                r.trials,
                100.0 * r.corrupt,
                r.k,
                r.steps,
            )?;
        }
    }
    let learn_s = t0.elapsed().as_secs_f64();
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
    if !train_log.is_empty() {
        writeln!(
            md,
            "\nTraining (the free states' agreement, as the device answered):\n\n{train_log}"
        )?;
    }
    if dev.is_some() {
        writeln!(
            md,
            "\nDevice against twin: {diffs} of {} retrievals differ in any phase bit; learning took {:.3} s over the UART ({:.1} ms a pattern{}).",
            pats.len() * r.trials,
            learn_s,
            1e3 * learn_s / (pats.len() * ep_steps(&rule, ep)).max(1) as f64,
            if matches!(rule, OnChipRule::Ep(_)) { " and start" } else { "" }
        )?;
        if diffs > 0 {
            bail!("{md}\nthe device's retrievals differ from its twin's in {diffs} cases");
        }
    }
    Ok(md)
}

/// Learning steps per pattern: one Imprint, or EP's epochs × starts.
fn ep_steps(rule: &OnChipRule, ep: &EpRun) -> usize {
    match rule {
        OnChipRule::Hebb(_) => 1,
        OnChipRule::Ep(_) => ep.epochs * ep.starts,
    }
}
