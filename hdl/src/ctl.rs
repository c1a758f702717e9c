//! The metacircuit controller (`pg_ctl`): programs the board's parts, plays
//! a signal into the circuit through the DAC, reads the probes through the
//! ADCs in step with it, and reports every probe's energy and the class.
//! Its plan and integer reference model are `phasegen_sim::r2nn::ctl`
//! (what each part of this module does is stated there, with the widths);
//! the SPI masters are [`crate::spi`].
//!
//! Host side (ports `i_*` without a bus name): a write port into the
//! program RAM (`i_wsel = 0`, one word per chip of each chain in shift
//! order, power-up contents the realized codes) and the sample RAM
//! (`i_wsel = 1`, DAC codes); `i_prog` reprograms every chain, `i_run`
//! plays `i_len` samples (1..=max_samples; other lengths are ignored);
//! `o_busy` is high while either runs (and from reset until the start-up
//! programming is done); `o_class` and `o_energy` (probe `i_eprobe`) hold
//! the last run's result; `o_rdata` is the word at `i_raddr` one cycle
//! before of the program RAM, or with `i_rsel` high (present when a chain
//! is read back) of the readback RAM, which every programming fills with
//! what the chains answered on their data inputs `i_<bus>_miso`.

use crate::spi;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, Expr, Module, Sig, Stmt};
use phasegen_sim::r2nn::ctl::{clog2, CtlPlan, SpiPlan};

// sequencer states
const S_IDLE: u64 = 0;
const S_READ: u64 = 1;
const S_LOAD: u64 = 2;
const S_OFFER: u64 = 3;
const S_DRAIN: u64 = 4;
// run states
const R_IDLE: u64 = 0;
const R_INIT: u64 = 1;
const R_INITW: u64 = 2;
const R_TICK: u64 = 3;
const R_DAC: u64 = 4;
const R_DACW: u64 = 5;
const R_ADC: u64 = 6;
const R_ADCW: u64 = 7;
const R_DRAIN: u64 = 8;
const R_ARG: u64 = 9;

/// The width of `i_waddr`.
pub fn addr_bits(p: &CtlPlan) -> u32 {
    clog2(p.prog_words.len() as u64).max(clog2(p.max_samples as u64))
}

/// Whether programming chain `i` is read back (has a data input).
pub fn reads_back(p: &CtlPlan, i: usize) -> bool {
    p.readback.iter().any(|r| r.chain == i)
}

/// Bits of `i_eprobe` and `o_class`.
pub fn probe_bits(p: &CtlPlan) -> u32 {
    clog2(p.probes as u64)
}

/// `pg_ctl` and the SPI masters it instantiates.
pub fn generate(p: &CtlPlan) -> Vec<Module> {
    let masters: Vec<Module> = p
        .prog
        .iter()
        .enumerate()
        .map(|(i, c)| spi::master(c, reads_back(p, i) as u32))
        .chain([spi::master(&p.dac, 0), spi::master(&p.adc, p.adcs as u32)])
        .collect();
    let top = top(p, &masters);
    let mut v = vec![top];
    v.extend(masters);
    v
}

struct Master {
    valid: Sig,
    take: Sig,
    busy: Sig,
    /// Received words (masters with data inputs).
    rx: Option<(Sig, Sig)>,
    sclk: Sig,
    mosi: Sig,
    cs_n: Sig,
}

