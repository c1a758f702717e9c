//! `phasegen capacity`: the largest network that fits a board.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Find the largest network that places and routes on a board with
/// timing met (runs `make report` for each size; minutes per size), then
/// simulate it to count its cycles per step. With several boards or
/// kinds, each board and kind is a job (one row of the table; --engine,
/// docs/cluster.md).
#[derive(clap::Args)]
pub struct Args {
    /// Boards to build for, comma-separated, e.g. icebreaker or
    /// icebreaker,ulx3s-85f (an unknown name lists the known ones).
    #[arg(long, value_delimiter = ',', required = true)]
    board: Vec<String>,
    /// Shapes of the network, comma-separated (full, layered, learn: 64-N-10
    /// on the digits as a learning design, memory: N fully connected
    /// oscillators that learn patterns on chip, Hebbian).
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    kind: Vec<crate::capacity::Kind>,
    /// First size tried (oscillators of the full net or the memory /
    /// hidden size); default: per board and kind, near the block RAM's
    /// limit.
    #[arg(long)]
    lo: Option<usize>,
    /// Largest size tried (default: per board and kind).
    #[arg(long)]
    hi: Option<usize>,
    /// Grow the size by this factor while it fits, before bisecting.
    #[arg(long, default_value_t = 1.5)]
    grow: f64,
    /// Stop when the bracket is narrower than this fraction.
    #[arg(long, default_value_t = 0.1)]
    resolution: f64,
    /// Multiply-accumulate lanes (default: as many as the part's DSPs
    /// allow, at most 16; 2 on the HX8K; at most 8 for memory, whose RAM
    /// words the simulation writes through 64-bit ports).
    #[arg(long)]
    lanes: Option<u32>,
    /// Where the input weights live: rom, ram or auto (default: ram for
    /// MNIST on the UP5K, whose SPRAM holds it; rom otherwise).
    #[arg(long)]
    u_memory: Option<String>,
    /// How the coupling stream reads W: rows, or pairs (each pair's
    /// weight once; fully connected only). Default: pairs for --kind
    /// full, rows for layered.
    #[arg(long)]
    coupling: Option<String>,
    /// Further [hardware] lines, comma-separated, e.g. "amp_bits = 8".
    #[arg(long, default_value = "")]
    hardware: String,
    /// Free and nudged steps simulated to count the cycles per step of
    /// the largest design (a whole inference follows); 0: no simulation.
    #[arg(long, default_value_t = 4)]
    sim_steps: u32,
    /// Build folder of the trials.
    #[arg(long, default_value = "build/capacity")]
    dir: PathBuf,
    /// Append the result row (Markdown) to this file (default: none; the
    /// row is printed either way).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    job: crate::jobs::JobArgs,
    /// One job: write the row of the one --board and --kind to this file
    /// (what --engine runs; default: none).
    #[arg(long)]
    row_out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    use crate::jobs::{run_merge, Engine, Task};
    crate::capacity::check_root()?;
    args.job.check()?;
    if !(0.0..1.0).contains(&args.resolution) || args.resolution == 0.0 {
        bail!(
            "--resolution {}: give a fraction in (0, 1), e.g. 0.1",
            args.resolution
        );
    }
    for b in &args.board {
        phasegen_sim::board::board(b).context("--board")?;
    }
    let one = args.board.len() == 1 && args.kind.len() == 1;
    if one && args.job.engine.is_none() {
        let row = study_row(&args, &args.board[0], args.kind[0])?;
        println!("{row}");
        if let Some(p) = &args.out {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open {}", p.display()))?;
            writeln!(f, "{row}")?;
        }
        if let Some(p) = &args.row_out {
            write_row(p, &row)?;
        }
        return Ok(());
    }
    if args.row_out.is_some() {
        bail!("--row-out writes one row: give one --board and one --kind");
    }
    if args.out.is_some() {
        bail!("--out appends one row: with several boards or kinds the table is printed (and each row kept in --results)");
    }
    // one job per board and kind, each writing <results>/<board>/<kind>.row
    let dir = args.job.folder(args.dir.clone())?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let trials = crate::jobs::abs(&args.dir)?;
    let mut tasks = vec![];
    for b in &args.board {
        for &k in &args.kind {
            let out = dir.join(b).join(format!("{}.row", kind_name(k)));
            std::fs::create_dir_all(dir.join(b))
                .with_context(|| format!("cannot create {}", dir.join(b).display()))?;
            tasks.push(Task {
                argv: piece_argv(&args, b, k, &trials, &out),
                out,
                what: format!("{b} {}", kind_name(k)),
            });
        }
    }
    let rows = run_merge(
        &args.job,
        args.job.engine.unwrap_or(Engine::Local),
        &dir,
        "capacity",
        &tasks,
        |t| {
            std::fs::read_to_string(&t.out)
                .with_context(|| format!("cannot read {}", t.out.display()))
        },
    )?;
    print!("{}", crate::capacity::HEADER);
    for r in rows {
        print!("{r}");
    }
    Ok(())
}

