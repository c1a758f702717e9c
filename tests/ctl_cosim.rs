//! The metacircuit controller (`pg_ctl`) in a closed loop: the Verilated
//! controller, the part models decoding its SPI pins, and the circuit built
//! from the decoded values, stepped at every DAC update.
//!
//! - start-up programming: every chain's frames are the plan's, bit for bit,
//!   every element's decoded value is the realized one, and what the parts
//!   answered to the readback (the rheostats' RDAC codes, the switch
//!   chain's echo) is what the program says;
//! - 20 test signals of the tactile task: the DAC frames are the signal's
//!   codes, the ADC frames the plan's, the controller's energies equal the
//!   reference model's on the ADC codes bit for bit, its class equals the
//!   class of the circuit run offline with the realized values, and its
//!   energies are within `Σ|x| + n/4` ADC steps² of that circuit's (the
//!   rounding bound, `r2nn::ctl::energy_bound`);
//! - a sequencer with an off-by-one start address is caught by the decoded
//!   values and by the controller's own readback, an open data line of a
//!   chain by the readback, ADC data lines wired crosswise by the energy
//!   bound, and an ADC clocked above its maximum by the ADC model.

use phasegen::cosim::scratch_dir;
use phasegen::ctlsim::{build_ctl, CtlSim, Edit};
use phasegen_sim::r2nn::circuit::Circuit;
use phasegen_sim::r2nn::ctl::{
    argmax, board_circuit, dac_code, dac_force, energy_bound, value_mismatches, CtlPlan, Stepper,
};
use phasegen_sim::r2nn::data::{Signals, Task};
use phasegen_sim::r2nn::parts::PartTable;
use phasegen_sim::r2nn::realize::{board_scale, realize, Realized};
use phasegen_sim::r2nn::spi::{words, Ads8688};
use phasegen_sim::r2nn::spice::integrated_force;
use phasegen_sim::r2nn::train::{train, TrainOptions};
use std::time::Instant;

const PARTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/parts/reference.toml");
const CLOCK: f64 = 48e6;
const RATE: f64 = 100e3;
const LEN: usize = 120;
const SIGNALS: usize = 20;

struct Setup {
    table: PartTable,
    realized: Realized,
    plan: CtlPlan,
    test: Signals,
    full_scale: f64,
    volts_per_unit: f64,
}

/// A tactile model trained briefly, realized on the reference parts at
/// 100 k samples/s, and the controller's plan at 48 MHz.
fn setup() -> Setup {
    let task = Task::Tactile;
    let spec = task.spec();
    let data = task.generate(96, LEN, 3);
    let (tr, test) = data.split(SIGNALS as f64 / 96.0, 3).unwrap();
    let mut opts = TrainOptions::for_task(task);
    opts.epochs = 2;
    opts.batch = 16;
    opts.sweep = 0;
    let params = train(&spec, spec.init(1), &tr, &test, &opts, &mut |_, _| {}).unwrap();
    let net = spec.net(&params).unwrap();
    let table = PartTable::load(std::path::Path::new(PARTS)).unwrap();
    let scale = board_scale(&net, &table, Some(RATE), None).unwrap();
    let realized = realize(&Circuit::from_net(&net, scale), &table).unwrap();
    let plan = CtlPlan::new(&table, &realized, CLOCK, RATE, net.probes.len(), 256).unwrap();
    let full_scale = (0..test.count())
        .flat_map(|i| integrated_force(test.signal(i), 1))
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let volts_per_unit = scale.z0 * table.input.full_scale_amps / full_scale;
    Setup {
        table,
        realized,
        plan,
        test,
        full_scale,
        volts_per_unit,
    }
}

/// The DAC codes of a signal: its integrated force, sample by sample.
fn codes_of(x: &[f32], full_scale: f64) -> Vec<u64> {
    integrated_force(x, 1)[1..]
        .iter()
        .map(|&f| dac_code(f, full_scale))
        .collect()
}

