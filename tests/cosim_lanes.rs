//! The coupling loop's efficiency, counted in simulation from the core's
//! observation ports (`o_macs`, `o_loop`), with the RTL checked against the
//! twin bit for bit on the way.

use phasegen::cosim::{build_core, scratch_dir, verify_sample, CoreSim, Plan, VerifyReport};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::quant::{beta_int, quantize};

/// Deterministic inputs in the full input range.
fn inputs(hw: &HwModel) -> Vec<u64> {
    let top = (1u64 << hw.fmt.input_bits) - 1;
    (0..hw.topo.inputs as u64)
        .map(|k| (k * 7 + 3) % top)
        .collect()
}

fn measure(tag: &str, cfg: &Config, free_steps: u32, nudge_steps: u32) -> (HwModel, VerifyReport) {
    let (hw, _) = quantize(cfg, &Params::init(cfg), 16).unwrap();
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir(tag)).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let r = verify_sample(
        &mut sim,
        &hw,
        &inputs(&hw),
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
    // every coupling entry of every step is counted exactly once
    for (s, steps) in [(&r.free_run, free_steps), (&r.nudged_run, nudge_steps)] {
        assert_eq!(s.steps, steps as u64, "{tag}");
        assert_eq!(s.macs, hw.nnz() as u64 * steps as u64, "{tag}");
    }
    // steady state: the nudged run has no field computation
    let s = &r.nudged_run;
    println!(
        "{tag}: n {} nnz {} lanes {}: {:.1} cycles/step ({:.1} with the field), coupling loop \
         {:.1} cycles/step, {:.1}% of the lanes busy in the loop, {:.1}% over the run \
         (ideal {:.1} cycles/step)",
        hw.n(),
        hw.nnz(),
        hw.lanes,
        s.cycles as f64 / s.steps as f64,
        r.free_run.cycles as f64 / r.free_run.steps as f64,
        s.loop_cycles as f64 / s.steps as f64,
        100.0 * s.loop_efficiency(hw.lanes),
        100.0 * s.step_efficiency(hw.lanes),
        hw.nnz() as f64 / hw.lanes as f64,
    );
    (hw, r)
}

fn digits(lanes: u32) -> Config {
    let mut c = Config::default_config();
    c.hardware.lanes = lanes;
    c
}

/// 784-100-10, the MNIST network of configs/mnist-100.toml.
fn mnist100(lanes: u32) -> Config {
    let mut c = digits(lanes);
    c.name = "mnist-100".into();
    c.network.inputs = 784;
    c.network.layers = vec![100, 10];
    c
}

/// Three layers with intralayer coupling and detuning, narrow formats.
fn deep(lanes: u32) -> Config {
    let mut c = digits(lanes);
    c.network.layers = vec![6, 5, 10];
    c.network.intralayer = true;
    c.hardware.phase_bits = 12;
    c.hardware.table_bits = 6;
    c.hardware.amp_bits = 8;
    c.hardware.weight_bits = 6;
    c.train.dispersion = 0.05;
    c
}

/// Fully connected: one layer of 24 with intralayer coupling.
fn full(lanes: u32) -> Config {
    let mut c = digits(lanes);
    c.network.inputs = 16;
    c.network.layers = vec![24];
    c.network.intralayer = true;
    c
}

#[test]
fn lanes_match_twin_and_keep_busy_on_digits() {
    // (two lanes: u_in_ram_matches_twin, dense_streams_and_w_in_ram_match_twin)
    for lanes in [1, 4] {
        let (_, r) = measure(&format!("lanes-digits-{lanes}"), &digits(lanes), 200, 50);
        let e = r.nudged_run.loop_efficiency(lanes);
        assert!(e >= 0.9, "digits, {lanes} lanes: {:.1}% busy", 100.0 * e);
    }
}

#[test]
fn lanes_match_twin_on_deep_and_fully_connected_nets() {
    for lanes in [1, 4] {
        measure(&format!("lanes-deep-{lanes}"), &deep(lanes), 150, 50);
        let (_, r) = measure(&format!("lanes-full-{lanes}"), &full(lanes), 150, 50);
        let e = r.nudged_run.loop_efficiency(lanes);
        assert!(
            e >= 0.9,
            "fully connected, {lanes} lanes: {:.1}% busy",
            100.0 * e
        );
    }
}

/// Fewer inputs than the field needs cycles, an odd lane count, a single
/// layer that is also the output layer.
#[test]
fn tiny_net_with_three_lanes_matches_twin() {
    let mut c = digits(3);
    c.network.inputs = 3;
    c.network.layers = vec![7];
    c.network.intralayer = true;
    measure("lanes-tiny-3", &c, 100, 30);
}

