//! The HTML build report (`phasegen report` writes `<stem>.html`), rendered
//! in headless Chromium: the DOM Chromium builds from the page holds the
//! tables and figures, and the numbers it shows equal `<stem>.json`'s; the
//! page is also screenshot (`<stem>.png`, beside it). The model is the
//! default digits network trained here (3 s); the place-and-route report
//! is the fixture nextpnr JSON of the report unit tests.

mod common;

use common::tool;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The text of the element with `id` in the rendered DOM.
fn cell<'a>(dom: &'a str, id: &str) -> &'a str {
    let key = format!("id=\"{id}\">");
    let at = dom
        .find(&key)
        .unwrap_or_else(|| panic!("no element {id} in the rendered page"))
        + key.len();
    let end = at + dom[at..].find('<').expect("a closing tag");
    &dom[at..end]
}

fn chromium(args: &[&str]) -> String {
    tool(
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .args(args),
    )
}

#[test]
fn the_html_report_renders_with_the_json_reports_numbers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir: PathBuf = std::env::temp_dir().join(format!("pg-report-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = env!("CARGO_BIN_EXE_phasegen");
    let model = dir.join("model.json");
    let log = dir.join("train.jsonl");
    tool(Command::new(pg).current_dir(root).args([
        "train",
        "--out",
        model.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]));
    let stem = dir.join("digits.report");
    let out = tool(Command::new(pg).current_dir(root).args([
        "report",
        "--pnr",
        "tests/fixtures/nextpnr_up5k_report.json",
        "--yosys-json",
        "tests/fixtures/yosys_up5k_cells.json",
        "--device",
        "up5k-sg48",
        "--out",
        stem.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--count",
        "120",
        "--tool",
        "yosys=yosys -V",
        "--tool",
        "verilator=verilator --version",
    ]));
    assert!(out.contains("digits.report.html"), "{out}");
    let html = dir.join("digits.report.html");
    let url = format!("file://{}", html.display());
    let dom = chromium(&["--dump-dom", &url]);
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("digits.report.json")).unwrap())
            .unwrap();

    // the sections and figures
    for h in [
        "Design",
        "Formats",
        "Accuracy",
        "Training",
        "Timing",
        "Resources",
        "Throughput",
        "Tools",
    ] {
        assert!(dom.contains(&format!(">{h}</h")), "no section {h}");
    }
    assert!(dom.contains("id=\"fig-curves\"") && dom.contains("id=\"fig-settle\""));
    // Chromium parsed the inline SVG as SVG: bars as rect elements
    let bars = dom.matches("class=\"bar\"").count();
    assert!(bars >= 8, "{bars} bars");
    assert!(dom.matches("<svg").count() >= 6);
    assert!(dom.contains("<tbody>"), "tables as the browser builds them");

    // the numbers against report.json
    let f2 = |v: &Value| format!("{:.2}", v.as_f64().unwrap());
    let clock = &j["clocks"][0];
    assert_eq!(cell(&dom, "fmax-0"), f2(&clock["achieved_mhz"]));
    assert_eq!(cell(&dom, "constraint-0"), f2(&clock["constraint_mhz"]));
    for r in j["resources"].as_array().unwrap() {
        let bel = r["bel"].as_str().unwrap();
        if r["used"].as_u64().unwrap() > 0 {
            assert_eq!(cell(&dom, &format!("used-{bel}")), r["used"].to_string());
            assert_eq!(
                cell(&dom, &format!("avail-{bel}")),
                r["available"].to_string()
            );
        }
    }
    assert_eq!(cell(&dom, "flip-flops"), j["flip_flops"].to_string());
    let acc = &j["accuracy"];
    assert_eq!(acc["count"], 120);
    assert_eq!(
        cell(&dom, "acc-float"),
        format!("{:.2}", 100.0 * acc["float"].as_f64().unwrap())
    );
    assert_eq!(
        cell(&dom, "acc-twin"),
        format!("{:.2}", 100.0 * acc["twin"].as_f64().unwrap())
    );
    let d = &j["design"];
    assert_eq!(
        cell(&dom, "config-hash"),
        d["config_hash"].as_str().unwrap()
    );
    assert_eq!(cell(&dom, "design-id"), d["design_id"].as_str().unwrap());
    let t = &j["throughput"];
    for (id, key) in [
        ("steps", "steps"),
        ("step-cycles", "step_cycles"),
        ("field-cycles", "field_cycles"),
        ("inference-cycles", "inference_cycles"),
        ("request-bytes", "request_bytes"),
    ] {
        assert_eq!(cell(&dom, id), t[key].to_string(), "{id}");
    }
    assert_eq!(cell(&dom, "inferences-per-s"), f2(&t["inferences_per_s"]));
    assert_eq!(
        cell(&dom, "uart-inferences-per-s"),
        f2(&t["uart_inferences_per_s"])
    );
    assert_eq!(
        t["inference_cycles"].as_u64().unwrap(),
        t["steps"].as_u64().unwrap() * t["step_cycles"].as_u64().unwrap()
            + t["field_cycles"].as_u64().unwrap()
    );
    assert!(j["tools"]["yosys"].as_str().unwrap().starts_with("Yosys"));
    assert!(dom.contains(j["tools"]["verilator"].as_str().unwrap()));

    // the screenshot
    let png = dir.join("digits.report.png");
    chromium(&[
        "--window-size=1200,3400",
        &format!("--screenshot={}", png.display()),
        &url,
    ]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(
        bytes.len() > 50_000,
        "a screenshot of {} bytes",
        bytes.len()
    );
    println!(
        "rendered {} ({} bytes), screenshot {} ({} bytes)",
        html.display(),
        std::fs::metadata(&html).unwrap().len(),
        png.display(),
        bytes.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `make capacity`'s trials are untrained (`train.epochs = 0`): their log
/// is empty, and the report is written without the training curves
/// (it used to fail on the empty log, so every trial "did not fit").
#[test]
fn an_untrained_model_gets_a_report_without_curves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir: PathBuf = std::env::temp_dir().join(format!("pg-report-e0-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = env!("CARGO_BIN_EXE_phasegen");
    let cfg = dir.join("cap.toml");
    std::fs::write(
        &cfg,
        "name = 'cap'\n[network]\ninputs = 64\nlayers = [32, 10]\n[train]\nepochs = 0\n",
    )
    .unwrap();
    let (model, log) = (dir.join("model.json"), dir.join("train.jsonl"));
    let p = |x: &Path| x.to_str().unwrap().to_string();
    tool(Command::new(pg).current_dir(root).args([
        "train",
        "--config",
        &p(&cfg),
        "--out",
        &p(&model),
        "--log",
        &p(&log),
    ]));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "");
    let stem = dir.join("cap.report");
    tool(Command::new(pg).current_dir(root).args([
        "report",
        "--pnr",
        "tests/fixtures/nextpnr_up5k_report.json",
        "--device",
        "up5k-sg48",
        "--out",
        &p(&stem),
        "--model",
        &p(&model),
        "--log",
        &p(&log),
        "--count",
        "-1",
    ]));
    let html = std::fs::read_to_string(dir.join("cap.report.html")).unwrap();
    assert!(html.contains("id=\"fig-settle\"") && !html.contains("id=\"fig-curves\""));
    std::fs::remove_dir_all(&dir).ok();
}
