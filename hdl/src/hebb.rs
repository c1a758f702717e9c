//! `pg_hebb`: on-chip Hebbian imprinting of the fully connected memory,
//! exactly `phasegen_sim::twin::hebb::imprint` (docs/learning.md "The
//! memory learns on chip").
//!
//! The pattern `ξ` sits in two copies of a memory of the row groups' bits
//! (word `g`: `ξ` of rows `g·L .. g·L + L − 1`, lane `l` at bit `l`; two
//! copies for two reads a word), written by `pg_top` from an Imprint
//! frame (`i_xi_*`). On `i_go` the engine walks the W block's words. Per
//! word it reads the core's word (`o_pr_addr`, answered on `i_pr_w` a cycle
//! later, the core idle) and the word's descriptor `{group of its rows,
//! group and lane of j, lane mask}`, then `ξ_j`'s and the rows' group
//! words, and writes the word back through the core's W write port with
//! every valid lane moved by `±s` (`+s` where `ξ_i = ξ_j`), saturated:
//! three cycles a word, all lanes at once, no multiplier.

use crate::arith;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, slit, Expr, Module};
use phasegen_sim::twin::model::{HebbSpec, HwModel};
use phasegen_sim::twin::qformat::clog2;
use phasegen_sim::twin::sched::Schedule;

const S_IDLE: u64 = 0;
const S_RD: u64 = 1;
const S_J: u64 = 2;
const S_C: u64 = 3;
const SB: u32 = 2;

/// Bits of a row group's index.
pub fn group_bits(hw: &HwModel) -> u32 {
    let sched = Schedule::new(hw);
    clog2(hw.n().div_ceil(sched.lanes) as u64).max(1)
}

