//! 8N1 UART receiver and transmitter, `cpb` clocks per bit.
//!
//! The receiver synchronizes the line with two flip-flops, confirms the start
//! bit at its middle, samples each data bit at its middle (LSB first) and
//! drops a byte whose stop bit is low (counted on `o_frame_err`).

use crate::vlog::{case, if_, if_else, lit, set, Expr, Module};
use phasegen_sim::twin::qformat::clog2;

/// Clocks per bit for a clock and baud rate (rounded).
pub fn clocks_per_bit(clock_hz: u64, baud: u64) -> u64 {
    (clock_hz + baud / 2) / baud
}

pub fn rx(cpb: u64) -> Module {
    assert!(cpb >= 4, "UART needs at least 4 clocks per bit, got {cpb}");
    let cw = clog2(cpb + 1);
    let mut m = Module::new("pg_uart_rx");
    m.doc(&format!("pg_uart_rx: 8N1 receiver, {cpb} clocks per bit."));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let rxd = m.input("i_rx", 1);
    let s1 = m.reg_init("rx_s1", 1, false, Some(1));
    let s2 = m.reg_init("rx_s2", 1, false, Some(1));
    let st = m.reg_init("rx_state", 2, false, Some(0));
    let cnt = m.reg("rx_cnt", cw);
    let bit = m.reg("rx_bit", 3);
    let sh = m.reg("rx_shift", 8);
    let valid = m.reg_init("rx_valid", 1, false, Some(0));
    let ferr = m.reg_init("rx_ferr", 1, false, Some(0));
    let data = m.reg("rx_data", 8);
    let zero = cnt.e().eq(lit(cw, 0));
    let dec = set(&cnt, cnt.e().sub(lit(cw, 1)));
    let full = set(&cnt, lit(cw, cpb - 1));
    m.always(&clk, vec![set(&s1, rxd.e()), set(&s2, s1.e())]);
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![
                set(&st, lit(2, 0)),
                set(&valid, lit(1, 0)),
                set(&ferr, lit(1, 0)),
            ],
            vec![
                set(&valid, lit(1, 0)),
                set(&ferr, lit(1, 0)),
                case(
                    st.e(),
                    vec![
                        (
                            vec![lit(2, 0)],
                            vec![if_(
                                s2.e().not(),
                                vec![set(&cnt, lit(cw, cpb / 2 - 1)), set(&st, lit(2, 1))],
                            )],
                        ),
                        (
                            vec![lit(2, 1)],
                            vec![if_else(
                                zero.clone(),
                                vec![if_else(
                                    s2.e().not(),
                                    vec![full.clone(), set(&bit, lit(3, 0)), set(&st, lit(2, 2))],
                                    vec![set(&st, lit(2, 0))],
                                )],
                                vec![dec.clone()],
                            )],
                        ),
                        (
                            vec![lit(2, 2)],
                            vec![if_else(
                                zero.clone(),
                                vec![
                                    set(&sh, Expr::concat(vec![s2.e(), sh.slice(7, 1)])),
                                    full.clone(),
                                    set(&bit, bit.e().add(lit(3, 1))),
                                    if_(bit.e().eq(lit(3, 7)), vec![set(&st, lit(2, 3))]),
                                ],
                                vec![dec.clone()],
                            )],
                        ),
                    ],
                    vec![if_else(
                        zero,
                        vec![
                            if_else(
                                s2.e(),
                                vec![set(&valid, lit(1, 1)), set(&data, sh.e())],
                                vec![set(&ferr, lit(1, 1))],
                            ),
                            set(&st, lit(2, 0)),
                        ],
                        vec![dec],
                    )],
                ),
            ],
        )],
    );
    m.output("o_valid", valid.e());
    m.output("o_data", data.e());
    m.output("o_frame_err", ferr.e());
    m
}

pub fn tx(cpb: u64) -> Module {
    assert!(cpb >= 4, "UART needs at least 4 clocks per bit, got {cpb}");
    let cw = clog2(cpb + 1);
    let mut m = Module::new("pg_uart_tx");
    m.doc(&format!(
        "pg_uart_tx: 8N1 transmitter, {cpb} clocks per bit."
    ));
    let clk = m.input("i_clk", 1);
    let rst = m.input("i_rst", 1);
    let valid = m.input("i_valid", 1);
    let data = m.input("i_data", 8);
    let sh = m.reg_init("tx_shift", 10, false, Some(0x3ff));
    let cnt = m.reg("tx_cnt", cw);
    let left = m.reg_init("tx_left", 4, false, Some(0));
    let idle = left.e().eq(lit(4, 0));
    m.always(
        &clk,
        vec![if_else(
            rst.e(),
            vec![set(&sh, lit(10, 0x3ff)), set(&left, lit(4, 0))],
            vec![if_else(
                idle.clone(),
                vec![if_(
                    valid.e(),
                    vec![
                        // stop bit, data LSB first, start bit
                        set(&sh, Expr::concat(vec![lit(1, 1), data.e(), lit(1, 0)])),
                        set(&cnt, lit(cw, cpb - 1)),
                        set(&left, lit(4, 10)),
                    ],
                )],
                vec![if_else(
                    cnt.e().eq(lit(cw, 0)),
                    vec![
                        set(&sh, Expr::concat(vec![lit(1, 1), sh.slice(9, 1)])),
                        set(&cnt, lit(cw, cpb - 1)),
                        set(&left, left.e().sub(lit(4, 1))),
                    ],
                    vec![set(&cnt, cnt.e().sub(lit(cw, 1)))],
                )],
            )],
        )],
    );
    m.output("o_tx", sh.bit(0));
    m.output("o_ready", idle);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_per_bit_rounds() {
        assert_eq!(clocks_per_bit(12_000_000, 115_200), 104);
        assert_eq!(clocks_per_bit(12_000_000, 3_000_000), 4);
    }
}
