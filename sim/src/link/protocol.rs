//! The UART protocol between the host and the device, defined once: the
//! generator builds the device's decoder from these constants and layouts,
//! the host tool encodes and decodes with the same functions.
//! docs/protocol.md is the prose version.
//!
//! Frame (both directions): `sync | cmd | len | payload[len] | crc`, where
//! `crc` is CRC-8 (polynomial 0x07, initial value 0, no reflection) over
//! `cmd, len, payload`. Requests start with [`SYNC_REQ`], responses with
//! [`SYNC_RSP`]. Multi-byte integers are big-endian.

use anyhow::{bail, Result};

pub const SYNC_REQ: u8 = 0xA5;
pub const SYNC_RSP: u8 = 0x5A;
/// 2: WriteWeights addresses a block; Identify reports the writable blocks.
/// 3: Identify ends with the steps of an Infer; Status counts overruns
/// (requests ignored because two were in flight); the frame timeout is
/// [`FRAME_GAP_BITS`] idle bit times between two bytes (it was 30).
pub const VERSION: u8 = 3;
pub const CRC_POLY: u8 = 0x07;

/// The frame timeout: the most bit times the line may stay idle between
/// two bytes of a request, from the end of one byte's stop bit to the
/// beginning of the next byte's start bit. After a longer gap the device
/// drops the partial request (counted in [`Status::timeouts`]).
pub const FRAME_GAP_BITS: u64 = 40;

/// Does an idle gap of `cycles` device clock cycles between two bytes of a
/// request (at `cpb` clock cycles per bit) drop it? The device's bit time
/// is `cpb` cycles (`phasegen_hdl::uart::clocks_per_bit`), so the boundary
/// is exact in its cycles: `FRAME_GAP_BITS · cpb` cycles keep the request,
/// one more drops it.
pub fn gap_drops_frame(cycles: u64, cpb: u64) -> bool {
    cycles > FRAME_GAP_BITS * cpb
}

