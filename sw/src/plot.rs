//! A small SVG line-chart writer, without dependencies.
//!
//! A figure is one or more [`Chart`] panels stacked vertically in one SVG.
//! Each panel has a framed plot area with "nice" ticks (1, 2 or 5 times a
//! power of ten) and numeric labels, axis titles, a title, named series drawn
//! as polylines (a non-finite point breaks the line), optional vertical
//! markers, and a legend to the right of the plot area.
//!
//! The output is deterministic: the same charts give the same bytes (all
//! numbers are written with a fixed number of decimals, nothing depends on
//! time or hashing). Every text is XML-escaped.

use std::fmt::Write;

/// Ten distinguishable colours (matplotlib's "tab10"), for series by index.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// `(x, y)` in data units; a point with a non-finite coordinate is not
    /// drawn and breaks the line in two.
    pub points: Vec<(f64, f64)>,
    /// An SVG colour, e.g. `#1f77b4`.
    pub color: String,
    /// Stroke width in pixels.
    pub width: f64,
    /// Whether the series gets a legend entry.
    pub legend: bool,
    /// Also draw a dot at every point (so a single point is visible).
    pub dots: bool,
}

impl Series {
    /// A series with a 1.5 px line, a legend entry and no dots.
    pub fn new(name: impl Into<String>, color: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            color: color.into(),
            width: 1.5,
            legend: true,
            dots: false,
        }
    }
}

/// A dashed vertical line across the plot area at `x`, labelled at its top.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
}

/// One panel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Fixed axis range; `None` fits the data, widened to whole tick steps.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    /// Ticks on the x axis only at whole numbers (e.g. epochs).
    pub x_integer: bool,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
}

/// Figure width and the height of each panel, in pixels.
pub const WIDTH: f64 = 820.0;
pub const PANEL_HEIGHT: f64 = 320.0;
// Margins of the plot area inside a panel: room for the title, the tick
// labels and axis titles, and the legend on the right.
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 50.0;
/// Data is clipped this far outside the frame, so dots on it show whole.
const CLIP_PAD: f64 = 4.0;
/// About this many tick intervals per axis.
const TICKS: usize = 5;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// The tick step `m·10^k` with `m` in {1, 2, 5} nearest to `span / target`
/// (rounded as in Heckbert's "nice numbers"), so an axis gets roughly
/// `target` intervals (between about 2/3 and 3/2 of it).
pub fn nice_step(span: f64, target: usize) -> f64 {
    let span = if span.is_finite() && span > 0.0 {
        span
    } else {
        1.0
    };
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// An axis: its range, tick values and the decimals of their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
    pub decimals: usize,
}

impl Axis {
    /// A fitted axis covering `[lo, hi]` widened to whole tick steps, or
    /// exactly `[lo, hi]` when `fixed`. A zero-width range is widened first.
    /// The tick step is at least `min_step` (e.g. 1 for whole numbers).
    pub fn new(lo: f64, hi: f64, fixed: bool, min_step: f64) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
            let pad = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
            lo -= pad;
            hi += pad;
        }
        let step = nice_step(hi - lo, TICKS).max(min_step);
        if !fixed {
            // the tolerance keeps ends that are whole steps (up to rounding) in place
            lo = (lo / step + 1e-9).floor() * step;
            hi = (hi / step - 1e-9).ceil() * step;
        }
        // ticks as integer multiples of the step, so no error accumulates
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        let ticks = (first..=last).map(|k| k as f64 * step).collect();
        let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
        Axis {
            lo,
            hi,
            ticks,
            decimals,
        }
    }

    /// Position of `v` in [0, 1] along the axis.
    fn frac(&self, v: f64) -> f64 {
        (v - self.lo) / (self.hi - self.lo)
    }
}

/// `v` with `decimals` decimals, never "-0".
pub fn fmt_num(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A pixel coordinate (two decimals).
fn px(v: f64) -> String {
    fmt_num(v, 2)
}

/// The range of the finite values among `vals`, if any.
fn extent(vals: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    vals.filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })
}

fn axis_for(fixed: Option<(f64, f64)>, data: Option<(f64, f64)>, min_step: f64) -> Axis {
    match (fixed, data) {
        (Some((a, b)), _) => Axis::new(a, b, true, min_step),
        (None, Some((a, b))) => Axis::new(a, b, false, min_step),
        (None, None) => Axis::new(0.0, 1.0, false, min_step),
    }
}

