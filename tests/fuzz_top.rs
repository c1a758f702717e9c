//! Fuzz the generated device over its UART pins: random, corrupted,
//! truncated and oversized frames, garbage and bad stop bits go to the
//! Verilated `pg_top` and to the reference model (`devmodel`); every reply
//! must be the same byte for byte, a valid Identify must answer after every
//! burst, and the Status counters must count what was refused or dropped.
//! One burst in 40 puts three requests in flight: a long Run, a request
//! that waits for it, and a burst that arrives while both buffers are
//! taken, which the device must read to its end, ignore and count.
//!
//! `PHASEGEN_FUZZ_FRAMES` sets the number of frames (default 3000; the
//! `make fuzz` target runs 100,000), `PHASEGEN_FUZZ_SEED` the seed.

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::{Config, ParamMemory};
use phasegen_sim::data::load_dir;
use phasegen_sim::link::devmodel::DeviceModel;
use phasegen_sim::link::protocol::{self, Block, Cmd, Status, FRAME_GAP_BITS, SYNC_REQ};
use phasegen_sim::onn::net::Params;
use phasegen_sim::rng::Rng;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;
use std::path::Path;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

/// The design's sizes, and per block its words and word bytes (writable
/// or not: the fuzz addresses every block).
struct Shape {
    inputs: usize,
    n: usize,
    classes: usize,
    blocks: Vec<(Block, usize, usize)>,
    writable: bool,
}

/// A WriteWeights frame: mostly whole words inside a block, sometimes
/// partial, past the end, or for an unknown block.
fn write_weights(r: &mut Rng, sh: &Shape) -> Vec<u8> {
    let (blk, words, wb) = sh.blocks[r.below(sh.blocks.len() as u64) as usize];
    let count = 1 + r.below(3) as usize;
    let off = r.below(words as u64 + 2) as usize;
    let mut bytes = count * wb;
    if r.below(8) == 0 {
        bytes = r.below(bytes as u64 + 2) as usize;
    }
    // small values, so the dynamics stay tame; sometimes anything
    let data: Vec<u8> = (0..bytes)
        .map(|_| {
            if r.below(6) == 0 {
                r.below(256) as u8
            } else {
                r.below(8) as u8
            }
        })
        .collect();
    let mut p = protocol::write_weights_payload(blk, off, &data);
    if r.below(12) == 0 {
        p[0] = 3 + r.below(253) as u8;
    }
    protocol::request(Cmd::WriteWeights, &p)
}

/// One request frame with random, mostly plausible arguments (some out of range).
fn request(r: &mut Rng, sh: &Shape) -> Vec<u8> {
    let (inputs, n, classes) = (sh.inputs, sh.n, sh.classes);
    let pick = r.below(if sh.writable { 115 } else { 102 });
    let small = |r: &mut Rng, hi: u64| r.below(hi) as u8;
    match pick {
        0..=9 => protocol::request(Cmd::Identify, &[]),
        10..=29 => {
            let off = r.below(inputs as u64 + 4) as u16;
            let len = r.below(12) as usize;
            let mut p = off.to_be_bytes().to_vec();
            // input values: mostly in range (4 bits), sometimes not
            p.extend((0..len).map(|_| if r.below(10) == 0 { 0xff } else { small(r, 16) }));
            protocol::request(Cmd::WriteInput, &p)
        }
        30..=44 => {
            let init = r.below(2) == 1;
            let steps = if r.below(20) == 0 {
                0
            } else {
                1 + r.below(2) as u16
            };
            let beta = if r.below(8) == 0 {
                r.below(65536) as i64 - 32768
            } else {
                r.below(64) as i64 - 32
            };
            let target: Vec<bool> = (0..classes).map(|_| r.below(4) == 0).collect();
            protocol::request(Cmd::Run, &protocol::run_payload(init, steps, beta, &target))
        }
        45..=54 => protocol::request(Cmd::ReadClass, &[]),
        55..=69 => {
            let off = r.below(n as u64 + 3) as u16;
            let count = r.below(8) as u8;
            let mut p = off.to_be_bytes().to_vec();
            p.push(count);
            protocol::request(Cmd::ReadPhases, &p)
        }
        70..=74 => protocol::request(Cmd::Status, &[]),
        75..=79 => {
            // Infer: mostly the whole input (runs and answers the class), or a chunk
            let (off, len) = if r.below(3) == 0 {
                let off = r.below(inputs as u64) as usize;
                (off, 1 + r.below((inputs - off) as u64) as usize)
            } else {
                (0, inputs)
            };
            let mut p = (off as u16).to_be_bytes().to_vec();
            p.extend((0..len).map(|_| small(r, 16)));
            protocol::request(Cmd::Infer, &p)
        }
        100.. => write_weights(r, sh),
        80..=89 => {
            // a known command with a wrong length
            let cmd = [
                Cmd::Identify,
                Cmd::Run,
                Cmd::ReadClass,
                Cmd::ReadPhases,
                Cmd::Status,
            ][r.below(5) as usize];
            let len = r.below(6) as usize;
            let p: Vec<u8> = (0..len).map(|_| r.below(256) as u8).collect();
            protocol::request(cmd, &p)
        }
        _ => {
            // an unknown command, sometimes with a long payload
            let mut cmd = r.below(256) as u8;
            if (1..=8).contains(&cmd) {
                cmd += 0x40;
            }
            let len = if r.below(4) == 0 {
                255
            } else {
                r.below(8) as usize
            };
            let p: Vec<u8> = (0..len).map(|_| r.below(256) as u8).collect();
            let mut f = vec![SYNC_REQ, cmd, len as u8];
            f.extend(&p);
            f.push(protocol::crc8(&f[1..]));
            f
        }
    }
}

