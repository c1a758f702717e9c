//! `phasegen reduce`: phase reduction of a physical oscillator (its PRC
//! and coupling function `H`, checked against direct simulation), and
//! `phasegen reduce alpha-sweep`: where EP breaks as the coupling's phase
//! lag grows (docs/reduction.md).

use crate::plot::{render, Chart, Series, PALETTE};
use anyhow::{bail, Context, Result};
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::coupling::CouplingFn;
use phasegen_sim::reduce::check::{Check, Reduction};
use phasegen_sim::reduce::config::ReduceConfig;
use phasegen_sim::reduce::ep;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Phase reduction of a physical oscillator: the limit cycle, the phase
/// response curve Z(θ) (adjoint method), the coupling function H(ψ) and
/// its harmonics, checked against two coupled copies simulated directly
/// (locking offset, locked frequency, locking range). Writes prc.svg,
/// h.svg and reduce.md into --out.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    sub: Option<Sub>,
    /// The oscillator file (TOML, e.g. configs/reduce/vdp-resistive.toml;
    /// needed unless a subcommand is given, no default).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Folder for the plots and the report (default: build/reduce/<the
    /// config's file stem>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Skip the direct simulation (the reduction alone takes well under a second).
    #[arg(long)]
    no_check: bool,
    /// Relative width to which the measured locking range is bisected.
    #[arg(long, default_value_t = 0.01)]
    range_tol: f64,
}

#[derive(clap::Subcommand)]
enum Sub {
    AlphaSweep(SweepArgs),
}

