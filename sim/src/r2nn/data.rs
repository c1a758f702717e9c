//! Labelled signals: three reproducible synthetic tasks generated from
//! physical models, and loaders for the user's own signals (CSV, WAV).
//!
//! Every synthetic signal is drawn from its own random stream
//! (`Rng::stream(seed, index)`), so a seed gives the same signals whatever
//! the count asked for; classes are interleaved (signal `i` has class
//! `i mod classes`). Every signal has its mean removed and is scaled to unit
//! RMS (the network's outputs are normalized energies, so the scale only
//! matters to the circuit's currents).
//!
//! # Tasks
//!
//! - **tactile** (2 kHz, 1000 samples = 0.5 s, 3 classes `coarse`,
//!   `medium`, `fine`): a fingertip slides at 40–60 mm/s over a grating of
//!   ridges 2, 1 or 0.5 mm apart. Each ridge contact is a half-sine pressure
//!   pulse lasting 30–40% of the ridge period, amplitude 0.7–1.3, timing
//!   jitter 3% of the period; the contact force drifts slowly (±20% at
//!   0.5–2 Hz); sensor noise σ = 0.05 (low-passed). Pulse rates 20–30,
//!   40–60 and 80–120 Hz.
//! - **bearing** (4 kHz, 2000 samples = 0.5 s, 4 classes `healthy`,
//!   `imbalance`, `misalignment`, `outer-race`): a shaft at 25–35 Hz
//!   (1500–2100 rpm). Every class has shaft harmonics `a1 sin(ω_r t) +
//!   a2 sin(2 ω_r t)`, broadband machine noise (σ = 0.2, low-passed at
//!   0.8 rad/sample) and a faint housing resonance at 280–320 Hz (ζ = 0.05)
//!   excited by the noise. Healthy: `a1` 0.05–0.15, `a2` 0.02–0.08 (a
//!   small residual imbalance under the noise);
//!   imbalance: `a1` 0.8–1.2; misalignment: `a2` 0.6–1.0 and `a1` 0.3–0.5;
//!   outer-race fault: `a1` 0.1–0.3, `a2` 0.05–0.15 and impacts at the ball-pass frequency of the outer race,
//!   BPFO = 3.585 f_r (a 9-ball bearing), 1% slip jitter, each ringing the
//!   housing resonance with a severity of 0.5–1.5 (±20% per impact). The
//!   sensor is AC-coupled: a 15 Hz fourth-order high-pass.
//! - **vowels** (20 kHz, 2000 samples = 0.1 s, 3 classes: the corner
//!   vowels `a`, `i`, `u`): a source-filter model of speech. A glottal pulse train at F0
//!   (male 95–140 Hz, female 180–250 Hz, 1% jitter, 5% shimmer), tilted by
//!   two one-pole low-passes (−12 dB/octave), through a cascade of three
//!   formant resonators (Klatt's digital resonator, bandwidths 60, 90,
//!   150 Hz) at the Peterson–Barney male averages (a 730/1090/2440,
//!   i 270/2290/3010, u 300/870/2240 Hz),
//!   scaled by the speaker's vocal-tract factor (male 0.95–1.05, female
//!   1.10–1.20) and ±5% per formant, then lip radiation (a first difference)
//!   and aspiration noise at −30 dB.
//!
//! # Loaders
//!
//! CSV ([`read_csv`]): one signal per line, `label,x0,x1,…`; the label is a
//! class number (0, 1, …) or a class name; `#` starts a comment line; the
//! comments `# sample_rate=HZ` and `# classes=a,b,c` set the sample rate and
//! the class names (and their order). WAV ([`read_wav_dir`]): one folder per
//! class (classes in folder-name order), `.wav` files inside (PCM 8/16/24/32
//! bit or float 32/64 bit; several channels are averaged), all at one sample
//! rate; signals are cut or zero-padded to one length.

use super::model::Spec;
use crate::rng::Rng;
use anyhow::{bail, Context, Result};
use std::f64::consts::PI;
use std::path::Path;

