//! The metacircuit controller's protocol engine (`pg_ctl_top`, Verilated,
//! bit by bit over its UART at 16 clocks per bit) against its reference
//! model (`link::ctlmodel::CtlModel`) under random, corrupted (one flipped
//! bit), truncated and oversized requests and garbage: the same replies
//! byte for byte (Classify and ReadEnergies: the reply's command and
//! length, their values being the analog loop's), and the program RAM read
//! back equal to the model's. `PHASEGEN_FUZZ_FRAMES` sets the bursts (300).

use phasegen::cosim::scratch_dir;
use phasegen::ctlsim::{build_ctl_top, CtlSim};
use phasegen_sim::link::ctlmodel::{CtlModel, Due};
use phasegen_sim::link::protocol::{ctl_request, frame_request, words_payload, CtlCmd, Decoder};
use phasegen_sim::r2nn::circuit::Circuit;
use phasegen_sim::r2nn::ctl::CtlPlan;
use phasegen_sim::r2nn::data::Task;
use phasegen_sim::r2nn::parts::PartTable;
use phasegen_sim::r2nn::realize::{board_scale, realize};
use phasegen_sim::rng::Rng;

const CPB: u64 = 16;

#[test]
fn the_controller_answers_fuzzed_requests_as_its_model() {
    let spec = Task::Tactile.spec();
    let net = spec.net(&spec.init(1)).unwrap();
    let table = PartTable::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/parts/reference.toml"
    )))
    .unwrap();
    let scale = board_scale(&net, &table, Some(100e3), None).unwrap();
    let r = realize(&Circuit::from_net(&net, scale), &table).unwrap();
    let plan = CtlPlan::new(&table, &r, 48e6, 100e3, net.probes.len(), 64).unwrap();
    let built = build_ctl_top(&plan, 48_000_000, 3_000_000, &scratch_dir("fuzz-ctl")).unwrap();
    let mut c = CtlSim::new(&built, &plan, &table, 1.0, 1.0).unwrap();
    c.uart.cpb = CPB;
    let id = phasegen_hdl::ctl_top::identity(&plan, phasegen_hdl::ctl_plan_id(&plan)).to_bytes();
    let prog: Vec<u16> = plan.prog_words.iter().map(|&w| w as u16).collect();
    let rbw = plan.rb_words();
    let mut model = CtlModel::new(id, prog, plan.max_samples, plan.probes, rbw);
    c.sim.set("i_rst", 1).unwrap();
    c.steps(4);
    c.sim.set("i_rst", 0).unwrap();
    let bursts: usize = std::env::var("PHASEGEN_FUZZ_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng::new(1);
    let n = plan.prog_words.len();
    let words = |rng: &mut Rng, k: usize| -> Vec<u64> {
        (0..k).map(|_| (rng.f64() * 65536.0) as u64).collect()
    };
    let pick = |rng: &mut Rng, k: usize| (rng.f64() * k as f64) as usize;
    let (mut replies, mut refused, mut dropped) = (0, 0, 0);
    for b in 0..bursts {
        let kind = pick(&mut rng, 12);
        let mut bytes = match kind {
            0 | 1 => {
                let k = 1 + pick(&mut rng, 20);
                let off = pick(&mut rng, n + 4);
                let w = words(&mut rng, k);
                ctl_request(CtlCmd::WriteCodes, &words_payload(off, &w))
            }
            2 => {
                let parts = rng.f64() < 0.4;
                let depth = if parts { rbw } else { n };
                let off = pick(&mut rng, depth + 2) as u16;
                let mut p = off.to_be_bytes().to_vec();
                p.push(pick(&mut rng, depth.min(127) + 3) as u8);
                let cmd = if parts {
                    CtlCmd::ReadParts
                } else {
                    CtlCmd::ReadCodes
                };
                ctl_request(cmd, &p)
            }
            3 => {
                let k = 1 + pick(&mut rng, 126);
                let off = pick(&mut rng, plan.max_samples + 2);
                ctl_request(CtlCmd::LoadSignal, &words_payload(off, &words(&mut rng, k)))
            }
            4 => ctl_request(CtlCmd::CtlIdentify, &vec![0; pick(&mut rng, 2)]),
            5 => {
                let mut cmd = pick(&mut rng, 256) as u8;
                if (0x10..=0x17).contains(&cmd) {
                    cmd = 0x20;
                }
                let k = pick(&mut rng, 4);
                let payload: Vec<u8> = words(&mut rng, k).iter().map(|&w| w as u8).collect();
                frame_request(cmd, &payload)
            }
            6 => {
                // one flipped bit in a valid frame
                let mut f =
                    ctl_request(CtlCmd::WriteCodes, &words_payload(pick(&mut rng, n), &[1]));
                let at = pick(&mut rng, f.len());
                f[at] ^= 1 << pick(&mut rng, 8);
                f
            }
            7 => {
                let f = ctl_request(CtlCmd::ReadCodes, &[0, 0, 3]);
                f[..pick(&mut rng, f.len())].to_vec()
            }
            8 => (0..1 + pick(&mut rng, 20))
                .map(|_| pick(&mut rng, 256) as u8)
                .collect(),
            9 => {
                let len = if rng.f64() < 0.3 {
                    1 + pick(&mut rng, 8)
                } else if rng.f64() < 0.5 {
                    0
                } else {
                    plan.max_samples + 1 + pick(&mut rng, 100)
                };
                ctl_request(CtlCmd::Classify, &(len as u16).to_be_bytes())
            }
            10 => ctl_request(CtlCmd::ReadEnergies, &vec![0; pick(&mut rng, 2)]),
            _ => {
                if rng.f64() < 0.1 {
                    ctl_request(CtlCmd::Program, &[])
                } else {
                    ctl_request(CtlCmd::Program, &[pick(&mut rng, 256) as u8])
                }
            }
        };
        if bytes.is_empty() {
            bytes.push(0);
        }
        let due = model.push(&bytes);
        c.uart.to_device.extend(&bytes);
        let mut dec = Decoder::default();
        let mut got = vec![];
        let t0 = c.sim.cycles;
        while got.len() < due.len() {
            c.step();
            dec.push(&std::mem::take(&mut c.uart.from_device));
            while let Some(r) = dec.next_frame().unwrap() {
                got.push(r);
            }
            assert!(
                c.sim.cycles - t0 < 2_000_000,
                "burst {b}: no reply to {bytes:02x?} (due {due:?})"
            );
        }
        // idle past the frame timeout: a partial request is dropped
        c.steps(60 * CPB + 12 * CPB * c.uart.to_device.len() as u64);
        while !c.uart.to_device.is_empty() {
            c.steps(CPB);
        }
        c.steps(60 * CPB);
        model.gap();
        dec.push(&std::mem::take(&mut c.uart.from_device));
        while let Some(r) = dec.next_frame().unwrap() {
            got.push(r);
        }
        assert_eq!(
            got.len(),
            due.len(),
            "burst {b}: {bytes:02x?}: replies {got:?}, due {due:?}"
        );
        if due.is_empty() {
            dropped += 1;
        }
        for (r, d) in got.iter().zip(&due) {
            match d {
                Due::Exact(cmd, p) => {
                    assert_eq!((r.cmd, &r.payload), (*cmd, p), "burst {b}: {bytes:02x?}");
                    refused += (r.cmd == 0x7F) as usize;
                }
                Due::Class => {
                    assert_eq!(r.cmd, CtlCmd::Classify as u8, "burst {b}");
                    assert!(
                        r.payload.len() == 1 && (r.payload[0] as usize) < plan.probes,
                        "burst {b}: {r:?}"
                    );
                }
                Due::Parts(k) => {
                    assert_eq!(
                        (r.cmd, r.payload.len()),
                        (CtlCmd::ReadParts as u8, 2 * k),
                        "burst {b}"
                    );
                }
                Due::Energies => {
                    assert_eq!(
                        (r.cmd, r.payload.len()),
                        (CtlCmd::ReadEnergies as u8, 8 * plan.probes),
                        "burst {b}"
                    );
                }
            }
            replies += 1;
        }
    }
    // the program RAM as the model has it
    let mut p = vec![0, 0, n.min(127) as u8];
    let r = c
        .exchange(&ctl_request(CtlCmd::ReadCodes, &p), 1_000_000)
        .unwrap();
    let want: Vec<u8> = model.prog[..n.min(127)]
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .collect();
    assert_eq!(r.payload, want);
    p.clear();
    println!("fuzz_ctl: {bursts} bursts, {replies} replies ({refused} refusals), {dropped} bursts dropped unanswered, all as the model says");
}
