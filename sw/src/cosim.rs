//! Cosimulation: the generated RTL under Verilator against the integer twin,
//! compared at every settle step.

use anyhow::{bail, Context, Result};
use phasegen_hdl::vlog::{Dir, PortInfo};
use phasegen_sim::twin::{HwModel, Twin};
use phasegen_vl::{Built, Design, Options, Port, Sim};
use std::path::{Path, PathBuf};

pub fn vl_ports(ports: &[PortInfo]) -> Vec<Port> {
    ports
        .iter()
        .map(|p| Port {
            name: p.name.clone(),
            width: p.width,
            output: p.dir == Dir::Out,
        })
        .collect()
}

/// Generate `pg_core.v` for `hw` into `dir` and compile it for simulation.
pub fn build_core(hw: &HwModel, config_hash: &str, dir: &Path) -> Result<Built> {
    build_core_with(hw, config_hash, dir, &Options::default())
}

/// [`build_core`] with Verilator [`Options`], e.g. tracing compiled in.
pub fn build_core_with(
    hw: &HwModel,
    config_hash: &str,
    dir: &Path,
    options: &Options,
) -> Result<Built> {
    let f = phasegen_hdl::generate_core(config_hash, hw);
    build_core_text(hw, &f.text, dir, options)
}

/// Compile `text` as `pg_core` for `hw`: the generated core, or a deliberately
/// altered copy of it (tests/wrong_twin.rs).
pub fn build_core_text(hw: &HwModel, text: &str, dir: &Path, options: &Options) -> Result<Built> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("pg_core.v");
    write_if_changed(&path, text)?;
    phasegen_vl::build_with(
        &Design {
            sources: vec![path],
            top: "pg_core".into(),
            ports: vl_ports(&phasegen_hdl::core_ports(hw)),
            clock: "i_clk".into(),
        },
        options,
    )
}

/// Write a file atomically, and not at all when it already holds `text`
/// (parallel tests may generate the same design).
pub fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    // unique per process and per call: tests write from parallel threads
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{seq}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A fault deliberately put into the twin, to show the comparison catches it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    /// After this many steps of the run (1-based) ...
    pub step: usize,
    /// ... flip this bit of this oscillator's phase in the twin.
    pub osc: usize,
    pub bit: u32,
}

/// The core under simulation, driven through its ports.
pub struct CoreSim {
    pub sim: Sim,
    p: CorePorts,
    n: usize,
}

struct CorePorts {
    rst: usize,
    x_we: usize,
    x_addr: usize,
    x_data: usize,
    start: usize,
    init: usize,
    steps: usize,
    beta: usize,
    target: usize,
    rd_addr: usize,
    busy: usize,
    done: usize,
    class: usize,
    rd_phase: usize,
    ph_we: usize,
    ph_idx: usize,
    ph_val: usize,
}

impl CoreSim {
    pub fn new(b: &Built, n: usize) -> Result<CoreSim> {
        let sim = Sim::new(b)?;
        let p = CorePorts {
            rst: sim.port("i_rst")?,
            x_we: sim.port("i_x_we")?,
            x_addr: sim.port("i_x_addr")?,
            x_data: sim.port("i_x_data")?,
            start: sim.port("i_start")?,
            init: sim.port("i_init")?,
            steps: sim.port("i_steps")?,
            beta: sim.port("i_beta")?,
            target: sim.port("i_target")?,
            rd_addr: sim.port("i_rd_addr")?,
            busy: sim.port("o_busy")?,
            done: sim.port("o_done")?,
            class: sim.port("o_class")?,
            rd_phase: sim.port("o_rd_phase")?,
            ph_we: sim.port("o_ph_we")?,
            ph_idx: sim.port("o_ph_idx")?,
            ph_val: sim.port("o_ph_val")?,
        };
        let mut s = CoreSim { sim, p, n };
        s.sim.set_i(s.p.rst, 1);
        s.sim.tick(2);
        s.sim.set_i(s.p.rst, 0);
        s.sim.tick(1);
        Ok(s)
    }

    pub fn write_input(&mut self, x: &[u64]) {
        for (k, &v) in x.iter().enumerate() {
            self.sim.set_i(self.p.x_we, 1);
            self.sim.set_i(self.p.x_addr, k as u64);
            self.sim.set_i(self.p.x_data, v);
            self.sim.tick(1);
        }
        self.sim.set_i(self.p.x_we, 0);
    }

    /// Run `steps` steps; returns the phases after every step (observed on
    /// the phase RAM's write port) and the class. `max_cycles` bounds the run.
    pub fn run(
        &mut self,
        init: bool,
        steps: u32,
        beta: i64,
        target: u64,
        max_cycles: u64,
    ) -> Result<(Vec<Vec<u64>>, usize)> {
        if steps == 0 {
            bail!("a run needs at least one step");
        }
        self.sim.set_i(self.p.init, init as u64);
        self.sim.set_i(self.p.steps, steps as u64);
        self.sim.set_i(self.p.beta, beta as u64);
        self.sim.set_i(self.p.target, target);
        self.sim.set_i(self.p.start, 1);
        self.sim.tick(1);
        self.sim.set_i(self.p.start, 0);
        let mut out = Vec::with_capacity(steps as usize);
        let mut cur = vec![u64::MAX; self.n];
        let mut written = 0usize;
        let t0 = self.sim.cycles;
        loop {
            if self.sim.get_i(self.p.ph_we) == 1 {
                let i = self.sim.get_i(self.p.ph_idx) as usize;
                if i >= self.n {
                    bail!(
                        "cycle {}: the core wrote phase of oscillator {i} (n = {})",
                        self.sim.cycles,
                        self.n
                    );
                }
                cur[i] = self.sim.get_i(self.p.ph_val);
                written += 1;
                if written.is_multiple_of(self.n) {
                    out.push(cur.clone());
                }
            }
            if self.sim.get_i(self.p.done) == 1 {
                break;
            }
            if self.sim.cycles - t0 > max_cycles {
                bail!("the core did not finish {steps} steps within {max_cycles} cycles");
            }
            self.sim.tick(1);
        }
        let class = self.sim.get_i(self.p.class) as usize;
        if self.sim.get_i(self.p.busy) != 0 {
            bail!("o_busy still high after o_done");
        }
        Ok((out, class))
    }

