//! The synthesized netlist, per FPGA family, against the integer twin: Yosys
//! maps the generated core onto iCE40 or ECP5 cells, `write_verilog` writes
//! the netlist, Verilator runs it with Yosys's cell models, and the same
//! driver and checks as the RTL cosimulation (tests/cosim_core.rs) compare
//! every phase of every step, free and nudged, with the twin.
//! See sw/src/netlist.rs for what each family covers.

use phasegen::cosim::{scratch_dir, verify_sample, CoreSim, Plan};
use phasegen::netlist::{build_core_netlist, Flow};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::{beta_int, quantize};
use std::time::Instant;

/// A small net that still has every block: an input field, a hidden layer,
/// intralayer coupling, outputs with the nudge, detuning.
fn small() -> Config {
    let mut c = Config::default_config();
    c.network.inputs = 6;
    c.network.layers = vec![4, 3];
    c.network.intralayer = true;
    c.hardware.phase_bits = 12;
    c.hardware.table_bits = 6;
    c.hardware.amp_bits = 8;
    c.hardware.weight_bits = 6;
    c.hardware.input_bits = 4;
    c.hardware.steps = 12;
    c.train.dispersion = 0.05;
    c
}

/// Cells each family's netlist must contain, or the test no longer covers
/// what its name says (multipliers in DSP blocks; iCE40 block RAM).
fn expected_cells(family: &str) -> &'static [&'static str] {
    match family {
        "ice40" => &["SB_MAC16", "SB_RAM40_4K", "SB_CARRY", "SB_LUT4"],
        _ => &["MULT18X18D", "DP16KD", "TRELLIS_DPR16X4", "CCU2C", "LUT4"],
    }
}

/// The config of a family's test: on ECP5 a 2^8-entry table of 10-bit
/// values, so the tables go to DP16KD block RAM (36 bits wide) and the
/// rest stays in distributed RAM.
fn config(family: &str) -> Config {
    let mut c = small();
    if family == "ecp5" {
        c.hardware.table_bits = 8;
        c.hardware.amp_bits = 10;
    }
    c
}

fn netlist_matches_twin(family: &str) {
    netlist_of_matches_twin(family, &config(family), &format!("netlist-{family}"), &[]);
}

/// The types of the netlist's cell instances named `\\<mem>.…` (an
/// instance is `  TYPE #(params) NAME (` or `  TYPE NAME (`).
fn cells_named(netlist: &str, mem: &str) -> Vec<String> {
    let mut ty = String::new();
    let mut found = Vec::new();
    for l in netlist.lines() {
        let indent = l.len() - l.trim_start().len();
        let first = l.split_whitespace().next().unwrap_or("");
        if indent == 2
            && first
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && !matches!(
                first,
                "wire" | "reg" | "assign" | "input" | "output" | "always"
            )
        {
            ty = first.to_string();
        }
        if l.trim_end().ends_with('(') && l.contains(&format!("\\{mem}.")) {
            found.push(ty.clone());
        }
    }
    found
}

/// `cfg`'s netlist against its twin; `memories` must be in block RAM
/// (Yosys is asked to put them there).
fn netlist_of_matches_twin(family: &str, cfg: &Config, tag: &str, memories: &[&str]) {
    netlist_of_scaled_matches_twin(family, cfg, tag, memories, 1.0)
}

