//! The Verilated metacircuit controller (`pg_ctl`) on a simulated board:
//! the part models of `phasegen_sim::r2nn::spi` on its SPI pins, and the
//! circuit (`r2nn::ctl::Stepper`, built from the values the parts decoded)
//! stepped once per DAC update, in lockstep with the controller's clock.

use crate::cosim::{hex_dir_define, vl_ports, write_if_changed};
use anyhow::{bail, Context, Result};
use phasegen_sim::r2nn::ctl::{board_circuit, dac_force, energies, CtlPlan, Decoded, Stepper};
use phasegen_sim::r2nn::parts::{Part, PartTable};
use phasegen_sim::r2nn::realize::Realized;
use phasegen_sim::r2nn::spi::{words, Ad5293Chain, Adg1414Chain, Ads8688, Dac8551, SpiSlave};
use phasegen_vl::{Built, Design, Sim};
use std::collections::BTreeMap;
use std::path::Path;

/// An edit of a generated file: its name and text to the new text.
pub type Edit<'a> = &'a dyn Fn(&str, &str) -> String;

/// Writes `pg_ctl.v` (and its hex files) to `dir` and verilates it.
/// `edit` may alter a generated file's text (given its name and text: a
/// test's deliberate mutant).
pub fn build_ctl(plan: &CtlPlan, dir: &Path, edit: Option<Edit>) -> Result<Built> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut sources = vec![];
    for f in phasegen_hdl::generate_ctl_files(plan) {
        let p = dir.join(&f.name);
        let text = match edit {
            Some(e) => e(&f.name, &f.text),
            None => f.text,
        };
        write_if_changed(&p, &text)?;
        if f.name.ends_with(".v") {
            sources.push(p);
        }
    }
    phasegen_vl::build_with(
        &Design {
            sources,
            top: "pg_ctl".into(),
            ports: vl_ports(&phasegen_hdl::ctl_ports(plan)),
            clock: "i_clk".into(),
        },
        &phasegen_vl::Options {
            defines: vec![hex_dir_define(dir)?],
            ..Default::default()
        },
    )
}

/// A programming chain's model.
pub enum Chain {
    Rheostats(Ad5293Chain),
    Switches(Adg1414Chain),
}

impl Chain {
    pub fn spi(&self) -> &SpiSlave {
        match self {
            Chain::Rheostats(c) => &c.spi,
            Chain::Switches(c) => &c.spi,
        }
    }

    /// Every chip's word as the controller would write it (command and
    /// code), chip 0 on the controller's data line.
    pub fn words(&self, t: &PartTable, bus: &str) -> Result<Vec<u64>> {
        let spi = t.part(&t.bus(bus)?.part)?.spi();
        Ok(match self {
            Chain::Rheostats(c) => c
                .rdac
                .iter()
                .map(|&d| spi.write | d << spi.code_shift)
                .collect(),
            Chain::Switches(c) => c
                .switches
                .iter()
                .map(|&w| spi.write | w << spi.code_shift)
                .collect(),
        })
    }
}

struct Pins {
    prog_sclk: usize,
    prog_mosi: usize,
    cs: Vec<usize>,
    dac: [usize; 3],
    adc: [usize; 3],
    miso: usize,
    /// Each chain's data input (chains read back).
    chain_miso: Vec<Option<usize>>,
    /// `pg_ctl`'s host ports (absent on `pg_ctl_top`).
    busy: Option<usize>,
    programmed: Option<usize>,
    /// `pg_ctl_top`'s UART pins.
    uart: Option<(usize, usize)>,
}

/// A bit-level UART on `pg_ctl_top`'s pins.
#[derive(Debug, Default)]
pub struct Uart {
    /// Clocks per bit.
    pub cpb: u64,
    /// Bytes to send to the device.
    pub to_device: std::collections::VecDeque<u8>,
    /// Bytes the device sent.
    pub from_device: Vec<u8>,
    /// The frame being sent (start, 8 data, stop bits) and cycles left in
    /// its first bit.
    out: Vec<bool>,
    out_cycles: u64,
    /// The frame being received: cycles to the next sample, bits so far.
    in_wait: Option<u64>,
    in_bits: Vec<bool>,
}

