//! The exact products built from adders (`phasegen_hdl::arith::mul_logic`,
//! `mul_const`, `times_const`: the coupling's harmonics in `pg_core`,
//! docs/hardware.md), swept exhaustively at small widths under Verilator
//! against plain integer arithmetic.

use phasegen::cosim::{scratch_dir, vl_ports};
use phasegen_hdl::arith::{mul_const, mul_logic, times_const};
use phasegen_hdl::vlog::{self, Module};
use phasegen_vl::{Design, Sim};

const WA: u32 = 6;
const WB: u32 = 5;
const P: u32 = 6;
const CONSTS: [i64; 9] = [-32, -31, -7, -1, 1, 5, 12, 16, 31];
const TIMES: [usize; 6] = [1, 2, 3, 5, 7, 9];

/// `v`'s low `w` bits as a signed value.
fn sext(v: u64, w: u32) -> i64 {
    ((v << (64 - w)) as i64) >> (64 - w)
}

#[test]
fn logic_products_are_exact_at_every_input() {
    let mut m = Module::new("pg_arith_test");
    let _clk = m.input("i_clk", 1);
    let a = m.input_signed("i_a", WA);
    let b = m.input_signed("i_b", WB);
    let psi = m.input("i_psi", P);
    let prod = mul_logic(&mut m, "prod", &a, &b);
    m.output("o_prod", prod.e().as_unsigned());
    for (k, &c) in CONSTS.iter().enumerate() {
        let e = mul_const(&mut m, &format!("cst{k}"), &b, c, WA + WB);
        m.output(&format!("o_c{k}"), e.as_unsigned());
    }
    for n in TIMES {
        let x = times_const(&mut m, &format!("x{n}"), &psi, n);
        m.output(&format!("o_x{n}"), x.e());
    }
    let dir = scratch_dir("arith-logic");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pg_arith_test.v");
    std::fs::write(&path, vlog::file(&[], &[&m])).unwrap();
    let built = phasegen_vl::build(&Design {
        sources: vec![path],
        top: "pg_arith_test".into(),
        ports: vl_ports(&m.ports()),
        clock: "i_clk".into(),
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    let mut sim = Sim::new(&built).unwrap();
    let mut checked = 0;
    for av in -(1i64 << (WA - 1))..(1 << (WA - 1)) {
        for bv in -(1i64 << (WB - 1))..(1 << (WB - 1)) {
            sim.set("i_a", (av as u64) & ((1 << WA) - 1)).unwrap();
            sim.set("i_b", (bv as u64) & ((1 << WB) - 1)).unwrap();
            sim.set("i_psi", (av as u64) & ((1 << P) - 1)).unwrap();
            sim.eval();
            let got = sext(sim.get("o_prod").unwrap(), WA + WB);
            assert_eq!(got, av * bv, "mul_logic({av}, {bv})");
            for (k, &c) in CONSTS.iter().enumerate() {
                let got = sext(sim.get(&format!("o_c{k}")).unwrap(), WA + WB);
                assert_eq!(got, c * bv, "mul_const({bv}, {c})");
            }
            let psi = (av as u64) & ((1 << P) - 1);
            for n in TIMES {
                let got = sim.get(&format!("o_x{n}")).unwrap();
                assert_eq!(got, psi * n as u64 % (1 << P), "times_const({psi}, {n})");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 1 << (WA + WB));
}
