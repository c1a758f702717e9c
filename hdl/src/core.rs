//! `pg_core`: the settle engine. Computes the input field once per sample,
//! then runs Jacobi Euler steps of the phase dynamics exactly as
//! `phasegen_sim::twin::model::Twin::step`, then the argmax readout.
//!
//! Datapath (see [`phasegen_sim::twin::sched`] for the schedule and docs/hardware.md for
//! the arithmetic):
//! - phases in a ping-pong RAM (`2 x 2^A` words, kept twice: one copy for the
//!   coupling stream, one for the oscillators' own phases): a step reads bank
//!   `b` and writes bank `!b`, so every oscillator sees the old phases;
//! - the **coupling stream** reads one word per cycle: a neighbour `j` and
//!   one weight per lane. `θ_j` is read and looked up (sin, cos) once and
//!   broadcast; lane `l` multiplies both by its weight and accumulates the
//!   row of oscillator `first + l` of the current group. Five stages: ROM,
//!   phase RAM, table, two products per lane, accumulators. At a group's last
//!   word the lane sums are latched;
//! - the **drive sequencer** takes the latched rows one every two cycles
//!   through a seven-stage pipeline with four multipliers (own phase and
//!   constants, tables, products, nudge, sum, step shift) and writes each new
//!   phase;
//! - the stream never waits: bubbles placed by the schedule keep the
//!   sequencer and the phase dependencies between steps in time, and one
//!   step's stream follows the previous one directly;
//! - the input field uses the same lanes and sequencer: a stream of input
//!   weights `U` (one per lane) against the inputs `x_k`.
//!
//! Memories are synchronous-read (block RAM on both families); ROM contents
//! come from the quantized model and the schedule.

use crate::arith::{self, mul_const, mul_logic, times_const};
use crate::vlog::{case, if_, if_else, lit, set, set_mem, slit, Expr, Mem, Module, Sig, Stmt};
use phasegen_sim::link::protocol::Block;
use phasegen_sim::twin::model::{sin_table, HwModel};
use phasegen_sim::twin::qformat::{clog2, wrap};
use phasegen_sim::twin::sched::Schedule;
use phasegen_sim::twin::stream::SEQ_CYCLES;

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
const S_INIT: u64 = 1;
const S_FIELD: u64 = 2;
const S_GO: u64 = 3;
const S_RUN: u64 = 4;
const S_CLS: u64 = 5;
const S_DONE: u64 = 6;
const STATE_BITS: u32 = 3;

/// `v` sign-extended to `w` bits, through a named wire when needed.
fn sx(m: &mut Module, name: &str, v: Expr, w: u32) -> Expr {
    assert!(v.signed());
    if v.width() == w {
        return v;
    }
    let s = m.wire(name, v);
    s.sext(w)
}

/// One of `items` by a run-time index (a mux chain; `items[0]` by default).
fn select(idx: &Expr, items: &[Expr]) -> Expr {
    let mut e = items[0].clone();
    for (k, it) in items.iter().enumerate().skip(1) {
        e = Expr::mux(idx.clone().eq(lit(idx.width(), k as u64)), it.clone(), e);
    }
    e
}

/// The stream control's counters (`ctl_j`: the neighbour, `ctl_first`:
/// its group's first row) and their restart to `(j0, first0)`.
fn ctl_counters(
    m: &mut Module,
    a: u32,
    j0: usize,
    first0: usize,
    restart: &mut Vec<Stmt>,
) -> (Sig, Sig) {
    let dj = m.reg("ctl_j", a);
    let df = m.reg("ctl_first", a);
    *restart = vec![set(&dj, lit(a, j0 as u64)), set(&df, lit(a, first0 as u64))];
    (dj, df)
}

/// The read of a memory of one word of all lanes (`lanes` x `wb` bits) at
/// `ptr`, registered in `{name}_q` and cut into the lanes' `{name}_q_{l}`.
/// With a host write `port` (write enable, address, data) a write takes the
/// cycle instead of the read: the no-change form Yosys maps to SPRAM.
#[allow(clippy::too_many_arguments)]
fn wide_read(
    m: &mut Module,
    clk: &Sig,
    mem: &Mem,
    name: &str,
    lanes: usize,
    wb: u32,
    port: Option<&(Sig, Sig, Sig)>,
    ptr: Expr,
) -> Vec<Sig> {
    let q = m.reg(&format!("{name}_q"), lanes as u32 * wb);
    match port {
        Some((we, addr, data)) => {
            let a = m.wire(&format!("{name}_addr"), Expr::mux(we.e(), addr.e(), ptr));
            m.always(
                clk,
                vec![if_else(
                    we.e(),
                    vec![set_mem(mem, a.e(), data.e())],
                    vec![set(&q, Expr::MemRead(mem.clone(), Box::new(a.e())))],
                )],
            );
        }
        None => m.mem_read(clk, mem, &q, ptr),
    }
    (0..lanes as u32)
        .map(|l| m.wire(&format!("{name}_q_{l}"), q.slice(l * wb + wb - 1, l * wb)))
        .collect()
}

/// A ROM of `width`-bit words, padded to a power-of-two depth.
fn rom(m: &mut Module, name: &str, width: u32, words: Vec<u64>) -> Mem {
    rom_wide(m, name, width, words.into_iter().map(u128::from).collect())
}

/// [`rom`] of words up to 128 bits.
fn rom_wide(m: &mut Module, name: &str, width: u32, mut words: Vec<u128>) -> Mem {
    let depth = 1usize << clog2(words.len().max(1) as u64);
    words.resize(depth, 0);
    m.mem_wide(name, width, depth, Some(words))
}

