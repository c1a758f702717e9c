//! `phasegen train`, `eval` and `bench-train` through the real binary.

mod common;
use common::{fails, ok, TempDir};

#[test]
fn train_logs_json_lines_and_eval_reads_the_model() {
    let t = TempDir::new("train-eval");
    let cfg = t.0.join("tiny.toml");
    std::fs::write(
        &cfg,
        "name = 'tiny'\n[network]\ninputs = 64\nlayers = [24, 10]\n[train]\nepochs = 3\nbatch = 16\noptimizer = 'adam'\nlr = 0.005\nlr_bias = 0.005\nlr_schedule = 'constant'\nmax_train = 800\n",
    )
    .unwrap();
    let model = t.0.join("m.json");
    let log = t.0.join("log.jsonl");
    let (_, err) = ok(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(err.contains("epoch   3"), "{err}");
    // stderr is not a terminal here: no progress bar characters
    assert!(
        !err.contains('\r'),
        "progress bar drawn into a pipe: {err:?}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["epoch"], i + 1);
        for k in [
            "loss",
            "train_acc",
            "test_acc",
            "test_loss",
            "lr",
            "train_seconds",
            "seconds",
        ] {
            assert!(l[k].as_f64().unwrap().is_finite(), "{k} in {l}");
        }
        // 40 free + 2 x 15 nudged steps per sample (no convergence stop)
        assert_eq!(l["steps_per_sample"].as_f64().unwrap(), 70.0);
    }
    let last = lines[2]["test_acc"].as_f64().unwrap();
    assert!(last > 0.6, "the tiny run did not learn: {last}");

    // eval with the training conditions reproduces the logged test accuracy
    let (out, _) = ok(&["eval", "--model", model.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["test_acc"].as_f64().unwrap(), last, "{v}");
    assert_eq!(v["test_samples"], 360);
    // heavy noise and dispersion hurt
    let (out, _) = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--json",
        "--noise",
        "3",
        "--dispersion",
        "1",
        "--train",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["test_acc"].as_f64().unwrap() < last - 0.2, "{v}");
    assert!(v["train_acc"].as_f64().is_some());
    let (out, _) = ok(&["eval", "--model", model.to_str().unwrap(), "--steps", "5"]);
    assert!(out.contains("5 steps: test accuracy"), "{out}");

    let e = fails(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--dispersion",
        "2",
    ]);
    assert!(e.contains("--dispersion 2") && e.contains("0..=1"), "{e}");
    let e = fails(&["eval", "--model", model.to_str().unwrap(), "--steps", "0"]);
    assert!(e.contains("--steps 0"), "{e}");
    let e = fails(&["eval", "--model", t.0.join("none.json").to_str().unwrap()]);
    assert!(e.contains("none.json"), "{e}");
    let e = fails(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        "data/mnist-10k",
    ]);
    assert!(
        e.contains("784") && e.contains("network.inputs = 64"),
        "{e}"
    );
}

#[test]
fn train_rejects_bad_options() {
    let t = TempDir::new("train-bad");
    let cfg = t.0.join("bad.toml");
    std::fs::write(
        &cfg,
        "name = 'bad'\n[network]\ninputs = 64\nlayers = [8, 10]\n[train]\noptimizer = 'lbfgs'\n",
    )
    .unwrap();
    let model = t.0.join("m.json");
    let args = [
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ];
    let e = fails(&args);
    assert!(e.contains("lbfgs") && e.contains("adam"), "{e}");
    std::fs::write(
        &cfg,
        "name = 'bad'\n[network]\ninputs = 64\nlayers = [8, 10]\n[train]\nclip = true\n",
    )
    .unwrap();
    let e = fails(&args);
    assert!(e.contains("train.clip") && e.contains("weight_frac"), "{e}");
    assert!(!model.exists(), "a failed run wrote a model");
}

/// The benchmark runs end to end (small sizes) and prints its three tables.
#[test]
fn bench_train_quick_prints_every_table() {
    let t = TempDir::new("train-bench");
    let out = t.0.join("bench.md");
    let (md, _) = ok(&[
        "bench-train",
        "--quick",
        "--speed-epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    for h in [
        "## Speed",
        "## Accuracy",
        "## Robustness",
        "s/epoch",
        "samples/s",
    ] {
        assert!(md.contains(h), "missing {h}:\n{md}");
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), md);
    // every table row is complete: no empty cells
    assert!(!md.contains("| |"), "{md}");
}

/// The last line of a run's stderr.
fn last_line(err: &str) -> &str {
    err.trim_end().lines().last().unwrap_or("")
}

