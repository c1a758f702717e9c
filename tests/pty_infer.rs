//! The unchanged `phasegen` binary talks to the Verilated top level through a
//! pseudo-terminal, as it would to a board, and gets the twin's class for
//! every sample; a model for another design is refused.

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, PtyServer};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::twin::quant::quantize;
use std::path::Path;
use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");

#[test]
fn infer_over_pty_matches_twin_and_wrong_model_is_refused() {
    let cfg = Config::default_config();
    let data = load_dir(Path::new(DATA)).unwrap();
    let params = Params::init(&cfg);
    let dir = scratch_dir("pty-infer");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.json");
    ModelFile::new(cfg.clone(), params.clone(), data.train.max_pixel)
        .save(&model)
        .unwrap();
    let (hw, _) = quantize(&cfg, &params, data.train.max_pixel).unwrap();
    let built = build_top(&cfg, &hw, &dir.join("gen")).unwrap();
    let server =
        PtyServer::start(built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();

    let results = dir.join("results.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "infer",
            "--port",
            &server.path,
            "--data",
            DATA,
            "--count",
            "12",
            "--model",
        ])
        .arg(&model)
        .arg("--out")
        .arg(&results)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "infer failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("device = twin on 12/12"), "{stdout}");
    let lines = std::fs::read_to_string(&results).unwrap();
    assert_eq!(lines.lines().count(), 12);
    // the confusion matrix counts every image once, in the row of its label
    let mut rows = vec![vec![0usize; 10]; 10];
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["device"], v["twin"], "{l}");
        rows[v["label"].as_u64().unwrap() as usize][v["device"].as_u64().unwrap() as usize] += 1;
    }
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("confusion (rows: true class"))
        .collect();
    assert_eq!(table.len(), 12, "header, class names and 10 rows: {stdout}");
    for (c, row) in rows.iter().enumerate() {
        let cells: Vec<&str> = table[2 + c].split_whitespace().collect();
        assert_eq!(cells[0], c.to_string(), "{stdout}");
        let counts: Vec<usize> = cells[1..11].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(&counts, row, "{stdout}");
    }

    // a model with other weights is another design: refused by its hash
    let mut other = params.clone();
    other.w[0] += 0.5;
    let other_model = dir.join("other.json");
    ModelFile::new(cfg, other, data.train.max_pixel)
        .save(&other_model)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "infer",
            "--port",
            &server.path,
            "--data",
            DATA,
            "--count",
            "1",
            "--model",
        ])
        .arg(&other_model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("runs design"), "{stderr}");
    server.stop().unwrap();

    // no device at all: a clear error, not a hang
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "infer",
            "--port",
            "/dev/does-not-exist",
            "--data",
            DATA,
            "--model",
        ])
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open serial port /dev/does-not-exist"),
        "{stderr}"
    );
}
