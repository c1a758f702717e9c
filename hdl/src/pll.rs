//! `pg_pll`: the board oscillator to the core clock. The settings come from
//! [`phasegen_sim::board::pll`] (the icepll and ecppll searches); this module only
//! instantiates the family's primitive with them, or passes the oscillator
//! through when the config asks for its frequency.
//!
//! Ports: `i_clk` (the oscillator pin), `o_clk` (the core clock),
//! `o_locked` (high once `o_clk` is stable; constant 1 without a PLL). The
//! board top holds the core in reset until `o_locked`.

use crate::vlog::{lit, Module};
use phasegen_sim::board::pll::{mhz, ClockPlan, Pll};

fn bin(v: u32, width: usize) -> String {
    format!("{width}'b{v:0width$b}")
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

pub fn generate(plan: &ClockPlan) -> Module {
    let mut m = Module::new("pg_pll");
    m.doc(&format!(
        "pg_pll: core clock of board {}: {}.",
        plan.board,
        plan.describe()
    ));
    let clk = m.input("i_clk", 1);
    let Some(pll) = plan.pll else {
        m.output("o_clk", clk.e());
        m.output("o_locked", lit(1, 1));
        return m;
    };
    let out = m.output_wire("o_clk", 1);
    let locked = m.output_wire("o_locked", 1);
    match pll {
        Pll::Ice40 { pad, div } => {
            // PLLOUTGLOBAL drives a global clock network directly.
            m.primitive(
                pll.primitive(),
                "u_pll",
                vec![],
                vec![
                    ("FEEDBACK_PATH", quoted("SIMPLE")),
                    ("DIVR", bin(div.divr, 4)),
                    ("DIVF", bin(div.divf, 7)),
                    ("DIVQ", bin(div.divq, 3)),
                    ("FILTER_RANGE", bin(div.filter_range, 3)),
                ],
                vec![
                    (if pad { "PACKAGEPIN" } else { "REFERENCECLK" }, clk.e()),
                    ("PLLOUTGLOBAL", out.e()),
                    ("LOCK", locked.e()),
                    ("RESETB", lit(1, 1)),
                    ("BYPASS", lit(1, 0)),
                ],
            );
        }
        Pll::Ecp5(d) => {
            // The analog settings (charge pump, loop filter) are the ones
            // ecppll and Lattice's tools emit for every EHXPLLL; nextpnr
            // reads them from these attributes.
            let attrs = vec![
                ("FREQUENCY_PIN_CLKI", quoted(&mhz(plan.osc_hz as f64))),
                ("FREQUENCY_PIN_CLKOP", quoted(&mhz(plan.achieved_hz()))),
                ("ICP_CURRENT", quoted("12")),
                ("LPF_RESISTOR", quoted("8")),
                ("MFG_ENABLE_FILTEROPAMP", quoted("1")),
                ("MFG_GMCREF_SEL", quoted("2")),
            ];
            let params = vec![
                ("PLLRST_ENA", quoted("DISABLED")),
                ("INTFB_WAKE", quoted("DISABLED")),
                ("STDBY_ENABLE", quoted("DISABLED")),
                ("DPHASE_SOURCE", quoted("DISABLED")),
                ("OUTDIVIDER_MUXA", quoted("DIVA")),
                ("OUTDIVIDER_MUXB", quoted("DIVB")),
                ("OUTDIVIDER_MUXC", quoted("DIVC")),
                ("OUTDIVIDER_MUXD", quoted("DIVD")),
                ("CLKI_DIV", d.clki_div.to_string()),
                ("CLKOP_ENABLE", quoted("ENABLED")),
                ("CLKOP_DIV", d.clkop_div.to_string()),
                ("CLKOP_CPHASE", d.clkop_cphase.to_string()),
                ("CLKOP_FPHASE", "0".into()),
                ("FEEDBK_PATH", quoted("CLKOP")),
                ("CLKFB_DIV", d.clkfb_div.to_string()),
            ];
            m.primitive(
                pll.primitive(),
                "u_pll",
                attrs,
                params,
                vec![
                    ("RST", lit(1, 0)),
                    ("STDBY", lit(1, 0)),
                    ("CLKI", clk.e()),
                    ("CLKOP", out.e()),
                    ("CLKFB", out.e()),
                    ("PHASESEL0", lit(1, 0)),
                    ("PHASESEL1", lit(1, 0)),
                    ("PHASEDIR", lit(1, 1)),
                    ("PHASESTEP", lit(1, 1)),
                    ("PHASELOADREG", lit(1, 1)),
                    ("PLLWAKESYNC", lit(1, 0)),
                    ("ENCLKOP", lit(1, 0)),
                    ("LOCK", locked.e()),
                ],
            );
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use phasegen_sim::board::board;
    use phasegen_sim::board::pll::plan;

    fn text(board_name: &str, hz: u64) -> String {
        generate(&plan(board(board_name).unwrap(), hz).unwrap()).render()
    }

    #[test]
    fn oscillator_passes_through() {
        let v = text("icebreaker", 12_000_000);
        assert!(v.contains("assign o_clk = i_clk;"), "{v}");
        assert!(v.contains("assign o_locked = 1'h1;"), "{v}");
        assert!(v.contains("12 MHz oscillator, no PLL"), "{v}");
        assert!(!v.contains("SB_PLL40"), "{v}");
    }

    #[test]
    fn up5k_uses_the_pad_pll_with_icepll_settings() {
        let v = text("icebreaker", 48_000_000);
        assert!(v.contains("SB_PLL40_PAD #("), "{v}");
        assert!(v.contains(".DIVR(4'b0000),"), "{v}");
        assert!(v.contains(".DIVF(7'b0111111),"), "{v}");
        assert!(v.contains(".DIVQ(3'b100),"), "{v}");
        assert!(v.contains(".FILTER_RANGE(3'b001)"), "{v}");
        assert!(v.contains(".PACKAGEPIN(i_clk),"), "{v}");
        assert!(v.contains("-> 48 MHz (requested 48 MHz, +0.000 %)"), "{v}");
    }

    #[test]
    fn hx8k_uses_the_core_pll() {
        let v = text("hx8k-breakout", 36_000_000);
        assert!(v.contains("SB_PLL40_CORE #("), "{v}");
        assert!(v.contains(".REFERENCECLK(i_clk),"), "{v}");
    }

    #[test]
    fn ecp5_uses_ehxplll_with_ecppll_settings() {
        let v = text("ulx3s-25f", 50_000_000);
        assert!(v.contains("(* FREQUENCY_PIN_CLKI = \"25\" *)"), "{v}");
        assert!(v.contains("(* FREQUENCY_PIN_CLKOP = \"50\" *)"), "{v}");
        assert!(v.contains("EHXPLLL #("), "{v}");
        for p in [
            ".CLKI_DIV(1),",
            ".CLKFB_DIV(2)",
            ".CLKOP_DIV(12),",
            ".CLKOP_CPHASE(5),",
        ] {
            assert!(v.contains(p), "{p} missing in\n{v}");
        }
        assert!(v.contains(".CLKFB(o_clk),") && v.contains(".CLKOP(o_clk),"));
    }
}
