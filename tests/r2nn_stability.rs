//! The central-difference stability check: it refuses a time step or a
//! stiffness at or above the limit `ω_max·h < 2`, naming the value and the
//! limit; the limit is the real one (just above it the recurrence blows
//! up, just below it stays bounded); the stiffness bounds are checked at
//! their stiffest corner; the CLI refuses such a network before training.

use phasegen_sim::r2nn::data::Signals;
use phasegen_sim::r2nn::engine::{Engine, Work};
use phasegen_sim::r2nn::model::{Link, Net, Spec};
use std::process::Command;

/// A chain of unit masses (fixed at the left end), every spring `k`.
fn chain(n: usize, k: f64, substeps: usize) -> Net {
    let mut springs = vec![Link {
        a: 0,
        b: None,
        value: k,
        param: None,
    }];
    for i in 1..n {
        springs.push(Link {
            a: i - 1,
            b: Some(i),
            value: k,
            param: None,
        });
    }
    Net {
        labels: (0..n).map(|i| format!("n{i}")).collect(),
        mass: vec![1.0; n],
        springs,
        dashpots: vec![],
        sources: vec![n - 1],
        probes: vec![n - 1, n / 2],
        substeps,
    }
}

/// Largest |displacement| at the probes over a run of an impulse-like input.
fn peak(net: &Net, len: usize) -> f64 {
    let eng = Engine::new(net);
    let mut w = Work::default();
    let mut x = vec![0f32; len];
    x[0] = 1.0;
    eng.forward(&mut w, &[&x], true);
    (0..2)
        .flat_map(|p| eng.trace(&w, p, 0))
        .fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn the_check_refuses_at_the_limit_and_names_value_and_limit() {
    // ω_max of the chain for k = 1 is below 2; scale k so that ω_max·h
    // lands just above and just below 2.
    let base = chain(6, 1.0, 1).omega_max();
    let above = chain(6, (2.02 / base).powi(2), 1);
    let below = chain(6, (1.98 / base).powi(2), 1);
    assert!((above.omega_max() - 2.02).abs() < 1e-9);
    let err = above.check_stable().unwrap_err().to_string();
    assert!(err.contains("ω_max·h = 2.0200"), "{err}");
    assert!(err.contains("central-difference limit 2"), "{err}");
    assert!(err.contains("substeps >= 2"), "{err}");
    below.check_stable().unwrap();
    // The refused network really blows up; the accepted one stays bounded;
    // and the refused stiffness is fine with the suggested substeps.
    let (p_above, p_below) = (peak(&above, 3000), peak(&below, 3000));
    assert!(
        p_above > 1e6,
        "above the limit the response should explode: {p_above}"
    );
    assert!(
        p_below < 10.0,
        "below the limit the response stays bounded: {p_below}"
    );
    let mut fixed = above.clone();
    fixed.substeps = 2;
    fixed.check_stable().unwrap();
    assert!(peak(&fixed, 1500) < 10.0);
}

#[test]
fn bounds_are_checked_at_their_stiffest_corner() {
    let mut s = Spec::authors();
    s.validate().unwrap();
    s.bounds.kc[1] = 0.02;
    let err = s.validate().unwrap_err().to_string();
    assert!(
        err.contains("the stiffness bounds (kn <= 0.007, kc <= 0.02) allow ω_max·h ="),
        "{err}"
    );
    assert!(
        err.contains("above 1.9 (5% inside the central-difference limit 2)"),
        "{err}"
    );
    // The suggested number of substeps is enough.
    let need: usize = err
        .rsplit("substeps >= ")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    s.substeps = need;
    s.validate().unwrap();
    // Parameters outside the bounds are refused before any stepping.
    let mut p = s.init(1);
    p.kn[7] = 1.0;
    let err = s.net(&p).unwrap_err().to_string();
    assert!(err.contains("kn[7] = 1 is outside its bounds"), "{err}");
}

#[test]
fn every_bounded_parameter_set_is_stable() {
    // K grows with every spring, so the stiffest corner bounds ω_max over
    // the whole box: random parameter sets inside it stay below it.
    let s = Spec::preset(3, [0.04, 0.6], 2).unwrap();
    let corner = s.net_unchecked(&s.stiffest()).omega_max();
    for seed in 0..20 {
        let p = s.init(seed);
        let w = s.net(&p).unwrap().omega_max();
        assert!(w <= corner + 1e-12, "{w} > {corner}");
    }
}

#[test]
fn the_cli_refuses_an_unstable_network_before_training() {
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "r2nn",
            "train",
            "--task",
            "tactile",
            "--count",
            "12",
            "--len",
            "50",
            "--substeps",
            "1",
            "--band",
            "0.1,2.5",
            "--out",
            "/dev/null",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("allow ω_max·h ="), "{err}");
    assert!(err.contains("central-difference limit 2"), "{err}");
    assert!(
        !err.contains("epoch"),
        "it must refuse before training: {err}"
    );
}

#[test]
fn a_zero_signal_has_zero_energy() {
    // A zero signal gives zero energy (and no NaN) on a damped network.
    let s = Spec::preset(2, [0.1, 0.5], 2).unwrap();
    let eng = Engine::new(&s.net(&s.init(2)).unwrap());
    let data = Signals {
        len: 40,
        x: vec![0.0; 40],
        labels: vec![0],
        classes: vec!["a".into(), "b".into()],
        sample_rate: None,
    };
    let mut w = Work::default();
    eng.forward(&mut w, &[data.signal(0)], false);
    assert!(eng.energies(&w).iter().all(|l| l[0] == 0.0));
}
