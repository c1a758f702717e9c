//! The static schedule of `pg_core`'s multiply-accumulate lanes: which
//! oscillators share the lanes, which word the coupling stream reads in
//! every cycle of a step, and where it must idle. Everything here is decided
//! at generation time from the network, so the hardware is a counter over a
//! ROM and never stalls.
//!
//! Lanes work on **groups**: up to `L` consecutive oscillators of one layer
//! (lane `l` is oscillator `first + l`). A group's stream is the union of its
//! rows' neighbour sets in ascending `j`, one word per `j`: `θ_j` is read
//! once, looked up once (sin and cos), and broadcast to the lanes, each of
//! which multiplies it by its own `W_{first+l, j}` (zero where `j` is not its
//! neighbour). In a layered network the rows of a group have the same
//! neighbours, so every lane is busy except in the last group of a layer
//! whose size is not a multiple of `L` (and on the diagonal `j = i`, with
//! intralayer coupling).
//!
//! Each lane's sum is exact and holds only its own row's products (plus
//! zeros), so the result does not depend on the order or the lane: the twin's
//! `C_i = Σ_j W_ij cos θ_j` exactly.
//!
//! When a group's last word is accumulated its `L` sums are latched, and the
//! drive sequencer takes one row every [`SEQ_CYCLES`] cycles. A group must
//! therefore last at least `SEQ_CYCLES × rows` of the previous group; shorter
//! groups are padded with **bubble** words (no valid lane). Steps follow each
//! other without a gap: the next step's stream starts right after the last
//! word of this one, reading the other phase bank, and **lead** bubbles at
//! the start of the step keep every read of `θ_j` after the write of `θ_j` by
//! the previous step (the timing model below is the RTL's, cycle for cycle).
//!
//! A fully connected network can instead read each pair's weight once:
//! the pairs stream of [`crate::pairs`] (`hardware.coupling = "pairs"`),
//! whose schedule is a `Schedule` too, checked by the same rules and more.

pub use crate::pairs::PairStream;
use crate::protocol::Block;
use crate::qformat::wrap;
use crate::twin::HwModel;

/// The low `bits` of `v` as a signed integer.
fn sext(v: u64, bits: u32) -> i64 {
    let v = wrap(v as i64, bits);
    if bits < 64 && v >> (bits - 1) & 1 == 1 {
        v as i64 - (1i64 << bits)
    } else {
        v as i64
    }
}

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
    /// Pairs stream ([`crate::pairs`]): the lane whose own oscillator is
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
/// [`Schedule::dense`] finds that it reproduces the schedule's words
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

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub lanes: usize,
    /// Every oscillator, grouped, in the order of the coupling stream (a
    /// rotation of oscillator order).
    pub groups: Vec<Group>,
    /// The groups of the input layer, from oscillator 0: the field stream.
    pub field: Vec<Group>,
    /// Words per field group: the inputs, padded to `SEQ_CYCLES × lanes`.
    pub field_len: usize,
    /// One step of the coupling stream, lead bubbles first.
    pub words: Vec<Word>,
    /// Bubble words at the start of every step.
    pub lead: usize,
    /// The pairs stream's counters, when the schedule is one
    /// (`hardware.coupling = "pairs"`, [`crate::pairs`]).
    pub pairs: Option<PairStream>,
}