/// Labelled signals of one length.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// Samples per signal.
    pub len: usize,
    /// `count() * len` samples, signal after signal.
    pub x: Vec<f32>,
    pub labels: Vec<usize>,
    /// Class names, by class number.
    pub classes: Vec<String>,
    /// Samples per second, when known.
    pub sample_rate: Option<f64>,
}

impl Signals {
    pub fn count(&self) -> usize {
        self.labels.len()
    }

    pub fn signal(&self, i: usize) -> &[f32] {
        &self.x[i * self.len..(i + 1) * self.len]
    }

    /// The signals `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Signals {
        let mut x = Vec::with_capacity(idx.len() * self.len);
        for &i in idx {
            x.extend_from_slice(self.signal(i));
        }
        Signals {
            len: self.len,
            x,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes.clone(),
            sample_rate: self.sample_rate,
        }
    }

    /// A seeded random split: `(train, test)` with `test_fraction` of the
    /// signals (rounded) in the test part.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Signals, Signals)> {
        if !(0.0..1.0).contains(&test_fraction) {
            bail!("test fraction {test_fraction}: use a value in [0, 1)");
        }
        let n = self.count();
        let n_test = (n as f64 * test_fraction).round() as usize;
        if n_test == 0 {
            // the smallest fraction that holds out one signal, rounded up
            let need = (0.5 / n.max(1) as f64 * 1000.0).ceil() / 1000.0;
            bail!(
                "test fraction {test_fraction} of {n} signal(s) holds out no test signal; use a test fraction of at least {need:.3}{}",
                if n < 2 { " and at least 2 signals" } else { "" }
            );
        }
        if n_test == n {
            bail!(
                "{n} signal(s) leave no training signal at test fraction {test_fraction}; use a smaller test fraction or more signals"
            );
        }
        let mut idx: Vec<usize> = (0..n).collect();
        Rng::new(seed ^ 0x5b1d).shuffle(&mut idx);
        let (test, train) = idx.split_at(n_test);
        Ok((self.subset(train), self.subset(test)))
    }

    /// The first `n` signals (all if fewer).
    pub fn head(&self, n: usize) -> Signals {
        let idx: Vec<usize> = (0..n.min(self.count())).collect();
        self.subset(&idx)
    }

    /// Signals per class.
    pub fn per_class(&self) -> Vec<usize> {
        let mut c = vec![0; self.classes.len()];
        for &l in &self.labels {
            c[l] += 1;
        }
        c
    }
}

/// A synthetic task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Tactile,
    Bearing,
    Vowels,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Tactile, Task::Bearing, Task::Vowels];

    pub fn parse(s: &str) -> Result<Task> {
        Ok(match s {
            "tactile" => Task::Tactile,
            "bearing" => Task::Bearing,
            "vowels" => Task::Vowels,
            _ => bail!("unknown task '{s}': the tasks are tactile, bearing, vowels"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Task::Tactile => "tactile",
            Task::Bearing => "bearing",
            Task::Vowels => "vowels",
        }
    }

    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Task::Tactile => &["coarse", "medium", "fine"],
            Task::Bearing => &["healthy", "imbalance", "misalignment", "outer-race"],
            Task::Vowels => &["a", "i", "u"],
        }
    }

    pub fn sample_rate(self) -> f64 {
        match self {
            Task::Tactile => 2000.0,
            Task::Bearing => 4000.0,
            Task::Vowels => 20000.0,
        }
    }

    /// Default samples per signal.
    pub fn length(self) -> usize {
        match self {
            Task::Tactile => 1000,
            Task::Bearing => 2000,
            Task::Vowels => 2000,
        }
    }

    /// Default signal count: 3000 in all, as in the authors' demos (80/20
    /// split: 2400 training, 600 test).
    pub fn count(self) -> usize {
        3000
    }

    /// The band (rad/sample) the task's resonators may span.
    pub fn band(self) -> [f64; 2] {
        match self {
            Task::Tactile => [0.04, 0.6],
            Task::Bearing => [0.03, 0.7],
            Task::Vowels => [0.03, 0.8],
        }
    }

    /// Integration steps per sample: 2, and 4 for the bearing, whose fault
    /// probe rings near 0.5 rad/sample with little damping (the central
    /// differences' frequency error, `(ω h)²/24`, accumulates over a
    /// resonator's ring-down; docs/r2nn.md has the measured effect).
    pub fn substeps(self) -> usize {
        match self {
            Task::Bearing => 4,
            _ => 2,
        }
    }

    /// The task's network ([`Spec::preset`] over its band).
    pub fn spec(self) -> Spec {
        Spec::preset(self.classes().len(), self.band(), self.substeps())
            .expect("task presets are valid")
    }

    /// `count` signals of `len` samples (class `i mod classes` for signal i).
    pub fn generate(self, count: usize, len: usize, seed: u64) -> Signals {
        let c = self.classes().len();
        let mut x = Vec::with_capacity(count * len);
        let mut labels = Vec::with_capacity(count);
        for i in 0..count {
            let class = i % c;
            let mut rng = Rng::stream(seed, i as u64);
            let s = match self {
                Task::Tactile => tactile(class, len, &mut rng),
                Task::Bearing => bearing(class, len, &mut rng),
                Task::Vowels => vowel(class, len, &mut rng),
            };
            x.extend(normalize(s).into_iter().map(|v| v as f32));
            labels.push(class);
        }
        Signals {
            len,
            x,
            labels,
            classes: self.classes().iter().map(|s| s.to_string()).collect(),
            sample_rate: Some(self.sample_rate()),
        }
    }
}

