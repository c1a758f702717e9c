//! `pg_core`: the settle engine. Computes the input field once per sample,
//! then runs Jacobi Euler steps of the phase dynamics exactly as
//! `phasegen_sim::twin::Twin::step`, then the argmax readout.
//!
//! Datapath (lanes = 1):
//! - phases in a ping-pong RAM (`2 x 2^A` words): a step reads bank `b` and
//!   writes bank `!b`, so every oscillator sees the old phases (Jacobi);
//! - the coupling loop streams the CSR row of oscillator `i` from the weight
//!   ROM, one neighbour per cycle through a 4-stage pipeline
//!   (weight -> phase -> sin/cos tables -> two products -> two accumulators);
//! - the drive is then assembled by one multiplier in up to six operations,
//!   the step shift is applied and the new phase written.
//!
//! Memories are synchronous-read (block RAM on both families); ROM contents
//! come from the quantized model.

use crate::arith;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, Expr, Module, Sig, Stmt};
use phasegen_sim::qformat::{clog2, wrap};
use phasegen_sim::twin::{sin_table, HwModel};

/// Widths of the core's ports, shared by the generator, the top level and the
/// testbenches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoreShape {
    pub n: usize,
    pub inputs: usize,
    pub classes: usize,
    /// Oscillator index bits.
    pub osc_bits: u32,
    pub input_addr_bits: u32,
    pub input_bits: u32,
    pub phase_bits: u32,
    pub weight_bits: u32,
    pub class_bits: u32,
    pub step_bits: u32,
}

impl CoreShape {
    pub fn of(m: &HwModel) -> CoreShape {
        CoreShape {
            n: m.n(),
            inputs: m.topo.inputs,
            classes: m.topo.classes(),
            osc_bits: clog2(m.n() as u64),
            input_addr_bits: clog2(m.topo.inputs as u64),
            input_bits: m.fmt.input_bits,
            phase_bits: m.fmt.phase_bits,
            weight_bits: m.fmt.weight_bits,
            class_bits: clog2(m.topo.classes() as u64),
            step_bits: 16,
        }
    }
}

// FSM states.
const S_IDLE: u64 = 0;
const S_F_OSC: u64 = 1;
const S_F_OSC2: u64 = 2;
const S_F_MAC: u64 = 3;
const S_F_WR: u64 = 4;
const S_STEP: u64 = 5;
const S_OWN0: u64 = 6;
const S_OWN1: u64 = 7;
const S_OWN2: u64 = 8;
const S_OWN3: u64 = 9;
const S_MAC: u64 = 10;
const S_DRV: u64 = 11;
const S_UPD: u64 = 12;
const S_STEP_END: u64 = 13;
const S_CLS0: u64 = 14;
const S_CLS1: u64 = 15;
const S_CLS2: u64 = 16;
const S_DONE: u64 = 17;
const STATE_BITS: u32 = 5;