impl Schedule {
    pub fn new(hw: &HwModel) -> Schedule {
        if hw.pairs {
            return Schedule::pairs(hw);
        }
        let lanes = hw.lanes.max(1) as usize;
        let n = hw.n();
        let mut groups = Vec::new();
        for l in 0..hw.topo.layers.len() {
            let r = hw.topo.layer_range(l);
            let mut first = r.start;
            while first < r.end {
                let rows = lanes.min(r.end - first);
                groups.push(Group { first, rows });
                first += rows;
            }
        }
        let field: Vec<Group> = groups
            .iter()
            .take_while(|g| g.first < hw.topo.layers[0])
            .copied()
            .collect();
        let field_len = hw.topo.inputs.max(SEQ_CYCLES * lanes);

        // each group's words: the union of its rows' neighbours, ascending
        let mut slot: Vec<Option<usize>> = vec![None; n];
        let mut per_group: Vec<Vec<Word>> = Vec::with_capacity(groups.len());
        for g in &groups {
            let mut js: Vec<usize> = Vec::new();
            for l in 0..g.rows {
                for &(j, _) in &hw.rows[g.first + l] {
                    if slot[j].is_none() {
                        slot[j] = Some(0);
                        js.push(j);
                    }
                }
            }
            js.sort_unstable();
            let mut words: Vec<Word> = js
                .iter()
                .enumerate()
                .map(|(k, &j)| {
                    slot[j] = Some(k);
                    Word {
                        j,
                        w: vec![0; lanes],
                        mask: 0,
                        last: false,
                        cap: None,
                        scat: Scatter::Off,
                    }
                })
                .collect();
            for l in 0..g.rows {
                for &(j, w) in &hw.rows[g.first + l] {
                    let k = slot[j].expect("neighbour was collected");
                    words[k].w[l] = w;
                    words[k].mask |= 1 << l;
                }
            }
            for &j in &js {
                slot[j] = None;
            }
            if words.is_empty() {
                words.push(Word::bubble(lanes));
            }
            words.last_mut().expect("a group has a word").last = true;
            per_group.push(words);
        }
        // Any rotation of the group order computes the same step (Jacobi);
        // try starting at each layer and keep the shortest step.
        let mut starts: Vec<usize> = vec![0];
        for l in 1..hw.topo.layers.len() {
            let first = hw.topo.offset(l);
            if let Some(g) = groups.iter().position(|g| g.first == first) {
                starts.push(g);
            }
        }
        let mut best: Option<Schedule> = None;
        for start in starts {
            let s = Schedule::assemble(lanes, &groups, &per_group, start, &field, field_len);
            if best.as_ref().is_none_or(|b| s.words.len() < b.words.len()) {
                best = Some(s);
            }
        }
        let s = best.expect("at least one order");
        debug_assert!(s.check().is_ok(), "{:?}", s.check());
        s
    }

    /// The stream with the groups in order from `start` (wrapping), bubbles
    /// for the sequencer between groups, and lead bubbles for the next step.
    fn assemble(
        lanes: usize,
        groups: &[Group],
        per_group: &[Vec<Word>],
        start: usize,
        field: &[Group],
        field_len: usize,
    ) -> Schedule {
        let ng = groups.len();
        let order: Vec<Group> = (0..ng).map(|k| groups[(start + k) % ng]).collect();
        let mut body: Vec<Word> = Vec::new();
        for k in 0..ng {
            let words = &per_group[(start + k) % ng];
            // the sequencer must be done with the previous group (within a step)
            if k > 0 {
                let need = SEQ_CYCLES * order[k - 1].rows;
                if words.len() < need {
                    body.extend(vec![Word::bubble(lanes); need - words.len()]);
                }
            }
            body.extend(words.iter().cloned());
        }
        let mut s = Schedule {
            lanes,
            groups: order,
            field: field.to_vec(),
            field_len,
            words: body,
            lead: 0,
            pairs: None,
        };
        // lead bubbles: the sequencer across the step boundary, and every
        // read of the next step after the write it needs
        let wr = s.words.len();
        let writes = s.write_times(0);
        let first_group_words = s.words.iter().position(|w| w.last).unwrap_or(0) + 1;
        let last_rows = s.groups.last().map_or(0, |g| g.rows);
        let mut lead = (SEQ_CYCLES * last_rows).saturating_sub(first_group_words) as i64;
        for (u, w) in s.words.iter().enumerate() {
            if w.uses_phase() {
                lead = lead.max(writes[w.j] as i64 - wr as i64 - u as i64);
            }
        }
        // the sequencer's own-phase read of a row (at its D0) in the next
        // step comes after this step's write of that row: a step lasts more
        // than DRIVE_LAT cycles (only networks without coupling are shorter)
        lead = lead.max((DRIVE_LAT + 1) as i64 - wr as i64);
        let lead = lead.max(0) as usize;
        let mut words = vec![Word::bubble(lanes); lead];
        words.append(&mut s.words);
        s.words = words;
        s.lead = lead;
        s
    }

