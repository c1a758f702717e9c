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
