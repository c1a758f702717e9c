//! The associative memory ([`crate::onn::memory`]) on the integer twin: the
//! stored couplings quantized to a hardware design's formats, and the same
//! retrievals (the same corrupted starts) settled by [`Twin::step`], the
//! arithmetic of the generated core bit for bit.
//!
//! A design config (`configs/full-256.toml` and the like) gives the formats
//! only: the memory's network is its own (`N` oscillators, every pair
//! coupled, no inputs). The quantizer ([`quantize`]) picks the fraction
//! bits from the memory's values as it does for a trained net: `h`, `K` in
//! the shared format, W in its own. A retrieval has no nudge, so β is not
//! among the values the shared format must hold (it is set to 0 here).
//! The twin's settle runs as long as the float's (`hardware.steps = 0`:
//! `steps · eps` in hardware steps of `eps_hw`) and stops earlier when no
//! phase changed over [`CHECK_EVERY`] steps (a fixed point of the integer
//! map). The readout is the sign of the table's `cos θ_i`.
//!
//! [`capacity`] is the table of docs/memory.md: for every size, load and
//! rule, random patterns stored once, then retrieved from each corruption
//! on the float model and on the twin.

use crate::config::Config;
use crate::onn::memory::{
    corrupt, evaluate, pattern_stats, random_patterns, summary, Memory, Options, PatternStats,
    Recall, Rule, Summary, Trial, CHECK_EVERY,
};
use crate::rng::Rng;
use crate::twin::model::{HwModel, Twin};
use crate::twin::quant::{quantize, QuantReport};
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::f64::consts::PI;
use std::fmt::Write;
use std::time::Instant;

/// Quantizes a memory to the formats of `design` (its `hardware` section)
/// for retrievals of `o.steps` float steps of `o.eps`.
pub fn quantize_memory(
    design: &Config,
    mem: &Memory,
    o: &Options,
) -> Result<(HwModel, QuantReport)> {
    let mut cfg = design.clone();
    cfg.train.beta = 0.0;
    cfg.train.eps = o.eps;
    cfg.train.t1 = o.steps;
    cfg.hardware.steps = 0;
    quantize(&cfg, &mem.params, 1)
}

/// A float phase (rad) as the twin's phase integer: `round(θ 2^P / 2π) mod 2^P`.
pub fn phase_int(theta: f32, phase_bits: u32) -> u64 {
    let turn = 2f64.powi(phase_bits as i32);
    crate::twin::qformat::wrap(
        (theta as f64 * turn / (2.0 * PI)).round() as i64,
        phase_bits,
    )
}

/// One retrieval of pattern `p` on the twin, from the corrupted start that
/// [`crate::onn::memory::recall`] draws with the same `rng`.
pub fn recall_twin(hw: &HwModel, mem: &Memory, p: usize, r: &Recall, rng: &mut Rng) -> Trial {
    let x = &mem.patterns[p];
    let start = corrupt(x, r.corrupt, r.jitter, rng);
    let bits = hw.fmt.phase_bits;
    let mut tw = Twin::new(hw);
    tw.load_input(&[]);
    tw.set_nudge(0, None);
    tw.theta = start.iter().map(|&t| phase_int(t, bits)).collect();
    let total = hw.steps as usize;
    let mut done = 0;
    let mut prev = tw.theta.clone();
    while done < total {
        let chunk = CHECK_EVERY.min(total - done);
        for _ in 0..chunk {
            tw.step();
        }
        done += chunk;
        if tw.theta == prev {
            break;
        }
        prev.clone_from(&tw.theta);
    }
    let a: i64 = tw
        .theta
        .iter()
        .zip(x)
        .map(|(&t, &v)| {
            if tw.cos_of(t) >= 0 {
                v as i64
            } else {
                -v as i64
            }
        })
        .sum();
    let amp = hw.fmt.amp() as f64;
    Trial {
        overlap: a.unsigned_abs() as f64 / x.len() as f64,
        exact: a.unsigned_abs() as usize == x.len(),
        steps: done,
        abs_sin: tw
            .theta
            .iter()
            .map(|&t| tw.sin_of(t).abs() as f64 / amp)
            .sum::<f64>()
            / x.len() as f64,
    }
}

