//! The coupling loop's efficiency, counted in simulation from the core's
//! observation ports (`o_macs`, `o_loop`), with the RTL checked against the
//! twin bit for bit on the way.

use phasegen::cosim::{build_core, scratch_dir, verify_sample, CoreSim, Plan, VerifyReport};
use phasegen_sim::config::Config;
use phasegen_sim::net::Params;
use phasegen_sim::quant::{beta_int, quantize};
use phasegen_sim::twin::HwModel;

/// Deterministic inputs in the full input range.
fn inputs(hw: &HwModel) -> Vec<u64> {
    let top = 1u64 << hw.fmt.input_bits;
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

fn digits() -> Config {
    Config::default_config()
}

/// 784-100-10, the MNIST network of configs/mnist-100.toml.
fn mnist100() -> Config {
    let mut c = Config::default_config();
    c.name = "mnist-100".into();
    c.network.inputs = 784;
    c.network.layers = vec![100, 10];
    c
}

#[test]
fn loop_efficiency_digits() {
    measure("lanes-digits-1", &digits(), 20, 5);
}

#[test]
fn loop_efficiency_mnist100() {
    measure("lanes-mnist100-1", &mnist100(), 5, 2);
}
