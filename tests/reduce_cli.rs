//! `phasegen reduce` and `phasegen reduce alpha-sweep` through the real
//! binary (the reduction's own checks are unit tests in sim/src/reduce/).

mod common;
use common::{fails, ok, TempDir};

#[test]
fn reduce_writes_plots_and_the_harmonics_table() {
    let t = TempDir::new("reduce");
    let cfg = t.0.join("vdp.toml");
    std::fs::write(
        &cfg,
        "[oscillator]\nkind = 'van-der-pol'\nmu = 0.5\n[coupling]\nkind = 'resistive'\n[reduce]\npoints = 256\nharmonics = 3\n[check]\nepsilon = 0.02\nperiods = 100\nsteps = 64\n",
    )
    .unwrap();
    let out = t.0.join("out");
    let (stdout, _) = ok(&[
        "reduce",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--range-tol",
        "0.05",
    ]);
    for want in [
        "| n | a_n (cos, even) | b_n (sin, odd) |",
        "| 3 |",
        "locking offset",
        "locking range",
    ] {
        assert!(stdout.contains(want), "{want:?} not in {stdout}");
    }
    assert!(!stdout.contains("| 4 |"), "3 harmonics asked for");
    for f in ["prc.svg", "h.svg"] {
        let svg = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{f}");
        assert!(svg.contains("<polyline"), "{f} has no curve");
    }
    let md = std::fs::read_to_string(out.join("reduce.md")).unwrap();
    assert!(md.contains("direct simulation"), "{md}");
}

#[test]
fn bad_oscillator_files_and_flags_are_refused_by_name() {
    let t = TempDir::new("reduce-bad");
    let cfg = t.0.join("bad.toml");
    std::fs::write(&cfg, "[oscillator]\nkind = 'lc'\nl = 1e-6\nc = 1e-9\ngm = 0.02\n[coupling]\nkind = 'resistive'\n").unwrap();
    let e = fails(&["reduce", "--config", cfg.to_str().unwrap()]);
    assert!(
        e.contains("oscillator.g3 is missing") && e.contains("bad.toml"),
        "{e}"
    );
    let e = fails(&["reduce"]);
    assert!(e.contains("--config"), "{e}");
    let e = fails(&["reduce", "alpha-sweep", "--alphas", "0,2.0", "--seeds", "0"]);
    assert!(e.contains("--alphas: 2 is out of range"), "{e}");
    // the hardware computes no phase lag: a model with one is refused there
    let m = t.0.join("m.json");
    let c = t.0.join("c.toml");
    std::fs::write(&c, "name = 'lag'\n[network]\ninputs = 64\nlayers = [4, 10]\n[train]\nepochs = 1\nmax_train = 32\n").unwrap();
    ok(&[
        "train",
        "--config",
        c.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--out",
        m.to_str().unwrap(),
    ]);
    let e = fails(&[
        "gen",
        "--model",
        m.to_str().unwrap(),
        "--out",
        t.0.join("gen").to_str().unwrap(),
    ]);
    assert!(
        e.contains("train.alpha = 0.3") && e.contains("m.json"),
        "{e}"
    );
    let e = fails(&[
        "train",
        "--config",
        c.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--backend",
        "twin",
        "--out",
        m.to_str().unwrap(),
    ]);
    assert!(e.contains("twin and device backends"), "{e}");
    let e = fails(&[
        "train",
        "--config",
        c.to_str().unwrap(),
        "--alpha",
        "3",
        "--out",
        m.to_str().unwrap(),
    ]);
    assert!(e.contains("train.alpha = 3"), "{e}");
}

/// A model trained with extra odd harmonics (no lag) goes through
/// quantize, gen and verify (the core against the twin); a lag, also in the
/// diffusive form, is still refused by name.
#[test]
fn harmonics_deploy_and_a_lag_is_refused() {
    let t = TempDir::new("reduce-harm");
    let m = t.0.join("m.json");
    let c = t.0.join("c.toml");
    std::fs::write(&c, "name = 'harm'\n[network]\ninputs = 64\nlayers = [4, 10]\n[train]\nepochs = 1\nmax_train = 32\n").unwrap();
    let (mp, cp) = (m.to_str().unwrap(), c.to_str().unwrap());
    ok(&[
        "train",
        "--config",
        cp,
        "--harmonics",
        "0,-0.2",
        "--out",
        mp,
    ]);
    let (q, _) = ok(&["quantize", "--model", mp]);
    assert!(q.contains("a_n (harmonics)"), "{q}");
    let g = t.0.join("gen");
    ok(&["gen", "--model", mp, "--out", g.to_str().unwrap()]);
    let core = std::fs::read_to_string(g.join("pg_core.v")).unwrap();
    assert!(core.contains("harm_t3") && !core.contains("harm_t2"));
    let (v, ve) = ok(&["verify", "--model", mp, "--steps", "40", "--samples", "1"]);
    let v = v + &ve;
    assert!(
        v.contains("TESTBENCH OK") && v.contains("140 steps bit-exact"),
        "{v}"
    );
    ok(&[
        "train",
        "--config",
        cp,
        "--harmonics",
        "0,-0.2",
        "--alpha",
        "0.2",
        "--diffusive",
        "--out",
        mp,
    ]);
    let gp = g.to_str().unwrap();
    for args in [
        vec!["quantize", "--model", mp],
        vec!["gen", "--model", mp, "--out", gp],
        vec!["verify", "--model", mp],
    ] {
        let cmd = args[0];
        let e = fails(&args);
        assert!(
            e.contains("train.alpha = 0.2 (diffusive)") && e.contains("alpha = 0 for hardware"),
            "{cmd}: {e}"
        );
    }
}

#[test]
fn alpha_sweep_writes_its_table() {
    let t = TempDir::new("reduce-sweep");
    let (stdout, _) = ok(&[
        "reduce",
        "alpha-sweep",
        "--alphas",
        "0,0.6",
        "--networks",
        "2",
        "--seeds",
        "0",
        "--out",
        t.0.to_str().unwrap(),
    ]);
    assert!(stdout.contains("| sin(ψ − 0) | 0.000 |"), "{stdout}");
    assert!(stdout.contains("| sin(ψ − 0.6) | 0.600 |"), "{stdout}");
    assert!(t.0.join("alpha.svg").exists() && t.0.join("alpha.md").exists());
}
