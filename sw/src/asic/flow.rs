//! The qflow project of one design and the stages that run in it.
//!
//! [`prepare`] lays out a qflow project folder: `source/` (the generated
//! Verilog and its ROM hex files, with a file list `<top>.fl`), `synthesis/`
//! (the clock constraint `<top>.sdc`), `layout/` (graywolf's parameters
//! `<top>.par`: the technology's, plus `TWSC*fast` when placement is to
//! trade quality for time) and `log/`. [`run`] then runs qflow's stages
//! one by one (`qflow <stage> -T <tech> <top>`, each in its own process so
//! that each is timed) and, after routing, one OpenSTA run of our own on
//! the routed netlist with the wire delays qflow extracted: setup and hold
//! at the clock target with the clock network's real delays, and a power
//! estimate (docs/asic.md says what the figures are).
//!
//! Stage times are measured as wall time and as the CPU time of the stage's
//! processes (the machine may be shared), and written to `stages.json`.

use super::tech::Tech;
use crate::cosim::write_if_changed;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// qflow's stages in the order they run: synthesis (Yosys, ABC, buffering),
/// placement (graywolf), static timing before routing (vesta), routing
/// (qrouter), timing with the routed wires' delays (vesta), the layout
/// database (magic), DRC (magic) and LVS (netgen).
pub const STAGES: [&str; 8] = [
    "synthesize",
    "place",
    "sta",
    "route",
    "backanno",
    "migrate",
    "drc",
    "lvs",
];

/// After qflow's stages: the GDS, written by magic. qflow's own `gdsii`
/// stage reads the cells' layouts from the technology's GDS file, which
/// Debian leaves out of its packages (it is not free software); this stage
/// writes the routing with the cells' LEF abstracts instead, or with the
/// cells' layouts from [`Settings::cell_gds`] when given.
pub const GDS: &str = "gds";

/// The last step: OpenSTA on the routed netlist.
pub const OPENSTA: &str = "opensta";

/// Every step of the flow, in order.
pub const ALL: [&str; 10] = [
    "synthesize",
    "place",
    "sta",
    "route",
    "backanno",
    "migrate",
    "drc",
    "lvs",
    GDS,
    OPENSTA,
];

/// How the flow runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `qflow` driver.
    pub qflow: PathBuf,
    /// OpenSTA (`sta`).
    pub sta: PathBuf,
    /// magic, for the GDS.
    pub magic: PathBuf,
    /// The standard cells' layouts (GDS) to write into the GDS; `None`:
    /// the cells' LEF abstracts (outline, pins, obstructions).
    pub cell_gds: Option<PathBuf>,
    pub tech: Tech,
    /// The top module: `pg_core` or `pg_top`.
    pub top: String,
    /// The clock target, MHz: the constraint STA checks and power is
    /// estimated at.
    pub clock_mhz: f64,
    /// graywolf's attempts per cell are divided by this (its `TWSC*fast`
    /// parameter); 1 keeps graywolf's own schedule.
    pub place_fast: u32,
    /// graywolf's random seed (`*random.seed` in its parameters); `None`:
    /// the technology's. Another seed is another placement, and so another
    /// routing: the way out when a layout hits a router defect (docs/asic.md).
    pub seed: Option<u32>,
    /// Run qrouter's cleanup stage (stage 3: every net ripped up and
    /// rerouted twice, for shorter wires). Off by default: measured, it
    /// took two thirds of the routing time, and its reroutes are where
    /// Debian's qrouter 1.4.71 left an open net or a metal patch below the
    /// minimum area (docs/asic.md).
    pub route_cleanup: bool,
    /// The share of the rows the cells fill (qflow's `initial_density`: fill
    /// cells spread them out before placement); lower leaves the router more
    /// room. `None`: as dense as graywolf packs them.
    pub density: Option<f64>,
    /// Toggle probability per clock cycle of every net, for the power
    /// estimate (OpenSTA's `set_power_activity -global`).
    pub activity: f64,
    /// Stop a stage that runs longer than this many seconds (its processes
    /// killed; the error is a [`StageTimeout`]); `None`: no limit.
    pub limit_s: Option<f64>,
}

/// A stage stopped at [`Settings::limit_s`].
#[derive(Debug, Clone, PartialEq)]
pub struct StageTimeout {
    pub stage: String,
    pub limit_s: f64,
}