/// Request commands. A response echoes the command, or carries [`ERROR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    /// `-> version, design_id[4], inputs[2], oscillators[2], classes,
    /// phase_bits, weight_bits, frac, input_bits, blocks, steps[2]`
    /// ([`IDENTIFY_LEN`] bytes; `blocks`: bit `b` set when [`Block`] `b` is
    /// writable; `steps`: the free steps an [`Cmd::Infer`] runs)
    Identify = 0x01,
    /// `offset[2], x[...]` (one byte per input, `input_bits` wide) `->` empty
    WriteInput = 0x02,
    /// `flags (bit 0: start from the initial phases and recompute the field;
    /// bits 1-7 ignored), steps[2] (>= 1), beta[2] (signed, parameter
    /// format), target[ceil(classes/8)] (bit o set: output o has target +1;
    /// bits o >= classes ignored)` `->` empty, sent when the run ends
    Run = 0x03,
    /// `-> class`
    ReadClass = 0x04,
    /// `offset[2], count` `-> count phases, each phase_bytes() big-endian`
    ReadPhases = 0x05,
    /// `->` the [`Status`] counters, [`STATUS_LEN`] bytes
    Status = 0x06,
    /// `offset[2], x[...]` as WriteInput; the chunk that ends at the last
    /// input also runs the device's `steps` free steps from the initial
    /// phases and answers `-> class`; earlier chunks answer empty.
    Infer = 0x07,
    /// Only on designs with a writable memory (`hardware.u_memory`,
    /// `hardware.w_memory`, `hardware.params`): `block, offset[3] (in words), words[...]`, whole
    /// words of that block's image ([`crate::twin::sched::Schedule::image`]) `->`
    /// empty
    WriteWeights = 0x08,
    /// Only on learning designs (`hardware.learning = "ep"`, Identify's
    /// [`LEARNS`] bit): `label` (below the class count) `-> class`: the
    /// device learns the sample whose inputs WriteInput wrote (the free
    /// phase, the nudged phase(s), the update of W, U and h in place;
    /// docs/learning.md) and answers the free phase's class.
    Learn = 0x09,
    /// Only on learning designs: `block, offset[3] (in words), count` `->
    /// count` words of that block as the device computes with them, in
    /// WriteWeights' byte layout (`count` times the block's word bytes, at
    /// most 255).
    ReadWeights = 0x0A,
    /// Only on designs with a sample store (`hardware.store`, Identify's
    /// [`STORES`] bit): `index[2], label, offset[2], x[...]` (one byte per
    /// input, as WriteInput) `->` empty: inputs `offset..` of stored sample
    /// `index` and its label. The chunk holds whole store words: `offset`
    /// a multiple of the inputs per word
    /// ([`crate::twin::store::StoreLayout::ipw`]) and its end one too, or
    /// the last input.
    StoreSample = 0x0B,
    /// Only on designs with a sample store: `count[2], first[2],
    /// stride[2]` (`1 <= count <=` the store's samples, `first` and
    /// `stride` below `count`) `-> correct[2]`: learns stored samples
    /// `(first + k · stride) mod count` for `k = 0 .. count`, each as a
    /// Learn of it, and answers how many free classes equalled their
    /// labels.
    Epoch = 0x0C,
    /// Only on Hebbian designs (`hardware.learning = "hebbian"`,
    /// Identify's [`IMPRINTS`] bit): `bits[ceil(oscillators / 8)]` (bit
    /// `i mod 8` of byte `i / 8` set when `ξ_i = +1`) `->` empty, sent
    /// when the pattern is imprinted: `W_ij += s ξ_i ξ_j` for every
    /// coupled pair ([`crate::twin::hebb`]).
    Imprint = 0x0D,
    /// Only on learning memories (`hardware.nudge = "pattern"`,
    /// Identify's [`LEARNS`] and [`PATTERNS`] bits): `bits[ceil(oscillators
    /// / 8)]` (as Imprint's) `-> agree[2]` (signed): the device learns the
    /// pattern from the initial phases the host wrote (the free phase,
    /// the nudged phase(s) towards `σ ξ`, the update of W in place;
    /// docs/learning.md) and answers the free state's agreement
    /// `m = Σ ξ_i s_i` ([`crate::twin::learn::agreement`]).
    LearnPattern = 0x0E,
}

/// Identify's `blocks` bit of a design that learns on chip (Learn,
/// ReadWeights).
pub const LEARNS: u8 = 0x80;

/// Identify's `blocks` bit of a design with a sample store (StoreSample,
/// Epoch).
pub const STORES: u8 = 0x40;

/// Identify's `blocks` bit of a Hebbian design (Imprint).
pub const IMPRINTS: u8 = 0x20;

/// Identify's `blocks` bit of a learning memory (LearnPattern instead of
/// Learn).
pub const PATTERNS: u8 = 0x10;

/// The StoreSample payload: `index[2], label, offset[2]`, then the inputs.
pub fn store_sample_payload(index: usize, label: usize, offset: usize, x: &[u64]) -> Vec<u8> {
    let mut v = (index as u16).to_be_bytes().to_vec();
    v.push(label as u8);
    v.extend_from_slice(&(offset as u16).to_be_bytes());
    v.extend(x.iter().map(|&b| b as u8));
    v
}

/// The Epoch payload: `count[2], first[2], stride[2]`.
pub fn epoch_payload(count: usize, first: usize, stride: usize) -> Vec<u8> {
    [count, first, stride]
        .iter()
        .flat_map(|&v| (v as u16).to_be_bytes())
        .collect()
}

pub const ERROR: u8 = 0x7F;

pub use crate::twin::image::Block;

/// Error codes in an [`ERROR`] response's one-byte payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrCode {
    BadCrc = 1,
    UnknownCmd = 2,
    BadArgument = 3,
}

impl ErrCode {
    pub fn from_u8(v: u8) -> Option<ErrCode> {
        match v {
            1 => Some(ErrCode::BadCrc),
            2 => Some(ErrCode::UnknownCmd),
            3 => Some(ErrCode::BadArgument),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ErrCode::BadCrc => "the device saw a CRC error in the request",
            ErrCode::UnknownCmd => {
                "the device does not know this command (protocol version mismatch?)"
            }
            ErrCode::BadArgument => {
                "the device refused an argument (length, offset, count or steps out of range)"
            }
        }
    }
}

