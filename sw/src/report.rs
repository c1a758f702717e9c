//! The implementation report: resource use and Fmax after place and route.
//!
//! Input is the JSON nextpnr writes with `--report FILE` (the same layout in
//! nextpnr 0.4 for iCE40 and 0.11 for ECP5):
//!
//! ```text
//! { "fmax":        { "<clock net>": { "achieved": MHz, "constraint": MHz } },
//!   "utilization": { "<BEL type>":  { "available": n, "used": n } },
//!   "critical_paths": [ { "from": "posedge <clk>", "to": ..., "path": [
//!       { "type": "clk-to-q|routing|logic|setup|source", "delay": ns,
//!         "from": { "cell", "port", "loc" }, "to": {...}, "net"? } ] } ] }
//! ```
//!
//! nextpnr's iCE40 utilization counts logic cells (`ICESTORM_LC`: one LUT4,
//! one carry and one flip-flop each) but not flip-flops on their own, so the
//! flip-flop count comes from the Yosys JSON netlist when it is given.
//!
//! Output: `<stem>.md` for people, `<stem>.json` for scripts and CI. A clock
//! meets timing when its achieved Fmax is at least its constraint, the same
//! test nextpnr prints as PASS/FAIL.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One clock domain's timing after routing.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockReport {
    /// The clock net as nextpnr names it, e.g. `CLK$SB_IO_IN_$glb_clk`.
    pub name: String,
    pub achieved_mhz: f64,
    pub constraint_mhz: f64,
    pub met: bool,
}

/// Use of one BEL (basic element) type.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// nextpnr's BEL type, e.g. `ICESTORM_LC`, `ICESTORM_DSP`, `DP16KD`.
    pub bel: String,
    pub used: u64,
    pub available: u64,
}

/// The worst path nextpnr found between one pair of clock domains.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalPath {
    /// Launch domain, e.g. `posedge CLK$SB_IO_IN_$glb_clk` or `<async>`.
    pub from: String,
    /// Capture domain.
    pub to: String,
    /// First and last cell on the path.
    pub start_cell: String,
    pub end_cell: String,
    /// Sum of all segment delays (clock-to-out, routing, logic, setup).
    pub delay_ns: f64,
    /// Number of `logic` segments (LUTs, carries, DSP/RAM internals).
    pub logic_levels: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Part as given by the caller (e.g. `up5k-sg48`), or the family
    /// inferred from the BEL names when the caller gave none.
    pub device: String,
    pub clocks: Vec<ClockReport>,
    /// Every BEL type nextpnr listed, in its (alphabetical) order.
    pub resources: Vec<Resource>,
    pub critical_paths: Vec<CriticalPath>,
    /// Flip-flop cells in the Yosys netlist, when it was read.
    pub flip_flops: Option<u64>,
    /// How the core clock is made (oscillator, PLL setting, achieved
    /// frequency), when the caller knows it.
    pub clock: Option<String>,
}

/// BEL types shown in the summary table, in this order, with a readable name.
/// The rest appear under "other" when used.
const KNOWN_BELS: &[(&str, &str)] = &[
    ("ICESTORM_LC", "Logic cells (LUT4 + FF)"),
    ("TRELLIS_COMB", "LUT4"),
    ("TRELLIS_SLICE", "Slices (2 LUT4 + 2 FF)"),
    ("TRELLIS_FF", "Flip-flops"),
    ("ICESTORM_DSP", "DSP (SB_MAC16)"),
    ("MULT18X18D", "DSP (MULT18X18D)"),
    ("ICESTORM_RAM", "Block RAM (4 kbit)"),
    ("DP16KD", "Block RAM (DP16KD, 18 kbit)"),
    ("ICESTORM_SPRAM", "SPRAM (256 kbit)"),
    ("SB_IO", "I/O"),
    ("TRELLIS_IO", "I/O"),
    ("SB_GB", "Global buffers"),
    ("DCCA", "Global buffers (DCCA)"),
    ("ICESTORM_PLL", "PLL"),
    ("EHXPLLL", "PLL"),
];

