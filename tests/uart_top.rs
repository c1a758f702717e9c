//! The generated top level over its UART pins, bit by bit at the configured
//! baud: Identify, inference and error replies, against the twin.

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::link::devmodel::DeviceModel;
use phasegen_sim::link::protocol::{
    self, Cmd, Decoder, Identity, Response, Status, FRAME_GAP_BITS,
};
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::quantize;
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");

/// The default design (untrained weights) as `pg_top` behind a bit-level
/// UART at its clocks per bit, with its device model.
fn default_top(cpb: Option<u64>, scratch: &str) -> (HwModel, TopSim, DeviceModel, u64) {
    let mut cfg = Config::default_config();
    if let Some(c) = cpb {
        cfg.target.baud = cfg.target.clock_hz / c;
    }
    let data = load_dir(Path::new(DATA)).unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let built = build_top(&cfg, &hw, &scratch_dir(scratch)).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let top = TopSim::new(&built, cpb).unwrap();
    let id = phasegen_hdl::top::identity(&hw, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
    let model = DeviceModel::new(&hw, id.to_bytes());
    (hw, top, model, cpb)
}

/// Runs `cycles` and returns what the device sent meanwhile.
fn collect(top: &mut TopSim, cycles: u64) -> Vec<u8> {
    top.run(cycles);
    top.from_device.drain(..).collect()
}

/// Queues `bytes` with the line idle for exactly `gap` clock cycles between
/// the end of byte `at - 1`'s stop bit and byte `at`'s start bit.
fn send_with_gap(top: &mut TopSim, bytes: &[u8], at: usize, gap: u64) {
    top.to_device.extend(&bytes[..at]);
    while !top.to_device.is_empty() {
        top.run(1);
    }
    top.hold_line(gap);
    top.to_device.extend(&bytes[at..]);
}

fn exchange(top: &mut TopSim, bytes: &[u8], max_cycles: u64) -> Response {
    top.to_device.extend(bytes);
    let mut dec = Decoder::default();
    let mut spent = 0;
    loop {
        top.run(1000);
        spent += 1000;
        dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
        if let Some(r) = dec.next_frame().unwrap() {
            return r;
        }
        assert!(spent < max_cycles, "no reply within {max_cycles} cycles");
    }
}

#[test]
fn top_level_answers_identify_infer_and_errors() {
    let cfg = Config::default_config();
    let data = load_dir(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits-8x8"
    )))
    .unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let built = build_top(&cfg, &hw, &scratch_dir("uart-top-default")).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let budget = 2_000_000;

    let r = exchange(&mut top, &protocol::request(Cmd::Identify, &[]), budget);
    assert_eq!(r.cmd, Cmd::Identify as u8);
    let id = Identity::from_bytes(&r.payload).unwrap();
    assert_eq!(id.design_id, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
    assert_eq!((id.inputs, id.oscillators, id.classes), (64, 42, 10));

    for s in 0..3 {
        let x = hw.inputs_of_image(data.test.image(s));
        let mut p = vec![0, 0];
        p.extend(x.iter().map(|&v| v as u8));
        let r = exchange(&mut top, &protocol::request(Cmd::WriteInput, &p), budget);
        assert_eq!(r.cmd, Cmd::WriteInput as u8, "{r:?}");
        let run = protocol::run_payload(true, hw.steps as u16, 0, &[false; 10]);
        let r = exchange(&mut top, &protocol::request(Cmd::Run, &run), budget);
        assert_eq!(r.cmd, Cmd::Run as u8, "{r:?}");
        let r = exchange(&mut top, &protocol::request(Cmd::ReadClass, &[]), budget);
        let mut twin = Twin::new(&hw);
        assert_eq!(r.payload, vec![twin.infer(&x) as u8], "sample {s}");
        // every phase, read back over the UART
        let r = exchange(
            &mut top,
            &protocol::request(Cmd::ReadPhases, &[0, 0, 42]),
            budget,
        );
        let phases: Vec<u64> = r
            .payload
            .chunks(2)
            .map(|c| (c[0] as u64) << 8 | c[1] as u64)
            .collect();
        assert_eq!(phases, twin.theta, "sample {s}");
        // the comparison sees a single flipped bit of a single phase
        let mut wrong = twin.theta.clone();
        wrong[5] ^= 1;
        assert_ne!(phases, wrong);
    }

    // errors: bad CRC, unknown command, bad arguments; the device keeps answering
    let mut bad = protocol::request(Cmd::Identify, &[]);
    *bad.last_mut().unwrap() ^= 1;
    let r = exchange(&mut top, &bad, budget);
    assert_eq!((r.cmd, r.payload.clone()), (protocol::ERROR, vec![1]));
    let mut unk = vec![protocol::SYNC_REQ, 0x33, 0];
    unk.push(protocol::crc8(&unk[1..]));
    let r = exchange(&mut top, &unk, budget);
    assert_eq!(r.payload, vec![2]);
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteInput, &[0, 63, 1, 2]),
        budget,
    );
    assert_eq!(r.payload, vec![3], "write past the last input");
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteInput, &[0, 0, 16]),
        budget,
    );
    assert_eq!(r.payload, vec![3], "input value above input_bits");
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::Run, &protocol::run_payload(true, 0, 0, &[false; 10])),
        budget,
    );
    assert_eq!(r.payload, vec![3], "zero steps");
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::ReadPhases, &[0, 40, 3]),
        budget,
    );
    assert_eq!(r.payload, vec![3], "read past the last oscillator");
    // a truncated frame is dropped after the timeout; the next one is answered
    top.to_device
        .extend(&[protocol::SYNC_REQ, Cmd::WriteInput as u8, 10, 0]);
    top.run(60 * cpb * 10);
    top.from_device.clear();
    let r = exchange(&mut top, &protocol::request(Cmd::Identify, &[]), budget);
    assert_eq!(r.cmd, Cmd::Identify as u8);
    assert_eq!(top.framing_errors, 0);
}

