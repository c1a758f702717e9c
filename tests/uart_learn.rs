//! A learning design (`hardware.learning = "ep"`) behind its UART: every
//! request's reply, Learn and ReadWeights included, equals the device
//! model's (which learns with the twin), byte for byte; the shadows follow
//! the host's WriteWeights; bad arguments are refused. The sample store
//! (StoreSample, Epoch) answers as the model does, and an epoch's
//! learning steps are the twin's in the epoch's order.

mod common;

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::link::devmodel::DeviceModel;
use phasegen_sim::link::protocol::{self, Block, Cmd, Decoder, ErrCode, ERROR};
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::learn::Learner;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;
use phasegen_sim::twin::store::StoreLayout;

fn exchange(top: &mut TopSim, bytes: &[u8]) -> Vec<u8> {
    top.to_device.extend(bytes);
    let mut dec = Decoder::default();
    for _ in 0..20_000 {
        top.run(1000);
        dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
        if let Some(r) = dec.next_frame().unwrap() {
            return protocol::response(r.cmd, &r.payload);
        }
    }
    panic!("no reply to {bytes:02x?}");
}

/// The same request to the RTL and to the model: the same reply.
fn both(top: &mut TopSim, model: &mut DeviceModel, cmd: Cmd, p: &[u8]) -> Vec<u8> {
    let req = protocol::request(cmd, p);
    let replies: Vec<Vec<u8>> = req.iter().filter_map(|&b| model.byte(b)).collect();
    let want = replies.last().cloned().expect("the model answers");
    let got = exchange(top, &req);
    assert_eq!(got, want, "{cmd:?} {p:02x?}");
    got
}