    /// The first oscillator of the step's stream order (the sequencer's
    /// rows run from here, wrapping at `n`).
    pub fn first_row(&self) -> usize {
        self.groups[0].first
    }

    /// The last oscillator of the step's stream order.
    pub fn last_row(&self) -> usize {
        let g = self.groups.last().expect("a group");
        g.first + g.rows - 1
    }

    /// The field stream's words: group `g` of [`Schedule::field`], input
    /// `k` at `g * field_len + k`, one input weight per lane (`U_{first+l,k}`,
    /// 0 beyond the group's rows or the inputs).
    pub fn u_words(&self, hw: &HwModel) -> Vec<Vec<i64>> {
        let ni = hw.topo.inputs;
        let mut v = Vec::with_capacity(self.field.len() * self.field_len);
        for g in &self.field {
            for k in 0..self.field_len {
                v.push(
                    (0..self.lanes)
                        .map(|l| {
                            // (a pairs-stream group may reach past the input layer)
                            if l < g.rows && k < ni && g.first + l < hw.topo.layers[0] {
                                hw.u[(g.first + l) * ni + k]
                            } else {
                                0
                            }
                        })
                        .collect(),
                );
            }
        }
        v
    }

    /// Is `b` a writable memory of this design (WriteWeights)?
    pub fn writable(hw: &HwModel, b: Block) -> bool {
        match b {
            Block::U => hw.u_in_ram || hw.params_in_ram,
            Block::W => hw.params_in_ram || hw.w_in_ram,
            Block::Osc => hw.params_in_ram,
        }
    }

    /// Identify's `blocks`: bit `b` for each writable [`Block`].
    pub fn blocks_mask(hw: &HwModel) -> u8 {
        Block::ALL
            .into_iter()
            .filter(|&b| Schedule::writable(hw, b))
            .fold(0, |m, b| m | b.bit())
    }

    /// Words in block `b`'s image (the memory's depth before padding):
    /// U `field groups × field_len`, W the step's stream words, Osc `n`.
    pub fn block_words(&self, hw: &HwModel, b: Block) -> usize {
        match b {
            Block::U => self.field.len() * self.field_len,
            Block::W => self.words.len(),
            Block::Osc => hw.n(),
        }
    }

    /// Bytes of one word of block `b` as the host sends it. U and W: the
    /// lanes' weights, each in `ceil(weight_bits / 8)` bytes of two's
    /// complement, lane `L-1` first, big-endian (the word read as one
    /// big-endian integer). Osc: `h, K` (each `ceil(weight_bits / 8)`
    /// bytes, two's complement), then `ω0 + δω_i` and `θ0_i` (each
    /// `ceil(phase_bits / 8)` bytes, unsigned, modulo a turn), big-endian.
    /// Bits above `weight_bits` (`phase_bits`) in each field are ignored.
    pub fn word_bytes(&self, hw: &HwModel, b: Block) -> usize {
        let wbytes = hw.fmt.weight_bits.div_ceil(8) as usize;
        let pbytes = hw.fmt.phase_bits.div_ceil(8) as usize;
        match b {
            Block::U | Block::W => self.lanes * wbytes,
            Block::Osc => 2 * wbytes + 2 * pbytes,
        }
    }

