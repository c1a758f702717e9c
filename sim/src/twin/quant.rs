//! The quantizer: a trained float network -> the integer parameters of the
//! hardware twin, with a report of what was lost.

use crate::config::Config;
use crate::onn::net::Params;
use crate::twin::model::{Formats, HwModel};
use crate::twin::qformat::{wrap, Q};
use anyhow::{bail, Context, Result};
use std::f64::consts::PI;

/// Clipping and error of one parameter group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupReport {
    pub name: &'static str,
    pub count: usize,
    pub clipped: usize,
    pub max_abs: f64,
    /// The group's format: bits and fraction bits.
    pub bits: u32,
    pub frac: u32,
    /// Root-mean-square of (quantized - float), in float units.
    pub rms_error: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuantReport {
    pub fmt: Formats,
    pub eps_float: f64,
    pub eps_hw: f64,
    /// Settle steps of one inference on the device, and whether they were
    /// derived from the float settle (`hardware.steps = 0`).
    pub steps: u32,
    pub auto_steps: bool,
    pub t1: usize,
    /// ω0 in phase units per step.
    pub omega0: i64,
    pub groups: Vec<GroupReport>,
}

impl std::fmt::Display for QuantReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = &self.fmt;
        writeln!(
            f,
            "formats: phase {} bits, table 2^{} x {} bits, parameters Q{}.{} ({} bits signed), inputs {} bits, drive operands {} bits, step shift {}",
            q.phase_bits,
            q.table_bits,
            q.amp_bits,
            q.weight_bits as i64 - q.frac as i64,
            q.frac,
            q.weight_bits,
            q.input_bits,
            q.drive_bits,
            q.step_shift
        )?;
        writeln!(
            f,
            "Euler step: float {:.4}, hardware {:.4}",
            self.eps_float, self.eps_hw
        )?;
        if self.auto_steps {
            writeln!(
                f,
                "settle: {} hardware steps (hardware.steps = 0: as long as train.t1 = {} float steps)",
                self.steps, self.t1
            )?;
        } else {
            writeln!(f, "settle: {} hardware steps (hardware.steps)", self.steps)?;
        }
        writeln!(
            f,
            "natural frequency (absolute frame): {} phase units per step ({:.4} turn)",
            self.omega0,
            self.omega0 as f64 / 2f64.powi(q.phase_bits as i32)
        )?;
        writeln!(
            f,
            "| group | format | values | clipped | max abs | rms error |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for g in &self.groups {
            writeln!(
                f,
                "| {} | Q{}.{} | {} | {} | {:.4} | {:.5} |",
                g.name,
                g.bits as i64 - g.frac as i64,
                g.frac,
                g.count,
                g.clipped,
                g.max_abs,
                g.rms_error
            )?;
        }
        Ok(())
    }
}

/// Share of a group's values clipped above which the quantizer warns.
pub const CLIP_WARN_SHARE: f64 = 0.005;

impl QuantReport {
    /// Plain warnings about what quantization lost: a parameter group with
    /// a meaningful share of its values clipped (at least
    /// [`CLIP_WARN_SHARE`], or any value more than twice the format's
    /// range). `quantize`, `gen` and with it `make bitstream` print them.
    pub fn warnings(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| g.clipped > 0)
            .filter_map(|g| {
                let top = ((1i64 << (g.bits - 1)) - 1) as f64 / 2f64.powi(g.frac as i32);
                let share = g.clipped as f64 / g.count.max(1) as f64;
                (share >= CLIP_WARN_SHARE || g.max_abs > 2.0 * top).then(|| {
                    format!(
                        "warning: quantization clipped {} of {} {} values ({:.1}%) to the format's ±{top:.4} (Q{}.{}; largest |value| {:.4}); the twin, and the hardware, lose accuracy: compare them with `phasegen quantize`, then retrain with train.clip = true, or give the group more integer bits (hardware.weight_bits, or fewer fraction bits: hardware.weight_frac / w_frac / u_frac)",
                        g.clipped,
                        g.count,
                        g.name,
                        100.0 * share,
                        g.bits as i64 - g.frac as i64,
                        g.frac,
                        g.max_abs
                    )
                })
            })
            .collect()
    }
}