/// A BEL type's readable name, if the summary knows it.
pub fn bel_name(bel: &str) -> Option<&'static str> {
    KNOWN_BELS.iter().find(|(b, _)| *b == bel).map(|(_, n)| *n)
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value> {
    obj.get(key)
        .with_context(|| format!("{what} has no `{key}` field"))
}

fn number(obj: &Map<String, Value>, key: &str, what: &str) -> Result<f64> {
    let v = field(obj, key, what)?;
    v.as_f64()
        .with_context(|| format!("{what}: `{key}` is {v}, expected a number"))
}

fn count(obj: &Map<String, Value>, key: &str, what: &str) -> Result<u64> {
    let v = field(obj, key, what)?;
    v.as_u64()
        .with_context(|| format!("{what}: `{key}` is {v}, expected a non-negative integer"))
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .with_context(|| format!("{what} is {}, expected a JSON object", kind(v)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))
}

impl Report {
    /// Parse nextpnr's `--report` JSON. `device` names the part in the
    /// report; pass "" to label it with the family seen in the BEL names.
    pub fn from_nextpnr_json(text: &str, device: &str) -> Result<Report> {
        let root = parse_json(text, "nextpnr report")?;
        let root = object(&root, "nextpnr report")?;
        let not_report = "; is this a file written by nextpnr --report?";

        let fmax = root
            .get("fmax")
            .with_context(|| format!("nextpnr report has no `fmax` object{not_report}"))?;
        let mut clocks = Vec::new();
        for (name, v) in object(fmax, "nextpnr report `fmax`")? {
            let what = format!("nextpnr report: fmax of clock `{name}`");
            let o = object(v, &what)?;
            let achieved_mhz = number(o, "achieved", &what)?;
            let constraint_mhz = number(o, "constraint", &what)?;
            clocks.push(ClockReport {
                name: name.clone(),
                achieved_mhz,
                constraint_mhz,
                met: achieved_mhz >= constraint_mhz,
            });
        }

        let util = root
            .get("utilization")
            .with_context(|| format!("nextpnr report has no `utilization` object{not_report}"))?;
        let mut resources = Vec::new();
        for (bel, v) in object(util, "nextpnr report `utilization`")? {
            let what = format!("nextpnr report: utilization of `{bel}`");
            let o = object(v, &what)?;
            resources.push(Resource {
                bel: bel.clone(),
                used: count(o, "used", &what)?,
                available: count(o, "available", &what)?,
            });
        }

        let mut critical_paths = Vec::new();
        if let Some(paths) = root.get("critical_paths") {
            let paths = paths.as_array().with_context(|| {
                format!(
                    "nextpnr report: `critical_paths` is {}, expected an array",
                    kind(paths)
                )
            })?;
            for (i, p) in paths.iter().enumerate() {
                critical_paths.push(
                    critical_path(p)
                        .with_context(|| format!("nextpnr report: critical_paths[{i}]"))?,
                );
            }
        }

        let device = if device.is_empty() {
            infer_family(&resources).to_string()
        } else {
            device.to_string()
        };
        Ok(Report {
            device,
            clocks,
            resources,
            critical_paths,
            flip_flops: None,
            clock: None,
        })
    }

    /// True when every clock reaches its constraint (also when there is no
    /// clock at all: nothing was constrained).
    pub fn timing_met(&self) -> bool {
        self.clocks.iter().all(|c| c.met)
    }