/// `full`, `layered`, `learn` or `memory`, as `--kind` takes it.
fn kind_name(k: crate::capacity::Kind) -> String {
    format!("{k:?}").to_lowercase()
}

/// The command line of one board and kind's job: this command's study
/// flags, with the trials in `trials` and the row into `out`.
fn piece_argv(
    a: &Args,
    board: &str,
    kind: crate::capacity::Kind,
    trials: &str,
    out: &Path,
) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "capacity".into(),
        "--board".into(),
        board.into(),
        "--kind".into(),
        kind_name(kind),
        format!("--grow={}", a.grow),
        format!("--resolution={}", a.resolution),
        format!("--hardware={}", a.hardware),
        format!("--sim-steps={}", a.sim_steps),
        format!("--dir={trials}"),
    ];
    let mut opt = |flag: &str, v_: Option<String>| {
        if let Some(x) = v_ {
            v.push(format!("--{flag}={x}"));
        }
    };
    opt("lo", a.lo.map(|x| x.to_string()));
    opt("hi", a.hi.map(|x| x.to_string()));
    opt("lanes", a.lanes.map(|x| x.to_string()));
    opt("u-memory", a.u_memory.clone());
    opt("coupling", a.coupling.clone());
    v.extend(["--row-out".into(), out.display().to_string()]);
    v
}

/// The row and a newline into `p`, through a temporary file (a row file
/// that exists is complete).
fn write_row(p: &Path, row: &str) -> Result<()> {
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, format!("{row}\n"))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, p).with_context(|| format!("cannot write {}", p.display()))
}

