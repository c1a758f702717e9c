//! The network's shape and its float parameters, shared by the float model,
//! the trainer, the quantizer and the model file.
//!
//! Oscillators are numbered layer by layer: layer 0 (the first hidden layer,
//! which receives the input field) first, the output layer last.

use crate::config::{Config, NetworkConfig};
use crate::onn::coupling::CouplingFn;
use crate::rng::Rng;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    pub inputs: usize,
    pub layers: Vec<usize>,
    pub intralayer: bool,
}

impl Topology {
    pub fn from_config(n: &NetworkConfig) -> Topology {
        Topology {
            inputs: n.inputs,
            layers: n.layers.clone(),
            intralayer: n.intralayer,
        }
    }

    /// Total number of oscillators.
    pub fn n(&self) -> usize {
        self.layers.iter().sum()
    }

    /// Index of the first oscillator of layer `l`.
    pub fn offset(&self, l: usize) -> usize {
        self.layers[..l].iter().sum()
    }

    pub fn layer_range(&self, l: usize) -> Range<usize> {
        let o = self.offset(l);
        o..o + self.layers[l]
    }

    /// Oscillators that receive the input field (the first layer).
    pub fn input_layer(&self) -> Range<usize> {
        self.layer_range(0)
    }

    pub fn outputs(&self) -> Range<usize> {
        self.layer_range(self.layers.len() - 1)
    }

    pub fn classes(&self) -> usize {
        *self.layers.last().unwrap()
    }

    /// Coupled pairs `(i, j)` with `i < j`, in ascending order: the non-zero
    /// pattern of the upper triangle of W.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let mut e = Vec::new();
        for l in 0..self.layers.len() {
            let a = self.layer_range(l);
            for i in a.clone() {
                if self.intralayer {
                    for j in i + 1..a.end {
                        e.push((i, j));
                    }
                }
                if l + 1 < self.layers.len() {
                    for j in self.layer_range(l + 1) {
                        e.push((i, j));
                    }
                }
            }
        }
        e
    }
}

/// Float parameters of the oscillator network (MODEL.md section 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub topo: Topology,
    /// Coupling: `w[e]` is `W_ij` for the pair `topo.edges()[e]` (symmetric).
    pub w: Vec<f32>,
    /// Input weights, row-major: `u[(i - first) * inputs + k]` for oscillator
    /// `i` of the input layer and input `k`.
    pub u: Vec<f32>,
    /// Bias field `h_i`, one per oscillator.
    pub h: Vec<f32>,
    /// Second-harmonic locking `K_i`, one per oscillator.
    pub k: Vec<f32>,
    /// Natural-frequency mismatch `δω_i` (rad per unit time), fixed per instance.
    pub domega: Vec<f32>,
    /// Initial phase of each oscillator (rad); every settle starts here.
    pub theta0: Vec<f32>,
    /// The coupling function `H` (`train.alpha`, `train.harmonics`); left
    /// out of the model file when it is `sin ψ`, so older files read as
    /// before and default models write the same bytes.
    #[serde(default, skip_serializing_if = "CouplingFn::is_plain")]
    pub coupling: CouplingFn,
}

impl Params {
    /// Random initial parameters from the config's seed: W and U uniform in
    /// `±1/sqrt(fan_in)`, `h = 0`, `K = k_init`, `δω ~ N(0, dispersion²)`,
    /// initial phases uniform in `(-π/2, π/2)`.
    pub fn init(cfg: &Config) -> Params {
        let topo = Topology::from_config(&cfg.network);
        let mut rng = Rng::new(cfg.train.seed);
        let n = topo.n();
        let edges = topo.edges();
        let mut w = Vec::with_capacity(edges.len());
        for &(i, j) in &edges {
            // fan-in of the deeper oscillator's layer
            let li = topo.layer_of(i);
            let lj = topo.layer_of(j);
            let fan = if li == lj {
                topo.layers[li]
            } else {
                topo.layers[li.min(lj)]
            };
            let a = 1.0 / (fan as f64).sqrt();
            w.push(rng.uniform(-a, a) as f32);
        }
        let first = topo.layers[0];
        let a = 1.0 / (topo.inputs as f64).sqrt();
        let u = (0..first * topo.inputs)
            .map(|_| rng.uniform(-a, a) as f32)
            .collect();
        let h = vec![0.0; n];
        let k = vec![cfg.train.k_init as f32; n];
        let domega = (0..n)
            .map(|_| (rng.normal() * cfg.train.dispersion) as f32)
            .collect();
        let half_pi = std::f64::consts::FRAC_PI_2;
        let theta0 = (0..n)
            .map(|_| rng.uniform(-half_pi, half_pi) as f32)
            .collect();
        Params {
            topo,
            w,
            u,
            h,
            k,
            domega,
            theta0,
            coupling: CouplingFn::from_train(&cfg.train),
        }
    }

