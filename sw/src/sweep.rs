//! How far the hardware formats can shrink: twin accuracy against weight
//! bits and phase bits (`phasegen sweep`), and each parameter group's
//! distribution against its format's range (`phasegen quantize --plot`).

use crate::plot::{render, Chart, Marker, Series, PALETTE};
use anyhow::Result;
use phasegen_sim::config::Config;
use phasegen_sim::data::Dataset;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::onn::train;
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::quantize;
use rayon::prelude::*;
use std::fmt::Write as _;

/// Twin accuracy on the first `n` samples of `test` (in parallel).
pub fn twin_accuracy(hw: &HwModel, test: &Dataset, n: usize) -> f64 {
    let n = n.min(test.len());
    if n == 0 {
        return 0.0;
    }
    let ok: usize = (0..n)
        .into_par_iter()
        .map_init(
            || Twin::new(hw),
            |twin, i| {
                let x = hw.inputs_of_image(test.image(i));
                (twin.infer(&x) == test.labels[i] as usize) as usize
            },
        )
        .sum();
    ok as f64 / n as f64
}

/// One point of the sweep: the config's formats with one field changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub weight_bits: u32,
    pub phase_bits: u32,
    pub table_bits: u32,
    /// Twin test accuracy, or why this format cannot be built.
    pub accuracy: std::result::Result<f64, String>,
}

/// The config with `weight_bits` (frac chosen again from the weights) or
/// `phase_bits` (table bits capped below it) changed, quantized and run.
pub fn point(mf: &ModelFile, test: &Dataset, n: usize, wb: u32, pb: u32) -> Point {
    let mut cfg: Config = mf.config.clone();
    let h = &mut cfg.hardware;
    h.weight_bits = wb;
    h.weight_frac = 0;
    h.drive_bits = h.drive_bits.max(wb);
    h.phase_bits = pb;
    h.table_bits = h.table_bits.min(pb - 1);
    let tb = h.table_bits;
    let accuracy = cfg
        .validate()
        .and_then(|_| quantize(&cfg, &mf.params, mf.max_pixel))
        .map(|(hw, _)| twin_accuracy(&hw, test, n))
        .map_err(|e| format!("{e:#}"));
    Point {
        weight_bits: wb,
        phase_bits: pb,
        table_bits: tb,
        accuracy,
    }
}

/// The sweep's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sweep {
    pub samples: usize,
    pub float_accuracy: f64,
    pub default: Point,
    /// Weight bits swept at the config's phase bits.
    pub weights: Vec<Point>,
    /// Phase bits swept at the config's weight bits.
    pub phases: Vec<Point>,
}

/// The sweep's points in order: the config's formats, then every weight
/// width in `wbits` at the config's phase bits, then every phase width in
/// `pbits` at its weight bits, as `(weight bits, phase bits)`.
pub fn points(mf: &ModelFile, wbits: &[u32], pbits: &[u32]) -> Vec<(u32, u32)> {
    let h = &mf.config.hardware;
    std::iter::once((h.weight_bits, h.phase_bits))
        .chain(wbits.iter().map(|&w| (w, h.phase_bits)))
        .chain(pbits.iter().map(|&p| (h.weight_bits, p)))
        .collect()
}

/// The sweep from its points' results in [`points`]' order (computed here
/// or by jobs elsewhere) and the float model's accuracy on `n` samples.
pub fn assemble(mf: &ModelFile, test: &Dataset, n: usize, wn: usize, pts: Vec<Point>) -> Sweep {
    let n = n.min(test.len());
    let mut sub = test.clone();
    sub.images.truncate(n * test.pixels());
    sub.labels.truncate(n);
    let (float_accuracy, _) = train::evaluate(
        &mf.params,
        &sub,
        &train::free_settle(&mf.config.train),
        mf.config.train.seed,
    );
    let mut it = pts.into_iter();
    let default = it.next().expect("the config's point");
    let weights: Vec<Point> = it.by_ref().take(wn).collect();
    Sweep {
        samples: n,
        float_accuracy,
        default,
        weights,
        phases: it.collect(),
    }
}

