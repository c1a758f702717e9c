//! The named integer operations of `phasegen_sim::twin::qformat`, as hardware:
//! each returns a new wire and is exactly the twin's function of the same name.

use crate::vlog::{lit, slit, Expr, Module, Sig};

/// `round_shift(v, sh)`: add `2^(sh-1)` one bit wider (so it cannot
/// overflow), then drop the low `sh` bits. Result: `width + 1 - sh` bits.
pub fn round_shift(m: &mut Module, name: &str, v: &Sig, sh: u32) -> Sig {
    assert!(v.signed, "round_shift of unsigned {}", v.name());
    if sh == 0 {
        return m.wire(name, v.e());
    }
    let w = v.width + 1;
    let sum = m.wire_partial(
        &format!("{name}_sum"),
        v.sext(w).add(slit(w, 1i64 << (sh - 1))),
        "round_shift: the low bits below the rounding point are dropped",
    );
    m.wire(name, sum.slice(w - 1, sh).as_signed())
}

/// `sat(v, bits)`: clamp a signed value to `bits` signed bits.
pub fn sat(m: &mut Module, name: &str, v: &Sig, bits: u32) -> Sig {
    assert!(v.signed, "sat of unsigned {}", v.name());
    if v.width <= bits {
        return m.wire(name, v.sext(bits));
    }
    // In range when the bits from `bits-1` up are all copies of the sign.
    let top = v.slice(v.width - 1, bits - 1);
    let k = v.width - bits + 1;
    let all0 = top.clone().eq(lit(k, 0));
    let all1 = top.eq(lit(k, (1u64 << k) - 1));
    let ok = m.wire(&format!("{name}_ok"), all0.lor(all1));
    let neg = v.bit(v.width - 1);
    let max = slit(bits, (1i64 << (bits - 1)) - 1);
    let min = slit(bits, -(1i64 << (bits - 1)));
    let low = v.slice(bits - 1, 0).as_signed();
    m.wire(name, Expr::mux(ok.e(), low, Expr::mux(neg, min, max)))
}

/// Signed bits of `e` reinterpreted; helper for slicing a signed field out of
/// an unsigned memory word.
pub fn field(m: &mut Module, name: &str, word: &Sig, hi: u32, lo: u32, signed: bool) -> Sig {
    let e = word.slice(hi, lo);
    m.wire(name, if signed { e.as_signed() } else { e })
}
