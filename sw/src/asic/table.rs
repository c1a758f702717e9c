//! `phasegen asic table`: the ASIC and FPGA figures of the same networks
//! side by side (docs/asic.md).
//!
//! For each network (a config) the parameters are the config's initial
//! ones (`train.epochs = 0`, as the capacity study does: training changes
//! the ROM contents, not their size). Per technology: qflow's synthesis
//! (Yosys and ABC onto the standard cells) of pg_core from `gen --target
//! asic`, and OpenSTA on that netlist before placement ([`prelayout`]):
//! cells, cell area, the memories' flip-flops, Fmax and power at the clock
//! target. Per board: `make report` (Yosys, nextpnr) as the capacity study
//! builds its trials: logic cells, DSPs, RAMs and Fmax. Both sides get the
//! time of one settle step and one inference at their Fmax from the same
//! schedule (`Schedule::step_cycles`); the ASIC side also the energy of
//! one inference from its power estimate.
//!
//! [`prelayout`]: super::flow::prelayout_sta_script

use super::flow::{run_prelayout_sta, Settings, StageTimeout};
use super::netlist::{netlist_cells, synthesize};
use super::report::{lef_sizes, memory_flops, parse_opensta, rtl_memories, Power};
use super::tech::Tech;
use crate::capacity::{build, Trial};
use anyhow::{bail, Context, Result};
use phasegen_hdl::Target;
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One network of the table.
#[derive(Debug, Clone)]
pub struct Network {
    pub config: Config,
    /// The config's file, for the table's caption.
    pub path: PathBuf,
}

impl Network {
    pub fn load(path: &Path) -> Result<Network> {
        let mut config = Config::load(path)?;
        config.train.epochs = 0;
        Ok(Network {
            config,
            path: path.to_path_buf(),
        })
    }

    /// `64-32-10`, with `(all pairs)` for intralayer coupling.
    pub fn shape(&self) -> String {
        let n = &self.config.network;
        let mut s = n.inputs.to_string();
        for l in &n.layers {
            let _ = write!(s, "-{l}");
        }
        if n.intralayer {
            s.push_str(" (all pairs)");
        }
        s
    }

    fn hw(&self) -> Result<HwModel> {
        let (hw, _) = quantize(&self.config, &Params::init(&self.config), 255)
            .with_context(|| format!("cannot quantize {}", self.path.display()))?;
        Ok(hw)
    }
}

/// The time of one step and one inference at `fmax_mhz`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    pub cycles_per_step: u64,
    /// The input field's cycles, once per inference.
    pub field_cycles: u64,
    pub steps: u32,
    pub step_ns: f64,
    pub inference_us: f64,
}

impl Timing {
    fn new(hw: &HwModel, fmax_mhz: f64) -> Timing {
        let s = Schedule::new(hw);
        let cycles = s.step_cycles() as u64;
        let field = s.field_cycles() as u64;
        Timing {
            cycles_per_step: cycles,
            field_cycles: field,
            steps: hw.steps,
            step_ns: cycles as f64 * 1000.0 / fmax_mhz,
            inference_us: inference_cycles(hw) as f64 / fmax_mhz,
        }
    }
}

/// The cycles of one inference: the input field, then every step.
pub fn inference_cycles(hw: &HwModel) -> u64 {
    let s = Schedule::new(hw);
    (s.field_cycles() + s.step_cycles() * hw.steps as usize) as u64
}

