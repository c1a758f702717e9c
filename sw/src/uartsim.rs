//! The Verilated `pg_top` with its UART pins driven bit by bit at the
//! configured baud rate (or, for `hardware.interface = "axis"`, its
//! AXI4-Stream byte ports driven with random stalls on both sides), and a
//! bridge that serves it on a pseudo-terminal so the unchanged host tool
//! can talk to it as to a board.

use crate::cosim::{vl_ports, write_if_changed};
use anyhow::{Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::twin::model::HwModel;
use phasegen_vl::{Built, Design, Sim};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Generate the full design for `hw` into `dir` and compile `pg_top`.
pub fn build_top(cfg: &Config, hw: &HwModel, dir: &Path) -> Result<Built> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The UART divider follows the clock the board really makes.
    let clock_hz = cfg.clock_plan()?.core_clock_hz();
    let files = phasegen_hdl::generate_design(
        &cfg.hash_hex(),
        phasegen_hdl::design_id(&cfg.hash_hex(), hw),
        hw,
        clock_hz,
        cfg.target.baud,
    );
    let mut sources = Vec::new();
    for f in &files {
        let p = dir.join(&f.name);
        write_if_changed(&p, &f.text)?;
        // (the hex files of large ROMs are read by the model at start-up)
        if f.name.ends_with(".v") {
            sources.push(p);
        }
    }
    phasegen_vl::build_with(
        &Design {
            sources,
            top: "pg_top".into(),
            ports: vl_ports(&phasegen_hdl::top_ports(hw, clock_hz, cfg.target.baud)),
            clock: "i_clk".into(),
        },
        &phasegen_vl::Options {
            defines: vec![crate::cosim::hex_dir_define(dir)?],
            ..Default::default()
        },
    )
}

/// `pg_top`'s AXI4-Stream ports.
struct AxisPins {
    s_tvalid: usize,
    s_tdata: usize,
    s_tready: usize,
    m_tvalid: usize,
    m_tdata: usize,
    m_tready: usize,
}

/// `pg_top` with a bit-level UART on each side, or its AXI4-Stream ports.
pub struct TopSim {
    pub sim: Sim,
    cpb: u64,
    rx_pin: usize,
    tx_pin: usize,
    axis: Option<AxisPins>,
    /// The streams' stall pattern (xorshift): a quarter of the cycles the
    /// source holds `s_axis_tvalid` low and the sink `m_axis_tready`.
    stall: u64,
    /// Bytes waiting to be sent to the device.
    pub to_device: VecDeque<u8>,
    /// Bytes the device sent.
    pub from_device: VecDeque<u8>,
    // line driver: the frame being sent (bits LSB first incl. start/stop)
    drive_bits: u16,
    drive_left: u32,
    drive_cnt: u64,
    // idle cycles to keep before the next byte (hold_line)
    hold: u64,
    // line sampler
    samp_active: bool,
    samp_cnt: u64,
    samp_bit: u32,
    samp_byte: u16,
    /// Bytes whose stop bit the sampler saw low.
    pub framing_errors: u64,
    /// Send the next byte with its stop bit low (a framing error).
    pub bad_stop_next: bool,
}

