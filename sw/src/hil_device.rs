//! Equilibrium Propagation with a device in the loop: every settle runs on
//! the FPGA (or the simulated design on a pseudo-terminal) over the UART.
//! Per mini-batch the host quantizes its float parameters exactly as the
//! twin backend does, writes the blocks that changed (`hardware.params =
//! "ram"`), and per sample writes the input, runs free from the initial
//! phases, reads the phases, runs nudged on from there, reads them again
//! (symmetric nudging: a second free run, the same integers, then `−β`),
//! and computes the EP update from the phases with the twin backend's code
//! ([`phasegen_sim::link::hil::ep_from_states`]). The device computes bit for bit
//! what the twin does, so a device run gives the twin run's parameters.

use crate::device::Device;
use anyhow::{bail, Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::link::hil::{
    ep_from_states, evaluate_from_phases, hw_beta, pixels, twin_states, States, TwinBackend,
};
use phasegen_sim::link::protocol::{phase_bytes, Block, Identity};
use phasegen_sim::onn::float::Settle;
use phasegen_sim::onn::net::Params;
use phasegen_sim::onn::train::{Backend, BatchGrad, EpSettings, Inputs};
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::sched::Schedule;
use std::io::{Read, Write};

pub struct DeviceBackend<P: Read + Write> {
    dev: Device<P>,
    id: Identity,
    /// Quantizes exactly as `--backend twin` does.
    twin: TwinBackend,
    /// The image of each block the device holds (None: not written yet).
    held: Vec<Option<Vec<u8>>>,
    /// The device's phases were checked against the twin once.
    checked: bool,
    /// WriteWeights frames sent.
    pub frames: usize,
}

impl<P: Read + Write> DeviceBackend<P> {
    /// Identify the device and check it is a design of `cfg` with writable
    /// parameters; `max_pixel` as for [`TwinBackend::new`].
    pub fn new(cfg: &Config, max_pixel: u8, mut dev: Device<P>) -> Result<DeviceBackend<P>> {
        let twin = TwinBackend::new(cfg, max_pixel).context("the device backend")?;
        let hw = twin.quantized(&Params::init(cfg))?;
        let id = dev.identify()?;
        let want = phasegen_hdl::top::identity(&hw, id.design_id);
        let fields = [
            ("inputs", id.inputs as u64, want.inputs as u64),
            (
                "oscillators",
                id.oscillators as u64,
                want.oscillators as u64,
            ),
            ("classes", id.classes as u64, want.classes as u64),
            ("phase_bits", id.phase_bits as u64, want.phase_bits as u64),
            (
                "weight_bits",
                id.weight_bits as u64,
                want.weight_bits as u64,
            ),
            ("input_bits", id.input_bits as u64, want.input_bits as u64),
        ];
        for (name, got, exp) in fields {
            if got != exp {
                bail!(
                    "the device (design {:08x}) has {name} = {got}, config {} needs {exp}: build and load the bitstream of this config (with hardware.params = \"ram\")",
                    id.design_id,
                    cfg.name
                );
            }
        }
        if id.frac != want.frac {
            bail!(
                "the device (design {:08x}) computes with {} fractional parameter bits, config {} quantizes to {}: set hardware.weight_frac = {} in the config (and build the device from it)",
                id.design_id,
                id.frac,
                cfg.name,
                want.frac,
                id.frac
            );
        }
        let missing: Vec<&str> = Block::ALL
            .iter()
            .filter(|&&b| !id.writable(b))
            .map(|b| b.name())
            .collect();
        if !missing.is_empty() {
            bail!(
                "the device (design {:08x}) cannot write {}: build it with hardware.params = \"ram\" to train it",
                id.design_id,
                missing.join(", ")
            );
        }
        Ok(DeviceBackend {
            dev,
            id,
            twin,
            held: vec![None; Block::ALL.len()],
            checked: false,
            frames: 0,
        })
    }

    /// Quantize `p` and write every block whose image changed.
    fn load(&mut self, p: &Params) -> Result<HwModel> {
        let hw = self.twin.quantized(p)?;
        if hw.fmt.frac != self.id.frac as u32 {
            bail!(
                "the parameters quantize to {} fractional bits but the device has {}: set hardware.weight_frac = {}",
                hw.fmt.frac,
                self.id.frac,
                self.id.frac
            );
        }
        let sched = Schedule::new(&hw);
        for (k, b) in Block::ALL.into_iter().enumerate() {
            let image = sched.image(&hw, b);
            let sent = self.dev.write_block(
                b,
                &image,
                sched.word_bytes(&hw, b),
                self.held[k].as_deref(),
            )?;
            self.frames += sent;
            self.held[k] = Some(image);
        }
        Ok(hw)
    }

    fn read_all(&mut self) -> Result<Vec<u64>> {
        let n = self.id.oscillators as usize;
        let per = (255 / phase_bytes(self.id.phase_bits as u32)).min(255);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let count = per.min(n - out.len());
            let id = self.id;
            out.extend(self.dev.read_phases(&id, out.len() as u16, count as u8)?);
        }
        Ok(out)
    }

    fn steps(n: usize, what: &str) -> Result<u16> {
        u16::try_from(n)
            .ok()
            .filter(|&s| s > 0)
            .with_context(|| format!("{what} = {n} steps: a device run takes 1..=65535"))
    }

    /// The states of one sample, settled by the device (see [`States`]).
    fn settle(
        &mut self,
        hw: &HwModel,
        x: &[f32],
        label: usize,
        beta: i64,
        ep: &EpSettings,
    ) -> Result<States> {
        let t1 = Self::steps(ep.free.steps, "train.t1")?;
        let t2 = Self::steps(ep.nudged.steps, "train.t2")?;
        let classes = self.id.classes as usize;
        let none = vec![false; classes];
        let target: Vec<bool> = (0..classes).map(|o| o == label).collect();
        self.dev.write_input(&pixels(hw, x))?;
        self.dev.run(true, t1, 0, &none)?;
        let free = self.read_all()?;
        self.dev.run(false, t2, beta, &target)?;
        let a = self.read_all()?;
        let b = if ep.symmetric {
            // from the same free state: the free run again (the same integers)
            self.dev.run(true, t1, 0, &none)?;
            self.dev.run(false, t2, -beta, &target)?;
            self.read_all()?
        } else {
            free.clone()
        };
        Ok([free, a, b])
    }
}

