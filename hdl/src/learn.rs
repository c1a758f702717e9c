//! `pg_learn`: the update engine of on-chip learning, exactly
//! `phasegen_sim::twin::learn::Learner::update` (docs/learning.md).
//!
//! It keeps no copy of the parameters: while the core is idle, the core's
//! RAMs answer its reads (`o_pr_addr`, the words on `i_pr_*` a cycle
//! later). Each shadow is `(value << shadow_bits) + r`; the engine holds
//! only the low parts `r` (`shadow_bits + 1` bits per lane, in one
//! single-port memory at `{block, word}`, cleared after reset and wherever
//! the host writes: SPRAM on the UP5K). It also holds the phases of the
//! `+β` and reference states (written through `i_ph_*` or copied by the
//! sequencer) and the sample's inputs (`i_x_*`, the same writes the core's
//! input RAM takes). On `i_go` it walks the W block's words, then U's,
//! then the oscillator words; per word it reads the core's value and the
//! low part (and `θ_j` of both states for W), then issues its lane
//! elements one per cycle into four stages:
//! 1. the phase reads (`θ_i` of both states);
//! 2. W: the folded differences' table indices, U and h: the phases' own;
//!    the cosine table reads;
//! 3. `d` (times `x_k` for U) and the product with the block's rate `m`;
//! 4. `round_shift` by the rate's shift, the saturated add to the shadow;
//!
//! and writes each finished word, as the datapath value
//! `sat(round_shift(shadow, shadow_bits))`, to the core's write port
//! (`o_w_*`, `o_u_*`, `o_o_*`, the ports WriteWeights uses) and its new
//! low parts to their memory. An oscillator word keeps the K, ω and θ0 it
//! was read with.

use crate::arith;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, slit, Expr, Mem, Module, Sig, Stmt};
use phasegen_sim::twin::learn::LearnSpec;
use phasegen_sim::twin::model::{sin_table, HwModel};
use phasegen_sim::twin::qformat::{clog2, wrap};
use phasegen_sim::twin::sched::Schedule;

// FSM states.
const S_IDLE: u64 = 0;
const S_RD: u64 = 1;
const S_LAT: u64 = 2;
/// The word's lane elements, one issued per cycle through the four
/// stages (phase reads, table reads, product, add).
const S_PIPE: u64 = 3;
const S_WR: u64 = 7;
/// After reset: the low parts' memory cleared word by word.
const S_CLR: u64 = 8;
const STATE_BITS: u32 = 4;

// Blocks in the order they are updated.
const B_W: u64 = 0;
const B_U: u64 = 1;
const B_O: u64 = 2;

/// One of `items` by a run-time index (a mux chain; `items[0]` by default).
fn select(idx: &Expr, items: &[Expr]) -> Expr {
    let mut e = items[0].clone();
    for (k, it) in items.iter().enumerate().skip(1) {
        e = Expr::mux(idx.clone().eq(lit(idx.width(), k as u64)), it.clone(), e);
    }
    e
}

/// A memory of at most 128-bit words with initial contents.
fn init_mem(m: &mut Module, name: &str, width: u32, words: Vec<u128>) -> Mem {
    let depth = words.len().max(1);
    let mut words = words;
    words.resize(depth, 0);
    m.mem_wide(name, width, depth, Some(words))
}

