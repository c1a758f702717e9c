//! The ASIC report: what the flow made, read from the tools' own outputs.
//!
//! | figure | read from |
//! |---|---|
//! | cells by type, die and core area, utilization | the routed DEF (`layout/<top>.def`: `DIEAREA`, the placed `COMPONENTS`) and the cells' sizes in the LEF |
//! | flip-flops that hold memories | the synthesized netlist (`synthesis/<top>.rtlnopwr.v`): a flip-flop whose output net is `<memory>_<word>__<bit>_`, for the memories the generated RTL declares |
//! | setup and hold, Fmax | OpenSTA on the routed netlist with qflow's extracted wire delays and the clock propagated through its buffers (`log/opensta.log`): the worst path each way, register to register |
//! | power | the same OpenSTA run: `report_power` at the clock target with every net toggling with the given probability per cycle |
//! | qflow's own timing | vesta after routing (`log/post_sta.log`): its maximum clock frequency |
//! | routing | qrouter (`log/route.log`): `Final: No failed routes!` or the count of failed nets |
//! | DRC | magic (`log/drc.log`): `drc = N`, the routing checked against the cells' LEF abstracts |
//! | LVS | netgen (`log/lvs.log`, its summary by `count_lvs.py`): the layout's extracted cell connectivity against the synthesized netlist |
//! | GDS | `layout/<top>.gds` (written by [`super::flow`]) |
//!
//! Each parser takes the text and names what it could not find.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The die (`DIEAREA`) and the placed cells of a DEF file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    /// Die width and height, µm.
    pub die_um: (f64, f64),
    /// The bounding box of every placed cell (fill included): the rows.
    pub core_um: (f64, f64),
    /// Placed cells by type, with their count.
    pub cells: BTreeMap<String, u64>,
}

/// A DEF file's distance unit per µm (`UNITS DISTANCE MICRONS N`).
fn def_units(def: &str) -> Result<f64> {
    def.lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("UNITS DISTANCE MICRONS")?;
            rest.trim().trim_end_matches(';').trim().parse::<f64>().ok()
        })
        .context("the DEF has no `UNITS DISTANCE MICRONS N ;` line")
}

/// The numbers inside `( x y )` pairs of a DEF statement.
fn points(s: &str) -> Vec<f64> {
    s.split(['(', ')'])
        .skip(1)
        .step_by(2)
        .flat_map(|p| p.split_whitespace().filter_map(|w| w.parse::<f64>().ok()))
        .collect()
}

/// Cell sizes (µm) from a LEF file's `MACRO NAME ... SIZE W BY H ;`.
pub fn lef_sizes(lef: &str) -> BTreeMap<String, (f64, f64)> {
    let mut out = BTreeMap::new();
    let mut macro_name: Option<String> = None;
    for l in lef.lines() {
        let t = l.trim();
        if let Some(n) = t.strip_prefix("MACRO ") {
            macro_name = Some(n.trim().to_string());
        } else if let (Some(n), Some(rest)) = (&macro_name, t.strip_prefix("SIZE")) {
            let v: Vec<f64> = rest
                .trim_end_matches(';')
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            if v.len() == 2 {
                out.insert(n.clone(), (v[0], v[1]));
            }
            macro_name = None;
        }
    }
    out
}

/// The die and the placed cells of a routed DEF; `sizes` are the cells'
/// outlines from the LEF (for the extent of the rows).
pub fn parse_def(def: &str, sizes: &BTreeMap<String, (f64, f64)>) -> Result<Placement> {
    let u = def_units(def)?;
    let die = def
        .lines()
        .find(|l| l.trim_start().starts_with("DIEAREA"))
        .context("the DEF has no DIEAREA")?;
    let p = points(die);
    if p.len() != 4 {
        bail!("cannot read the DEF's `{}`", die.trim());
    }
    let die_um = ((p[2] - p[0]) / u, (p[3] - p[1]) / u);
    let start = def
        .find("\nCOMPONENTS")
        .context("the DEF has no COMPONENTS section")?;
    let end = def[start..]
        .find("END COMPONENTS")
        .map(|e| start + e)
        .context("the DEF's COMPONENTS section does not end")?;
    let mut cells = BTreeMap::new();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for stmt in def[start..end].split(';') {
        let t = stmt.trim();
        let Some(rest) = t.strip_prefix("- ") else {
            continue;
        };
        let mut w = rest.split_whitespace();
        let (Some(_name), Some(ty)) = (w.next(), w.next()) else {
            continue;
        };
        *cells.entry(ty.to_string()).or_insert(0) += 1;
        if let Some(k) = t.find("PLACED").or_else(|| t.find("FIXED")) {
            let xy = points(&t[k..]);
            let orient = t[k..].rsplit(')').next().unwrap_or("").trim();
            let (cw, ch) = sizes
                .get(ty)
                .copied()
                .with_context(|| format!("the LEF has no size for cell {ty}"))?;
            // E, W, FE, FW are turned by 90 degrees
            let (cw, ch) = if matches!(orient, "E" | "W" | "FE" | "FW") {
                (ch, cw)
            } else {
                (cw, ch)
            };
            if xy.len() >= 2 {
                let (x, y) = (xy[0] / u, xy[1] / u);
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + cw);
                y1 = y1.max(y + ch);
            }
        }
    }
    if cells.is_empty() {
        bail!("the DEF places no cells");
    }
    Ok(Placement {
        die_um,
        core_um: (x1 - x0, y1 - y0),
        cells,
    })
}

/// One worst path of an OpenSTA `report_checks`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Path {
    pub startpoint: String,
    pub endpoint: String,
    /// When the data arrives, ns (clock latency included).
    pub arrival_ns: f64,
    /// Positive when met.
    pub slack_ns: f64,
    /// Cells the data passes between the two registers.
    pub logic_levels: usize,
}

/// OpenSTA's power report, W.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Power {
    pub internal_w: f64,
    pub switching_w: f64,
    pub leakage_w: f64,
    pub total_w: f64,
    /// Of the total: flip-flops, the rest.
    pub sequential_w: f64,
    pub combinational_w: f64,
}

/// What the phasegen OpenSTA script reports (sw/src/asic/flow.rs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sta {
    /// `None`: no register-to-register path (nothing to check).
    pub setup: Option<Path>,
    pub hold: Option<Path>,
    /// The toggle probability the power was estimated with.
    pub activity: f64,
    pub power: Power,
}