/// Runs the twin at every weight width in `wbits` and every phase width in
/// `pbits` (the other formats as configured) on `n` test samples.
pub fn sweep(mf: &ModelFile, test: &Dataset, n: usize, wbits: &[u32], pbits: &[u32]) -> Sweep {
    let n = n.min(test.len());
    let todo = points(mf, wbits, pbits);
    let bar = crate::progress::bar("sweep", "formats", todo.len() as u64);
    let pts = todo
        .iter()
        .map(|&(w, p)| {
            let pt = point(mf, test, n, w, p);
            bar.inc(1);
            pt
        })
        .collect();
    bar.finish_and_clear();
    assemble(mf, test, n, wbits.len(), pts)
}

impl Sweep {
    /// Two Markdown tables; a format that cannot be built shows its reason
    /// as a footnote.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let mut notes: Vec<String> = Vec::new();
        let mut cell = |p: &Point| match &p.accuracy {
            Ok(a) => format!("{:.2}", 100.0 * a),
            Err(e) => {
                notes.push(e.clone());
                format!("- ({})", notes.len())
            }
        };
        let _ = writeln!(
            md,
            "Test accuracy (%) on {} samples. Float model: {:.2}. Twin at the config's formats ({} weight bits, {} phase bits, 2^{} table): {}.\n",
            self.samples,
            100.0 * self.float_accuracy,
            self.default.weight_bits,
            self.default.phase_bits,
            self.default.table_bits,
            cell(&self.default)
        );
        let _ = writeln!(
            md,
            "| weight bits | {} |",
            join(&self.weights, |p| p.weight_bits.to_string())
        );
        let _ = writeln!(md, "|---|{}", "---|".repeat(self.weights.len()));
        let row: Vec<String> = self.weights.iter().map(&mut cell).collect();
        let _ = writeln!(md, "| twin accuracy | {} |\n", row.join(" | "));
        let _ = writeln!(
            md,
            "| phase bits (table bits) | {} |",
            join(&self.phases, |p| format!(
                "{} ({})",
                p.phase_bits, p.table_bits
            ))
        );
        let _ = writeln!(md, "|---|{}", "---|".repeat(self.phases.len()));
        let row: Vec<String> = self.phases.iter().map(&mut cell).collect();
        let _ = writeln!(md, "| twin accuracy | {} |", row.join(" | "));
        if !notes.is_empty() {
            md.push('\n');
            for (k, n) in notes.iter().enumerate() {
                let _ = writeln!(md, "({}) {n}", k + 1);
            }
        }
        md
    }
}

fn join(ps: &[Point], f: impl Fn(&Point) -> String) -> String {
    ps.iter().map(f).collect::<Vec<_>>().join(" | ")
}

/// Parses `a..b` (inclusive) or a single number.
pub fn parse_range(s: &str, name: &str, lo: u32, hi: u32) -> Result<Vec<u32>> {
    let bad = || {
        anyhow::anyhow!(
            "{name} {s:?}: give a width or an inclusive range like {lo}..{hi}, within {lo}..{hi}"
        )
    };
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        ),
        None => {
            let v: u32 = s.trim().parse().map_err(|_| bad())?;
            (v, v)
        }
    };
    if a > b || a < lo || b > hi {
        return Err(bad());
    }
    Ok((a..=b).collect())
}

/// The parameter groups of a network, by layer: (name, values).
pub fn groups(p: &Params) -> Vec<(String, Vec<f32>)> {
    let t = &p.topo;
    let mut g: Vec<(String, Vec<f32>)> = Vec::new();
    let nl = t.layers.len();
    for l in 0..nl {
        if l + 1 < nl {
            g.push((format!("W layer {l}-{}", l + 1), Vec::new()));
        }
        if t.intralayer {
            g.push((format!("W within layer {l}"), Vec::new()));
        }
    }
    for (e, &(i, j)) in t.edges().iter().enumerate() {
        let (li, lj) = (t.layer_of(i), t.layer_of(j));
        let name = if li == lj {
            format!("W within layer {li}")
        } else {
            format!("W layer {li}-{lj}")
        };
        if let Some(x) = g.iter_mut().find(|x| x.0 == name) {
            x.1.push(p.w[e]);
        }
    }
    g.retain(|x| !x.1.is_empty());
    g.push(("U (input)".into(), p.u.clone()));
    g.push(("h".into(), p.h.clone()));
    g.push(("K".into(), p.k.clone()));
    g
}

