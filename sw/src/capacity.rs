//! `phasegen capacity`: the largest networks that place and route on a
//! board with timing met, found by building them for real (`make report`
//! with Yosys and nextpnr) and bisecting on the size, and how many settle
//! steps per second they make.
//!
//! Each trial writes a config (random weights: training does not change
//! the resources, so `train.epochs = 0`), runs `make report` for it in its
//! own build folder and reads the report JSON. A size fits when nextpnr
//! places it and every clock meets its constraint (the board's oscillator).
//!
//! The largest fitting design is then simulated: its own `gen/pg_core.v`
//! (the file that was placed and routed) under Verilator against the twin,
//! counting the cycles between the ends of consecutive steps, which must
//! equal the schedule's `Schedule::step_cycles`.

use crate::cosim::{build_core_text, verify_sample, CoreSim, Plan};
use anyhow::{bail, Context, Result};
use phasegen_sim::board::board;
use phasegen_sim::config::{Config, Coupling, UMemory, MAX_IMPRINT};
use phasegen_sim::onn::net::ModelFile;
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::quant::{beta_int, quantize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The network shapes of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// N oscillators, every pair coupled: layers [N-10, 10] with intralayer
    /// coupling (so also every hidden-output pair), the first layer fed by
    /// the 64 inputs of the 8x8 digits. (A single layer of N would be the
    /// output layer, limited to 256 classes.)
    Full,
    /// 784-N-10 on MNIST.
    Layered,
    /// 64-N-10 on the 8x8 digits as a learning design
    /// (`hardware.learning = "ep"`: on-chip EP, docs/learning.md).
    Learn,
    /// N oscillators, every pair coupled, that learn their patterns on
    /// chip (`hardware.learning = "hebbian"`, docs/learning.md "The memory
    /// learns on chip"), as `configs/memory-hebb-448.toml`: layers
    /// `[N-10, 10]` with intralayer coupling, 64 inputs. (One layer, as
    /// `memory-hebb-256.toml`, is the output layer: at most 256, the class
    /// byte, and its class readout over 256 oscillators took 5098 logic
    /// cells of the UP5K where `[246, 10]`-like shapes take about 3850.)
    Memory,
}

/// Outputs of the fully connected network (its last layer; the classes).
pub const FULL_OUTPUTS: usize = 10;

/// Lanes of a Hebbian memory at most: W is a RAM of `lanes x weight_bits`
/// bit words (8-bit weights), and the cosimulation (and `make bitstream`'s
/// verify) write RAM words through ports of at most 64 bits.
pub const MEMORY_MAX_LANES: u32 = 8;

/// `hardware.w_frac` (and `weight_frac`) of an `n`-oscillator Hebbian
/// memory: `log2 n` rounded, so that `2^w_frac / n` is within a factor
/// of √2 of 1 and the imprint's step `s = round(2^w_frac / n)` is one
/// LSB, `1/n` per pattern within that factor (exact when `n` is a power
/// of two; 8 for 256 oscillators and 9 for 448, as the configs).
pub fn memory_w_frac(n: usize) -> u32 {
    (n.max(1) as f64).log2().round() as u32
}

impl Kind {
    pub fn network(self, n: usize) -> String {
        match self {
            Kind::Layered => format!("inputs = 784\nlayers = [{n}, 10]"),
            Kind::Learn => format!("inputs = 64\nlayers = [{n}, 10]"),
            Kind::Full | Kind::Memory => format!(
                "inputs = 64\nlayers = [{}, {FULL_OUTPUTS}]\nintralayer = true",
                n - FULL_OUTPUTS
            ),
        }
    }

    fn data(self) -> &'static str {
        match self {
            Kind::Full | Kind::Learn | Kind::Memory => "data/digits-8x8",
            Kind::Layered => "data/mnist-10k",
        }
    }

    pub fn describe(self, n: usize) -> String {
        match self {
            Kind::Full => format!("{n} fully connected"),
            Kind::Layered => format!("784-{n}-10"),
            Kind::Learn => format!("64-{n}-10 learning"),
            Kind::Memory => format!("{n} Hebbian memory ({} + {FULL_OUTPUTS})", n - FULL_OUTPUTS),
        }
    }

    /// Smallest size the shape allows.
    pub fn min_size(self) -> usize {
        match self {
            Kind::Full | Kind::Memory => FULL_OUTPUTS + 2,
            Kind::Layered | Kind::Learn => 1,
        }
    }

    /// The number formats of the study: the issue's goal formats (5-bit
    /// weights, 8-bit phases) for the fully connected kind, the defaults
    /// (8-bit weights, 16-bit phases, as `configs/mnist-100.toml`) for MNIST,
    /// and for the learning designs (as `configs/digits-learn.toml` and
    /// `memory-hebb-*.toml`), whose parameters are RAMs the engine writes.
    pub fn formats(self) -> &'static str {
        match self {
            Kind::Full => "weight_bits = 5\nphase_bits = 8\ntable_bits = 7",
            Kind::Layered => "",
            Kind::Learn => "params = \"ram\"\nlearning = \"ep\"",
            Kind::Memory => "params = \"ram\"\nlearning = \"hebbian\"",
        }
    }

    /// `[hardware]` lines that depend on the size: a Hebbian memory's
    /// fraction bits ([`memory_w_frac`]), as `(key, value)`.
    pub fn sized_hardware(self, n: usize) -> Vec<(&'static str, String)> {
        match self {
            Kind::Memory => {
                let f = memory_w_frac(n).to_string();
                vec![("weight_frac", f.clone()), ("w_frac", f)]
            }
            Kind::Full | Kind::Layered | Kind::Learn => vec![],
        }
    }
}

/// DSP multipliers of a board's part (docs/boards.md).
pub fn dsps(board_name: &str) -> Result<u32> {
    Ok(board(board_name)?.dsps)
}

/// `hardware.lanes` allows at most this many.
pub const MAX_LANES: u32 = 16;

/// Lanes for a board: as many as its DSPs allow (each lane is two
/// multipliers, four with the pairs stream; the drive sequencer takes
/// four, a learning design's update engine two more), at most
/// [`MAX_LANES`]; two on a part without DSPs (the HX8K builds multipliers
/// from logic, and a second lane halves the control ROM's share per
/// weight). A Hebbian memory (whose engine needs no multiplier) takes
/// the same, at most [`MEMORY_MAX_LANES`]: two on the UP5K, where its
/// `[N-10, 10]` shape places at two lanes (4102 of the 5280 logic cells
/// at 288 oscillators; `memory-hebb-256`'s single output layer of 256
/// needs 5328 at two, so that config has one).
pub fn default_lanes(board_name: &str, kind: Kind, coupling: Coupling) -> Result<u32> {
    if kind == Kind::Memory {
        return Ok(default_lanes(board_name, Kind::Full, coupling)?.min(MEMORY_MAX_LANES));
    }
    let d = dsps(board_name)?;
    let d = if kind == Kind::Learn {
        d.saturating_sub(2)
    } else {
        d
    };
    let per_lane = match coupling {
        Coupling::Rows => 2,
        Coupling::Pairs => 4,
    };
    Ok(if d == 0 {
        2
    } else {
        (d.saturating_sub(4) / per_lane).clamp(1, MAX_LANES)
    })
}

