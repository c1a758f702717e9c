//! The sample store of a learning design (`hardware.store`): the training
//! set held on chip, so that an epoch runs with no UART traffic but its
//! answer (docs/learning.md "The training set on chip").
//!
//! The host writes each sample once (`StoreSample`: its inputs and its
//! label). `Epoch` then learns `count` stored samples, sample
//! `(first + k · stride) mod count` at step `k = 0 .. count − 1`, each
//! exactly as a `Learn` of that sample would, and answers how many free
//! classes equalled their labels. With `stride` coprime to `count` that is
//! a permutation of the first `count` samples; the host draws a new
//! `(first, stride)` every epoch ([`crate::link::onchip`]).
//!
//! The layout ([`StoreLayout`]) is defined here once, for the generator
//! (`pg_store`) and the twin: [`STORE_WORD_BITS`]-bit words (the UP5K's
//! SPRAM width), [`StoreLayout::ipw`] inputs per word (the largest power
//! of two whose `input_bits`-wide fields fit), sample `i`'s words at
//! `i · wps ..` (`wps` a power of two, so the address is `{i, word}`),
//! then one word per sample holding its label, from `cap · wps` on.

use crate::twin::learn::Learner;
use crate::twin::model::HwModel;
use anyhow::{bail, Result};

/// Bits of one store word.
pub const STORE_WORD_BITS: u32 = 16;

/// Where a store keeps what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLayout {
    /// Samples it holds (`hardware.store`).
    pub cap: usize,
    /// Inputs per sample.
    pub inputs: usize,
    /// Bits of one input.
    pub input_bits: u32,
    /// Inputs per word (a power of two).
    pub ipw: usize,
    /// Words per sample slot (a power of two, at least the words used).
    pub wps: usize,
}

impl StoreLayout {
    /// The layout of `hw`'s store, if it has one.
    pub fn of(hw: &HwModel) -> Option<StoreLayout> {
        let cap = hw.learn.as_ref()?.store;
        (cap > 0).then(|| StoreLayout::new(cap, hw.topo.inputs, hw.fmt.input_bits))
    }

    pub fn new(cap: usize, inputs: usize, input_bits: u32) -> StoreLayout {
        let fit = (STORE_WORD_BITS / input_bits.max(1)).max(1) as usize;
        let ipw = 1usize << fit.ilog2();
        let wps = inputs.div_ceil(ipw).max(1).next_power_of_two();
        StoreLayout {
            cap,
            inputs,
            input_bits,
            ipw,
            wps,
        }
    }

    /// Words a sample's inputs fill.
    pub fn words_used(&self) -> usize {
        self.inputs.div_ceil(self.ipw)
    }

    /// The address of word `w` of sample `i`.
    pub fn word_addr(&self, i: usize, w: usize) -> usize {
        i * self.wps + w
    }

    /// The address of sample `i`'s label.
    pub fn label_addr(&self, i: usize) -> usize {
        self.cap * self.wps + i
    }

    /// A sample's inputs as the store's words (input `k` in field
    /// `k mod ipw` of word `k / ipw`, field `f` at bits `f · input_bits`;
    /// unused bits 0): what `pg_top` writes on StoreSample.
    pub fn pack(&self, x: &[u64]) -> Vec<u64> {
        x.chunks(self.ipw)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0, |w, (f, &v)| w | v << (f as u32 * self.input_bits))
            })
            .collect()
    }

    /// Words in the store.
    pub fn depth(&self) -> usize {
        self.cap * (self.wps + 1)
    }

    /// Bits in the store.
    pub fn bits(&self) -> usize {
        self.depth() * STORE_WORD_BITS as usize
    }

    /// Checks a `StoreSample` of `nx` inputs at input `offset` into sample
    /// `index` with label `label` (below `classes`): the chunk holds whole
    /// words (it starts at a multiple of [`StoreLayout::ipw`] and ends at
    /// one or at the last input).
    pub fn check_write(
        &self,
        index: usize,
        label: usize,
        classes: usize,
        offset: usize,
        nx: usize,
    ) -> Result<()> {
        if index >= self.cap {
            bail!(
                "sample index {index} is past the store's {} samples",
                self.cap
            );
        }
        if label >= classes {
            bail!("label {label} is not below the {classes} classes");
        }
        let end = offset + nx;
        if nx == 0
            || end > self.inputs
            || !offset.is_multiple_of(self.ipw)
            || !(end.is_multiple_of(self.ipw) || end == self.inputs)
        {
            bail!(
                "inputs {offset}..{end} are not whole store words of {} inputs within the {} inputs",
                self.ipw,
                self.inputs
            );
        }
        Ok(())
    }

    /// Checks an `Epoch` of `count` samples from `first` by `stride`.
    pub fn check_epoch(&self, count: usize, first: usize, stride: usize) -> Result<()> {
        if count == 0 || count > self.cap || first >= count || stride >= count {
            bail!(
                "Epoch count = {count}, first = {first}, stride = {stride}: give 1 <= count <= {} and first, stride below count",
                self.cap
            );
        }
        Ok(())
    }
}

