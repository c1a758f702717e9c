//! `phasegen memory --onchip`: a Hebbian memory design (the Verilated
//! `pg_top` with `hardware.learning = "hebbian"`, served on a
//! pseudo-terminal) imprints the patterns the host sends, and a learning
//! memory (`learning = "ep"`, `nudge = "pattern"`) learns them by EP;
//! both retrieve them from corrupted starts. Every answer, the learned W
//! and every retrieval's phases equal the twin's, and the report is the
//! twin-only run's.

mod common;

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, PtyServer};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;

/// Runs `phasegen memory --onchip` with `args` on the twin and on the
/// Verilated design of the config `toml` (written to the scratch folder
/// `tag`) served on a pseudo-terminal; both reports, after checking that
/// no retrieval of the `retrievals` differs and the tables are equal.
fn twin_and_device(tag: &str, toml: &str, args: &[&str], retrievals: usize) -> (String, String) {
    let dir = scratch_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg_path = dir.join("memory.toml");
    std::fs::write(&cfg_path, toml).unwrap();
    let cfg = Config::load(&cfg_path).unwrap();
    let hw = quantize(&cfg, &Params::init(&cfg), 1).unwrap().0;
    let built = build_top(&cfg, &hw, &dir.join("gen")).unwrap();
    let server =
        PtyServer::start(built, clocks_per_bit(cfg.target.clock_hz, cfg.target.baud)).unwrap();
    let mut twin_args = vec!["memory", "--onchip", "--config", cfg_path.to_str().unwrap()];
    twin_args.extend(args);
    let (twin, _) = common::ok(&twin_args);
    let mut dev_args = twin_args.clone();
    dev_args.extend(["--port", &server.path]);
    let (dev, _) = common::ok(&dev_args);
    eprintln!("{dev}");
    assert!(
        dev.contains(&format!(
            "Device against twin: 0 of {retrievals} retrievals differ"
        )),
        "{dev}"
    );
    // the same tables (the first line says where it ran)
    let table = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with('|'))
            .map(String::from)
            .collect()
    };
    assert_eq!(table(&dev), table(&twin));
    server.stop().unwrap();
    (twin, dev)
}

#[test]
fn a_hebbian_device_learns_and_recalls_as_its_twin() {
    let (twin, _) = twin_and_device(
        "memory-device",
        "name = 'hebb24'\n[network]\ninputs = 1\nlayers = [24]\nintralayer = true\n[train]\nepochs = 0\n[hardware]\nparams = 'ram'\nlearning = 'hebbian'\nweight_frac = 6\nw_frac = 6\nlanes = 2\n[target]\nbaud = 3000000\n",
        &["--patterns", "2", "--trials", "3", "--corrupt", "0.1", "--run-steps", "80"],
        6,
    );
    assert!(twin.contains("| all | 1.000 | 100% |"), "{twin}");
    // a design that does not learn is refused by name
    let dir = scratch_dir("memory-device");
    let plain = dir.join("plain.toml");
    std::fs::write(
        &plain,
        "name = 'p'\n[network]\ninputs = 1\nlayers = [24]\nintralayer = true\n",
    )
    .unwrap();
    let e = common::fails(&["memory", "--onchip", "--config", plain.to_str().unwrap()]);
    assert!(e.contains("not a learning memory"), "{e}");
}

#[test]
fn an_ep_memory_device_learns_and_recalls_as_its_twin() {
    let (twin, dev) = twin_and_device(
        "memory-device-ep",
        "name = 'mep16'\n[network]\ninputs = 1\nlayers = [16]\nintralayer = true\n[train]\nepochs = 0\nbeta = 2.0\nlr = 0.02\neps = 0.125\nt1 = 40\nt2 = 24\nsymmetric = false\n[hardware]\nparams = 'ram'\nlearning = 'ep'\nnudge = 'pattern'\nweight_frac = 5\nw_frac = 6\nlanes = 2\n[target]\nboard = 'ulx3s-85f'\nclock_hz = 25000000\nbaud = 3000000\n",
        &[
            "--patterns", "2", "--ep-epochs", "4", "--ep-corrupt", "0.15", "--trials", "3",
            "--corrupt", "0.1", "--run-steps", "80",
        ],
        6,
    );
    assert!(
        dev.contains("W read back from the device equals its twin's."),
        "{dev}"
    );
    // the training log has an epoch row each
    assert!(twin.contains("| 4 | "), "{twin}");
}