impl Cmd {
    pub fn from_u8(v: u8) -> Option<Cmd> {
        match v {
            0x01 => Some(Cmd::Identify),
            0x02 => Some(Cmd::WriteInput),
            0x03 => Some(Cmd::Run),
            0x04 => Some(Cmd::ReadClass),
            0x05 => Some(Cmd::ReadPhases),
            0x06 => Some(Cmd::Status),
            0x07 => Some(Cmd::Infer),
            0x08 => Some(Cmd::WriteWeights),
            0x09 => Some(Cmd::Learn),
            0x0A => Some(Cmd::ReadWeights),
            0x0B => Some(Cmd::StoreSample),
            0x0C => Some(Cmd::Epoch),
            0x0D => Some(Cmd::Imprint),
            0x0E => Some(Cmd::LearnPattern),
            _ => None,
        }
    }
}

/// Bytes in the Status response payload.
pub const STATUS_LEN: usize = 14;

/// The device's counters since reset, each 16 bits, saturating at 65535.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Requests executed (answered with their own command).
    pub ok: u16,
    /// Requests whose CRC did not match (answered with BadCrc).
    pub bad_crc: u16,
    /// Requests with an unknown command (answered with UnknownCmd).
    pub unknown_cmd: u16,
    /// Requests refused for an argument (answered with BadArgument).
    pub bad_argument: u16,
    /// Partial requests dropped after more than [`FRAME_GAP_BITS`] idle bit
    /// times between two of their bytes (no answer).
    pub timeouts: u16,
    /// Received bytes dropped for a bad stop bit.
    pub framing_errors: u16,
    /// Requests ignored because two were in flight (one executing, one
    /// received and waiting): read to their end, not answered.
    pub overruns: u16,
}

impl Status {
    pub fn to_bytes(&self) -> Vec<u8> {
        [
            self.ok,
            self.bad_crc,
            self.unknown_cmd,
            self.bad_argument,
            self.timeouts,
            self.framing_errors,
            self.overruns,
        ]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
    }

    pub fn from_bytes(b: &[u8]) -> Result<Status> {
        if b.len() != STATUS_LEN {
            bail!("status reply has {} bytes, expected {STATUS_LEN}", b.len());
        }
        let w = |k: usize| u16::from_be_bytes([b[2 * k], b[2 * k + 1]]);
        Ok(Status {
            ok: w(0),
            bad_crc: w(1),
            unknown_cmd: w(2),
            bad_argument: w(3),
            timeouts: w(4),
            framing_errors: w(5),
            overruns: w(6),
        })
    }
}

/// Bytes in the Identify response payload.
pub const IDENTIFY_LEN: usize = 17;
/// Most bytes of input one WriteInput frame carries (255 minus the offset).
pub const MAX_INPUT_CHUNK: usize = 253;
/// Most bytes of weights one WriteWeights frame carries (255 minus the
/// block and the offset).
pub const MAX_WEIGHT_CHUNK: usize = 251;

/// The WriteWeights payload: `block, offset[3]` (in words), then `words`
/// (whole words of the block's image).
pub fn write_weights_payload(block: Block, offset: usize, words: &[u8]) -> Vec<u8> {
    let mut v = vec![block as u8];
    v.extend_from_slice(&(offset as u32).to_be_bytes()[1..]);
    v.extend_from_slice(words);
    v
}

/// The frames' CRC: CRC-8/SMBUS (polynomial [`CRC_POLY`], initial value 0,
/// no reflection, no final XOR), over cmd, len and payload.
pub const CRC8: crc::Crc<u8> = crc::Crc::<u8>::new(&crc::CRC_8_SMBUS);
// the generated RTL uses CRC_POLY: the same polynomial, unreflected
const _: () = assert!(
    crc::CRC_8_SMBUS.poly == CRC_POLY && crc::CRC_8_SMBUS.init == 0 && !crc::CRC_8_SMBUS.refin
);

