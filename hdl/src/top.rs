//! `pg_top`: UART, the protocol decoder of `phasegen_sim::link::protocol`, and
//! the settle core.
//!
//! The receiver and the executor run side by side. The receiver takes a
//! request whole into one of two frame buffers; the executor checks it
//! (CRC, length, arguments) before anything in the design changes, executes
//! it and answers, while the receiver already takes the next request into
//! the other buffer. So a host can send the next input while the core
//! settles the current one (`Infer` streams samples at the line rate). A
//! request that starts while one executes and another waits is read to its
//! end without being stored, not answered, and counted (`overruns`). A
//! frame whose line stays idle for more than `FRAME_GAP_BITS` bit times
//! between two bytes is dropped, so a partial frame never blocks the device.

use crate::core::CoreShape;
use crate::vlog::{case, if_, if_else, lit, set, set_mem, Expr, Module, Sig, Stmt};
use phasegen_sim::link::protocol::{
    phase_bytes, target_bytes, Block, Cmd, ErrCode, Identity, ERROR, FRAME_GAP_BITS, STATUS_LEN,
    SYNC_REQ, SYNC_RSP, VERSION,
};
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::qformat::clog2;
use phasegen_sim::twin::sched::Schedule;
use phasegen_sim::twin::store::StoreLayout;

/// The frame timer's limit in clock cycles. The timer restarts when a byte
/// is received (its stop bit sampled, a fixed number of cycles after its
/// start bit began), so it times start bit to start bit: a byte whose start
/// bit begins at most `(FRAME_GAP_BITS + 10) · cpb` cycles after the
/// previous one's, i.e. after at most `FRAME_GAP_BITS · cpb` idle cycles
/// from the end of the 10-bit character, is in time; the frame is dropped
/// at the cycle after that (`protocol::gap_drops_frame`).
pub fn frame_timer_limit(cpb: u64) -> u64 {
    (FRAME_GAP_BITS + 10) * cpb - 1
}

// receive states
const R_SYNC: u64 = 0;
const R_CMD: u64 = 1;
const R_LEN: u64 = 2;
const R_PAY: u64 = 3;
const R_CRC: u64 = 4;
const RB: u32 = 3;

// execute states
const E_IDLE: u64 = 0;
const E_EXEC: u64 = 1;
const E_COPY: u64 = 2;
const E_RUN: u64 = 3;
const E_SEND: u64 = 4;
const E_WCOPY: u64 = 5;
const E_LEARN: u64 = 6;
/// (designs with a sample store) StoreSample's copy, an Epoch running
const E_SCOPY: u64 = 7;
const E_EPOCH: u64 = 8;
/// (Hebbian designs) Imprint's copy of the pattern, the imprint running
const E_HCOPY: u64 = 9;
const E_HEBB: u64 = 10;
/// Bits of the execute state: 3, or 4 with a sample store.
const EB: u32 = 3;

// transmit states
const T_SYNC: u64 = 0;
const T_CMD: u64 = 1;
const T_LEN: u64 = 2;
const T_PAY: u64 = 3;
const T_CRC: u64 = 4;
const T_DONE: u64 = 5;
const TB: u32 = 3;

// payload kinds of a response
const K_NONE: u64 = 0;
const K_ID: u64 = 1;
const K_CLASS: u64 = 2;
const K_PHASE: u64 = 3;
const K_ERR: u64 = 4;
const K_STATUS: u64 = 5;
const K_WORDS: u64 = 6;
const K_COUNT: u64 = 7;

/// The unrolled CRC-8 step `crc8_byte(c, b)` as wires.
pub(crate) fn crc_step(m: &mut Module, name: &str, c: &Sig, b: &Sig) -> Sig {
    let mut x = m.wire(&format!("{name}_0"), c.e().xor(b.e()));
    for k in 1..=8 {
        let shifted = Expr::concat(vec![x.slice(6, 0), lit(1, 0)]);
        let poly = shifted
            .clone()
            .xor(lit(8, phasegen_sim::link::protocol::CRC_POLY as u64));
        x = m.wire(&format!("{name}_{k}"), Expr::mux(x.bit(7), poly, shifted));
    }
    x
}

pub fn identity(hw: &HwModel, design_id: u32) -> Identity {
    Identity {
        version: VERSION,
        design_id,
        inputs: hw.topo.inputs as u16,
        oscillators: hw.n() as u16,
        classes: hw.topo.classes() as u8,
        phase_bits: hw.fmt.phase_bits as u8,
        weight_bits: hw.fmt.weight_bits as u8,
        frac: hw.fmt.frac as u8,
        input_bits: hw.fmt.input_bits as u8,
        blocks: Schedule::blocks_mask(hw)
            | if hw.learn.is_some() {
                phasegen_sim::link::protocol::LEARNS
            } else {
                0
            }
            | if StoreLayout::of(hw).is_some() {
                phasegen_sim::link::protocol::STORES
            } else {
                0
            }
            | if hw.hebb.is_some() {
                phasegen_sim::link::protocol::IMPRINTS
            } else {
                0
            }
            | if hw.learn.as_ref().is_some_and(|l| l.pattern) {
                phasegen_sim::link::protocol::PATTERNS
            } else {
                0
            },
        steps: hw.steps as u16,
    }
}

