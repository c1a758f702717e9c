//! Cosimulation: the generated RTL under Verilator against the integer twin,
//! compared at every settle step.

use anyhow::{bail, Context, Result};
use phasegen_hdl::vlog::{Dir, PortInfo};
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::qformat::wrap;
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
    let files = phasegen_hdl::generate_core_files(config_hash, hw);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in &files[1..] {
        write_if_changed(&dir.join(&f.name), &f.text)?;
    }
    build_core_text(hw, &files[0].text, dir, options)
}

/// The Verilator define that points the generated memories' `$readmemh`
/// at `dir` (where their hex files are), as an absolute path: a Verilated
/// model reads them when it starts, relative to the working directory.
pub fn hex_dir_define(dir: &Path) -> Result<String> {
    let abs = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    Ok(format!("PG_HEX_DIR=\"{}/\"", abs.display()))
}

/// Compile `text` as `pg_core` for `hw`: the generated core, or a deliberately
/// altered copy of it (tests/wrong_twin.rs). The hex files of its large ROMs
/// must be in `dir`.
pub fn build_core_text(hw: &HwModel, text: &str, dir: &Path, options: &Options) -> Result<Built> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("pg_core.v");
    write_if_changed(&path, text)?;
    let mut options = options.clone();
    options.defines.push(hex_dir_define(dir)?);
    let options = &options;
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

/// What the core did inside [`CoreSim::run`], counted from its observation
/// ports `o_macs` and `o_loop` (zero when the simulated design lacks them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// Cycles simulated inside `run`.
    pub cycles: u64,
    /// Settle steps completed (every oscillator's phase written once).
    pub steps: u64,
    /// Coupling entries `(j, W_ij)` accumulated; each is two
    /// multiply-accumulates (`W cos θ_j` and `W sin θ_j`).
    pub macs: u64,
    /// Cycles in which the coupling loop runs (may issue an entry).
    pub loop_cycles: u64,
}

impl LoopStats {
    /// Counts since `before`.
    pub fn since(&self, before: &LoopStats) -> LoopStats {
        LoopStats {
            cycles: self.cycles - before.cycles,
            steps: self.steps - before.steps,
            macs: self.macs - before.macs,
            loop_cycles: self.loop_cycles - before.loop_cycles,
        }
    }

    /// Entries per cycle over the coupling loop, as a fraction of `lanes`.
    pub fn loop_efficiency(&self, lanes: u32) -> f64 {
        self.macs as f64 / (lanes as f64 * self.loop_cycles.max(1) as f64)
    }

    /// Entries per cycle over every cycle of the run, as a fraction of
    /// `lanes`: how close the steps come to `lanes · f_clk / nnz(W)` per second.
    pub fn step_efficiency(&self, lanes: u32) -> f64 {
        self.macs as f64 / (lanes as f64 * self.cycles.max(1) as f64)
    }
}

/// The core under simulation, driven through its ports.
pub struct CoreSim {
    pub sim: Sim,
    p: CorePorts,
    n: usize,
    /// Running totals over every [`CoreSim::run`].
    pub stats: LoopStats,
    /// `o_osc` after each step of the last [`CoreSim::run`] (empty when the
    /// design has no pins).
    pub pins_log: Vec<u64>,
    /// The phase accumulators (absolute frame, `o_ph_abs`) after each step
    /// of the last [`CoreSim::run`] (empty when the design lacks the port).
    pub abs_log: Vec<Vec<u64>>,
    /// The weight RAMs were written (designs with U or W in RAM).
    pub weights_loaded: bool,
    /// Cycles from one step's last phase write to the next one's, for every
    /// pair of consecutive steps inside a [`CoreSim::run`], over all runs:
    /// the steady-state length of a step.
    pub step_intervals: Vec<u64>,
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
    ph_abs: Option<usize>,
    macs: Option<usize>,
    mac_loop: Option<usize>,
    fault: Option<usize>,
    osc: Option<usize>,
    u_we: Option<usize>,
    u_addr: Option<usize>,
    u_data: Option<usize>,
    w_we: Option<usize>,
    w_addr: Option<usize>,
    w_data: Option<usize>,
}

impl CoreSim {
    /// The core of `b` (with `n` oscillators), reset.
    pub fn new(b: &Built, n: usize) -> Result<CoreSim> {
        CoreSim::with_sim(Sim::new(b)?, n)
    }

    /// The core of `b` powered up with every register and memory bit at a
    /// random value drawn from `seed` (built with
    /// [`Options::random_init`](phasegen_vl::Options::random_init)), then
    /// reset: what a chip without power-on values goes through.
    pub fn new_random(b: &Built, n: usize, seed: u32) -> Result<CoreSim> {
        CoreSim::with_sim(Sim::new_random(b, seed)?, n)
    }

