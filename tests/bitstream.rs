//! One small bitstream per FPGA family through the real flow, `make report`
//! (train, gen, synth, place and route, pack, report): the iCE40 UP5K of
//! the iCEBreaker and the ECP5 25F of the ULX3S, each clocked through its
//! PLL. The report must say timing is met and list the resources; `make
//! report` itself fails when timing is not met.
//!
//! Needs the tools `scripts/setup.sh` installs (`make test` runs it first);
//! the builds go to build/test-bitstream/<board>/ (relative, because the
//! yowasp tools only see the working folder and absolute paths under a few
//! roots).

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A small network on the digits data: 64 inputs, 18 oscillators, one short
/// training epoch (the flow is under test, not the accuracy).
fn config(board: &str, clock_hz: u64) -> String {
    format!(
        "name = \"tiny\"\n\
         [network]\ninputs = 64\nlayers = [8, 10]\n\
         [train]\ndata = \"data/digits-8x8\"\nepochs = 1\nmax_train = 100\n\
         [hardware]\nsteps = 8\n\
         [target]\nboard = \"{board}\"\nclock_hz = {clock_hz}\n"
    )
}

/// Build with `make report` and return the report JSON.
fn build(board: &str, clock_hz: u64) -> Value {
    let rel = format!("build/test-bitstream/{board}");
    let dir = Path::new(ROOT).join(&rel);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tiny.toml"), config(board, clock_hz)).unwrap();
    let out = Command::new(std::env::var("MAKE").unwrap_or_else(|_| "make".into()))
        .current_dir(ROOT)
        // A `make test` above this one must not lend its job server.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .args([
            "report".to_string(),
            format!("CONFIG={rel}/tiny.toml"),
            format!("BUILD={rel}"),
            format!("PHASEGEN={}", env!("CARGO_BIN_EXE_phasegen")),
            "SETUP=true".to_string(),
        ])
        .output()
        .expect("cannot run make");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "make report for {board} failed (missing tools? run scripts/setup.sh):\n{log}"
    );
    let path = dir.join("tiny.report.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no report {}: {e}\n{log}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("report {} is not JSON: {e}", path.display()))
}

fn resource(r: &Value, bel: &str) -> (u64, u64) {
    let row = r["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["bel"] == bel))
        .unwrap_or_else(|| panic!("no {bel} row in the report: {r:#}"));
    (
        row["used"].as_u64().expect("used count"),
        row["available"].as_u64().expect("available count"),
    )
}

/// Timing met on every clock, the one clock at the PLL's frequency, and
/// the logic, flip-flop and PLL counts parsed and plausible.
fn check(r: &Value, mhz: f64, logic_bel: &str, pll_bel: &str, primitive: &str) {
    assert_eq!(r["timing_met"], true, "{r:#}");
    let clocks = r["clocks"].as_array().expect("clocks");
    assert_eq!(clocks.len(), 1, "{r:#}");
    let c = &clocks[0];
    assert_eq!(c["met"], true);
    assert!(
        (c["constraint_mhz"].as_f64().unwrap() - mhz).abs() < 1e-3,
        "{c}"
    );
    assert!(c["achieved_mhz"].as_f64().unwrap() >= mhz, "{c}");
    let (used, avail) = resource(r, logic_bel);
    assert!(used > 100 && used < avail, "{logic_bel}: {used} of {avail}");
    assert_eq!(resource(r, pll_bel).0, 1, "one PLL");
    assert!(r["flip_flops"].as_u64().unwrap() > 50, "{r:#}");
    let clock = r["clock"].as_str().expect("clock plan in the report");
    assert!(clock.contains(primitive), "{clock}");
}

#[test]
fn up5k_bitstream_meets_timing_through_its_pll() {
    let r = build("icebreaker", 18_000_000);
    check(&r, 18.0, "ICESTORM_LC", "ICESTORM_PLL", "SB_PLL40_PAD");
    assert!(resource(&r, "ICESTORM_DSP").0 >= 1, "the MAC uses SB_MAC16");
    let bin = Path::new(ROOT).join("build/test-bitstream/icebreaker/tiny.bin");
    assert!(std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0) > 100_000);
}

#[test]
fn ecp5_25f_bitstream_meets_timing_through_its_pll() {
    let r = build("ulx3s-25f", 50_000_000);
    check(&r, 50.0, "TRELLIS_COMB", "EHXPLLL", "EHXPLLL");
    assert_eq!(resource(&r, "TRELLIS_COMB").1, 24288, "an LFE5U-25F");
    assert!(resource(&r, "MULT18X18D").0 >= 1, "the MAC uses MULT18X18D");
    let bit = Path::new(ROOT).join("build/test-bitstream/ulx3s-25f/tiny.bit");
    assert!(std::fs::metadata(&bit).map(|m| m.len()).unwrap_or(0) > 100_000);
}