fn sim(s: &Setup, plan: &CtlPlan, tag: &str, edit: Option<Edit>) -> CtlSim {
    let built = build_ctl(plan, &scratch_dir(tag), edit).unwrap();
    CtlSim::new(&built, plan, &s.table, s.volts_per_unit, s.full_scale).unwrap()
}

/// The circuit run offline on the same DAC codes: probe values in ADC
/// steps, sample by sample.
fn offline(stepper: &mut Stepper, codes: &[u64], s: &Setup) -> Vec<Vec<f64>> {
    stepper.reset();
    let lsb = Ads8688::lsb(2).unwrap();
    let mut x = vec![vec![]; s.plan.probes];
    for &c in codes {
        for (p, v) in stepper
            .sample(dac_force(c, s.full_scale))
            .iter()
            .enumerate()
        {
            x[p].push(v * s.volts_per_unit / lsb);
        }
    }
    x
}

#[test]
fn the_controller_programs_the_board_and_classifies_in_a_closed_loop() {
    let t0 = Instant::now();
    let s = setup();
    let mut c = sim(&s, &s.plan, "ctl-cosim", None);
    let t_build = t0.elapsed();
    let prog_budget = 400_000;
    c.reset_and_program(prog_budget).unwrap();
    let prog_cycles = c.sim.cycles;
    // every chain got the plan's frames, bit for bit
    let expect = s.plan.prog_frames(&s.plan.prog_words);
    for (i, ch) in c.chains.iter().enumerate() {
        let got: Vec<Vec<u64>> = ch
            .spi()
            .log
            .iter()
            .map(|b| words(b, s.plan.prog[i].frame_bits as usize))
            .collect();
        assert_eq!(got, expect[i], "frames on bus {}", s.plan.prog[i].bus);
    }
    let values = c.build_circuit(&s.table, &s.realized).unwrap();
    assert_eq!(value_mismatches(&s.realized, &values), Vec::<String>::new());
    // the parts' answers, read back by the controller
    let rb = c.read_ram(true, s.plan.rb_words()).unwrap();
    assert_eq!(
        s.plan.readback_errors(&s.plan.prog_words, &rb, &s.realized),
        Vec::<String>::new()
    );
    assert_eq!(rb, s.plan.expected_readback(&s.plan.prog_words));
    assert_eq!(
        c.read_ram(false, s.plan.prog_words.len()).unwrap(),
        s.plan.prog_words
    );
    // the offline circuit: the realized values, the same stepper
    let mut off = Stepper::new(&s.realized.circuit.to_net());
    let mut worst = 0.0f64;
    let mut sim_cycles = 0;
    let (mut per_class, mut correct, mut peak) = (vec![0usize; s.plan.probes], 0, 0.0f64);
    let t_loop = Instant::now();
    for i in 0..SIGNALS {
        let codes = codes_of(s.test.signal(i), s.full_scale);
        let before = c.adcs[0].spi.log.len();
        let run = c.classify(&codes, 10 * s.plan.period * LEN as u64).unwrap();
        sim_cycles += run.cycles;
        // the frames on the wires
        assert_eq!(c.dac_log, codes, "signal {i}: DAC codes");
        let adc: Vec<u64> = c.adcs[0].spi.log[before..]
            .iter()
            .map(|b| words(b, 32)[0])
            .collect();
        assert_eq!(adc, s.plan.adc_words(LEN), "signal {i}: ADC frames");
        // the integer reference, bit for bit
        assert_eq!(run.energies, run.reference, "signal {i}: energies");
        assert_eq!(run.class, argmax(&run.reference), "signal {i}: class");
        // against the circuit offline
        let x = offline(&mut off, &codes, &s);
        let exact: Vec<f64> = x.iter().map(|v| v.iter().map(|a| a * a).sum()).collect();
        let best = (0..exact.len())
            .max_by(|&a, &b| exact[a].total_cmp(&exact[b]).then(b.cmp(&a)))
            .unwrap();
        per_class[run.class] += 1;
        correct += (run.class == s.test.labels[i]) as usize;
        peak = x.iter().flatten().fold(peak, |m, v| m.max(v.abs()));
        assert_eq!(run.class, best, "signal {i}: controller class {} vs the offline circuit's {best} (energies {:?} vs {exact:?})", run.class, run.energies);
        for p in 0..x.len() {
            let bound = energy_bound(&x[p]);
            let d = (run.energies[p] as f64 - exact[p]).abs();
            assert!(d <= bound, "signal {i} probe {p}: energy {} vs offline {:.1}: off by {d:.1} > bound {bound:.1}", run.energies[p], exact[p]);
            worst = worst.max(d / bound);
            // and the codes are the offline values rounded (no clipping)
            for (k, (&q, &xv)) in run.codes[p].iter().zip(&x[p]).enumerate() {
                let qv = phasegen_sim::r2nn::ctl::signed_code(q) as f64;
                assert!(
                    (qv - xv).abs() <= 0.5 + 1e-6,
                    "signal {i} probe {p} sample {k}: code {qv} vs {xv:.3}"
                );
            }
        }
    }
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    assert_eq!(
        c.adcs.iter().map(|a| a.clipped).sum::<u64>(),
        0,
        "ADC codes clipped"
    );
    let secs = t_loop.elapsed().as_secs_f64();
    println!(
        "pg_ctl closed loop: built in {:.1} s; programming {prog_cycles} cycles ({:.2} ms at {} MHz); {SIGNALS} signals of {LEN} samples, {sim_cycles} cycles in {secs:.2} s ({:.2} M cycles/s, {:.0} samples/s simulated); energy difference to the offline circuit at most {:.1}% of the rounding bound; classes {per_class:?}, {correct}/{SIGNALS} right; probes peak at {peak:.0} ADC steps",
        t_build.as_secs_f64(),
        prog_cycles as f64 / CLOCK * 1e3,
        CLOCK / 1e6,
        sim_cycles as f64 / secs / 1e6,
        (SIGNALS * LEN) as f64 / secs,
        100.0 * worst
    );
}

