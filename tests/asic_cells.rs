//! The cell models the gate-level simulation runs under Verilator (derived
//! from each technology's liberty file by Yosys, sw/src/asic/cells.rs)
//! against the technology's own Verilog models (UDP tables, which only
//! Icarus reads), cell by cell under Icarus: every input combination of a
//! combinational cell, and a long random sequence of single-input changes
//! into a flip-flop or latch, with every output compared after every
//! change (`!==`, so an unknown on one side and a value on the other is a
//! difference), once both have left the unknown power-up state. Three-state
//! buffers are left out (the derived models drop their enable; a netlist
//! with one is refused), and DFFSR's set and clear are never active
//! together: an edge-triggered `always` block, as Yosys writes it, misses
//! the release of one while the other is held (the flow's netlists use no
//! asynchronous set or clear at all; the generated RTL resets
//! synchronously).

use phasegen::asic::cells::{liberty_cells, liberty_models, tristate_cells, yosys};
use phasegen::asic::tech::{Tech, TECHS};
use std::fmt::Write as _;
use std::process::Command;

/// `(inputs, outputs)` of module `name` in a Yosys-written Verilog file.
fn ports(models: &str, name: &str) -> (Vec<String>, Vec<String>) {
    let start = models
        .find(&format!("module {name}("))
        .unwrap_or_else(|| panic!("no module {name} in the derived models"));
    let body = &models[start..start + models[start..].find("endmodule").unwrap()];
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    for l in body.lines() {
        let l = l.trim().trim_end_matches(';');
        if let Some(p) = l.strip_prefix("input ") {
            ins.push(p.trim().to_string());
        } else if let Some(p) = l.strip_prefix("output ") {
            outs.push(p.trim().to_string());
        }
    }
    (ins, outs)
}

/// A testbench module comparing `tech`'s `cell` with the derived `LIB_cell`.
fn bench(cell: &str, ins: &[String], outs: &[String], seed: u32) -> String {
    let (ni, no) = (ins.len(), outs.len());
    let mut v = String::new();
    let _ = writeln!(v, "module tb_{cell}(output reg [31:0] errors);");
    let _ = writeln!(v, "  reg [{}:0] x; wire [{}:0] a, b;", ni - 1, no - 1);
    for (inst, module, out) in [
        ("u_tech", cell.to_string(), "a"),
        ("u_lib", format!("LIB_{cell}"), "b"),
    ] {
        let conns: Vec<String> = ins
            .iter()
            .enumerate()
            .map(|(k, p)| format!(".{p}(x[{k}])"))
            .chain(
                outs.iter()
                    .enumerate()
                    .map(|(k, p)| format!(".{p}({out}[{k}])")),
            )
            .collect();
        let _ = writeln!(v, "  {module} {inst} ({});", conns.join(", "));
    }
    let sequential = ins.iter().any(|p| p == "CLK");
    let _ = writeln!(v, "  integer i, k, s;");
    let _ = writeln!(
        v,
        "  task check; begin #1; if (a !== b) begin errors = errors + 1;"
    );
    let _ = writeln!(
        v,
        "    if (errors < 5) $display(\"MISMATCH {cell} inputs {}=%b: tech %b, liberty %b\", x, a, b); end end endtask",
        ins.iter().rev().cloned().collect::<Vec<_>>().join(",")
    );
    let _ = writeln!(v, "  initial begin errors = 0; s = {seed};");
    if sequential {
        // all inputs low except the active-low set and clear, one clock
        // pulse so both sides hold a value, then single changes
        let pos = |name: &str| ins.iter().position(|p| p == name);
        let clk = pos("CLK").unwrap();
        let _ = writeln!(v, "    x = 0;");
        for k in [pos("R"), pos("S")].into_iter().flatten() {
            let _ = writeln!(v, "    x[{k}] = 1;");
        }
        let _ = writeln!(v, "    #1 x[{clk}] = 1; #1 x[{clk}] = 0; check;");
        let both = match (pos("R"), pos("S")) {
            (Some(r), Some(s)) => format!("x[{r}] == 0 && x[{s}] == 0"),
            _ => "0".into(),
        };
        let _ = writeln!(
            v,
            "    for (i = 0; i < 20000; i = i + 1) begin k = $unsigned($random(s)) % {ni}; x[k] = ~x[k];\n      if ({both}) x[k] = ~x[k]; else check; end"
        );
    } else {
        let _ = writeln!(
            v,
            "    for (i = 0; i < {}; i = i + 1) begin x = i; check; end",
            1u32 << ni
        );
    }
    let _ = writeln!(v, "  end\nendmodule");
    v
}

