//! `phasegen quantize` and `phasegen sweep` through the real binary: each
//! weight group's format in the report and in the plot, the sweep's table.

mod common;
use common::{fails, ok, TempDir};

fn tiny_model(t: &TempDir) -> std::path::PathBuf {
    let cfg = t.0.join("tiny.toml");
    std::fs::write(
        &cfg,
        "name = 'tiny'\n[network]\ninputs = 64\nlayers = [16, 10]\n[train]\nepochs = 1\nbatch = 16\noptimizer = 'adam'\nlr = 0.005\nlr_bias = 0.005\nlr_schedule = 'constant'\nmax_train = 300\nbeta = 2.0\n",
    )
    .unwrap();
    let model = t.0.join("m.json");
    ok(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    model
}

/// The `| name | Qa.b |` format of a group in the quantize report.
fn format_of(report: &str, group: &str) -> String {
    report
        .lines()
        .find(|l| l.starts_with(&format!("| {group} | Q")))
        .unwrap_or_else(|| panic!("no {group} row in {report}"))
        .split('|')
        .nth(2)
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn quantize_reports_and_plots_each_groups_format() {
    let t = TempDir::new("quantize-cli");
    let model = tiny_model(&t);
    let svg = t.0.join("w.svg");
    let (out, _) = ok(&[
        "quantize",
        "--model",
        model.to_str().unwrap(),
        "--count",
        "50",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(out.contains("settle: "), "{out}");
    assert!(out.contains("test accuracy on 50 samples"), "{out}");
    let (w, u, h) = (
        format_of(&out, "W"),
        format_of(&out, "U"),
        format_of(&out, "h"),
    );
    assert_eq!(h, format_of(&out, "K"), "h and K share a format");
    // beta = 2 holds the shared format at Q3.5; the small untrained-ish
    // weights get more fraction bits
    assert_eq!(h, "Q3.5", "{out}");
    assert_ne!(w, h, "{out}");
    let plot = std::fs::read_to_string(&svg).unwrap();
    for (title, f) in [
        ("coupling weights W", &w),
        ("input weights U", &u),
        ("h, K (and beta)", &h),
    ] {
        assert!(
            plot.contains(&format!("{title} against {f} (8 bits)")),
            "{title} {f} not in the plot"
        );
    }
}

#[test]
fn sweep_prints_accuracy_per_width_and_refuses_bad_ranges() {
    let t = TempDir::new("sweep-cli");
    let model = tiny_model(&t);
    let m = model.to_str().unwrap();
    let (out, _) = ok(&[
        "sweep",
        "--model",
        m,
        "--count",
        "40",
        "--weight-bits",
        "4..5",
        "--phase-bits",
        "4..5",
    ]);
    assert!(out.contains("| weight bits | 4 | 5 |"), "{out}");
    assert!(
        out.contains("| phase bits (table bits) | 4 (3) | 5 (4) |"),
        "{out}"
    );
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("| twin accuracy |"))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    for r in rows {
        // every cell a percentage
        for cell in r.split('|').skip(2).filter(|c| !c.trim().is_empty()) {
            let v: f64 = cell.trim().parse().unwrap_or_else(|_| panic!("{r}"));
            assert!((0.0..=100.0).contains(&v), "{r}");
        }
    }
    let e = fails(&["sweep", "--model", m, "--weight-bits", "1..5"]);
    assert!(e.contains("--weight-bits"), "{e}");
}

/// A model file with a zero full-scale pixel or a weight no format of its
/// config holds is refused by every command that loads it, naming the
/// value; a model whose quantization clips a meaningful share of W says so
/// plainly in `quantize` and `gen`.
#[test]
fn bad_model_files_are_refused_and_clipping_is_said() {
    let t = TempDir::new("model-check");
    let model = tiny_model(&t);
    let text = std::fs::read_to_string(&model).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let write = |v: &serde_json::Value, name: &str| {
        let p = t.0.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let mut zero = v.clone();
    zero["max_pixel"] = 0.into();
    let zero = write(&zero, "zero.json");
    let mut huge = v.clone();
    huge["params"]["w"][3] = serde_json::json!(1e30);
    let huge = write(&huge, "huge.json");
    let gen_dir = t.0.join("gen");
    for (m, want) in [(&zero, "max_pixel = 0"), (&huge, "parameter `w`[3]")] {
        let m = m.to_str().unwrap();
        for args in [
            vec!["quantize", "--model", m],
            vec!["eval", "--model", m],
            vec!["sweep", "--model", m],
            vec!["gen", "--model", m, "--out", gen_dir.to_str().unwrap()],
        ] {
            let e = fails(&args);
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
    // every W pinned to a format too narrow for it: most values clip
    v["config"]["hardware"]["weight_frac"] = 7.into();
    v["config"]["hardware"]["w_frac"] = 7.into();
    let w = v["params"]["w"].as_array_mut().unwrap();
    for x in w.iter_mut() {
        *x = serde_json::json!(x.as_f64().unwrap().signum() * 1.5);
    }
    let clipped = write(&v, "clipped.json");
    let c = clipped.to_str().unwrap();
    let (out, _) = ok(&["quantize", "--model", c, "--count", "20"]);
    assert!(
        out.contains("warning: quantization clipped") && out.contains(" W values"),
        "{out}"
    );
    let (_, err) = ok(&["gen", "--model", c, "--out", gen_dir.to_str().unwrap()]);
    assert!(err.contains("warning: quantization clipped"), "{err}");
}