/// How the study's networks read W: the pairs stream (each pair's weight
/// once) for the fully connected kind, the only one it applies to.
pub fn default_coupling(kind: Kind) -> Coupling {
    match kind {
        Kind::Full => Coupling::Pairs,
        Kind::Layered | Kind::Learn | Kind::Memory => Coupling::Rows,
    }
}

/// Where the input weights go by default: for MNIST on a part with SPRAM
/// (the UP5K, whose block RAM cannot hold a 784-input `U`), RAM the host
/// fills, which Yosys places in SPRAM; ROM (block RAM filled by the
/// bitstream) otherwise. (The fully connected net's 64-input `U` is small:
/// as RAM on the UP5K, Yosys put it in block RAM, not SPRAM, so RAM would
/// only add the upload.)
pub fn u_memory(board_name: &str, kind: Kind) -> Result<UMemory> {
    Ok(
        if board(board_name)?.device == "up5k" && kind == Kind::Layered {
            UMemory::Ram
        } else if kind == Kind::Learn || kind == Kind::Memory {
            // (U is a RAM the engine writes anyway; large ones in SPRAM;
            // the memory configs leave it at its default, auto)
            UMemory::Auto
        } else {
            UMemory::Rom
        },
    )
}

/// The first size tried and the largest, per board and shape: near the
/// sizes the block RAM allows (docs/capacity.head.md), so that the slow
/// ECP5 builds start close to the answer. The search grows from `lo` (or
/// halves when `lo` does not fit), so these only save trials. The pairs
/// stream stores half the weights, so its fully connected search starts
/// higher.
pub fn default_range(board_name: &str, kind: Kind, coupling: Coupling) -> Result<(usize, usize)> {
    let device = board(board_name)?.device;
    if coupling == Coupling::Pairs {
        match device {
            "up5k" | "hx8k" => return Ok((64, 1024)),
            "25k" => return Ok((256, 2048)),
            "85k" => return Ok((1024, 4096)),
            _ => {}
        }
    }
    Ok(match (device, kind) {
        ("up5k", Kind::Full) => (48, 512),
        ("up5k", Kind::Layered) => (128, 1024),
        ("hx8k", Kind::Full) => (48, 512),
        ("hx8k", Kind::Layered) => (8, 256),
        ("25k", Kind::Full) => (160, 2048),
        ("25k", Kind::Layered) => (64, 1024),
        ("85k", Kind::Full) => (512, 2048),
        ("85k", Kind::Layered) => (320, 2048),
        ("up5k", Kind::Learn) => (32, 512),
        ("hx8k", Kind::Learn) => (16, 256),
        ("25k", Kind::Learn) => (64, 1024),
        ("85k", Kind::Learn) => (128, 4096),
        // sizes that fit (288 as [278, 10] on two lanes; the 448 of
        // memory-hebb-448 on eight); at most MAX_IMPRINT (one Imprint frame)
        ("up5k", Kind::Memory) => (288, 512),
        ("hx8k", Kind::Memory) => (64, 512),
        ("25k", Kind::Memory) => (128, 1024),
        ("85k", Kind::Memory) => (448, 1024),
        (d, _) => bail!("no capacity range for device {d}"),
    })
}

/// One build.
#[derive(Debug, Clone)]
pub struct Trial {
    pub n: usize,
    pub fits: bool,
    /// Why not (the tool's message), empty when it fits.
    pub note: String,
    pub fmax_mhz: Option<f64>,
    /// (bel, used, available)
    pub resources: Vec<(String, u64, u64)>,
    /// Wall time of the build.
    pub secs: f64,
    pub dir: PathBuf,
}

/// What the study needs to know.
#[derive(Debug, Clone)]
pub struct Study {
    pub board: String,
    pub kind: Kind,
    pub lanes: u32,
    /// Where `U` lives (`hardware.u_memory`).
    pub u_memory: UMemory,
    /// How the coupling stream reads W (`hardware.coupling`).
    pub coupling: Coupling,
    /// Further `[hardware]` lines (e.g. `weight_bits = 6`), after the
    /// kind's formats, the lanes and `u_memory` (a later line of the same
    /// key is a TOML error, so give only keys not set there).
    pub hardware: String,
    /// First and largest size tried.
    pub lo: usize,
    pub hi: usize,
    /// Grow the size by this factor while it fits (before bisecting).
    pub grow: f64,
    /// Stop bisecting when the bracket is this narrow (relative).
    pub resolution: f64,
    pub dir: PathBuf,
    pub make: String,
}

