//! `phasegen bench-ap`: phase against amplitude-phase oscillators (issue
//! 18), printed as Markdown tables: accuracy and training speed of the
//! repo's configs with each oscillator model (the same config, split,
//! epochs and seed; only `network.oscillator` differs), and the accuracy
//! against frequency dispersion.
//!
//! Every figure comes from a run made by this command.

use anyhow::{Context, Result};
use phasegen_sim::config::{Config, Oscillator};
use phasegen_sim::data::{load_dir, Split};
use phasegen_sim::onn::kind::Network;
use phasegen_sim::onn::train::{self, EpochLog};
use std::fmt::Write as _;
use std::path::Path;

/// What to run.
#[derive(Debug, Clone)]
pub struct ApBenchOptions {
    /// Digits only, a small network and 2 epochs: checks that the bench runs.
    pub quick: bool,
    /// Skip 784-512-10 (the longest runs).
    pub no_mnist_512: bool,
    /// Device instances each clean-trained network is evaluated on per
    /// dispersion.
    pub instances: u64,
}

/// Relative dispersions of the robustness table.
pub const DISPERSIONS: [f64; 4] = [0.0, 0.02, 0.05, 0.10];

const KINDS: [Oscillator; 2] = [Oscillator::Phase, Oscillator::AmplitudePhase];

fn config(path: &str, quick: bool) -> Result<Config> {
    let mut c = Config::load(Path::new(path))
        .with_context(|| format!("bench-ap needs {path} (run it from the repository root)"))?;
    if quick {
        c.network.layers = vec![16, 10];
        c.train.epochs = 2;
        c.train.max_train = 400;
        c.train.t1 = c.train.t1.min(20);
        c.train.t2 = c.train.t2.min(8);
    }
    Ok(c)
}

fn with_kind(c: &Config, kind: Oscillator, dispersion: f64) -> Config {
    let mut c = c.clone();
    c.network.oscillator = kind;
    c.train.dispersion = dispersion;
    c
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Trains `cfg` on `split`, returning the per-epoch logs and the network.
fn run(cfg: &Config, split: &Split) -> Result<(Vec<EpochLog>, Network)> {
    let mut logs = Vec::new();
    let kind = cfg.network.oscillator.name();
    let (net, _) = Network::train(
        cfg,
        split,
        &mut |l| {
            eprintln!(
                "  [{} {kind} d={}] epoch {:3}  test {:.2}%  {:.2} s",
                cfg.name,
                cfg.train.dispersion,
                l.epoch,
                100.0 * l.test_acc,
                l.train_seconds
            );
            logs.push(l.clone());
        },
        &mut |_| {},
    )
    .with_context(|| format!("training {} with {kind} oscillators", cfg.name))?;
    Ok((logs, net))
}

fn pct(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

fn shape(c: &Config) -> String {
    let l: Vec<String> = c.network.layers.iter().map(|s| s.to_string()).collect();
    format!("{}-{}", c.network.inputs, l.join("-"))
}

/// Runs the bench and returns its Markdown.
pub fn bench_ap(o: &ApBenchOptions) -> Result<String> {
    let mut md = String::new();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    writeln!(
        md,
        "Machine: {threads} hardware thread(s), `phasegen bench-ap{}{}`.\n",
        if o.quick { " --quick" } else { "" },
        if o.no_mnist_512 {
            " --no-mnist-512"
        } else {
            ""
        }
    )?;
    let mut configs = vec!["configs/digits.toml"];
    if !o.quick {
        configs.push("configs/mnist-100.toml");
        if !o.no_mnist_512 {
            configs.push("configs/mnist-512.toml");
        }
    }
    let mut splits = std::collections::BTreeMap::new();
    let mut clean = Vec::new();
    writeln!(md, "### Accuracy and speed\n")?;
    writeln!(
        md,
        "Each config as it is in the repo, once with phase and once with amplitude-phase oscillators (`network.oscillator`; everything else the same: split, epochs, seed, optimizer, settles). Test accuracy (%) after epochs 1 to 5, the best epoch on the test set (optimistic), and the last; training seconds per epoch (median over the epochs, test evaluation excluded).\n"
    )?;
    writeln!(
        md,
        "| config | network | oscillators | epochs | s/epoch | 1 | 2 | 3 | 4 | 5 | best | final |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )?;
    for path in &configs {
        let base = config(path, o.quick)?;
        let dir = base.train.data.clone();
        let split = load_dir(Path::new(&dir))?;
        for kind in KINDS {
            let cfg = with_kind(&base, kind, base.train.dispersion);
            let (logs, net) = run(&cfg, &split)?;
            let first: Vec<String> = (0..5)
                .map(|i| logs.get(i).map_or("-".into(), |l| pct(l.test_acc)))
                .collect();
            let best = logs.iter().map(|l| l.test_acc).fold(0.0, f64::max);
            let last = logs.last().map_or(f64::NAN, |l| l.test_acc);
            writeln!(
                md,
                "| `{path}` | {} | {} | {} | {:.2} | {} | {} | {} |",
                shape(&cfg),
                kind.name(),
                cfg.train.epochs,
                median(logs.iter().map(|l| l.train_seconds).collect()),
                first.join(" | "),
                pct(best),
                pct(last)
            )?;
            if base.train.dispersion == 0.0 && path != &"configs/mnist-512.toml" {
                clean.push((path.to_string(), kind, net, last));
            }
        }
        splits.insert(path.to_string(), split);
    }

    writeln!(md, "\n### Frequency dispersion\n")?;
    writeln!(
        md,
        "Test accuracy (%) after the last epoch against the relative frequency dispersion `d` (the standard deviation of `δω`, in units of the unit coupling frequency). *Trained at d*: the config trained with `train.dispersion = d`, on its own device instance, and evaluated there (training in place, as Rageau & Grollier do). *Clean, new devices*: the network trained at `d = 0`, evaluated with `δω` redrawn at `d` for {} device instance(s) (`phasegen eval --dispersion d --seed 1..{}`; mean).\n",
        o.instances, o.instances
    )?;
    write!(md, "| config | oscillators |")?;
    for d in DISPERSIONS {
        write!(md, " trained at {}% |", 100.0 * d)?;
    }
    for d in DISPERSIONS.iter().skip(1) {
        write!(md, " clean, new devices at {}% |", 100.0 * d)?;
    }
    writeln!(
        md,
        "\n|---|---|{}",
        "---|".repeat(2 * DISPERSIONS.len() - 1)
    )?;
    for (path, kind, net, last) in &clean {
        let split = &splits[path];
        let base = with_kind(&config(path, o.quick)?, *kind, 0.0);
        write!(md, "| `{path}` | {} | {} |", kind.name(), pct(*last))?;
        for &d in DISPERSIONS.iter().skip(1) {
            let (logs, _) = run(&with_kind(&base, *kind, d), split)?;
            write!(
                md,
                " {} |",
                pct(logs.last().map_or(f64::NAN, |l| l.test_acc))
            )?;
        }
        let s = train::free_settle(&base.train);
        for &d in DISPERSIONS.iter().skip(1) {
            let mut sum = 0.0;
            for seed in 1..=o.instances {
                let mut n = net.clone();
                let dw = n.domega_mut();
                *dw = train::draw_dispersion(dw.len(), d, seed);
                sum += n.evaluate(&split.test, &s, seed).0;
            }
            write!(md, " {} |", pct(sum / o.instances as f64))?;
        }
        writeln!(md)?;
    }
    Ok(md)
}
