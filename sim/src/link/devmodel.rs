//! The reference model of the generated device's protocol engine (`pg_top`):
//! what it answers to any byte stream, and what its requests do to its
//! memories. The fuzz test feeds the same bytes to this model and to the
//! simulated RTL and requires the same replies, byte for byte.
//!
//! Byte-level behaviour (docs/protocol.md): outside a frame every byte but
//! [`SYNC_REQ`] is ignored; a frame is read whole (`cmd, len, payload, crc`),
//! then checked and executed; a gap of more than [`FRAME_GAP_BITS`](crate::link::protocol::FRAME_GAP_BITS) idle
//! bit times inside a frame drops it ([`DeviceModel::gap`]).
//!
//! The model has no time: it executes a request when its last byte
//! arrives, and its replies come in the device's order. What depends on
//! time, the caller says: the idle gaps ([`DeviceModel::gap`],
//! [`DeviceModel::idle`]) and when the device's executor is busy with a
//! request that takes long, a Run or an Infer ([`DeviceModel::set_busy`]):
//! the next request then waits in the second frame buffer, and one that
//! starts while it waits is ignored.

use crate::link::protocol::{
    crc8_byte, gap_drops_frame, phase_bytes, response, target_bytes, Block, Cmd, ErrCode, Status,
    ERROR, SYNC_REQ,
};

use crate::twin::learn::Learner;
use crate::twin::model::{HwModel, Twin};
use crate::twin::sched::Schedule;
use crate::twin::store::{SampleStore, StoreLayout};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Sync,
    Cmd,
    Len,
    Payload,
    Crc,
}

/// What the device's core holds between requests (a [`Twin`]'s state).
#[derive(Debug, Clone, PartialEq)]
pub struct CoreState {
    pub theta: Vec<u64>,
    pub phi: u64,
    pub field: Vec<i64>,
    pub beta: i64,
    pub target: Vec<bool>,
}

/// The device as the host sees it.
#[derive(Debug, Clone)]
pub struct DeviceModel {
    /// The parameters the device computes with: the generated model, as
    /// changed by WriteWeights.
    pub hw: HwModel,
    sched: Schedule,
    pub core: CoreState,
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
    /// The executor is busy (see [`DeviceModel::set_busy`]).
    busy: bool,
    /// A request received while it was: `cmd`, payload, CRC right.
    waiting: Option<(u8, Vec<u8>, bool)>,
    /// The frame being read started while a request waited: it is ignored.
    skip: bool,
    /// A learning design's engine: the shadow parameters (its `hw` is the
    /// device's parameters, as `hw` above).
    pub learner: Option<Learner>,
    /// A design with a sample store: what it holds.
    pub store: Option<SampleStore>,
}

fn bump(c: &mut u16) {
    *c = c.saturating_add(1);
}

impl DeviceModel {
    /// The device after reset, with `identity` its Identify payload.
    pub fn new(hw: &HwModel, identity: Vec<u8>) -> DeviceModel {
        let t = Twin::new(hw);
        let core = CoreState {
            theta: t.theta,
            phi: t.phi,
            field: t.field,
            beta: t.beta,
            target: t.target,
        };
        DeviceModel {
            hw: hw.clone(),
            sched: Schedule::new(hw),
            core,
            x: vec![0; hw.topo.inputs],
            identity,
            status: Status::default(),
            state: State::Sync,
            cmd: 0,
            len: 0,
            crc: 0,
            payload: Vec::new(),
            busy: false,
            waiting: None,
            skip: false,
            learner: hw.learn.clone().map(|spec| Learner::new(hw.clone(), spec)),
            store: StoreLayout::of(hw).map(SampleStore::new),
        }
    }

    /// Runs `f` on a twin of the current parameters and core state, and
    /// keeps the state it leaves.
    fn with_twin<R>(&mut self, f: impl FnOnce(&mut Twin) -> R) -> R {
        let mut t = Twin::new(&self.hw);
        let c = &mut self.core;
        t.theta = std::mem::take(&mut c.theta);
        t.phi = c.phi;
        t.field = std::mem::take(&mut c.field);
        t.beta = c.beta;
        t.target = std::mem::take(&mut c.target);
        let r = f(&mut t);
        c.theta = t.theta;
        c.phi = t.phi;
        c.field = t.field;
        c.beta = t.beta;
        c.target = t.target;
        r
    }

    /// Inside a frame: a pause of the frame timeout would drop it.
    pub fn mid_frame(&self) -> bool {
        self.state != State::Sync
    }

    /// The line stayed idle for longer than the frame timeout.
    pub fn idle(&mut self) {
        if self.mid_frame() {
            self.state = State::Sync;
            bump(&mut self.status.timeouts);
        }
    }