impl Uart {
    /// The level on the device's receive pin in the coming cycle.
    fn line(&mut self) -> bool {
        if self.out_cycles == 0 {
            if !self.out.is_empty() {
                self.out.remove(0);
            }
            if self.out.is_empty() {
                if let Some(b) = self.to_device.pop_front() {
                    self.out = std::iter::once(false)
                        .chain((0..8).map(|i| b >> i & 1 == 1))
                        .chain(std::iter::once(true))
                        .collect();
                }
            }
            self.out_cycles = self.cpb;
        }
        self.out_cycles -= 1;
        self.out.first().copied().unwrap_or(true)
    }

    /// The device's transmit pin after a cycle.
    fn sample(&mut self, tx: bool) {
        match self.in_wait {
            None if !tx => {
                self.in_wait = Some(self.cpb / 2);
                self.in_bits.clear();
            }
            None => {}
            Some(0) => {
                self.in_bits.push(tx);
                if self.in_bits.len() == 10 {
                    if self.in_bits[9] {
                        let b = (0..8).fold(0u8, |b, i| b | (self.in_bits[1 + i] as u8) << i);
                        self.from_device.push(b);
                    }
                    self.in_wait = None;
                } else {
                    self.in_wait = Some(self.cpb - 1);
                }
            }
            Some(n) => self.in_wait = Some(n - 1),
        }
    }
}

/// The controller and the board around it.
pub struct CtlSim {
    pub sim: Sim,
    pub plan: CtlPlan,
    pins: Pins,
    pub chains: Vec<Chain>,
    pub dac: Dac8551,
    pub adcs: Vec<Ads8688>,
    /// The circuit, once built from the decoded values.
    pub circuit: Option<Stepper>,
    /// Volts at each ADC's channels.
    volts: Vec<Vec<f64>>,
    /// Volts per unit of the circuit's probe quantity (`Z0 · β`).
    pub volts_per_unit: f64,
    /// The integrated force at the DAC's ends.
    pub full_scale: f64,
    /// Connect ADC 0's data line to the controller's input 1 and back (a
    /// board wired wrong, for tests).
    pub swap_miso: bool,
    /// The data line of this programming chain is open (its pull-up reads
    /// high: a broken chain, for tests).
    pub open_sdo: Option<usize>,
    /// DAC codes in the order the DAC took them.
    pub dac_log: Vec<u64>,
    /// The host's UART (on `pg_ctl_top`).
    pub uart: Uart,
    /// With a board attached, the circuit is rebuilt from the decoded
    /// values after every programming frame (the last error kept).
    board: Option<(PartTable, Realized)>,
    pub board_error: Option<String>,
    chain_frames: u64,
    adc_frames: usize,
}

impl CtlSim {
    pub fn new(
        b: &Built,
        plan: &CtlPlan,
        t: &PartTable,
        volts_per_unit: f64,
        full_scale: f64,
    ) -> Result<CtlSim> {
        let sim = Sim::new(b)?;
        let p = |n: &str| sim.port(n);
        let pins = Pins {
            prog_sclk: p("o_prog_sclk")?,
            prog_mosi: p("o_prog_mosi")?,
            cs: plan
                .prog
                .iter()
                .map(|c| p(&format!("o_{}_cs_n", c.bus)))
                .collect::<Result<_>>()?,
            dac: [p("o_dac_cs_n")?, p("o_dac_sclk")?, p("o_dac_mosi")?],
            adc: [p("o_adc_cs_n")?, p("o_adc_sclk")?, p("o_adc_mosi")?],
            miso: p("i_adc_miso")?,
            chain_miso: plan
                .prog
                .iter()
                .map(|c| p(&format!("i_{}_miso", c.bus)).ok())
                .collect(),
            busy: p("o_busy").ok(),
            programmed: p("o_programmed").ok(),
            uart: p("i_rx").ok().zip(p("o_tx").ok()),
        };
        let mut chains = vec![];
        for c in &plan.prog {
            chains.push(match t.part(&t.bus(&c.bus)?.part)? {
                Part::Rheostat { .. } => {
                    Chain::Rheostats(Ad5293Chain::new(t, &c.bus, c.chips, plan.clock_hz)?)
                }
                Part::Switch { .. } => {
                    Chain::Switches(Adg1414Chain::new(t, &c.bus, c.chips, plan.clock_hz)?)
                }
                p => bail!(
                    "bus {} carries a {}, not a programmable part",
                    c.bus,
                    p.number()
                ),
            });
        }
        let adcs = t
            .probes
            .buses
            .iter()
            .map(|b| Ads8688::new(t, b, plan.clock_hz))
            .collect::<Result<Vec<_>>>()?;
        let channels = adcs[0].range.len();
        Ok(CtlSim {
            sim,
            plan: plan.clone(),
            pins,
            chains,
            dac: Dac8551::new(t, &t.input.bus, plan.clock_hz)?,
            volts: vec![vec![0.0; channels]; adcs.len()],
            adcs,
            circuit: None,
            volts_per_unit,
            full_scale,
            swap_miso: false,
            open_sdo: None,
            dac_log: vec![],
            uart: Uart::default(),
            board: None,
            board_error: None,
            chain_frames: 0,
            adc_frames: 0,
        })
    }

