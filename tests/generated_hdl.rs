//! Generated Verilog: reproducible to the byte, and clean under
//! `verilator --lint-only -Wall` and Yosys `check -assert` (scripts/lint.sh).

use phasegen_hdl::Target;
use phasegen_sim::config::{Config, Coupling, ParamMemory, UMemory};
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;
use std::process::Command;

fn design(cfg: &Config) -> Vec<phasegen_hdl::GenFile> {
    design_for(Target::Fpga, cfg)
}

fn design_for(target: Target, cfg: &Config) -> Vec<phasegen_hdl::GenFile> {
    let (hw, _) = quantize(cfg, &Params::init(cfg), 16).unwrap();
    phasegen_hdl::generate_design_for(
        target,
        &cfg.hash_hex(),
        phasegen_hdl::design_id(&cfg.hash_hex(), &hw),
        &hw,
        cfg.target.clock_hz,
        cfg.target.baud,
    )
}

#[test]
fn same_config_same_bytes() {
    let cfg = Config::default_config();
    let a = design(&cfg);
    let b = design(&Config::parse(&cfg.canonical(), "copy").unwrap());
    assert_eq!(a, b);
    assert!(a[0].text.contains(&cfg.hash_hex()));
    let mut other = cfg.clone();
    other.hardware.phase_bits = 14;
    assert_ne!(design(&other)[0].text, a[0].text);
}

fn lint(tag: &str, cfg: &Config) {
    lint_for(Target::Fpga, tag, cfg)
}

fn lint_for(target: Target, tag: &str, cfg: &Config) {
    let dir = phasegen::cosim::scratch_dir(tag);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in design_for(target, cfg) {
        std::fs::write(dir.join(&f.name), &f.text).unwrap();
    }
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/lint.sh"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lint of {tag} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn default_design_is_lint_clean() {
    lint("lint-default", &Config::default_config());
}

/// The ASIC form (plain RTL: no power-on values, no RAM-kind attributes)
/// of the default design and of one whose U and W are in UP5K SPRAM-style
/// RAM on the FPGA: lint clean, and without either FPGA construct.
#[test]
fn asic_designs_are_lint_clean_and_plain() {
    let mut spram = Config::default_config();
    spram.hardware.u_memory = UMemory::Ram;
    spram.hardware.w_memory = UMemory::Ram;
    for (tag, cfg) in [
        ("lint-asic", Config::default_config()),
        ("lint-asic-ram", spram),
    ] {
        let fpga: String = design(&cfg).iter().map(|f| f.text.clone()).collect();
        let asic: String = design_for(Target::Asic, &cfg)
            .iter()
            .map(|f| f.text.clone())
            .collect();
        // the FPGA form has both constructs, or the test checks nothing
        assert!(fpga.contains("reg  busy = 1'h0;"), "{tag}");
        if tag == "lint-asic-ram" {
            assert!(fpga.contains("(* ram_style = \"huge\" *)"), "{tag}");
        }
        assert!(!asic.contains("ram_style"), "{tag}");
        assert!(asic.contains("reg  busy;"), "{tag}");
        let init = asic
            .lines()
            .find(|l| l.trim_start().starts_with("reg ") && l.contains(" = "));
        assert!(init.is_none(), "{tag}: a power-on value: {init:?}");
        lint_for(Target::Asic, tag, &cfg);
    }
}

#[test]
fn other_shapes_are_lint_clean() {
    let mut c = Config::default_config();
    c.network.inputs = 5;
    c.network.layers = vec![3, 4, 2];
    c.network.intralayer = true;
    c.hardware.phase_bits = 12;
    c.hardware.table_bits = 6;
    c.hardware.amp_bits = 8;
    c.hardware.weight_bits = 6;
    c.hardware.input_bits = 8;
    lint("lint-small", &c);
    // the narrowest formats: 4-bit phases, an 8-entry table
    let mut c = Config::default_config();
    c.network.inputs = 5;
    c.network.layers = vec![4, 3];
    c.hardware.phase_bits = 4;
    c.hardware.table_bits = 3;
    c.hardware.amp_bits = 6;
    c.hardware.input_bits = 3;
    lint("lint-four-bit", &c);
}

#[test]
fn designs_with_lanes_are_lint_clean() {
    for lanes in [2, 4] {
        let mut c = Config::default_config();
        c.hardware.lanes = lanes;
        lint(&format!("lint-lanes-{lanes}"), &c);
    }
    // a fully connected net whose input count is below the lanes' field spacing
    let mut c = Config::default_config();
    c.network.inputs = 3;
    c.network.layers = vec![7];
    c.network.intralayer = true;
    c.hardware.lanes = 3;
    lint("lint-full-3", &c);
    // input weights in RAM, written over the UART
    let mut c = Config::default_config();
    c.hardware.lanes = 2;
    c.hardware.u_memory = phasegen_sim::config::UMemory::Ram;
    lint("lint-uram-2", &c);
    // writable parameters: W, the oscillator constants and U in RAM (U
    // initialised; and U in SPRAM-style RAM with one lane, so the word
    // sizes of the blocks differ), and a net whose inputs are padded
    for (lanes, u_memory) in [(2, UMemory::Auto), (1, UMemory::Ram)] {
        let mut c = Config::default_config();
        c.hardware.lanes = lanes;
        c.hardware.u_memory = u_memory;
        c.hardware.params = ParamMemory::Ram;
        lint(&format!("lint-params-{lanes}"), &c);
    }
    let mut c = Config::default_config();
    c.network.inputs = 3;
    c.network.layers = vec![4, 2];
    c.hardware.lanes = 3;
    c.hardware.params = ParamMemory::Ram;
    lint("lint-params-pad", &c);
}