/// A plot panel: title, fraction bits, gain folded into the stored values,
/// and the named groups drawn in it.
type Panel<'a> = (&'static str, u32, f64, Vec<&'a (String, Vec<f32>)>);

/// Histograms of every parameter group (fraction of the group's values per
/// bin), one panel per format: the coupling weights of each layer pair
/// against W's range, U against U's, h and K against the shared one.
pub fn weight_plot(mf: &ModelFile, hw: &HwModel) -> String {
    let f = &hw.fmt;
    // U is stored with the input gain 2^B / (2^B - 1) folded in
    let in_gain = 2f64.powi(f.input_bits as i32) / (2f64.powi(f.input_bits as i32) - 1.0);
    let gs = groups(&mf.params);
    let panels: [Panel; 3] = [
        (
            "coupling weights W",
            f.w_frac,
            1.0,
            gs.iter().filter(|g| g.0.starts_with('W')).collect(),
        ),
        (
            "input weights U",
            f.u_frac,
            in_gain,
            gs.iter().filter(|g| g.0.starts_with('U')).collect(),
        ),
        (
            "h, K (and beta)",
            f.frac,
            1.0,
            gs.iter().filter(|g| g.0 == "h" || g.0 == "K").collect(),
        ),
    ];
    let charts: Vec<Chart> = panels
        .iter()
        .filter(|p| !p.3.is_empty())
        .map(|(title, frac, gain, gs)| {
            let step = 2f64.powi(-(*frac as i32)) / gain;
            let lo = -(2f64.powi(f.weight_bits as i32 - 1)) * step;
            let hi = (2f64.powi(f.weight_bits as i32 - 1) - 1.0) * step;
            let max_abs = gs
                .iter()
                .flat_map(|g| g.1.iter())
                .fold(hi.max(-lo), |m, v| m.max(v.abs() as f64));
            let bins = 60usize;
            let (a, b) = (-max_abs * 1.05, max_abs * 1.05);
            let w = (b - a) / bins as f64;
            let series: Vec<Series> = gs
                .iter()
                .enumerate()
                .map(|(k, (name, v))| {
                    let mut count = vec![0usize; bins];
                    for &x in v {
                        let i = (((x as f64 - a) / w) as usize).min(bins - 1);
                        count[i] += 1;
                    }
                    // a step outline of the histogram
                    let mut pts = Vec::with_capacity(2 * bins + 2);
                    pts.push((a, 0.0));
                    for (i, &c) in count.iter().enumerate() {
                        let y = c as f64 / v.len() as f64;
                        pts.push((a + i as f64 * w, y));
                        pts.push((a + (i + 1) as f64 * w, y));
                    }
                    pts.push((b, 0.0));
                    Series::new(
                        format!("{name} ({})", v.len()),
                        PALETTE[k % PALETTE.len()],
                        pts,
                    )
                })
                .collect();
            Chart {
                title: format!(
                    "{title} against Q{}.{} ({} bits)",
                    f.weight_bits as i64 - *frac as i64,
                    frac,
                    f.weight_bits
                ),
                x_label: "value".into(),
                y_label: "fraction of the group".into(),
                series,
                markers: vec![
                    Marker {
                        x: lo,
                        label: format!("min {lo:.4}"),
                    },
                    Marker {
                        x: hi,
                        label: format!("max {hi:.4}"),
                    },
                ],
                ..Chart::default()
            }
        })
        .collect();
    render(&charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_errors_name_the_flag() {
        assert_eq!(parse_range("3..5", "--w", 2, 16).unwrap(), vec![3, 4, 5]);
        assert_eq!(parse_range("7", "--w", 2, 16).unwrap(), vec![7]);
        for bad in ["1..5", "5..3", "x", "3..99"] {
            let e = parse_range(bad, "--weight-bits", 2, 16)
                .unwrap_err()
                .to_string();
            assert!(e.contains("--weight-bits") && e.contains("2..16"), "{e}");
        }
    }
}
