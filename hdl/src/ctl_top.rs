//! `pg_ctl_top`: the metacircuit controller (`pg_ctl`) behind the UART
//! protocol of docs/protocol.md, with the controller commands
//! `link::protocol::CtlCmd` (same frames, CRC-8 and error codes as the
//! oscillator designs).
//!
//! A request is received whole into a 256-byte buffer and its CRC checked
//! before anything changes; then it executes and is answered. One request
//! is in flight at a time: a request whose sync byte arrives while one
//! executes or is answered is ignored (the host waits for each reply). The
//! line may stay idle at most 50 bit times between the start of two bytes
//! of a request; after that the partial request is dropped unanswered.

use crate::top::crc_step;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, Expr, Module, Sig, Stmt};
use phasegen_sim::link::protocol::{
    CtlCmd, CtlIdentity, ErrCode, ERROR, SYNC_REQ, SYNC_RSP, VERSION,
};
use phasegen_sim::r2nn::ctl::{clog2, CtlPlan};

// receiver states
const W_SYNC: u64 = 0;
const W_CMD: u64 = 1;
const W_LEN: u64 = 2;
const W_PAY: u64 = 3;
const W_CRC: u64 = 4;
// executor states
const X_IDLE: u64 = 0;
const X_DISPATCH: u64 = 1;
const X_RD: u64 = 2;
const X_RD2: u64 = 3;
const X_BYTE: u64 = 4;
const X_START: u64 = 5;
const X_WAIT: u64 = 6;
const X_TXPREP: u64 = 7;
const X_TXSEND: u64 = 8;
const X_TXWAIT: u64 = 9;

/// The identity the controller reports.
pub fn identity(p: &CtlPlan, plan_id: u32) -> CtlIdentity {
    CtlIdentity {
        version: VERSION,
        plan_id,
        probes: p.probes as u8,
        prog_words: p.prog_words.len() as u16,
        max_samples: p.max_samples as u16,
        readback_words: p.rb_words() as u16,
    }
}

