//! `phasegen bench-sim --quick` prints the simulation-speed table with
//! positive figures for the default design.

use std::process::Command;

#[test]
fn bench_sim_quick_prints_a_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_phasegen"))
        .args(["bench-sim", "--quick", "--runs", "1", "--cycles", "200000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("| design | oscillators | couplings |"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| digits 64-32-10"))
        .unwrap_or_else(|| panic!("no row for the default design:\n{stdout}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // | design | n | nnz | build | cycles/step | alone | driver | RTL steps/s | twin steps/s |
    assert_eq!((cells[2], cells[3]), ("42", "640"), "{row}");
    for c in &cells[5..10] {
        let v: f64 = c.parse().unwrap_or_else(|_| panic!("{c:?} in {row}"));
        assert!(v > 0.0, "{row}");
    }
}
