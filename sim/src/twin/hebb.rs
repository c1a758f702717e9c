//! On-chip Hebbian learning of the fully connected memory
//! (`hardware.learning = "hebbian"`, docs/learning.md "The memory learns
//! on chip"): the host sends a pattern `ξ ∈ {±1}^N` (`Imprint`, a bit per
//! oscillator) and the device adds it to the couplings in place:
//!
//! `W_ij ← sat(W_ij + s · ξ_i ξ_j)` for every coupled pair (both
//! directions of the rows stream), `s = round(2^w_frac / N)` LSBs
//! ([`HebbSpec`]): `1/N` per pattern, the rule of
//! [`crate::onn::memory::hebbian`], exact when `N` is a power of two and
//! `w_frac >= log2 N`. No multiplier, no table, no shadow: the increment
//! is whole LSBs. After `P` patterns from `W = 0`, `W_ij` is
//! `s · Σ_p ξ_i^p ξ_j^p` (unless it saturated).

use crate::twin::model::{HebbSpec, HwModel};
use crate::twin::sched::Schedule;
use crate::twin::stream::Group;
use anyhow::{bail, Result};

/// The W block's words `(j, lane mask, last of its group)` as `pg_hebb`'s
/// counters make them for a network whose every pair is coupled: `lead`
/// bubbles (mask 0), then per row group (`first`, `rows`) its neighbours
/// `j = 0 .. n − 1` in order, lane `l` active when `first + l` is not
/// `j`; a group of one row skips its own `j` (the rows stream's words:
/// [`walks`] checks it).
pub fn walk(groups: &[Group], n: usize, lead: usize) -> Vec<(usize, u64, bool)> {
    let mut v = vec![(0, 0, false); lead];
    for g in groups {
        for j in 0..n {
            if g.rows == 1 && j == g.first {
                continue;
            }
            let mask = (0..g.rows)
                .filter(|&l| g.first + l != j)
                .fold(0u64, |m, l| m | 1 << l);
            let last = j == n - 1 || (g.rows == 1 && g.first == n - 1 && j == n - 2);
            v.push((j, mask, last));
        }
    }
    v
}

/// Does [`walk`] give `sched`'s words (every mask and last flag, and the
/// neighbour of every active word)? It does when every pair is coupled.
pub fn walks(sched: &Schedule) -> bool {
    let n: usize = sched.groups.iter().map(|g| g.rows).sum();
    let made = walk(&sched.groups, n, sched.lead);
    made.len() == sched.words.len()
        && sched.words.iter().zip(&made).all(|(w, &(j, mask, last))| {
            w.mask == mask && w.last == last && (mask == 0 || w.j == j)
        })
}

/// Imprints pattern `xi` (`true` for `+1`) into `hw`'s couplings.
pub fn imprint(hw: &mut HwModel, spec: &HebbSpec, xi: &[bool]) {
    let wb = hw.fmt.weight_bits;
    let (lo, hi) = (-(1i64 << (wb - 1)), (1i64 << (wb - 1)) - 1);
    for i in 0..hw.rows.len() {
        for e in 0..hw.rows[i].len() {
            let j = hw.rows[i][e].0;
            let d = if xi[i] == xi[j] {
                spec.step
            } else {
                -spec.step
            };
            let w = &mut hw.rows[i][e].1;
            *w = (*w + d).clamp(lo, hi);
        }
    }
}

/// Imprint's payload: bit `i mod 8` of byte `i / 8` set when `ξ_i = +1`.
pub fn pattern_payload(xi: &[bool]) -> Vec<u8> {
    let mut v = vec![0u8; xi.len().div_ceil(8)];
    for (i, &b) in xi.iter().enumerate() {
        if b {
            v[i / 8] |= 1 << (i % 8);
        }
    }
    v
}