/// Where EP breaks: against the Sakaguchi lag α of the coupling function
/// H(ψ) = sin(ψ − α), (a) the cosine between EP's update and the true
/// gradient on small networks, (b) the digits test accuracy after a short
/// training; and the same for the coupling functions of oscillator files.
/// The oscillators' rows use the diffusive form (H(0) = 0). Writes
/// alpha.md and alpha.svg into --out.
#[derive(clap::Args)]
struct SweepArgs {
    /// The lags α (rad), comma-separated, each in −π/2..=π/2.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,0.01,0.02,0.05,0.1,0.2,0.3,0.5,0.8"
    )]
    alphas: Vec<f64>,
    /// Small networks the gradient cosine is averaged over.
    #[arg(long, default_value_t = 12)]
    networks: usize,
    /// Training epochs of each digits run (configs/digits.toml otherwise).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Training seeds of each digits run (1..=seeds, mean reported; 0 skips the training).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Also sweep the diffusive form H(ψ) = sin(ψ − α) + sin α (H(0) = 0).
    #[arg(long)]
    diffusive: bool,
    /// Oscillator files whose reduced H (as train.alpha and train.harmonics)
    /// get rows too (default: none).
    #[arg(long, num_args = 1..)]
    oscillators: Vec<PathBuf>,
    /// Data folder (default: the digits config's train.data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "build/reduce")]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(Sub::AlphaSweep(a)) = args.sub {
        return sweep(a);
    }
    let Some(config) = args.config else {
        bail!("give the oscillator file with --config (e.g. configs/reduce/vdp-resistive.toml), or a subcommand (alpha-sweep)");
    };
    if !(args.range_tol > 0.0 && args.range_tol <= 0.5) {
        bail!(
            "--range-tol = {} is out of range; give a fraction in (0, 0.5], e.g. 0.01",
            args.range_tol
        );
    }
    let cfg = ReduceConfig::load(&config)?;
    let out = args.out.unwrap_or_else(|| {
        let stem = config
            .file_stem()
            .map_or("reduce".into(), |s| s.to_string_lossy().into_owned());
        Path::new("build/reduce").join(stem)
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create folder {}", out.display()))?;
    let t0 = Instant::now();
    let r = Reduction::new(&cfg)?;
    let mut report = format!("# Phase reduction of {}\n\n```\n", config.display());
    let table = r.table();
    let (head, rows) = table.split_once("\n\n").unwrap_or((&table, ""));
    report.push_str(head);
    report.push_str("\n```\n\n");
    report.push_str(rows);
    print!("{table}");
    println!("reduction: {:.2} s", t0.elapsed().as_secs_f64());
    if !args.no_check {
        let t1 = Instant::now();
        let c = Check::run(&r, args.range_tol);
        let k = &cfg.check;
        let line = format!(
            "\ncheck against two coupled copies (epsilon = {}, RK4 {} steps per period, {} periods observed per run after as many of transient; {:.1} s):\n\n",
            k.epsilon,
            k.steps,
            k.periods,
            t1.elapsed().as_secs_f64()
        );
        let ct = c.table(r.cycle.omega);
        print!("{line}{ct}");
        report.push_str(&line);
        report.push_str(&ct);
    }
    let prc = prc_chart(&r);
    let h = h_chart(&r);
    for (name, text) in [
        ("prc.svg", render(&[prc])),
        ("h.svg", render(&[h])),
        ("reduce.md", report),
    ] {
        let p = out.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    println!("wrote {}/prc.svg, h.svg, reduce.md", out.display());
    Ok(())
}

fn prc_chart(r: &Reduction) -> Chart {
    let m = r.cycle.m;
    let theta = |k: usize| std::f64::consts::TAU * k as f64 / m as f64;
    let names = match r.osc {
        phasegen_sim::reduce::oscillator::Oscillator::VanDerPol { .. } => ["Z_x", "Z_y (node)"],
        _ => ["Z_v (node)", "Z_j (j = sqrt(L/C) i_L)"],
    };
    Chart {
        title: format!(
            "phase response curve: {}",
            r.osc.describe().split(',').next().unwrap_or("")
        ),
        x_label: "phase θ (rad; 0 at the upward zero crossing)".into(),
        y_label: "Z(θ) (rad per unit of state)".into(),
        series: (0..2)
            .map(|d| {
                Series::new(
                    names[d],
                    PALETTE[d],
                    (0..=m).map(|k| (theta(k), r.prc.z[k % m][d])).collect(),
                )
            })
            .collect(),
        ..Chart::default()
    }
}

fn h_chart(r: &Reduction) -> Chart {
    let n = 256;
    let pts = |f: &dyn Fn(f64) -> f64| {
        (0..=n)
            .map(|k| {
                let psi = -std::f64::consts::PI + std::f64::consts::TAU * k as f64 / n as f64;
                (psi, f(psi))
            })
            .collect::<Vec<_>>()
    };
    let h = &r.h;
    Chart {
        title: format!("coupling function H(ψ), {} coupling", r.cfg.coupling.name()),
        x_label: "ψ = θ_j − θ_i (rad)".into(),
        y_label: "H(ψ) (rad per time unit per unit ε)".into(),
        series: vec![
            Series::new("H", PALETTE[0], pts(&|p| h.eval(p))),
            Series::new("odd part", PALETTE[1], pts(&|p| h.odd(p))),
            Series::new("even part", PALETTE[2], pts(&|p| h.even(p))),
        ],
        ..Chart::default()
    }
}

/// One row of the sweep: a coupling function and its figures.
struct Row {
    label: String,
    alpha: f64,
    cos: ep::CosineRow,
    acc: Vec<f64>,
}

fn sweep(a: SweepArgs) -> Result<()> {
    for &al in &a.alphas {
        if al.is_nan() || al.abs() > std::f64::consts::FRAC_PI_2 {
            bail!("--alphas: {al} is out of range; give lags in −π/2..=π/2 (−1.5707..=1.5707)");
        }
    }
    if a.networks == 0 || a.networks > 200 {
        bail!("--networks = {} is out of range; give 1..=200", a.networks);
    }
    let lag = |al: f64, diffusive: bool| CouplingFn {
        alpha: al as f32,
        harmonics: Vec::new(),
        diffusive,
    };
    let mut cases: Vec<(String, CouplingFn)> = a
        .alphas
        .iter()
        .map(|&al| (format!("sin(ψ − {al})"), lag(al, false)))
        .collect();
    if a.diffusive {
        cases.extend(
            a.alphas
                .iter()
                .filter(|&&al| al != 0.0)
                .map(|&al| (format!("sin(ψ − {al}) + sin {al}"), lag(al, true))),
        );
    }
    for f in &a.oscillators {
        let cfg = ReduceConfig::load(f)?;
        let r = Reduction::new(&cfg)?;
        let (c, scale) = r.h.network_coupling(cfg.harmonics);
        eprintln!(
            "{}: H = {scale:.5} (sin(ψ − {:.5}) + Σ c_n sin nψ) + rest, c = {:?}",
            f.display(),
            c.alpha,
            c.harmonics
        );
        cases.push((format!("diffusive H of {}", f.display()), c));
    }
    let t0 = Instant::now();
    let nets = ep::networks(a.networks);
    let cos: Vec<ep::CosineRow> = cases
        .par_iter()
        .map(|(_, c)| ep::gradient_cosine(c, &nets))
        .collect();
    eprintln!("gradient cosines: {:.1} s", t0.elapsed().as_secs_f64());
    let split = if a.seeds > 0 {
        let dir = a.data.clone().unwrap_or_else(|| {
            PathBuf::from(phasegen_sim::config::Config::default_config().train.data)
        });
        Some(load_dir(&dir)?)
    } else {
        None
    };
    let mut rows = Vec::new();
    for ((label, c), cos) in cases.iter().zip(cos) {
        let mut acc = Vec::new();
        if let Some(s) = &split {
            for seed in 1..=a.seeds {
                acc.push(ep::digits_accuracy(s, c, a.epochs, seed)?);
            }
        }
        eprintln!(
            "{label}: cosine {:.4} (min {:.4}), settled {}/{}, accuracy {:?}",
            cos.symmetric.0, cos.symmetric.1, cos.settled, cos.networks, acc
        );
        rows.push(Row {
            label: label.clone(),
            alpha: c.alpha as f64,
            cos,
            acc,
        });
    }
    let md = sweep_table(&a, &nets, &rows);
    print!("{md}");
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create folder {}", a.out.display()))?;
    let (pm, ps) = (a.out.join("alpha.md"), a.out.join("alpha.svg"));
    std::fs::write(&pm, &md).with_context(|| format!("cannot write {}", pm.display()))?;
    std::fs::write(&ps, sweep_plot(&rows, a.alphas.len()))
        .with_context(|| format!("cannot write {}", ps.display()))?;
    println!(
        "wrote {} and {} ({:.0} s)",
        pm.display(),
        ps.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn sweep_table(a: &SweepArgs, nets: &[u64], rows: &[Row]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "EP (beta = 0.01) against central finite differences of the cost at the free state, on {} small networks (3 inputs, 3-2 oscillators; seeds {:?}); the digits network of configs/digits.toml trained {} epochs, seeds 1..={}, test accuracy (360 samples):\n",
        nets.len(),
        nets,
        a.epochs,
        a.seeds
    );
    let _ = writeln!(o, "| coupling H | alpha (rad) | cosine, symmetric: mean / min | one-sided: mean / min | fixed points | largest dθ/dt left | cosine undefined | digits test accuracy (%): mean | per seed |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let acc = if r.acc.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            (
                format!(
                    "{:.2}",
                    100.0 * r.acc.iter().sum::<f64>() / r.acc.len() as f64
                ),
                r.acc
                    .iter()
                    .map(|v| format!("{:.2}", 100.0 * v))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        let _ = writeln!(
            o,
            "| {} | {:.3} | {:.4} / {:.4} | {:.4} / {:.4} | {}/{} | {:.1e} | {} | {} | {} |",
            r.label,
            r.alpha,
            r.cos.symmetric.0,
            r.cos.symmetric.1,
            r.cos.one_sided.0,
            r.cos.one_sided.1,
            r.cos.settled,
            r.cos.networks,
            r.cos.residual,
            r.cos.undefined,
            acc.0,
            acc.1
        );
    }
    o
}

fn sweep_plot(rows: &[Row], n_alpha: usize) -> String {
    let lag: Vec<&Row> = rows[..n_alpha].iter().collect();
    let diff: Vec<&Row> = rows[n_alpha..]
        .iter()
        .filter(|r| r.label.starts_with("sin("))
        .collect();
    let line = |name: &str, k: usize, rows: &[&Row], f: &dyn Fn(&Row) -> Option<f64>| Series {
        dots: true,
        ..Series::new(
            name,
            PALETTE[k],
            rows.iter()
                .filter_map(|r| f(r).map(|v| (r.alpha, v)))
                .collect(),
        )
    };
    let mean = |r: &Row| Some(r.cos.symmetric.0);
    let fixed = |r: &Row| Some(r.cos.settled as f64 / r.cos.networks as f64);
    let acc = |r: &Row| {
        (!r.acc.is_empty()).then(|| 100.0 * r.acc.iter().sum::<f64>() / r.acc.len() as f64)
    };
    let cos = Chart {
        title: "EP update against the true gradient (small networks)".into(),
        x_label: "phase lag α (rad)".into(),
        y_label: "cosine similarity; fraction at a fixed point".into(),
        series: vec![
            line("sin(ψ − α): cosine, mean", 0, &lag, &mean),
            line("sin(ψ − α): min", 1, &lag, &|r| Some(r.cos.symmetric.1)),
            line("sin(ψ − α): fixed points", 2, &lag, &fixed),
            line("diffusive: cosine, mean", 4, &diff, &mean),
            line("diffusive: fixed points", 5, &diff, &fixed),
        ],
        ..Chart::default()
    };
    let accuracy = Chart {
        title: "digits test accuracy after a short training".into(),
        x_label: "phase lag α (rad)".into(),
        y_label: "accuracy (%), mean over seeds".into(),
        series: vec![
            line("sin(ψ − α)", 3, &lag, &acc),
            line("diffusive", 4, &diff, &acc),
        ],
        ..Chart::default()
    };
    render(&[cos, accuracy])
}
