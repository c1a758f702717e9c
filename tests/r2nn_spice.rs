//! The R²NN circuit: the exported netlist has every element with the value
//! the analogy gives, E-series snapping leaves only series values, and
//! ngspice (batch mode) reproduces the model's probe waveforms within the
//! stated bound and the model's classes, through the binary and with
//! several source nodes through the library.

use phasegen_sim::r2nn::circuit::{Circuit, Scale, Series, AMPS};
use phasegen_sim::r2nn::engine::{Engine, Work};
use phasegen_sim::r2nn::file::{DataSource, ModelFile, SplitSpec, FORMAT, VERSION};
use phasegen_sim::r2nn::model::{Bounds, Probe, Spec};
use phasegen_sim::r2nn::spice;
use phasegen_sim::r2nn::train::TrainOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The waveform bound this test holds the circuit to: normalized RMS error
/// of every probe waveform, ngspice vs the model, below 1%.
const MAX_NRMSE: f64 = 0.01;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("pg-r2nn-{tag}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn phasegen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = phasegen(args);
    assert!(
        out.status.success(),
        "phasegen {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A 3×3 network (corners fixed, driven at the top middle, probes on the
/// resonators of the left, right and bottom middle nodes) with ground and
/// coupling dashpots, untrained but with spread values.
fn small_spec(sources: Vec<usize>) -> Spec {
    Spec {
        rows: 3,
        cols: 3,
        fixed: vec![0, 2, 6, 8],
        sources,
        probes: [3, 5, 7]
            .iter()
            .map(|&node| Probe {
                node,
                resonator: true,
            })
            .collect(),
        m_main: 1.0,
        m_res: 1.0,
        damping: 0.01,
        res_damping: 0.002,
        coupling_dashpots: true,
        substeps: 2,
        logit_scale: 10.0,
        bounds: Bounds {
            kn: [0.0016, 0.36],
            kc: [1e-4, 0.18],
            cc: [0.0, 0.05],
        },
    }
}

fn write_model(dir: &Path) -> PathBuf {
    let spec = small_spec(vec![1]);
    spec.validate().unwrap();
    let mut params = spec.init(3);
    for (i, c) in params.cc.iter_mut().enumerate() {
        *c = 0.004 * (i % 4) as f64;
    }
    for (i, k) in params.kc.iter_mut().enumerate() {
        *k = 0.01 + 0.01 * (i % 3) as f64;
    }
    let mf = ModelFile {
        format: FORMAT.into(),
        version: VERSION,
        spec,
        params,
        train: TrainOptions {
            epochs: 1,
            batch: 8,
            lr: 0.05,
            lr_decay: 1.0,
            seed: 1,
            sweep: 0,
            kc_init: None,
        },
        data: DataSource::Task {
            task: "tactile".into(),
            count: 40,
            len: 200,
            seed: 1,
        },
        split: SplitSpec {
            test_fraction: 0.25,
            seed: 0,
        },
        classes: vec!["coarse".into(), "medium".into(), "fine".into()],
        sample_rate: Some(2000.0),
        test_acc: 0.0,
    };
    let p = dir.join("small.json");
    mf.save(&p).unwrap();
    p
}

/// `(name, node a, node b, value)` of every C, L, R line of a netlist.
fn elements(netlist: &str) -> Vec<(String, String, String, f64)> {
    netlist
        .lines()
        .filter(|l| matches!(l.chars().next(), Some('C' | 'L' | 'R')))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 4, "{l}");
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].to_string(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn exported_netlist_holds_every_element_at_its_analog_value() {
    let d = TempDir::new("export");
    let model = write_model(&d.0);
    let cir = d.0.join("net.cir");
    let summary = ok(&[
        "r2nn",
        "export-spice",
        "--model",
        model.to_str().unwrap(),
        "--out",
        cir.to_str().unwrap(),
        "--signal",
        "2",
    ]);
    assert!(summary.contains("| C | 10 |"), "{summary}");
    let text = std::fs::read_to_string(&cir).unwrap();
    let mf = ModelFile::load(&model).unwrap();
    let net = mf.spec.net(&mf.params).unwrap();
    let scale = Scale::choose(&net, None, None).unwrap();
    let el = elements(&text);
    let (c, l, r) = (
        el.iter().filter(|e| e.0.starts_with('C')).count(),
        el.iter().filter(|e| e.0.starts_with('L')).count(),
        el.iter().filter(|e| e.0.starts_with('R')).count(),
    );
    // 5 free nodes: 10 masses; 12 grid edges (none between two corners) + 5
    // resonator springs; dashpots: 12 coupling (those at 0 left out) + 5
    // resonator + 5 ground.
    let nonzero_cc = net.dashpots.iter().filter(|d| d.value > 0.0).count();
    assert_eq!((c, l, r), (10, 17, nonzero_cc));
    for (i, s) in net.springs.iter().enumerate() {
        let name = format!("L{i}_{}", net.labels[s.a]);
        let e = el
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(e.1, net.labels[s.a]);
        assert_eq!(e.2, s.b.map_or("0".to_string(), |b| net.labels[b].clone()));
        let want = scale.z0 * scale.tau / s.value;
        assert!(
            (e.3 / want - 1.0).abs() < 1e-11,
            "{name}: {} vs {want}",
            e.3
        );
    }
    for (i, m) in net.mass.iter().enumerate() {
        let e = el
            .iter()
            .find(|e| e.0 == format!("C{}", net.labels[i]))
            .unwrap();
        assert_eq!(e.2, "0");
        assert!((e.3 / (scale.tau * m / scale.z0) - 1.0).abs() < 1e-11);
    }
    for e in el.iter().filter(|e| e.0.starts_with('R')) {
        assert!(e.3 > 0.0 && e.3.is_finite());
    }
    // The input: a PWL current into the source node with a knot per model
    // step (200 samples × 2 steps + the start), the last value the integral
    // of the signal; the run starts at rest; the probes are written.
    assert!(text.contains("Iin 0 m0_1 PWL("), "{text}");
    let pwl: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with('+'))
        .flat_map(|l| l.split_whitespace().filter_map(|t| t.parse::<f64>().ok()))
        .collect();
    assert_eq!(pwl.len(), 2 * 401);
    let (_, test) = mf.split_data().unwrap();
    let f = spice::integrated_force(test.signal(2), 2);
    let last = pwl[pwl.len() - 1];
    assert!((last - AMPS * f[400]).abs() <= 1e-9 * (AMPS * f[400]).abs().max(1e-12));
    assert!(text.contains(" uic\n"));
    assert!(
        text.contains("wrdata r2nn-probes.txt v(r1_0) v(r1_2) v(r2_1)"),
        "{text}"
    );

    // Snapped to E24: every value is an E24 value.
    let cir24 = d.0.join("net24.cir");
    ok(&[
        "r2nn",
        "export-spice",
        "--model",
        model.to_str().unwrap(),
        "--out",
        cir24.to_str().unwrap(),
        "--series",
        "E24",
    ]);
    for e in elements(&std::fs::read_to_string(&cir24).unwrap()) {
        assert_eq!(
            Series::E24.nearest(e.3),
            e.3,
            "{} = {} is not an E24 value",
            e.0,
            e.3
        );
    }
}

#[test]
fn ngspice_reproduces_the_model_waveforms_and_classes() {
    let d = TempDir::new("verify");
    let model = write_model(&d.0);
    let work = d.0.join("spice");
    let out = ok(&[
        "r2nn",
        "verify-spice",
        "--model",
        model.to_str().unwrap(),
        "--count",
        "4",
        "--dir",
        work.to_str().unwrap(),
        "--max-nrmse",
        &MAX_NRMSE.to_string(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["signals"], 4);
    assert_eq!(v["agree"], 4, "{v}");
    let (nrmse, fine) = (
        v["max_nrmse"].as_f64().unwrap(),
        v["max_nrmse_fine"].as_f64().unwrap(),
    );
    assert!(nrmse < MAX_NRMSE, "{v}");
    // Against the model at 8× the steps the difference is the circuit's own
    // (ngspice's integration), much smaller than the time-step error.
    assert!(fine < nrmse / 2.0 && fine < 2e-3, "{v}");
    assert!(out.contains("SPICE OK"));
    // An unreachable bound fails, naming the signal and the bound.
    let bad = phasegen(&[
        "r2nn",
        "verify-spice",
        "--model",
        model.to_str().unwrap(),
        "--count",
        "1",
        "--dir",
        work.to_str().unwrap(),
        "--max-nrmse",
        "1e-9",
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("FAILED: signal 0 has waveform NRMSE") && err.contains("above the bound 1e-9"),
        "{err}"
    );
}

#[test]
fn several_source_nodes_are_driven_alike() {
    let d = TempDir::new("sources");
    let spec = small_spec(vec![1, 4]);
    spec.validate().unwrap();
    let net = spec.net(&spec.init(9)).unwrap();
    let c = Circuit::from_net(&net, Scale::choose(&net, Some(1e5), None).unwrap());
    let x: Vec<f32> = (0..150)
        .map(|i| ((i as f32) * 0.21).sin() + 0.5 * ((i as f32) * 0.05).cos())
        .collect();
    let sp = spice::simulate(&c, &x, &d.0, "two").unwrap();
    let eng = Engine::new(&net);
    let mut w = Work::default();
    eng.forward(&mut w, &[&x], true);
    for (p, s) in sp.iter().enumerate() {
        let m = eng.trace(&w, p, 0);
        let num: f64 = s.iter().zip(&m).map(|(a, b)| (a - b) * (a - b)).sum();
        let den: f64 = m.iter().map(|b| b * b).sum();
        assert!(
            (num / den).sqrt() < MAX_NRMSE,
            "probe {p}: nrmse {}",
            (num / den).sqrt()
        );
    }
    let text = std::fs::read_to_string(d.0.join("two.cir")).unwrap();
    assert!(
        text.contains("Iin 0 m0_1_in PWL(")
            && text.contains("Vsense m0_1_in m0_1 0")
            && text.contains("Fin0 0 m1_1 Vsense 1")
    );
}