fn section<'a>(text: &'a str, from: &str, to: &str) -> Result<&'a str> {
    let a = text
        .find(from)
        .with_context(|| format!("no `{from}` in the OpenSTA log; did the phasegen script run?"))?;
    let rest = &text[a + from.len()..];
    let b = rest
        .find(to)
        .with_context(|| format!("no `{to}` after `{from}` in the OpenSTA log"))?;
    Ok(&rest[..b])
}

fn first_number(s: &str) -> Option<f64> {
    s.split_whitespace().next()?.parse().ok()
}

fn parse_path(s: &str, what: &str) -> Result<Option<Path>> {
    if s.contains("No paths found") || !s.contains("Startpoint:") {
        return Ok(None);
    }
    let field = |key: &str| -> Result<String> {
        s.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.split(" (").next().unwrap_or("").trim().to_string())
            .with_context(|| format!("the {what} path has no `{key}`"))
    };
    let startpoint = field("Startpoint:")?;
    let endpoint = field("Endpoint:")?;
    let arrival_ns = s
        .lines()
        .find(|l| l.trim_end().ends_with("data arrival time") && first_number(l).is_some())
        .and_then(first_number)
        .with_context(|| format!("the {what} path has no data arrival time"))?;
    let slack_ns = s
        .lines()
        .find(|l| l.contains("slack (MET)") || l.contains("slack (VIOLATED)"))
        .and_then(first_number)
        .with_context(|| format!("the {what} path has no slack"))?;
    // the data's cells: `DELAY TIME ^|v INST/PIN (CELL)` rows after the
    // launching flip-flop's clock pin and output, up to the arrival
    let data: Vec<&str> = s
        .lines()
        .take_while(|l| !l.contains("data arrival time"))
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 5 && (w[2] == "^" || w[2] == "v") && w[4].starts_with('(')
        })
        .collect();
    // rows: the launching flip-flop's CLK and Q, each gate's output, the
    // capturing pin; the gates are the output pins in between
    let logic_levels = data
        .iter()
        .skip(2)
        .filter(|l| {
            let pin = l.split_whitespace().nth(3).unwrap_or("");
            !pin.ends_with("/D") && !pin.ends_with("/CLK")
        })
        .count();
    Ok(Some(Path {
        startpoint,
        endpoint,
        arrival_ns,
        slack_ns,
        logic_levels,
    }))
}

fn power_row(s: &str, group: &str) -> Result<Vec<f64>> {
    s.lines()
        .find(|l| l.trim_start().starts_with(group))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(4)
                .filter_map(|w| w.parse().ok())
                .collect::<Vec<f64>>()
        })
        .filter(|v| v.len() == 4)
        .with_context(|| format!("the power report has no `{group}` row of four numbers"))
}

/// Parse the log of the phasegen OpenSTA script.
pub fn parse_opensta(text: &str) -> Result<Sta> {
    let setup = parse_path(section(text, "PHASEGEN setup", "PHASEGEN hold")?, "setup")?;
    let hold = parse_path(section(text, "PHASEGEN hold", "PHASEGEN power")?, "hold")?;
    let power_text = section(text, "PHASEGEN power", "PHASEGEN end")?;
    let activity = power_text
        .lines()
        .next()
        .and_then(|l| l.trim().strip_prefix("activity"))
        .and_then(|v| v.trim().parse().ok())
        .context("the OpenSTA log does not say the power's activity")?;
    let total = power_row(power_text, "Total")?;
    let seq = power_row(power_text, "Sequential")?;
    let comb = power_row(power_text, "Combinational")?;
    Ok(Sta {
        setup,
        hold,
        activity,
        power: Power {
            internal_w: total[0],
            switching_w: total[1],
            leakage_w: total[2],
            total_w: total[3],
            sequential_w: seq[3],
            combinational_w: comb[3],
        },
    })
}

/// vesta's `Computed maximum clock frequency (zero margin) = F MHz`.
pub fn parse_vesta_fmax(text: &str) -> Option<f64> {
    text.lines().rev().find_map(|l| {
        let rest = l.split("Computed maximum clock frequency").nth(1)?;
        rest.split('=')
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// qrouter's result: the number of nets it failed to route (0: all).
pub fn parse_route(text: &str) -> Result<u64> {
    for l in text.lines().rev() {
        let Some(rest) = l.trim().strip_prefix("Final:") else {
            continue;
        };
        let rest = rest.trim();
        if rest.starts_with("No failed routes") {
            return Ok(0);
        }
        // "Failed net routes: N"
        if let Some(n) = rest
            .split(':')
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
        {
            return Ok(n);
        }
        bail!("cannot read qrouter's final line `{}`", l.trim());
    }
    bail!("the route log has no `Final:` line; did qrouter finish?")
}

/// magic's DRC count (`drc = N`).
pub fn parse_drc(text: &str) -> Result<u64> {
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("drc =")?.trim().parse().ok())
        .context("the DRC log has no `drc = N` line; did magic finish?")
}

/// netgen's result as `count_lvs.py` sums it up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lvs {
    /// netgen's own verdict: `Circuits match uniquely.`, `Netlists match`...
    pub matched: bool,
    /// count_lvs.py's `Total errors = N`.
    pub errors: u64,
    /// Its lines (`net count difference = 1`, ...), the nonzero ones.
    pub details: Vec<String>,
}

pub fn parse_lvs(text: &str) -> Result<Lvs> {
    let errors = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Total errors =")?.trim().parse().ok())
        .context("the LVS log has no `Total errors = N` line (count_lvs.py); did netgen finish?")?;
    let matched = errors == 0
        && !text.contains("Netlists do not match")
        && (text.contains("Circuits match uniquely") || text.contains("Netlists match"));
    let details = text
        .lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once(" = ")?;
            let n: u64 = v.trim().parse().ok()?;
            (n > 0 && k != "Total errors").then(|| format!("{k} = {n}"))
        })
        .collect();
    Ok(Lvs {
        matched,
        errors,
        details,
    })
}

