//! A learning memory (`hardware.learning = "ep"`, `hardware.nudge =
//! "pattern"`) behind its UART: the host clears W, sets K and a frequency
//! mismatch, then the device learns patterns by EP from corrupted starts
//! (the start written as the initial phases, `LearnPattern`). Every reply
//! equals the device model's byte for byte (its agreement and the W it
//! learned are the twin's, `Learner::learn_pattern`), W read back is the
//! model's, a start nearer the pattern's negative is pulled to the negative
//! (the agreement's sign), and the classifier's Learn is refused.

mod common;

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::link::devmodel::DeviceModel;
use phasegen_sim::link::protocol::{self, Block, Cmd, ErrCode, ERROR};
use phasegen_sim::onn::net::Params;
use phasegen_sim::rng::Rng;
use phasegen_sim::twin::hebb::pattern_payload;
use phasegen_sim::twin::qformat::wrap;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;

use common::both_timed as timed;

fn both(top: &mut TopSim, model: &mut DeviceModel, cmd: Cmd, p: &[u8]) -> Vec<u8> {
    timed(top, model, cmd, p).0
}

#[test]
fn learning_memory_learns_patterns_as_its_twin() {
    // configs/memory-ep-32.toml (32 oscillators on one lane, one-sided,
    // the iCEBreaker's; the UART at 3 Mbaud); 10 on two lanes, symmetric
    // (a padding lane; 2 pattern bytes, the last partial)
    let inline = |n: usize, lanes: usize, sym: bool, board: &str, clock: u64| {
        Config::parse(
            &format!(
                "name='mep'\n[network]\ninputs=1\nlayers=[{n}]\nintralayer=true\n[train]\nbeta=2.0\nlr=0.02\neps=0.125\nt1=24\nt2=16\nsymmetric={sym}\n[hardware]\nparams='ram'\nlearning='ep'\nnudge='pattern'\nweight_frac=5\nw_frac=6\nlanes={lanes}\n[target]\nboard='{board}'\nclock_hz={clock}\nbaud=3000000\n"
            ),
            "t",
        )
        .unwrap()
    };
    let mut shipped =
        Config::load(&std::path::Path::new(common::ROOT).join("configs/memory-ep-32.toml"))
            .unwrap();
    shipped.target.baud = 3_000_000;
    for (tag, cfg) in [
        ("uart-mep-32", shipped),
        ("uart-mep-10", inline(10, 2, true, "ulx3s-85f", 25_000_000)),
    ] {
        let mut hw = quantize(&cfg, &Params::init(&cfg), 16).unwrap().0;
        assert!(hw.learn.as_ref().unwrap().pattern);
        let n = hw.n();
        let dir = scratch_dir(tag);
        let built = build_top(&cfg, &hw, &dir).unwrap();
        common::lint_dir(&dir, None, tag);
        let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
        let mut top = TopSim::new(&built, cpb).unwrap();
        let id = phasegen_hdl::top::identity(&hw, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
        assert!(id.learns() && id.learns_patterns() && !id.imprints());
        let mut model = DeviceModel::new(&hw, id.to_bytes());
        both(&mut top, &mut model, Cmd::Identify, &[]);
        let sched = Schedule::new(&hw);

        // the host clears W, U and h, sets K and a small frequency
        // mismatch (the nudge needs phases off exact 0 and π)
        for r in hw.rows.iter_mut() {
            for t in r.iter_mut() {
                t.1 = 0;
            }
        }
        hw.h.iter_mut().for_each(|v| *v = 0);
        hw.u.iter_mut().for_each(|v| *v = 0);
        hw.k.iter_mut().for_each(|v| *v = 1 << (hw.fmt.frac - 2));
        for (i, w) in hw.omega.iter_mut().enumerate() {
            *w = ((i as i64 * 5) % 7 - 3) * 20;
        }
        let write = |top: &mut TopSim, model: &mut DeviceModel, b: Block, img: &[u8]| {
            let wb = sched.word_bytes(&hw, b);
            let per = protocol::MAX_WEIGHT_CHUNK / wb;
            for (c, chunk) in img.chunks(per * wb).enumerate() {
                let p = protocol::write_weights_payload(b, c * per, chunk);
                both(top, model, Cmd::WriteWeights, &p);
            }
        };
        for b in [Block::W, Block::U] {
            write(&mut top, &mut model, b, &sched.image(&hw, b));
        }
        let mut wi = vec![0u8, 0];
        wi.extend(std::iter::repeat_n(0u8, hw.topo.inputs));
        both(&mut top, &mut model, Cmd::WriteInput, &wi);

        // two patterns, each from corrupted starts; the last start is
        // the first pattern's negative with two bits kept
        let pats: Vec<Vec<bool>> = (0..2usize)
            .map(|p| (0..n).map(|i| (i * 7 + p * 5 + i * p) % 3 != 1).collect())
            .collect();
        let half = 1u64 << (hw.fmt.phase_bits - 1);
        let mut rng = Rng::new(11);
        let mut agreements = Vec::new();
        let mut cycles = Vec::new();
        for t in 0..7 {
            let p = t % 2;
            let mut start = pats[p].clone();
            if t == 6 {
                start.iter_mut().skip(2).for_each(|b| *b = !*b);
            } else {
                for _ in 0..2 {
                    let i = rng.below(n as u64) as usize;
                    start[i] = !start[i];
                }
            }
            let mut h2 = model.hw.clone();
            h2.omega = hw.omega.clone();
            h2.k = hw.k.clone();
            let jit = half / 8;
            h2.theta0 = start
                .iter()
                .map(|&b| {
                    let j = rng.below(2 * jit) as i64 - jit as i64;
                    wrap(if b { j } else { half as i64 + j }, hw.fmt.phase_bits)
                })
                .collect();
            write(
                &mut top,
                &mut model,
                Block::Osc,
                &sched.image(&h2, Block::Osc),
            );
            let (r, c) = timed(
                &mut top,
                &mut model,
                Cmd::LearnPattern,
                &pattern_payload(&pats[p]),
            );
            cycles.push(c);
            assert_eq!(r[1], Cmd::LearnPattern as u8, "{tag}");
            agreements.push(i16::from_be_bytes([r[3], r[4]]));
        }
        eprintln!(
            "{tag}: agreements {agreements:?}; {} W words; cycles per LearnPattern (request end to reply end, the reply's 5 bytes included) {cycles:?}",
            sched.words.len()
        );
        assert!(
            *agreements.last().unwrap() < 0,
            "{tag}: the negative start agrees negatively"
        );
        // W moved, stayed symmetric, and reads back as the model's
        let w = &model.hw.rows;
        assert!(w.iter().flatten().any(|t| t.1 != 0), "{tag}: W learned");
        for i in 0..n {
            for &(j, v) in &w[i] {
                let back = w[j].iter().find(|t| t.0 == i).unwrap().1;
                assert_eq!(v, back, "{tag}: W[{i}][{j}] symmetric");
            }
        }
        let words = sched.block_words(&model.hw, Block::W);
        let wb = sched.word_bytes(&model.hw, Block::W);
        let per = 255 / wb;
        let mut off = 0;
        while off < words {
            let c = per.min(words - off);
            let mut p = vec![Block::W as u8];
            p.extend(&(off as u32).to_be_bytes()[1..]);
            p.push(c as u8);
            both(&mut top, &mut model, Cmd::ReadWeights, &p);
            off += c;
        }
        // refused: the classifier's Learn, a pattern of the wrong length
        let r = both(&mut top, &mut model, Cmd::Learn, &[0]);
        assert_eq!((r[1], r[3]), (ERROR, ErrCode::UnknownCmd as u8), "{tag}");
        let r = both(&mut top, &mut model, Cmd::LearnPattern, &[0; 3]);
        assert_eq!((r[1], r[3]), (ERROR, ErrCode::BadArgument as u8), "{tag}");
        both(&mut top, &mut model, Cmd::Status, &[]);
    }
}