impl Study {
    /// The `[hardware]` section's lines.
    pub fn hardware_lines(&self) -> Result<String> {
        let mut h = String::new();
        for l in self.kind.formats().lines() {
            h.push_str(l);
            h.push('\n');
        }
        let um = match self.u_memory {
            UMemory::Ram => "ram",
            UMemory::Rom => "rom",
            UMemory::Auto => "auto",
        };
        let _ = writeln!(h, "lanes = {}\nu_memory = \"{um}\"", self.lanes);
        if self.coupling == Coupling::Pairs {
            if self.kind != Kind::Full {
                bail!("the pairs stream needs every pair coupled: use it with --kind full");
            }
            h.push_str("coupling = \"pairs\"\n");
        }
        for l in self
            .hardware
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            h.push_str(l);
            h.push('\n');
        }
        Ok(h)
    }

    /// The trial config for size `n`, at the board's oscillator.
    pub fn config(&self, n: usize) -> Result<String> {
        let b = board(&self.board)?;
        let mut hw = self.hardware_lines()?;
        // the size's own lines, but for keys the study's lines set
        for (k, v) in self.kind.sized_hardware(n) {
            let given = hw
                .lines()
                .any(|l| l.split('=').next().is_some_and(|x| x.trim() == k));
            if !given {
                let _ = writeln!(hw, "{k} = {v}");
            }
        }
        Ok(format!(
            "name = \"cap\"\n[network]\n{}\n[train]\ndata = \"{}\"\nepochs = 0\n[hardware]\n{hw}[target]\nboard = \"{}\"\nclock_hz = {}\n",
            self.kind.network(n),
            self.kind.data(),
            self.board,
            b.clock_hz
        ))
    }

    /// Refuses a study whose configs are wrong before any build (else
    /// every trial would fail as "does not fit"): the first size's config
    /// must validate, and a Hebbian memory's largest must fit one Imprint
    /// frame.
    pub fn check(&self) -> Result<()> {
        if self.kind == Kind::Memory && self.hi > MAX_IMPRINT {
            bail!(
                "--hi {}: a Hebbian memory has at most {MAX_IMPRINT} oscillators (one Imprint frame carries a bit of each)",
                self.hi
            );
        }
        if self.lo >= self.kind.min_size() {
            Config::parse(&self.config(self.lo)?, "capacity trial").with_context(|| {
                format!(
                    "the trial config of {} on {} (check --lanes, --u-memory, --coupling and --hardware)",
                    self.kind.describe(self.lo),
                    self.board
                )
            })?;
        }
        Ok(())
    }

    /// The formats column: the `[hardware]` lines but the lanes.
    pub fn formats(&self) -> String {
        let mut v: Vec<String> = self
            .hardware_lines()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("lanes"))
            .map(|l| l.replace(" = ", "=").replace('"', ""))
            .collect();
        if self.kind != Kind::Full && !v.iter().any(|l| l.starts_with("weight_bits")) {
            v.insert(0, "defaults (weight_bits=8, phase_bits=16)".into());
        }
        if self.kind == Kind::Memory {
            let given = |k: &str| v.iter().any(|l| l.starts_with(&format!("{k}=")));
            match (given("weight_frac"), given("w_frac")) {
                (false, false) => v.push("weight_frac=w_frac=log2 N rounded".into()),
                (true, false) => v.push("w_frac=log2 N rounded".into()),
                (false, true) => v.push("weight_frac=log2 N rounded".into()),
                (true, true) => {}
            }
        }
        v.join(", ")
    }

    fn trial_dir(&self, n: usize) -> PathBuf {
        self.dir.join(format!("{:?}-{n}", self.kind).to_lowercase())
    }
}

/// Run `make -s <goal>` on the config `dir/cap.toml` for `board` with
/// `dir` as the build folder; returns whether it succeeded and its output.
fn make(make: &str, board: &str, goal: &str, dir: &Path) -> Result<(bool, String)> {
    let out = Command::new(make)
        .args(["-s", goal])
        .arg(format!("BOARD={board}"))
        .arg(format!("CONFIG={}", dir.join("cap.toml").display()))
        .arg(format!("BUILD={}", dir.display()))
        // the trials' untrained networks have no accuracy worth the time
        .arg("ACCURACY_COUNT=-1")
        .output()
        .with_context(|| format!("cannot run {make}"))?;
    Ok((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

/// Build size `n` in its own folder and read the report ([`build`]).
pub fn trial(s: &Study, n: usize) -> Result<Trial> {
    let sp = crate::progress::spinner(&format!("building {} on {}", s.kind.describe(n), s.board));
    let t = build(&s.make, &s.board, &s.trial_dir(n), "cap", &s.config(n)?);
    sp.finish_and_clear();
    let mut t = t?;
    t.n = n;
    eprintln!(
        "  {} on {}: {}{} ({:.0} s)",
        s.kind.describe(n),
        s.board,
        if t.fits { "fits" } else { "does not fit" },
        t.fmax_mhz
            .map(|f| format!(", Fmax {f:.1} MHz"))
            .unwrap_or_default(),
        t.secs
    );
    Ok(t)
}

/// Build the config `text` (whose `name` is `name`) for `board` in the
/// folder `dir` and read its report: `make gen`, the ROM contents of
/// `gen/pg_core.v` moved into `$readmemh` files ([`roms_to_files`];
/// yowasp's 32-bit WebAssembly Yosys stopped with "thrown Wasm exception"
/// after 2.5 minutes parsing half a million `initial` assignments), then
/// `make report`. A design that does not place or meet timing is a
/// [`Trial`] that does not fit, with the tool's reason.
pub fn build(make_cmd: &str, board: &str, dir: &Path, name: &str, text: &str) -> Result<Trial> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // unchanged, so that make finds an earlier identical build up to date
    crate::cosim::write_if_changed(&dir.join("cap.toml"), text)?;
    // a report of an earlier run must not be read as this one's
    let report = dir.join(format!("{name}.report.json"));
    let _ = std::fs::remove_file(&report);
    let t0 = Instant::now();
    let (mut ok, mut log) = make(make_cmd, board, "gen", dir)?;
    if ok {
        let core = dir.join("gen").join("pg_core.v");
        let text = std::fs::read_to_string(&core)
            .with_context(|| format!("cannot read {}", core.display()))?;
        let moved = roms_to_files(&text, &dir.join("gen").join("rom"))?;
        if moved != text {
            std::fs::write(&core, moved)
                .with_context(|| format!("cannot write {}", core.display()))?;
        }
        let (ok2, log2) = make(make_cmd, board, "report", dir)?;
        ok = ok2;
        log.push_str(&log2);
    }
    let secs = t0.elapsed().as_secs_f64();
    std::fs::write(dir.join("make.log"), &log).ok();
    let mut t = Trial {
        n: 0,
        fits: ok,
        note: String::new(),
        fmax_mhz: None,
        resources: Vec::new(),
        secs,
        dir: dir.to_path_buf(),
    };
    if report.exists() {
        let text = std::fs::read_to_string(&report)?;
        parse_report(&text, &mut t).with_context(|| format!("{}", report.display()))?;
    } else if t.fits {
        bail!("make report succeeded but wrote no {}", report.display());
    }
    if !t.fits {
        t.note = failure_note(&log);
    }
    Ok(t)
}

/// Fmax (the slowest clock) and the resources of `phasegen report`'s JSON.
pub fn parse_report(text: &str, t: &mut Trial) -> Result<()> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    t.fmax_mhz = v["clocks"].as_array().and_then(|c| {
        c.iter()
            .filter_map(|c| c["achieved_mhz"].as_f64())
            .reduce(f64::min)
    });
    t.resources.clear();
    for r in v["resources"].as_array().into_iter().flatten() {
        if let (Some(b), Some(u), Some(a)) = (
            r["bel"].as_str(),
            r["used"].as_u64(),
            r["available"].as_u64(),
        ) {
            t.resources.push((b.to_string(), u, a));
        }
    }
    Ok(())
}

/// The line of a failed build's log that says why: nextpnr's or the
/// config's error, the report's timing verdict, else make's own.
pub fn failure_note(log: &str) -> String {
    let find = |pat: &str| log.lines().find(|l| l.contains(pat));
    let line = find("ERROR")
        .or_else(|| find("error:"))
        .or_else(|| find("timing"))
        .or_else(|| find("rror"))
        .unwrap_or("the build failed (see make.log)");
    line.trim().chars().take(160).collect()
}

/// The search's outcome (sizes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Largest size that fit.
    pub best: Option<usize>,
    /// Smallest size above `best` that did not fit (None: `best` is the cap).
    pub fail: Option<usize>,
    /// Every size tried, in order, and whether it fit.
    pub tried: Vec<(usize, bool)>,
}