#[test]
fn an_off_by_one_in_the_sequencer_is_caught_by_the_decoded_values() {
    let s = setup();
    // the rheostat codes' transaction starts one word late: the generated
    // text has its start address in the transaction table, `seq_addr <=
    // N'hS;` (the table is written twice: the first transaction and the
    // next one)
    let tr = data_transaction(&s.plan, "rheo");
    let pa = phasegen_sim::r2nn::ctl::clog2(s.plan.prog_words.len() as u64);
    let from = format!("seq_addr <= {pa}'h{:x};", tr.start);
    let to = format!("seq_addr <= {pa}'h{:x};", tr.start + 1);
    let edit = move |name: &str, text: &str| {
        if name != "pg_ctl.v" {
            return text.to_string();
        }
        assert!(text.contains(&from), "{from} in the generated text");
        text.replace(&from, &to)
    };
    let mut c = sim(&s, &s.plan, "ctl-mutant", Some(&edit));
    c.reset_and_program(400_000).unwrap();
    let decoded = c.decoded(&s.table).unwrap();
    let caught = match board_circuit(&s.table, &s.realized, &decoded) {
        Err(e) => format!("refused: {e}"),
        Ok((_, values)) => value_mismatches(&s.realized, &values).join("; "),
    };
    assert!(
        !caught.is_empty(),
        "the mutant's board decoded to the realized values"
    );
    println!(
        "off-by-one mutant caught: {}",
        &caught[..caught.len().min(200)]
    );
    // and by the controller itself, as `r2nn deploy` on a board sees it
    let rb = c.read_ram(true, s.plan.rb_words()).unwrap();
    let wrong = s.plan.readback_errors(&s.plan.prog_words, &rb, &s.realized);
    assert!(
        wrong.iter().any(|w| w.starts_with("bus rheo chip")),
        "the mutant's readback: {wrong:?}"
    );
    println!("and by its readback: {}", wrong[0]);
}