    /// Read the current phases through the idle read port.
    pub fn read_phases(&mut self) -> Vec<u64> {
        (0..self.n)
            .map(|i| {
                self.sim.set_i(self.p.rd_addr, i as u64);
                self.sim.tick(1);
                self.sim.get_i(self.p.rd_phase)
            })
            .collect()
    }
}

/// A phase that differs between the RTL and the twin.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub phase: &'static str,
    pub step: usize,
    pub osc: usize,
    pub rtl: u64,
    pub twin: u64,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FAILED at {} step {}: oscillator {} phase: expected {:#x} (twin) got {:#x} (RTL)",
            self.phase, self.step, self.osc, self.twin, self.rtl
        )
    }
}

/// Summary of a passing verification.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub steps_compared: usize,
    pub cycles: u64,
    pub cycles_per_step: f64,
    pub class: usize,
    /// Oscillators whose phase moved during the free run (the dynamics are
    /// not trivially at rest).
    pub moved: usize,
}

/// Compare RTL and twin for one sample: `free_steps` free steps from the
/// initial phases, then `nudge_steps` nudged steps towards `label` with
/// `beta`, every phase of every step, then the class of a full inference.
/// What [`verify_sample`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub free_steps: u32,
    pub nudge_steps: u32,
    pub beta: i64,
    pub label: usize,
    pub fault: Option<Fault>,
}

pub fn verify_sample(
    sim: &mut CoreSim,
    hw: &HwModel,
    x: &[u64],
    plan: &Plan,
) -> Result<std::result::Result<VerifyReport, Mismatch>> {
    let Plan {
        free_steps,
        nudge_steps,
        beta,
        label,
        fault,
    } = *plan;
    let mut twin = Twin::new(hw);
    sim.write_input(x);
    twin.load_input(x);
    twin.set_nudge(0, None);
    let c0 = sim.sim.cycles;
    let budget = 64 * (hw.nnz() as u64 + 32 * hw.n() as u64 + 64);
    let (free, _) = sim.run(true, free_steps, 0, 0, budget * free_steps as u64)?;
    let cycles = sim.sim.cycles - c0;
    let mut compared = 0;
    let mut check = |name: &'static str, rtl: &[Vec<u64>], twin: &mut Twin, steps: u32| {
        if rtl.len() != steps as usize {
            return Err(Mismatch {
                phase: name,
                step: rtl.len(),
                osc: 0,
                rtl: 0,
                twin: 0,
            });
        }
        for (s, ph) in rtl.iter().enumerate() {
            twin.step();
            if let Some(fl) = fault {
                if fl.step == s + 1 && name == "free" {
                    twin.theta[fl.osc] ^= 1 << fl.bit;
                }
            }
            for (i, (&r, &t)) in ph.iter().zip(&twin.theta).enumerate() {
                if r != t {
                    return Err(Mismatch {
                        phase: name,
                        step: s + 1,
                        osc: i,
                        rtl: r,
                        twin: t,
                    });
                }
            }
            compared += 1;
        }
        Ok(())
    };
    if let Err(m) = check("free", &free, &mut twin, free_steps) {
        return Ok(Err(m));
    }
    let moved = (0..hw.n())
        .filter(|&i| twin.theta[i] != hw.theta0[i])
        .count();
    let readback = sim.read_phases();
    if readback != twin.theta {
        let i = (0..hw.n())
            .find(|&i| readback[i] != twin.theta[i])
            .unwrap_or(0);
        return Ok(Err(Mismatch {
            phase: "read port",
            step: free_steps as usize,
            osc: i,
            rtl: readback[i],
            twin: twin.theta[i],
        }));
    }
    if nudge_steps > 0 {
        twin.set_nudge(beta, Some(label));
        let (nudged, _) = sim.run(
            false,
            nudge_steps,
            beta,
            1 << label,
            budget * nudge_steps as u64,
        )?;
        if let Err(m) = check("nudged", &nudged, &mut twin, nudge_steps) {
            return Ok(Err(m));
        }
    }
    // a plain inference: class must match
    let want = twin.infer(x);
    let (_, got) = sim.run(true, hw.steps, 0, 0, budget * hw.steps as u64)?;
    if got != want {
        bail!("class mismatch: RTL says {got}, twin says {want}");
    }
    Ok(Ok(VerifyReport {
        steps_compared: compared,
        cycles,
        cycles_per_step: cycles as f64 / free_steps as f64,
        class: got,
        moved,
    }))
}

/// Where a test or command keeps generated files for simulation.
pub fn scratch_dir(tag: &str) -> PathBuf {
    phasegen_vl::cache_dir()
        .parent()
        .map(|p| p.join("gen").join(tag))
        .unwrap_or_else(|| std::env::temp_dir().join(tag))
}
