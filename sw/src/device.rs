//! The host side of the UART protocol: a client for a board or for the
//! simulated design on a pseudo-terminal. Every read has a deadline; a reply
//! with a bad CRC is retried; device errors are reported by name.

use anyhow::{bail, Context, Result};
use phasegen_sim::protocol::{
    self, phase_bytes, run_payload, Cmd, Decoder, ErrCode, Identity, Response, ERROR,
    MAX_INPUT_CHUNK,
};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

pub struct Device<P: Read + Write> {
    port: P,
    dec: Decoder,
    pub timeout: Duration,
    pub retries: u32,
    /// Replies that failed their CRC and were retried.
    pub crc_retries: u64,
}

/// Open a serial port by name (a board's USB UART or a pseudo-terminal).
pub fn open(path: &str, baud: u32) -> Result<Device<Box<dyn serialport::SerialPort>>> {
    let port = serialport::new(path, baud)
        .timeout(Duration::from_millis(20))
        .open()
        .with_context(|| {
            format!("cannot open serial port {path}: is the board plugged in and the path right (e.g. /dev/ttyUSB1 for the iCEBreaker's second interface)?")
        })?;
    Ok(Device::new(port))
}

impl<P: Read + Write> Device<P> {
    pub fn new(port: P) -> Device<P> {
        Device {
            port,
            dec: Decoder::default(),
            timeout: Duration::from_secs(2),
            retries: 3,
            crc_retries: 0,
        }
    }

    fn read_frame(&mut self, deadline: Instant) -> Result<Response> {
        let mut buf = [0u8; 256];
        loop {
            if let Some(r) = self.dec.next_frame()? {
                return Ok(r);
            }
            if Instant::now() > deadline {
                bail!(
                    "no complete reply from the device within {:.1} s: is the bitstream loaded, the port right, and the baud rate the design's?",
                    self.timeout.as_secs_f64()
                );
            }
            match self.port.read(&mut buf) {
                Ok(0) => {}
                Ok(k) => self.dec.push(&buf[..k]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("reading from the serial port"),
            }
        }
    }

    /// Send a request and wait for its reply; retried on a corrupted reply
    /// or a device-side CRC error.
    pub fn transact(&mut self, cmd: Cmd, payload: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        let req = protocol::request(cmd, payload);
        let mut last_err = None;
        for _ in 0..=self.retries {
            self.port
                .write_all(&req)
                .context("writing to the serial port")?;
            self.port.flush().ok();
            let deadline = Instant::now() + timeout;
            match self.read_frame(deadline) {
                Ok(r) if r.cmd == cmd as u8 => return Ok(r.payload),
                Ok(r) if r.cmd == ERROR => {
                    let code = r.payload.first().copied().unwrap_or(0);
                    match ErrCode::from_u8(code) {
                        Some(ErrCode::BadCrc) => {
                            self.crc_retries += 1;
                            last_err = Some(anyhow::anyhow!("{}", ErrCode::BadCrc.describe()));
                            continue;
                        }
                        Some(c) => bail!("{:?} request refused: {}", cmd, c.describe()),
                        None => bail!("{:?} request refused with unknown error code {code}", cmd),
                    }
                }
                Ok(r) => bail!(
                    "the device answered command {:#04x} to a {:?} request (protocol mismatch?)",
                    r.cmd,
                    cmd
                ),
                Err(e) if format!("{e}").contains("bad CRC") => {
                    self.crc_retries += 1;
                    last_err = Some(e);
                    // drop whatever is left of the damaged exchange
                    std::thread::sleep(Duration::from_millis(20));
                    self.dec = Decoder::default();
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("no reply")))
            .with_context(|| format!("{:?} failed after {} retries", cmd, self.retries))
    }

    pub fn identify(&mut self) -> Result<Identity> {
        let p = self.transact(Cmd::Identify, &[], self.timeout)?;
        let id = Identity::from_bytes(&p)?;
        if id.version != protocol::VERSION {
            bail!(
                "the device speaks protocol version {}, this phasegen speaks {}: rebuild the bitstream with this version",
                id.version,
                protocol::VERSION
            );
        }
        Ok(id)
    }

    pub fn write_input(&mut self, x: &[u64]) -> Result<()> {
        for (c, chunk) in x.chunks(MAX_INPUT_CHUNK).enumerate() {
            let off = (c * MAX_INPUT_CHUNK) as u16;
            let mut p = off.to_be_bytes().to_vec();
            for &v in chunk {
                if v > 255 {
                    bail!("input value {v} does not fit a byte");
                }
                p.push(v as u8);
            }
            self.transact(Cmd::WriteInput, &p, self.timeout)?;
        }
        Ok(())
    }

    /// Fill a design's input-weight RAM (`hardware.u_memory`): `image` is
    /// the memory image in words of `word_bytes` bytes, sent in frames of
    /// whole words.
    pub fn write_weights(&mut self, image: &[u8], word_bytes: usize) -> Result<()> {
        if word_bytes == 0 || word_bytes > protocol::MAX_WEIGHT_CHUNK {
            bail!("a weight word of {word_bytes} bytes does not fit a frame");
        }
        if !image.len().is_multiple_of(word_bytes) {
            bail!(
                "the weight image has {} bytes, not whole words of {word_bytes}",
                image.len()
            );
        }
        let per = protocol::MAX_WEIGHT_CHUNK / word_bytes;
        for (c, chunk) in image.chunks(per * word_bytes).enumerate() {
            let off = (c * per) as u32;
            if off >= 1 << 24 {
                bail!("the weight image has more than 2^24 words");
            }
            let mut p = off.to_be_bytes()[1..].to_vec();
            p.extend_from_slice(chunk);
            self.transact(Cmd::WriteWeights, &p, self.timeout)?;
        }
        Ok(())
    }

    pub fn run(&mut self, init: bool, steps: u16, beta: i64, target: &[bool]) -> Result<()> {
        if steps == 0 {
            bail!("a run needs at least one step");
        }
        // generous: a run is far shorter than a second on any design this tool builds
        self.transact(
            Cmd::Run,
            &run_payload(init, steps, beta, target),
            self.timeout * 5,
        )?;
        Ok(())
    }

    pub fn read_class(&mut self) -> Result<usize> {
        let p = self.transact(Cmd::ReadClass, &[], self.timeout)?;
        p.first()
            .map(|&c| c as usize)
            .context("empty ReadClass reply")
    }

    pub fn read_phases(&mut self, id: &Identity, offset: u16, count: u8) -> Result<Vec<u64>> {
        let mut p = offset.to_be_bytes().to_vec();
        p.push(count);
        let r = self.transact(Cmd::ReadPhases, &p, self.timeout)?;
        let pb = phase_bytes(id.phase_bits as u32);
        if r.len() != pb * count as usize {
            bail!(
                "ReadPhases reply has {} bytes, expected {}",
                r.len(),
                pb * count as usize
            );
        }
        Ok(r.chunks(pb)
            .map(|c| c.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
            .collect())
    }

    /// One inference: write the input, run `steps` free steps from the
    /// initial phases, read the class.
    pub fn infer(&mut self, x: &[u64], steps: u16, classes: usize) -> Result<usize> {
        self.write_input(x)?;
        self.run(true, steps, 0, &vec![false; classes])?;
        self.read_class()
    }

    /// Send raw bytes (for tests of the device's error handling).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.port.write_all(bytes)?;
        Ok(())
    }

    /// Wait for one reply frame (for tests).
    pub fn read_reply(&mut self, timeout: Duration) -> Result<Response> {
        self.read_frame(Instant::now() + timeout)
    }
}
