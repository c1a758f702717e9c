//! `phasegen r2nn codes` and `r2nn realtime` through the real binary, on a
//! tiny trained model and the reference part table: every code fits its
//! part's width, every realized value is within its slot's resolution of
//! the value aimed at, the rebuilt model's accuracy is printed beside the
//! trained one, and a value outside a part's range is refused by name.

use phasegen_sim::r2nn::parts::{Part, PartTable, Slot};
use std::path::PathBuf;
use std::process::{Command, Output};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("pg-r2nn-codes-{tag}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

const PARTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/parts/reference.toml");

fn phasegen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> (String, String) {
    let out = phasegen(args);
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "phasegen {args:?} failed: {so}{se}");
    (so, se)
}

fn tiny_model(d: &TempDir) -> String {
    let m = d.path("m.json");
    ok(&[
        "r2nn", "train", "--task", "tactile", "--count", "60", "--len", "120", "--epochs", "2",
        "--batch", "16", "--out", &m,
    ]);
    m
}

#[test]
fn codes_fit_their_parts_and_the_realized_accuracy_is_printed() {
    let d = TempDir::new("codes");
    let model = tiny_model(&d);
    let json = d.path("codes.json");
    let (out, err) = ok(&[
        "r2nn", "codes", "--model", &model, "--parts", PARTS, "--out", &json,
    ]);
    let acc = out
        .lines()
        .find(|l| l.starts_with("test accuracy on 12 signals: trained "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        acc.contains("%, realized values ") && acc.contains("same class as trained"),
        "{acc}"
    );
    assert!(
        out.contains("| resonator capacitor | c_bank | 21 |"),
        "{out}"
    );
    assert!(
        out.contains("resonances 1/√(LC) of the 21 resonators"),
        "{out}"
    );
    assert!(err.contains(&format!("codes written to {json}")), "{err}");

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let table = PartTable::load(std::path::Path::new(PARTS)).unwrap();
    let elements = v["elements"].as_array().unwrap();
    // 21 main and 21 resonator capacitors, 61 inductors, 40 trained and 21
    // ground dashpots on the 5×5 grid
    assert_eq!(elements.len(), 21 + 21 + 61 + 40 + 21);
    let mut coded = 0;
    for e in elements {
        let s = table.slot(e["slot"].as_str().unwrap()).unwrap();
        let target = e["target"].as_f64().unwrap_or(f64::INFINITY);
        let bound = e["bound"].as_f64().unwrap();
        let value = e["value"].as_f64();
        // within the slot's resolution of the value aimed at (conductance for
        // resistors, which may be open)
        let err = if e["name"].as_str().unwrap().starts_with('R') {
            (value.map_or(0.0, |v| 1.0 / v) - 1.0 / target).abs()
        } else {
            (value.unwrap() - target).abs()
        };
        assert!(err <= bound * (1.0 + 1e-9), "{e}");
        // every code within its part's width and range
        if let Some(code) = e["code"].as_u64() {
            coded += 1;
            match s {
                Slot::Rheostat { part, .. } => {
                    let Part::Rheostat {
                        bits,
                        min_code,
                        max_code,
                        ..
                    } = table.part(part).unwrap()
                    else {
                        panic!("{part} is not a rheostat")
                    };
                    assert!(code < 1 << bits, "{e}");
                    assert!((*min_code..=*max_code).contains(&code), "{e}");
                }
                Slot::Bank { weights, .. } => assert!(code < 1 << weights.len(), "{e}"),
                k => panic!("a code on a {k:?} slot: {e}"),
            }
        }
        // the tuned resonator capacitors aim at C·L/L', the others at the
        // trained value
        if e["role"] != "resonator_capacitor" {
            assert_eq!(e["target"], e["trained"], "{e}");
        }
    }
    assert_eq!(
        coded,
        21 + elements
            .iter()
            .filter(|e| e["role"] == "trained_resistor" && !e["open"].as_bool().unwrap())
            .count()
    );
    // the buses: every word fits its frame; the bank chain holds one chip
    // per resonator and the 40 open switches, eight per chip
    for b in v["buses"].as_array().unwrap() {
        let bits = b["frame_bits"].as_u64().unwrap();
        for w in b["chips"].as_array().unwrap() {
            assert!(w["word"].as_u64().unwrap() >> bits == 0, "{w}");
        }
        if b["bus"] == "bank" {
            assert_eq!(b["chips"].as_array().unwrap().len(), 21 + 5);
        }
        if b["bus"] == "rheo" {
            assert_eq!(b["chips"].as_array().unwrap().len(), 40);
            assert_eq!(b["init"], serde_json::json!([0x1802]));
        }
    }
}

#[test]
fn a_value_outside_a_part_is_refused_by_name_and_realtime_says_the_rate() {
    let d = TempDir::new("range");
    let model = tiny_model(&d);
    // at 10 k samples/s every inductor grows by (214 k / 10 k)² ≈ 460:
    // beyond the E12 slot's 1 H
    let out = phasegen(&[
        "r2nn",
        "codes",
        "--model",
        &model,
        "--parts",
        PARTS,
        "--sample-rate",
        "10000",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot be built on")
            && err.contains("inductor) needs")
            && err.contains(
                "outside what slot l_fixed realizes: E12 values from 1.000 µH to 1.000 H"
            ),
        "{err}"
    );
    // a part table with a bad field is refused naming it
    let bad = d.path("bad.toml");
    let text = std::fs::read_to_string(PARTS)
        .unwrap()
        .replace("clock_hz = 24e6", "clock_hz = 40e6");
    std::fs::write(&bad, text).unwrap();
    let out = phasegen(&["r2nn", "codes", "--model", &model, "--parts", &bad]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("buses.dac.clock_hz = 40000000: above the DAC8551IDGK maximum"),
        "{err}"
    );
    let (out, _) = ok(&["r2nn", "realtime", "--model", &model, "--parts", PARTS]);
    assert!(
        out.contains("100.0 kupdates/s by its 10.00 µs settling time")
            && out.contains("| no | `--sample-rate 100000` | yes |"),
        "{out}"
    );
}