/// 1024-oscillator designs, generated in under a second (printed, not
/// asserted: the machine is shared): with intralayer coupling (1,047,552
/// coupling entries) and layered.
#[test]
fn generates_1024_oscillator_designs_quickly() {
    for (layers, intralayer, lanes) in [(vec![1014, 10], true, 4), (vec![1014, 10], false, 2)] {
        let mut c = Config::default_config();
        c.network.inputs = 64;
        c.network.layers = layers.clone();
        c.network.intralayer = intralayer;
        c.hardware.lanes = lanes;
        let (hw, _) = quantize(&c, &Params::init(&c), 16).unwrap();
        let t = std::time::Instant::now();
        let files = phasegen_hdl::generate_design(
            &c.hash_hex(),
            phasegen_hdl::design_id(&c.hash_hex(), &hw),
            &hw,
            c.target.clock_hz,
            c.target.baud,
        );
        let secs = t.elapsed().as_secs_f64();
        let bytes: usize = files.iter().map(|f| f.text.len()).sum();
        println!(
            "{layers:?} intralayer {intralayer}, {lanes} lanes: {} coupling entries, {bytes} bytes of Verilog in {secs:.3} s",
            hw.nnz()
        );
        assert!(files[0].text.contains("module pg_core"));
    }
}

/// Fully connected designs: the stream's control from counters (lead
/// bubbles and a last group of one row: 9 at 4 lanes), with W in one RAM of
/// all lanes (and U), and with writable parameters on top.
#[test]
fn dense_and_w_in_ram_designs_are_lint_clean() {
    let mut c = Config::default_config();
    c.network.inputs = 16;
    c.network.layers = vec![9];
    c.network.intralayer = true;
    c.hardware.lanes = 4;
    lint("lint-dense-9-4", &c);
    c.network.layers = vec![20];
    c.hardware.lanes = 2;
    c.hardware.u_memory = UMemory::Ram;
    c.hardware.w_memory = UMemory::Ram;
    lint("lint-full-wram", &c);
    c.hardware.params = ParamMemory::Ram;
    lint("lint-full-wram-params", &c);
}

/// The pairs stream (each pair's weight once, `hardware.coupling =
/// "pairs"`): one lane, an odd count, sixteen lanes of 5-bit weights (an
/// 80-bit weight word), and writable parameters.
#[test]
fn pairs_designs_are_lint_clean() {
    let mut c = Config::default_config();
    c.network.inputs = 16;
    c.network.layers = vec![4, 10];
    c.network.intralayer = true;
    c.hardware.coupling = Coupling::Pairs;
    c.hardware.lanes = 1;
    lint("lint-pairs-1", &c);
    c.hardware.lanes = 3;
    lint("lint-pairs-3", &c);
    c.network.layers = vec![40, 10];
    c.hardware.lanes = 16;
    c.hardware.weight_bits = 5;
    c.hardware.phase_bits = 8;
    c.hardware.table_bits = 7;
    lint("lint-pairs-16", &c);
    c.hardware.params = ParamMemory::Ram;
    c.hardware.lanes = 4;
    lint("lint-pairs-params", &c);
    // a weight ROM from its hex file (HEX_MIN_WORDS words or more), which
    // Yosys reads beside the source
    c.hardware.params = ParamMemory::Rom;
    c.network.layers = vec![120, 10];
    c.hardware.lanes = 2;
    assert!(design(&c).iter().any(|f| f.name.ends_with(".hex")));
    lint("lint-pairs-hex", &c);
}

/// The AXI4-Stream front end (`hardware.interface = "axis"`): `pg_top` with
/// stream ports and no UART, lint clean, the UART design unchanged.
#[test]
fn axi4_stream_designs_are_lint_clean() {
    let mut c = Config::default_config();
    let uart = design(&c);
    c.hardware.interface = phasegen_sim::config::Interface::Axis;
    let axis = design(&c);
    let names =
        |v: &[phasegen_hdl::GenFile]| -> Vec<String> { v.iter().map(|f| f.name.clone()).collect() };
    assert!(names(&axis).contains(&"pg_axis_rx.v".to_string()));
    assert!(!names(&axis).contains(&"pg_uart_rx.v".to_string()));
    let top = &axis.iter().find(|f| f.name == "pg_top.v").unwrap().text;
    for port in [
        "s_axis_tvalid",
        "s_axis_tready",
        "m_axis_tdata",
        "m_axis_tready",
    ] {
        assert!(top.contains(port), "{port}");
    }
    assert!(!top.contains("i_uart_rx"));
    // the default design's bytes do not depend on the new option
    assert_eq!(design(&Config::default_config())[..], uart[..]);
    lint("lint-axis", &c);
}

