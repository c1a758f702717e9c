//! The parameters of an amplitude-phase network and the trainer's view of
//! them ([`Trainable`]: the groups W, U, h; there is no K).

use crate::config::Config;
use crate::onn::net::{Grad, Params, Topology};
use crate::onn::train::Trainable;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Float parameters of the amplitude-phase network (see the module docs of
/// [`crate::onn::ap`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApParams {
    pub topo: Topology,
    /// Coupling: `w[e]` is `W_ij` for the pair `topo.edges()[e]` (symmetric, real).
    pub w: Vec<f32>,
    /// Input weights, row-major: `u[(i - first) * inputs + k]`.
    pub u: Vec<f32>,
    /// Bias field `h_i` (real), one per oscillator.
    pub h: Vec<f32>,
    /// Linear gain `μ_i` (fixed, from `network.mu`).
    pub mu: Vec<f32>,
    /// Natural-frequency mismatch `δω_i`, fixed per device instance.
    pub domega: Vec<f32>,
    /// Initial state `z_i = x0_i + i y0_i`; every settle starts here.
    pub x0: Vec<f32>,
    pub y0: Vec<f32>,
}

impl ApParams {
    /// The initial parameters of `cfg`: the phase network's draw for the
    /// same seed (W, U, `δω` and the initial phases `θ0`, see
    /// [`Params::init`]), `h = 0`, `μ = network.mu`, and every oscillator
    /// starting on its free circle, `z0 = √μ e^{iθ0}`.
    pub fn init(cfg: &Config) -> ApParams {
        let p = Params::init(cfg);
        let n = p.topo.n();
        let mu = cfg.network.mu as f32;
        let r = mu.sqrt();
        ApParams {
            w: p.w,
            u: p.u,
            h: p.h,
            mu: vec![mu; n],
            domega: p.domega,
            x0: p.theta0.iter().map(|t| r * t.cos()).collect(),
            y0: p.theta0.iter().map(|t| r * t.sin()).collect(),
            topo: p.topo,
        }
    }

    pub fn check(&self) -> Result<()> {
        let n = self.topo.n();
        let ne = self.topo.edges().len();
        let nu = self.topo.layers[0] * self.topo.inputs;
        let groups = [
            ("w", &self.w, ne),
            ("u", &self.u, nu),
            ("h", &self.h, n),
            ("mu", &self.mu, n),
            ("domega", &self.domega, n),
            ("x0", &self.x0, n),
            ("y0", &self.y0, n),
        ];
        for (name, v, want) in groups {
            if v.len() != want {
                bail!(
                    "parameter `{name}` has {} values but the topology needs {want}",
                    v.len()
                );
            }
            if let Some(p) = v.iter().position(|x| !x.is_finite()) {
                bail!("parameter `{name}`[{p}] is {} (not finite)", v[p]);
            }
        }
        if let Some(i) = self.mu.iter().position(|&m| m <= 0.0) {
            bail!(
                "parameter `mu`[{i}] = {} is not positive (an oscillator needs gain to oscillate)",
                self.mu[i]
            );
        }
        Ok(())
    }
}

impl Trainable for ApParams {
    fn init(cfg: &Config) -> ApParams {
        ApParams::init(cfg)
    }

    fn topo(&self) -> &Topology {
        &self.topo
    }

    fn check(&self) -> Result<()> {
        ApParams::check(self)
    }

    fn groups_mut(&mut self) -> [&mut [f32]; 4] {
        [&mut self.w, &mut self.u, &mut self.h, &mut []]
    }

    fn grad_zeros(&self) -> Grad {
        Grad {
            w: vec![0.0; self.w.len()],
            u: vec![0.0; self.u.len()],
            h: vec![0.0; self.h.len()],
            k: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_follows_the_phase_draw_and_checks_lengths() {
        let cfg = Config::parse(
            "name='a'\n[network]\ninputs=5\nlayers=[4,3]\noscillator='amplitude-phase'\nmu=0.64\n[train]\ndispersion=0.1\n",
            "t",
        )
        .unwrap();
        let a = ApParams::init(&cfg);
        let p = Params::init(&cfg);
        assert_eq!((&a.w, &a.u, &a.domega), (&p.w, &p.u, &p.domega));
        for i in 0..7 {
            let r = (a.x0[i] * a.x0[i] + a.y0[i] * a.y0[i]).sqrt();
            assert!((r - 0.8).abs() < 1e-6 && a.x0[i] > 0.0, "{i}: r = {r}");
            assert!((a.y0[i].atan2(a.x0[i]) - p.theta0[i]).abs() < 1e-5);
        }
        a.check().unwrap();
        let mut b = a.clone();
        b.h.pop();
        assert!(format!("{:#}", b.check().unwrap_err()).contains("`h` has 6 values"));
        let mut b = a.clone();
        b.w[2] = f32::NAN;
        assert!(format!("{:#}", b.check().unwrap_err()).contains("`w`[2] is NaN"));
        let mut b = a;
        b.mu[1] = 0.0;
        assert!(format!("{:#}", b.check().unwrap_err()).contains("`mu`[1] = 0"));
    }
}
