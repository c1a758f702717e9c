//! The on-chip update engine (`pg_learn`) with the core it learns in
//! (`pg_lcore`) under Verilator: give it a sample (a whole learning step),
//! or a sample's inputs and states (an update pass alone), collect the
//! words it writes to the core; [`expected_writes`] is what the twin's
//! update makes of the same sample (docs/learning.md).

use crate::cosim::{hex_dir_define, vl_ports, write_if_changed};
use crate::netlist::Flow;
use anyhow::{bail, Context, Result};
use phasegen_sim::twin::learn::{LearnSpec, LearnStates};
use phasegen_sim::twin::model::HwModel;
use phasegen_sim::twin::qformat::wrap;
use phasegen_sim::twin::sched::Schedule;
use phasegen_vl::{Built, Design, Options, Sim};
use std::path::{Path, PathBuf};

/// Write `pg_core.v`, `pg_learn.v` (or `learn_text` instead: a
/// deliberately altered copy) and `pg_lcore.v` with their hex files for
/// `hw` learning with `spec` into `dir`: the sources and `pg_lcore`'s ports.
fn write_lcore(
    hw: &HwModel,
    spec: &LearnSpec,
    dir: &Path,
    learn_text: Option<&str>,
) -> Result<(Vec<PathBuf>, Vec<phasegen_vl::Port>)> {
    // (the core of a learning design answers the engine's reads)
    let hw = &HwModel {
        learn: Some(spec.clone()),
        ..hw.clone()
    };
    let core = phasegen_hdl::core::generate(hw);
    let learn = phasegen_hdl::learn::generate(hw, spec);
    let top = phasegen_hdl::learn::with_core(&core, &learn);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut sources = Vec::new();
    for md in [&core, &learn, &top] {
        for (name, t) in md.hex_files() {
            write_if_changed(&dir.join(name), &t)?;
        }
        let path = dir.join(format!("{}.v", md.name));
        let generated = phasegen_hdl::vlog::file(&[format!("{}.v: test build", md.name)], &[md]);
        let text = match learn_text {
            Some(t) if md.name == "pg_learn" => t,
            _ => &generated,
        };
        write_if_changed(&path, text)?;
        sources.push(path);
    }
    Ok((sources, vl_ports(&top.ports())))
}

/// `pg_core` and `pg_learn` wired together (`pg_lcore`) for `hw` and
/// `spec`, generated into `dir` and compiled; `learn_text` replaces the
/// generated `pg_learn.v` (a deliberately altered copy).
pub fn build(
    hw: &HwModel,
    spec: &LearnSpec,
    dir: &Path,
    learn_text: Option<&str>,
) -> Result<Built> {
    let (sources, ports) = write_lcore(hw, spec, dir, learn_text)?;
    phasegen_vl::build_with(
        &Design {
            sources,
            top: "pg_lcore".into(),
            ports,
            clock: "i_clk".into(),
        },
        &Options {
            defines: vec![hex_dir_define(dir)?],
            ..Options::default()
        },
    )
}

/// [`build`]'s `pg_lcore` synthesized by `flow` (an FPGA family's cells)
/// and compiled with the cells' simulation models: the learning design's
/// netlist, driven by the same [`LearnSim`].
pub fn build_netlist(hw: &HwModel, spec: &LearnSpec, dir: &Path, flow: &Flow) -> Result<Built> {
    let (sources, ports) = write_lcore(hw, spec, dir, None)?;
    let netlist = dir.join(format!("pg_lcore.{}.nl.v", flow.family));
    flow.synthesize(&sources, "pg_lcore", &netlist)?;
    flow.build_netlist(&netlist, "pg_lcore", &ports)
}

/// The words one update pass writes, per block: `(address, word)` in the
/// order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    pub w: Vec<(u64, u64)>,
    pub u: Vec<(u64, u64)>,
    pub o: Vec<(u64, u64)>,
    /// Cycles from `i_go` to idle.
    pub cycles: u64,
}

pub struct LearnSim {
    sim: Sim,
}

impl LearnSim {
    pub fn new(b: &Built) -> Result<LearnSim> {
        let mut sim = Sim::new(b)?;
        sim.set("i_rst", 1)?;
        sim.tick(2);
        sim.set("i_rst", 0)?;
        sim.tick(1);
        Ok(LearnSim { sim })
    }