/// The update engine of `hw` (which must have its parameters in RAM and
/// the rows stream) learning with `spec`.
pub fn generate(hw: &HwModel, spec: &LearnSpec) -> Module {
    assert!(
        hw.params_in_ram,
        "on-chip learning needs hardware.params = \"ram\""
    );
    assert!(!hw.pairs, "on-chip learning works on the rows stream");
    let sched = Schedule::new(hw);
    let f = hw.fmt;
    let n = hw.n();
    let (p, tb, s, wb, xb) = (
        f.phase_bits,
        f.table_bits,
        f.amp_bits,
        f.weight_bits,
        f.input_bits,
    );
    let sb = spec.shadow_bits;
    let sw = wb + sb;
    let lanes = sched.lanes;
    let lu = lanes as u32;
    let a = clog2(n as u64);
    let ni = hw.topo.inputs;
    let ia = clog2(ni as u64);
    let nw = sched.words.len();
    let nu = sched.field.len() * sched.field_len;
    let ea = clog2(nw as u64);
    let ua = clog2(nu.max(1) as u64);
    // the word counter also holds each block's word count
    let eb = clog2(nw.max(nu).max(n) as u64 + 1).max(ea).max(ua).max(a);
    let lw = clog2(lanes as u64 + 1);
    let ow = 2 * wb + 2 * p;

    let mut m = Module::new("pg_learn");
    m.doc("pg_learn: the update engine of on-chip learning (see docs/learning.md).");
    m.doc(&format!(
        "shadow bits {sb}; rates W {}/2^{}, U {}/2^{}, h {}/2^{}",
        spec.w.mult, spec.w.shift, spec.u.mult, spec.u.shift, spec.h.mult, spec.h.shift
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let go = m.input("i_go", 1);
    let ph_we = m.input("i_ph_we", 1);
    let ph_sel = m.input("i_ph_sel", 1);
    let ph_idx = m.input("i_ph_idx", a);
    let ph_val = m.input("i_ph_val", p);
    let x_we = m.input("i_x_we", 1);
    let x_addr = m.input("i_x_addr", ia);
    let x_data = m.input("i_x_data", xb);
    // the sequencer: a learning step on i_learn, the core driven through o_c_*
    let classes = hw.topo.classes();
    let cb = clog2(classes as u64);
    let learn = m.input("i_learn", 1);
    // a learning memory takes a pattern (bit o: output o towards +1), a
    // classifier a label
    let pattern = spec.pattern;
    let label = if pattern {
        m.input("i_pattern", classes as u32)
    } else {
        m.input("i_label", cb)
    };
    let c_done = m.input("i_c_done", 1);
    let c_class = m.input("i_c_class", cb);
    let rd_phase = m.input("i_rd_phase", p);
    // the host's writes (WriteWeights, taken by the core): the words'
    // shadows become the written values (their low parts cleared)
    let hw_w = (m.input("i_hw_w_we", 1), m.input("i_hw_w_addr", ea));
    let hw_u = (m.input("i_hw_u_we", 1), m.input("i_hw_u_addr", ua));
    let hw_o = (m.input("i_hw_o_we", 1), m.input("i_hw_o_addr", a));
    // ReadWeights: a word of a block (the protocol's numbering: 0 U, 1 W,
    // 2 the oscillator constants) while idle
    let rw_blk = m.input("i_rw_blk", 2);
    // (the widest block address)
    let ab = ea.max(ua).max(a);
    let rw_addr = m.input("i_rw_addr", ab);
    // the sequencer's phase captures take the phase memories' write port
    // from i_ph_* (which a testbench drives)
    let cap_we = m.reg_init("cap_we", 1, false, Some(0));
    let cap_sel = m.reg("cap_sel", 1);
    let cap_idx = m.reg("cap_idx", a);
    let cap_val = m.reg("cap_val", p);
    let pw_we = m.wire("pw_we", ph_we.e().lor(cap_we.e()));
    let pw_sel = m.wire("pw_sel", Expr::mux(cap_we.e(), cap_sel.e(), ph_sel.e()));
    let pw_idx = m.wire("pw_idx", Expr::mux(cap_we.e(), cap_idx.e(), ph_idx.e()));
    let pw_val = m.wire("pw_val", Expr::mux(cap_we.e(), cap_val.e(), ph_val.e()));

    // the core's parameter words (its RAMs answer i_pr_addr one cycle later)
    let pr_w = m.input("i_pr_w", lu * wb);
    let pr_u = m.input("i_pr_u", lu * wb);
    let pr_o = m.input("i_pr_o", ow);

    // ---------------- memories ----------------
    // the +β and reference phases: θ_j of a W word is read once (in S_LAT)
    // and kept, θ_i per lane element
    let pm: Vec<Mem> = ["ph_plus", "ph_ref"]
        .iter()
        .map(|nm| m.mem(nm, p, n, None))
        .collect();
    for (k, mem) in pm.iter().enumerate() {
        m.always(
            &clk,
            vec![if_(
                pw_we.e().land(pw_sel.e().eq(lit(1, k as u64))),
                vec![set_mem(mem, pw_idx.e(), pw_val.e())],
            )],
        );
    }
    let x_ram = m.mem("x_ram", xb, ni, None);
    m.always(
        &clk,
        vec![if_(x_we.e(), vec![set_mem(&x_ram, x_addr.e(), x_data.e())])],
    );
    let table = sin_table(&f);
    let nt = table.len();
    let cos: Vec<u64> = (0..nt).map(|k| wrap(table[(k + nt / 4) % nt], s)).collect();
    let cos_a = m.mem("cos_a", s, nt, Some(cos.clone()));
    let cos_b = m.mem("cos_b", s, nt, Some(cos));
    // W: {first, j, mask} per word
    let mut g = 0;
    let mut w_desc = Vec::with_capacity(nw);
    for w in &sched.words {
        let first = sched.groups[g].first;
        w_desc.push(((first as u128) << (a + lu)) | ((w.j as u128) << lu) | w.mask as u128);
        g += w.last as usize;
    }
    let w_desc_m = init_mem(&mut m, "w_desc", 2 * a + lu, w_desc);
    // U: group g's lane l is oscillator g·L + l, input k at g·field_len + k
    // (counters); ReadWeights' lane mask from a ROM where not every lane of
    // every word holds a parameter
    let fl = sched.field_len;
    let l0 = hw.topo.layers[0];
    let u_mask_of = |gr: &phasegen_sim::twin::stream::Group, k: usize| -> u128 {
        (0..lanes)
            .filter(|&l| l < gr.rows && k < ni && gr.first + l < l0)
            .fold(0u128, |acc, l| acc | 1 << l)
    };
    let full = (1u128 << lu) - 1;
    let u_masks: Vec<u128> = sched
        .field
        .iter()
        .flat_map(|gr| (0..fl).map(move |k| (gr, k)))
        .map(|(gr, k)| u_mask_of(gr, k))
        .collect();
    let u_mask_m = u_masks
        .iter()
        .any(|&mk| mk != full)
        .then(|| init_mem(&mut m, "u_mask", lu, u_masks));
    // the shadows' low parts: shadow = (datapath value << shadow_bits) + r,
    // r in [-2^(s-1), 2^s - 1] (s + 1 bits per lane; the top of that range
    // only where the value saturated), at {block, word}; zero after reset
    // (a clearing pass) and wherever the host writes; single address, no
    // initial contents: the UP5K's SPRAM
    let rl = sb + 1;
    let lo_w = lu * rl;
    let lo_ab = eb + 2;
    let lo_depth = (2usize << eb) + n;
    // (one memory per group of lanes whose word fits 128 bits)
    let per = (128 / rl).clamp(1, lu);
    let parts: Vec<(u32, u32)> = (0..lu)
        .step_by(per as usize)
        .map(|f| (f, (f + per).min(lu)))
        .collect();
    let one = parts.len() == 1;
    let lo_ms: Vec<Mem> = parts
        .iter()
        .enumerate()
        .map(|(g, &(f, t))| {
            let name = if one {
                "sh_lo".to_string()
            } else {
                format!("sh_lo{g}")
            };
            if hw.spram {
                m.mem_styled(&name, (t - f) * rl, lo_depth, "huge")
            } else {
                m.mem(&name, (t - f) * rl, lo_depth, None)
            }
        })
        .collect();

    // ---------------- control ----------------
    let go_int = m.reg_init("go_int", 1, false, Some(0));
    let q_act = m.reg_init("q_act", 1, false, Some(0));
    let pend = m.reg_init("pend", 1, false, Some(0));
    let st = m.reg_init("st", STATE_BITS, false, Some(S_CLR));
    let blk = m.reg("blk", 2);
    let e = m.reg("e", eb);
    let cl = m.reg_init("cl", lo_ab, false, Some(0));
    let l = m.reg("l", lw);
    // the elements in stages 2, 3 and 4: valid, lane
    let pv: Vec<Sig> = (1..=3)
        .map(|k| m.reg_init(&format!("v{k}"), 1, false, Some(0)))
        .collect();
    let pl: Vec<Sig> = (1..=3).map(|k| m.reg(&format!("l{k}"), lw)).collect();
    let l3 = pl[2].clone();
    let first = m.reg("first", a);
    let mask = m.reg("mask", lu);
    let kw = clog2(fl as u64 + 1);
    let u_k = m.reg("u_k", kw);
    let u_first = m.reg("u_first", a);
    let in_state = |v: u64| st.e().eq(lit(STATE_BITS, v));
    let is_blk = |v: u64| blk.e().eq(lit(2, v));
    // an update pass is running (not idle, not clearing)
    let upd = m.wire("upd", in_state(S_IDLE).lor(in_state(S_CLR)).not());
    m.output("o_busy", upd.e().lor(q_act.e()).lor(pend.e()));

    // reads: the engine's word while updating, else ReadWeights' word
    let ra = m.wire("ra", Expr::mux(upd.e(), e.slice(ab - 1, 0), rw_addr.e()));
    m.output("o_pr_addr", ra.e());
    let w_desc_q = m.reg("w_desc_q", 2 * a + lu);
    m.mem_read(&clk, &w_desc_m, &w_desc_q, ra.slice(ea - 1, 0));
    let u_mask_q = u_mask_m.as_ref().map(|um| {
        let q = m.reg("u_mask_q", lu);
        m.mem_read(&clk, um, &q, ra.slice(ua - 1, 0));
        q
    });
    let x_q = m.reg("x_q", xb);
    let x_ra = if kw > ia {
        u_k.slice(ia - 1, 0)
    } else {
        u_k.e().zext(ia)
    };
    m.mem_read(&clk, &x_ram, &x_q, x_ra);

    // the element's oscillators: i = first + l (the oscillator itself for h)
    let l_a = if lw >= a {
        l.slice(a - 1, 0)
    } else {
        l.e().zext(a)
    };
    let i_row = m.wire("i_row", first.e().add(l_a));
    let i_osc = m.wire(
        "i_osc",
        Expr::mux(is_blk(B_O), e.slice(a - 1, 0), i_row.e()),
    );
    let desc_j = w_desc_q.slice(a + lu - 1, lu);
    let ph_ra = m.wire("ph_ra", Expr::mux(in_state(S_LAT), desc_j, i_osc.e()));
    let ph_q: Vec<Sig> = ["pp_q", "pm_q"].iter().map(|nm| m.reg(nm, p)).collect();
    for (mem, q) in pm.iter().zip(&ph_q) {
        m.mem_read(&clk, mem, q, ph_ra.e());
    }
    // θ_j of the word (read in S_LAT, there as its first element issues)
    let qj: Vec<Sig> = ["ppj_q", "pmj_q"].iter().map(|nm| m.reg(nm, p)).collect();
    m.always(
        &clk,
        vec![if_(
            in_state(S_PIPE).land(l.e().eq(lit(lw, 0))),
            vec![set(&qj[0], ph_q[0].e()), set(&qj[1], ph_q[1].e())],
        )],
    );
    // table indices: W the folded difference's, U and h the phase's own
    let half = 1u64 << (p - 1);
    let fold = |m: &mut Module, name: &str, x: &Sig, y: &Sig| -> Sig {
        let d = m.wire(&format!("{name}_d"), x.e().sub(y.e()));
        let neg = m.wire(&format!("{name}_n"), lit(p, 0).sub(d.e()));
        m.wire_partial(
            name,
            Expr::mux(d.e().gt(lit(p, half)), neg.e(), d.e()),
            "only the table index (the top bits) is read",
        )
    };
    let fp = fold(&mut m, "fold_p", &ph_q[0], &qj[0]);
    let fm = fold(&mut m, "fold_m", &ph_q[1], &qj[1]);
    let is_w = m.wire("is_w", is_blk(B_W));
    let top = |x: &Sig| x.slice(p - 1, p - tb);
    let ang_p = m.wire("ang_p", Expr::mux(is_w.e(), top(&fp), top(&ph_q[0])));
    let ang_m = m.wire("ang_m", Expr::mux(is_w.e(), top(&fm), top(&ph_q[1])));
    let cpu = m.reg("cp_q", s);
    let cmu = m.reg("cm_q", s);
    m.mem_read(&clk, &cos_a, &cpu, ang_p.e());
    m.mem_read(&clk, &cos_b, &cmu, ang_m.e());

    // d, times x_k for U; the product with the block's multiplier
    let dw = s + 1;
    let cps = m.wire("cp", cpu.e().as_signed());
    let cms = m.wire("cm", cmu.e().as_signed());
    let d = m.wire("d", cps.sext(dw).sub(cms.sext(dw)));
    let xs = m.wire("xs", Expr::concat(vec![lit(1, 0), x_q.e()]).as_signed());
    let dxw = dw + xb + 1;
    let dx_u = m.wire("dx_u", d.e().mul(xs.e()));
    let dx = m.wire("dx", Expr::mux(is_blk(B_U), dx_u.e(), d.sext(dxw)));
    let rb = phasegen_sim::twin::learn::RATE_BITS + 1;
    let mult = m.wire(
        "mult",
        select(
            &blk.e(),
            &[
                slit(rb, spec.w.mult),
                slit(rb, spec.u.mult),
                slit(rb, spec.h.mult),
            ],
        ),
    );
    let pw = dxw + rb;
    let prod = m.reg_signed("prod", pw);
    // the block's shift: each a wiring of prod, the block selects
    let rs: Vec<Sig> = [spec.w.shift, spec.u.shift, spec.h.shift]
        .iter()
        .enumerate()
        .map(|(k, &sh)| arith::round_shift(&mut m, &format!("inc{k}_r"), &prod, sh.min(pw)))
        .collect();
    let iw = rs.iter().map(|r| r.width).max().unwrap().max(sw) + 1;
    let incs: Vec<Expr> = rs.iter().map(|r| r.sext(iw)).collect();
    let inc = m.wire("inc", select(&blk.e(), &incs));
    // the lane's shadow, the new shadow
    let acc: Vec<Sig> = (0..lu)
        .map(|k| m.reg_signed(&format!("acc{k}"), sw))
        .collect();
    let cur = m.wire(
        "cur",
        select(&l3.e(), &acc.iter().map(|s| s.e()).collect::<Vec<_>>()),
    );
    let sum = m.wire("sum", cur.sext(iw).add(inc.e()));
    let new = arith::sat(&mut m, "new_sh", &sum, sw);
    let valid = m.wire(
        "valid",
        Expr::mux(
            is_blk(B_O),
            lit(1, 1),
            if lanes == 1 {
                mask.e()
            } else {
                mask.index(l3.slice(clog2(lanes as u64) - 1, 0))
            },
        ),
    );
    // the datapath values of the word and the shadows' new low parts
    let vals: Vec<Sig> = acc
        .iter()
        .enumerate()
        .map(|(k, a_k)| {
            let r = arith::round_shift(&mut m, &format!("val{k}_r"), a_k, sb);
            arith::sat(&mut m, &format!("val{k}"), &r, wb)
        })
        .collect();
    let word_vals = Expr::concat(vals.iter().rev().map(|v| v.e().as_unsigned()).collect());
    let up = |v: Expr| -> Expr {
        if sb > 0 {
            Expr::concat(vec![v, lit(sb, 0)])
        } else {
            v
        }
    };
    let lo_new: Vec<Sig> = (0..lu)
        .map(|k| {
            let vs = m.wire(
                &format!("val{k}_up"),
                up(vals[k as usize].e().as_unsigned()).as_signed(),
            );
            let r = m.wire_partial(
                &format!("lo{k}_new"),
                acc[k as usize].sext(sw + 1).sub(vs.sext(sw + 1)),
                "the low part fits its s + 1 bits",
            );
            r
        })
        .collect();
    let lo_word = Expr::concat(lo_new.iter().rev().map(|r| r.slice(rl - 1, 0)).collect());
    // a shadow from the core's value and the low part
    let lo_qs: Vec<Sig> = if one {
        vec![m.reg("lo_q", lo_w)]
    } else {
        parts
            .iter()
            .enumerate()
            .map(|(g, &(f, t))| m.reg(&format!("lo_q{g}"), (t - f) * rl))
            .collect()
    };
    let lo_q = if one {
        lo_qs[0].clone()
    } else {
        m.wire(
            "lo_q",
            Expr::concat(lo_qs.iter().rev().map(|q| q.e()).collect()),
        )
    };
    let compose = |m: &mut Module, name: &str, v: Expr, k: u32| -> Expr {
        let vs = m.wire(&format!("{name}_v"), up(v).as_signed());
        let r = m.wire(
            &format!("{name}_lo"),
            lo_q.slice(k * rl + rl - 1, k * rl).as_signed(),
        );
        let sum = m.wire_partial(
            &format!("{name}_sh"),
            vs.sext(sw + 1).add(r.sext(sw + 1)),
            "a stored shadow fits its bits",
        );
        sum.slice(sw - 1, 0).as_signed()
    };

    // ---------------- outputs to the core ----------------
    // the finished word, written in S_WR (so that the next word's read, in
    // S_RD, finds the core's single-port RAMs free)
    let o_rest = m.reg("o_rest", wb + 2 * p);
    let wr_blk = |b: u64| in_state(S_WR).land(is_blk(b));
    m.output("o_w_we", wr_blk(B_W));
    m.output("o_w_addr", e.slice(ea - 1, 0));
    m.output("o_w_data", word_vals.clone());
    m.output("o_u_we", wr_blk(B_U));
    m.output("o_u_addr", e.slice(ua - 1, 0));
    m.output("o_u_data", word_vals);
    m.output("o_o_we", wr_blk(B_O));
    m.output("o_o_addr", e.slice(a - 1, 0));
    m.output(
        "o_o_data",
        Expr::concat(vec![vals[0].e().as_unsigned(), o_rest.e()]),
    );

    // ---------------- the low parts' memory ----------------
    // one port: a host write clears its word's low parts, else the clearing
    // pass or the update pass's write, else the read at {block, word}
    let blk_addr = |b: u64, x: Expr| -> Expr {
        let w = x.width();
        let x = if w < eb { x.zext(eb) } else { x };
        Expr::concat(vec![lit(2, b), x])
    };
    let host_we = m.wire("host_we", hw_w.0.e().lor(hw_u.0.e()).lor(hw_o.0.e()));
    let host_addr = Expr::mux(
        hw_w.0.e(),
        blk_addr(B_W, hw_w.1.e()),
        Expr::mux(
            hw_u.0.e(),
            blk_addr(B_U, hw_u.1.e()),
            blk_addr(B_O, hw_o.1.e()),
        ),
    );
    let in_wr = in_state(S_WR);
    let clearing = m.wire("clearing", in_state(S_CLR).land(host_we.e().not()));
    let lo_we = m.wire("lo_we", host_we.e().lor(clearing.e()).lor(in_wr.clone()));
    let lo_a = m.wire(
        "lo_addr",
        Expr::mux(
            host_we.e(),
            host_addr,
            Expr::mux(in_state(S_CLR), cl.e(), Expr::concat(vec![blk.e(), e.e()])),
        ),
    );
    let lo_d = m.wire(
        "lo_data",
        Expr::mux(host_we.e().not().land(in_wr.clone()), lo_word, lit(lo_w, 0)),
    );
    for ((mem, q), &(f, t)) in lo_ms.iter().zip(&lo_qs).zip(&parts) {
        let d = if one {
            lo_d.e()
        } else {
            lo_d.slice(t * rl - 1, f * rl)
        };
        m.always(
            &clk,
            vec![if_else(
                lo_we.e(),
                vec![set_mem(mem, lo_a.e(), d)],
                vec![set(q, Expr::MemRead(mem.clone(), Box::new(lo_a.e())))],
            )],
        );
    }

    // ReadWeights: the core's word at i_rw_addr (lanes that hold no
    // parameter read 0, as the twin's image has them)
    let rww = (lu * wb).max(ow);
    let masked = |q: &Sig, mk: Option<&Sig>| -> Expr {
        match mk {
            None => q.e(),
            Some(mk) => Expr::concat(
                (0..lu)
                    .rev()
                    .map(|l| Expr::mux(mk.bit(l), q.slice(l * wb + wb - 1, l * wb), lit(wb, 0)))
                    .collect(),
            ),
        }
    };
    let wmask = m.wire("rw_wmask", w_desc_q.slice(lu - 1, 0));
    let rw_w = masked(&pr_w, Some(&wmask));
    let rw_u = masked(&pr_u, u_mask_q.as_ref());
    let pad = |e: Expr| {
        let w = e.width();
        if w < rww {
            Expr::concat(vec![lit(rww - w, 0), e])
        } else {
            e
        }
    };
    m.output(
        "o_rw_data",
        select(&rw_blk.e(), &[pad(rw_u), pad(rw_w), pad(pr_o.e())]),
    );

    // ---------------- the update pass ----------------
    let lanes_of = Expr::mux(is_blk(B_O), lit(lw, 1), lit(lw, lanes as u64));
    let words_of = select(
        &blk.e(),
        &[lit(eb, nw as u64), lit(eb, nu as u64), lit(eb, n as u64)],
    );
    let goto = |v: u64| set(&st, lit(STATE_BITS, v));
    let lane_of = |q: &Sig, k: u32| q.slice(k * wb + wb - 1, k * wb);
    let lat_lanes = |m: &mut Module, tag: &str, q: &Sig| -> Vec<Stmt> {
        (0..lu)
            .map(|k| {
                let v = compose(m, &format!("sh_{tag}{k}"), lane_of(q, k), k);
                set(&acc[k as usize], v)
            })
            .collect()
    };
    let mut lat_w = lat_lanes(&mut m, "w", &pr_w);
    lat_w.extend([
        set(&first, w_desc_q.slice(2 * a + lu - 1, a + lu)),
        set(&mask, w_desc_q.slice(lu - 1, 0)),
    ]);
    let mut lat_u = lat_lanes(&mut m, "u", &pr_u);
    let u_lane_ok: Vec<Expr> = (0..lu)
        .rev()
        .map(|k| {
            u_first
                .e()
                .zext(a + 1)
                .add(lit(a + 1, k as u64))
                .lt(lit(a + 1, l0 as u64))
                .land(u_k.e().lt(lit(kw, ni as u64)))
        })
        .collect();
    lat_u.extend([
        set(&first, u_first.e()),
        set(&mask, Expr::concat(u_lane_ok)),
    ]);
    let h_of = pr_o.slice(ow - 1, wb + 2 * p);
    let lat_o = vec![
        set(&acc[0], compose(&mut m, "sh_h", h_of, 0)),
        set(&o_rest, pr_o.slice(wb + 2 * p - 1, 0)),
    ];
    let upd_lane: Vec<Stmt> = (0..lu)
        .map(|k| {
            if_(
                pv[2].e().land(l3.e().eq(lit(lw, k as u64))).land(valid.e()),
                vec![set(&acc[k as usize], new.e())],
            )
        })
        .collect();
    let e_next = e.e().add(lit(eb, 1));
    let u_next = u_k.e().add(lit(kw, 1));
    let wr = vec![
        if_(
            is_blk(B_U),
            vec![if_else(
                u_next.clone().eq(lit(kw, fl as u64)),
                vec![
                    set(&u_k, lit(kw, 0)),
                    set(&u_first, u_first.e().add(lit(a, lanes as u64))),
                ],
                vec![set(&u_k, u_next)],
            )],
        ),
        if_else(
            e_next.clone().eq(words_of),
            vec![
                set(&e, lit(eb, 0)),
                if_else(
                    is_blk(B_O),
                    vec![goto(S_IDLE)],
                    if pattern {
                        // a memory learns W only
                        vec![goto(S_IDLE)]
                    } else {
                        vec![set(&blk, blk.e().add(lit(2, 1))), goto(S_RD)]
                    },
                ),
            ],
            vec![set(&e, e_next), goto(S_RD)],
        ),
    ];
    let lat = vec![
        if_(is_blk(B_W), lat_w),
        if_(is_blk(B_U), lat_u),
        if_(is_blk(B_O), lat_o),
        set(&l, lit(lw, 0)),
        goto(S_PIPE),
    ];
    // one element issued per cycle; the word is written when its last
    // element leaves the last stage
    let issuing = m.wire("issuing", in_state(S_PIPE).land(l.e().lt(lanes_of)));
    let mut pipe = upd_lane;
    pipe.push(if_(issuing.e(), vec![set(&l, l.e().add(lit(lw, 1)))]));
    pipe.push(if_(
        pv[2]
            .e()
            .land(pv[1].e().not())
            .land(pv[0].e().not())
            .land(issuing.e().not()),
        vec![goto(S_WR)],
    ));
    let start = m.wire("start", go.e().lor(go_int.e()).lor(pend.e()));
    let clr_end = lit(lo_ab, lo_depth as u64 - 1);
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                goto(S_CLR),
                set(&cl, lit(lo_ab, 0)),
                set(&pend, lit(1, 0)),
                set(&pv[0], lit(1, 0)),
                set(&pv[1], lit(1, 0)),
                set(&pv[2], lit(1, 0)),
            ],
            vec![
                // a request while clearing or updating waits
                if_(go.e().lor(go_int.e()), vec![set(&pend, lit(1, 1))]),
                if_(
                    clearing.e(),
                    vec![if_else(
                        cl.e().eq(clr_end),
                        vec![goto(S_IDLE)],
                        vec![set(&cl, cl.e().add(lit(lo_ab, 1)))],
                    )],
                ),
                if_(
                    in_state(S_IDLE).land(start.e()),
                    vec![
                        set(&pend, lit(1, 0)),
                        set(&blk, lit(2, B_W)),
                        set(&e, lit(eb, 0)),
                        set(&u_k, lit(kw, 0)),
                        set(&u_first, lit(a, 0)),
                        goto(S_RD),
                    ],
                ),
                if_(in_state(S_RD), vec![goto(S_LAT)]),
                if_(in_state(S_LAT), lat),
                // the stages move every cycle
                set(&pv[0], issuing.e()),
                set(&pl[0], l.e()),
                set(&pv[1], pv[0].e()),
                set(&pl[1], pl[0].e()),
                set(&pv[2], pv[1].e()),
                set(&pl[2], pl[1].e()),
                set(&prod, dx.e().mul(mult.e())),
                if_(in_state(S_PIPE), pipe),
                if_(in_state(S_WR), wr),
            ],
        )],
    );

    // ---------------- the learning step's sequence ----------------
    let t = |steps: u32| steps;
    let mut prog = vec![
        Op::Run {
            init: true,
            steps: t(spec.t1),
            beta: 0,
        },
        Op::Class,
    ];
    if pattern {
        prog.push(Op::Agree);
    }
    if spec.symmetric {
        prog.extend([
            Op::Run {
                init: false,
                steps: spec.t2,
                beta: spec.beta,
            },
            Op::Copy(0),
            // the free state again (the same steps give the same phases)
            Op::Run {
                init: true,
                steps: spec.t1,
                beta: 0,
            },
            Op::Run {
                init: false,
                steps: spec.t2,
                beta: -spec.beta,
            },
            Op::Copy(1),
        ]);
    } else {
        prog.extend([
            Op::Copy(1),
            Op::Run {
                init: false,
                steps: spec.t2,
                beta: spec.beta,
            },
            Op::Copy(0),
        ]);
    }
    prog.push(Op::Update);
    let pcw = clog2(prog.len() as u64 + 1);
    let pc = m.reg("pc", pcw);
    let sub = m.reg("sub", 2);
    let ci = m.reg("ci", a);
    let label_r = m.reg("label_r", label.width);
    let class_r = m.reg("class_r", cb);
    // (a memory) the free state's agreement with the pattern, and the
    // nudge's targets σ ξ
    let agw = clog2(n as u64 + 1) + 1;
    let agree = pattern.then(|| m.reg_signed("agree", agw));
    let done_r = m.reg_init("done_r", 1, false, Some(0));
    let c_start = m.reg_init("c_start", 1, false, Some(0));
    let c_init = m.reg("c_init", 1);
    let c_steps = m.reg("c_steps", 16);
    let c_beta = m.reg_signed("c_beta", wb);
    let c_target = m.reg("c_target", classes as u32);
    let rd_addr = m.reg("rd_addr", a);
    let one_hot = if pattern {
        // σ = −1 flips every target
        let neg = agree.as_ref().unwrap().bit(agw - 1);
        Expr::concat(
            (0..classes)
                .rev()
                .map(|o| label_r.bit(o as u32).xor(neg.clone()))
                .collect(),
        )
    } else {
        Expr::concat(
            (0..classes)
                .rev()
                .map(|o| label_r.e().eq(lit(cb, o as u64)))
                .collect(),
        )
    };
    let sub_is = |v: u64| sub.e().eq(lit(2, v));
    let next = vec![set(&pc, pc.e().add(lit(pcw, 1))), set(&sub, lit(2, 0))];
    let arms: Vec<(Vec<Expr>, Vec<Stmt>)> = prog
        .iter()
        .enumerate()
        .map(|(k, op)| {
            let body = match *op {
                Op::Run { init, steps, beta } => vec![if_else(
                    sub_is(0),
                    vec![
                        set(&c_start, lit(1, 1)),
                        set(&c_init, lit(1, init as u64)),
                        set(&c_steps, lit(16, steps as u64)),
                        set(&c_beta, slit(wb, beta)),
                        set(
                            &c_target,
                            if beta == 0 {
                                lit(classes as u32, 0)
                            } else {
                                one_hot.clone()
                            },
                        ),
                        set(&sub, lit(2, 1)),
                    ],
                    vec![if_(c_done.e(), next.clone())],
                )],
                Op::Class => {
                    let mut v = vec![set(&class_r, c_class.e())];
                    v.extend(next.clone());
                    v
                }
                Op::Copy(sel) => vec![
                    if_(sub_is(0), vec![set(&rd_addr, ci.e()), set(&sub, lit(2, 1))]),
                    if_(sub_is(1), vec![set(&sub, lit(2, 2))]),
                    if_(
                        sub_is(2),
                        vec![
                            set(&cap_we, lit(1, 1)),
                            set(&cap_sel, lit(1, sel)),
                            set(&cap_idx, ci.e()),
                            set(&cap_val, rd_phase.e()),
                            if_else(
                                ci.e().eq(lit(a, n as u64 - 1)),
                                {
                                    let mut v = vec![set(&ci, lit(a, 0))];
                                    v.extend(next.clone());
                                    v
                                },
                                vec![set(&ci, ci.e().add(lit(a, 1))), set(&sub, lit(2, 0))],
                            ),
                        ],
                    ),
                ],
                Op::Agree => {
                    let agree = agree.as_ref().expect("a memory's sequence");
                    // the readout of θ_ci: +1 when its two top bits are equal
                    let s_pos = rd_phase.bit(p - 1).eq(rd_phase.bit(p - 2));
                    let up = label_r.index(ci.e()).eq(s_pos);
                    vec![
                        if_(sub_is(0), vec![set(&rd_addr, ci.e()), set(&sub, lit(2, 1))]),
                        if_(sub_is(1), vec![set(&sub, lit(2, 2))]),
                        if_(
                            sub_is(2),
                            vec![
                                set(
                                    agree,
                                    Expr::mux(
                                        up,
                                        agree.e().add(slit(agw, 1)),
                                        agree.e().sub(slit(agw, 1)),
                                    ),
                                ),
                                if_else(
                                    ci.e().eq(lit(a, n as u64 - 1)),
                                    {
                                        let mut v = vec![set(&ci, lit(a, 0))];
                                        v.extend(next.clone());
                                        v
                                    },
                                    vec![set(&ci, ci.e().add(lit(a, 1))), set(&sub, lit(2, 0))],
                                ),
                            ],
                        ),
                    ]
                }
                Op::Update => vec![
                    if_(
                        sub_is(0),
                        vec![set(&go_int, lit(1, 1)), set(&sub, lit(2, 1))],
                    ),
                    if_(sub_is(1), vec![set(&sub, lit(2, 2))]),
                    if_(
                        sub_is(2).land(in_state(S_IDLE)).land(pend.e().not()),
                        next.clone(),
                    ),
                ],
            };
            (vec![lit(pcw, k as u64)], body)
        })
        .collect();
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                set(&q_act, lit(1, 0)),
                set(&c_start, lit(1, 0)),
                set(&go_int, lit(1, 0)),
                set(&cap_we, lit(1, 0)),
                set(&done_r, lit(1, 0)),
            ],
            vec![
                set(&c_start, lit(1, 0)),
                set(&go_int, lit(1, 0)),
                set(&cap_we, lit(1, 0)),
                set(&done_r, lit(1, 0)),
                if_else(
                    q_act.e(),
                    vec![case(
                        pc.e(),
                        arms,
                        vec![set(&done_r, lit(1, 1)), set(&q_act, lit(1, 0))],
                    )],
                    vec![if_(
                        learn.e(),
                        vec![
                            set(&q_act, lit(1, 1)),
                            set(&pc, lit(pcw, 0)),
                            set(&sub, lit(2, 0)),
                            set(&ci, lit(a, 0)),
                            set(&label_r, label.e()),
                        ]
                        .into_iter()
                        .chain(agree.iter().map(|a| set(a, slit(agw, 0))))
                        .collect(),
                    )],
                ),
            ],
        )],
    );
    for (nm, s_) in [
        ("o_c_start", &c_start),
        ("o_c_init", &c_init),
        ("o_c_steps", &c_steps),
        ("o_c_beta", &c_beta),
        ("o_c_target", &c_target),
        ("o_rd_addr", &rd_addr),
        ("o_class", &class_r),
        ("o_done", &done_r),
    ] {
        m.output(nm, s_.e());
    }
    if let Some(a) = &agree {
        m.output("o_agree", a.e());
    }
    m
}

