//! Equilibrium Propagation with the phases computed by the hardware: the
//! integer twin here (a device over UART uses the same steps, see
//! `phasegen::device`). The host keeps the float parameters, quantizes them
//! for every mini-batch, lets the hardware settle free and nudged, reads the
//! phases back and computes the EP update from them with the float engine's
//! formulas; the trainer around it is [`crate::onn::train::train_on`].

use crate::config::Config;
use crate::onn::batch::{Engine, Lane, LANES};
use crate::onn::float::Settle;
use crate::onn::net::Params;
use crate::onn::train::{
    chunk_grad_zeros, readout, reduce_chunks, Backend, BatchGrad, ChunkGrad, EpSettings, Inputs,
};
use crate::twin::model::{HwModel, Twin};
use crate::twin::quant::{beta_int, quantize};
use anyhow::{bail, Result};
use rayon::prelude::*;
use std::f32::consts::PI;

/// A twin phase in radians, in [−π, π).
pub fn phase_rad(theta: u64, phase_bits: u32) -> f32 {
    let turn = (1u64 << phase_bits) as f64;
    let r = theta as f64 / turn * 2.0 * std::f64::consts::PI;
    let r = if r >= std::f64::consts::PI {
        r - 2.0 * std::f64::consts::PI
    } else {
        r
    };
    (r as f32).clamp(-PI, PI)
}

/// The states of EP for one sample, as the hardware computes them: free
/// (`t1` steps from `theta0`), then from the free state nudged at `+β` and
/// (symmetric) `−β` for `t2` steps. The hardware input is the pixel value
/// nearest to `x · max_pixel`.
pub fn twin_states(
    hw: &HwModel,
    x: &[f32],
    label: usize,
    beta: i64,
    symmetric: bool,
    t1: usize,
    t2: usize,
) -> States {
    let mut twin = Twin::new(hw);
    twin.load_input(&pixels(hw, x));
    twin.set_nudge(0, None);
    for _ in 0..t1 {
        twin.step();
    }
    let free = twin.theta.clone();
    let mut nudged = |b: i64| {
        twin.theta = free.clone();
        twin.set_nudge(b, Some(label));
        for _ in 0..t2 {
            twin.step();
        }
        twin.theta.clone()
    };
    let a = nudged(beta);
    let b = if symmetric {
        nudged(-beta)
    } else {
        free.clone()
    };
    [free, a, b]
}

/// The hardware inputs of a float sample (`x = pixel / max_pixel`).
pub fn pixels(hw: &HwModel, x: &[f32]) -> Vec<u64> {
    let m = hw.max_pixel as f32;
    x.iter()
        .map(|&v| hw.input_of_pixel((v * m).round().clamp(0.0, 255.0) as u8))
        .collect()
}

/// EP with the integer twin doing the settles: quantization-aware training,
/// and the reference a device-in-the-loop run must match.
pub struct TwinBackend {
    pub cfg: Config,
    pub max_pixel: u8,
}

/// Fix the fixed-point formats for training on the twin or a device: a
/// generated design computes with fixed fraction bits, so they must not
/// follow the weights from batch to batch. Unless the config sets them,
/// `hardware.weight_frac` becomes the one the initial parameters quantize to
/// (β included) and `hardware.w_frac`, `u_frac` the same (W and U then have
/// the shared range to grow into). Idempotent. (0 fraction bits cannot be
/// pinned, 0 being "auto": parameters that large leave the formats free,
/// and the device backend then refuses a batch whose format moved.)
pub fn pin_formats(cfg: &mut Config, max_pixel: u8) -> Result<()> {
    let (hw, _) = quantize(cfg, &Params::init(cfg), max_pixel)?;
    let f = hw.fmt.frac;
    let h = &mut cfg.hardware;
    if h.weight_frac == 0 {
        h.weight_frac = f;
    }
    if h.w_frac == 0 {
        h.w_frac = f;
    }
    if h.u_frac == 0 {
        h.u_frac = f;
    }
    Ok(())
}

impl TwinBackend {
    pub fn new(cfg: &Config, max_pixel: u8) -> Result<TwinBackend> {
        let t = &cfg.train;
        if t.noise > 0.0 {
            bail!(
                "the twin has no phase noise: train.noise = {} needs the float backend (or set it to 0)",
                t.noise
            );
        }
        if t.tol > 0.0 {
            bail!(
                "the twin runs fixed step counts: train.tol = {} needs the float backend (or set it to 0)",
                t.tol
            );
        }
        crate::onn::coupling::CouplingFn::from_train(t).require_plain("the twin backend")?;
        let mut cfg = cfg.clone();
        pin_formats(&mut cfg, max_pixel)?;
        Ok(TwinBackend { cfg, max_pixel })
    }

    fn hw(&self, p: &Params) -> Result<HwModel> {
        Ok(quantize(&self.cfg, p, self.max_pixel)?.0)
    }
}