    /// Block `b`'s image for the model `hw`, word after word (see
    /// [`Schedule::word_bytes`]): U word `g · field_len + k` holds `U_{first+l,
    /// k}` of field group `g` in lane `l`; W word `e` holds the coupling
    /// stream's word `e` (`W_{first+l, j}` of its group and neighbour `j`,
    /// 0 in bubbles and where `j` is not lane `l`'s neighbour); Osc word
    /// `i` oscillator `i`'s constants. Slots that hold no parameter (U
    /// padding and lanes beyond a group's rows, W non-entries) are 0 here and
    /// ignored by the device.
    pub fn image(&self, hw: &HwModel, b: Block) -> Vec<u8> {
        let f = hw.fmt;
        let wbytes = f.weight_bits.div_ceil(8) as usize;
        let pbytes = f.phase_bits.div_ceil(8) as usize;
        let mut out = Vec::with_capacity(self.block_words(hw, b) * self.word_bytes(hw, b));
        let mut put = |v: u64, bytes: usize| out.extend_from_slice(&v.to_be_bytes()[8 - bytes..]);
        match b {
            Block::U => {
                for w in self.u_words(hw) {
                    for &u in w.iter().rev() {
                        put(u as u64, wbytes);
                    }
                }
            }
            Block::W => {
                // the weights of `hw` in this schedule's slots (a schedule
                // depends on the topology only, so any model of it fits)
                let mut g = 0;
                for w in &self.words {
                    let first = self.groups[g].first;
                    for l in (0..self.lanes).rev() {
                        let v = if w.mask >> l & 1 == 1 {
                            let row = &hw.rows[first + l];
                            row.iter().find(|e| e.0 == w.j).map_or(0, |e| e.1)
                        } else {
                            0
                        };
                        put(v as u64, wbytes);
                    }
                    g += w.last as usize;
                }
            }
            Block::Osc => {
                for i in 0..hw.n() {
                    put(hw.h[i] as u64, wbytes);
                    put(hw.k[i] as u64, wbytes);
                    put(wrap(hw.omega0 + hw.omega[i], f.phase_bits), pbytes);
                    put(hw.theta0[i], pbytes);
                }
            }
        }
        out
    }

    /// What writing `bytes` (whole words) at word `offset` of block `b`
    /// does to the model the device computes with: the inverse of
    /// [`Schedule::image`] (slots that hold no parameter change nothing; a
    /// W word changes only its rows' entries, so `W` may become asymmetric,
    /// as the device's memory allows). The caller checks the range.
    pub fn apply(&self, hw: &mut HwModel, b: Block, offset: usize, bytes: &[u8]) {
        let f = hw.fmt;
        let wb = f.weight_bits;
        let wbytes = wb.div_ceil(8) as usize;
        let pbytes = f.phase_bits.div_ceil(8) as usize;
        let word_bytes = self.word_bytes(hw, b);
        assert!(
            bytes.len().is_multiple_of(word_bytes)
                && offset + bytes.len() / word_bytes <= self.block_words(hw, b),
            "write of {} bytes at word {offset} outside {b:?}",
            bytes.len()
        );
        let be = |s: &[u8]| s.iter().fold(0u64, |a, &x| a << 8 | x as u64);
        let weight = |s: &[u8]| sext(be(s), wb);
        // lane l's field of a U or W word, lane L-1 first
        let lane = |w: &[u8], l: usize| {
            let k = self.lanes - 1 - l;
            weight(&w[k * wbytes..(k + 1) * wbytes])
        };
        // the first row of each stream word's group
        let word_first = |e: usize| {
            let g = self.words[..e].iter().filter(|w| w.last).count();
            self.groups[g]
        };
        for (q, w) in bytes.chunks(word_bytes).enumerate() {
            let a = offset + q;
            match b {
                Block::U => {
                    let (g, k) = (self.field[a / self.field_len], a % self.field_len);
                    let ni = hw.topo.inputs;
                    if k < ni {
                        for l in (0..g.rows).filter(|&l| g.first + l < hw.topo.layers[0]) {
                            hw.u[(g.first + l) * ni + k] = lane(w, l);
                        }
                    }
                }
                Block::W => {
                    let word = &self.words[a];
                    let g = word_first(a);
                    for l in 0..g.rows {
                        if word.mask >> l & 1 == 1 {
                            let row = &mut hw.rows[g.first + l];
                            let e = row
                                .iter_mut()
                                .find(|(j, _)| *j == word.j)
                                .expect("a stream entry is a row entry");
                            e.1 = lane(w, l);
                            if self.pairs.is_some() {
                                // one memory word serves both directions
                                let i = g.first + l;
                                let e = hw.rows[word.j]
                                    .iter_mut()
                                    .find(|(j, _)| *j == i)
                                    .expect("a symmetric entry");
                                e.1 = lane(w, l);
                            }
                        }
                    }
                }
                Block::Osc => {
                    let p = f.phase_bits;
                    hw.h[a] = weight(&w[..wbytes]);
                    hw.k[a] = weight(&w[wbytes..2 * wbytes]);
                    let om = wrap(be(&w[2 * wbytes..2 * wbytes + pbytes]) as i64, p);
                    hw.omega[a] = sext(wrap(om as i64 - hw.omega0, p), p);
                    hw.theta0[a] = wrap(be(&w[2 * wbytes + pbytes..]) as i64, p);
                }
            }
        }
    }

