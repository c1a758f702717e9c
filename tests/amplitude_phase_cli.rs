//! An amplitude-phase network through the real binary: `train
//! --oscillator amplitude-phase` writes its model, `eval` reads it, and
//! the commands that handle phase models only (`quantize`, `gen`, `verify`,
//! `train --backend twin`) refuse it by name instead of misreading it.

mod common;
use common::{fails, ok, TempDir};

#[test]
fn amplitude_phase_models_train_evaluate_and_are_refused_by_the_hardware_commands() {
    let t = TempDir::new("ap-cli");
    let cfg = t.0.join("tiny.toml");
    std::fs::write(
        &cfg,
        "name = 'tiny'\n[network]\ninputs = 64\nlayers = [16, 10]\n[train]\nepochs = 3\nbatch = 16\noptimizer = 'adam'\nlr = 0.005\nlr_bias = 0.005\n",
    )
    .unwrap();
    let (c, model, log) = (
        cfg.to_str().unwrap(),
        t.0.join("ap.json"),
        t.0.join("ap.jsonl"),
    );
    let m = model.to_str().unwrap();
    let (_, err) = ok(&[
        "train",
        "--config",
        c,
        "--oscillator",
        "amplitude-phase",
        "--out",
        m,
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(err.contains("amplitude-phase oscillators"), "{err}");
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(text.contains("\"format\":\"phasegen-ap-model\""));
    assert!(text.contains("\"oscillator\":\"amplitude-phase\""));
    let last: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let acc = last["test_acc"].as_f64().unwrap();
    assert!(acc > 0.5, "the tiny run did not learn: {acc}");
    let (out, _) = ok(&["eval", "--model", m, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["test_acc"].as_f64().unwrap(), acc, "{v}");

    for args in [
        vec!["quantize", "--model", m],
        vec![
            "gen",
            "--model",
            m,
            "--out",
            t.0.join("gen").to_str().unwrap(),
        ],
        vec!["verify", "--model", m],
    ] {
        let e = fails(&args);
        assert!(
            e.contains("is an amplitude-phase model") && e.contains("phase-oscillator models only"),
            "{args:?}: {e}"
        );
    }
    let e = fails(&[
        "train",
        "--config",
        c,
        "--oscillator",
        "amplitude-phase",
        "--backend",
        "twin",
        "--out",
        t.0.join("q.json").to_str().unwrap(),
    ]);
    assert!(
        e.contains("--backend twin") && e.contains("--backend float only"),
        "{e}"
    );
    // the same config without the flag still trains a phase model
    let phase = t.0.join("p.json");
    ok(&["train", "--config", c, "--out", phase.to_str().unwrap()]);
    ok(&[
        "quantize",
        "--model",
        phase.to_str().unwrap(),
        "--count",
        "20",
    ]);
}

/// The comparison bench runs end to end (small sizes) and prints both tables
/// with a row per oscillator model.
#[test]
fn bench_ap_quick_prints_both_tables() {
    let t = TempDir::new("ap-bench");
    let out = t.0.join("bench.md");
    let (md, _) = ok(&[
        "bench-ap",
        "--quick",
        "--instances",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), md);
    assert!(
        md.contains("### Accuracy and speed") && md.contains("### Frequency dispersion"),
        "{md}"
    );
    for kind in ["phase", "amplitude-phase"] {
        let rows = md
            .lines()
            .filter(|l| {
                l.starts_with("| `configs/digits.toml` |") && l.contains(&format!("| {kind} |"))
            })
            .count();
        assert_eq!(rows, 2, "{kind}: {md}");
    }
    assert!(md.contains("seed 1..2"), "{md}");
    let e = fails(&["bench-ap", "--quick", "--instances", "0"]);
    assert!(e.contains("--instances 0"), "{e}");
}