/// The written memories of the generated RTL: `reg [W-1:0] NAME [0:D-1];`
/// that are assigned somewhere (`NAME[...] <=`), as `(name, words, bits)`.
/// ROMs (never written) become logic and hold no flip-flops.
pub fn rtl_memories(verilog: &str) -> Vec<(String, u64, u64)> {
    let mut v = Vec::new();
    for l in verilog.lines() {
        let t = l.trim();
        let Some(rest) = t.strip_prefix("reg [") else {
            continue;
        };
        let Some((msb, rest)) = rest.split_once(":0] ") else {
            continue;
        };
        let mut w = rest.split_whitespace();
        let (Some(name), Some(range)) = (w.next(), w.next()) else {
            continue;
        };
        let Some(depth) = range
            .strip_prefix("[0:")
            .and_then(|r| r.strip_suffix("];"))
            .and_then(|d| d.parse::<u64>().ok())
        else {
            continue;
        };
        let Ok(msb) = msb.parse::<u64>() else {
            continue;
        };
        let written = verilog
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{name}[")) && l.contains("] <= "));
        if written {
            v.push((name.to_string(), depth + 1, msb + 1));
        }
    }
    v
}

/// Flip-flops of a qflow netlist by the memory their output net belongs
/// to (`<memory>_<word>__<bit>_`, or `<memory>_<word>_` for 1-bit words).
pub fn memory_flops(netlist: &str, memories: &[String]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = memories.iter().map(|m| (m.clone(), 0)).collect();
    for l in netlist.lines() {
        let t = l.trim_start();
        if !t.starts_with("DFF") {
            continue;
        }
        let Some(q) = t.split(".Q(").nth(1).and_then(|r| r.split(')').next()) else {
            continue;
        };
        for m in memories {
            let Some(rest) = q.strip_prefix(m.as_str()).and_then(|r| r.strip_prefix('_')) else {
                continue;
            };
            let parts: Vec<&str> = rest.split('_').collect();
            // "7", "", "0", "" (word 7, bit 0) or "5", "" (word 5)
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            let ok = match parts.as_slice() {
                [w, "", b, ""] => digits(w) && digits(b),
                [w, ""] => digits(w),
                _ => false,
            };
            if ok {
                *out.entry(m.clone()).or_insert(0) += 1;
                break;
            }
        }
    }
    out
}

/// One cell type of the layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRow {
    pub cell: String,
    pub count: u64,
    /// count × the cell's outline (LEF), µm².
    pub area_um2: f64,
}

/// A memory of the RTL, built from flip-flops.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryRow {
    pub name: String,
    pub words: u64,
    pub bits: u64,
    /// Flip-flops of the netlist found by name (synthesis may drop bits
    /// that are never read).
    pub flip_flops: u64,
    /// Their area, µm² (the write decoder and read multiplexer around them
    /// are merged with the rest of the logic and not counted).
    pub area_um2: f64,
}

/// One settle and one inference of the network at Fmax and their energy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inference {
    /// Settle steps of one inference (`hardware.steps`).
    pub steps: u32,
    /// Cycles of one step in steady state (the lane schedule's words).
    pub cycles_per_step: u64,
    /// Cycles of the input field (`U x`), once per inference
    /// (`Schedule::field_cycles`).
    pub field_cycles: u64,
    pub step_ns_at_fmax: f64,
    pub inference_us_at_fmax: f64,
    /// Power at the clock target / the target × cycles of the inference
    /// (the field and the steps), nJ.
    pub energy_nj: f64,
}

/// Everything the report says about one run of the flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsicReport {
    pub tech: String,
    pub top: String,
    pub clock_mhz: f64,
    pub die_um: (f64, f64),
    pub die_mm2: f64,
    pub core_um: (f64, f64),
    pub core_mm2: f64,
    /// Logic cells (fill excluded).
    pub cell_count: u64,
    pub cell_area_mm2: f64,
    /// Cell area / core area.
    pub utilization: f64,
    pub flip_flops: u64,
    pub cells: Vec<CellRow>,
    pub fill_cells: u64,
    pub memories: Vec<MemoryRow>,
    pub sta: Sta,
    /// 1 / (period - worst setup slack), register to register.
    pub fmax_mhz: Option<f64>,
    /// qflow's vesta after routing, for comparison.
    pub vesta_fmax_mhz: Option<f64>,
    pub failed_routes: u64,
    pub drc_errors: u64,
    pub lvs: Lvs,
    pub gds: String,
    /// What the GDS holds.
    pub gds_contents: String,
    pub stages: Vec<super::flow::StageRun>,
    /// The placement settings the flow ran with.
    pub place_fast: u32,
    pub seed: Option<u32>,
    pub density: Option<f64>,
    pub route_cleanup: bool,
    pub inference: Option<Inference>,
}

/// Fill cells (spacers) are placed into the rows' gaps and hold no logic.
pub fn is_fill(cell: &str) -> bool {
    cell.starts_with("FILL")
}

impl AsicReport {
    /// Every way the run falls short: timing (setup or hold) not met at the
    /// clock target, failed routes, DRC errors, LVS not clean.
    pub fn problems(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(p) = self.sta.setup.as_ref().filter(|p| p.slack_ns < 0.0) {
            v.push(format!(
                "setup timing not met at {:.2} MHz: slack {:.3} ns from {} to {} (Fmax {:.2} MHz)",
                self.clock_mhz,
                p.slack_ns,
                p.startpoint,
                p.endpoint,
                self.fmax_mhz.unwrap_or(0.0)
            ));
        }
        if let Some(p) = self.sta.hold.as_ref().filter(|p| p.slack_ns < 0.0) {
            v.push(format!(
                "hold timing not met: slack {:.3} ns from {} to {}",
                p.slack_ns, p.startpoint, p.endpoint
            ));
        }
        if self.failed_routes > 0 {
            v.push(format!("{} nets failed to route", self.failed_routes));
        }
        if self.drc_errors > 0 {
            v.push(format!("{} DRC errors", self.drc_errors));
        }
        if !self.lvs.matched {
            v.push(format!(
                "LVS: the layout does not match the netlist ({} errors: {})",
                self.lvs.errors,
                self.lvs.details.join(", ")
            ));
        }
        v
    }

    fn verdict(&self) -> String {
        let p = self.problems();
        if p.is_empty() {
            "timing met, no failed routes, DRC and LVS clean".into()
        } else {
            format!("{} PROBLEMS", p.len())
        }
    }

