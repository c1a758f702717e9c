//! Compiles the Verilator runtime (verilated.cpp, verilated_threads.cpp) once
//! into a position-independent static library. Each design is verilated and
//! compiled at run time into a shared library that links this archive, so a
//! design change never recompiles the runtime.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VERILATOR");
    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    let out = Command::new(&verilator)
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{verilator} --getenv VERILATOR_ROOT` ({e}); install Verilator with `make setup` (Debian package verilator)"
            )
        });
    if !out.status.success() {
        panic!(
            "`{verilator} --getenv VERILATOR_ROOT` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    let inc = root.join("include");
    let version = Command::new(&verilator)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .pic(true)
        .opt_level(2)
        .cargo_metadata(false)
        .include(&inc)
        .include(inc.join("vltstd"))
        .define("VM_COVERAGE", "0")
        .define("VM_SC", "0")
        .define("VM_TRACE", "0")
        .flag("-faligned-new")
        .flag("-w")
        .file(inc.join("verilated.cpp"))
        .file(inc.join("verilated_threads.cpp"))
        .compile("phasegen_vlrt");
    let out_dir = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rustc-env=PHASEGEN_VLRT_LIB={out_dir}/libphasegen_vlrt.a");
    println!("cargo:rustc-env=PHASEGEN_VERILATOR_ROOT={}", root.display());
    println!("cargo:rustc-env=PHASEGEN_VERILATOR_VERSION={version}");
}
