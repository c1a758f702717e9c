//! The on-chip update engine (`pg_learn`, in the core it learns in:
//! `pg_lcore`) under Verilator against the twin's learning step: after
//! every sample of a run, the words it writes to the core equal the twin's
//! updated parameters, word for word; a deliberately wrong engine is
//! caught.

mod common;

use phasegen::cosim::scratch_dir;
use phasegen::learnsim::{build, expected_writes, LearnSim};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::learn::{LearnSpec, Learner, Rounding};
use phasegen_sim::twin::quant::{beta_int, quantize};

fn learner(cfg: &str, symmetric: bool) -> Learner {
    let c = Config::parse(cfg, "t").unwrap();
    let hw = quantize(&c, &Params::init(&c), 16).unwrap().0;
    let b = beta_int(&hw.fmt, 0.5);
    let spec = LearnSpec::new(
        &hw.fmt,
        b,
        symmetric,
        25,
        10,
        0.05,
        0.05,
        8,
        Rounding::Shadow,
    )
    .unwrap();
    Learner::new(hw, spec)
}

fn input(n: usize, s: u64) -> Vec<u64> {
    (0..n as u64)
        .map(|k| (k * 7 + s * 5 + k * k * s) % 16)
        .collect()
}

/// Runs `samples` samples through the twin and the engine; the first
/// mismatch, if any.
fn run(l: &mut Learner, sim: &mut LearnSim, samples: u64) -> Result<u64, String> {
    let ni = l.hw.topo.inputs;
    let classes = l.hw.topo.classes();
    let mut cycles = 0;
    for s in 0..samples {
        let x = input(ni, s);
        let (st, _) = l.states(&x, (s as usize) % classes);
        let got = sim.update(&x, &st).map_err(|e| e.to_string())?;
        l.update(&x, &st);
        let want = expected_writes(&l.hw);
        for (blk, g, w) in [
            ("W", &got.w, &want.w),
            ("U", &got.u, &want.u),
            ("osc", &got.o, &want.o),
        ] {
            if g.len() != w.len() {
                return Err(format!(
                    "sample {s}: {} {blk} words written, {} expected",
                    g.len(),
                    w.len()
                ));
            }
            if let Some((a, b)) = g.iter().zip(w).find(|(a, b)| a != b) {
                return Err(format!(
                    "sample {s}: {blk} word {} is {:#x}, the twin's {:#x}",
                    b.0, a.1, b.1
                ));
            }
        }
        cycles = got.cycles;
    }
    Ok(cycles)
}

/// One learning step per sample in RTL (the core's runs under the
/// engine's sequencer): the free class and every written word equal the
/// twin's `Learner::learn`.
fn learn_steps(l: &mut Learner, sim: &mut LearnSim, samples: u64, tag: &str) -> u64 {
    let classes = l.hw.topo.classes();
    let mut cycles = 0;
    for s in 0..samples {
        let x = input(l.hw.topo.inputs, s + 100);
        let label = (s as usize * 3) % classes;
        let (class, got) = sim.learn(&x, label).unwrap();
        let want_class = l.learn(&x, label);
        assert_eq!(class, want_class, "{tag}: sample {s}: free class");
        let want = expected_writes(&l.hw);
        assert_eq!(got.w, want.w, "{tag}: sample {s}: W");
        assert_eq!(got.u, want.u, "{tag}: sample {s}: U");
        assert_eq!(got.o, want.o, "{tag}: sample {s}: oscillator words");
        cycles = got.cycles;
    }
    cycles
}

/// The engine in the core it learns in (`pg_lcore`): update passes from
/// given states, then whole learning steps; after every sample the words
/// written equal the twin's. Sixteen lanes symmetric (the low parts' word
/// split over two memories, U words with padding lanes), and the digits
/// shape (64-32-10) one-sided.
#[test]
fn engine_writes_the_twins_update_for_every_sample() {
    for (tag, cfg, sym) in [
        (
            "learn-small-16lanes",
            "name='ls'\n[network]\ninputs=16\nlayers=[16,4]\n[hardware]\nparams='ram'\nlanes=16\nweight_frac=4\nw_frac=5\nu_frac=6\n[target]\nboard='ulx3s-85f'\nclock_hz=25000000\n",
            true,
        ),
        (
            "learn-digits",
            "name='ld'\n[network]\ninputs=64\nlayers=[32,10]\n[hardware]\nparams='ram'\nweight_frac=5\nw_frac=5\nu_frac=6\n",
            false,
        ),
    ] {
        let mut l = learner(cfg, sym);
        let before = l.hw.clone();
        let dir = scratch_dir(tag);
        let built = build(&l.hw, &l.spec, &dir, None).unwrap();
        // lint clean (verilator -Wall, yosys check -assert) and reproducible
        common::lint_dir(&dir, Some("pg_lcore"), tag);
        let again = phasegen_hdl::vlog::file(
            &["pg_learn.v: test build".into()],
            &[&phasegen_hdl::learn::generate(&l.hw, &l.spec)],
        );
        assert_eq!(std::fs::read_to_string(dir.join("pg_learn.v")).unwrap(), again);
        let mut sim = LearnSim::new(&built).unwrap();
        let cycles = run(&mut l, &mut sim, 6).unwrap_or_else(|e| panic!("{tag}: {e}"));
        assert_ne!(l.hw.rows, before.rows, "{tag}: nothing learned");
        assert_ne!(l.hw.u, before.u, "{tag}: U not learned");
        let step = learn_steps(&mut l, &mut sim, 4, tag);
        println!(
            "{tag}: {} lanes, {} W words, {} inputs: {cycles} cycles per update pass, {step} per learning step",
            built_lanes(&l),
            phasegen_sim::twin::sched::Schedule::new(&l.hw).words.len(),
            l.hw.topo.inputs
        );
    }
}

