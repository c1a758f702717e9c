//! The named integer operations of `phasegen_sim::twin::qformat`, as hardware:
//! each returns a new wire and is exactly the twin's function of the same name.
//! Below them, exact products built from adders rather than multipliers
//! (for the coupling's harmonics, docs/hardware.md); `tests/arith_logic.rs`
//! checks them exhaustively at small widths under Verilator.

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

/// `n ψ mod 2^P` for a generation-time constant `n`, by shift and add: a
/// multiplier here would take a DSP block for a few adders' work.
pub fn times_const(m: &mut Module, name: &str, psi: &Sig, n: usize) -> Sig {
    let p = psi.width;
    let terms: Vec<Expr> = (0..usize::BITS)
        .filter(|&b| n >> b & 1 == 1)
        .map(|b| {
            assert!(b < p, "harmonic {n} beyond the phase's {p} bits");
            if b == 0 {
                psi.e()
            } else {
                Expr::concat(vec![psi.slice(p - 1 - b, 0), lit(b, 0)])
            }
        })
        .collect();
    let sum = terms
        .into_iter()
        .reduce(|x, y| x.add(y))
        .expect("a harmonic n >= 1");
    m.wire_partial(
        name,
        sum,
        "only the top table_bits of n psi index the table",
    )
}

/// `a · b` of two signed signals in `wa + wb` bits, by shift and add over
/// `b`'s bits (two's complement: the top bit weighs `−2^(wb−1)`): logic and
/// carry chains, not a DSP block (the UP5K's eight are the lanes' and the
/// drive's). Exact, as every partial sum is taken modulo `2^(wa+wb)`, which
/// holds the product.
pub fn mul_logic(m: &mut Module, name: &str, a: &Sig, b: &Sig) -> Sig {
    let w = a.width + b.width;
    let ax = m.wire(&format!("{name}_a"), a.sext(w));
    let mut sum = slit(w, 0);
    for k in 0..b.width {
        let shifted = if k == 0 {
            ax.e()
        } else {
            Expr::concat(vec![ax.slice(w - 1 - k, 0), lit(k, 0)]).as_signed()
        };
        let term = Expr::mux(b.bit(k), shifted, slit(w, 0));
        sum = if k == b.width - 1 {
            sum.sub(term)
        } else {
            sum.add(term)
        };
    }
    m.wire(name, sum)
}

/// `c · t` for a generation-time constant `c`, in `w` bits (which must
/// hold the product), by shift and add over `|c|`'s bits.
pub fn mul_const(m: &mut Module, name: &str, t: &Sig, c: i64, w: u32) -> Expr {
    assert!(c != 0, "a zero coefficient has no hardware");
    let tx = m.wire_partial(
        &format!("{name}_t"),
        t.sext(w),
        "the shifted terms drop the top bits the product cannot reach",
    );
    let mag = c.unsigned_abs();
    let sum = (0..64u32)
        .filter(|&k| mag >> k & 1 == 1)
        .map(|k| {
            if k == 0 {
                tx.e()
            } else {
                Expr::concat(vec![tx.slice(w - 1 - k, 0), lit(k, 0)]).as_signed()
            }
        })
        .reduce(|x, y| x.add(y))
        .expect("a non-zero coefficient");
    if c < 0 {
        slit(w, 0).sub(sum)
    } else {
        sum
    }
}