/// A step of the learning sequence.
enum Op {
    /// A run of the core: from the initial phases (recomputing the field)
    /// or on from its state, `steps` steps at nudge `beta` (towards the
    /// label when not 0).
    Run { init: bool, steps: u32, beta: i64 },
    /// Keep the core's class (after the free phase).
    Class,
    /// (a memory) The free state's agreement with the pattern: every
    /// phase read, the readout compared with its bit.
    Agree,
    /// The core's phases into the `+β` (0) or reference (1) memories.
    Copy(u64),
    /// The update pass.
    Update,
}

/// A wire in `m` for each output port `o_<name>` of `md`, named
/// `<prefix><name>`, by port name (`reason`: why some bits may go unread).
pub(crate) fn output_wires(
    m: &mut Module,
    md: &Module,
    prefix: &str,
    reason: &str,
) -> std::collections::BTreeMap<String, Sig> {
    md.ports()
        .iter()
        .filter(|pi| pi.dir == crate::vlog::Dir::Out)
        .map(|pi| {
            let w = m.wire_decl_partial(&format!("{prefix}{}", &pi.name[2..]), pi.width, reason);
            (pi.name.clone(), w)
        })
        .collect()
}

/// `pg_lcore`: the settle core and the learning engine wired together
/// (the core's runs, reads and parameter writes driven by the engine): a
/// learning step on `i_learn` after the inputs were written through
/// `i_x_*`, or an update pass alone on `i_go` from phases written through
/// `i_ph_*`. The testbench of `tests/learn_cosim.rs`.
pub fn with_core(core: &Module, learn: &Module) -> Module {
    let mut m = Module::new("pg_lcore");
    m.doc("pg_lcore: pg_core driven by pg_learn (a testbench of on-chip learning).");
    let port_w = |md: &Module, name: &str| {
        md.ports()
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.width)
            .unwrap_or_else(|| panic!("{} has no port {name}", md.name))
    };
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let x_we = m.input("i_x_we", 1);
    let x_addr = m.input("i_x_addr", port_w(core, "i_x_addr"));
    let x_data = m.input("i_x_data", port_w(core, "i_x_data"));
    let learn_in = m.input("i_learn", 1);
    let lab_name = if learn.ports().iter().any(|p| p.name == "i_pattern") {
        "i_pattern"
    } else {
        "i_label"
    };
    let label = m.input(lab_name, port_w(learn, lab_name));
    // an update pass alone, from phases written here
    let go = m.input("i_go", 1);
    let ph: Vec<(&str, Sig)> = ["i_ph_we", "i_ph_sel", "i_ph_idx", "i_ph_val"]
        .iter()
        .map(|&nm| (nm, m.input(nm, port_w(learn, nm))))
        .collect();
    // learn -> core
    let wires = output_wires(
        &mut m,
        learn,
        "l_",
        "the engine's outputs the core does not take",
    );
    let cwires = output_wires(&mut m, core, "c_", "observation ports of the core");
    let lw = |n: &str| wires[n].e();
    let cw = |n: &str| cwires[n].e();
    let core_conns: Vec<(String, Expr)> = core
        .ports()
        .iter()
        .map(|pi| {
            let e = match pi.name.as_str() {
                "i_clk" => clk.e(),
                "i_rst" => rst.e(),
                "i_x_we" => x_we.e(),
                "i_x_addr" => x_addr.e(),
                "i_x_data" => x_data.e(),
                "i_start" => lw("o_c_start"),
                "i_init" => lw("o_c_init"),
                "i_steps" => lw("o_c_steps"),
                "i_beta" => lw("o_c_beta"),
                "i_target" => lw("o_c_target"),
                "i_rd_addr" => lw("o_rd_addr"),
                other if other.starts_with("i_") => lw(&format!("o_{}", &other[2..])),
                other => cw(other),
            };
            (pi.name.clone(), e)
        })
        .collect();
    m.instance(
        core,
        "u_core",
        core_conns
            .iter()
            .map(|(n, e)| (n.as_str(), e.clone()))
            .collect(),
    );
    let learn_conns: Vec<(String, Expr)> = learn
        .ports()
        .iter()
        .map(|pi| {
            let e = match pi.name.as_str() {
                "i_clk" => clk.e(),
                "i_rst" => rst.e(),
                "i_go" => go.e(),
                other if other.starts_with("i_ph_") => {
                    ph.iter().find(|(nm, _)| *nm == other).unwrap().1.e()
                }
                other if other.starts_with("i_hw_") || other.starts_with("i_rw_") => {
                    lit(pi.width, 0)
                }
                other if other.starts_with("i_pr_") => cw(&format!("o_{}", &other[2..])),
                "i_x_we" => x_we.e(),
                "i_x_addr" => x_addr.e(),
                "i_x_data" => x_data.e(),
                "i_learn" => learn_in.e(),
                "i_label" | "i_pattern" => label.e(),
                "i_c_done" => cw("o_done"),
                "i_c_class" => cw("o_class"),
                "i_rd_phase" => cw("o_rd_phase"),
                other => lw(other),
            };
            (pi.name.clone(), e)
        })
        .collect();
    m.instance(
        learn,
        "u_learn",
        learn_conns
            .iter()
            .map(|(n, e)| (n.as_str(), e.clone()))
            .collect(),
    );
    for nm in [
        "o_busy", "o_done", "o_class", "o_w_we", "o_w_addr", "o_w_data", "o_u_we", "o_u_addr",
        "o_u_data", "o_o_we", "o_o_addr", "o_o_data",
    ] {
        m.output(nm, lw(nm));
    }
    if wires.contains_key("o_agree") {
        m.output("o_agree", lw("o_agree"));
    }
    m
}