fn cells_match(tech_name: &str) {
    let tech = Tech::find(tech_name).unwrap_or_else(|e| panic!("{e:#} (run scripts/setup.sh)"));
    let lib = std::fs::read_to_string(&tech.liberty).unwrap();
    let derived = std::fs::read_to_string(liberty_models(&tech, &yosys()).unwrap()).unwrap();
    let tri = tristate_cells(&lib);
    let cells: Vec<String> = liberty_cells(&lib)
        .into_iter()
        .filter(|c| !tri.contains(c))
        .collect();
    assert!(cells.len() >= 25, "{tech_name}: only {cells:?}");
    let dir = phasegen::cosim::scratch_dir(&format!("asic-cells-{tech_name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut renamed = derived.clone();
    for c in liberty_cells(&lib) {
        renamed = renamed.replace(&format!("module {c}("), &format!("module LIB_{c}("));
    }
    let mut tb = String::from("`timescale 1ns/10ps\nmodule tb;\n");
    let mut benches = String::new();
    // (pad-ring cells without a logic input or output, e.g. osu035's
    // corner and supply pads, have nothing to compare)
    let (cells, portless): (Vec<String>, Vec<String>) = cells.into_iter().partition(|c| {
        let (ins, outs) = ports(&derived, c);
        !ins.is_empty() && !outs.is_empty()
    });
    for (k, c) in cells.iter().enumerate() {
        let (ins, outs) = ports(&derived, c);
        benches.push_str(&bench(c, &ins, &outs, 1 + k as u32));
        let _ = writeln!(tb, "  wire [31:0] e{k}; tb_{c} t{k} (e{k});");
    }
    let _ = writeln!(tb, "  initial begin #500000;");
    for (k, c) in cells.iter().enumerate() {
        let _ = writeln!(
            tb,
            "    if (e{k} != 0) $display(\"FAILED {c}: %0d differences\", e{k});"
        );
    }
    let _ = writeln!(
        tb,
        "    $display(\"CELLS CHECKED {}\");\n    $finish;\n  end\nendmodule",
        cells.len()
    );
    std::fs::write(dir.join("lib.v"), &renamed).unwrap();
    std::fs::write(
        dir.join("tb.v"),
        format!("`timescale 1ns/10ps\n{benches}{tb}"),
    )
    .unwrap();
    let vvp = dir.join("tb.vvp");
    let out = Command::new("iverilog")
        .arg("-o")
        .arg(&vvp)
        .arg(&tech.verilog)
        .arg(dir.join("lib.v"))
        .arg(dir.join("tb.v"))
        .output()
        .expect("cannot run iverilog (run scripts/setup.sh)");
    assert!(
        out.status.success(),
        "iverilog failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("vvp")
        .arg(&vvp)
        .output()
        .expect("cannot run vvp");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("CELLS CHECKED {}", cells.len())) && !text.contains("FAILED"),
        "{tech_name}: the derived cell models differ from the technology's:\n{text}"
    );
    println!(
        "{tech_name}: {} cells agree ({}); not compared: three-state {tri:?}, without logic ports {portless:?}",
        cells.len(),
        cells.join(" ")
    );
}

#[test]
fn derived_cell_models_match_the_technology_models() {
    for t in TECHS {
        cells_match(t);
    }
}
