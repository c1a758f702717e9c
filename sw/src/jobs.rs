//! Independent jobs of a sweep, run on this machine or on a Slurm cluster;
//! shared by `phasegen sweep`, `capacity`, `r2nn tolerance` and
//! `train --sweep`.
//!
//! A job set is a results folder and a list of tasks; a task is one
//! `phasegen` command line that writes one result file. A task whose result
//! file exists is done, so running the same job set again runs only what
//! is missing or failed: with either engine, the same command resubmits
//! the failed tasks. [`run_merge`] reads the result files back in task
//! order, so a command gives the same table whichever engine ran it.
//! Every command's flags for this are [`JobArgs`] (clap-flattened).
//!
//! - `local` (`-j N`): a pool of `N` processes on this machine.
//! - `slurm`: one job array (`sbatch --array`, per-task resources from
//!   `--slurm-cpus/--slurm-mem/--slurm-time/--sbatch`, the tasks' logs in
//!   `<dir>/logs/`), polled with `squeue` until it leaves the queue; the
//!   tasks' result files come back through the shared results folder, and
//!   `sacct` (when the cluster keeps accounting) adds each failed task's
//!   state. The array's id stays in the results folder: a run that was
//!   interrupted and is started again waits for that array while it is in
//!   the queue instead of submitting its tasks twice. `sbatch`, `squeue`
//!   and `sacct` are found on `PATH` and read
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

/// How a command's independent pieces run: the flags every command with
/// pieces shares (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone)]
pub struct JobArgs {
    /// Run the independent pieces as jobs: `local` (a pool of -j processes
    /// on this machine) or `slurm` (a job array, docs/cluster.md); each
    /// writes its result file into --results and they merge into the same
    /// table whichever engine ran them (default: none, every piece in this
    /// process; `train --sweep`: local).
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    /// Processes at once with --engine local.
    #[arg(short = 'j', long, default_value_t = 2)]
    pub jobs: usize,
    /// The jobs' results folder, on a file system the nodes share with
    /// --engine slurm; a piece whose result is there is not run again
    /// (default: the command's, e.g. `sweep-jobs` beside the model).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// CPUs of each Slurm array task (`sbatch --cpus-per-task`; also the
    /// task's RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 1)]
    pub slurm_cpus: u32,
    /// Memory of each Slurm array task, e.g. 2G (`sbatch --mem`; default:
    /// the partition's).
    #[arg(long)]
    pub slurm_mem: Option<String>,
    /// Time limit of each Slurm array task, e.g. 1:00:00 (`sbatch --time`;
    /// default: the partition's).
    #[arg(long)]
    pub slurm_time: Option<String>,
    /// Further sbatch options, space-separated, e.g. "--partition=short
    /// --account=me" (default: none; `SBATCH_*` variables work too).
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub sbatch: String,
}

impl Default for JobArgs {
    fn default() -> JobArgs {
        JobArgs {
            engine: None,
            jobs: 2,
            results: None,
            slurm_cpus: 1,
            slurm_mem: None,
            slurm_time: None,
            sbatch: String::new(),
        }
    }
}

impl JobArgs {
    /// Refuses `-j 0` and `--slurm-cpus 0` by name.
    pub fn check(&self) -> Result<()> {
        if self.jobs == 0 {
            bail!("-j 0: give the number of processes at once, at least 1");
        }
        if self.slurm_cpus == 0 {
            bail!("--slurm-cpus 0: give the CPUs of each Slurm task, at least 1");
        }
        Ok(())
    }

    /// The results folder (--results, else `default`), created, as an
    /// absolute path (the tasks may run elsewhere).
    pub fn folder(&self, default: PathBuf) -> Result<PathBuf> {
        let dir = self.results.clone().unwrap_or(default);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the results folder {}", dir.display()))?;
        dir.canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))
    }
}

/// One command line of `phasegen` (without the program), the file it
/// writes and what it computes (for messages).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub argv: Vec<String>,
    pub out: PathBuf,
    #[serde(default)]
    pub what: String,
}

/// The tasks whose result file is missing.
pub fn missing(tasks: &[Task]) -> Vec<usize> {
    (0..tasks.len())
        .filter(|&i| !tasks[i].out.exists())
        .collect()
}

/// Runs the missing tasks of the job set in `dir` with `engine`, then
/// reads every task's result with `read`, in task order: the one way a
/// command's pieces become its table. Errors naming every task that wrote
/// no result, its log and the command that resubmits it.
pub fn run_merge<R>(
    a: &JobArgs,
    engine: Engine,
    dir: &Path,
    name: &str,
    tasks: &[Task],
    read: impl Fn(&Task) -> Result<R>,
) -> Result<Vec<R>> {
    run(a, engine, dir, name, tasks)?;
    tasks
        .iter()
        .map(|t| read(t).with_context(|| format!("{name}: the result of {}", t.what)))
        .collect()
}