pub fn generate(
    hw: &HwModel,
    design_id: u32,
    cpb: u64,
    core: &Module,
    urx: &Module,
    utx: &Module,
) -> Module {
    let sh = CoreShape::of(hw);
    let n = hw.n() as u64;
    let ni = hw.topo.inputs as u64;
    let classes = sh.classes as u32;
    let tb = target_bytes(sh.classes);
    let pb = phase_bytes(sh.phase_bits) as u64;
    let hdr = (5 + tb).max(3);
    let id = identity(hw, design_id).to_bytes();
    let stl = StoreLayout::of(hw);
    let eb = if stl.is_some() || hw.hebb.is_some() {
        EB + 1
    } else {
        EB
    };

    let mut m = Module::new("pg_top");
    m.doc("pg_top: UART protocol front end and the settle core (docs/protocol.md).");
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    // ---- UART, or AXI4-Stream byte ports (crate::axis) ----
    let (rx_valid, rx_data, rx_ferr, tx_valid, tx_data, tx_ready);
    if hw.axis {
        let s_tvalid = m.input("s_axis_tvalid", 1);
        let s_tdata = m.input("s_axis_tdata", 8);
        let m_tready = m.input("m_axis_tready", 1);
        let s_tready = m.output_wire("s_axis_tready", 1);
        let m_tvalid = m.output_wire("m_axis_tvalid", 1);
        let m_tdata = m.output_wire("m_axis_tdata", 8);
        rx_valid = m.wire_decl("rx_valid", 1);
        rx_data = m.wire_decl("rx_data", 8);
        rx_ferr = m.wire_decl("rx_ferr", 1);
        m.instance(
            urx,
            "u_rx",
            vec![
                ("i_clk", clk.e()),
                ("i_rst", rst.e()),
                ("i_tvalid", s_tvalid.e()),
                ("i_tdata", s_tdata.e()),
                ("o_tready", s_tready.e()),
                ("o_valid", rx_valid.e()),
                ("o_data", rx_data.e()),
                ("o_frame_err", rx_ferr.e()),
            ],
        );
        tx_valid = m.reg_init("tx_valid", 1, false, Some(0));
        tx_data = m.reg("tx_data", 8);
        tx_ready = m.wire_decl("tx_ready", 1);
        m.instance(
            utx,
            "u_tx",
            vec![
                ("i_clk", clk.e()),
                ("i_rst", rst.e()),
                ("i_valid", tx_valid.e()),
                ("i_data", tx_data.e()),
                ("i_tready", m_tready.e()),
                ("o_tvalid", m_tvalid.e()),
                ("o_tdata", m_tdata.e()),
                ("o_ready", tx_ready.e()),
            ],
        );
    } else {
        let rxd = m.input("i_uart_rx", 1);
        rx_valid = m.wire_decl("rx_valid", 1);
        rx_data = m.wire_decl("rx_data", 8);
        // a byte with a bad stop bit is dropped by the receiver (and counted)
        rx_ferr = m.wire_decl("rx_ferr", 1);
        m.instance(
            urx,
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
        tx_valid = m.reg_init("tx_valid", 1, false, Some(0));
        tx_data = m.reg("tx_data", 8);
        tx_ready = m.wire_decl("tx_ready", 1);
        let txd = m.output_wire("o_uart_tx", 1);
        m.instance(
            utx,
            "u_tx",
            vec![
                ("i_clk", clk.e()),
                ("i_rst", rst.e()),
                ("i_valid", tx_valid.e()),
                ("i_data", tx_data.e()),
                ("o_tx", txd.e()),
                ("o_ready", tx_ready.e()),
            ],
        );
    }

    // ---- core ----
    let a = sh.osc_bits;
    let x_we = m.reg_init("x_we", 1, false, Some(0));
    let x_addr = m.reg("x_addr", sh.input_addr_bits);
    let x_data = m.reg("x_data", sh.input_bits);
    let c_start = m.reg_init("c_start", 1, false, Some(0));
    let c_init = m.reg("c_init", 1);
    let c_steps = m.reg("c_steps", sh.step_bits);
    let c_beta = m.reg_signed("c_beta", sh.weight_bits);
    let c_target = m.reg("c_target", classes);
    let rd_addr = m.reg("rd_addr", a);
    let busy = m.wire_decl("core_busy", 1);
    let done = m.wire_decl("core_done", 1);
    let class = m.wire_decl("core_class", sh.class_bits);
    let rd_phase = m.wire_decl("core_rd_phase", sh.phase_bits);
    let ph_we = m.wire_decl_partial(
        "core_ph_we",
        1,
        "observation port of the core, used by testbenches only",
    );
    let ph_idx = m.wire_decl_partial(
        "core_ph_idx",
        a,
        "observation port of the core, used by testbenches only",
    );
    let ph_val = m.wire_decl_partial(
        "core_ph_val",
        sh.phase_bits,
        "observation port of the core, used by testbenches only",
    );
    let step = m.wire_decl_partial(
        "core_step",
        1,
        "observation port of the core, used by testbenches only",
    );
    let obs = |m: &mut Module, name: &str| {
        let w = core
            .ports()
            .iter()
            .find(|p| p.name == format!("o_{name}"))
            .map(|p| p.width)
            .expect("pg_core observation port");
        m.wire_decl_partial(
            &format!("core_{name}"),
            w,
            "observation port of the core, used by testbenches only",
        )
    };
    let ph_abs = obs(&mut m, "ph_abs");
    let macs = obs(&mut m, "macs");
    let mac_loop = obs(&mut m, "loop");
    let fault = obs(&mut m, "fault");
    let osc = (hw.pins > 0).then(|| m.wire_decl("core_osc", hw.pins as u32));
    // writable memories (WriteWeights), a word at a time: per block its
    // words, word bytes and write port (write enable, address, data)
    let sched = Schedule::new(hw);
    let lanes = sched.lanes as u32;
    let wbytes = sh.weight_bits.div_ceil(8);
    let pbytes = sh.phase_bits.div_ceil(8);
    struct WBlock {
        b: Block,
        words: u64,
        word_bytes: u64,
        we: Sig,
        addr: Sig,
        data: Sig,
    }
    let wblocks: Vec<WBlock> = Block::ALL
        .into_iter()
        .filter(|&b| Schedule::writable(hw, b))
        .map(|b| {
            let words = sched.block_words(hw, b) as u64;
            let (port, width) = match b {
                Block::U => ("u", lanes * sh.weight_bits),
                Block::W => ("w", lanes * sh.weight_bits),
                Block::Osc => ("o", 2 * sh.weight_bits + 2 * sh.phase_bits),
            };
            WBlock {
                b,
                words,
                word_bytes: sched.word_bytes(hw, b) as u64,
                we: m.reg_init(&format!("{port}_we"), 1, false, Some(0)),
                addr: m.reg(&format!("{port}_addr"), clog2(words.max(1))),
                data: m.reg(&format!("{port}_data"), width),
            }
        })
        .collect();
    let port_of = |b: Block| match b {
        Block::U => ["i_u_we", "i_u_addr", "i_u_data"],
        Block::W => ["i_w_we", "i_w_addr", "i_w_data"],
        Block::Osc => ["i_o_we", "i_o_addr", "i_o_data"],
    };
    // a learning design: pg_learn drives the core while it learns
    let lmod = hw
        .learn
        .as_ref()
        .map(|spec| crate::learn::generate(hw, spec));
    let lw = lmod
        .as_ref()
        .map(|lm| crate::learn::output_wires(&mut m, lm, "l_", "the learning engine's outputs"));
    // a design with a sample store: pg_store feeds the engine an epoch
    let smod = stl.map(|_| crate::store::generate(hw));
    let sw_ = smod
        .as_ref()
        .map(|sm| crate::learn::output_wires(&mut m, sm, "s_", "the sample store's outputs"));
    // a Hebbian design: pg_hebb writes W while it imprints
    let hmod = hw.hebb.as_ref().map(|spec| crate::hebb::generate(hw, spec));
    let hw_ = hmod
        .as_ref()
        .map(|hm| crate::learn::output_wires(&mut m, hm, "h_", "the Hebbian engine's outputs"));
    let by_hebb = |own: Expr, name: &str| -> Expr {
        match &hw_ {
            Some(w) => {
                let v = w[name].e();
                let v = if v.width() < own.width() {
                    v.zext(own.width())
                } else {
                    v
                };
                Expr::mux(w["o_busy"].e(), v, own)
            }
            None => own,
        }
    };
    // the input RAM's write port: the host's writes, or the store's copies
    let (x_we_in, x_addr_in, x_data_in) = match &sw_ {
        Some(w) => (
            x_we.e().lor(w["o_x_we"].e()),
            Expr::mux(w["o_busy"].e(), w["o_x_addr"].e(), x_addr.e()),
            Expr::mux(w["o_busy"].e(), w["o_x_data"].e(), x_data.e()),
        ),
        None => (x_we.e(), x_addr.e(), x_data.e()),
    };
    let by_learn = |own: Expr, name: &str| -> Expr {
        match &lw {
            Some(w) => {
                let v = if own.signed() {
                    w[name].e().as_signed()
                } else {
                    w[name].e()
                };
                Expr::mux(w["o_busy"].e(), v, own)
            }
            None => own,
        }
    };
    let learn_port = |b: Block| match b {
        Block::U => ["o_u_we", "o_u_addr", "o_u_data"],
        Block::W => ["o_w_we", "o_w_addr", "o_w_data"],
        Block::Osc => ["o_o_we", "o_o_addr", "o_o_data"],
    };
    // (a learning design) the core's parameter reads for the engine
    let core_pr: Vec<(String, Sig)> = core
        .ports()
        .iter()
        .filter(|pi| pi.name.starts_with("o_pr_"))
        .map(|pi| {
            let w = m.wire_decl_partial(
                &format!("c_{}", &pi.name[2..]),
                pi.width,
                "the engine reads the lanes and fields it updates",
            );
            (pi.name.clone(), w)
        })
        .collect();
    m.instance(
        core,
        "u_core",
        vec![
            ("i_clk", clk.e()),
            ("i_rst", rst.e()),
            ("i_x_we", x_we_in.clone()),
            ("i_x_addr", x_addr_in.clone()),
            ("i_x_data", x_data_in.clone()),
            ("i_start", by_learn(c_start.e(), "o_c_start")),
            ("i_init", by_learn(c_init.e(), "o_c_init")),
            ("i_steps", by_learn(c_steps.e(), "o_c_steps")),
            ("i_beta", by_learn(c_beta.e(), "o_c_beta")),
            ("i_target", by_learn(c_target.e(), "o_c_target")),
            ("i_rd_addr", by_learn(rd_addr.e(), "o_rd_addr")),
        ]
        .into_iter()
        .chain(wblocks.iter().flat_map(|w| {
            let [we, addr, data] = port_of(w.b);
            let [lwe, laddr, ldata] = learn_port(w.b);
            let hebb = |e: Expr, name: &str| {
                if w.b == Block::W {
                    by_hebb(e, name)
                } else {
                    e
                }
            };
            [
                (we, hebb(by_learn(w.we.e(), lwe), "o_w_we")),
                (addr, hebb(by_learn(w.addr.e(), laddr), "o_w_addr")),
                (data, hebb(by_learn(w.data.e(), ldata), "o_w_data")),
            ]
        }))
        .chain(lw.iter().map(|w| ("i_pr_addr", w["o_pr_addr"].e())))
        .chain(hw_.iter().map(|w| {
            let pa = core
                .ports()
                .iter()
                .find(|p| p.name == "i_pr_addr")
                .expect("a Hebbian core answers the engine's reads")
                .width;
            ("i_pr_addr", w["o_pr_addr"].e().zext(pa))
        }))
        .chain([
            ("o_busy", busy.e()),
            ("o_done", done.e()),
            ("o_class", class.e()),
            ("o_rd_phase", rd_phase.e()),
            ("o_step", step.e()),
            ("o_ph_we", ph_we.e()),
            ("o_ph_idx", ph_idx.e()),
            ("o_ph_val", ph_val.e()),
            ("o_ph_abs", ph_abs.e()),
            ("o_macs", macs.e()),
            ("o_loop", mac_loop.e()),
            ("o_fault", fault.e()),
        ])
        .chain(osc.iter().map(|o| ("o_osc", o.e())))
        .chain(core_pr.iter().map(|(n, w)| (n.as_str(), w.e())))
        .collect(),
    );
    // the learning engine's inputs: the request's label, ReadWeights'
    // word, the core's answers and parameter reads, and where the host
    // writes (those words' shadows become the written values)
    let l_go = lw.as_ref().map(|_| m.reg_init("l_go", 1, false, Some(0)));
    // (a learning memory takes its pattern from the request's bytes)
    let pattern = hw.learn.as_ref().is_some_and(|l| l.pattern);
    let l_label = lw
        .as_ref()
        .filter(|_| !pattern)
        .map(|_| m.reg("l_label", sh.class_bits));
    let rw_blk = lw.as_ref().map(|_| m.reg("rw_blk", 2));
    let rw_addr = lmod.as_ref().map(|lm| {
        let w = lm
            .ports()
            .iter()
            .find(|p| p.name == "i_rw_addr")
            .unwrap()
            .width;
        m.reg("rw_addr", w)
    });
    let l_pat = lw
        .as_ref()
        .filter(|_| pattern)
        .map(|_| m.wire_decl("l_pattern", classes));
    if let (Some(lm), Some(w)) = (&lmod, &lw) {
        instance_with(&mut m, lm, "u_learn", |name, width| {
            let host = |b: Block, k: usize| {
                wblocks
                    .iter()
                    .find(|x| x.b == b)
                    .map(|x| [x.we.e(), x.addr.e()][k].clone())
                    .expect("a learning design writes every block")
            };
            let e = match name {
                "i_clk" => clk.e(),
                "i_rst" => rst.e(),
                "i_go" | "i_ph_we" | "i_ph_sel" => lit(1, 0),
                "i_ph_idx" | "i_ph_val" => lit(width, 0),
                "i_x_we" => x_we_in.clone(),
                "i_x_addr" => x_addr_in.clone(),
                "i_x_data" => x_data_in.clone(),
                "i_learn" => match &sw_ {
                    Some(sw) => l_go.as_ref().unwrap().e().lor(sw["o_learn"].e()),
                    None => l_go.as_ref().unwrap().e(),
                },
                "i_label" => match &sw_ {
                    Some(sw) => Expr::mux(
                        sw["o_busy"].e(),
                        sw["o_label"].e(),
                        l_label.as_ref().unwrap().e(),
                    ),
                    None => l_label.as_ref().unwrap().e(),
                },
                "i_pattern" => l_pat.as_ref().unwrap().e(),
                "i_c_done" => done.e(),
                "i_c_class" => class.e(),
                "i_rd_phase" => rd_phase.e(),
                "i_hw_w_we" => host(Block::W, 0),
                "i_hw_w_addr" => host(Block::W, 1),
                "i_hw_u_we" => host(Block::U, 0),
                "i_hw_u_addr" => host(Block::U, 1),
                "i_hw_o_we" => host(Block::Osc, 0),
                "i_hw_o_addr" => host(Block::Osc, 1),
                "i_rw_blk" => rw_blk.as_ref().unwrap().e(),
                "i_rw_addr" => rw_addr.as_ref().unwrap().e(),
                other if other.starts_with("i_pr_") => {
                    let want = format!("o_{}", &other[2..]);
                    core_pr.iter().find(|(n, _)| *n == want).unwrap().1.e()
                }
                other => w[other].e(),
            };
            e
        });
    }
    m.output("o_busy", busy.e());
    if let Some(o) = &osc {
        // the top bit of the phases of oscillators pin_first.., for pins
        m.output("o_osc", o.e());
    }

    // ---- receive ----
    let rs = m.reg_init("r_state", RB, false, Some(R_SYNC));
    let cmd = m.reg("r_cmd", 8);
    let len = m.reg("r_len", 8);
    let cnt = m.reg("r_cnt", 8);
    let crc = m.reg("r_crc", 8);
    let bad_x = m.reg("r_bad_x", 1);
    let r_bank = m.reg_init("r_bank", 1, false, Some(0));
    // a received request waits for the executor (r_cmd, r_len, r_hdr,
    // r_bad_x hold it: the receiver starts no frame while it waits)
    let pend = m.reg_init("r_pend", 1, false, Some(0));
    let p_crc_ok = m.reg("r_crc_ok", 1);
    // two frame buffers: {bank, byte}
    let buf = m.mem("r_buf", 8, 512, None);
    let hdr_reg = m.reg("r_hdr", 8 * hdr as u32);
    // the request being executed
    let es = m.reg_init("e_state", eb, false, Some(E_IDLE));
    let e_cmd = m.reg("e_cmd", 8);
    let e_len = m.reg("e_len", 8);
    let e_hdr = m.reg("e_hdr", 8 * hdr as u32);
    let e_bad_x = m.reg("e_bad_x", 1);
    let e_crc_ok = m.reg("e_crc_ok", 1);
    let e_bank = m.reg("e_bank", 1);
    let tmo_limit = frame_timer_limit(cpb);
    let tmo_w = clog2(tmo_limit + 1);
    let tmo = m.reg("r_timeout", tmo_w);
    let rx_crc = crc_step(&mut m, "rx_crc", &crc, &rx_data);
    let in_rs = |v: u64| rs.e().eq(lit(RB, v));
    // the executed request's header bytes (arguments) by payload position
    let hb = |k: usize| e_hdr.slice(8 * k as u32 + 7, 8 * k as u32);
    let off16 = m.wire("arg_offset", Expr::concat(vec![hb(0), hb(1)]));
    let steps16 = m.wire("arg_steps", Expr::concat(vec![hb(1), hb(2)]));
    let beta16 = m.wire("arg_beta", Expr::concat(vec![hb(3), hb(4)]));
    let count8 = m.wire("arg_count", hb(2));
    if let Some(lp) = &l_pat {
        // LearnPattern's bits: the payload's bytes, bit o of byte o / 8
        let bytes: Vec<Expr> = (0..tb).rev().map(hb).collect();
        let all = m.wire_partial(
            "arg_pattern_bytes",
            Expr::concat(bytes),
            "pattern bytes: bits above the oscillator count are ignored",
        );
        m.assign(lp, all.slice(classes - 1, 0));
    }
    let tparts: Vec<Expr> = (0..tb).rev().map(|k| hb(5 + k)).collect();
    let targ_all = m.wire_partial(
        "arg_target_bytes",
        Expr::concat(tparts),
        "target bitmask bytes: bits above the class count are ignored",
    );
    let targ = m.wire("arg_target", targ_all.slice(classes - 1, 0));
    // argument checks
    let wb = sh.weight_bits;
    let beta_fits = if wb >= 16 {
        lit(1, 1)
    } else {
        let top = beta16.slice(15, wb - 1);
        let k = 16 - wb + 1;
        top.clone()
            .eq(lit(k, 0))
            .lor(top.eq(lit(k, (1u64 << k) - 1)))
    };
    let beta_ok = m.wire("beta_ok", beta_fits);
    let beta_v = m.wire("arg_beta_v", beta16.slice(wb - 1, 0).as_signed());
    let off17 = m.wire("off17", off16.e().zext(17));
    let len17 = m.wire("len17", e_len.e().zext(17));
    let write_end = m.wire("write_end", off17.e().add(len17.e()).sub(lit(17, 2)));
    let read_end = m.wire("read_end", off17.e().add(count8.e().zext(17)));
    let cmd_is = |c: Cmd| e_cmd.e().eq(lit(8, c as u64));
    let len_is = |v: u64| e_len.e().eq(lit(8, v));

    // ---- the sample store (designs with one) ----
    struct StoreRegs {
        we: Sig,
        lab: Sig,
        idx: Sig,
        word: Sig,
        cur: Sig,
        wdata: Sig,
        go: Sig,
        acc: Sig,
        slot: Sig,
    }
    let sregs = stl.map(|l| {
        let ib = crate::store::index_bits(&l);
        let wb = crate::store::word_bits(&l);
        let sb = l.ipw.trailing_zeros().max(1);
        StoreRegs {
            we: m.reg_init("st_we", 1, false, Some(0)),
            lab: m.reg("st_lab", 1),
            idx: m.reg("st_idx", ib),
            word: m.reg("st_word", wb),
            cur: m.reg("st_cur", wb),
            wdata: m.reg("st_wdata", 16),
            go: m.reg_init("st_go", 1, false, Some(0)),
            acc: m.reg("st_acc", 16),
            slot: m.reg("st_slot", sb),
        }
    });
    if let (Some(sm), Some(sw), Some(r), Some(lwm)) = (&smod, &sw_, &sregs, &lw) {
        let arg = |k: usize| Expr::concat(vec![hb(k), hb(k + 1)]);
        instance_with(&mut m, sm, "u_store", |name, _| match name {
            "i_clk" => clk.e(),
            "i_rst" => rst.e(),
            "i_we" => r.we.e(),
            "i_lab" => r.lab.e(),
            "i_idx" => r.idx.e(),
            "i_word" => r.word.e(),
            "i_wdata" => r.wdata.e(),
            "i_go" => r.go.e(),
            "i_count" => arg(0),
            "i_first" => arg(2),
            "i_stride" => arg(4),
            "i_l_done" => lwm["o_done"].e(),
            "i_l_class" => lwm["o_class"].e(),
            other => sw[other].e(),
        });
    }

    // ---- the Hebbian engine (Hebbian designs) ----
    struct HebbRegs {
        go: Sig,
        xi_we: Sig,
        xi_idx: Sig,
        xi_bit: Sig,
        hbit: Sig,
        hph: Sig,
        hi: Sig,
    }
    let hregs = hw.hebb.map(|_| HebbRegs {
        go: m.reg_init("h_go", 1, false, Some(0)),
        xi_we: m.reg_init("xi_we", 1, false, Some(0)),
        xi_idx: m.reg("xi_idx", a),
        xi_bit: m.reg("xi_bit", 1),
        hbit: m.reg("h_bit", 3),
        hph: m.reg("h_phase", 1),
        hi: m.reg("h_osc", a),
    });
    if let (Some(hm), Some(hwr), Some(r)) = (&hmod, &hw_, &hregs) {
        let pr_w = core_pr
            .iter()
            .find(|(nm, _)| nm == "o_pr_w")
            .expect("a Hebbian core answers the engine's reads")
            .1
            .e();
        instance_with(&mut m, hm, "u_hebb", |name, _| match name {
            "i_clk" => clk.e(),
            "i_rst" => rst.e(),
            "i_go" => r.go.e(),
            "i_xi_we" => r.xi_we.e(),
            "i_xi_idx" => r.xi_idx.e(),
            "i_xi_bit" => r.xi_bit.e(),
            "i_pr_w" => pr_w.clone(),
            other => hwr[other].e(),
        });
    }

    // ---- response ----
    let ts = m.reg_init("t_state", TB, false, Some(T_DONE));
    let rsp_cmd = m.reg("t_cmd", 8);
    let rsp_len = m.reg("t_len", 8);
    let kind = m.reg("t_kind", 3);
    let err = m.reg("t_err", 8);
    let tcnt = m.reg("t_cnt", 8);
    let tcrc = m.reg("t_crc", 8);
    let pbyte = m.reg("t_pbyte", 2);
    let ph_latch = m.reg("t_phase", 8 * pb as u32);
    // Status counters (protocol::Status order), 16 bits, saturating
    let counters: Vec<Sig> = [
        "n_ok",
        "n_bad_crc",
        "n_unknown_cmd",
        "n_bad_argument",
        "n_timeouts",
        "n_framing_errors",
        "n_overruns",
    ]
    .iter()
    .map(|name| m.reg_init(name, 16, false, Some(0)))
    .collect();
    assert_eq!(2 * counters.len(), STATUS_LEN);
    let bump = |c: &Sig| {
        if_(
            c.e().ne(lit(16, 0xffff)),
            vec![set(c, c.e().add(lit(16, 1)))],
        )
    };
    let status_byte = {
        let mut e = lit(8, 0);
        for k in (0..STATUS_LEN).rev() {
            let c = &counters[k / 2];
            let byte = if k % 2 == 0 {
                c.slice(15, 8)
            } else {
                c.slice(7, 0)
            };
            e = Expr::mux(tcnt.e().eq(lit(8, k as u64)), byte, e);
        }
        m.wire("status_byte", e)
    };
    // payload byte j of the response
    let id_byte = {
        let mut e = lit(8, 0);
        for (k, &b) in id.iter().enumerate().rev() {
            e = Expr::mux(tcnt.e().eq(lit(8, k as u64)), lit(8, b as u64), e);
        }
        m.wire("id_byte", e)
    };
    let ph_byte = {
        let mut e = lit(8, 0);
        for b in (0..pb).rev() {
            let lo = ((pb - 1 - b) * 8) as u32;
            e = Expr::mux(pbyte.e().eq(lit(2, b)), ph_latch.slice(lo + 7, lo), e);
        }
        m.wire("ph_byte", e)
    };
    let class8 = m.wire(
        "class_byte",
        match &lw {
            // Learn answers the free phase's class, the engine's
            Some(w) => Expr::mux(
                cmd_is(Cmd::Learn),
                w["o_class"].e().zext(8),
                class.e().zext(8),
            ),
            None => class.e().zext(8),
        },
    );
    // ReadWeights: the word being sent in WriteWeights' byte layout, left
    // aligned in rw_latch; rw_byte counts its bytes
    let rw = lw.as_ref().map(|w| {
        let d = &w["o_rw_data"];
        let (w8, p8) = (8 * wbytes, 8 * pbytes);
        let wbits = sh.weight_bits;
        let pbits = sh.phase_bits;
        let sx = |m: &mut Module, name: &str, e: Expr, to: u32| -> Expr {
            let s_ = m.wire(name, e.as_signed());
            s_.sext(to).as_unsigned()
        };
        let lanes_layout = |m: &mut Module, tag: &str| -> Expr {
            Expr::concat(
                (0..lanes)
                    .rev()
                    .map(|l| {
                        sx(
                            m,
                            &format!("rw_{tag}{l}"),
                            d.slice(l * wbits + wbits - 1, l * wbits),
                            w8,
                        )
                    })
                    .collect(),
            )
        };
        let wl = lanes_layout(&mut m, "lane");
        let ow_ = 2 * wbits + 2 * pbits;
        let ol = Expr::concat(vec![
            sx(&mut m, "rw_h", d.slice(ow_ - 1, wbits + 2 * pbits), w8),
            sx(
                &mut m,
                "rw_k",
                d.slice(wbits + 2 * pbits - 1, 2 * pbits),
                w8,
            ),
            d.slice(2 * pbits - 1, pbits).zext(p8),
            d.slice(pbits - 1, 0).zext(p8),
        ]);
        let maxb = (lanes * w8).max(2 * w8 + 2 * p8);
        let left = |e: Expr| {
            let k = e.width();
            if k < maxb {
                Expr::concat(vec![e, lit(maxb - k, 0)])
            } else {
                e
            }
        };
        let blk = rw_blk.as_ref().unwrap();
        let fmt = m.wire(
            "rw_fmt",
            Expr::mux(blk.e().eq(lit(2, 2)), left(ol), left(wl)),
        );
        let latch = m.reg("rw_latch", maxb);
        let byte = m.reg("rw_byte", 8);
        let mut cur = latch.slice(maxb - 1, maxb - 8);
        for k in 1..maxb / 8 {
            let hi = maxb - 1 - 8 * k;
            cur = Expr::mux(byte.e().eq(lit(8, k as u64)), latch.slice(hi, hi - 7), cur);
        }
        let cur = m.wire("rw_cur", cur);
        (fmt, latch, byte, cur, maxb)
    });
    // Epoch's answer: the count of right classes, high byte first; a
    // memory's LearnPattern: the agreement, sign-extended to 16 bits
    let err_or_count = match (&sw_, &lw) {
        (Some(sw), _) => {
            let c = &sw["o_correct"];
            let byte = m.wire(
                "count_byte",
                Expr::mux(tcnt.e().eq(lit(8, 0)), c.slice(15, 8), c.slice(7, 0)),
            );
            Expr::mux(kind.e().eq(lit(3, K_COUNT)), byte.e(), err.e())
        }
        (None, Some(w)) if pattern => {
            let a = m.wire("agree_s", w["o_agree"].e().as_signed());
            let c = m.wire("agree16", a.sext(16).as_unsigned());
            let byte = m.wire(
                "count_byte",
                Expr::mux(tcnt.e().eq(lit(8, 0)), c.slice(15, 8), c.slice(7, 0)),
            );
            Expr::mux(kind.e().eq(lit(3, K_COUNT)), byte.e(), err.e())
        }
        _ => err.e(),
    };
    let pay_byte = m.wire(
        "pay_byte",
        Expr::mux(
            kind.e().eq(lit(3, K_ID)),
            id_byte.e(),
            Expr::mux(
                kind.e().eq(lit(3, K_CLASS)),
                class8.e(),
                Expr::mux(
                    kind.e().eq(lit(3, K_PHASE)),
                    ph_byte.e(),
                    Expr::mux(
                        kind.e().eq(lit(3, K_STATUS)),
                        status_byte.e(),
                        match &rw {
                            Some((_, _, _, cur, _)) => {
                                Expr::mux(kind.e().eq(lit(3, K_WORDS)), cur.e(), err_or_count)
                            }
                            None => err_or_count,
                        },
                    ),
                ),
            ),
        ),
    );
    let out_byte = m.wire(
        "out_byte",
        Expr::mux(
            ts.e().eq(lit(TB, T_SYNC)),
            lit(8, SYNC_RSP as u64),
            Expr::mux(
                ts.e().eq(lit(TB, T_CMD)),
                rsp_cmd.e(),
                Expr::mux(
                    ts.e().eq(lit(TB, T_LEN)),
                    rsp_len.e(),
                    Expr::mux(ts.e().eq(lit(TB, T_PAY)), pay_byte.e(), tcrc.e()),
                ),
            ),
        ),
    );
    let tx_crc = crc_step(&mut m, "tx_crc", &tcrc, &out_byte);
    let ph_pad = m.wire("ph_pad", rd_phase.e().zext(8 * pb as u32));

    let go_r = |v: u64| set(&rs, lit(RB, v));
    let go_e = |v: u64| set(&es, lit(eb, v));
    let go_t = |v: u64| set(&ts, lit(TB, v));
    // start a response
    let respond = |c: Expr, l: u64, k: u64| -> Vec<Stmt> {
        vec![
            set(&rsp_cmd, c),
            set(&rsp_len, lit(8, l)),
            set(&kind, lit(3, k)),
            set(&tcnt, lit(8, 0)),
            set(&tcrc, lit(8, 0)),
            set(&pbyte, lit(2, 0)),
            go_t(T_SYNC),
            go_e(E_SEND),
        ]
    };
    // a request answered with its own command counts as ok
    let respond_ok = |c: Cmd, l: u64, k: u64| -> Vec<Stmt> {
        let mut v = respond(lit(8, c as u64), l, k);
        v.push(bump(&counters[0]));
        v
    };
    let fail = |code: ErrCode| -> Vec<Stmt> {
        let mut v = vec![set(&err, lit(8, code as u64))];
        v.extend(respond(lit(8, ERROR as u64), 1, K_ERR));
        // counters[1..=3] are BadCrc, UnknownCmd, BadArgument: the codes' values
        v.push(bump(&counters[code as usize]));
        v
    };

    // store header bytes as they arrive
    let mut hdr_store = Vec::new();
    for k in 0..hdr {
        let mut parts = Vec::new();
        if k + 1 < hdr {
            parts.push(hdr_reg.slice(8 * hdr as u32 - 1, 8 * (k as u32 + 1)));
        }
        parts.push(rx_data.e());
        if k > 0 {
            parts.push(hdr_reg.slice(8 * k as u32 - 1, 0));
        }
        hdr_store.push(if_(
            cnt.e().eq(lit(8, k as u64)),
            vec![set(&hdr_reg, Expr::concat(parts))],
        ));
    }
    let xb = sh.input_bits;
    let x_too_big = if xb >= 8 {
        lit(1, 0)
    } else {
        rx_data.slice(7, xb).red_or()
    };
    // the payload byte where the inputs start: 2 (WriteInput, Infer), 5
    // (StoreSample)
    let x_from = match &stl {
        Some(_) => Expr::mux(
            cmd.e().eq(lit(8, Cmd::StoreSample as u64)),
            lit(8, 5),
            lit(8, 2),
        ),
        None => lit(8, 2),
    };
    let mut pay_stmts = vec![
        set_mem(&buf, Expr::concat(vec![r_bank.e(), cnt.e()]), rx_data.e()),
        set(&crc, rx_crc.e()),
        set(&cnt, cnt.e().add(lit(8, 1))),
        if_(
            cnt.e().ge(x_from).land(x_too_big),
            vec![set(&bad_x, lit(1, 1))],
        ),
        if_(cnt.e().add(lit(8, 1)).eq(len.e()), vec![go_r(R_CRC)]),
    ];
    pay_stmts.extend(hdr_store);
    // WriteWeights: count whole words while the payload arrives (after the
    // block byte and the three offset bytes; the word size is the block's),
    // so the request is checked before it is executed.
    // The executor reads these two registers in E_EXEC, the cycle after it
    // takes the request; the receiver cannot reset them (at the next
    // frame's length byte) sooner than three byte times later.
    let max_wbytes = wblocks.iter().map(|w| w.word_bytes).max().unwrap_or(1);
    let wbw = clog2(max_wbytes).max(1);
    let mut len_extra = Vec::new();
    let wcount = (!wblocks.is_empty()).then(|| {
        let wb_ = m.reg("r_wbyte", wbw);
        let words = m.reg("r_words", 8);
        // the received frame's block byte (payload byte 0)
        let r_block = hdr_reg.slice(7, 0);
        let mut last_byte = lit(wbw, wblocks[0].word_bytes - 1);
        for w in &wblocks[1..] {
            last_byte = Expr::mux(
                r_block.clone().eq(lit(8, w.b as u64)),
                lit(wbw, w.word_bytes - 1),
                last_byte,
            );
        }
        let last_byte = m.wire("r_wlast", last_byte);
        pay_stmts.push(if_(
            cnt.e().ge(lit(8, 4)),
            vec![if_else(
                wb_.e().eq(last_byte.e()),
                vec![
                    set(&wb_, lit(wbw, 0)),
                    set(&words, words.e().add(lit(8, 1))),
                ],
                vec![set(&wb_, wb_.e().add(lit(wbw, 1)))],
            )],
        ));
        len_extra.push(set(&wb_, lit(wbw, 0)));
        len_extra.push(set(&words, lit(8, 0)));
        (wb_, words)
    });

    // copy loop for WriteInput: buf[2..len) -> x_mem[offset..)
    let buf_q = m.reg("r_buf_q", 8);
    let copy_k = m.reg("r_copy", 8);
    m.mem_read(
        &clk,
        &buf,
        &buf_q,
        Expr::concat(vec![e_bank.e(), copy_k.e()]),
    );
    let copy_v = m.reg_init("r_copy_v", 1, false, Some(0));
    let copy_addr = m.reg("r_copy_addr", sh.input_addr_bits);
    let ofs_a = m.wire_partial(
        "arg_offset_a",
        off16.e(),
        "input offset: checked against the input count, low bits address the input RAM",
    );
    let ofs_low = if sh.input_addr_bits < 16 {
        ofs_a.slice(sh.input_addr_bits - 1, 0)
    } else {
        ofs_a.e()
    };
    let buf_low = m.wire_partial(
        "buf_q_low",
        buf_q.e(),
        "input byte: its bits above input_bits were checked to be zero on receipt",
    );
    let buf_x = if xb >= 8 {
        buf_low.e()
    } else {
        buf_low.slice(xb - 1, 0)
    };
    let rd_off = m.wire_partial(
        "rd_off_a",
        off16.e(),
        "phase offset: checked against the oscillator count, low bits address it",
    );
    let rd_off_low = if a < 16 {
        rd_off.slice(a - 1, 0)
    } else {
        rd_off.e()
    };
    // WriteWeights (designs with a writable memory): block, offset[3] in
    // words, then whole words, assembled byte by byte (big-endian) and
    // written one per word into the block's memory
    let mut wcopy = Vec::new();
    let unknown = match &wcount {
        Some((wbyte, words)) => {
            // the word's earlier bytes; the current byte completes it
            let wsr_w = 8 * max_wbytes as u32;
            let wsr = (max_wbytes > 1).then(|| m.reg("r_wsr", wsr_w - 8));
            let wbc = m.reg("r_wbc", wbw);
            let aw = wblocks.iter().map(|w| w.addr.width).max().unwrap_or(1);
            let waddr = m.reg("r_waddr", aw);
            let blk = hb(0);
            let is_blk = |b: Block| blk.clone().eq(lit(8, b as u64));
            let off24 = m.wire("arg_woffset", Expr::concat(vec![hb(1), hb(2), hb(3)]));
            let wend = m.wire("wweights_end", off24.e().zext(25).add(words.e().zext(25)));
            let off_a = m.wire_partial(
                "arg_woffset_a",
                off24.e(),
                "weight offset: checked against the block's words, low bits address it",
            );
            let off_low = if aw < 24 {
                off_a.slice(aw - 1, 0)
            } else {
                off_a.e()
            };
            let next = match &wsr {
                Some(r) => Expr::concat(vec![r.e(), buf_q.e()]),
                None => buf_q.e(),
            };
            let next = m.wire_partial(
                "r_wsr_next",
                next,
                "bits above weight_bits (phase_bits) in each field's bytes are ignored",
            );
            let w = sh.weight_bits;
            let p = sh.phase_bits;
            let (wb8, pb8) = (8 * wbytes, 8 * pbytes);
            // the completed word of a block, from the low bytes of `next`
            let word_of = |b: Block| match b {
                Block::U | Block::W => Expr::concat(
                    (0..lanes)
                        .rev()
                        .map(|l| next.slice(wb8 * l + w - 1, wb8 * l))
                        .collect(),
                ),
                Block::Osc => Expr::concat(vec![
                    next.slice(2 * pb8 + wb8 + w - 1, 2 * pb8 + wb8),
                    next.slice(2 * pb8 + w - 1, 2 * pb8),
                    next.slice(pb8 + p - 1, pb8),
                    next.slice(p - 1, 0),
                ]),
            };
            let mut block_last = lit(wbw, wblocks[0].word_bytes - 1);
            let mut ok_range = lit(1, 0);
            for wbk in &wblocks {
                block_last = Expr::mux(is_blk(wbk.b), lit(wbw, wbk.word_bytes - 1), block_last);
                ok_range = Expr::mux(is_blk(wbk.b), wend.e().le(lit(25, wbk.words)), ok_range);
            }
            let block_last = m.wire("e_wlast", block_last);
            let ok_range = m.wire("wweights_in_range", ok_range);
            let mut complete = vec![
                set(&wbc, lit(wbw, 0)),
                set(&waddr, waddr.e().add(lit(aw, 1))),
            ];
            for wbk in &wblocks {
                let aw_b = wbk.addr.width;
                let a_b = if aw_b < aw {
                    waddr.slice(aw_b - 1, 0)
                } else {
                    waddr.e()
                };
                complete.push(if_(
                    is_blk(wbk.b),
                    vec![
                        set(&wbk.we, lit(1, 1)),
                        set(&wbk.addr, a_b),
                        set(&wbk.data, word_of(wbk.b)),
                    ],
                ));
            }
            let mut on_byte: Vec<Stmt> = wsr
                .iter()
                .map(|r| set(r, next.slice(wsr_w - 9, 0)))
                .collect();
            on_byte.push(if_else(
                wbc.e().eq(block_last.e()),
                complete,
                vec![set(&wbc, wbc.e().add(lit(wbw, 1)))],
            ));
            wcopy = vec![
                if_(copy_v.e(), on_byte),
                if_else(
                    copy_k.e().ne(e_len.e()),
                    vec![
                        set(&copy_v, lit(1, 1)),
                        set(&copy_k, copy_k.e().add(lit(8, 1))),
                    ],
                    vec![
                        set(&copy_v, lit(1, 0)),
                        if_(copy_v.e().not(), respond_ok(Cmd::WriteWeights, 0, K_NONE)),
                    ],
                ),
            ];
            vec![if_else(
                cmd_is(Cmd::WriteWeights),
                vec![if_else(
                    words
                        .e()
                        .ne(lit(8, 0))
                        .land(wbyte.e().eq(lit(wbw, 0)))
                        .land(ok_range.e()),
                    vec![
                        set(&copy_k, lit(8, 4)),
                        set(&copy_v, lit(1, 0)),
                        set(&wbc, lit(wbw, 0)),
                        set(&waddr, off_low),
                        go_e(E_WCOPY),
                    ],
                    fail(ErrCode::BadArgument),
                )],
                fail(ErrCode::UnknownCmd),
            )]
        }
        None => fail(ErrCode::UnknownCmd),
    };
    // StoreSample and Epoch (designs with a sample store)
    let mut scopy = Vec::new();
    let unknown = match (&stl, &sregs) {
        (Some(l), Some(r)) => {
            let ipw = l.ipw as u64;
            let lg = l.ipw.trailing_zeros();
            let ni17 = lit(17, ni);
            let idx16 = m.wire_partial(
                "arg_s_index",
                Expr::concat(vec![hb(0), hb(1)]),
                "sample index: checked against the store's samples, low bits address it",
            );
            let soff = m.wire("arg_s_offset", Expr::concat(vec![hb(3), hb(4)]));
            let send_ = m.wire(
                "s_end",
                soff.e().zext(17).add(e_len.e().zext(17)).sub(lit(17, 5)),
            );
            let aligned = |e: &Sig| -> Expr {
                if lg == 0 {
                    lit(1, 1)
                } else {
                    e.slice(lg - 1, 0).eq(lit(lg, 0))
                }
            };
            let s_ok = m.wire(
                "store_ok",
                e_len
                    .e()
                    .ge(lit(8, 6))
                    .land(idx16.e().lt(lit(16, l.cap as u64)))
                    .land(hb(2).lt(lit(8, classes as u64)))
                    .land(aligned(&soff))
                    .land(send_.e().le(ni17.clone()))
                    .land(aligned(&send_).lor(send_.e().eq(ni17)))
                    .land(e_bad_x.e().not()),
            );
            let ib = r.idx.width;
            let wb = r.word.width;
            let first_word = if lg == 0 {
                soff.e()
            } else {
                soff.slice(15, lg).zext(16)
            };
            let first_word = m.wire_partial(
                "s_first_word",
                first_word,
                "the chunk's first word within its sample: below the words per sample",
            );
            let store_exec = vec![if_else(
                s_ok.e(),
                vec![
                    set(&r.idx, idx16.slice(ib - 1, 0)),
                    set(&r.cur, first_word.slice(wb - 1, 0)),
                    set(&r.slot, lit(r.slot.width, 0)),
                    set(&r.acc, lit(16, 0)),
                    set(&copy_k, lit(8, 5)),
                    set(&copy_v, lit(1, 0)),
                    go_e(E_SCOPY),
                ],
                fail(ErrCode::BadArgument),
            )];
            let a16 = |k: usize| Expr::concat(vec![hb(k), hb(k + 1)]);
            let e_ok = m.wire(
                "epoch_ok",
                len_is(6)
                    .land(a16(0).ne(lit(16, 0)))
                    .land(a16(0).le(lit(16, l.cap as u64)))
                    .land(a16(2).lt(a16(0)))
                    .land(a16(4).lt(a16(0))),
            );
            let epoch_exec = vec![if_else(
                e_ok.e(),
                vec![set(&r.go, lit(1, 1)), go_e(E_EPOCH)],
                fail(ErrCode::BadArgument),
            )];
            // the copy: each input into its field of the word being
            // packed; a word is written when full or at the chunk's end,
            // the label after the last
            let xb = sh.input_bits;
            let fields: Vec<Expr> = (0..l.ipw as u32)
                .rev()
                .map(|k| {
                    let here = if lg == 0 {
                        lit(1, 1)
                    } else {
                        r.slot.e().eq(lit(r.slot.width, k as u64))
                    };
                    Expr::mux(here, buf_x.clone(), r.acc.slice(k * xb + xb - 1, k * xb))
                })
                .collect();
            let used = l.ipw as u32 * xb;
            let mut parts = Vec::new();
            if used < 16 {
                parts.push(lit(16 - used, 0));
            }
            parts.extend(fields);
            let packed = m.wire("st_packed", Expr::concat(parts));
            let full = if lg == 0 {
                lit(1, 1)
            } else {
                r.slot.e().eq(lit(r.slot.width, ipw - 1))
            };
            let cb = sh.class_bits;
            scopy = vec![
                if_(
                    copy_v.e(),
                    vec![if_else(
                        full.lor(copy_k.e().eq(e_len.e())),
                        vec![
                            set(&r.we, lit(1, 1)),
                            set(&r.lab, lit(1, 0)),
                            set(&r.wdata, packed.e()),
                            set(&r.word, r.cur.e()),
                            set(&r.cur, r.cur.e().add(lit(wb, 1))),
                            set(&r.slot, lit(r.slot.width, 0)),
                            set(&r.acc, lit(16, 0)),
                        ],
                        vec![
                            set(&r.acc, packed.e()),
                            set(&r.slot, r.slot.e().add(lit(r.slot.width, 1))),
                        ],
                    )],
                ),
                if_else(
                    copy_k.e().ne(e_len.e()),
                    vec![
                        set(&copy_v, lit(1, 1)),
                        set(&copy_k, copy_k.e().add(lit(8, 1))),
                    ],
                    vec![
                        set(&copy_v, lit(1, 0)),
                        if_(copy_v.e().not(), {
                            let mut v = vec![
                                set(&r.we, lit(1, 1)),
                                set(&r.lab, lit(1, 1)),
                                set(&r.wdata, e_hdr.slice(16 + cb - 1, 16).zext(16)),
                            ];
                            v.extend(respond_ok(Cmd::StoreSample, 0, K_NONE));
                            v
                        }),
                    ],
                ),
            ];
            vec![if_else(
                cmd_is(Cmd::StoreSample),
                store_exec,
                vec![if_else(cmd_is(Cmd::Epoch), epoch_exec, unknown)],
            )]
        }
        _ => unknown,
    };
    // Imprint (Hebbian designs): the pattern's bits into the engine's
    // group words, one a cycle after each byte's read, then the imprint
    let mut hcopy = Vec::new();
    let unknown = match &hregs {
        Some(r) => {
            let ib = r.hi.width;
            let bit = {
                let mut e = buf_q.bit(0);
                for k in 1..8u32 {
                    e = Expr::mux(r.hbit.e().eq(lit(3, k as u64)), buf_q.bit(k), e);
                }
                m.wire("h_in", e)
            };
            let last_osc = m.wire("h_last", r.hi.e().eq(lit(ib, n - 1)));
            hcopy = vec![if_else(
                r.hph.e().not(),
                vec![set(&r.hph, lit(1, 1))],
                vec![
                    set(&r.xi_we, lit(1, 1)),
                    set(&r.xi_idx, r.hi.e()),
                    set(&r.xi_bit, bit.e()),
                    if_else(
                        last_osc.e(),
                        vec![set(&r.go, lit(1, 1)), go_e(E_HEBB)],
                        vec![
                            set(&r.hi, r.hi.e().add(lit(ib, 1))),
                            if_else(
                                r.hbit.e().eq(lit(3, 7)),
                                vec![
                                    set(&r.hbit, lit(3, 0)),
                                    set(&r.hph, lit(1, 0)),
                                    set(&copy_k, copy_k.e().add(lit(8, 1))),
                                ],
                                vec![set(&r.hbit, r.hbit.e().add(lit(3, 1)))],
                            ),
                        ],
                    ),
                ],
            )];
            let imprint_exec = vec![if_else(
                len_is(n.div_ceil(8)),
                vec![
                    set(&copy_k, lit(8, 0)),
                    set(&r.hbit, lit(3, 0)),
                    set(&r.hph, lit(1, 0)),
                    set(&r.hi, lit(ib, 0)),
                    go_e(E_HCOPY),
                ],
                fail(ErrCode::BadArgument),
            )];
            vec![if_else(cmd_is(Cmd::Imprint), imprint_exec, unknown)]
        }
        None => unknown,
    };
    // Learn and ReadWeights (learning designs)
    let unknown = match (&lw, &rw) {
        (Some(w), Some((_, latch, byte, _, _))) => {
            let cb = sh.class_bits;
            let (learn_cmd, learn_exec) = match &l_label {
                Some(lab) => (
                    Cmd::Learn,
                    vec![if_else(
                        len_is(1).land(hb(0).lt(lit(8, classes as u64))),
                        vec![
                            set(l_go.as_ref().unwrap(), lit(1, 1)),
                            set(lab, e_hdr.slice(cb - 1, 0)),
                            go_e(E_LEARN),
                        ],
                        fail(ErrCode::BadArgument),
                    )],
                ),
                // a memory: the pattern's bytes are the request's
                None => (
                    Cmd::LearnPattern,
                    vec![if_else(
                        len_is(tb as u64),
                        vec![set(l_go.as_ref().unwrap(), lit(1, 1)), go_e(E_LEARN)],
                        fail(ErrCode::BadArgument),
                    )],
                ),
            };
            let off24 = m.wire("arg_rw_offset", Expr::concat(vec![hb(1), hb(2), hb(3)]));
            let cnt8 = m.wire("arg_rw_count", hb(4));
            let end = m.wire("rw_end", off24.e().zext(25).add(cnt8.e().zext(25)));
            // count · word bytes (a one-byte word's count always fits)
            let prod = |k: u64| {
                if k == 1 {
                    cnt8.e().zext(16)
                } else {
                    cnt8.e().mul(lit(8, k))
                }
            };
            let fits = |k: u64| {
                if k == 1 {
                    lit(1, 1)
                } else {
                    prod(k).le(lit(16, 255))
                }
            };
            let mut ok = lit(1, 0);
            let mut rlen = lit(16, 0);
            for wbk in &wblocks {
                let is = hb(0).eq(lit(8, wbk.b as u64));
                ok = Expr::mux(
                    is.clone(),
                    end.e().le(lit(25, wbk.words)).land(fits(wbk.word_bytes)),
                    ok,
                );
                rlen = Expr::mux(is, prod(wbk.word_bytes), rlen);
            }
            let rlen = m.wire_partial(
                "rw_len",
                rlen,
                "checked to be at most 255: the low byte is the length",
            );
            let ok = m.wire("rw_ok", ok.land(cnt8.e().ne(lit(8, 0))));
            let ra = rw_addr.as_ref().unwrap();
            let rw_exec = vec![if_else(
                len_is(5).land(ok.e()),
                {
                    let mut v = vec![
                        set(rw_blk.as_ref().unwrap(), e_hdr.slice(1, 0)),
                        set(ra, off24.slice(ra.width - 1, 0)),
                        set(byte, lit(8, 0)),
                    ];
                    v.extend(respond_ok(Cmd::ReadWeights, 0, K_WORDS));
                    v.push(set(&rsp_len, rlen.slice(7, 0)));
                    v
                },
                fail(ErrCode::BadArgument),
            )];
            let _ = (w, latch);
            vec![if_else(
                cmd_is(learn_cmd),
                learn_exec,
                vec![if_else(cmd_is(Cmd::ReadWeights), rw_exec, unknown)],
            )]
        }
        _ => unknown,
    };
    let exec_cmd = vec![if_else(
        cmd_is(Cmd::Identify),
        vec![if_else(
            len_is(0),
            respond_ok(Cmd::Identify, id.len() as u64, K_ID),
            fail(ErrCode::BadArgument),
        )],
        vec![if_else(
            cmd_is(Cmd::WriteInput).lor(cmd_is(Cmd::Infer)),
            vec![if_else(
                e_len
                    .e()
                    .ge(lit(8, 3))
                    .land(write_end.e().le(lit(17, ni)))
                    .land(e_bad_x.e().not()),
                vec![
                    set(&copy_k, lit(8, 2)),
                    set(&copy_addr, ofs_low),
                    set(&copy_v, lit(1, 0)),
                    go_e(E_COPY),
                ],
                fail(ErrCode::BadArgument),
            )],
            vec![if_else(
                cmd_is(Cmd::Run),
                vec![if_else(
                    len_is(hdr as u64)
                        .land(steps16.e().ne(lit(16, 0)))
                        .land(beta_ok.e()),
                    vec![
                        set(&c_init, hb(0).and(lit(8, 1)).red_or()),
                        set(&c_steps, steps16.e()),
                        set(&c_beta, beta_v.e()),
                        set(&c_target, targ.e()),
                        set(&c_start, lit(1, 1)),
                        go_e(E_RUN),
                    ],
                    fail(ErrCode::BadArgument),
                )],
                vec![if_else(
                    cmd_is(Cmd::ReadClass),
                    vec![if_else(
                        len_is(0),
                        respond_ok(Cmd::ReadClass, 1, K_CLASS),
                        fail(ErrCode::BadArgument),
                    )],
                    vec![if_else(
                        cmd_is(Cmd::ReadPhases),
                        vec![if_else(
                            {
                                let ok = len_is(3)
                                    .land(count8.e().ne(lit(8, 0)))
                                    .land(read_end.e().le(lit(17, n)));
                                // count phases of one byte always fit a reply
                                if pb > 1 {
                                    ok.land(count8.e().zext(17).mul(lit(2, pb)).le(lit(19, 255)))
                                } else {
                                    ok
                                }
                            },
                            {
                                let mut v = vec![set(&rd_addr, rd_off_low)];
                                v.extend(respond_ok(Cmd::ReadPhases, 0, K_PHASE));
                                // length = count * phase bytes
                                v.push(set(&rsp_len, count_times(&count8, pb)));
                                v
                            },
                            fail(ErrCode::BadArgument),
                        )],
                        vec![if_else(
                            cmd_is(Cmd::Status),
                            vec![if_else(
                                len_is(0),
                                respond_ok(Cmd::Status, STATUS_LEN as u64, K_STATUS),
                                fail(ErrCode::BadArgument),
                            )],
                            unknown,
                        )],
                    )],
                )],
            )],
        )],
    )];
    let exec = vec![if_else(e_crc_ok.e(), exec_cmd, fail(ErrCode::BadCrc))];
    // the last chunk of an Infer starts a run from the initial phases
    let infer_last = m.wire(
        "infer_last",
        cmd_is(Cmd::Infer).land(write_end.e().eq(lit(17, ni))),
    );
    let start_infer = vec![
        set(&c_init, lit(1, 1)),
        set(&c_steps, lit(sh.step_bits, hw.steps as u64)),
        set(&c_beta, lit(sh.weight_bits, 0).as_signed()),
        set(&c_target, lit(classes, 0)),
        set(&c_start, lit(1, 1)),
        go_e(E_RUN),
    ];
    // buf_q holds buf[copy_k] one cycle after copy_k was presented; copy_v
    // marks it valid. Each valid byte becomes one write into the core.
    let copy = vec![
        set(&x_we, copy_v.e()),
        set(&x_data, buf_x),
        set(&x_addr, copy_addr.e()),
        if_(
            copy_v.e(),
            vec![set(
                &copy_addr,
                copy_addr.e().add(lit(sh.input_addr_bits, 1)),
            )],
        ),
        if_else(
            copy_k.e().ne(e_len.e()),
            vec![
                set(&copy_v, lit(1, 1)),
                set(&copy_k, copy_k.e().add(lit(8, 1))),
            ],
            {
                let mut v = vec![set(&copy_v, lit(1, 0))];
                let mut ack = respond(e_cmd.e(), 0, K_NONE);
                ack.push(bump(&counters[0]));
                v.push(if_(
                    copy_v.e().not(),
                    vec![if_else(infer_last.e(), start_infer, ack)],
                ));
                v
            },
        ),
    ];
    let run = vec![if_(
        done.e(),
        vec![if_else(
            cmd_is(Cmd::Infer),
            respond_ok(Cmd::Infer, 1, K_CLASS),
            respond_ok(Cmd::Run, 0, K_NONE),
        )],
    )];
    let send = vec![if_(ts.e().eq(lit(TB, T_DONE)), vec![go_e(E_IDLE)])];
    // take a waiting request
    let take = vec![if_(
        pend.e(),
        vec![
            set(&e_cmd, cmd.e()),
            set(&e_len, len.e()),
            set(&e_hdr, hdr_reg.e()),
            set(&e_bad_x, bad_x.e()),
            set(&e_crc_ok, p_crc_ok.e()),
            set(&e_bank, r_bank.e().not()),
            set(&pend, lit(1, 0)),
            go_e(E_EXEC),
        ],
    )];

    let timeout_stmt = if_else(
        rx_valid.e(),
        vec![set(&tmo, lit(tmo_w, 0))],
        vec![if_else(
            in_rs(R_CMD)
                .lor(in_rs(R_LEN))
                .lor(in_rs(R_PAY))
                .lor(in_rs(R_CRC)),
            vec![if_else(
                tmo.e().eq(lit(tmo_w, tmo_limit)),
                vec![go_r(R_SYNC), set(&tmo, lit(tmo_w, 0)), bump(&counters[4])],
                vec![set(&tmo, tmo.e().add(lit(tmo_w, 1)))],
            )],
            vec![set(&tmo, lit(tmo_w, 0))],
        )],
    );
    let recv = |body: Vec<Stmt>| vec![if_(rx_valid.e(), body)];
    let mut len_stmts = vec![
        set(&len, rx_data.e()),
        set(&crc, rx_crc.e()),
        set(&cnt, lit(8, 0)),
        set(&bad_x, lit(1, 0)),
        set(&hdr_reg, lit(8 * hdr as u32, 0)),
        if_else(
            rx_data.e().eq(lit(8, 0)),
            vec![go_r(R_CRC)],
            vec![go_r(R_PAY)],
        ),
    ];
    len_stmts.extend(len_extra);
    // A frame that starts while a request waits (both buffers taken) is
    // skipped: read to its end through the same states, counting its
    // payload down in r_cnt, touching nothing the waiting request holds
    // (r_cmd, r_len, r_hdr, r_bad_x, the word counts, the buffer), not
    // answered; counted as an overrun when it starts.
    let skip = m.reg_init("r_skip", 1, false, Some(0));
    let skipping =
        |skipped: Vec<Stmt>, normal: Vec<Stmt>| recv(vec![if_else(skip.e(), skipped, normal)]);
    let r_arms = vec![
        (
            R_SYNC,
            recv(vec![if_(
                rx_data.e().eq(lit(8, SYNC_REQ as u64)),
                vec![
                    set(&crc, lit(8, 0)),
                    set(&skip, pend.e()),
                    if_(pend.e(), vec![bump(&counters[6])]),
                    go_r(R_CMD),
                ],
            )]),
        ),
        (
            R_CMD,
            skipping(
                vec![go_r(R_LEN)],
                vec![set(&cmd, rx_data.e()), set(&crc, rx_crc.e()), go_r(R_LEN)],
            ),
        ),
        (
            R_LEN,
            skipping(
                vec![
                    set(&cnt, rx_data.e()),
                    if_else(
                        rx_data.e().eq(lit(8, 0)),
                        vec![go_r(R_CRC)],
                        vec![go_r(R_PAY)],
                    ),
                ],
                len_stmts,
            ),
        ),
        (
            R_PAY,
            skipping(
                vec![
                    set(&cnt, cnt.e().sub(lit(8, 1))),
                    if_(cnt.e().eq(lit(8, 1)), vec![go_r(R_CRC)]),
                ],
                pay_stmts,
            ),
        ),
        (
            R_CRC,
            skipping(
                vec![go_r(R_SYNC)],
                vec![
                    set(&p_crc_ok, rx_data.e().eq(crc.e())),
                    set(&pend, lit(1, 1)),
                    set(&r_bank, r_bank.e().not()),
                    go_r(R_SYNC),
                ],
            ),
        ),
    ];
    let e_arms = vec![
        (E_IDLE, take),
        (E_EXEC, exec),
        (E_COPY, copy),
        (E_RUN, run),
        (E_SEND, send),
        (E_WCOPY, wcopy),
    ];
    let mut e_arms = e_arms;
    if let Some(w) = &lw {
        e_arms.push((
            E_LEARN,
            vec![if_(
                w["o_done"].e(),
                if pattern {
                    respond_ok(Cmd::LearnPattern, 2, K_COUNT)
                } else {
                    respond_ok(Cmd::Learn, 1, K_CLASS)
                },
            )],
        ));
    }
    if let Some(hwr) = &hw_ {
        e_arms.push((E_HCOPY, hcopy));
        e_arms.push((
            E_HEBB,
            vec![if_(hwr["o_done"].e(), respond_ok(Cmd::Imprint, 0, K_NONE))],
        ));
    }
    if let Some(sw) = &sw_ {
        e_arms.push((E_SCOPY, scopy));
        e_arms.push((
            E_EPOCH,
            vec![if_(sw["o_done"].e(), respond_ok(Cmd::Epoch, 2, K_COUNT))],
        ));
    }
    let e_arms = e_arms
        .into_iter()
        .map(|(s, b)| (vec![lit(eb, s)], b))
        .collect();
    let r_arms = r_arms
        .into_iter()
        .map(|(s, b)| (vec![lit(RB, s)], b))
        .collect();

    // transmitter: hand one byte to the UART whenever it is ready
    let pay_next = vec![
        set(&tcnt, tcnt.e().add(lit(8, 1))),
        if_else(
            pbyte.e().eq(lit(2, pb - 1)),
            vec![
                set(&pbyte, lit(2, 0)),
                set(&rd_addr, rd_addr.e().add(lit(a, 1))),
            ],
            vec![set(&pbyte, pbyte.e().add(lit(2, 1)))],
        ),
        if_(tcnt.e().add(lit(8, 1)).eq(rsp_len.e()), vec![go_t(T_CRC)]),
    ];
    let mut pay_next = pay_next;
    if let (Some((_, _, byte, _, _)), Some(ra), Some(blk)) = (&rw, &rw_addr, &rw_blk) {
        let ww = wblocks
            .iter()
            .find(|x| x.b == Block::W)
            .map_or(1, |x| x.word_bytes);
        let ob = wblocks
            .iter()
            .find(|x| x.b == Block::Osc)
            .map_or(1, |x| x.word_bytes);
        let last = Expr::mux(blk.e().eq(lit(2, 2)), lit(8, ob - 1), lit(8, ww - 1));
        pay_next.push(if_(
            kind.e().eq(lit(3, K_WORDS)),
            vec![if_else(
                byte.e().eq(last),
                vec![set(byte, lit(8, 0)), set(ra, ra.e().add(lit(ra.width, 1)))],
                vec![set(byte, byte.e().add(lit(8, 1)))],
            )],
        ));
    }
    let t_body = vec![
        set(&tx_valid, lit(1, 0)),
        if_(
            ts.e()
                .ne(lit(TB, T_DONE))
                .land(tx_ready.e())
                .land(tx_valid.e().not()),
            vec![
                set(&tx_valid, lit(1, 1)),
                set(&tx_data, out_byte.e()),
                set(&tcrc, tx_crc.e()),
                case(
                    ts.e(),
                    vec![
                        (
                            vec![lit(TB, T_SYNC)],
                            vec![set(&tcrc, lit(8, 0)), go_t(T_CMD)],
                        ),
                        (vec![lit(TB, T_CMD)], vec![go_t(T_LEN)]),
                        (
                            vec![lit(TB, T_LEN)],
                            vec![if_else(
                                rsp_len.e().eq(lit(8, 0)),
                                vec![go_t(T_CRC)],
                                vec![go_t(T_PAY)],
                            )],
                        ),
                        (vec![lit(TB, T_PAY)], pay_next),
                    ],
                    vec![go_t(T_DONE)],
                ),
            ],
        ),
        // latch the phase being sent (the read port answers one cycle after
        // rd_addr changes; bytes leave thousands of cycles apart)
        if_(pbyte.e().eq(lit(2, 0)), vec![set(&ph_latch, ph_pad.e())]),
    ];
    let mut t_body = t_body;
    if let Some((fmt, latch, byte, _, _)) = &rw {
        // the same for ReadWeights' words (the engine's read answers one
        // cycle after rw_addr changes)
        t_body.push(if_(byte.e().eq(lit(8, 0)), vec![set(latch, fmt.e())]));
    }

    // the one-cycle strobes (write enables, starts), low after reset and
    // unless set this cycle
    let pulses_low: Vec<Stmt> = wblocks
        .iter()
        .map(|w| set(&w.we, lit(1, 0)))
        .chain(l_go.iter().map(|g| set(g, lit(1, 0))))
        .chain(
            sregs
                .iter()
                .flat_map(|r| [set(&r.we, lit(1, 0)), set(&r.go, lit(1, 0))]),
        )
        .chain(
            hregs
                .iter()
                .flat_map(|r| [set(&r.xi_we, lit(1, 0)), set(&r.go, lit(1, 0))]),
        )
        .collect();
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            {
                let mut v = vec![
                    go_r(R_SYNC),
                    go_e(E_IDLE),
                    set(&pend, lit(1, 0)),
                    set(&r_bank, lit(1, 0)),
                    go_t(T_DONE),
                    set(&tx_valid, lit(1, 0)),
                    set(&c_start, lit(1, 0)),
                    set(&x_we, lit(1, 0)),
                    set(&tmo, lit(tmo_w, 0)),
                ];
                v.extend(counters.iter().map(|c| set(c, lit(16, 0))));
                v.extend(pulses_low.clone());
                v
            },
            {
                let mut v = vec![
                    set(&c_start, lit(1, 0)),
                    set(&x_we, lit(1, 0)),
                    timeout_stmt,
                    if_(rx_ferr.e(), vec![bump(&counters[5])]),
                ];
                v.extend(pulses_low);
                v.extend(t_body);
                v.push(case(rs.e(), r_arms, vec![go_r(R_SYNC)]));
                v.push(case(es.e(), e_arms, vec![go_e(E_IDLE)]));
                v
            },
        )],
    );
    m
}

/// `md` instantiated in `m` as `name`, each port (by name and width)
/// connected to what `conn` gives.
fn instance_with(m: &mut Module, md: &Module, name: &str, conn: impl Fn(&str, u32) -> Expr) {
    let conns: Vec<(String, Expr)> = md
        .ports()
        .iter()
        .map(|pi| (pi.name.clone(), conn(&pi.name, pi.width)))
        .collect();
    m.instance(
        md,
        name,
        conns.iter().map(|(n, e)| (n.as_str(), e.clone())).collect(),
    );
}

/// `count * pb` as an 8-bit length (checked <= 255 before use).
fn count_times(count: &Sig, pb: u64) -> Expr {
    match pb {
        1 => count.e(),
        2 => Expr::concat(vec![count.slice(6, 0), lit(1, 0)]),
        _ => {
            // 3 bytes: count*2 + count
            Expr::concat(vec![count.slice(6, 0), lit(1, 0)]).add(count.e())
        }
    }
}