/// A burst: a frame, maybe damaged (a flipped bit, cut short, garbage
/// around it), and whether the byte at each position gets a bad stop bit.
fn burst(r: &mut Rng, sh: &Shape) -> (Vec<u8>, Vec<bool>) {
    let mut f = request(r, sh);
    match r.below(10) {
        0 | 1 => {
            // flip one bit anywhere after the sync byte
            let k = 1 + r.below(f.len() as u64 - 1) as usize;
            f[k] ^= 1 << r.below(8);
        }
        2 => {
            // cut short
            let k = 1 + r.below(f.len() as u64 - 1) as usize;
            f.truncate(k);
        }
        3 => {
            // garbage before
            let mut g: Vec<u8> = (0..r.below(6)).map(|_| r.below(256) as u8).collect();
            g.extend(f);
            f = g;
        }
        _ => {}
    }
    let bad: Vec<bool> = f.iter().map(|_| r.below(400) == 0).collect();
    (f, bad)
}

/// Runs the simulation until a whole reply has arrived.
fn reply(top: &mut TopSim, budget: u64) -> Vec<u8> {
    let mut dec = protocol::Decoder::default();
    let mut got = Vec::new();
    let mut spent = 0;
    loop {
        top.run(200);
        spent += 200;
        let bytes: Vec<u8> = top.from_device.drain(..).collect();
        got.extend(&bytes);
        dec.push(&bytes);
        if dec
            .next_frame()
            .expect("the device sent a bad CRC")
            .is_some()
        {
            return got;
        }
        assert!(
            spent < budget,
            "no reply within {budget} cycles (got {got:02x?})"
        );
    }
}

/// Puts one byte on the wire (with a bad stop bit if asked; a stream has
/// none: the byte is sent whole) and waits until it and anything the device
/// sends meanwhile have passed.
fn send_byte(top: &mut TopSim, b: u8, bad_stop: bool, cpb: u64) {
    top.bad_stop_next = bad_stop && !top.is_axis();
    top.to_device.push_back(b);
    while !top.idle() {
        top.run(cpb);
    }
    top.run(2);
}

