//! A trained network of either oscillator kind (`network.oscillator`), for
//! the commands that take both: evaluation and benchmarks. The hardware
//! commands take [`crate::onn::net::ModelFile`] only, which refuses an
//! amplitude-phase model.

use crate::config::{Config, Oscillator};
use crate::data::{Dataset, Split};
use crate::onn::ap::file::{is_amplitude_phase, ApModelFile};
use crate::onn::ap::params::ApParams;
use crate::onn::ap::train as ap_train;
use crate::onn::float::Settle;
use crate::onn::net::{ModelFile, Params};
use crate::onn::train::{self, EpochLog, Progress, Trained};
use anyhow::Result;
use std::path::Path;

/// The parameters of a phase or an amplitude-phase network.
#[derive(Debug, Clone, PartialEq)]
pub enum Network {
    Phase(Params),
    AmplitudePhase(ApParams),
}

impl Network {
    /// The model file at `path`, of either kind (told by its format name),
    /// with its config.
    pub fn load(path: &Path) -> Result<(Config, Network)> {
        Ok(if is_amplitude_phase(path) {
            let m = ApModelFile::load(path)?;
            (m.config, Network::AmplitudePhase(m.params))
        } else {
            let m = ModelFile::load(path)?;
            (m.config, Network::Phase(m.params))
        })
    }

    /// Trains the kind `cfg.network.oscillator` names on the float engine.
    /// Returns the last epoch's or the kept epoch's network (see
    /// [`Trained`]) and the kept epoch's log.
    pub fn train(
        cfg: &Config,
        split: &Split,
        on_epoch: &mut dyn FnMut(&EpochLog),
        on_batch: &mut dyn FnMut(&Progress),
    ) -> Result<(Network, Option<EpochLog>)> {
        Ok(match cfg.network.oscillator {
            Oscillator::Phase => {
                let r: Trained =
                    train::train_with_progress(cfg, split, &mut |l, _| on_epoch(l), on_batch)?;
                (Network::Phase(r.params), r.kept)
            }
            Oscillator::AmplitudePhase => {
                let r = ap_train::train(cfg, split, &mut |l, _| on_epoch(l), on_batch)?;
                (Network::AmplitudePhase(r.params), r.kept)
            }
        })
    }

    /// The natural-frequency mismatch of every oscillator (the device instance).
    pub fn domega_mut(&mut self) -> &mut Vec<f32> {
        match self {
            Network::Phase(p) => &mut p.domega,
            Network::AmplitudePhase(p) => &mut p.domega,
        }
    }

    /// Accuracy and mean free-phase cost on `d` (noise streams from `seed`).
    pub fn evaluate(&self, d: &Dataset, s: &Settle, seed: u64) -> (f64, f64) {
        match self {
            Network::Phase(p) => train::evaluate(p, d, s, seed),
            Network::AmplitudePhase(p) => ap_train::evaluate(p, d, s, seed),
        }
    }
}
