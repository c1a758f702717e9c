//! The reference model of the generated device's protocol engine (`pg_top`):
//! what it answers to any byte stream, and what its requests do to its
//! memories. The fuzz test feeds the same bytes to this model and to the
//! simulated RTL and requires the same replies, byte for byte.
//!
//! Byte-level behaviour (docs/protocol.md): outside a frame every byte but
//! [`SYNC_REQ`] is ignored; a frame is read whole (`cmd, len, payload, crc`),
//! then checked and executed; a frame idle for `FRAME_TIMEOUT_BITS` bit
//! times is dropped. While the device executes or answers it does not
//! listen: a host waits for each reply before it sends again.

use crate::protocol::{
    crc8_byte, phase_bytes, response, target_bytes, Cmd, ErrCode, Status, ERROR, SYNC_REQ,
};
use crate::twin::{HwModel, Twin};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Sync,
    Cmd,
    Len,
    Payload,
    Crc,
}

/// The device as the host sees it.
#[derive(Debug, Clone)]
pub struct DeviceModel<'a> {
    pub twin: Twin<'a>,
    /// The input RAM.
    pub x: Vec<u64>,
    /// The Identify payload.
    identity: Vec<u8>,
    pub status: Status,
    state: State,
    cmd: u8,
    len: u8,
    crc: u8,
    payload: Vec<u8>,
}

fn bump(c: &mut u16) {
    *c = c.saturating_add(1);
}

impl<'a> DeviceModel<'a> {
    /// The device after reset, with `identity` its Identify payload.
    pub fn new(hw: &'a HwModel, identity: Vec<u8>) -> DeviceModel<'a> {
        DeviceModel {
            twin: Twin::new(hw),
            x: vec![0; hw.topo.inputs],
            identity,
            status: Status::default(),
            state: State::Sync,
            cmd: 0,
            len: 0,
            crc: 0,
            payload: Vec::new(),
        }
    }

    /// Inside a frame: a pause of the frame timeout would drop it.
    pub fn mid_frame(&self) -> bool {
        self.state != State::Sync
    }

    /// The line stayed idle for the frame timeout.
    pub fn idle(&mut self) {
        if self.mid_frame() {
            self.state = State::Sync;
            bump(&mut self.status.timeouts);
        }
    }

    /// One received byte; a reply when it completes a request.
    pub fn byte(&mut self, b: u8) -> Option<Vec<u8>> {
        match self.state {
            State::Sync => {
                if b == SYNC_REQ {
                    self.crc = 0;
                    self.state = State::Cmd;
                }
            }
            State::Cmd => {
                self.cmd = b;
                self.crc = crc8_byte(self.crc, b);
                self.state = State::Len;
            }
            State::Len => {
                self.len = b;
                self.crc = crc8_byte(self.crc, b);
                self.payload.clear();
                self.state = if b == 0 { State::Crc } else { State::Payload };
            }
            State::Payload => {
                self.payload.push(b);
                self.crc = crc8_byte(self.crc, b);
                if self.payload.len() == self.len as usize {
                    self.state = State::Crc;
                }
            }
            State::Crc => {
                self.state = State::Sync;
                return Some(if b == self.crc {
                    self.execute()
                } else {
                    self.fail(ErrCode::BadCrc)
                });
            }
        }
        None
    }

    fn fail(&mut self, e: ErrCode) -> Vec<u8> {
        match e {
            ErrCode::BadCrc => bump(&mut self.status.bad_crc),
            ErrCode::UnknownCmd => bump(&mut self.status.unknown_cmd),
            ErrCode::BadArgument => bump(&mut self.status.bad_argument),
        }
        response(ERROR, &[e as u8])
    }

    fn ok(&mut self, cmd: Cmd, payload: &[u8]) -> Vec<u8> {
        response(cmd as u8, payload)
    }

    fn execute(&mut self) -> Vec<u8> {
        let m = self.twin.m;
        let f = m.fmt;
        let p = self.payload.clone();
        let len = p.len();
        let arg16 = |k: usize| u16::from_be_bytes([p[k], p[k + 1]]) as usize;
        match Cmd::from_u8(self.cmd) {
            Some(Cmd::Identify) if len == 0 => {
                bump(&mut self.status.ok);
                let id = self.identity.clone();
                self.ok(Cmd::Identify, &id)
            }
            Some(c @ (Cmd::WriteInput | Cmd::Infer))
                if len >= 3
                    && arg16(0) + len - 2 <= m.topo.inputs
                    && p[2..]
                        .iter()
                        .all(|&v| (v as u64) < (1u64 << f.input_bits.min(8))) =>
            {
                let off = arg16(0);
                for (k, &v) in p[2..].iter().enumerate() {
                    self.x[off + k] = v as u64;
                }
                bump(&mut self.status.ok);
                if c == Cmd::Infer && off + len - 2 == m.topo.inputs {
                    let x = self.x.clone();
                    let class = self.twin.infer(&x) as u8;
                    return self.ok(Cmd::Infer, &[class]);
                }
                self.ok(c, &[])
            }
            Some(Cmd::Run) if len == (5 + target_bytes(m.topo.classes())).max(3) => {
                let steps = arg16(1);
                let beta = i16::from_be_bytes([p[3], p[4]]) as i64;
                let wb = f.weight_bits;
                let fits = wb >= 16 || (-(1i64 << (wb - 1))..(1i64 << (wb - 1))).contains(&beta);
                if steps == 0 || !fits {
                    return self.fail(ErrCode::BadArgument);
                }
                if p[0] & 1 == 1 {
                    let x = self.x.clone();
                    self.twin.load_input(&x);
                }
                self.twin.beta = beta;
                for (o, t) in self.twin.target.iter_mut().enumerate() {
                    *t = p[5 + o / 8] >> (o % 8) & 1 == 1;
                }
                for _ in 0..steps {
                    self.twin.step();
                }
                bump(&mut self.status.ok);
                self.ok(Cmd::Run, &[])
            }
            Some(Cmd::ReadClass) if len == 0 => {
                bump(&mut self.status.ok);
                let c = self.twin.class() as u8;
                self.ok(Cmd::ReadClass, &[c])
            }
            Some(Cmd::ReadPhases) if len == 3 => {
                let (off, count) = (arg16(0), p[2] as usize);
                let pb = phase_bytes(f.phase_bits);
                if count == 0 || off + count > m.n() || count * pb > 255 {
                    return self.fail(ErrCode::BadArgument);
                }
                let mut out = Vec::with_capacity(count * pb);
                for &t in &self.twin.theta[off..off + count] {
                    out.extend_from_slice(&t.to_be_bytes()[8 - pb..]);
                }
                bump(&mut self.status.ok);
                self.ok(Cmd::ReadPhases, &out)
            }
            Some(Cmd::Status) if len == 0 => {
                // the count includes this request: it is counted as it starts its reply
                bump(&mut self.status.ok);
                let s = self.status.to_bytes();
                self.ok(Cmd::Status, &s)
            }
            // only designs with their input weights in RAM know WriteWeights;
            // this model covers the others (the fuzz test's design)
            Some(Cmd::WriteWeights) if !m.u_in_ram => self.fail(ErrCode::UnknownCmd),
            Some(Cmd::WriteWeights) => {
                unimplemented!("the device model does not cover designs with input weights in RAM")
            }
            Some(_) => self.fail(ErrCode::BadArgument),
            None => self.fail(ErrCode::UnknownCmd),
        }
    }
}
