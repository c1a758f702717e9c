//! The coupling's extra odd harmonics `a_n sin nψ` (docs/hardware.md) in the
//! generated core, under Verilator against the integer twin, bit for bit at
//! every step; and a core whose harmonic term is wrong is caught.
//!
//! The coefficients: `a_3 = −0.035781` is the reduced van der Pol's
//! (μ = 1, resistive coupling; `phasegen reduce --config
//! configs/reduce/vdp-resistive.toml`, docs/reduction.md); the larger
//! `a_2 = 0.3, a_3 = −0.45` make the term weigh enough for a small net.

use phasegen::cosim::{build_core, build_core_text, scratch_dir, verify_sample, CoreSim, Plan};
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::{beta_int, quantize};
use phasegen_vl::Options;
use std::path::Path;

fn hw_of(cfg: &Config) -> HwModel {
    let mut p = Params::init(cfg);
    // couplings a few times the initial ones: the harmonics' term is then
    // well above the step's rounding
    for w in p.w.iter_mut() {
        *w *= 4.0;
    }
    quantize(cfg, &p, 16).unwrap().0
}

/// The same model without its harmonics takes another path on `x` (so a
/// match below is a match of the harmonic arithmetic too).
fn harmonics_matter(hw: &HwModel, x: &[u64], steps: usize) -> bool {
    let plain = HwModel {
        harmonics: vec![],
        harm_frac: 0,
        ..hw.clone()
    };
    let (mut a, mut b) = (Twin::new(hw), Twin::new(&plain));
    a.load_input(x);
    b.load_input(x);
    (0..steps).any(|_| {
        a.step();
        b.step();
        a.theta != b.theta
    })
}

fn plan(free: u32, nudge: u32, beta: i64, label: usize) -> Plan {
    Plan {
        free_steps: free,
        nudge_steps: nudge,
        beta,
        label,
        fault: None,
    }
}

#[test]
fn reduced_van_der_pol_core_matches_twin() {
    let mut cfg = Config::default_config();
    // vdp-resistive's c_3 and c_5 (a_5 rounds to 0 in 8 bits: no hardware)
    cfg.train.harmonics = vec![0.0, -0.035781, 0.0, 0.000068];
    cfg.validate().unwrap();
    let hw = hw_of(&cfg);
    assert_eq!(hw.harmonic_terms().len(), 1, "{:?}", hw.harmonics);
    let data = load_dir(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits-8x8"
    )))
    .unwrap();
    let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir("cosim-harm-vdp")).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    let beta = beta_int(&hw.fmt, cfg.train.beta);
    for s in 0..2 {
        let x = hw.inputs_of_image(data.test.image(s));
        assert!(harmonics_matter(&hw, &x, 300), "sample {s}");
        let label = data.test.labels[s] as usize;
        let r = verify_sample(&mut sim, &hw, &x, &plan(300, 100, beta, label))
            .unwrap()
            .unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(r.steps_compared, 400);
        println!("sample {s}: {r:?}");
    }
}

fn small(layers: &[usize], lanes: u32) -> Config {
    let mut cfg = Config::default_config();
    cfg.network.inputs = 6;
    cfg.network.layers = layers.to_vec();
    cfg.network.intralayer = true;
    cfg.hardware.lanes = lanes;
    cfg.hardware.steps = 8;
    cfg.target.board = "ulx3s-25f".into();
    cfg.target.clock_hz = 25_000_000;
    cfg.train.dispersion = 0.05;
    cfg.train.harmonics = vec![0.3, -0.45];
    cfg.validate().unwrap();
    cfg
}

/// Two harmonics on three lanes (groups of 3 and 2 rows, a ROM stream) and
/// on two lanes of a dense stream (one fully connected layer of 9).
#[test]
fn two_harmonics_on_lanes_and_a_dense_stream_match_twin() {
    for (tag, cfg) in [
        ("cosim-harm-lanes", small(&[5, 4], 3)),
        ("cosim-harm-dense", small(&[9], 2)),
    ] {
        let hw = hw_of(&cfg);
        assert_eq!(hw.harmonic_terms().len(), 2, "{:?}", hw.harmonics);
        let built = build_core(&hw, &cfg.hash_hex(), &scratch_dir(tag)).unwrap();
        let mut sim = CoreSim::new(&built, hw.n()).unwrap();
        let beta = beta_int(&hw.fmt, 1.0);
        for x in [[15u64, 3, 0, 9, 12, 6], [1, 14, 7, 0, 5, 11]] {
            assert!(harmonics_matter(&hw, &x, 200), "{tag}");
            let classes = hw.topo.classes();
            let r = verify_sample(&mut sim, &hw, &x, &plan(200, 60, beta, 1 % classes))
                .unwrap()
                .unwrap_or_else(|m| panic!("{tag}: {m}"));
            assert_eq!(r.steps_compared, 260);
            println!("{tag}: {r:?}");
        }
    }
}

/// `text` with the one line holding `from` changed to `to`.
fn mutate(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "expected `{from}` once in pg_core.v"
    );
    text.replace(from, to)
}

/// A core whose harmonic term is wrong: the sign of `t_3` flipped
/// (`c_3 sin 3ψ_i − s_3 cos 3ψ_i`), and the rounding of `Σ a_n t_n`
/// turned into truncation, are each caught at a step and an oscillator.
#[test]
fn a_wrong_harmonic_term_is_caught() {
    let cfg = small(&[5, 4], 3);
    let hw = hw_of(&cfg);
    let text = phasegen_hdl::generate_core(&cfg.hash_hex(), &hw).text;
    let base = scratch_dir("cosim-harm-wrong");
    let x = [15u64, 3, 0, 9, 12, 6];
    let p = plan(60, 20, beta_int(&hw.fmt, 1.0), 1);
    let built = build_core_text(&hw, &text, &base.join("ok"), &Options::default()).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    verify_sample(&mut sim, &hw, &x, &p)
        .unwrap()
        .unwrap_or_else(|m| panic!("the unaltered core must match: {m}"));
    // the rounding constant of harm_rs (hdl/src/arith.rs round_shift)
    let k = 1u64 << (hw.harm_frac - 1);
    let w = hw.fmt.harm_acc_bits(2) + 1;
    let rounding = format!("{w}'sh{k:x});");
    let line = text
        .lines()
        .find(|l| l.contains("assign harm_rs_sum ="))
        .expect("the harmonics' rounding adder");
    assert!(line.ends_with(&rounding), "{line}");
    for (name, wrong) in [
        (
            "t_3's sign",
            mutate(
                &text,
                "assign harm_t3 = ($signed({{",
                "assign harm_t3 = -($signed({{",
            ),
        ),
        (
            "the rounding of the harmonics' sum",
            mutate(&text, line, &line.replace(&rounding, &format!("{w}'sh0);"))),
        ),
    ] {
        assert_ne!(wrong, text);
        let dir = base.join(name.replace([' ', '\'', '_'], "-"));
        let built = build_core_text(&hw, &wrong, &dir, &Options::default()).unwrap();
        let mut sim = CoreSim::new(&built, hw.n()).unwrap();
        let m = verify_sample(&mut sim, &hw, &x, &p)
            .unwrap()
            .expect_err(&format!("a wrong {name} went unnoticed"));
        assert!(m.osc < hw.n() && m.rtl != m.twin && m.step >= 1, "{m}");
        println!("{name}: {m}");
    }
}