    /// The counters that make this schedule's stream control, when it is
    /// the dense stream of one fully coupled layer ([`DenseStream`]): they
    /// must give every word's mask and last flag, and every active word's
    /// neighbour, exactly as [`Schedule::words`] holds them.
    pub fn dense(&self) -> Option<DenseStream> {
        if self.pairs.is_some() {
            return None;
        }
        let n: usize = self.groups.iter().map(|g| g.rows).sum();
        if n < 2 || self.groups.first().map(|g| g.first) != Some(0) {
            return None;
        }
        let d = DenseStream {
            n,
            lanes: self.lanes,
            lead: self.lead,
        };
        let made = d.words(self.words.len());
        let same = self.words.iter().zip(&made).all(|(w, &(j, mask, last))| {
            w.mask == mask && w.last == last && (mask == 0 || w.j == j)
        });
        same.then_some(d)
    }

    /// Words per step: the step's length in cycles, in steady state.
    pub fn step_cycles(&self) -> usize {
        self.words.len()
    }

    /// Coupling entries per step (a pairs stream's scatter words count
    /// their lanes' entries twice: `W_ij` serves rows `i` and `j`).
    pub fn entries(&self) -> usize {
        self.words
            .iter()
            .map(|w| w.mask.count_ones() as usize * (1 + (w.scat != Scatter::Off) as usize))
            .sum()
    }

    /// Lanes busy over the stream of one step (entries / (lanes × words)).
    pub fn efficiency(&self) -> f64 {
        self.entries() as f64 / (self.lanes * self.words.len()).max(1) as f64
    }

    /// The cycle (from the step's first word, the words being `lead` bubbles
    /// then the rest) at whose end each oscillator's new phase is written,
    /// with `lead` bubbles in front of `self.words`.
    fn write_times(&self, lead: usize) -> Vec<usize> {
        let n: usize = self.groups.iter().map(|g| g.rows).sum();
        let mut t = vec![0; n];
        let mut g = 0;
        for (u, w) in self.words.iter().enumerate() {
            if w.last {
                let latch = lead + u + STREAM_LAT;
                let gr = self.groups[g];
                for k in 0..gr.rows {
                    t[gr.first + k] = latch + 1 + SEQ_CYCLES * k + DRIVE_LAT;
                }
                g += 1;
            }
        }
        t
    }