    fn with_sim(sim: Sim, n: usize) -> Result<CoreSim> {
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
            ph_abs: sim.port("o_ph_abs").ok(),
            macs: sim.port("o_macs").ok(),
            mac_loop: sim.port("o_loop").ok(),
            fault: sim.port("o_fault").ok(),
            osc: sim.port("o_osc").ok(),
            u_we: sim.port("i_u_we").ok(),
            u_addr: sim.port("i_u_addr").ok(),
            u_data: sim.port("i_u_data").ok(),
            w_we: sim.port("i_w_we").ok(),
            w_addr: sim.port("i_w_addr").ok(),
            w_data: sim.port("i_w_data").ok(),
        };
        let mut s = CoreSim {
            sim,
            p,
            n,
            stats: LoopStats::default(),
            pins_log: Vec::new(),
            abs_log: Vec::new(),
            weights_loaded: false,
            step_intervals: Vec::new(),
        };
        s.sim.set_i(s.p.rst, 1);
        s.sim.tick(2);
        s.sim.set_i(s.p.rst, 0);
        s.sim.tick(1);
        Ok(s)
    }

    /// Does the design keep U in RAM (written through `i_u_*`)?
    pub fn has_u_ram(&self) -> bool {
        self.p.u_we.is_some()
    }

    /// Write the input weights into the core's U RAM, one word (all lanes)
    /// per cycle, in the layout of `phasegen_sim::twin::sched`. A no-op for
    /// designs with U in ROM.
    pub fn load_u(&mut self, hw: &HwModel) -> Result<()> {
        let Some(ports) = self.p.u_we.zip(self.p.u_addr).zip(self.p.u_data) else {
            return Ok(());
        };
        let sched = phasegen_sim::twin::sched::Schedule::new(hw);
        let wb = hw.fmt.weight_bits;
        let words: Vec<u64> = sched
            .u_words(hw)
            .iter()
            .map(|w| {
                w.iter()
                    .enumerate()
                    .fold(0u64, |acc, (l, &u)| acc | (wrap(u, wb) << (l as u32 * wb)))
            })
            .collect();
        self.write_ram("U", ports, sched.lanes as u32 * wb, &words)
    }

    /// Does the design keep W in a writable RAM (written through `i_w_*`)?
    pub fn has_w_ram(&self) -> bool {
        self.p.w_we.is_some()
    }

    /// Write the coupling weights into the core's W RAM, one stream word
    /// (all lanes, lane 0 in the low bits) per cycle, the words of
    /// `Schedule::image`. A no-op for designs with W in ROM.
    pub fn load_w(&mut self, hw: &HwModel) -> Result<()> {
        let Some(ports) = self.p.w_we.zip(self.p.w_addr).zip(self.p.w_data) else {
            return Ok(());
        };
        let sched = phasegen_sim::twin::sched::Schedule::new(hw);
        let wb = hw.fmt.weight_bits;
        let b = phasegen_sim::link::protocol::Block::W;
        let wbytes = wb.div_ceil(8) as usize;
        let words: Vec<u64> = sched
            .image(hw, b)
            .chunks(sched.word_bytes(hw, b))
            .map(|w| {
                // lane L-1 first, each lane in wbytes big-endian bytes
                w.chunks(wbytes).fold(0u64, |acc, f| {
                    let lane = f.iter().fold(0u64, |x, &y| x << 8 | y as u64);
                    acc << wb | wrap(lane as i64, wb)
                })
            })
            .collect();
        self.write_ram("W", ports, sched.lanes as u32 * wb, &words)
    }

    /// Write `words` into a RAM through its `(we, addr), data` ports, one
    /// per cycle from address 0; `bits` is the word's width, which the
    /// simulator's ports carry up to 64 bits.
    fn write_ram(
        &mut self,
        name: &str,
        ((we, addr), data): ((usize, usize), usize),
        bits: u32,
        words: &[u64],
    ) -> Result<()> {
        if bits > 64 {
            bail!("a {name} word of {bits} bits does not fit the simulator's 64-bit port");
        }
        for (a, &v) in words.iter().enumerate() {
            self.sim.set_i(we, 1);
            self.sim.set_i(addr, a as u64);
            self.sim.set_i(data, v);
            self.sim.tick(1);
        }
        self.sim.set_i(we, 0);
        Ok(())
    }

    /// Write every weight RAM the design has (U, W) with `hw`'s weights.
    pub fn load_weights(&mut self, hw: &HwModel) -> Result<()> {
        self.load_u(hw)?;
        self.load_w(hw)?;
        self.weights_loaded = true;
        Ok(())
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
    /// the phase RAM's write port, relative to the reference as the twin's
    /// `theta`) and the class; `abs_log` gets the accumulators (absolute
    /// frame) and `pins_log` `o_osc` after every step. `max_cycles` bounds
    /// the run.
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
        let mut cur_abs = vec![u64::MAX; self.n];
        self.abs_log.clear();
        let mut written = 0usize;
        let t0 = self.sim.cycles;
        let mut last_end: Option<u64> = None;
        self.pins_log.clear();
        // o_osc is sampled the cycle after a step's last write
        let mut pins_due = false;
        loop {
            if pins_due {
                if let Some(p) = self.p.osc {
                    self.pins_log.push(self.sim.get_i(p));
                }
                pins_due = false;
            }
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
                if let Some(p) = self.p.ph_abs {
                    cur_abs[i] = self.sim.get_i(p);
                }
                written += 1;
                if written.is_multiple_of(self.n) {
                    out.push(cur.clone());
                    if self.p.ph_abs.is_some() {
                        self.abs_log.push(cur_abs.clone());
                    }
                    self.stats.steps += 1;
                    if let Some(e) = last_end {
                        self.step_intervals.push(self.sim.cycles - e);
                    }
                    last_end = Some(self.sim.cycles);
                    pins_due = true;
                }
            }
            if let Some(p) = self.p.macs {
                self.stats.macs += self.sim.get_i(p);
            }
            if let Some(p) = self.p.mac_loop {
                self.stats.loop_cycles += self.sim.get_i(p);
            }
            self.stats.cycles += 1;
            if self.sim.get_i(self.p.done) == 1 {
                break;
            }
            if self.sim.cycles - t0 > max_cycles {
                bail!("the core did not finish {steps} steps within {max_cycles} cycles");
            }
            self.sim.tick(1);
        }
        if pins_due {
            if let Some(p) = self.p.osc {
                self.pins_log.push(self.sim.get_i(p));
            }
        }
        let class = self.sim.get_i(self.p.class) as usize;
        if self.sim.get_i(self.p.busy) != 0 {
            bail!("o_busy still high after o_done");
        }
        if let Some(p) = self.p.fault {
            if self.sim.get_i(p) != 0 {
                bail!("o_fault: the core's lane schedule overran its drive sequencer");
            }
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
    /// The coupling loop during the free run (field computation included).
    pub free_run: LoopStats,
    /// The same during the nudged run (steps only: no field computation);
    /// zero when no nudged steps ran.
    pub nudged_run: LoopStats,
    /// Lanes of the design (for the efficiencies of `free_run`).
    pub lanes: u32,
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
    if (sim.has_u_ram() || sim.has_w_ram()) && !sim.weights_loaded {
        sim.load_weights(hw)?;
    }
    sim.write_input(x);
    twin.load_input(x);
    twin.set_nudge(0, None);
    let c0 = sim.sim.cycles;
    let s0 = sim.stats;
    let budget = 64 * (hw.nnz() as u64 + 32 * hw.n() as u64 + 64);
    let (free, _) = sim.run(true, free_steps, 0, 0, budget * free_steps as u64)?;
    let cycles = sim.sim.cycles - c0;
    let free_run = sim.stats.since(&s0);
    let mut compared = 0;
    let mut check = |name: &'static str,
                     rtl: &[Vec<u64>],
                     abs: &[Vec<u64>],
                     pins: &[u64],
                     twin: &mut Twin,
                     steps: u32| {
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
            // the accumulators themselves run in the absolute frame
            if let Some(a) = abs.get(s) {
                for (i, &r) in a.iter().enumerate() {
                    let t = twin.abs_phase(i);
                    if r != t {
                        return Err(Mismatch {
                            phase: if name == "free" {
                                "free (absolute frame)"
                            } else {
                                "nudged (absolute frame)"
                            },
                            step: s + 1,
                            osc: i,
                            rtl: r,
                            twin: t,
                        });
                    }
                }
            }
            if let Some(&got) = pins.get(s) {
                let want = twin.pins();
                if got != want {
                    let k = (got ^ want).trailing_zeros() as usize;
                    return Err(Mismatch {
                        phase: if name == "free" {
                            "o_osc, free"
                        } else {
                            "o_osc, nudged"
                        },
                        step: s + 1,
                        osc: hw.pin_first + k,
                        rtl: got >> k & 1,
                        twin: want >> k & 1,
                    });
                }
            }
            compared += 1;
        }
        Ok(())
    };
    let free_pins = sim.pins_log.clone();
    let free_abs = sim.abs_log.clone();
    if hw.pins > 0 && free_pins.len() != free.len() {
        bail!(
            "o_osc was sampled after {} of {} steps",
            free_pins.len(),
            free.len()
        );
    }
    if let Err(m) = check("free", &free, &free_abs, &free_pins, &mut twin, free_steps) {
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
    let s1 = sim.stats;
    if nudge_steps > 0 {
        if label >= 64 {
            bail!(
                "nudging towards class {label}: the simulator drives the target of the first 64 classes only (pick a label below 64)"
            );
        }
        twin.set_nudge(beta, Some(label));
        let (nudged, _) = sim.run(
            false,
            nudge_steps,
            beta,
            1 << label,
            budget * nudge_steps as u64,
        )?;
        let pins = sim.pins_log.clone();
        let abs = sim.abs_log.clone();
        if let Err(m) = check("nudged", &nudged, &abs, &pins, &mut twin, nudge_steps) {
            return Ok(Err(m));
        }
    }
    let nudged_run = sim.stats.since(&s1);
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
        free_run,
        nudged_run,
        lanes: hw.lanes,
    }))
}

/// Where a test or command keeps generated files for simulation.
pub fn scratch_dir(tag: &str) -> PathBuf {
    phasegen_vl::cache_dir()
        .parent()
        .map(|p| p.join("gen").join(tag))
        .unwrap_or_else(|| std::env::temp_dir().join(tag))
}
