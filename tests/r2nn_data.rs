//! R²NN data: the synthetic tasks are reproducible from their seed and
//! written/read through CSV bit for bit; the CSV and WAV loaders read good
//! files and refuse bad ones with messages that name the problem.

use phasegen_sim::r2nn::data::{parse_csv, parse_wav, read_csv, read_wav_dir, Task};
use std::path::{Path, PathBuf};
use std::process::Command;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("pg-r2nn-data-{tag}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn tasks_are_reproducible_and_seeded() {
    for t in Task::ALL {
        let a = t.generate(12, 256, 3);
        assert_eq!(a, t.generate(12, 256, 3), "{}", t.name());
        assert_ne!(
            a.x,
            t.generate(12, 256, 4).x,
            "{}: another seed, other signals",
            t.name()
        );
        assert_eq!(a.classes.len(), t.classes().len());
        assert_eq!(a.labels[..4], [0, 1, 2, 3 % t.classes().len()]);
        assert_eq!(a.sample_rate, Some(t.sample_rate()));
        assert!(a.x.iter().all(|v| v.is_finite()));
        // Its network has one probe per class and passes its checks.
        let s = t.spec();
        assert_eq!(s.classes(), t.classes().len());
        s.validate().unwrap();
    }
}

#[test]
fn the_classes_differ_where_the_physics_says() {
    // Average power spectra at a few frequencies (rad/sample): the tactile
    // pulse rates, the bearing shaft harmonics, the vowels' first formant.
    fn power(x: &[f32], w: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in x.iter().enumerate() {
            re += v as f64 * (w * n as f64).cos();
            im += v as f64 * (w * n as f64).sin();
        }
        (re * re + im * im) / x.len() as f64
    }
    let mean_power = |t: Task, class: usize, lo: f64, hi: f64| {
        let s = t.generate(40, t.length(), 1);
        let idx: Vec<usize> = (0..40).filter(|&i| s.labels[i] == class).collect();
        let ws: Vec<f64> = (0..20).map(|k| lo + (hi - lo) * k as f64 / 19.0).collect();
        idx.iter()
            .map(|&i| ws.iter().map(|&w| power(s.signal(i), w)).sum::<f64>())
            .sum::<f64>()
            / idx.len() as f64
    };
    let rate = |hz: f64, fs: f64| 2.0 * std::f64::consts::PI * hz / fs;
    // Fine texture: pulses at 80–120 Hz; coarse at 20–30 Hz (2 kHz).
    let f = Task::Tactile.sample_rate();
    assert!(
        mean_power(Task::Tactile, 2, rate(80.0, f), rate(120.0, f))
            > 5.0 * mean_power(Task::Tactile, 0, rate(80.0, f), rate(120.0, f))
    );
    // Imbalance: a strong 1× (25–35 Hz); misalignment: a strong 2×; an
    // outer-race fault: the housing resonance (280–320 Hz).
    let f = Task::Bearing.sample_rate();
    let one_x = |c| mean_power(Task::Bearing, c, rate(25.0, f), rate(35.0, f));
    let two_x = |c| mean_power(Task::Bearing, c, rate(50.0, f), rate(70.0, f));
    let ring = |c| mean_power(Task::Bearing, c, rate(280.0, f), rate(320.0, f));
    assert!(one_x(1) > 2.0 * one_x(0));
    assert!(two_x(2) > 4.0 * two_x(0));
    assert!(ring(3) > 4.0 * ring(0));
    // /a/ has F1 near 730 Hz, /i/ near 270 Hz.
    let f = Task::Vowels.sample_rate();
    let hi_f1 = |c| mean_power(Task::Vowels, c, rate(650.0, f), rate(900.0, f));
    assert!(hi_f1(0) > 3.0 * hi_f1(1));
}