    /// The line stayed idle for `cycles` device clock cycles (at `cpb`
    /// cycles per bit) between the end of a byte's stop bit and the next
    /// start bit: more than [`FRAME_GAP_BITS`](crate::link::protocol::FRAME_GAP_BITS) bit times drop a partial frame.
    pub fn gap(&mut self, cycles: u64, cpb: u64) {
        if gap_drops_frame(cycles, cpb) {
            self.idle();
        }
    }

    /// Whether the device's executor is busy with the last request
    /// executed (a Run or an Infer settling, or its reply still leaving:
    /// the caller knows from the timing). While it is, the next complete
    /// request waits in the second frame buffer (not executed, no reply
    /// yet), and a request whose sync byte arrives while one waits is read
    /// to its end (its length byte says where), ignored, not answered, and
    /// counted in `overruns`. Clearing it executes the waiting request and
    /// returns its reply.
    pub fn set_busy(&mut self, busy: bool) -> Option<Vec<u8>> {
        self.busy = busy;
        if busy {
            return None;
        }
        let (cmd, payload, crc_ok) = self.waiting.take()?;
        self.cmd = cmd;
        self.payload = payload;
        Some(self.answer(crc_ok))
    }

    fn answer(&mut self, crc_ok: bool) -> Vec<u8> {
        if crc_ok {
            self.execute()
        } else {
            self.fail(ErrCode::BadCrc)
        }
    }

