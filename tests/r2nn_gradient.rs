//! The adjoint (reverse-pass) gradient of the R²NN against central finite
//! differences of the loss, for every trainable parameter kind (resonator
//! springs, coupling springs, coupling springs to fixed nodes, coupling
//! dashpots), with damping, several substeps and a partly filled chunk.

use phasegen_sim::r2nn::data::Signals;
use phasegen_sim::r2nn::engine::Engine;
use phasegen_sim::r2nn::model::{Params, Probe, Spec};
use phasegen_sim::r2nn::train::batch_gradient;

fn spec() -> Spec {
    let mut s = Spec::authors();
    s.rows = 3;
    s.cols = 4;
    s.fixed = vec![0, 3];
    s.sources = vec![5];
    s.probes = vec![
        Probe {
            node: 10,
            resonator: true,
        },
        Probe {
            node: 6,
            resonator: false,
        },
        Probe {
            node: 8,
            resonator: true,
        },
    ];
    s.m_main = 1.0;
    s.m_res = 0.8;
    s.damping = 0.01;
    s.res_damping = 0.005;
    s.coupling_dashpots = true;
    s.substeps = 2;
    s.logit_scale = 5.0;
    s.bounds.kn = [0.005, 0.5];
    s.bounds.kc = [0.005, 0.2];
    s.bounds.cc = [0.0, 0.05];
    s
}

fn signals() -> Signals {
    let len = 80;
    let count = 11; // one full chunk of 8 and a partial one
    let mut x = vec![];
    for k in 0..count {
        for i in 0..len {
            let t = i as f32;
            x.push((0.1 * (k + 1) as f32 * t).sin() + 0.3 * (0.37 * t + k as f32).cos());
        }
    }
    Signals {
        len,
        x,
        labels: (0..count).map(|k| k % 3).collect(),
        classes: vec!["a".into(), "b".into(), "c".into()],
        sample_rate: None,
    }
}

fn loss(spec: &Spec, p: &Params, data: &Signals, idx: &[usize]) -> f64 {
    let eng = Engine::new(&spec.net(p).unwrap());
    batch_gradient(spec, &eng, data, idx).loss
}

#[test]
fn adjoint_gradient_matches_finite_differences() {
    let spec = spec();
    spec.validate().unwrap();
    let mut p = spec.init(5);
    for (i, c) in p.cc.iter_mut().enumerate() {
        *c = 0.002 + 0.003 * (i % 5) as f64;
    }
    for (i, k) in p.kc.iter_mut().enumerate() {
        *k = 0.02 + 0.01 * (i % 7) as f64;
    }
    let data = signals();
    let idx: Vec<usize> = (0..data.count()).collect();
    let eng = Engine::new(&spec.net(&p).unwrap());
    let g = batch_gradient(&spec, &eng, &data, &idx).grad;
    let flat = p.flat();
    let nodes = spec.nodes();
    let edges = spec.edges();
    let mut checked = [0usize; 4];
    let mut worst: f64 = 0.0;
    for i in 0..flat.len() {
        // Skip the values no element uses (resonators of fixed nodes, edges
        // between two fixed nodes): their gradient must be exactly 0.
        let unused = (i < nodes && spec.is_fixed(i))
            || (i >= nodes && {
                let (a, b) = edges[(i - nodes) % edges.len()];
                spec.is_fixed(a) && spec.is_fixed(b)
            });
        if unused {
            assert_eq!(
                g[i], 0.0,
                "parameter {i} is unused but has gradient {}",
                g[i]
            );
            continue;
        }
        let h = 1e-6 * flat[i].abs().max(1e-3);
        let mut a = flat.clone();
        let mut b = flat.clone();
        a[i] += h;
        b[i] -= h;
        let fd = (loss(&spec, &Params::from_flat(&spec, &a), &data, &idx)
            - loss(&spec, &Params::from_flat(&spec, &b), &data, &idx))
            / (2.0 * h);
        let err = (fd - g[i]).abs() / (fd.abs().max(g[i].abs()).max(1e-3));
        worst = worst.max(err);
        assert!(
            err < 1e-5,
            "parameter {i}: adjoint {} vs finite difference {fd} (rel. error {err:.2e})",
            g[i]
        );
        let kind = if i < nodes {
            0
        } else if i < nodes + edges.len() {
            let (a, b) = edges[i - nodes];
            if spec.is_fixed(a) || spec.is_fixed(b) {
                2
            } else {
                1
            }
        } else {
            3
        };
        checked[kind] += 1;
    }
    assert!(
        checked.iter().all(|&c| c > 0),
        "every kind checked: {checked:?}"
    );
    eprintln!(
        "checked {checked:?} (kn, kc, kc to fixed nodes, cc): worst relative error {worst:.2e}"
    );
}