/// The transaction writing `bus`'s chips their data words.
fn data_transaction(plan: &CtlPlan, bus: &str) -> phasegen_sim::r2nn::ctl::Transaction {
    let r = plan
        .readback
        .iter()
        .find(|r| plan.prog[r.chain].bus == bus)
        .unwrap();
    plan.transactions
        .iter()
        .find(|t| t.chain == r.chain && t.start == r.data && t.capture.is_none())
        .unwrap()
        .clone()
}

#[test]
fn an_open_data_line_of_a_chain_is_caught_by_the_readback() {
    let s = setup();
    let mut c = sim(&s, &s.plan, "ctl-cosim", None);
    let bank = s.plan.prog.iter().position(|p| p.bus == "bank").unwrap();
    c.open_sdo = Some(bank);
    c.reset_and_program(400_000).unwrap();
    // the parts are programmed right, but their answers do not come back
    let values = c.build_circuit(&s.table, &s.realized).unwrap();
    assert_eq!(value_mismatches(&s.realized, &values), Vec::<String>::new());
    let rb = c.read_ram(true, s.plan.rb_words()).unwrap();
    let wrong = s.plan.readback_errors(&s.plan.prog_words, &rb, &s.realized);
    let chips = s.plan.prog[bank].chips;
    // every bank chip whose word is not all ones
    let r = s.plan.readback.iter().find(|r| r.chain == bank).unwrap();
    let differ = (0..chips)
        .filter(|&k| s.plan.prog_words[r.data + k] != 0xff)
        .count();
    assert!(differ > 0);
    assert_eq!(wrong.len(), differ, "{wrong:?}");
    assert!(
        wrong
            .iter()
            .all(|w| w.contains("bus bank chip") && w.contains("answers 0x00ff")),
        "{wrong:?}"
    );
    println!("open bank SDO: {}", wrong[0]);
}

#[test]
fn crossed_adc_data_lines_and_a_too_fast_adc_clock_are_caught() {
    let s = setup();
    let mut c = sim(&s, &s.plan, "ctl-cosim", None);
    c.reset_and_program(400_000).unwrap();
    c.build_circuit(&s.table, &s.realized).unwrap();
    c.swap_miso = true;
    let mut off = Stepper::new(&s.realized.circuit.to_net());
    let mut caught = false;
    for i in 0..4 {
        let codes = codes_of(s.test.signal(i), s.full_scale);
        let run = c.classify(&codes, 10 * s.plan.period * LEN as u64).unwrap();
        let x = offline(&mut off, &codes, &s);
        for (xp, &e) in x.iter().zip(&run.energies) {
            let exact: f64 = xp.iter().map(|a| a * a).sum();
            if (e as f64 - exact).abs() > energy_bound(xp) {
                caught = true;
            }
        }
    }
    assert!(
        caught,
        "crossed ADC data lines gave energies within the bound"
    );
    // 24 MHz SCLK on a 17 MHz ADC
    let mut fast = s.plan.clone();
    fast.adc.div = 1;
    let mut c = sim(&s, &fast, "ctl-fast", None);
    c.reset_and_program(400_000).unwrap();
    c.classify(&codes_of(s.test.signal(0), s.full_scale)[..8], 100_000)
        .unwrap();
    let v = c.violations();
    assert!(
        v.iter().any(|m| m.contains("SCLK too fast")),
        "no timing violation flagged: {v:?}"
    );
}