/// Packs the phases of up to [`LANES`] samples (radians) into lanes.
fn lanes(states: &[Vec<u64>], phase_bits: u32) -> Vec<Lane> {
    let n = states.first().map_or(0, |s| s.len());
    let mut out = vec![[0f32; LANES]; n];
    for (q, s) in states.iter().enumerate() {
        for (i, &t) in s.iter().enumerate() {
            out[i][q] = phase_rad(t, phase_bits);
        }
    }
    out
}

/// The nudge the hardware applies for `ep.beta`: the integer β in the
/// parameter format, and the EP gradient's denominator from the β it really
/// is (`2β` symmetric, `β` one-sided).
pub fn hw_beta(hw: &HwModel, ep: &EpSettings) -> Result<(i64, f32)> {
    let b = beta_int(&hw.fmt, ep.beta as f64);
    if b == 0 {
        bail!(
            "train.beta = {} rounds to 0 in the hardware format Q.{}: raise beta or hardware.weight_frac",
            ep.beta,
            hw.fmt.frac
        );
    }
    let beta_q = b as f32 / 2f32.powi(hw.fmt.frac as i32);
    Ok((b, if ep.symmetric { 2.0 * beta_q } else { beta_q }))
}

/// The hardware states of one sample, as [`ep_from_states`] takes them:
/// free, nudged at `+β`, and nudged at `−β` (symmetric) or free again.
pub type States = [Vec<u64>; 3];

/// The EP update of the samples `idx` from the phases the hardware settled
/// to (`states[k]` for sample `idx[k]`, see [`States`]), with the float
/// engine's formulas: the part every hardware backend shares (the twin here,
/// a device over the UART in `phasegen::hil_device`), so equal phases give
/// equal updates.
pub fn ep_from_states(
    p: &Params,
    data: &Inputs,
    idx: &[usize],
    ep: &EpSettings,
    hw: &HwModel,
    den: f32,
    states: &[States],
) -> BatchGrad {
    assert_eq!(states.len(), idx.len(), "one state triple per sample");
    let eng = Engine::new(p);
    let pb = hw.fmt.phase_bits;
    let chunks: Vec<&[usize]> = idx.chunks(LANES).collect();
    let parts: Vec<ChunkGrad> = chunks
        .par_iter()
        .enumerate()
        .map(|(c, ch)| {
            let st = &states[c * LANES..c * LANES + ch.len()];
            let mut xs = Vec::with_capacity(ch.len() * data.inputs);
            for &i in ch.iter() {
                xs.extend_from_slice(data.row(i));
            }
            let phases = |k: usize| {
                let v: Vec<Vec<u64>> = st.iter().map(|s| s[k].clone()).collect();
                lanes(&v, pb)
            };
            let labels: Vec<usize> = ch.iter().map(|&i| data.labels[i]).collect();
            let (free, a, bb) = (phases(0), phases(1), phases(2));
            let mut g = chunk_grad_zeros(p);
            let d = eng.ep_grad(&a, &bb, den, ch.len(), &mut g);
            let per = ep.free.steps + ep.nudged.steps * (1 + ep.symmetric as usize);
            ChunkGrad {
                g,
                d,
                res: readout(p, &free, &labels),
                steps: per * ch.len(),
                xs,
            }
        })
        .collect();
    reduce_chunks(p, data, &chunks, &parts)
}

/// Accuracy and mean cost of `p` on `data` from the free phases the
/// hardware settled to for each sample (`free[i]` for sample `i`).
pub fn evaluate_from_phases(p: &Params, data: &Inputs, pb: u32, free: &[Vec<u64>]) -> (f64, f64) {
    let res: Vec<(f64, usize)> = free
        .par_iter()
        .enumerate()
        .map(|(i, th)| readout(p, &lanes(std::slice::from_ref(th), pb), &[data.labels[i]])[0])
        .collect();
    let n = data.len().max(1) as f64;
    let correct = res
        .iter()
        .zip(&data.labels)
        .filter(|((_, pred), &l)| *pred == l)
        .count();
    (correct as f64 / n, res.iter().map(|r| r.0).sum::<f64>() / n)
}

impl TwinBackend {
    /// The parameters as the hardware holds them (quantized exactly as the
    /// generator does; every hardware backend uses this).
    pub fn quantized(&self, p: &Params) -> Result<HwModel> {
        self.hw(p)
    }
}

