//! `phasegen memory` through the real binary: a digit run (table and JSON),
//! EP training, a small capacity sweep, a small capacity table (float and
//! twin), and bad flags that must name the value and range.

use std::process::{Command, Output};

fn phasegen(args: &[&str]) -> Output {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");
    Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .arg("memory")
        .args(["--data", data])
        .args(args)
        .output()
        .expect("cannot run phasegen")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn digits_are_recalled() {
    let out = phasegen(&["--patterns", "4", "--trials", "5", "--corrupt", "0.15"]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{so}\n{se}");
    assert!(
        so.contains("4 patterns of 64 oscillators, rule pinv"),
        "{so}"
    );
    assert!(so.contains("| pattern | class |"), "{so}");
    assert!(
        so.contains("all patterns: mean overlap 1.000, exact recall 100.0%, mean abs sin"),
        "{so}"
    );

    let out = phasegen(&[
        "--patterns",
        "4",
        "--trials",
        "5",
        "--corrupt",
        "0.15",
        "--json",
    ]);
    let so = text(&out.stdout);
    assert!(out.status.success(), "{so}");
    let v: serde_json::Value = serde_json::from_str(&so).expect("--json prints JSON");
    assert_eq!(v["n"], 64);
    assert_eq!(v["patterns"].as_array().map(|a| a.len()), Some(4));
    assert_eq!(v["options"]["rule"], "pinv");
    assert!(
        v["summary"]["mean_overlap"].as_f64().unwrap() >= 0.95,
        "{so}"
    );
}

#[test]
fn sweep_prints_a_row_per_point() {
    let out = phasegen(&[
        "--sweep", "--rule", "hebb", "--sizes", "32", "--loads", "0.1,0.5", "--trials", "2", "--k",
        "0.3",
    ]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{so}\n{se}");
    assert!(so.contains("capacity sweep, rule hebb"), "{so}");
    assert!(so.contains("| 32 | 3 | 0.094 |"), "{so}");
    assert!(so.contains("| 32 | 16 | 0.500 |"), "{so}");
}

#[test]
fn ep_trains_and_recalls() {
    let out = phasegen(&[
        "--rule",
        "ep",
        "--patterns",
        "3",
        "--trials",
        "3",
        "--ep-epochs",
        "10",
        "--corrupt",
        "0.1",
    ]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{so}\n{se}");
    assert!(so.starts_with("EP: 10 epochs in "), "{so}");
    assert!(so.contains("3 patterns of 64 oscillators, rule ep"), "{so}");
}

#[test]
fn capacity_table_has_float_and_twin() {
    let design = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/full-256.toml");
    let out = phasegen(&[
        "--capacity",
        "--sizes",
        "16",
        "--loads",
        "0.25",
        "--corrupts",
        "0.1",
        "--trials",
        "2",
        "--probed",
        "2",
        "--ep-epochs",
        "2",
        "--designs",
        design,
    ]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{so}\n{se}");
    assert!(
        so.contains("N = 16: twin at the formats of full256 (256 oscillators): 16-bit phase"),
        "{so}"
    );
    assert!(so.contains("| 10%: float | 10%: twin |"), "{so}");
    for rule in ["ep", "hebb", "pinv"] {
        assert!(
            so.contains(&format!("| 16 | 4 | 0.250 | {rule} | Q")),
            "{so}"
        );
    }
    assert!(so.contains("\nmade in "), "{so}");
    // a row per point on stderr as it comes
    assert_eq!(
        se.lines().filter(|l| l.starts_with("N 16 P 4 ")).count(),
        3,
        "{se}"
    );
}

#[test]
fn bad_flags_name_the_value_and_the_range() {
    for (args, want) in [
        (vec!["--corrupt", "0.8"], "--corrupt 0.8 is out of range"),
        (vec!["--k", "-0.5"], "--k -0.5 is out of range"),
        (vec!["--patterns", "11"], "--patterns 11 is out of range"),
        (
            vec!["--sweep", "--loads", "1.5"],
            "--loads 1.5 is out of range",
        ),
        (
            vec!["--rule", "ep", "--ep-beta", "0"],
            "--ep-beta 0 is out of range",
        ),
        (
            vec!["--rule", "ep", "--ep-eta", "20"],
            "--ep-eta 20 is out of range",
        ),
        (
            vec!["--capacity", "--corrupts", "0.7"],
            "--corrupts 0.7 is out of range",
        ),
        (
            vec!["--capacity", "--sizes", "2048"],
            "--sizes 2048: no design of --designs has 2048 oscillators",
        ),
    ] {
        let out = phasegen(&args);
        let se = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {se}");
        assert!(se.contains(want), "{args:?}: {se}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = phasegen(&["--patterns", "11"]);
    assert!(text(&out.stderr).contains("1 to 10"));
    // clap lists the allowed rules
    let out = phasegen(&["--rule", "oja"]);
    let se = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        se.contains("oja") && se.contains("hebb") && se.contains("pinv") && se.contains("ep"),
        "{se}"
    );
}