impl std::fmt::Display for StageTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} stopped after the limit of {:.0} s",
            self.stage, self.limit_s
        )
    }
}

impl std::error::Error for StageTimeout {}

/// One stage that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRun {
    pub stage: String,
    /// Seconds from start to end.
    pub wall_s: f64,
    /// User and system CPU seconds of the stage's processes.
    pub cpu_s: f64,
}

/// `stages.json`: what ran, how long it took, with which settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stages {
    pub tech: String,
    pub top: String,
    pub clock_mhz: f64,
    pub place_fast: u32,
    pub seed: Option<u32>,
    pub density: Option<f64>,
    pub route_cleanup: bool,
    pub activity: f64,
    pub stages: Vec<StageRun>,
}

impl Settings {
    /// Settings for `pg_core` on `tech` with the tools on the `PATH`, a
    /// 50 MHz target, activity 0.1, graywolf's own schedule and seed, no
    /// density and no limit: what a synthesis alone and its timing before
    /// placement need (change fields with `Settings { .., ..new(tech) }`).
    pub fn new(tech: Tech) -> Settings {
        Settings {
            qflow: "qflow".into(),
            sta: "sta".into(),
            magic: "magic".into(),
            cell_gds: None,
            tech,
            top: "pg_core".into(),
            clock_mhz: 50.0,
            place_fast: 1,
            seed: None,
            route_cleanup: false,
            density: None,
            activity: 0.1,
            limit_s: None,
        }
    }

    /// Checks the values a user gives, naming the bad one.
    pub fn check(&self) -> Result<()> {
        if !(self.clock_mhz.is_finite() && self.clock_mhz > 0.0) {
            bail!(
                "clock target {} MHz: give a positive frequency, e.g. 50",
                self.clock_mhz
            );
        }
        if self.place_fast == 0 {
            bail!("placement speed-up 0: give 1 (graywolf's own schedule) or more (fewer attempts per cell, faster, a longer wire length)");
        }
        if let Some(d) = self.density.filter(|d| !(*d > 0.0 && *d <= 1.0)) {
            bail!("density {d}: give the share of the rows the cells fill, above 0 and at most 1 (e.g. 0.6)");
        }
        if !(self.activity > 0.0 && self.activity <= 1.0) {
            bail!(
                "activity {}: give the toggle probability per clock cycle, above 0 and at most 1 (e.g. 0.1)",
                self.activity
            );
        }
        if !matches!(self.top.as_str(), "pg_core" | "pg_top") {
            bail!(
                "top module {:?}: the flow builds pg_core or pg_top",
                self.top
            );
        }
        Ok(())
    }

    /// The clock period in ns.
    pub fn period_ns(&self) -> f64 {
        1000.0 / self.clock_mhz
    }
}

/// The clock constraint for STA: `i_clk` at the target. Inputs and outputs
/// are left unconstrained, so the paths checked are register to register:
/// what the ports connect to (pg_top's registers, or for pg_top the UART
/// line, asynchronous and synchronized inside) is not part of this layout.
pub fn sdc(s: &Settings) -> String {
    format!(
        "create_clock -name clk -period {:.4} [get_ports i_clk]\n",
        s.period_ns()
    )
}

/// The OpenSTA script run after routing (in `synthesis/`): the routed
/// netlist, qflow's extracted wire delays (`<top>.sdf`), the clock
/// propagated through its buffer tree, the worst setup and hold paths, and
/// the power at `activity`.
pub fn opensta_script(s: &Settings) -> String {
    sta_script(s, true)
}

/// [`opensta_script`] for the synthesized netlist before placement: no
/// wire delays (the OSU liberties carry no wire-load model, so wires count
/// as their pins' capacitance only) and an ideal clock. Its Fmax is an
/// upper bound of the routed one (docs/asic.md has both for one design).
pub fn prelayout_sta_script(s: &Settings) -> String {
    sta_script(s, false)
}

