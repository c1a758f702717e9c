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
