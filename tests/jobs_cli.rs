//! The commands whose pieces run as jobs (`sw/src/jobs.rs`): `sweep`,
//! `train --sweep`, `r2nn tolerance` and `capacity`. As local jobs (a pool
//! of processes, results in a folder) each gives the same table with one
//! process at a time or two (and as the one-process run where there is
//! one); a task that cannot write its result is named with its log and the
//! resubmit command, and the same command again runs that task alone.
//! (The Slurm engine is the same code with `sbatch`/`squeue`: `make
//! test-slurm`.)

mod common;

use common::{fails, ok, TempDir, ROOT};
use std::process::Command;

#[test]
fn local_jobs_give_the_same_table_and_rerun_only_what_failed() {
    let dir = TempDir::new("jobs");
    let d = |f: &str| dir.0.join(f).display().to_string();
    ok(&["train", "--out", &d("model.json")]);
    let model = d("model.json");
    let args = [
        "sweep",
        "--model",
        &model,
        "--count",
        "90",
        "--weight-bits",
        "4..6",
        "--phase-bits",
        "7..8",
    ];
    let (one, _) = ok(&args);
    let res = d("res");
    let mut jobs = args.to_vec();
    jobs.extend(["--engine", "local", "-j", "2", "--results", &res]);
    let (table, err) = ok(&jobs);
    assert_eq!(table, one);
    // the config's format (8, 16) and 3 + 2 swept ones
    assert!(err.contains("6 of 6 tasks to run (Local)"), "{err}");
    // a task that cannot write its result
    let victim = dir.0.join("res/point-w5-p16-n90.json");
    std::fs::remove_file(&victim).unwrap();
    std::fs::create_dir(victim.with_extension("tmp")).unwrap();
    let e = fails(&jobs);
    assert!(
        e.contains("1 of 6 tasks wrote no result:\n  task 2, weight bits 5, phase bits 16 (log ")
            && e.contains("task-2.log")
            && e.contains("resubmit only these with the same command:\n  ")
            && e.contains("--engine local -j 2 --results"),
        "{e}"
    );
    std::fs::remove_dir(victim.with_extension("tmp")).unwrap();
    let (again, err) = ok(&jobs);
    assert!(err.contains("1 of 6 tasks to run (Local)"), "{err}");
    assert_eq!(again, one);
    // bad flags
    let p = d("p.json");
    let mut bad = args.to_vec();
    bad.extend(["--point", "8-12", "--point-out", &p]);
    assert!(fails(&bad).contains("--point \"8-12\": give WEIGHT_BITS:PHASE_BITS"));
}

/// The table without its `s/epoch` column: a wall-time measurement, the one
/// column that differs between two runs of the same points.
fn without_times(table: &str) -> String {
    let head: Vec<&str> = table.lines().next().unwrap().split('|').collect();
    let col = head
        .iter()
        .position(|c| c.trim() == "s/epoch")
        .expect("an s/epoch column");
    table
        .lines()
        .map(|l| {
            let mut c: Vec<&str> = l.split('|').collect();
            c.remove(col);
            c.join("|") + "\n"
        })
        .collect()
}

