//! `phasegen bench-train`: the training engine's speed and accuracy figures
//! (issue 3's targets), printed as Markdown tables.
//!
//! Every figure comes from a run made by this command: nothing is assumed.
//! The peers' figures are the ones measured on this machine kind for the
//! issue (quoted in docs/training.md with their source), only for the ratio
//! column.

use anyhow::{Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::data::{load_dir, Split};
use phasegen_sim::onn::net::Params;
use phasegen_sim::onn::train::{self, EpochLog};
use std::fmt::Write as _;
use std::path::Path;

/// Seconds per epoch of the peers, same network, data and settle lengths
/// (784-512-10, mnist-10k, T1 = 30, T2 = 10): the oscillator-EP PyTorch code
/// with symmetric nudging, and the plain-EP (Hopfield) code.
pub const PEER_OSC_EP_S: f64 = 27.6;
pub const PEER_PLAIN_EP_S: f64 = 7.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Small sizes and few epochs: checks that the bench runs (for tests).
    pub quick: bool,
    /// Epochs timed for the speed figure (median reported).
    pub speed_epochs: usize,
    /// Skip the accuracy runs.
    pub no_accuracy: bool,
    /// Skip the robustness table.
    pub no_robustness: bool,
}

/// A config file of the repo (paths are relative to the repository root).
fn config(path: &str) -> Result<Config> {
    Config::load(Path::new(path))
        .with_context(|| format!("bench-train needs {path} (run it from the repository root)"))
}