    pub fn resource(&self, bel: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.bel == bel)
    }

    /// When every global buffer is used, what that means: nextpnr promotes
    /// the nets of highest fanout (clock, resets, clock enables) to global
    /// buffers until none is left, so a full row is the normal result of
    /// that promotion, not a limit the design ran into.
    pub fn global_buffer_note(&self) -> Option<String> {
        ["SB_GB", "DCCA"].iter().find_map(|bel| {
            let r = self.resource(bel)?;
            (r.available > 0 && r.used >= r.available).then(|| {
                format!(
                    "Global buffers at 100 % ({} of {}) is normal: nextpnr promotes the nets of highest fanout (clock, resets, clock enables) to global buffers until none is left; the other nets use general routing, and timing above says whether that costs anything.",
                    r.used, r.available
                )
            })
        })
    }

    /// The few lines a flow ends with: timing against the constraint and
    /// the main resources, each as used / available (percent).
    pub fn summary_lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        for c in &self.clocks {
            v.push(format!(
                "Fmax {:.2} MHz against the {:.2} MHz constraint ({:+.0} %): {}",
                c.achieved_mhz,
                c.constraint_mhz,
                if c.constraint_mhz > 0.0 {
                    (c.achieved_mhz / c.constraint_mhz - 1.0) * 100.0
                } else {
                    0.0
                },
                if c.met {
                    "timing met"
                } else {
                    "TIMING NOT MET"
                }
            ));
        }
        let main: Vec<String> = KNOWN_BELS
            .iter()
            .filter(|(bel, _)| !matches!(*bel, "SB_IO" | "TRELLIS_IO" | "SB_GB" | "DCCA"))
            .filter_map(|(bel, label)| {
                let r = self.resource(bel)?;
                (r.used > 0 || bel.contains("LC") || bel.contains("COMB")).then(|| {
                    format!(
                        "{label} {}/{} ({:.0} %)",
                        r.used,
                        r.available,
                        if r.available > 0 {
                            100.0 * r.used as f64 / r.available as f64
                        } else {
                            0.0
                        }
                    )
                })
            })
            .collect();
        if !main.is_empty() {
            v.push(main.join(", "));
        }
        v
    }

    /// Count flip-flop cells in a Yosys JSON netlist (`write_json`, or
    /// `synth_* -json`) and record them in the report.
    pub fn add_yosys_netlist(&mut self, yosys_json: &str) -> Result<()> {
        self.flip_flops = Some(count_flip_flops(yosys_json)?);
        Ok(())
    }

    fn failing_clocks(&self) -> Vec<String> {
        self.clocks
            .iter()
            .filter(|c| !c.met)
            .map(|c| {
                format!(
                    "clock `{}` reaches {:.2} MHz but the constraint is {:.2} MHz",
                    c.name, c.achieved_mhz, c.constraint_mhz
                )
            })
            .collect()
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let verdict = if self.timing_met() {
            "timing met"
        } else {
            "TIMING NOT MET"
        };
        let _ = writeln!(s, "# Implementation report: {} ({verdict})\n", self.device);

        let _ = writeln!(s, "## Timing\n");
        if let Some(c) = &self.clock {
            let _ = writeln!(s, "Core clock: {c}.\n");
        }
        if self.clocks.is_empty() {
            let _ = writeln!(s, "No constrained clocks.\n");
        } else {
            let _ = writeln!(
                s,
                "| Clock | Fmax (MHz) | Constraint (MHz) | Margin | Result |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---|");
            for c in &self.clocks {
                let margin = if c.constraint_mhz > 0.0 {
                    format!(
                        "{:+.0} %",
                        (c.achieved_mhz / c.constraint_mhz - 1.0) * 100.0
                    )
                } else {
                    "-".into()
                };
                let _ = writeln!(
                    s,
                    "| `{}` | {:.2} | {:.2} | {margin} | {} |",
                    c.name,
                    c.achieved_mhz,
                    c.constraint_mhz,
                    if c.met { "PASS" } else { "**FAIL**" }
                );
            }
            s.push('\n');
        }

        let _ = writeln!(s, "## Resources\n");
        let _ = writeln!(s, "| Resource | BEL | Used | Available | Use |");
        let _ = writeln!(s, "|---|---|---:|---:|---:|");
        let row = |s: &mut String, label: &str, bel: &str, used: u64, avail: Option<u64>| {
            let (avail, pct) = match avail {
                Some(a) if a > 0 => (
                    a.to_string(),
                    format!("{:.1} %", used as f64 * 100.0 / a as f64),
                ),
                Some(a) => (a.to_string(), "-".into()),
                None => ("-".into(), "-".into()),
            };
            let _ = writeln!(s, "| {label} | {bel} | {used} | {avail} | {pct} |");
        };
        for (bel, label) in KNOWN_BELS {
            if let Some(r) = self.resource(bel) {
                row(&mut s, label, bel, r.used, Some(r.available));
            }
        }
        if let Some(ff) = self.flip_flops {
            if self.resource("TRELLIS_FF").is_none() {
                // One flip-flop per iCE40 logic cell bounds the count.
                let avail = self.resource("ICESTORM_LC").map(|r| r.available);
                row(&mut s, "Flip-flops (Yosys netlist)", "SB_DFF*", ff, avail);
            }
        }
        for r in &self.resources {
            if r.used > 0 && !KNOWN_BELS.iter().any(|(b, _)| *b == r.bel) {
                row(&mut s, "other", &r.bel, r.used, Some(r.available));
            }
        }
        s.push('\n');
        if let Some(note) = self.global_buffer_note() {
            let _ = writeln!(s, "{note}\n");
        }

        if !self.critical_paths.is_empty() {
            let _ = writeln!(s, "## Critical paths\n");
            let _ = writeln!(
                s,
                "| From | To | Start cell | End cell | Delay (ns) | Logic levels |"
            );
            let _ = writeln!(s, "|---|---|---|---|---:|---:|");
            for p in &self.critical_paths {
                let _ = writeln!(
                    s,
                    "| `{}` | `{}` | `{}` | `{}` | {:.2} | {} |",
                    p.from, p.to, p.start_cell, p.end_cell, p.delay_ns, p.logic_levels
                );
            }
        }
        s
    }

    /// Machine-readable form: `{device, timing_met, clocks, resources,
    /// flip_flops, clock, critical_paths}`; frequencies in MHz, delays in ns.
    pub fn to_json(&self) -> String {
        let clocks: Vec<Value> = self
            .clocks
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "achieved_mhz": c.achieved_mhz,
                    "constraint_mhz": c.constraint_mhz,
                    "met": c.met,
                })
            })
            .collect();
        let resources: Vec<Value> = self
            .resources
            .iter()
            .map(|r| json!({ "bel": r.bel, "used": r.used, "available": r.available }))
            .collect();
        let paths: Vec<Value> = self
            .critical_paths
            .iter()
            .map(|p| {
                json!({
                    "from": p.from,
                    "to": p.to,
                    "start_cell": p.start_cell,
                    "end_cell": p.end_cell,
                    "delay_ns": p.delay_ns,
                    "logic_levels": p.logic_levels,
                })
            })
            .collect();
        let v = json!({
            "device": self.device,
            "timing_met": self.timing_met(),
            "clocks": clocks,
            "resources": resources,
            "flip_flops": self.flip_flops,
            "clock": self.clock,
            "critical_paths": paths,
        });
        format!("{v:#}\n")
    }
}

