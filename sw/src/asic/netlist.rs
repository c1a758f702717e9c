//! The flow's gate-level netlist under simulation: qflow's synthesis
//! (Yosys and ABC mapped onto the technology's cells, then its fanout
//! buffering) writes `synthesis/<top>.rtlnopwr.v`, the netlist that is
//! placed and routed and that LVS compares the layout with. Verilator runs
//! it with the cells' models (derived from the liberty,
//! [`cells`](super::cells)), every register and memory bit starting at a
//! random value as in silicon, and the same
//! [`CoreSim`](crate::cosim::CoreSim) and
//! [`verify_sample`](crate::cosim::verify_sample) as the RTL compare it
//! with the integer twin.

use super::cells::{cell_counts, fill_models, liberty_cells, liberty_models, tristate_cells};
use super::flow::{prepare, run, Settings, StageTimeout};
use super::tech::Tech;
use crate::cosim::vl_ports;
use anyhow::{Context, Result};
use phasegen_vl::{Built, Design, Options};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The netlist qflow's synthesis writes in project `dir` for `top`.
pub fn netlist_path(dir: &Path, top: &str) -> PathBuf {
    dir.join("synthesis").join(format!("{top}.rtlnopwr.v"))
}

/// Run qflow's synthesis alone on the Verilog in `gen` in project `dir`
/// (skipped when the netlist there was made from the same sources,
/// technology and qflow: a `.key` file beside it remembers; one stopped at
/// [`Settings::limit_s`] is remembered the same way, `.stopped`, and not
/// tried again with the same or a shorter limit); the netlist's path.
pub fn synthesize(dir: &Path, gen: &Path, s: &Settings) -> Result<PathBuf> {
    let mut h = Sha256::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(gen)
        .with_context(|| format!("cannot read {}", gen.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        h.update(
            f.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        h.update(std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    h.update(std::fs::read(&s.tech.liberty)?);
    h.update(s.top.as_bytes());
    // (the synthesis options phasegen gives qflow)
    h.update(super::flow::project_vars(s).as_bytes());
    let version = Command::new(&s.qflow).arg("-v").output();
    if let Ok(v) = version {
        h.update(&v.stdout);
    }
    let key: String = h.finalize()[..10]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let netlist = netlist_path(dir, &s.top);
    let key_file = netlist.with_extension("key");
    if netlist.is_file() && std::fs::read_to_string(&key_file).is_ok_and(|k| k == key) {
        return Ok(netlist);
    }
    let _ = std::fs::remove_file(&key_file);
    // a synthesis of the same sources stopped at a limit at least this one
    // is not tried again
    let stopped = netlist.with_extension("stopped");
    if let (Some(limit), Ok(t)) = (s.limit_s, std::fs::read_to_string(&stopped)) {
        if let Some((k, l)) = t.trim().split_once(' ') {
            if k == key && l.parse::<f64>().is_ok_and(|l| l >= limit) {
                return Err(StageTimeout {
                    stage: "synthesize".into(),
                    limit_s: limit,
                }
                .into());
            }
        }
    }
    prepare(dir, gen, s)?;
    if let Err(e) = run(dir, s, &["synthesize"], |_, _| {}) {
        if let (Some(t), Some(d)) = (e.downcast_ref::<StageTimeout>(), netlist.parent()) {
            std::fs::create_dir_all(d)?;
            std::fs::write(&stopped, format!("{key} {}\n", t.limit_s))?;
        }
        return Err(e);
    }
    std::fs::write(&key_file, key)?;
    Ok(netlist)
}

/// The cells of a netlist of `tech`, by type (refusing cells the
/// simulation models cannot represent).
pub fn netlist_cells(netlist: &Path, tech: &Tech) -> Result<BTreeMap<String, u64>> {
    let lib = std::fs::read_to_string(&tech.liberty)
        .with_context(|| format!("cannot read {}", tech.liberty.display()))?;
    let text = std::fs::read_to_string(netlist)
        .with_context(|| format!("cannot read the netlist {}", netlist.display()))?;
    cell_counts(&text, &liberty_cells(&lib), &tristate_cells(&lib))
        .with_context(|| format!("in {}", netlist.display()))
}

/// Compile the netlist of `top` for simulation with `tech`'s cell models,
/// able to start from a random power-up state
/// ([`CoreSim::new_random`](crate::cosim::CoreSim::new_random)).
pub fn build(
    netlist: &Path,
    tech: &Tech,
    yosys: &Path,
    top: &str,
    ports: &[phasegen_hdl::vlog::PortInfo],
) -> Result<Built> {
    netlist_cells(netlist, tech)?;
    let mut sources = vec![netlist.to_path_buf(), liberty_models(tech, yosys)?];
    // a routed netlist lists its fill cells too
    let text = std::fs::read_to_string(netlist)
        .with_context(|| format!("cannot read the netlist {}", netlist.display()))?;
    sources.extend(fill_models(&text)?);
    phasegen_vl::build_with(
        &Design {
            sources,
            top: top.into(),
            ports: vl_ports(ports),
            clock: "i_clk".into(),
        },
        &Options {
            random_init: true,
            // (thousands of cells, thousands of cycles: compile time rules)
            quick_compile: true,
            // warnings the netlist and the derived models raise by design
            // (implicit nets, unused cell outputs); none is fatal anyway
            verilator_args: ["-Wno-lint", "-Wno-style", "-Wno-UNOPTFLAT"]
                .map(String::from)
                .to_vec(),
            ..Options::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_synthesis_stopped_at_its_limit_is_not_tried_again() {
        let Ok(tech) = Tech::find("osu018") else {
            panic!("the osu018 technology is not installed: run scripts/setup.sh");
        };
        let d = std::env::temp_dir().join(format!("pg-stopped-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let gen = d.join("gen");
        std::fs::create_dir_all(&gen).unwrap();
        std::fs::write(
            gen.join("pg_core.v"),
            "module pg_core (input wire i_clk);\nendmodule\n",
        )
        .unwrap();
        // a qflow that counts its runs and never finishes a stage
        let fake = d.join("qflow");
        let runs = d.join("runs");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\n[ \"$1\" = -v ] && {{ echo fake; exit 0; }}\necho run >> {}\nexec sleep 30\n",
                runs.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let s = |limit: f64| Settings {
            qflow: fake.clone(),
            limit_s: Some(limit),
            ..Settings::new(tech.clone())
        };
        let proj = d.join("proj");
        let stopped = |r: Result<PathBuf>| r.unwrap_err().downcast_ref::<StageTimeout>().cloned();
        let count = || {
            std::fs::read_to_string(&runs)
                .unwrap_or_default()
                .lines()
                .count()
        };
        assert_eq!(
            stopped(synthesize(&proj, &gen, &s(0.3))).unwrap().limit_s,
            0.3
        );
        assert_eq!(count(), 1);
        // the same or a shorter limit: not run again
        assert!(stopped(synthesize(&proj, &gen, &s(0.3))).is_some());
        assert!(stopped(synthesize(&proj, &gen, &s(0.2))).is_some());
        assert_eq!(count(), 1);
        // a longer one: tried
        assert!(stopped(synthesize(&proj, &gen, &s(0.5))).is_some());
        assert_eq!(count(), 2);
        let _ = std::fs::remove_dir_all(&d);
    }
}
