//! `phasegen infer`: classify test images on a device over a serial port.

use super::common::{count_of, data_dir, load_model};
use crate::confusion::Confusion;
use crate::device;
use anyhow::{bail, Context, Result};
use phasegen_sim::data::load_dir;
use phasegen_sim::twin::model::Twin;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Classify test images on a device over a serial port.
#[derive(clap::Args)]
pub struct Args {
    /// Serial port (a board's UART or a pseudo-terminal from `phasegen serve`).
    #[arg(long)]
    port: String,
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Data folder (default: the model's train.data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Test samples to classify (0 = all).
    #[arg(long, default_value_t = 0)]
    count: usize,
    /// Baud rate (default: the model config's target.baud).
    #[arg(long)]
    baud: Option<u32>,
    /// Per-sample results, JSON lines (index, label, device class, twin
    /// class; default: none).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Reply timeout in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        port,
        model,
        data,
        count,
        baud,
        out,
        timeout_ms,
    } = args;
    let (mf, hw) = load_model(&model)?;
    let cfg = &mf.config;
    let split = load_dir(&data_dir(cfg, &data))?;
    if split.test.pixels() != hw.topo.inputs {
        bail!(
            "the data in {} has {} pixels per image but the model takes {} inputs",
            data_dir(cfg, &data).display(),
            split.test.pixels(),
            hw.topo.inputs
        );
    }
    let mut dev = device::open(&port, baud.unwrap_or(cfg.target.baud as u32))?;
    dev.timeout = std::time::Duration::from_millis(timeout_ms);
    let id = dev.identify()?;
    let want = phasegen_hdl::design_id(&cfg.hash_hex(), &hw);
    if id.design_id != want {
        bail!(
            "the device on {port} runs design {:08x}, but model {} is design {want:08x}: build and load the bitstream for this model (make bitstream), or pass the model it was built from",
            id.design_id,
            model.display()
        );
    }
    // the weights that live in RAM (SPRAM on a UP5K), which the
    // bitstream cannot fill: send them first
    use phasegen_sim::link::protocol::Block;
    let sched = phasegen_sim::twin::sched::Schedule::new(&hw);
    for (b, held, what) in [
        (Block::U, hw.u_in_ram, "input"),
        (Block::W, hw.w_in_ram, "coupling"),
    ] {
        if held {
            let image = sched.image(&hw, b);
            let t = Instant::now();
            dev.write_block(b, &image, sched.word_bytes(&hw, b), None)?;
            eprintln!(
                "wrote {} bytes of {what} weights in {:.1} s",
                image.len(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    let n = count_of(count, split.test.len());
    let mut outf = match &out {
        Some(p) => Some(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => None,
    };
    let t = Instant::now();
    let (mut correct, mut agree) = (0, 0);
    let xs: Vec<Vec<u64>> = (0..n)
        .map(|s| hw.inputs_of_image(split.test.image(s)))
        .collect();
    let classes = dev.infer_stream(&xs)?;
    let secs = t.elapsed().as_secs_f64();
    let outputs = hw.topo.layers.last().copied().unwrap_or(0);
    let mut conf = Confusion::numbered(outputs);
    for (s, x) in xs.iter().enumerate() {
        let label = split.test.labels[s] as usize;
        let got = classes[s];
        let twin = Twin::new(&hw).infer(x);
        if got >= outputs || label >= outputs {
            bail!(
                "sample {s}: the device answered class {got} for label {label}, but the design has {outputs} classes; is the device running this model?"
            );
        }
        correct += (got == label) as usize;
        agree += (got == twin) as usize;
        conf.add(label, got);
        if let Some(f) = outf.as_mut() {
            writeln!(
                f,
                "{}",
                serde_json::json!({"index": s, "label": label, "device": got, "twin": twin})
            )?;
        }
    }
    println!(
        "{n} images: accuracy {:.2}%, device = twin on {agree}/{n}, {:.1} images/s",
        100.0 * correct as f64 / n as f64,
        n as f64 / secs
    );
    print!("{conf}");
    if agree != n {
        bail!(
            "the device disagreed with the twin on {} of {n} images",
            n - agree
        );
    }
    Ok(())
}