    /// One clock cycle of the controller, the parts and (on a DAC update)
    /// the circuit.
    /// Rebuild the circuit from the decoded values whenever a programming
    /// chain takes a frame (as a board would change).
    pub fn attach_board(&mut self, t: &PartTable, r: &Realized) {
        self.board = Some((t.clone(), r.clone()));
    }

    fn rebuild(&mut self) {
        let Some((t, r)) = self.board.take() else {
            return;
        };
        match self.build_circuit(&t, &r) {
            Ok(_) => self.board_error = None,
            Err(e) => {
                self.circuit = None;
                self.board_error = Some(format!("{e:#}"));
            }
        }
        self.board = Some((t, r));
    }

    pub fn step(&mut self) {
        if let Some((rx, _)) = self.pins.uart {
            let l = self.uart.line();
            self.sim.set_i(rx, l as u64);
        }
        self.sim.tick(1);
        if let Some((_, tx)) = self.pins.uart {
            let t = self.sim.get_i(tx) == 1;
            self.uart.sample(t);
        }
        let g = |s: &Sim, i: usize| s.get_i(i) == 1;
        let (sclk, mosi) = (
            g(&self.sim, self.pins.prog_sclk),
            g(&self.sim, self.pins.prog_mosi),
        );
        for (c, &cs) in self.chains.iter_mut().zip(&self.pins.cs) {
            let cs_n = self.sim.get_i(cs) == 1;
            match c {
                Chain::Rheostats(r) => r.clock(cs_n, sclk, mosi),
                Chain::Switches(s) => s.clock(cs_n, sclk, mosi),
            }
        }
        for (i, (c, pin)) in self.chains.iter().zip(&self.pins.chain_miso).enumerate() {
            if let Some(pin) = pin {
                let level = self.open_sdo == Some(i) || c.spi().miso();
                self.sim.set_i(*pin, level as u64);
            }
        }
        let frames: u64 = self.chains.iter().map(|c| c.spi().frames).sum();
        if frames != self.chain_frames {
            self.chain_frames = frames;
            self.rebuild();
        }
        let [dc, ds, dm] = self.pins.dac.map(|i| g(&self.sim, i));
        if let Some(code) = self.dac.clock(dc, ds, dm) {
            self.dac_log.push(code);
            if let Some(st) = &mut self.circuit {
                let v = st.sample(dac_force(code, self.full_scale));
                let n = self.adcs.len();
                for (p, y) in v.iter().enumerate() {
                    self.volts[p % n][p / n] = y * self.volts_per_unit;
                }
            }
        }
        let [ac, asck, am] = self.pins.adc.map(|i| g(&self.sim, i));
        let mut miso = 0u64;
        let n = self.adcs.len();
        for (a, adc) in self.adcs.iter_mut().enumerate() {
            adc.clock(ac, asck, am, &self.volts[a]);
            let line = if self.swap_miso && n == 2 { 1 - a } else { a };
            miso |= (adc.spi.miso() as u64) << line;
        }
        self.sim.set_i(self.pins.miso, miso);
        // a run begins with the ADCs' first init frame: the board's circuit
        // is taken to be at rest then (on a board the host waits for it to
        // decay between signals)
        let log = &self.adcs[0].spi.log;
        if log.len() != self.adc_frames {
            self.adc_frames = log.len();
            let first = self.plan.adc_words(0)[0];
            if log.last().map(|b| words(b, 32)[0]) == Some(first) {
                self.clear_logs();
            }
        }
    }

