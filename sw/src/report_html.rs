//! One self-contained HTML page per build (`<stem>.html` beside `phasegen
//! report`'s `.md` and `.json`): the network and its formats, float and
//! twin accuracy, training curves and one sample settling, the format sweep
//! when one was run, resource use as bars, Fmax per clock against its
//! constraint, the schedule's cycles and the inference rate against the
//! UART's, the config hash and design id, and the tools' versions.
//!
//! Inline SVG and CSS only: no script, no font or file fetched, so the page
//! opens the same anywhere, offline. Every figure the page shows is also in
//! [`Facts::to_json`], which `phasegen report` merges into `<stem>.json`;
//! `tests/report_html.rs` renders the page in headless Chromium and holds
//! the rendered numbers against that file.

use crate::plot::escape;
use crate::report::{bel_name, Report};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// What the model file says about the design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub name: String,
    pub inputs: usize,
    pub layers: Vec<usize>,
    pub intralayer: bool,
    /// The hardware formats, by config key, in the config's order.
    pub formats: Vec<(String, String)>,
    pub config_hash: String,
    pub design_id: u32,
    pub clock_hz: u64,
    pub clock: String,
    pub baud: u64,
    pub steps: u64,
    pub step_cycles: u64,
    pub field_cycles: u64,
    /// Bytes on the UART per inference (the Infer frames of one sample).
    pub request_bytes: u64,
    /// Reply bytes per inference.
    pub reply_bytes: u64,
}

impl Design {
    /// Cycles of one inference: the field stream and `steps` steps (the
    /// pipelines' fill, a few tens of cycles, left out).
    pub fn inference_cycles(&self) -> u64 {
        self.steps * self.step_cycles + self.field_cycles
    }

    pub fn steps_per_s(&self) -> f64 {
        self.clock_hz as f64 / self.step_cycles as f64
    }

    pub fn inferences_per_s(&self) -> f64 {
        self.clock_hz as f64 / self.inference_cycles() as f64
    }

    /// Inferences per second the UART carries (10 bits a byte, requests
    /// streamed back to back; the reply travels the other way at once).
    pub fn uart_inferences_per_s(&self) -> f64 {
        self.baud as f64 / 10.0 / self.request_bytes as f64
    }
}

/// Test accuracy of the float model and of the twin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    pub count: usize,
    pub float: f64,
    pub twin: f64,
}

/// Everything the page shows.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub design: Option<Design>,
    pub accuracy: Option<Accuracy>,
    /// `plot curves`'s SVG of the training log.
    pub curves: Option<String>,
    /// `plot settle`'s SVG of test sample 0.
    pub settle: Option<String>,
    /// `phasegen sweep --json`'s output.
    pub sweep: Option<Value>,
    /// Tool and version line, as each tool prints it.
    pub tools: Vec<(String, String)>,
    pub bitstream: Option<String>,
}

/// Two decimals, as the page prints MHz, percentages and rates.
pub fn fmt2(v: f64) -> String {
    format!("{v:.2}")
}