/// One network on one standard-cell technology, after synthesis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsicRow {
    pub network: String,
    pub tech: String,
    /// `false`: synthesis stopped at the limit ([`Options::synth_limit_s`]);
    /// only the memory figures are known.
    pub synthesized: bool,
    /// Why not synthesized.
    pub note: String,
    pub cells: u64,
    pub flip_flops: u64,
    /// Sum of the cells' outlines (LEF), mm²: the core a placement needs
    /// at 100 % use.
    pub cell_area_mm2: f64,
    /// Bits of the RTL's written memories, all built from flip-flops.
    pub memory_bits: u64,
    /// Those bits × the technology's flip-flop (its outline), mm²: what the
    /// memories take at least, before their decoders and multiplexers.
    pub memory_flops_mm2: f64,
    /// The memories' flip-flops' share of the cell area.
    pub memory_share: f64,
    /// From the worst setup path before placement; `None`: no register to
    /// register path.
    pub fmax_mhz: Option<f64>,
    pub clock_mhz: f64,
    pub activity: f64,
    pub power: Power,
    pub timing: Option<Timing>,
    /// Power at the clock target × the cycles of one inference (field and
    /// steps), nJ.
    pub energy_nj: f64,
    /// Wall time of synthesis (qflow's synthesize stage, as recorded in the
    /// project when an earlier identical one is reused).
    pub synth_s: f64,
}

/// One network on one board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FpgaRow {
    pub network: String,
    pub board: String,
    pub fits: bool,
    /// Why not, when it does not fit.
    pub note: String,
    /// (nextpnr BEL, used, available)
    pub resources: Vec<(String, u64, u64)>,
    pub fmax_mhz: Option<f64>,
    pub timing: Option<Timing>,
    pub build_s: f64,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub networks: Vec<(String, String)>,
    pub asic: Vec<AsicRow>,
    pub fpga: Vec<FpgaRow>,
    pub command: String,
}

/// What the table is made with.
#[derive(Debug, Clone)]
pub struct Options {
    pub techs: Vec<String>,
    pub boards: Vec<String>,
    pub clock_mhz: f64,
    pub activity: f64,
    pub dir: PathBuf,
    pub qflow: PathBuf,
    pub sta: PathBuf,
    pub make: String,
    /// Stop a synthesis that runs longer (seconds); `None`: no limit.
    pub synth_limit_s: Option<f64>,
}