impl<P: Read + Write> Backend for DeviceBackend<P> {
    fn name(&self) -> &'static str {
        "device"
    }

    fn ep_batch(
        &mut self,
        p: &Params,
        data: &Inputs,
        idx: &[usize],
        ep: &EpSettings,
    ) -> Result<BatchGrad> {
        let hw = self.load(p)?;
        let (b, den) = hw_beta(&hw, ep)?;
        let mut states = Vec::with_capacity(idx.len());
        for &i in idx {
            let s = self.settle(&hw, data.row(i), data.labels[i], b, ep)?;
            if !self.checked {
                // once: the device computes what this config's twin does
                // (formats Identify does not report: table, amplitude and
                // drive bits, the Euler step, lanes, ω0)
                let t = twin_states(
                    &hw,
                    data.row(i),
                    data.labels[i],
                    b,
                    ep.symmetric,
                    ep.free.steps,
                    ep.nudged.steps,
                );
                if t != s {
                    bail!(
                        "the device (design {:08x}) settles differently from the twin of this config: build and load the bitstream of this config (its table, amplitude and drive bits, lanes and omega0 must match)",
                        self.id.design_id
                    );
                }
                self.checked = true;
            }
            states.push(s);
        }
        Ok(ep_from_states(p, data, idx, ep, &hw, den, &states))
    }

    fn evaluate(
        &mut self,
        p: &Params,
        data: &Inputs,
        s: &Settle,
        _seed: u64,
    ) -> Result<(f64, f64)> {
        let hw = self.load(p)?;
        let steps = Self::steps(s.steps, "the evaluation's settle")?;
        let none = vec![false; self.id.classes as usize];
        let mut free = Vec::with_capacity(data.len());
        for i in 0..data.len() {
            self.dev.write_input(&pixels(&hw, data.row(i)))?;
            self.dev.run(true, steps, 0, &none)?;
            free.push(self.read_all()?);
        }
        Ok(evaluate_from_phases(p, data, hw.fmt.phase_bits, &free))
    }
}