/// [`netlist_of_matches_twin`] with the initial couplings `W` times `w_scale`.
fn netlist_of_scaled_matches_twin(
    family: &str,
    cfg: &Config,
    tag: &str,
    memories: &[&str],
    w_scale: f32,
) {
    let t0 = Instant::now();
    let cfg = cfg.clone();
    let mut p = Params::init(&cfg);
    p.w.iter_mut().for_each(|w| *w *= w_scale);
    let (hw, _) = quantize(&cfg, &p, 16).unwrap();
    let mut flow = Flow::for_family(family).unwrap_or_else(|e| panic!("{e:#}"));
    if !memories.is_empty() {
        // (the module is elaborated first: its memories exist from then on)
        let marks: String = memories
            .iter()
            .map(|mem| format!("setattr -set ram_style \"block\" m:{mem}; "))
            .collect();
        flow.synth = format!("hierarchy -top pg_core; {marks}{}", flow.synth);
    }
    let built = build_core_netlist(&hw, &cfg.hash_hex(), &scratch_dir(tag), &flow)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let t_build = t0.elapsed();
    let dir = scratch_dir(tag);
    let text = std::fs::read_to_string(dir.join(format!("pg_core.{family}.nl.v"))).unwrap();
    for cell in expected_cells(family) {
        assert!(
            text.contains(&format!("  {cell} ")),
            "the {family} netlist has no {cell}: the test no longer covers it; pick a config that maps onto it"
        );
    }
    for mem in memories {
        let bram = match family {
            "ice40" => "SB_RAM40_4K",
            _ => "DP16KD",
        };
        assert!(
            cells_named(&text, mem).iter().any(|c| c == bram),
            "{family}: {mem} is not in {bram} (cells {:?}): the test no longer covers its write path",
            cells_named(&text, mem)
        );
    }
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let beta = beta_int(&hw.fmt, 1.0);
    // two samples: one bright, one mixed; labels on different outputs
    let ni = hw.topo.inputs;
    let samples: [(Vec<u64>, usize); 2] = [
        (vec![15; ni], 0),
        (
            (0..ni as u64)
                .map(|k| [3, 0, 15, 7, 12, 1][k as usize % 6])
                .collect(),
            2,
        ),
    ];
    for (s, (x, label)) in samples.iter().enumerate() {
        let r = verify_sample(
            &mut sim,
            &hw,
            x,
            &Plan {
                free_steps: 50,
                nudge_steps: 20,
                beta,
                label: *label,
                fault: None,
            },
        )
        .unwrap()
        .unwrap_or_else(|m| panic!("{family} netlist: {m}"));
        assert_eq!(r.steps_compared, 70);
        assert!(r.moved > 0, "{family}: the phases did not move: {r:?}");
        println!("{family} sample {s}: {r:?}");
    }
    println!(
        "{family}: synthesis and build {:.1} s, total {:.1} s, {} cycles",
        t_build.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        sim.sim.cycles
    );
}

#[test]
fn ice40_netlist_matches_twin() {
    netlist_matches_twin("ice40");
}

#[test]
fn ecp5_netlist_matches_twin() {
    netlist_matches_twin("ecp5");
}

/// The pairs stream (`hardware.coupling = "pairs"`) in both families'
/// netlists: its partial sums live in block RAM that is read, added to and
/// written back every cycle, so the cell models' write paths are covered
/// (on ECP5 Yosys would put memories this small in distributed RAM; the
/// test asks for block RAM, as a large design gets).
fn pairs(family: &str) -> Config {
    let mut c = config(family);
    c.hardware.coupling = phasegen_sim::config::Coupling::Pairs;
    c.hardware.lanes = 2;
    c
}

#[test]
fn ice40_pairs_netlist_matches_twin() {
    netlist_of_matches_twin(
        "ice40",
        &pairs("ice40"),
        "netlist-pairs-ice40",
        &["acc_str", "acc_own"],
    );
}

#[test]
fn ecp5_pairs_netlist_matches_twin() {
    netlist_of_matches_twin(
        "ecp5",
        &pairs("ecp5"),
        "netlist-pairs-ecp5",
        &["acc_str", "acc_own"],
    );
}

/// The coupling's extra harmonics (docs/hardware.md) in the iCE40 netlist:
/// the drive's logic multipliers and constant multiplications as Yosys maps
/// them (LUTs and carry chains), the lanes' harmonic products in SB_MAC16.
/// Couplings four times the initial ones, so the harmonic term moves the
/// phases (checked on the twin).
#[test]
fn ice40_harmonics_netlist_matches_twin() {
    let mut c = config("ice40");
    c.train.harmonics = vec![0.0, -0.45];
    let mut p = Params::init(&c);
    p.w.iter_mut().for_each(|w| *w *= 4.0);
    let (hw, _) = quantize(&c, &p, 16).unwrap();
    assert_eq!(hw.harmonic_terms().len(), 1);
    let plain = phasegen_sim::twin::model::HwModel {
        harmonics: vec![],
        harm_frac: 0,
        ..hw.clone()
    };
    let x = vec![15; hw.topo.inputs];
    let (mut a, mut b) = (
        phasegen_sim::twin::model::Twin::new(&hw),
        phasegen_sim::twin::model::Twin::new(&plain),
    );
    a.load_input(&x);
    b.load_input(&x);
    assert!(
        (0..50).any(|_| {
            a.step();
            b.step();
            a.theta != b.theta
        }),
        "the harmonic term changes nothing in 50 steps"
    );
    netlist_of_scaled_matches_twin("ice40", &c, "netlist-harm-ice40", &[], 4.0);
}