/// The pattern of `n` oscillators in an Imprint payload.
pub fn pattern_of_payload(p: &[u8], n: usize) -> Result<Vec<bool>> {
    if p.len() != n.div_ceil(8) {
        bail!(
            "an Imprint of {n} oscillators carries {} bytes, not {}",
            n.div_ceil(8),
            p.len()
        );
    }
    Ok((0..n).map(|i| p[i / 8] >> (i % 8) & 1 == 1).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::onn::net::Params;
    use crate::twin::quant::quantize;

    fn memory(n: usize) -> HwModel {
        let cfg = Config::parse(
            &format!("name='hb'\n[network]\ninputs=1\nlayers=[{n}]\nintralayer=true\n[hardware]\nparams='ram'\nlearning='hebbian'\nw_frac=6\nweight_frac=6\n"),
            "t",
        )
        .unwrap();
        let mut hw = quantize(&cfg, &Params::init(&cfg), 16).unwrap().0;
        for r in hw.rows.iter_mut() {
            for t in r.iter_mut() {
                t.1 = 0;
            }
        }
        hw
    }

    #[test]
    fn imprints_sum_the_patterns_products() {
        let mut hw = memory(16);
        let spec = hw.hebb.unwrap();
        assert_eq!(spec.step, 4, "2^6 / 16");
        let pats: Vec<Vec<bool>> = (0..3u64)
            .map(|p| {
                (0..16u64)
                    .map(|i| (i * 5 + p * 3 + i * p) % 3 == 0)
                    .collect()
            })
            .collect();
        for x in &pats {
            imprint(&mut hw, &spec, x);
        }
        for i in 0..16 {
            for &(j, w) in &hw.rows[i] {
                let s: i64 = pats.iter().map(|x| if x[i] == x[j] { 1 } else { -1 }).sum();
                assert_eq!(w, 4 * s, "W[{i}][{j}]");
            }
        }
        // saturation at the weight's range
        for _ in 0..100 {
            imprint(&mut hw, &spec, &pats[0]);
        }
        assert!(hw.rows[0]
            .iter()
            .all(|&(_, w)| w.abs() >= 124 && w.abs() <= 128));
    }

    #[test]
    fn the_counters_walk_every_fully_coupled_stream() {
        for (layers, lanes, board, clock) in [
            ("[16]", 1, "icebreaker", 12_000_000),
            ("[20]", 3, "ulx3s-85f", 25_000_000),
            ("[6, 4]", 4, "ulx3s-85f", 25_000_000),
            ("[13, 10]", 4, "ulx3s-85f", 25_000_000),
            ("[9, 2]", 2, "icebreaker", 12_000_000),
        ] {
            let cfg = Config::parse(
                &format!("name='w'\n[network]\ninputs=1\nlayers={layers}\nintralayer=true\n[hardware]\nparams='ram'\nlanes={lanes}\n[target]\nboard='{board}'\nclock_hz={clock}\n"),
                "t",
            )
            .unwrap();
            let hw = quantize(&cfg, &Params::init(&cfg), 1).unwrap().0;
            assert!(walks(&Schedule::new(&hw)), "{layers} on {lanes} lanes");
        }
        // a layered network without intralayer couplings is not walked
        let cfg = Config::parse(
            "name='w'\n[network]\ninputs=1\nlayers=[8, 4]\n[hardware]\nparams='ram'\n",
            "t",
        )
        .unwrap();
        let hw = quantize(&cfg, &Params::init(&cfg), 1).unwrap().0;
        assert!(!walks(&Schedule::new(&hw)));
    }

    #[test]
    fn patterns_travel_as_bits() {
        let x: Vec<bool> = (0..11).map(|i| i % 3 == 0).collect();
        let p = pattern_payload(&x);
        assert_eq!(p, [0b0100_1001, 0b0000_0010]);
        assert_eq!(pattern_of_payload(&p, 11).unwrap(), x);
        assert!(pattern_of_payload(&p, 17).is_err());
    }
}
