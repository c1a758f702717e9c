//! The **pairs stream** (`hardware.coupling = "pairs"`): the coupling
//! stream of a fully connected network that stores and reads each pair's
//! weight once, for half the weight memory and half the cycles of the rows
//! stream ([`crate::twin::sched`]).
//!
//! The oscillators are cut into groups of `L` consecutive rows from 0 (the
//! last one shorter). Group `g` streams the neighbours `j = first .. n-1`,
//! one word per `j` holding `W_{first+l, j}` for each lane `l`:
//!
//! - **gather**, as in the rows stream: lane `l` accumulates
//!   `W_{first+l, j} (cos, sin) θ_j` into its row's sums (all `j` of the
//!   group's own tile and beyond, not the diagonal);
//! - **capture**: the words of the group's own tile (`j = first + l`) give
//!   lane `l` the sin and cos of its own phase (the same table look-up, so
//!   the same numbers as row `j`'s gather);
//! - **scatter**, for `j` past the group's tile: the lanes' products
//!   `W_{first+l, j} (cos, sin) θ_{first+l}` (the same weights, their own
//!   phases) are summed over the lanes into the **partial sums of row
//!   `j`**, a RAM of `n` words read, added and written back. The first
//!   group stores instead of adding, so the RAM needs no clearing.
//!
//! Row `i` of group `g` thus gets `W_ij` for `j ≥ first` from its gather and
//! for `j < first` (every earlier group) from the partial sums, which the
//! drive sequencer adds to its gather sums (rows of the first group have
//! none). Every product is exact and every sum is an exact integer sum of the
//! same products as the twin's `C_i = Σ_j W_ij cos θ_j`, so the order does not
//! matter and the result is the twin's, bit for bit.
//!
//! A group of fewer than `2L` words would reach the drive sequencer before it
//! is done with the previous group; such a group (only the last ones: group
//! `g` has `n - first` words) starts its stream earlier, at
//! `j = n - 2L`, with **null** words (no lane entry, no capture, no scatter)
//! before its first row. Everything is made by two counters (`j` and the
//! group's first row), so nothing of size `n²` is stored but the weights.

use super::stream::{Scatter, SEQ_CYCLES};

/// Cycles from issuing a scatter word to the sample of its read of row `j`'s
/// partial sums (at the end of that cycle): ROM, phase RAM, table,
/// products, then the read beside the first adder level.
pub const SCAT_READ: usize = 4;
/// Cycles from issuing a scatter word to the write of row `j`'s partial
/// sums (at the end of that cycle).
pub const SCAT_WRITE: usize = 5;

/// The pairs stream's counters: `n` oscillators in groups of `lanes`, `lead`
/// bubbles at the start of a step, groups at least `min_len` words long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairStream {
    pub n: usize,
    pub lanes: usize,
    pub lead: usize,
    pub min_len: usize,
}

/// The counters for one word: its neighbour and its group's first row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairState {
    pub j: usize,
    pub first: usize,
}

/// A word's control, as the counters make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairCtl {
    pub j: usize,
    pub mask: u64,
    pub cap: Option<usize>,
    pub scat: Scatter,
    pub last: bool,
}

impl PairStream {
    /// The stream of `n` oscillators on `lanes` lanes (`n ≥ 2 × lanes`, as
    /// `hardware.coupling = "pairs"` requires).
    pub fn new(n: usize, lanes: usize, lead: usize) -> PairStream {
        let min_len = SEQ_CYCLES * lanes;
        assert!(n >= min_len, "a pairs stream needs n >= {min_len}");
        PairStream {
            n,
            lanes,
            lead,
            min_len,
        }
    }

    /// Rows of the group starting at `first`.
    pub fn rows(&self, first: usize) -> usize {
        self.lanes.min(self.n - first)
    }

    /// The first word's neighbour of the group starting at `first`.
    pub fn j_start(&self, first: usize) -> usize {
        first.min(self.n - self.min_len)
    }

    /// The step's first body word.
    pub fn start(&self) -> PairState {
        PairState { j: 0, first: 0 }
    }