impl Backend for TwinBackend {
    fn name(&self) -> &'static str {
        "twin"
    }

    fn ep_batch(
        &mut self,
        p: &Params,
        data: &Inputs,
        idx: &[usize],
        ep: &EpSettings,
    ) -> Result<BatchGrad> {
        let hw = self.hw(p)?;
        let (b, den) = hw_beta(&hw, ep)?;
        let states: Vec<States> = idx
            .par_iter()
            .map(|&i| {
                twin_states(
                    &hw,
                    data.row(i),
                    data.labels[i],
                    b,
                    ep.symmetric,
                    ep.free.steps,
                    ep.nudged.steps,
                )
            })
            .collect();
        Ok(ep_from_states(p, data, idx, ep, &hw, den, &states))
    }

    fn evaluate(
        &mut self,
        p: &Params,
        data: &Inputs,
        s: &Settle,
        _seed: u64,
    ) -> Result<(f64, f64)> {
        let hw = self.hw(p)?;
        let free: Vec<Vec<u64>> = (0..data.len())
            .into_par_iter()
            .map(|i| {
                let mut twin = Twin::new(&hw);
                twin.load_input(&pixels(&hw, data.row(i)));
                twin.set_nudge(0, None);
                for _ in 0..s.steps {
                    twin.step();
                }
                twin.theta
            })
            .collect();
        Ok(evaluate_from_phases(p, data, hw.fmt.phase_bits, &free))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_dir;
    use crate::onn::train::{train, train_on};
    use std::path::Path;

    #[test]
    fn pinned_formats_are_the_initial_shared_ones_and_idempotent() {
        let mut cfg = Config::default_config();
        let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
        pin_formats(&mut cfg, 16).unwrap();
        let h = cfg.hardware.clone();
        assert_eq!(
            (h.weight_frac, h.w_frac, h.u_frac),
            (hw.fmt.frac, hw.fmt.frac, hw.fmt.frac)
        );
        pin_formats(&mut cfg, 16).unwrap();
        assert_eq!(cfg.hardware, h);
        // set by the config: kept
        let mut cfg = Config::default_config();
        cfg.hardware.w_frac = hw.fmt.frac + 1;
        pin_formats(&mut cfg, 16).unwrap();
        assert_eq!(cfg.hardware.w_frac, hw.fmt.frac + 1);
    }

    #[test]
    fn phases_convert_to_radians() {
        assert_eq!(phase_rad(0, 16), 0.0);
        assert!((phase_rad(1 << 14, 16) - PI / 2.0).abs() < 1e-6);
        assert!((phase_rad(3 << 14, 16) + PI / 2.0).abs() < 1e-6);
        assert!((phase_rad(1 << 15, 16) + PI).abs() < 1e-6);
    }

    /// Training with the twin doing every settle learns about as fast as
    /// the float engine, and the backend's evaluation is the twin's.
    #[test]
    fn twin_backend_learns_digits() {
        let s = load_dir(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/digits-8x8"
        )))
        .unwrap();
        let cfg = Config::parse(
            "name='tw'\n[network]\ninputs=64\nlayers=[32,10]\n[train]\nepochs=3\nbatch=16\nlr=0.01\nlr_bias=0.01\nlr_schedule='constant'\nmax_train=1000\nt1=30\nt2=10\n",
            "t",
        )
        .unwrap();
        let mut logs = Vec::new();
        let mut tb = TwinBackend::new(&cfg, s.train.max_pixel).unwrap();
        let p = train_on(
            &mut tb,
            &cfg,
            &s,
            &mut |l, _| logs.push(l.clone()),
            &mut |_| {},
        )
        .unwrap()
        .params;
        eprintln!("{logs:?}");
        assert!(logs[2].loss < logs[0].loss, "loss did not fall: {logs:?}");
        assert!(
            logs[2].test_acc > 0.75,
            "twin-trained accuracy {}",
            logs[2].test_acc
        );
        // the twin's own inference agrees with the backend's evaluation
        let (hw, _) = quantize(&cfg, &p, s.train.max_pixel).unwrap();
        let mut twin = Twin::new(&hw);
        let ok = (0..s.test.len())
            .filter(|&i| {
                twin.infer(&hw.inputs_of_image(s.test.image(i))) == s.test.labels[i] as usize
            })
            .count();
        let acc = ok as f64 / s.test.len() as f64;
        // infer runs hardware.steps (40) steps, the trainer t1 (30): close, not equal
        assert!(
            (acc - logs[2].test_acc).abs() < 0.1,
            "{acc} vs {}",
            logs[2].test_acc
        );
        // the float trainer on the same config: a different run, similar result
        let mut flogs = Vec::new();
        let f = train(&cfg, &s, &mut |l, _| flogs.push(l.test_acc))
            .unwrap()
            .params;
        assert_ne!(f, p);
        assert!(
            (flogs[2] - logs[2].test_acc).abs() < 0.1,
            "{flogs:?} vs {logs:?}"
        );
    }

    #[test]
    fn twin_backend_refuses_noise() {
        let cfg = Config::parse(
            "name='tw'\n[network]\ninputs=64\nlayers=[4,10]\n[train]\nnoise=0.1\n",
            "t",
        )
        .unwrap();
        let e = TwinBackend::new(&cfg, 16).err().unwrap().to_string();
        assert!(e.contains("train.noise = 0.1"), "{e}");
    }
}