/// With a validation set the output names the epoch written, its validation
/// and test accuracy; `keep = "best"` writes the best validation epoch's
/// parameters (eval on the file gives that epoch's test accuracy),
/// `keep = "last"` the last and names the best for information.
#[test]
fn train_says_which_epoch_it_wrote() {
    let t = TempDir::new("train-keep");
    let cfg = t.0.join("k.toml");
    let model = t.0.join("m.json");
    let log = t.0.join("log.jsonl");
    let write = |keep: &str| {
        std::fs::write(
            &cfg,
            format!("name = 'k'\n[network]\ninputs = 64\nlayers = [24, 10]\n[train]\nepochs = 7\nmax_train = 400\nvalidation = 0.25\nkeep = '{keep}'\noptimizer = 'adam'\nlr = 0.005\nlr_bias = 0.005\nlr_schedule = 'constant'\nt1 = 30\nt2 = 10\n"),
        )
        .unwrap()
    };
    let args = [
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ];
    let logged = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let pct = |v: &serde_json::Value| format!("{:.2}%", 100.0 * v.as_f64().unwrap());

    write("best");
    let (_, err) = ok(&args);
    assert!(
        err.contains("(300 train + 100 validation held out of the training set / 360 test)"),
        "{err}"
    );
    assert!(err.contains("validation "), "{err}");
    let lines = logged();
    assert_eq!(lines.len(), 7);
    let val: Vec<f64> = lines
        .iter()
        .map(|l| l["val_acc"].as_f64().unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["val_loss"].as_f64().is_some()));
    // the first epoch of highest validation accuracy (no ties in this run)
    let top = val.iter().cloned().fold(f64::MIN, f64::max);
    let k = val.iter().position(|&v| v == top).unwrap();
    assert_eq!(val.iter().filter(|&&v| v == top).count(), 1, "{val:?}");
    assert_ne!(k, 6, "degenerate test: the best epoch is the last");
    let said = last_line(&err);
    assert!(
        said.starts_with(&format!(
            "model written to {}: epoch {} of 7 (best validation accuracy",
            model.display(),
            k + 1
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "validation {}, test {}",
            pct(&lines[k]["val_acc"]),
            pct(&lines[k]["test_acc"])
        )) && said.contains(&format!(
            "the last, epoch 7, had validation {}, test {}",
            pct(&lines[6]["val_acc"]),
            pct(&lines[6]["test_acc"])
        )),
        "{said}"
    );
    // the file holds that epoch: eval reproduces its test accuracy
    let (out, _) = ok(&["eval", "--model", model.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["test_acc"], lines[k]["test_acc"], "{v}");

    write("last");
    let (_, err) = ok(&args);
    let said = last_line(&err);
    assert!(
        said.starts_with(&format!(
            "model written to {}: epoch 7 of 7 (the last",
            model.display()
        )) && said.contains(&format!(
            "the best validation epoch was {} (validation {}",
            k + 1,
            pct(&lines[k]["val_acc"])
        )),
        "{said}"
    );
    // keep does not change the training: the same figures every epoch
    let figures = |ls: &[serde_json::Value]| -> Vec<Vec<serde_json::Value>> {
        ls.iter()
            .map(|l| {
                ["loss", "train_acc", "val_acc", "val_loss", "test_acc"]
                    .iter()
                    .map(|k| l[*k].clone())
                    .collect()
            })
            .collect()
    };
    assert_eq!(figures(&logged()), figures(&lines));
    let (out, _) = ok(&["eval", "--model", model.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["test_acc"], lines[6]["test_acc"], "{v}");

    // keep = "best" needs a validation set
    std::fs::write(
        &cfg,
        "name = 'k'\n[network]\ninputs = 64\nlayers = [8, 10]\n[train]\nkeep = 'best'\n",
    )
    .unwrap();
    let e = fails(&args);
    assert!(
        e.contains("train.keep = \"best\"") && e.contains("train.validation"),
        "{e}"
    );
}

/// `epochs = 0` writes the initial parameters and says that nothing was
/// trained.
#[test]
fn zero_epochs_say_nothing_was_trained() {
    let t = TempDir::new("train-zero");
    let cfg = t.0.join("z.toml");
    std::fs::write(
        &cfg,
        "name = 'z'\n[network]\ninputs = 64\nlayers = [8, 10]\n[train]\nepochs = 0\nseed = 3\n",
    )
    .unwrap();
    let model = t.0.join("m.json");
    let (_, err) = ok(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(
        last_line(&err),
        format!(
            "nothing was trained (train.epochs = 0): {} holds the initial parameters, drawn from train.seed = 3",
            model.display()
        ),
        "{err}"
    );
    let mf = phasegen_sim::onn::net::ModelFile::load(&model).unwrap();
    let c = phasegen_sim::config::Config::load(&cfg).unwrap();
    assert_eq!(mf.params, phasegen_sim::onn::net::Params::init(&c));
}
