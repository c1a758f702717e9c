//! `phasegen r2nn` through the real binary: training is deterministic for a
//! seed whatever the number of threads, trains on the user's CSV, and the
//! bench, eval, components and tolerance commands run; bad inputs get clear
//! errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("pg-r2nn-cli-{tag}-{}", std::process::id()));
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

fn phasegen(args: &[&str], threads: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_phasegen"));
    c.args(args);
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    c.output().unwrap()
}

fn ok(args: &[&str]) -> (String, String) {
    let out = phasegen(args, None);
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "phasegen {args:?} failed: {so}{se}");
    (so, se)
}

fn fails(args: &[&str]) -> String {
    let out = phasegen(args, None);
    assert!(!out.status.success(), "phasegen {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const TINY: [&str; 13] = [
    "r2nn", "train", "--task", "tactile", "--count", "60", "--len", "120", "--epochs", "2",
    "--batch", "16", "--out",
];

#[test]
fn training_is_deterministic_whatever_the_threads() {
    let d = TempDir::new("det");
    let mut files = vec![];
    for threads in ["1", "2", "3"] {
        let p = d.path(&format!("m{threads}.json"));
        let mut args = TINY.to_vec();
        args.push(&p);
        let out = phasegen(&args, Some(threads));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        files.push(std::fs::read_to_string(&p).unwrap());
    }
    assert_eq!(files[0], files[1]);
    assert_eq!(files[0], files[2]);
    // The model file records how to rebuild its test set; eval reads it.
    let (out, _) = ok(&["r2nn", "eval", "--model", &d.path("m1.json"), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["test_signals"], 12);
    assert_eq!(v["confusion"].as_array().unwrap().len(), 3);
    assert!(v["omega_max_h"].as_f64().unwrap() < 1.9);
}

#[test]
fn trains_on_a_csv_file_and_reports_the_circuit() {
    let d = TempDir::new("csv");
    let csv = d.path("bearing.csv");
    ok(&[
        "r2nn", "data", "--task", "bearing", "--count", "40", "--len", "150", "--out", &csv,
    ]);
    let model = d.path("m.json");
    let (_, err) = ok(&[
        "r2nn",
        "train",
        "--csv",
        &csv,
        "--epochs",
        "1",
        "--band",
        "0.03,0.7",
        "--substeps",
        "3",
        "--out",
        &model,
    ]);
    assert!(
        err.contains("4 classes, 3 steps/sample") && err.contains(&format!("CSV {csv}")),
        "{err}"
    );
    let (out, _) = ok(&["r2nn", "eval", "--model", &model]);
    assert!(
        out.contains("test accuracy") && out.contains("misalignment"),
        "{out}"
    );
    let (out, _) = ok(&[
        "r2nn",
        "components",
        "--model",
        &model,
        "--series",
        "E12,E96",
    ]);
    assert!(
        out.contains("| E12 |") && out.contains("| E96 |") && out.contains("| L | 61 |"),
        "{out}"
    );
    let (out, _) = ok(&[
        "r2nn",
        "tolerance",
        "--model",
        &model,
        "--tol",
        "1,5",
        "--trials",
        "2",
    ]);
    assert!(out.contains("| ±1% |") && out.contains("| ±5% |"), "{out}");
}

#[test]
fn grid_size_is_configurable() {
    let d = TempDir::new("grid");
    let model = d.path("g.json");
    ok(&[
        "r2nn", "train", "--task", "tactile", "--grid", "4x6", "--count", "24", "--len", "80",
        "--epochs", "1", "--out", &model,
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(
        (v["spec"]["rows"].as_u64(), v["spec"]["cols"].as_u64()),
        (Some(4), Some(6))
    );
    assert_eq!(v["spec"]["fixed"], serde_json::json!([0, 5, 18, 23]));
    assert_eq!(v["params"]["kc"].as_array().unwrap().len(), 4 * 5 + 3 * 6);
    let err = fails(&[
        "r2nn",
        "train",
        "--task",
        "tactile",
        "--grid",
        "5",
        "--out",
        "/dev/null",
    ]);
    assert!(err.contains("--grid 5: give ROWSxCOLS, e.g. 5x5"), "{err}");
}

#[test]
fn bench_runs_and_reports_the_ratio() {
    let d = TempDir::new("bench");
    let md = d.path("bench.md");
    let (out, _) = ok(&[
        "r2nn",
        "bench",
        "--epochs",
        "1",
        "--signals",
        "16",
        "--len",
        "100",
        "--batch",
        "8",
        "--short",
        "--out",
        &md,
    ]);
    assert!(
        out.contains("| authors' 5×5 (1 step/sample, no dashpots) |"),
        "{out}"
    );
    assert!(
        out.contains("Headline:") && out.contains("× the authors' 53 s"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&md).unwrap(), out);
}

#[test]
fn bad_inputs_get_clear_errors() {
    let err = fails(&["r2nn", "train", "--out", "/dev/null"]);
    assert!(
        err.contains("give the data: --task NAME, --csv FILE or --wav FOLDER"),
        "{err}"
    );
    let err = fails(&["r2nn", "train", "--task", "speech", "--out", "/dev/null"]);
    assert!(
        err.contains("unknown task 'speech': the tasks are tactile, bearing, vowels"),
        "{err}"
    );
    let err = fails(&[
        "r2nn",
        "train",
        "--csv",
        "/nonexistent.csv",
        "--out",
        "/dev/null",
    ]);
    assert!(
        err.contains("cannot read the signal file /nonexistent.csv"),
        "{err}"
    );
    let err = fails(&["r2nn", "eval", "--model", "/nonexistent.json"]);
    assert!(
        err.contains("cannot read the model file /nonexistent.json"),
        "{err}"
    );
    let d = TempDir::new("bad");
    let p = d.path("x.json");
    std::fs::write(&p, "{}").unwrap();
    let err = fails(&["r2nn", "eval", "--model", &p]);
    assert!(err.contains("is not an R²NN model file"), "{err}");
    let csv = d.path("one.csv");
    std::fs::write(&csv, "0,1,2\n0,3,4\n").unwrap();
    let err = fails(&["r2nn", "train", "--csv", &csv, "--out", "/dev/null"]);
    assert!(err.contains("only 1 class"), "{err}");
    assert!(!Path::new("/dev/null").is_file());
}

/// A split that leaves the test set (or the training set) empty is refused
/// before training, saying which flag to change and to what.
#[test]
fn empty_splits_are_refused_up_front() {
    let d = TempDir::new("split");
    let out = d.path("x.json");
    let train = |extra: &[&str]| {
        let mut a = vec!["r2nn", "train", "--epochs", "1", "--out", &out];
        a.extend_from_slice(extra);
        fails(&a)
    };
    let err = train(&["--task", "tactile", "--count", "50", "--test-fraction", "0"]);
    assert!(
        err.contains("--test-fraction 0, --count")
            && err.contains("holds out no test signal")
            && err.contains("at least 0.010"),
        "{err}"
    );
    let err = train(&["--task", "tactile", "--count", "1"]);
    assert!(err.contains("at least 2 signals"), "{err}");
    let csv = d.path("two.csv");
    std::fs::write(&csv, "0,1,2\n1,3,4\n").unwrap();
    let err = train(&["--csv", &csv]);
    assert!(
        err.contains("cannot split 2 signals")
            && err.contains("too few signals")
            && err.contains("at least 0.250"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
}

/// `--epochs 0` trains nothing: it writes the initial parameters (after the
/// warm start), says so, and records their test accuracy.
#[test]
fn zero_epochs_write_the_initial_model_and_say_so() {
    let d = TempDir::new("zero");
    let model = d.path("z.json");
    let mut args = TINY.to_vec();
    let at = args.iter().position(|&a| a == "--epochs").unwrap();
    args[at + 1] = "0";
    args.push(&model);
    let (_, err) = ok(&args);
    let said = err.trim_end().lines().last().unwrap();
    assert!(
        said.starts_with(&format!(
            "nothing was trained (--epochs 0): {model} holds the initial parameters of seed 1 after the warm start"
        )),
        "{err}"
    );
    assert!(!err.contains("epoch   1"), "{err}");
    let (out, _) = ok(&["r2nn", "eval", "--model", &model, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(file["test_acc"], v["test_acc"]);
    assert_eq!(file["train"]["epochs"], 0);
    assert!(said.ends_with(&format!(
        "; test {:.2}%",
        100.0 * v["test_acc"].as_f64().unwrap()
    )));
    // training (two epochs) moves the parameters away from them
    let one = d.path("one.json");
    let mut args = TINY.to_vec();
    args.push(&one);
    let (_, err) = ok(&args);
    assert!(
        err.trim_end().lines().last().unwrap().starts_with(&format!(
            "model written to {one}: epoch 2 of 2 (the last), test "
        )),
        "{err}"
    );
    let params = |p: &str| {
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(p).unwrap()).unwrap()
            ["params"]
            .clone()
    };
    assert_ne!(params(&model), params(&one));
}