pub fn generate(hw: &HwModel) -> Module {
    let sched = Schedule::new(hw);
    let f = hw.fmt;
    let sh = CoreShape::of(hw);
    let n = hw.n();
    let lanes = sched.lanes;
    let (p, tb, s, wb, xb, d) = (
        f.phase_bits,
        f.table_bits,
        f.amp_bits,
        f.weight_bits,
        f.input_bits,
        f.drive_bits,
    );
    let a = sh.osc_bits;
    let lb = clog2(lanes as u64);
    let ni = hw.topo.inputs;
    let ia = sh.input_addr_bits;
    let outs = hw.topo.outputs();
    let out_base = outs.start as u64;
    // the sequencer's rows in a step: first_row, first_row + 1, ... (mod n)
    let first_row = sched.first_row() as u64;
    let end_row = sched.last_row() as u64;
    let acc_w = f.acc_bits(hw.max_degree());
    let facc_w = f.field_acc_bits(ni);
    let accc_w = acc_w.max(facc_w);
    let dacc_w = f.drive_acc_bits();
    let sb = s.max(xb + 1);
    let nw = sched.words.len();
    let ea = clog2(nw as u64);
    let fl = sched.field_len;
    let kb = clog2(fl as u64);
    let nu = sched.field.len() * fl;
    let ua = clog2(nu.max(1) as u64);
    let mcw = clog2(lanes as u64 + 1);

    let mut m = Module::new("pg_core");
    m.doc("pg_core: field, Jacobi settle steps and argmax readout (see docs/hardware.md).");
    m.doc(&format!(
        "{lanes} lane(s); coupling stream of {nw} words per step ({} bubbles), {} entries.",
        nw - sched.entries().min(nw),
        sched.entries()
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let x_we = m.input("i_x_we", 1);
    let x_addr = m.input("i_x_addr", ia);
    let x_data = m.input("i_x_data", xb);
    let start = m.input("i_start", 1);
    let init = m.input("i_init", 1);
    let steps_in = m.input("i_steps", sh.step_bits);
    let beta_in = m.input_signed("i_beta", wb);
    let target_in = m.input("i_target", sh.classes as u32);
    let rd_addr = m.input("i_rd_addr", a);
    // U in RAM: the host writes it, one word (all lanes) at a time
    let u_ram = Schedule::writable(hw, Block::U);
    let u_port = u_ram.then(|| {
        (
            m.input("i_u_we", 1),
            m.input("i_u_addr", ua),
            m.input("i_u_data", lanes as u32 * wb),
        )
    });
    // writable parameters: a stream word of W (all lanes; also W in RAM
    // alone) and one oscillator's constants {h, K, ω0 + δω, θ0} at a time
    let ow = 2 * wb + 2 * p;
    let w_port = Schedule::writable(hw, Block::W).then(|| {
        (
            m.input("i_w_we", 1),
            m.input("i_w_addr", ea),
            m.input("i_w_data", lanes as u32 * wb),
        )
    });
    let o_port = hw.params_in_ram.then(|| {
        (
            m.input("i_o_we", 1),
            m.input("i_o_addr", a),
            m.input("i_o_data", ow),
        )
    });
    // a learning design: while the core is idle its parameter RAMs answer
    // the learning engine's reads (`i_pr_addr`, a word of each block one
    // cycle later on `o_pr_*`), so the engine keeps no copy of them
    let pr_addr =
        (hw.learn.is_some() || hw.hebb.is_some()).then(|| m.input("i_pr_addr", ea.max(ua).max(a)));

    // ---------------- memories ----------------
    m.comment("memories: ROMs from the quantized model and the schedule, RAMs for state");
    let table = sin_table(&f);
    let nt = table.len();
    let q = nt / 4;
    let sc: Vec<u64> = (0..nt)
        .map(|k| (wrap(table[(k + q) % nt], s) << s) | wrap(table[k], s))
        .collect();
    let sc_str = rom(&mut m, "sc_rom_str", 2 * s, sc.clone());
    let sc_own = rom(&mut m, "sc_rom_own", 2 * s, sc.clone());
    // the coupling's extra harmonics a_n sin nψ (docs/hardware.md): for each,
    // its (n, a_n) and a {cos, sin} table for the stream and one for the
    // oscillators' own look-ups (one read port each)
    let harm = hw.harmonic_terms();
    assert!(
        harm.is_empty() || !hw.pairs,
        "the pairs stream has no harmonics (the quantizer refuses them)"
    );
    let harm_roms: Vec<(usize, i64, Mem, Mem)> = harm
        .iter()
        .map(|&(nn, an)| {
            let st = rom(&mut m, &format!("sc_rom_str_{nn}"), 2 * s, sc.clone());
            let ow = rom(&mut m, &format!("sc_rom_own_{nn}"), 2 * s, sc.clone());
            (nn, an, st, ow)
        })
        .collect();
    let s2_rom = rom(
        &mut m,
        "sin_rom_2",
        s,
        table.iter().map(|&v| wrap(v, s)).collect(),
    );
    // coupling stream: {last, mask, j} from a ROM, or from counters when
    // the stream is the dense one of a fully connected layer (nothing of
    // size n^2 stored); the weights in one ROM per lane, or in one RAM of
    // all lanes the host fills (W in RAM: no initial contents, the form
    // Yosys maps to the UP5K's SPRAM)
    // the pairs stream's control word also holds the capture lane and the
    // scatter kind: {last, add, store, capture valid, capture lane, mask, j}
    let pairs = sched.pairs;
    let lbw = lb.max(1);
    let cw = 1 + lanes as u32 + a + if pairs.is_some() { 3 + lbw } else { 0 };
    let dense = sched.dense();
    let ctl_rom = (dense.is_none() && pairs.is_none()).then(|| {
        let ctl: Vec<u64> = sched
            .words
            .iter()
            .map(|w| ((w.last as u64) << (lanes as u32 + a)) | (w.mask << a) | w.j as u64)
            .collect();
        rom(&mut m, "ctl_rom", cw, ctl)
    });
    // one memory of all lanes when the host fills W, and for the pairs
    // stream (whose W is large: one wide word packs the block RAM better
    // than a narrow memory per lane; depth not padded)
    let wide = hw.w_in_ram || pairs.is_some();
    let w_roms: Vec<Mem> = if hw.w_in_ram {
        // host-filled, no power-up contents: SPRAM on the UP5K
        vec![if hw.spram {
            m.mem_styled("w_ram", lanes as u32 * wb, nw, "huge")
        } else {
            m.mem("w_ram", lanes as u32 * wb, nw, None)
        }]
    } else if wide {
        let v = sched
            .words
            .iter()
            .map(|w| {
                (0..lanes)
                    .rev()
                    .fold(0u128, |acc, l| acc << wb | wrap(w.w[l], wb) as u128)
            })
            .collect();
        let name = if hw.params_in_ram { "w_ram" } else { "w_rom" };
        vec![m.mem_wide(name, lanes as u32 * wb, nw, Some(v))]
    } else {
        (0..lanes)
            .map(|l| {
                let v = sched.words.iter().map(|w| wrap(w.w[l], wb)).collect();
                let name = if hw.params_in_ram { "w_ram" } else { "w_rom" };
                rom(&mut m, &format!("{name}_{l}"), wb, v)
            })
            .collect()
    };
    if let (Some((we, addr, data)), false) = (&w_port, wide) {
        let wr = (0..lanes as u32)
            .map(|l| {
                set_mem(
                    &w_roms[l as usize],
                    addr.e(),
                    data.slice(l * wb + wb - 1, l * wb),
                )
            })
            .collect();
        m.always(&clk, vec![if_(we.e(), wr)]);
    }
    // input weights: group g, input k at g * field_len + k; one ROM per lane,
    // or one RAM of all lanes (single address, no-change read: the form
    // Yosys maps to the UP5K's SPRAM)
    // (the pairs stream's U is also one word of all lanes: it packs the
    // block RAM better than a narrow memory per lane)
    let u_packed = || -> Vec<u128> {
        sched
            .u_words(hw)
            .iter()
            .map(|w| {
                (0..lanes)
                    .rev()
                    .fold(0u128, |acc, l| acc << wb | wrap(w[l], wb) as u128)
            })
            .collect()
    };
    let u_wide = !u_ram && pairs.is_some();
    let u_roms: Vec<Mem> = if u_ram {
        // filled by the bitstream where it can be (not U in SPRAM)
        let init = (!hw.u_in_ram).then(u_packed);
        vec![if hw.spram && init.is_none() {
            m.mem_styled("u_ram", lanes as u32 * wb, nu, "huge")
        } else {
            m.mem_wide("u_ram", lanes as u32 * wb, nu, init)
        }]
    } else if u_wide {
        vec![m.mem_wide("u_rom", lanes as u32 * wb, nu, Some(u_packed()))]
    } else {
        let u_words = sched.u_words(hw);
        (0..lanes)
            .map(|l| {
                let v = u_words.iter().map(|w| wrap(w[l], wb)).collect();
                rom(&mut m, &format!("u_rom_{l}"), wb, v)
            })
            .collect()
    };
    // per oscillator: {last row of its group, h, K, ω0 + δω_i, theta0}
    // (with writable parameters the last-row bits are a ROM of their own)
    let mut last_row = vec![false; n];
    for g in &sched.groups {
        last_row[g.first + g.rows - 1] = true;
    }
    // (up to 2 x 16 + 2 x 24 + 1 bits: a word may pass 64 bits)
    let ov: Vec<u128> = (0..n)
        .map(|i| {
            ((wrap(hw.h[i], wb) as u128) << (wb + 2 * p))
                | ((wrap(hw.k[i], wb) as u128) << (2 * p))
                | ((wrap(hw.omega0 + hw.omega[i], p) as u128) << p)
                | hw.theta0[i] as u128
        })
        .collect();
    let (osc_rom, last_rom) = if hw.params_in_ram {
        let last = last_row.iter().map(|&b| b as u64).collect();
        (
            rom_wide(&mut m, "osc_ram", ow, ov),
            Some(rom(&mut m, "row_last_rom", 1, last)),
        )
    } else {
        let ov = (0..n)
            .map(|i| (last_row[i] as u128) << ow | ov[i])
            .collect();
        (rom_wide(&mut m, "osc_rom", ow + 1, ov), None)
    };
    if let Some((we, addr, data)) = &o_port {
        m.always(
            &clk,
            vec![if_(we.e(), vec![set_mem(&osc_rom, addr.e(), data.e())])],
        );
    }
    let x_mem = m.mem("x_mem", xb, 1 << ia, None);
    let b_mem = m.mem("b_mem", d, 1 << a, None);
    let ph_str = m.mem("ph_str", p, 2 << a, None);
    let ph_own = m.mem("ph_own", p, 2 << a, None);

    // ---------------- control registers ----------------
    m.comment("control");
    let st = m.reg_init("state", STATE_BITS, false, Some(S_IDLE));
    let in_state = |v: u64| st.e().eq(lit(STATE_BITS, v));
    // (a learning design) a parameter read address: the engine's while idle
    let pr_idle = pr_addr
        .as_ref()
        .map(|_| m.wire("pr_idle", in_state(S_IDLE)));
    let by_pr = |ptr: Expr, bits: u32| -> Expr {
        match (&pr_addr, &pr_idle) {
            (Some(pa), Some(idle)) => Expr::mux(idle.e(), pa.slice(bits - 1, 0), ptr),
            _ => ptr,
        }
    };
    let bank = m.reg_init("bank", 1, false, Some(0));
    // the reference oscillator's phase φ (absolute frame), advanced by ω0
    // with every completed step; the stream and the sequencer keep their own
    // copies, a step ahead at most
    let omega0 = lit(p, wrap(hw.omega0, p));
    let phi = m.reg_init("phi", p, false, Some(0));
    let steps_q = m.reg("steps_q", sh.step_bits);
    let wsteps = m.reg("wsteps", sh.step_bits);
    let beta = m.reg_signed("beta", wb);
    let target = m.reg("target", sh.classes as u32);
    let busy = m.reg_init("busy", 1, false, Some(0));
    let done = m.reg_init("done", 1, false, Some(0));
    let step_pulse = m.reg_init("step_pulse", 1, false, Some(0));
    let class = m.reg_init("class_q", sh.class_bits, false, Some(0));
    let fault = m.reg_init("fault", 1, false, Some(0));
    let fmode = m.reg_init("fmode", 1, false, Some(0));

    // init: theta0 and h for every oscillator
    let ii = m.reg("init_i", a);
    let init_v = m.reg_init("init_v", 1, false, Some(0));
    let init_i = m.reg("init_i_q", a);

    // ---------------- coupling stream ----------------
    m.comment("coupling stream: word -> phase -> sin/cos -> products -> lane sums");
    let e = m.reg("w_ptr", ea);
    let issuing = m.reg_init("issuing", 1, false, Some(0));
    let ibank = m.reg("ibank", 1);
    let iphi = m.reg("iphi", p);
    let isteps = m.reg("isteps", sh.step_bits);
    let ctl_q = m.reg("ctl_q", cw);
    // the dense stream's counters: word e's neighbour and its group's first
    // row, advanced with e (held through the lead bubbles), restarted with it
    let mut dense_restart = Vec::new();
    let mut dense_advance = Vec::new();
    match (&ctl_rom, dense) {
        (Some(r), _) => m.mem_read(&clk, r, &ctl_q, e.e()),
        (None, None) if pairs.is_some() => {
            let d = pairs.expect("a pairs stream");
            m.comment(
                "pairs stream: {last, add, store, capture, lane, mask, j} from counters (see pairs::PairStream)",
            );
            let st0 = d.start();
            let (dj, df) = ctl_counters(&mut m, a, st0.j, st0.first, &mut dense_restart);
            let a1 = a + 1;
            // the next group's first row and its first neighbour,
            // min(first, n - min_len)
            let nf = m.wire(
                "ctl_next_first",
                df.e().zext(a1).add(lit(a1, d.lanes as u64)),
            );
            let jlo = (d.n - d.min_len) as u64;
            let nj = m.wire(
                "ctl_next_j",
                Expr::mux(nf.e().lt(lit(a1, jlo)), nf.slice(a - 1, 0), lit(a, jlo)),
            );
            let last = m.wire("ctl_last", dj.e().eq(lit(a, d.n as u64 - 1)));
            let step = if_else(
                last.e(),
                vec![set(&dj, nj.slice(a - 1, 0)), set(&df, nf.slice(a - 1, 0))],
                vec![set(&dj, dj.e().add(lit(a, 1)))],
            );
            dense_advance = if d.lead > 0 {
                vec![if_(e.e().ge(lit(ea, d.lead as u64)), vec![step])]
            } else {
                vec![step]
            };
            let bubble = if d.lead > 0 {
                m.wire("ctl_bubble", e.e().lt(lit(ea, d.lead as u64)))
                    .e()
                    .not()
            } else {
                lit(1, 1)
            };
            // a word of the group: j >= first; its offset j - first is a
            // row of the group (a capture) or past it (a scatter)
            let live = m.wire("ctl_live", bubble.land(dj.e().ge(df.e())));
            let diag = m.wire("ctl_diag", dj.e().sub(df.e()));
            let last_first = (d.n - 1) / d.lanes * d.lanes;
            let last_rows = d.rows(last_first);
            let in_last = (last_rows < d.lanes)
                .then(|| m.wire("ctl_in_last", df.e().eq(lit(a, last_first as u64))));
            let in_tile = m.wire("ctl_in_tile", diag.e().lt(lit(a, d.lanes as u64)));
            let capv = m.wire("ctl_cap", live.e().land(in_tile.e()));
            let scat = m.wire("ctl_scat", live.e().land(in_tile.e().not()));
            let first0 = m.wire("ctl_first0", df.e().eq(lit(a, 0)));
            let mut bits: Vec<Expr> = Vec::new();
            for l in (0..d.lanes).rev() {
                let mut b = live.e().land(diag.e().ne(lit(a, l as u64)));
                if let (Some(il), true) = (&in_last, l >= last_rows) {
                    b = b.land(il.e().not());
                }
                bits.push(b);
            }
            let lane = if lb == 0 {
                lit(1, 0)
            } else {
                diag.slice(lb - 1, 0)
            };
            let mut word = vec![
                live.e().land(last.e()),
                scat.e().land(first0.e().not()),
                scat.e().land(first0.e()),
                capv.e(),
                lane,
            ];
            word.extend(bits);
            word.push(dj.e());
            m.always(&clk, vec![set(&ctl_q, Expr::concat(word))]);
        }
        (None, Some(d)) => {
            m.comment("dense stream: {last, mask, j} from counters (see sched::DenseStream)");
            let st0 = d.start();
            let (dj, df) = ctl_counters(&mut m, a, st0.j, st0.first, &mut dense_restart);
            // groups of one row skip their diagonal: every group with one
            // lane, else only a last group of one row
            let single = if d.lanes == 1 {
                Some(lit(1, 1))
            } else if d.n % d.lanes == 1 {
                Some(df.e().eq(lit(a, d.n as u64 - 1)))
            } else {
                None
            };
            let j_last = match &single {
                Some(_) => Expr::mux(
                    df.e().eq(lit(a, d.n as u64 - 1)),
                    lit(a, d.n as u64 - 2),
                    lit(a, d.n as u64 - 1),
                ),
                None => lit(a, d.n as u64 - 1),
            };
            let last = m.wire("ctl_last", dj.e().eq(j_last));
            let next_j = match &single {
                Some(sg) => Expr::mux(
                    sg.clone().land(dj.e().add(lit(a, 1)).eq(df.e())),
                    dj.e().add(lit(a, 2)),
                    dj.e().add(lit(a, 1)),
                ),
                None => dj.e().add(lit(a, 1)),
            };
            // (modulo 2^a: with one group of all n <= lanes rows, the next
            // first row is never used, the step restarts the counters)
            let next_first = d.lanes as u64 & ((1u64 << a) - 1);
            let step = if_else(
                last.e(),
                vec![
                    set(&dj, lit(a, 0)),
                    set(&df, df.e().add(lit(a, next_first))),
                ],
                vec![set(&dj, next_j)],
            );
            dense_advance = if d.lead > 0 {
                vec![if_(e.e().ge(lit(ea, d.lead as u64)), vec![step])]
            } else {
                vec![step]
            };
            // lane l is active unless it is the diagonal (j = first + l) or
            // beyond the last group's rows
            let diag = m.wire("ctl_diag", dj.e().sub(df.e()));
            let last_first = (d.n - 1) / d.lanes * d.lanes;
            let last_rows = d.rows(last_first);
            let in_last = (last_rows < d.lanes)
                .then(|| m.wire("ctl_in_last", df.e().eq(lit(a, last_first as u64))));
            let bubble =
                (d.lead > 0).then(|| m.wire("ctl_bubble", e.e().lt(lit(ea, d.lead as u64))));
            let mut bits: Vec<Expr> = Vec::new();
            for l in (0..d.lanes).rev() {
                // (a lane past 2^a is past every row: in_last clears it)
                let mut b = if (l as u64) < 1 << a {
                    diag.e().ne(lit(a, l as u64))
                } else {
                    lit(1, 1)
                };
                if let (Some(il), true) = (&in_last, l >= last_rows) {
                    b = b.land(il.e().not());
                }
                if let Some(bb) = &bubble {
                    b = b.land(bb.e().not());
                }
                bits.push(b);
            }
            let last_w = match &bubble {
                Some(bb) => last.e().land(bb.e().not()),
                None => last.e(),
            };
            let mut word = vec![last_w];
            word.extend(bits);
            word.push(dj.e());
            m.always(&clk, vec![set(&ctl_q, Expr::concat(word))]);
        }
        (None, None) => unreachable!("the stream control is a ROM or dense"),
    }
    let w_ra = by_pr(e.e(), ea);
    let wq: Vec<Sig> = match (&w_port, wide) {
        (port, true) => wide_read(
            &mut m,
            &clk,
            &w_roms[0],
            "w",
            lanes,
            wb,
            port.as_ref(),
            w_ra,
        ),
        _ => {
            let wq: Vec<Sig> = (0..lanes).map(|l| m.reg(&format!("w_q_{l}"), wb)).collect();
            for l in 0..lanes {
                m.mem_read(&clk, &w_roms[l], &wq[l], w_ra.clone());
            }
            wq
        }
    };
    let v1 = m.reg_init("v1", 1, false, Some(0));
    let bank1 = m.reg("bank1", 1);
    let phi1 = m.reg("phi1", p);
    let phi2 = m.reg("phi2", p);
    let j1 = m.wire("w_j", ctl_q.slice(a - 1, 0));
    let mask1 = m.wire("w_mask", ctl_q.slice(a + lanes as u32 - 1, a));
    let last1 = m.wire("w_last", ctl_q.bit(cw - 1));
    let ph_q = m.reg("ph_q", p);
    m.mem_read(&clk, &ph_str, &ph_q, Expr::concat(vec![bank1.e(), j1.e()]));
    let v2 = m.reg_init("v2", 1, false, Some(0));
    let last2 = m.reg("last2", 1);
    let mask2 = m.reg("mask2", lanes as u32);
    let w2: Vec<Sig> = (0..lanes)
        .map(|l| m.reg_signed(&format!("w2_{l}"), wb))
        .collect();
    let ph_j = m.wire_partial(
        "psi_j",
        ph_q.e().sub(phi2.e()),
        "the stream looks up the top table_bits of a neighbour's phase only",
    );
    let idx_str = m.wire("tab_idx_str", ph_j.slice(p - 1, p - tb));
    let sc_q = m.reg("sc_q", 2 * s);
    m.mem_read(&clk, &sc_str, &sc_q, idx_str.e());
    let sin_j = m.wire("sin_j", sc_q.slice(s - 1, 0).as_signed());
    let cos_j = m.wire("cos_j", sc_q.slice(2 * s - 1, s).as_signed());
    // the harmonics' look-ups of the same word: {cos nψ_j, sin nψ_j}
    let harm_j: Vec<(Sig, Sig)> = harm_roms
        .iter()
        .map(|(nn, _, st, _)| {
            let t = times_const(&mut m, &format!("psi_j_x{nn}"), &ph_j, *nn);
            let idx = m.wire(&format!("tab_idx_str_{nn}"), t.slice(p - 1, p - tb));
            let q = m.reg(&format!("sc_q_{nn}"), 2 * s);
            m.mem_read(&clk, st, &q, idx.e());
            (
                m.wire(&format!("cos_j_{nn}"), q.slice(2 * s - 1, s).as_signed()),
                m.wire(&format!("sin_j_{nn}"), q.slice(s - 1, 0).as_signed()),
            )
        })
        .collect();
    let v3 = m.reg_init("v3", 1, false, Some(0));
    let last3 = m.reg("last3", 1);
    let mask3 = m.reg("mask3", lanes as u32);
    let w3: Vec<Sig> = (0..lanes)
        .map(|l| m.reg_signed(&format!("w3_{l}"), wb))
        .collect();
    let v4 = m.reg_init("v4", 1, false, Some(0));
    let last4 = m.reg("last4", 1);
    let mask4 = m.reg("mask4", lanes as u32);

    // ---------------- field stream ----------------
    m.comment("field stream: input weights U (one per lane) against x_k");
    let ue = m.reg("u_ptr", ua);
    let fk = m.reg("f_k", kb);
    let fissuing = m.reg_init("fissuing", 1, false, Some(0));
    let uq: Vec<Sig> = match &u_port {
        Some(port) => wide_read(
            &mut m,
            &clk,
            &u_roms[0],
            "u",
            lanes,
            wb,
            Some(port),
            by_pr(ue.e(), ua),
        ),
        None if u_wide => wide_read(&mut m, &clk, &u_roms[0], "u", lanes, wb, None, ue.e()),
        None => (0..lanes)
            .map(|l| {
                let q = m.reg(&format!("u_q_{l}"), wb);
                m.mem_read(&clk, &u_roms[l], &q, ue.e());
                q
            })
            .collect(),
    };

    let x_q = m.reg("x_q", xb);
    let x_rd = if kb > ia { fk.slice(ia - 1, 0) } else { fk.e() };
    let x_rd = if kb < ia { x_rd.zext(ia) } else { x_rd };
    m.mem_read(&clk, &x_mem, &x_q, x_rd);
    m.always(
        &clk,
        vec![if_(x_we.e(), vec![set_mem(&x_mem, x_addr.e(), x_data.e())])],
    );
    let fv1 = m.reg_init("fv1", 1, false, Some(0));
    let flast1 = m.reg("flast1", 1);
    let fv2 = m.reg_init("fv2", 1, false, Some(0));
    let flast2 = m.reg("flast2", 1);

    // ---------------- lanes: products and sums ----------------
    m.comment("lanes: W cos / U x and W sin, exact sums per row");
    // a writable U may hold anything in the padding words past the inputs
    // (whose x_k reads are not inputs): their x is 0
    let fpad1 = (u_ram && fl > ni).then(|| m.reg("fpad1", 1));
    let x_v = match &fpad1 {
        Some(fp) => Expr::mux(fp.e(), lit(xb, 0), x_q.e()),
        None => x_q.e(),
    };
    let x_s = m.wire("x_s", Expr::concat(vec![lit(1, 0), x_v]).as_signed());
    let x_b = sx(&mut m, "x_b", x_s.e(), sb);
    let cos_b = sx(&mut m, "cos_b", cos_j.e(), sb);
    let mul_b = m.wire("lane_b", Expr::mux(fmode.e(), x_b, cos_b));
    let acc_v = m.wire("acc_v", Expr::mux(fmode.e(), fv2.e(), v4.e()));
    let acc_last = m.wire("acc_last", Expr::mux(fmode.e(), flast2.e(), last4.e()));
    let after_last = m.reg_init("after_last", 1, false, Some(1));
    let mut prod_c = Vec::new();
    let mut prod_s = Vec::new();
    let mut acc_c = Vec::new();
    let mut acc_s = Vec::new();
    let mut hold_c = Vec::new();
    let mut hold_s = Vec::new();
    let mut sum_c = Vec::new();
    let mut sum_s = Vec::new();
    for l in 0..lanes {
        let ua_l = m.wire(&format!("u_s_{l}"), uq[l].e().as_signed());
        let a_l = m.wire(
            &format!("lane_a_{l}"),
            Expr::mux(fmode.e(), ua_l.e(), w3[l].e()),
        );
        let pc = m.reg_signed(&format!("prod_c_{l}"), wb + sb);
        let ps = m.reg_signed(&format!("prod_s_{l}"), wb + s);
        m.always(
            &clk,
            vec![
                set(&pc, a_l.e().mul(mul_b.e())),
                set(&ps, w3[l].e().mul(sin_j.e())),
            ],
        );
        let ac = m.reg_signed(&format!("acc_c_{l}"), accc_w);
        let as_ = m.reg_signed(&format!("acc_s_{l}"), acc_w);
        let hc = m.reg_signed(&format!("hold_c_{l}"), accc_w);
        let hs = m.reg_signed(&format!("hold_s_{l}"), acc_w);
        let pce = sx(&mut m, &format!("prod_c_ext_{l}"), pc.e(), accc_w);
        let pse = sx(&mut m, &format!("prod_s_ext_{l}"), ps.e(), acc_w);
        let base_c = Expr::mux(after_last.e(), slit(accc_w, 0), ac.e());
        let base_s = Expr::mux(after_last.e(), slit(acc_w, 0), as_.e());
        let sc_ = m.wire(&format!("sum_c_{l}"), base_c.add(pce));
        let ss_ = m.wire(&format!("sum_s_{l}"), base_s.add(pse));
        prod_c.push(pc);
        prod_s.push(ps);
        acc_c.push(ac);
        acc_s.push(as_);
        hold_c.push(hc);
        hold_s.push(hs);
        sum_c.push(sc_);
        sum_s.push(ss_);
    }
    // the harmonics' lanes: W cos nθ_j and W sin nθ_j, exact sums per row
    // beside the first harmonic's (accumulated and latched with them); per
    // harmonic, per lane: (acc_c, acc_s, hold_c, hold_s, sum_c, sum_s)
    type HarmLane = (Sig, Sig, Sig, Sig, Sig, Sig);
    let mut harm_lanes: Vec<Vec<HarmLane>> = Vec::new();
    for ((nn, _, _, _), (cj, sj)) in harm_roms.iter().zip(&harm_j) {
        let mut v = Vec::new();
        for (l, w3l) in w3.iter().enumerate() {
            let pc = m.reg_signed(&format!("prod_c{nn}_{l}"), wb + s);
            let ps = m.reg_signed(&format!("prod_s{nn}_{l}"), wb + s);
            m.always(
                &clk,
                vec![set(&pc, w3l.e().mul(cj.e())), set(&ps, w3l.e().mul(sj.e()))],
            );
            let ac = m.reg_signed(&format!("acc_c{nn}_{l}"), acc_w);
            let as_ = m.reg_signed(&format!("acc_s{nn}_{l}"), acc_w);
            let hc = m.reg_signed(&format!("hold_c{nn}_{l}"), acc_w);
            let hs = m.reg_signed(&format!("hold_s{nn}_{l}"), acc_w);
            let pce = sx(&mut m, &format!("prod_c{nn}_ext_{l}"), pc.e(), acc_w);
            let pse = sx(&mut m, &format!("prod_s{nn}_ext_{l}"), ps.e(), acc_w);
            let base_c = Expr::mux(after_last.e(), slit(acc_w, 0), ac.e());
            let base_s = Expr::mux(after_last.e(), slit(acc_w, 0), as_.e());
            let sc_ = m.wire(&format!("sum_c{nn}_{l}"), base_c.add(pce));
            let ss_ = m.wire(&format!("sum_s{nn}_{l}"), base_s.add(pse));
            v.push((ac, as_, hc, hs, sc_, ss_));
        }
        harm_lanes.push(v);
    }
    let latch = m.wire("latch", acc_v.e().land(acc_last.e()));

    // ---------------- pairs stream: capture and scatter ----------------
    // (see phasegen_sim::twin::pairs) stage 3 keeps each lane's own sin/cos from
    // its capture word and multiplies the scatter words' weights by them;
    // stage 4 sums groups of four lanes and reads row j's partial sums;
    // stage 5 adds (or, in the first group, stores) and writes them back.
    // acc_str serves this read-modify-write, acc_own (the same writes) the
    // drive sequencer.
    let mut scatter_regs: Vec<Stmt> = Vec::new();
    let mut scatter_rst: Vec<Stmt> = Vec::new();
    let (acc_own, sv4) = if pairs.is_some() {
        m.comment(
            "pairs stream: capture own sin/cos, scatter W (cos, sin) θ_i into row j's partial sums",
        );
        let base = a + lanes as u32;
        let cap1 = m.wire("w_cap", ctl_q.slice(base + lbw - 1, base));
        let capv1 = m.wire("w_capv", ctl_q.bit(base + lbw));
        let store1 = m.wire("w_store", ctl_q.bit(base + lbw + 1));
        let add1 = m.wire("w_add", ctl_q.bit(base + lbw + 2));
        let capv2 = m.reg_init("capv2", 1, false, Some(0));
        let cap2 = m.reg("cap2", lbw);
        let capv3 = m.reg_init("capv3", 1, false, Some(0));
        let cap3 = m.reg("cap3", lbw);
        let sv: Vec<Sig> = (2..=5)
            .map(|k| m.reg_init(&format!("sv{k}"), 1, false, Some(0)))
            .collect();
        let sst: Vec<Sig> = (2..=5).map(|k| m.reg(&format!("store{k}"), 1)).collect();
        let sj: Vec<Sig> = (2..=5).map(|k| m.reg(&format!("j{k}"), a)).collect();
        scatter_regs.extend(vec![
            set(&capv2, v1.e().land(capv1.e())),
            set(&cap2, cap1.e()),
            set(&capv3, capv2.e()),
            set(&cap3, cap2.e()),
            set(&sv[0], v1.e().land(store1.e().lor(add1.e()))),
            set(&sst[0], store1.e()),
            set(&sj[0], j1.e()),
        ]);
        for k in 1..4 {
            scatter_regs.push(set(&sv[k], sv[k - 1].e()));
            scatter_regs.push(set(&sst[k], sst[k - 1].e()));
            scatter_regs.push(set(&sj[k], sj[k - 1].e()));
        }
        for r in [&capv2, &capv3, &sv[0], &sv[1], &sv[2], &sv[3]] {
            scatter_rst.push(set(r, lit(1, 0)));
        }
        // stage 3: captures and the scatter products
        let mut prods_c = Vec::new();
        let mut prods_s = Vec::new();
        for (l, w3l) in w3.iter().enumerate() {
            let oc = m.reg_signed(&format!("own_c_{l}"), s);
            let os = m.reg_signed(&format!("own_s_{l}"), s);
            let hit = capv3.e().land(cap3.e().eq(lit(lbw, l as u64)));
            scatter_regs.push(if_(hit, vec![set(&oc, cos_j.e()), set(&os, sin_j.e())]));
            let pc = m.reg_signed(&format!("sprod_c_{l}"), wb + s);
            let ps = m.reg_signed(&format!("sprod_s_{l}"), wb + s);
            scatter_regs.push(set(&pc, w3l.e().mul(oc.e())));
            scatter_regs.push(set(&ps, w3l.e().mul(os.e())));
            prods_c.push(sx(&mut m, &format!("sprod_c_ext_{l}"), pc.e(), acc_w));
            prods_s.push(sx(&mut m, &format!("sprod_s_ext_{l}"), ps.e(), acc_w));
        }
        // stage 4: sums of four lanes; the partial sums' read
        let quad = |m: &mut Module, regs: &mut Vec<Stmt>, name: &str, v: &[Expr]| -> Vec<Sig> {
            v.chunks(4)
                .enumerate()
                .map(|(k, c)| {
                    let r = m.reg_signed(&format!("{name}_{k}"), acc_w);
                    let sum = c.iter().cloned().reduce(|x, y| x.add(y)).expect("a lane");
                    regs.push(set(&r, sum));
                    r
                })
                .collect()
        };
        let qc = quad(&mut m, &mut scatter_regs, "squad_c", &prods_c);
        let qs = quad(&mut m, &mut scatter_regs, "squad_s", &prods_s);
        let pw = 2 * acc_w;
        let acc_str = m.mem("acc_str", pw, 1 << a, None);
        let acc_own = m.mem("acc_own", pw, 1 << a, None);
        let acc_rq = m.reg("acc_rq", pw);
        m.mem_read(&clk, &acc_str, &acc_rq, sj[2].e());
        // stage 5: add (store) and write
        let old_c = m.wire("acc_old_c", acc_rq.slice(acc_w - 1, 0).as_signed());
        let old_s = m.wire("acc_old_s", acc_rq.slice(pw - 1, acc_w).as_signed());
        let tot = |m: &mut Module, name: &str, q: &[Sig], old: &Sig| -> Sig {
            let sum = q
                .iter()
                .map(|r| r.e())
                .reduce(|x, y| x.add(y))
                .expect("a quad");
            let base = Expr::mux(sst[3].e(), slit(acc_w, 0), old.e());
            m.wire(name, sum.add(base))
        };
        let tc = tot(&mut m, "acc_new_c", &qc, &old_c);
        let ts = tot(&mut m, "acc_new_s", &qs, &old_s);
        let wd = m.wire(
            "acc_wdata",
            Expr::concat(vec![ts.e().as_unsigned(), tc.e().as_unsigned()]),
        );
        m.always(
            &clk,
            vec![if_(
                sv[3].e(),
                vec![
                    set_mem(&acc_str, sj[3].e(), wd.e()),
                    set_mem(&acc_own, sj[3].e(), wd.e()),
                ],
            )],
        );
        (Some(acc_own), Some(sv[2].clone()))
    } else {
        (None, None)
    };

    // ---------------- drive sequencer ----------------
    m.comment("drive sequencer: one latched row every two cycles (D0 .. D6)");
    assert_eq!(
        SEQ_CYCLES, 2,
        "the sequencer below takes two cycles per row"
    );
    let seq_busy = m.reg_init("seq_busy", 1, false, Some(0));
    let seq_ph = m.reg("seq_ph", 1);
    let seq_k = m.reg("seq_k", lb);
    let seq_i = m.reg("seq_i", a);
    let sbank = m.reg("sbank", 1);
    let sphi = m.reg("sphi", p);
    let d0 = m.wire("d0", seq_busy.e().land(seq_ph.e().not()));
    let d1 = m.wire("d1", seq_busy.e().land(seq_ph.e()));
    // own reads (D0 address, D1 data)
    let osc_q = m.reg("osc_q", ow + last_rom.is_none() as u32);
    let osc_ra = m.wire(
        "osc_raddr",
        by_pr(Expr::mux(in_state(S_INIT), ii.e(), seq_i.e()), a),
    );
    m.mem_read(&clk, &osc_rom, &osc_q, osc_ra.e());
    let row_last = match &last_rom {
        Some(r) => {
            let q = m.reg("row_last_q", 1);
            m.mem_read(&clk, r, &q, osc_ra.e());
            m.wire("row_last", q.e())
        }
        None => m.wire("row_last", osc_q.bit(ow)),
    };
    let h_q = arith::field(&mut m, "h_q", &osc_q, 2 * wb + 2 * p - 1, wb + 2 * p, true);
    let k_q = arith::field(&mut m, "k_q", &osc_q, wb + 2 * p - 1, 2 * p, true);
    let om_q = arith::field(&mut m, "om_q", &osc_q, 2 * p - 1, p, false);
    let th0_q = arith::field(&mut m, "th0_q", &osc_q, p - 1, 0, false);
    let b_q = m.reg_signed("b_q", d);
    m.always(
        &clk,
        vec![set(
            &b_q,
            Expr::MemRead(b_mem.clone(), Box::new(seq_i.e())).as_signed(),
        )],
    );
    let cls_o = m.reg("cls_o", a);
    let own_ra = m.wire(
        "own_raddr",
        Expr::mux(
            in_state(S_IDLE),
            Expr::concat(vec![bank.e(), rd_addr.e()]),
            Expr::mux(
                in_state(S_CLS),
                Expr::concat(vec![bank.e(), cls_o.e()]),
                Expr::concat(vec![sbank.e(), seq_i.e()]),
            ),
        ),
    );
    let own_q = m.reg("own_q", p);
    m.mem_read(&clk, &ph_own, &own_q, own_ra.e());
    // own look-ups relative to the reference (the class scan reads after the
    // run, when the sequencer's φ is the device's)
    let psi_i = m.wire_partial(
        "psi_i",
        own_q.e().sub(sphi.e()),
        "an oscillator's own look-ups use the top table_bits (+1 for 2θ) of its phase",
    );
    let own_idx = m.wire("tab_idx_own", psi_i.slice(p - 1, p - tb));
    let own_idx2 = m.wire("tab_idx_own2", psi_i.slice(p - 2, p - tb - 1));
    let osc_sc = m.reg("own_sc", 2 * s);
    m.mem_read(&clk, &sc_own, &osc_sc, own_idx.e());
    let osc_s2 = m.reg("own_s2", s);
    m.mem_read(&clk, &s2_rom, &osc_s2, own_idx2.e());
    let s_i = m.wire("s_i", osc_sc.slice(s - 1, 0).as_signed());
    let c_i = m.wire("c_i", osc_sc.slice(2 * s - 1, s).as_signed());
    let s2_i = m.wire("s2_i", osc_s2.e().as_signed());
    // the harmonics' own look-ups {cos nψ_i, sin nψ_i} (D1 address, D2 data)
    let harm_i: Vec<(Sig, Sig)> = harm_roms
        .iter()
        .map(|(nn, _, _, own)| {
            let t = times_const(&mut m, &format!("psi_i_x{nn}"), &psi_i, *nn);
            let idx = m.wire(&format!("tab_idx_own_{nn}"), t.slice(p - 1, p - tb));
            let q = m.reg(&format!("own_sc_{nn}"), 2 * s);
            m.mem_read(&clk, own, &q, idx.e());
            (
                m.wire(&format!("hcos{nn}_i"), q.slice(2 * s - 1, s).as_signed()),
                m.wire(&format!("hsin{nn}_i"), q.slice(s - 1, 0).as_signed()),
            )
        })
        .collect();

    // D1: the row's sums, its constants, the field value
    let hk = select(
        &seq_k.e(),
        &hold_c.iter().map(|h| h.e()).collect::<Vec<_>>(),
    );
    let hk = m.wire("hold_c_sel", hk);
    let hks = select(
        &seq_k.e(),
        &hold_s.iter().map(|h| h.e()).collect::<Vec<_>>(),
    );
    let hks = m.wire("hold_s_sel", hks);
    // the pairs stream: plus the row's partial sums from the earlier groups
    // (none for the first group's rows, whose words are never written, nor
    // in the field)
    let (hk, hks) = match &acc_own {
        Some(mem) => {
            let q = m.reg("acc_oq", 2 * acc_w);
            let z = m.reg("acc_oz", 1);
            m.always(
                &clk,
                vec![
                    set(&q, Expr::MemRead(mem.clone(), Box::new(seq_i.e()))),
                    set(&z, seq_i.e().lt(lit(a, sched.groups[0].rows as u64))),
                ],
            );
            let off = m.wire("acc_off", z.e().lor(fmode.e()));
            let pc = m.wire(
                "acc_part_c",
                Expr::mux(off.e(), slit(acc_w, 0), q.slice(acc_w - 1, 0).as_signed()),
            );
            let ps = m.wire(
                "acc_part_s",
                Expr::mux(
                    off.e(),
                    slit(acc_w, 0),
                    q.slice(2 * acc_w - 1, acc_w).as_signed(),
                ),
            );
            let pce = sx(&mut m, "acc_part_c_ext", pc.e(), accc_w);
            (
                m.wire("sum_c_row", hk.e().add(pce)),
                m.wire("sum_s_row", hks.e().add(ps.e())),
            )
        }
        None => (hk, hks),
    };
    // the field: (h << B') + Σ U x at U's scale, B' = input_bits + u_frac - frac
    let fsh = f.field_shift();
    // the coupling sums at W's scale: S - 1 + w_frac - frac
    let csh = f.coupling_shift();
    let c_rs = arith::round_shift(&mut m, "c_rs", &hk, csh);
    let c_sat = arith::sat(&mut m, "c_sat", &c_rs, d);
    let s_rs = arith::round_shift(&mut m, "s_rs", &hks, csh);
    let s_sat = arith::sat(&mut m, "s_sat", &s_rs, d);
    let h_shift = m.wire(
        "h_shifted",
        Expr::concat(vec![h_q.e().as_unsigned(), lit(fsh, 0)]).as_signed(),
    );
    let h_ext = sx(&mut m, "h_ext", h_shift.e(), accc_w);
    let f_sum = m.wire("f_sum", hk.e().add(h_ext));
    let f_rs = arith::round_shift(&mut m, "f_rs", &f_sum, fsh);
    let f_sat = arith::sat(&mut m, "f_sat", &f_rs, d);
    let h_as_b = sx(&mut m, "h_as_b", h_q.e(), d);
    // (in a single-layer network every oscillator is an output)
    let is_out = if out_base == 0 {
        lit(1, 1)
    } else {
        seq_i.e().ge(lit(a, out_base))
    };
    let is_out = m.wire("is_out", is_out);
    let oidx_w = sh.class_bits;
    let o_off = m.wire_partial(
        "o_off",
        seq_i.e().sub(lit(a, out_base)),
        "output index: only its low class-index bits address the target",
    );
    let o_sel = if oidx_w < a {
        o_off.slice(oidx_w - 1, 0)
    } else {
        o_off.e()
    };
    let o_sel = m.wire("o_sel", o_sel);
    let base1 = m.wire("base1", own_q.e().add(om_q.e()));
    // the harmonics' sums of the row, rounded like c and s (D1), into
    // c_n, s_n (D2)
    let mut harm_regs: Vec<Stmt> = Vec::new();
    let mut harm_cs: Vec<(Sig, Sig)> = Vec::new();
    for ((nn, _, _, _), hl) in harm_roms.iter().zip(&harm_lanes) {
        let hc = select(&seq_k.e(), &hl.iter().map(|x| x.2.e()).collect::<Vec<_>>());
        let hc = m.wire(&format!("hold_c{nn}_sel"), hc);
        let hs = select(&seq_k.e(), &hl.iter().map(|x| x.3.e()).collect::<Vec<_>>());
        let hs = m.wire(&format!("hold_s{nn}_sel"), hs);
        let crs = arith::round_shift(&mut m, &format!("hc{nn}_rs"), &hc, csh);
        let csat = arith::sat(&mut m, &format!("hc{nn}_sat"), &crs, d);
        let srs = arith::round_shift(&mut m, &format!("hs{nn}_rs"), &hs, csh);
        let ssat = arith::sat(&mut m, &format!("hs{nn}_sat"), &srs, d);
        let cr = m.reg_signed(&format!("hc{nn}_r"), d);
        let sr = m.reg_signed(&format!("hs{nn}_r"), d);
        harm_regs.push(set(&cr, csat.e()));
        harm_regs.push(set(&sr, ssat.e()));
        harm_cs.push((cr, sr));
    }
    let c_r = m.reg_signed("c_r", d);
    let s_r = m.reg_signed("s_r", d);
    // row records D2 .. D6
    let rv: Vec<Sig> = (2..=6)
        .map(|k| m.reg_init(&format!("r{k}_v"), 1, false, Some(0)))
        .collect();
    let ri: Vec<Sig> = (2..=6).map(|k| m.reg(&format!("r{k}_i"), a)).collect();
    let rb: Vec<Sig> = (2..=6).map(|k| m.reg(&format!("r{k}_bank"), 1)).collect();
    let rbase: Vec<Sig> = (2..=6).map(|k| m.reg(&format!("r{k}_base"), p)).collect();
    // the reference's phase after the row's step (for the observation port
    // of relative phases; synthesis drops it with the port)
    let rphi: Vec<Sig> = (2..=6).map(|k| m.reg(&format!("r{k}_phi"), p)).collect();
    let r2_out = m.reg("r2_out", 1);
    let r3_out = m.reg("r3_out", 1);
    let r2_t = m.reg("r2_t", 1);
    let r2_k = m.reg_signed("r2_k", wb);
    let r2_b = m.reg_signed("r2_b", d);

    // D2: c s_i, s c_i, β e
    m.comment("drive: -c s_i + s c_i - b s_i - K s2_i + g s_i, g = sat(round_shift(beta e))");
    let amp = f.amp();
    // (a learning memory's nudge is the field β t: no cos θ term)
    let e_ci = if hw.learn.as_ref().is_some_and(|l| l.pattern) {
        slit(s + 1, 0)
    } else {
        sx(&mut m, "e_ci", c_i.e(), s + 1)
    };
    let e_err = m.wire(
        "e_err",
        Expr::mux(
            r2_t.e(),
            e_ci.clone().sub(slit(s + 1, amp)),
            e_ci.add(slit(s + 1, amp)),
        ),
    );
    // Two multipliers serve two products each: X does c s_i in a row's D2
    // and b s_i in its D3, Y does s c_i and K s2_i. Rows are at least two
    // cycles apart, so no cycle is the D2 of one row and the D3 of another.
    let mx = m.reg_signed("mul_x", d + s);
    let my = m.reg_signed("mul_y", d + s);
    let p5 = m.reg_signed("p_be", wb + s + 1);
    let s_i3 = m.reg_signed("s_i3", s);
    let s2_i3 = m.reg_signed("s2_i3", s);
    let k3 = m.reg_signed("k3", wb);
    let b3 = m.reg_signed("b3", d);
    // D3: b s_i, K s2_i, g, p2 - p1
    let g_r = m.reg_signed("g_r", d);
    let s_i4 = m.reg_signed("s_i4", s);
    let q1 = m.reg_signed("q1", dacc_w);
    let g_rs = arith::round_shift(&mut m, "g_rs", &p5, s - 1);
    let g_sat = arith::sat(&mut m, "g_sat", &g_rs, d);
    let xe = sx(&mut m, "mul_x_ext", mx.e(), dacc_w);
    let ye = sx(&mut m, "mul_y_ext", my.e(), dacc_w);
    let k3d = sx(&mut m, "k3_d", k3.e(), d);
    let x_a = m.wire("mul_x_a", Expr::mux(rv[0].e(), c_r.e(), b3.e()));
    let x_b = m.wire("mul_x_b", Expr::mux(rv[0].e(), s_i.e(), s_i3.e()));
    let y_a = m.wire("mul_y_a", Expr::mux(rv[0].e(), s_r.e(), k3d));
    let y_b = m.wire("mul_y_b", Expr::mux(rv[0].e(), c_i.e(), s2_i3.e()));
    // D4: g s_i, q
    let p6 = m.reg_signed("p_gs", d + s);
    let q_r = m.reg_signed("q_r", dacc_w);
    // D5: d
    let d_r = m.reg_signed("drive", dacc_w);
    let p6e = sx(&mut m, "p_gs_ext", p6.e(), dacc_w);
    // the harmonics' term: D2 the products c_n sin nψ_i and s_n cos nψ_i
    // (logic multipliers), D3 t_n = s_n cos nψ_i − c_n sin nψ_i and the exact
    // Σ a_n t_n, D4 its rounding by harm_frac saturated to D + S + 1 bits,
    // added to the drive in D5
    let harm_ext = if harm.is_empty() {
        None
    } else {
        m.comment(
            "harmonics: sat(round_shift(sum a_n (s_n cos n psi_i - c_n sin n psi_i), harm_frac))",
        );
        let tbits = f.harm_t_bits();
        let hw_ = f.harm_acc_bits(harm.len());
        let mut terms: Vec<Expr> = Vec::new();
        for (((nn, an, _, _), (cr, sr)), (ci, si)) in harm_roms.iter().zip(&harm_cs).zip(&harm_i) {
            let pc = mul_logic(&mut m, &format!("hmul_c{nn}"), cr, si);
            let ps = mul_logic(&mut m, &format!("hmul_s{nn}"), sr, ci);
            let pcr = m.reg_signed(&format!("hprod_c{nn}"), d + s);
            let psr = m.reg_signed(&format!("hprod_s{nn}"), d + s);
            harm_regs.push(set(&pcr, pc.e()));
            harm_regs.push(set(&psr, ps.e()));
            let t = m.wire(&format!("harm_t{nn}"), psr.sext(tbits).sub(pcr.sext(tbits)));
            terms.push(mul_const(&mut m, &format!("harm_a{nn}"), &t, *an, hw_));
        }
        let hsum = m.wire(
            "harm_sum",
            terms
                .into_iter()
                .reduce(|x, y| x.add(y))
                .expect("a harmonic"),
        );
        let hacc = m.reg_signed("harm_acc", hw_);
        harm_regs.push(set(&hacc, hsum.e()));
        let hrs = arith::round_shift(&mut m, "harm_rs", &hacc, hw.harm_frac);
        let hsat = arith::sat(&mut m, "harm_sat", &hrs, tbits);
        let hr = m.reg_signed("harm_r", tbits);
        harm_regs.push(set(&hr, hsat.e()));
        m.always(&clk, std::mem::take(&mut harm_regs));
        Some(sx(&mut m, "harm_ext", hr.e(), dacc_w))
    };
    let d_next = match harm_ext {
        Some(h) => q_r.e().add(p6e).add(h),
        None => q_r.e().add(p6e),
    };
    // D6: the new phase
    let d_rs = arith::round_shift(&mut m, "d_rs", &d_r, f.step_shift);
    let d_sat = arith::sat(&mut m, "d_sat", &d_rs, p);
    let new_th = m.wire("theta_new", rbase[4].e().add(d_sat.e().as_unsigned()));
    m.always(
        &clk,
        vec![
            // D1 -> D2
            set(&c_r, c_sat.e()),
            set(&s_r, s_sat.e()),
            set(&ri[0], seq_i.e()),
            set(&rb[0], sbank.e().not()),
            set(&rbase[0], base1.e()),
            set(&rphi[0], sphi.e().add(omega0.clone())),
            set(&r2_out, is_out.e()),
            set(&r2_t, target.index(o_sel.e())),
            set(&r2_k, k_q.e()),
            set(&r2_b, b_q.e()),
            // D2 -> D3 (c s_i, s c_i) and D3 -> D4 (b s_i, K s2_i)
            set(&mx, x_a.e().mul(x_b.e())),
            set(&my, y_a.e().mul(y_b.e())),
            // D2 -> D3
            set(&p5, beta.e().mul(e_err.e())),
            set(&s_i3, s_i.e()),
            set(&s2_i3, s2_i.e()),
            set(&k3, r2_k.e()),
            set(&b3, r2_b.e()),
            set(&r3_out, r2_out.e()),
            // D3 -> D4
            set(&g_r, Expr::mux(r3_out.e(), g_sat.e(), slit(d, 0))),
            set(&s_i4, s_i3.e()),
            set(&q1, ye.clone().sub(xe.clone())),
            // D4 -> D5
            set(&p6, g_r.e().mul(s_i4.e())),
            set(&q_r, q1.e().sub(xe).sub(ye)),
            // D5 -> D6
            set(&d_r, d_next),
        ],
    );
    let mut shift = Vec::new();
    for k in 1..5 {
        shift.push(set(&ri[k], ri[k - 1].e()));
        shift.push(set(&rb[k], rb[k - 1].e()));
        shift.push(set(&rbase[k], rbase[k - 1].e()));
        shift.push(set(&rphi[k], rphi[k - 1].e()));
    }
    m.always(&clk, shift);

    // ---------------- memory write ports ----------------
    let wr_v = &rv[4];
    let ph_we = m.wire("ph_we", init_v.e().lor(wr_v.e()));
    let ph_wa = m.wire(
        "ph_waddr",
        Expr::mux(
            init_v.e(),
            Expr::concat(vec![bank.e(), init_i.e()]),
            Expr::concat(vec![rb[4].e(), ri[4].e()]),
        ),
    );
    // theta0 is read for init_i one cycle after its address
    let th0_d = m.wire("theta0_d", th0_q.e());
    let ph_wd = m.wire("ph_wdata", Expr::mux(init_v.e(), th0_d.e(), new_th.e()));
    m.always(
        &clk,
        vec![if_(
            ph_we.e(),
            vec![
                set_mem(&ph_str, ph_wa.e(), ph_wd.e()),
                set_mem(&ph_own, ph_wa.e(), ph_wd.e()),
            ],
        )],
    );
    // the pins: the top bit of the phases of oscillators pin_first .. +pins,
    // each updated when its phase is written (so after a step they show that
    // step's phases)
    let osc_pins = if hw.pins > 0 {
        let k = hw.pins as u32;
        let r = m.reg_init("osc_pins", k, false, Some(0));
        let widx = m.wire("ph_widx", Expr::mux(init_v.e(), init_i.e(), ri[4].e()));
        let top = m.wire("ph_wtop", ph_wd.bit(p - 1));
        let bits: Vec<Expr> = (0..hw.pins)
            .rev()
            .map(|q| {
                let hit = ph_we
                    .e()
                    .land(widx.e().eq(lit(a, (hw.pin_first + q) as u64)));
                Expr::mux(hit, top.e(), r.bit(q as u32))
            })
            .collect();
        m.always(&clk, vec![set(&r, Expr::concat(bits))]);
        Some(r)
    } else {
        None
    };
    let b_field = m.wire("b_field_we", d1.e().land(fmode.e()));
    let b_we = m.wire("b_we", init_v.e().lor(b_field.e()));
    let b_wa = m.wire("b_waddr", Expr::mux(init_v.e(), init_i.e(), seq_i.e()));
    let b_wd = m.wire("b_wdata", Expr::mux(init_v.e(), h_as_b, f_sat.e()));
    m.always(
        &clk,
        vec![if_(
            b_we.e(),
            vec![set_mem(&b_mem, b_wa.e(), b_wd.e().as_unsigned())],
        )],
    );

    // ---------------- readout ----------------
    let best = m.reg_signed("best", s);
    let best_o = m.reg("best_o", sh.class_bits);
    let ckw = sh.class_bits.max(clog2(sh.classes as u64 + 1));
    let cls_n = m.reg("cls_n", ckw);
    let cls_k = m.reg("cls_k", ckw);
    let cv1 = m.reg_init("cv1", 1, false, Some(0));
    let cv2 = m.reg_init("cv2", 1, false, Some(0));

    // ---------------- the FSM and the streams ----------------
    let go = |v: u64| set(&st, lit(STATE_BITS, v));
    let zero = |sg: &Sig| {
        if sg.signed {
            set(sg, slit(sg.width, 0))
        } else {
            set(sg, lit(sg.width, 0))
        }
    };
    let inc = |sg: &Sig| set(sg, sg.e().add(lit(sg.width, 1)));
    let one = |sg: &Sig| set(sg, lit(1, 1));
    let clr = |sg: &Sig| set(sg, lit(1, 0));

    let idle = vec![
        clr(&done),
        if_(
            start.e(),
            vec![
                one(&busy),
                set(&beta, beta_in.e()),
                set(&target, target_in.e()),
                set(&steps_q, steps_in.e()),
                zero(&ii),
                if_else(
                    init.e(),
                    vec![zero(&phi), zero(&sphi), go(S_INIT)],
                    vec![go(S_GO)],
                ),
            ],
        ),
    ];
    let init_s = vec![
        inc(&ii),
        if_(
            ii.e().eq(lit(a, n as u64 - 1)),
            vec![
                zero(&ue),
                zero(&fk),
                one(&fissuing),
                one(&fmode),
                zero(&seq_i),
                one(&after_last),
                go(S_FIELD),
            ],
        ),
    ];
    let field_s = vec![if_(
        fissuing
            .e()
            .not()
            .land(fv1.e().not())
            .land(fv2.e().not())
            .land(seq_busy.e().not())
            .land(init_v.e().not()),
        vec![go(S_GO)],
    )];
    let mut go_s = vec![
        clr(&fmode),
        one(&after_last),
        set(&seq_i, lit(a, first_row)),
        set(&sbank, bank.e()),
        set(&ibank, bank.e()),
        set(&sphi, phi.e()),
        set(&iphi, phi.e()),
        zero(&e),
    ];
    go_s.extend(dense_restart.clone());
    go_s.extend(vec![
        set(&isteps, steps_q.e()),
        set(&wsteps, steps_q.e()),
        if_else(
            steps_q.e().eq(lit(sh.step_bits, 0)),
            vec![go(S_CLS)],
            vec![one(&issuing), go(S_RUN)],
        ),
        set(&cls_o, lit(a, out_base)),
        zero(&cls_n),
        zero(&cls_k),
        set(&best, slit(s, -(1i64 << (s - 1)))),
        zero(&best_o),
    ]);
    let run_s = vec![if_(wsteps.e().eq(lit(sh.step_bits, 0)), vec![go(S_CLS)])];
    let cls_k_low = if ckw > sh.class_bits {
        cls_k.slice(sh.class_bits - 1, 0)
    } else {
        cls_k.e()
    };
    let cls_s = vec![
        set(&cv1, cls_n.e().lt(lit(ckw, sh.classes as u64))),
        if_(
            cls_n.e().lt(lit(ckw, sh.classes as u64)),
            vec![inc(&cls_o), inc(&cls_n)],
        ),
        if_(
            cv2.e(),
            vec![
                // the first output is always taken, then strictly greater
                if_(
                    c_i.e().gt(best.e()).lor(cls_k.e().eq(lit(ckw, 0))),
                    vec![set(&best, c_i.e()), set(&best_o, cls_k_low)],
                ),
                inc(&cls_k),
                if_(
                    cls_k.e().eq(lit(ckw, sh.classes as u64 - 1)),
                    vec![go(S_DONE)],
                ),
            ],
        ),
    ];
    let done_s = vec![set(&class, best_o.e()), clr(&busy), one(&done), go(S_IDLE)];

    // stream issue (coupling)
    let issue = if_(
        issuing.e(),
        vec![if_else(
            e.e().eq(lit(ea, nw as u64 - 1)),
            [
                vec![zero(&e)],
                dense_restart.clone(),
                vec![
                    set(&ibank, ibank.e().not()),
                    set(&iphi, iphi.e().add(omega0.clone())),
                    set(&isteps, isteps.e().sub(lit(sh.step_bits, 1))),
                    if_(isteps.e().eq(lit(sh.step_bits, 1)), vec![clr(&issuing)]),
                ],
            ]
            .concat(),
            [vec![inc(&e)], dense_advance].concat(),
        )],
    );
    let stream = vec![
        set(&v1, issuing.e()),
        set(&bank1, ibank.e()),
        set(&phi1, iphi.e()),
        set(&phi2, phi1.e()),
        set(&v2, v1.e()),
        set(&last2, last1.e()),
        set(&mask2, mask1.e()),
        set(&v3, v2.e()),
        set(&last3, last2.e()),
        set(&mask3, mask2.e()),
        set(&v4, v3.e()),
        set(&last4, last3.e()),
        set(&mask4, mask3.e()),
    ];
    let mut lane_regs = Vec::new();
    for l in 0..lanes {
        // a writable W may hold anything where a word has no entry for the
        // lane (bubbles, non-neighbours): only entries reach the products
        let wl = if Schedule::writable(hw, Block::W) {
            Expr::mux(mask1.bit(l as u32), wq[l].e().as_signed(), slit(wb, 0))
        } else {
            wq[l].e().as_signed()
        };
        lane_regs.push(set(&w2[l], wl));
        lane_regs.push(set(&w3[l], w2[l].e()));
    }
    m.always(&clk, lane_regs);
    // stream issue (field)
    let fissue = if_(
        fissuing.e(),
        vec![
            inc(&ue),
            if_else(
                fk.e().eq(lit(kb, fl as u64 - 1)),
                vec![zero(&fk)],
                vec![inc(&fk)],
            ),
            if_(ue.e().eq(lit(ua, nu as u64 - 1)), vec![clr(&fissuing)]),
        ],
    );
    let mut fstream = vec![
        set(&fv1, fissuing.e()),
        set(&flast1, fk.e().eq(lit(kb, fl as u64 - 1))),
        set(&fv2, fv1.e()),
        set(&flast2, flast1.e()),
    ];
    if let Some(fp) = &fpad1 {
        fstream.push(set(fp, fk.e().ge(lit(kb, ni as u64))));
    }
    // lane sums
    let mut accum = Vec::new();
    let mut latch_regs = Vec::new();
    for l in 0..lanes {
        accum.push(set(&acc_c[l], sum_c[l].e()));
        accum.push(set(&acc_s[l], sum_s[l].e()));
        latch_regs.push(set(&hold_c[l], sum_c[l].e()));
        latch_regs.push(set(&hold_s[l], sum_s[l].e()));
    }
    for hl in &harm_lanes {
        for (ac, as_, hc, hs, sc_, ss_) in hl {
            accum.push(set(ac, sc_.e()));
            accum.push(set(as_, ss_.e()));
            latch_regs.push(set(hc, sc_.e()));
            latch_regs.push(set(hs, ss_.e()));
        }
    }
    accum.push(set(&after_last, acc_last.e()));
    accum.push(if_(acc_last.e(), latch_regs));
    let sums = if_(acc_v.e(), accum);
    // sequencer
    let seq = vec![
        if_else(
            latch.e(),
            vec![
                if_(
                    seq_busy.e().land(d1.e().land(row_last.e()).not()),
                    vec![one(&fault)],
                ),
                one(&seq_busy),
                clr(&seq_ph),
                zero(&seq_k),
            ],
            vec![
                if_(d0.e(), vec![one(&seq_ph)]),
                if_(
                    d1.e(),
                    vec![
                        clr(&seq_ph),
                        if_else(row_last.e(), vec![clr(&seq_busy)], vec![inc(&seq_k)]),
                    ],
                ),
            ],
        ),
        if_(
            d1.e(),
            vec![
                if_else(
                    seq_i.e().eq(lit(a, n as u64 - 1)),
                    vec![zero(&seq_i)],
                    vec![inc(&seq_i)],
                ),
                if_(
                    fmode.e().not().land(seq_i.e().eq(lit(a, end_row))),
                    vec![
                        set(&sbank, sbank.e().not()),
                        set(&sphi, sphi.e().add(omega0.clone())),
                    ],
                ),
            ],
        ),
        set(&rv[0], d1.e().land(fmode.e().not())),
        set(&rv[1], rv[0].e()),
        set(&rv[2], rv[1].e()),
        set(&rv[3], rv[2].e()),
        set(&rv[4], rv[3].e()),
    ];
    // the write stage ends a step after its last oscillator
    let wstage = vec![
        set(&step_pulse, lit(1, 0)),
        if_(
            wr_v.e().land(ri[4].e().eq(lit(a, end_row))),
            vec![
                one(&step_pulse),
                set(&bank, bank.e().not()),
                set(&phi, phi.e().add(omega0.clone())),
                set(&wsteps, wsteps.e().sub(lit(sh.step_bits, 1))),
            ],
        ),
    ];

    let arms: Vec<(Vec<Expr>, Vec<Stmt>)> = vec![
        (S_IDLE, idle),
        (S_INIT, init_s),
        (S_FIELD, field_s),
        (S_GO, go_s),
        (S_RUN, run_s),
        (S_CLS, cls_s),
        (S_DONE, done_s),
    ]
    .into_iter()
    .map(|(v, b)| (vec![lit(STATE_BITS, v)], b))
    .collect();
    let mut body = vec![
        set(&init_v, in_state(S_INIT)),
        set(&init_i, ii.e()),
        set(&cv2, cv1.e()),
        clr(&cv1),
        issue,
        fissue,
        sums,
    ];
    body.extend(stream);
    body.extend(scatter_regs);
    body.extend(fstream);
    body.extend(seq);
    body.extend(wstage);
    body.push(case(st.e(), arms, vec![go(S_IDLE)]));
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                go(S_IDLE),
                clr(&busy),
                clr(&done),
                clr(&issuing),
                clr(&fissuing),
                clr(&v1),
                clr(&v2),
                clr(&v3),
                clr(&v4),
                clr(&fv1),
                clr(&fv2),
                clr(&seq_busy),
                clr(&rv[0]),
                clr(&rv[1]),
                clr(&rv[2]),
                clr(&rv[3]),
                clr(&rv[4]),
                clr(&init_v),
                clr(&cv1),
                clr(&cv2),
                clr(&bank),
                clr(&step_pulse),
                clr(&fault),
                clr(&fmode),
                one(&after_last),
                zero(&phi),
                zero(&sphi),
            ]
            .into_iter()
            .chain(scatter_rst)
            .collect(),
            body,
        )],
    );

    // ---------------- outputs ----------------
    m.output("o_busy", busy.e());
    m.output("o_done", done.e());
    m.output("o_class", class.e());
    // phases leave the device relative to the reference
    let rd_rel = m.wire("rd_phase_rel", own_q.e().sub(phi.e()));
    m.output("o_rd_phase", rd_rel.e());
    m.output("o_step", step_pulse.e());
    m.output("o_ph_we", wr_v.e());
    m.output("o_ph_idx", ri[4].e());
    // the new phase relative to the reference (what the twin's `theta`
    // holds), and as the accumulator holds it (absolute frame)
    m.output("o_ph_val", new_th.e().sub(rphi[4].e()));
    m.output("o_ph_abs", new_th.e());
    // efficiency counters for testbenches: coupling entries (j, W_ij)
    // accumulated this cycle, and whether the cycle belongs to the coupling
    // loop (the stream issues a word, an entry or a bubble)
    let pop = (0..lanes as u32)
        .map(|l| mask4.slice(l, l).zext(mcw))
        .reduce(|x, y| x.add(y))
        .expect("at least one lane");
    // (a pairs stream's scatter words make each lane's product twice)
    let (pop, mw) = match &sv4 {
        Some(sv) => {
            let p = m.wire("macs_pop", pop);
            (
                Expr::mux(
                    sv.e(),
                    Expr::concat(vec![p.e(), lit(1, 0)]),
                    p.e().zext(mcw + 1),
                ),
                mcw + 1,
            )
        }
        None => (pop, mcw),
    };
    m.output(
        "o_macs",
        Expr::mux(v4.e().land(fmode.e().not()), pop, lit(mw, 0)),
    );
    m.output("o_loop", issuing.e());
    // a schedule error: a group's sums arrived while the sequencer was busy
    m.output("o_fault", fault.e());
    if let Some(r) = &osc_pins {
        m.output("o_osc", r.e());
    }
    if pr_addr.is_some() {
        // the words read at i_pr_addr (lane L-1 first; {h, K, ω0 + δω, θ0})
        let cat = |q: &[Sig]| Expr::concat(q.iter().rev().map(|x| x.e()).collect());
        m.output("o_pr_w", cat(&wq));
        m.output("o_pr_u", cat(&uq));
        m.output("o_pr_o", osc_q.slice(ow - 1, 0));
    }
    m
}

#[cfg(test)]
mod tests {
    use phasegen_sim::config::Config;
    use phasegen_sim::onn::net::Params;
    use phasegen_sim::twin::quant::quantize;

    #[test]
    fn generates_default_core() {
        let cfg = Config::default_config();
        let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
        let id = crate::design_id(&cfg.hash_hex(), &hw);
        let files = crate::generate_design(&cfg.hash_hex(), id, &hw, 12_000_000, 115_200);
        assert!(files[0].text.contains("module pg_core"));
    }
}
