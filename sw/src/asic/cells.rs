//! Simulation models of a technology's cells that Verilator can read.
//!
//! The OSU libraries' own Verilog models build their flip-flops and latch
//! from UDP tables (`primitive udp_dff ... table`), which Verilator 5.006
//! cannot parse. Yosys reads each cell's function from the liberty file
//! instead (the file synthesis maps to and STA times with: its `function`,
//! `ff` and `latch` groups) and writes it as plain Verilog, flip-flops as
//! `always` blocks. tests/asic_cells.rs proves under Icarus that these
//! models and the technology's Verilog models give the same outputs for
//! every input (combinational cells exhaustively, sequential ones along a
//! long random sequence), cell by cell.
//!
//! Yosys's liberty reader drops a three-state output's enable
//! (`three_state`), so tri-state buffers are not modelled: [`cell_counts`]
//! refuses a netlist that has one (the flow's synthesis makes none).

use super::tech::Tech;
use crate::cosim::write_if_changed;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cell names a liberty file defines (`cell (NAME) {`), in its order.
pub fn liberty_cells(liberty: &str) -> Vec<String> {
    liberty
        .lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("cell")?.trim_start();
            let rest = rest.strip_prefix('(')?;
            let name = rest.split(')').next()?.trim().trim_matches('"');
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

/// The cells with a three-state output (a pin with a `three_state`
/// attribute), which the derived models cannot represent.
pub fn tristate_cells(liberty: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    let cells = liberty_cells(liberty);
    for l in liberty.lines() {
        let t = l.trim_start();
        if let Some(rest) = t.strip_prefix("cell") {
            let name = rest
                .trim_start()
                .strip_prefix('(')
                .and_then(|r| r.split(')').next())
                .map(|n| n.trim().trim_matches('"').to_string());
            if let Some(n) = name.filter(|n| cells.contains(n)) {
                current = Some(n);
            }
        }
        if t.starts_with("three_state") {
            if let Some(c) = &current {
                if !found.contains(c) {
                    found.push(c.clone());
                }
            }
        }
    }
    found
}

/// The cell instances of a gate-level netlist (one `CELL NAME ( .PIN(net),
/// ... );` per instance, as qflow's `blif2Verilog` writes them), counted by
/// cell type; `known` are the library's cells. Refuses a cell type in
/// `unmodelled`, naming it.
pub fn cell_counts(
    netlist: &str,
    known: &[String],
    unmodelled: &[String],
) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for l in netlist.lines() {
        let mut words = l.split_whitespace();
        let (Some(ty), Some(_name), Some(open)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        if !open.starts_with('(') || !known.iter().any(|k| k == ty) {
            continue;
        }
        if unmodelled.iter().any(|u| u == ty) {
            bail!(
                "the netlist instantiates {ty}, a three-state cell the simulation models do not represent (see sw/src/asic/cells.rs)"
            );
        }
        *counts.entry(ty.to_string()).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Empty modules for the fill cells a routed netlist lists (`FILL ... ( );`:
/// spacers placed into the rows' gaps, with no pins and no function, in the
/// LEF only, so the liberty's models lack them); `None` when there are
/// none. A file in the cache named by its contents.
pub fn fill_models(netlist: &str) -> Result<Option<PathBuf>> {
    let mut fills = std::collections::BTreeSet::new();
    for l in netlist.lines() {
        let mut words = l.split_whitespace();
        if let (Some(ty), Some(_), Some(open)) = (words.next(), words.next(), words.next()) {
            if ty.starts_with("FILL") && open.starts_with('(') {
                fills.insert(ty.to_string());
            }
        }
    }
    if fills.is_empty() {
        return Ok(None);
    }
    let text: String = fills
        .iter()
        .map(|f| format!("// a fill cell: no pins, no function\nmodule {f} ();\nendmodule\n"))
        .collect();
    let key: String = Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = cache();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out = dir.join(format!("fill-{key}.v"));
    write_if_changed(&out, &text)?;
    Ok(Some(out))
}

/// `$YOSYS` or Debian's `yosys` (the one qflow runs).
pub fn yosys() -> PathBuf {
    PathBuf::from(std::env::var("YOSYS").unwrap_or_else(|_| "yosys".into()))
}

/// Where derived cell models are kept: `cells/` in the phasegen cache
/// (beside the Verilator cache, `$PHASEGEN_CACHE` when set).
fn cache() -> PathBuf {
    phasegen_vl::cache_dir()
        .parent()
        .map(|p| p.join("cells"))
        .unwrap_or_else(|| std::env::temp_dir().join("phasegen-cells"))
}

/// The Verilog models of `tech`'s cells derived from its liberty file by
/// `yosys` (`read_liberty; write_verilog`): the path of a file in the cache,
/// rewritten only when the liberty or the Yosys version changes.
pub fn liberty_models(tech: &Tech, yosys: &Path) -> Result<PathBuf> {
    let lib = std::fs::read(&tech.liberty)
        .with_context(|| format!("cannot read {}", tech.liberty.display()))?;
    let version = Command::new(yosys).arg("-V").output().with_context(|| {
        format!(
            "cannot run {} -V (install Debian's yosys with `make setup`, or set YOSYS)",
            yosys.display()
        )
    })?;
    let mut h = Sha256::new();
    h.update(&version.stdout);
    h.update(&lib);
    let key: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = cache();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out = dir.join(format!("{}-liberty-{key}.v", tech.name));
    if out.is_file() {
        return Ok(out);
    }
    let tmp = dir.join(format!(
        "{}-liberty-{key}.{}.tmp.v",
        tech.name,
        std::process::id()
    ));
    let script = format!(
        "read_liberty {}; write_verilog -noattr {}",
        tech.liberty.display(),
        tmp.display()
    );
    let res = Command::new(yosys)
        .args(["-q", "-p", &script])
        .output()
        .with_context(|| format!("cannot run {}", yosys.display()))?;
    if !res.status.success() {
        bail!(
            "{} -p '{script}' failed ({}):\n{}{}",
            yosys.display(),
            res.status,
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
    let text = std::fs::read_to_string(&tmp)
        .with_context(|| format!("Yosys wrote no {}", tmp.display()))?;
    let _ = std::fs::remove_file(&tmp);
    let header = format!(
        "// Simulation models of the {} cells, written by Yosys from {} (sw/src/asic/cells.rs)\n",
        tech.name,
        tech.liberty.display()
    );
    write_if_changed(&out, &(header + &text))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str = "library (x) {\n  cell (INVX1) {\n    pin(A) { direction : input; }\n    pin(Y) { function : \"(!A)\"; }\n  }\n  cell(TBUFX1) {\n    pin(Y) {\n      function : \"(!A)\";\n      three_state : \"(!EN)\";\n    }\n  }\n  cell (DFFPOSX1) {\n    ff (DS0000,P0002) { next_state : \"D\"; clocked_on : \"CLK\"; }\n  }\n}\n";

    #[test]
    fn lists_cells_and_tristates() {
        assert_eq!(liberty_cells(LIB), ["INVX1", "TBUFX1", "DFFPOSX1"]);
        assert_eq!(tristate_cells(LIB), ["TBUFX1"]);
    }

    #[test]
    fn counts_instances_and_refuses_tristates() {
        let known = liberty_cells(LIB);
        let tri = tristate_cells(LIB);
        let nl = "module m (a, y);\ninput a;\nwire vdd = 1'b1;\n\
                  INVX1 INVX1_1 ( .A(a), .Y(_1_) );\n\
                  DFFPOSX1 DFFPOSX1_1 ( .CLK(clk), .D(_1_), .Q(q) );\n\
                  INVX1 INVX1_2 ( .A(q), .Y(y) );\nendmodule\n";
        let c = cell_counts(nl, &known, &tri).unwrap();
        assert_eq!(c.get("INVX1"), Some(&2));
        assert_eq!(c.get("DFFPOSX1"), Some(&1));
        assert_eq!(c.len(), 2);
        let bad = format!("{nl}TBUFX1 TBUFX1_1 ( .A(a), .EN(q), .Y(z) );\n");
        let e = cell_counts(&bad, &known, &tri).unwrap_err().to_string();
        assert!(e.contains("TBUFX1, a three-state cell"), "{e}");
    }
}
