//! The host side of the UART protocol: a client for a board or for the
//! simulated design on a pseudo-terminal. Every read has a deadline; a reply
//! with a bad CRC is retried; device errors are reported by name.

use anyhow::{bail, Context, Result};
use phasegen_sim::link::protocol::{
    self, phase_bytes, run_payload, words_payload, write_weights_payload, Block, Cmd, CtlCmd,
    CtlIdentity, Decoder, ErrCode, Identity, Response, ERROR, MAX_CTL_WORDS, MAX_INPUT_CHUNK,
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

/// The Infer frames of one sample: input chunks, the last one runs.
pub fn infer_frames(x: &[u64]) -> Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    for (c, chunk) in x.chunks(MAX_INPUT_CHUNK).enumerate() {
        let mut p = ((c * MAX_INPUT_CHUNK) as u16).to_be_bytes().to_vec();
        for &v in chunk {
            if v > 255 {
                bail!("input value {v} does not fit a byte");
            }
            p.push(v as u8);
        }
        frames.push(protocol::request(Cmd::Infer, &p));
    }
    Ok(frames)
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
        self.transact_code(cmd as u8, &format!("{cmd:?}"), payload, timeout)
    }

    /// [`Device::transact`] for any command byte (`name` in messages).
    pub fn transact_code(
        &mut self,
        code: u8,
        name: &str,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let cmd = name;
        let req = protocol::frame_request(code, payload);
        let mut last_err = None;
        for _ in 0..=self.retries {
            self.port
                .write_all(&req)
                .context("writing to the serial port")?;
            self.port.flush().ok();
            let deadline = Instant::now() + timeout;
            match self.read_frame(deadline) {
                Ok(r) if r.cmd == code => return Ok(r.payload),
                Ok(r) if r.cmd == ERROR => {
                    let code = r.payload.first().copied().unwrap_or(0);
                    match ErrCode::from_u8(code) {
                        Some(ErrCode::BadCrc) => {
                            self.crc_retries += 1;
                            last_err = Some(anyhow::anyhow!("{}", ErrCode::BadCrc.describe()));
                            continue;
                        }
                        Some(c) => bail!("{} request refused: {}", cmd, c.describe()),
                        None => bail!("{} request refused with unknown error code {code}", cmd),
                    }
                }
                Ok(r) => bail!(
                    "the device answered command {:#04x} to a {} request (protocol mismatch?)",
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
            .with_context(|| format!("{} failed after {} retries", cmd, self.retries))
    }

    pub fn identify(&mut self) -> Result<Identity> {
        let p = self.transact(Cmd::Identify, &[], self.timeout)?;
        // the version byte first: another version's payload has another length
        if let Some(&v) = p.first().filter(|&&v| v != protocol::VERSION) {
            bail!(
                "the device speaks protocol version {v}, this phasegen speaks {}: rebuild the bitstream with this version",
                protocol::VERSION
            );
        }
        Identity::from_bytes(&p)
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

    /// Write one writable memory (`hardware.u_memory`, `hardware.w_memory`,
    /// `hardware.params`):
    /// `image` is the block's image in words of `word_bytes` bytes
    /// (`Schedule::image`, `Schedule::word_bytes`), sent in frames of whole
    /// words. With `previous`, the image the device holds now, frames whose
    /// words did not change are not sent. Returns the frames sent.
    pub fn write_block(
        &mut self,
        block: Block,
        image: &[u8],
        word_bytes: usize,
        previous: Option<&[u8]>,
    ) -> Result<usize> {
        if word_bytes == 0 || word_bytes > protocol::MAX_WEIGHT_CHUNK {
            bail!(
                "a word of {} of {word_bytes} bytes does not fit a frame",
                block.name()
            );
        }
        if !image.len().is_multiple_of(word_bytes) {
            bail!(
                "the image of {} has {} bytes, not whole words of {word_bytes}",
                block.name(),
                image.len()
            );
        }
        let previous = previous.filter(|p| p.len() == image.len());
        let per = protocol::MAX_WEIGHT_CHUNK / word_bytes;
        let mut sent = 0;
        for (c, chunk) in image.chunks(per * word_bytes).enumerate() {
            let off = c * per;
            if off >= 1 << 24 {
                bail!("the image of {} has more than 2^24 words", block.name());
            }
            let at = c * per * word_bytes;
            if previous.is_some_and(|p| &p[at..at + chunk.len()] == chunk) {
                continue;
            }
            let p = write_weights_payload(block, off, chunk);
            self.transact(Cmd::WriteWeights, &p, self.timeout)?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Learn (a learning design): the device learns the sample whose
    /// inputs WriteInput wrote, with label `label`, and answers the free
    /// phase's class.
    pub fn learn(&mut self, label: usize) -> Result<usize> {
        if label > 255 {
            bail!("label {label} does not fit a byte");
        }
        let p = self.transact(Cmd::Learn, &[label as u8], self.timeout)?;
        match p.as_slice() {
            [c] => Ok(*c as usize),
            _ => bail!("Learn answered {} bytes, expected the class", p.len()),
        }
    }

    /// LearnPattern (a learning memory): the device learns pattern `xi`
    /// (`true`: `ξ_i = +1`) from the initial phases written, and answers
    /// the free state's agreement `m = Σ ξ_i s_i`.
    pub fn learn_pattern(&mut self, xi: &[bool]) -> Result<i64> {
        let p = self.transact(
            Cmd::LearnPattern,
            &phasegen_sim::twin::hebb::pattern_payload(xi),
            self.timeout,
        )?;
        match p.as_slice() {
            [a, b] => Ok(i16::from_be_bytes([*a, *b]) as i64),
            _ => bail!(
                "LearnPattern answered {} bytes, expected the agreement's two",
                p.len()
            ),
        }
    }

    /// StoreSample (a design with a sample store): sample `index`'s inputs
    /// `x` and its label, in chunks of whole store words of `ipw` inputs
    /// ([`phasegen_sim::twin::store::StoreLayout::ipw`]).
    pub fn store_sample(
        &mut self,
        index: usize,
        x: &[u64],
        label: usize,
        ipw: usize,
    ) -> Result<()> {
        if index > 0xffff || label > 255 {
            bail!("sample {index} with label {label} does not fit StoreSample's fields");
        }
        if let Some(v) = x.iter().find(|&&v| v > 255) {
            bail!("input value {v} does not fit a byte");
        }
        // 255 bytes minus index, label and offset, in whole words
        let per = (250 / ipw.max(1)).max(1) * ipw.max(1);
        for (c, chunk) in x.chunks(per).enumerate() {
            let p = protocol::store_sample_payload(index, label, c * per, chunk);
            self.transact(Cmd::StoreSample, &p, self.timeout)?;
        }
        Ok(())
    }

    /// Epoch (a design with a sample store): the device learns `count`
    /// stored samples from `first` by `stride` and answers how many free
    /// classes were right. Each sample gets the time a Learn gets.
    pub fn epoch(&mut self, count: usize, first: usize, stride: usize) -> Result<usize> {
        if count > 0xffff || first > 0xffff || stride > 0xffff {
            bail!(
                "Epoch of {count} samples from {first} by {stride} does not fit its 16-bit fields"
            );
        }
        let t = self.timeout * count.max(1) as u32;
        let p = self.transact(
            Cmd::Epoch,
            &protocol::epoch_payload(count, first, stride),
            t,
        )?;
        match p.as_slice() {
            [a, b] => Ok(u16::from_be_bytes([*a, *b]) as usize),
            _ => bail!(
                "Epoch answered {} bytes, expected the correct count's two",
                p.len()
            ),
        }
    }

    /// ReadWeights (a learning design): `words` words of `block` from word
    /// 0, `word_bytes` each, in frames of whole words; the block's image as
    /// the device computes with it.
    pub fn read_block(&mut self, block: Block, words: usize, word_bytes: usize) -> Result<Vec<u8>> {
        if word_bytes == 0 || word_bytes > 255 {
            bail!(
                "a word of {} of {word_bytes} bytes does not fit a frame",
                block.name()
            );
        }
        let per = (255 / word_bytes).max(1);
        let mut out = Vec::with_capacity(words * word_bytes);
        let mut off = 0;
        while off < words {
            let n = per.min(words - off);
            let mut p = vec![block as u8];
            p.extend(&(off as u32).to_be_bytes()[1..]);
            p.push(n as u8);
            let r = self.transact(Cmd::ReadWeights, &p, self.timeout)?;
            if r.len() != n * word_bytes {
                bail!(
                    "ReadWeights of {} words of {} answered {} bytes, expected {}",
                    n,
                    block.name(),
                    r.len(),
                    n * word_bytes
                );
            }
            out.extend(r);
            off += n;
        }
        Ok(out)
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

    /// The device's counters (requests served, refused, dropped).
    pub fn status(&mut self) -> Result<protocol::Status> {
        let p = self.transact(Cmd::Status, &[], self.timeout)?;
        protocol::Status::from_bytes(&p)
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

    /// Classes of many samples with `Infer`, streamed: the next request is
    /// on the wire while the device settles the current one (two requests
    /// in flight), so the line rate, not the round trip, sets the pace. On
    /// any failure it waits for the line to go quiet and finishes one
    /// request at a time, with retries.
    pub fn infer_stream(&mut self, xs: &[Vec<u64>]) -> Result<Vec<usize>> {
        let mut frames = Vec::new();
        for (s, x) in xs.iter().enumerate() {
            for (k, f) in infer_frames(x)?.into_iter().enumerate() {
                frames.push((s, k, f));
            }
        }
        let last = |i: usize| i + 1 == frames.len() || frames[i + 1].0 != frames[i].0;
        let mut classes = vec![usize::MAX; xs.len()];
        let (mut sent, mut done) = (0usize, 0usize);
        let streamed: Result<()> = (|| {
            while done < frames.len() {
                while sent < frames.len() && sent - done < 2 {
                    self.port
                        .write_all(&frames[sent].2)
                        .context("writing to the serial port")?;
                    sent += 1;
                }
                self.port.flush().ok();
                let r = self.read_frame(Instant::now() + self.timeout * 5)?;
                if r.cmd != Cmd::Infer as u8 {
                    bail!("Infer answered with command {:#04x}", r.cmd);
                }
                if last(done) {
                    let c = *r.payload.first().context("Infer reply without a class")?;
                    classes[frames[done].0] = c as usize;
                } else if !r.payload.is_empty() {
                    bail!("a non-final Infer chunk answered {:02x?}", r.payload);
                }
                done += 1;
            }
            Ok(())
        })();
        if streamed.is_err() {
            // let the device finish and the line go quiet, then go one by one
            std::thread::sleep(self.timeout);
            self.dec = Decoder::default();
            let mut buf = [0u8; 256];
            while matches!(self.port.read(&mut buf), Ok(k) if k > 0) {}
            for (i, (s, _, f)) in frames.iter().enumerate() {
                if classes[*s] != usize::MAX {
                    continue;
                }
                let payload = &f[3..f.len() - 1];
                let r = self.transact(Cmd::Infer, payload, self.timeout * 5)?;
                if last(i) {
                    classes[*s] = *r.first().context("Infer reply without a class")? as usize;
                }
            }
        }
        Ok(classes)
    }

    fn ctl(&mut self, cmd: CtlCmd, payload: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        self.transact_code(cmd as u8, &format!("{cmd:?}"), payload, timeout)
    }

    /// A metacircuit controller's identity (CtlIdentify).
    pub fn ctl_identify(&mut self) -> Result<CtlIdentity> {
        let t = self.timeout;
        let b = self.ctl(CtlCmd::CtlIdentify, &[], t)?;
        let id = CtlIdentity::parse(&b)?;
        if id.version != protocol::VERSION {
            bail!(
                "the controller speaks protocol version {}, this phasegen version {}",
                id.version,
                protocol::VERSION
            );
        }
        Ok(id)
    }

    fn ctl_words(&mut self, cmd: CtlCmd, words: &[u64]) -> Result<()> {
        let t = self.timeout;
        for (k, chunk) in words.chunks(MAX_CTL_WORDS).enumerate() {
            self.ctl(cmd, &words_payload(k * MAX_CTL_WORDS, chunk), t)?;
        }
        Ok(())
    }

    /// Writes the program RAM from word 0.
    pub fn write_codes(&mut self, words: &[u64]) -> Result<()> {
        self.ctl_words(CtlCmd::WriteCodes, words)
    }

    /// Reads `n` words of the program RAM from word 0.
    pub fn read_codes(&mut self, n: usize) -> Result<Vec<u64>> {
        self.read_words(CtlCmd::ReadCodes, n)
    }

    /// Reads `n` words of the readback RAM from word 0: what the parts
    /// answered when they were last programmed.
    pub fn read_parts(&mut self, n: usize) -> Result<Vec<u64>> {
        self.read_words(CtlCmd::ReadParts, n)
    }

    fn read_words(&mut self, cmd: CtlCmd, n: usize) -> Result<Vec<u64>> {
        let t = self.timeout;
        let mut v = vec![];
        for off in (0..n).step_by(127) {
            let k = (n - off).min(127);
            let mut p = (off as u16).to_be_bytes().to_vec();
            p.push(k as u8);
            let b = self.ctl(cmd, &p, t)?;
            if b.len() != 2 * k {
                bail!("{cmd:?} of {k} words answered {} bytes", b.len());
            }
            v.extend(b.chunks(2).map(|w| u16::from_be_bytes([w[0], w[1]]) as u64));
        }
        Ok(v)
    }

    /// Writes every chain from the program RAM; `timeout` covers the
    /// programming.
    pub fn program(&mut self, timeout: Duration) -> Result<()> {
        self.ctl(CtlCmd::Program, &[], timeout).map(|_| ())
    }

    /// Loads DAC codes into the sample RAM from sample 0, runs them and
    /// returns the class.
    pub fn classify_signal(&mut self, codes: &[u64], timeout: Duration) -> Result<usize> {
        self.ctl_words(CtlCmd::LoadSignal, codes)?;
        let b = self.ctl(
            CtlCmd::Classify,
            &(codes.len() as u16).to_be_bytes(),
            timeout,
        )?;
        match b[..] {
            [c] => Ok(c as usize),
            _ => bail!("Classify answered {} bytes, expected 1", b.len()),
        }
    }

    /// The last run's probe energies.
    pub fn read_energies(&mut self, probes: usize) -> Result<Vec<u64>> {
        let t = self.timeout;
        let b = self.ctl(CtlCmd::ReadEnergies, &[], t)?;
        if b.len() != 8 * probes {
            bail!(
                "ReadEnergies answered {} bytes for {probes} probes",
                b.len()
            );
        }
        Ok(b.chunks(8)
            .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")))
            .collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::response;
    use std::collections::VecDeque;

    /// A scripted device: each request written gets the next canned reply.
    struct FakePort {
        replies: VecDeque<Vec<u8>>,
        pending: VecDeque<u8>,
        requests: Vec<Vec<u8>>,
    }

    impl FakePort {
        fn new(replies: Vec<Vec<u8>>) -> FakePort {
            FakePort {
                replies: replies.into(),
                pending: VecDeque::new(),
                requests: Vec::new(),
            }
        }
    }

    impl Write for FakePort {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.requests.push(b.to_vec());
            if let Some(r) = self.replies.pop_front() {
                self.pending.extend(r);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Read for FakePort {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.pending.is_empty() {
                // a serial port's read timeout
                std::thread::sleep(Duration::from_millis(2));
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            let k = buf.len().min(self.pending.len());
            for b in buf.iter_mut().take(k) {
                *b = self.pending.pop_front().unwrap();
            }
            Ok(k)
        }
    }

    fn identity(version: u8) -> Vec<u8> {
        Identity {
            version,
            design_id: 0x1234_5678,
            inputs: 64,
            oscillators: 42,
            classes: 10,
            phase_bits: 16,
            weight_bits: 8,
            frac: 6,
            input_bits: 4,
            blocks: 0,
            steps: 51,
        }
        .to_bytes()
    }

    fn device(replies: Vec<Vec<u8>>) -> Device<FakePort> {
        let mut d = Device::new(FakePort::new(replies));
        d.timeout = Duration::from_millis(100);
        d
    }

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn a_good_reply_is_read() {
        let mut d = device(vec![response(
            Cmd::Identify as u8,
            &identity(protocol::VERSION),
        )]);
        let id = d.identify().unwrap();
        assert_eq!((id.design_id, id.steps), (0x1234_5678, 51));
        assert_eq!(d.port.requests, vec![protocol::request(Cmd::Identify, &[])]);
    }

    #[test]
    fn silence_and_garbage_time_out_without_hanging() {
        for replies in [vec![], vec![vec![0x00, 0xff, 0x13, 0x37, 0x42]; 4]] {
            let mut d = device(replies);
            let t = Instant::now();
            let e = err(d.identify());
            assert!(e.contains("no complete reply") && e.contains("baud"), "{e}");
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "took {:?}",
                t.elapsed()
            );
        }
    }

    #[test]
    fn corrupted_replies_are_retried_then_reported() {
        let mut bad = response(Cmd::Identify as u8, &identity(protocol::VERSION));
        *bad.last_mut().unwrap() ^= 0x55;
        // three bad replies, then a good one: succeeds after retries
        let good = response(Cmd::Identify as u8, &identity(protocol::VERSION));
        let mut d = device(vec![bad.clone(), bad.clone(), bad.clone(), good]);
        d.identify().unwrap();
        assert_eq!(d.crc_retries, 3);
        assert_eq!(d.port.requests.len(), 4);
        // always bad: an error naming the command and the retries
        let mut d = device(vec![bad; 10]);
        let e = err(d.identify());
        assert!(
            e.contains("Identify failed after 3 retries") && e.contains("CRC"),
            "{e}"
        );
    }

    #[test]
    fn streamed_inference_keeps_two_requests_in_flight() {
        let class = |c: u8| response(Cmd::Infer as u8, &[c]);
        let mut d = device(vec![class(3), class(1), class(4)]);
        let xs = vec![vec![1u64; 5], vec![2; 5], vec![3; 5]];
        assert_eq!(d.infer_stream(&xs).unwrap(), vec![3, 1, 4]);
        // each request is one Infer frame with offset 0
        assert_eq!(d.port.requests.len(), 3);
        assert_eq!(
            d.port.requests[1],
            protocol::request(Cmd::Infer, &[0, 0, 2, 2, 2, 2, 2])
        );
        // a corrupted reply in the stream: the rest is done one by one
        let mut bad = class(9);
        *bad.last_mut().unwrap() ^= 1;
        let mut d = device(vec![class(3), bad, class(5), class(1), class(4)]);
        assert_eq!(d.infer_stream(&xs).unwrap(), vec![3, 1, 4]);
        // inputs longer than one frame: chunks, only the last answers a class
        let ack = response(Cmd::Infer as u8, &[]);
        let mut d = device(vec![ack, class(7)]);
        assert_eq!(d.infer_stream(&[vec![1; 300]]).unwrap(), vec![7]);
        assert_eq!(d.port.requests.len(), 2);
    }

    #[test]
    fn protocol_mismatches_are_named() {
        let mut d = device(vec![response(Cmd::Identify as u8, &identity(9))]);
        let e = err(d.identify());
        assert!(
            e.contains("protocol version 9") && e.contains("rebuild"),
            "{e}"
        );
        let mut d = device(vec![response(Cmd::ReadClass as u8, &[3])]);
        let e = err(d.identify());
        assert!(e.contains("protocol mismatch"), "{e}");
        let mut d = device(vec![response(ERROR, &[ErrCode::BadArgument as u8])]);
        let e = err(d.read_class());
        assert!(e.contains("ReadClass request refused"), "{e}");
        let mut d = device(vec![response(ERROR, &[0xEE])]);
        let e = err(d.read_class());
        assert!(e.contains("unknown error code 238"), "{e}");
        // a version 2 device: its 15-byte payload is refused by its version
        let mut v2 = identity(2);
        v2.truncate(15);
        let mut d = device(vec![response(Cmd::Identify as u8, &v2)]);
        let e = err(d.identify());
        assert!(e.contains("protocol version 2"), "{e}");
        // a short Identify payload
        let mut d = device(vec![response(
            Cmd::Identify as u8,
            &[protocol::VERSION, 2, 3],
        )]);
        let e = err(d.identify());
        assert!(e.contains("3 bytes, expected 17"), "{e}");
    }
}