/// Mean removed, unit RMS (a zero signal stays zero).
fn normalize(mut s: Vec<f64>) -> Vec<f64> {
    let n = s.len().max(1) as f64;
    let mean = s.iter().sum::<f64>() / n;
    s.iter_mut().for_each(|v| *v -= mean);
    let rms = (s.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    if rms > 0.0 {
        s.iter_mut().for_each(|v| *v /= rms);
    }
    s
}

/// Second-order Butterworth low-pass (bilinear transform, cut-off `w`
/// rad/sample), applied twice: fourth order.
fn lowpass(x: &mut [f64], w: f64) {
    let (sn, cs) = w.sin_cos();
    let alpha = sn / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
    let a0 = 1.0 + alpha;
    let b0 = (1.0 - cs) / 2.0 / a0;
    let b1 = (1.0 - cs) / a0;
    let a1 = -2.0 * cs / a0;
    let a2 = (1.0 - alpha) / a0;
    for _ in 0..2 {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y = b0 * *v + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2;
            x2 = x1;
            x1 = *v;
            y2 = y1;
            y1 = y;
            *v = y;
        }
    }
}

/// Second-order Butterworth high-pass (cut-off `w` rad/sample), applied
/// twice: fourth order.
fn highpass(x: &mut [f64], w: f64) {
    let (sn, cs) = w.sin_cos();
    let alpha = sn / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
    let a0 = 1.0 + alpha;
    let b0 = (1.0 + cs) / 2.0 / a0;
    let b1 = -(1.0 + cs) / a0;
    let a1 = -2.0 * cs / a0;
    let a2 = (1.0 - alpha) / a0;
    for _ in 0..2 {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y = b0 * *v + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2;
            x2 = x1;
            x1 = *v;
            y2 = y1;
            y1 = y;
            *v = y;
        }
    }
}

/// Klatt's digital resonator at `f` with bandwidth `bw` (both in cycles
/// per sample), unit gain at 0 Hz.
fn resonate(x: &mut [f64], f: f64, bw: f64) {
    let r = (-PI * bw).exp();
    let c = -r * r;
    let b = 2.0 * r * (2.0 * PI * f).cos();
    let a = 1.0 - b - c;
    let (mut y1, mut y2) = (0.0, 0.0);
    for v in x.iter_mut() {
        let y = a * *v + b * y1 + c * y2;
        y2 = y1;
        y1 = y;
        *v = y;
    }
}

/// A damped oscillation `e^{−ζ ω t} sin(ω_d t)` added at `t0` (samples).
fn ring(x: &mut [f64], t0: f64, amp: f64, w: f64, zeta: f64) {
    let wd = w * (1.0 - zeta * zeta).sqrt();
    let start = t0.ceil().max(0.0) as usize;
    let stop = ((t0 + 12.0 / (zeta * w)).ceil() as usize).min(x.len());
    for (n, v) in x.iter_mut().enumerate().take(stop).skip(start) {
        let t = n as f64 - t0;
        *v += amp * (-zeta * w * t).exp() * (wd * t).sin();
    }
}

