//! The metacircuit controller through the real flow, `make ctl-bitstream`
//! (gen-ctl, synth, place and route with the board's and the metacircuit
//! board's pins, pack) for the iCEBreaker at 24 MHz and the ULX3S 85F at
//! 46.875 MHz, on a briefly trained tactile model. nextpnr fails the build
//! when the clock is not met; the test also reads the achieved frequency.
//! Needs the tools `scripts/setup.sh` installs; builds go to
//! build/test-ctl-bitstream/<board>/ (relative: the yowasp tools only see
//! the working folder).

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn phasegen(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_controller_builds_for_both_boards_with_timing_met() {
    let base = "build/test-ctl-bitstream";
    let _ = std::fs::remove_dir_all(Path::new(ROOT).join(base));
    std::fs::create_dir_all(Path::new(ROOT).join(base)).unwrap();
    let model = format!("{ROOT}/{base}/m.json");
    phasegen(&[
        "r2nn", "train", "--task", "tactile", "--count", "60", "--len", "120", "--epochs", "2",
        "--batch", "16", "--out", &model,
    ]);
    for (board, mhz) in [("icebreaker", 24.0), ("ulx3s-85f", 46.875)] {
        let rel = format!("{base}/{board}");
        let out = Command::new(std::env::var("MAKE").unwrap_or_else(|_| "make".into()))
            .current_dir(ROOT)
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL")
            .args([
                "ctl-bitstream".to_string(),
                format!("BOARD={board}"),
                format!("CTL_MODEL={model}"),
                format!("CTL_BUILD={rel}"),
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
            "make ctl-bitstream for {board} failed:\n{log}"
        );
        // the report, as for the oscillator designs
        let report = Path::new(ROOT).join(&rel).join("ctl.report.json");
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&report)
                .unwrap_or_else(|e| panic!("no {}: {e}\n{log}", report.display())),
        )
        .unwrap();
        assert!(
            Path::new(ROOT).join(&rel).join("ctl.report.md").is_file(),
            "{log}"
        );
        let fmax = json["clocks"]
            .as_array()
            .and_then(|c| {
                c.iter()
                    .filter_map(|c| c["achieved_mhz"].as_f64())
                    .reduce(f64::min)
            })
            .unwrap_or_else(|| panic!("no clock in {}:\n{json}", report.display()));
        assert!(fmax >= mhz, "{board}: {fmax} MHz < {mhz} MHz");
        let bit = if board == "icebreaker" {
            "ctl.bin"
        } else {
            "ctl.bit"
        };
        assert!(Path::new(ROOT).join(&rel).join(bit).is_file(), "{log}");
        println!("{board}: pg_ctl_top at {mhz} MHz, Fmax {fmax} MHz");
    }
}