fn quantize_group(name: &'static str, q: &Q, xs: &[f64]) -> (Vec<i64>, GroupReport) {
    let mut out = Vec::with_capacity(xs.len());
    let mut clipped = 0;
    let mut se = 0.0;
    let mut max_abs: f64 = 0.0;
    for &x in xs {
        let r = q.quantize(x);
        clipped += r.clipped as usize;
        se += (q.to_f64(r.value) - x).powi(2);
        max_abs = max_abs.max(x.abs());
        out.push(r.value);
    }
    let rms_error = if xs.is_empty() {
        0.0
    } else {
        (se / xs.len() as f64).sqrt()
    };
    (
        out,
        GroupReport {
            name,
            count: xs.len(),
            clipped,
            max_abs,
            bits: q.bits,
            frac: q.frac as u32,
            rms_error,
        },
    )
}

pub use crate::config::{quantize_harmonics, MAX_HARM_FRAC};

/// The most fraction bits W or U gets beyond the other parameters' (keeps
/// the field accumulator and the rounding shifts within a few bits).
pub const MAX_GROUP_SHIFT: u32 = 8;

/// Quantize `p` to the formats of `cfg.hardware`. `max_pixel` is the data
/// set's full-scale pixel value.
pub fn quantize(cfg: &Config, p: &Params, max_pixel: u8) -> Result<(HwModel, QuantReport)> {
    p.check()?;
    let hw = &cfg.hardware;
    if hw.drive_bits < hw.weight_bits {
        bail!(
            "hardware.drive_bits = {} is below hardware.weight_bits = {}; the drive multiplier takes parameters as operands, so use drive_bits >= weight_bits",
            hw.drive_bits,
            hw.weight_bits
        );
    }
    p.coupling.require_hardware("the quantizer")?;
    if hw.coupling == crate::config::Coupling::Pairs && p.coupling.order() > 1 {
        bail!(
            "hardware.coupling = \"pairs\" does not compute the coupling's extra harmonics (this model has train.harmonics = {:?}); use hardware.coupling = \"rows\" (the default) for it",
            p.coupling.harmonics
        );
    }
    let a: Vec<f64> = p.coupling.harmonics.iter().map(|&v| v as f64).collect();
    let (harmonics, harm_frac) = quantize_harmonics(&a, hw.weight_bits);
    let topo = &p.topo;
    let edges = topo.edges();
    // Inputs are integers 0..2^B-1 standing for 0..1, but the hardware reads
    // them at scale 2^B: fold the gain 2^B/(2^B-1) into U.
    let in_gain = 2f64.powi(hw.input_bits as i32) / (2f64.powi(hw.input_bits as i32) - 1.0);
    let u: Vec<f64> = p.u.iter().map(|&v| v as f64 * in_gain).collect();
    let w: Vec<f64> = p.w.iter().map(|&v| v as f64).collect();
    let h: Vec<f64> = p.h.iter().map(|&v| v as f64).collect();
    let k: Vec<f64> = p.k.iter().map(|&v| v as f64).collect();
    let beta = cfg.train.beta;

    let frac = if hw.weight_frac > 0 {
        hw.weight_frac
    } else {
        let max_abs = w
            .iter()
            .chain(&u)
            .chain(&h)
            .chain(&k)
            .fold(beta.abs(), |m, &v| m.max(v.abs()));
        let top = ((1i64 << (hw.weight_bits - 1)) - 1) as f64;
        let f = (top / max_abs).log2().floor();
        f.clamp(0.0, 24.0) as u32
    };
    let q = Q::signed(hw.weight_bits, frac as i32);
    // W's and U's own fraction bits: the most that keep the group's largest
    // value in range (at least frac, at most MAX_GROUP_SHIFT more)
    let group_frac = |xs: &[f64]| {
        let max = xs.iter().fold(0f64, |m, &v| m.max(v.abs()));
        let top = ((1i64 << (hw.weight_bits - 1)) - 1) as f64;
        if max > 0.0 {
            ((top / max).log2().floor().max(0.0) as u32).clamp(frac, frac + MAX_GROUP_SHIFT)
        } else {
            frac
        }
    };
    let pinned = |name: &str, v: u32, xs: &[f64]| -> Result<u32> {
        if v == 0 {
            return Ok(group_frac(xs));
        }
        if v < frac || v > frac + MAX_GROUP_SHIFT {
            bail!(
                "hardware.{name} = {v} must be within {frac}..={} (the shared fraction bits {frac} and at most {MAX_GROUP_SHIFT} more); use 0 to let the quantizer choose",
                frac + MAX_GROUP_SHIFT
            );
        }
        Ok(v)
    };
    let w_frac = pinned("w_frac", hw.w_frac, &w)?;
    let u_frac = pinned("u_frac", hw.u_frac, &u)?;
    let qw = Q::signed(hw.weight_bits, w_frac as i32);
    let qu = Q::signed(hw.weight_bits, u_frac as i32);

    // The largest step shift whose Euler step does not exceed the float one.
    let (p_bits, s_bits) = (hw.phase_bits as i32, hw.amp_bits as i32);
    let ideal = (2.0 * PI * 2f64.powi(frac as i32 + s_bits - 1 - p_bits) / cfg.train.eps).log2();
    let step_shift = ideal.ceil().max(0.0) as u32;
    let fmt = Formats {
        phase_bits: hw.phase_bits,
        table_bits: hw.table_bits,
        amp_bits: hw.amp_bits,
        weight_bits: hw.weight_bits,
        frac,
        w_frac,
        u_frac,
        input_bits: hw.input_bits,
        drive_bits: hw.drive_bits,
        step_shift,
    };
    let eps_hw = fmt.eps();
    // 0 = auto: the float model's settle time t1 · eps in hardware steps
    let auto_steps = hw.steps == 0;
    let steps = if auto_steps {
        let t = (cfg.train.t1 as f64 * cfg.train.eps / eps_hw - 1e-9).ceil();
        if t > 65_535.0 {
            bail!(
                "hardware.steps = 0 (auto) needs {t} hardware steps of {eps_hw:.3e} for train.t1 = {} steps of train.eps = {}: more than 65535; set hardware.steps explicitly or raise hardware.weight_bits",
                cfg.train.t1,
                cfg.train.eps
            );
        }
        t.max(1.0) as u32
    } else {
        hw.steps
    };

    let (wq, gw) = quantize_group("W", &qw, &w);
    let (uq, gu) = quantize_group("U", &qu, &u);
    let (hq, gh) = quantize_group("h", &q, &h);
    let (kq, gk) = quantize_group("K", &q, &k);
    let turn = 2f64.powi(p_bits);
    let omega: Vec<i64> = p
        .domega
        .iter()
        .map(|&d| (d as f64 * eps_hw * turn / (2.0 * PI)).round() as i64)
        .collect();
    // the common natural frequency: the reference and every oscillator
    // advance by ω0 per step in the absolute frame
    let omega0 = (hw.omega0 * eps_hw * turn / (2.0 * PI)).round() as i64;
    let half = 1i64 << (hw.phase_bits - 1);
    let max_inc = omega.iter().map(|&o| (omega0 + o).abs()).max().unwrap_or(0);
    if omega0 >= half || max_inc >= half {
        bail!(
            "hardware.omega0 = {} advances the phases by {} of {} units per step (with the detuning, up to {max_inc}); keep it below half a turn ({half}): use omega0 <= {:.3}",
            hw.omega0,
            omega0,
            1i64 << hw.phase_bits,
            (half as f64 - 1.0) * 2.0 * PI / (eps_hw * turn) * 0.9
        );
    }
    let (pin_first, pins) = hw.pin_range(&topo.layers);
    let theta0: Vec<u64> = p
        .theta0
        .iter()
        .map(|&t| wrap((t as f64 * turn / (2.0 * PI)).round() as i64, hw.phase_bits))
        .collect();

    let mut rows = vec![Vec::new(); topo.n()];
    for (e, &(i, j)) in edges.iter().enumerate() {
        rows[i].push((j, wq[e]));
        rows[j].push((i, wq[e]));
    }
    for r in rows.iter_mut() {
        r.sort_by_key(|&(j, _)| j);
    }
    let harm_q = (!harmonics.is_empty()).then(|| Q::signed(hw.weight_bits, harm_frac as i32));
    let mut model = HwModel {
        topo: topo.clone(),
        fmt,
        rows,
        u: uq,
        h: hq,
        k: kq,
        omega,
        omega0,
        pin_first,
        pins,
        u_in_ram: hw.u_in_ram(&cfg.network, &cfg.target.board),
        params_in_ram: hw.params == crate::config::ParamMemory::Ram,
        w_in_ram: hw.w_in_ram(
            &cfg.network,
            // the pairs stream stores each pair once
            if hw.coupling == crate::config::Coupling::Pairs {
                edges.len()
            } else {
                2 * edges.len()
            },
            &cfg.target.board,
        ),
        spram: crate::board::up5k(&cfg.target.board),
        pairs: hw.coupling == crate::config::Coupling::Pairs,
        axis: hw.interface == crate::config::Interface::Axis,
        harmonics,
        harm_frac,
        theta0,
        max_pixel,
        steps,
        lanes: hw.lanes,
        learn: None,
        hebb: None,
    };
    if hw.learning == crate::config::Learning::Hebbian {
        model.hebb = Some(crate::twin::model::HebbSpec::new(&fmt, model.topo.n()));
    }
    if hw.learning == crate::config::Learning::Ep {
        let t = &cfg.train;
        model.learn = Some(
            crate::twin::model::LearnSpec::new(
                &fmt,
                beta_int(&fmt, t.beta.abs()),
                t.symmetric,
                t.t1 as u32,
                t.t2 as u32,
                t.lr,
                t.lr_bias,
                hw.shadow_bits,
                crate::twin::model::Rounding::Shadow,
            )
            .map(|s| crate::twin::model::LearnSpec {
                store: hw.store,
                pattern: hw.nudge == crate::config::Nudge::Pattern,
                ..s
            })
            .context("hardware.learning = \"ep\"")?,
        );
    }
    Ok((
        model,
        QuantReport {
            fmt,
            eps_float: cfg.train.eps,
            eps_hw,
            steps,
            auto_steps,
            t1: cfg.train.t1,
            omega0,
            groups: {
                let mut g = vec![gw, gu, gh, gk];
                if let Some(qa) = harm_q {
                    g.push(quantize_group("a_n (harmonics)", &qa, &a).1);
                }
                g
            },
        },
    ))
}