impl Facts {
    /// The facts for `<stem>.json` (keys `design`, `accuracy`,
    /// `throughput`, `tools`; absent facts are left out).
    pub fn to_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        if let Some(d) = &self.design {
            o.insert(
                "design".into(),
                json!({
                    "name": d.name,
                    "inputs": d.inputs,
                    "layers": d.layers,
                    "intralayer": d.intralayer,
                    "formats": d.formats.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                    "config_hash": d.config_hash,
                    "design_id": format!("{:08x}", d.design_id),
                    "clock_hz": d.clock_hz,
                    "baud": d.baud,
                }),
            );
            o.insert(
                "throughput".into(),
                json!({
                    "steps": d.steps,
                    "step_cycles": d.step_cycles,
                    "field_cycles": d.field_cycles,
                    "inference_cycles": d.inference_cycles(),
                    "steps_per_s": d.steps_per_s(),
                    "inferences_per_s": d.inferences_per_s(),
                    "request_bytes": d.request_bytes,
                    "reply_bytes": d.reply_bytes,
                    "uart_inferences_per_s": d.uart_inferences_per_s(),
                }),
            );
        }
        if let Some(a) = &self.accuracy {
            o.insert(
                "accuracy".into(),
                json!({ "count": a.count, "float": a.float, "twin": a.twin }),
            );
        }
        if !self.tools.is_empty() {
            o.insert(
                "tools".into(),
                Value::Object(
                    self.tools
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
        Value::Object(o)
    }
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}\
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}code{font-size:.9em}";

/// A table row of cells; a cell with an id is a number the test reads.
fn row(cells: &[(&str, Option<&str>)], head: bool) -> String {
    let mut s = String::from("<tr>");
    for (text, id) in cells {
        let tag = if head { "th" } else { "td" };
        match id {
            Some(id) => {
                let _ = write!(s, "<{tag} class=\"n\" id=\"{id}\">{}</{tag}>", escape(text));
            }
            None => {
                let _ = write!(s, "<{tag}>{}</{tag}>", escape(text));
            }
        }
    }
    s.push_str("</tr>");
    s
}

/// Horizontal bars, one per `(label, value, full, id)`, each drawn against
/// its own full scale, with the fraction printed; with `warn`, a bar above
/// 90 % is red (a device nearly full, a clock near its limit).
fn bars(title: &str, items: &[(String, f64, f64, String)], warn: bool) -> String {
    let (w, lw, bh) = (760.0, 250.0, 22.0);
    let h = 30.0 + bh * 1.5 * items.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    let _ = write!(
        s,
        "<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"600\">{}</text>",
        escape(title)
    );
    let span = w - lw - 140.0;
    for (k, (label, v, full, id)) in items.iter().enumerate() {
        let y = 28.0 + k as f64 * bh * 1.5;
        let ratio = if *full > 0.0 { v / full } else { 0.0 };
        let f = ratio.min(1.0);
        let color = if warn && f > 0.9 {
            "#cf222e"
        } else {
            "#2f6fb0"
        };
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\">{}</text>\
<rect x=\"{lw}\" y=\"{y:.1}\" width=\"{span:.1}\" height=\"{bh}\" fill=\"#eee\"/>\
<rect class=\"bar\" id=\"{id}\" x=\"{lw}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh}\" fill=\"{color}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\">{:.1} %</text>",
            y + 15.0,
            escape(label),
            span * f,
            lw + span + 8.0,
            y + 15.0,
            100.0 * ratio
        );
    }
    s.push_str("</svg>");
    s
}