/// Runs the missing tasks of the job set in `dir` with `engine` (`a.jobs`
/// processes at once for `local`); errors naming every task that wrote no
/// result, its log and the command that resubmits it.
pub fn run(a: &JobArgs, engine: Engine, dir: &Path, name: &str, tasks: &[Task]) -> Result<()> {
    a.check()?;
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.join("logs").display()))?;
    if engine == Engine::Slurm {
        wait_earlier(dir, name)?;
    }
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
    let states = match engine {
        Engine::Local => {
            local(a.jobs, dir, &todo, tasks)?;
            vec![]
        }
        Engine::Slurm => slurm(a, dir, name, &todo, tasks)?,
    };
    let failed = missing(tasks);
    if !failed.is_empty() {
        let list: Vec<String> = failed
            .iter()
            .map(|&i| {
                let log = log_of(dir, i);
                let state = states
                    .iter()
                    .find(|(k, _)| *k == i)
                    .map(|(_, s)| format!(", Slurm state {s}"))
                    .unwrap_or_default();
                let last = last_line(&log)
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default();
                format!(
                    "\n  task {i}, {} (log {}{state}){last}",
                    tasks[i].what,
                    log.display()
                )
            })
            .collect();
        bail!(
            "{name}: {} of {} tasks wrote no result:{}\nresubmit only these with the same command:\n  {}",
            failed.len(),
            tasks.len(),
            list.concat(),
            this_command()
        );
    }
    Ok(())
}

/// The command line that runs this process, quoted for a POSIX shell.
pub fn this_command() -> String {
    std::env::args()
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `s` as one POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The last non-empty line of a log (the task's error), if any.
fn last_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let l = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(l.trim().chars().take(200).collect())
}

/// Writes `v` as JSON to `path` through a temporary file, so a result file
/// that exists is complete.
pub fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string(v)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a JSON result file written by [`write_json`].
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a result of this command", path.display()))
}