/// [`evaluate`] on the twin: the same trials, the same streams, the same
/// corrupted starts.
pub fn evaluate_twin(
    hw: &HwModel,
    mem: &Memory,
    r: &Recall,
    trials: usize,
    count: usize,
    seed: u64,
) -> Vec<PatternStats> {
    let count = count.min(mem.patterns.len());
    let results: Vec<Trial> = (0..count * trials)
        .into_par_iter()
        .map(|k| {
            let mut rng = Rng::stream(seed, k as u64);
            recall_twin(hw, mem, k / trials, r, &mut rng)
        })
        .collect();
    pattern_stats(mem, &results, trials)
}

/// A hardware design whose formats the capacity table uses: its name, its
/// number of oscillators and its config.
#[derive(Debug, Clone)]
pub struct Design {
    pub name: String,
    pub n: usize,
    pub cfg: Config,
}

impl Design {
    pub fn new(cfg: Config) -> Design {
        Design {
            name: cfg.name.clone(),
            n: cfg.network.layers.iter().sum(),
            cfg,
        }
    }
}

/// What the capacity table measures.
#[derive(Debug, Clone)]
pub struct CapacityPlan {
    pub sizes: Vec<usize>,
    pub loads: Vec<f64>,
    pub corrupts: Vec<f64>,
    pub rules: Vec<Rule>,
    /// Stored patterns probed per point (the first ones).
    pub probed: usize,
    /// The designs; size `N` uses the smallest with at least `N` oscillators.
    pub designs: Vec<Design>,
}

/// One row of the capacity table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityRow {
    pub n: usize,
    pub p: usize,
    pub load: f64,
    pub rule: Rule,
    pub corrupt: f64,
    pub float: Summary,
    pub twin: Summary,
    /// The design whose formats the twin used, and its W format.
    pub design: String,
    pub w_format: String,
    /// W values clipped by the quantizer.
    pub w_clipped: usize,
    /// Seconds to store (train) the memory, and to run this row's retrievals.
    pub store_s: f64,
    pub recall_s: f64,
}

impl CapacityPlan {
    pub fn validate(&self, base: &Options) -> Result<()> {
        crate::onn::memory::validate_sweep(&self.sizes, &self.loads, Rule::Hebb)?;
        if self.rules.contains(&Rule::Pinv) {
            crate::onn::memory::validate_sweep(&self.sizes, &self.loads, Rule::Pinv)?;
        }
        if self.corrupts.is_empty() || self.rules.is_empty() {
            bail!("a capacity table needs at least one corruption (--corrupts) and one rule (--rules)");
        }
        base.validate()?;
        for &c in &self.corrupts {
            // written so that NaN fails
            if !(0.0..=0.5).contains(&c) {
                bail!("--corrupts {c} is out of range: a fraction of flipped bits must be in [0, 0.5]");
            }
        }
        if !(1..=10_000).contains(&self.probed) {
            bail!(
                "--probed {} is out of range: probe 1 to 10000 stored patterns per point",
                self.probed
            );
        }
        for &n in &self.sizes {
            self.design(n)?;
        }
        Ok(())
    }

    /// The design for `n` oscillators: the smallest with at least `n`.
    pub fn design(&self, n: usize) -> Result<&Design> {
        self.designs
            .iter()
            .filter(|d| d.n >= n)
            .min_by_key(|d| d.n)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--sizes {n}: no design of --designs has {n} oscillators or more (largest: {}); give a larger design or a smaller size",
                    self.designs.iter().map(|d| d.n).max().unwrap_or(0)
                )
            })
    }
}

