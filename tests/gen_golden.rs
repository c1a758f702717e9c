//! `phasegen gen` writes the same bytes for every config in `configs/` as
//! when `tests/golden/gen.sha256` was recorded: a refactoring that must not
//! change the hardware (moving files, splitting modules) is proven by this
//! test passing unchanged.
//!
//! The model of each config is its untrained initial parameters
//! (`Params::init`, seeded by the config), so no training runs here.
//!
//! The file lists one line per generated file, as `sha256sum` prints it:
//! `<hex>  <config>/<file>`. When a change is *meant* to alter the
//! generated Verilog, rerun with `PHASEGEN_BLESS=1` to rewrite the file and
//! commit it with the change, saying why the bytes moved.

mod common;

use common::{ok, TempDir, ROOT};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::{ModelFile, Params};
use sha2::{Digest, Sha256};
use std::path::Path;

const GOLDEN: &str = "tests/golden/gen.sha256";

/// `<hex>  <config>/<file>` for every file `phasegen gen` writes for `cfg`.
fn gen_hashes(name: &str, cfg_path: &Path, tmp: &Path) -> Vec<String> {
    let cfg = Config::load(cfg_path).unwrap();
    let params = Params::init(&cfg);
    let model = tmp.join(format!("{name}.json"));
    ModelFile::new(cfg, params, 255).save(&model).unwrap();
    let out = tmp.join(name);
    ok(&[
        "gen",
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "gen wrote nothing for {name}");
    files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            let file = p.file_name().unwrap().to_string_lossy();
            format!("{:x}  {name}/{file}", Sha256::digest(&bytes))
        })
        .collect()
}

#[test]
fn gen_writes_the_recorded_bytes_for_every_config() {
    let tmp = TempDir::new("gen-golden");
    let mut configs: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 6, "configs/ lost files: {configs:?}");
    let mut lines = Vec::new();
    for c in &configs {
        let name = c.file_stem().unwrap().to_string_lossy().into_owned();
        lines.extend(gen_hashes(&name, c, &tmp.0));
    }
    let now = lines.join("\n") + "\n";
    let golden = Path::new(ROOT).join(GOLDEN);
    if std::env::var_os("PHASEGEN_BLESS").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &now).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
        panic!("cannot read {GOLDEN} ({e}); record it with PHASEGEN_BLESS=1 cargo test --release --test gen_golden")
    });
    let (rec, cur): (Vec<&str>, Vec<&str>) = (recorded.lines().collect(), now.lines().collect());
    let changed: Vec<String> = cur
        .iter()
        .filter(|l| !rec.contains(l))
        .map(|l| format!("now      {l}"))
        .chain(
            rec.iter()
                .filter(|l| !cur.contains(l))
                .map(|l| format!("recorded {l}")),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "the generated Verilog changed:\n{}\nIf that is intended, rerun with PHASEGEN_BLESS=1 and commit {GOLDEN}",
        changed.join("\n")
    );
}