fn noise(len: usize, sigma: f64, cutoff: f64, rng: &mut Rng) -> Vec<f64> {
    let mut v: Vec<f64> = (0..len).map(|_| sigma * rng.normal()).collect();
    lowpass(&mut v, cutoff);
    v
}

fn tactile(class: usize, len: usize, rng: &mut Rng) -> Vec<f64> {
    let fs = Task::Tactile.sample_rate();
    let spacing_mm = [2.0, 1.0, 0.5][class];
    let speed = rng.uniform(40.0, 60.0);
    let period = fs * spacing_mm / speed;
    let duty = rng.uniform(0.3, 0.4);
    let drift_w = 2.0 * PI * rng.uniform(0.5, 2.0) / fs;
    let drift_phase = rng.uniform(0.0, 2.0 * PI);
    let mut x = noise(len, 0.05, 0.8, rng);
    let mut t = rng.uniform(-period, 0.0);
    while t < len as f64 {
        let tk = t + 0.03 * period * rng.normal();
        let amp = rng.uniform(0.7, 1.3);
        let width = duty * period;
        let start = tk.ceil().max(0.0) as usize;
        let stop = ((tk + width).ceil().max(0.0) as usize).min(len);
        for (n, v) in x.iter_mut().enumerate().take(stop).skip(start) {
            let drift = 1.0 + 0.2 * (drift_w * n as f64 + drift_phase).sin();
            *v += amp * drift * (PI * (n as f64 - tk) / width).sin();
        }
        t += period;
    }
    x
}

fn bearing(class: usize, len: usize, rng: &mut Rng) -> Vec<f64> {
    let fs = Task::Bearing.sample_rate();
    let fr = rng.uniform(25.0, 35.0) / fs;
    let wr = 2.0 * PI * fr;
    let (a1, a2) = match class {
        1 => (rng.uniform(0.8, 1.2), rng.uniform(0.05, 0.15)),
        2 => (rng.uniform(0.3, 0.5), rng.uniform(0.6, 1.0)),
        0 => (rng.uniform(0.05, 0.15), rng.uniform(0.02, 0.08)),
        _ => (rng.uniform(0.1, 0.3), rng.uniform(0.05, 0.15)),
    };
    let (p1, p2) = (rng.uniform(0.0, 2.0 * PI), rng.uniform(0.0, 2.0 * PI));
    let wn = 2.0 * PI * rng.uniform(280.0, 320.0) / fs;
    let mut x = noise(len, 0.2, 0.8, rng);
    // The housing resonance, faintly rung by the machine noise.
    let mut hum = noise(len, 0.2, 0.8, rng);
    resonate(&mut hum, wn / (2.0 * PI), 0.05 * wn / PI);
    for (n, v) in x.iter_mut().enumerate() {
        let t = n as f64;
        *v += a1 * (wr * t + p1).sin() + a2 * (2.0 * wr * t + p2).sin() + 0.03 * hum[n];
    }
    if class == 3 {
        let period = 1.0 / (3.585 * fr);
        let severity = rng.uniform(0.5, 1.5);
        let mut t = rng.uniform(0.0, period);
        while t < len as f64 {
            let amp = severity * rng.uniform(0.8, 1.2);
            ring(&mut x, t, amp, wn, 0.05);
            t += period * (1.0 + 0.01 * rng.normal());
        }
    }
    // The accelerometer is AC-coupled.
    highpass(&mut x, 2.0 * PI * 15.0 / fs);
    x
}