    /// The few lines the flow ends with.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut v = vec![format!(
            "{} cells ({} flip-flops), {:.4} mm² of cells in a {:.4} mm² core ({:.1} % used), die {:.4} mm²",
            self.cell_count,
            self.flip_flops,
            self.cell_area_mm2,
            self.core_mm2,
            100.0 * self.utilization,
            self.die_mm2
        )];
        if let Some(f) = self.fmax_mhz {
            v.push(format!(
                "Fmax {f:.1} MHz against the {:.1} MHz target (setup slack {:.3} ns, hold slack {:.3} ns)",
                self.clock_mhz,
                self.sta.setup.as_ref().map_or(0.0, |p| p.slack_ns),
                self.sta.hold.as_ref().map_or(0.0, |p| p.slack_ns)
            ));
        }
        v.push(format!(
            "power {:.2} mW at {:.1} MHz, activity {} (OpenSTA estimate)",
            1e3 * self.sta.power.total_w,
            self.clock_mhz,
            self.sta.activity
        ));
        v.push(format!(
            "routing: {} failed; DRC: {} errors; LVS: {}",
            self.failed_routes,
            self.drc_errors,
            if self.lvs.matched {
                "match".to_string()
            } else {
                format!("{} errors", self.lvs.errors)
            }
        ));
        if let Some(i) = &self.inference {
            v.push(format!(
                "one inference (input field {} cycles, {} steps of {}): {:.2} us at Fmax, {:.1} nJ",
                i.field_cycles, i.steps, i.cycles_per_step, i.inference_us_at_fmax, i.energy_nj
            ));
        }
        v
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(
            w,
            "# ASIC report: {} on {} ({})\n",
            self.top,
            self.tech,
            self.verdict()
        );
        for p in self.problems() {
            let _ = writeln!(w, "- **{p}**");
        }
        if !self.problems().is_empty() {
            w.push('\n');
        }
        let _ = writeln!(w, "## Timing\n");
        let _ = writeln!(
            w,
            "OpenSTA on the routed netlist with the wire delays qflow extracted, the clock propagated through its buffers, register to register, at the {:.2} MHz target ({:.3} ns).\n",
            self.clock_mhz,
            1000.0 / self.clock_mhz
        );
        let _ = writeln!(
            w,
            "| Check | Worst slack (ns) | From | To | Logic levels | Result |"
        );
        let _ = writeln!(w, "|---|---:|---|---|---:|---|");
        for (name, p) in [("setup", &self.sta.setup), ("hold", &self.sta.hold)] {
            match p {
                Some(p) => {
                    let _ = writeln!(
                        w,
                        "| {name} | {:.3} | `{}` | `{}` | {} | {} |",
                        p.slack_ns,
                        p.startpoint,
                        p.endpoint,
                        p.logic_levels,
                        if p.slack_ns >= 0.0 {
                            "MET"
                        } else {
                            "**VIOLATED**"
                        }
                    );
                }
                None => {
                    let _ = writeln!(
                        w,
                        "| {name} | - | - | - | - | no register-to-register path |"
                    );
                }
            }
        }
        w.push('\n');
        if let Some(f) = self.fmax_mhz {
            let _ = writeln!(w, "Fmax: **{f:.2} MHz** (1 / (period - setup slack)).");
        }
        if let Some(f) = self.vesta_fmax_mhz {
            let _ = writeln!(
                w,
                "qflow's own STA (vesta, after routing): {f:.2} MHz, with its own delay model."
            );
        }
        let _ = writeln!(w, "\n## Area\n");
        let _ = writeln!(w, "| | µm | mm² |\n|---|---:|---:|");
        let _ = writeln!(
            w,
            "| Die | {:.1} × {:.1} | {:.4} |",
            self.die_um.0, self.die_um.1, self.die_mm2
        );
        let _ = writeln!(
            w,
            "| Core (the cell rows) | {:.1} × {:.1} | {:.4} |",
            self.core_um.0, self.core_um.1, self.core_mm2
        );
        let _ = writeln!(
            w,
            "| Cells ({} without {} fill cells) | | {:.4} |",
            self.cell_count, self.fill_cells, self.cell_area_mm2
        );
        let _ = writeln!(
            w,
            "\nUtilization (cell area / core area): {:.1} %.\n",
            100.0 * self.utilization
        );
        let _ = writeln!(w, "## Cells\n");
        let _ = writeln!(w, "| Cell | Count | Area (µm²) | Share of cell area |");
        let _ = writeln!(w, "|---|---:|---:|---:|");
        let total = self.cell_area_mm2 * 1e6;
        for c in &self.cells {
            let _ = writeln!(
                w,
                "| {} | {} | {:.0} | {:.1} % |",
                c.cell,
                c.count,
                c.area_um2,
                100.0 * c.area_um2 / total
            );
        }
        if !self.memories.is_empty() {
            let _ = writeln!(w, "\n## Memories\n");
            let _ = writeln!(
                w,
                "The standard cells have no RAM: ROM contents are logic (merged with the rest by synthesis), and memories written at run time are flip-flops, listed here (their write decoders and read multiplexers are part of the logic).\n"
            );
            let _ = writeln!(
                w,
                "| Memory | Words × bits | Flip-flops | Area (µm²) | Share of cell area |"
            );
            let _ = writeln!(w, "|---|---:|---:|---:|---:|");
            for m in &self.memories {
                let _ = writeln!(
                    w,
                    "| `{}` | {} × {} | {} | {:.0} | {:.1} % |",
                    m.name,
                    m.words,
                    m.bits,
                    m.flip_flops,
                    m.area_um2,
                    100.0 * m.area_um2 / total
                );
            }
            let (ff, a): (u64, f64) = self
                .memories
                .iter()
                .fold((0, 0.0), |(f, a), m| (f + m.flip_flops, a + m.area_um2));
            let _ = writeln!(
                w,
                "| all | | {ff} of {} flip-flops | {a:.0} | {:.1} % |",
                self.flip_flops,
                100.0 * a / total
            );
        }
        let p = &self.sta.power;
        let _ = writeln!(w, "\n## Power\n");
        let _ = writeln!(
            w,
            "OpenSTA's estimate at {:.2} MHz with every net toggling with probability {} per cycle (no simulated activity):\n",
            self.clock_mhz, self.sta.activity
        );
        let mw = |x: f64| format!("{:.3}", 1e3 * x);
        let _ = writeln!(w, "| Internal (mW) | Switching (mW) | Leakage (mW) | Total (mW) | Flip-flops (mW) | Logic (mW) |");
        let _ = writeln!(w, "|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            w,
            "| {} | {} | {:.6} | **{}** | {} | {} |",
            mw(p.internal_w),
            mw(p.switching_w),
            1e3 * p.leakage_w,
            mw(p.total_w),
            mw(p.sequential_w),
            mw(p.combinational_w)
        );
        if let Some(i) = &self.inference {
            let _ = writeln!(w, "\n## One inference\n");
            let _ = writeln!(
                w,
                "The input field (`U x`) takes {} cycles, then {} settle steps of {} cycles each (the streams' words; filling the pipelines adds a few tens of cycles per inference, and writing the input over the ports is not counted): a step takes {:.1} ns and an inference {:.3} µs at Fmax; the energy of one inference is {:.2} nJ (the power above over the inference's cycles).",
                i.field_cycles, i.steps, i.cycles_per_step, i.step_ns_at_fmax, i.inference_us_at_fmax, i.energy_nj
            );
        }
        let _ = writeln!(w, "\n## Checks\n");
        let _ = writeln!(w, "| Check | Tool | Result |\n|---|---|---|");
        let _ = writeln!(
            w,
            "| Routing | qrouter | {} |",
            if self.failed_routes == 0 {
                "no failed routes".to_string()
            } else {
                format!("**{} failed nets**", self.failed_routes)
            }
        );
        let _ = writeln!(
            w,
            "| DRC (routing against the cells' LEF abstracts) | magic | {} |",
            if self.drc_errors == 0 {
                "0 errors".to_string()
            } else {
                format!("**{} errors**", self.drc_errors)
            }
        );
        let _ = writeln!(
            w,
            "| LVS (the layout's cell connectivity against the netlist) | netgen | {} |",
            if self.lvs.matched {
                "netlists match".to_string()
            } else {
                format!(
                    "**{} errors: {}**",
                    self.lvs.errors,
                    self.lvs.details.join(", ")
                )
            }
        );
        let _ = writeln!(w, "\nGDS: `{}` ({}).", self.gds, self.gds_contents);
        let _ = writeln!(
            w,
            "\nPlacement and routing: graywolf's attempts per cell / {}, seed {}, density {}; qrouter's cleanup stage {}.",
            self.place_fast,
            self.seed.map_or("of the technology".to_string(), |s| s.to_string()),
            self.density.map_or("as packed".to_string(), |d| d.to_string()),
            if self.route_cleanup { "run" } else { "bypassed" }
        );
        if !self.stages.is_empty() {
            let _ = writeln!(w, "\n## Stage times\n");
            let _ = writeln!(w, "| Stage | Wall (s) | CPU (s) |\n|---|---:|---:|");
            for st in &self.stages {
                let _ = writeln!(w, "| {} | {:.1} | {:.1} |", st.stage, st.wall_s, st.cpu_s);
            }
            let (wall, cpu) = self
                .stages
                .iter()
                .fold((0.0, 0.0), |(a, b), s| (a + s.wall_s, b + s.cpu_s));
            let _ = writeln!(w, "| all | {wall:.1} | {cpu:.1} |");
        }
        s
    }

    /// The report as JSON: every field, areas in µm² and mm², times in ns,
    /// µs and s, power in W, energy in nJ; `problems` lists what failed.
    pub fn to_json(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("problems".into(), serde_json::json!(self.problems()));
            o.insert("ok".into(), serde_json::json!(self.problems().is_empty()));
        }
        format!("{v:#}\n")
    }
}