#[test]
fn a_training_sweep_gives_the_same_table_with_one_or_two_jobs() {
    let dir = TempDir::new("train-sweep");
    let d = |f: &str| dir.0.join(f).display().to_string();
    std::fs::write(
        d("tiny.toml"),
        "name = 'tiny'\n[network]\ninputs = 64\nlayers = [24, 10]\n[train]\nepochs = 3\nbatch = 16\noptimizer = 'adam'\nlr = 0.005\nlr_bias = 0.005\nlr_schedule = 'constant'\nmax_train = 400\n",
    )
    .unwrap();
    std::fs::write(
        d("grid.toml"),
        "[train]\nlr = [0.005, 0.02]\nseed = [1, 2]\n[network]\nlayers = [[16, 10]]\n",
    )
    .unwrap();
    let (cfg, grid) = (d("tiny.toml"), d("grid.toml"));
    let sweep = |j: &str, res: &str| {
        ok(&[
            "train",
            "--config",
            &cfg,
            "--sweep",
            &grid,
            "-j",
            j,
            "--results",
            res,
        ])
    };
    let (one, err) = sweep("1", &d("r1"));
    assert!(err.contains("4 of 4 tasks to run (Local)"), "{err}");
    let (two, _) = sweep("2", &d("r2"));
    assert_eq!(without_times(&one), without_times(&two));
    let rows: Vec<&str> = one.lines().collect();
    assert_eq!(rows.len(), 6, "{one}");
    assert!(
        rows[0].starts_with("| point | network.layers | train.lr | train.seed | epochs | best test (epoch) | final test | s/epoch | folder |"),
        "{one}"
    );
    assert!(
        rows[5].starts_with("| 3 | [16, 10] | 0.02 | 2 | 3 | "),
        "{one}"
    );
    // the points differ (another seed or rate is another run) and learned
    let finals: Vec<&str> = rows[2..]
        .iter()
        .map(|r| r.split(" | ").nth(6).unwrap())
        .collect();
    assert!(finals.iter().any(|f| *f != finals[0]), "{one}");
    // each point's folder holds its model: eval gives the table's final accuracy
    let folder = rows[5].split(" | ").nth(8).unwrap().trim_end_matches(" |");
    let model = dir.0.join("r1").join(folder).join("model.json");
    let (ev, _) = ok(&["eval", "--model", model.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(ev.trim()).unwrap();
    assert_eq!(
        format!("{:.2}%", 100.0 * v["test_acc"].as_f64().unwrap()),
        finals[3]
    );
    // a point that cannot write its log fails, named; the rerun runs it alone
    let point2 = dir
        .0
        .join("r2")
        .join(rows[4].split(" | ").nth(8).unwrap().trim_end_matches(" |"));
    std::fs::remove_file(point2.join("model.json")).unwrap();
    std::fs::remove_file(point2.join("train.jsonl")).unwrap();
    std::fs::create_dir(point2.join("train.jsonl")).unwrap();
    let out = common::phasegen(&[
        "train",
        "--config",
        &cfg,
        "--sweep",
        &grid,
        "-j",
        "2",
        "--results",
        &d("r2"),
    ]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("1 of 4 tasks wrote no result:\n  task 2, point 2 (network.layers = [16, 10], train.lr = 0.02, train.seed = 1) (log ")
            && e.contains("cannot create log")
            && e.contains("resubmit only these with the same command:"),
        "{e}"
    );
    std::fs::remove_dir(point2.join("train.jsonl")).unwrap();
    let (again, err) = sweep("2", &d("r2"));
    assert!(err.contains("1 of 4 tasks to run (Local)"), "{err}");
    assert_eq!(without_times(&again), without_times(&one));
    // bad grids are refused by key, before any job runs
    let bad = |text: &str| {
        std::fs::write(d("bad.toml"), text).unwrap();
        fails(&[
            "train",
            "--config",
            &cfg,
            "--sweep",
            &d("bad.toml"),
            "--results",
            &d("rb"),
        ])
    };
    let e = bad("[train]\nlrr = [0.01]\n");
    assert!(
        e.contains("key train.lrr = 0.01: the config refuses it")
            && e.contains("unknown field `lrr`"),
        "{e}"
    );
    let e = bad("[train]\nepochs = 3\n");
    assert!(
        e.contains("train.epochs = 3: give a list of values, e.g. train.epochs = [3]"),
        "{e}"
    );
    let e = bad("[network]\nlayers = [[16, 0]]\n");
    assert!(e.contains("key network.layers = [16, 0]"), "{e}");
    assert!(!dir.0.join("rb/logs").exists(), "a job ran for a bad grid");
    let e = fails(&["train", "--sweep", &grid, "--out", &d("m.json")]);
    assert!(e.contains("--out") && e.contains("--sweep"), "{e}");
    // run elsewhere, the config's relative data folder is missing: said once
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .current_dir(&dir.0)
        .args([
            "train",
            "--config",
            &cfg,
            "--sweep",
            &grid,
            "--results",
            &d("rc"),
        ])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains("data folder data/digits-8x8 does not exist"),
        "{e}"
    );
    assert!(!dir.0.join("rc").exists(), "a job ran without its data");
    let e = fails(&["train", "--out", &d("m.json"), "--engine", "local"]);
    assert!(
        e.contains("--engine and --results run the points of a training sweep"),
        "{e}"
    );
}

#[test]
fn r2nn_tolerance_gives_the_same_table_in_one_process_or_as_jobs() {
    let dir = TempDir::new("tol-jobs");
    let d = |f: &str| dir.0.join(f).display().to_string();
    ok(&[
        "r2nn",
        "train",
        "--task",
        "tactile",
        "--count",
        "100",
        "--len",
        "120",
        "--epochs",
        "2",
        "--batch",
        "16",
        "--out",
        &d("m.json"),
    ]);
    let model = d("m.json");
    let args = [
        "r2nn",
        "tolerance",
        "--model",
        &model,
        "--tol",
        "10,40",
        "--trials",
        "5",
    ];
    let (one, _) = ok(&args);
    // the draws spread the accuracy: a row that mixed up draws would differ
    assert!(
        one.contains("| ±40% |") && !one.contains("| ±40% | 100.00% | 100.00% |"),
        "{one}"
    );
    for (j, per, tasks) in [("1", "0", 2), ("2", "2", 6)] {
        let mut a = args.to_vec();
        let res = d(&format!("res{j}"));
        a.extend([
            "--engine",
            "local",
            "-j",
            j,
            "--draws-per-job",
            per,
            "--results",
            &res,
        ]);
        let (table, err) = ok(&a);
        assert_eq!(table, one, "-j {j} --draws-per-job {per}");
        assert!(
            err.contains(&format!("{tasks} of {tasks} tasks to run (Local)")),
            "{err}"
        );
        let (again, err) = ok(&a);
        assert_eq!(again, one);
        assert!(
            err.contains(&format!("all {tasks} tasks have results")),
            "{err}"
        );
    }
    let mut bad = args.to_vec();
    let p = d("p.json");
    bad.extend(["--piece", "2:0:1", "--piece-out", &p]);
    assert!(fails(&bad).contains("--piece 2:0:1: give a tolerance index below 2"));
}

/// A stand-in for `make` in capacity's trial builds
/// (`tests/fixtures/capacity-make.sh`): the first layer fits up to 90
/// oscillators.
const FAKE_MAKE: &str = "tests/fixtures/capacity-make.sh";

#[test]
fn capacity_rows_run_as_jobs_give_the_same_table() {
    let dir = TempDir::new("cap-jobs");
    let d = |f: &str| dir.0.join(f).display().to_string();
    let make = std::path::Path::new(ROOT).join(FAKE_MAKE);
    let cap = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
            .current_dir(ROOT)
            .env("MAKE", &make)
            .args(["capacity", "--sim-steps", "0", "--lo", "40", "--hi", "400"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let rows = [
        "--board",
        "icebreaker,hx8k-breakout",
        "--kind",
        "full,layered",
    ];
    let run = |j: &str, res: &str| {
        let mut a = rows.to_vec();
        a.extend(["-j", j, "--dir", res]);
        cap(&a)
    };
    let (ok1, one, err) = run("1", &d("c1"));
    assert!(ok1, "{err}");
    assert!(err.contains("4 of 4 tasks to run (Local)"), "{err}");
    let (ok2, two, err) = run("2", &d("c2"));
    assert!(ok2, "{err}");
    assert_eq!(one, two);
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), 6, "{one}");
    assert!(
        lines[0].starts_with("| board | largest that fits |"),
        "{one}"
    );
    // rows in board, then kind order; the stand-in fits up to 90 in the first layer
    assert!(
        lines[2].starts_with("| icebreaker | 95 fully connected | 101 fully connected (ERROR: Unable to place cell of 91) | "),
        "{one}"
    );
    assert!(lines[3].starts_with("| icebreaker | 784-90-10 | "), "{one}");
    assert!(
        lines[5].starts_with("| hx8k-breakout | 784-90-10 | "),
        "{one}"
    );
    assert!(lines[3].contains("Unable to place"), "{one}");
    // one board and kind in this process: the same row
    let (ok3, single, err) = cap(&[
        "--board",
        "hx8k-breakout",
        "--kind",
        "full",
        "--dir",
        &d("c3"),
    ]);
    assert!(ok3, "{err}");
    assert_eq!(single, format!("{}\n", lines[4]));
    // a row that cannot be written fails, named; the rerun runs it alone
    let row = dir.0.join("c2/icebreaker/layered.row");
    std::fs::remove_file(&row).unwrap();
    std::fs::create_dir(row.with_extension("tmp")).unwrap();
    let (ok4, _, err) = run("2", &d("c2"));
    assert!(!ok4);
    assert!(
        err.contains("1 of 4 tasks wrote no result:\n  task 1, icebreaker layered (log ")
            && err.contains("resubmit only these with the same command:"),
        "{err}"
    );
    std::fs::remove_dir(row.with_extension("tmp")).unwrap();
    let (ok5, again, err) = run("2", &d("c2"));
    assert!(ok5 && err.contains("1 of 4 tasks to run (Local)"), "{err}");
    assert_eq!(again, one);
}