/// The first 8 bytes of SHA-256 of `parts`, as 16 hex digits: result
/// files are named by what they compute.
pub fn key(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `p` as an absolute path string (the tasks may run elsewhere).
pub fn abs(p: &Path) -> Result<String> {
    Ok(p.canonicalize()
        .with_context(|| format!("cannot resolve {}", p.display()))?
        .display()
        .to_string())
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

/// The sbatch options of one array over `todo` (per-task resources, logs).
fn sbatch_args(a: &JobArgs, dir: &Path, name: &str, todo: &[usize]) -> Result<Vec<String>> {
    let array: Vec<String> = todo.iter().map(|i| i.to_string()).collect();
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let mut v = vec![
        "--parsable".to_string(),
        format!("--cpus-per-task={}", a.slurm_cpus),
        format!("--job-name=phasegen-{}", name.replace(' ', "-")),
        format!("--array={}", array.join(",")),
        format!("--output={}/logs/task-%a.log", dir.display()),
        // relative paths of the command (configs, data) resolve as here
        format!("--chdir={}", cwd.display()),
    ];
    if let Some(m) = &a.slurm_mem {
        v.push(format!("--mem={m}"));
    }
    if let Some(t) = &a.slurm_time {
        v.push(format!("--time={t}"));
    }
    v.extend(a.sbatch.split_whitespace().map(str::to_string));
    Ok(v)
}

/// Submits the array, waits until it leaves the queue; returns the
/// `sacct` state of each task that ended other than COMPLETED (empty when
/// the cluster keeps no accounting).
fn slurm(
    a: &JobArgs,
    dir: &Path,
    name: &str,
    todo: &[usize],
    tasks: &[Task],
) -> Result<Vec<(usize, String)>> {
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
            "#!/bin/sh\n# one task of {name}: phasegen runs entry $SLURM_ARRAY_TASK_ID of tasks.json\nexport RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\nexec {} jobs task --list {} --index \"$SLURM_ARRAY_TASK_ID\"\n",
            shell_quote(&exe()?.display().to_string()),
            shell_quote(&list.display().to_string())
        ),
    )?;
    let args = sbatch_args(a, &dir, name, todo)?;
    let out = Command::new("sbatch")
        .args(&args)
        .arg(&script)
        .output()
        .context("cannot run sbatch: is Slurm installed and SLURM_CONF set? (scripts/slurm-local.sh starts a one-node cluster)")?;
    if !out.status.success() {
        bail!(
            "sbatch {} {} refused the job array ({}): {}",
            args.join(" "),
            script.display(),
            out.status,
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
    std::fs::write(dir.join(ARRAY_ID), &id)
        .with_context(|| format!("cannot write {}", dir.join(ARRAY_ID).display()))?;
    wait(&id, todo.len(), name)?;
    Ok(sacct_states(&id))
}

/// The file in a results folder holding the id of the last job array
/// submitted for it.
const ARRAY_ID: &str = "slurm-array-id";

/// Waits for the job array that an earlier, interrupted run submitted for
/// `dir` if it is still in the queue, so that running the same command
/// again does not submit its tasks twice.
fn wait_earlier(dir: &Path, name: &str) -> Result<()> {
    let Ok(id) = std::fs::read_to_string(dir.join(ARRAY_ID)) else {
        return Ok(());
    };
    let id = id.trim();
    let left = queued(id)?;
    if left > 0 {
        eprintln!(
            "{name}: job array {id} of an earlier run of {} is still in the queue ({left} tasks): waiting for it before submitting what is missing",
            dir.display()
        );
        wait(id, left, name)?;
    }
    Ok(())
}

/// Tasks of job `id` in the queue (0 once Slurm has forgotten the job).
fn queued(id: &str) -> Result<usize> {
    let q = Command::new("squeue")
        .args(["-h", "-r", "-j", id, "-o", "%i"])
        .output()
        .context("cannot run squeue: is Slurm installed and SLURM_CONF set?")?;
    let err = String::from_utf8_lossy(&q.stderr);
    if !q.status.success() {
        if err.contains("Invalid job id") {
            return Ok(0);
        }
        bail!("squeue -h -r -j {id} failed ({}): {}", q.status, err.trim());
    }
    Ok(String::from_utf8_lossy(&q.stdout).lines().count())
}

/// Polls `squeue` until job `id` (`n` tasks) leaves the queue.
fn wait(id: &str, n: usize, name: &str) -> Result<()> {
    let bar = crate::progress::bar("slurm tasks", "done", n as u64);
    let t0 = Instant::now();
    loop {
        let left = queued(id)?;
        bar.set_position(n.saturating_sub(left) as u64);
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

/// `(task, state)` of every array task that did not complete, from
/// `sacct`; empty when `sacct` is missing or the cluster keeps no
/// accounting (the missing result files still name the failures).
fn sacct_states(id: &str) -> Vec<(usize, String)> {
    let Ok(out) = Command::new("sacct")
        .args(["-n", "-P", "-X", "-j", id, "-o", "JobID,State,ExitCode"])
        .output()
    else {
        return vec![];
    };
    if !out.status.success() {
        return vec![];
    }
    parse_sacct(&String::from_utf8_lossy(&out.stdout))
}

/// Lines `<job>_<task>|<state>|<exit>` of `sacct -P`, but COMPLETED ones.
fn parse_sacct(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('|');
            let job = f.next()?;
            let state = f.next()?.trim();
            let exit = f.next().unwrap_or("").trim();
            let task = job.split_once('_')?.1.parse().ok()?;
            (state != "COMPLETED").then(|| (task, format!("{state}, exit {exit}")))
        })
        .collect()
}

/// `phasegen jobs task`: run entry `index` of a task list (what a Slurm
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
        // the task's own error is the log's last line, where the failure
        // list quotes it from
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sacct_lines_give_the_failed_tasks() {
        let s = "12_0|COMPLETED|0:0\n12_3|FAILED|1:0\n12_4|TIMEOUT|0:15\n12|PENDING|0:0\n";
        assert_eq!(
            parse_sacct(s),
            [
                (3, "FAILED, exit 1:0".into()),
                (4, "TIMEOUT, exit 0:15".into())
            ]
        );
    }

    #[test]
    fn sbatch_gets_the_per_task_resources() {
        let a = JobArgs {
            slurm_cpus: 4,
            slurm_mem: Some("2G".into()),
            slurm_time: Some("0:30:00".into()),
            sbatch: "--partition=short  --account=me".into(),
            ..JobArgs::default()
        };
        let v = sbatch_args(&a, Path::new("/r"), "train", &[0, 2, 5]).unwrap();
        for want in [
            "--cpus-per-task=4",
            "--array=0,2,5",
            "--output=/r/logs/task-%a.log",
            "--mem=2G",
            "--time=0:30:00",
            "--partition=short",
            "--account=me",
        ] {
            assert!(v.iter().any(|x| x == want), "{want} not in {v:?}");
        }
    }

    #[test]
    fn quoting_keeps_words_whole() {
        assert_eq!(shell_quote("train.lr"), "train.lr");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn keys_name_what_is_computed() {
        assert_eq!(key(&[b"ab", b"c"]), key(&[b"ab", b"c"]));
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(key(&[b"x"]).len(), 16);
    }
}