    /// The sample's inputs through `i_x_*` (the core's and the engine's
    /// input RAMs take the same writes).
    fn write_inputs(&mut self, x: &[u64]) -> Result<()> {
        let s = &mut self.sim;
        for (k, &v) in x.iter().enumerate() {
            s.set("i_x_we", 1)?;
            s.set("i_x_addr", k as u64)?;
            s.set("i_x_data", v)?;
            s.tick(1);
        }
        s.set("i_x_we", 0)?;
        Ok(())
    }

    /// One learning step of `pg_lcore` (the core's runs included) on the
    /// sample with inputs `x` and label `label`: the free class and the
    /// words written to the core.
    pub fn learn(&mut self, x: &[u64], label: usize) -> Result<(usize, Writes)> {
        self.write_inputs(x)?;
        let s = &mut self.sim;
        s.set("i_label", label as u64)?;
        s.set("i_learn", 1)?;
        s.tick(1);
        s.set("i_learn", 0)?;
        let w = self.collect()?;
        Ok((self.sim.get("o_class")? as usize, w))
    }

    /// One update pass from the states `st` of the sample with inputs `x`.
    pub fn update(&mut self, x: &[u64], st: &LearnStates) -> Result<Writes> {
        let s = &mut self.sim;
        for (sel, ph) in [(0, &st.plus), (1, &st.minus)] {
            for (i, &v) in ph.iter().enumerate() {
                s.set("i_ph_we", 1)?;
                s.set("i_ph_sel", sel)?;
                s.set("i_ph_idx", i as u64)?;
                s.set("i_ph_val", v)?;
                s.tick(1);
            }
        }
        s.set("i_ph_we", 0)?;
        self.write_inputs(x)?;
        let s = &mut self.sim;
        s.set("i_go", 1)?;
        s.tick(1);
        s.set("i_go", 0)?;
        self.collect()
    }

    /// The writes until the engine is idle again.
    fn collect(&mut self) -> Result<Writes> {
        let s = &mut self.sim;
        let mut out = Writes::default();
        let ports = |s: &Sim, p: &str| -> Result<Option<(u64, u64)>> {
            Ok((s.get(&format!("o_{p}_we"))? == 1).then_some((
                s.get(&format!("o_{p}_addr"))?,
                s.get(&format!("o_{p}_data"))?,
            )))
        };
        let limit = 100_000_000u64;
        loop {
            s.eval();
            if let Some(w) = ports(s, "w")? {
                out.w.push(w);
            }
            if let Some(w) = ports(s, "u")? {
                out.u.push(w);
            }
            if let Some(w) = ports(s, "o")? {
                out.o.push(w);
            }
            if s.get("o_busy")? == 0 {
                break;
            }
            out.cycles += 1;
            if out.cycles > limit {
                bail!("the update engine is still busy after {limit} cycles");
            }
            s.tick(1);
        }
        Ok(out)
    }
}

/// The words of `hw`'s W, U and oscillator blocks as the core's write
/// ports take them (lane `l` at bits `l·wb`; `{h, K, ω0 + δω, θ0}`), every
/// word in address order: what an update pass must write for a learner
/// whose model is `hw` after the update.
pub fn expected_writes(hw: &HwModel) -> Writes {
    let sched = Schedule::new(hw);
    let f = hw.fmt;
    let wb = f.weight_bits;
    let pack = |v: &[i64]| v.iter().rev().fold(0u64, |acc, &x| acc << wb | wrap(x, wb));
    let mut g = 0;
    let mut w = Vec::new();
    for (e, word) in sched.words.iter().enumerate() {
        let first = sched.groups[g].first;
        let vals: Vec<i64> = (0..sched.lanes)
            .map(|l| {
                if word.mask >> l & 1 == 1 {
                    hw.rows[first + l]
                        .iter()
                        .find(|t| t.0 == word.j)
                        .map_or(0, |t| t.1)
                } else {
                    0
                }
            })
            .collect();
        w.push((e as u64, pack(&vals)));
        g += word.last as usize;
    }
    let u = sched
        .u_words(hw)
        .iter()
        .enumerate()
        .map(|(a, v)| (a as u64, pack(v)))
        .collect();
    let p = f.phase_bits;
    let o = (0..hw.n())
        .map(|i| {
            (
                i as u64,
                wrap(hw.h[i], wb) << (wb + 2 * p)
                    | wrap(hw.k[i], wb) << (2 * p)
                    | wrap(hw.omega0 + hw.omega[i], p) << p
                    | hw.theta0[i],
            )
        })
        .collect();
    Writes { w, u, o, cycles: 0 }
}