#[test]
fn learning_design_answers_as_its_model_over_the_uart() {
    // (two lanes and the engine's multipliers need more than the UP5K's DSPs)
    // (both with a sample store of 7: 4 inputs a word, 4 words a sample;
    // 8-bit inputs, 2 a word, 8 words a sample)
    for (tag, sym, lanes, board, clock, xb) in [
        ("uart-learn-sym", true, 1, "icebreaker", 12_000_000, 4),
        ("uart-learn-one", false, 2, "ulx3s-85f", 25_000_000, 8),
    ] {
        let cfg = Config::parse(
            &format!(
                "name='ul'\n[network]\ninputs=16\nlayers=[8,4]\n[train]\nt1=20\nt2=8\nsymmetric={sym}\nlr=0.05\nlr_bias=0.05\n[hardware]\nparams='ram'\nlearning='ep'\nstore=7\ninput_bits={xb}\nlanes={lanes}\nweight_frac=4\nw_frac=5\nu_frac=6\n[target]\nboard='{board}'\nclock_hz={clock}\nbaud=3000000\n"
            ),
            "t",
        )
        .unwrap();
        let hw = quantize(&cfg, &Params::init(&cfg), 16).unwrap().0;
        let spec = hw.learn.clone().expect("a learning design");
        let dir = scratch_dir(tag);
        let built = build_top(&cfg, &hw, &dir).unwrap();
        // the learning pg_top is lint clean (verilator -Wall, yosys check)
        common::lint_dir(&dir, None, tag);
        let mut top =
            TopSim::new(&built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();
        let id = phasegen_hdl::top::identity(&hw, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
        assert!(id.learns() && id.stores());
        let mut model = DeviceModel::new(&hw, id.to_bytes());
        let mut twin = Learner::new(hw.clone(), spec);
        let sched = Schedule::new(&hw);
        both(&mut top, &mut model, Cmd::Identify, &[]);
        let read_all = |top: &mut TopSim, model: &mut DeviceModel| {
            for b in Block::ALL {
                let (words, wb) = (sched.block_words(&hw, b), sched.word_bytes(&hw, b));
                let per = 255 / wb;
                let mut off = 0;
                while off < words {
                    let n = per.min(words - off);
                    let mut p = vec![b as u8];
                    p.extend(&(off as u32).to_be_bytes()[1..]);
                    p.push(n as u8);
                    both(top, model, Cmd::ReadWeights, &p);
                    off += n;
                }
            }
        };
        for s in 0..5u64 {
            let x: Vec<u8> = (0..16u64)
                .map(|k| ((k * 5 + s * 3 + k * s) % 16) as u8)
                .collect();
            let mut p = vec![0, 0];
            p.extend(&x);
            both(&mut top, &mut model, Cmd::WriteInput, &p);
            let label = (s % 4) as u8;
            let r = both(&mut top, &mut model, Cmd::Learn, &[label]);
            let xs: Vec<u64> = x.iter().map(|&v| v as u64).collect();
            assert_eq!(
                r[3] as usize,
                twin.learn(&xs, label as usize),
                "{tag}: class"
            );
            // the core's state after the step: phases and class
            both(&mut top, &mut model, Cmd::ReadPhases, &[0, 0, hw.n() as u8]);
            both(&mut top, &mut model, Cmd::ReadClass, &[]);
        }
        assert_eq!(
            model.hw.rows, twin.hw.rows,
            "{tag}: the model learned as the twin"
        );
        assert_ne!(twin.hw.rows, hw.rows, "{tag}: nothing learned");
        read_all(&mut top, &mut model);
        // the host rewrites the oscillator block and part of W: the
        // shadows take the written values, the next steps agree again
        let osc = sched.image(&hw, Block::Osc);
        let mut p = vec![Block::Osc as u8, 0, 0, 0];
        p.extend(&osc[..sched.word_bytes(&hw, Block::Osc) * 4]);
        both(&mut top, &mut model, Cmd::WriteWeights, &p);
        let wimg = sched.image(&hw, Block::W);
        let mut p = vec![Block::W as u8, 0, 0, 2];
        p.extend(&wimg[2 * sched.word_bytes(&hw, Block::W)..6 * sched.word_bytes(&hw, Block::W)]);
        both(&mut top, &mut model, Cmd::WriteWeights, &p);
        for s in 0..3u64 {
            let mut p = vec![0, 0];
            p.extend((0..16u64).map(|k| ((k * 3 + s) % 16) as u8));
            both(&mut top, &mut model, Cmd::WriteInput, &p);
            both(&mut top, &mut model, Cmd::Learn, &[(s % 4) as u8]);
        }
        read_all(&mut top, &mut model);
        both(&mut top, &mut model, Cmd::Status, &[]);
        // refused: a label past the classes, an empty or too long read
        for (cmd, p) in [
            (Cmd::Learn, vec![4u8]),
            (Cmd::Learn, vec![]),
            (Cmd::ReadWeights, vec![1, 0, 0, 0, 0]),
            (Cmd::ReadWeights, vec![1, 0, 0, 0, 255]),
            (Cmd::ReadWeights, vec![7, 0, 0, 0, 1]),
        ] {
            let r = both(&mut top, &mut model, cmd, &p);
            assert_eq!(
                (r[1], r[3]),
                (ERROR, ErrCode::BadArgument as u8),
                "{cmd:?} {p:?}"
            );
        }
        // a classifier does not learn patterns (a memory's LearnPattern)
        let r = both(&mut top, &mut model, Cmd::LearnPattern, &[0xff]);
        assert_eq!((r[1], r[3]), (ERROR, ErrCode::UnknownCmd as u8));

        // the sample store: seven samples stored in two chunks each (the
        // label with both), then epochs over them; each reply, and every
        // parameter read back, equals the model's, whose learner takes
        // the same steps as the twin learning the samples in the epoch's
        // order
        let ipw = StoreLayout::of(&hw).unwrap().ipw;
        let samples: Vec<(Vec<u8>, usize)> = (0..7u64)
            .map(|s| {
                let x = (0..16u64)
                    .map(|k| ((k * 7 + s * 5 + k * s) % 16) as u8)
                    .collect();
                (x, ((s * 3) % 4) as usize)
            })
            .collect();
        for (i, (x, label)) in samples.iter().enumerate() {
            let xs: Vec<u64> = x.iter().map(|&v| v as u64).collect();
            for (off, chunk) in [(0, &xs[..8]), (8, &xs[8..])] {
                let p = protocol::store_sample_payload(i, *label, off, chunk);
                both(&mut top, &mut model, Cmd::StoreSample, &p);
            }
        }
        let mut by_hand = model.learner.clone().unwrap();
        for (count, first, stride) in [(1, 0, 0), (7, 3, 2), (5, 4, 3)] {
            let r = both(
                &mut top,
                &mut model,
                Cmd::Epoch,
                &protocol::epoch_payload(count, first, stride),
            );
            let right = (0..count)
                .map(|k| phasegen_sim::twin::store::epoch_index(first, stride, count, k))
                .filter(|&i| {
                    let (x, label) = &samples[i];
                    let xs: Vec<u64> = x.iter().map(|&v| v as u64).collect();
                    by_hand.learn(&xs, *label) == *label
                })
                .count();
            assert_eq!(u16::from_be_bytes([r[3], r[4]]) as usize, right, "{tag}");
            // the core holds the last sample's last run
            both(&mut top, &mut model, Cmd::ReadPhases, &[0, 0, hw.n() as u8]);
            both(&mut top, &mut model, Cmd::ReadClass, &[]);
        }
        assert_eq!(model.hw.rows, by_hand.hw.rows, "{tag}");
        assert_eq!(model.hw.u, by_hand.hw.u, "{tag}");
        read_all(&mut top, &mut model);
        // refused: an index or label past the end, a chunk that is not
        // whole words, an input too wide; an Epoch of none, of more than
        // the store, from or by too far, of the wrong length
        let x4 = [1u64, 2, 3, 4];
        let mut refused = vec![
            protocol::store_sample_payload(7, 0, 0, &x4),
            protocol::store_sample_payload(0, 4, 0, &x4),
            protocol::store_sample_payload(0, 0, 1, &x4[..ipw]),
            protocol::store_sample_payload(0, 0, 0, &x4[..ipw - 1]),
            protocol::store_sample_payload(0, 0, 16, &x4),
            protocol::store_sample_payload(0, 0, 0, &[]),
        ];
        if xb < 8 {
            refused.push(protocol::store_sample_payload(0, 0, 0, &[1, 2, 3, 1 << xb]));
        }
        let mut refused: Vec<(Cmd, Vec<u8>)> =
            refused.into_iter().map(|p| (Cmd::StoreSample, p)).collect();
        for (c, f, st) in [(0, 0, 0), (8, 0, 1), (5, 5, 1), (5, 0, 5)] {
            refused.push((Cmd::Epoch, protocol::epoch_payload(c, f, st)));
        }
        refused.push((Cmd::Epoch, vec![0, 7, 0, 0, 0]));
        for (cmd, p) in refused {
            let r = both(&mut top, &mut model, cmd, &p);
            assert_eq!(
                (r[1], r[3]),
                (ERROR, ErrCode::BadArgument as u8),
                "{tag}: {cmd:?} {p:?}"
            );
        }
        both(&mut top, &mut model, Cmd::Status, &[]);
    }
}
