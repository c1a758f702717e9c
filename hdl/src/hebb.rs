//! `pg_hebb`: on-chip Hebbian imprinting of the fully connected memory,
//! exactly `phasegen_sim::twin::hebb::imprint` (docs/learning.md "The
//! memory learns on chip").
//!
//! The pattern arrives a bit per cycle (`i_xi_*`, oscillators in order
//! from 0, streamed by `pg_top` from an Imprint frame) into two memories:
//! one bit per oscillator (for `ξ_j`) and the row groups' words (word `g`:
//! `ξ` of rows `g·L .. g·L + L − 1`, lane `l` at bit `l`). On `i_go` the
//! engine walks the W block's words with the dense stream's counters
//! (`phasegen_sim::twin::stream::DenseStream`: a fully coupled layer's
//! words are every neighbour `j` of every group, so no descriptor ROM).
//! Per word it reads the core's word (`o_pr_addr`, the core idle), `ξ_j`
//! and the group's `ξ`, then writes the word back through the core's W
//! write port with every valid lane moved by `±s` (`+s` where `ξ_i =
//! ξ_j`), saturated: two cycles a word, all lanes at once, no multiplier.

use crate::arith;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, slit, Expr, Module, Sig};
use phasegen_sim::twin::model::{HebbSpec, HwModel};
use phasegen_sim::twin::qformat::clog2;
use phasegen_sim::twin::sched::Schedule;

const S_IDLE: u64 = 0;
const S_RD: u64 = 1;
const S_W: u64 = 2;
const SB: u32 = 2;

/// Bits of a row group's index.
pub fn group_bits(hw: &HwModel) -> u32 {
    let sched = Schedule::new(hw);
    clog2(hw.n().div_ceil(sched.lanes) as u64).max(1)
}