/// Identify reports the steps an Infer runs (`hardware.steps = 0`: the
/// float settle `t1 · eps` in hardware steps of `ε`), and an Infer runs
/// exactly that many: its class and every phase are the twin's after
/// `steps` steps. `-- --nocapture` prints the Identify reply.
#[test]
fn identify_reports_the_steps_of_an_infer() {
    let (hw, mut top, _, _) = default_top(None, "uart-top-default");
    let cfg = Config::default_config();
    let r = exchange(&mut top, &protocol::request(Cmd::Identify, &[]), 2_000_000);
    assert_eq!(r.payload.len(), protocol::IDENTIFY_LEN);
    let id = Identity::from_bytes(&r.payload).unwrap();
    eprintln!(
        "Identify of the default design: {:02x?} = {id:?}",
        protocol::response(r.cmd, &r.payload)
    );
    assert_eq!(id.version, protocol::VERSION);
    let float_settle = (cfg.train.t1 as f64 * cfg.train.eps / hw.fmt.eps() - 1e-9).ceil();
    assert_eq!(id.steps as f64, float_settle);
    assert_eq!(
        (id.steps, hw.steps),
        (51, 51),
        "the default design's settle"
    );
    let data = load_dir(Path::new(DATA)).unwrap();
    let x = hw.inputs_of_image(data.test.image(2));
    let mut p = vec![0, 0];
    p.extend(x.iter().map(|&v| v as u8));
    let r = exchange(&mut top, &protocol::request(Cmd::Infer, &p), 2_000_000);
    let mut twin = Twin::new(&hw);
    twin.load_input(&x);
    for _ in 0..id.steps {
        twin.step();
    }
    assert_eq!(r.payload, vec![twin.class() as u8]);
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::ReadPhases, &[0, 0, 42]),
        2_000_000,
    );
    let phases: Vec<u64> = r
        .payload
        .chunks(2)
        .map(|c| (c[0] as u64) << 8 | c[1] as u64)
        .collect();
    assert_eq!(phases, twin.theta, "the phases after Identify's steps");
    twin.step();
    assert_ne!(phases, twin.theta, "one step more is told apart");
}

