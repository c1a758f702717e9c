//! A Hebbian memory design (`hardware.learning = "hebbian"`) behind its
//! UART: the host clears W, sets K and sends patterns (`Imprint`); every
//! reply equals the device model's byte for byte, the couplings it ends
//! with are the patterns' Hebbian sum, and retrievals from corrupted
//! starts (the start written as the initial phases, a Run, ReadPhases)
//! settle to the twin's phases bit for bit and recall the patterns.

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
use phasegen_sim::twin::model::Twin;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::sched::Schedule;

use common::both_timed as both;

#[test]
fn hebbian_design_imprints_and_recalls_as_its_twin() {
    // 16 oscillators on one lane; 20 in two layers (11 and 9, every pair
    // coupled) on 3 lanes: 7 row groups, two of two rows (padding lanes),
    // a group never spanning the layers; 3 pattern bytes, the last partial
    for (tag, layers, lanes, board, clock) in [
        ("uart-hebb-16", "[16]", 1, "icebreaker", 12_000_000),
        ("uart-hebb-20", "[11, 9]", 3, "ulx3s-85f", 25_000_000),
    ] {
        let cfg = Config::parse(
            &format!(
                "name='hb'\n[network]\ninputs=1\nlayers={layers}\nintralayer=true\n[hardware]\nparams='ram'\nlearning='hebbian'\nweight_frac=6\nw_frac=6\nlanes={lanes}\n[target]\nboard='{board}'\nclock_hz={clock}\nbaud=3000000\n"
            ),
            "t",
        )
        .unwrap();
        let mut hw = quantize(&cfg, &Params::init(&cfg), 16).unwrap().0;
        let spec = hw.hebb.expect("a Hebbian design");
        let n = hw.n();
        let dir = scratch_dir(tag);
        let built = build_top(&cfg, &hw, &dir).unwrap();
        common::lint_dir(&dir, None, tag);
        let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
        let mut top = TopSim::new(&built, cpb).unwrap();
        let id = phasegen_hdl::top::identity(&hw, phasegen_hdl::design_id(&cfg.hash_hex(), &hw));
        assert!(id.imprints() && !id.learns());
        let mut model = DeviceModel::new(&hw, id.to_bytes());
        both(&mut top, &mut model, Cmd::Identify, &[]);
        let sched = Schedule::new(&hw);

        // the host clears W and sets the oscillator constants (K, no
        // field, θ0 = 0)
        for r in hw.rows.iter_mut() {
            for t in r.iter_mut() {
                t.1 = 0;
            }
        }
        hw.h.iter_mut().for_each(|v| *v = 0);
        hw.k.iter_mut().for_each(|v| *v = 1 << (hw.fmt.frac - 2));
        let write = |top: &mut TopSim, model: &mut DeviceModel, b: Block, img: &[u8]| {
            let wb = sched.word_bytes(&hw, b);
            let per = protocol::MAX_WEIGHT_CHUNK / wb;
            for (c, chunk) in img.chunks(per * wb).enumerate() {
                let p = protocol::write_weights_payload(b, c * per, chunk);
                both(top, model, Cmd::WriteWeights, &p);
            }
        };
        write(&mut top, &mut model, Block::W, &sched.image(&hw, Block::W));
        write(
            &mut top,
            &mut model,
            Block::Osc,
            &sched.image(&hw, Block::Osc),
        );

        // three patterns imprinted
        let pats: Vec<Vec<bool>> = (0..3usize)
            .map(|p| (0..n).map(|i| (i * 7 + p * 5 + i * p) % 3 != 1).collect())
            .collect();
        let mut cycles = Vec::new();
        for x in &pats {
            cycles.push(both(&mut top, &mut model, Cmd::Imprint, &pattern_payload(x)).1);
        }
        for i in 0..n {
            for &(j, w) in &model.hw.rows[i] {
                let s: i64 = pats.iter().map(|x| if x[i] == x[j] { 1 } else { -1 }).sum();
                assert_eq!(w, spec.step * s, "{tag}: W[{i}][{j}]");
            }
        }
        eprintln!(
            "{tag}: {} W words, {:?} cycles per Imprint (request end to reply)",
            sched.words.len(),
            cycles
        );

        // retrievals: 2 bits of a pattern flipped, the start the initial
        // phases (0 or half a turn, jittered), 60 steps; the device's phases are the
        // model's (the twin's), and the patterns come back
        let half = 1u64 << (hw.fmt.phase_bits - 1);
        let mut rng = Rng::new(7);
        let mut recalled = 0;
        for t in 0..6 {
            let p = t % 3;
            let mut start = pats[p].clone();
            for _ in 0..2 {
                let i = rng.below(n as u64) as usize;
                start[i] = !start[i];
            }
            let mut h2 = model.hw.clone();
            // (with a jitter of up to 1/16 turn: a phase exactly half a
            // turn from its neighbours feels no pull)
            let jit = half / 8;
            h2.theta0 = start
                .iter()
                .map(|&b| {
                    let j = rng.below(2 * jit) as i64 - jit as i64;
                    let base = if b { 0i64 } else { half as i64 };
                    phasegen_sim::twin::qformat::wrap(base + j, hw.fmt.phase_bits)
                })
                .collect();
            write(
                &mut top,
                &mut model,
                Block::Osc,
                &sched.image(&h2, Block::Osc),
            );
            let target = vec![false; hw.topo.classes()];
            both(
                &mut top,
                &mut model,
                Cmd::Run,
                &protocol::run_payload(true, 60, 0, &target),
            );
            let (r, _) = both(&mut top, &mut model, Cmd::ReadPhases, &[0, 0, n as u8]);
            let pb = protocol::phase_bytes(hw.fmt.phase_bits);
            let ph: Vec<u64> = r[3..3 + n * pb]
                .chunks(pb)
                .map(|c| c.iter().fold(0u64, |a, &b| a << 8 | b as u64))
                .collect();
            // the twin from the same start
            let mut tw = Twin::new(&h2);
            tw.load_input(&[0]);
            tw.set_nudge(0, None);
            for _ in 0..60 {
                tw.step();
            }
            let rel: Vec<u64> = tw.theta.clone();
            assert_eq!(
                ph, rel,
                "{tag}: retrieval {t}: the device's phases are the twin's"
            );
            let bits: Vec<bool> = (0..n).map(|i| tw.cos_of(rel[i]) >= 0).collect();
            let same = bits.iter().zip(&pats[p]).filter(|(a, b)| a == b).count();
            recalled += (same == n || same == 0) as usize;
        }
        assert!(recalled >= 4, "{tag}: {recalled} of 6 recalled");
        // refused: a pattern of the wrong length
        let (r, _) = both(&mut top, &mut model, Cmd::Imprint, &[0]);
        if n.div_ceil(8) != 1 {
            assert_eq!((r[1], r[3]), (ERROR, ErrCode::BadArgument as u8), "{tag}");
        }
        both(&mut top, &mut model, Cmd::Status, &[]);
    }
}