/// The study of one board and kind: its trials, the simulation of the
/// largest that fits, the trials log; returns the table row.
fn study_row(args: &Args, board: &str, kind: crate::capacity::Kind) -> Result<String> {
    let Args {
        lo,
        hi,
        grow,
        resolution,
        lanes,
        u_memory,
        coupling,
        hardware,
        sim_steps,
        dir,
        ..
    } = args;
    let (lo, hi, grow, resolution, lanes, sim_steps) =
        (*lo, *hi, *grow, *resolution, *lanes, *sim_steps);
    let board = board.to_string();
    use crate::capacity as cap;
    let coupling = match coupling.as_deref() {
        None => cap::default_coupling(kind),
        Some("rows") => phasegen_sim::config::Coupling::Rows,
        Some("pairs") => phasegen_sim::config::Coupling::Pairs,
        Some(o) => bail!("--coupling {o}: give rows or pairs"),
    };
    let lanes = match lanes {
        Some(l) => l,
        None => cap::default_lanes(&board, kind, coupling)?,
    };
    let (dlo, dhi) = cap::default_range(&board, kind, coupling)?;
    if !(1..=cap::MAX_LANES).contains(&lanes) {
        bail!("--lanes {lanes}: give 1 to {}", cap::MAX_LANES);
    }
    let u_memory = match u_memory.as_deref() {
        None => cap::u_memory(&board, kind)?,
        Some("rom") => phasegen_sim::config::UMemory::Rom,
        Some("ram") => phasegen_sim::config::UMemory::Ram,
        Some("auto") => phasegen_sim::config::UMemory::Auto,
        Some(o) => bail!("--u-memory {o}: give rom, ram or auto"),
    };
    let s = cap::Study {
        board: board.clone(),
        kind,
        lanes,
        u_memory,
        coupling,
        hardware: hardware.replace(',', "\n"),
        lo: lo.unwrap_or(dlo),
        hi: hi.unwrap_or(dhi),
        grow,
        resolution,
        dir: dir.join(&board),
        make: std::env::var("MAKE").unwrap_or_else(|_| "make".into()),
    };
    let t0 = Instant::now();
    let (search, trials) = cap::largest(&s)?;
    let best = search
        .best
        .and_then(|n| trials.iter().rev().find(|t| t.n == n));
    let cycles = match best {
        Some(t) if sim_steps > 0 => match cap::check_cycles(&t.dir, sim_steps) {
            Ok(c) => {
                eprintln!(
                    "  simulated {} ({} steps, RTL = twin): schedule {} cycles/step, \
                     measured {:?} (verilated in {:.0} s, simulated in {:.0} s)",
                    kind.describe(t.n),
                    c.steps,
                    c.schedule,
                    (c.intervals.iter().min(), c.intervals.iter().max()),
                    c.build_secs,
                    c.sim_secs
                );
                if !c.agrees() {
                    eprintln!(
                        "  WARNING: the simulated steps do not all last the schedule's count"
                    );
                }
                Some(Ok(c))
            }
            Err(e) => {
                eprintln!("  WARNING: simulating {} failed: {e:#}", t.dir.display());
                Some(Err(format!("{e:#}")))
            }
        },
        _ => None,
    };
    // a Hebbian memory's time per stored pattern
    let imprint = match best {
        Some(t) if kind == cap::Kind::Memory => match cap::imprint_cycles_at(&t.dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "  WARNING: no imprint cycles for {}: {e:#}",
                    t.dir.display()
                );
                None
            }
        },
        _ => None,
    };
    let row = cap::row(
        &s,
        &search,
        &trials,
        cycles.as_ref().map(|c| c.as_ref().map_err(|e| e.as_str())),
        imprint,
    )?;
    // the trials, for build/capacity/<board>/<kind>-trials.md
    let mut log = format!(
        "# {} {:?}: lanes {}, {}, sizes from {} (x{} while they fit, at most {}), resolution {}\n\n| size | fits | Fmax (MHz) | build (s) | note |\n|---|---|---|---|---|\n",
        board,
        kind,
        lanes,
        s.formats(),
        s.lo,
        s.grow,
        s.hi,
        s.resolution
    );
    for t in &trials {
        log.push_str(&format!(
            "| {} | {} | {} | {:.0} | {} |\n",
            t.n,
            if t.fits { "yes" } else { "no" },
            t.fmax_mhz.map(|f| format!("{f:.1}")).unwrap_or_default(),
            t.secs,
            t.note.replace('|', "/")
        ));
        eprintln!(
            "  trial {}: {}{}",
            t.n,
            if t.fits { "fits" } else { "no" },
            if t.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", t.note)
            }
        );
    }
    log.push_str(&format!(
        "\ntotal {:.0} s (builds and simulation)\n\n{row}\n",
        t0.elapsed().as_secs_f64()
    ));
    let lp = s
        .dir
        .join(format!("{}-trials.md", format!("{kind:?}").to_lowercase()));
    std::fs::create_dir_all(&s.dir)?;
    std::fs::write(&lp, log).with_context(|| format!("cannot write {}", lp.display()))?;
    eprintln!("  trials written to {}", lp.display());
    Ok(row)
}