    /// One received byte; a reply when it completes a request.
    pub fn byte(&mut self, b: u8) -> Option<Vec<u8>> {
        match self.state {
            State::Sync => {
                if b == SYNC_REQ {
                    self.crc = 0;
                    self.skip = self.waiting.is_some();
                    if self.skip {
                        bump(&mut self.status.overruns);
                    }
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
                let crc_ok = b == self.crc;
                if self.skip {
                    return None;
                }
                if self.busy {
                    self.waiting = Some((self.cmd, std::mem::take(&mut self.payload), crc_ok));
                    return None;
                }
                return Some(self.answer(crc_ok));
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

    /// One learning step of `x` with `label`, as the engine runs it: the
    /// parameters updated, the core left in the step's last run; the
    /// free class.
    fn learn_sample(&mut self, x: &[u64], label: usize) -> usize {
        let l = self.learner.as_ref().expect("a learning design");
        let (st, class) = l.states(x, label);
        let classes = l.hw.topo.classes();
        let tg: Vec<bool> = (0..classes).map(|o| o == label).collect();
        self.finish_step(x, &st, &tg);
        class
    }

    /// A learning memory's step towards pattern `xi` (LearnPattern); the
    /// free state's agreement.
    fn learn_pattern(&mut self, x: &[u64], xi: &[bool]) -> i64 {
        let l = self.learner.as_ref().expect("a learning design");
        let (st, m) = l.pattern_states(x, xi);
        let tg: Vec<bool> = xi.iter().map(|&p| p == (m >= 0)).collect();
        self.finish_step(x, &st, &tg);
        m
    }

    /// The end of a learning step from its states `st`: the core left in
    /// the step's last run (nudged towards the targets `tg`), the update.
    fn finish_step(&mut self, x: &[u64], st: &crate::twin::learn::LearnStates, tg: &[bool]) {
        let l = self.learner.as_mut().expect("a learning design");
        let s = l.spec.clone();
        let mut t = Twin::new(&l.hw);
        let off = vec![false; tg.len()];
        let run = |t: &mut Twin, init: bool, steps: u32, beta: i64| {
            if init {
                t.load_input(x);
            }
            t.set_nudge_targets(beta, if beta != 0 { tg } else { &off });
            for _ in 0..steps {
                t.step();
            }
        };
        run(&mut t, true, s.t1, 0);
        if s.symmetric {
            run(&mut t, false, s.t2, s.beta);
            run(&mut t, true, s.t1, 0);
            run(&mut t, false, s.t2, -s.beta);
        } else {
            run(&mut t, false, s.t2, s.beta);
        }
        self.core = CoreState {
            theta: t.theta,
            phi: t.phi,
            field: t.field,
            beta: t.beta,
            target: t.target,
        };
        l.update(x, st);
        self.hw = l.hw.clone();
    }

    fn execute(&mut self) -> Vec<u8> {
        let m = &self.hw;
        let f = m.fmt;
        let (n, ni, classes) = (m.n(), m.topo.inputs, m.topo.classes());
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
                    && arg16(0) + len - 2 <= ni
                    && p[2..]
                        .iter()
                        .all(|&v| (v as u64) < (1u64 << f.input_bits.min(8))) =>
            {
                let off = arg16(0);
                for (k, &v) in p[2..].iter().enumerate() {
                    self.x[off + k] = v as u64;
                }
                bump(&mut self.status.ok);
                if c == Cmd::Infer && off + len - 2 == ni {
                    let x = self.x.clone();
                    let class = self.with_twin(|t| t.infer(&x)) as u8;
                    return self.ok(Cmd::Infer, &[class]);
                }
                self.ok(c, &[])
            }
            Some(Cmd::Run) if len == (5 + target_bytes(classes)).max(3) => {
                let steps = arg16(1);
                let beta = i16::from_be_bytes([p[3], p[4]]) as i64;
                let wb = f.weight_bits;
                let fits = wb >= 16 || (-(1i64 << (wb - 1))..(1i64 << (wb - 1))).contains(&beta);
                if steps == 0 || !fits {
                    return self.fail(ErrCode::BadArgument);
                }
                let x = self.x.clone();
                self.with_twin(|t| {
                    if p[0] & 1 == 1 {
                        t.load_input(&x);
                    }
                    t.beta = beta;
                    for (o, tg) in t.target.iter_mut().enumerate() {
                        *tg = p[5 + o / 8] >> (o % 8) & 1 == 1;
                    }
                    for _ in 0..steps {
                        t.step();
                    }
                });
                bump(&mut self.status.ok);
                self.ok(Cmd::Run, &[])
            }
            Some(Cmd::ReadClass) if len == 0 => {
                bump(&mut self.status.ok);
                let c = self.with_twin(|t| t.class()) as u8;
                self.ok(Cmd::ReadClass, &[c])
            }
            Some(Cmd::ReadPhases) if len == 3 => {
                let (off, count) = (arg16(0), p[2] as usize);
                let pb = phase_bytes(f.phase_bits);
                if count == 0 || off + count > n || count * pb > 255 {
                    return self.fail(ErrCode::BadArgument);
                }
                let mut out = Vec::with_capacity(count * pb);
                for &t in &self.core.theta[off..off + count] {
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
            // only designs with a writable memory know WriteWeights
            Some(Cmd::WriteWeights) if Schedule::blocks_mask(m) == 0 => {
                self.fail(ErrCode::UnknownCmd)
            }
            Some(Cmd::WriteWeights) => {
                let block = p
                    .first()
                    .and_then(|&b| Block::from_u8(b))
                    .filter(|&b| Schedule::writable(m, b));
                let Some(b) = block.filter(|_| len > 4) else {
                    return self.fail(ErrCode::BadArgument);
                };
                let off = u32::from_be_bytes([0, p[1], p[2], p[3]]) as usize;
                let wbytes = self.sched.word_bytes(m, b);
                let words = (len - 4) / wbytes;
                if !(len - 4).is_multiple_of(wbytes) || off + words > self.sched.block_words(m, b) {
                    return self.fail(ErrCode::BadArgument);
                }
                self.sched.apply(&mut self.hw, b, off, &p[4..]);
                if let Some(l) = self.learner.as_mut() {
                    l.host_write(b, off, &p[4..]);
                }
                bump(&mut self.status.ok);
                self.ok(Cmd::WriteWeights, &[])
            }
            Some(Cmd::Learn | Cmd::ReadWeights | Cmd::LearnPattern) if self.learner.is_none() => {
                self.fail(ErrCode::UnknownCmd)
            }
            // a learning memory learns patterns, a classifier labels
            Some(Cmd::Learn) if m.learn.as_ref().is_some_and(|l| l.pattern) => {
                self.fail(ErrCode::UnknownCmd)
            }
            Some(Cmd::LearnPattern) if !m.learn.as_ref().is_some_and(|l| l.pattern) => {
                self.fail(ErrCode::UnknownCmd)
            }
            Some(Cmd::LearnPattern) => {
                let Ok(xi) = crate::twin::hebb::pattern_of_payload(&p, n) else {
                    return self.fail(ErrCode::BadArgument);
                };
                let x = self.x.clone();
                let a = self.learn_pattern(&x, &xi);
                bump(&mut self.status.ok);
                self.ok(Cmd::LearnPattern, &(a as i16).to_be_bytes())
            }
            Some(Cmd::Learn) if len == 1 && (p[0] as usize) < classes => {
                let x = self.x.clone();
                let class = self.learn_sample(&x, p[0] as usize);
                bump(&mut self.status.ok);
                self.ok(Cmd::Learn, &[class as u8])
            }
            Some(Cmd::Imprint) => {
                let Some(spec) = self.hw.hebb else {
                    return self.fail(ErrCode::UnknownCmd);
                };
                let Ok(xi) = crate::twin::hebb::pattern_of_payload(&p, n) else {
                    return self.fail(ErrCode::BadArgument);
                };
                crate::twin::hebb::imprint(&mut self.hw, &spec, &xi);
                bump(&mut self.status.ok);
                self.ok(Cmd::Imprint, &[])
            }
            Some(Cmd::StoreSample | Cmd::Epoch) if self.store.is_none() => {
                self.fail(ErrCode::UnknownCmd)
            }
            Some(Cmd::StoreSample)
                if len >= 6
                    && p[5..]
                        .iter()
                        .all(|&v| (v as u64) < (1u64 << f.input_bits.min(8))) =>
            {
                let xs: Vec<u64> = p[5..].iter().map(|&v| v as u64).collect();
                let st = self.store.as_mut().expect("checked above");
                if st
                    .write(arg16(0), p[2] as usize, classes, arg16(3), &xs)
                    .is_err()
                {
                    return self.fail(ErrCode::BadArgument);
                }
                bump(&mut self.status.ok);
                self.ok(Cmd::StoreSample, &[])
            }
            Some(Cmd::Epoch) if len == 6 => {
                let (count, first, stride) = (arg16(0), arg16(2), arg16(4));
                let st = self.store.take().expect("checked above");
                if st.layout.check_epoch(count, first, stride).is_err() {
                    self.store = Some(st);
                    return self.fail(ErrCode::BadArgument);
                }
                let mut correct = 0u16;
                for k in 0..count {
                    let i = crate::twin::store::epoch_index(first, stride, count, k);
                    // the store's copy writes the sample into the input RAM
                    self.x.clone_from(&st.x[i]);
                    let x = self.x.clone();
                    correct += (self.learn_sample(&x, st.labels[i]) == st.labels[i]) as u16;
                }
                self.store = Some(st);
                bump(&mut self.status.ok);
                self.ok(Cmd::Epoch, &correct.to_be_bytes())
            }
            Some(Cmd::ReadWeights) if len == 5 => {
                let Some(b) = Block::from_u8(p[0]).filter(|&b| Schedule::writable(m, b)) else {
                    return self.fail(ErrCode::BadArgument);
                };
                let off = u32::from_be_bytes([0, p[1], p[2], p[3]]) as usize;
                let count = p[4] as usize;
                let wbytes = self.sched.word_bytes(m, b);
                if count == 0 || off + count > self.sched.block_words(m, b) || count * wbytes > 255
                {
                    return self.fail(ErrCode::BadArgument);
                }
                let img = self.sched.image(&self.hw, b);
                let out = img[off * wbytes..(off + count) * wbytes].to_vec();
                bump(&mut self.status.ok);
                self.ok(Cmd::ReadWeights, &out)
            }
            Some(_) => self.fail(ErrCode::BadArgument),
            None => self.fail(ErrCode::UnknownCmd),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::link::protocol::{request, FRAME_GAP_BITS};
    use crate::onn::net::Params;
    use crate::twin::quant::quantize;

    fn model() -> DeviceModel {
        let cfg = Config::default_config();
        let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
        DeviceModel::new(&hw, vec![7])
    }

    fn send(m: &mut DeviceModel, f: &[u8]) -> Option<Vec<u8>> {
        f.iter().fold(None, |r, &b| r.or(m.byte(b)))
    }

    #[test]
    fn a_gap_longer_than_the_timeout_drops_the_frame() {
        let mut m = model();
        let f = request(Cmd::Identify, &[]);
        for (gap, kept) in [
            (FRAME_GAP_BITS * 104, true),
            (FRAME_GAP_BITS * 104 + 1, false),
        ] {
            send(&mut m, &f[..2]);
            m.gap(gap, 104);
            assert_eq!(send(&mut m, &f[2..]).is_some(), kept, "gap {gap}");
        }
        assert_eq!(m.status.timeouts, 1);
        // between frames a gap drops nothing
        m.gap(1 << 20, 104);
        assert_eq!(m.status.timeouts, 1);
    }

    #[test]
    fn a_third_request_is_read_to_its_end_ignored_and_counted() {
        let mut m = model();
        let id = request(Cmd::Identify, &[]);
        m.set_busy(true);
        assert_eq!(send(&mut m, &id), None, "waits");
        // a third: a WriteInput holding an Identify in its payload
        let mut p = vec![0, 0];
        p.extend(&id);
        assert_eq!(send(&mut m, &request(Cmd::WriteInput, &p)), None);
        assert!(!m.mid_frame(), "read to its end");
        assert_eq!(m.status.overruns, 1);
        assert_eq!(m.set_busy(false), Some(response(Cmd::Identify as u8, &[7])));
        assert_eq!(m.set_busy(false), None);
        assert_eq!(m.x, vec![0; 64], "nothing written");
        assert_eq!(m.status.ok, 1);
    }
}