fn built_lanes(l: &Learner) -> usize {
    phasegen_sim::twin::sched::Schedule::new(&l.hw).lanes
}

/// A wrong engine is caught: the fold left out for the `+β` state, the
/// sign of `d` flipped, the increment's rounding made a floor.
#[test]
fn a_wrong_engine_is_caught() {
    let cfg = "name='lm'\n[network]\ninputs=16\nlayers=[8,4]\n[hardware]\nparams='ram'\nlanes=2\nweight_frac=4\nw_frac=5\nu_frac=6\n";
    let l0 = learner(cfg, true);
    let text = phasegen_hdl::vlog::file(
        &["pg_learn.v: test build".into()],
        &[&phasegen_hdl::learn::generate(&l0.hw, &l0.spec)],
    );
    // (the line's start, what in it changes, to what)
    let mutants = [
        ("    assign fold_p =", "? fold_p_n :", "? fold_p_d :"),
        ("    assign d =", "cp}) - $signed", "cp}) + $signed"),
        ("    assign inc0_r_sum =", ") + ", ") - "),
    ];
    for (k, (line, from, to)) in mutants.iter().enumerate() {
        let at = text.find(line).unwrap_or_else(|| panic!("no line {line}"));
        let end = at + text[at..].find('\n').unwrap();
        let l = &text[at..end];
        assert!(l.contains(from), "{from} not in {l}");
        let bad = format!("{}{}{}", &text[..at], l.replacen(from, to, 1), &text[end..]);
        let mut lr = l0.clone();
        let dir = scratch_dir(&format!("learn-mutant-{k}"));
        let built = build(&lr.hw, &lr.spec, &dir, Some(&bad)).unwrap();
        let mut sim = LearnSim::new(&built).unwrap();
        let e = run(&mut lr, &mut sim, 6)
            .expect_err(&format!("mutant {l} ({from} -> {to}) not caught"));
        println!("mutant {from} -> {to}: {e}");
    }
}

/// An epoch on the digits in RTL: a 64-8-10 learning design learns 120
/// training images in order, the free class of every sample equals the
/// twin's, and after the epoch every parameter word equals the twin's.
#[test]
fn an_epoch_of_digits_in_rtl_ends_with_the_twins_weights() {
    let data = phasegen_sim::data::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits-8x8"
    )))
    .unwrap();
    let c = Config::parse(
        "name='le'\n[network]\ninputs=64\nlayers=[8,10]\n[train]\nt1=30\nt2=10\n[hardware]\nparams='ram'\nweight_frac=5\nw_frac=5\nu_frac=6\n",
        "t",
    )
    .unwrap();
    let hw = quantize(&c, &Params::init(&c), data.train.max_pixel)
        .unwrap()
        .0;
    let b = beta_int(&hw.fmt, c.train.beta);
    let spec = LearnSpec::new(&hw.fmt, b, true, 30, 10, 0.02, 0.02, 8, Rounding::Shadow).unwrap();
    let mut l = Learner::new(hw, spec);
    let built = build(&l.hw, &l.spec, &scratch_dir("lcore-digits"), None).unwrap();
    let mut sim = LearnSim::new(&built).unwrap();
    let (mut last, mut agree, mut right) = (None, 0, 0);
    let n = 120;
    for i in 0..n {
        let x = l.hw.inputs_of_image(data.train.image(i));
        let label = data.train.labels[i] as usize;
        let (class, got) = sim.learn(&x, label).unwrap();
        let want = l.learn(&x, label);
        assert_eq!(class, want, "sample {i}: free class");
        agree += 1;
        right += (class == label) as usize;
        last = Some(got);
    }
    let got = last.unwrap();
    let want = expected_writes(&l.hw);
    assert_eq!(got.w, want.w, "W after the epoch");
    assert_eq!(got.u, want.u, "U after the epoch");
    assert_eq!(got.o, want.o, "h after the epoch");
    println!(
        "{agree} samples, classes equal; training accuracy {right}/{n}; {} cycles per learning step",
        got.cycles
    );
}

/// The learning design's iCE40 netlist (Yosys `synth_ice40 -dsp -spram`,
/// the shadows' low parts in an SB_SPRAM256KA, the cell models Yosys
/// ships): a few learning samples, each free class and written word the
/// twin's.
#[test]
fn ice40_netlist_learns_as_the_twin_does() {
    let cfg = "name='ln'\n[network]\ninputs=16\nlayers=[8,4]\n[hardware]\nparams='ram'\nlanes=2\nweight_frac=4\nw_frac=5\nu_frac=6\n";
    let mut l = learner(cfg, true);
    l.hw.spram = true;
    let mut flow = phasegen::netlist::Flow::ice40().unwrap();
    flow.synth.push_str(" -spram");
    let dir = scratch_dir("lcore-netlist-ice40");
    let built = phasegen::learnsim::build_netlist(&l.hw, &l.spec, &dir, &flow).unwrap();
    let nl = std::fs::read_to_string(dir.join("pg_lcore.ice40.nl.v")).unwrap();
    assert!(
        nl.contains("SB_SPRAM256KA"),
        "the low parts are not in SPRAM"
    );
    let mut sim = LearnSim::new(&built).unwrap();
    let before = l.hw.clone();
    let step = learn_steps(&mut l, &mut sim, 3, "ice40 netlist");
    assert_ne!(l.hw.rows, before.rows, "nothing learned");
    println!("ice40 netlist: {step} cycles per learning step");
}
