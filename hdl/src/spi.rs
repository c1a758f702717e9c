//! SPI master (`pg_spi_<bus>`): one chip select, any SPI mode, SCLK =
//! clock / (2 · div), frames of `bits` bits, MSB first, and `lines` data
//! inputs shifted in side by side (ADCs sharing SCLK and CS; with 0 lines
//! the master only writes and has no `i_miso`, `o_rx`, `o_rx_valid`).
//!
//! A chip-select period carries one or more words (a daisy chain): the user
//! offers a word with `i_valid` (and `i_last` on the last one), the master
//! takes it (`o_take` for one cycle) and asks for the next only when the
//! current one is shifted out, pausing SCLK at its idle level meanwhile.
//! Timing, in clock cycles (what `r2nn::ctl::SpiPlan::cycles` counts): the
//! first SCLK edge `div` after the chip select falls, an edge every `div`,
//! the chip select rises `div` after the last edge and stays high at least
//! `div`. Modes with CPHA = 1 drive MOSI at the leading edge and sample at
//! the trailing one; CPHA = 0 drives before the leading edge (at the load
//! and at each trailing edge) and samples at the leading one. The reference
//! model of the pins is `phasegen_sim::r2nn::spi::SpiSlave` (a part's view
//! of them), against which `tests/ctl_cosim.rs` runs this module.

use crate::vlog::{if_, if_else, lit, set, Expr, Module};
use phasegen_sim::r2nn::ctl::{clog2, SpiPlan};

const IDLE: u64 = 0;
const SHIFT: u64 = 1;
const WAIT: u64 = 2;
const TAIL: u64 = 3;
const GAP: u64 = 4;

/// The module name of a bus's master.
pub fn name(p: &SpiPlan) -> String {
    format!("pg_spi_{}", p.bus)
}