    pub fn steps(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }

    pub fn busy(&self) -> bool {
        self.pins.busy.is_some_and(|b| self.sim.get_i(b) == 1)
    }

    /// Holds reset, then waits for the start-up programming to end.
    pub fn reset_and_program(&mut self, max_cycles: u64) -> Result<()> {
        self.sim.set("i_rst", 1)?;
        self.steps(4);
        self.sim.set("i_rst", 0)?;
        self.wait(max_cycles)?;
        if let Some(p) = self.pins.programmed {
            if self.sim.get_i(p) != 1 {
                bail!("the controller did not report its parts programmed");
            }
        }
        Ok(())
    }

    /// Steps until the controller is idle.
    pub fn wait(&mut self, max_cycles: u64) -> Result<u64> {
        let t0 = self.sim.cycles;
        self.step();
        while self.busy() {
            if self.sim.cycles - t0 > max_cycles {
                bail!("the controller stayed busy for {max_cycles} cycles");
            }
            self.step();
        }
        Ok(self.sim.cycles - t0)
    }

    /// Host write into the program (`sel` 0) or sample (`sel` 1) RAM.
    pub fn write(&mut self, sel: u64, addr: u64, data: u64) -> Result<()> {
        self.sim.set("i_we", 1)?;
        self.sim.set("i_wsel", sel)?;
        self.sim.set("i_waddr", addr)?;
        self.sim.set("i_wdata", data)?;
        self.step();
        self.sim.set("i_we", 0)?;
        Ok(())
    }

    /// The first `n` words of the program RAM (`readback` false) or the
    /// readback RAM (true), through the host's read port.
    pub fn read_ram(&mut self, readback: bool, n: usize) -> Result<Vec<u64>> {
        if readback {
            self.sim.set("i_rsel", 1)?;
        }
        let mut v = vec![];
        for k in 0..n {
            self.sim.set("i_raddr", k as u64)?;
            self.step();
            v.push(self.sim.get("o_rdata")?);
        }
        if readback {
            self.sim.set("i_rsel", 0)?;
        }
        Ok(v)
    }

    /// The words every chain's chips hold, by bus.
    pub fn decoded(&self, t: &PartTable) -> Result<BTreeMap<String, Vec<u64>>> {
        self.plan
            .prog
            .iter()
            .zip(&self.chains)
            .map(|(p, c)| Ok((p.bus.clone(), c.words(t, &p.bus)?)))
            .collect()
    }

    /// Builds the circuit from what the parts decoded.
    pub fn build_circuit(&mut self, t: &PartTable, r: &Realized) -> Result<Decoded> {
        let (c, values) = board_circuit(t, r, &self.decoded(t)?)?;
        self.circuit = Some(Stepper::new(&c.to_net()));
        Ok(values)
    }

    /// Every part model's violations.
    pub fn violations(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .chains
            .iter()
            .flat_map(|c| c.spi().violations.clone())
            .collect();
        v.extend(self.dac.spi.violations.iter().cloned());
        for a in &self.adcs {
            v.extend(a.spi.violations.iter().cloned());
        }
        v
    }

    /// Plays `codes` (DAC codes) from rest and returns the controller's
    /// energies and class, and the ADC codes of every probe per sample.
    pub fn classify(&mut self, codes: &[u64], max_cycles: u64) -> Result<Run> {
        for (k, &c) in codes.iter().enumerate() {
            self.write(1, k as u64, c)?;
        }
        self.clear_logs();
        self.sim.set("i_len", codes.len() as u64)?;
        self.sim.set("i_run", 1)?;
        self.step();
        self.sim.set("i_run", 0)?;
        let cycles = self.wait(max_cycles)?;
        let probe_codes = self.probe_codes(codes.len())?;
        let mut e = vec![];
        for p in 0..self.plan.probes {
            self.sim.set("i_eprobe", p as u64)?;
            self.sim.eval();
            e.push(self.sim.get("o_energy")?);
        }
        Ok(Run {
            energies: e,
            class: self.sim.get("o_class")? as usize,
            reference: energies(&probe_codes),
            codes: probe_codes,
            cycles,
        })
    }
}

