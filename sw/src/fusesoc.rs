//! The generated design as a FuseSoC core (`phasegen gen --fusesoc`): a
//! CAPI2 description (`<name>.core`) of the generated files, with the board
//! top and pin file copied beside them, so that `fusesoc run
//! --target=<board>` builds the bitstream and other cores can depend on
//! `pg_top`.
//!
//! Targets:
//! - `default`: the core alone, `pg_top` and its modules (for cores that use
//!   it inside their own design);
//! - `synth`: Yosys synthesis of the board design (edalize's flow for the
//!   family with `pnr: none`: a JSON netlist);
//! - `<board>`: the bitstream, through edalize's `icestorm` flow (iCE40:
//!   Yosys, nextpnr-ice40, icepack) or `trellis` flow (ECP5: Yosys,
//!   nextpnr-ecp5, ecppack, which Debian 12 does not package: use the OSS
//!   CAD Suite, or `make bitstream`, which uses the pinned yowasp tools).

use phasegen_sim::board::Board;
use std::fmt::Write as _;

/// A hand-written board top and its pin file, as the repository holds them.
pub struct BoardFiles {
    pub top_name: &'static str,
    pub top_text: &'static str,
    pub pins_name: &'static str,
    pub pins_text: &'static str,
}

/// The board top and pins of a board the flow knows.
pub fn board_files(board: &str) -> Option<BoardFiles> {
    Some(match board {
        "icebreaker" => BoardFiles {
            top_name: "icebreaker_top",
            top_text: include_str!("../../hdl/boards/icebreaker_top.v"),
            pins_name: "icebreaker.pcf",
            pins_text: include_str!("../../constraints/icebreaker.pcf"),
        },
        "hx8k-breakout" => BoardFiles {
            top_name: "hx8k_breakout_top",
            top_text: include_str!("../../hdl/boards/hx8k_breakout_top.v"),
            pins_name: "hx8k-breakout.pcf",
            pins_text: include_str!("../../constraints/hx8k-breakout.pcf"),
        },
        "ulx3s-85f" | "ulx3s-25f" => BoardFiles {
            top_name: "ulx3s_top",
            top_text: include_str!("../../hdl/boards/ulx3s_top.v"),
            pins_name: "ulx3s.lpf",
            pins_text: include_str!("../../constraints/ulx3s.lpf"),
        },
        _ => return None,
    })
}

/// Yosys's synthesis options for a board's part (as its `constraints/*.mk`
/// `SYNTH_FLAGS`).
pub fn synth_options(b: &Board) -> Vec<&'static str> {
    let mut v = vec![];
    if b.family == "ice40" && b.dsps > 0 {
        v.push("-dsp");
    }
    if b.device == "up5k" {
        v.push("-spram");
    }
    v
}

/// What a core describes.
pub struct Core<'a> {
    /// The design's name (the VLNV's name part).
    pub name: &'a str,
    pub description: &'a str,
    pub board: &'a Board,
    pub files: &'a BoardFiles,
    /// The generated Verilog files but `pg_pll.v`.
    pub sources: &'a [String],
    /// The memory images they read.
    pub hex: &'a [String],
    /// The generated `pg_pll.v`.
    pub pll: &'a str,
    /// The core clock nextpnr is constrained to.
    pub clock_mhz: f64,
    /// Whether the board top fits `pg_top` (its UART pins); an
    /// AXI4-Stream design gets the `default` target only.
    pub board_targets: bool,
}

/// The core file.
pub fn core_file(c: &Core) -> String {
    let Core {
        name,
        description,
        board,
        files,
        sources,
        hex,
        pll,
        clock_mhz,
        board_targets,
    } = *c;
    let mut s = String::from("CAPI=2:\n");
    let vlnv_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let _ = writeln!(s, "name: phasegen:design:{vlnv_name}:1.0.0");
    let _ = writeln!(s, "description: {}", yaml_str(description));
    s.push_str("\nfilesets:\n  rtl:\n    files:\n");
    for f in sources {
        let _ = writeln!(s, "      - {f}");
    }
    for f in hex {
        let _ = writeln!(s, "      - {f}: {{file_type: user, copyto: {f}}}");
    }
    s.push_str("    file_type: verilogSource\n");
    if !board_targets {
        s.push_str("\ntargets:\n  default:\n    filesets: [rtl]\n    toplevel: pg_top\n");
        return s;
    }
    let _ = writeln!(
        s,
        "  board:\n    files:\n      - {pll}\n      - {}.v\n      - {}: {{file_type: {}}}\n    file_type: verilogSource",
        files.top_name,
        files.pins_name,
        if board.family == "ice40" { "PCF" } else { "LPF" }
    );
    s.push_str("\ntargets:\n  default:\n    filesets: [rtl]\n    toplevel: pg_top\n");
    let opts = synth_options(board);
    let yosys_opts = format!("[{}]", opts.join(", "));
    // edalize's flow for the family: Yosys, nextpnr and the packer
    let flow = if board.family == "ice40" {
        "icestorm"
    } else {
        "trellis"
    };
    let _ = writeln!(
        s,
        "  synth:\n    flow: {flow}\n    filesets: [rtl, board]\n    toplevel: {}\n    flow_options:\n      pnr: none\n      yosys_synth_options: {yosys_opts}",
        files.top_name
    );
    let _ = writeln!(
        s,
        "  {}:\n    flow: {flow}\n    filesets: [rtl, board]\n    toplevel: {}\n    flow_options:\n      yosys_synth_options: {yosys_opts}\n      nextpnr_options: [--{}, --package, {}, --freq, {clock_mhz}]",
        board.name, files.top_name, board.device, board.package
    );
    s
}

/// A YAML double-quoted string.
fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_board_has_its_files_and_a_target() {
        for b in phasegen_sim::board::BOARDS {
            let f = board_files(b.name).unwrap_or_else(|| panic!("{}", b.name));
            assert!(f.top_text.contains(&format!("module {}", f.top_name)));
            let core = core_file(&Core {
                name: "digits",
                description: "a \"test\"",
                board: b,
                files: &f,
                sources: &["pg_core.v".into(), "pg_top.v".into()],
                hex: &["pg_core_w.hex".into()],
                pll: "pg_pll.v",
                clock_mhz: 12.0,
                board_targets: true,
            });
            assert!(core.starts_with("CAPI=2:\nname: phasegen:design:digits:1.0.0\n"));
            assert!(core.contains(&format!("\n  {}:\n", b.name)), "{core}");
            assert!(core.contains("description: \"a \\\"test\\\"\""));
            assert!(core.contains("- pg_core_w.hex: {file_type: user, copyto: pg_core_w.hex}"));
        }
        assert!(board_files("nosuch").is_none());
    }
}