/// The engine of `hw`, a Hebbian design imprinting with `spec`: a fully
/// coupled layer (the dense stream).
pub fn generate(hw: &HwModel, spec: &HebbSpec) -> Module {
    assert!(hw.params_in_ram, "Hebbian imprinting needs W in RAM");
    let sched = Schedule::new(hw);
    assert!(
        phasegen_sim::twin::hebb::walks(&sched),
        "Hebbian imprinting walks the words of a network whose every pair is coupled"
    );
    let n = hw.n();
    let lanes = sched.lanes;
    let lu = lanes as u32;
    let wb = hw.fmt.weight_bits;
    let groups = n.div_ceil(lanes);
    let gb = group_bits(hw);
    let a = clog2(n as u64);
    let fb = clog2((n + lanes) as u64);
    let lb = clog2(lanes as u64).max(1);
    let nw = sched.words.len();
    let ea = clog2(nw as u64);
    // the layers' ends: a row group never spans two layers
    let ends: Vec<usize> = hw
        .topo
        .layers
        .iter()
        .scan(0, |acc, &l| {
            *acc += l;
            Some(*acc)
        })
        .collect();
    let lead = sched.lead;

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
    let xi_idx = m.input("i_xi_idx", a);
    let xi_bit = m.input("i_xi_bit", 1);
    let pr_w = m.input("i_pr_w", lu * wb);
    let nl = |v: usize| lit(fb, v as u64);
    // the rows of the group starting at row `f`: min(L, its layer's end − f)
    let rows_of = |m: &mut Module, name: &str, f: Expr| -> Sig {
        let mut end = nl(*ends.last().unwrap());
        for &e in ends.iter().rev().skip(1) {
            end = Expr::mux(f.clone().lt(nl(e)), nl(e), end);
        }
        let rem = m.wire(&format!("{name}_rem"), end.sub(f));
        m.wire(name, Expr::mux(rem.e().lt(nl(lanes)), rem.e(), nl(lanes)))
    };

    // the pattern: a bit per oscillator, and packed by row group
    let xs = m.mem("xi_s", 1, n, None);
    let xg = m.mem("xi_g", lu, groups, None);
    let acc = m.reg("xi_acc", lu);
    let pl = m.reg("xi_lane", lb);
    let pg = m.reg("xi_group", gb);
    let pf = m.reg("xi_first", fb);
    // (a pattern's first bit restarts the packing)
    let first_bit = m.wire("xi_first_bit", xi_idx.e().eq(lit(a, 0)));
    let cur_pl = Expr::mux(first_bit.e(), lit(lb, 0), pl.e());
    let cur_pg = Expr::mux(first_bit.e(), lit(gb, 0), pg.e());
    let cur_pf = m.wire("xi_cur_first", Expr::mux(first_bit.e(), nl(0), pf.e()));
    let p_rows = rows_of(&mut m, "xi_rows", cur_pf.e());
    let full = cur_pl
        .clone()
        .zext(fb.max(lb))
        .add(lit(fb.max(lb), 1))
        .eq(p_rows.e().zext(fb.max(lb)));
    let packed = m.wire(
        "xi_packed",
        Expr::concat(
            (0..lu)
                .rev()
                .map(|l| {
                    Expr::mux(
                        cur_pl.clone().eq(lit(lb, l as u64)),
                        xi_bit.e(),
                        Expr::mux(first_bit.e(), lit(1, 0), acc.bit(l)),
                    )
                })
                .collect(),
        ),
    );
    m.always(
        &clk,
        vec![if_(
            xi_we.e(),
            vec![
                set_mem(&xs, xi_idx.e(), xi_bit.e()),
                if_else(
                    full,
                    vec![
                        set_mem(&xg, cur_pg.clone(), packed.e()),
                        set(&pg, cur_pg.clone().add(lit(gb, 1))),
                        set(&pf, cur_pf.e().add(p_rows.e())),
                        set(&pl, lit(lb, 0)),
                        set(&acc, lit(lu, 0)),
                    ],
                    vec![
                        set(&pg, cur_pg),
                        set(&pf, cur_pf.e()),
                        set(&pl, cur_pl.add(lit(lb, 1))),
                        set(&acc, packed.e()),
                    ],
                ),
            ],
        )],
    );

    // the walk: word e, its neighbour j, its group (first row, index)
    let st = m.reg_init("st", SB, false, Some(S_IDLE));
    let in_st = |v: u64| st.e().eq(lit(SB, v));
    let e = m.reg("e", ea);
    let cj = m.reg("cj", a);
    let cf = m.reg("cf", fb);
    let cg = m.reg("cg", gb);
    let done_r = m.reg_init("done_r", 1, false, Some(0));
    let xs_q = m.reg("xs_q", 1);
    let xg_q = m.reg("xg_q", lu);
    m.mem_read(&clk, &xs, &xs_q, cj.e());
    m.mem_read(&clk, &xg, &xg_q, cg.e());
    // one row skips the diagonal
    let c_rows = rows_of(&mut m, "rows", cf.e());
    let single = m.wire("single", c_rows.e().eq(nl(1)));
    let cj_f = m.wire("cj_f", cj.e().zext(fb));
    let j_last = m.wire(
        "j_last",
        Expr::mux(single.e().land(cf.e().eq(nl(n - 1))), nl(n - 2), nl(n - 1)),
    );
    let lanes_new: Vec<Expr> = (0..lu)
        .map(|l| {
            let row = cf.e().add(nl(l as usize));
            let valid = nl(l as usize).lt(c_rows.e()).land(row.ne(cj_f.e()));
            let w_l = m.wire(
                &format!("w{l}"),
                pr_w.slice(l * wb + wb - 1, l * wb).as_signed(),
            );
            let same = xg_q.bit(l).eq(xs_q.e());
            let dd = Expr::mux(same, slit(wb + 1, spec.step), slit(wb + 1, -spec.step));
            let sum = m.wire(&format!("s{l}"), w_l.sext(wb + 1).add(dd));
            let sat = arith::sat(&mut m, &format!("n{l}"), &sum, wb);
            Expr::mux(valid, sat.e().as_unsigned(), w_l.e().as_unsigned())
        })
        .collect();
    let new_word = m.wire(
        "new_word",
        Expr::concat(lanes_new.into_iter().rev().collect()),
    );
    let last = m.wire("last", e.e().eq(lit(ea, nw as u64 - 1)));
    let first_rows = ends[0].min(lanes);
    let advance = vec![if_else(
        cj_f.e().eq(j_last.e()),
        vec![
            set(&cj, lit(a, 0)),
            set(&cf, cf.e().add(c_rows.e())),
            set(&cg, cg.e().add(lit(gb, 1))),
        ],
        vec![if_else(
            single.e().land(cj_f.e().add(nl(1)).eq(cf.e())),
            vec![set(&cj, cj.e().add(lit(a, 2)))],
            vec![set(&cj, cj.e().add(lit(a, 1)))],
        )],
    )];
    let mut write = vec![if_else(
        last.e(),
        vec![set(&done_r, lit(1, 1)), set(&st, lit(SB, S_IDLE))],
        vec![set(&e, e.e().add(lit(ea, 1))), set(&st, lit(SB, S_RD))],
    )];
    write.extend(advance);
    let arms = vec![
        (
            vec![lit(SB, S_IDLE)],
            vec![if_(
                go.e(),
                vec![
                    // (the lead bubbles hold no weight: the walk starts after them)
                    set(&e, lit(ea, lead as u64)),
                    set(&cj, lit(a, (first_rows == 1) as u64)),
                    set(&cf, nl(0)),
                    set(&cg, lit(gb, 0)),
                    set(&st, lit(SB, S_RD)),
                ],
            )],
        ),
        (vec![lit(SB, S_RD)], vec![set(&st, lit(SB, S_W))]),
        (vec![lit(SB, S_W)], write),
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
    m.output("o_w_we", in_st(S_W));
    m.output("o_w_addr", e.e());
    m.output("o_w_data", new_word.e());
    m.output("o_busy", in_st(S_IDLE).not());
    m.output("o_done", done_r.e());
    m
}