/// Grows from `lo` by `grow` while sizes fit (up to `hi`), or halves from
/// `lo` (down to `min`) until one fits, then bisects between the largest
/// size that fit and the smallest that did not until they are within
/// `resolution` of the former.
pub fn search(
    lo: usize,
    hi: usize,
    min: usize,
    grow: f64,
    resolution: f64,
    mut fits: impl FnMut(usize) -> Result<bool>,
) -> Result<Search> {
    if lo < min || hi < lo {
        bail!("capacity range {lo}..{hi} is empty; give {min} <= lo <= hi");
    }
    if grow.is_nan() || grow <= 1.0 {
        bail!("growth factor {grow}: give more than 1");
    }
    let mut tried = Vec::new();
    let mut try_n = |n: usize, tried: &mut Vec<(usize, bool)>| -> Result<bool> {
        let ok = fits(n)?;
        tried.push((n, ok));
        Ok(ok)
    };
    let (mut good, mut bad) = (None, None);
    let mut n = lo;
    loop {
        if try_n(n, &mut tried)? {
            good = Some(n);
            if n >= hi {
                break;
            }
            n = ((n as f64 * grow).ceil() as usize).clamp(n + 1, hi);
        } else {
            bad = Some(n);
            break;
        }
    }
    if good.is_none() {
        let mut n = lo;
        while n > min {
            n = (n / 2).max(min);
            if try_n(n, &mut tried)? {
                good = Some(n);
                break;
            }
            bad = Some(n);
        }
    }
    if let (Some(mut g), Some(mut b)) = (good, bad) {
        while (b - g) as f64 > resolution * g as f64 && b - g > 1 {
            let mid = (g + b) / 2;
            if try_n(mid, &mut tried)? {
                g = mid;
            } else {
                b = mid;
            }
        }
        good = Some(g);
        bad = Some(b);
    }
    Ok(Search {
        best: good,
        fail: bad,
        tried,
    })
}

/// Runs the search with real builds; returns it and every trial.
pub fn largest(s: &Study) -> Result<(Search, Vec<Trial>)> {
    s.check()?;
    let mut all: Vec<Trial> = Vec::new();
    let r = search(s.lo, s.hi, s.kind.min_size(), s.grow, s.resolution, |n| {
        let t = trial(s, n)?;
        let ok = t.fits;
        all.push(t);
        Ok(ok)
    })?;
    Ok((r, all))
}

/// Cycles per step of a design: the schedule's count and the intervals
/// measured in simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleCheck {
    /// `Schedule::step_cycles()`: words of the coupling stream per step.
    pub schedule: usize,
    /// Steps simulated (free, nudged and a whole inference).
    pub steps: u64,
    /// Cycles between consecutive step ends inside each run.
    pub intervals: Vec<u64>,
    /// Seconds to verilate and compile, and to simulate.
    pub build_secs: f64,
    pub sim_secs: f64,
}

impl CycleCheck {
    /// Every measured interval equals the schedule's count.
    pub fn agrees(&self) -> bool {
        !self.intervals.is_empty() && self.intervals.iter().all(|&c| c == self.schedule as u64)
    }
}