fn critical_path(p: &Value) -> Result<CriticalPath> {
    let o = object(p, "entry")?;
    let text = |key: &str| -> Result<String> {
        let v = field(o, key, "entry")?;
        v.as_str()
            .map(str::to_string)
            .with_context(|| format!("`{key}` is {}, expected a string", kind(v)))
    };
    let from = text("from")?;
    let to = text("to")?;
    let segs = field(o, "path", "entry")?
        .as_array()
        .context("`path` is not an array")?;
    let mut delay_ns = 0.0;
    let mut logic_levels = 0;
    let mut cells = Vec::new();
    for (j, seg) in segs.iter().enumerate() {
        let what = format!("path[{j}]");
        let so = object(seg, &what)?;
        delay_ns += number(so, "delay", &what)?;
        if so.get("type").and_then(Value::as_str) == Some("logic") {
            logic_levels += 1;
        }
        for end in ["from", "to"] {
            if let Some(cell) = so
                .get(end)
                .and_then(|e| e.get("cell"))
                .and_then(Value::as_str)
            {
                cells.push(cell);
            }
        }
    }
    // Segment 0 is clock-to-out (or `source`), which lists the launching
    // cell as `from` on clk-to-q but as `to` on inputs; take the cell the
    // first routing segment leaves from when there is one.
    let start_cell = segs
        .iter()
        .find(|s| s.get("type").and_then(Value::as_str) == Some("routing"))
        .and_then(|s| s.get("from")?.get("cell")?.as_str())
        .or_else(|| cells.first().copied())
        .unwrap_or("")
        .to_string();
    let end_cell = cells.last().copied().unwrap_or("").to_string();
    Ok(CriticalPath {
        from,
        to,
        start_cell,
        end_cell,
        delay_ns,
        logic_levels,
    })
}

