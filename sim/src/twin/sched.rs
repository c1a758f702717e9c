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
//! the pairs stream of [`crate::twin::pairs`] (`hardware.coupling = "pairs"`),
//! whose schedule is a `Schedule` too, checked by the same rules and more.

use super::model::HwModel;
use super::pairs::{PairStream, SCAT_READ, SCAT_WRITE};
use super::stream::{DenseStream, Group, Scatter, Word, DRIVE_LAT, SEQ_CYCLES, STREAM_LAT};

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
    /// (`hardware.coupling = "pairs"`, [`crate::twin::pairs`]).
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

    /// Words of the field stream (`U x`, once per inference, before the
    /// first step): the field groups times [`Schedule::field_len`]. One
    /// inference of `steps` steps takes these plus `steps` ×
    /// [`Schedule::step_cycles`] cycles, and a few tens more to fill the
    /// pipelines (tests/inference_cycles.rs measures them).
    pub fn field_cycles(&self) -> usize {
        self.field.len() * self.field_len
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

impl Schedule {
    /// The pairs stream of a fully connected network (`hw.pairs`), with the
    /// fewest lead bubbles that keep every timing rule ([`Schedule::check`]).
    pub fn pairs(hw: &HwModel) -> Schedule {
        let lanes = hw.lanes.max(1) as usize;
        let n = hw.n();
        let groups: Vec<Group> = (0..n)
            .step_by(lanes)
            .map(|first| Group {
                first,
                rows: lanes.min(n - first),
            })
            .collect();
        // the field runs on the groups that hold input-layer rows (the last
        // may reach past the layer: its other lanes get U = 0, so b = h)
        let field: Vec<Group> = groups
            .iter()
            .take_while(|g| g.first < hw.topo.layers[0])
            .copied()
            .collect();
        let field_len = hw.topo.inputs.max(SEQ_CYCLES * lanes);
        let control = |lead: usize| -> Schedule {
            let ps = PairStream::new(n, lanes, lead);
            let words = ps
                .words()
                .into_iter()
                .map(|c| Word {
                    j: c.j,
                    w: Vec::new(),
                    mask: c.mask,
                    last: c.last,
                    cap: c.cap,
                    scat: c.scat,
                })
                .collect();
            Schedule {
                lanes,
                groups: groups.clone(),
                field: field.clone(),
                field_len,
                words,
                lead,
                pairs: Some(ps),
            }
        };
        // the lead bubbles only ease the rules across the step boundary
        let mut lead = 0;
        let mut s = control(lead);
        while let Err(e) = s.check() {
            lead += 1;
            assert!(
                lead <= 4 * n + 64,
                "no lead makes the pairs stream work: {e}"
            );
            s = control(lead);
        }
        // the weights, from a dense copy of W
        let mut dense = vec![0i64; n * n];
        for (i, r) in hw.rows.iter().enumerate() {
            for &(j, w) in r {
                dense[i * n + j] = w;
            }
        }
        let mut g = 0;
        for word in s.words.iter_mut() {
            let first = s.groups[g].first;
            word.w = (0..lanes)
                .map(|l| {
                    if word.mask >> l & 1 == 1 {
                        dense[(first + l) * n + word.j]
                    } else {
                        0
                    }
                })
                .collect();
            g += word.last as usize;
        }
        s
    }

    /// The pairs stream's own timing rules, on two consecutive steps: lanes
    /// capture their phases before they scatter, every row's partial sums
    /// are stored once and then added to after the previous write, the drive
    /// reads them after their last write, and the next step's store comes
    /// after that read.
    pub(crate) fn check_pairs(&self) -> Result<(), String> {
        let w = self.words.len();
        let n: usize = self.groups.iter().map(|g| g.rows).sum();
        let mut last_wr: Vec<Option<usize>> = vec![None; n];
        let mut store: Vec<Option<usize>> = vec![None; n];
        let mut d0 = vec![0usize; n];
        let mut group_of = vec![0usize; n];
        let mut g = 0;
        let mut captured = 0u64;
        for (u, word) in self.words.iter().enumerate() {
            let gr = *self
                .groups
                .get(g)
                .ok_or_else(|| format!("word {u} is past the last group"))?;
            if let Some(l) = word.cap {
                if l >= gr.rows || gr.first + l != word.j {
                    return Err(format!("word {u} captures θ_{} in lane {l}", word.j));
                }
                captured |= 1 << l;
            }
            if word.scat != Scatter::Off {
                let all = (1u64 << gr.rows) - 1;
                if captured & all != all {
                    return Err(format!(
                        "word {u} scatters before every lane of its group has its phase"
                    ));
                }
                if word.j < gr.first + gr.rows {
                    return Err(format!(
                        "word {u} scatters into its own group's row {}",
                        word.j
                    ));
                }
                match (word.scat, last_wr[word.j]) {
                    (Scatter::Store, None) => store[word.j] = Some(u),
                    (Scatter::Store, Some(_)) => {
                        return Err(format!("word {u} stores row {}'s sums twice", word.j))
                    }
                    (_, None) => {
                        return Err(format!("word {u} adds to row {} before a store", word.j))
                    }
                    (_, Some(p)) if u + SCAT_READ <= p => {
                        return Err(format!(
                            "word {u} reads row {}'s sums at {} before their write at {p}",
                            word.j,
                            u + SCAT_READ
                        ))
                    }
                    _ => {}
                }
                last_wr[word.j] = Some(u + SCAT_WRITE);
            }
            if word.last {
                let latch = u + STREAM_LAT;
                for k in 0..gr.rows {
                    d0[gr.first + k] = latch + 1 + SEQ_CYCLES * k;
                    group_of[gr.first + k] = g;
                }
                g += 1;
                captured = 0;
            }
        }
        for i in 0..n {
            match (group_of[i], last_wr[i], store[i]) {
                (0, None, _) => {}
                (0, Some(_), _) => {
                    return Err(format!("row {i} of the first group gets partial sums"))
                }
                (_, None, _) | (_, _, None) => {
                    return Err(format!("row {i}'s partial sums are never stored"))
                }
                (_, Some(t), Some(s)) => {
                    if d0[i] <= t {
                        return Err(format!(
                            "the drive reads row {i}'s partial sums at {} before their write at {t}",
                            d0[i]
                        ));
                    }
                    if w + s + SCAT_WRITE <= d0[i] {
                        return Err(format!(
                            "the next step stores row {i}'s partial sums at {} before the drive reads them at {}",
                            w + s + SCAT_WRITE,
                            d0[i]
                        ));
                    }
                }
            }
        }
        // (the drive's phase writes, DRIVE_LAT after its reads, are the
        // rows stream's rules in `check`, which cover this stream too)
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::onn::net::Params;
    use crate::twin::quant::quantize;

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
}

#[cfg(test)]
mod dense_tests {
    use super::*;
    use crate::config::Config;
    use crate::onn::net::Params;
    use crate::twin::quant::quantize;

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