impl TopSim {
    pub fn new(b: &Built, cpb: u64) -> Result<TopSim> {
        let mut sim = Sim::new(b)?;
        let rst = sim.port("i_rst")?;
        let axis = match sim.port("s_axis_tvalid") {
            Ok(s_tvalid) => Some(AxisPins {
                s_tvalid,
                s_tdata: sim.port("s_axis_tdata")?,
                s_tready: sim.port("s_axis_tready")?,
                m_tvalid: sim.port("m_axis_tvalid")?,
                m_tdata: sim.port("m_axis_tdata")?,
                m_tready: sim.port("m_axis_tready")?,
            }),
            Err(_) => None,
        };
        let (rx_pin, tx_pin) = match &axis {
            Some(a) => (a.s_tvalid, a.m_tvalid),
            None => (sim.port("i_uart_rx")?, sim.port("o_uart_tx")?),
        };
        sim.set_i(rx_pin, (axis.is_none()) as u64);
        sim.set_i(rst, 1);
        sim.tick(4);
        sim.set_i(rst, 0);
        sim.tick(4);
        Ok(TopSim {
            sim,
            cpb,
            rx_pin,
            tx_pin,
            axis,
            stall: 0x9e37_79b9_7f4a_7c15,
            to_device: VecDeque::new(),
            from_device: VecDeque::new(),
            drive_bits: 0,
            drive_left: 0,
            drive_cnt: 0,
            hold: 0,
            samp_active: false,
            samp_cnt: 0,
            samp_bit: 0,
            samp_byte: 0,
            framing_errors: 0,
            bad_stop_next: false,
        })
    }

    /// Is anything in flight on either wire?
    pub fn idle(&self) -> bool {
        self.to_device.is_empty() && self.drive_left == 0 && !self.samp_active
    }

    /// Keep the device's RX line idle for `cycles` clock cycles after the
    /// byte being sent ends (from now if none is) before the next queued
    /// byte's start bit: an exact gap, for the frame timeout's tests.
    pub fn hold_line(&mut self, cycles: u64) {
        self.hold = cycles;
    }

    /// Advance `n` clock cycles, moving bits on both wires.
    pub fn run(&mut self, n: u64) {
        if self.axis.is_some() {
            return self.run_axis(n);
        }
        for _ in 0..n {
            // drive the device's RX pin
            if self.drive_left == 0 {
                if self.hold > 0 {
                    self.hold -= 1;
                } else if let Some(b) = self.to_device.pop_front() {
                    let stop = if self.bad_stop_next { 0 } else { 1 << 9 };
                    self.bad_stop_next = false;
                    self.drive_bits = stop | ((b as u16) << 1);
                    self.drive_left = 10;
                    self.drive_cnt = 0;
                }
            }
            let level = if self.drive_left > 0 {
                (self.drive_bits >> (10 - self.drive_left)) & 1
            } else {
                1
            };
            self.sim.set_i(self.rx_pin, level as u64);
            if self.drive_left > 0 {
                self.drive_cnt += 1;
                if self.drive_cnt == self.cpb {
                    self.drive_cnt = 0;
                    self.drive_left -= 1;
                }
            }
            self.sim.tick(1);
            // sample the device's TX pin in the middle of each bit
            let tx = self.sim.get_i(self.tx_pin);
            if !self.samp_active {
                if tx == 0 {
                    self.samp_active = true;
                    self.samp_cnt = 0;
                    self.samp_bit = 0;
                    self.samp_byte = 0;
                }
            } else {
                self.samp_cnt += 1;
                let mid = self.cpb / 2 + self.samp_bit as u64 * self.cpb;
                if self.samp_cnt == mid {
                    if self.samp_bit >= 1 && self.samp_bit <= 8 {
                        self.samp_byte |= (tx as u16) << (self.samp_bit - 1);
                    }
                    if self.samp_bit == 9 {
                        if tx == 1 {
                            self.from_device.push_back(self.samp_byte as u8);
                        } else {
                            self.framing_errors += 1;
                        }
                        self.samp_active = false;
                    }
                    self.samp_bit += 1;
                }
            }
        }
    }
}

impl TopSim {
    /// Whether the device has AXI4-Stream ports (no UART).
    pub fn is_axis(&self) -> bool {
        self.axis.is_some()
    }

    fn stalled(&mut self) -> bool {
        self.stall ^= self.stall << 13;
        self.stall ^= self.stall >> 7;
        self.stall ^= self.stall << 17;
        self.stall & 3 == 0
    }