/// What one run gave.
#[derive(Debug, Clone)]
pub struct Run {
    /// The controller's energies and class.
    pub energies: Vec<u64>,
    pub class: usize,
    /// The reference model's energies from the ADC codes.
    pub reference: Vec<u64>,
    /// ADC codes per probe, sample by sample.
    pub codes: Vec<Vec<u64>>,
    pub cycles: u64,
}

/// `pg_ctl_top` (the controller behind the UART) written to `dir` and
/// verilated.
pub fn build_ctl_top(plan: &CtlPlan, clock_hz: u64, baud: u64, dir: &Path) -> Result<Built> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut sources = vec![];
    for f in phasegen_hdl::generate_ctl_top_files(plan, clock_hz, baud) {
        let p = dir.join(&f.name);
        write_if_changed(&p, &f.text)?;
        if f.name.ends_with(".v") {
            sources.push(p);
        }
    }
    phasegen_vl::build_with(
        &Design {
            sources,
            top: "pg_ctl_top".into(),
            ports: vl_ports(&phasegen_hdl::ctl_top_ports(plan, clock_hz, baud)),
            clock: "i_clk".into(),
        },
        &phasegen_vl::Options {
            defines: vec![hex_dir_define(dir)?],
            ..Default::default()
        },
    )
}

impl CtlSim {
    /// Sends `request` over the UART and steps until a whole reply frame
    /// has come back (at most `max_cycles`).
    pub fn exchange(
        &mut self,
        request: &[u8],
        max_cycles: u64,
    ) -> Result<phasegen_sim::link::protocol::Response> {
        self.uart.to_device.extend(request);
        let mut dec = phasegen_sim::link::protocol::Decoder::default();
        let t0 = self.sim.cycles;
        loop {
            self.step();
            if !self.uart.from_device.is_empty() {
                dec.push(&std::mem::take(&mut self.uart.from_device));
                if let Some(r) = dec.next_frame()? {
                    return Ok(r);
                }
            }
            if self.sim.cycles - t0 > max_cycles {
                bail!(
                    "no reply to {:02x?} within {max_cycles} cycles",
                    &request[..request.len().min(8)]
                );
            }
        }
    }

    /// Clears what the part models logged of past runs and puts the
    /// circuit back at rest.
    pub fn clear_logs(&mut self) {
        if let Some(st) = &mut self.circuit {
            st.reset();
        }
        self.volts
            .iter_mut()
            .for_each(|v| v.iter_mut().for_each(|x| *x = 0.0));
        for a in &mut self.adcs {
            a.conversions.clear();
        }
        self.dac_log.clear();
    }

    /// ADC codes per probe, sample by sample, of the last run of `n`
    /// samples; errors when a conversion is of another channel than its
    /// frame's.
    pub fn probe_codes(&self, n: usize) -> Result<Vec<Vec<u64>>> {
        let f = self.plan.frames_per_sample();
        let mut probe_codes = vec![Vec::with_capacity(n); self.plan.probes];
        for (a, adc) in self.adcs.iter().enumerate() {
            let conv = &adc.conversions;
            if conv.len() < n * f {
                bail!(
                    "ADC {a} converted {} times in a run of {n} samples, {} expected",
                    conv.len(),
                    n * f
                );
            }
            for (i, &(ch, code)) in conv[conv.len() - n * f..].iter().enumerate() {
                let j = i % f;
                if ch != j {
                    bail!("ADC {a}: conversion {i} of the run is of channel {ch}, frame {j} should convert channel {j}");
                }
                if let Some(p) = self.plan.probe_of(j, a) {
                    probe_codes[p].push(code);
                }
            }
        }
        Ok(probe_codes)
    }
}

/// A model's board and controller: the realized parts, the plan, the DAC's
/// full scale and the probe voltage scale.
pub struct BoardSetup {
    pub table: PartTable,
    pub realized: Realized,
    pub plan: CtlPlan,
    /// The test signals.
    pub test: phasegen_sim::r2nn::data::Signals,
    pub full_scale: f64,
    pub volts_per_unit: f64,
}

