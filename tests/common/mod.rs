//! Helpers shared by the integration tests that run the `phasegen` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root: the binary runs there, so the configs' relative
/// data paths resolve.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A temporary folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("pg-{tag}-{}", std::process::id()));
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

/// Runs the binary from the repository root.
pub fn phasegen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .current_dir(ROOT)
        .args(args)
        .output()
        .unwrap()
}

/// A run that must succeed: its stdout and stderr.
pub fn ok(args: &[&str]) -> (String, String) {
    let out = phasegen(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "phasegen {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// The error message of a run that must fail.
pub fn fails(args: &[&str]) -> String {
    let out = phasegen(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "phasegen {args:?} succeeded: {stderr}"
    );
    stderr
}

/// Runs another program that must succeed (a tool `scripts/setup.sh`
/// installs): its stdout and stderr together.
pub fn tool(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run ({e}); scripts/setup.sh installs it"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?}: {text}");
    text
}

/// Writes the first `n` images and labels of a digits part as raw IDX
/// files (`<prefix>-images-idx3-ubyte`, `<prefix>-labels-idx1-ubyte`).
pub fn write_idx_part(dir: &std::path::Path, prefix: &str, images: &[u8], labels: &[u8], n: usize) {
    let mut img = vec![0, 0, 8, 3];
    for d in [n as u32, 8, 8] {
        img.extend(d.to_be_bytes());
    }
    img.extend(&images[..n * 64]);
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), img).unwrap();
    let mut lab = vec![0, 0, 8, 1];
    lab.extend((n as u32).to_be_bytes());
    lab.extend(&labels[..n]);
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), lab).unwrap();
}

/// `phasegen train ARGS` (from the current folder): success, and stdout
/// with stderr.
pub fn train(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .arg("train")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A training log (JSON lines) without its wall-clock fields.
pub fn log_without_times(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("train_seconds");
            o.remove("seconds");
            v
        })
        .collect()
}

/// `scripts/lint.sh DIR [TOP]` must pass (verilator -Wall, yosys check).
pub fn lint_dir(dir: &std::path::Path, top: Option<&str>, tag: &str) {
    let out = Command::new(format!("{ROOT}/scripts/lint.sh"))
        .arg(dir)
        .args(top)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tag}: lint failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A request to the Verilated `pg_top` and to the device model: the same
/// reply (asserted), and the cycles from the request's end to the reply's
/// end.
pub fn both_timed(
    top: &mut phasegen::uartsim::TopSim,
    model: &mut phasegen_sim::link::devmodel::DeviceModel,
    cmd: phasegen_sim::link::protocol::Cmd,
    p: &[u8],
) -> (Vec<u8>, u64) {
    use phasegen_sim::link::protocol::{request, response, Decoder};
    let req = request(cmd, p);
    let want = req
        .iter()
        .filter_map(|&b| model.byte(b))
        .last()
        .expect("the model answers");
    top.to_device.extend(&req);
    while !top.idle() {
        top.run(1);
    }
    let mut dec = Decoder::default();
    for c in 0..50_000_000u64 {
        top.run(1);
        dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
        if let Some(r) = dec.next_frame().unwrap() {
            let got = response(r.cmd, &r.payload);
            assert_eq!(got, want, "{cmd:?} {p:02x?}");
            return (got, c);
        }
    }
    panic!("no reply to {cmd:?}");
}
