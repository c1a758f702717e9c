//! Input weights in RAM (`hardware.u_memory = "ram"`, what a UP5K keeps in
//! SPRAM): written over the UART with WriteWeights, checked like every
//! request, then used by inference exactly as the twin says; and the
//! unchanged `phasegen infer` uploads them itself through a pseudo-terminal.

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, PtyServer, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::{Config, ParamMemory, UMemory};
use phasegen_sim::data::load_dir;
use phasegen_sim::link::protocol::{self, Block, Cmd, Decoder, Response};
use phasegen_sim::onn::net::{ModelFile, Params};
use phasegen_sim::twin::model::{HwModel, Twin};
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;
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
    let wbytes = sched.word_bytes(&hw, Block::U);
    let image = sched.image(&hw, Block::U);
    let words = image.len() / wbytes;
    assert_eq!(wbytes, 2);

    // refused, changing nothing: a partial word, a write past the end
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteWeights, &[0, 0, 0, 0, 1, 2, 3]),
    );
    assert_eq!(
        (r.cmd, r.payload),
        (protocol::ERROR, vec![3]),
        "partial word"
    );
    let end = (words as u32).to_be_bytes();
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteWeights, &[0, end[1], end[2], end[3], 1, 2]),
    );
    assert_eq!(
        (r.cmd, r.payload),
        (protocol::ERROR, vec![3]),
        "past the end"
    );
    // only U is writable in this design
    for b in [Block::W as u8, Block::Osc as u8, 3] {
        let r = exchange(
            &mut top,
            &protocol::request(Cmd::WriteWeights, &[b, 0, 0, 0, 1, 2]),
        );
        assert_eq!((r.cmd, r.payload), (protocol::ERROR, vec![3]), "block {b}");
    }

    // the image in frames of 126 words
    let per = protocol::MAX_WEIGHT_CHUNK / wbytes;
    for (c, chunk) in image.chunks(per * wbytes).enumerate() {
        let p = protocol::write_weights_payload(Block::U, c * per, chunk);
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
        &protocol::request(Cmd::WriteWeights, &[0, 0, 0, 0, 1]),
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

fn read_phases(top: &mut TopSim, n: usize) -> Vec<u64> {
    let r = exchange(top, &protocol::request(Cmd::ReadPhases, &[0, 0, n as u8]));
    assert_eq!(r.cmd, Cmd::ReadPhases as u8, "{r:?}");
    r.payload
        .chunks(2)
        .map(|c| (c[0] as u64) << 8 | c[1] as u64)
        .collect()
}

/// WriteInput, a free run from the initial phases, a nudged run on from
/// there, and a nudged run of the other sign from a new free run: the
/// phases after each, from the device and from the twin of `hw`.
fn settles(top: &mut TopSim, hw: &HwModel, x: &[u64], label: usize) -> [(Vec<u64>, Vec<u64>); 3] {
    let (t1, t2, beta) = (12u16, 5u16, 1i64 << hw.fmt.frac);
    let classes = hw.topo.classes();
    let target: Vec<bool> = (0..classes).map(|o| o == label).collect();
    let mut p = vec![0, 0];
    p.extend(x.iter().map(|&v| v as u8));
    let r = exchange(top, &protocol::request(Cmd::WriteInput, &p));
    assert_eq!(r.cmd, Cmd::WriteInput as u8);
    let mut twin = Twin::new(hw);
    let mut out: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
    for b in [beta, -beta] {
        let run = protocol::run_payload(true, t1, 0, &vec![false; classes]);
        assert_eq!(
            exchange(top, &protocol::request(Cmd::Run, &run)).cmd,
            Cmd::Run as u8
        );
        twin.load_input(x);
        twin.set_nudge(0, None);
        (0..t1).for_each(|_| twin.step());
        if b > 0 {
            out.push((read_phases(top, hw.n()), twin.theta.clone()));
        }
        let run = protocol::run_payload(false, t2, b, &target);
        assert_eq!(
            exchange(top, &protocol::request(Cmd::Run, &run)).cmd,
            Cmd::Run as u8
        );
        twin.set_nudge(b, Some(label));
        (0..t2).for_each(|_| twin.step());
        out.push((read_phases(top, hw.n()), twin.theta.clone()));
    }
    out.try_into().unwrap()
}

/// Writable parameters (`hardware.params = "ram"`): the design powers up
/// with its model; bad writes are refused and change nothing; after every
/// block of a different model (other weights, biases, detuning, initial
/// phases) is written over the UART, free and nudged runs of either sign
/// read back exactly the phases of that model's twin.
#[test]
fn every_block_of_another_model_written_over_the_uart_matches_its_twin() {
    let mut cfg = Config::default_config();
    cfg.network.layers = vec![8, 10];
    cfg.hardware.lanes = 2;
    cfg.hardware.weight_frac = 5;
    cfg.hardware.params = ParamMemory::Ram;
    cfg.train.dispersion = 0.05;
    every_block_written(&cfg, "uart-params");
}

/// The same with the pairs stream (`hardware.coupling = "pairs"`), whose
/// one copy of each pair's weight serves both rows: a written W word sets
/// `W_ij` and `W_ji`.
#[test]
fn every_block_written_to_a_pairs_design_matches_its_twin() {
    let mut cfg = Config::default_config();
    cfg.network.layers = vec![8, 10];
    cfg.network.intralayer = true;
    cfg.hardware.coupling = phasegen_sim::config::Coupling::Pairs;
    cfg.hardware.lanes = 3;
    cfg.hardware.weight_frac = 5;
    cfg.hardware.params = ParamMemory::Ram;
    cfg.train.dispersion = 0.05;
    every_block_written(&cfg, "uart-params-pairs");
}

fn every_block_written(cfg: &Config, tag: &str) {
    let cfg = cfg.clone();
    let data = load_dir(Path::new(DATA)).unwrap();
    let (a, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let mut cfg_b = cfg.clone();
    cfg_b.train.seed = 11;
    let mut pb = Params::init(&cfg_b);
    for (i, (h, k)) in pb.h.iter_mut().zip(pb.k.iter_mut()).enumerate() {
        *h = 0.1 * (i % 5) as f32 - 0.2;
        *k = 0.05 * (i % 3) as f32;
    }
    let (b, _) = quantize(&cfg_b, &pb, data.train.max_pixel).unwrap();
    assert_eq!(a.fmt, b.fmt);
    assert!(
        a.rows != b.rows && a.u != b.u && a.h != b.h && a.theta0 != b.theta0 && a.omega != b.omega
    );
    assert!(a.params_in_ram && !a.u_in_ram);
    let built = build_top(&cfg, &a, &scratch_dir(tag)).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let id = protocol::Identity::from_bytes(
        &exchange(&mut top, &protocol::request(Cmd::Identify, &[])).payload,
    )
    .unwrap();
    assert!(Block::ALL.iter().all(|&blk| id.writable(blk)), "{id:?}");
    let x = a.inputs_of_image(data.test.image(0));
    let label = data.test.labels[0] as usize;
    // power-up contents: model a
    for (dev, twin) in settles(&mut top, &a, &x, 1 + label % 9) {
        assert_eq!(dev, twin, "power-up contents");
    }

    let sched = Schedule::new(&a);
    let bad = |top: &mut TopSim, p: &[u8], what: &str| {
        let r = exchange(top, &protocol::request(Cmd::WriteWeights, p));
        assert_eq!((r.cmd, r.payload), (protocol::ERROR, vec![3]), "{what}");
    };
    for blk in Block::ALL {
        let (words, wb) = (sched.block_words(&a, blk), sched.word_bytes(&a, blk));
        let junk = vec![0x11; wb];
        bad(
            &mut top,
            &protocol::write_weights_payload(blk, words, &junk),
            "past the end",
        );
        let two = vec![0x11; 2 * wb];
        bad(
            &mut top,
            &protocol::write_weights_payload(blk, words - 1, &two),
            "over the end",
        );
        bad(
            &mut top,
            &protocol::write_weights_payload(blk, 0, &junk[1..]),
            "partial word",
        );
        let mut p = protocol::write_weights_payload(blk, 0, &junk);
        p.push(0);
        bad(&mut top, &p, "a word and a byte");
        bad(
            &mut top,
            &protocol::write_weights_payload(blk, 0, &[]),
            "no word",
        );
    }
    bad(&mut top, &[3, 0, 0, 0, 1, 2], "unknown block 3");
    bad(&mut top, &[0xff, 0, 0, 0, 1, 2], "unknown block 255");
    for (dev, twin) in settles(&mut top, &a, &x, label) {
        assert_eq!(dev, twin, "after refused writes");
    }

    // every block of model b, in frames of whole words
    for blk in Block::ALL {
        let image = sched.image(&b, blk);
        let wb = sched.word_bytes(&b, blk);
        let per = protocol::MAX_WEIGHT_CHUNK / wb;
        for (c, chunk) in image.chunks(per * wb).enumerate() {
            let p = protocol::write_weights_payload(blk, c * per, chunk);
            let r = exchange(&mut top, &protocol::request(Cmd::WriteWeights, &p));
            assert_eq!(r.cmd, Cmd::WriteWeights as u8, "{blk:?} frame {c}: {r:?}");
        }
    }
    for s in 0..2 {
        let x = b.inputs_of_image(data.test.image(s));
        let label = data.test.labels[s] as usize;
        for (k, (dev, twin)) in settles(&mut top, &b, &x, label).into_iter().enumerate() {
            assert_eq!(
                dev, twin,
                "model b, sample {s}, settle {k} (free, +beta, -beta)"
            );
        }
    }
}

/// Words of the U and W images that hold no parameter (U's padding past the
/// inputs, which the field stream still reads, and lanes beyond a group's
/// rows; W's bubbles and lanes without an entry) take garbage and change
/// nothing: the device still settles as the twin of its model.
#[test]
fn writes_where_no_parameter_lives_change_nothing() {
    let mut cfg = Config::default_config();
    cfg.network.inputs = 3;
    cfg.network.layers = vec![4, 2];
    cfg.network.intralayer = true;
    cfg.hardware.lanes = 3;
    cfg.hardware.weight_frac = 5;
    cfg.hardware.params = ParamMemory::Ram;
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
    let sched = Schedule::new(&hw);
    assert!(
        sched.field_len > hw.topo.inputs,
        "the field stream has padding"
    );
    let built = build_top(&cfg, &hw, &scratch_dir("uart-params-pad")).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let x = [15u64, 7, 11];
    let before = settles(&mut top, &hw, &x, 1);
    for (dev, twin) in &before {
        assert_eq!(dev, twin, "power-up contents");
    }
    // rewrite both images with 0x55 in every byte of a slot without a parameter
    let mut written = 0;
    for blk in [Block::U, Block::W] {
        let wb = sched.word_bytes(&hw, blk);
        let lanes = sched.lanes;
        let per_lane = wb / lanes;
        let mut image = sched.image(&hw, blk);
        let mut g = 0;
        for a in 0..sched.block_words(&hw, blk) {
            let (rows, live): (usize, Box<dyn Fn(usize) -> bool>) = match blk {
                Block::U => {
                    let gr = sched.field[a / sched.field_len];
                    let k = a % sched.field_len;
                    (gr.rows, Box::new(move |_| k < 3))
                }
                _ => {
                    let w = &sched.words[a];
                    let mask = w.mask;
                    let rows = sched.groups[g].rows;
                    g += w.last as usize;
                    (rows, Box::new(move |l| mask >> l & 1 == 1))
                }
            };
            for l in 0..lanes {
                if l >= rows || !live(l) {
                    let at = a * wb + (lanes - 1 - l) * per_lane;
                    image[at..at + per_lane].fill(0x55);
                    written += 1;
                }
            }
        }
        for (c, chunk) in image
            .chunks(wb * (protocol::MAX_WEIGHT_CHUNK / wb))
            .enumerate()
        {
            let p =
                protocol::write_weights_payload(blk, c * (protocol::MAX_WEIGHT_CHUNK / wb), chunk);
            let r = exchange(&mut top, &protocol::request(Cmd::WriteWeights, &p));
            assert_eq!(r.cmd, Cmd::WriteWeights as u8, "{r:?}");
        }
    }
    assert!(written > 10, "{written} garbage slots");
    assert_eq!(
        settles(&mut top, &hw, &x, 1),
        before,
        "garbage slots changed the settles"
    );
}

/// The fully connected design of a UP5K (`configs/full-256.toml` in small):
/// one layer of 20, every pair coupled, two lanes, U and W in RAM the host
/// fills (`u_memory`, `w_memory = "ram"`; SPRAM on a UP5K), the stream's
/// control from counters. Identify reports U and W writable, Osc is
/// refused; after both images (W's slots without an entry full of garbage)
/// the device settles free and nudged as the twin; W of another model
/// written over it gives that model's phases; and `phasegen infer` uploads
/// both images itself through a pseudo-terminal.
#[test]
fn fully_connected_weights_in_ram_written_over_the_uart_match_twin() {
    let mut cfg = Config::default_config();
    cfg.network.layers = vec![20];
    cfg.network.intralayer = true;
    cfg.hardware.lanes = 2;
    cfg.hardware.weight_frac = 5;
    cfg.hardware.u_memory = UMemory::Ram;
    cfg.hardware.w_memory = UMemory::Ram;
    let data = load_dir(Path::new(DATA)).unwrap();
    let params = Params::init(&cfg);
    let (a, _) = quantize(&cfg, &params, data.train.max_pixel).unwrap();
    assert!(a.u_in_ram && a.w_in_ram && !a.params_in_ram);
    let sched = Schedule::new(&a);
    assert!(sched.dense().is_some());
    let dir = scratch_dir("uart-full-wram");
    let built = build_top(&cfg, &a, &dir.join("gen")).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let id = protocol::Identity::from_bytes(
        &exchange(&mut top, &protocol::request(Cmd::Identify, &[])).payload,
    )
    .unwrap();
    assert!(id.writable(Block::U) && id.writable(Block::W) && !id.writable(Block::Osc));
    let r = exchange(
        &mut top,
        &protocol::request(Cmd::WriteWeights, &[Block::Osc as u8, 0, 0, 0, 1, 2]),
    );
    assert_eq!((r.cmd, r.payload), (protocol::ERROR, vec![3]), "Osc");

    let send = |top: &mut TopSim, blk: Block, image: &[u8]| {
        let wb = sched.word_bytes(&a, blk);
        let per = protocol::MAX_WEIGHT_CHUNK / wb;
        for (c, chunk) in image.chunks(per * wb).enumerate() {
            let p = protocol::write_weights_payload(blk, c * per, chunk);
            let r = exchange(top, &protocol::request(Cmd::WriteWeights, &p));
            assert_eq!(r.cmd, Cmd::WriteWeights as u8, "{blk:?} frame {c}: {r:?}");
        }
    };
    send(&mut top, Block::U, &sched.image(&a, Block::U));
    // W with garbage in every lane of a word that is not an entry (the
    // diagonal, lead bubbles)
    let mut image = sched.image(&a, Block::W);
    let wb = sched.word_bytes(&a, Block::W);
    let per_lane = wb / sched.lanes;
    let mut garbage = 0;
    for (e, w) in sched.words.iter().enumerate() {
        for l in (0..sched.lanes).filter(|&l| w.mask >> l & 1 == 0) {
            let at = e * wb + (sched.lanes - 1 - l) * per_lane;
            image[at..at + per_lane].fill(0x55);
            garbage += 1;
        }
    }
    assert!(garbage >= 20, "{garbage} garbage slots");
    send(&mut top, Block::W, &image);
    let x = a.inputs_of_image(data.test.image(0));
    for (k, (dev, twin)) in settles(&mut top, &a, &x, 3).into_iter().enumerate() {
        assert_eq!(dev, twin, "settle {k} (free, +beta, -beta)");
    }
    // the coupling weights of another model
    let mut cfg_c = cfg.clone();
    cfg_c.train.seed = 5;
    let (c, _) = quantize(&cfg_c, &Params::init(&cfg_c), data.train.max_pixel).unwrap();
    assert_eq!(c.fmt, a.fmt);
    let mut b = a.clone();
    sched.apply(&mut b, Block::W, 0, &sched.image(&c, Block::W));
    assert!(b.rows == c.rows && b.rows != a.rows);
    send(&mut top, Block::W, &sched.image(&b, Block::W));
    for (k, (dev, twin)) in settles(&mut top, &b, &x, 7).into_iter().enumerate() {
        assert_eq!(dev, twin, "another W, settle {k}");
    }

    // `phasegen infer` sends U and W before the samples
    let model = dir.join("model.json");
    ModelFile::new(cfg.clone(), params, data.train.max_pixel)
        .save(&model)
        .unwrap();
    let server = PtyServer::start(built, cpb).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(["infer", "--port", &server.path, "--data", DATA])
        .args(["--count", "2", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "infer failed: {stdout}{stderr}");
    let (u_bytes, w_bytes) = (
        sched.image(&a, Block::U).len(),
        sched.image(&a, Block::W).len(),
    );
    assert!(
        stderr.contains(&format!("wrote {u_bytes} bytes of input weights"))
            && stderr.contains(&format!("wrote {w_bytes} bytes of coupling weights")),
        "{stderr}"
    );
    assert!(stdout.contains("device = twin on 2/2"), "{stdout}");
    server.stop().unwrap();
}