/// The capacity table: for each size `N` and load, `P = round(load N)`
/// random patterns (the same for every rule), stored by each rule of the
/// plan with `base`'s settings, quantized to the size's design, and
/// retrieved `base.trials` times per probed pattern from each corruption,
/// on the float model and on the twin (the same starts). `row` sees each
/// row as it is made (for progress).
pub fn capacity(
    base: &Options,
    plan: &CapacityPlan,
    mut row: impl FnMut(&CapacityRow),
) -> Result<Vec<CapacityRow>> {
    plan.validate(base)?;
    let mut out = Vec::new();
    for (a, &n) in plan.sizes.iter().enumerate() {
        let design = plan.design(n)?;
        for (b, &load) in plan.loads.iter().enumerate() {
            let p = ((load * n as f64).round() as usize).max(1);
            let point_seed = Rng::stream(base.seed, (a * plan.loads.len() + b) as u64).next_u64();
            let pats = random_patterns(n, p, &mut Rng::new(point_seed));
            for &rule in &plan.rules {
                let o = Options {
                    rule,
                    ..base.clone()
                };
                let t0 = Instant::now();
                let (mem, _) = Memory::train(pats.clone(), &o, point_seed)?;
                let store_s = t0.elapsed().as_secs_f64();
                let (hw, rep) = quantize_memory(&design.cfg, &mem, &o)?;
                let gw = &rep.groups[0];
                for &c in &plan.corrupts {
                    let t1 = Instant::now();
                    let r = Recall {
                        corrupt: c,
                        ..o.recall()
                    };
                    let fl = evaluate(&mem, &r, o.trials, plan.probed, point_seed);
                    let tw = evaluate_twin(&hw, &mem, &r, o.trials, plan.probed, point_seed);
                    let rw = CapacityRow {
                        n,
                        p,
                        load: p as f64 / n as f64,
                        rule,
                        corrupt: c,
                        float: summary(&fl),
                        twin: summary(&tw),
                        design: design.name.clone(),
                        w_format: format!("Q{}.{}", gw.bits as i64 - gw.frac as i64, gw.frac),
                        w_clipped: gw.clipped,
                        store_s,
                        recall_s: t1.elapsed().as_secs_f64(),
                    };
                    row(&rw);
                    out.push(rw);
                }
            }
        }
    }
    Ok(out)
}