fn vowel(class: usize, len: usize, rng: &mut Rng) -> Vec<f64> {
    const FORMANTS: [[f64; 3]; 3] = [
        [730.0, 1090.0, 2440.0],
        [270.0, 2290.0, 3010.0],
        [300.0, 870.0, 2240.0],
    ];
    const BANDWIDTHS: [f64; 3] = [60.0, 90.0, 150.0];
    let fs = Task::Vowels.sample_rate();
    let female = rng.f64() < 0.5;
    let (f0, scale) = if female {
        (rng.uniform(180.0, 250.0), rng.uniform(1.10, 1.20))
    } else {
        (rng.uniform(95.0, 140.0), rng.uniform(0.95, 1.05))
    };
    // Generate a lead-in and drop it, so the formant filters are settled.
    let lead = 400;
    let total = len + lead;
    let mut x = vec![0.0; total];
    let period = fs / f0;
    let mut t = rng.uniform(0.0, period);
    while t < total as f64 {
        let k = t.round() as usize;
        if k < total {
            x[k] += rng.uniform(0.95, 1.05);
        }
        t += period * (1.0 + 0.01 * rng.normal());
    }
    // Glottal spectral tilt: two one-pole low-passes.
    for _ in 0..2 {
        let mut y = 0.0;
        for v in x.iter_mut() {
            y = 0.97 * y + 0.03 * *v;
            *v = y;
        }
    }
    for (f, bw) in FORMANTS[class].iter().zip(BANDWIDTHS) {
        let fk = f * scale * rng.uniform(0.95, 1.05);
        resonate(&mut x, fk / fs, bw * scale / fs);
    }
    // Lip radiation.
    let mut prev = 0.0;
    for v in x.iter_mut() {
        let d = *v - prev;
        prev = *v;
        *v = d;
    }
    let mut x = x.split_off(lead);
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / len.max(1) as f64).sqrt();
    let asp = noise(len, 0.0316 * rms, 1.5, rng);
    for (v, a) in x.iter_mut().zip(asp) {
        *v += a;
    }
    x
}

/// Writes signals as CSV (the format [`read_csv`] reads), with the sample
/// rate and class names as comments. Values are written in Rust's shortest
/// round-trip form, so reading gives back the same `f32`s.
pub fn write_csv(path: &Path, s: &Signals) -> Result<()> {
    use std::fmt::Write as _;
    let mut t = String::new();
    writeln!(
        t,
        "# phasegen r2nn signals: label,x0..x{}",
        s.len.saturating_sub(1)
    )
    .ok();
    if let Some(fs) = s.sample_rate {
        writeln!(t, "# sample_rate={fs}").ok();
    }
    writeln!(t, "# classes={}", s.classes.join(",")).ok();
    for i in 0..s.count() {
        write!(t, "{}", s.labels[i]).ok();
        for v in s.signal(i) {
            write!(t, ",{v}").ok();
        }
        t.push('\n');
    }
    if let Some(d) = path.parent() {
        if !d.as_os_str().is_empty() {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
    }
    std::fs::write(path, t).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads labelled signals from a CSV file (format in the module docs).
pub fn read_csv(path: &Path) -> Result<Signals> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the signal file {}", path.display()))?;
    parse_csv(&text).with_context(|| format!("in {}", path.display()))
}

/// [`read_csv`] on text.
pub fn parse_csv(text: &str) -> Result<Signals> {
    let mut sample_rate = None;
    let mut names: Option<Vec<String>> = None;
    let mut rows: Vec<(usize, String, Vec<f32>)> = vec![];
    for (ln, line) in text.lines().enumerate() {
        let ln = ln + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            let c = c.trim();
            if let Some(v) = c.strip_prefix("sample_rate=") {
                let fs: f64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|f: &f64| f.is_finite() && *f > 0.0)
                    .with_context(|| {
                        format!(
                            "line {ln}: sample_rate '{}' is not a positive number",
                            v.trim()
                        )
                    })?;
                sample_rate = Some(fs);
            } else if let Some(v) = c.strip_prefix("classes=") {
                let list: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                if list.iter().any(|s| s.is_empty()) {
                    bail!("line {ln}: empty class name in '# classes={v}'");
                }
                names = Some(list);
            }
            continue;
        }
        let mut fields = line.split(',');
        let label = fields.next().unwrap_or("").trim().to_string();
        if label.is_empty() {
            bail!("line {ln}: empty label (a line is label,x0,x1,...)");
        }
        let mut x = Vec::new();
        for (col, f) in fields.enumerate() {
            let f = f.trim();
            let v: f32 = f
                .parse()
                .map_err(|_| anyhow::anyhow!("line {ln}, sample {col}: '{f}' is not a number"))?;
            if !v.is_finite() {
                bail!("line {ln}, sample {col}: {f} is not finite");
            }
            x.push(v);
        }
        if x.is_empty() {
            bail!("line {ln}: label '{label}' but no samples (a line is label,x0,x1,...)");
        }
        if let Some((l0, _, x0)) = rows.first() {
            if x.len() != x0.len() {
                bail!(
                    "line {ln} has {} samples but line {l0} has {}: every signal must have the same length",
                    x.len(),
                    x0.len()
                );
            }
        }
        rows.push((ln, label, x));
    }
    if rows.is_empty() {
        bail!("no signals (expected lines label,x0,x1,...)");
    }
    let numeric = rows.iter().all(|(_, l, _)| l.parse::<usize>().is_ok());
    let labels: Vec<usize>;
    let classes: Vec<String>;
    if numeric {
        labels = rows
            .iter()
            .map(|(_, l, _)| l.parse().expect("checked"))
            .collect();
        let c = labels.iter().max().map_or(0, |m| m + 1);
        classes = match names {
            Some(n) => {
                if n.len() < c {
                    bail!(
                        "'# classes=' names {} classes but label {} appears",
                        n.len(),
                        c - 1
                    );
                }
                n
            }
            None => (0..c).map(|i| i.to_string()).collect(),
        };
    } else {
        if let Some((ln, l, _)) = rows.iter().find(|(_, l, _)| l.parse::<f64>().is_ok()) {
            bail!("line {ln}: label '{l}' is a number but other labels are names; use class numbers 0,1,... or names throughout");
        }
        classes = match names {
            Some(n) => n,
            None => {
                let mut n: Vec<String> = rows.iter().map(|(_, l, _)| l.clone()).collect();
                n.sort();
                n.dedup();
                n
            }
        };
        labels = rows
            .iter()
            .map(|(ln, l, _)| {
                classes
                    .iter()
                    .position(|c| c == l)
                    .with_context(|| format!("line {ln}: class '{l}' is not in '# classes='"))
            })
            .collect::<Result<_>>()?;
    }
    let len = rows[0].2.len();
    let s = Signals {
        len,
        x: rows.into_iter().flat_map(|(_, _, x)| x).collect(),
        labels,
        classes,
        sample_rate,
    };
    check_classes(&s)?;
    Ok(s)
}

