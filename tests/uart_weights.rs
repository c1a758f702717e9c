//! Input weights in RAM (`hardware.u_memory = "ram"`, what a UP5K keeps in
//! SPRAM): written over the UART with WriteWeights, checked like every
//! request, then used by inference exactly as the twin says; and the
//! unchanged `phasegen infer` uploads them itself through a pseudo-terminal.

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, PtyServer, TopSim};
use phasegen_hdl::sched::Schedule;
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::{Config, UMemory};
use phasegen_sim::data::load_dir;
use phasegen_sim::net::{ModelFile, Params};
use phasegen_sim::protocol::{self, Cmd, Decoder, Response};
use phasegen_sim::quant::quantize;
use phasegen_sim::twin::Twin;
use std::path::Path;
use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");

fn exchange(top: &mut TopSim, bytes: &[u8]) -> Response {
    top.to_device.extend(bytes);
    let mut dec = Decoder::default();
    for _ in 0..5000 {
        top.run(1000);
        dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
        if let Some(r) = dec.next_frame().unwrap() {
            return r;
        }
    }
    panic!("no reply");
}

fn config() -> Config {
    let mut c = Config::default_config();
    c.hardware.lanes = 2;
    c.hardware.u_memory = UMemory::Ram;
    c
}

#[test]
fn weights_written_over_the_uart_then_inference_matches_twin() {
    let cfg = config();
    let data = load_dir(Path::new(DATA)).unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    assert!(hw.u_in_ram);
    let built = build_top(&cfg, &hw, &scratch_dir("uart-weights")).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let sched = Schedule::new(&hw);
    let wbytes = sched.u_word_bytes(&hw);
    let image = sched.u_image(&hw);
    let words = image.len() / wbytes;
    assert_eq!(wbytes, 2);

    // refused, changing nothing: a partial word, a write past the end
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteWeights, &[0, 0, 0, 1, 2, 3]),
    );
    assert_eq!(
        (r.cmd, r.payload),
        (protocol::ERROR, vec![3]),
        "partial word"
    );
    let end = (words as u32).to_be_bytes();
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteWeights, &[end[1], end[2], end[3], 1, 2]),
    );
    assert_eq!(
        (r.cmd, r.payload),
        (protocol::ERROR, vec![3]),
        "past the end"
    );

    // the image in frames of 126 words
    let per = protocol::MAX_WEIGHT_CHUNK / wbytes;
    for (c, chunk) in image.chunks(per * wbytes).enumerate() {
        let off = ((c * per) as u32).to_be_bytes();
        let mut p = off[1..].to_vec();
        p.extend_from_slice(chunk);
        let r = exchange(&mut top, &protocol::request(Cmd::WriteWeights, &p));
        assert_eq!(r.cmd, Cmd::WriteWeights as u8, "{r:?}");
    }

    for s in 0..3 {
        let x = hw.inputs_of_image(data.test.image(s));
        let mut p = vec![0, 0];
        p.extend(x.iter().map(|&v| v as u8));
        exchange(&mut top, &protocol::request(Cmd::WriteInput, &p));
        let run = protocol::run_payload(true, hw.steps as u16, 0, &[false; 10]);
        let r = exchange(&mut top, &protocol::request(Cmd::Run, &run));
        assert_eq!(r.cmd, Cmd::Run as u8);
        let r = exchange(&mut top, &protocol::request(Cmd::ReadPhases, &[0, 0, 42]));
        let phases: Vec<u64> = r
            .payload
            .chunks(2)
            .map(|c| (c[0] as u64) << 8 | c[1] as u64)
            .collect();
        let mut twin = Twin::new(&hw);
        let class = twin.infer(&x);
        assert_eq!(phases, twin.theta, "sample {s}");
        let r = exchange(&mut top, &protocol::request(Cmd::ReadClass, &[]));
        assert_eq!(r.payload, vec![class as u8], "sample {s}");
    }
}

/// A design with U in ROM does not know the command.
#[test]
fn rom_designs_do_not_take_weights() {
    let cfg = Config::default_config();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
    assert!(!hw.u_in_ram);
    let built = build_top(&cfg, &hw, &scratch_dir("uart-top-default")).unwrap();
    let mut top =
        TopSim::new(&built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteWeights, &[0, 0, 0, 1]),
    );
    assert_eq!((r.cmd, r.payload), (protocol::ERROR, vec![2]));
}

#[test]
fn infer_uploads_the_weights_over_a_pty() {
    let cfg = config();
    let data = load_dir(Path::new(DATA)).unwrap();
    let params = Params::init(&cfg);
    let dir = scratch_dir("pty-weights");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.json");
    ModelFile::new(cfg.clone(), params.clone(), data.train.max_pixel)
        .save(&model)
        .unwrap();
    let (hw, _) = quantize(&cfg, &params, data.train.max_pixel).unwrap();
    let built = build_top(&cfg, &hw, &dir.join("gen")).unwrap();
    let server =
        PtyServer::start(built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args([
            "infer",
            "--port",
            &server.path,
            "--data",
            DATA,
            "--count",
            "4",
            "--model",
        ])
        .arg(&model)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "infer failed: {stdout}{stderr}");
    assert!(
        stderr.contains("wrote 2048 bytes of input weights"),
        "{stderr}"
    );
    assert!(stdout.contains("device = twin on 4/4"), "{stdout}");
    server.stop().unwrap();
}
