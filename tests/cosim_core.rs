//! The generated settle core under Verilator against the integer twin, bit
//! for bit at every step, and a deliberate twin fault that must be caught.

use phasegen::cosim::{build_core, scratch_dir, verify_sample, CoreSim, Fault, Plan};
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::{beta_int, quantize};
use std::path::Path;

fn digits() -> phasegen_sim::data::Split {
    load_dir(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits-8x8"
    )))
    .unwrap()
}

#[test]
fn core_matches_twin_for_1000_steps_free_and_nudged() {
    let cfg = Config::default_config();
    let data = digits();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir("cosim-default")).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let beta = beta_int(&hw.fmt, cfg.train.beta);
    for s in 0..2 {
        let x = hw.inputs_of_image(data.test.image(s));
        let label = data.test.labels[s] as usize;
        let r = verify_sample(
            &mut sim,
            &hw,
            &x,
            &Plan {
                free_steps: 1000,
                nudge_steps: 100,
                beta,
                label,
                fault: None,
            },
        )
        .unwrap()
        .unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(r.steps_compared, 1100);
        assert!(r.moved > hw.n() / 2, "the phases barely moved: {r:?}");
        println!("sample {s}: {r:?}");
    }
}

#[test]
fn a_flipped_bit_in_the_twin_is_caught() {
    let cfg = Config::default_config();
    let data = digits();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir("cosim-default")).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let x = hw.inputs_of_image(data.test.image(0));
    let fault = Fault {
        step: 7,
        osc: 3,
        bit: 0,
    };
    let m = verify_sample(
        &mut sim,
        &hw,
        &x,
        &Plan {
            free_steps: 20,
            nudge_steps: 0,
            beta: 0,
            label: 0,
            fault: Some(fault),
        },
    )
    .unwrap()
    .expect_err("a one-bit fault must be reported");
    assert_eq!((m.step, m.osc), (7, 3), "{m}");
    assert_eq!(m.rtl ^ m.twin, 1, "{m}");
}

#[test]
fn deeper_net_with_intralayer_coupling_matches_twin() {
    let mut cfg = Config::default_config();
    cfg.network.inputs = 64;
    cfg.network.layers = vec![6, 5, 10];
    cfg.network.intralayer = true;
    cfg.hardware.phase_bits = 12;
    cfg.hardware.table_bits = 6;
    cfg.hardware.amp_bits = 8;
    cfg.hardware.weight_bits = 6;
    cfg.train.dispersion = 0.05;
    let data = digits();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    assert!(
        hw.omega.iter().any(|&o| o != 0),
        "dispersion gives detuning"
    );
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir("cosim-deep")).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let x = hw.inputs_of_image(data.test.image(3));
    let beta = beta_int(&hw.fmt, 1.0);
    let r = verify_sample(
        &mut sim,
        &hw,
        &x,
        &Plan {
            free_steps: 300,
            nudge_steps: 100,
            beta,
            label: 4,
            fault: None,
        },
    )
    .unwrap()
    .unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(r.steps_compared, 400);
}

/// A fully connected network (one layer, every pair coupled) whose size
/// fills its index width: every oscillator gets the input field.
#[test]
fn fully_connected_net_matches_twin() {
    let mut cfg = Config::default_config();
    cfg.network.inputs = 64;
    cfg.network.layers = vec![16];
    cfg.network.intralayer = true;
    let data = digits();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir("cosim-full16")).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let x = hw.inputs_of_image(data.test.image(5));
    let r = verify_sample(
        &mut sim,
        &hw,
        &x,
        &Plan {
            free_steps: 200,
            nudge_steps: 50,
            beta: beta_int(&hw.fmt, 1.0),
            label: 7,
            fault: None,
        },
    )
    .unwrap()
    .unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(r.steps_compared, 250);
}

/// The phase accumulators run in the absolute frame: the oscillators turn at
/// about ω0 every step and the pins (`o_osc`, the top bits of the output
/// oscillators' phases) toggle as the twin says, step by step; phases leave
/// the device relative to the reference.
#[test]
fn absolute_frame_turns_and_the_pins_follow_the_twin() {
    let cfg = Config::default_config();
    let data = digits();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    assert!(hw.omega0 > 0 && hw.pins == 10);
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir("cosim-default")).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let x = hw.inputs_of_image(data.test.image(1));
    sim.write_input(&x);
    let (rel, _) = sim.run(true, 60, 0, 0, 1_000_000).unwrap();
    let abs = sim.abs_log.clone();
    assert_eq!(abs.len(), 60);
    let mut twin = phasegen_sim::twin::model::Twin::new(&hw);
    twin.load_input(&x);
    let mut toggles = vec![0; hw.pins];
    let mut last = twin.pins();
    for (s, ph) in abs.iter().enumerate() {
        twin.step();
        let want: Vec<u64> = (0..hw.n()).map(|i| twin.abs_phase(i)).collect();
        assert_eq!(ph, &want, "absolute phases after step {}", s + 1);
        assert_eq!(rel[s], twin.theta, "relative phases after step {}", s + 1);
        assert_eq!(sim.pins_log[s], twin.pins(), "o_osc after step {}", s + 1);
        for (k, t) in toggles.iter_mut().enumerate() {
            *t += ((twin.pins() ^ last) >> k & 1) as usize;
        }
        last = twin.pins();
    }
    assert_eq!(sim.pins_log.len(), 60);
    assert!(toggles.iter().all(|&t| t >= 2), "pins toggled {toggles:?}");
    assert_ne!(twin.phi, 0);
    assert_eq!(
        sim.read_phases(),
        twin.theta,
        "relative phases on the read port"
    );
}
