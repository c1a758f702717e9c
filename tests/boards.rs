//! Every board in the config's table has its flow files, and they agree:
//! `constraints/<board>.mk` names the family, part and oscillator the table
//! has, its pin file and board top exist, and the board top with the
//! generated core and `pg_pll` (through the board's PLL) is lint clean.

use phasegen_sim::board::BOARDS;
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `KEY := value` lines of a board's make fragment.
fn board_mk(name: &str) -> BTreeMap<String, String> {
    let path = Path::new(ROOT).join(format!("constraints/{name}.mk"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("board {name}: cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(":="))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn board_table_matches_the_make_fragments() {
    for b in BOARDS {
        let mk = board_mk(b.name);
        let get = |k: &str| {
            mk.get(k)
                .unwrap_or_else(|| panic!("constraints/{}.mk sets no {k}", b.name))
                .as_str()
        };
        assert_eq!(get("FAMILY"), b.family, "{}", b.name);
        assert_eq!(get("DEVICE"), b.device, "{}", b.name);
        assert_eq!(get("PACKAGE"), b.package, "{}", b.name);
        assert_eq!(get("BOARD_CLOCK_HZ"), b.clock_hz.to_string(), "{}", b.name);
        assert_eq!(
            get("SYNTH_FLAGS").contains("-dsp"),
            b.has_dsp() && b.family == "ice40",
            "{}: -dsp only on iCE40 parts with DSPs",
            b.name
        );
        let pins = Path::new(ROOT).join(get("PINS"));
        assert!(pins.is_file(), "{}: no pin file {}", b.name, pins.display());
        let top = Path::new(ROOT).join(format!("hdl/boards/{}.v", get("BOARD_TOP")));
        let text = std::fs::read_to_string(&top)
            .unwrap_or_else(|e| panic!("{}: no board top {}: {e}", b.name, top.display()));
        assert!(text.contains(&format!("module {} (", get("BOARD_TOP"))));
        assert!(text.contains("pg_pll u_pll") && text.contains("pg_top u_core"));
        assert!(
            ["iceprog", "openFPGALoader"].contains(&get("PROG_TOOL")),
            "{}",
            b.name
        );
    }
    // And no make fragment without a table entry.
    for e in std::fs::read_dir(Path::new(ROOT).join("constraints")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(board) = name.strip_suffix(".mk") {
            assert!(
                BOARDS.iter().any(|b| b.name == board),
                "constraints/{name} has no entry in BOARDS (sim/src/config.rs)"
            );
        }
    }
}

fn lint_board(board: &str, clock_hz: u64) {
    let mut cfg = Config::default_config();
    cfg.network.inputs = 16;
    cfg.network.layers = vec![4, 3];
    cfg.target.board = board.into();
    cfg.target.clock_hz = clock_hz;
    cfg.validate().unwrap();
    let plan = cfg.clock_plan().unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
    let dir = phasegen::cosim::scratch_dir(&format!("lint-board-{board}-{clock_hz}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hash = cfg.hash_hex();
    let mut files = phasegen_hdl::generate_design(
        &hash,
        phasegen_hdl::design_id(&hash, &hw),
        &hw,
        plan.core_clock_hz(),
        cfg.target.baud,
    );
    files.push(phasegen_hdl::generate_pll(&hash, &hw, &plan));
    for f in files {
        std::fs::write(dir.join(&f.name), &f.text).unwrap();
    }
    let top = board_mk(board)["BOARD_TOP"].clone();
    let out = Command::new(format!("{ROOT}/scripts/lint.sh"))
        .arg(&dir)
        .arg(&top)
        .arg(format!("{ROOT}/hdl/boards/{top}.v"))
        .arg(format!("{ROOT}/hdl/lint/pll_cells.v"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lint of {board} at {clock_hz} Hz ({}) failed:\n{}{}",
        plan.describe(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn board_tops_with_their_plls_are_lint_clean() {
    for b in BOARDS {
        // A clock each board's PLL makes exactly.
        let hz = match b.pll {
            phasegen_sim::board::PllKind::Ecp5 => 50_000_000,
            _ => 18_000_000,
        };
        lint_board(b.name, hz);
    }
    lint_board("ulx3s-25f", 25_000_000);
}