    pub fn check(&self) -> Result<()> {
        let n = self.topo.n();
        let ne = self.topo.edges().len();
        let nu = self.topo.layers[0] * self.topo.inputs;
        for (name, len, want) in [
            ("w", self.w.len(), ne),
            ("u", self.u.len(), nu),
            ("h", self.h.len(), n),
            ("k", self.k.len(), n),
            ("domega", self.domega.len(), n),
            ("theta0", self.theta0.len(), n),
        ] {
            if len != want {
                bail!("parameter `{name}` has {len} values but the topology needs {want}");
            }
        }
        for (name, v) in [
            ("w", &self.w),
            ("u", &self.u),
            ("h", &self.h),
            ("k", &self.k),
            ("domega", &self.domega),
            ("theta0", &self.theta0),
        ] {
            if let Some(p) = v.iter().position(|x| !x.is_finite()) {
                bail!("parameter `{name}`[{p}] is {} (not finite)", v[p]);
            }
        }
        let c = &self.coupling;
        if !c.alpha.is_finite() || c.harmonics.iter().any(|a| !a.is_finite()) {
            bail!(
                "the coupling function (alpha = {}, harmonics = {:?}) is not finite",
                c.alpha,
                c.harmonics
            );
        }
        Ok(())
    }
}

impl Topology {
    pub fn layer_of(&self, i: usize) -> usize {
        let mut o = 0;
        for (l, &s) in self.layers.iter().enumerate() {
            if i < o + s {
                return l;
            }
            o += s;
        }
        panic!("oscillator {i} out of range (n = {})", self.n())
    }
}

/// A gradient (or an update direction) with the shape of the trained
/// parameters W, U, h, K.
#[derive(Debug, Clone, PartialEq)]
pub struct Grad {
    pub w: Vec<f32>,
    pub u: Vec<f32>,
    pub h: Vec<f32>,
    pub k: Vec<f32>,
}

impl Grad {
    pub fn zeros(p: &Params) -> Grad {
        Grad {
            w: vec![0.0; p.w.len()],
            u: vec![0.0; p.u.len()],
            h: vec![0.0; p.h.len()],
            k: vec![0.0; p.k.len()],
        }
    }

    /// All values in one vector: W, then U, h, K.
    pub fn flat(&self) -> Vec<f32> {
        [&self.w[..], &self.u, &self.h, &self.k].concat()
    }
}

/// The saved model: versioned, with the config that trained it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub config: Config,
    pub params: Params,
    /// Full-scale pixel value of the training data (inputs are pixel / max_pixel).
    pub max_pixel: u8,
}

pub const MODEL_FORMAT: &str = "phasegen-model";
pub const MODEL_VERSION: u32 = 1;
/// The format name of an amplitude-phase model file
/// (`crate::onn::ap::file`), which the phase model's loader refuses.
pub const AP_MODEL_FORMAT: &str = "phasegen-ap-model";

/// Writes `text` to `path` (its folder made), through a temporary file and
/// a rename, so an interrupted save never leaves half a model.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        if !d.as_os_str().is_empty() {
            std::fs::create_dir_all(d)
                .with_context(|| format!("cannot create folder {}", d.display()))?;
        }
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}

/// The refusal of an amplitude-phase model by a command that handles
/// phase-oscillator models only.
pub fn amplitude_phase_refused(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} is an amplitude-phase model (network.oscillator = \"amplitude-phase\"); this command handles phase-oscillator models only (the hardware, its twin and its tools implement phase oscillators). Amplitude-phase models are trained and evaluated in floating point (`phasegen train`, `phasegen eval`); for hardware train a phase model (network.oscillator = \"phase\", the default)",
        path.display()
    )
}

impl ModelFile {
    pub fn new(config: Config, params: Params, max_pixel: u8) -> ModelFile {
        ModelFile {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            config,
            params,
            max_pixel,
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &serde_json::to_string(self)?)
    }