/// The runs of consecutive finite points of a series.
fn segments(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    points
        .split(|(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|s| !s.is_empty())
        .collect()
}

impl Chart {
    /// This chart alone as an SVG document.
    pub fn to_svg(&self) -> String {
        render(std::slice::from_ref(self))
    }

    /// Writes panel `k` at vertical offset `y0`.
    fn draw(&self, o: &mut String, k: usize, y0: f64) {
        let pts = || self.series.iter().flat_map(|s| s.points.iter());
        let xa = axis_for(
            self.x_range,
            extent(pts().map(|p| p.0).chain(self.markers.iter().map(|m| m.x))),
            if self.x_integer { 1.0 } else { 0.0 },
        );
        let ya = axis_for(self.y_range, extent(pts().map(|p| p.1)), 0.0);
        let (l, t) = (LEFT, y0 + TOP);
        let (w, h) = (WIDTH - LEFT - RIGHT, PANEL_HEIGHT - TOP - BOTTOM);
        let sx = |v: f64| l + xa.frac(v) * w;
        let sy = |v: f64| t + h - ya.frac(v) * h;
        let _ = writeln!(
            o,
            "<clipPath id=\"clip{k}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>",
            px(l - CLIP_PAD),
            px(t - CLIP_PAD),
            px(w + 2.0 * CLIP_PAD),
            px(h + 2.0 * CLIP_PAD)
        );
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            px(l + w / 2.0),
            px(y0 + 20.0),
            escape(&self.title)
        );
        // grid lines, ticks and their labels
        for &v in &xa.ticks {
            let x = px(sx(v));
            let _ = writeln!(
                o,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#e0e0e0\"/>\n<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"black\"/>\n<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                px(t),
                px(t + h),
                px(t + h),
                px(t + h + 5.0),
                px(t + h + 18.0),
                fmt_num(v, xa.decimals)
            );
        }
        for &v in &ya.ticks {
            let y = px(sy(v));
            let _ = writeln!(
                o,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#e0e0e0\"/>\n<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"black\"/>\n<text x=\"{}\" y=\"{y}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
                px(l),
                px(l + w),
                px(l - 5.0),
                px(l),
                px(l - 8.0),
                fmt_num(v, ya.decimals)
            );
        }
        let _ = writeln!(
            o,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>",
            px(l),
            px(t),
            px(w),
            px(h)
        );
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            px(l + w / 2.0),
            px(t + h + 38.0),
            escape(&self.x_label)
        );
        let _ = writeln!(
            o,
            "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            px(18.0),
            px(t + h / 2.0),
            escape(&self.y_label)
        );
        // the data, clipped to the plot area
        let _ = writeln!(o, "<g clip-path=\"url(#clip{k})\">");
        for s in &self.series {
            let color = escape(&s.color);
            for seg in segments(&s.points) {
                if seg.len() >= 2 {
                    let p: Vec<String> = seg
                        .iter()
                        .map(|&(x, y)| format!("{},{}", px(sx(x)), px(sy(y))))
                        .collect();
                    let _ = writeln!(
                        o,
                        "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{}\" stroke-linejoin=\"round\" points=\"{}\"/>",
                        px(s.width),
                        p.join(" ")
                    );
                }
                if s.dots {
                    for &(x, y) in seg {
                        let _ = writeln!(
                            o,
                            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{color}\"/>",
                            px(sx(x)),
                            px(sy(y)),
                            px(s.width + 1.5)
                        );
                    }
                }
            }
        }
        for m in &self.markers {
            let x = px(sx(m.x));
            let _ = writeln!(
                o,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"black\" stroke-dasharray=\"5,4\"/>\n<text x=\"{}\" y=\"{}\">{}</text>",
                px(t),
                px(t + h),
                px(sx(m.x) + 4.0),
                px(t + 14.0),
                escape(&m.label)
            );
        }
        let _ = writeln!(o, "</g>");
        // legend
        let lx = l + w + 15.0;
        for (i, s) in self.series.iter().filter(|s| s.legend).enumerate() {
            let y = t + 8.0 + 18.0 * i as f64;
            let _ = writeln!(
                o,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>\n<text x=\"{}\" y=\"{}\" dominant-baseline=\"middle\">{}</text>",
                px(lx),
                px(y),
                px(lx + 24.0),
                px(y),
                escape(&s.color),
                px(s.width.max(2.0)),
                px(lx + 30.0),
                px(y),
                escape(&s.name)
            );
        }
    }
}

