//! Line charts as SVG, drawn with `plotters` (its SVG backend, no font
//! files: text is laid out by plotters' built-in estimate).
//!
//! A figure is one or more [`Chart`] panels stacked vertically in one SVG.
//! Each panel has a framed plot area with "nice" ticks (1, 2 or 5 times a
//! power of ten, [`Axis`]) and numeric labels, axis titles, a title, named
//! series drawn as polylines (a non-finite point breaks the line), optional
//! vertical markers, and a legend to the right of the plot area.
//!
//! The output is deterministic: the same charts give the same bytes
//! (plotters writes integer pixel coordinates; nothing depends on time or
//! hashing). Every text is XML-escaped (by plotters' SVG backend).

use plotters::coord::Shift;
use plotters::prelude::*;

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
const BOTTOM: f64 = 50.0;
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

    /// Draws the panel on `area` (plotters, SVG backend).
    fn draw(&self, area: &DrawingArea<SVGBackend, Shift>) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Debug| format!("{e:?}");
        let pts = || self.series.iter().flat_map(|s| s.points.iter());
        let xa = axis_for(
            self.x_range,
            extent(pts().map(|p| p.0).chain(self.markers.iter().map(|m| m.x))),
            if self.x_integer { 1.0 } else { 0.0 },
        );
        let ya = axis_for(self.y_range, extent(pts().map(|p| p.1)), 0.0);
        let mut chart = ChartBuilder::on(area)
            .caption(
                &self.title,
                ("sans-serif", 17).into_font().style(FontStyle::Bold),
            )
            .margin_top(8)
            .margin_left(10)
            .margin_right(RIGHT as u32)
            .x_label_area_size(BOTTOM as u32)
            .y_label_area_size(LEFT as u32 - 10)
            .build_cartesian_2d(xa.lo..xa.hi, ya.lo..ya.hi)
            .map_err(|e| err(&e))?;
        let (xd, yd) = (xa.decimals, ya.decimals);
        let xfmt = move |v: &f64| fmt_num(*v, xd);
        let yfmt = move |v: &f64| fmt_num(*v, yd);
        let label = ("sans-serif", 14).into_font();
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(xa.lo, ya.lo), (xa.hi, ya.hi)],
                ShapeStyle::from(BLACK).stroke_width(1),
            )))
            .map_err(|e| err(&e))?;
        // texts outside the plot area go on the panel, in its own pixels
        let (bx, by) = area.get_base_pixel();
        let at = |p: (f64, f64)| {
            let (x, y) = chart.backend_coord(&p);
            (x - bx, y - by)
        };
        let (px0, py1) = {
            let (a, b) = chart.plotting_area().get_pixel_range();
            (a.start - bx..a.end - bx, b.start - by..b.end - by)
        };
        let marker_at: Vec<(i32, i32)> = self.markers.iter().map(|m| at((m.x, ya.hi))).collect();
        // grid lines at this chart's own nice ticks, one pixel wide
        let grid = RGBColor(0xe0, 0xe0, 0xe0).filled();
        for &v in &xa.ticks {
            let (x, _) = at((v, ya.lo));
            area.draw(&Rectangle::new([(x, py1.start), (x + 1, py1.end)], grid))
                .map_err(|e| err(&e))?;
        }
        for &v in &ya.ticks {
            let (_, y) = at((xa.lo, v));
            area.draw(&Rectangle::new([(px0.start, y), (px0.end, y + 1)], grid))
                .map_err(|e| err(&e))?;
        }
        for &v in &xa.ticks {
            let (x, _) = at((v, ya.lo));
            area.draw(&Text::new(
                xfmt(&v),
                (x - 4 * xfmt(&v).len() as i32, py1.end + 4),
                label.clone(),
            ))
            .map_err(|e| err(&e))?;
        }
        for &v in &ya.ticks {
            let (_, y) = at((xa.lo, v));
            let t = yfmt(&v);
            area.draw(&Text::new(
                t.clone(),
                (px0.start - 8 - 8 * t.len() as i32, y - 7),
                label.clone(),
            ))
            .map_err(|e| err(&e))?;
        }
        for s in &self.series {
            let color = rgb(&s.color);
            let style = ShapeStyle::from(color).stroke_width(s.width.round().max(1.0) as u32);
            for seg in segments(&s.points) {
                if seg.len() >= 2 {
                    chart
                        .draw_series(LineSeries::new(seg.iter().copied(), style))
                        .map_err(|e| err(&e))?;
                }
                if s.dots {
                    let r = (s.width + 1.5).round() as i32;
                    chart
                        .draw_series(seg.iter().map(|&p| Circle::new(p, r, color.filled())))
                        .map_err(|e| err(&e))?;
                }
            }
        }
        for (m, &(x, y)) in self.markers.iter().zip(&marker_at) {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(m.x, ya.lo), (m.x, ya.hi)],
                    5,
                    4,
                    ShapeStyle::from(BLACK).stroke_width(1),
                ))
                .map_err(|e| err(&e))?;
            area.draw(&Text::new(
                m.label.clone(),
                (x + 4, y + 4),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(|e| err(&e))?;
        }
        // axis titles
        let mid_x = (px0.start + px0.end) / 2;
        let mid_y = (py1.start + py1.end) / 2;
        area.draw(&Text::new(
            self.x_label.clone(),
            (
                mid_x - 4 * self.x_label.chars().count() as i32,
                py1.end + 26,
            ),
            label.clone(),
        ))
        .map_err(|e| err(&e))?;
        area.draw(&Text::new(
            self.y_label.clone(),
            (4, mid_y + 4 * self.y_label.chars().count() as i32),
            label.clone().transform(FontTransform::Rotate270),
        ))
        .map_err(|e| err(&e))?;
        // the legend right of the plot area: a swatch and the name
        let lx = px0.end + 15;
        for (i, s) in self.series.iter().filter(|s| s.legend).enumerate() {
            let y = py1.start + 8 + 18 * i as i32;
            let w = s.width.max(2.0).round() as i32;
            area.draw(&Rectangle::new(
                [(lx, y - w / 2), (lx + 24, y - w / 2 + w)],
                rgb(&s.color).filled(),
            ))
            .map_err(|e| err(&e))?;
            area.draw(&Text::new(
                s.name.clone(),
                (lx + 30, y - 7),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(|e| err(&e))?;
        }
        Ok(())
    }
}

/// A `#rrggbb` colour (black when it is not one).
fn rgb(c: &str) -> RGBColor {
    let h = |k: usize| {
        c.get(k..k + 2)
            .and_then(|d| u8::from_str_radix(d, 16).ok())
            .unwrap_or(0)
    };
    if c.len() == 7 && c.starts_with('#') {
        RGBColor(h(1), h(3), h(5))
    } else {
        BLACK
    }
}

/// The panels stacked top to bottom in one SVG document.
pub fn render(charts: &[Chart]) -> String {
    let height = PANEL_HEIGHT as u32 * charts.len().max(1) as u32;
    let mut o = String::new();
    {
        let root = SVGBackend::with_string(&mut o, (WIDTH as u32, height)).into_drawing_area();
        root.fill(&WHITE).expect("drawing into a string");
        let panels = root.split_evenly((charts.len().max(1), 1));
        for (c, area) in charts.iter().zip(&panels) {
            c.draw(area).expect("drawing into a string");
        }
        root.present().expect("drawing into a string");
    }
    // plotters puts a text's content on lines of its own: keep it inline
    // (`<text ...>name</text>`), as SVG readers and greps expect
    let mut out = String::with_capacity(o.len() + 1);
    let mut lines = o.lines().peekable();
    while let Some(l) = lines.next() {
        out.push_str(l);
        let open = l.starts_with("<text") && l.ends_with('>') && !l.ends_with("/>");
        if !(open || lines.peek() == Some(&"</text>")) {
            out.push('\n');
        }
    }
    out
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
        // two panels, one above the other
        assert_eq!(a.matches(">t</text>").count(), 2);
        assert!(a.contains("height=\"640\""));
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