    pub fn load(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read model file {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "model file {} is damaged (not JSON); retrain it with `phasegen train`",
                path.display()
            )
        })?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format == AP_MODEL_FORMAT {
            return Err(amplitude_phase_refused(path));
        }
        if format != MODEL_FORMAT {
            bail!(
                "{} is not a phasegen model (format {:?}, expected {:?})",
                path.display(),
                format,
                MODEL_FORMAT
            );
        }
        let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
        if version != MODEL_VERSION as u64 {
            bail!(
                "model file {} has format version {version}; this phasegen reads version {MODEL_VERSION}. Retrain with this version's `phasegen train`",
                path.display()
            );
        }
        let m: ModelFile = serde_json::from_value(v)
            .with_context(|| format!("model file {} is damaged", path.display()))?;
        m.config.validate().with_context(|| {
            format!(
                "the config stored in model file {} is invalid",
                path.display()
            )
        })?;
        if m.config.network.oscillator != crate::config::Oscillator::Phase {
            return Err(amplitude_phase_refused(path));
        }
        if Topology::from_config(&m.config.network) != m.params.topo {
            bail!(
                "model file {}: the parameters' topology does not match its config",
                path.display()
            );
        }
        m.params
            .check()
            .with_context(|| format!("model file {} is damaged", path.display()))?;
        m.check_ranges()
            .with_context(|| format!("model file {} is invalid", path.display()))?;
        Ok(m)
    }

    /// The values a model of its config can hold: a full-scale pixel of at
    /// least 1 (inputs are pixel / max_pixel), and W, U, h, K within what
    /// `hardware.weight_bits` can represent at its widest format (no
    /// fraction bits: ±(2^(bits-1) - 1)). A value beyond that clips in
    /// every format the quantizer could choose, and when formats are
    /// chosen automatically it also costs every other value its fraction
    /// bits; no training run of this config makes one.
    pub fn check_ranges(&self) -> Result<()> {
        if self.max_pixel == 0 {
            bail!(
                "max_pixel = 0: the full-scale pixel value of the training data must be at least 1 (inputs are pixel / max_pixel); retrain the model with `phasegen train`"
            );
        }
        let bits = self.config.hardware.weight_bits;
        let top = ((1i64 << (bits - 1)) - 1) as f32;
        for (name, v) in [
            ("w", &self.params.w),
            ("u", &self.params.u),
            ("h", &self.params.h),
            ("k", &self.params.k),
        ] {
            if let Some(i) = v.iter().position(|x| x.abs() > top + 0.5) {
                bail!(
                    "parameter `{name}`[{i}] = {} is beyond ±{top}, the largest value hardware.weight_bits = {bits} holds in any format, so the hardware cannot represent it; retrain (train.clip = true keeps parameters in the format) or raise hardware.weight_bits",
                    v[i]
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_of_layered_net() {
        let t = Topology {
            inputs: 4,
            layers: vec![2, 3],
            intralayer: false,
        };
        assert_eq!(t.n(), 5);
        assert_eq!(t.outputs(), 2..5);
        assert_eq!(
            t.edges(),
            vec![(0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]
        );
        let t2 = Topology {
            intralayer: true,
            ..t
        };
        assert_eq!(t2.edges().len(), 6 + 1 + 3);
    }

    #[test]
    fn model_file_round_trip_and_errors() {
        let cfg = Config::default_config();
        let p = Params::init(&cfg);
        let dir = std::env::temp_dir().join(format!("pg-model-{}", std::process::id()));
        let path = dir.join("m.json");
        ModelFile::new(cfg.clone(), p.clone(), 16)
            .save(&path)
            .unwrap();
        let m = ModelFile::load(&path).unwrap();
        assert_eq!(m.params, p);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"version\":1", "\"version\":7")).unwrap();
        let e = format!("{:#}", ModelFile::load(&path).unwrap_err());
        assert!(e.contains("version 7"), "{e}");
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        let e = format!("{:#}", ModelFile::load(&path).unwrap_err());
        assert!(e.contains("damaged"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }

    /// A model file that no training of its config makes is refused at
    /// load, naming the value: a zero full-scale pixel, a parameter beyond
    /// every format of `hardware.weight_bits` (it used to quantize with
    /// "clipped 1" and a twin at 21%).
    #[test]
    fn model_files_out_of_range_are_refused_by_name() {
        let cfg = Config::default_config();
        let p = Params::init(&cfg);
        let dir = std::env::temp_dir().join(format!("pg-model-range-{}", std::process::id()));
        let path = dir.join("m.json");
        let err = |m: &ModelFile| {
            m.save(&path).unwrap();
            format!("{:#}", ModelFile::load(&path).unwrap_err())
        };
        let e = err(&ModelFile::new(cfg.clone(), p.clone(), 0));
        assert!(e.contains("max_pixel = 0") && e.contains("retrain"), "{e}");
        for (name, big) in [("w", 1e30f32), ("u", -1e3), ("k", 200.0)] {
            let mut q = p.clone();
            match name {
                "w" => q.w[5] = big,
                "u" => q.u[7] = big,
                _ => q.k[2] = big,
            }
            let e = err(&ModelFile::new(cfg.clone(), q, 16));
            assert!(
                e.contains(&format!("parameter `{name}`[")) && e.contains("hardware.weight_bits"),
                "{e}"
            );
        }
        // the largest value the format holds is accepted
        let mut q = p.clone();
        let top = ((1i64 << (cfg.hardware.weight_bits - 1)) - 1) as f32;
        q.h[0] = -top;
        ModelFile::new(cfg.clone(), q, 16).save(&path).unwrap();
        assert!(ModelFile::load(&path).is_ok());
        std::fs::remove_dir_all(dir).ok();
    }
}