/// The CRC after one more byte, from the register value `crc`: one step of
/// what the RTL unrolls (`hdl/src/top.rs`, `crc_step`).
pub fn crc8_byte(crc: u8, b: u8) -> u8 {
    let mut d = CRC8.digest_with_initial(crc);
    d.update(&[b]);
    d.finalize()
}

pub fn crc8(bytes: &[u8]) -> u8 {
    CRC8.checksum(bytes)
}

/// Bytes per phase in ReadPhases.
pub fn phase_bytes(phase_bits: u32) -> usize {
    phase_bits.div_ceil(8) as usize
}

/// Bytes of the target bitmask in Run.
pub fn target_bytes(classes: usize) -> usize {
    classes.div_ceil(8)
}

fn frame(sync: u8, cmd: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 255, "payload of {} bytes", payload.len());
    let mut v = vec![sync, cmd, payload.len() as u8];
    v.extend_from_slice(payload);
    v.push(crc8(&v[1..]));
    v
}

/// A request frame of any command byte.
pub fn frame_request(cmd: u8, payload: &[u8]) -> Vec<u8> {
    frame(SYNC_REQ, cmd, payload)
}

pub fn request(cmd: Cmd, payload: &[u8]) -> Vec<u8> {
    frame(SYNC_REQ, cmd as u8, payload)
}

pub fn response(cmd: u8, payload: &[u8]) -> Vec<u8> {
    frame(SYNC_RSP, cmd, payload)
}

pub fn run_payload(init: bool, steps: u16, beta: i64, target: &[bool]) -> Vec<u8> {
    let mut v = vec![init as u8];
    v.extend_from_slice(&steps.to_be_bytes());
    v.extend_from_slice(&(beta as i16).to_be_bytes());
    let mut t = vec![0u8; target_bytes(target.len())];
    for (o, &on) in target.iter().enumerate() {
        if on {
            t[o / 8] |= 1 << (o % 8);
        }
    }
    v.extend(t);
    v
}

/// The device's description, from Identify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub version: u8,
    pub design_id: u32,
    pub inputs: u16,
    pub oscillators: u16,
    pub classes: u8,
    pub phase_bits: u8,
    pub weight_bits: u8,
    pub frac: u8,
    pub input_bits: u8,
    /// Writable blocks: bit `b` for [`Block`] `b` ([`Block::bit`]).
    pub blocks: u8,
    /// The free steps of an Infer (`hardware.steps`, or the quantizer's
    /// choice when it is 0).
    pub steps: u16,
}

impl Identity {
    /// Can WriteWeights write this block?
    pub fn writable(&self, b: Block) -> bool {
        self.blocks & b.bit() != 0
    }

    /// Does the design learn on chip (Learn, ReadWeights)?
    pub fn learns(&self) -> bool {
        self.blocks & LEARNS != 0
    }

    /// Does the design hold a sample store (StoreSample, Epoch)?
    pub fn stores(&self) -> bool {
        self.blocks & STORES != 0
    }

    /// Does the design imprint patterns (Imprint)?
    pub fn imprints(&self) -> bool {
        self.blocks & IMPRINTS != 0
    }

    /// Is the design a learning memory (LearnPattern)?
    pub fn learns_patterns(&self) -> bool {
        self.blocks & PATTERNS != 0
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![self.version];
        v.extend_from_slice(&self.design_id.to_be_bytes());
        v.extend_from_slice(&self.inputs.to_be_bytes());
        v.extend_from_slice(&self.oscillators.to_be_bytes());
        v.extend_from_slice(&[
            self.classes,
            self.phase_bits,
            self.weight_bits,
            self.frac,
            self.input_bits,
            self.blocks,
        ]);
        v.extend_from_slice(&self.steps.to_be_bytes());
        v
    }