/// Three requests in flight: a Run long enough to outlast the next two on
/// the wire and a frame timeout, a request `b` that waits for it, and a
/// burst `c` (maybe damaged) that arrives while both buffers are taken:
/// the device answers the Run and `b`, and reads `c` to its end without
/// answering it (the model with `set_busy`). Returns the replies and the
/// bytes sent with a bad stop bit.
#[allow(clippy::too_many_arguments)]
fn three_in_flight(
    r: &mut Rng,
    sh: &Shape,
    top: &mut TopSim,
    model: &mut DeviceModel,
    cpb: u64,
    step_cycles: u64,
    budget: u64,
    what: &str,
) -> (u64, u64) {
    let b = request(r, sh);
    let (c, c_bad) = burst(r, sh);
    // each byte takes at most 11 bit times and 2 cycles here (send_byte);
    // a truncated `c` times out during the Run, as in the model
    let wire = (b.len() + c.len() + 2) as u64 * 12 * cpb + (FRAME_GAP_BITS + 20) * cpb;
    let steps = (wire / step_cycles + 2).min(65_535) as u16;
    let target: Vec<bool> = (0..sh.classes).map(|_| r.below(4) == 0).collect();
    let beta = r.below(16) as i64 - 8;
    let a = protocol::request(
        Cmd::Run,
        &protocol::run_payload(r.below(2) == 1, steps, beta, &target),
    );
    let mut want = Vec::new();
    for &x in &a {
        send_byte(top, x, false, cpb);
        want.extend(model.byte(x).unwrap_or_default());
    }
    model.set_busy(true);
    for &x in &b {
        send_byte(top, x, false, cpb);
        assert_eq!(model.byte(x), None);
    }
    for (&x, &bad) in c.iter().zip(&c_bad) {
        let bad = bad && !top.is_axis();
        send_byte(top, x, bad, cpb);
        if bad {
            model.status.framing_errors = model.status.framing_errors.saturating_add(1);
        } else {
            assert_eq!(
                model.byte(x),
                None,
                "{what}: a request answered while two were in flight"
            );
        }
    }
    if model.mid_frame() {
        model.idle();
    }
    want.extend(model.set_busy(false).expect("the second request waits"));
    assert!(
        top.from_device.is_empty(),
        "{what}: the Run ended before the third request was sent (steps {steps})"
    );
    let mut got = Vec::new();
    let mut spent = 0;
    while got.len() < want.len() {
        top.run(200);
        spent += 200;
        got.extend(top.from_device.drain(..));
        assert!(spent < budget, "{what}: got {got:02x?}, want {want:02x?}");
    }
    assert_eq!(
        got, want,
        "{what}: the device replied {got:02x?}, the model {want:02x?}; third burst {c:02x?}"
    );
    let bad = if top.is_axis() {
        0
    } else {
        c_bad.iter().filter(|&&b| b).count() as u64
    };
    (2, bad)
}

/// Sends `f` to both and requires the same reply.
fn same_reply(top: &mut TopSim, model: &mut DeviceModel, f: &[u8], what: &str) {
    top.to_device.extend(f);
    let want = f.iter().fold(None, |_, &b| model.byte(b)).unwrap();
    let got = reply(top, 2_000_000);
    assert_eq!(got, want, "{what}");
}

#[test]
fn fuzzed_frames_get_the_reference_replies() {
    fuzz(Config::default_config(), "fuzz-top");
}

/// The same on a design whose parameters are writable: WriteWeights frames
/// of every block (and unknown ones) are fuzzed too, and after every 500
/// bursts free and nudged runs of a sample must read back the model's
/// phases, so no memory outside the addressed blocks changed.
#[test]
fn fuzzed_frames_on_writable_parameters_get_the_reference_replies() {
    let mut cfg = Config::default_config();
    cfg.network.layers = vec![6, 10];
    cfg.hardware.lanes = 2;
    cfg.hardware.params = ParamMemory::Ram;
    fuzz(cfg, "fuzz-top-params");
}

/// The same on AXI4-Stream byte ports (`hardware.interface = "axis"`) with
/// both streams stalling at random: the replies and counters are the
/// model's (no framing errors: a stream has no stop bits).
#[test]
fn fuzzed_frames_over_axi4_stream_get_the_reference_replies() {
    let mut cfg = Config::default_config();
    cfg.hardware.interface = phasegen_sim::config::Interface::Axis;
    fuzz_n(cfg, "fuzz-top-axis", env("PHASEGEN_FUZZ_FRAMES", 3000) / 3);
}

fn fuzz(cfg: Config, scratch: &str) {
    fuzz_n(cfg, scratch, env("PHASEGEN_FUZZ_FRAMES", 3000));
}