#[test]
fn csv_round_trips_through_the_cli() {
    let d = TempDir::new("csv");
    let p = d.0.join("v.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "r2nn", "data", "--task", "vowels", "--count", "7", "--len", "300", "--seed", "5",
            "--out",
        ])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = read_csv(&p).unwrap();
    assert_eq!(back, Task::Vowels.generate(7, 300, 5));
}

#[test]
fn csv_with_class_names_and_comments() {
    let s =
        parse_csv("# my data\n# sample_rate=8000\nknock,1,2,3\ntap,0.5,-1,2e-3\n\nknock,0,0,1\n")
            .unwrap();
    assert_eq!(s.classes, vec!["knock", "tap"]);
    assert_eq!(s.labels, vec![0, 1, 0]);
    assert_eq!(s.len, 3);
    assert_eq!(s.sample_rate, Some(8000.0));
    assert_eq!(s.signal(1), &[0.5, -1.0, 2e-3]);
    // '# classes=' fixes the order.
    let s = parse_csv("# classes=tap,knock\nknock,1,2\ntap,3,4\n").unwrap();
    assert_eq!(s.labels, vec![1, 0]);
}

#[test]
fn bad_csv_files_are_refused_with_the_line_and_reason() {
    let cases = [
        ("", "no signals"),
        ("# only a comment\n", "no signals"),
        ("0,1,2\n1,1,x\n", "line 2, sample 1: 'x' is not a number"),
        ("0,1,2,3\n1,1,2\n", "line 2 has 2 samples but line 1 has 3"),
        ("0,1,2\n0,3,4\n", "only 1 class"),
        ("0,1,2\n2,3,4\n", "class 1 ('1') has no signals"),
        ("a,1,2\n1,3,4\n", "is a number but other labels are names"),
        ("0\n1,2\n", "line 1: label '0' but no samples"),
        ("0,1,inf\n1,2,3\n", "line 1, sample 1: inf is not finite"),
        (
            "# sample_rate=fast\n0,1\n1,2\n",
            "sample_rate 'fast' is not a positive number",
        ),
        (
            "# classes=a,b\nc,1\na,2\n",
            "class 'c' is not in '# classes='",
        ),
    ];
    for (text, want) in cases {
        let err = format!("{:#}", parse_csv(text).unwrap_err());
        assert!(err.contains(want), "{text:?}: got '{err}', want '{want}'");
    }
    let err = format!(
        "{:#}",
        read_csv(Path::new("/nonexistent/x.csv")).unwrap_err()
    );
    assert!(
        err.contains("cannot read the signal file /nonexistent/x.csv"),
        "{err}"
    );
}

