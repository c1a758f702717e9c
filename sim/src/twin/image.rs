//! The memory images of the parameters the host can write: for each
//! [`Block`] (U, W, the oscillator constants), which words it has, how many
//! bytes each holds and where every parameter sits in them, as the device's
//! memories hold them. [`Schedule::image`] turns a model into a block's
//! bytes and [`Schedule::apply`] turns written bytes back into the model the
//! device computes with; the UART's WriteWeights (`crate::link::protocol`)
//! carries them.
//!
//! May use: the rest of `twin`.

use super::model::HwModel;
use super::qformat::wrap;
use super::sched::Schedule;

/// The memories the host can write (WriteWeights' first payload byte,
/// `crate::link::protocol`). Each block's image, word layout and size are
/// defined by [`Schedule::image`] and its neighbours below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Block {
    /// The input weights U: the field stream's words, one weight per lane.
    U = 0,
    /// The coupling weights W: the coupling stream's words, one weight per lane.
    W = 1,
    /// The per-oscillator constants: `h, K, ω0 + δω, θ0` per oscillator.
    Osc = 2,
}

impl Block {
    pub const ALL: [Block; 3] = [Block::U, Block::W, Block::Osc];

    pub fn from_u8(v: u8) -> Option<Block> {
        Block::ALL.into_iter().find(|b| *b as u8 == v)
    }

    pub fn name(self) -> &'static str {
        match self {
            Block::U => "U (input weights)",
            Block::W => "W (coupling weights)",
            Block::Osc => "oscillator constants",
        }
    }

    /// This block's bit in Identify's `blocks`.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The low `bits` of `v` as a signed integer.
fn sext(v: u64, bits: u32) -> i64 {
    let v = wrap(v as i64, bits);
    if bits < 64 && v >> (bits - 1) & 1 == 1 {
        v as i64 - (1i64 << bits)
    } else {
        v as i64
    }
}

impl Schedule {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::onn::net::Params;
    use crate::twin::quant::quantize;

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
