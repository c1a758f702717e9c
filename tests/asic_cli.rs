//! `phasegen gen --target asic` and `phasegen asic`: what the ASIC target
//! writes, and bad input refused with a message naming the value and what
//! to do. The flow itself runs in tests/asic_netlist.rs (synthesis) and
//! `make asic` (everything).

mod common;

use common::{fails, ok, TempDir};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::{ModelFile, Params};

/// A model of the default config with its initial parameters.
fn model(tmp: &TempDir) -> String {
    let cfg = Config::default_config();
    let params = Params::init(&cfg);
    let p = tmp.0.join("m.json");
    ModelFile::new(cfg, params, 255).save(&p).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn gen_for_asic_writes_plain_rtl_without_the_pll() {
    let tmp = TempDir::new("asic-gen");
    let m = model(&tmp);
    let fpga = tmp.0.join("fpga");
    let asic = tmp.0.join("asic");
    ok(&["gen", "--model", &m, "--out", fpga.to_str().unwrap()]);
    let (_, err) = ok(&[
        "gen",
        "--model",
        &m,
        "--out",
        asic.to_str().unwrap(),
        "--target",
        "asic",
        "--clock-hz",
        "50000000",
    ]);
    assert!(err.contains("50000000 Hz"), "{err}");
    assert!(fpga.join("pg_pll.v").is_file());
    assert!(!asic.join("pg_pll.v").exists(), "the ASIC has no board PLL");
    let core = std::fs::read_to_string(asic.join("pg_core.v")).unwrap();
    assert!(core.contains("for a standard-cell flow"), "header");
    assert!(core.contains("reg  busy;") && !core.contains("ram_style"));
    // the UART divider follows the ASIC clock: 50 MHz / 115200 = 434
    let top = std::fs::read_to_string(asic.join("pg_uart_rx.v")).unwrap();
    assert!(top.contains("434 clocks per bit"), "{}", &top[..400]);
}

#[test]
fn gen_refuses_clocks_it_cannot_use() {
    let tmp = TempDir::new("asic-gen-bad");
    let m = model(&tmp);
    let out = tmp.0.join("g");
    let o = out.to_str().unwrap();
    let e = fails(&["gen", "--model", &m, "--out", o, "--clock-hz", "50000000"]);
    assert!(
        e.contains("--clock-hz 50000000 is for --target asic"),
        "{e}"
    );
    let e = fails(&[
        "gen",
        "--model",
        &m,
        "--out",
        o,
        "--target",
        "asic",
        "--clock-hz",
        "0",
    ]);
    assert!(e.contains("--clock-hz 0"), "{e}");
    let e = fails(&[
        "gen",
        "--model",
        &m,
        "--out",
        o,
        "--target",
        "asic",
        "--clock-hz",
        "100000",
    ]);
    assert!(
        e.contains("fewer than 4 clocks per bit") && e.contains("460800 Hz"),
        "{e}"
    );
}

#[test]
fn asic_flow_refuses_bad_settings_and_fpga_verilog() {
    let tmp = TempDir::new("asic-flow-bad");
    let m = model(&tmp);
    let fpga = tmp.0.join("fpga");
    let asic = tmp.0.join("asic");
    ok(&["gen", "--model", &m, "--out", fpga.to_str().unwrap()]);
    ok(&[
        "gen",
        "--model",
        &m,
        "--out",
        asic.to_str().unwrap(),
        "--target",
        "asic",
    ]);
    let dir = tmp.0.join("proj");
    let flow = |gen: &std::path::Path, extra: &[&str]| -> String {
        let mut a = vec![
            "asic",
            "flow",
            "--gen",
            gen.to_str().unwrap(),
            "--dir",
            dir.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        fails(&a)
    };
    let e = flow(&asic, &["--tech", "osu999"]);
    assert!(
        e.contains("\"osu999\" is not installed") && e.contains("osu018, osu035"),
        "{e}"
    );
    let e = flow(&asic, &["--clock-mhz", "-5"]);
    assert!(e.contains("clock target -5 MHz"), "{e}");
    let e = flow(&asic, &["--place-fast", "0"]);
    assert!(e.contains("placement speed-up 0"), "{e}");
    let e = flow(&asic, &["--density", "1.5"]);
    assert!(e.contains("density 1.5"), "{e}");
    let e = flow(&asic, &["--activity", "0"]);
    assert!(e.contains("activity 0"), "{e}");
    let e = flow(&asic, &["--top", "pg_uart_rx"]);
    assert!(
        e.contains("\"pg_uart_rx\"") && e.contains("pg_core or pg_top"),
        "{e}"
    );
    let e = flow(&asic, &["--stages", "synthesize,bake"]);
    assert!(e.contains("unknown stage \"bake\""), "{e}");
    let e = flow(&asic, &["--stages", "route"]);
    assert!(e.contains("not a qflow project yet"), "{e}");
    let e = flow(&fpga, &[]);
    assert!(
        e.contains("is Verilog for an FPGA") && e.contains("--target asic"),
        "{e}"
    );
    let e = flow(&tmp.0.join("nowhere"), &[]);
    assert!(
        e.contains("nowhere") && e.contains("phasegen gen --target asic"),
        "{e}"
    );
}

#[test]
fn asic_verify_and_report_need_a_flow() {
    let tmp = TempDir::new("asic-report-bad");
    let m = model(&tmp);
    let dir = tmp.0.join("proj");
    let d = dir.to_str().unwrap();
    let e = fails(&["asic", "verify", "--model", &m, "--dir", d]);
    assert!(
        e.contains("stages.json") && e.contains("phasegen asic flow"),
        "{e}"
    );
    let out = tmp.0.join("r");
    let e = fails(&["asic", "report", "--dir", d, "--out", out.to_str().unwrap()]);
    assert!(
        e.contains("stages.json") && e.contains("run the flow first"),
        "{e}"
    );
}

#[test]
fn asic_table_refuses_bad_input_before_building_anything() {
    let tmp = TempDir::new("asic-table-bad");
    let d = tmp.0.join("t");
    let dir = d.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["asic", "table", "--dir", dir, "--out", dir];
        args.extend_from_slice(extra);
        fails(&args)
    };
    let e = run(&["--tech", "osu99", "--board", ""]);
    assert!(e.contains("osu99") && e.contains("osu018"), "{e}");
    let e = run(&["--board", "nosuch"]);
    assert!(e.contains("nosuch"), "{e}");
    let e = run(&["--config", "configs/nosuch.toml", "--board", ""]);
    assert!(e.contains("configs/nosuch.toml"), "{e}");
    let e = run(&["--clock-mhz", "0"]);
    assert!(e.contains("--clock-mhz 0"), "{e}");
    let e = run(&["--activity", "2"]);
    assert!(e.contains("--activity 2"), "{e}");
    // nothing was built
    assert!(!d.exists(), "{}", d.display());
}