/// The memories the host fills are marked for the UP5K's SPRAM (Yosys's
/// cost model alone puts small ones in block RAM, which the rest of the
/// design needs); on other parts they stay plain.
#[test]
fn host_filled_memories_are_marked_for_spram_on_the_up5k() {
    for (board, marked) in [("icebreaker", true), ("ulx3s-25f", false)] {
        let mut c = Config::default_config();
        c.target.board = board.into();
        c.target.clock_hz = if marked { 12_000_000 } else { 25_000_000 };
        c.hardware.lanes = 2;
        c.hardware.u_memory = UMemory::Ram;
        c.hardware.w_memory = UMemory::Ram;
        let core = design(&c)
            .into_iter()
            .find(|f| f.name == "pg_core.v")
            .unwrap();
        for mem in ["w_ram", "u_ram"] {
            let at = core
                .text
                .find(&format!("] {mem} ["))
                .unwrap_or_else(|| panic!("{board}: no {mem} in pg_core.v"));
            let before = &core.text[..at];
            let line_start = before[..before.rfind('\n').unwrap()].rfind('\n').unwrap();
            let prev = &before[line_start..];
            assert_eq!(
                prev.contains("(* ram_style = \"huge\" *)"),
                marked,
                "{board} {mem}: {prev}"
            );
        }
    }
}

/// The metacircuit controller (`pg_ctl` and its SPI masters) for a small
/// realized tactile model on the reference parts: lint clean, and the same
/// plan gives the same bytes.
#[test]
fn the_metacircuit_controller_is_lint_clean_and_reproducible() {
    use phasegen_sim::r2nn::circuit::Circuit;
    use phasegen_sim::r2nn::ctl::CtlPlan;
    use phasegen_sim::r2nn::data::Task;
    use phasegen_sim::r2nn::parts::PartTable;
    use phasegen_sim::r2nn::realize::{board_scale, realize};
    let spec = Task::Tactile.spec();
    let net = spec.net(&spec.init(1)).unwrap();
    let table = PartTable::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/parts/reference.toml"
    )))
    .unwrap();
    let scale = board_scale(&net, &table, Some(100e3), None).unwrap();
    let r = realize(&Circuit::from_net(&net, scale), &table).unwrap();
    let plan = CtlPlan::new(&table, &r, 48e6, 100e3, net.probes.len(), 2048).unwrap();
    for (tag, top, files) in [
        (
            "lint-ctl",
            "pg_ctl",
            phasegen_hdl::generate_ctl_files(&plan),
        ),
        (
            "lint-ctl-top",
            "pg_ctl_top",
            phasegen_hdl::generate_ctl_top_files(&plan, 48_000_000, 115_200),
        ),
    ] {
        assert_eq!(
            files,
            phasegen_hdl::generate_ctl_top_files(&plan.clone(), 48_000_000, 115_200)
                .into_iter()
                .filter(|f| files.iter().any(|g| g.name == f.name))
                .collect::<Vec<_>>()
        );
        let dir = phasegen::cosim::scratch_dir(tag);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for f in &files {
            std::fs::write(dir.join(&f.name), &f.text).unwrap();
        }
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/lint.sh"))
            .arg(&dir)
            .arg(top)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lint of {top} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The coupling's extra harmonics (docs/hardware.md): the default network
/// with the reduced van der Pol's `a_3`, and two harmonics on three lanes
/// and on a dense stream; lint clean, the same bytes twice, and only the
/// harmonic designs change.
#[test]
fn harmonic_designs_are_lint_clean_and_reproducible() {
    let mut vdp = Config::default_config();
    vdp.train.harmonics = vec![0.0, -0.035781];
    let a = design(&vdp);
    assert_eq!(a, design(&Config::parse(&vdp.canonical(), "copy").unwrap()));
    let core = &a[0].text;
    assert!(core.contains("harm_t3") && !core.contains("harm_t2"));
    let plain = design(&Config::default_config());
    assert_ne!(a[0].text, plain[0].text);
    assert!(!plain[0].text.contains("harm_"));
    lint("lint-harm-vdp", &vdp);
    let mut lanes = Config::default_config();
    lanes.network.inputs = 6;
    lanes.network.layers = vec![5, 4];
    lanes.network.intralayer = true;
    lanes.hardware.lanes = 3;
    lanes.target.board = "ulx3s-25f".into();
    lanes.target.clock_hz = 25_000_000;
    lanes.train.harmonics = vec![0.3, -0.45];
    lanes.validate().unwrap();
    lint("lint-harm-lanes", &lanes);
    let mut dense = lanes.clone();
    dense.network.layers = vec![9];
    dense.hardware.lanes = 2;
    lint("lint-harm-dense", &dense);
}