    /// Check the timing rules on two consecutive steps; `Err` names the
    /// first violation. (Used by the tests and as a debug assertion.)
    pub fn check(&self) -> Result<(), String> {
        let w = self.words.len();
        let writes = self.write_times(0);
        // reads of step 1 (word u issued at cycle w + u reads at the end of
        // the following cycle) come after the writes of step 0
        for (u, word) in self.words.iter().enumerate() {
            if word.uses_phase() && writes[word.j] > w + u {
                return Err(format!(
                    "word {u} reads θ_{} at cycle {} before its write at {}",
                    word.j,
                    w + u + 1,
                    writes[word.j]
                ));
            }
        }
        // the sequencer reads a row's own phase (D0) one step after its D0
        // in this step, which wrote it DRIVE_LAT cycles after that D0
        if w <= DRIVE_LAT {
            return Err(format!(
                "a step of {w} cycles reads an oscillator's own phase before the previous step wrote it ({DRIVE_LAT} cycles after the read)"
            ));
        }
        // the sequencer is free when the next group's sums are latched
        let mut last_words: Vec<usize> = Vec::new();
        for (u, word) in self.words.iter().enumerate() {
            if word.last {
                last_words.push(u);
            }
        }
        if last_words.len() != self.groups.len() {
            return Err(format!(
                "{} groups but {} last words",
                self.groups.len(),
                last_words.len()
            ));
        }
        let g = self.groups.len();
        for k in 0..g {
            let (prev, cur) = if k == 0 {
                (last_words[g - 1], w + last_words[0])
            } else {
                (last_words[k - 1], last_words[k])
            };
            let prev_rows = self.groups[(k + g - 1) % g].rows;
            if cur - prev < SEQ_CYCLES * prev_rows {
                return Err(format!(
                    "group {k} latches {} cycles after the previous group, which needs {}",
                    cur - prev,
                    SEQ_CYCLES * prev_rows
                ));
            }
        }
        if self.pairs.is_some() {
            self.check_pairs()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::net::Params;
    use crate::quant::quantize;

    fn model(layers: &[usize], intralayer: bool, lanes: u32) -> HwModel {
        let mut c = Config::default_config();
        c.network.inputs = 5;
        c.network.layers = layers.to_vec();
        c.network.intralayer = intralayer;
        c.hardware.lanes = lanes;
        quantize(&c, &Params::init(&c), 16).unwrap().0
    }

    /// Replaying the words gives back every CSR row, each entry once.
    fn replay(s: &Schedule, hw: &HwModel) {
        let mut rows: Vec<Vec<(usize, i64)>> = vec![Vec::new(); hw.n()];
        let mut g = 0;
        for w in &s.words {
            let gr = s.groups[g];
            for l in 0..s.lanes {
                if w.mask >> l & 1 == 1 {
                    assert!(l < gr.rows);
                    rows[gr.first + l].push((w.j, w.w[l]));
                } else {
                    assert_eq!(w.w[l], 0);
                }
            }
            if w.last {
                g += 1;
            }
        }
        assert_eq!(g, s.groups.len());
        assert_eq!(rows, hw.rows);
        assert_eq!(s.entries(), hw.nnz());
    }

    #[test]
    fn schedules_cover_every_entry_and_keep_the_timing_rules() {
        for &(layers, intra) in &[
            (&[32usize, 10][..], false),
            (&[6, 5, 10], true),
            (&[16], true),
            (&[3, 4, 2], false),
            (&[7], false),
            (&[2], false),
            (&[1], false),
        ] {
            for lanes in [1, 2, 3, 4, 8] {
                let hw = model(layers, intra, lanes);
                let s = Schedule::new(&hw);
                replay(&s, &hw);
                s.check().unwrap();
                assert!(s.field_len >= SEQ_CYCLES * s.lanes);
            }
        }
    }

    #[test]
    fn digits_lanes_are_busy() {
        // 64-32-10: 640 entries; 10 outputs in groups of 4, 4, 2
        for (lanes, eff) in [(1, 1.0), (2, 1.0), (4, 640.0 / 704.0)] {
            let hw = model(&[32, 10], false, lanes);
            let s = Schedule::new(&hw);
            let body = s.words.len() - s.lead;
            assert!(
                (s.entries() as f64 / (lanes as usize * body) as f64 - eff).abs() < 1e-9,
                "lanes {lanes}: {} words, lead {}",
                s.words.len(),
                s.lead
            );
        }
    }

    /// Every block's image of another model, applied to a model, gives the
    /// other model's parameters (`apply` inverts `image`); slots that hold
    /// no parameter change nothing.
    #[test]
    fn images_of_another_model_apply_back() {
        for &(layers, intra, lanes) in &[(&[3usize, 4, 2][..], false, 3), (&[6, 5], true, 4)] {
            let mut c = Config::default_config();
            c.network.inputs = 5;
            c.network.layers = layers.to_vec();
            c.network.intralayer = intra;
            c.hardware.lanes = lanes;
            c.hardware.weight_frac = 5;
            c.hardware.params = crate::config::ParamMemory::Ram;
            c.train.dispersion = 0.05;
            let a = quantize(&c, &Params::init(&c), 16).unwrap().0;
            c.train.seed = 7;
            let b = quantize(&c, &Params::init(&c), 16).unwrap().0;
            assert_ne!(a.rows, b.rows);
            assert_ne!(a.theta0, b.theta0);
            let s = Schedule::new(&a);
            let t = Schedule::new(&b);
            let shape = |s: &Schedule| {
                let w: Vec<_> = s.words.iter().map(|w| (w.j, w.mask, w.last)).collect();
                (s.groups.clone(), s.field.clone(), s.field_len, s.lead, w)
            };
            assert_eq!(
                shape(&s),
                shape(&t),
                "the schedule depends on the topology only"
            );
            let mut m = a.clone();
            for blk in Block::ALL {
                assert!(Schedule::writable(&a, blk));
                let img = s.image(&b, blk);
                assert_eq!(img.len(), s.block_words(&b, blk) * s.word_bytes(&b, blk));
                s.apply(&mut m, blk, 0, &img);
            }
            assert_eq!(m, b);
            // garbage where no parameter lives changes nothing: W bubbles and
            // non-entries, U padding and lanes beyond a group's rows
            let wb = s.word_bytes(&b, Block::W);
            for (e, w) in s.words.iter().enumerate() {
                if w.mask == 0 {
                    s.apply(&mut m, Block::W, e, &vec![0x5a; wb]);
                }
            }
            let ub = s.word_bytes(&b, Block::U);
            for a_ in 0..s.block_words(&b, Block::U) {
                if a_ % s.field_len >= b.topo.inputs {
                    s.apply(&mut m, Block::U, a_, &vec![0x33; ub]);
                }
            }
            assert_eq!(m, b);
        }
        let mut c = Config::default_config();
        c.network.inputs = 5;
        c.network.layers = vec![3, 2];
        let rom = quantize(&c, &Params::init(&c), 16).unwrap().0;
        assert_eq!(Schedule::blocks_mask(&rom), 0);
    }
}

#[cfg(test)]
mod dense_tests {
    use super::*;
    use crate::config::Config;
    use crate::net::Params;
    use crate::quant::quantize;

    fn schedule(layers: &[usize], intralayer: bool, lanes: u32) -> Schedule {
        let mut c = Config::default_config();
        c.network.inputs = 5;
        c.network.layers = layers.to_vec();
        c.network.intralayer = intralayer;
        c.hardware.lanes = lanes;
        Schedule::new(&quantize(&c, &Params::init(&c), 16).unwrap().0)
    }

    /// Fully connected layers of 8 or more oscillators, more than twice the
    /// lanes, have the counters' stream (lead bubbles included, single-row
    /// last groups skipping their diagonal); smaller ones need bubbles
    /// between groups, layered networks are not dense: both keep the ROM.
    #[test]
    fn fully_connected_streams_are_dense() {
        for n in 8..40 {
            for lanes in (1..=8).filter(|&l| n > 2 * l as usize) {
                let s = schedule(&[n], true, lanes);
                let d = s.dense().unwrap_or_else(|| panic!("{n} at {lanes} lanes"));
                assert_eq!((d.n, d.lanes, d.lead), (n, lanes as usize, s.lead));
            }
        }
        assert!(schedule(&[5], true, 4).dense().is_none());
        assert!(schedule(&[32, 10], false, 2).dense().is_none());
        // every pair coupled across two layers: dense while the groups line up
        assert!(schedule(&[12, 10], true, 2).dense().is_some());
        assert!(schedule(&[13, 10], true, 2).dense().is_none());
        assert!(schedule(&[12], false, 2).dense().is_none());
    }
}
