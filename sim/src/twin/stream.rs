//! The coupling stream's vocabulary, shared by both of its shapes (the rows
//! stream of [`super::sched`] and the pairs stream of [`super::pairs`]):
//! a **group** of up to `L` rows that share the lanes, the **word** read in
//! one cycle (neighbour `j`, a weight per lane, the lane mask, the group's
//! end, the pairs stream's capture and scatter), the latencies of the
//! core's pipeline that every timing rule counts with, and the counters of
//! a dense stream of one fully coupled layer.
//!
//! May use: nothing else of `twin` (the schedule is built on top of it).

/// Cycles the drive sequencer spends on one row (it starts a row every
/// `SEQ_CYCLES` cycles; its two-product multipliers are used twice per row).
pub const SEQ_CYCLES: usize = 2;
/// Cycles from issuing a stream word to accumulating its products:
/// ROM read, phase read, table read, multiply.
pub const STREAM_LAT: usize = 4;
/// Cycles from the start of a row in the sequencer to the write of its new
/// phase (at the end of that cycle).
pub const DRIVE_LAT: usize = 6;

/// Up to `lanes` consecutive oscillators of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub first: usize,
    pub rows: usize,
}

/// One word of the coupling stream: neighbour `j`, one weight per lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub j: usize,
    /// `W_{first+l, j}` for lane `l` (0 where `j` is not a neighbour).
    pub w: Vec<i64>,
    /// Lanes for which `j` is a neighbour (an entry of the CSR row).
    pub mask: u64,
    /// Last word of its group: the lane sums are complete.
    pub last: bool,
    /// Pairs stream ([`crate::twin::pairs`]): the lane whose own oscillator is
    /// `j`, which keeps `θ_j`'s sin and cos for the group's scatter words.
    pub cap: Option<usize>,
    /// Pairs stream: what the word does with row `j`'s partial sums.
    pub scat: Scatter,
}

/// What a word of the pairs stream does with the partial sums of row `j`:
/// `Σ_l W_{first+l, j} (cos, sin) θ_{first+l}` over its lanes is stored
/// there (the first group's words) or added to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scatter {
    Off,
    Store,
    Add,
}

impl Word {
    pub(crate) fn bubble(lanes: usize) -> Word {
        Word {
            j: 0,
            w: vec![0; lanes],
            mask: 0,
            last: false,
            cap: None,
            scat: Scatter::Off,
        }
    }

    /// Does the word use `θ_j` (a lane entry, a capture or a scatter)?
    pub fn uses_phase(&self) -> bool {
        self.mask != 0 || self.cap.is_some() || self.scat != Scatter::Off
    }
}

/// The control of a dense stream, made by counters instead of a ROM: one
/// layer of `n` oscillators, every pair coupled (intralayer, no other
/// layer), in groups of `lanes` rows from oscillator 0. After `lead` bubble
/// words each group's words are its neighbours `j = 0 .. n-1` in order
/// (a group of one row skips its own `j = i`), with no bubble between
/// groups; lane `l` of a word is active when `first + l` is a row of the
/// group other than `j`. The generator uses it when
/// `Schedule::dense` finds that it reproduces the schedule's words
/// exactly, so the counters and the ROM they replace give the same stream
/// cycle for cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseStream {
    pub n: usize,
    pub lanes: usize,
    pub lead: usize,
}

/// The counters' state for one stream word: its neighbour and its group's
/// first row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseState {
    pub j: usize,
    pub first: usize,
}

impl DenseStream {
    /// Rows of the group starting at `first`.
    pub fn rows(&self, first: usize) -> usize {
        self.lanes.min(self.n - first)
    }

    /// A group of one row skips the diagonal `j = first`.
    fn single(&self, first: usize) -> bool {
        self.rows(first) == 1
    }

    /// The counters at the step's first body word (and held through the
    /// lead bubbles).
    pub fn start(&self) -> DenseState {
        DenseState {
            j: (self.single(0)) as usize,
            first: 0,
        }
    }

    /// The last neighbour of the group starting at `first`.
    pub fn j_last(&self, first: usize) -> usize {
        if self.single(first) && first == self.n - 1 {
            self.n - 2
        } else {
            self.n - 1
        }
    }

    /// The counters after the word of state `s` (within a step).
    pub fn advance(&self, s: DenseState) -> DenseState {
        if s.j == self.j_last(s.first) {
            // the next group never starts at 0 within a step, so its first
            // neighbour is 0
            DenseState {
                j: 0,
                first: s.first + self.lanes,
            }
        } else if self.single(s.first) && s.j + 1 == s.first {
            DenseState {
                j: s.j + 2,
                first: s.first,
            }
        } else {
            DenseState {
                j: s.j + 1,
                first: s.first,
            }
        }
    }

    /// The word of state `s`: `(j, mask, last)`.
    pub fn word(&self, s: DenseState) -> (usize, u64, bool) {
        let rows = self.rows(s.first);
        let mask = (0..rows)
            .filter(|&l| s.first + l != s.j)
            .fold(0u64, |m, l| m | 1 << l);
        (s.j, mask, s.j == self.j_last(s.first))
    }

    /// The step's words as the counters make them: `(j, mask, last)`, the
    /// lead bubbles with the start state's `j`, mask 0.
    pub fn words(&self, len: usize) -> Vec<(usize, u64, bool)> {
        let mut s = self.start();
        let mut v = Vec::with_capacity(len);
        for e in 0..len {
            if e < self.lead {
                v.push((s.j, 0, false));
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
