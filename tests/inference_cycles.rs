//! The cycles of one inference that the ASIC report and the ASIC/FPGA table
//! quote (`phasegen::asic::table::inference_cycles`: the input field's
//! words, then every step's words) against the Verilated core: a run of
//! `s` steps from `i_start` to `o_done` takes the field, `s` steps of
//! exactly `Schedule::step_cycles`, and a pipeline fill of a few tens of
//! cycles (at most two per field group and 32 more), on a layered, a
//! single-layer and a fully connected core.

use phasegen::asic::table::inference_cycles;
use phasegen::cosim::{build_core, scratch_dir, CoreSim};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn an_inference_takes_the_field_and_the_steps() {
    for p in [
        "configs/digits.toml",
        "configs/asic/digits-small.toml",
        "configs/asic/full-64.toml",
    ] {
        let mut cfg = Config::load(&Path::new(ROOT).join(p)).unwrap();
        cfg.hardware.steps = 3;
        let (hw, _) = quantize(&cfg, &Params::init(&cfg), 255).unwrap();
        let s = Schedule::new(&hw);
        let built = build_core(
            &hw,
            &cfg.hash_hex(),
            &scratch_dir(&format!("inference-cycles-{}", cfg.name)),
        )
        .unwrap();
        let mut sim = CoreSim::new(&built, hw.n()).unwrap();
        if sim.has_u_ram() || sim.has_w_ram() {
            sim.load_weights(&hw).unwrap();
        }
        sim.write_input(&vec![1; hw.topo.inputs]);
        let mut run = |steps: u32| {
            let c0 = sim.sim.cycles;
            sim.run(true, steps, 0, 0, 10_000_000).unwrap();
            sim.sim.cycles - c0
        };
        let (one, three) = (run(1), run(3));
        assert_eq!(
            three - one,
            2 * s.step_cycles() as u64,
            "{p}: a step's cycles"
        );
        let formula = inference_cycles(&hw);
        let fill = three as i64 - formula as i64;
        let bound = 2 * s.field.len() as i64 + 32;
        assert!(
            (0..=bound).contains(&fill),
            "{p}: 3 steps took {three} cycles, the formula says {formula} (field {} + 3 x {}); fill {fill} beyond 0..={bound}",
            s.field_cycles(),
            s.step_cycles()
        );
        println!("{p}: {three} cycles = {formula} + {fill} of pipeline fill");
    }
}
