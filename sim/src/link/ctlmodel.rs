//! The reference model of the metacircuit controller's protocol engine
//! (`pg_ctl_top`): what it answers to any byte stream and what each request
//! does to its program and sample RAMs. It has no time: the caller says
//! when the line was idle longer than the frame timeout ([`CtlModel::gap`]).
//! Classify and ReadEnergies carry values of the analog loop, which this
//! model does not know: it says which reply is due ([`Due`]) and the caller
//! checks those against the part models.

use super::protocol::{crc8_byte, CtlCmd, ErrCode, ERROR, SYNC_REQ};

/// A reply the device owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Exactly this response payload, with this command byte.
    Exact(u8, Vec<u8>),
    /// A Classify reply: one byte, a class below `probes`.
    Class,
    /// A ReadEnergies reply: `8 · probes` bytes.
    Energies,
    /// A ReadParts reply of this many words (what the parts answered).
    Parts(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Sync,
    Cmd,
    Len,
    Pay,
    Crc,
}

#[derive(Debug, Clone)]
pub struct CtlModel {
    identity: Vec<u8>,
    pub prog: Vec<u16>,
    pub samples: Vec<u16>,
    pub probes: usize,
    /// Words of the readback RAM.
    pub readback_words: usize,
    st: State,
    cmd: u8,
    len: usize,
    pay: Vec<u8>,
    crc: u8,
}

impl CtlModel {
    /// A controller with `identity` (CtlIdentify's bytes), its program RAM
    /// at power-up, a sample RAM of `max_samples` words and a readback RAM
    /// of `readback_words`.
    pub fn new(
        identity: Vec<u8>,
        prog: Vec<u16>,
        max_samples: usize,
        probes: usize,
        readback_words: usize,
    ) -> CtlModel {
        CtlModel {
            identity,
            prog,
            samples: vec![0; max_samples],
            probes,
            readback_words,
            st: State::Sync,
            cmd: 0,
            len: 0,
            pay: vec![],
            crc: 0,
        }
    }

    /// The line was idle longer than the frame timeout: a partial request
    /// is dropped.
    pub fn gap(&mut self) {
        self.st = State::Sync;
    }

    /// Bytes received; returns the replies due, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Due> {
        let mut out = vec![];
        for &b in bytes {
            match self.st {
                State::Sync => {
                    if b == SYNC_REQ {
                        self.crc = 0;
                        self.st = State::Cmd;
                    }
                }
                State::Cmd => {
                    self.cmd = b;
                    self.crc = crc8_byte(self.crc, b);
                    self.st = State::Len;
                }
                State::Len => {
                    self.len = b as usize;
                    self.crc = crc8_byte(self.crc, b);
                    self.pay.clear();
                    self.st = if b == 0 { State::Crc } else { State::Pay };
                }
                State::Pay => {
                    self.pay.push(b);
                    self.crc = crc8_byte(self.crc, b);
                    if self.pay.len() == self.len {
                        self.st = State::Crc;
                    }
                }
                State::Crc => {
                    self.st = State::Sync;
                    out.push(if b == self.crc {
                        self.execute()
                    } else {
                        err(ErrCode::BadCrc)
                    });
                }
            }
        }
        out
    }

    fn words(&mut self, sel_prog: bool) -> Due {
        let p = &self.pay;
        let n = p.len().saturating_sub(2) / 2;
        let off = if p.len() >= 2 {
            u16::from_be_bytes([p[0], p[1]]) as usize
        } else {
            0
        };
        let depth = if sel_prog {
            self.prog.len()
        } else {
            self.samples.len()
        };
        if p.len() < 4 || p.len() % 2 == 1 || off + n > depth {
            return err(ErrCode::BadArgument);
        }
        for k in 0..n {
            let w = u16::from_be_bytes([p[2 + 2 * k], p[3 + 2 * k]]);
            if sel_prog {
                self.prog[off + k] = w;
            } else {
                self.samples[off + k] = w;
            }
        }
        Due::Exact(self.cmd, vec![])
    }

    fn execute(&mut self) -> Due {
        let p = self.pay.clone();
        let c = self.cmd;
        let is = |x: CtlCmd| c == x as u8;
        if is(CtlCmd::CtlIdentify) {
            if p.is_empty() {
                return Due::Exact(c, self.identity.clone());
            }
        } else if is(CtlCmd::WriteCodes) {
            return self.words(true);
        } else if is(CtlCmd::LoadSignal) {
            return self.words(false);
        } else if is(CtlCmd::ReadCodes) {
            if p.len() == 3 {
                let off = u16::from_be_bytes([p[0], p[1]]) as usize;
                let n = p[2] as usize;
                if (1..=127).contains(&n) && off + n <= self.prog.len() {
                    let v = self.prog[off..off + n]
                        .iter()
                        .flat_map(|w| w.to_be_bytes())
                        .collect();
                    return Due::Exact(c, v);
                }
            }
        } else if is(CtlCmd::ReadParts) {
            if p.len() == 3 {
                let off = u16::from_be_bytes([p[0], p[1]]) as usize;
                let n = p[2] as usize;
                if (1..=127).contains(&n) && off + n <= self.readback_words {
                    return Due::Parts(n);
                }
            }
        } else if is(CtlCmd::Program) {
            if p.is_empty() {
                return Due::Exact(c, vec![]);
            }
        } else if is(CtlCmd::Classify) {
            if p.len() == 2 {
                let n = u16::from_be_bytes([p[0], p[1]]) as usize;
                if (1..=self.samples.len()).contains(&n) {
                    return Due::Class;
                }
            }
        } else if is(CtlCmd::ReadEnergies) {
            if p.is_empty() {
                return Due::Energies;
            }
        } else {
            return err(ErrCode::UnknownCmd);
        }
        err(ErrCode::BadArgument)
    }
}