/// The frame timeout is exact in the device's clock cycles: the line idle
/// for `FRAME_GAP_BITS · cpb` cycles between two bytes of a request (from
/// the end of a stop bit to the next start bit) keeps the request, one
/// cycle more drops it (counted in `timeouts`), wherever the gap is; the
/// device model agrees. At the default 104 clocks per bit and at 4.
#[test]
fn frame_timeout_is_forty_idle_bit_times() {
    for (cpb, scratch) in [(None, "uart-top-default"), (Some(4), "uart-top-cpb4")] {
        let (_, mut top, mut model, cpb) = default_top(cpb, scratch);
        let limit = FRAME_GAP_BITS * cpb;
        let identify = protocol::request(Cmd::Identify, &[]);
        let mut timeouts = 0;
        for at in 1..identify.len() {
            for gap in [limit - 1, limit, limit + 1, limit + cpb / 2] {
                send_with_gap(&mut top, &identify, at, gap);
                let got = collect(&mut top, limit + 300 * cpb);
                let mut want = None;
                for (k, &b) in identify.iter().enumerate() {
                    if k == at {
                        model.gap(gap, cpb);
                    }
                    want = want.or(model.byte(b));
                }
                let kept = gap <= limit;
                assert_eq!(
                    got.is_empty(),
                    !kept,
                    "cpb {cpb}: a gap of {gap} cycles before byte {at}: {got:02x?}"
                );
                assert_eq!(
                    got,
                    want.unwrap_or_default(),
                    "cpb {cpb}, gap {gap}, byte {at}"
                );
                timeouts += !kept as u16;
                // a dropped request leaves the device in sync: the next is answered
                let r = exchange(&mut top, &identify, 2_000_000);
                let m = identify.iter().fold(None, |_, &b| model.byte(b));
                assert_eq!(Some(protocol::response(r.cmd, &r.payload)), m);
            }
        }
        let r = exchange(&mut top, &protocol::request(Cmd::Status, &[]), 2_000_000);
        let s = Status::from_bytes(&r.payload).unwrap();
        assert_eq!(s.timeouts, timeouts);
        let want = protocol::request(Cmd::Status, &[])
            .iter()
            .fold(None, |_, &b| model.byte(b))
            .unwrap();
        assert_eq!(protocol::response(r.cmd, &r.payload), want);
        eprintln!(
            "cpb {cpb}: idle gaps of {limit} cycles ({FRAME_GAP_BITS} bit times) keep a request, {} drop it; {s:?}",
            limit + 1
        );
    }
}

/// Two requests may be in flight: a third that starts while one executes
/// and the other waits is read to its end (its length byte says where),
/// not stored, not answered, and counted in `overruns`; a request hidden
/// in its payload is not taken for one. The device model agrees.
#[test]
fn a_third_request_in_flight_is_ignored_and_counted() {
    let (hw, mut top, mut model, cpb) = default_top(None, "uart-top-default");
    let data = load_dir(Path::new(DATA)).unwrap();
    let x = hw.inputs_of_image(data.test.image(0));
    let mut p = vec![0, 0];
    p.extend(x.iter().map(|&v| v as u8));
    let run = protocol::request(
        Cmd::Run,
        &protocol::run_payload(true, hw.steps as u16, 0, &[false; 10]),
    );
    let second = protocol::request(Cmd::ReadClass, &[]);
    // a WriteInput whose payload holds a whole Identify request
    let mut hidden = vec![0, 0];
    hidden.extend(protocol::request(Cmd::Identify, &[]));
    let third = protocol::request(Cmd::WriteInput, &hidden);
    let mut want = Vec::new();
    for f in [protocol::request(Cmd::WriteInput, &p), run.clone()] {
        let r = exchange(&mut top, &f, 2_000_000);
        let m = f.iter().fold(None, |_, &b| model.byte(b)).unwrap();
        assert_eq!(protocol::response(r.cmd, &r.payload), m);
    }
    // the run, then the two others back to back while it executes
    top.to_device.extend(&run);
    top.to_device.extend(&second);
    top.to_device.extend(&third);
    for &b in &run {
        want.extend(model.byte(b).unwrap_or_default());
    }
    model.set_busy(true);
    for &b in second.iter().chain(&third) {
        assert_eq!(model.byte(b), None);
    }
    want.extend(model.set_busy(false).unwrap());
    let wire = (run.len() + second.len() + third.len()) as u64 * 10 * cpb;
    let got = collect(&mut top, wire + 200_000);
    assert_eq!(got, want, "the run's and the second request's replies only");
    // nothing changed: the input is the first one, the class the run's
    let r = exchange(&mut top, &protocol::request(Cmd::Status, &[]), 2_000_000);
    let s = Status::from_bytes(&r.payload).unwrap();
    assert_eq!(
        (s.overruns, s.timeouts, s.bad_crc, s.bad_argument),
        (1, 0, 0, 0),
        "{s:?}"
    );
    let m = protocol::request(Cmd::Status, &[])
        .iter()
        .fold(None, |_, &b| model.byte(b))
        .unwrap();
    assert_eq!(protocol::response(r.cmd, &r.payload), m);
    assert_eq!(model.x, x, "the ignored WriteInput wrote nothing");
    let r = exchange(&mut top, &run, 2_000_000);
    assert_eq!(r.cmd, Cmd::Run as u8);
    let r = exchange(&mut top, &second, 2_000_000);
    assert_eq!(r.payload, vec![Twin::new(&hw).infer(&x) as u8]);
}