/// The engine of `hw`, a Hebbian design imprinting with `spec`.
pub fn generate(hw: &HwModel, spec: &HebbSpec) -> Module {
    assert!(hw.params_in_ram, "Hebbian imprinting needs W in RAM");
    assert!(!hw.pairs, "Hebbian imprinting works on the rows stream");
    let sched = Schedule::new(hw);
    let n = hw.n();
    let lanes = sched.lanes;
    let lu = lanes as u32;
    let wb = hw.fmt.weight_bits;
    let groups = n.div_ceil(lanes);
    let gb = group_bits(hw);
    // (the lane of j: none at one lane)
    let lb = if lu > 1 { clog2(lanes as u64) } else { 0 };
    let nw = sched.words.len();
    let ea = clog2(nw as u64);

    let mut m = Module::new("pg_hebb");
    m.doc("pg_hebb: Hebbian imprinting of the fully connected memory (see docs/learning.md).");
    m.doc(&format!(
        "{n} oscillators, {lanes} lanes, {nw} W words; W moves {} LSB per pattern and pair",
        spec.step
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let go = m.input("i_go", 1);
    let xi_we = m.input("i_xi_we", 1);
    let xi_addr = m.input("i_xi_addr", gb);
    let xi_data = m.input("i_xi_data", lu);
    let pr_w = m.input("i_pr_w", lu * wb);

    // the pattern, twice (one read each); the words' descriptors
    let xa = m.mem("xi_a", lu, groups, None);
    let xb = m.mem("xi_b", lu, groups, None);
    for mem in [&xa, &xb] {
        m.always(
            &clk,
            vec![if_(xi_we.e(), vec![set_mem(mem, xi_addr.e(), xi_data.e())])],
        );
    }
    let dw = 2 * gb + lb + lu;
    let mut g = 0;
    let desc: Vec<u128> = sched
        .words
        .iter()
        .map(|w| {
            let d = ((g as u128) << (gb + lb + lu))
                | (((w.j / lanes) as u128) << (lb + lu))
                | (((w.j % lanes) as u128) << lu)
                | w.mask as u128;
            g += w.last as usize;
            d
        })
        .collect();
    let desc_m = m.mem_wide("w_desc", dw, nw.max(1), Some(desc));

    let st = m.reg_init("st", SB, false, Some(S_IDLE));
    let in_st = |v: u64| st.e().eq(lit(SB, v));
    let e = m.reg("e", ea);
    let done_r = m.reg_init("done_r", 1, false, Some(0));
    let desc_q = m.reg("desc_q", dw);
    m.mem_read(&clk, &desc_m, &desc_q, e.e());
    let g_i = desc_q.slice(dw - 1, gb + lb + lu);
    let g_j = desc_q.slice(gb + lb + lu - 1, lb + lu);
    // (one lane: every ξ_j is bit 0 of its word)
    let l_j = (lu > 1).then(|| m.reg("l_j", lb));
    let mask = m.reg("mask", lu);
    let xa_q = m.reg("xa_q", lu);
    let xb_q = m.reg("xb_q", lu);
    assert_eq!(xa.addr_bits, gb);
    m.mem_read(&clk, &xa, &xa_q, g_j);
    m.mem_read(&clk, &xb, &xb_q, g_i);
    let w_q = m.reg("w_q", lu * wb);

    // ξ_j, then each lane's new weight
    let mut xj = xa_q.bit(0);
    if let Some(l_j) = &l_j {
        for k in 1..lu {
            xj = Expr::mux(l_j.e().eq(lit(lb, k as u64)), xa_q.bit(k), xj);
        }
    }
    let xj = m.wire("xi_j", xj);
    let lanes_new: Vec<Expr> = (0..lu)
        .map(|l| {
            let w_l = m.wire(
                &format!("w{l}"),
                w_q.slice(l * wb + wb - 1, l * wb).as_signed(),
            );
            let same = xb_q.bit(l).eq(xj.e());
            let d = Expr::mux(same, slit(wb + 1, spec.step), slit(wb + 1, -spec.step));
            let sum = m.wire(&format!("s{l}"), w_l.sext(wb + 1).add(d));
            let sat = arith::sat(&mut m, &format!("n{l}"), &sum, wb);
            Expr::mux(mask.bit(l), sat.e().as_unsigned(), w_l.e().as_unsigned())
        })
        .collect();
    let new_word = m.wire(
        "new_word",
        Expr::concat(lanes_new.into_iter().rev().collect()),
    );
    let last = m.wire("last", e.e().eq(lit(ea, nw as u64 - 1)));
    let arms = vec![
        (
            vec![lit(SB, S_IDLE)],
            vec![if_(
                go.e(),
                vec![set(&e, lit(ea, 0)), set(&st, lit(SB, S_RD))],
            )],
        ),
        (vec![lit(SB, S_RD)], vec![set(&st, lit(SB, S_J))]),
        (vec![lit(SB, S_J)], {
            let mut v = vec![
                set(&w_q, pr_w.e()),
                set(&mask, desc_q.slice(lu - 1, 0)),
                set(&st, lit(SB, S_C)),
            ];
            v.extend(l_j.iter().map(|r| set(r, desc_q.slice(lb + lu - 1, lu))));
            v
        }),
        (
            vec![lit(SB, S_C)],
            vec![if_else(
                last.e(),
                vec![set(&done_r, lit(1, 1)), set(&st, lit(SB, S_IDLE))],
                vec![set(&e, e.e().add(lit(ea, 1))), set(&st, lit(SB, S_RD))],
            )],
        ),
    ];
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![set(&st, lit(SB, S_IDLE)), set(&done_r, lit(1, 0))],
            vec![
                set(&done_r, lit(1, 0)),
                case(st.e(), arms, vec![set(&st, lit(SB, S_IDLE))]),
            ],
        )],
    );
    m.output("o_pr_addr", e.e());
    m.output("o_w_we", in_st(S_C));
    m.output("o_w_addr", e.e());
    m.output("o_w_data", new_word.e());
    m.output("o_busy", in_st(S_IDLE).not());
    m.output("o_done", done_r.e());
    m
}