    /// [`TopSim::run`] on the AXI4-Stream ports: a queued byte is offered
    /// (`tvalid`) unless the source stalls and leaves the queue when
    /// `tready` is high at the clock edge; the device's bytes are taken
    /// when the sink is not stalled. Bad stop bits do not exist here.
    fn run_axis(&mut self, n: u64) {
        for _ in 0..n {
            let (s_tvalid, s_tdata, s_tready, m_tvalid, m_tdata, m_tready) = {
                let a = self.axis.as_ref().expect("AXI4-Stream ports");
                (
                    a.s_tvalid, a.s_tdata, a.s_tready, a.m_tvalid, a.m_tdata, a.m_tready,
                )
            };
            self.bad_stop_next = false;
            let offer = if self.hold > 0 {
                self.hold -= 1;
                None
            } else if self.stalled() {
                None
            } else {
                self.to_device.front().copied()
            };
            self.sim.set_i(s_tvalid, offer.is_some() as u64);
            self.sim.set_i(s_tdata, offer.unwrap_or(0) as u64);
            let take = !self.stalled();
            self.sim.set_i(m_tready, take as u64);
            self.sim.eval();
            let accepted = offer.is_some() && self.sim.get_i(s_tready) == 1;
            let out = (take && self.sim.get_i(m_tvalid) == 1).then(|| self.sim.get_i(m_tdata));
            self.sim.tick(1);
            if accepted {
                self.to_device.pop_front();
            }
            if let Some(b) = out {
                self.from_device.push_back(b as u8);
            }
        }
    }
}

/// Serve `top` on the pseudo-terminal master `master` until `stop` is set:
/// bytes written to the slave reach the device's RX pin at the configured
/// baud, and its TX bytes come back. Returns the cycles simulated.
pub fn serve<M: Read + Write>(
    top: &mut TopSim,
    master: &mut M,
    pending: impl Fn(&M) -> usize,
    stop: &AtomicBool,
) -> Result<u64> {
    let chunk = top.cpb * 4;
    let mut buf = [0u8; 512];
    let mut idle_polls = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let avail = pending(master);
        if avail > 0 {
            let k = master.read(&mut buf[..avail.min(512)])?;
            top.to_device.extend(&buf[..k]);
        }
        if top.idle() && avail == 0 && top.from_device.is_empty() {
            // nothing on the wires: let the design run a little, but sleep
            // briefly so an idle bridge does not spin a core
            idle_polls += 1;
            if idle_polls > 64 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        } else {
            idle_polls = 0;
        }
        top.run(chunk);
        if !top.from_device.is_empty() {
            let out: Vec<u8> = top.from_device.drain(..).collect();
            master.write_all(&out)?;
            master.flush()?;
        }
    }
    Ok(top.sim.cycles)
}

/// A pseudo-terminal serving `top` on a thread; the slave's path is what a
/// host tool opens as its serial port.
pub struct PtyServer {
    pub path: String,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<Result<u64>>>,
}

impl PtyServer {
    pub fn start(b: Built, cpb: u64) -> Result<PtyServer> {
        let (mut master, slave) =
            serialport::TTYPort::pair().context("cannot create a pseudo-terminal pair")?;
        let path = slave.name().context("the pseudo-terminal has no name")?;
        // the host tool opens the slave by name; this handle is not needed
        // but keeping it open avoids a hang-up when the client closes
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        use serialport::SerialPort;
        master.set_timeout(std::time::Duration::from_millis(5))?;
        let handle = std::thread::spawn(move || -> Result<u64> {
            let _keep = slave;
            let mut top = TopSim::new(&b, cpb)?;
            serve(
                &mut top,
                &mut master,
                |m| m.bytes_to_read().unwrap_or(0) as usize,
                &st,
            )
        });
        Ok(PtyServer {
            path,
            stop,
            handle: Some(handle),
        })
    }

    /// Stop the simulation; returns the cycles it ran.
    pub fn stop(mut self) -> Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| anyhow::anyhow!("the simulation thread panicked"))?,
            None => Ok(0),
        }
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
