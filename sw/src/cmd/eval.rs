//! `phasegen eval`: test accuracy of a float model, optionally under other
//! dispersion, noise or settle length.

use super::common::data_dir;
use anyhow::{bail, Result};
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::kind::Network;
use phasegen_sim::onn::train;
use std::path::PathBuf;

/// Evaluate a trained float model (phase or amplitude-phase oscillators) on
/// the test set, optionally with other frequency dispersion, phase noise or
/// settle length than it was trained with.
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Data folder (default: the model config's train.data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Redraw the natural-frequency mismatch δω ~ N(0, d²) of every
    /// oscillator (units of the mean natural frequency; 0.05 = 5%;
    /// default: the model's own δω, drawn with its train.dispersion).
    #[arg(long)]
    dispersion: Option<f64>,
    /// Phase noise σ while settling (default: the model's train.noise).
    #[arg(long)]
    noise: Option<f64>,
    /// Free settle steps (default: the model's train.t1).
    #[arg(long)]
    steps: Option<usize>,
    /// Seed of the redrawn δω and of the noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also evaluate on the training set.
    #[arg(long)]
    train: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        data,
        dispersion,
        noise,
        steps,
        seed,
        train: on_train,
        json,
    } = args;
    let (config, mut p) = Network::load(&model)?;
    let dir = data_dir(&config, &data);
    let split = load_dir(&dir)?;
    train::check_data(&config, "test", &split.test)?;
    let mut t = config.train.clone();
    if let Some(d) = dispersion {
        if !(0.0..=1.0).contains(&d) {
            bail!("--dispersion {d} is out of range; use a value in 0..=1 (0.05 = 5%)");
        }
        let dw = p.domega_mut();
        *dw = train::draw_dispersion(dw.len(), d, seed);
        t.dispersion = d;
    }
    if let Some(sig) = noise {
        if !(0.0..=10.0).contains(&sig) {
            bail!("--noise {sig} is out of range; use a value in 0..=10");
        }
        t.noise = sig;
    }
    if let Some(n) = steps {
        if n == 0 {
            bail!("--steps 0: give at least one settle step");
        }
        t.t1 = n;
    }
    let s = train::free_settle(&t);
    let (acc, loss) = p.evaluate(&split.test, &s, seed);
    let tr = on_train.then(|| p.evaluate(&split.train, &s, seed));
    if json {
        let mut v = serde_json::json!({
            "model": model.display().to_string(), "data": dir.display().to_string(),
            "dispersion": t.dispersion, "noise": t.noise, "steps": t.t1,
            "test_acc": acc, "test_loss": loss, "test_samples": split.test.len(),
        });
        if let Some((a, l)) = tr {
            v["train_acc"] = a.into();
            v["train_loss"] = l.into();
        }
        println!("{v}");
    } else {
        println!(
            "{}: dispersion {}, noise {}, {} steps: test accuracy {:.2}% ({} samples), cost {:.4}",
            model.display(),
            t.dispersion,
            t.noise,
            t.t1,
            100.0 * acc,
            split.test.len(),
            loss
        );
        if let Some((a, l)) = tr {
            println!(
                "train accuracy {:.2}% ({} samples), cost {:.4}",
                100.0 * a,
                split.train.len(),
                l
            );
        }
    }
    Ok(())
}
