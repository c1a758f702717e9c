//! Helpers shared by several commands.

use anyhow::{Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::onn::train;
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::{quantize, QuantReport};
use std::path::{Path, PathBuf};

/// A model file and its quantized hardware model.
pub fn load_model(path: &Path) -> Result<(ModelFile, HwModel)> {
    let (mf, hw, _) = load_model_report(path)?;
    Ok((mf, hw))
}

/// A model file, its quantized hardware model and the quantizer's report.
pub fn load_model_report(path: &Path) -> Result<(ModelFile, HwModel, QuantReport)> {
    let mf = ModelFile::load(path)?;
    require_hardware_coupling(&mf, path)?;
    let (hw, rep) = quantize(&mf.config, &mf.params, mf.max_pixel)
        .with_context(|| format!("cannot quantize model {}", path.display()))?;
    Ok((mf, hw, rep))
}

/// Refuses a model whose coupling function the hardware does not compute
/// (a phase lag; the odd harmonics `train.harmonics` it computes,
/// docs/hardware.md), naming the file.
pub fn require_hardware_coupling(mf: &ModelFile, path: &Path) -> Result<()> {
    mf.params
        .coupling
        .require_hardware("the twin and the generated core")
        .with_context(|| format!("model {}", path.display()))
}

/// A log file to write (JSON lines), its folder made, or `None` when no
/// path was given.
pub fn create_log(path: &Option<PathBuf>) -> Result<Option<std::fs::File>> {
    let Some(p) = path else { return Ok(None) };
    if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d)
            .with_context(|| format!("cannot create folder {}", d.display()))?;
    }
    let f =
        std::fs::File::create(p).with_context(|| format!("cannot create log {}", p.display()))?;
    Ok(Some(f))
}

/// The data folder: `data` if given, else the config's train.data.
pub fn data_dir(cfg: &Config, data: &Option<PathBuf>) -> PathBuf {
    data.clone()
        .unwrap_or_else(|| PathBuf::from(&cfg.train.data))
}

/// `n` samples of `len`, where 0 means all of them.
pub fn count_of(n: usize, len: usize) -> usize {
    if n == 0 {
        len
    } else {
        n.min(len)
    }
}

/// Point a config at another board and/or clock: a new board runs from
/// its oscillator unless a clock is given. The result is validated (the
/// clock must be one the board's PLL can make).
pub fn retarget(cfg: &mut Config, board: Option<&str>, clock_hz: Option<u64>) -> Result<()> {
    if let Some(name) = board {
        if name != cfg.target.board {
            let b = phasegen_sim::board::board(name).context("--board")?;
            cfg.target.board = b.name.to_string();
            cfg.target.clock_hz = b.clock_hz;
        }
    }
    if let Some(hz) = clock_hz {
        cfg.target.clock_hz = hz;
    }
    cfg.validate()
        .with_context(|| format!("config retargeted to board {}", cfg.target.board))
}

/// Accuracy of the float model and of the twin on the first `n` samples.
pub fn float_vs_twin(
    mf: &ModelFile,
    hw: &HwModel,
    test: &phasegen_sim::data::Dataset,
    n: usize,
) -> (f64, f64) {
    let p: &Params = &mf.params;
    let s = train::free_settle(&mf.config.train);
    let (float_acc, _) = if n == test.len() {
        train::evaluate(p, test, &s, mf.config.train.seed)
    } else {
        let mut sub = test.clone();
        sub.images.truncate(n * test.pixels());
        sub.labels.truncate(n);
        train::evaluate(p, &sub, &s, mf.config.train.seed)
    };
    let mut twin = Twin::new(hw);
    let ok = (0..n)
        .filter(|&i| twin.infer(&hw.inputs_of_image(test.image(i))) == test.labels[i] as usize)
        .count();
    (float_acc, ok as f64 / n.max(1) as f64)
}

/// The reference board's part table.
pub const REFERENCE_PARTS: &str = "configs/parts/reference.toml";
