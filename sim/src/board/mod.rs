//! The boards the flow knows: each one's FPGA (family, device, package),
//! its oscillator, its DSP blocks and the PLL primitive the oscillator feeds.
//! Every board here has `constraints/<name>.mk`, a pin file and a board top
//! in `hdl/boards/` (checked by `tests/boards.rs`).
//!
//! - [`pll`]: the core clock a board's PLL can make (the icepll and ecppll
//!   searches).
//!
//! May use: `rng` only. The config (`crate::config`) names a board; the
//! board knows nothing of the config.

pub mod pll;

use anyhow::{Context, Result};

/// The PLL primitive a board's oscillator can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PllKind {
    /// iCE40 `SB_PLL40_PAD`: the oscillator pin is the PLL's own input pad.
    Ice40Pad,
    /// iCE40 `SB_PLL40_CORE`: the oscillator reaches the PLL through the
    /// fabric.
    Ice40Core,
    /// ECP5 `EHXPLLL`.
    Ecp5,
}

/// Boards the flow knows: name, nextpnr family, device, package, board clock.
/// Each has `constraints/<name>.mk` (and the pin file and board top it names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Board {
    pub name: &'static str,
    pub family: &'static str,
    /// nextpnr's device option without dashes (`up5k`, `hx8k`, `25k`, `85k`).
    pub device: &'static str,
    pub package: &'static str,
    /// The oscillator on the board.
    pub clock_hz: u64,
    /// DSP multipliers of the part (iCE40 HX parts have none: Yosys builds
    /// multipliers from logic there).
    pub dsps: u32,
    /// The PLL primitive the oscillator feeds.
    pub pll: PllKind,
}

pub const BOARDS: &[Board] = &[
    Board {
        name: "icebreaker",
        family: "ice40",
        device: "up5k",
        package: "sg48",
        clock_hz: 12_000_000,
        dsps: 8,
        // Pin 35 is the UP5K's PLL input pad.
        pll: PllKind::Ice40Pad,
    },
    Board {
        name: "hx8k-breakout",
        family: "ice40",
        device: "hx8k",
        package: "ct256",
        clock_hz: 12_000_000,
        dsps: 0,
        // J3 is not one of the HX8K's PLL pads (nextpnr refuses SB_PLL40_PAD
        // there), so the PLL takes the clock from the fabric.
        pll: PllKind::Ice40Core,
    },
    Board {
        name: "ulx3s-85f",
        family: "ecp5",
        device: "85k",
        package: "CABGA381",
        clock_hz: 25_000_000,
        dsps: 156,
        pll: PllKind::Ecp5,
    },
    Board {
        name: "ulx3s-25f",
        family: "ecp5",
        device: "25k",
        package: "CABGA381",
        clock_hz: 25_000_000,
        dsps: 28,
        pll: PllKind::Ecp5,
    },
];

impl Board {
    pub fn has_dsp(&self) -> bool {
        self.dsps > 0
    }
}

pub fn board(name: &str) -> Result<&'static Board> {
    BOARDS.iter().find(|b| b.name == name).with_context(|| {
        let known: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board `{name}`; known boards: {}", known.join(", "))
    })
}

/// Is `board` one with a UP5K (SPRAM for the memories the host fills)?
pub fn up5k(board: &str) -> bool {
    BOARDS.iter().any(|b| b.name == board && b.device == "up5k")
}
