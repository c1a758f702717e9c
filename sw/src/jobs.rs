//! Independent jobs of a sweep, run on this machine or on a Slurm cluster.
//!
//! A job set is a results folder and a list of tasks; a task is one
//! `phasegen` command line that writes one result file. A task whose result
//! file exists is done, so running the same job set again runs only what
//! is missing or failed: with either engine, the same command resubmits
//! the failed tasks. The caller merges the result files in task order, so
//! a sweep gives the same table whichever engine ran it.
//!
//! - `local` (`-j N`): a pool of `N` processes on this machine.
//! - `slurm`: one job array (`sbatch --array`, one CPU per task, the
//!   tasks' logs in `<dir>/logs/`), polled with `squeue` until it leaves
//!   the queue; the tasks' result files come back through the shared
//!   results folder. `sbatch` and `squeue` are found on `PATH` and read
//!   `SLURM_CONF` as usual (`scripts/slurm-local.sh` starts a one-node
//!   cluster on this machine).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Local,
    Slurm,
}

/// One command line of `phasegen` (without the program) and the file it
/// writes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub argv: Vec<String>,
    pub out: PathBuf,
}

/// The tasks whose result file is missing.
pub fn missing(tasks: &[Task]) -> Vec<usize> {
    (0..tasks.len())
        .filter(|&i| !tasks[i].out.exists())
        .collect()
}

/// Runs the missing tasks of the job set in `dir` with `engine` (`jobs`,
/// at least 1, processes at once for `local`); errors naming every task that wrote no
/// result, its log and the command that resubmits it.
pub fn run(engine: Engine, jobs: usize, dir: &Path, name: &str, tasks: &[Task]) -> Result<()> {
    if engine == Engine::Local && jobs == 0 {
        bail!("{name}: 0 processes at once: give -j 1 or more");
    }
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.join("logs").display()))?;
    let todo = missing(tasks);
    if todo.is_empty() {
        eprintln!(
            "{name}: all {} tasks have results in {}",
            tasks.len(),
            dir.display()
        );
        return Ok(());
    }
    eprintln!(
        "{name}: {} of {} tasks to run ({engine:?}), results in {}",
        todo.len(),
        tasks.len(),
        dir.display()
    );
    match engine {
        Engine::Local => local(jobs, dir, &todo, tasks)?,
        Engine::Slurm => slurm(dir, name, &todo, tasks)?,
    }
    let failed = missing(tasks);
    if !failed.is_empty() {
        let list: Vec<String> = failed
            .iter()
            .map(|&i| format!("task {i} (log {})", log_of(dir, i).display()))
            .collect();
        bail!(
            "{name}: {} of {} tasks wrote no result: {}; run the same command again to run only these",
            failed.len(),
            tasks.len(),
            list.join(", ")
        );
    }
    Ok(())
}

fn log_of(dir: &Path, i: usize) -> PathBuf {
    dir.join("logs").join(format!("task-{i}.log"))
}

fn exe() -> Result<PathBuf> {
    std::env::current_exe().context("cannot find the phasegen binary that runs")
}

fn local(jobs: usize, dir: &Path, todo: &[usize], tasks: &[Task]) -> Result<()> {
    let exe = exe()?;
    let bar = crate::progress::bar("tasks", "done", todo.len() as u64);
    let mut running: Vec<std::process::Child> = vec![];
    let mut next = todo.iter();
    loop {
        while running.len() < jobs {
            let Some(&i) = next.next() else { break };
            let log = std::fs::File::create(log_of(dir, i))
                .with_context(|| format!("cannot write {}", log_of(dir, i).display()))?;
            let child = Command::new(&exe)
                .args(&tasks[i].argv)
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .with_context(|| format!("cannot run task {i}: {}", exe.display()))?;
            running.push(child);
        }
        if running.is_empty() {
            break;
        }
        let mut k = 0;
        while k < running.len() {
            if running[k].try_wait()?.is_some() {
                // reaped already: wait() returns its status at once
                running.swap_remove(k).wait()?;
                bar.inc(1);
            } else {
                k += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bar.finish_and_clear();
    Ok(())
}

fn slurm(dir: &Path, name: &str, todo: &[usize], tasks: &[Task]) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let list = dir.join("tasks.json");
    std::fs::write(&list, serde_json::to_string_pretty(tasks)?)
        .with_context(|| format!("cannot write {}", list.display()))?;
    let script = dir.join("job.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n# one task of {name}: phasegen runs line $SLURM_ARRAY_TASK_ID of tasks.json\nexec '{}' jobs task --list '{}' --index \"$SLURM_ARRAY_TASK_ID\"\n",
            exe()?.display(),
            list.display()
        ),
    )?;
    let array: Vec<String> = todo.iter().map(|i| i.to_string()).collect();
    let out = Command::new("sbatch")
        .args([
            "--parsable",
            "--cpus-per-task=1",
            &format!("--job-name=phasegen-{name}"),
            &format!("--array={}", array.join(",")),
            &format!("--output={}/logs/task-%a.log", dir.display()),
        ])
        .arg(&script)
        .output()
        .context("cannot run sbatch: is Slurm installed and SLURM_CONF set? (scripts/slurm-local.sh starts a one-node cluster)")?;
    if !out.status.success() {
        bail!(
            "sbatch refused the job array: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let id = String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    eprintln!("{name}: submitted job array {id} ({} tasks)", todo.len());
    let bar = crate::progress::bar("slurm tasks", "done", todo.len() as u64);
    let t0 = Instant::now();
    loop {
        let q = Command::new("squeue")
            .args(["-h", "-j", &id, "-o", "%i"])
            .output()
            .context("cannot run squeue")?;
        if !q.status.success() {
            bail!(
                "squeue -j {id} failed: {}",
                String::from_utf8_lossy(&q.stderr).trim()
            );
        }
        let left = String::from_utf8_lossy(&q.stdout).lines().count();
        bar.set_position(todo.len().saturating_sub(left) as u64);
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    bar.finish_and_clear();
    eprintln!(
        "{name}: job array {id} left the queue after {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `phasegen jobs task`: run line `index` of a task list (what a Slurm
/// array task does).
#[derive(clap::Args, Debug)]
pub struct TaskArgs {
    /// The task list (`tasks.json` in a results folder).
    #[arg(long)]
    list: PathBuf,
    /// The task's index in it.
    #[arg(long)]
    index: usize,
}

pub fn run_task(a: TaskArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.list)
        .with_context(|| format!("cannot read task list {}", a.list.display()))?;
    let tasks: Vec<Task> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a phasegen task list", a.list.display()))?;
    let t = tasks.get(a.index).with_context(|| {
        format!(
            "--index {}: {} holds {} tasks",
            a.index,
            a.list.display(),
            tasks.len()
        )
    })?;
    let status = Command::new(exe()?)
        .args(&t.argv)
        .status()
        .context("cannot run the task")?;
    if !status.success() {
        bail!("task {} failed ({status})", a.index);
    }
    Ok(())
}