fn infer_family(resources: &[Resource]) -> &'static str {
    if resources.iter().any(|r| r.bel.starts_with("ICESTORM_")) {
        "iCE40"
    } else if resources.iter().any(|r| r.bel.starts_with("TRELLIS_")) {
        "ECP5"
    } else {
        "unknown device"
    }
}

/// Flip-flop cells in a Yosys JSON netlist: iCE40 `SB_DFF*` and ECP5
/// `TRELLIS_FF`, summed over the non-blackbox modules (synth_* flattens the
/// design, so that is the top module).
pub fn count_flip_flops(yosys_json: &str) -> Result<u64> {
    let root = parse_json(yosys_json, "Yosys netlist")?;
    let modules = root
        .get("modules")
        .context("Yosys netlist has no `modules` object; is it a Yosys write_json file?")?;
    let mut n = 0;
    for (name, m) in object(modules, "Yosys netlist `modules`")? {
        let blackbox = m
            .get("attributes")
            .and_then(|a| a.get("blackbox"))
            .is_some();
        if blackbox {
            continue;
        }
        let Some(cells) = m.get("cells") else {
            continue;
        };
        for (cname, c) in object(cells, &format!("Yosys netlist: cells of `{name}`"))? {
            let ty = c.get("type").and_then(Value::as_str).with_context(|| {
                format!("Yosys netlist: cell `{cname}` in `{name}` has no `type` string")
            })?;
            if ty.starts_with("SB_DFF") || ty == "TRELLIS_FF" {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// `stem` with `suffix` appended: `build/x.report` and `.md` make
/// `build/x.report.md`.
pub fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = stem.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Read nextpnr's `--report` JSON (and, if given, the Yosys netlist for the
/// flip-flop count), note how the core clock is made (`clock`), write
/// `<out_stem>.md` and `<out_stem>.json`, and return the report. When a clock misses its constraint the files are still
/// written and the result is an error naming each failing clock with its
/// achieved and required frequency.
pub fn write_report(
    pnr_json: &Path,
    out_stem: &Path,
    device: &str,
    yosys_json: Option<&Path>,
    clock: Option<&str>,
) -> Result<Report> {
    let report = write_files(pnr_json, out_stem, device, yosys_json, clock)?;
    report.check_timing(out_stem)?;
    Ok(report)
}

/// [`write_report`] without the timing check: the files are written and
/// the report returned whether or not timing is met.
pub fn write_files(
    pnr_json: &Path,
    out_stem: &Path,
    device: &str,
    yosys_json: Option<&Path>,
    clock: Option<&str>,
) -> Result<Report> {
    let text = std::fs::read_to_string(pnr_json).with_context(|| {
        format!(
            "cannot read nextpnr report {} (written by nextpnr --report; run `make pnr` first)",
            pnr_json.display()
        )
    })?;
    let mut report = Report::from_nextpnr_json(&text, device)
        .with_context(|| format!("in {}", pnr_json.display()))?;
    if let Some(y) = yosys_json {
        let text = std::fs::read_to_string(y)
            .with_context(|| format!("cannot read Yosys netlist {}", y.display()))?;
        report
            .add_yosys_netlist(&text)
            .with_context(|| format!("in {}", y.display()))?;
    }
    report.clock = clock.map(str::to_string);

    let md = with_suffix(out_stem, ".md");
    let js = with_suffix(out_stem, ".json");
    if let Some(dir) = md.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    std::fs::write(&md, report.to_markdown())
        .with_context(|| format!("cannot write {}", md.display()))?;
    std::fs::write(&js, report.to_json())
        .with_context(|| format!("cannot write {}", js.display()))?;
    Ok(report)
}

impl Report {
    /// An error naming each clock that misses its constraint (the report
    /// written at `out_stem`.md says more).
    pub fn check_timing(&self, out_stem: &Path) -> Result<()> {
        let failing = self.failing_clocks();
        if !failing.is_empty() {
            bail!(
                "timing not met on {}: {}; see {} (lower target.clock_hz, or shorten the critical path listed there)",
                self.device,
                failing.join("; "),
                with_suffix(out_stem, ".md").display()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Produced by `make pnr` on a stand-in core (UART echo through a
    // multiply and a ROM) in the iCEBreaker top: Debian yosys 0.23
    // `synth_ice40 -dsp`, nextpnr-ice40 0.4 `--up5k --package sg48 --freq 12`.
    const UP5K: &str = include_str!("../../tests/fixtures/nextpnr_up5k_report.json");
    // The same report with the achieved Fmax edited down to 9.5 MHz.
    const UP5K_FAILED: &str =
        include_str!("../../tests/fixtures/nextpnr_up5k_report_timing_failed.json");
    // The matching Yosys netlist, trimmed to cell types.
    const UP5K_CELLS: &str = include_str!("../../tests/fixtures/yosys_up5k_cells.json");
    const CLK: &str = "CLK$SB_IO_IN_$glb_clk";

    fn err_text(e: anyhow::Error) -> String {
        format!("{e:#}")
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "phasegen-report-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create scratch folder");
        d
    }

    #[test]
    fn parses_a_real_up5k_report() {
        let r = Report::from_nextpnr_json(UP5K, "up5k-sg48").expect("fixture parses");
        assert_eq!(r.device, "up5k-sg48");
        assert_eq!(r.clocks.len(), 1);
        let c = &r.clocks[0];
        assert_eq!(c.name, CLK);
        assert!((c.achieved_mhz - 73.9426).abs() < 1e-3);
        assert_eq!(c.constraint_mhz, 12.0);
        assert!(c.met && r.timing_met());
        let lc = r.resource("ICESTORM_LC").expect("LCs listed");
        assert_eq!((lc.used, lc.available), (110, 5280));
        assert_eq!(r.resource("ICESTORM_DSP").map(|d| d.used), Some(1));
        assert_eq!(r.resource("ICESTORM_RAM").map(|d| d.used), Some(1));
        assert_eq!(r.resource("ICESTORM_SPRAM").map(|d| d.used), Some(0));
        assert_eq!(r.resource("SB_IO").map(|d| d.used), Some(6));
        assert_eq!(r.critical_paths.len(), 5);
        let p = &r.critical_paths[0];
        assert_eq!(p.from, format!("posedge {CLK}"));
        assert_eq!(p.logic_levels, 3);
        assert!((p.delay_ns - 13.524).abs() < 1e-3, "{}", p.delay_ns);
        assert_eq!(p.end_cell, "u_core.rx_shift_SB_DFFESR_Q_DFFLC");
        assert_eq!(r.flip_flops, None);
    }

    #[test]
    fn infers_the_family_without_a_device() {
        let r = Report::from_nextpnr_json(UP5K, "").expect("fixture parses");
        assert_eq!(r.device, "iCE40");
    }

    #[test]
    fn counts_flip_flops_from_the_yosys_netlist() {
        assert_eq!(count_flip_flops(UP5K_CELLS).expect("netlist parses"), 69);
        let mut r = Report::from_nextpnr_json(UP5K, "up5k-sg48").expect("fixture parses");
        r.add_yosys_netlist(UP5K_CELLS).expect("netlist parses");
        assert_eq!(r.flip_flops, Some(69));
        assert!(r
            .to_markdown()
            .contains("| Flip-flops (Yosys netlist) | SB_DFF* | 69 | 5280 | 1.3 % |"));
        let e = err_text(count_flip_flops("{\"creator\": \"x\"}").unwrap_err());
        assert!(e.contains("no `modules`"), "{e}");
    }

    #[test]
    fn markdown_lists_resources_timing_and_paths() {
        let md = Report::from_nextpnr_json(UP5K, "up5k-sg48")
            .expect("fixture parses")
            .to_markdown();
        assert!(md.starts_with("# Implementation report: up5k-sg48 (timing met)"));
        assert!(md.contains(&format!("| `{CLK}` | 73.94 | 12.00 | +516 % | PASS |")));
        assert!(md.contains("| Logic cells (LUT4 + FF) | ICESTORM_LC | 110 | 5280 | 2.1 % |"));
        assert!(md.contains("| DSP (SB_MAC16) | ICESTORM_DSP | 1 | 8 | 12.5 % |"));
        assert!(md.contains("| Block RAM (4 kbit) | ICESTORM_RAM | 1 | 30 | 3.3 % |"));
        assert!(md.contains("| SPRAM (256 kbit) | ICESTORM_SPRAM | 0 | 4 | 0.0 % |"));
        assert!(md.contains("| Global buffers | SB_GB | 4 | 8 | 50.0 % |"));
        // Unused exotic BELs stay out of the table.
        assert!(!md.contains("SB_WARMBOOT"));
        assert!(md.contains("## Critical paths"));
    }

    /// A full row of global buffers gets its one-line explanation (in the
    /// markdown); half a row gets none. The summary has timing and the main
    /// resources.
    #[test]
    fn global_buffers_note_and_summary() {
        let mut r = Report::from_nextpnr_json(UP5K, "up5k-sg48").expect("fixture parses");
        assert_eq!(r.global_buffer_note(), None);
        assert!(!r.to_markdown().contains("is normal"));
        r.resources
            .iter_mut()
            .find(|x| x.bel == "SB_GB")
            .unwrap()
            .used = 8;
        let note = r.global_buffer_note().expect("a note at 8 of 8");
        assert!(
            note.starts_with("Global buffers at 100 % (8 of 8) is normal"),
            "{note}"
        );
        assert!(r.to_markdown().contains(&note));
        let s = r.summary_lines();
        assert_eq!(
            s[0],
            "Fmax 73.94 MHz against the 12.00 MHz constraint (+516 %): timing met"
        );
        assert!(
            s[1].starts_with("Logic cells (LUT4 + FF) 110/5280 (2 %), DSP (SB_MAC16) 1/8 (12 %)"),
            "{}",
            s[1]
        );
        assert!(
            !s[1].contains("SPRAM"),
            "unused memories stay out: {}",
            s[1]
        );
    }

    #[test]
    fn json_round_trips_the_numbers() {
        let r = Report::from_nextpnr_json(UP5K, "up5k-sg48").expect("fixture parses");
        let v: Value = serde_json::from_str(&r.to_json()).expect("report JSON parses");
        assert_eq!(v["device"], "up5k-sg48");
        assert_eq!(v["timing_met"], true);
        assert_eq!(v["clocks"][0]["name"], CLK);
        assert_eq!(v["clocks"][0]["constraint_mhz"], 12.0);
        assert_eq!(v["flip_flops"], Value::Null);
        let lc = v["resources"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["bel"] == "ICESTORM_LC"))
            .expect("LC row");
        assert_eq!(lc["used"], 110);
        assert_eq!(lc["available"], 5280);
        assert_eq!(v["critical_paths"].as_array().map(Vec::len), Some(5));
    }

    #[test]
    fn write_report_writes_both_files() {
        let dir = scratch("ok");
        let pnr = dir.join("d.pnr.json");
        let cells = dir.join("d.json");
        std::fs::write(&pnr, UP5K).expect("write fixture");
        std::fs::write(&cells, UP5K_CELLS).expect("write fixture");
        let stem = dir.join("out/d.report");
        let r = write_report(
            &pnr,
            &stem,
            "up5k-sg48",
            Some(&cells),
            Some("12 MHz oscillator, no PLL"),
        )
        .expect("timing met");
        assert_eq!(r.flip_flops, Some(69));
        let md = std::fs::read_to_string(dir.join("out/d.report.md")).expect("md written");
        assert!(md.contains("PASS"));
        assert!(md.contains("Core clock: 12 MHz oscillator, no PLL."));
        let js = std::fs::read_to_string(dir.join("out/d.report.json")).expect("json written");
        assert!(js.contains("\"timing_met\": true"));
        assert!(js.contains("\"clock\": \"12 MHz oscillator, no PLL\""));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_timing_names_the_clock_and_both_frequencies() {
        let r = Report::from_nextpnr_json(UP5K_FAILED, "up5k-sg48").expect("fixture parses");
        assert!(!r.timing_met());
        assert!(!r.clocks[0].met);
        assert!(r.to_markdown().contains("TIMING NOT MET"));
        assert!(r
            .to_markdown()
            .contains("| 9.50 | 12.00 | -21 % | **FAIL** |"));

        let dir = scratch("failed");
        let pnr = dir.join("d.pnr.json");
        std::fs::write(&pnr, UP5K_FAILED).expect("write fixture");
        let stem = dir.join("d.report");
        let e = err_text(write_report(&pnr, &stem, "up5k-sg48", None, None).unwrap_err());
        assert!(e.contains(CLK), "{e}");
        assert!(e.contains("9.50 MHz") && e.contains("12.00 MHz"), "{e}");
        // The reports are there to read even though the step failed.
        let js = std::fs::read_to_string(dir.join("d.report.json")).expect("json written");
        assert!(js.contains("\"timing_met\": false"));
        assert!(dir.join("d.report.md").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_input_gives_a_clear_error() {
        let e = err_text(Report::from_nextpnr_json("{\"fmax\": {", "x").unwrap_err());
        assert!(e.contains("nextpnr report is not valid JSON"), "{e}");
        assert!(e.contains("EOF"), "{e}");

        let e = err_text(Report::from_nextpnr_json("[]", "x").unwrap_err());
        assert!(e.contains("expected a JSON object"), "{e}");

        let e = err_text(Report::from_nextpnr_json("{\"utilization\": {}}", "x").unwrap_err());
        assert!(e.contains("no `fmax` object"), "{e}");

        let e = err_text(
            Report::from_nextpnr_json(
                "{\"fmax\": {\"clk\": {\"achieved\": \"fast\", \"constraint\": 12}}, \"utilization\": {}}",
                "x",
            )
            .unwrap_err(),
        );
        assert!(e.contains("clock `clk`") && e.contains("achieved"), "{e}");

        let e = err_text(
            Report::from_nextpnr_json(
                "{\"fmax\": {}, \"utilization\": {\"SB_IO\": {\"used\": -1, \"available\": 96}}}",
                "x",
            )
            .unwrap_err(),
        );
        assert!(e.contains("`SB_IO`") && e.contains("used"), "{e}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let dir = scratch("missing");
        let pnr = dir.join("nope.pnr.json");
        let e = err_text(write_report(&pnr, &dir.join("r"), "", None, None).unwrap_err());
        assert!(e.contains("nope.pnr.json") && e.contains("make pnr"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