fn sta_script(s: &Settings, routed: bool) -> String {
    let top = &s.top;
    let wires = if routed {
        format!("read_sdf {top}.sdf\n")
    } else {
        String::new()
    };
    let clock = if routed {
        "set_propagated_clock [all_clocks]\n"
    } else {
        ""
    };
    format!(
        "read_liberty {lib}\n\
         read_verilog {top}.rtlnopwr.v\n\
         link_design {top}\n\
         {wires}\
         read_sdc {top}.sdc\n\
         {clock}\
         puts \"PHASEGEN setup\"\n\
         report_checks -path_delay max -digits 3\n\
         puts \"PHASEGEN hold\"\n\
         report_checks -path_delay min -digits 3\n\
         puts \"PHASEGEN power activity {act}\"\n\
         set_power_activity -global -activity {act}\n\
         report_power -digits 4\n\
         puts \"PHASEGEN end\"\n\
         exit\n",
        lib = s.tech.liberty.display(),
        act = s.activity,
    )
}

/// Lay out the qflow project `dir` for the Verilog in `gen` (every `*.v`
/// and `*.hex` there). An existing project's sources and settings are
/// replaced; its results are left for qflow to overwrite.
pub fn prepare(dir: &Path, gen: &Path, s: &Settings) -> Result<()> {
    s.check()?;
    for sub in ["source", "synthesis", "layout", "log"] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let src = dir.join("source");
    // stale sources of another design would be read by the file list
    for e in std::fs::read_dir(&src).with_context(|| format!("cannot read {}", src.display()))? {
        let p = e?.path();
        if p.is_file() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    let mut verilog = Vec::new();
    let entries = std::fs::read_dir(gen).with_context(|| {
        format!(
            "cannot read the generated Verilog in {} (run `phasegen gen --target asic` first)",
            gen.display()
        )
    })?;
    for e in entries {
        let p = e?.path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !(p.is_file() && (ext == "v" || ext == "hex")) {
            continue;
        }
        let name = p.file_name().map(PathBuf::from).unwrap_or_default();
        std::fs::copy(&p, src.join(&name))
            .with_context(|| format!("cannot copy {} into {}", p.display(), src.display()))?;
        if ext == "v" && name != Path::new("pg_pll.v") {
            verilog.push(name.to_string_lossy().into_owned());
        }
    }
    verilog.sort();
    let top_file = format!("{}.v", s.top);
    if !verilog.contains(&top_file) {
        bail!(
            "{} has no {top_file} (files: {}); generate it with `phasegen gen --target asic`",
            gen.display(),
            verilog.join(", ")
        );
    }
    let text = std::fs::read_to_string(src.join(&top_file))?;
    if text
        .lines()
        .any(|l| l.contains("ram_style") || l.trim_start().starts_with("reg ") && l.contains(" = "))
    {
        bail!(
            "{} is Verilog for an FPGA (power-on values, RAM-kind attributes); generate it with `phasegen gen --target asic`",
            gen.join(&top_file).display()
        );
    }
    // pg_core alone, or pg_top with the modules it instantiates
    let list: Vec<&String> = if s.top == "pg_core" {
        vec![&verilog[verilog.iter().position(|v| *v == top_file).unwrap_or(0)]]
    } else {
        verilog.iter().collect()
    };
    let fl: String = list.iter().map(|v| format!("{v}\n")).collect();
    write_if_changed(&src.join(format!("{}.fl", s.top)), &fl)?;
    write_if_changed(
        &dir.join("synthesis").join(format!("{}.sdc", s.top)),
        &sdc(s),
    )?;
    let par_src = s.tech.dir.join(format!("{}.par", s.tech.name));
    let mut par = std::fs::read_to_string(&par_src)
        .with_context(|| format!("cannot read graywolf's parameters {}", par_src.display()))?;
    if let Some(seed) = s.seed {
        let lines: Vec<String> = par
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("*random.seed") {
                    format!("*random.seed\t      : {seed}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        if !lines.iter().any(|l| l.starts_with("*random.seed")) {
            bail!(
                "{} has no `*random.seed` line to set the seed {seed} in",
                par_src.display()
            );
        }
        par = lines.join("\n") + "\n";
    }
    if s.place_fast > 1 {
        par.push_str(&format!(
            "\n# phasegen: a faster anneal (attempts per cell / {})\nTWSC*fast : {}\n",
            s.place_fast, s.place_fast
        ));
    }
    // (qflow copies the technology's file only when this one is older)
    std::fs::write(dir.join("layout").join(format!("{}.par", s.top)), par)?;
    // qflow writes its commented template only when there is none
    let mut vars = project_vars(s);
    if let Some(d) = s.density {
        vars.push_str(&format!("set initial_density = {d}\n"));
    }
    std::fs::write(dir.join("project_vars.sh"), vars)?;
    Ok(())
}

/// The start of `project_vars.sh`, the options every phasegen project
/// sets: ABC maps with Yosys's own script for a liberty (`abc -liberty`,
/// chosen by an empty `abc_script`) instead of qflow's default
/// (`strash;scorr;ifraig;retime;strash;dch,-f;map,-M,1`). With qflow's
/// default, the gate-level netlist of `configs/asic/digits-small.toml`
/// simulated a different phase from free step 1 on than the RTL and the
/// twin (found by `phasegen asic verify`); with Yosys's script it matches
/// bit for bit. docs/asic.md.
pub fn project_vars(_s: &Settings) -> String {
    String::from(
        "#!/usr/bin/tcsh -f\n# written by phasegen (sw/src/asic/flow.rs): qflow's options for this project\n\
         # ABC with Yosys's own script for a liberty (docs/asic.md)\nset abc_script = \"\"\n",
    )
}

/// CPU seconds (user + system) of the waited-for children of this process
/// so far.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// The last `n` lines of a file, or a note that it cannot be read.
pub fn tail(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) => {
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// qflow's log of a stage (`log/<name>.log`).
pub fn stage_log(dir: &Path, stage: &str) -> PathBuf {
    let name = match stage {
        "synthesize" => "synth",
        "backanno" => "post_sta",
        "gdsii" => "gdsii",
        s => s,
    };
    dir.join("log").join(format!("{name}.log"))
}

fn timed(
    stage: &str,
    mut cmd: Command,
    out: &Path,
    log: &Path,
    limit_s: Option<f64>,
) -> Result<StageRun> {
    use std::os::unix::process::CommandExt;
    let f =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let cpu0 = children_cpu_s();
    let t0 = Instant::now();
    // its own process group, so that a stage stopped at the limit takes
    // the tools it started with it
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(f.try_clone()?)
        .stderr(f)
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot run {cmd:?}; is qflow installed? (`make setup`)"))?;
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        if let Some(limit) = limit_s.filter(|l| t0.elapsed().as_secs_f64() > *l) {
            // SAFETY: a signal to the process group this function started
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(StageTimeout {
                stage: stage.into(),
                limit_s: limit,
            }
            .into());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let run = StageRun {
        stage: stage.into(),
        wall_s: t0.elapsed().as_secs_f64(),
        cpu_s: children_cpu_s() - cpu0,
    };
    if !status.success() {
        bail!(
            "{stage} failed ({status}): {cmd:?}\n--- end of {} ---\n{}\n--- end of {} ---\n{}\n(logs: {}, {})",
            out.display(),
            tail(out, 15),
            log.display(),
            tail(log, 15),
            out.display(),
            log.display()
        );
    }
    Ok(run)
}

/// qrouter's script (written by qflow's place stage) with its cleanup
/// stage bypassed, or kept: `qrouter::standard_route FILE false [true]`.
pub fn route_script(cfg: &str, cleanup: bool) -> Result<String> {
    let mut found = false;
    let out: Vec<String> = cfg
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.first() == Some(&"qrouter::standard_route") && w.len() >= 3 {
                found = true;
                let mut v = w[..3].to_vec();
                if !cleanup {
                    v.push("true");
                }
                v.join(" ")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        bail!("qrouter's script has no `qrouter::standard_route FILE false` line (another qflow version?)");
    }
    Ok(out.join("\n") + "\n")
}

/// Run one qflow stage in project `dir`; its console output goes to
/// `log/<stage>.out` beside qflow's own log.
pub fn run_stage(dir: &Path, stage: &str, s: &Settings) -> Result<StageRun> {
    if stage == "route" {
        let cfg = dir.join("layout").join(format!("{}.cfg", s.top));
        let text = std::fs::read_to_string(&cfg).with_context(|| {
            format!(
                "cannot read qrouter's script {} (made by the place stage)",
                cfg.display()
            )
        })?;
        std::fs::write(&cfg, route_script(&text, s.route_cleanup)?)?;
    }
    let mut cmd = Command::new(&s.qflow);
    cmd.current_dir(dir)
        .arg(stage)
        .arg("-T")
        .arg(&s.tech.name)
        .arg(&s.top);
    if let Some(parent) = s.tech.dir.parent() {
        // the technology found by Tech::find, also for qflow
        cmd.env("QFLOW_TECH_DIR", parent);
    }
    let out = dir.join("log").join(format!("{stage}.out"));
    timed(stage, cmd, &out, &stage_log(dir, stage), s.limit_s)
}

/// Run OpenSTA with [`opensta_script`] after routing: `log/opensta.log`.
pub fn run_opensta(dir: &Path, s: &Settings) -> Result<StageRun> {
    sta_run(dir, s, true)
}

/// Run OpenSTA with [`prelayout_sta_script`] on the synthesized netlist:
/// `log/opensta-prelayout.log`.
pub fn run_prelayout_sta(dir: &Path, s: &Settings) -> Result<StageRun> {
    sta_run(dir, s, false)
}

fn sta_run(dir: &Path, s: &Settings, routed: bool) -> Result<StageRun> {
    let syn = dir.join("synthesis");
    let mut needed = vec![format!("{}.rtlnopwr.v", s.top)];
    if routed {
        needed.push(format!("{}.sdf", s.top));
    }
    for f in needed {
        if !syn.join(&f).is_file() {
            bail!(
                "no {} (made by qflow's synthesize{} stage); run the flow first",
                syn.join(&f).display(),
                if routed { " and backanno" } else { "" }
            );
        }
    }
    let (name, text) = if routed {
        ("opensta", opensta_script(s))
    } else {
        ("opensta-prelayout", prelayout_sta_script(s))
    };
    // the clock constraint (written by `prepare`) at this run's target
    write_if_changed(&syn.join(format!("{}.sdc", s.top)), &sdc(s))?;
    let script = syn.join(format!("{}.{name}.tcl", s.top));
    std::fs::write(&script, text)?;
    let mut cmd = Command::new(&s.sta);
    // (relative to the folder it runs in)
    cmd.current_dir(&syn)
        .arg("-no_splash")
        .arg(script.file_name().unwrap_or_default());
    let log = dir.join("log").join(format!("{name}.log"));
    let run = timed(name, cmd, &log, &log, s.limit_s)?;
    let text = std::fs::read_to_string(&log)?;
    if !text.contains("PHASEGEN end") {
        bail!(
            "OpenSTA stopped before the end of {} (its log: {}):\n{}",
            script.display(),
            log.display(),
            tail(&log, 15)
        );
    }
    Ok(run)
}

/// The magic script of the [`GDS`] stage (run in `layout/`, where qflow's
/// `migrate` stage left `<top>.mag` and the technology's `.magicrc`).
pub fn gds_script(s: &Settings) -> String {
    let cells = match &s.cell_gds {
        Some(g) => format!(
            "gds readonly true\ngds rescale false\ngds read {}\n",
            g.display()
        ),
        None => format!("lef read {}\n", s.tech.lef.display()),
    };
    format!(
        "drc off\n{cells}load {top}\nselect top cell\nexpand\ngds write {top}.gds\nputs \"PHASEGEN gds written\"\nquit -noprompt\n",
        top = s.top
    )
}

/// Write `layout/<top>.gds` with magic, and `<top>.gds.txt` saying what it
/// holds.
pub fn run_gds(dir: &Path, s: &Settings) -> Result<StageRun> {
    let layout = dir.join("layout");
    let mag = layout.join(format!("{}.mag", s.top));
    if !mag.is_file() {
        bail!(
            "no {} (made by qflow's migrate stage); run the flow first",
            mag.display()
        );
    }
    // magic runs in layout/: the cells' GDS by its absolute path
    let mut abs = s.clone();
    if let Some(g) = &s.cell_gds {
        if !g.is_file() {
            bail!("the cells' GDS {} does not exist", g.display());
        }
        abs.cell_gds = Some(
            std::fs::canonicalize(g).with_context(|| format!("cannot resolve {}", g.display()))?,
        );
    }
    let gds = layout.join(format!("{}.gds", s.top));
    let _ = std::fs::remove_file(&gds);
    let script = layout.join(format!("{}.gds.tcl", s.top));
    std::fs::write(&script, gds_script(&abs))?;
    let mut cmd = Command::new(&s.magic);
    cmd.current_dir(&layout)
        .args(["-dnull", "-noconsole"])
        .arg(script.file_name().unwrap_or_default());
    let log = dir.join("log").join("gds.log");
    let run = timed(GDS, cmd, &log, &log, s.limit_s)?;
    let text = std::fs::read_to_string(&log)?;
    let unread: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("couldn't be read") || l.contains("is unavailable"))
        .collect();
    if !gds.is_file() || !text.contains("PHASEGEN gds written") || !unread.is_empty() {
        bail!(
            "magic did not write {} with every cell ({}); its log: {}",
            gds.display(),
            unread.first().unwrap_or(&"no GDS"),
            log.display()
        );
    }
    let what = match &s.cell_gds {
        Some(g) => format!("the routing and the cells' layouts from {}", g.display()),
        None => format!(
            "the routing and the cells' LEF abstracts from {}: Debian ships no layouts of the OSU cells, so this is not a layout to manufacture",
            s.tech.lef.display()
        ),
    };
    std::fs::write(layout.join(format!("{}.gds.txt", s.top)), what + "\n")?;
    Ok(run)
}

/// Run `stages` (a selection of [`ALL`], in order) in
/// project `dir`, appending each to `stages.json` as it ends; `progress`
/// hears of each stage as it starts and ends.
pub fn run(
    dir: &Path,
    s: &Settings,
    stages: &[&str],
    mut progress: impl FnMut(&str, Option<&StageRun>),
) -> Result<Stages> {
    s.check()?;
    for st in stages {
        if !ALL.contains(st) {
            bail!("unknown stage {st:?}; the stages are {}", ALL.join(", "));
        }
    }
    let mut done = Stages {
        tech: s.tech.name.clone(),
        top: s.top.clone(),
        clock_mhz: s.clock_mhz,
        place_fast: s.place_fast,
        seed: s.seed,
        density: s.density,
        route_cleanup: s.route_cleanup,
        activity: s.activity,
        stages: Vec::new(),
    };
    let path = dir.join("stages.json");
    let _ = std::fs::remove_file(&path);
    for st in stages {
        progress(st, None);
        let r = match *st {
            OPENSTA => run_opensta(dir, s),
            GDS => run_gds(dir, s),
            _ => run_stage(dir, st, s),
        }?;
        progress(st, Some(&r));
        done.stages.push(r);
        std::fs::write(&path, serde_json::to_string_pretty(&done)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_script_bypasses_or_keeps_the_cleanup() {
        let cfg = "verbose 1\nread_def pg_core.def\nqrouter::standard_route pg_core_route.def false\nquit\n";
        let off = route_script(cfg, false).unwrap();
        assert!(
            off.contains("qrouter::standard_route pg_core_route.def false true\nquit"),
            "{off}"
        );
        assert_eq!(route_script(&off, false).unwrap(), off, "idempotent");
        assert_eq!(route_script(&off, true).unwrap(), cfg);
        let e = route_script("quit\n", false).unwrap_err().to_string();
        assert!(e.contains("no `qrouter::standard_route"), "{e}");
    }

    #[test]
    fn a_stage_past_its_limit_is_stopped_with_its_children() {
        let d = std::env::temp_dir().join(format!("pg-timed-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let out = d.join("out");
        // a shell that starts a child, as qflow starts Yosys
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & echo $! > child; wait"])
            .current_dir(&d);
        let t0 = Instant::now();
        let e = timed("synthesize", cmd, &out, &out, Some(0.3)).unwrap_err();
        assert!(t0.elapsed().as_secs_f64() < 10.0);
        let t = e.downcast_ref::<StageTimeout>().expect("a StageTimeout");
        assert_eq!(t.stage, "synthesize");
        assert!(
            e.to_string().contains("stopped after the limit of 0 s"),
            "{e}"
        );
        let child: i32 = std::fs::read_to_string(d.join("child"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        // gone, or a zombie waiting for whoever adopted it to reap it
        let state = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let running = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        assert!(!running, "the child survived: {state}");
        // within the limit: the run as before
        let mut ok = Command::new("sh");
        ok.args(["-c", "true"]);
        assert!(timed("x", ok, &out, &out, Some(5.0)).is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }
}
