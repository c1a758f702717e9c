//! `phasegen train --backend device --onchip`: a learning design (the
//! Verilated `pg_top` with `hardware.learning = "ep"` and a sample store,
//! served on a pseudo-terminal) learns two epochs itself, the host storing
//! the training set once and sending one Epoch per epoch, then two more
//! with the samples streamed (`--stream`), and reading the weights back;
//! each run's log and learned model equal those of the same run on the
//! twin (`--backend twin --onchip`).

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
fn a_learning_device_learns_what_its_twin_learns() {
    let dir = scratch_dir("learn-device");
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let full = load_dir(Path::new(DATA)).unwrap();
    common::write_idx_part(
        &data_dir,
        "train",
        &full.train.images,
        &full.train.labels,
        60,
    );
    common::write_idx_part(&data_dir, "t10k", &full.test.images, &full.test.labels, 30);
    let cfg_path = dir.join("learn.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "name = 'oc'\n[network]\ninputs = 64\nlayers = [8, 10]\n[train]\ndata = '{}'\nepochs = 2\nlr = 0.02\nlr_bias = 0.02\nt1 = 12\nt2 = 4\n[hardware]\nweight_frac = 5\nparams = 'ram'\nlearning = 'ep'\nstore = 60\n[target]\nbaud = 3000000\n",
            data_dir.display()
        ),
    )
    .unwrap();
    let twin_run = |extra: &[&str], tag: &str| {
        let (model, log) = (
            dir.join(format!("twin{tag}.json")),
            dir.join(format!("twin{tag}.jsonl")),
        );
        let mut args = vec![
            "--config",
            cfg_path.to_str().unwrap(),
            "--backend",
            "twin",
            "--onchip",
            "--out",
            model.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ];
        args.extend(extra);
        let (ok, text) = common::train(&args);
        assert!(ok, "{text}");
        (model, log)
    };
    let (twin_model, twin_log) = twin_run(&[], "");
    let (twin_model_s, twin_log_s) = twin_run(&["--stream"], "-stream");
    assert_ne!(
        std::fs::read_to_string(&twin_model).unwrap(),
        std::fs::read_to_string(&twin_model_s).unwrap(),
        "the epochs' orders differ: stored and streamed runs learn differently"
    );

    // the device: the learning design of this config, with the formats
    // the trainer pins
    let split = load_dir(&data_dir).unwrap();
    let mut cfg = Config::load(&cfg_path).unwrap();
    phasegen_sim::link::hil::pin_formats(&mut cfg, split.train.max_pixel).unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), split.train.max_pixel).unwrap();
    assert!(hw.learn.is_some());
    let built = build_top(&cfg, &hw, &dir.join("gen")).unwrap();
    let server =
        PtyServer::start(built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();
    for (extra, (tm, tl), tag) in [
        (None, (&twin_model, &twin_log), ""),
        (Some("--stream"), (&twin_model_s, &twin_log_s), "-stream"),
    ] {
        let (dev_model, dev_log) = (
            dir.join(format!("dev{tag}.json")),
            dir.join(format!("dev{tag}.jsonl")),
        );
        let t = std::time::Instant::now();
        let mut args = vec![
            "--config",
            cfg_path.to_str().unwrap(),
            "--backend",
            "device",
            "--onchip",
            "--port",
            &server.path,
            "--out",
            dev_model.to_str().unwrap(),
            "--log",
            dev_log.to_str().unwrap(),
        ];
        args.extend(extra);
        let (ok, text) = common::train(&args);
        assert!(ok, "{text}");
        assert!(text.contains("learned on chip (the device)"), "{text}");
        assert_eq!(
            text.contains("sample store"),
            extra.is_none(),
            "stored unless streamed: {text}"
        );
        eprintln!(
            "device run{tag}: {:.1} s\n{text}",
            t.elapsed().as_secs_f64()
        );
        let log = common::log_without_times(&dev_log);
        assert_eq!(log.len(), 2);
        assert_eq!(
            log,
            common::log_without_times(tl),
            "device and twin logs differ{tag}"
        );
        assert_eq!(
            std::fs::read_to_string(&dev_model).unwrap(),
            std::fs::read_to_string(tm).unwrap(),
            "device and twin learned different parameters{tag}"
        );
    }
    // another shadow width than the device's is refused by name
    let (ok, text) = common::train(&[
        "--config",
        cfg_path.to_str().unwrap(),
        "--backend",
        "device",
        "--onchip",
        "--shadow-bits",
        "4",
        "--port",
        &server.path,
        "--out",
        dir.join("x.json").to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("hardware.shadow_bits = 8"), "{text}");
    server.stop().unwrap();
}