    /// The counters after the word of state `s` (within a step).
    pub fn advance(&self, s: PairState) -> PairState {
        if s.j == self.n - 1 {
            let first = s.first + self.lanes;
            PairState {
                j: self.j_start(first),
                first,
            }
        } else {
            PairState {
                j: s.j + 1,
                first: s.first,
            }
        }
    }

    /// The word of state `s`.
    pub fn word(&self, s: PairState) -> PairCtl {
        if s.j < s.first {
            return PairCtl {
                j: s.j,
                mask: 0,
                cap: None,
                scat: Scatter::Off,
                last: false,
            };
        }
        let rows = self.rows(s.first);
        let d = s.j - s.first;
        let mask = (0..rows).filter(|&l| l != d).fold(0u64, |m, l| m | 1 << l);
        let scat = if d < rows {
            Scatter::Off
        } else if s.first == 0 {
            Scatter::Store
        } else {
            Scatter::Add
        };
        PairCtl {
            j: s.j,
            mask,
            cap: (d < rows).then_some(d),
            scat,
            last: s.j == self.n - 1,
        }
    }

    /// Words of one step without the lead bubbles.
    pub fn body_len(&self) -> usize {
        (0..self.n)
            .step_by(self.lanes)
            .map(|f| self.n - self.j_start(f))
            .sum()
    }

