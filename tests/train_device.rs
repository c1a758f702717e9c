//! `phasegen train --backend device`: EP with every settle on the simulated
//! device (the Verilated `pg_top` with writable parameters, served on a
//! pseudo-terminal) learns, and gives exactly the parameters and log of the
//! same run with `--backend twin`; a device of another design is refused.

mod common;

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, PtyServer};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits-8x8");

#[test]
fn device_in_the_loop_training_equals_twin_training() {
    let dir = scratch_dir("train-device");
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let full = load_dir(Path::new(DATA)).unwrap();
    common::write_idx_part(
        &data_dir,
        "train",
        &full.train.images,
        &full.train.labels,
        48,
    );
    common::write_idx_part(&data_dir, "t10k", &full.test.images, &full.test.labels, 24);
    // the UART at 4 clocks per bit, so the simulation spends its time settling
    let toml = |layers: &str| {
        format!(
            "name = 'hil'\n[network]\ninputs = 64\nlayers = {layers}\n[train]\ndata = '{}'\nepochs = 2\nbatch = 8\nlr = 0.02\nlr_bias = 0.02\nlr_schedule = 'constant'\nt1 = 12\nt2 = 4\n[hardware]\nlanes = 2\nweight_frac = 5\nparams = 'ram'\n[target]\nbaud = 3000000\n",
            data_dir.display()
        )
    };
    let cfg_path = dir.join("hil.toml");
    std::fs::write(&cfg_path, toml("[8, 10]")).unwrap();
    let cfg = Config::load(&cfg_path).unwrap();

    // the reference: the same run on the twin
    let (twin_model, twin_log) = (dir.join("twin.json"), dir.join("twin.jsonl"));
    let (ok, text) = common::train(&[
        "--config",
        cfg_path.to_str().unwrap(),
        "--backend",
        "twin",
        "--out",
        twin_model.to_str().unwrap(),
        "--log",
        twin_log.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");

    // the device: generated from the untrained parameters (training writes
    // every block before its first settle)
    // with the formats the trainer pins (the shared fraction bits for W and U)
    let split = load_dir(&data_dir).unwrap();
    let mut cfg = cfg;
    phasegen_sim::link::hil::pin_formats(&mut cfg, split.train.max_pixel).unwrap();
    assert_eq!((cfg.hardware.w_frac, cfg.hardware.u_frac), (5, 5));
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), split.train.max_pixel).unwrap();
    let built = build_top(&cfg, &hw, &dir.join("gen")).unwrap();
    let server =
        PtyServer::start(built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();
    let (dev_model, dev_log) = (dir.join("dev.json"), dir.join("dev.jsonl"));
    let t = std::time::Instant::now();
    let (ok, text) = common::train(&[
        "--config",
        cfg_path.to_str().unwrap(),
        "--backend",
        "device",
        "--port",
        &server.path,
        "--out",
        dev_model.to_str().unwrap(),
        "--log",
        dev_log.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    eprintln!("device run: {:.1} s\n{text}", t.elapsed().as_secs_f64());

    let log = common::log_without_times(&dev_log);
    assert_eq!(log.len(), 2);
    let loss = |k: usize| log[k]["loss"].as_f64().unwrap();
    assert!(loss(1) < loss(0), "the loss did not fall: {log:?}");
    assert_eq!(
        log,
        common::log_without_times(&twin_log),
        "device and twin logs differ"
    );
    assert_eq!(
        std::fs::read_to_string(&dev_model).unwrap(),
        std::fs::read_to_string(&twin_model).unwrap(),
        "device and twin runs trained different parameters"
    );

    // a config of another size is refused, naming the difference
    let other = dir.join("other.toml");
    std::fs::write(&other, toml("[9, 10]")).unwrap();
    let (ok, text) = common::train(&[
        "--config",
        other.to_str().unwrap(),
        "--backend",
        "device",
        "--port",
        &server.path,
        "--out",
        dir.join("x.json").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        text.contains("oscillators = 18, config hil needs 19"),
        "{text}"
    );
    // and the backend needs its port
    let (ok, text) = common::train(&[
        "--config",
        cfg_path.to_str().unwrap(),
        "--backend",
        "device",
        "--out",
        dir.join("x.json").to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("--port"), "{text}");
    server.stop().unwrap();
}