fn top(p: &CtlPlan, masters: &[Module]) -> Module {
    let mut m = Module::new("pg_ctl");
    m.doc(&format!(
        "pg_ctl: metacircuit controller, {} Hz clock, {} cycles per sample, {} probes on {} ADCs, runs of up to {} samples, {}-bit energies.",
        p.clock_hz,
        p.period,
        p.probes,
        p.adcs,
        p.max_samples,
        p.energy_bits()
    ));
    let aw = addr_bits(p);
    let pw = probe_bits(p);
    let lw = clog2(p.max_samples as u64 + 1);
    let ew = p.energy_bits();
    let pa = clog2(p.prog_words.len() as u64);
    let sa = clog2(p.max_samples as u64);
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let we = m.input("i_we", 1);
    let wsel = m.input("i_wsel", 1);
    let waddr = m.input("i_waddr", aw);
    let wdata = m.input("i_wdata", 16);
    let prog = m.input("i_prog", 1);
    let run = m.input("i_run", 1);
    let len = m.input("i_len", lw);
    let eprobe = m.input("i_eprobe", pw);
    let adc_miso = m.input("i_adc_miso", p.adcs as u32);
    let pa0 = clog2(p.prog_words.len() as u64);
    let raddr = m.input("i_raddr", pa0);
    let rbw = p.rb_words();
    let rsel = (rbw > 0).then(|| m.input("i_rsel", 1));
    let chain_miso: Vec<Option<Sig>> = (0..p.prog.len())
        .map(|i| reads_back(p, i).then(|| m.input(&format!("i_{}_miso", p.prog[i].bus), 1)))
        .collect();

    // ---- memories
    let pmem = m.mem(
        "prog_ram",
        16,
        p.prog_words.len(),
        Some(p.prog_words.clone()),
    );
    let smem = m.mem("sample_ram", 16, p.max_samples, None);
    let in_range = |depth: usize| waddr.e().zext(aw + 1).lt(lit(aw + 1, depth as u64));
    m.always(
        &clk,
        vec![
            if_(
                we.e()
                    .land(wsel.e().not())
                    .land(in_range(p.prog_words.len())),
                vec![set_mem(&pmem, waddr.slice(pa - 1, 0), wdata.e())],
            ),
            if_(
                we.e().land(wsel.e()).land(in_range(p.max_samples)),
                vec![set_mem(&smem, waddr.slice(sa - 1, 0), wdata.e())],
            ),
        ],
    );

    // ---- SPI masters
    let wires = |m: &mut Module, tag: &str, bits: u32, lines: u32| -> Master {
        let valid = m.reg_init(&format!("{tag}_valid"), 1, false, Some(0));
        let w = |m: &mut Module, n: &str, b: u32| m.wire_decl(&format!("{tag}_{n}"), b);
        let ms = Master {
            valid,
            take: w(m, "take", 1),
            busy: w(m, "busy", 1),
            rx: (lines > 0).then(|| {
                let v = w(m, "rx_valid", 1);
                let rx = if bits > 16 {
                    m.wire_decl_partial(
                        &format!("{tag}_rx"),
                        bits * lines,
                        "the first 16 bits of an ADC frame carry no result",
                    )
                } else {
                    w(m, "rx", bits * lines)
                };
                (v, rx)
            }),
            sclk: w(m, "sclk", 1),
            mosi: w(m, "mosi", 1),
            cs_n: w(m, "cs_n", 1),
        };
        ms
    };
    let connect = |m: &mut Module,
                   module: &Module,
                   ms: &Master,
                   word: Expr,
                   last: Expr,
                   miso: Option<Expr>| {
        let mut conns = vec![
            ("i_clk", clk.e()),
            ("i_rst", rst.e()),
            ("i_valid", ms.valid.e()),
            ("i_word", word),
            ("i_last", last),
        ];
        if let Some(mi) = miso {
            conns.push(("i_miso", mi));
        }
        conns.push(("o_take", ms.take.e()));
        conns.push(("o_busy", ms.busy.e()));
        if let Some((v, r)) = &ms.rx {
            conns.push(("o_rx_valid", v.e()));
            conns.push(("o_rx", r.e()));
        }
        conns.push(("o_sclk", ms.sclk.e()));
        conns.push(("o_mosi", ms.mosi.e()));
        conns.push(("o_cs_n", ms.cs_n.e()));
        m.instance(module, &format!("u_{}", module_tag(module)), conns);
    };

    // programming chains: one shared word register, a valid per chain
    let nch = p.prog.len();
    let cb = clog2(nch as u64);
    let p_q = m.reg("p_q", 16);
    let p_last = m.reg("p_last", 1);
    let p_chain = m.reg("p_chain", cb);
    let mut chains = vec![];
    for (i, c) in p.prog.iter().enumerate() {
        chains.push(wires(
            &mut m,
            &format!("c{i}"),
            c.frame_bits,
            reads_back(p, i) as u32,
        ));
    }
    for (i, c) in p.prog.iter().enumerate() {
        let word = if c.frame_bits == 16 {
            p_q.e()
        } else {
            p_q.slice(c.frame_bits - 1, 0)
        };
        let miso = chain_miso[i].as_ref().map(|s| s.e());
        connect(&mut m, &masters[i], &chains[i], word, p_last.e(), miso);
    }
    let dac = wires(&mut m, "dac", 24, 0);
    let dac_word = m.reg("dac_word", 24);
    let adc = wires(&mut m, "adc", 32, p.adcs as u32);
    let adc_word = m.reg("adc_word", 32);
    connect(&mut m, &masters[nch], &dac, dac_word.e(), lit(1, 1), None);
    connect(
        &mut m,
        &masters[nch + 1],
        &adc,
        adc_word.e(),
        lit(1, 1),
        Some(adc_miso.e()),
    );
    let (adc_rxv, adc_rx) = adc.rx.clone().expect("the ADC master reads");

    // ---- programming sequencer
    let nt = p.transactions.len();
    let tb = clog2(nt as u64);
    let s_st = m.reg_init("seq_state", 3, false, Some(S_IDLE));
    let auto = m.reg_init("seq_autostart", 1, false, Some(1));
    let programmed = m.reg_init("seq_programmed", 1, false, Some(0));
    let t_i = m.reg("seq_t", tb);
    let p_addr = m.reg("seq_addr", pa);
    let p_left = m.reg("seq_left", pa + 1);
    m.mem_read(&clk, &pmem, &p_q, p_addr.e());
    // the host's read port (ReadCodes)
    let rdata = m.reg("host_rdata", 16);
    m.mem_read(&clk, &pmem, &rdata, raddr.e());
    // readback: the transaction's words the chain shifts out are kept
    let ra = clog2(rbw as u64);
    let cap = (rbw > 0).then(|| {
        (
            m.reg_init("seq_cap", 1, false, Some(0)),
            m.reg("seq_rb_addr", ra),
        )
    });
    let begin = |t: Expr| -> Stmt {
        case(
            t,
            p.transactions
                .iter()
                .enumerate()
                .map(|(i, tr)| {
                    let mut v = vec![
                        set(&p_addr, lit(pa, tr.start as u64)),
                        set(&p_left, lit(pa + 1, tr.words as u64)),
                        set(&p_chain, lit(cb, tr.chain as u64)),
                    ];
                    if let Some((c, a)) = &cap {
                        v.push(set(c, lit(1, tr.capture.is_some() as u64)));
                        if let Some(at) = tr.capture {
                            v.push(set(a, lit(ra, at as u64)));
                        }
                    }
                    (vec![lit(tb, i as u64)], v)
                })
                .collect(),
            vec![],
        )
    };
    let sel = |v: &dyn Fn(&Master) -> Expr| -> Expr {
        let mut e = v(&chains[nch - 1]);
        for i in (0..nch - 1).rev() {
            e = Expr::mux(p_chain.e().eq(lit(cb, i as u64)), v(&chains[i]), e);
        }
        e
    };
    let any_take = sel(&|c| c.take.e());
    let chain_busy = sel(&|c| c.busy.e());
    let rb_mem = cap.as_ref().map(|(c, a)| {
        let rx_valid = sel(&|ch| ch.rx.as_ref().map_or(lit(1, 0), |(v, _)| v.e()));
        let rx = sel(&|ch| {
            ch.rx.as_ref().map_or(lit(16, 0), |(_, r)| {
                if r.width == 16 {
                    r.e()
                } else {
                    r.e().zext(16)
                }
            })
        });
        let we = m.wire("seq_cap_we", c.e().land(rx_valid));
        let rx = m.wire("seq_cap_word", rx);
        let mem = m.mem("rb_ram", 16, rbw, None);
        m.always(&clk, vec![if_(we.e(), vec![set_mem(&mem, a.e(), rx.e())])]);
        (mem, we)
    });
    let r_st = m.reg_init("run_state", 4, false, Some(R_IDLE));
    let run_idle = r_st.e().eq(lit(4, R_IDLE));
    let clear_valid: Vec<Stmt> = chains.iter().map(|c| set(&c.valid, lit(1, 0))).collect();
    let mut offer = vec![set(&p_last, p_left.e().eq(lit(pa + 1, 1)))];
    for (i, c) in chains.iter().enumerate() {
        offer.push(set(&c.valid, p_chain.e().eq(lit(cb, i as u64))));
    }
    offer.push(set(&s_st, lit(3, S_OFFER)));
    let mut after_take = clear_valid.clone();
    after_take.push(if_else(
        p_last.e(),
        vec![set(&s_st, lit(3, S_DRAIN))],
        vec![
            set(&p_addr, p_addr.e().add(lit(pa, 1))),
            set(&p_left, p_left.e().sub(lit(pa + 1, 1))),
            set(&s_st, lit(3, S_READ)),
        ],
    ));
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            {
                let mut v = vec![set(&s_st, lit(3, S_IDLE)), set(&auto, lit(1, 1))];
                v.extend(clear_valid.clone());
                v
            },
            {
                let mut v = vec![];
                if let (Some((_, a)), Some((_, we))) = (&cap, &rb_mem) {
                    v.push(if_(we.e(), vec![set(a, a.e().add(lit(ra, 1)))]));
                }
                v.push(case(
                    s_st.e(),
                    vec![
                        (
                            vec![lit(3, S_IDLE)],
                            vec![if_(
                                auto.e().lor(prog.e()).land(run_idle.clone()),
                                vec![
                                    set(&auto, lit(1, 0)),
                                    set(&t_i, lit(tb, 0)),
                                    begin(lit(tb, 0)),
                                    set(&s_st, lit(3, S_READ)),
                                ],
                            )],
                        ),
                        (vec![lit(3, S_READ)], vec![set(&s_st, lit(3, S_LOAD))]),
                        (vec![lit(3, S_LOAD)], offer),
                        (vec![lit(3, S_OFFER)], vec![if_(any_take, after_take)]),
                    ],
                    vec![if_(
                        chain_busy.not(),
                        vec![if_else(
                            t_i.e().eq(lit(tb, nt as u64 - 1)),
                            vec![set(&programmed, lit(1, 1)), set(&s_st, lit(3, S_IDLE))],
                            vec![
                                set(&t_i, t_i.e().add(lit(tb, 1))),
                                begin(t_i.e().add(lit(tb, 1))),
                                set(&s_st, lit(3, S_READ)),
                            ],
                        )],
                    )],
                ));
                v
            },
        )],
    );
    let seq_idle = s_st.e().eq(lit(3, S_IDLE)).land(auto.e().not());

    // ---- run: input player, ADC capture
    let f = p.frames_per_sample();
    let fb = clog2(f as u64);
    let init: Vec<u64> = {
        let mut v = p.adc_init.clone();
        v.push(p.adc_cmd(0));
        v
    };
    let ib = clog2(init.len() as u64);
    let r_n = m.reg("run_left", lw);
    let r_k = m.reg("run_k", sa);
    let r_j = m.reg("run_j", fb);
    let r_i = m.reg("run_i", ib);
    let pcw = clog2(p.period);
    let r_pc = m.reg("run_pc", pcw);
    let r_timing = m.reg_init("run_timing", 1, false, Some(0));
    let r_drain = m.reg("run_drain", 2);
    let s_q = m.reg("s_q", 16);
    m.mem_read(&clk, &smem, &s_q, r_k.e());
    let adc_word_of = |j: Expr| -> Stmt {
        case(
            j,
            (0..f)
                .map(|j| {
                    (
                        vec![lit(fb, j as u64)],
                        vec![set(&adc_word, lit(32, p.adc_cmd((j + 1) % f)))],
                    )
                })
                .collect(),
            vec![],
        )
    };
    let init_word = case(
        r_i.e(),
        init.iter()
            .enumerate()
            .map(|(i, &w)| (vec![lit(ib, i as u64)], vec![set(&adc_word, lit(32, w))]))
            .collect(),
        vec![],
    );
    // accumulators
    let accs: Vec<Sig> = (0..p.probes)
        .map(|q| m.reg(&format!("acc{q}"), ew))
        .collect();
    let len_ok = len
        .e()
        .ne(lit(lw, 0))
        .land(len.e().le(lit(lw, p.max_samples as u64)));
    let go = m.wire(
        "run_go",
        run_idle
            .clone()
            .land(run.e())
            .land(seq_idle.clone())
            .land(len_ok),
    );
    let start = vec![
        set(&r_n, len.e()),
        set(&r_k, lit(sa, 0)),
        set(&r_i, lit(ib, 0)),
        set(&r_st, lit(4, R_INIT)),
    ];
    let class = m.reg_init("run_class", pw, false, Some(0));
    // argmax, one probe per cycle (a comparator, not a chain of them):
    // the first largest
    let ap = clog2(p.probes as u64 + 1);
    let arg_p = m.reg("arg_p", ap);
    let arg_v = m.reg("arg_v", ew);
    let arg_i = m.reg("arg_i", pw);
    let mut cand = accs[p.probes - 1].e();
    for q in (1..p.probes.saturating_sub(1)).rev() {
        cand = Expr::mux(arg_p.e().eq(lit(ap, q as u64)), accs[q].e(), cand);
    }
    let cand = m.wire("arg_cand", cand);
    let arg_p_i = if ap == pw {
        arg_p.e()
    } else {
        m.wire_partial(
            "arg_p_low",
            arg_p.e(),
            "arg_p counts to the probes; only indices below them are stored",
        )
        .slice(pw - 1, 0)
    };
    let run_fsm = case(
        r_st.e(),
        vec![
            (vec![lit(4, R_IDLE)], vec![if_(go.e(), start)]),
            (
                vec![lit(4, R_INIT)],
                vec![
                    init_word,
                    set(&adc.valid, lit(1, 1)),
                    set(&r_st, lit(4, R_INITW)),
                ],
            ),
            (
                vec![lit(4, R_INITW)],
                vec![
                    if_(adc.take.e(), vec![set(&adc.valid, lit(1, 0))]),
                    if_(
                        adc.valid
                            .e()
                            .not()
                            .land(adc.take.e().not())
                            .land(adc.busy.e().not()),
                        vec![if_else(
                            r_i.e().eq(lit(ib, init.len() as u64 - 1)),
                            vec![
                                set(&r_timing, lit(1, 1)),
                                set(&r_pc, lit(pcw, 0)),
                                set(&r_st, lit(4, R_TICK)),
                            ],
                            vec![
                                set(&r_i, r_i.e().add(lit(ib, 1))),
                                set(&r_st, lit(4, R_INIT)),
                            ],
                        )],
                    ),
                ],
            ),
            (
                vec![lit(4, R_TICK)],
                vec![if_(
                    r_pc.e().eq(lit(pcw, 0)),
                    vec![
                        set(&dac_word, Expr::concat(vec![lit(8, 0), s_q.e()])),
                        set(&dac.valid, lit(1, 1)),
                        set(&r_st, lit(4, R_DAC)),
                    ],
                )],
            ),
            (
                vec![lit(4, R_DAC)],
                vec![if_(
                    dac.take.e(),
                    vec![
                        set(&dac.valid, lit(1, 0)),
                        // the next sample's read starts now
                        set(&r_k, r_k.e().add(lit(sa, 1))),
                        set(&r_st, lit(4, R_DACW)),
                    ],
                )],
            ),
            (
                vec![lit(4, R_DACW)],
                vec![if_(
                    dac.busy.e().not(),
                    vec![
                        set(&r_j, lit(fb, 0)),
                        adc_word_of(lit(fb, 0)),
                        set(&adc.valid, lit(1, 1)),
                        set(&r_st, lit(4, R_ADC)),
                    ],
                )],
            ),
            (
                vec![lit(4, R_ADC)],
                vec![if_(
                    adc.take.e(),
                    vec![set(&adc.valid, lit(1, 0)), set(&r_st, lit(4, R_ADCW))],
                )],
            ),
            (
                vec![lit(4, R_ADCW)],
                vec![if_(
                    adc.busy.e().not(),
                    vec![if_else(
                        r_j.e().eq(lit(fb, f as u64 - 1)),
                        vec![
                            set(&r_n, r_n.e().sub(lit(lw, 1))),
                            if_else(
                                r_n.e().eq(lit(lw, 1)),
                                vec![set(&r_drain, lit(2, 3)), set(&r_st, lit(4, R_DRAIN))],
                                vec![set(&r_st, lit(4, R_TICK))],
                            ),
                        ],
                        vec![
                            set(&r_j, r_j.e().add(lit(fb, 1))),
                            adc_word_of(r_j.e().add(lit(fb, 1))),
                            set(&adc.valid, lit(1, 1)),
                            set(&r_st, lit(4, R_ADC)),
                        ],
                    )],
                )],
            ),
            (
                vec![lit(4, R_DRAIN)],
                vec![if_else(
                    r_drain.e().eq(lit(2, 0)),
                    vec![
                        set(&r_timing, lit(1, 0)),
                        set(&arg_p, lit(ap, 1)),
                        set(&arg_v, accs[0].e()),
                        set(&arg_i, lit(pw, 0)),
                        set(&r_st, lit(4, R_ARG)),
                    ],
                    vec![set(&r_drain, r_drain.e().sub(lit(2, 1)))],
                )],
            ),
            (
                vec![lit(4, R_ARG)],
                vec![if_else(
                    arg_p.e().eq(lit(ap, p.probes as u64)),
                    vec![set(&class, arg_i.e()), set(&r_st, lit(4, R_IDLE))],
                    vec![
                        if_(
                            cand.e().gt(arg_v.e()),
                            vec![set(&arg_v, cand.e()), set(&arg_i, arg_p_i)],
                        ),
                        set(&arg_p, arg_p.e().add(lit(ap, 1))),
                    ],
                )],
            ),
        ],
        vec![set(&r_st, lit(4, R_IDLE))],
    );
    // the sample clock: a tick every `period` cycles from the first sample
    let timer = if_(
        r_timing.e(),
        vec![if_else(
            r_pc.e().eq(lit(pcw, 0)),
            vec![set(&r_pc, lit(pcw, p.period - 1))],
            vec![set(&r_pc, r_pc.e().sub(lit(pcw, 1)))],
        )],
    );
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                set(&r_st, lit(4, R_IDLE)),
                set(&r_timing, lit(1, 0)),
                set(&dac.valid, lit(1, 0)),
                set(&adc.valid, lit(1, 0)),
            ],
            vec![timer, run_fsm],
        )],
    );

    // energy pipeline: capture, square, accumulate
    let e1 = m.reg_init("e_v1", 1, false, Some(0));
    let e2 = m.reg_init("e_v2", 1, false, Some(0));
    let j1 = m.reg("e_j1", fb);
    let j2 = m.reg("e_j2", fb);
    let qs: Vec<Sig> = (0..p.adcs)
        .map(|a| m.reg_signed(&format!("e_q{a}"), 16))
        .collect();
    let sqs: Vec<Sig> = (0..p.adcs)
        .map(|a| m.reg_signed(&format!("e_sq{a}"), 32))
        .collect();
    let mut cap = vec![
        set(&e1, adc_rxv.e().land(r_st.e().eq(lit(4, R_ADCW)))),
        set(&j1, r_j.e()),
        set(&e2, e1.e()),
        set(&j2, j1.e()),
    ];
    for a in 0..p.adcs {
        let lo = 32 * a as u32;
        // straight binary to two's complement: invert the top bit
        cap.push(set(
            &qs[a],
            Expr::concat(vec![adc_rx.bit(lo + 15).not(), adc_rx.slice(lo + 14, lo)]).as_signed(),
        ));
        cap.push(set(&sqs[a], qs[a].e().mul(qs[a].e())));
    }
    let arms: Vec<(Vec<Expr>, Vec<Stmt>)> = (0..f)
        .map(|j| {
            let mut body = vec![];
            for (a, sq) in sqs.iter().enumerate() {
                if let Some(q) = p.probe_of(j, a) {
                    body.push(set(
                        &accs[q],
                        // q² >= 0: the product read as unsigned
                        accs[q].e().add(sq.e().as_unsigned().zext(ew)),
                    ));
                }
            }
            (vec![lit(fb, j as u64)], body)
        })
        .collect();
    let clear: Vec<Stmt> = accs.iter().map(|a| set(a, lit(ew, 0))).collect();
    cap.push(if_else(
        go.e(),
        clear,
        vec![if_(e2.e(), vec![case(j2.e(), arms, vec![])])],
    ));
    m.always(&clk, cap);

    // ---- outputs
    let mut energy = accs[p.probes - 1].e();
    for q in (0..p.probes - 1).rev() {
        energy = Expr::mux(eprobe.e().eq(lit(pw, q as u64)), accs[q].e(), energy);
    }
    m.output("o_busy", run_idle.not().lor(seq_idle.not()));
    m.output("o_programmed", programmed.e());
    match (&rb_mem, &rsel) {
        (Some((mem, _)), Some(rsel)) => {
            let q = m.reg("host_rbdata", 16);
            let a = if ra == pa0 {
                raddr.e()
            } else {
                raddr.slice(ra - 1, 0)
            };
            m.mem_read(&clk, mem, &q, a);
            m.output("o_rdata", Expr::mux(rsel.e(), q.e(), rdata.e()));
        }
        _ => {
            m.output("o_rdata", rdata.e());
        }
    }
    m.output("o_class", class.e());
    m.output("o_energy", energy);
    let prog_sclk = sel(&|c| c.sclk.e());
    let prog_mosi = sel(&|c| c.mosi.e());
    m.output("o_prog_sclk", prog_sclk);
    m.output("o_prog_mosi", prog_mosi);
    for (i, c) in p.prog.iter().enumerate() {
        m.output(&format!("o_{}_cs_n", c.bus), chains[i].cs_n.e());
    }
    m.output("o_dac_cs_n", dac.cs_n.e());
    m.output("o_dac_sclk", dac.sclk.e());
    m.output("o_dac_mosi", dac.mosi.e());
    m.output("o_adc_cs_n", adc.cs_n.e());
    m.output("o_adc_sclk", adc.sclk.e());
    m.output("o_adc_mosi", adc.mosi.e());
    // the ADCs' and rheostats' reset pins are held inactive
    m.output("o_adc_rst_n", lit(1, 1));
    m.output("o_rheo_reset_n", lit(1, 1));
    m
}

fn module_tag(m: &Module) -> String {
    m.name.trim_start_matches("pg_").to_string()
}

/// The `SpiPlan` of every master, in [`generate`]'s module order.
pub fn masters(p: &CtlPlan) -> Vec<&SpiPlan> {
    p.prog.iter().chain([&p.dac, &p.adc]).collect()
}