/// Input weights in RAM (what a UP5K keeps in SPRAM), written through the
/// core's port before the first sample.
#[test]
fn u_in_ram_matches_twin() {
    for lanes in [1, 2] {
        let mut c = digits(lanes);
        c.hardware.u_memory = phasegen_sim::config::UMemory::Ram;
        let (hw, _) = measure(&format!("lanes-uram-{lanes}"), &c, 100, 30);
        assert!(hw.u_in_ram);
    }
}

/// 784-100-10 as it fits the iCEBreaker: two lanes, U (78,400 weights) in
/// RAM, which `u_memory = "auto"` chooses on a UP5K and Yosys maps to SPRAM.
#[test]
fn mnist100_for_the_up5k_matches_twin() {
    let c = mnist100(2);
    let (hw, r) = measure("lanes-mnist100-up5k", &c, 20, 10);
    assert!(hw.u_in_ram, "auto puts U in RAM on a UP5K");
    let e = r.nudged_run.loop_efficiency(2);
    assert!(e >= 0.9, "784-100-10, 2 lanes: {:.1}% busy", 100.0 * e);
}

/// Three layers, 8832 coupling entries.
#[test]
fn lanes_keep_busy_on_a_bigger_net() {
    let mut c = digits(4);
    c.network.layers = vec![128, 32, 10];
    let (_, r) = measure("lanes-bigger-4", &c, 20, 10);
    let e = r.nudged_run.loop_efficiency(4);
    assert!(e >= 0.9, "64-128-32-10, 4 lanes: {:.1}% busy", 100.0 * e);
}

/// The MNIST network; its 78,400 input weights take Verilator minutes to
/// compile, so it runs on request: `cargo test --release --test cosim_lanes
/// -- --ignored`.
#[test]
#[ignore]
fn lanes_keep_busy_on_mnist100() {
    for lanes in [1, 4] {
        let (_, r) = measure(&format!("lanes-mnist100-{lanes}"), &mnist100(lanes), 4, 4);
        let e = r.nudged_run.loop_efficiency(lanes);
        assert!(
            e >= 0.9,
            "784-100-10, {lanes} lanes: {:.1}% busy",
            100.0 * e
        );
    }
}

/// Fully connected layers whose stream control comes from counters
/// (`Schedule::dense`, no ROM), most with W in one RAM of all lanes written
/// through the core's port (`hardware.w_memory = "ram"`): a last group of
/// one row (13 at 3 lanes, 9 at 4), lead bubbles (9 at 4, 10 at 2), one lane
/// (every group skips its diagonal). The coupling loop takes exactly the
/// schedule's words per step.
#[test]
fn dense_streams_and_w_in_ram_match_twin() {
    for (n, lanes, w_ram) in [(13, 3, true), (9, 4, true), (12, 1, true), (10, 2, false)] {
        let mut c = full(lanes);
        c.network.layers = vec![n];
        if w_ram {
            c.hardware.w_memory = phasegen_sim::config::UMemory::Ram;
        }
        let tag = format!("lanes-dense-{n}-{lanes}-{w_ram}");
        let (hw, r) = measure(&tag, &c, 60, 20);
        assert_eq!(hw.w_in_ram, w_ram, "{tag}");
        let s = phasegen_sim::twin::sched::Schedule::new(&hw);
        assert!(s.dense().is_some(), "{tag}: the stream is dense");
        let run = &r.nudged_run;
        assert_eq!(
            run.loop_cycles,
            run.steps * s.step_cycles() as u64,
            "{tag}: cycles per step"
        );
    }
}

/// The 256-oscillator fully connected design of `configs/full-256.toml`
/// (two lanes, U and W in RAM: SPRAM on the UP5K, written through the
/// core's ports here; the stream's control from counters): bit-exact with
/// the twin, every lane busy but on the diagonal, and a step takes exactly
/// the schedule's 32,768 words. About 12 s cold (Verilator), under a
/// second cached.
#[test]
fn full256_for_the_up5k_matches_twin() {
    let c = Config::parse(
        include_str!("../configs/full-256.toml"),
        "configs/full-256.toml",
    )
    .unwrap();
    let (hw, r) = measure("lanes-full256-up5k", &c, 6, 4);
    assert!(
        hw.u_in_ram && hw.w_in_ram,
        "auto puts U and W in RAM on a UP5K"
    );
    let s = phasegen_sim::twin::sched::Schedule::new(&hw);
    assert!(s.dense().is_some());
    assert_eq!(s.step_cycles(), 32_768);
    let run = &r.nudged_run;
    assert_eq!(run.loop_cycles, run.steps * 32_768);
    let e = run.loop_efficiency(2);
    assert!(e >= 0.99, "{:.2}% busy", 100.0 * e);
}