/// At least two classes, each with a signal.
fn check_classes(s: &Signals) -> Result<()> {
    if s.classes.len() < 2 {
        bail!(
            "only {} class: a classifier needs at least 2",
            s.classes.len()
        );
    }
    for (c, &n) in s.per_class().iter().enumerate() {
        if n == 0 {
            bail!("class {c} ('{}') has no signals", s.classes[c]);
        }
    }
    Ok(())
}

/// One decoded WAV file: samples (channels averaged) and the sample rate.
pub fn read_wav(path: &Path) -> Result<(Vec<f32>, u32)> {
    let b = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_wav(&b).with_context(|| format!("in {}", path.display()))
}

/// [`read_wav`] on bytes.
pub fn parse_wav(b: &[u8]) -> Result<(Vec<f32>, u32)> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        bail!("not a WAV file (no RIFF/WAVE header)");
    }
    let u16le = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32le = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    let mut data: Option<&[u8]> = None;
    let mut o = 12;
    while o + 8 <= b.len() {
        let id = &b[o..o + 4];
        let size = u32le(o + 4) as usize;
        let body = o + 8;
        let end = body.checked_add(size).filter(|&e| e <= b.len());
        match id {
            b"fmt " => {
                let end = end.context("truncated fmt chunk")?;
                if size < 16 {
                    bail!("fmt chunk of {size} bytes (need 16)");
                }
                let mut code = u16le(body);
                if code == 0xFFFE && size >= 40 {
                    // WAVE_FORMAT_EXTENSIBLE: the subformat GUID starts with the code.
                    code = u16le(body + 24);
                }
                fmt = Some((code, u16le(body + 2), u32le(body + 4), u16le(body + 14)));
                let _ = end;
            }
            b"data" => {
                // A truncated data chunk (streamed files) is read as far as it goes.
                data = Some(&b[body..end.unwrap_or(b.len())]);
            }
            _ => {}
        }
        o = body + size + (size & 1);
    }
    let (code, channels, rate, bits) = fmt.context("no fmt chunk")?;
    let data = data.context("no data chunk")?;
    if channels == 0 {
        bail!("0 channels");
    }
    if rate == 0 {
        bail!("sample rate 0");
    }
    let width = match (code, bits) {
        (1, 8) => 1,
        (1, 16) => 2,
        (1, 24) => 3,
        (1, 32) | (3, 32) => 4,
        (3, 64) => 8,
        _ => bail!(
            "unsupported sample format (format code {code}, {bits} bits); use PCM 8/16/24/32-bit or float 32/64-bit"
        ),
    };
    let frame = width * channels as usize;
    let frames = data.len() / frame;
    let mut out = Vec::with_capacity(frames);
    for f in 0..frames {
        let mut sum = 0.0f64;
        for ch in 0..channels as usize {
            let s = &data[f * frame + ch * width..][..width];
            sum += match (code, width) {
                (1, 1) => (s[0] as f64 - 128.0) / 128.0,
                (1, 2) => i16::from_le_bytes([s[0], s[1]]) as f64 / 32768.0,
                (1, 3) => (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f64 / 8_388_608.0,
                (1, 4) => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f64 / 2_147_483_648.0,
                (3, 4) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f64,
                _ => f64::from_le_bytes(s.try_into().expect("8 bytes")),
            };
        }
        let v = (sum / channels as f64) as f32;
        if !v.is_finite() {
            bail!("sample {f} is not finite");
        }
        out.push(v);
    }
    if out.is_empty() {
        bail!("no samples in the data chunk");
    }
    Ok((out, rate))
}