/// Synthesize `net` for `tech` in `dir` and time it before placement.
pub fn asic_row(net: &Network, tech: &str, o: &Options, dir: &Path) -> Result<AsicRow> {
    let hw = net.hw()?;
    let tech = Tech::find(tech)?;
    let s = Settings {
        qflow: o.qflow.clone(),
        sta: o.sta.clone(),
        clock_mhz: o.clock_mhz,
        activity: o.activity,
        limit_s: o.synth_limit_s,
        ..Settings::new(tech.clone())
    };
    s.check()?;
    let gen = dir.join("gen");
    std::fs::create_dir_all(&gen).with_context(|| format!("cannot create {}", gen.display()))?;
    let files = phasegen_hdl::generate_core_files_for(Target::Asic, &net.config.hash_hex(), &hw);
    let mut rtl = String::new();
    for f in &files {
        crate::cosim::write_if_changed(&gen.join(&f.name), &f.text)?;
        if f.name.ends_with(".v") {
            rtl.push_str(&f.text);
        }
    }
    let proj = dir.join("qflow");
    let t0 = Instant::now();
    let mems = rtl_memories(&rtl);
    let memory_bits = mems.iter().map(|m| m.1 * m.2).sum();
    let lef = std::fs::read_to_string(&tech.lef)
        .with_context(|| format!("cannot read {}", tech.lef.display()))?;
    let sizes = lef_sizes(&lef);
    let area = |c: &str| sizes.get(c).map_or(0.0, |(w, h)| w * h);
    let flop = super::tech::setup_var(
        &std::fs::read_to_string(tech.dir.join(format!("{}.sh", tech.name)))?,
        "flopcell",
    )
    .unwrap_or_else(|| "DFFPOSX1".into());
    // the written memories' bits, each one flip-flop at least
    let memory_flops_mm2 = memory_bits as f64 * area(&flop) * 1e-6;
    let netlist = match synthesize(&proj, &gen, &s) {
        Ok(n) => n,
        Err(e) => match e.downcast_ref::<StageTimeout>() {
            Some(t) => {
                return Ok(AsicRow {
                    network: net.shape(),
                    tech: tech.name.clone(),
                    synthesized: false,
                    note: format!("synthesis stopped after {:.0} s", t.limit_s),
                    cells: 0,
                    flip_flops: 0,
                    cell_area_mm2: 0.0,
                    memory_bits,
                    memory_flops_mm2,
                    memory_share: 0.0,
                    fmax_mhz: None,
                    clock_mhz: o.clock_mhz,
                    activity: o.activity,
                    power: Power::default(),
                    timing: None,
                    energy_nj: 0.0,
                    synth_s: t.limit_s,
                })
            }
            None => return Err(e),
        },
    };
    // the synthesis's own time, also when an earlier one was reused
    let synth_s = std::fs::read_to_string(proj.join("stages.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<super::flow::Stages>(&t).ok())
        .and_then(|st| st.stages.into_iter().find(|r| r.stage == "synthesize"))
        .map_or(t0.elapsed().as_secs_f64(), |r| r.wall_s);
    run_prelayout_sta(&proj, &s)?;
    let log = proj.join("log/opensta-prelayout.log");
    let sta = parse_opensta(
        &std::fs::read_to_string(&log).with_context(|| format!("cannot read {}", log.display()))?,
    )
    .with_context(|| format!("in {}", log.display()))?;
    let counts = netlist_cells(&netlist, &tech)?;
    let cell_area: f64 = counts.iter().map(|(c, n)| *n as f64 * area(c)).sum();
    let is_ff = |c: &str| c.starts_with("DFF") || c.starts_with("LATCH");
    let flip_flops = counts
        .iter()
        .filter(|(c, _)| is_ff(c))
        .map(|(_, n)| n)
        .sum();
    let names: Vec<String> = mems.iter().map(|m| m.0.clone()).collect();
    let text = std::fs::read_to_string(&netlist)
        .with_context(|| format!("cannot read {}", netlist.display()))?;
    let mem_ffs: u64 = memory_flops(&text, &names).values().sum();
    // the memories' flip-flops are the plain flop cell or one with reset
    let ff_area = counts
        .iter()
        .filter(|(c, _)| is_ff(c))
        .map(|(c, n)| (area(c), *n))
        .fold((0.0, 0u64), |(a, m), (x, n)| (a + x * n as f64, m + n));
    let mean_ff = if ff_area.1 > 0 {
        ff_area.0 / ff_area.1 as f64
    } else {
        0.0
    };
    let fmax_mhz = sta
        .setup
        .as_ref()
        .map(|p| 1000.0 / (s.period_ns() - p.slack_ns))
        .filter(|f| f.is_finite() && *f > 0.0);
    let timing = fmax_mhz.map(|f| Timing::new(&hw, f));
    let settle = inference_cycles(&hw) as f64;
    Ok(AsicRow {
        network: net.shape(),
        tech: tech.name.clone(),
        synthesized: true,
        note: String::new(),
        cells: counts.values().sum(),
        flip_flops,
        cell_area_mm2: cell_area * 1e-6,
        memory_bits,
        memory_flops_mm2,
        memory_share: if cell_area > 0.0 {
            mem_ffs as f64 * mean_ff / cell_area
        } else {
            0.0
        },
        fmax_mhz,
        clock_mhz: o.clock_mhz,
        activity: o.activity,
        energy_nj: sta.power.total_w / (o.clock_mhz * 1e6) * settle * 1e9,
        power: sta.power,
        timing,
        synth_s,
    })
}

/// Build `net` for `board` in `dir` with the FPGA flow.
pub fn fpga_row(net: &Network, board: &str, o: &Options, dir: &Path) -> Result<FpgaRow> {
    let text = toml::to_string(&net.config).context("cannot write the config as TOML")?;
    let t: Trial = build(&o.make, board, dir, &net.config.name, &text)?;
    // the schedule of the design as built for the board (its retargeted
    // model: the lanes may follow the board's DSPs)
    let model = dir.join("model.json");
    let timing = match t.fmax_mhz {
        Some(f) if t.fits => {
            let mf = ModelFile::load(&model)?;
            let (hw, _) = quantize(&mf.config, &mf.params, mf.max_pixel)
                .with_context(|| format!("cannot quantize {}", model.display()))?;
            Some(Timing::new(&hw, f))
        }
        _ => None,
    };
    Ok(FpgaRow {
        network: net.shape(),
        board: board.into(),
        fits: t.fits,
        note: t.note,
        resources: t.resources,
        fmax_mhz: t.fmax_mhz,
        timing,
        build_s: t.secs,
    })
}

/// Every row: each network on each technology, then on each board.
pub fn make_table(nets: &[Network], o: &Options, command: &str) -> Result<Table> {
    if nets.is_empty() {
        bail!("no networks: give at least one --config");
    }
    let mut t = Table {
        networks: nets
            .iter()
            .map(|n| (n.shape(), n.path.display().to_string()))
            .collect(),
        asic: Vec::new(),
        fpga: Vec::new(),
        command: command.into(),
    };
    for n in nets {
        for tech in &o.techs {
            let dir = o.dir.join(tech).join(&n.config.name);
            eprintln!("asic table: {} on {tech} ...", n.shape());
            let r = asic_row(n, tech, o, &dir)?;
            if !r.synthesized {
                eprintln!(
                    "asic table: {} on {tech}: {}; {} bits of written memories",
                    r.network, r.note, r.memory_bits
                );
                t.asic.push(r);
                continue;
            }
            eprintln!(
                "asic table: {} on {tech}: {} cells, {:.3} mm², Fmax {} (synthesis {:.0} s)",
                r.network,
                r.cells,
                r.cell_area_mm2,
                r.fmax_mhz.map_or("-".into(), |f| format!("{f:.1} MHz")),
                r.synth_s
            );
            t.asic.push(r);
        }
        for b in &o.boards {
            let dir = o.dir.join("fpga").join(b).join(&n.config.name);
            eprintln!("asic table: {} on {b} ...", n.shape());
            let r = fpga_row(n, b, o, &dir)?;
            eprintln!(
                "asic table: {} on {b}: {}{} ({:.0} s)",
                r.network,
                if r.fits { "fits" } else { "does not fit" },
                r.fmax_mhz
                    .map(|f| format!(", Fmax {f:.1} MHz"))
                    .unwrap_or_default(),
                r.build_s
            );
            t.fpga.push(r);
        }
    }
    Ok(t)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

/// Thousands separated by commas.
fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `field + steps × step` cycles.
fn cycles(t: &Option<Timing>) -> String {
    t.as_ref().map_or("-".into(), |t| {
        format!(
            "{} + {} × {}",
            count(t.field_cycles),
            t.steps,
            count(t.cycles_per_step)
        )
    })
}

/// The logic column of an FPGA row: iCE40 logic cells or ECP5 LUT4s, used
/// of available.
fn fpga_resource(r: &FpgaRow, bels: &[&str]) -> String {
    r.resources
        .iter()
        .find(|(b, _, _)| bels.contains(&b.as_str()))
        .map_or("-".into(), |(_, u, a)| {
            format!("{} / {}", count(*u), count(*a))
        })
}

impl Table {
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(w, "Made by `{}`.\n", self.command);
        let _ = writeln!(w, "| network | config |\n|---|---|");
        for (shape, path) in &self.networks {
            let _ = writeln!(w, "| {shape} | `{path}` |");
        }
        let _ = writeln!(
            w,
            "\n**Standard cells** (qflow's synthesis of pg_core; OpenSTA before placement, no wires, ideal clock):\n"
        );
        let _ = writeln!(
            w,
            "| network | tech | cells | flip-flops | cell area mm² | memory bits (share of area) | Fmax MHz (pre-layout) | power mW at {} MHz | cycles: field + steps × step | step ns at Fmax | inference µs at Fmax | energy nJ/inference | synthesis s |",
            self.asic.first().map_or(0.0, |r| r.clock_mhz)
        );
        let _ = writeln!(
            w,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for r in &self.asic {
            if !r.synthesized {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | | | {} (≥ {:.1} mm² as flip-flops) | | | | | | | {:.0} |",
                    r.network,
                    r.tech,
                    r.note,
                    count(r.memory_bits),
                    r.memory_flops_mm2,
                    r.synth_s
                );
                continue;
            }
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {:.3} | {} ({:.0} %) | {} | {:.2} | {} | {} | {} | {:.1} | {:.0} |",
                r.network,
                r.tech,
                count(r.cells),
                count(r.flip_flops),
                r.cell_area_mm2,
                count(r.memory_bits),
                100.0 * r.memory_share,
                opt(r.fmax_mhz, 1),
                r.power.total_w * 1e3,
                cycles(&r.timing),
                opt(r.timing.as_ref().map(|t| t.step_ns), 0),
                opt(r.timing.as_ref().map(|t| t.inference_us), 2),
                r.energy_nj,
                r.synth_s
            );
        }
        let _ = writeln!(w, "\n**FPGA** (Yosys and nextpnr, `make report`):\n");
        let _ = writeln!(
            w,
            "| network | board | fits | logic (LC or LUT4) | DSP | block RAM | SPRAM | Fmax MHz | cycles: field + steps × step | step ns at Fmax | inference µs at Fmax |"
        );
        let _ = writeln!(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in &self.fpga {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.network,
                r.board,
                if r.fits {
                    "yes".to_string()
                } else {
                    format!("no: {}", r.note.replace('|', "/"))
                },
                fpga_resource(r, &["ICESTORM_LC", "TRELLIS_COMB"]),
                fpga_resource(r, &["ICESTORM_DSP", "MULT18X18D"]),
                fpga_resource(r, &["ICESTORM_RAM", "DP16KD"]),
                fpga_resource(r, &["ICESTORM_SPRAM"]),
                opt(r.fmax_mhz, 1),
                cycles(&r.timing),
                opt(r.timing.as_ref().map(|t| t.step_ns), 0),
                opt(r.timing.as_ref().map(|t| t.inference_us), 2),
            );
        }
        s
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(100000), "100,000");
    }

    #[test]
    fn shapes_name_the_layers() {
        let n = Network {
            config: Config::default_config(),
            path: "x.toml".into(),
        };
        assert_eq!(n.shape(), "64-32-10");
        let mut c = Config::default_config();
        c.network.layers = vec![54, 10];
        c.network.intralayer = true;
        let n = Network {
            config: c,
            path: "y.toml".into(),
        };
        assert_eq!(n.shape(), "64-54-10 (all pairs)");
    }

    #[test]
    fn timing_follows_the_schedule() {
        let c = Config::default_config();
        let (hw, _) = quantize(&c, &Params::init(&c), 255).unwrap();
        let t = Timing::new(&hw, 100.0);
        let cycles = Schedule::new(&hw).step_cycles() as f64;
        assert!((t.step_ns - cycles * 10.0).abs() < 1e-9);
        let field = Schedule::new(&hw).field_cycles() as f64;
        assert!(field > 0.0);
        assert!((t.inference_us - (field + cycles * hw.steps as f64) / 100.0).abs() < 1e-9);
    }

    #[test]
    fn table_configs_survive_the_toml_the_fpga_builds_read() {
        for p in [
            "configs/digits.toml",
            "configs/asic/full-64.toml",
            "configs/mnist-100.toml",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
            let n = Network::load(&path).unwrap();
            assert_eq!(n.config.train.epochs, 0);
            let text = toml::to_string(&n.config).unwrap();
            let back = Config::parse(&text, p).unwrap();
            assert_eq!(back, n.config, "{p}");
        }
    }
}