/// A WAV file: `format` 1 (PCM) or 3 (float), `bits` per sample, frames of
/// `channels` samples given as f64 in [−1, 1].
fn wav(format: u16, bits: u16, channels: u16, rate: u32, frames: &[Vec<f64>]) -> Vec<u8> {
    let mut data = vec![];
    for f in frames {
        for &v in f {
            match (format, bits) {
                (1, 8) => data.push(((v * 128.0) + 128.0).round() as u8),
                (1, 16) => data.extend(((v * 32767.0).round() as i16).to_le_bytes()),
                (1, 24) => data.extend(&((v * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
                (1, 32) => data.extend(((v * 2_147_483_647.0).round() as i32).to_le_bytes()),
                (3, 32) => data.extend((v as f32).to_le_bytes()),
                (3, 64) => data.extend(v.to_le_bytes()),
                _ => data.extend(vec![0u8; bits as usize / 8]),
            }
        }
    }
    let block = channels * bits / 8;
    let mut b = b"RIFF".to_vec();
    b.extend((36 + data.len() as u32).to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend(16u32.to_le_bytes());
    b.extend(format.to_le_bytes());
    b.extend(channels.to_le_bytes());
    b.extend(rate.to_le_bytes());
    b.extend((rate * block as u32).to_le_bytes());
    b.extend(block.to_le_bytes());
    b.extend(bits.to_le_bytes());
    // An unknown chunk before the data, to be skipped.
    b.extend(b"LIST");
    b.extend(3u32.to_le_bytes());
    b.extend(b"abc\0");
    b.extend(b"data");
    b.extend((data.len() as u32).to_le_bytes());
    b.extend(data);
    b
}

#[test]
fn wav_formats_decode() {
    let frames: Vec<Vec<f64>> = (0..50)
        .map(|i| vec![(i as f64 * 0.3).sin() * 0.9])
        .collect();
    for (format, bits, tol) in [
        (1, 8, 1e-2),
        (1, 16, 1e-4),
        (1, 24, 1e-6),
        (1, 32, 1e-7),
        (3, 32, 1e-7),
        (3, 64, 1e-7),
    ] {
        let (x, rate) = parse_wav(&wav(format, bits, 1, 8000, &frames)).unwrap();
        assert_eq!(rate, 8000);
        assert_eq!(x.len(), 50);
        for (a, f) in x.iter().zip(&frames) {
            assert!(
                (*a as f64 - f[0]).abs() < tol,
                "format {format}/{bits}: {a} vs {}",
                f[0]
            );
        }
    }
    // Stereo is averaged.
    let (x, _) = parse_wav(&wav(1, 16, 2, 8000, &[vec![0.5, -0.25]])).unwrap();
    assert!((x[0] - 0.125).abs() < 1e-4);
}

#[test]
fn bad_wav_files_are_refused() {
    let one = vec![vec![0.1]];
    let cases: [(Vec<u8>, &str); 4] = [
        (b"OggS....".to_vec(), "not a WAV file"),
        (
            wav(1, 12, 1, 8000, &one),
            "unsupported sample format (format code 1, 12 bits)",
        ),
        (
            wav(2, 16, 1, 8000, &one),
            "unsupported sample format (format code 2, 16 bits)",
        ),
        (wav(1, 16, 1, 8000, &[]), "no samples in the data chunk"),
    ];
    for (b, want) in cases {
        let err = format!("{:#}", parse_wav(&b).unwrap_err());
        assert!(err.contains(want), "got '{err}', want '{want}'");
    }
}

#[test]
fn wav_folders_are_classes() {
    let d = TempDir::new("wav");
    for (class, n, len) in [("knock", 2, 120), ("tap", 3, 100)] {
        std::fs::create_dir_all(d.0.join(class)).unwrap();
        for k in 0..n {
            let frames: Vec<Vec<f64>> = (0..len)
                .map(|i| vec![((i + k) as f64 * 0.1).sin() * 0.5])
                .collect();
            std::fs::write(
                d.0.join(class).join(format!("s{k}.wav")),
                wav(1, 16, 1, 16000, &frames),
            )
            .unwrap();
        }
    }
    std::fs::write(d.0.join("README.txt"), "not a class").unwrap();
    let s = read_wav_dir(&d.0, None).unwrap();
    assert_eq!(s.classes, vec!["knock", "tap"]);
    assert_eq!(s.labels, vec![0, 0, 1, 1, 1]);
    assert_eq!(s.len, 100, "cut to the shortest file");
    assert_eq!(s.sample_rate, Some(16000.0));
    let s = read_wav_dir(&d.0, Some(150)).unwrap();
    assert_eq!(s.len, 150);
    assert_eq!(s.signal(4)[120..], [0.0; 30], "zero-padded");
    // Two sample rates are refused, naming both files.
    let frames: Vec<Vec<f64>> = (0..100).map(|_| vec![0.1]).collect();
    std::fs::write(d.0.join("tap").join("z.wav"), wav(1, 16, 1, 44100, &frames)).unwrap();
    let err = format!("{:#}", read_wav_dir(&d.0, None).unwrap_err());
    assert!(
        err.contains("z.wav is sampled at 44100 Hz but") && err.contains("at 16000 Hz"),
        "{err}"
    );
    let err = format!("{:#}", read_wav_dir(&d.0.join("knock"), None).unwrap_err());
    assert!(err.contains("has no class folders"), "{err}");
}