/// Reads a folder of class folders of WAV files (module docs). Signals are
/// cut or zero-padded to `len`, by default the shortest file's length.
pub fn read_wav_dir(dir: &Path, len: Option<usize>) -> Result<Signals> {
    let mut classes: Vec<String> = vec![];
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?;
    for e in entries {
        let e = e?;
        if e.file_type()?.is_dir() {
            classes.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    classes.sort();
    if classes.is_empty() {
        bail!(
            "{} has no class folders (expected one folder of .wav files per class)",
            dir.display()
        );
    }
    let mut sigs: Vec<(usize, Vec<f32>)> = vec![];
    let mut rate: Option<(u32, String)> = None;
    for (c, name) in classes.iter().enumerate() {
        let cdir = dir.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&cdir)
            .with_context(|| format!("cannot read {}", cdir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
            .collect();
        files.sort();
        for f in files {
            let (x, r) = read_wav(&f)?;
            match &rate {
                None => rate = Some((r, f.display().to_string())),
                Some((r0, f0)) if *r0 != r => bail!(
                    "{} is sampled at {r} Hz but {f0} at {r0} Hz: resample them to one rate",
                    f.display()
                ),
                _ => {}
            }
            sigs.push((c, x));
        }
    }
    let len = match len {
        Some(0) => bail!("signal length 0"),
        Some(l) => l,
        None => sigs.iter().map(|(_, x)| x.len()).min().unwrap_or(0),
    };
    let mut x = Vec::with_capacity(sigs.len() * len);
    let mut labels = vec![];
    for (c, mut s) in sigs {
        s.resize(len, 0.0);
        x.extend(s);
        labels.push(c);
    }
    let s = Signals {
        len,
        x,
        labels,
        classes,
        sample_rate: rate.map(|(r, _)| r as f64),
    };
    check_classes(&s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_normalized_and_reproducible() {
        for t in Task::ALL {
            let a = t.generate(10, 300, 7);
            let b = t.generate(6, 300, 7);
            assert_eq!(a.signal(5), b.signal(5), "{}", t.name());
            let s = a.signal(3);
            let rms = (s.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / 300.0).sqrt();
            assert!((rms - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn resonator_has_unit_dc_gain() {
        let mut x = vec![1.0; 5000];
        resonate(&mut x, 0.05, 0.01);
        assert!((x[4999] - 1.0).abs() < 1e-9);
    }
}