/// The capacity table in Markdown, one line per size, load and rule, the
/// corruptions side by side (float | twin: mean overlap / exact recall).
pub fn capacity_table(base: &Options, plan: &CapacityPlan, rows: &[CapacityRow]) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "random patterns, K {}, jitter {} rad, {} trials on each of up to {} stored patterns per point, seed {}; EP: {} epochs, β {}, η {}, init {:?}, trained from {:.0}% corrupted starts",
        base.k,
        base.jitter,
        base.trials,
        plan.probed,
        base.seed,
        base.ep.epochs,
        base.ep.beta,
        base.ep.eta.map_or("1/(8N)".to_string(), |e| e.to_string()),
        base.ep.init,
        100.0 * base.ep.corrupt
    )
    .ok();
    for &n in &plan.sizes {
        if let Ok(d) = plan.design(n) {
            let h = &d.cfg.hardware;
            writeln!(
                s,
                "N = {n}: twin at the formats of {} ({} oscillators): {}-bit phase, 2^{} x {}-bit table, {}-bit parameters, {}-bit drive operands",
                d.name, d.n, h.phase_bits, h.table_bits, h.amp_bits, h.weight_bits, h.drive_bits
            )
            .ok();
        }
    }
    writeln!(s).ok();
    let mut head = "| N | P | P/N | rule | W format (clipped) |".to_string();
    let mut rule = "|---:|---:|---:|---|---|".to_string();
    for c in &plan.corrupts {
        write!(
            head,
            " {:.0}%: float | {:.0}%: twin |",
            100.0 * c,
            100.0 * c
        )
        .ok();
        rule.push_str("---|---|");
    }
    writeln!(s, "{head}\n{rule}").ok();
    for chunk in rows.chunks(plan.corrupts.len().max(1)) {
        let f = &chunk[0];
        write!(
            s,
            "| {} | {} | {:.3} | {} | {} ({}) |",
            f.n,
            f.p,
            f.load,
            f.rule.name(),
            f.w_format,
            f.w_clipped
        )
        .ok();
        for r in chunk {
            write!(
                s,
                " {:.3} / {:.0}% | {:.3} / {:.0}% |",
                r.float.mean_overlap,
                100.0 * r.float.exact_rate,
                r.twin.mean_overlap,
                100.0 * r.twin.exact_rate
            )
            .ok();
        }
        writeln!(s).ok();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onn::memory::{digit_patterns, EpOptions};
    use crate::twin::model::Twin;
    use std::path::Path;

    fn root(p: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
    }

    fn opts(rule: Rule) -> Options {
        Options {
            rule,
            corrupt: 0.15,
            jitter: 0.1,
            trials: 6,
            k: 0.2,
            eps: 0.1,
            steps: 2000,
            noise: 0.0,
            dispersion: 0.0,
            seed: 1,
            ep: EpOptions {
                epochs: 20,
                ..EpOptions::default()
            },
        }
    }

    /// The twin at the formats of the 64-oscillator design retrieves like
    /// the float model from the same starts: on four digits stored by EP
    /// and by the pseudo-inverse rule, and on random patterns by the
    /// Hebbian rule, the mean overlaps agree within 0.03.
    #[test]
    fn twin_recalls_like_the_float_at_hardware_formats() {
        let design = Config::load(&root("configs/asic/full-64.toml")).unwrap();
        let split = crate::data::load_dir(&root("data/digits-8x8")).unwrap();
        let digits: Vec<_> = digit_patterns(&split.test, 4)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let random = random_patterns(64, 4, &mut Rng::new(4));
        for (rule, pats) in [
            (Rule::Ep, digits.clone()),
            (Rule::Pinv, digits),
            (Rule::Hebb, random),
        ] {
            let o = opts(rule);
            let (mem, _) = Memory::train(pats, &o, 2).unwrap();
            let (hw, rep) = quantize_memory(&design, &mem, &o).unwrap();
            assert_eq!(hw.fmt.phase_bits, 16);
            assert_eq!(rep.groups[0].clipped, 0, "{rep}");
            let r = o.recall();
            let f = summary(&evaluate(&mem, &r, 6, 4, 9));
            let t = summary(&evaluate_twin(&hw, &mem, &r, 6, 4, 9));
            eprintln!("{rule:?}: float {f:?} twin {t:?}");
            assert!(
                (f.mean_overlap - t.mean_overlap).abs() <= 0.03,
                "{rule:?}: float {f:?} twin {t:?}"
            );
            assert!(t.mean_overlap >= 0.9, "{rule:?}: twin {t:?}");
        }
    }

    /// A start on a stored pattern is a fixed point of the twin, and the
    /// phase conversion puts 0 and π on the table's zero crossings.
    #[test]
    fn stored_pattern_is_a_twin_fixed_point() {
        let design = Config::load(&root("configs/full-256.toml")).unwrap();
        let pats = random_patterns(32, 3, &mut Rng::new(1));
        let o = opts(Rule::Pinv);
        let (mem, _) = Memory::train(pats, &o, 1).unwrap();
        let (hw, _) = quantize_memory(&design, &mem, &o).unwrap();
        assert_eq!(phase_int(0.0, 16), 0);
        assert_eq!(phase_int(std::f32::consts::PI, 16), 1 << 15);
        let mut tw = Twin::new(&hw);
        tw.load_input(&[]);
        tw.theta = crate::onn::memory::phases(&mem.patterns[1])
            .iter()
            .map(|&t| phase_int(t, 16))
            .collect();
        let start = tw.theta.clone();
        for _ in 0..50 {
            tw.step();
        }
        assert_eq!(tw.theta, start);
        let r = Recall {
            corrupt: 0.0,
            ..o.recall()
        };
        let t = recall_twin(&hw, &mem, 1, &r, &mut Rng::new(3));
        assert!(t.exact && t.abs_sin < 0.01, "{t:?}");
    }

    #[test]
    fn capacity_plan_names_bad_values() {
        let design = Design::new(Config::load(&root("configs/full-256.toml")).unwrap());
        let plan = CapacityPlan {
            sizes: vec![64],
            loads: vec![0.1],
            corrupts: vec![0.1],
            rules: vec![Rule::Hebb],
            probed: 2,
            designs: vec![design],
        };
        let o = opts(Rule::Hebb);
        assert!(plan.validate(&o).is_ok());
        let bad = |f: &dyn Fn(&mut CapacityPlan)| {
            let mut p = plan.clone();
            f(&mut p);
            format!("{:#}", p.validate(&o).unwrap_err())
        };
        let e = bad(&|p| p.sizes = vec![512]);
        assert!(
            e.contains("--sizes 512") && e.contains("largest: 256"),
            "{e}"
        );
        let e = bad(&|p| p.corrupts = vec![0.7]);
        assert!(e.contains("--corrupts 0.7"), "{e}");
        let e = bad(&|p| p.probed = 0);
        assert!(e.contains("--probed 0"), "{e}");
        let e = bad(&|p| p.rules.clear());
        assert!(e.contains("--rules"), "{e}");
    }
}