/// `pg_ctl_top` over its UART at 48 MHz and 3 Mbaud (16 clocks per bit):
/// CtlIdentify, ReadCodes of the start-up program, a changed code written,
/// read back and programmed into the parts, three signals loaded,
/// classified and their energies read (equal to the reference model's on
/// the ADC codes, the class to the offline circuit's), and refused
/// requests (bad CRC, unknown command, bad arguments) that change nothing.
#[test]
fn the_controller_answers_the_protocol_over_its_uart() {
    use phasegen::ctlsim::build_ctl_top;
    use phasegen_sim::link::protocol::{
        crc8, ctl_request, words_payload, CtlCmd, CtlIdentity, ErrCode, ERROR, MAX_CTL_WORDS,
    };
    let s = setup();
    let (clock, baud) = (48_000_000u64, 3_000_000u64);
    let built = build_ctl_top(&s.plan, clock, baud, &scratch_dir("ctl-uart")).unwrap();
    let mut c = CtlSim::new(&built, &s.plan, &s.table, s.volts_per_unit, s.full_scale).unwrap();
    c.uart.cpb = 16;
    c.sim.set("i_rst", 1).unwrap();
    c.steps(4);
    c.sim.set("i_rst", 0).unwrap();
    let t = 2_000_000;
    let ask = |c: &mut CtlSim, cmd: CtlCmd, payload: &[u8]| {
        let r = c.exchange(&ctl_request(cmd, payload), t).unwrap();
        assert_eq!(r.cmd, cmd as u8, "{cmd:?} answered {r:?}");
        r.payload
    };
    // identity (answered once the start-up programming is done)
    let id = CtlIdentity::parse(&ask(&mut c, CtlCmd::CtlIdentify, &[])).unwrap();
    assert_eq!(
        id,
        phasegen_hdl::ctl_top::identity(&s.plan, phasegen_hdl::ctl_plan_id(&s.plan))
    );
    let n = s.plan.prog_words.len();
    let read_all = |c: &mut CtlSim| -> Vec<u64> {
        let mut v = vec![];
        for off in (0..n).step_by(100) {
            let k = (n - off).min(100);
            let mut p = (off as u16).to_be_bytes().to_vec();
            p.push(k as u8);
            let r = c.exchange(&ctl_request(CtlCmd::ReadCodes, &p), t).unwrap();
            assert_eq!(r.cmd, CtlCmd::ReadCodes as u8, "{r:?}");
            v.extend(
                r.payload
                    .chunks(2)
                    .map(|w| u16::from_be_bytes([w[0], w[1]]) as u64),
            );
        }
        v
    };
    assert_eq!(read_all(&mut c), s.plan.prog_words);
    // the parts' answers to the start-up readback
    let m = s.plan.rb_words();
    assert_eq!(id.readback_words as usize, m);
    let read_parts = |c: &mut CtlSim| -> Vec<u64> {
        let r = c
            .exchange(&ctl_request(CtlCmd::ReadParts, &[0, 0, m as u8]), t)
            .unwrap();
        assert_eq!(r.cmd, CtlCmd::ReadParts as u8, "{r:?}");
        r.payload
            .chunks(2)
            .map(|w| u16::from_be_bytes([w[0], w[1]]) as u64)
            .collect()
    };
    assert_eq!(
        read_parts(&mut c),
        s.plan.expected_readback(&s.plan.prog_words)
    );
    // change the first rheostat code, program, decode
    let tr = data_transaction(&s.plan, "rheo");
    let at = tr.start + 3;
    let old = s.plan.prog_words[at];
    let new = if old & 0x3ff < 1000 { old + 1 } else { old - 1 };
    assert!(ask(&mut c, CtlCmd::WriteCodes, &words_payload(at, &[new])).is_empty());
    let mut want = s.plan.prog_words.clone();
    want[at] = new;
    assert_eq!(read_all(&mut c), want);
    assert!(ask(&mut c, CtlCmd::Program, &[]).is_empty());
    let decoded = c.decoded(&s.table).unwrap();
    let chip = s.plan.prog[tr.chain].chips - 1 - 3;
    assert_eq!(
        decoded["rheo"][chip], new,
        "rheostat chip {chip} after Program"
    );
    // the part answers its new code
    let rb = read_parts(&mut c);
    assert_eq!(rb, s.plan.expected_readback(&want));
    let wrong = s.plan.readback_errors(&s.plan.prog_words, &rb, &s.realized);
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert!(
        wrong[0].starts_with(&format!("bus rheo chip {chip} (")),
        "{wrong:?}"
    );
    assert!(ask(&mut c, CtlCmd::WriteCodes, &words_payload(at, &[old])).is_empty());
    assert!(ask(&mut c, CtlCmd::Program, &[]).is_empty());
    let values = c.build_circuit(&s.table, &s.realized).unwrap();
    assert_eq!(value_mismatches(&s.realized, &values), Vec::<String>::new());
    // refused requests change nothing
    let mut bad = ctl_request(CtlCmd::WriteCodes, &words_payload(0, &[0x1234]));
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let refusals = [
        (bad, ErrCode::BadCrc),
        (
            phasegen_sim::link::protocol::request(phasegen_sim::link::protocol::Cmd::Identify, &[]),
            ErrCode::UnknownCmd,
        ),
        (
            ctl_request(CtlCmd::WriteCodes, &words_payload(n, &[1])),
            ErrCode::BadArgument,
        ),
        (
            ctl_request(CtlCmd::WriteCodes, &[0, 0, 1]),
            ErrCode::BadArgument,
        ),
        (
            ctl_request(CtlCmd::ReadCodes, &[0, 0, 0]),
            ErrCode::BadArgument,
        ),
        (
            ctl_request(CtlCmd::ReadParts, &[0, 1, m as u8]),
            ErrCode::BadArgument,
        ),
        (ctl_request(CtlCmd::Classify, &[0, 0]), ErrCode::BadArgument),
        (
            ctl_request(
                CtlCmd::Classify,
                &(s.plan.max_samples as u16 + 1).to_be_bytes(),
            ),
            ErrCode::BadArgument,
        ),
        (
            ctl_request(CtlCmd::LoadSignal, &words_payload(s.plan.max_samples, &[1])),
            ErrCode::BadArgument,
        ),
        (ctl_request(CtlCmd::Program, &[1]), ErrCode::BadArgument),
    ];
    for (req, code) in refusals {
        let r = c.exchange(&req, t).unwrap();
        assert_eq!(
            (r.cmd, r.payload.clone()),
            (ERROR, vec![code as u8]),
            "{req:02x?}"
        );
        assert_eq!(crc8(&[r.cmd, 1, code as u8]), crc8(&[ERROR, 1, code as u8]));
    }
    assert_eq!(read_all(&mut c), s.plan.prog_words);
    // three signals, classified over the UART
    let mut off = Stepper::new(&s.realized.circuit.to_net());
    for i in 0..3 {
        let codes = codes_of(s.test.signal(i), s.full_scale);
        for (k, chunk) in codes.chunks(MAX_CTL_WORDS).enumerate() {
            assert!(ask(
                &mut c,
                CtlCmd::LoadSignal,
                &words_payload(k * MAX_CTL_WORDS, chunk)
            )
            .is_empty());
        }
        c.clear_logs();
        let class = ask(&mut c, CtlCmd::Classify, &(LEN as u16).to_be_bytes());
        assert_eq!(c.dac_log, codes, "signal {i}: DAC codes");
        let e: Vec<u64> = ask(&mut c, CtlCmd::ReadEnergies, &[])
            .chunks(8)
            .map(|b| u64::from_be_bytes(b.try_into().unwrap()))
            .collect();
        let reference = phasegen_sim::r2nn::ctl::energies(&c.probe_codes(LEN).unwrap());
        assert_eq!(e, reference, "signal {i}: energies");
        assert_eq!(class, vec![argmax(&reference) as u8], "signal {i}: class");
        let x = offline(&mut off, &codes, &s);
        let exact: Vec<f64> = x.iter().map(|v| v.iter().map(|a| a * a).sum()).collect();
        let best = (0..exact.len())
            .max_by(|&a, &b| exact[a].total_cmp(&exact[b]).then(b.cmp(&a)))
            .unwrap();
        assert_eq!(
            class[0] as usize, best,
            "signal {i}: class vs the offline circuit"
        );
    }
    assert!(c.violations().is_empty(), "{:?}", c.violations());
}