    /// Parses a reply of this [`VERSION`] (the version byte comes first in
    /// every version, so a client checks it before the length).
    pub fn from_bytes(b: &[u8]) -> Result<Identity> {
        if b.len() != IDENTIFY_LEN {
            bail!(
                "identify reply has {} bytes, expected {IDENTIFY_LEN}",
                b.len()
            );
        }
        Ok(Identity {
            version: b[0],
            design_id: u32::from_be_bytes([b[1], b[2], b[3], b[4]]),
            inputs: u16::from_be_bytes([b[5], b[6]]),
            oscillators: u16::from_be_bytes([b[7], b[8]]),
            classes: b[9],
            phase_bits: b[10],
            weight_bits: b[11],
            frac: b[12],
            input_bits: b[13],
            blocks: b[14],
            steps: u16::from_be_bytes([b[15], b[16]]),
        })
    }
}

/// A response frame as the host decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub cmd: u8,
    pub payload: Vec<u8>,
}

/// Incremental decoder of response frames: bytes before a sync byte are
/// skipped (and counted); a frame with a bad CRC is an error.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    pub skipped: usize,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Response>> {
        while !self.buf.is_empty() && self.buf[0] != SYNC_RSP {
            self.buf.remove(0);
            self.skipped += 1;
        }
        if self.buf.len() < 3 {
            return Ok(None);
        }
        let len = self.buf[2] as usize;
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let f: Vec<u8> = self.buf.drain(..4 + len).collect();
        let crc = crc8(&f[1..3 + len]);
        if crc != f[3 + len] {
            bail!(
                "reply with a bad CRC (got {:#04x}, computed {:#04x}): {:02x?}",
                f[3 + len],
                crc,
                f
            );
        }
        Ok(Some(Response {
            cmd: f[1],
            payload: f[3..3 + len].to_vec(),
        }))
    }
}

/// Commands of the metacircuit controller (`pg_ctl_top`, docs/protocol.md
/// "The metacircuit controller"): the same frames, CRC and error codes as
/// [`Cmd`]; a controller answers the oscillator commands with
/// [`ErrCode::UnknownCmd`], an oscillator design these. Words are
/// big-endian, two bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CtlCmd {
    /// `-> version, plan_id[4], probes, prog_words[2], max_samples[2],
    /// readback_words[2]` ([`CTL_IDENTIFY_LEN`] bytes)
    CtlIdentify = 0x10,
    /// `offset[2], word[2] ...` (at least one word, `offset + words <=
    /// prog_words`) `->` empty: into the program RAM
    WriteCodes = 0x11,
    /// `offset[2], count` (`1 <= count <= 127`, `offset + count <=
    /// prog_words`) `-> count words` of the program RAM
    ReadCodes = 0x12,
    /// `->` empty, sent when every chain has been written from the program
    /// RAM
    Program = 0x13,
    /// `offset[2], code[2] ...` (at least one, `offset + codes <=
    /// max_samples`) `->` empty: DAC codes into the sample RAM
    LoadSignal = 0x14,
    /// `len[2]` (`1..=max_samples`) `-> class`, sent when the run of `len`
    /// samples from the sample RAM's start has ended
    Classify = 0x15,
    /// `-> probes × energy[8]`: the last run's energies
    ReadEnergies = 0x16,
    /// `offset[2], count` (`1 <= count <= 127`, `offset + count <=
    /// readback_words`) `-> count words` of the readback RAM: what the
    /// parts answered when they were last programmed (one word per chip of
    /// each chain read back, in program order)
    ReadParts = 0x17,
}

/// Bytes of the CtlIdentify reply.
pub const CTL_IDENTIFY_LEN: usize = 12;
/// Most words one WriteCodes or LoadSignal frame carries.
pub const MAX_CTL_WORDS: usize = 126;

pub fn ctl_request(cmd: CtlCmd, payload: &[u8]) -> Vec<u8> {
    frame(SYNC_REQ, cmd as u8, payload)
}

/// The payload of WriteCodes and LoadSignal.
pub fn words_payload(offset: usize, words: &[u64]) -> Vec<u8> {
    let mut v = (offset as u16).to_be_bytes().to_vec();
    for &w in words {
        v.extend_from_slice(&(w as u16).to_be_bytes());
    }
    v
}