fn fuzz_n(mut cfg: Config, scratch: &str, frames: u64) {
    let seed = env("PHASEGEN_FUZZ_SEED", 1);
    // 4 clocks per bit: the fastest UART the design allows, so many frames fit
    cfg.target.baud = cfg.target.clock_hz / 4;
    cfg.validate().unwrap();
    let data = load_dir(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits-8x8"
    )))
    .unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let id = phasegen_hdl::top::identity(&hw, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
    let built = build_top(&cfg, &hw, &scratch_dir(scratch)).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let mut model = DeviceModel::new(&hw, id.to_bytes());
    let (inputs, n, classes) = (hw.topo.inputs, hw.n(), hw.topo.classes());
    let sched = Schedule::new(&hw);
    let sh = Shape {
        inputs,
        n,
        classes,
        blocks: Block::ALL
            .iter()
            .map(|&b| (b, sched.block_words(&hw, b), sched.word_bytes(&hw, b)))
            .collect(),
        writable: Schedule::blocks_mask(&hw) != 0,
    };
    let x0: Vec<u8> = hw
        .inputs_of_image(data.test.image(1))
        .iter()
        .map(|&v| v as u8)
        .collect();
    let idle = FRAME_GAP_BITS * cpb + 20 * cpb;
    let step_cycles = sched.step_cycles() as u64;
    let budget = 2_000_000;

    // start from a defined state: an input and a run from the initial phases
    let mut start = vec![0u8, 0];
    start.extend(
        hw.inputs_of_image(data.test.image(0))
            .iter()
            .map(|&v| v as u8),
    );
    let run = protocol::run_payload(true, 2, 0, &vec![false; classes]);
    for f in [
        protocol::request(Cmd::WriteInput, &start),
        protocol::request(Cmd::Run, &run),
    ] {
        top.to_device.extend(&f);
        let want = f.iter().fold(None, |_, &b| model.byte(b)).unwrap();
        assert_eq!(reply(&mut top, budget), want);
    }

    let mut rng = Rng::new(seed);
    let mut replies = 0u64;
    let mut writes = 0u64;
    let mut dropped = 0u64;
    let mut overrun_bursts = 0u64;
    // a bar on a terminal (`make fuzz` runs 100,000), nothing in CI
    let bar = phasegen::progress::bar("fuzz", "bursts", frames);
    for k in 0..frames {
        bar.inc(1);
        let (bytes, bad) = if rng.below(40) == 0 {
            let what = format!("frame {k} (seed {seed}), three in flight");
            let (r, d) = three_in_flight(
                &mut rng,
                &sh,
                &mut top,
                &mut model,
                cpb,
                step_cycles,
                budget,
                &what,
            );
            replies += r;
            dropped += d;
            overrun_bursts += 1;
            (Vec::new(), Vec::new())
        } else {
            burst(&mut rng, &sh)
        };
        for (&b, &bad_stop) in bytes.iter().zip(&bad) {
            let bad_stop = bad_stop && !top.is_axis();
            // wait for the byte to be on the wire and the line idle again
            send_byte(&mut top, b, bad_stop, cpb);
            if bad_stop {
                model.status.framing_errors = model.status.framing_errors.saturating_add(1);
                dropped += 1;
                continue;
            }
            if let Some(want) = model.byte(b) {
                let got = reply(&mut top, budget);
                assert_eq!(
                    got, want,
                    "frame {k} (seed {seed}): the device replied {got:02x?}, the model {want:02x?}; burst {bytes:02x?}"
                );
                replies += 1;
                writes += (got[1] == Cmd::WriteWeights as u8) as u64;
            }
        }
        if model.mid_frame() {
            top.run(idle);
            model.idle();
        }
        assert!(
            top.from_device.is_empty(),
            "frame {k} (seed {seed}): unexpected bytes {:02x?}",
            top.from_device
        );
        // every 500 bursts: Identify still answers, and the counters agree
        if k % 500 == 499 || k + 1 == frames {
            for cmd in [Cmd::Identify, Cmd::Status] {
                let f = protocol::request(cmd, &[]);
                same_reply(
                    &mut top,
                    &mut model,
                    &f,
                    &format!("after frame {k} (seed {seed}): {cmd:?}"),
                );
            }
            // a sample free, then nudged, every phase read back: the device
            // computes with the parameters the model says it holds
            let mut p = vec![0, 0];
            p.extend(&x0);
            let target: Vec<bool> = (0..classes).map(|o| o == 3).collect();
            let ph = protocol::request(Cmd::ReadPhases, &[0, 0, n as u8]);
            for f in [
                protocol::request(Cmd::WriteInput, &p),
                protocol::request(Cmd::Run, &protocol::run_payload(true, 3, 0, &target)),
                ph.clone(),
                protocol::request(Cmd::Run, &protocol::run_payload(false, 2, 5, &target)),
                ph,
            ] {
                same_reply(
                    &mut top,
                    &mut model,
                    &f,
                    &format!("check after frame {k} (seed {seed})"),
                );
            }
        }
    }
    bar.finish_and_clear();
    let s: Status = model.status;
    eprintln!("{frames} bursts (seed {seed}): {replies} replies ({writes} accepted writes), {dropped} bytes with bad stop bits, {overrun_bursts} bursts with three requests in flight; {s:?}");
    assert!(
        !sh.writable || frames < 100 || writes > 0,
        "no write was accepted"
    );
    // the fuzz reached every kind of refusal
    assert!(
        s.bad_crc > 0 && s.unknown_cmd > 0 && s.bad_argument > 0 && s.timeouts > 0,
        "{s:?}"
    );
    assert!(
        frames < 1000 || s.framing_errors > 0 || top.is_axis(),
        "{s:?}"
    );
    assert!(frames < 1000 || s.overruns > 0, "{s:?}");
}
