// The vendor PLL primitives pg_pll.v may instantiate, declared for lint only,
// since the linters do not know them (synth_ice40 and synth_ecp5 bring their
// own). Only the ports and parameters pg_pll uses.
// Waivers, each for the whole file: these are empty black boxes, so their
// inputs are unused (UNUSEDSIGNAL), their outputs undriven (UNDRIVEN) and
// their parameters unused (UNUSEDPARAM), and one file holds several modules
// named by the vendor (DECLFILENAME).
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off UNDRIVEN */
/* verilator lint_off DECLFILENAME */
`default_nettype none

// iCE40: the PLL fed from its own input pad.
(* blackbox *)
module SB_PLL40_PAD #(
    parameter       FEEDBACK_PATH = "SIMPLE",
    parameter [3:0] DIVR = 4'b0000,
    parameter [6:0] DIVF = 7'b0000000,
    parameter [2:0] DIVQ = 3'b000,
    parameter [2:0] FILTER_RANGE = 3'b000
) (
    input  wire PACKAGEPIN,
    output wire PLLOUTGLOBAL,
    output wire LOCK,
    input  wire RESETB,
    input  wire BYPASS
);
endmodule

// iCE40: the PLL fed from the fabric.
(* blackbox *)
module SB_PLL40_CORE #(
    parameter       FEEDBACK_PATH = "SIMPLE",
    parameter [3:0] DIVR = 4'b0000,
    parameter [6:0] DIVF = 7'b0000000,
    parameter [2:0] DIVQ = 3'b000,
    parameter [2:0] FILTER_RANGE = 3'b000
) (
    input  wire REFERENCECLK,
    output wire PLLOUTGLOBAL,
    output wire LOCK,
    input  wire RESETB,
    input  wire BYPASS
);
endmodule

// ECP5 PLL.
(* blackbox *)
module EHXPLLL #(
    parameter         PLLRST_ENA = "DISABLED",
    parameter         INTFB_WAKE = "DISABLED",
    parameter         STDBY_ENABLE = "DISABLED",
    parameter         DPHASE_SOURCE = "DISABLED",
    parameter         OUTDIVIDER_MUXA = "DIVA",
    parameter         OUTDIVIDER_MUXB = "DIVB",
    parameter         OUTDIVIDER_MUXC = "DIVC",
    parameter         OUTDIVIDER_MUXD = "DIVD",
    parameter integer CLKI_DIV = 1,
    parameter         CLKOP_ENABLE = "ENABLED",
    parameter integer CLKOP_DIV = 8,
    parameter integer CLKOP_CPHASE = 0,
    parameter integer CLKOP_FPHASE = 0,
    parameter         FEEDBK_PATH = "CLKOP",
    parameter integer CLKFB_DIV = 1
) (
    input  wire RST,
    input  wire STDBY,
    input  wire CLKI,
    output wire CLKOP,
    input  wire CLKFB,
    input  wire PHASESEL0,
    input  wire PHASESEL1,
    input  wire PHASEDIR,
    input  wire PHASESTEP,
    input  wire PHASELOADREG,
    input  wire PLLWAKESYNC,
    input  wire ENCLKOP,
    output wire LOCK
);
endmodule

`default_nettype wire