    /// The step's words: `lead` bubbles (the start state's `j`, nothing
    /// active), then the groups' words.
    pub fn words(&self) -> Vec<PairCtl> {
        let len = self.lead + self.body_len();
        let mut s = self.start();
        let mut v = Vec::with_capacity(len);
        for e in 0..len {
            if e < self.lead {
                v.push(PairCtl {
                    j: s.j,
                    mask: 0,
                    cap: None,
                    scat: Scatter::Off,
                    last: false,
                });
            } else {
                v.push(self.word(s));
                if e + 1 < len {
                    s = self.advance(s);
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Coupling};
    use crate::onn::net::Params;
    use crate::twin::model::HwModel;
    use crate::twin::quant::quantize;
    use crate::twin::sched::Schedule;

    fn model(layers: &[usize], lanes: u32) -> HwModel {
        let mut c = Config::default_config();
        c.network.inputs = 5;
        c.network.layers = layers.to_vec();
        c.network.intralayer = true;
        c.hardware.lanes = lanes;
        c.hardware.coupling = Coupling::Pairs;
        quantize(&c, &Params::init(&c), 16).unwrap().0
    }

    /// Each row's coupling sum, replayed from the words: its gather entries
    /// plus the scatter words into it give every entry of the row once, with
    /// its weight.
    #[test]
    fn pairs_streams_cover_every_pair_and_keep_the_timing_rules() {
        for &(layers, lanes) in &[
            (&[6usize, 10][..], 1),
            (&[6, 10], 2),
            (&[6, 10], 4),
            (&[14, 10], 8),
            (&[3, 5], 3),
            (&[30, 10], 16),
            (&[9, 3], 5),
        ] {
            let hw = model(layers, lanes);
            let s = Schedule::new(&hw);
            assert!(s.pairs.is_some());
            s.check().unwrap();
            let n = hw.n();
            let mut rows: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
            let mut g = 0;
            for w in &s.words {
                let gr = s.groups[g];
                for l in 0..s.lanes {
                    if w.mask >> l & 1 == 1 {
                        assert!(l < gr.rows);
                        rows[gr.first + l].push((w.j, w.w[l]));
                        if w.scat != Scatter::Off {
                            rows[w.j].push((gr.first + l, w.w[l]));
                        }
                    } else {
                        assert_eq!(w.w[l], 0);
                    }
                }
                g += w.last as usize;
            }
            for r in rows.iter_mut() {
                r.sort_unstable();
            }
            assert_eq!(rows, hw.rows, "{layers:?} on {lanes} lanes");
            assert_eq!(s.entries(), hw.nnz());
            // half the rows stream's words, about
            let body = s.words.len() - s.lead;
            let half = n * (n + lanes as usize) / (2 * lanes as usize);
            assert!(
                body <= half + 2 * (lanes as usize).pow(2),
                "{body} words for {half}"
            );
        }
    }

    /// Each timing rule of the pairs stream is checked: breaking one is an
    /// error that names it.
    #[test]
    fn broken_pairs_streams_are_refused() {
        let hw = model(&[14, 10], 4);
        let s = Schedule::new(&hw);
        let first_scatter =
            |s: &Schedule, m: Scatter| s.words.iter().position(|w| w.scat == m).unwrap();
        // a scatter before its group's captures
        let mut t = s.clone();
        let u = first_scatter(&t, Scatter::Store);
        let c = t.words[..u].iter().rposition(|w| w.cap.is_some()).unwrap();
        t.words[c].cap = None;
        assert!(t.check().unwrap_err().contains("before every lane"));
        // an add with no store before it
        let mut t = s.clone();
        let u = first_scatter(&t, Scatter::Store);
        t.words[u].scat = Scatter::Add;
        assert!(t.check().unwrap_err().contains("before a store"));
        // two writes of the same row's sums a cycle apart
        let mut t = s.clone();
        let u = (1..t.words.len())
            .find(|&u| t.words[u].scat == Scatter::Add && t.words[u - 1].scat == Scatter::Add)
            .unwrap();
        t.words[u].j = t.words[u - 1].j;
        let e = t.check().unwrap_err();
        assert!(
            e.contains("before their write") || e.contains("reads θ"),
            "{e}"
        );
        // no lead: the next step stores over sums the drive has not read
        let hw = model(&[6, 10], 4);
        let s = Schedule::new(&hw);
        assert!(s.lead > 0, "the small net needs lead bubbles");
        let mut t = s.clone();
        t.words.drain(..t.lead);
        t.lead = 0;
        assert!(t.check().is_err());
    }

    /// A writable W of the pairs stream: another model's image applied to
    /// a model gives the other model's (symmetric) W; a word sets both
    /// directions of its pairs.
    #[test]
    fn w_images_apply_back_symmetrically() {
        let mut c = Config::default_config();
        c.network.inputs = 5;
        c.network.layers = vec![7, 10];
        c.network.intralayer = true;
        c.hardware.lanes = 4;
        c.hardware.coupling = Coupling::Pairs;
        c.hardware.params = crate::config::ParamMemory::Ram;
        let a = quantize(&c, &Params::init(&c), 16).unwrap().0;
        c.train.seed = 9;
        let b = quantize(&c, &Params::init(&c), 16).unwrap().0;
        assert_ne!(a.rows, b.rows);
        let s = Schedule::new(&a);
        let mut m = a.clone();
        for blk in crate::link::protocol::Block::ALL {
            s.apply(&mut m, blk, 0, &s.image(&b, blk));
        }
        assert_eq!(m, b);
        // one word: both W_ij and W_ji of its lanes change
        let mut m = a.clone();
        let e = s.words.iter().position(|w| w.scat == Scatter::Add).unwrap();
        let wb = s.word_bytes(&a, crate::link::protocol::Block::W);
        s.apply(&mut m, crate::link::protocol::Block::W, e, &vec![0x01; wb]);
        let j = s.words[e].j;
        let changed: Vec<usize> = (0..a.n()).filter(|&i| m.rows[i] != a.rows[i]).collect();
        assert!(changed.contains(&j), "{changed:?}");
        for i in &changed {
            for &(k, w) in &m.rows[*i] {
                let back = m.rows[k].iter().find(|e| e.0 == *i).unwrap().1;
                assert_eq!(w, back, "W_{i}{k} and W_{k}{i}");
            }
        }
    }

    /// The counters' words are the schedule's control, cycle for cycle.
    #[test]
    fn counters_make_the_schedule() {
        let hw = model(&[30, 10], 16);
        let s = Schedule::new(&hw);
        let ps = s.pairs.unwrap();
        let made = ps.words();
        assert_eq!(made.len(), s.words.len());
        for (w, c) in s.words.iter().zip(&made) {
            assert_eq!(
                (w.j, w.mask, w.cap, w.scat, w.last),
                (c.j, c.mask, c.cap, c.scat, c.last)
            );
        }
    }
}
