//! `phasegen r2nn deploy` through the real binary against the simulated
//! metacircuit board on a pseudo-terminal (`ctlsim::CtlPtyServer`, what
//! `r2nn serve-board` runs): it programs the codes, verifies them in the
//! program RAM and in the parts (their readback), classifies
//! test signals with the controller in the loop and prints the accuracy
//! and the confusion matrix; a controller built for another plan is
//! refused by name.

use phasegen::cosim::scratch_dir;
use phasegen::ctlsim::{board_setup, build_ctl_top, dac_codes, CtlPtyServer};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::r2nn::ctl::{argmax, Stepper};
use std::path::{Path, PathBuf};
use std::process::Command;

const PARTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/parts/reference.toml");
const BAUD: &str = "1000000";

fn phasegen(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn deploy_programs_verifies_and_classifies_on_the_simulated_board() {
    let dir: PathBuf = std::env::temp_dir().join(format!("pg-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("m.json");
    let m = model.to_str().unwrap();
    let (ok, out) = phasegen(&[
        "r2nn", "train", "--task", "tactile", "--count", "60", "--len", "120", "--epochs", "2",
        "--batch", "16", "--out", m,
    ]);
    assert!(ok, "{out}");
    let s = board_setup(&model, Path::new(PARTS), 100e3, 48e6, 2048).unwrap();
    let built = build_ctl_top(&s.plan, 48_000_000, 1_000_000, &scratch_dir("deploy-cli")).unwrap();
    let server = CtlPtyServer::start(built, &s, clocks_per_bit(48_000_000, 1_000_000)).unwrap();
    let count = 6;
    let (ok, out) = phasegen(&[
        "r2nn",
        "deploy",
        "--model",
        m,
        "--parts",
        PARTS,
        "--port",
        &server.path,
        "--baud",
        BAUD,
        "--count",
        "6",
    ]);
    assert!(ok, "{out}");
    println!("{out}");
    assert!(
        out.contains(&format!(
            "programmed {} words on 2 chains",
            s.plan.prog_words.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "the program RAM and the parts ({} chips) read back and verified",
            s.plan.rb_words()
        )),
        "{out}"
    );
    // the accuracy the offline circuit (realized values, the same DAC codes,
    // ADC rounding aside) gives on these signals
    let mut st = Stepper::new(&s.realized.circuit.to_net());
    let mut right = 0;
    for i in 0..count {
        st.reset();
        let mut e = vec![0.0f64; s.plan.probes];
        for c in dac_codes(s.test.signal(i), s.full_scale) {
            let v = st.sample(phasegen_sim::r2nn::ctl::dac_force(c, s.full_scale));
            for (p, y) in v.iter().enumerate() {
                e[p] += y * y;
            }
        }
        let ei: Vec<u64> = e.iter().map(|v| (v * 1e12) as u64).collect();
        right += (argmax(&ei) == s.test.labels[i]) as usize;
    }
    let line = format!("closed-loop test accuracy on {count} signals: ");
    let acc = out
        .lines()
        .find(|l| l.starts_with(&line))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        acc.contains(&format!("({right}/{count})")),
        "{acc}: the offline circuit gets {right}"
    );
    assert!(
        out.contains("coarse"),
        "confusion matrix with class names: {out}"
    );
    // a controller built for another plan is refused
    let (ok, out) = phasegen(&[
        "r2nn",
        "deploy",
        "--model",
        m,
        "--parts",
        PARTS,
        "--port",
        &server.path,
        "--baud",
        BAUD,
        "--count",
        "1",
        "--sample-rate",
        "90000",
    ]);
    assert!(!ok && out.contains("was built for plan"), "{out}");
    server.stop().unwrap();
    // gen-ctl writes the controller the server ran
    let out = dir.join("gen");
    let (ok, text) = phasegen(&[
        "r2nn",
        "gen-ctl",
        "--model",
        m,
        "--parts",
        PARTS,
        "--baud",
        BAUD,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    for f in phasegen_hdl::generate_ctl_top_files(&s.plan, 48_000_000, 1_000_000) {
        assert_eq!(
            std::fs::read_to_string(out.join(&f.name)).unwrap(),
            f.text,
            "{}",
            f.name
        );
    }
    assert!(text.contains("480 cycles per sample at 48 MHz"), "{text}");
    // bench-ctl: rates, closed-loop speed and the three accuracies
    let (ok, text) = phasegen(&[
        "r2nn",
        "bench-ctl",
        "--model",
        m,
        "--parts",
        PARTS,
        "--count",
        "4",
    ]);
    assert!(ok, "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("| m |"))
        .unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells.len(), 10, "{row}");
    assert_eq!(cells[5], "4", "{row}");
    assert_eq!(cells[7].matches('%').count(), 3, "{row}");
    std::fs::remove_dir_all(&dir).ok();
}
