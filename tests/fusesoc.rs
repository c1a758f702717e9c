//! `phasegen gen --fusesoc` writes a FuseSoC core that FuseSoC (the venv's
//! pinned `fusesoc`, installed by scripts/setup.sh) accepts and builds:
//! its `synth` target runs Yosys through edalize's icestorm flow on the
//! default digits design for the iCEBreaker, and the netlist holds the
//! board top with the core's DSPs. The core's bytes are the same for the
//! same model. (`--target=icebreaker` goes on to nextpnr and icepack: 44
//! CPU-seconds more, left to `fusesoc run` by hand, docs/boards.md.)

mod common;

use common::tool;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn the_generated_core_synthesizes_under_fusesoc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir: PathBuf = std::env::temp_dir().join(format!("pg-fusesoc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = env!("CARGO_BIN_EXE_phasegen");
    let model = dir.join("model.json");
    tool(
        Command::new(pg)
            .current_dir(root)
            .args(["train", "--out", model.to_str().unwrap()]),
    );
    let gen = |out: &Path| {
        tool(Command::new(pg).current_dir(root).args([
            "gen",
            "--model",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--fusesoc",
        ]))
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    gen(&a);
    gen(&b);
    let core = std::fs::read_to_string(a.join("digits.core")).unwrap();
    assert_eq!(
        core,
        std::fs::read_to_string(b.join("digits.core")).unwrap()
    );
    for f in ["icebreaker_top.v", "icebreaker.pcf", "pg_top.v", "pg_pll.v"] {
        assert!(a.join(f).exists(), "{f} beside the core");
        assert!(core.contains(&format!("- {f}")), "{f} in the core");
    }

    let fusesoc = root.join(".venv/bin/fusesoc");
    let out = tool(Command::new(&fusesoc).current_dir(&dir).args([
        "--cores-root",
        a.to_str().unwrap(),
        "run",
        "--build-root",
        dir.join("build").to_str().unwrap(),
        "--target=synth",
        "phasegen:design:digits",
    ]));
    let netlist =
        dir.join("build/phasegen_design_digits_1.0.0/synth/phasegen_design_digits_1.0.0.json");
    let text = std::fs::read_to_string(&netlist).unwrap_or_else(|e| {
        panic!(
            "no netlist {} ({e}); fusesoc said: {out}",
            netlist.display()
        )
    });
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    let top = &j["modules"]["icebreaker_top"];
    assert!(top.is_object(), "no icebreaker_top in the netlist");
    let dsps = top["cells"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["type"] == "SB_MAC16")
        .count();
    assert!(dsps > 0, "the core's multipliers on DSPs (-dsp)");
    println!("fusesoc synthesized icebreaker_top: {dsps} SB_MAC16");
    std::fs::remove_dir_all(&dir).ok();
}