/// β in the parameters' format, as the device takes it.
pub fn beta_int(fmt: &Formats, beta: f64) -> i64 {
    Q::signed(fmt.weight_bits, fmt.frac as i32)
        .quantize(beta)
        .value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn quantizer_picks_a_format_that_holds_the_weights() {
        let cfg = Config::default_config();
        let p = Params::init(&cfg);
        let (m, rep) = quantize(&cfg, &p, 16).unwrap();
        assert!(rep.groups.iter().all(|g| g.clipped == 0), "{rep}");
        assert!(
            rep.eps_hw <= cfg.train.eps && rep.eps_hw > cfg.train.eps / 2.0,
            "{rep}"
        );
        assert_eq!(m.nnz(), 2 * p.topo.edges().len());
        // every weight is within half an LSB of the float weight
        let q = Q::signed(m.fmt.weight_bits, m.fmt.w_frac as i32);
        for (e, &(i, j)) in p.topo.edges().iter().enumerate() {
            let wij = m.rows[i].iter().find(|&&(jj, _)| jj == j).unwrap().1;
            assert!(
                (q.to_f64(wij) - p.w[e] as f64).abs()
                    <= 0.5 / 2f64.powi(m.fmt.w_frac as i32) + 1e-9
            );
        }
        assert_eq!(m.input_of_pixel(16), 15);
        assert_eq!(m.input_of_pixel(0), 0);
        assert_eq!(m.input_of_pixel(8), 8);
    }

    #[test]
    fn each_weight_group_gets_the_fraction_bits_its_range_allows() {
        let mut cfg = Config::default_config();
        cfg.train.beta = 3.0; // h, K and beta share frac: Q3.5 at 8 bits
        let mut p = Params::init(&cfg);
        p.w.iter_mut().for_each(|w| *w = w.clamp(-0.45, 0.45)); // Q0.8 would clip 0.5
        p.w[0] = 0.45;
        p.u.iter_mut().for_each(|u| *u = u.clamp(-0.1, 0.1));
        p.u[0] = 0.1;
        let (m, rep) = quantize(&cfg, &p, 16).unwrap();
        let f = m.fmt;
        assert_eq!(f.frac, 5, "{rep}");
        // 0.45 * 2^8 = 115 <= 127; U 0.1 * (16/15) * 2^10 = 109
        assert_eq!((f.w_frac, f.u_frac), (8, 10), "{rep}");
        assert!(rep.groups.iter().all(|g| g.clipped == 0), "{rep}");
        assert_eq!(f.coupling_shift(), f.amp_bits - 1 + 3);
        assert_eq!(f.field_shift(), f.input_bits + 5);
        // the formats are in the report
        let text = rep.to_string();
        assert!(
            text.contains("| W | Q0.8 |") && text.contains("| U | Q-2.10 |"),
            "{text}"
        );
        // a group cannot take fewer fraction bits than the shared format
        p.w[0] = 3.0;
        let (m, _) = quantize(&cfg, &p, 16).unwrap();
        assert_eq!(m.fmt.w_frac, m.fmt.frac);
        // pinned formats are kept (W clips), and must be in range
        cfg.hardware.w_frac = 7;
        cfg.hardware.u_frac = 5;
        let (m, rep) = quantize(&cfg, &p, 16).unwrap();
        assert_eq!((m.fmt.w_frac, m.fmt.u_frac), (7, 5));
        assert_eq!(rep.groups[0].clipped, 1, "{rep}");
        for bad in [4, 14] {
            cfg.hardware.w_frac = bad;
            let e = quantize(&cfg, &p, 16).unwrap_err().to_string();
            assert!(
                e.contains(&format!("hardware.w_frac = {bad}")) && e.contains("5..=13"),
                "{e}"
            );
        }
    }

    #[test]
    fn fixed_frac_clips_and_reports() {
        let mut cfg = Config::default_config();
        cfg.hardware.weight_frac = 12;
        let p = Params::init(&cfg);
        let (_, rep) = quantize(&cfg, &p, 16).unwrap();
        assert!(rep.groups[0].clipped > 0, "{rep}");
        // most of W clips at: said plainly
        let w = rep.warnings();
        assert!(
            w.iter()
                .any(|l| l.starts_with("warning: quantization clipped") && l.contains(" W values")),
            "{w:?}"
        );
    }

    /// A model whose values all fit its formats gets no warning; one value
    /// of W far out of range does, even alone.
    #[test]
    fn clipping_warnings_are_for_meaningful_losses() {
        let cfg = Config::default_config();
        let mut p = Params::init(&cfg);
        let (_, rep) = quantize(&cfg, &p, 16).unwrap();
        assert!(rep.warnings().is_empty(), "{:?}", rep.warnings());
        let mut pinned = cfg.clone();
        pinned.hardware.weight_frac = 5;
        p.w[3] = 100.0;
        let (_, rep) = quantize(&pinned, &p, 16).unwrap();
        assert_eq!(rep.groups[0].clipped, 1, "{rep}");
        let w = rep.warnings();
        assert!(w.len() == 1 && w[0].contains("clipped 1 of"), "{w:?}");
    }
}