fn read(path: &std::path::Path, made_by: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {} (made by {made_by}; run the flow first)",
            path.display()
        )
    })
}

/// Read the results of the flow in qflow project `dir` (its
/// `stages.json` says which technology, top module and clock) into a
/// report; `hw` adds the cost of one inference.
pub fn collect(
    dir: &std::path::Path,
    hw: Option<&phasegen_sim::twin::model::HwModel>,
) -> Result<AsicReport> {
    use super::flow::Stages;
    let stages: Stages =
        serde_json::from_str(&read(&dir.join("stages.json"), "`phasegen asic flow`")?)
            .with_context(|| {
                format!(
                    "{} is not a stages file of `phasegen asic flow`",
                    dir.join("stages.json").display()
                )
            })?;
    for needed in super::flow::ALL {
        if !stages.stages.iter().any(|s| s.stage == *needed) {
            bail!(
                "stage {needed} did not run in {} (stages.json lists {}); run the whole flow",
                dir.display(),
                stages
                    .stages
                    .iter()
                    .map(|s| s.stage.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let tech = super::tech::Tech::find(&stages.tech)?;
    let top = &stages.top;
    let lef = read(&tech.lef, "the technology package")?;
    let sizes = lef_sizes(&lef);
    let def = read(
        &dir.join("layout").join(format!("{top}.def")),
        "qflow's route stage",
    )?;
    let placed = parse_def(&def, &sizes)?;
    let area = |cell: &str| sizes.get(cell).map_or(0.0, |(w, h)| w * h);
    let mut cells: Vec<CellRow> = placed
        .cells
        .iter()
        .filter(|(c, _)| !is_fill(c))
        .map(|(c, &n)| CellRow {
            cell: c.clone(),
            count: n,
            area_um2: n as f64 * area(c),
        })
        .collect();
    cells.sort_by(|a, b| b.area_um2.total_cmp(&a.area_um2).then(a.cell.cmp(&b.cell)));
    let fill_cells = placed
        .cells
        .iter()
        .filter(|(c, _)| is_fill(c))
        .map(|(_, n)| n)
        .sum();
    let cell_count = cells.iter().map(|c| c.count).sum();
    let cell_area_um2: f64 = cells.iter().map(|c| c.area_um2).sum();
    let flip_flops = cells
        .iter()
        .filter(|c| c.cell.starts_with("DFF") || c.cell.starts_with("LATCH"))
        .map(|c| c.count)
        .sum();
    // memories: declared and written in the RTL, flip-flops in the netlist
    let mut rtl = String::new();
    // the sources synthesis read: the project's file list (pg_top.v lies
    // beside pg_core.v when the top is pg_core, and is not part of it)
    let src = dir.join("source");
    let list = read(&src.join(format!("{top}.fl")), "`phasegen asic flow`")?;
    for name in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        rtl.push_str(&read(&src.join(name), "`phasegen asic flow`")?);
    }
    let mems = rtl_memories(&rtl);
    let netlist = read(
        &super::netlist::netlist_path(dir, top),
        "qflow's synthesize stage",
    )?;
    let names: Vec<String> = mems.iter().map(|m| m.0.clone()).collect();
    let found = memory_flops(&netlist, &names);
    let ff_area = area(&tech_flop(&tech)?);
    let memories = mems
        .iter()
        .map(|(name, words, bits)| {
            let n = found.get(name).copied().unwrap_or(0);
            MemoryRow {
                name: name.clone(),
                words: *words,
                bits: *bits,
                flip_flops: n,
                area_um2: n as f64 * ff_area,
            }
        })
        .collect();
    let sta = parse_opensta(&read(
        &dir.join("log/opensta.log"),
        "the flow's opensta stage",
    )?)?;
    let period = 1000.0 / stages.clock_mhz;
    let fmax_mhz = sta
        .setup
        .as_ref()
        .map(|p| 1000.0 / (period - p.slack_ns))
        .filter(|f| f.is_finite() && *f > 0.0);
    let vesta_fmax_mhz = std::fs::read_to_string(dir.join("log/post_sta.log"))
        .ok()
        .and_then(|t| parse_vesta_fmax(&t));
    let failed_routes = parse_route(&read(&dir.join("log/route.log"), "qflow's route stage")?)?;
    let drc_errors = parse_drc(&read(&dir.join("log/drc.log"), "qflow's drc stage")?)?;
    let lvs = parse_lvs(&read(&dir.join("log/lvs.log"), "qflow's lvs stage")?)?;
    let gds = dir.join("layout").join(format!("{top}.gds"));
    if !gds.is_file() {
        bail!("no GDS {} (made by the flow's gds stage)", gds.display());
    }
    let gds_contents = std::fs::read_to_string(dir.join("layout").join(format!("{top}.gds.txt")))
        .unwrap_or_else(|_| "contents not recorded".into())
        .trim()
        .to_string();
    let core_mm2 = placed.core_um.0 * placed.core_um.1 * 1e-6;
    let inference = match (hw, fmax_mhz) {
        (Some(hw), Some(f)) => {
            let sched = phasegen_sim::twin::sched::Schedule::new(hw);
            let cycles = sched.step_cycles() as u64;
            let field = sched.field_cycles() as u64;
            let settle = field + cycles * hw.steps as u64;
            Some(Inference {
                steps: hw.steps,
                cycles_per_step: cycles,
                field_cycles: field,
                step_ns_at_fmax: cycles as f64 * 1000.0 / f,
                inference_us_at_fmax: settle as f64 / f,
                energy_nj: sta.power.total_w / (stages.clock_mhz * 1e6) * settle as f64 * 1e9,
            })
        }
        _ => None,
    };
    Ok(AsicReport {
        tech: stages.tech.clone(),
        top: top.clone(),
        clock_mhz: stages.clock_mhz,
        die_um: placed.die_um,
        die_mm2: placed.die_um.0 * placed.die_um.1 * 1e-6,
        core_um: placed.core_um,
        core_mm2,
        cell_count,
        cell_area_mm2: cell_area_um2 * 1e-6,
        utilization: cell_area_um2 * 1e-6 / core_mm2,
        flip_flops,
        cells,
        fill_cells,
        memories,
        sta,
        fmax_mhz,
        vesta_fmax_mhz,
        failed_routes,
        drc_errors,
        lvs,
        gds: gds.display().to_string(),
        gds_contents,
        stages: stages.stages,
        place_fast: stages.place_fast,
        seed: stages.seed,
        density: stages.density,
        route_cleanup: stages.route_cleanup,
        inference,
    })
}

/// The technology's plain flip-flop (`flopcell` in its setup script).
fn tech_flop(tech: &super::tech::Tech) -> Result<String> {
    let script = tech.dir.join(format!("{}.sh", tech.name));
    let text = read(&script, "the technology package")?;
    super::tech::setup_var(&text, "flopcell")
        .with_context(|| format!("{} sets no flopcell", script.display()))
}

/// Write `<stem>.md` and `<stem>.json` for the flow in `dir`; an error
/// naming every problem (timing, routing, DRC, LVS) when there is one,
/// after the files are written.
pub fn write_report(
    dir: &std::path::Path,
    stem: &std::path::Path,
    hw: Option<&phasegen_sim::twin::model::HwModel>,
) -> Result<AsicReport> {
    let r = collect(dir, hw)?;
    let with = |suffix: &str| {
        let mut s = stem.as_os_str().to_owned();
        s.push(suffix);
        std::path::PathBuf::from(s)
    };
    let (md, js) = (with(".md"), with(".json"));
    if let Some(d) = md.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    std::fs::write(&md, r.to_markdown())
        .with_context(|| format!("cannot write {}", md.display()))?;
    std::fs::write(&js, r.to_json()).with_context(|| format!("cannot write {}", js.display()))?;
    let p = r.problems();
    if !p.is_empty() {
        bail!(
            "the layout of {} on {} is not done: {}; see {} (for timing: a lower clock target or a shorter critical path; for routing, DRC or LVS: the logs in {})",
            r.top,
            r.tech,
            p.join("; "),
            md.display(),
            dir.join("log").display()
        );
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Excerpts of one run of the flow (`make asic`-style, qflow 1.3.17 on
    // Debian 12, osu018) on a 64-10 digits core: OpenSTA's log of the
    // phasegen script after routing, the end of qrouter's log, of magic's
    // DRC log and of netgen's LVS log (a run with one open net), vesta's
    // summary, and the routed DEF's header with a few of its placed cells.
    const STA: &str = include_str!("../../../tests/fixtures/asic/osu018_opensta.log");
    const ROUTE: &str = include_str!("../../../tests/fixtures/asic/osu018_route.log");
    const DRC: &str = include_str!("../../../tests/fixtures/asic/osu018_drc.log");
    const LVS_BAD: &str = include_str!("../../../tests/fixtures/asic/osu018_lvs_mismatch.log");
    const VESTA: &str = include_str!("../../../tests/fixtures/asic/osu018_vesta.log");
    const DEF: &str = include_str!("../../../tests/fixtures/asic/osu018_placed.def");
    const LVS_OK: &str = include_str!("../../../tests/fixtures/asic/osu018_lvs_match.log");

    fn err(e: anyhow::Error) -> String {
        format!("{e:#}")
    }

    #[test]
    fn reads_points_and_units() {
        assert_eq!(
            points("DIEAREA ( -320 -300 ) ( 65200 46300 ) ;"),
            [-320.0, -300.0, 65200.0, 46300.0]
        );
        assert_eq!(
            def_units("VERSION 5.6 ;\nUNITS DISTANCE MICRONS 100 ;\n").unwrap(),
            100.0
        );
        assert!(def_units("DESIGN x ;").is_err());
    }

    #[test]
    fn reads_the_opensta_report() {
        let s = parse_opensta(STA).unwrap();
        let setup = s.setup.as_ref().unwrap();
        assert_eq!(setup.startpoint, "DFFPOSX1_579");
        assert_eq!(setup.endpoint, "DFFPOSX1_429");
        assert!((setup.arrival_ns - 3.621).abs() < 1e-9);
        assert!((setup.slack_ns - 6.649).abs() < 1e-9, "{setup:?}");
        assert!(setup.logic_levels > 10, "{setup:?}");
        let hold = s.hold.as_ref().unwrap();
        assert_eq!(hold.startpoint, "DFFPOSX1_657");
        assert!((hold.slack_ns - 0.085).abs() < 1e-9);
        assert_eq!(hold.logic_levels, 0, "{hold:?}");
        assert_eq!(s.activity, 0.1);
        assert!((s.power.total_w - 5.9464e-2).abs() < 1e-9);
        assert!((s.power.sequential_w - 2.6550e-2).abs() < 1e-9);
        assert!((s.power.leakage_w - 5.3582e-7).abs() < 1e-12);
    }

    #[test]
    fn opensta_without_paths_or_sections() {
        let none = "PHASEGEN setup\nNo paths found.\nPHASEGEN hold\nNo paths found.\n\
                    PHASEGEN power activity 0.2\nSequential 1 2 3 6 50%\nCombinational 1 2 3 6 50%\n\
                    Total 2 4 6 12 100%\nPHASEGEN end\n";
        let s = parse_opensta(none).unwrap();
        assert_eq!((s.setup, s.hold, s.activity), (None, None, 0.2));
        assert_eq!(s.power.total_w, 12.0);
        let e = err(parse_opensta("Error: cannot read x.v").unwrap_err());
        assert!(e.contains("no `PHASEGEN setup`"), "{e}");
        let e = err(parse_opensta(&STA.replace("data arrival time", "arrival")).unwrap_err());
        assert!(e.contains("setup path has no data arrival time"), "{e}");
    }

    #[test]
    fn reads_route_drc_lvs_and_vesta() {
        assert_eq!(parse_route(ROUTE).unwrap(), 0);
        assert_eq!(parse_route("Final: Failed net routes: 3\n").unwrap(), 3);
        let e = err(parse_route("Nets remaining: 12\n").unwrap_err());
        assert!(e.contains("no `Final:` line"), "{e}");
        assert_eq!(parse_drc(DRC).unwrap(), 0);
        assert_eq!(parse_drc("drc = 17\n").unwrap(), 17);
        assert!(err(parse_drc("magic crashed").unwrap_err()).contains("no `drc = N`"));
        let l = parse_lvs(LVS_BAD).unwrap();
        assert!(!l.matched);
        assert_eq!(l.errors, 2);
        assert_eq!(
            l.details,
            ["net count difference = 1", "unmatched nets = 1"]
        );
        let ok =
            "Circuits match uniquely.\nLVS reports no net, device, pin, or property mismatches.\n\
                  Total errors = 0\n";
        assert!(parse_lvs(ok).unwrap().matched);
        assert!(err(parse_lvs("netgen: not found").unwrap_err()).contains("Total errors"));
        assert_eq!(parse_vesta_fmax(VESTA), Some(265.098));
        assert_eq!(parse_vesta_fmax("nothing"), None);
    }

    #[test]
    fn reads_the_placement() {
        let sizes = lef_sizes(
            "MACRO BUFX4\n  SIZE 3.200 BY 10.000 ;\nEND BUFX4\nMACRO NAND2X1\n SIZE 2.4 BY 10 ;\n\
             MACRO OAI21X1\n SIZE 2.4 BY 10 ;\nMACRO FILL\n SIZE 0.8 BY 10 ;\nMACRO DFFPOSX1\n SIZE 9.6 BY 10 ;\n",
        );
        assert_eq!(sizes["BUFX4"], (3.2, 10.0));
        let p = parse_def(DEF, &sizes).unwrap();
        assert_eq!(p.die_um, (655.2, 466.0));
        assert!(
            (p.core_um.0 - (174.8 + 9.6 - 0.4)).abs() < 1e-9,
            "{:?}",
            p.core_um
        );
        assert!((p.core_um.1 - 10.0).abs() < 1e-9);
        assert_eq!(p.cells["BUFX4"], 4);
        assert_eq!(p.cells["DFFPOSX1"], 3);
        assert_eq!(p.cells["FILL"], 2);
        let mut no_fill = sizes.clone();
        no_fill.remove("FILL");
        assert!(err(parse_def(DEF, &no_fill).unwrap_err()).contains("no size for cell FILL"));
        assert!(
            err(parse_def("UNITS DISTANCE MICRONS 100 ;\n", &sizes).unwrap_err())
                .contains("DIEAREA")
        );
    }

    #[test]
    fn finds_written_memories_and_their_flip_flops() {
        let rtl = "    reg [9:0] sin_rom [0:31];\n    reg [1:0] x_mem [0:63];\n    reg b [0:3];\n\
                   reg [7:0] q;\n    always @(posedge i_clk) begin\n        x_mem[i_a] <= i_d;\n\
                   q <= sin_rom[i_a];\n    end\n";
        assert_eq!(rtl_memories(rtl), [("x_mem".to_string(), 64, 2)]);
        let nl = "DFFPOSX1 DFFPOSX1_1 ( .CLK(i_clk_bF_buf1), .D(_8_), .Q(x_mem_7__0_) );\n\
                  DFFPOSX1 DFFPOSX1_2 ( .CLK(i_clk_bF_buf1), .D(_9_), .Q(x_mem_7__1_) );\n\
                  DFFPOSX1 DFFPOSX1_3 ( .CLK(i_clk_bF_buf1), .D(_10_), .Q(x_mem_q_1_) );\n\
                  DFFPOSX1 DFFPOSX1_4 ( .CLK(i_clk_bF_buf1), .D(_11_), .Q(b_3_) );\n\
                  NAND2X1 NAND2X1_1 ( .A(x_mem_7__0_), .B(b_3_), .Y(_12_) );\n";
        let m = memory_flops(nl, &["x_mem".into(), "b".into()]);
        assert_eq!(m["x_mem"], 2);
        assert_eq!(m["b"], 1);
    }

    /// A qflow project of the fixtures' logs, the placed DEF excerpt, a
    /// small RTL with one written memory and a netlist with its flip-flops.
    fn project(tag: &str, lvs: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("phasegen-asic-report-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for sub in ["source", "synthesis", "layout", "log"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let stages = super::super::flow::Stages {
            tech: "osu018".into(),
            top: "pg_core".into(),
            clock_mhz: 100.0,
            place_fast: 10,
            seed: None,
            density: Some(0.6),
            route_cleanup: false,
            activity: 0.1,
            stages: super::super::flow::ALL
                .iter()
                .map(|s| super::super::flow::StageRun {
                    stage: s.to_string(),
                    wall_s: 2.0,
                    cpu_s: 1.5,
                })
                .collect(),
        };
        let w = |p: &str, t: &str| std::fs::write(d.join(p), t).unwrap();
        w("stages.json", &serde_json::to_string(&stages).unwrap());
        w("layout/pg_core.def", DEF);
        w("layout/pg_core.gds", "GDS");
        w(
            "layout/pg_core.gds.txt",
            "the routing and the cells' LEF abstracts\n",
        );
        w(
            "source/pg_core.v",
            "    reg [1:0] x_mem [0:63];\n    reg [9:0] sin_rom [0:31];\n        x_mem[i_a] <= i_d;\n",
        );
        w("source/pg_core.fl", "pg_core.v\n");
        // beside it, not synthesized for top pg_core
        w(
            "source/pg_top.v",
            "    reg [7:0] r_buf [0:511];\n        r_buf[i_a] <= i_d;\n",
        );
        w(
            "synthesis/pg_core.rtlnopwr.v",
            "DFFPOSX1 DFFPOSX1_1 ( .CLK(c), .D(a), .Q(x_mem_7__0_) );\n\
             DFFPOSX1 DFFPOSX1_2 ( .CLK(c), .D(b), .Q(x_mem_7__1_) );\n\
             DFFPOSX1 DFFPOSX1_3 ( .CLK(c), .D(e), .Q(busy) );\n",
        );
        w("log/opensta.log", STA);
        w("log/route.log", ROUTE);
        w("log/drc.log", DRC);
        w("log/lvs.log", lvs);
        w("log/post_sta.log", VESTA);
        d
    }

    #[test]
    fn collects_a_whole_report() {
        if super::super::tech::Tech::find("osu018").is_err() {
            panic!("the osu018 technology is not installed: run scripts/setup.sh");
        }
        let d = project("ok", LVS_OK);
        let r = collect(&d, None).unwrap();
        assert!(r.problems().is_empty(), "{:?}", r.problems());
        assert_eq!((r.die_um, r.fill_cells), ((655.2, 466.0), 2));
        assert_eq!(r.cell_count, 9);
        assert_eq!(r.flip_flops, 3);
        // the largest first: 3 DFFPOSX1 of 9.6 x 10 µm
        assert_eq!(r.cells[0].cell, "DFFPOSX1");
        assert!((r.cells[0].area_um2 - 288.0).abs() < 1e-6, "{:?}", r.cells);
        assert_eq!(r.memories.len(), 1);
        assert_eq!(
            (
                r.memories[0].words,
                r.memories[0].bits,
                r.memories[0].flip_flops
            ),
            (64, 2, 2)
        );
        assert!((r.memories[0].area_um2 - 192.0).abs() < 1e-6);
        // period 10 ns, setup slack 6.649 ns: 1 / 3.351 ns
        assert!((r.fmax_mhz.unwrap() - 1000.0 / 3.351).abs() < 1e-6);
        assert_eq!(r.vesta_fmax_mhz, Some(265.098));
        let md = r.to_markdown();
        assert!(md.starts_with("# ASIC report: pg_core on osu018 (timing met, no failed routes, DRC and LVS clean)"), "{md}");
        assert!(
            md.contains("| setup | 6.649 | `DFFPOSX1_579` | `DFFPOSX1_429` |"),
            "{md}"
        );
        assert!(md.contains("| `x_mem` | 64 × 2 | 2 | 192 |"), "{md}");
        assert!(md.contains("Fmax: **298.42 MHz**"), "{md}");
        assert!(md.contains("| all | 20.0 | 15.0 |"), "{md}");
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["sta"]["setup"]["endpoint"], "DFFPOSX1_429");
        assert_eq!(v["memories"][0]["flip_flops"], 2);
        let stem = d.join("out/r");
        write_report(&d, &stem, None).unwrap();
        assert!(d.join("out/r.md").is_file() && d.join("out/r.json").is_file());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_failed_check_fails_the_report_after_writing_it() {
        if super::super::tech::Tech::find("osu018").is_err() {
            panic!("the osu018 technology is not installed: run scripts/setup.sh");
        }
        let d = project("bad", LVS_BAD);
        std::fs::write(d.join("log/drc.log"), "drc = 12\n").unwrap();
        let stem = d.join("r");
        let e = err(write_report(&d, &stem, None).unwrap_err());
        assert!(
            e.contains("12 DRC errors") && e.contains("LVS: the layout does not match"),
            "{e}"
        );
        let md = std::fs::read_to_string(d.join("r.md")).unwrap();
        assert!(
            md.contains("2 PROBLEMS") && md.contains("**12 errors**"),
            "{md}"
        );
        // a stage missing from stages.json
        let mut st: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("stages.json")).unwrap()).unwrap();
        st["stages"]
            .as_array_mut()
            .unwrap()
            .retain(|s| s["stage"] != "drc");
        std::fs::write(d.join("stages.json"), st.to_string()).unwrap();
        let e = err(collect(&d, None).unwrap_err());
        assert!(e.contains("stage drc did not run"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