/// Rewrite every `initial begin M[a] = W'hX; ... end` block of a generated
/// file into `$readmemh` of a hex file in `dir` (named by a hash of its
/// contents; the path as given, so relative to the working directory of the
/// tools that read it), so that neither Yosys nor Verilator parses the ROMs'
/// contents as statements (yowasp's Yosys fails on half a million of them,
/// Verilator compiles them into C++ for minutes). The design is otherwise the same
/// text, line for line.
pub fn roms_to_files(text: &str, dir: &Path) -> Result<String> {
    let mut out = String::with_capacity(text.len() / 4);
    let mut lines = text.lines();
    let mut last_mem: Option<String> = None;
    while let Some(line) = lines.next() {
        if line.trim() == "initial begin" {
            if let Some(mem) = last_mem.take() {
                let mut hex = String::new();
                for (next, l) in lines.by_ref().enumerate() {
                    let l = l.trim();
                    if l == "end" {
                        break;
                    }
                    // `M[a] = W'hX;`
                    let (lhs, rhs) = l
                        .split_once(" = ")
                        .with_context(|| format!("unexpected ROM line `{l}`"))?;
                    let a: usize = lhs
                        .strip_prefix(&format!("{mem}["))
                        .and_then(|r| r.strip_suffix(']'))
                        .and_then(|a| a.parse().ok())
                        .with_context(|| format!("unexpected ROM line `{l}`"))?;
                    if a != next {
                        bail!("ROM {mem}: address {a} where {next} was due");
                    }
                    let v = rhs
                        .trim_end_matches(';')
                        .split_once("'h")
                        .map(|(_, v)| v)
                        .with_context(|| format!("unexpected ROM value `{rhs}`"))?;
                    hex.push_str(v);
                    hex.push('\n');
                }
                let path = dir.join(format!("{mem}-{:016x}.hex", fnv1a(hex.as_bytes())));
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                if !path.exists() {
                    std::fs::write(&path, &hex)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                let _ = writeln!(out, "    initial $readmemh(\"{}\", {mem});", path.display());
                continue;
            }
        }
        last_mem = mem_decl(line);
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// The name of `reg [W:0] NAME [0:D];`.
fn mem_decl(line: &str) -> Option<String> {
    let l = line.trim().strip_prefix("reg [")?;
    let (_, rest) = l.split_once("] ")?;
    let (name, dims) = rest.split_once(" [0:")?;
    dims.ends_with("];").then(|| name.to_string())
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Deterministic inputs over the input range (the weights are random too).
fn inputs(hw: &HwModel) -> Vec<u64> {
    let top = (1u64 << hw.fmt.input_bits) - 1;
    (0..hw.topo.inputs as u64)
        .map(|k| (k * 7 + 3) % top.max(1))
        .collect()
}

/// Simulate a trial's placed-and-routed core (`dir/gen/pg_core.v`, its
/// model `dir/model.json`) against the twin for `steps` free and `steps`
/// nudged steps and a whole inference, and count the cycles per step.
pub fn check_cycles(dir: &Path, steps: u32) -> Result<CycleCheck> {
    let mf = ModelFile::load(&dir.join("model.json"))?;
    let (hw, _) = quantize(&mf.config, &mf.params, mf.max_pixel)
        .with_context(|| format!("cannot quantize {}", dir.join("model.json").display()))?;
    let core = dir.join("gen").join("pg_core.v");
    let text = std::fs::read_to_string(&core)
        .with_context(|| format!("cannot read {}", core.display()))?;
    let sim_dir = dir.join("sim");
    let text = roms_to_files(&text, &sim_dir)?;
    // (roms_to_files makes the folder only when it moves a ROM, and the
    // trial's build has moved them all already)
    std::fs::create_dir_all(&sim_dir)
        .with_context(|| format!("cannot create {}", sim_dir.display()))?;
    // the generator's own hex files (large ROMs) go beside the copy
    for e in std::fs::read_dir(dir.join("gen"))? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "hex") {
            let to = sim_dir.join(p.file_name().expect("a file"));
            std::fs::copy(&p, &to)
                .with_context(|| format!("cannot copy {} to {}", p.display(), to.display()))?;
        }
    }
    let t0 = Instant::now();
    let built = build_core_text(&hw, &text, &sim_dir, &phasegen_vl::Options::default())?;
    let build_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut sim = CoreSim::new(&built, hw.n())?;
    let r = verify_sample(
        &mut sim,
        &hw,
        &inputs(&hw),
        &Plan {
            free_steps: steps,
            nudge_steps: steps,
            beta: beta_int(&hw.fmt, mf.config.train.beta),
            label: 1,
            fault: None,
        },
    )?;
    if let Err(m) = r {
        bail!("{}: the RTL does not match the twin: {m}", core.display());
    }
    Ok(CycleCheck {
        schedule: phasegen_sim::twin::sched::Schedule::new(&hw).step_cycles(),
        steps: sim.stats.steps,
        intervals: sim.step_intervals.clone(),
        build_secs,
        sim_secs: t1.elapsed().as_secs_f64(),
    })
}

/// Cycles of one pattern's imprint on a Hebbian design (docs/learning.md
/// "The memory learns on chip"): `pg_top` copies the pattern into the
/// engine, a cycle per payload byte read and one per oscillator, then
/// `pg_hebb` rewrites every W word of the schedule in two cycles. Not
/// counted: the request's bytes on the UART and the few hundred cycles to
/// the answer. None for a design that does not imprint.
pub fn imprint_cycles(hw: &HwModel) -> Option<usize> {
    hw.hebb.as_ref()?;
    let words = phasegen_sim::twin::sched::Schedule::new(hw).words.len();
    let n = hw.n();
    Some(2 * words + n + n.div_ceil(8))
}

/// [`imprint_cycles`] of a trial's design (`dir/model.json`).
pub fn imprint_cycles_at(dir: &Path) -> Result<Option<usize>> {
    let mf = ModelFile::load(&dir.join("model.json"))?;
    let (hw, _) = quantize(&mf.config, &mf.params, mf.max_pixel)
        .with_context(|| format!("cannot quantize {}", dir.join("model.json").display()))?;
    Ok(imprint_cycles(&hw))
}

/// The Markdown header of [`row`].
pub const HEADER: &str = "| board | largest that fits | smallest that does not (why) | formats | lanes | cycles/step (schedule; simulated) | Fmax (MHz) | steps/s at Fmax | steps/s at the board clock | resources |\n|---|---|---|---|---|---|---|---|---|---|\n";

fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The Markdown row of a study's result; `imprint`: the cycles of one
/// pattern's imprint of the largest that fits ([`imprint_cycles`]), added
/// to the cycles and to the board clock's column.
pub fn row(
    s: &Study,
    search: &Search,
    trials: &[Trial],
    cycles: Option<std::result::Result<&CycleCheck, &str>>,
    imprint: Option<usize>,
) -> Result<String> {
    let clock_hz = board(&s.board)?.clock_hz as f64;
    let find = |n: usize| trials.iter().rev().find(|t| t.n == n);
    let fail = match search.fail {
        None => format!("none up to {} (the range's cap)", s.hi),
        Some(n) => {
            let why = find(n)
                .map(|t| t.note.replace('|', "/"))
                .unwrap_or_default();
            format!("{} ({why})", s.kind.describe(n))
        }
    };
    let mut o = String::new();
    let Some(best) = search.best.and_then(find) else {
        let _ = write!(
            o,
            "| {} | none ({} smallest tried) | {fail} | {} | {} | | | | | |",
            s.board,
            s.kind
                .describe(search.tried.iter().map(|t| t.0).min().unwrap_or(s.lo)),
            s.formats(),
            s.lanes
        );
        return Ok(o);
    };
    let res: Vec<String> = best
        .resources
        .iter()
        .filter(|(_, u, _)| *u > 0)
        .filter(|(b, _, _)| !b.contains("IO") && !b.contains("OSC"))
        .map(|(b, u, a)| format!("{b} {u}/{a}"))
        .collect();
    let fmax = best.fmax_mhz.unwrap_or(f64::NAN);
    let (cyc, at_fmax, at_clock) = match cycles {
        Some(Err(e)) => (
            format!(
                "{} (simulation failed: {})",
                s.kind.describe(best.n),
                e.replace('|', "/")
            ),
            "-".into(),
            "-".into(),
        ),
        Some(Ok(c)) => {
            let sim = if c.agrees() {
                format!("all {} simulated steps {}", c.intervals.len(), c.schedule)
            } else {
                let lo = c.intervals.iter().min().copied().unwrap_or(0);
                let hi = c.intervals.iter().max().copied().unwrap_or(0);
                format!("MISMATCH {lo}..{hi}")
            };
            let per = c.schedule as f64;
            (
                format!("{}; {sim}", c.schedule),
                si(fmax * 1e6 / per),
                si(clock_hz / per),
            )
        }
        None => ("not simulated".into(), "-".into(), "-".into()),
    };
    let (cyc, imprint_time) = match imprint {
        Some(c) => (
            format!("{cyc}; Imprint {c}"),
            format!("; Imprint {:.2} ms", c as f64 / clock_hz * 1e3),
        ),
        None => (cyc, String::new()),
    };
    let _ = write!(
        o,
        "| {} | {} | {fail} | {} | {} | {cyc} | {fmax:.1} | {at_fmax} | {at_clock} at {} MHz{imprint_time} | {} |",
        s.board,
        s.kind.describe(best.n),
        s.formats(),
        s.lanes,
        clock_hz / 1e6,
        res.join(", ")
    );
    Ok(o)
}

/// The repository root for `make` (the folder with the Makefile).
pub fn check_root() -> Result<()> {
    if !Path::new("Makefile").exists() || !Path::new("configs").exists() {
        bail!(
            "run this from the repository root (it runs `make report` there, for the FPGA builds)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study(board: &str, kind: Kind) -> Study {
        let (lo, hi) = default_range(board, kind, default_coupling(kind)).unwrap();
        Study {
            board: board.into(),
            kind,
            lanes: default_lanes(board, kind, default_coupling(kind)).unwrap(),
            u_memory: u_memory(board, kind).unwrap(),
            coupling: default_coupling(kind),
            hardware: String::new(),
            lo,
            hi,
            grow: 1.5,
            resolution: 0.1,
            dir: PathBuf::from("build/capacity").join(board),
            make: "make".into(),
        }
    }

    /// A size fits up to `limit`; every size tried is recorded.
    fn run(lo: usize, hi: usize, grow: f64, limit: usize) -> Search {
        search(lo, hi, 2, grow, 0.1, |n| Ok(n <= limit)).unwrap()
    }

    #[test]
    fn search_brackets_within_the_resolution() {
        for limit in [2, 3, 17, 40, 47, 100, 333, 700, 1023] {
            for (lo, grow) in [(2, 2.0), (16, 1.5), (48, 1.01), (384, 1.5)] {
                let r = run(lo, 4096, grow, limit);
                let b = r.best.expect("some size fits");
                let f = r.fail.expect("a size fails");
                assert!(b <= limit && f > limit, "{limit} from {lo}: {r:?}");
                assert!((f - b) as f64 <= 0.1 * b as f64 || f - b == 1, "{r:?}");
                // the answer is among the sizes tried, with the right verdicts
                assert!(r.tried.contains(&(b, true)) && r.tried.contains(&(f, false)));
                for &(n, ok) in &r.tried {
                    assert_eq!(ok, n <= limit);
                }
            }
        }
    }

    #[test]
    fn search_reports_the_cap_and_none() {
        let r = run(16, 64, 2.0, 1000);
        assert_eq!((r.best, r.fail), (Some(64), None));
        assert_eq!(r.tried, vec![(16, true), (32, true), (64, true)]);
        let r = run(16, 64, 1.5, 1000);
        assert_eq!(
            r.tried,
            vec![(16, true), (24, true), (36, true), (54, true), (64, true)]
        );
        let r = search(8, 64, 4, 2.0, 0.1, |_| Ok(false)).unwrap();
        assert_eq!((r.best, r.fail), (None, Some(4)));
        assert_eq!(r.tried, vec![(8, false), (4, false)]);
        assert!(search(8, 4, 2, 2.0, 0.1, |_| Ok(true)).is_err());
        assert!(search(8, 64, 2, 1.0, 0.1, |_| Ok(true)).is_err());
        // a build error ends the search
        assert!(search(8, 64, 2, 2.0, 0.1, |_| bail!("no make")).is_err());
    }

    #[test]
    fn lanes_follow_the_dsps() {
        let r = Coupling::Rows;
        assert_eq!(default_lanes("icebreaker", Kind::Layered, r).unwrap(), 2);
        assert_eq!(default_lanes("hx8k-breakout", Kind::Full, r).unwrap(), 2);
        assert_eq!(default_lanes("ulx3s-25f", Kind::Full, r).unwrap(), 12);
        assert_eq!(default_lanes("ulx3s-85f", Kind::Full, r).unwrap(), 16);
        assert!(default_lanes("nope", Kind::Full, r).is_err());
        // the pairs stream's lanes are four multipliers
        let p = Coupling::Pairs;
        assert_eq!(default_lanes("icebreaker", Kind::Full, p).unwrap(), 1);
        assert_eq!(default_lanes("hx8k-breakout", Kind::Full, p).unwrap(), 2);
        assert_eq!(default_lanes("ulx3s-25f", Kind::Full, p).unwrap(), 6);
        assert_eq!(default_lanes("ulx3s-85f", Kind::Full, p).unwrap(), 16);
        // a learning design's update engine takes two multipliers
        let l = Kind::Learn;
        assert_eq!(default_lanes("icebreaker", l, r).unwrap(), 1);
        assert_eq!(default_lanes("hx8k-breakout", l, r).unwrap(), 2);
        assert_eq!(default_lanes("ulx3s-25f", l, r).unwrap(), 11);
        assert_eq!(default_lanes("ulx3s-85f", l, r).unwrap(), 16);
        // a Hebbian memory: the DSP rule, at most 64-bit W words
        let m = Kind::Memory;
        assert_eq!(default_lanes("icebreaker", m, r).unwrap(), 2);
        assert_eq!(default_lanes("hx8k-breakout", m, r).unwrap(), 2);
        assert_eq!(default_lanes("ulx3s-25f", m, r).unwrap(), 8);
        assert_eq!(default_lanes("ulx3s-85f", m, r).unwrap(), 8);
    }

    #[test]
    fn trial_configs_are_valid_and_fully_connected() {
        use phasegen_sim::config::Config;
        for b in ["icebreaker", "hx8k-breakout", "ulx3s-25f", "ulx3s-85f"] {
            for (kind, n) in [
                (Kind::Full, 300),
                (Kind::Layered, 100),
                (Kind::Learn, 32),
                (Kind::Memory, 300),
            ] {
                let s = study(b, kind);
                let c = Config::parse(&s.config(n).unwrap(), "test").unwrap();
                assert_eq!(c.target.board, b);
                assert_eq!(c.hardware.lanes, s.lanes);
                // (the memory's U, 290 x 64 x 8 bits, is over auto's limit)
                assert_eq!(
                    c.hardware.u_in_ram(&c.network, b),
                    b == "icebreaker" && (kind == Kind::Layered || kind == Kind::Memory)
                );
                let topo = phasegen_sim::onn::net::Topology::from_config(&c.network);
                let n_osc: usize = c.network.layers.iter().sum();
                match kind {
                    Kind::Full => {
                        assert_eq!(n_osc, n);
                        assert_eq!(topo.edges().len(), n * (n - 1) / 2, "every pair");
                        assert_eq!((c.hardware.weight_bits, c.hardware.phase_bits), (5, 8));
                    }
                    Kind::Layered => assert_eq!(c.network.layers, vec![n, 10]),
                    Kind::Learn => {
                        assert_eq!(
                            (c.network.inputs, &c.network.layers[..]),
                            (64, &[n, 10][..])
                        );
                        assert_eq!(c.hardware.learning, phasegen_sim::config::Learning::Ep);
                        // the resource checks pass: the engine's DSPs counted
                        let p = phasegen_sim::onn::net::Params::init(&c);
                        let hw = phasegen_sim::twin::quant::quantize(&c, &p, 16).unwrap().0;
                        assert!(hw.learn.is_some(), "{b}");
                    }
                    // (memory_configs_validate_and_imprint checks the rest)
                    Kind::Memory => {
                        assert_eq!(n_osc, n);
                        assert_eq!(topo.edges().len(), n * (n - 1) / 2, "every pair");
                    }
                }
            }
        }
        let mut s = study("ulx3s-85f", Kind::Full);
        s.hardware = "amp_bits = 8\n".into();
        assert!(s.config(64).unwrap().contains("amp_bits = 8\n"));
        assert_eq!(
            s.formats(),
            "weight_bits=5, phase_bits=8, table_bits=7, u_memory=rom, coupling=pairs, amp_bits=8"
        );
        assert!(c_pairs(&s));
        s.coupling = Coupling::Rows;
        assert!(!c_pairs(&s));
        let mut l = study("ulx3s-85f", Kind::Layered);
        l.coupling = Coupling::Pairs;
        assert!(l.config(64).is_err(), "pairs needs every pair coupled");
    }

    #[test]
    fn memory_configs_validate_and_imprint() {
        use phasegen_sim::config::{Learning, ParamMemory};
        use phasegen_sim::onn::net::{Params, Topology};
        use phasegen_sim::twin::sched::Schedule;
        assert_eq!(
            (memory_w_frac(256), memory_w_frac(448), memory_w_frac(512)),
            (8, 9, 9)
        );
        for b in ["icebreaker", "hx8k-breakout", "ulx3s-25f", "ulx3s-85f"] {
            let s = study(b, Kind::Memory);
            let (lo, hi) = (s.lo, s.hi);
            assert!(lo <= hi && hi <= MAX_IMPRINT, "{b}");
            s.check().unwrap();
            // [N-10, 10] at every size; both ends of the range
            for n in [40, 256, 300, 448, lo, hi] {
                let text = s.config(n).unwrap();
                let c = Config::parse(&text, "test").unwrap();
                assert_eq!(c.target.board, b);
                assert_eq!(c.hardware.lanes, s.lanes);
                assert_eq!(c.hardware.learning, Learning::Hebbian);
                assert_eq!(c.hardware.params, ParamMemory::Ram);
                assert_eq!(c.hardware.coupling, Coupling::Rows);
                assert_eq!(c.train.epochs, 0);
                assert_eq!(c.network.inputs, 64);
                assert_eq!(c.network.layers, vec![n - 10, 10]);
                assert!(c.network.intralayer);
                let topo = Topology::from_config(&c.network);
                assert_eq!(topo.edges().len(), n * (n - 1) / 2, "every pair");
                let f = memory_w_frac(n);
                assert_eq!((c.hardware.weight_frac, c.hardware.w_frac), (f, f));
                if n > 256 {
                    continue; // (quantizing is the slow part; 40 and 256 cover it)
                }
                // the design the flow generates: one LSB a pattern, the
                // engine's counters walk the schedule's words
                let p = Params::init(&c);
                let hw = phasegen_sim::twin::quant::quantize(&c, &p, 16).unwrap().0;
                assert_eq!(hw.hebb.as_ref().map(|h| h.step), Some(1), "{b} {n}");
                assert!(phasegen_sim::twin::hebb::walks(&Schedule::new(&hw)));
                let words = Schedule::new(&hw).words.len();
                assert_eq!(imprint_cycles(&hw), Some(2 * words + n + n.div_ceil(8)));
            }
        }
        // 256 oscillators on one lane: 65,280 W words, as memory-hebb-256's
        // one layer, about 130,800 cycles a pattern (docs/learning.md)
        let mut s = study("icebreaker", Kind::Memory);
        s.lanes = 1;
        let c = Config::parse(&s.config(256).unwrap(), "test").unwrap();
        let hw = phasegen_sim::twin::quant::quantize(&c, &Params::init(&c), 16)
            .unwrap()
            .0;
        assert_eq!(Schedule::new(&hw).words.len(), 65_280);
        assert_eq!(imprint_cycles(&hw), Some(130_848));
        s.lanes = 2;
        // a design that does not imprint has no such figure
        let l = study("icebreaker", Kind::Learn);
        let c = Config::parse(&l.config(8).unwrap(), "test").unwrap();
        let hw = phasegen_sim::twin::quant::quantize(&c, &Params::init(&c), 16)
            .unwrap()
            .0;
        assert_eq!(imprint_cycles(&hw), None);
        assert_eq!(
            s.formats(),
            "defaults (weight_bits=8, phase_bits=16), params=ram, learning=hebbian, u_memory=auto, weight_frac=w_frac=log2 N rounded"
        );
        assert_eq!(s.kind.describe(256), "256 Hebbian memory (246 + 10)");
        assert_eq!(s.kind.describe(448), "448 Hebbian memory (438 + 10)");
    }

    #[test]
    fn bad_memory_studies_are_named() {
        // the pairs stream is not what the Hebbian engine walks
        let mut s = study("ulx3s-85f", Kind::Memory);
        s.coupling = Coupling::Pairs;
        let e = format!("{:#}", s.check().unwrap_err());
        assert!(e.contains("pairs"), "{e}");
        // more oscillators than one Imprint frame carries
        let mut s = study("ulx3s-85f", Kind::Memory);
        s.hi = MAX_IMPRINT + 1;
        let e = format!("{:#}", s.check().unwrap_err());
        assert!(e.contains(&format!("--hi {}", MAX_IMPRINT + 1)), "{e}");
        assert!(Config::parse(&s.config(MAX_IMPRINT + 1).unwrap(), "t").is_err());
        // a key the study already sets, named by the config's error
        let mut s = study("icebreaker", Kind::Memory);
        s.hardware = "params = \"rom\"".into();
        let e = format!("{:#}", s.check().unwrap_err());
        assert!(
            e.contains("288 Hebbian memory (278 + 10) on icebreaker"),
            "{e}"
        );
        // a given fraction replaces the size's
        let mut s = study("icebreaker", Kind::Memory);
        s.hardware = "w_frac = 10".into();
        let t = s.config(300).unwrap();
        assert!(
            t.contains("w_frac = 10\n") && t.contains("weight_frac = 8\n"),
            "{t}"
        );
        assert!(!t.contains("w_frac = 8"), "{t}");
        Config::parse(&t, "t").unwrap();
        assert!(s
            .formats()
            .ends_with("w_frac=10, weight_frac=log2 N rounded"));
        // the lanes' bound is the config's
        let mut s = study("ulx3s-85f", Kind::Memory);
        s.lanes = 17;
        assert!(format!("{:#}", s.check().unwrap_err()).contains("hardware.lanes"));
    }

    #[test]
    fn memory_rows_give_the_imprint_time() {
        let s = study("ulx3s-85f", Kind::Memory);
        let t = |n, fits| Trial {
            n,
            fits,
            note: if fits {
                String::new()
            } else {
                "ERROR: no BELs".into()
            },
            fmax_mhz: fits.then_some(47.5),
            resources: vec![("DP16KD".into(), 183, 208)],
            secs: 1.0,
            dir: PathBuf::new(),
        };
        let search = Search {
            best: Some(448),
            fail: Some(512),
            tried: vec![(448, true), (512, false)],
        };
        let c = CycleCheck {
            schedule: 25_536,
            steps: 10,
            intervals: vec![25_536; 9],
            build_secs: 0.0,
            sim_secs: 0.0,
        };
        let trials = [t(448, true), t(512, false)];
        let r = row(&s, &search, &trials, Some(Ok(&c)), Some(51_576)).unwrap();
        assert!(
            r.contains("| 448 Hebbian memory (438 + 10) | 512 Hebbian memory (502 + 10) (ERROR: no BELs) |"),
            "{r}"
        );
        assert!(
            r.contains("| 25536; all 9 simulated steps 25536; Imprint 51576 | 47.5 | 1.9 k | 979 at 25 MHz; Imprint 2.06 ms | DP16KD 183/208 |"),
            "{r}"
        );
        // without a simulation the imprint is still given
        let r = row(&s, &search, &trials, None, Some(51_576)).unwrap();
        assert!(r.contains("| not simulated; Imprint 51576 |"), "{r}");
    }

    fn c_pairs(s: &Study) -> bool {
        let c = phasegen_sim::config::Config::parse(&s.config(64).unwrap(), "test").unwrap();
        c.hardware.coupling == Coupling::Pairs
    }

    #[test]
    fn report_and_failure_parsing() {
        let mut t = Trial {
            n: 64,
            fits: true,
            note: String::new(),
            fmax_mhz: None,
            resources: vec![],
            secs: 0.0,
            dir: PathBuf::new(),
        };
        parse_report(
            r#"{"clocks":[{"achieved_mhz":30.5,"constraint_mhz":12.0,"met":true,"name":"a"},
                {"achieved_mhz":22.25,"constraint_mhz":12.0,"met":true,"name":"b"}],
               "resources":[{"available":8,"bel":"ICESTORM_DSP","used":4},
                {"available":30,"bel":"ICESTORM_RAM","used":28}]}"#,
            &mut t,
        )
        .unwrap();
        assert_eq!(t.fmax_mhz, Some(22.25));
        assert_eq!(t.resources[1], ("ICESTORM_RAM".into(), 28, 30));
        assert!(parse_report("nope", &mut t).is_err());
        let log = "info\nERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_RAM'\nmake: *** [Makefile:1] Error 1\n";
        assert!(failure_note(log).starts_with("ERROR: Unable to place cell"));
        assert!(
            failure_note("x\nerror: clock 'c' misses timing: 10 MHz < 12 MHz\n").contains("timing")
        );
        assert_eq!(failure_note(""), "the build failed (see make.log)");
    }

    #[test]
    fn rows_say_what_was_found() {
        let s = study("icebreaker", Kind::Layered);
        let t = |n, fits, note: &str| Trial {
            n,
            fits,
            note: note.into(),
            fmax_mhz: fits.then_some(24.8),
            resources: vec![
                ("ICESTORM_RAM".into(), 20, 30),
                ("ICESTORM_LFOSC".into(), 0, 1),
            ],
            secs: 1.0,
            dir: PathBuf::new(),
        };
        let trials = vec![
            t(96, true, ""),
            t(192, false, "ERROR: no BELs"),
            t(144, true, ""),
        ];
        let search = Search {
            best: Some(144),
            fail: Some(192),
            tried: vec![(96, true), (192, false), (144, true)],
        };
        let c = CycleCheck {
            schedule: 1000,
            steps: 10,
            intervals: vec![1000; 9],
            build_secs: 0.0,
            sim_secs: 0.0,
        };
        let r = row(&s, &search, &trials, Some(Ok(&c)), None).unwrap();
        assert!(
            r.contains("| 784-144-10 | 784-192-10 (ERROR: no BELs) |"),
            "{r}"
        );
        assert!(
            r.contains("| 1000; all 9 simulated steps 1000 | 24.8 | 24.8 k | 12.0 k at 12 MHz |"),
            "{r}"
        );
        assert!(
            r.contains("ICESTORM_RAM 20/30") && !r.contains("OSC"),
            "{r}"
        );
        let bad = CycleCheck {
            intervals: vec![1000, 1001],
            ..c
        };
        assert!(!bad.agrees());
        assert!(row(&s, &search, &trials, Some(Ok(&bad)), None)
            .unwrap()
            .contains("MISMATCH 1000..1001"));
        assert!(row(&s, &search, &trials, Some(Err("no verilator")), None)
            .unwrap()
            .contains("(simulation failed: no verilator) | 24.8 | - |"));
        let none = Search {
            best: None,
            fail: Some(48),
            tried: vec![(96, false), (48, false)],
        };
        let r = row(
            &s,
            &none,
            &[t(96, false, "x"), t(48, false, "y")],
            None,
            None,
        )
        .unwrap();
        assert!(
            r.contains("none (784-48-10 smallest tried) | 784-48-10 (y)"),
            "{r}"
        );
    }

    #[test]
    fn roms_become_hex_files() {
        let dir = std::env::temp_dir().join(format!("pg-cap-roms-{}", std::process::id()));
        let v = "module m;\n    reg [4:0] w_rom_0 [0:3];\n    initial begin\n        w_rom_0[0] = 5'h1f;\n        w_rom_0[1] = 5'h0;\n        w_rom_0[2] = 5'h3;\n        w_rom_0[3] = 5'h0;\n    end\n    reg [7:0] ph [0:1];\n    always @(posedge c) begin\n    end\nendmodule\n";
        let out = roms_to_files(v, &dir).unwrap();
        assert!(!out.contains("w_rom_0[1]"), "{out}");
        assert!(out.contains("    reg [7:0] ph [0:1];\n    always @(posedge c) begin\n    end\n"));
        let line = out.lines().find(|l| l.contains("$readmemh")).unwrap();
        let path = line.split('"').nth(1).unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "1f\n0\n3\n0\n");
        assert!(line.ends_with(", w_rom_0);"));
        let gap = v.replace("w_rom_0[2]", "w_rom_0[7]");
        assert!(roms_to_files(&gap, &dir).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
