//! `phasegen verify --trace FILE` writes a waveform of the RTL cosimulation:
//! a VCD holding every port of `pg_core` and the clock toggling through the
//! whole run; a file name of no known format is refused before any build.

use phasegen::cosim::scratch_dir;
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::twin::quant::quantize;
use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");

#[test]
fn verify_trace_writes_a_vcd_with_the_core_ports() {
    // small, so the waveform of 5 + 100 + 40 steps stays a few MB
    let mut cfg = Config::default_config();
    cfg.name = "trace".into();
    cfg.network.layers = vec![4, 10];
    cfg.train.data = DATA.into();
    let dir = scratch_dir("verify-trace");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.json");
    let params = Params::init(&cfg);
    ModelFile::new(cfg.clone(), params.clone(), 16)
        .save(&model)
        .unwrap();
    let vcd = dir.join("verify.vcd");
    let _ = std::fs::remove_file(&vcd);
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(["verify", "--steps", "5", "--samples", "1", "--model"])
        .arg(&model)
        .arg("--trace")
        .arg(&vcd)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify --trace failed:\n{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("TESTBENCH OK"));
    assert!(stderr.contains("wrote"), "{stderr}");

    let text = std::fs::read_to_string(&vcd).unwrap();
    let (header, body) = text.split_once("$enddefinitions").expect("a VCD header");
    assert!(header.contains("$scope module pg_core $end"), "{header}");
    let (hw, _) = quantize(&cfg, &params, 16).unwrap();
    for p in phasegen_hdl::core_ports(&hw) {
        let var = format!(" {} ", p.name);
        assert!(
            header
                .lines()
                .any(|l| l.contains("$var") && l.contains(&var)),
            "no $var for port {} in the VCD header",
            p.name
        );
    }
    // the clock ran through the whole verification: the last time stamp is
    // 10 units per cycle, and the run is more than 145 steps of n writes
    let last: u64 = body
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix('#').and_then(|t| t.parse().ok()))
        .expect("time stamps");
    assert!(last > 10 * 145 * hw.n() as u64, "last time stamp {last}");
    std::fs::remove_file(&vcd).ok();
}

#[test]
fn verify_trace_refuses_an_unknown_format() {
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "verify",
            "--model",
            "/nonexistent/model.json",
            "--trace",
            "wave.txt",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("wave.txt") && stderr.contains("*.vcd or *.fst"),
        "{stderr}"
    );
}
