//! On-chip learning on the twin through the real binary: `phasegen train
//! --backend twin --onchip` and `phasegen bench-learn --quick`.

mod common;
use common::{fails, ok, TempDir};

/// A short on-chip run learns, writes a model whose quantization is the
/// learned integers exactly (rms error 0) and whose twin accuracy is the
/// last epoch's.
#[test]
fn onchip_training_writes_the_learned_integers() {
    let t = TempDir::new("learn-cli");
    let cfg = t.0.join("small.toml");
    std::fs::write(
        &cfg,
        "name = 'small'\n[network]\ninputs = 64\nlayers = [16, 10]\n[train]\nepochs = 2\nmax_train = 500\nlr = 0.02\nlr_bias = 0.02\nt1 = 40\nt2 = 15\n[hardware]\nsteps = 40\n",
    )
    .unwrap();
    let model = t.0.join("m.json");
    let log = t.0.join("log.jsonl");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "train",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        ok(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>())
    };
    let (_, err) = run(&[
        "--backend",
        "twin",
        "--onchip",
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(
        err.contains("on chip: β = ") && err.contains("8 shadow bits"),
        "{err}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // 40 free + 2 x 15 nudged steps per sample
    assert_eq!(lines[0]["steps_per_sample"].as_f64().unwrap(), 70.0);
    let last = lines[1]["test_acc"].as_f64().unwrap();
    assert!(last > 0.5, "the on-chip run did not learn: {lines:?}");

    let (out, _) = ok(&["quantize", "--model", model.to_str().unwrap()]);
    for g in ["| W |", "| U |", "| h |"] {
        let row = out.lines().find(|l| l.starts_with(g)).unwrap();
        assert!(row.trim_end().ends_with("0.00000 |"), "{row}");
    }
    let twin = out
        .lines()
        .find_map(|l| l.split("twin ").nth(1))
        .and_then(|s| s.trim_end_matches('%').parse::<f64>().ok())
        .unwrap();
    assert!(
        (twin - 100.0 * last).abs() < 0.01,
        "twin {twin}% vs the log's {last}"
    );

    // without shadow bits the small updates round away: clearly worse
    let (_, err0) = run(&["--backend", "twin", "--onchip", "--shadow-bits", "0"]);
    let acc = |e: &str| -> f64 {
        e.lines()
            .find_map(|l| l.split(", test ").nth(1))
            .and_then(|s| s.trim_end_matches('%').parse().ok())
            .unwrap()
    };
    assert!(acc(&err0) + 10.0 < 100.0 * last, "{err0}");

    let e = fails(
        &args(&["--onchip"])
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    assert!(
        e.contains("--onchip") && e.contains("--backend twin"),
        "{e}"
    );
}

#[test]
fn bench_learn_quick_prints_every_row() {
    let (out, _) = ok(&["bench-learn", "--quick"]);
    assert!(out.contains("AVX") || out.contains("baseline"), "{out}");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| 8 |")).collect();
    assert_eq!(rows.len(), 5, "{out}");
    assert!(rows.iter().any(|r| r.contains("stochastic")), "{out}");
    let e = fails(&["bench-learn", "--widths", "40"]);
    assert!(e.contains("--widths 40"), "{e}");
    let e = fails(&["bench-learn", "--rtl", "0"]);
    assert!(e.contains("--rtl 0"), "{e}");
}