/// `pg_ctl_top` over `ctl` (the `pg_ctl` module), `rx` and `tx` (the UART
/// at `cpb` clocks per bit).
pub fn generate(
    p: &CtlPlan,
    plan_id: u32,
    cpb: u64,
    ctl: &Module,
    rx: &Module,
    tx: &Module,
) -> Module {
    assert!(p.max_samples < 1 << 16 && p.prog_words.len() < 1 << 16);
    let mut m = Module::new("pg_ctl_top");
    m.doc(&format!(
        "pg_ctl_top: the metacircuit controller behind the UART protocol ({cpb} clocks per bit)."
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let rxd = m.input("i_rx", 1);
    let adc_miso = m.input("i_adc_miso", p.adcs as u32);
    let chain_miso: Vec<(String, Sig)> = (0..p.prog.len())
        .filter(|&i| crate::ctl::reads_back(p, i))
        .map(|i| {
            let n = format!("i_{}_miso", p.prog[i].bus);
            let s = m.input(&n, 1);
            (n, s)
        })
        .collect();
    let rbw = p.rb_words();
    let aw = crate::ctl::addr_bits(p);
    let pw = crate::ctl::probe_bits(p);
    let lw = clog2(p.max_samples as u64 + 1);
    let ew = p.energy_bits();
    let pa = clog2(p.prog_words.len() as u64);

    // ---- UART
    let rx_valid = m.wire_decl("rx_valid", 1);
    let rx_data = m.wire_decl("rx_data", 8);
    let rx_ferr = m.wire_decl_partial(
        "rx_ferr",
        1,
        "framing errors are not counted by the controller",
    );
    m.instance(
        rx,
        "u_rx",
        vec![
            ("i_clk", clk.e()),
            ("i_rst", rst.e()),
            ("i_rx", rxd.e()),
            ("o_valid", rx_valid.e()),
            ("o_data", rx_data.e()),
            ("o_frame_err", rx_ferr.e()),
        ],
    );
    let tx_valid = m.reg_init("tx_valid", 1, false, Some(0));
    let tx_data = m.reg("tx_data", 8);
    let tx_line = m.wire_decl("tx_line", 1);
    let tx_ready = m.wire_decl("tx_ready", 1);
    m.instance(
        tx,
        "u_tx",
        vec![
            ("i_clk", clk.e()),
            ("i_rst", rst.e()),
            ("i_valid", tx_valid.e()),
            ("i_data", tx_data.e()),
            ("o_tx", tx_line.e()),
            ("o_ready", tx_ready.e()),
        ],
    );

    // ---- the controller
    let we = m.reg_init("c_we", 1, false, Some(0));
    let wsel = m.reg("c_wsel", 1);
    let waddr = m.reg("c_waddr", aw);
    let wdata = m.reg("c_wdata", 16);
    let prog = m.reg_init("c_prog", 1, false, Some(0));
    let run = m.reg_init("c_run", 1, false, Some(0));
    let len = m.reg("c_len", lw);
    let ti = m.reg("t_i", 8);
    let off = m.reg("a_off", pa);
    let eprobe = m.wire("c_eprobe", ti.slice(pw + 2, 3));
    let k = m.wire("t_k", ti.slice(7, 1));
    let k_pa = if pa >= 7 {
        k.e().zext(pa)
    } else {
        k.slice(pa - 1, 0)
    };
    let raddr = m.wire("c_raddr", off.e().add(k_pa));
    let c_busy = m.wire_decl("c_busy", 1);
    let c_programmed =
        m.wire_decl_partial("c_programmed", 1, "Program waits for o_busy, not this flag");
    let c_class = m.wire_decl("c_class", pw);
    let c_energy = m.wire_decl("c_energy", ew);
    let c_rdata = m.wire_decl("c_rdata", 16);
    let mut conns: Vec<(&str, Expr)> = vec![
        ("i_clk", clk.e()),
        ("i_rst", rst.e()),
        ("i_we", we.e()),
        ("i_wsel", wsel.e()),
        ("i_waddr", waddr.e()),
        ("i_wdata", wdata.e()),
        ("i_prog", prog.e()),
        ("i_run", run.e()),
        ("i_len", len.e()),
        ("i_eprobe", eprobe.e()),
        ("i_adc_miso", adc_miso.e()),
        ("i_raddr", raddr.e()),
        ("o_busy", c_busy.e()),
        ("o_programmed", c_programmed.e()),
        ("o_rdata", c_rdata.e()),
        ("o_class", c_class.e()),
        ("o_energy", c_energy.e()),
    ];
    let rsel = (rbw > 0).then(|| m.reg("c_rsel", 1));
    if let Some(r) = &rsel {
        conns.push(("i_rsel", r.e()));
    }
    for (n, s) in &chain_miso {
        conns.push((n.as_str(), s.e()));
    }
    // the pins pass through
    let pins: Vec<(String, u32)> = ctl
        .ports()
        .into_iter()
        .filter(|q| q.name.starts_with("o_") && !conns.iter().any(|(n, _)| *n == q.name))
        .map(|q| (q.name, q.width))
        .collect();
    let pin_wires: Vec<Sig> = pins
        .iter()
        .map(|(n, w)| m.wire_decl(&format!("c_{}", &n[2..]), *w))
        .collect();
    for ((n, _), s) in pins.iter().zip(&pin_wires) {
        conns.push((n.as_str(), s.e()));
    }
    // the instance's port order is the module's
    let order: Vec<String> = ctl.ports().into_iter().map(|q| q.name).collect();
    conns.sort_by_key(|(n, _)| order.iter().position(|o| o == n).expect("a pg_ctl port"));
    m.instance(ctl, "u_ctl", conns);

    // ---- receiver
    let rs = m.reg_init("rx_state", 3, false, Some(W_SYNC));
    let cmd = m.reg("rx_cmd", 8);
    let plen = m.reg("rx_len", 8);
    let cnt = m.reg("rx_cnt", 8);
    let crc = m.reg("rx_crc", 8);
    let a0 = m.reg("rx_a0", 8);
    let a1 = m.reg("rx_a1", 8);
    let a2 = m.reg("rx_a2", 8);
    let buf = m.mem("rx_buf", 8, 256, None);
    let rcrc = crc_step(&mut m, "rx_crc_next", &crc, &rx_data);
    let tmax = 50 * cpb;
    let tw = clog2(tmax + 1);
    let idle = m.reg("rx_idle", tw);
    let xs = m.reg_init("x_state", 4, false, Some(X_IDLE));
    let crc_ok = m.reg("x_crc_ok", 1);
    let xgo = m.reg_init("x_go", 1, false, Some(0));
    let x_idle = xs.e().eq(lit(4, X_IDLE)).land(xgo.e().not());
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![set(&rs, lit(3, W_SYNC)), set(&xgo, lit(1, 0))],
            vec![
                set(&xgo, lit(1, 0)),
                if_else(
                    rx_valid.e(),
                    vec![set(&idle, lit(tw, 0))],
                    vec![if_(
                        idle.e().ne(lit(tw, tmax)),
                        vec![set(&idle, idle.e().add(lit(tw, 1)))],
                    )],
                ),
                if_else(
                    rx_valid.e(),
                    vec![case(
                        rs.e(),
                        vec![
                            (
                                vec![lit(3, W_SYNC)],
                                vec![if_(
                                    rx_data.e().eq(lit(8, SYNC_REQ as u64)).land(x_idle.clone()),
                                    vec![set(&crc, lit(8, 0)), set(&rs, lit(3, W_CMD))],
                                )],
                            ),
                            (
                                vec![lit(3, W_CMD)],
                                vec![
                                    set(&cmd, rx_data.e()),
                                    set(&crc, rcrc.e()),
                                    set(&rs, lit(3, W_LEN)),
                                ],
                            ),
                            (
                                vec![lit(3, W_LEN)],
                                vec![
                                    set(&plen, rx_data.e()),
                                    set(&crc, rcrc.e()),
                                    set(&cnt, lit(8, 0)),
                                    if_else(
                                        rx_data.e().eq(lit(8, 0)),
                                        vec![set(&rs, lit(3, W_CRC))],
                                        vec![set(&rs, lit(3, W_PAY))],
                                    ),
                                ],
                            ),
                            (
                                vec![lit(3, W_PAY)],
                                vec![
                                    set_mem(&buf, cnt.e(), rx_data.e()),
                                    if_(cnt.e().eq(lit(8, 0)), vec![set(&a0, rx_data.e())]),
                                    if_(cnt.e().eq(lit(8, 1)), vec![set(&a1, rx_data.e())]),
                                    if_(cnt.e().eq(lit(8, 2)), vec![set(&a2, rx_data.e())]),
                                    set(&crc, rcrc.e()),
                                    set(&cnt, cnt.e().add(lit(8, 1))),
                                    if_(
                                        cnt.e().add(lit(8, 1)).eq(plen.e()),
                                        vec![set(&rs, lit(3, W_CRC))],
                                    ),
                                ],
                            ),
                        ],
                        vec![
                            set(&crc_ok, rx_data.e().eq(crc.e())),
                            set(&xgo, lit(1, 1)),
                            set(&rs, lit(3, W_SYNC)),
                        ],
                    )],
                    vec![if_(
                        rs.e().ne(lit(3, W_SYNC)).land(idle.e().eq(lit(tw, tmax))),
                        vec![set(&rs, lit(3, W_SYNC))],
                    )],
                ),
            ],
        )],
    );

    // ---- executor and transmitter
    let bp = m.reg("x_bp", 8);
    let bq = m.reg("x_bq", 8);
    m.mem_read(&clk, &buf, &bq, bp.e());
    let hi = m.reg("x_hi", 8);
    let tc = m.reg("t_cmd", 8);
    let tl = m.reg("t_len", 8);
    let kind = m.reg("t_kind", 3);
    let err = m.reg("t_err", 8);
    let tcrc = m.reg("t_crc", 8);
    let wait = m.reg("x_wait", 2);
    const K_NONE: u64 = 0;
    const K_ERR: u64 = 1;
    const K_ID: u64 = 2;
    const K_CODES: u64 = 3;
    const K_CLASS: u64 = 4;
    const K_ENERGY: u64 = 5;
    let off_w = m.wire("x_off16", Expr::concat(vec![a0.e(), a1.e()]));
    let off16 = off_w.e();
    let plen_m2 = m.wire_partial(
        "x_plen_m2",
        plen.e().sub(lit(8, 2)),
        "words are two bytes: bit 0 of len - 2 is checked on len",
    );
    let nwords = m.wire("x_nwords", plen_m2.slice(7, 1));
    let pw_lim = |limit: usize| -> Expr {
        // offset + words <= limit, in 17 bits
        off16
            .clone()
            .zext(17)
            .add(nwords.e().zext(17))
            .le(lit(17, limit as u64))
    };
    let reply = |k: u64, n: Expr| -> Vec<Stmt> {
        vec![
            set(&tc, cmd.e()),
            set(&kind, lit(3, k)),
            set(&tl, n),
            set(&ti, lit(8, 0)),
            set(&xs, lit(4, X_TXPREP)),
            set(&wait, lit(2, 3)),
            set(&tcrc, lit(8, 0)),
        ]
    };
    let fail = |code: ErrCode| -> Vec<Stmt> {
        let mut v = vec![set(&err, lit(8, code as u64))];
        v.extend(reply(K_ERR, lit(8, 1)));
        v.push(set(&tc, lit(8, ERROR as u64)));
        v
    };
    // the argument checks, registered every cycle from the received
    // request (stable from its last byte on, two cycles before dispatch)
    let chk_shape = m.reg("chk_shape", 1);
    let chk_prog = m.reg("chk_prog", 1);
    let chk_samp = m.reg("chk_samp", 1);
    let chk_count = m.reg("chk_count", 1);
    let chk_len = m.reg("chk_len", 1);
    let count_ok = |depth: usize| {
        a2.e().ne(lit(8, 0)).land(a2.e().le(lit(8, 127))).land(
            off16
                .clone()
                .zext(17)
                .add(a2.e().zext(17))
                .le(lit(17, depth as u64)),
        )
    };
    let chk_rcount = (rbw > 0).then(|| {
        let r = m.reg("chk_rcount", 1);
        m.always(&clk, vec![set(&r, count_ok(rbw))]);
        r
    });
    let count_ok = count_ok(p.prog_words.len());
    m.always(
        &clk,
        vec![
            set(&chk_shape, plen.e().ge(lit(8, 4)).land(plen.bit(0).not())),
            set(&chk_prog, pw_lim(p.prog_words.len())),
            set(&chk_samp, pw_lim(p.max_samples)),
            set(&chk_count, count_ok),
            set(
                &chk_len,
                off16
                    .clone()
                    .ne(lit(16, 0))
                    .land(off16.clone().le(lit(16, p.max_samples as u64))),
            ),
        ],
    );
    let words_cmd = |sel: u64, chk: &Sig| -> Vec<Stmt> {
        vec![if_else(
            chk_shape.e().land(chk.e()),
            vec![
                set(&wsel, lit(1, sel)),
                set(
                    &waddr,
                    if aw <= 16 {
                        off_w.slice(aw - 1, 0)
                    } else {
                        off16.clone().zext(aw)
                    },
                ),
                set(&bp, lit(8, 2)),
                set(&xs, lit(4, X_RD)),
            ],
            fail(ErrCode::BadArgument),
        )]
    };
    let cmd_is = |c: CtlCmd| cmd.e().eq(lit(8, c as u64));
    // ReadCodes (`sel` 0) and ReadParts (1): `count` words from `offset`
    let read_words = |chk: &Sig, sel: u64| -> Vec<Stmt> {
        vec![if_else(
            plen.e().eq(lit(8, 3)).land(chk.e()),
            {
                let mut v = reply(K_CODES, Expr::concat(vec![a2.slice(6, 0), lit(1, 0)]));
                v.push(set(
                    &off,
                    if pa <= 16 {
                        off_w.slice(pa - 1, 0)
                    } else {
                        off16.clone().zext(pa)
                    },
                ));
                if let Some(r) = &rsel {
                    v.push(set(r, lit(1, sel)));
                }
                v
            },
            fail(ErrCode::BadArgument),
        )]
    };
    let dispatch = if_else(
        crc_ok.e().not(),
        fail(ErrCode::BadCrc),
        vec![if_else(
            cmd_is(CtlCmd::CtlIdentify),
            vec![if_else(
                plen.e().eq(lit(8, 0)),
                reply(
                    K_ID,
                    lit(8, phasegen_sim::link::protocol::CTL_IDENTIFY_LEN as u64),
                ),
                fail(ErrCode::BadArgument),
            )],
            vec![if_else(
                cmd_is(CtlCmd::WriteCodes),
                words_cmd(0, &chk_prog),
                vec![if_else(
                    cmd_is(CtlCmd::LoadSignal),
                    words_cmd(1, &chk_samp),
                    vec![if_else(
                        cmd_is(CtlCmd::ReadCodes),
                        read_words(&chk_count, 0),
                        vec![if_else(
                            cmd_is(CtlCmd::ReadParts),
                            match &chk_rcount {
                                Some(c) => read_words(c, 1),
                                None => fail(ErrCode::BadArgument),
                            },
                            vec![if_else(
                                cmd_is(CtlCmd::Program),
                                vec![if_else(
                                    plen.e().eq(lit(8, 0)),
                                    vec![set(&prog, lit(1, 1)), set(&xs, lit(4, X_START))],
                                    fail(ErrCode::BadArgument),
                                )],
                                vec![if_else(
                                    cmd_is(CtlCmd::Classify),
                                    vec![if_else(
                                        plen.e().eq(lit(8, 2)).land(chk_len.e()),
                                        vec![
                                            set(&len, off_w.slice(lw - 1, 0)),
                                            set(&run, lit(1, 1)),
                                            set(&xs, lit(4, X_START)),
                                        ],
                                        fail(ErrCode::BadArgument),
                                    )],
                                    vec![if_else(
                                        cmd_is(CtlCmd::ReadEnergies),
                                        vec![if_else(
                                            plen.e().eq(lit(8, 0)),
                                            reply(K_ENERGY, lit(8, 8 * p.probes as u64)),
                                            fail(ErrCode::BadArgument),
                                        )],
                                        fail(ErrCode::UnknownCmd),
                                    )],
                                )],
                            )],
                        )],
                    )],
                )],
            )],
        )],
    );
    // payload byte `ti` of the reply
    let id = identity(p, plan_id).to_bytes();
    let mut id_byte = lit(8, 0);
    for (i, &b) in id.iter().enumerate().rev() {
        id_byte = Expr::mux(ti.e().eq(lit(8, i as u64)), lit(8, b as u64), id_byte);
    }
    let energy64 = m.wire("t_energy64", c_energy.e().zext(64));
    let mut e_byte = lit(8, 0);
    for b in (0..8u32).rev() {
        e_byte = Expr::mux(
            ti.slice(2, 0).eq(lit(3, b as u64)),
            energy64.slice(63 - 8 * b, 56 - 8 * b),
            e_byte,
        );
    }
    let code_byte = Expr::mux(ti.bit(0), c_rdata.slice(7, 0), c_rdata.slice(15, 8));
    let class_byte = c_class.e().zext(8);
    let pay = m.wire(
        "t_pay",
        Expr::mux(
            kind.e().eq(lit(3, K_ERR)),
            err.e(),
            Expr::mux(
                kind.e().eq(lit(3, K_ID)),
                id_byte,
                Expr::mux(
                    kind.e().eq(lit(3, K_CODES)),
                    code_byte,
                    Expr::mux(kind.e().eq(lit(3, K_CLASS)), class_byte, e_byte),
                ),
            ),
        ),
    );
    // bytes: 0 sync, 1 cmd, 2 len, 3.. payload, then the CRC
    let tj = m.reg("t_j", 9);
    let out = m.wire(
        "t_out",
        Expr::mux(
            tj.e().eq(lit(9, 0)),
            lit(8, SYNC_RSP as u64),
            Expr::mux(
                tj.e().eq(lit(9, 1)),
                tc.e(),
                Expr::mux(
                    tj.e().eq(lit(9, 2)),
                    tl.e(),
                    Expr::mux(tj.e().lt(tl.e().zext(9).add(lit(9, 3))), pay.e(), tcrc.e()),
                ),
            ),
        ),
    );
    // the byte to send, registered before it goes out and into the CRC
    let t_byte = m.reg("t_byte", 8);
    let tcrc_next = crc_step(&mut m, "t_crc_next", &tcrc, &t_byte);
    let last_byte = tj.e().eq(tl.e().zext(9).add(lit(9, 3)));
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                set(&xs, lit(4, X_IDLE)),
                set(&we, lit(1, 0)),
                set(&prog, lit(1, 0)),
                set(&run, lit(1, 0)),
                set(&tx_valid, lit(1, 0)),
            ],
            vec![
                set(&we, lit(1, 0)),
                set(&prog, lit(1, 0)),
                set(&run, lit(1, 0)),
                set(&tx_valid, lit(1, 0)),
                // the write address advances after each word
                if_(we.e(), vec![set(&waddr, waddr.e().add(lit(aw, 1)))]),
                case(
                    xs.e(),
                    vec![
                        (
                            vec![lit(4, X_IDLE)],
                            vec![if_(xgo.e(), vec![set(&xs, lit(4, X_DISPATCH))])],
                        ),
                        // a request waits for the controller to be idle
                        // (the start-up programming)
                        (
                            vec![lit(4, X_DISPATCH)],
                            vec![if_(c_busy.e().not(), vec![set(&tj, lit(9, 0)), dispatch])],
                        ),
                        // words: read the high byte, then the low byte
                        (vec![lit(4, X_RD)], vec![set(&xs, lit(4, X_RD2))]),
                        (vec![lit(4, X_RD2)], vec![set(&xs, lit(4, X_BYTE))]),
                        (
                            vec![lit(4, X_BYTE)],
                            vec![if_else(
                                bp.bit(0).not(),
                                vec![
                                    set(&hi, bq.e()),
                                    set(&bp, bp.e().add(lit(8, 1))),
                                    set(&xs, lit(4, X_RD)),
                                ],
                                vec![
                                    set(&wdata, Expr::concat(vec![hi.e(), bq.e()])),
                                    set(&we, lit(1, 1)),
                                    if_else(
                                        bp.e().add(lit(8, 1)).eq(plen.e()),
                                        reply(K_NONE, lit(8, 0)),
                                        vec![
                                            set(&bp, bp.e().add(lit(8, 1))),
                                            set(&xs, lit(4, X_RD)),
                                        ],
                                    ),
                                ],
                            )],
                        ),
                        (vec![lit(4, X_START)], vec![set(&xs, lit(4, X_WAIT))]),
                        (
                            vec![lit(4, X_WAIT)],
                            vec![
                                if_(c_busy.e().not(), reply(K_NONE, lit(8, 0))),
                                if_(
                                    c_busy.e().not().land(cmd_is(CtlCmd::Classify)),
                                    vec![set(&kind, lit(3, K_CLASS)), set(&tl, lit(8, 1))],
                                ),
                            ],
                        ),
                        (
                            vec![lit(4, X_TXPREP)],
                            vec![if_else(
                                wait.e().eq(lit(2, 0)),
                                vec![set(&t_byte, out.e()), set(&xs, lit(4, X_TXSEND))],
                                vec![set(&wait, wait.e().sub(lit(2, 1)))],
                            )],
                        ),
                        (
                            vec![lit(4, X_TXSEND)],
                            vec![if_(
                                tx_ready.e(),
                                vec![
                                    set(&tx_data, t_byte.e()),
                                    set(&tx_valid, lit(1, 1)),
                                    // the CRC covers cmd, len and payload
                                    if_(tj.e().ne(lit(9, 0)), vec![set(&tcrc, tcrc_next.e())]),
                                    set(&xs, lit(4, X_TXWAIT)),
                                ],
                            )],
                        ),
                    ],
                    // X_TXWAIT: the next byte, or done
                    vec![if_else(
                        last_byte,
                        vec![set(&xs, lit(4, X_IDLE))],
                        vec![
                            set(&tj, tj.e().add(lit(9, 1))),
                            // payload index from byte 3 on
                            if_(tj.e().ge(lit(9, 3)), vec![set(&ti, ti.e().add(lit(8, 1)))]),
                            set(&wait, lit(2, 3)),
                            set(&xs, lit(4, X_TXPREP)),
                        ],
                    )],
                ),
            ],
        )],
    );
    m.output("o_tx", tx_line.e());
    for ((n, _), s) in pins.iter().zip(&pin_wires) {
        m.output(n, s.e());
    }
    m
}
