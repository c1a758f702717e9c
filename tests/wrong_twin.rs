//! A deliberately wrong design is caught: the generated core's roundings are
//! changed one at a time, from round-half-up (`(v + 2^(s-1)) >> s`, as the
//! twin computes) to truncation (`v >> s`), and the cosimulation must report
//! a mismatch naming the step and the oscillator, for every one of them.
//!
//! The roundings are found by the marker the generator writes before each
//! (hdl/src/arith.rs `round_shift`):
//!
//! ```verilog
//!     // round_shift: ... (the marker starts the comment; other comments
//!     // may mention round_shift)
//!     ...
//!     assign NAME = (VALUE + W'shK);   // K = 2^(s-1), the rounding constant
//! ```
//!
//! The mutation sets `K` to 0. If the generator stops writing the marker,
//! the test fails saying so rather than passing vacuously.

use phasegen::cosim::{build_core_text, scratch_dir, verify_sample, CoreSim, Plan};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::{beta_int, quantize};
use phasegen_vl::Options;

/// One rounding adder in the generated text.
#[derive(Debug)]
struct Site {
    /// 0-based line of its `assign`.
    line: usize,
    /// The signal it assigns.
    name: String,
    /// The rounding constant as written, e.g. `29'sh8`.
    constant: String,
}

/// Every `// round_shift` marker and the rounding constant of the `assign`
/// that follows it (within a few lines).
fn rounding_sites(text: &str) -> Vec<Site> {
    let lines: Vec<&str> = text.lines().collect();
    let mut sites = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let l = l.trim_start();
        if !l.starts_with("// round_shift:") {
            continue;
        }
        for (j, a) in lines.iter().enumerate().skip(i + 1).take(6) {
            let Some(rest) = a.trim().strip_prefix("assign ") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or("").to_string();
            // the constant is the last operand: `... + W'shK);`
            let constant = rest
                .trim_end_matches(';')
                .trim_end_matches(')')
                .rsplit(" + ")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let k = constant
                .split_once("'sh")
                .and_then(|(_, hex)| u64::from_str_radix(hex, 16).ok());
            assert!(
                k.is_some_and(|k| k.is_power_of_two()),
                "line {}: after a round_shift marker, expected `assign NAME = (VALUE + W'shK);` with K a power of two, found: {a}",
                j + 1
            );
            sites.push(Site {
                line: j,
                name,
                constant,
            });
            break;
        }
    }
    sites
}

/// `text` with the rounding at `site` turned into truncation.
fn truncate(text: &str, site: &Site) -> String {
    let width = site.constant.split_once("'sh").unwrap().0;
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.lines().enumerate() {
        if i == site.line {
            let at = l
                .rfind(&site.constant)
                .expect("the constant is on its line");
            out.push_str(&l[..at]);
            out.push_str(&format!("{width}'sh0"));
            out.push_str(&l[at + site.constant.len()..]);
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

#[test]
fn truncating_any_one_rounding_is_caught_with_step_and_oscillator() {
    let mut cfg = Config::default_config();
    cfg.network.inputs = 6;
    cfg.network.layers = vec![4, 3];
    cfg.network.intralayer = true;
    cfg.hardware.phase_bits = 12;
    cfg.hardware.table_bits = 6;
    cfg.hardware.amp_bits = 8;
    cfg.hardware.weight_bits = 6;
    cfg.hardware.steps = 8;
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), 16).unwrap();
    let text = phasegen_hdl::generate_core(&cfg.hash_hex(), &hw).text;
    let sites = rounding_sites(&text);
    assert!(
        sites.len() >= 3,
        "found {} rounding markers in pg_core.v; the generator must write `// round_shift` before each rounding adder (hdl/src/arith.rs), which this test mutates",
        sites.len()
    );
    let x = [15, 3, 0, 9, 12, 6];
    let plan = Plan {
        free_steps: 40,
        nudge_steps: 20,
        beta: beta_int(&hw.fmt, 1.0),
        label: 1,
        fault: None,
    };
    let base = scratch_dir("wrong-twin");
    // the unaltered core matches, so any mismatch below is the mutation's
    let built = build_core_text(&hw, &text, &base.join("ok"), &Options::default()).unwrap();
    let mut sim = CoreSim::new(&built, hw.n()).unwrap();
    verify_sample(&mut sim, &hw, &x, &plan)
        .unwrap()
        .unwrap_or_else(|m| panic!("the unaltered core must match: {m}"));

    for (k, site) in sites.iter().enumerate() {
        let wrong = truncate(&text, site);
        assert_ne!(wrong, text);
        let built = build_core_text(
            &hw,
            &wrong,
            &base.join(format!("site-{k}")),
            &Options::default(),
        )
        .unwrap();
        let mut sim = CoreSim::new(&built, hw.n()).unwrap();
        let m = verify_sample(&mut sim, &hw, &x, &plan)
            .unwrap()
            .expect_err(&format!(
                "truncating the rounding of {} ({} -> 0) went unnoticed",
                site.name, site.constant
            ));
        let steps = match m.phase {
            "free" | "read port" => plan.free_steps,
            _ => plan.nudge_steps,
        } as usize;
        assert!(
            (1..=steps).contains(&m.step) && m.osc < hw.n() && m.rtl != m.twin,
            "{m}"
        );
        let shown = m.to_string();
        assert!(
            shown.contains(&format!("step {}", m.step))
                && shown.contains(&format!("oscillator {}", m.osc)),
            "{shown}"
        );
        println!("{} ({} -> 0): {shown}", site.name, site.constant);
    }
}

#[test]
fn the_marker_parser_finds_and_mutates_a_rounding() {
    let text = "x\n    // round_shift: note\n    wire signed [4:0] a_sum;\n    assign a_sum = ($signed({{1{v[3]}}, v}) + 5'sh4);\n    assign b = 1;\n";
    let sites = rounding_sites(text);
    assert_eq!(sites.len(), 1);
    assert_eq!(
        (sites[0].name.as_str(), sites[0].constant.as_str()),
        ("a_sum", "5'sh4")
    );
    let t = truncate(text, &sites[0]);
    assert!(
        t.contains("assign a_sum = ($signed({{1{v[3]}}, v}) + 5'sh0);"),
        "{t}"
    );
    assert_eq!(t.lines().count(), text.lines().count());
}