/// Sample `k` of an epoch of `count` from `first` by `stride`.
pub fn epoch_index(first: usize, stride: usize, count: usize, k: usize) -> usize {
    ((first as u128 + k as u128 * stride as u128) % count as u128) as usize
}

/// What a store holds: per sample its inputs and its label (zeros until
/// written).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleStore {
    pub layout: StoreLayout,
    pub x: Vec<Vec<u64>>,
    pub labels: Vec<usize>,
}

impl SampleStore {
    pub fn new(layout: StoreLayout) -> SampleStore {
        SampleStore {
            layout,
            x: vec![vec![0; layout.inputs]; layout.cap],
            labels: vec![0; layout.cap],
        }
    }

    /// A `StoreSample`: inputs `xs` at `offset` of sample `index`, its
    /// label `label` (checked by [`StoreLayout::check_write`]). A chunk
    /// that ends inside a word zeroes the rest of that word, as the
    /// device writes whole words; those are past the last input.
    pub fn write(
        &mut self,
        index: usize,
        label: usize,
        classes: usize,
        offset: usize,
        xs: &[u64],
    ) -> Result<()> {
        self.layout
            .check_write(index, label, classes, offset, xs.len())?;
        self.x[index][offset..offset + xs.len()].copy_from_slice(xs);
        self.labels[index] = label;
        Ok(())
    }

    /// An `Epoch` on `l`: the samples in the epoch's order, each learned
    /// as `Learn` would; the count of free classes equal to the labels.
    pub fn epoch(
        &self,
        l: &mut Learner,
        count: usize,
        first: usize,
        stride: usize,
    ) -> Result<usize> {
        self.layout.check_epoch(count, first, stride)?;
        Ok((0..count)
            .map(|k| epoch_index(first, stride, count, k))
            .filter(|&i| l.learn(&self.x[i], self.labels[i]) == self.labels[i])
            .count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_packs_whole_power_of_two_fields() {
        // the digits: 64 inputs of 4 bits, 4 per word, 16 words a sample
        let l = StoreLayout::new(1437, 64, 4);
        assert_eq!((l.ipw, l.wps, l.words_used()), (4, 16, 16));
        assert_eq!(l.label_addr(0), 1437 * 16);
        assert_eq!(l.depth(), 1437 * 17);
        // 3-bit inputs: 5 would fit, 4 are used; 784 of them take 196
        // words in a 256-word slot
        let l = StoreLayout::new(10, 784, 3);
        assert_eq!((l.ipw, l.words_used(), l.wps), (4, 196, 256));
        // 8 bits: two a word; 1 bit: sixteen
        assert_eq!(StoreLayout::new(1, 10, 8).ipw, 2);
        assert_eq!(StoreLayout::new(1, 10, 1).ipw, 16);
        let l = StoreLayout::new(2, 6, 4);
        assert_eq!(l.pack(&[1, 2, 3, 4, 5, 6]), [0x4321, 0x65]);
    }

    #[test]
    fn writes_must_be_whole_words_and_in_range() {
        let l = StoreLayout::new(4, 10, 4);
        assert!(l.check_write(3, 9, 10, 0, 10).is_ok());
        assert!(l.check_write(0, 0, 10, 4, 4).is_ok());
        assert!(
            l.check_write(0, 0, 10, 8, 2).is_ok(),
            "ends at the last input"
        );
        for (i, lab, off, nx) in [
            (4, 0, 0, 4),
            (0, 10, 0, 4),
            (0, 0, 2, 4),
            (0, 0, 0, 3),
            (0, 0, 8, 3),
            (0, 0, 0, 0),
        ] {
            assert!(
                l.check_write(i, lab, 10, off, nx).is_err(),
                "{i} {lab} {off} {nx}"
            );
        }
        assert!(l.check_epoch(4, 3, 3).is_ok());
        for (c, f, s) in [(0, 0, 0), (5, 0, 1), (4, 4, 1), (4, 0, 4)] {
            assert!(l.check_epoch(c, f, s).is_err(), "{c} {f} {s}");
        }
    }

    #[test]
    fn a_coprime_stride_visits_every_sample_once() {
        let mut seen: Vec<usize> = (0..10).map(|k| epoch_index(7, 3, 10, k)).collect();
        assert_eq!(seen[..3], [7, 0, 3]);
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        // not coprime: some samples twice
        let s: std::collections::BTreeSet<usize> =
            (0..10).map(|k| epoch_index(0, 4, 10, k)).collect();
        assert_eq!(s.len(), 5);
    }
}