pub fn generate(hw: &HwModel) -> Module {
    let f = hw.fmt;
    let sh = CoreShape::of(hw);
    let n = hw.n();
    let (p, l, s, wb, xb, d) = (
        f.phase_bits,
        f.table_bits,
        f.amp_bits,
        f.weight_bits,
        f.input_bits,
        f.drive_bits,
    );
    let a = sh.osc_bits;
    let n0 = hw.topo.layers[0];
    let ni = hw.topo.inputs;
    let outs = hw.topo.outputs();
    let nnz = hw.nnz().max(1);
    let ea = clog2(nnz as u64);
    let max_deg = hw.max_degree();
    let dgb = clog2(max_deg as u64 + 1);
    let acc_w = f.acc_bits(max_deg);
    let facc_w = f.field_acc_bits(ni);
    let dacc_w = f.drive_acc_bits();
    let ua = clog2((n0 * ni) as u64);

    let mut m = Module::new("pg_core");
    m.doc("pg_core: field, Jacobi settle steps and argmax readout (see docs/hardware.md).");
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let x_we = m.input("i_x_we", 1);
    let x_addr = m.input("i_x_addr", sh.input_addr_bits);
    let x_data = m.input("i_x_data", xb);
    let start = m.input("i_start", 1);
    let init = m.input("i_init", 1);
    let steps_in = m.input("i_steps", sh.step_bits);
    let beta_in = m.input_signed("i_beta", wb);
    let target_in = m.input("i_target", sh.classes as u32);
    let rd_addr = m.input("i_rd_addr", a);

    // ---------------- memories ----------------
    m.comment("memories: ROMs from the quantized model, RAMs for state");
    let table = sin_table(&f);
    let tab: Vec<u64> = table.iter().map(|&v| wrap(v, s)).collect();
    let rom_a = m.mem("sin_rom_a", s, tab.len(), Some(tab.clone()));
    let rom_b = m.mem("sin_rom_b", s, tab.len(), Some(tab));
    // weight ROM: {j, W_ij}, the CSR rows back to back
    let mut wv = Vec::with_capacity(nnz);
    for row in &hw.rows {
        for &(j, w) in row {
            wv.push(((j as u64) << wb) | wrap(w, wb));
        }
    }
    wv.resize(1usize << ea, 0);
    let w_rom = m.mem("w_rom", a + wb, wv.len(), Some(wv));
    // oscillator ROM: {degree, h, K, omega, theta0}
    let ow = dgb + 2 * wb + 2 * p;
    let mut ov = Vec::with_capacity(1 << a);
    for i in 0..n {
        let v = ((hw.rows[i].len() as u64) << (2 * wb + 2 * p))
            | (wrap(hw.h[i], wb) << (wb + 2 * p))
            | (wrap(hw.k[i], wb) << (2 * p))
            | (wrap(hw.omega[i], p) << p)
            | hw.theta0[i];
        ov.push(v);
    }
    ov.resize(1usize << a, 0);
    let osc_rom = m.mem("osc_rom", ow, ov.len(), Some(ov));
    let mut uv: Vec<u64> = hw.u.iter().map(|&u| wrap(u, wb)).collect();
    uv.resize(1usize << ua, 0);
    let u_rom = m.mem("u_rom", wb, uv.len(), Some(uv));
    let x_mem = m.mem("x_mem", xb, 1 << sh.input_addr_bits, None);
    let b_mem = m.mem("b_mem", d, 1 << a, None);
    let ph_mem = m.mem("ph_mem", p, 2 << a, None);

    // ---------------- control registers ----------------
    m.comment("control");
    let st = m.reg_init("state", STATE_BITS, false, Some(S_IDLE));
    let i = m.reg("osc", a);
    let e = m.reg("w_ptr", ea);
    let bank = m.reg_init("bank", 1, false, Some(0));
    let steps_left = m.reg("steps_left", sh.step_bits);
    let beta = m.reg_signed("beta", wb);
    let target = m.reg("target", sh.classes as u32);
    let busy = m.reg_init("busy", 1, false, Some(0));
    let done = m.reg_init("done", 1, false, Some(0));
    let step_pulse = m.reg_init("step_pulse", 1, false, Some(0));
    let class = m.reg_init("class_q", sh.class_bits, false, Some(0));
    let in_state = |v: u64| st.e().eq(lit(STATE_BITS, v));

    // ---------------- read ports ----------------
    // Each memory has one registered read port whose address is chosen by
    // the state below.
    let osc_q = m.reg("osc_q", ow);
    m.mem_read(&clk, &osc_rom, &osc_q, i.e());
    let deg_q = arith::field(&mut m, "deg_q", &osc_q, ow - 1, 2 * wb + 2 * p, false);
    let h_q = arith::field(&mut m, "h_q", &osc_q, 2 * wb + 2 * p - 1, wb + 2 * p, true);
    let k_q = arith::field(&mut m, "k_q", &osc_q, wb + 2 * p - 1, 2 * p, true);
    let om_q = arith::field(&mut m, "om_q", &osc_q, 2 * p - 1, p, true);
    let th0_q = arith::field(&mut m, "th0_q", &osc_q, p - 1, 0, false);

    // field MAC stream: u_rom[ue], x_mem[k]
    let ue = m.reg("u_edge", ua);
    let k = m.reg("k_in", sh.input_addr_bits.max(clog2(ni as u64 + 1)));
    let kw = k.width;
    let issue_f = m.reg_init("issue_f", 1, false, Some(0));
    let u_q = m.reg_signed("u_q", wb);
    let x_q = m.reg("x_q", xb);
    m.always(
        &clk,
        vec![
            set(
                &u_q,
                Expr::MemRead(u_rom.clone(), Box::new(ue.e())).as_signed(),
            ),
            if_(x_we.e(), vec![set_mem(&x_mem, x_addr.e(), x_data.e())]),
        ],
    );
    let x_rd = if kw == sh.input_addr_bits {
        k.e()
    } else {
        k.slice(sh.input_addr_bits - 1, 0)
    };
    m.mem_read(&clk, &x_mem, &x_q, x_rd);
    let xs = m.wire("x_s", Expr::concat(vec![lit(1, 0), x_q.e()]).as_signed());
    let fv1 = m.reg_init("fv1", 1, false, Some(0));
    let fv2 = m.reg_init("fv2", 1, false, Some(0));
    let fprod = m.reg_signed("f_prod", wb + xb + 1);
    let facc = m.reg_signed("f_acc", facc_w);

    // coupling MAC stream
    let w_q = m.reg("w_q", a + wb);
    m.mem_read(&clk, &w_rom, &w_q, e.e());
    let wj = arith::field(&mut m, "w_j", &w_q, a + wb - 1, wb, false);
    let wv_ = arith::field(&mut m, "w_v", &w_q, wb - 1, 0, true);
    let cnt = m.reg("mac_cnt", dgb);
    let issue = m.reg_init("issue", 1, false, Some(0));
    let v1 = m.reg_init("v1", 1, false, Some(0));
    let v2 = m.reg_init("v2", 1, false, Some(0));
    let v3 = m.reg_init("v3", 1, false, Some(0));
    let v4 = m.reg_init("v4", 1, false, Some(0));
    let wd1 = m.reg_signed("wd1", wb);
    let wd2 = m.reg_signed("wd2", wb);
    let pc = m.reg_signed("prod_c", wb + s);
    let ps = m.reg_signed("prod_s", wb + s);
    let acc_c = m.reg_signed("acc_c", acc_w);
    let acc_s = m.reg_signed("acc_s", acc_w);

    // phase RAM read address: own phase, neighbour phase, class scan, or the
    // external read port when idle
    let ph_q = m.reg("ph_q", p);
    let out_base = outs.start as u64;
    let cls_o = m.reg("cls_o", a);
    let ph_idx = m.wire(
        "ph_idx",
        Expr::mux(
            in_state(S_IDLE),
            rd_addr.e(),
            Expr::mux(
                in_state(S_MAC),
                wj.e(),
                Expr::mux(in_state(S_CLS0), cls_o.e(), i.e()),
            ),
        ),
    );
    let ph_ra = m.wire("ph_raddr", Expr::concat(vec![bank.e(), ph_idx.e()]));
    m.mem_read(&clk, &ph_mem, &ph_q, ph_ra.e());

    // table addresses: sin θ on port a, cos θ = sin(θ + quarter) on port b;
    // in S_OWN2 port a looks up sin 2θ of the oscillator's own phase
    let theta_i = m.reg("theta_i", p);
    let idx = m.wire("tab_idx", ph_q.slice(p - 1, p - l));
    let quarter = lit(l, 1u64 << (l - 2));
    let idx_cos = m.wire("tab_idx_cos", idx.e().add(quarter));
    let idx2 = m.wire("tab_idx_2", theta_i.slice(p - 2, p - l - 1));
    let ra = m.wire("tab_a_addr", Expr::mux(in_state(S_OWN2), idx2.e(), idx.e()));
    let tab_a = m.reg_signed("tab_a", s);
    let tab_b = m.reg_signed("tab_b", s);
    m.always(
        &clk,
        vec![
            set(
                &tab_a,
                Expr::MemRead(rom_a.clone(), Box::new(ra.e())).as_signed(),
            ),
            set(
                &tab_b,
                Expr::MemRead(rom_b.clone(), Box::new(idx_cos.e())).as_signed(),
            ),
        ],
    );
    let b_q = m.reg_signed("b_q", d);
    m.always(
        &clk,
        vec![set(
            &b_q,
            Expr::MemRead(b_mem.clone(), Box::new(i.e())).as_signed(),
        )],
    );

    // ---------------- field: b_i = sat(round_shift((h<<B) + Σ U x, B), D) ----
    m.comment("input field");
    let h_shift = m.wire(
        "h_shifted",
        Expr::concat(vec![h_q.e().as_unsigned(), lit(xb, 0)]).as_signed(),
    );
    let h_ext = m.wire("h_ext", h_shift.sext(facc_w));
    let fprod_ext = m.wire("f_prod_ext", fprod.sext(facc_w));
    let f_rs = arith::round_shift(&mut m, "f_rs", &facc, xb);
    let f_sat = arith::sat(&mut m, "f_sat", &f_rs, d);
    let h_as_b = m.wire("h_as_b", h_q.sext(d));

    // ---------------- drive ----------------
    m.comment("drive: -s_i c + c_i s - s_i b - s2_i K + [outputs] g s_i");
    let s_i = m.reg_signed("s_i", s);
    let c_i = m.reg_signed("c_i", s);
    let s2_i = m.reg_signed("s2_i", s);
    let k_i = m.reg_signed("k_i", wb);
    let om_i = m.reg_signed("om_i", p);
    let c_rs = arith::round_shift(&mut m, "c_rs", &acc_c, s - 1);
    let c_sat = arith::sat(&mut m, "c_sat", &c_rs, d);
    let s_rs = arith::round_shift(&mut m, "s_rs", &acc_s, s - 1);
    let s_sat = arith::sat(&mut m, "s_sat", &s_rs, d);
    let is_out = m.wire("is_out", i.e().ge(lit(a, out_base)));
    // target of this output: +A when its bit is set, else -A
    let oidx_w = sh.class_bits;
    let o_off = m.wire_partial(
        "o_off",
        i.e().sub(lit(a, out_base)),
        "output index: only its low class-index bits address the target",
    );
    let o_sel = if oidx_w < a {
        o_off.slice(oidx_w - 1, 0)
    } else {
        o_off.e()
    };
    let o_sel = m.wire("o_sel", o_sel);
    let t_bit = m.reg("t_bit", 1);
    let amp = f.amp();
    let e_ci = m.wire("e_ci", c_i.sext(s + 1));
    let e_err = m.wire(
        "e_err",
        Expr::mux(
            t_bit.e(),
            e_ci.e().sub(crate::vlog::slit(s + 1, amp)),
            e_ci.e().add(crate::vlog::slit(s + 1, amp)),
        ),
    );
    let op = m.reg("drv_op", 3);
    let ph = m.reg("drv_ph", 2);
    let ma = m.reg_signed("mul_a", d);
    let mb = m.reg_signed("mul_b", s + 1);
    let pr = m.reg_signed("mul_p", d + s + 1);
    let dacc = m.reg_signed("drive", dacc_w);
    let g = m.reg_signed("nudge_g", d);
    let g_rs = arith::round_shift(&mut m, "g_rs", &pr, s - 1);
    let g_sat = arith::sat(&mut m, "g_sat", &g_rs, d);
    let pr_ext = m.wire("mul_p_ext", pr.sext(dacc_w));
    let si_ext = m.wire("s_i_ext", s_i.sext(s + 1));
    let ci_ext = m.wire("c_i_ext", c_i.sext(s + 1));
    let s2_ext = m.wire("s2_i_ext", s2_i.sext(s + 1));
    let k_ext = m.wire("k_i_ext", k_i.sext(d));
    let beta_ext = m.wire("beta_ext", beta.sext(d));
    let last_op = m.wire("last_op", Expr::mux(is_out.e(), lit(3, 5), lit(3, 3)));

    // ---------------- update ----------------
    let d_rs = arith::round_shift(&mut m, "d_rs", &dacc, f.step_shift);
    let d_sat = arith::sat(&mut m, "d_sat", &d_rs, p);
    let new_th = m.wire(
        "theta_new",
        theta_i
            .e()
            .add(d_sat.e().as_unsigned())
            .add(om_i.e().as_unsigned()),
    );
    let best = m.reg_signed("best", s);
    let best_o = m.reg("best_o", sh.class_bits);
    let cls_k = m.reg("cls_k", sh.class_bits.max(clog2(sh.classes as u64 + 1)));
    let ckw = cls_k.width;

    // ---------------- the FSM ----------------
    let go = |v: u64| set(&st, lit(STATE_BITS, v));
    let zero = |sg: &Sig| {
        if sg.signed {
            set(sg, crate::vlog::slit(sg.width, 0))
        } else {
            set(sg, lit(sg.width, 0))
        }
    };
    let last_osc = i.e().eq(lit(a, n as u64 - 1));
    let inc = |sg: &Sig| set(sg, sg.e().add(lit(sg.width, 1)));

    let idle = vec![
        set(&done, lit(1, 0)),
        if_(
            start.e(),
            vec![
                set(&busy, lit(1, 1)),
                set(&beta, beta_in.e()),
                set(&target, target_in.e()),
                set(&steps_left, steps_in.e()),
                zero(&i),
                zero(&ue),
                if_else(init.e(), vec![go(S_F_OSC)], vec![go(S_STEP)]),
            ],
        ),
    ];
    let f_osc = vec![go(S_F_OSC2)];
    // oscillator i gets the input field (every one when the input layer is
    // the only layer and fills the index range)
    let in_layer0 = if n0 as u64 >= 1u64 << a {
        lit(1, 1)
    } else {
        i.e().lt(lit(a, n0 as u64))
    };
    let f_osc2 = vec![
        set_mem(&ph_mem, Expr::concat(vec![bank.e(), i.e()]), th0_q.e()),
        set(&facc, h_ext.e()),
        if_else(
            in_layer0.clone(),
            vec![zero(&k), set(&issue_f, lit(1, 1)), go(S_F_MAC)],
            vec![go(S_F_WR)],
        ),
    ];
    let f_mac = vec![if_(
        issue_f.e().not().land(fv1.e().not()).land(fv2.e().not()),
        vec![go(S_F_WR)],
    )];
    let f_wr = vec![
        set_mem(
            &b_mem,
            i.e(),
            Expr::mux(in_layer0.clone(), f_sat.e(), h_as_b.e()).as_unsigned(),
        ),
        inc(&i),
        if_else(last_osc.clone(), vec![go(S_STEP)], vec![go(S_F_OSC)]),
    ];
    let step = vec![zero(&i), zero(&e), go(S_OWN0)];
    let own0 = vec![go(S_OWN1)];
    let own1 = vec![
        set(&theta_i, ph_q.e()),
        set(&k_i, k_q.e()),
        set(&om_i, om_q.e()),
        set(&cnt, deg_q.e()),
        set(&t_bit, target.index(o_sel.e())),
        go(S_OWN2),
    ];
    let own2 = vec![set(&s_i, tab_a.e()), set(&c_i, tab_b.e()), go(S_OWN3)];
    let own3 = vec![
        set(&s2_i, tab_a.e()),
        zero(&acc_c),
        zero(&acc_s),
        if_else(
            cnt.e().eq(lit(dgb, 0)),
            vec![zero(&op), zero(&ph), zero(&dacc), go(S_DRV)],
            vec![set(&issue, lit(1, 1)), go(S_MAC)],
        ),
    ];
    let mac = vec![if_(
        issue
            .e()
            .not()
            .land(v1.e().not())
            .land(v2.e().not())
            .land(v3.e().not())
            .land(v4.e().not()),
        vec![zero(&op), zero(&ph), zero(&dacc), go(S_DRV)],
    )];
    // drive: phase 0 loads operands, 1 multiplies, 2 accumulates
    let operands = |a_: Expr, b_: Expr| vec![set(&ma, a_), set(&mb, b_)];
    let drv = vec![case(
        ph.e(),
        vec![
            (
                vec![lit(2, 0)],
                vec![
                    case(
                        op.e(),
                        vec![
                            (vec![lit(3, 0)], operands(c_sat.e(), si_ext.e())),
                            (vec![lit(3, 1)], operands(s_sat.e(), ci_ext.e())),
                            (vec![lit(3, 2)], operands(b_q.e(), si_ext.e())),
                            (vec![lit(3, 3)], operands(k_ext.e(), s2_ext.e())),
                            (vec![lit(3, 4)], operands(beta_ext.e(), e_err.e())),
                        ],
                        operands(g.e(), si_ext.e()),
                    ),
                    set(&ph, lit(2, 1)),
                ],
            ),
            (
                vec![lit(2, 1)],
                vec![set(&pr, ma.e().mul(mb.e())), set(&ph, lit(2, 2))],
            ),
        ],
        vec![
            case(
                op.e(),
                vec![
                    (
                        vec![lit(3, 0), lit(3, 2), lit(3, 3)],
                        vec![set(&dacc, dacc.e().sub(pr_ext.e()))],
                    ),
                    (vec![lit(3, 4)], vec![set(&g, g_sat.e())]),
                ],
                vec![set(&dacc, dacc.e().add(pr_ext.e()))],
            ),
            set(&ph, lit(2, 0)),
            inc(&op),
            if_(op.e().eq(last_op.e()), vec![go(S_UPD)]),
        ],
    )];
    let upd = vec![
        set_mem(
            &ph_mem,
            Expr::concat(vec![bank.e().not(), i.e()]),
            new_th.e(),
        ),
        inc(&i),
        if_else(last_osc, vec![go(S_STEP_END)], vec![go(S_OWN0)]),
    ];
    let step_end = vec![
        set(&bank, bank.e().not()),
        set(&steps_left, steps_left.e().sub(lit(sh.step_bits, 1))),
        if_else(
            steps_left.e().eq(lit(sh.step_bits, 1)),
            vec![
                set(&cls_o, lit(a, out_base)),
                zero(&cls_k),
                set(&best, crate::vlog::slit(s, -(1i64 << (s - 1)))),
                zero(&best_o),
                go(S_CLS0),
            ],
            vec![go(S_STEP)],
        ),
    ];
    let cls0 = vec![go(S_CLS1)];
    let cls1 = vec![go(S_CLS2)];
    let cls_k_low = if ckw > sh.class_bits {
        cls_k.slice(sh.class_bits - 1, 0)
    } else {
        cls_k.e()
    };
    let cls2 = vec![
        // first output always taken (best starts at the most negative value,
        // which the table cannot exceed only when equal: use > with a flag)
        if_(
            tab_b.e().gt(best.e()).lor(cls_k.e().eq(lit(ckw, 0))),
            vec![set(&best, tab_b.e()), set(&best_o, cls_k_low)],
        ),
        inc(&cls_o),
        inc(&cls_k),
        if_else(
            cls_k.e().eq(lit(ckw, sh.classes as u64 - 1)),
            vec![go(S_DONE)],
            vec![go(S_CLS0)],
        ),
    ];
    let done_s = vec![
        set(&class, best_o.e()),
        set(&busy, lit(1, 0)),
        set(&done, lit(1, 1)),
        go(S_IDLE),
    ];

    // streaming pipelines run beside the FSM
    let field_pipe = vec![
        set(&fv1, issue_f.e()),
        set(&fv2, fv1.e()),
        if_(
            issue_f.e(),
            vec![
                inc(&ue),
                inc(&k),
                if_(
                    k.e().eq(lit(kw, ni as u64 - 1)),
                    vec![set(&issue_f, lit(1, 0))],
                ),
            ],
        ),
        if_(fv1.e(), vec![set(&fprod, u_q.e().mul(xs.e()))]),
        if_(fv2.e(), vec![set(&facc, facc.e().add(fprod_ext.e()))]),
    ];
    let acc_ext_c = m.wire("prod_c_ext", pc.sext(acc_w));
    let acc_ext_s = m.wire("prod_s_ext", ps.sext(acc_w));
    let mac_pipe = vec![
        set(&v1, issue.e()),
        set(&v2, v1.e()),
        set(&v3, v2.e()),
        set(&v4, v3.e()),
        if_(
            issue.e(),
            vec![
                inc(&e),
                set(&cnt, cnt.e().sub(lit(dgb, 1))),
                if_(cnt.e().eq(lit(dgb, 1)), vec![set(&issue, lit(1, 0))]),
            ],
        ),
        if_(v1.e(), vec![set(&wd1, wv_.e())]),
        if_(v2.e(), vec![set(&wd2, wd1.e())]),
        if_(
            v3.e(),
            vec![
                set(&pc, wd2.e().mul(tab_b.e())),
                set(&ps, wd2.e().mul(tab_a.e())),
            ],
        ),
        if_(
            v4.e(),
            vec![
                set(&acc_c, acc_c.e().add(acc_ext_c.e())),
                set(&acc_s, acc_s.e().add(acc_ext_s.e())),
            ],
        ),
    ];

    let arms: Vec<(Vec<Expr>, Vec<Stmt>)> = vec![
        (S_IDLE, idle),
        (S_F_OSC, f_osc),
        (S_F_OSC2, f_osc2),
        (S_F_MAC, f_mac),
        (S_F_WR, f_wr),
        (S_STEP, step),
        (S_OWN0, own0),
        (S_OWN1, own1),
        (S_OWN2, own2),
        (S_OWN3, own3),
        (S_MAC, mac),
        (S_DRV, drv),
        (S_UPD, upd),
        (S_STEP_END, step_end),
        (S_CLS0, cls0),
        (S_CLS1, cls1),
        (S_CLS2, cls2),
        (S_DONE, done_s),
    ]
    .into_iter()
    .map(|(v, b)| (vec![lit(STATE_BITS, v)], b))
    .collect();
    let mut body = vec![set(&step_pulse, in_state(S_STEP_END))];
    body.extend(field_pipe);
    body.extend(mac_pipe);
    body.push(case(st.e(), arms, vec![go(S_IDLE)]));
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                go(S_IDLE),
                zero(&busy),
                zero(&done),
                zero(&issue),
                zero(&issue_f),
                zero(&v1),
                zero(&v2),
                zero(&v3),
                zero(&v4),
                zero(&fv1),
                zero(&fv2),
                zero(&bank),
                zero(&step_pulse),
            ],
            body,
        )],
    );

    // ---------------- outputs ----------------
    m.output("o_busy", busy.e());
    m.output("o_done", done.e());
    m.output("o_class", class.e());
    m.output("o_rd_phase", ph_q.e());
    m.output("o_step", step_pulse.e());
    m.output("o_ph_we", in_state(S_UPD));
    m.output("o_ph_idx", i.e());
    m.output("o_ph_val", new_th.e());
    m
}

#[cfg(test)]
mod tests {
    use phasegen_sim::config::Config;
    use phasegen_sim::net::Params;
    use phasegen_sim::quant::quantize;

    #[test]
    fn generates_default_core() {
        let cfg = Config::default_config();
        let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
        let files =
            crate::generate_design(&cfg.hash_hex(), cfg.design_id(), &hw, 12_000_000, 115_200);
        let dir = std::env::temp_dir().join("pg-core-test");
        std::fs::create_dir_all(&dir).unwrap();
        for f in &files {
            std::fs::write(dir.join(&f.name), &f.text).unwrap();
        }
        assert!(files[0].text.contains("module pg_core"));
    }
}
