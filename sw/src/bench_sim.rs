//! `phasegen bench-sim`: how fast the generated core simulates under
//! Verilator, for a small and larger designs, printed as a Markdown table
//! (docs/hardware.md quotes it).
//!
//! Per design: the time to generate, verilate and compile it (0 when the
//! cache already holds it), then `runs` timed runs, median reported, of
//! - the model alone: the core settles a long run while Rust calls one
//!   `tick(n)` (Verilator's own speed),
//! - the cosimulation driver: `CoreSim::run`, which looks at the phase write
//!   port every cycle (what `phasegen verify` and the tests pay),
//! - the twin's steps per second, for scale.

use crate::cosim::{build_core, scratch_dir, CoreSim};
use crate::netlist::{build_core_netlist, Flow};
use anyhow::{bail, Result};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::rng::Rng;
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::quantize;
use phasegen_vl::Built;
use std::fmt::Write as _;
use std::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct SimBenchOptions {
    /// Timed runs per figure (the median is reported).
    pub runs: usize,
    /// Simulated cycles per timed run, at least.
    pub cycles: u64,
    /// Also time the default design's synthesized iCE40 netlist
    /// (tests/netlist_sim.rs's flow; one synthesis and compile, ~1 min).
    pub netlist: bool,
    /// Only the small design (for tests).
    pub quick: bool,
}

