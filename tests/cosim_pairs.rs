//! The pairs stream (`hardware.coupling = "pairs"`, each pair's weight
//! stored and read once) against the twin, bit for bit, in Verilator: its
//! counters, captures, scatter into the partial sums and their read by the
//! drive, on shapes that exercise a short last group, null words, one lane,
//! an odd lane count, detuning and narrow formats; and its step length, the
//! schedule's (about half the rows stream's).

use phasegen::cosim::{build_core, scratch_dir, verify_sample, CoreSim, Plan};
use phasegen_sim::config::{Config, Coupling};
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::{beta_int, quantize};
use phasegen_sim::twin::sched::Schedule;

fn pairs(inputs: usize, layers: &[usize], lanes: u32) -> Config {
    let mut c = Config::default_config();
    c.network.inputs = inputs;
    c.network.layers = layers.to_vec();
    c.network.intralayer = true;
    c.hardware.lanes = lanes;
    c.hardware.coupling = Coupling::Pairs;
    c
}

fn run(tag: &str, cfg: &Config, free_steps: u32, nudge_steps: u32) {
    let (hw, _) = quantize(cfg, &Params::init(cfg), 16).unwrap();
    assert!(hw.pairs);
    let sched = Schedule::new(&hw);
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir(tag)).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let top = (1u64 << hw.fmt.input_bits) - 1;
    let x: Vec<u64> = (0..hw.topo.inputs as u64)
        .map(|k| (k * 5 + 2) % top)
        .collect();
    let r = verify_sample(
        &mut sim,
        &hw,
        &x,
        &Plan {
            free_steps,
            nudge_steps,
            beta: beta_int(&hw.fmt, cfg.train.beta),
            label: 1,
            fault: None,
        },
    )
    .unwrap()
    .unwrap_or_else(|m| panic!("{tag}: {m}"));
    for (s, steps) in [(&r.free_run, free_steps), (&r.nudged_run, nudge_steps)] {
        assert_eq!(s.steps, steps as u64, "{tag}");
        // every coupling product of every step, gathered or scattered, once
        assert_eq!(s.macs, hw.nnz() as u64 * steps as u64, "{tag}");
        // the stream issues the schedule's words, back to back
        assert_eq!(
            s.loop_cycles,
            (sched.step_cycles() * steps as usize) as u64,
            "{tag}"
        );
    }
    let mut rows = cfg.clone();
    rows.hardware.coupling = Coupling::Rows;
    let (rhw, _) = quantize(&rows, &Params::init(&rows), 16).unwrap();
    println!(
        "{tag}: n {} on {} lanes: {} cycles/step (rows stream {})",
        hw.n(),
        hw.lanes,
        sched.step_cycles(),
        Schedule::new(&rhw).step_cycles()
    );
}

#[test]
fn pairs_streams_match_twin() {
    // [N-10, 10] as `make capacity` builds it: the last group is short
    run("pairs-26-4", &pairs(16, &[16, 10], 4), 60, 20);
    // one lane: every group is a single row
    run("pairs-12-1", &pairs(8, &[2, 10], 1), 60, 20);
    // an odd lane count and a single layer; a group reaches past nothing
    run("pairs-7-3", &pairs(3, &[7], 3), 60, 20);
    // detuning, narrow formats, the field's last group past the input layer
    let mut c = pairs(16, &[21, 10], 8);
    c.hardware.phase_bits = 8;
    c.hardware.table_bits = 7;
    c.hardware.weight_bits = 5;
    c.train.dispersion = 0.05;
    run("pairs-31-8", &c, 60, 20);
    // W and U in RAM the host fills (the UP5K's SPRAM form), written
    // through the core's ports before the sample
    let mut c = pairs(16, &[14, 10], 2);
    c.hardware.w_memory = phasegen_sim::config::UMemory::Ram;
    c.hardware.u_memory = phasegen_sim::config::UMemory::Ram;
    let (hw, _) = quantize(&c, &Params::init(&c), 16).unwrap();
    assert!(hw.w_in_ram && hw.u_in_ram);
    run("pairs-24-2-ram", &c, 60, 20);
}

/// Sixteen lanes (the ECP5 85F's), the width that needs words over 64 bits.
#[test]
fn sixteen_lanes_match_twin() {
    let mut c = pairs(64, &[86, 10], 16);
    c.hardware.phase_bits = 8;
    c.hardware.table_bits = 7;
    c.hardware.weight_bits = 5;
    run("pairs-96-16", &c, 30, 10);
}

/// A weight ROM of more than `HEX_MIN_WORDS` words is filled from its hex
/// file (`$readmemh`), in Verilator as in synthesis.
#[test]
fn large_roms_come_from_hex_files() {
    let mut c = pairs(16, &[120, 10], 2);
    c.hardware.phase_bits = 8;
    c.hardware.table_bits = 7;
    c.hardware.weight_bits = 5;
    let (hw, _) = quantize(&c, &Params::init(&c), 16).unwrap();
    let files = phasegen_hdl::generate_core_files(&c.hash_hex(), &hw);
    let hex: Vec<&str> = files[1..].iter().map(|f| f.name.as_str()).collect();
    assert_eq!(hex, ["pg_core_w_rom.hex"]);
    assert!(Schedule::new(&hw).words.len() >= phasegen_hdl::vlog::HEX_MIN_WORDS);
    assert!(files[0].text.contains("$readmemh"));
    run("pairs-130-2-hex", &c, 12, 4);
}