/// The panels stacked top to bottom in one SVG document.
pub fn render(charts: &[Chart]) -> String {
    let height = PANEL_HEIGHT * charts.len().max(1) as f64;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">",
        w = fmt_num(WIDTH, 0),
        h = fmt_num(height, 0)
    );
    let _ = writeln!(o, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    for (k, c) in charts.iter().enumerate() {
        let _ = writeln!(o, "<g>");
        c.draw(&mut o, k, PANEL_HEIGHT * k as f64);
        let _ = writeln!(o, "</g>");
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, n: usize, f: impl Fn(f64) -> f64) -> Series {
        let pts = (0..n).map(|i| (i as f64, f(i as f64))).collect();
        Series::new(name, PALETTE[0], pts)
    }

    #[test]
    fn nice_steps_and_ticks() {
        assert_eq!(nice_step(10.0, 5), 2.0);
        assert_eq!(nice_step(1.0, 5), 0.2);
        assert_eq!(nice_step(7.0, 5), 1.0);
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(0.05, 5), 0.01);
        assert_eq!(nice_step(24.0, 5), 5.0);
        let a = Axis::new(0.03, 0.93, false, 0.0);
        assert_eq!((a.lo, a.hi, a.decimals), (0.0, 1.0, 1));
        let labels: Vec<String> = a.ticks.iter().map(|&v| fmt_num(v, a.decimals)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        // a fixed range keeps its ends; ticks stay inside
        let pi = std::f64::consts::PI;
        let a = Axis::new(-pi, pi, true, 0.0);
        assert_eq!((a.lo, a.hi), (-pi, pi));
        assert_eq!(a.ticks, [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(a.decimals, 0);
        // a single value is widened
        let a = Axis::new(1.0, 1.0, false, 0.0);
        assert!(a.lo < 1.0 && a.hi > 1.0, "{a:?}");
        let a = Axis::new(-55.0, 1234.0, false, 0.0);
        assert_eq!((a.lo, a.hi), (-200.0, 1400.0));
        // ends on whole steps stay; whole-number ticks for few epochs
        let a = Axis::new(0.0, 55.0, false, 0.0);
        assert_eq!((a.lo, a.hi, a.ticks.len()), (0.0, 60.0, 7));
        let a = Axis::new(1.0, 3.0, false, 1.0);
        assert_eq!((a.lo, a.hi, a.decimals), (1.0, 3.0, 0));
        assert_eq!(a.ticks, [1.0, 2.0, 3.0]);
        let a = Axis::new(1.0, 1.0, false, 1.0);
        assert_eq!(a.ticks, [0.0, 1.0, 2.0]);
        assert_eq!(fmt_num(-0.0001, 2), "0.00");
        assert_eq!(fmt_num(-0.25, 2), "-0.25");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"a<b & "c" 'd'>"#),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        let c = Chart {
            title: "<script>&".into(),
            x_label: "x \"quoted\"".into(),
            series: vec![line("θ < π", 3, |x| x)],
            markers: vec![Marker {
                x: 1.0,
                label: "a&b".into(),
            }],
            ..Chart::default()
        };
        let svg = c.to_svg();
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;&amp;"));
        assert!(svg.contains("x &quot;quoted&quot;"));
        assert!(svg.contains("θ &lt; π"));
        assert!(svg.contains("a&amp;b"));
    }

    #[test]
    fn output_is_deterministic() {
        let mk = || Chart {
            title: "t".into(),
            series: vec![line("a", 50, |x| (x / 7.0).sin()), line("b", 50, |x| x * x)],
            ..Chart::default()
        };
        let a = render(&[mk(), mk()]);
        let b = render(&[mk(), mk()]);
        assert_eq!(a, b);
        assert!(a.starts_with("<svg ") && a.trim_end().ends_with("</svg>"));
        assert_eq!(a.matches("<g>").count(), 2);
    }

    #[test]
    fn one_polyline_per_series_and_breaks_split_lines() {
        for n in [1, 3, 12] {
            let series = (0..n)
                .map(|i| line(&format!("s{i}"), 10, move |x| x + i as f64))
                .collect();
            let svg = Chart {
                series,
                ..Chart::default()
            }
            .to_svg();
            assert_eq!(svg.matches("<polyline").count(), n);
            assert_eq!(svg.matches("<clipPath").count(), 1);
        }
        // a NaN splits a line; a lone point is not a line (but gets a dot)
        let mut s = line("broken", 6, |x| if x == 2.0 { f64::NAN } else { x });
        s.dots = true;
        let svg = Chart {
            series: vec![s, line("one", 1, |x| x)],
            ..Chart::default()
        }
        .to_svg();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // legend entries for both, by name
        assert!(svg.contains(">broken</text>") && svg.contains(">one</text>"));
    }
}