/// The board of `model` on the part table at `parts`, its circuit at
/// `sample_rate`, the controller at `clock_hz` with runs up to
/// `max_samples`; the DAC's full scale is the test signals' largest
/// integrated force (as `r2nn codes` prints it).
pub fn board_setup(
    model: &Path,
    parts: &Path,
    sample_rate: f64,
    clock_hz: f64,
    max_samples: usize,
) -> Result<BoardSetup> {
    use phasegen_sim::r2nn::circuit::Circuit;
    use phasegen_sim::r2nn::realize::{board_scale, realize};
    let mf = phasegen_sim::r2nn::file::ModelFile::load(model)?;
    let table = PartTable::load(parts)?;
    let (_, test) = mf.split_data()?;
    let net = mf.spec.net(&mf.params)?;
    let scale = board_scale(&net, &table, Some(sample_rate), None)?;
    let realized = realize(&Circuit::from_net(&net, scale), &table).with_context(|| {
        format!(
            "{} cannot be built on {} at {sample_rate} samples/s",
            model.display(),
            parts.display()
        )
    })?;
    if test.len > max_samples {
        bail!(
            "the test signals have {} samples; the controller's sample RAM holds {max_samples} (give --max-samples {})",
            test.len,
            test.len.next_power_of_two()
        );
    }
    let plan = CtlPlan::new(
        &table,
        &realized,
        clock_hz,
        sample_rate,
        net.probes.len(),
        max_samples,
    )?;
    let full_scale = (0..test.count())
        .flat_map(|i| phasegen_sim::r2nn::spice::integrated_force(test.signal(i), 1))
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if full_scale <= 0.0 {
        bail!("the test signals of {} are all zero", model.display());
    }
    let volts_per_unit = scale.z0 * table.input.full_scale_amps / full_scale;
    Ok(BoardSetup {
        table,
        realized,
        plan,
        test,
        full_scale,
        volts_per_unit,
    })
}

/// The DAC codes of a signal: its integrated force, sample by sample.
pub fn dac_codes(x: &[f32], full_scale: f64) -> Vec<u64> {
    phasegen_sim::r2nn::spice::integrated_force(x, 1)[1..]
        .iter()
        .map(|&f| phasegen_sim::r2nn::ctl::dac_code(f, full_scale))
        .collect()
}

/// `pg_ctl_top` on its simulated board, served on a pseudo-terminal.
pub struct CtlPtyServer {
    pub path: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Result<u64>>>,
}

impl CtlPtyServer {
    pub fn start(b: Built, s: &BoardSetup, cpb: u64) -> Result<CtlPtyServer> {
        use serialport::SerialPort;
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicBool, Ordering};
        let (mut master, slave) =
            serialport::TTYPort::pair().context("cannot create a pseudo-terminal pair")?;
        let path = slave.name().context("the pseudo-terminal has no name")?;
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        master.set_timeout(std::time::Duration::from_millis(5))?;
        let (plan, table, realized) = (s.plan.clone(), s.table.clone(), s.realized.clone());
        let (vpu, fs) = (s.volts_per_unit, s.full_scale);
        let handle = std::thread::spawn(move || -> Result<u64> {
            let _keep = slave;
            let mut c = CtlSim::new(&b, &plan, &table, vpu, fs)?;
            c.uart.cpb = cpb;
            c.attach_board(&table, &realized);
            c.sim.set("i_rst", 1)?;
            c.steps(4);
            c.sim.set("i_rst", 0)?;
            let mut buf = [0u8; 512];
            let mut idle = 0u32;
            while !st.load(Ordering::Relaxed) {
                let avail = master.bytes_to_read().unwrap_or(0) as usize;
                if avail > 0 {
                    let k = master.read(&mut buf[..avail.min(512)])?;
                    c.uart.to_device.extend(&buf[..k]);
                }
                if avail == 0 && c.uart.to_device.is_empty() && c.uart.from_device.is_empty() {
                    idle += 1;
                    if idle > 100_000 {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                } else {
                    idle = 0;
                }
                c.steps(4 * cpb);
                if !c.uart.from_device.is_empty() {
                    let out = std::mem::take(&mut c.uart.from_device);
                    master.write_all(&out)?;
                    master.flush()?;
                }
            }
            Ok(c.sim.cycles)
        });
        Ok(CtlPtyServer {
            path,
            stop,
            handle: Some(handle),
        })
    }

    /// Stop the simulation; returns the cycles it ran.
    pub fn stop(mut self) -> Result<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| anyhow::anyhow!("the simulation thread panicked"))?,
            None => Ok(0),
        }
    }
}

impl Drop for CtlPtyServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
