//! `phasegen capacity`: the largest networks that place and route on a
//! board with timing met, found by building them for real (`make report`
//! with Yosys and nextpnr) and bisecting on the size.
//!
//! Each trial writes a config (random weights: training does not change
//! the resources, so `train.epochs = 0`), runs `make report` for it in its
//! own build folder and reads the report JSON. A size fits when nextpnr
//! places it and every clock meets its constraint.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The two network shapes of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// N oscillators, every pair coupled (one layer with intralayer coupling),
    /// fed by the 64 inputs of the 8x8 digits.
    Full,
    /// 784-N-10 on MNIST.
    Layered,
}

impl Kind {
    fn network(self, n: usize) -> String {
        match self {
            Kind::Full => format!("inputs = 64\nlayers = [{n}]\nintralayer = true"),
            Kind::Layered => format!("inputs = 784\nlayers = [{n}, 10]"),
        }
    }

    fn data(self) -> &'static str {
        match self {
            Kind::Full => "data/digits-8x8",
            Kind::Layered => "data/mnist-10k",
        }
    }

    fn describe(self, n: usize) -> String {
        match self {
            Kind::Full => format!("{n} fully connected"),
            Kind::Layered => format!("784-{n}-10"),
        }
    }
}

/// One build.
#[derive(Debug, Clone)]
pub struct Trial {
    pub n: usize,
    pub fits: bool,
    /// Why not, or the report's summary line.
    pub note: String,
    pub fmax_mhz: Option<f64>,
    /// (bel, used, available)
    pub resources: Vec<(String, u64, u64)>,
}

/// What the study needs to know.
#[derive(Debug, Clone)]
pub struct Study {
    pub board: String,
    pub kind: Kind,
    /// Extra `[hardware]` lines (e.g. `weight_bits = 5`).
    pub hardware: String,
    /// Smallest and largest size tried.
    pub lo: usize,
    pub hi: usize,
    /// Stop bisecting when the bracket is this narrow (relative).
    pub resolution: f64,
    pub dir: PathBuf,
    pub make: String,
}

fn trial(s: &Study, n: usize) -> Result<Trial> {
    let dir = s.dir.join(format!("{:?}-{n}", s.kind).to_lowercase());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cfg = dir.join("cap.toml");
    std::fs::write(
        &cfg,
        format!(
            "name = \"cap\"\n[network]\n{}\n[train]\ndata = \"{}\"\nepochs = 0\n[hardware]\n{}\n[target]\nboard = \"{}\"\n",
            s.kind.network(n),
            s.kind.data(),
            s.hardware,
            s.board
        ),
    )?;
    let out = Command::new(&s.make)
        .args(["-s", "report"])
        .arg(format!("BOARD={}", s.board))
        .arg(format!("CONFIG={}", cfg.display()))
        .arg(format!("BUILD={}", dir.display()))
        .output()
        .with_context(|| format!("cannot run {}", s.make))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::write(dir.join("make.log"), &log).ok();
    let report = dir.join("cap.report.json");
    let mut t = Trial {
        n,
        fits: out.status.success(),
        note: String::new(),
        fmax_mhz: None,
        resources: Vec::new(),
    };
    if let Ok(text) = std::fs::read_to_string(&report) {
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", report.display()))?;
        t.fmax_mhz = v["clocks"].as_array().and_then(|c| {
            c.iter()
                .filter_map(|c| c["achieved_mhz"].as_f64())
                .reduce(f64::min)
        });
        for r in v["resources"].as_array().into_iter().flatten() {
            if let (Some(b), Some(u), Some(a)) = (
                r["bel"].as_str(),
                r["used"].as_u64(),
                r["available"].as_u64(),
            ) {
                t.resources.push((b.to_string(), u, a));
            }
        }
    }
    if !t.fits {
        // the tool's own message first (nextpnr's ERROR, the report's
        // timing verdict), make's summary line last
        let find = |pat: &str| log.lines().find(|l| l.contains(pat));
        let last = find("ERROR")
            .or_else(|| find("timing"))
            .or_else(|| find("rror"))
            .unwrap_or("the build failed (see make.log)");
        t.note = last.trim().chars().take(160).collect();
    }
    eprintln!(
        "  {} on {}: {}{}",
        s.kind.describe(n),
        s.board,
        if t.fits { "fits" } else { "does not fit" },
        t.fmax_mhz
            .map(|f| format!(", Fmax {f:.1} MHz"))
            .unwrap_or_default()
    );
    Ok(t)
}

/// Doubles from `lo` until a size fails (or `hi`), then bisects the bracket.
pub fn largest(s: &Study) -> Result<(Option<Trial>, Vec<Trial>)> {
    if s.lo < 2 || s.hi < s.lo {
        bail!(
            "capacity range {}..{} is empty; give 2 <= lo <= hi",
            s.lo,
            s.hi
        );
    }
    let mut all = Vec::new();
    let mut best: Option<Trial> = None;
    let mut n = s.lo;
    let mut fail_at = None;
    loop {
        let t = trial(s, n)?;
        let ok = t.fits;
        all.push(t.clone());
        if ok {
            best = Some(t);
            if n >= s.hi {
                break;
            }
            n = (n * 2).min(s.hi);
        } else {
            fail_at = Some(n);
            break;
        }
    }
    if let (Some(mut bad), Some(_)) = (fail_at, &best) {
        let mut good = best.as_ref().unwrap().n;
        while (bad - good) as f64 > s.resolution * good as f64 && bad - good > 1 {
            let mid = (good + bad) / 2;
            let t = trial(s, mid)?;
            all.push(t.clone());
            if t.fits {
                good = mid;
                best = Some(t);
            } else {
                bad = mid;
            }
        }
    }
    Ok((best, all))
}

/// The Markdown row of a study's result.
pub fn row(
    s: &Study,
    best: &Option<Trial>,
    trials_note: Option<&str>,
    cycles_per_step: Option<f64>,
) -> String {
    let mut o = String::new();
    match best {
        None => {
            let _ = write!(
                o,
                "| {} | none fits: {} (smallest tried) | | | | {} |",
                s.board,
                s.kind.describe(s.lo),
                trials_note.unwrap_or("")
            );
        }
        Some(t) => {
            let res: Vec<String> = t
                .resources
                .iter()
                .filter(|(_, u, _)| *u > 0)
                .filter(|(b, _, _)| !b.contains("IO") && !b.contains("OSC"))
                .map(|(b, u, a)| format!("{b} {u}/{a}"))
                .collect();
            let fmax = t.fmax_mhz.unwrap_or(f64::NAN);
            let sps = cycles_per_step
                .map(|c| format!("{:.0}", fmax * 1e6 / c))
                .unwrap_or_else(|| "-".into());
            let _ = write!(
                o,
                "| {} | {} | {} | {:.1} | {} | {} |",
                s.board,
                s.kind.describe(t.n),
                if s.hardware.is_empty() {
                    "defaults".to_string()
                } else {
                    s.hardware.replace('\n', ", ")
                },
                fmax,
                sps,
                res.join(", ")
            );
        }
    }
    o
}

/// The repository root for `make` (the folder with the Makefile).
pub fn check_root() -> Result<()> {
    if !Path::new("Makefile").exists() || !Path::new("configs").exists() {
        bail!("run phasegen capacity from the repository root (it runs `make report`)");
    }
    Ok(())
}
