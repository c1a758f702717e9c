//! AXI4-Stream byte ports for `pg_top` (`hardware.interface = "axis"`), in
//! place of the UART: the same frames and commands (docs/protocol.md), one
//! byte per transfer (`tdata` 8 bits, no `tlast`, `tkeep` or `tuser`).
//!
//! - `pg_axis_rx` takes a byte when `s_axis_tvalid && s_axis_tready` and
//!   hands it to the frame receiver as the UART receiver would. `tready`
//!   then stays low for `gap - 1` cycles, so bytes reach the receiver at
//!   most one per `gap` cycles: `gap` is the UART's byte time at the
//!   config's baud (10 bits of `cpb` clocks), the timing every protocol
//!   test proves the receiver at. It has the UART receiver's ports (its
//!   framing-error output is 0: a stream has no stop bits).
//! - `pg_axis_tx` holds a byte from the transmitter on `m_axis_tdata` with
//!   `m_axis_tvalid` high until the sink takes it (`m_axis_tready`), and is
//!   ready for the next one the cycle after: the sink sets the pace.

use crate::vlog::{if_, if_else, lit, set, Module};
use phasegen_sim::twin::qformat::clog2;

/// Cycles per received byte for `cpb` clocks per bit.
pub fn gap(cpb: u64) -> u64 {
    10 * cpb
}

pub fn rx(cpb: u64) -> Module {
    let g = gap(cpb);
    let cw = clog2(g);
    let mut m = Module::new("pg_axis_rx");
    m.doc(&format!(
        "pg_axis_rx: AXI4-Stream byte sink, at most one byte per {g} cycles."
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let tvalid = m.input("i_tvalid", 1);
    let tdata = m.input("i_tdata", 8);
    let wait = m.reg_init("ax_wait", cw, false, Some(0));
    let valid = m.reg_init("ax_valid", 1, false, Some(0));
    let data = m.reg("ax_data", 8);
    let ready = wait.e().eq(lit(cw, 0));
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![set(&wait, lit(cw, 0)), set(&valid, lit(1, 0))],
            vec![
                set(&valid, lit(1, 0)),
                if_else(
                    ready.clone(),
                    vec![if_(
                        tvalid.e(),
                        vec![
                            set(&valid, lit(1, 1)),
                            set(&data, tdata.e()),
                            set(&wait, lit(cw, g - 1)),
                        ],
                    )],
                    vec![set(&wait, wait.e().sub(lit(cw, 1)))],
                ),
            ],
        )],
    );
    m.output("o_tready", ready);
    m.output("o_valid", valid.e());
    m.output("o_data", data.e());
    m.output("o_frame_err", lit(1, 0));
    m
}

pub fn tx() -> Module {
    let mut m = Module::new("pg_axis_tx");
    m.doc("pg_axis_tx: AXI4-Stream byte source, held until the sink takes it.");
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let valid = m.input("i_valid", 1);
    let data = m.input("i_data", 8);
    let tready = m.input("i_tready", 1);
    let tvalid = m.reg_init("ax_tvalid", 1, false, Some(0));
    let tdata = m.reg("ax_tdata", 8);
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![set(&tvalid, lit(1, 0))],
            vec![if_else(
                tvalid.e(),
                vec![if_(tready.e(), vec![set(&tvalid, lit(1, 0))])],
                vec![if_(
                    valid.e(),
                    vec![set(&tvalid, lit(1, 1)), set(&tdata, data.e())],
                )],
            )],
        )],
    );
    m.output("o_tvalid", tvalid.e());
    m.output("o_tdata", tdata.e());
    m.output("o_ready", tvalid.e().not());
    m
}