impl Default for SimBenchOptions {
    fn default() -> Self {
        SimBenchOptions {
            runs: 5,
            cycles: 2_000_000,
            netlist: false,
            quick: false,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// The designs measured: the default digits network, a 784-input MNIST-sized
/// one, and a fully intralayer-coupled hidden layer (many couplings per
/// oscillator).
fn designs(quick: bool) -> Vec<(String, Config)> {
    let mut out = vec![(
        "digits 64-32-10 (default)".to_string(),
        Config::default_config(),
    )];
    if quick {
        return out;
    }
    let mut mnist = Config::default_config();
    mnist.name = "bench-mnist".into();
    mnist.network.inputs = 784;
    mnist.network.layers = vec![128, 10];
    out.push(("MNIST 784-128-10".into(), mnist));
    let mut intra = Config::default_config();
    intra.name = "bench-intra".into();
    intra.network.layers = vec![128, 10];
    intra.network.intralayer = true;
    out.push(("64-128-10 intralayer".into(), intra));
    out
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct SimBenchRow {
    pub design: String,
    pub oscillators: usize,
    pub couplings: usize,
    pub build_s: f64,
    pub cycles_per_step: f64,
    /// Verilator alone, cycles per second.
    pub model_hz: f64,
    /// Through the cosimulation driver, cycles per second.
    pub driver_hz: f64,
    /// The twin, steps per second.
    pub twin_steps_s: f64,
}

fn inputs(hw: &HwModel, seed: u64) -> Vec<u64> {
    let mut r = Rng::new(seed);
    (0..hw.topo.inputs)
        .map(|_| r.below(1 << hw.fmt.input_bits))
        .collect()
}

fn measure(
    design: &str,
    hw: &HwModel,
    built: &Built,
    build_s: f64,
    o: &SimBenchOptions,
) -> Result<SimBenchRow> {
    let x = inputs(hw, 1);
    let mut sim = CoreSim::new(built, hw.n())?;
    sim.write_input(&x);
    // cycles per step, from a short run through the driver after the field
    // (computed once per sample) is in place
    sim.run(true, 1, 0, 0, u64::MAX)?;
    let c0 = sim.sim.cycles;
    let probe = 4u32;
    sim.run(false, probe, 0, 0, u64::MAX)?;
    let cycles_per_step = (sim.sim.cycles - c0) as f64 / probe as f64;
    let steps = ((o.cycles as f64 / cycles_per_step).ceil() as u32).clamp(2, 65_535);

    // the driver: a run of `steps` steps, every cycle looked at
    let mut driver = Vec::new();
    for _ in 0..o.runs {
        let c0 = sim.sim.cycles;
        let t = Instant::now();
        sim.run(false, steps, 0, 0, u64::MAX)?;
        driver.push((sim.sim.cycles - c0) as f64 / t.elapsed().as_secs_f64());
    }

    // the model alone: start a long run and tick through it in one call
    let mut model = Vec::new();
    for _ in 0..o.runs {
        let p = |n: &str| sim.sim.port(n);
        let (init, st, start, busy) = (p("i_init")?, p("i_steps")?, p("i_start")?, p("o_busy")?);
        sim.sim.set_i(init, 1);
        sim.sim.set_i(st, 65_535);
        sim.sim.set_i(start, 1);
        sim.sim.tick(1);
        sim.sim.set_i(start, 0);
        let t = Instant::now();
        sim.sim.tick(o.cycles);
        let dt = t.elapsed().as_secs_f64();
        if sim.sim.get_i(busy) != 1 {
            bail!("{design}: the core stopped before {} cycles", o.cycles);
        }
        model.push(o.cycles as f64 / dt);
        // back to idle for the next run
        sim = CoreSim::new(built, hw.n())?;
        sim.write_input(&x);
    }

    let mut twin_rates = Vec::new();
    let twin_steps = (steps as usize).max(20);
    for _ in 0..o.runs {
        let mut tw = Twin::new(hw);
        tw.load_input(&x);
        tw.set_nudge(0, None);
        let t = Instant::now();
        for _ in 0..twin_steps {
            tw.step();
        }
        twin_rates.push(twin_steps as f64 / t.elapsed().as_secs_f64());
    }
    Ok(SimBenchRow {
        design: design.into(),
        oscillators: hw.n(),
        couplings: hw.nnz(),
        build_s,
        cycles_per_step,
        model_hz: median(model),
        driver_hz: median(driver),
        twin_steps_s: median(twin_rates),
    })
}

/// Run the benchmark; returns the rows.
pub fn bench_sim(o: &SimBenchOptions) -> Result<Vec<SimBenchRow>> {
    let mut rows = Vec::new();
    for (name, cfg) in designs(o.quick) {
        let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16)?;
        let t = Instant::now();
        let built = build_core(
            &hw,
            &cfg.hash_hex(),
            &scratch_dir(&format!("bench-sim-{}", cfg.name)),
        )?;
        let build_s = t.elapsed().as_secs_f64();
        eprintln!(
            "bench-sim: {name}: built in {build_s:.1} s, timing {} runs",
            o.runs
        );
        rows.push(measure(&name, &hw, &built, build_s, o)?);
        if o.netlist && rows.len() == 1 {
            let t = Instant::now();
            let flow = Flow::ice40()?;
            let built = build_core_netlist(
                &hw,
                &cfg.hash_hex(),
                &scratch_dir("bench-sim-netlist-ice40"),
                &flow,
            )?;
            let build_s = t.elapsed().as_secs_f64();
            eprintln!("bench-sim: {name} iCE40 netlist: built in {build_s:.1} s");
            let fewer = SimBenchOptions {
                cycles: o.cycles / 20,
                ..o.clone()
            };
            rows.push(measure(
                &format!("{name}, iCE40 netlist"),
                &hw,
                &built,
                build_s,
                &fewer,
            )?);
        }
    }
    Ok(rows)
}

/// The rows as a Markdown table, with what made them.
pub fn to_markdown(rows: &[SimBenchRow], o: &SimBenchOptions) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "{} on this machine; median of {} runs of at least {} cycles each.\n",
        phasegen_vl::verilator_version(),
        o.runs,
        o.cycles
    );
    let _ = writeln!(
        md,
        "| design | oscillators | couplings | build (s) | cycles/step | Verilator alone (Mcycles/s) | cosim driver (Mcycles/s) | RTL steps/s | twin steps/s |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} |",
            r.design,
            r.oscillators,
            r.couplings,
            if r.build_s < 1.0 {
                "cached".to_string()
            } else {
                format!("{:.1}", r.build_s)
            },
            r.cycles_per_step,
            r.model_hz / 1e6,
            r.driver_hz / 1e6,
            r.driver_hz / r.cycles_per_step,
            r.twin_steps_s
        );
    }
    md
}