/// The page.
pub fn render(rep: &Report, facts: &Facts) -> String {
    let met = rep.timing_met();
    let name = facts
        .design
        .as_ref()
        .map_or("design".to_string(), |d| d.name.clone());
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} on {}: build report</title><style>{STYLE}</style></head><body>",
        escape(&name),
        escape(&rep.device)
    );
    let _ = write!(
        h,
        "<h1>{} on {}: <span id=\"verdict\" class=\"{}\">{}</span></h1>",
        escape(&name),
        escape(&rep.device),
        if met { "pass" } else { "fail" },
        if met { "timing met" } else { "timing NOT met" }
    );

    // ---- the design
    if let Some(d) = &facts.design {
        h.push_str("<h2>Design</h2><table>");
        let net = format!(
            "{}-{}{}",
            d.inputs,
            d.layers
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join("-"),
            if d.intralayer {
                ", intralayer coupling"
            } else {
                ""
            }
        );
        for (k, v, id) in [
            ("network", net.as_str(), None),
            ("config hash", d.config_hash.as_str(), Some("config-hash")),
            (
                "design id",
                &format!("{:08x}", d.design_id),
                Some("design-id"),
            ),
            ("core clock", d.clock.as_str(), None),
            ("UART", &format!("{} baud", d.baud), None),
        ] {
            h.push_str(&row(&[(k, None), (v, id)], false));
        }
        if let Some(b) = &facts.bitstream {
            h.push_str(&row(&[("bitstream", None), (b, None)], false));
        }
        h.push_str("</table><h3>Formats</h3><table>");
        h.push_str(&row(&[("hardware key", None), ("value", None)], true));
        for (k, v) in &d.formats {
            h.push_str(&row(&[(k, None), (v, Some(&format!("fmt-{k}")))], false));
        }
        h.push_str("</table>");
    }

    // ---- accuracy
    if let Some(a) = &facts.accuracy {
        let _ = write!(
            h,
            "<h2>Accuracy</h2><p>On {} test images; the twin is the hardware, bit for bit.</p><table>",
            a.count
        );
        h.push_str(&row(&[("model", None), ("test accuracy (%)", None)], true));
        h.push_str(&row(
            &[("float", None), (&fmt2(100.0 * a.float), Some("acc-float"))],
            false,
        ));
        h.push_str(&row(
            &[
                ("twin (= hardware)", None),
                (&fmt2(100.0 * a.twin), Some("acc-twin")),
            ],
            false,
        ));
        h.push_str("</table>");
        h.push_str(&bars(
            "test accuracy",
            &[
                ("float".into(), a.float, 1.0, "bar-acc-float".into()),
                ("twin".into(), a.twin, 1.0, "bar-acc-twin".into()),
            ],
            false,
        ));
    }
    if facts.curves.is_some() || facts.settle.is_some() {
        h.push_str("<h2>Training</h2><div class=\"figs\">");
        for (id, svg) in [("curves", &facts.curves), ("settle", &facts.settle)] {
            if let Some(svg) = svg {
                let _ = write!(h, "<figure id=\"fig-{id}\">{}</figure>", strip_prolog(svg));
            }
        }
        h.push_str("</div>");
    }
    if let Some(sw) = &facts.sweep {
        h.push_str(&sweep_tables(sw));
    }

    // ---- timing
    h.push_str("<h2>Timing</h2>");
    if let Some(c) = &rep.clock {
        let _ = write!(h, "<p>Core clock: {}.</p>", escape(c));
    }
    h.push_str("<table>");
    h.push_str(&row(
        &[
            ("clock", None),
            ("Fmax (MHz)", None),
            ("constraint (MHz)", None),
            ("result", None),
        ],
        true,
    ));
    for (k, c) in rep.clocks.iter().enumerate() {
        h.push_str(&row(
            &[
                (&c.name, None),
                (&fmt2(c.achieved_mhz), Some(&format!("fmax-{k}"))),
                (&fmt2(c.constraint_mhz), Some(&format!("constraint-{k}"))),
                (if c.met { "PASS" } else { "FAIL" }, None),
            ],
            false,
        ));
    }
    h.push_str("</table>");
    let clock_bars: Vec<_> = rep
        .clocks
        .iter()
        .enumerate()
        .map(|(k, c)| {
            (
                format!("constraint / Fmax, {}", short(&c.name)),
                c.constraint_mhz,
                c.achieved_mhz,
                format!("bar-clock-{k}"),
            )
        })
        .collect();
    h.push_str(&bars(
        "clock constraint as a share of Fmax (above 100 %: not met)",
        &clock_bars,
        true,
    ));

    // ---- resources
    h.push_str("<h2>Resources</h2><table>");
    h.push_str(&row(
        &[
            ("resource", None),
            ("BEL", None),
            ("used", None),
            ("available", None),
            ("use (%)", None),
        ],
        true,
    ));
    let shown: Vec<_> = rep
        .resources
        .iter()
        .filter(|r| r.used > 0 || bel_name(&r.bel).is_some())
        .collect();
    for r in &shown {
        let pct = 100.0 * r.used as f64 / r.available.max(1) as f64;
        h.push_str(&row(
            &[
                (bel_name(&r.bel).unwrap_or("other"), None),
                (&r.bel, None),
                (&r.used.to_string(), Some(&format!("used-{}", r.bel))),
                (&r.available.to_string(), Some(&format!("avail-{}", r.bel))),
                (&fmt2(pct), None),
            ],
            false,
        ));
    }
    if let Some(ff) = rep.flip_flops {
        h.push_str(&row(
            &[
                ("Flip-flops (Yosys netlist)", None),
                ("", None),
                (&ff.to_string(), Some("flip-flops")),
                ("", None),
                ("", None),
            ],
            false,
        ));
    }
    h.push_str("</table>");
    let res_bars: Vec<_> = shown
        .iter()
        .map(|r| {
            (
                format!(
                    "{} ({}/{})",
                    bel_name(&r.bel).unwrap_or(&r.bel),
                    r.used,
                    r.available
                ),
                r.used as f64,
                r.available as f64,
                format!("bar-res-{}", r.bel),
            )
        })
        .collect();
    h.push_str(&bars("use of the device", &res_bars, true));

    // ---- throughput
    if let Some(d) = &facts.design {
        h.push_str("<h2>Throughput</h2><table>");
        let mhz = d.clock_hz as f64 / 1e6;
        for (k, v, id) in [
            ("steps per inference", d.steps.to_string(), "steps"),
            ("cycles per step", d.step_cycles.to_string(), "step-cycles"),
            (
                "cycles of the input field",
                d.field_cycles.to_string(),
                "field-cycles",
            ),
            (
                "cycles per inference",
                d.inference_cycles().to_string(),
                "inference-cycles",
            ),
            (
                &format!("steps/s at {mhz} MHz"),
                format!("{:.0}", d.steps_per_s()),
                "steps-per-s",
            ),
            (
                &format!("inferences/s at {mhz} MHz"),
                fmt2(d.inferences_per_s()),
                "inferences-per-s",
            ),
            (
                "UART bytes per inference (requests)",
                d.request_bytes.to_string(),
                "request-bytes",
            ),
            (
                &format!("inferences/s the UART carries at {} baud", d.baud),
                fmt2(d.uart_inferences_per_s()),
                "uart-inferences-per-s",
            ),
        ] {
            h.push_str(&row(&[(k, None), (&v, Some(id))], false));
        }
        h.push_str("</table>");
        let bound = if d.uart_inferences_per_s() < d.inferences_per_s() {
            "the UART"
        } else {
            "the core"
        };
        let _ = write!(
            h,
            "<p id=\"bound\">Streaming inferences, {bound} sets the pace (docs/protocol.md: two requests in flight keep the line busy).</p>"
        );
        let top = d.inferences_per_s().max(d.uart_inferences_per_s());
        h.push_str(&bars(
            "inferences per second, against the faster of the two",
            &[
                (
                    "core".into(),
                    d.inferences_per_s(),
                    top,
                    "bar-core-rate".into(),
                ),
                (
                    "UART".into(),
                    d.uart_inferences_per_s(),
                    top,
                    "bar-uart-rate".into(),
                ),
            ],
            false,
        ));
    }

    // ---- tools
    if !facts.tools.is_empty() {
        h.push_str("<h2>Tools</h2><table>");
        for (k, v) in &facts.tools {
            h.push_str(&row(&[(k, None), (v, None)], false));
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    h
}

/// An SVG document's text without its XML declaration, to inline it.
fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(k) => &svg[k..],
        None => svg,
    }
}