pub fn master(p: &SpiPlan, lines: u32) -> Module {
    let bits = p.frame_bits;
    assert!((2..=64).contains(&bits), "SPI frames of {bits} bits");
    assert!(p.div >= 1 && p.mode <= 3);
    let cpol = (p.mode >> 1) as u64;
    let cpha = p.mode & 1 == 1;
    let cw = clog2(p.div).max(1);
    let bw = clog2(bits as u64 + 1);
    let mut m = Module::new(&name(p));
    m.doc(&format!(
        "{}: SPI master of bus {}, mode {}, SCLK = clock / {}, {bits}-bit words, {lines} data input(s).",
        name(p),
        p.bus,
        p.mode,
        2 * p.div
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let valid = m.input("i_valid", 1);
    let word = m.input("i_word", bits);
    let last_in = m.input("i_last", 1);
    let miso = (lines > 0).then(|| m.input("i_miso", lines));
    let st = m.reg_init("spi_state", 3, false, Some(IDLE));
    let cnt = m.reg("spi_cnt", cw);
    let ph = m.reg("spi_phase", 1);
    let left = m.reg("spi_left", bw);
    let sh = m.reg("spi_shift", bits);
    let last = m.reg("spi_last", 1);
    let sclk = m.reg_init("spi_sclk", 1, false, Some(cpol));
    let mosi = m.reg_init("spi_mosi", 1, false, Some(0));
    let cs_n = m.reg_init("spi_cs_n", 1, false, Some(1));
    let take = m.reg_init("spi_take", 1, false, Some(0));
    let rxv = (lines > 0).then(|| m.reg_init("spi_rx_valid", 1, false, Some(0)));
    let rx: Vec<_> = (0..lines)
        .map(|l| m.reg(&format!("spi_rx{l}"), bits))
        .collect();
    let zero = cnt.e().eq(lit(cw, 0));
    let reload = set(&cnt, lit(cw, p.div - 1));
    let dec = set(&cnt, cnt.e().sub(lit(cw, 1)));
    // load a word: CPHA = 0 puts its MSB on MOSI now, CPHA = 1 at the
    // first leading edge
    let load = |m_stmts: &mut Vec<_>| {
        m_stmts.push(set(&take, lit(1, 1)));
        m_stmts.push(set(&last, last_in.e()));
        m_stmts.push(set(&left, lit(bw, bits as u64)));
        m_stmts.push(set(&ph, lit(1, 0)));
        m_stmts.push(reload.clone());
        if cpha {
            m_stmts.push(set(&sh, word.e()));
        } else {
            m_stmts.push(set(&mosi, word.bit(bits - 1)));
            m_stmts.push(set(
                &sh,
                Expr::concat(vec![word.slice(bits - 2, 0), lit(1, 0)]),
            ));
        }
    };
    let sample: Vec<_> = rx
        .iter()
        .enumerate()
        .map(|(l, r)| {
            set(
                r,
                Expr::concat(vec![
                    r.slice(bits - 2, 0),
                    miso.as_ref().expect("a data input per line").bit(l as u32),
                ]),
            )
        })
        .collect();
    let drive = vec![
        set(&mosi, sh.bit(bits - 1)),
        set(&sh, Expr::concat(vec![sh.slice(bits - 2, 0), lit(1, 0)])),
    ];
    let (lead_do, trail_do) = if cpha {
        (drive.clone(), sample.clone())
    } else {
        (sample.clone(), drive.clone())
    };
    let mut on_lead = vec![
        set(&sclk, lit(1, 1 - cpol)),
        set(&ph, lit(1, 1)),
        reload.clone(),
    ];
    on_lead.extend(lead_do);
    let mut next_word = vec![];
    load(&mut next_word);
    let mut on_trail = vec![
        set(&sclk, lit(1, cpol)),
        set(&ph, lit(1, 0)),
        reload.clone(),
    ];
    on_trail.extend(trail_do);
    on_trail.push(set(&left, left.e().sub(lit(bw, 1))));
    let mut word_end = vec![];
    if let Some(v) = &rxv {
        word_end.push(set(v, lit(1, 1)));
    }
    word_end.push(if_else(
        last.e(),
        vec![set(&st, lit(3, TAIL))],
        vec![if_else(
            valid.e(),
            next_word.clone(),
            vec![set(&st, lit(3, WAIT))],
        )],
    ));
    on_trail.push(if_(left.e().eq(lit(bw, 1)), word_end));
    let mut start = vec![set(&cs_n, lit(1, 0)), set(&st, lit(3, SHIFT))];
    load(&mut start);
    let mut resume = vec![set(&st, lit(3, SHIFT))];
    load(&mut resume);
    let mut on_rst = vec![
        set(&st, lit(3, IDLE)),
        set(&sclk, lit(1, cpol)),
        set(&cs_n, lit(1, 1)),
        set(&take, lit(1, 0)),
    ];
    let mut body = vec![set(&take, lit(1, 0))];
    if let Some(v) = &rxv {
        on_rst.push(set(v, lit(1, 0)));
        body.push(set(v, lit(1, 0)));
    }
    body.push(crate::vlog::case(
        st.e(),
        vec![
            (vec![lit(3, IDLE)], vec![if_(valid.e(), start)]),
            (
                vec![lit(3, SHIFT)],
                vec![if_else(
                    zero.clone(),
                    vec![if_else(ph.e(), on_trail, on_lead)],
                    vec![dec.clone()],
                )],
            ),
            (vec![lit(3, WAIT)], vec![if_(valid.e(), resume)]),
            (
                vec![lit(3, TAIL)],
                vec![if_else(
                    zero.clone(),
                    vec![set(&cs_n, lit(1, 1)), reload.clone(), set(&st, lit(3, GAP))],
                    vec![dec.clone()],
                )],
            ),
        ],
        vec![if_else(zero, vec![set(&st, lit(3, IDLE))], vec![dec])],
    ));
    m.always(&clk, vec![if_else(rst.e(), on_rst, body)]);
    m.output("o_take", take.e());
    m.output("o_busy", st.e().ne(lit(3, IDLE)));
    if let Some(v) = &rxv {
        m.output("o_rx_valid", v.e());
        let rx_all = if lines == 1 {
            rx[0].e()
        } else {
            Expr::concat(rx.iter().rev().map(|r| r.e()).collect())
        };
        m.output("o_rx", rx_all);
    }
    m.output("o_sclk", sclk.e());
    m.output("o_mosi", mosi.e());
    m.output("o_cs_n", cs_n.e());
    m
}
