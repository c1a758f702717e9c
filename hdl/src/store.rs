//! `pg_store`: the sample store of a learning design (`hardware.store`),
//! exactly `phasegen_sim::twin::store` (docs/learning.md "The training set
//! on chip").
//!
//! One single-port memory of 16-bit words in the layout of
//! [`StoreLayout`] (the UP5K's SPRAM: no initial contents). `pg_top`
//! writes it a word at a time on StoreSample (`i_we`: sample `i_idx`'s
//! word `i_word`, or with `i_lab` its label word). On `i_go` it runs an
//! epoch: for `k = 0 .. count`, sample `idx` (from `first`, then
//! `idx + stride` less `count` when that reaches `count`) is copied into
//! the input RAM through `o_x_*` (one input per cycle, a cycle behind the
//! word reads), its label is read, and a learning step is started on the
//! engine (`o_learn`, `o_label`); when the engine is done, its free class
//! is compared with the label. `o_done` pulses after the last sample,
//! with the count of right classes on `o_correct`.

use crate::vlog::{case, if_, if_else, lit, set, set_mem, Expr, Module};
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::qformat::clog2;
use phasegen_sim::twin::store::{StoreLayout, STORE_WORD_BITS};

/// Words of one UP5K SPRAM.
const SPRAM_WORDS: usize = 16384;

// FSM states.
const S_IDLE: u64 = 0;
const S_LOAD: u64 = 1;
const S_LAB: u64 = 2;
const S_LABQ: u64 = 3;
const S_WAIT: u64 = 4;
const SB: u32 = 3;

/// Bits of a sample index (below the store's samples).
pub fn index_bits(l: &StoreLayout) -> u32 {
    clog2(l.cap as u64).max(1)
}

/// Bits of a word number within a sample's slot.
pub fn word_bits(l: &StoreLayout) -> u32 {
    l.wps.trailing_zeros().max(1)
}