/// What a controller says about itself (the CtlIdentify reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtlIdentity {
    pub version: u8,
    pub plan_id: u32,
    pub probes: u8,
    pub prog_words: u16,
    pub max_samples: u16,
    pub readback_words: u16,
}

impl CtlIdentity {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![self.version];
        v.extend_from_slice(&self.plan_id.to_be_bytes());
        v.push(self.probes);
        v.extend_from_slice(&self.prog_words.to_be_bytes());
        v.extend_from_slice(&self.max_samples.to_be_bytes());
        v.extend_from_slice(&self.readback_words.to_be_bytes());
        v
    }

    pub fn parse(b: &[u8]) -> Result<CtlIdentity> {
        if b.len() != CTL_IDENTIFY_LEN {
            bail!(
                "CtlIdentify reply of {} bytes, a version {VERSION} controller sends {CTL_IDENTIFY_LEN}",
                b.len()
            );
        }
        Ok(CtlIdentity {
            version: b[0],
            plan_id: u32::from_be_bytes([b[1], b[2], b[3], b[4]]),
            probes: b[5],
            prog_words: u16::from_be_bytes([b[6], b[7]]),
            max_samples: u16::from_be_bytes([b[8], b[9]]),
            readback_words: u16::from_be_bytes([b[10], b[11]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_known_value() {
        // CRC-8 (poly 0x07, init 0) of "123456789" is 0xF4.
        assert_eq!(crc8(b"123456789"), 0xF4);
    }

    #[test]
    fn frames_keep_their_bytes() {
        // pinned: the CRC's implementation may change, the wire may not
        // (the bytes the bitwise recurrence gave before the crc crate)
        assert_eq!(request(Cmd::Identify, &[]), [0xA5, 0x01, 0x00, 0x15]);
        assert_eq!(
            request(Cmd::Infer, &[0, 0, 1, 2, 3]),
            [0xA5, 0x07, 0x05, 0, 0, 1, 2, 3, 0xD6]
        );
        assert_eq!(response(0x02, &[7]), [0x5A, 0x02, 0x01, 0x07, 0xD6]);
        // byte by byte from any register value, as the RTL steps it
        for c in [0u8, 0x5a, 0xff] {
            let whole = CRC8.digest_with_initial(c);
            let mut d = whole.clone();
            d.update(b"oscillator");
            let stepped = b"oscillator".iter().fold(c, |c, &b| crc8_byte(c, b));
            assert_eq!(stepped, d.finalize());
        }
    }

    #[test]
    fn frames_round_trip_and_bad_crc_is_an_error() {
        let id = Identity {
            version: VERSION,
            design_id: 0xdeadbeef,
            inputs: 64,
            oscillators: 42,
            classes: 10,
            phase_bits: 16,
            weight_bits: 8,
            frac: 5,
            input_bits: 4,
            blocks: 0b101,
            steps: 0x0133,
        };
        let f = response(Cmd::Identify as u8, &id.to_bytes());
        let mut d = Decoder::default();
        d.push(&[0, 1, 2]);
        d.push(&f[..5]);
        assert_eq!(d.next_frame().unwrap(), None);
        d.push(&f[5..]);
        let r = d.next_frame().unwrap().unwrap();
        let back = Identity::from_bytes(&r.payload).unwrap();
        assert_eq!(back, id);
        assert!(back.writable(Block::U) && !back.writable(Block::W) && back.writable(Block::Osc));
        assert_eq!(
            write_weights_payload(Block::Osc, 0x010203, &[9]),
            vec![2, 1, 2, 3, 9]
        );
        assert_eq!(Block::from_u8(1), Some(Block::W));
        assert_eq!(Block::from_u8(3), None);
        assert_eq!(d.skipped, 3);
        let mut bad = f.clone();
        bad[6] ^= 0x10;
        d.push(&bad);
        assert!(format!("{}", d.next_frame().unwrap_err()).contains("bad CRC"));
        assert_eq!(
            run_payload(true, 40, -3, &[false, true]),
            vec![1, 0, 40, 0xff, 0xfd, 2]
        );
    }
}
