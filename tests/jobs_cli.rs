//! `phasegen sweep --engine local`: the format sweep as jobs (a pool of
//! processes, results in a folder) gives the one-process table byte for
//! byte; a task that cannot write its result is named with its log and the
//! run fails; the same command again runs that task alone. (The Slurm
//! engine is the same code with `sbatch`/`squeue`: `make test-slurm`.)

mod common;

use common::{fails, ok, TempDir};

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
        e.contains("1 of 6 tasks wrote no result: task 2 (log ") && e.contains("task-2.log"),
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