/// The store of `hw`, which must have one.
pub fn generate(hw: &HwModel) -> Module {
    let l = StoreLayout::of(hw).expect("a design with hardware.store");
    let ni = hw.topo.inputs;
    let xb = hw.fmt.input_bits;
    let ia = clog2(ni as u64);
    let cb = clog2(hw.topo.classes() as u64);
    let ib = index_bits(&l);
    let wb = word_bits(&l);
    let lg_ipw = l.ipw.trailing_zeros();
    let lg_wps = l.wps.trailing_zeros();
    let ww = STORE_WORD_BITS;
    let depth = l.depth();
    let aw = clog2(depth as u64);

    let mut m = Module::new("pg_store");
    m.doc("pg_store: the sample store of on-chip learning (see docs/learning.md).");
    m.doc(&format!(
        "{} samples of {ni} inputs, {} inputs per {ww}-bit word, {} words per sample, labels from word {}",
        l.cap,
        l.ipw,
        l.wps,
        l.label_addr(0)
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let we = m.input("i_we", 1);
    let lab = m.input("i_lab", 1);
    let w_idx = m.input("i_idx", ib);
    // (no word number when a sample takes one word)
    let w_word = (lg_wps > 0).then(|| m.input("i_word", wb));
    let w_data = m.input("i_wdata", ww);
    let go = m.input("i_go", 1);
    let count = m.input("i_count", 16);
    let first = m.input("i_first", 16);
    let stride = m.input("i_stride", 16);
    let l_done = m.input("i_l_done", 1);
    let l_class = m.input("i_l_class", cb);

    let st = m.reg_init("st", SB, false, Some(S_IDLE));
    let n_r = m.reg("n_r", 16);
    let stride_r = m.reg("stride_r", 16);
    let k = m.reg("k", 16);
    let idx = m.reg("idx", 16);
    let correct = m.reg("correct", 16);
    let j = m.reg("j", ia + 1);
    let jd = m.reg("jd", ia + 1);
    let v = m.reg_init("v", 1, false, Some(0));
    let label_q = m.reg("label_q", cb);
    let done_r = m.reg_init("done_r", 1, false, Some(0));
    let learn_r = m.reg_init("learn_r", 1, false, Some(0));
    let x_we = m.reg_init("x_we", 1, false, Some(0));
    let x_addr = m.reg("x_addr", ia);
    let x_data = m.reg("x_data", xb);
    let in_st = |s: u64| st.e().eq(lit(SB, s));

    // addresses: {sample, word} for inputs, cap · wps + sample for labels
    let word_addr = |i: Expr, w: Option<Expr>| -> Expr {
        match w {
            Some(w) => Expr::concat(vec![i, w]).zext(aw),
            None => i.zext(aw),
        }
    };
    let lab_addr = |i: Expr| -> Expr { lit(aw, (l.cap * l.wps) as u64).add(i.zext(aw)) };
    let idx_lo = m.wire_partial(
        "idx_lo",
        idx.e(),
        "the sample index is below the store's samples: its low bits address it",
    );
    let idx_a = idx_lo.slice(ib - 1, 0);
    let j_word = (lg_wps > 0).then(|| {
        let jw = m.wire_partial(
            "j_word",
            j.e().zext((ia + 1).max(lg_ipw + lg_wps)),
            "the input counter's word: inputs / inputs per word",
        );
        jw.slice(lg_ipw + lg_wps - 1, lg_ipw)
    });
    let w_word_a = w_word.as_ref().map(|w| w.e());
    let r_addr = m.wire(
        "r_addr",
        Expr::mux(
            in_st(S_LAB),
            lab_addr(idx_a.clone()),
            word_addr(idx_a, j_word),
        ),
    );
    let addr = m.wire(
        "addr",
        Expr::mux(
            we.e(),
            Expr::mux(lab.e(), lab_addr(w_idx.e()), word_addr(w_idx.e(), w_word_a)),
            r_addr.e(),
        ),
    );
    // one memory, or on the UP5K one per SPRAM's 16384 words (Yosys maps
    // a memory to SPRAMs only within one), the read word picked by the
    // bank the address was in; one port: a write, else a read
    let banks = if hw.spram {
        depth.div_ceil(SPRAM_WORDS)
    } else {
        1
    };
    let per = if banks > 1 { SPRAM_WORDS } else { depth };
    let bank_bits = clog2(per as u64);
    let mut qs = Vec::new();
    for b in 0..banks {
        let d_b = per.min(depth - b * per);
        let name = if banks > 1 {
            format!("st_mem{b}")
        } else {
            "st_mem".to_string()
        };
        let mem = if hw.spram {
            m.mem_styled(&name, ww, d_b, "huge")
        } else {
            m.mem(&name, ww, d_b, None)
        };
        let (sel, a_b) = if banks > 1 {
            (
                addr.slice(aw - 1, bank_bits)
                    .eq(lit(aw - bank_bits, b as u64)),
                addr.slice(mem.addr_bits - 1, 0),
            )
        } else {
            (lit(1, 1), addr.slice(mem.addr_bits - 1, 0))
        };
        let q_b = if banks > 1 {
            m.reg(&format!("q{b}"), ww)
        } else {
            m.reg("q", ww)
        };
        m.always(
            &clk,
            vec![if_else(
                we.e().land(sel),
                vec![set_mem(&mem, a_b.clone(), w_data.e())],
                vec![set(&q_b, Expr::MemRead(mem.clone(), Box::new(a_b)))],
            )],
        );
        qs.push(q_b);
    }
    let q_e = if banks > 1 {
        let bsel = m.reg("q_bank", aw - bank_bits);
        m.always(&clk, vec![set(&bsel, addr.slice(aw - 1, bank_bits))]);
        let mut e = qs[0].e();
        for (b, q_b) in qs.iter().enumerate().skip(1) {
            e = Expr::mux(bsel.e().eq(lit(aw - bank_bits, b as u64)), q_b.e(), e);
        }
        e
    } else {
        qs[0].e()
    };
    let q = m.wire_partial(
        "q_fields",
        q_e,
        "a word's input fields (and a label word's low bits) are read; the rest is padding",
    );
    // input jd's field of the word read for it
    let slot = |m: &mut Module| -> Expr {
        if l.ipw == 1 {
            return q.slice(xb - 1, 0);
        }
        let s = m.wire_partial(
            "slot",
            jd.e(),
            "the input's place in its word: the low bits of its number",
        );
        let sel = s.slice(lg_ipw - 1, 0);
        let mut e = q.slice(xb - 1, 0);
        for k in 1..l.ipw as u32 {
            e = Expr::mux(
                sel.clone().eq(lit(lg_ipw, k as u64)),
                q.slice(k * xb + xb - 1, k * xb),
                e,
            );
        }
        e
    };
    let x_of_q = slot(&mut m);
    let x_of_q = m.wire("x_of_q", x_of_q);
    let jd_a = m.wire_partial(
        "jd_a",
        jd.e(),
        "an input number below the input count: its low bits address it",
    );
    let ni_l = lit(ia + 1, ni as u64);
    // the next sample: idx + stride, less count when it reaches count
    let nxt = m.wire("idx_sum", idx.e().zext(17).add(stride_r.e().zext(17)));
    let nxt_w = m.wire_partial(
        "idx_next",
        Expr::mux(
            nxt.e().ge(n_r.e().zext(17)),
            nxt.e().sub(n_r.e().zext(17)),
            nxt.e(),
        ),
        "below count after the subtraction: 16 bits",
    );
    let last_k = m.wire("last_k", k.e().add(lit(16, 1)).eq(n_r.e()));
    let right = m.wire("right", l_class.e().eq(label_q.e()));

    let arms = vec![
        (
            vec![lit(SB, S_IDLE)],
            vec![if_(
                go.e(),
                vec![
                    set(&n_r, count.e()),
                    set(&stride_r, stride.e()),
                    set(&idx, first.e()),
                    set(&k, lit(16, 0)),
                    set(&correct, lit(16, 0)),
                    set(&j, lit(ia + 1, 0)),
                    set(&v, lit(1, 0)),
                    set(&st, lit(SB, S_LOAD)),
                ],
            )],
        ),
        (
            vec![lit(SB, S_LOAD)],
            vec![
                set(&x_we, v.e()),
                set(&x_addr, jd_a.slice(ia - 1, 0)),
                set(&x_data, x_of_q.e()),
                if_else(
                    j.e().lt(ni_l.clone()),
                    vec![
                        set(&jd, j.e()),
                        set(&j, j.e().add(lit(ia + 1, 1))),
                        set(&v, lit(1, 1)),
                    ],
                    vec![
                        set(&v, lit(1, 0)),
                        if_(v.e().not(), vec![set(&st, lit(SB, S_LAB))]),
                    ],
                ),
            ],
        ),
        (vec![lit(SB, S_LAB)], vec![set(&st, lit(SB, S_LABQ))]),
        (
            vec![lit(SB, S_LABQ)],
            vec![
                set(&label_q, q.slice(cb - 1, 0)),
                set(&learn_r, lit(1, 1)),
                set(&st, lit(SB, S_WAIT)),
            ],
        ),
        (
            vec![lit(SB, S_WAIT)],
            vec![if_(
                l_done.e(),
                vec![
                    if_(right.e(), vec![set(&correct, correct.e().add(lit(16, 1)))]),
                    if_else(
                        last_k.e(),
                        vec![set(&done_r, lit(1, 1)), set(&st, lit(SB, S_IDLE))],
                        vec![
                            set(&k, k.e().add(lit(16, 1))),
                            set(&idx, nxt_w.slice(15, 0)),
                            set(&j, lit(ia + 1, 0)),
                            set(&v, lit(1, 0)),
                            set(&st, lit(SB, S_LOAD)),
                        ],
                    ),
                ],
            )],
        ),
    ];
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                set(&st, lit(SB, S_IDLE)),
                set(&done_r, lit(1, 0)),
                set(&learn_r, lit(1, 0)),
                set(&x_we, lit(1, 0)),
                set(&v, lit(1, 0)),
            ],
            vec![
                set(&done_r, lit(1, 0)),
                set(&learn_r, lit(1, 0)),
                set(&x_we, lit(1, 0)),
                case(st.e(), arms, vec![set(&st, lit(SB, S_IDLE))]),
            ],
        )],
    );
    m.output("o_busy", in_st(S_IDLE).not());
    m.output("o_done", done_r.e());
    m.output("o_correct", correct.e());
    m.output("o_x_we", x_we.e());
    m.output("o_x_addr", x_addr.e());
    m.output("o_x_data", x_data.e());
    m.output("o_learn", learn_r.e());
    m.output("o_label", label_q.e());
    m
}
