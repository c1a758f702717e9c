//! `phasegen plot` through the real binary: curves from a fresh training log
//! and a settle of the model it trained, and clear errors for bad inputs.

use phasegen_sim::config::Config;
use phasegen_sim::onn::net::{ModelFile, Params};
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");

mod common;
use common::{fails, TempDir};

/// A run that must succeed: its stderr.
fn ok(args: &[&str]) -> String {
    common::ok(args).1
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Reads an SVG and checks its shape; returns it and its polyline count.
fn svg(path: &Path) -> (String, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("<svg "), "{}", &text[..text.len().min(80)]);
    assert!(text.trim_end().ends_with("</svg>"));
    assert_eq!(text.matches("<svg").count(), 1);
    assert_eq!(text.matches("<g").count(), text.matches("</g>").count());
    let polylines: Vec<&str> = text.lines().filter(|l| l.contains("<polyline")).collect();
    for l in &polylines {
        assert!(
            l.trim_end().ends_with("/>") && l.matches('<').count() == 1,
            "{l}"
        );
    }
    assert!(
        !text.contains("NaN") && !text.contains("inf"),
        "a non-finite coordinate"
    );
    (text.clone(), polylines.len())
}

#[test]
fn curves_and_settle_of_a_freshly_trained_model() {
    let dir = TempDir::new("plot-ok");
    let config = dir.0.join("tiny.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"tiny\"\n[network]\ninputs = 64\nlayers = [8, 10]\n\
             [train]\ndata = \"{DATA}\"\nepochs = 2\nmax_train = 50\n"
        ),
    )
    .unwrap();
    let (model, log) = (dir.0.join("model.json"), dir.0.join("train.jsonl"));
    ok(&[
        "train",
        "--config",
        s(&config),
        "--out",
        s(&model),
        "--log",
        s(&log),
    ]);

    let curves = dir.0.join("out/curves.svg");
    ok(&["plot", "curves", "--log", s(&log), "--out", s(&curves)]);
    let (text, n) = svg(&curves);
    assert_eq!(n, 3, "loss, train and test accuracy");
    assert!(text.contains(">train</text>") && text.contains(">test</text>"));

    // default beta (the config's, 1.0): free then nudged, a marker at the nudge
    let settle = dir.0.join("settle.svg");
    let err = ok(&["plot", "settle", "--model", s(&model), "--out", s(&settle)]);
    assert!(
        err.contains("test sample 0: label ") && err.contains("predicted"),
        "{err}"
    );
    assert!(err.contains("nudged with beta 1"), "{err}");
    let (text, n) = svg(&settle);
    // 8 hidden + 10 outputs + R of all and of 2 layers; wraps only add lines
    assert!(n >= 21, "{n} polylines");
    assert!(text.contains("nudge, β = 1"));
    assert!(text.contains(">hidden (8 of 8)</text>"));
    for c in 0..10 {
        assert!(
            text.contains(&format!(">{c}</text>"))
                || text.contains(&format!(">{c} (label)</text>"))
        );
    }
    // the same run gives the same bytes
    let again = dir.0.join("again.svg");
    ok(&["plot", "settle", "--model", s(&model), "--out", s(&again)]);
    assert_eq!(text, std::fs::read_to_string(&again).unwrap());

    // free phase only, another sample, explicit data folder
    let free = dir.0.join("free.svg");
    let err = ok(&[
        "plot",
        "settle",
        "--model",
        s(&model),
        "--data",
        DATA,
        "--sample",
        "5",
        "--beta",
        "0",
        "--out",
        s(&free),
    ]);
    assert!(
        err.contains("test sample 5") && !err.contains("nudged"),
        "{err}"
    );
    let (text, n) = svg(&free);
    assert!(n >= 21 && !text.contains("nudge"), "{n}");
}

#[test]
fn bad_inputs_fail_naming_the_file_and_line() {
    let dir = TempDir::new("plot-bad");
    let out = dir.0.join("x.svg");
    let good = r#"{"epoch":1,"loss":1.5,"train_acc":0.2,"test_acc":0.1,"seconds":0.1}"#;

    let log = dir.0.join("bad.jsonl");
    std::fs::write(&log, format!("{good}\nthis is not json\n{good}\n")).unwrap();
    let e = fails(&["plot", "curves", "--log", s(&log), "--out", s(&out)]);
    assert!(
        e.contains(&format!("{} line 2: not JSON", log.display())),
        "{e}"
    );

    std::fs::write(
        &log,
        format!("{good}\n{}\n", good.replace("\"loss\":1.5,", "")),
    )
    .unwrap();
    let e = fails(&["plot", "curves", "--log", s(&log), "--out", s(&out)]);
    assert!(e.contains("line 2: missing field `loss`"), "{e}");

    std::fs::write(&log, good.replace("1.5", "null")).unwrap();
    let e = fails(&["plot", "curves", "--log", s(&log), "--out", s(&out)]);
    assert!(
        e.contains("line 1: `loss` is null, not a finite number"),
        "{e}"
    );

    std::fs::write(&log, "").unwrap();
    let e = fails(&["plot", "curves", "--log", s(&log), "--out", s(&out)]);
    assert!(e.contains("holds no epochs"), "{e}");

    let missing = dir.0.join("nope.jsonl");
    let e = fails(&["plot", "curves", "--log", s(&missing), "--out", s(&out)]);
    assert!(
        e.contains(&format!("cannot read training log {}", missing.display())),
        "{e}"
    );

    let no_model = dir.0.join("missing.json");
    let e = fails(&["plot", "settle", "--model", s(&no_model), "--out", s(&out)]);
    assert!(
        e.contains(&format!("cannot read model file {}", no_model.display())),
        "{e}"
    );

    // an untrained model is enough for argument errors
    let mut cfg = Config::default_config();
    cfg.train.data = DATA.into();
    let model = dir.0.join("model.json");
    ModelFile::new(cfg.clone(), Params::init(&cfg), 16)
        .save(&model)
        .unwrap();
    let e = fails(&[
        "plot",
        "settle",
        "--model",
        s(&model),
        "--sample",
        "100000",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("--sample 100000 is out of range"), "{e}");
    let e = fails(&[
        "plot",
        "settle",
        "--model",
        s(&model),
        "--data",
        s(&dir.0),
        "--out",
        s(&out),
    ]);
    assert!(e.contains(s(&dir.0)), "{e}");

    assert!(!out.exists(), "no SVG is written for a failed plot");
}
