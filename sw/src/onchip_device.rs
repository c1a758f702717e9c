//! A learning device over the UART (`phasegen train --backend device
//! --onchip`): the host writes each sample's inputs, sends `Learn` with its
//! label and counts the classes; after each epoch it reads the parameters
//! back with `ReadWeights` (docs/learning.md, docs/protocol.md). A design
//! with a sample store gets the training set once (`StoreSample`) and one
//! `Epoch` per epoch.

use crate::device::Device;
use anyhow::{bail, Context, Result};
use phasegen_sim::link::onchip::LearningDevice;
use phasegen_sim::link::protocol::Block;
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::sched::Schedule;
use phasegen_sim::twin::store::StoreLayout;
use std::io::{Read, Write};

pub struct DeviceLearner<P: Read + Write> {
    dev: Device<P>,
    /// The design's model: sizes, formats and the parameters last read.
    hw: HwModel,
    /// Its sample store's layout, if it has one.
    store: Option<StoreLayout>,
}

impl<P: Read + Write> DeviceLearner<P> {
    /// The device on `dev`, which must be a learning design of `hw`'s
    /// sizes and formats (Identify says so, or the error names what
    /// differs).
    pub fn new(mut dev: Device<P>, hw: &HwModel) -> Result<DeviceLearner<P>> {
        let id = dev.identify()?;
        if !id.learns() {
            bail!("the device does not learn on chip (Identify's blocks = {:#04x}): build the design with hardware.learning = \"ep\"", id.blocks);
        }
        let f = &hw.fmt;
        let want = [
            ("inputs", id.inputs as usize, hw.topo.inputs),
            ("oscillators", id.oscillators as usize, hw.n()),
            ("classes", id.classes as usize, hw.topo.classes()),
            ("phase bits", id.phase_bits as usize, f.phase_bits as usize),
            (
                "weight bits",
                id.weight_bits as usize,
                f.weight_bits as usize,
            ),
            ("fraction bits", id.frac as usize, f.frac as usize),
            ("input bits", id.input_bits as usize, f.input_bits as usize),
        ];
        for (what, got, exp) in want {
            if got != exp {
                bail!("the device has {got} {what}, this config's design {exp}: build and load the design of this config");
            }
        }
        let store = StoreLayout::of(hw);
        if store.is_some() != id.stores() {
            bail!(
                "the device {} a sample store and this config's design {}: build and load the design of this config",
                if id.stores() { "has" } else { "has no" },
                if store.is_some() { "has one (hardware.store)" } else { "has none" }
            );
        }
        // the parameters the twin starts from (the shadows follow)
        let sched = Schedule::new(hw);
        for b in Block::ALL {
            dev.write_block(b, &sched.image(hw, b), sched.word_bytes(hw, b), None)
                .with_context(|| format!("writing {} to the device", b.name()))?;
        }
        Ok(DeviceLearner {
            dev,
            hw: hw.clone(),
            store,
        })
    }
}

impl<P: Read + Write> LearningDevice for DeviceLearner<P> {
    fn name(&self) -> &'static str {
        "device"
    }

    fn learn(&mut self, x: &[u64], label: usize) -> Result<usize> {
        self.dev.write_input(x)?;
        self.dev.learn(label)
    }

    fn store(&mut self, index: usize, x: &[u64], label: usize) -> Result<()> {
        let l = self
            .store
            .context("the design has no sample store: set hardware.store")?;
        l.check_write(index, label, self.hw.topo.classes(), 0, x.len())?;
        self.dev.store_sample(index, x, label, l.ipw)
    }

    fn epoch(&mut self, count: usize, first: usize, stride: usize) -> Result<usize> {
        let l = self
            .store
            .context("the design has no sample store: set hardware.store")?;
        l.check_epoch(count, first, stride)?;
        self.dev.epoch(count, first, stride)
    }

    fn model(&mut self) -> Result<HwModel> {
        let sched = Schedule::new(&self.hw);
        for b in Block::ALL {
            let (words, wb) = (
                sched.block_words(&self.hw, b),
                sched.word_bytes(&self.hw, b),
            );
            let img = self
                .dev
                .read_block(b, words, wb)
                .with_context(|| format!("reading {} back", b.name()))?;
            sched.apply(&mut self.hw, b, 0, &img);
        }
        Ok(self.hw.clone())
    }
}