/// A clock net's name without nextpnr's suffixes.
fn short(name: &str) -> &str {
    name.split('$').next().unwrap_or(name)
}

/// `phasegen sweep --json`'s two tables.
fn sweep_tables(sw: &Value) -> String {
    let mut h = String::from("<h2>Format sweep</h2>");
    let acc = |p: &Value| -> String {
        match p.get("accuracy") {
            Some(Value::Object(o)) => match (o.get("Ok"), o.get("Err")) {
                (Some(v), _) => v.as_f64().map_or("?".into(), |a| fmt2(100.0 * a)),
                (_, Some(e)) => format!("– ({})", e.as_str().unwrap_or("cannot build")),
                _ => "?".into(),
            },
            _ => "?".into(),
        }
    };
    if let Some(n) = sw.get("samples").and_then(Value::as_u64) {
        let _ = write!(
            h,
            "<p>Twin test accuracy (%) on {n} samples, one format changed at a time (<code>phasegen sweep</code>).</p>"
        );
    }
    for (key, head, field) in [
        ("weights", "weight bits", "weight_bits"),
        ("phases", "phase bits", "phase_bits"),
    ] {
        let Some(points) = sw.get(key).and_then(Value::as_array) else {
            continue;
        };
        h.push_str("<table>");
        let mut heads = vec![head.to_string()];
        let mut cells = vec!["twin accuracy".to_string()];
        for p in points {
            heads.push(p.get(field).map_or("?".into(), |v| v.to_string()));
            cells.push(acc(p));
        }
        let hv: Vec<(&str, Option<&str>)> = heads.iter().map(|s| (s.as_str(), None)).collect();
        let cv: Vec<(&str, Option<&str>)> = cells.iter().map(|s| (s.as_str(), None)).collect();
        h.push_str(&row(&hv, true));
        h.push_str(&row(&cv, false));
        h.push_str("</table>");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report::from_nextpnr_json(
            include_str!("../../tests/fixtures/nextpnr_up5k_report.json"),
            "up5k-sg48",
        )
        .unwrap()
    }

    #[test]
    fn the_page_is_self_contained_and_shows_the_report() {
        let rep = report();
        let d = Design {
            name: "digits".into(),
            inputs: 64,
            layers: vec![32, 10],
            intralayer: false,
            formats: vec![("phase_bits".into(), "12".into())],
            config_hash: "0123456789abcdef".into(),
            design_id: 0xdeadbeef,
            clock_hz: 12_000_000,
            clock: "12 MHz oscillator".into(),
            baud: 115_200,
            steps: 70,
            step_cycles: 100,
            field_cycles: 64,
            request_bytes: 72,
            reply_bytes: 5,
        };
        let f = Facts {
            design: Some(d.clone()),
            accuracy: Some(Accuracy {
                count: 10,
                float: 0.9,
                twin: 0.8,
            }),
            ..Default::default()
        };
        let page = render(&rep, &f);
        for needle in [
            "id=\"acc-twin\">80.00<",
            "id=\"design-id\">deadbeef<",
            "id=\"inference-cycles\">7064<",
            "id=\"fmt-phase_bits\">12<",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        // nothing fetched, nothing run
        for banned in ["<script", "http://", "https://", "<link", "@import", "src="] {
            let ok = !page.contains(banned)
                || (banned == "http://"
                    && page.matches("http://").count()
                        == page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
            assert!(ok, "{banned} in the page");
        }
        assert_eq!(d.inference_cycles(), 7064);
        assert!((d.uart_inferences_per_s() - 160.0).abs() < 1e-9);
        let j = f.to_json();
        assert_eq!(j["throughput"]["inference_cycles"], 7064);
        assert_eq!(j["design"]["design_id"], "deadbeef");
        // same facts, same bytes
        assert_eq!(page, render(&rep, &f));
    }
}
