//! The amplitude-phase model file: its own format name
//! ([`AP_MODEL_FORMAT`]), so that the phase model's loader
//! ([`crate::onn::net::ModelFile::load`], used by `quantize`, `gen` and
//! every hardware command) refuses it by name instead of misreading it.

use crate::config::{Config, Oscillator};
use crate::onn::ap::params::ApParams;
use crate::onn::net::{write_atomic, Topology, AP_MODEL_FORMAT, MODEL_FORMAT};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const AP_MODEL_VERSION: u32 = 1;

/// The saved amplitude-phase model: versioned, with the config that trained it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApModelFile {
    pub format: String,
    pub version: u32,
    pub config: Config,
    pub params: ApParams,
    /// Full-scale pixel value of the training data (inputs are pixel / max_pixel).
    pub max_pixel: u8,
}

impl ApModelFile {
    pub fn new(config: Config, params: ApParams, max_pixel: u8) -> ApModelFile {
        ApModelFile {
            format: AP_MODEL_FORMAT.into(),
            version: AP_MODEL_VERSION,
            config,
            params,
            max_pixel,
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &serde_json::to_string(self)?)
    }

    pub fn load(path: &Path) -> Result<ApModelFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read model file {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "model file {} is damaged (not JSON); retrain it with `phasegen train`",
                path.display()
            )
        })?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format == MODEL_FORMAT {
            bail!(
                "{} is a phase-oscillator model, not an amplitude-phase one",
                path.display()
            );
        }
        if format != AP_MODEL_FORMAT {
            bail!(
                "{} is not a phasegen model (format {format:?}, expected {AP_MODEL_FORMAT:?})",
                path.display()
            );
        }
        let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
        if version != AP_MODEL_VERSION as u64 {
            bail!(
                "model file {} has format version {version}; this phasegen reads version {AP_MODEL_VERSION}. Retrain with this version's `phasegen train`",
                path.display()
            );
        }
        let m: ApModelFile = serde_json::from_value(v)
            .with_context(|| format!("model file {} is damaged", path.display()))?;
        m.config.validate().with_context(|| {
            format!(
                "the config stored in model file {} is invalid",
                path.display()
            )
        })?;
        if m.config.network.oscillator != Oscillator::AmplitudePhase {
            bail!(
                "model file {}: its config says network.oscillator = \"{}\" but it holds amplitude-phase parameters",
                path.display(),
                m.config.network.oscillator.name()
            );
        }
        if Topology::from_config(&m.config.network) != m.params.topo {
            bail!(
                "model file {}: the parameters' topology does not match its config",
                path.display()
            );
        }
        if m.max_pixel == 0 {
            bail!(
                "model file {}: max_pixel = 0; the full-scale pixel value must be at least 1, retrain the model",
                path.display()
            );
        }
        m.params
            .check()
            .with_context(|| format!("model file {} is damaged", path.display()))?;
        Ok(m)
    }
}

/// Is the model file at `path` an amplitude-phase one (by its format name)?
/// For commands that take either kind; any other answer (not JSON, no
/// format) is `false`, and the phase loader then says what is wrong.
pub fn is_amplitude_phase(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("format")?.as_str().map(|f| f == AP_MODEL_FORMAT))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onn::net::{ModelFile, Params};

    #[test]
    fn round_trip_and_refusals_by_name() {
        let cfg = Config::parse(
            "name='a'\n[network]\ninputs=4\nlayers=[3,2]\noscillator='amplitude-phase'\n",
            "t",
        )
        .unwrap();
        let p = ApParams::init(&cfg);
        let dir = std::env::temp_dir().join(format!("pg-ap-model-{}", std::process::id()));
        let path = dir.join("a.json");
        ApModelFile::new(cfg.clone(), p.clone(), 16)
            .save(&path)
            .unwrap();
        assert!(is_amplitude_phase(&path));
        assert_eq!(ApModelFile::load(&path).unwrap().params, p);
        // the phase loader (quantize, gen, ...) refuses it by name
        let e = format!("{:#}", ModelFile::load(&path).unwrap_err());
        assert!(
            e.contains("is an amplitude-phase model") && e.contains("phase-oscillator models only"),
            "{e}"
        );
        // and a phase model is not read as an amplitude-phase one
        let phase = dir.join("p.json");
        let pc = Config::default_config();
        ModelFile::new(pc.clone(), Params::init(&pc), 16)
            .save(&phase)
            .unwrap();
        assert!(!is_amplitude_phase(&phase));
        let e = format!("{:#}", ApModelFile::load(&phase).unwrap_err());
        assert!(e.contains("is a phase-oscillator model"), "{e}");
        // a phase-format file whose config says amplitude-phase is refused too
        let mut wrong = ModelFile::new(pc, Params::init(&Config::default_config()), 16);
        wrong.config.network.oscillator = Oscillator::AmplitudePhase;
        wrong.save(&phase).unwrap();
        let e = format!("{:#}", ModelFile::load(&phase).unwrap_err());
        assert!(e.contains("is an amplitude-phase model"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }
}