/// Quick mode: a small network and short settles, so the whole bench takes
/// seconds.
fn shrink(c: &mut Config) {
    c.network.layers = vec![32, 10];
    c.train.epochs = c.train.epochs.min(2);
    c.train.t1 = c.train.t1.min(20);
    c.train.t2 = c.train.t2.min(8);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Trains `cfg` on `split`, returning the per-epoch logs.
fn run(cfg: &Config, split: &Split) -> Result<(Vec<EpochLog>, Params)> {
    let mut logs = Vec::new();
    let p = train::train(cfg, split, &mut |l, _| {
        eprintln!(
            "  [{}] epoch {:3}  train {:.2}%  test {:.2}%  {:.2} s",
            cfg.name,
            l.epoch,
            100.0 * l.train_acc,
            100.0 * l.test_acc,
            l.train_seconds
        );
        logs.push(l.clone());
    })?
    .params;
    Ok((logs, p))
}

fn pct(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// Runs the benchmark and returns the Markdown report.
pub fn bench_train(o: &BenchOptions) -> Result<String> {
    let mut md = String::new();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mnist_dir = "data/mnist-10k";
    let (mnist, digits) = if o.quick {
        (None, load_dir(Path::new("data/digits-8x8"))?)
    } else {
        (
            Some(load_dir(Path::new(mnist_dir))?),
            load_dir(Path::new("data/digits-8x8"))?,
        )
    };
    writeln!(
        md,
        "Machine: {} hardware threads, `phasegen bench-train{}`.\n",
        threads,
        if o.quick { " --quick" } else { "" }
    )?;

    // ---- speed ----------------------------------------------------------
    let base = config("configs/mnist-512.toml")?;
    let (speed_split, speed_name) = match &mnist {
        Some(m) => (m, "784-512-10 on mnist-10k (8000 train / 2000 test)"),
        None => (&digits, "64-64-10 on digits-8x8 (quick mode)"),
    };
    let speed_cfg = |hidden: usize, t1: usize, t2: usize| {
        let mut c = base.clone();
        c.name = format!("speed-{hidden}-{t1}-{t2}");
        c.network.inputs = speed_split.train.pixels();
        c.network.layers = vec![hidden, 10];
        c.train.t1 = t1;
        c.train.t2 = t2;
        c.train.symmetric = true;
        c.train.batch = 50;
        c.train.tol = 0.0;
        c.train.augment = 0.0;
        c
    };
    let mut c = speed_cfg(if o.quick { 64 } else { 512 }, 30, 10);
    c.train.epochs = o.speed_epochs;
    let (logs, _) = run(&c, speed_split)?;
    let rss = peak_rss_mib();
    let mut tr: Vec<f64> = logs.iter().map(|l| l.train_seconds).collect();
    let mut ev: Vec<f64> = logs.iter().map(|l| l.seconds - l.train_seconds).collect();
    let (tr, ev) = (median(&mut tr), median(&mut ev));
    let n = speed_split.train.len() as f64;
    let steps = logs[0].steps_per_sample;
    writeln!(md, "## Speed\n")?;
    writeln!(
        md,
        "{speed_name}, T1 = 30, T2 = 10, symmetric nudging (3 settles per sample: {steps:.0} Euler steps), batch 50; median of {} epochs.\n",
        logs.len()
    )?;
    writeln!(md, "| measure | value |\n|---|---|")?;
    writeln!(md, "| training, s/epoch | {tr:.2} |")?;
    writeln!(
        md,
        "| test evaluation ({} samples, T1 steps), s | {ev:.2} |",
        speed_split.test.len()
    )?;
    writeln!(md, "| training samples/s | {:.0} |", n / tr)?;
    writeln!(
        md,
        "| oscillator-steps/s (N = {}) | {:.3e} |",
        c.network.layers.iter().sum::<usize>(),
        n * steps * c.network.layers.iter().sum::<usize>() as f64 / tr
    )?;
    if let Some(r) = rss {
        writeln!(md, "| peak memory (whole process so far), MiB | {r:.0} |")?;
    }
    if mnist.is_some() {
        writeln!(
            md,
            "| vs oscillator-EP PyTorch code ({PEER_OSC_EP_S} s/epoch) | {:.1}x faster |",
            PEER_OSC_EP_S / tr
        )?;
        writeln!(
            md,
            "| vs plain-EP PyTorch code ({PEER_PLAIN_EP_S} s/epoch) | {:.1}x faster |",
            PEER_PLAIN_EP_S / tr
        )?;
    }
    writeln!(md)?;

    // scaling with hidden size and settle length (one epoch each)
    let hidden: &[usize] = if o.quick {
        &[16, 32]
    } else {
        &[128, 256, 512, 1024]
    };
    let ts: &[(usize, usize)] = if o.quick {
        &[(10, 4)]
    } else {
        &[(15, 5), (30, 10), (60, 20)]
    };
    writeln!(
        md,
        "Scaling: training s/epoch (one epoch each; same data and settings).\n"
    )?;
    write!(md, "| hidden \\ (T1, T2) |")?;
    for (t1, t2) in ts {
        write!(md, " ({t1}, {t2}) |")?;
    }
    writeln!(md, "\n|---|{}", "---|".repeat(ts.len()))?;
    for &h in hidden {
        write!(md, "| {h} |")?;
        for &(t1, t2) in ts {
            let mut c = speed_cfg(h, t1, t2);
            c.train.epochs = 1;
            let (l, _) = run(&c, speed_split)?;
            write!(md, " {:.2} |", l[0].train_seconds)?;
        }
        writeln!(md)?;
    }
    writeln!(md)?;

    // ---- accuracy -------------------------------------------------------
    if !o.no_accuracy {
        writeln!(md, "## Accuracy\n")?;
        writeln!(
            md,
            "Test accuracy (%) after each of the first 5 epochs, best over the run, and at its end.\n"
        )?;
        writeln!(
            md,
            "| config | network | changes | epochs | 1 | 2 | 3 | 4 | 5 | best | final |\n|---|---|---|---|---|---|---|---|---|---|---|"
        )?;
        // (config, data (None = digits), augment override, what changed)
        let mut runs: Vec<(&str, Option<&Split>, Option<f64>, &str)> = Vec::new();
        if let Some(m) = &mnist {
            runs.push(("configs/mnist-512.toml", Some(m), None, "-"));
            runs.push(("configs/mnist-512.toml", Some(m), Some(0.0), "augment = 0"));
            runs.push(("configs/mnist-100.toml", Some(m), None, "-"));
        }
        runs.push(("configs/digits-512.toml", None, None, "-"));
        for (path, split, augment, what) in runs {
            let mut c = config(path)?;
            if let Some(a) = augment {
                c.train.augment = a;
            }
            if o.quick {
                shrink(&mut c);
            }
            let split = split.unwrap_or(&digits);
            let (logs, _) = run(&c, split)?;
            let first: Vec<String> = (0..5)
                .map(|i| logs.get(i).map(|l| pct(l.test_acc)).unwrap_or("-".into()))
                .collect();
            let best = logs.iter().map(|l| l.test_acc).fold(0f64, f64::max);
            writeln!(
                md,
                "| `{path}` | {}-{} | {what} | {} | {} | {} | {} |",
                c.network.inputs,
                c.network
                    .layers
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
                logs.len(),
                first.join(" | "),
                pct(best),
                pct(logs.last().map(|l| l.test_acc).unwrap_or(0.0))
            )?;
        }
        writeln!(md)?;
    }

    // ---- robustness -----------------------------------------------------
    if !o.no_robustness {
        robustness(o, &digits, &mut md)?;
    }
    Ok(md)
}

/// Accuracy under frequency dispersion and phase noise, for networks trained
/// without and with them (digits-8x8, configs/digits-512.toml's settings).
fn robustness(o: &BenchOptions, digits: &Split, md: &mut String) -> Result<()> {
    // digits-512's settings on a smaller, faster network (3 trainings)
    let mut base = config("configs/digits-512.toml")?;
    base.network.layers = vec![128, 10];
    base.train.batch = 16;
    base.train.epochs = 20;
    base.train.t1 = 60;
    base.train.t2 = 20;
    let instances: u64 = if o.quick { 1 } else { 5 };
    let evals: [(f64, f64); 6] = [
        (0.0, 0.0),
        (0.05, 0.0),
        (0.10, 0.0),
        (0.0, 0.05),
        (0.0, 0.10),
        (0.10, 0.10),
    ];
    let trainings: [(&str, f64, f64); 4] = [
        ("clean (δω = 0, σ = 0)", 0.0, 0.0),
        ("δω 5%", 0.05, 0.0),
        ("δω 10%", 0.10, 0.0),
        ("δω 10%, σ = 0.1", 0.10, 0.10),
    ];
    writeln!(md, "## Robustness\n")?;
    writeln!(
        md,
        "digits-8x8, 64-128-10 with `configs/digits-512.toml`'s settings but batch 16, 20 epochs, T1 = 60, T2 = 20. Test accuracy (%) after the last epoch, evaluated with the frequency dispersion δω (standard deviation, in units of the model's unit frequency) redrawn for {instances} device instance(s) (mean reported) and phase noise σ. The first column evaluates each network on the device it was trained on (its own δω draw, the training noise); the others draw new device instances.\n"
    )?;
    write!(
        md,
        "| trained with \\ evaluated at | its own δω, training σ |"
    )?;
    for (d, s) in evals {
        write!(md, " δω {:.0}%, σ {s} |", 100.0 * d)?;
    }
    writeln!(md, "\n|---|---|{}", "---|".repeat(evals.len()))?;
    for (name, d, s) in trainings {
        let mut c = base.clone();
        c.train.dispersion = d;
        c.train.noise = s;
        if o.quick {
            shrink(&mut c);
        }
        let (logs, p) = run(&c, digits)?;
        // the device it was trained on: the same δω draw and noise level
        write!(
            md,
            "| {name} | {} |",
            pct(logs.last().map(|l| l.test_acc).unwrap_or(0.0))
        )?;
        for (ed, es) in evals {
            let mut acc = 0.0;
            for inst in 0..instances {
                let mut q = p.clone();
                q.domega = train::draw_dispersion(q.topo.n(), ed, 1000 + inst);
                let mut t = c.train.clone();
                t.noise = es;
                let (a, _) = train::evaluate(&q, &digits.test, &train::free_settle(&t), inst);
                acc += a;
            }
            write!(md, " {} |", pct(acc / instances as f64))?;
        }
        writeln!(md)?;
    }
    writeln!(md)?;
    Ok(())
}

/// The SIMD level this machine runs the float kernels with (benchmarks
/// print it: machines differ from run to run).
pub fn simd_level() -> &'static str {
    if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("avx512f") {
        "AVX-512"
    } else if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("avx2") {
        "AVX2"
    } else {
        "baseline"
    }
}
