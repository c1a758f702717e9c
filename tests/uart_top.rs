//! The generated top level over its UART pins, bit by bit at the configured
//! baud: Identify, inference and error replies, against the twin.

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::link::protocol::{self, Cmd, Decoder, Identity, Response};
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::model::Twin;
use phasegen_sim::twin::quant::quantize;
use std::path::Path;

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