fn err(code: ErrCode) -> Due {
    Due::Exact(ERROR, vec![code as u8])
}

#[cfg(test)]
mod tests {
    use super::super::protocol::{ctl_request, words_payload};
    use super::*;

    #[test]
    fn writes_read_back_and_refusals_change_nothing() {
        let mut m = CtlModel::new(vec![3], vec![7; 4], 8, 3, 2);
        let r = m.push(&ctl_request(
            CtlCmd::WriteCodes,
            &words_payload(2, &[0x1234, 0x5678]),
        ));
        assert_eq!(r, vec![Due::Exact(0x11, vec![])]);
        let r = m.push(&ctl_request(CtlCmd::ReadCodes, &[0, 1, 3]));
        assert_eq!(
            r,
            vec![Due::Exact(0x12, vec![0, 7, 0x12, 0x34, 0x56, 0x78])]
        );
        // past the end, odd length, bad CRC, unknown command
        let mut bad = ctl_request(CtlCmd::WriteCodes, &words_payload(0, &[1]));
        *bad.last_mut().unwrap() ^= 0x40;
        for (req, code) in [
            (
                ctl_request(CtlCmd::WriteCodes, &words_payload(3, &[1, 2])),
                ErrCode::BadArgument,
            ),
            (
                ctl_request(CtlCmd::WriteCodes, &[0, 0, 1]),
                ErrCode::BadArgument,
            ),
            (bad, ErrCode::BadCrc),
            (
                super::super::protocol::frame_request(0x01, &[]),
                ErrCode::UnknownCmd,
            ),
        ] {
            assert_eq!(m.push(&req), vec![Due::Exact(ERROR, vec![code as u8])]);
        }
        assert_eq!(m.prog, vec![7, 7, 0x1234, 0x5678]);
        assert_eq!(
            m.push(&ctl_request(CtlCmd::Classify, &[0, 8])),
            vec![Due::Class]
        );
        assert_eq!(
            m.push(&ctl_request(CtlCmd::Classify, &[0, 9])),
            vec![Due::Exact(ERROR, vec![3])]
        );
        assert_eq!(
            m.push(&ctl_request(CtlCmd::ReadParts, &[0, 1, 1])),
            vec![Due::Parts(1)]
        );
        assert_eq!(
            m.push(&ctl_request(CtlCmd::ReadParts, &[0, 1, 2])),
            vec![Due::Exact(ERROR, vec![3])]
        );
    }
}
