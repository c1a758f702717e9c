//! The R²NN model file (JSON): the network, its trained parameters, how it
//! was trained, and where its data comes from (so that evaluation, export
//! and verification can rebuild the same test set).

use super::data::{read_csv, read_wav_dir, Signals, Task};
use super::model::{Params, Spec};
use super::train::TrainOptions;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "phasegen-r2nn-model";
pub const VERSION: u32 = 1;

/// Where the signals come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DataSource {
    /// A synthetic task.
    Task {
        task: String,
        count: usize,
        len: usize,
        seed: u64,
    },
    /// A CSV file of labelled signals.
    Csv { path: PathBuf },
    /// A folder of class folders of WAV files.
    Wav { path: PathBuf, len: Option<usize> },
}

impl DataSource {
    /// Loads (or generates) every signal.
    pub fn load(&self) -> Result<Signals> {
        match self {
            DataSource::Task {
                task,
                count,
                len,
                seed,
            } => Ok(Task::parse(task)?.generate(*count, *len, *seed)),
            DataSource::Csv { path } => read_csv(path),
            DataSource::Wav { path, len } => read_wav_dir(path, *len),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DataSource::Task {
                task,
                count,
                len,
                seed,
            } => format!("task {task} ({count} signals of {len} samples, seed {seed})"),
            DataSource::Csv { path } => format!("CSV {}", path.display()),
            DataSource::Wav { path, .. } => format!("WAV folder {}", path.display()),
        }
    }
}

/// How the data is split into training and test signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    pub test_fraction: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub spec: Spec,
    pub params: Params,
    pub train: TrainOptions,
    pub data: DataSource,
    pub split: SplitSpec,
    pub classes: Vec<String>,
    /// The data's samples per second, when known (the circuit's default
    /// time scale is real time at this rate only when asked for).
    pub sample_rate: Option<f64>,
    /// Test accuracy after the last epoch.
    pub test_acc: f64,
}

impl ModelFile {
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(d) = path.parent() {
            if !d.as_os_str().is_empty() {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
            }
        }
        let text = serde_json::to_string_pretty(self).context("model serializes")?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn load(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the model file {}", path.display()))?;
        let m: ModelFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an R²NN model file", path.display()))?;
        if m.format != FORMAT || m.version != VERSION {
            bail!(
                "{} is format '{}' version {}; this phasegen reads '{FORMAT}' version {VERSION}",
                path.display(),
                m.format,
                m.version
            );
        }
        m.spec
            .validate()
            .with_context(|| format!("network of {}", path.display()))?;
        m.spec
            .check_params(&m.params)
            .with_context(|| format!("parameters of {}", path.display()))?;
        Ok(m)
    }

    /// The training and test signals, as they were split for training.
    pub fn split_data(&self) -> Result<(Signals, Signals)> {
        let all = self.data.load()?;
        all.split(self.split.test_fraction, self.split.seed)
    }
}
