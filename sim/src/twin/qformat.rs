//! Runtime fixed-point formats and the named integer operations of the
//! hardware: every rounding and saturation the RTL performs is one of these
//! functions, used by the twin and mirrored by the generator.
//!
//! A format is `Q { bits, frac, signed }`: an integer `v` of `bits` bits
//! stands for `v * 2^-frac`. Widths are set by the config at run time, which
//! is why this is not `fixed`'s compile-time types.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q {
    pub bits: u32,
    pub frac: i32,
    pub signed: bool,
}

/// Result of converting a real number into a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantized {
    pub value: i64,
    /// The real number lay outside the format's range and was saturated.
    pub clipped: bool,
}

impl Q {
    pub const fn signed(bits: u32, frac: i32) -> Q {
        Q {
            bits,
            frac,
            signed: true,
        }
    }

    pub const fn unsigned(bits: u32, frac: i32) -> Q {
        Q {
            bits,
            frac,
            signed: false,
        }
    }

    pub fn min(&self) -> i64 {
        if self.signed {
            -(1i64 << (self.bits - 1))
        } else {
            0
        }
    }

    pub fn max(&self) -> i64 {
        if self.signed {
            (1i64 << (self.bits - 1)) - 1
        } else {
            (1i64 << self.bits) - 1
        }
    }

    pub fn fits(&self, v: i64) -> bool {
        v >= self.min() && v <= self.max()
    }

    /// Round to nearest (ties away from zero), then saturate.
    pub fn quantize(&self, x: f64) -> Quantized {
        let scaled = x * 2f64.powi(self.frac);
        let r = scaled.round();
        let (lo, hi) = (self.min() as f64, self.max() as f64);
        if r < lo {
            Quantized {
                value: self.min(),
                clipped: true,
            }
        } else if r > hi {
            Quantized {
                value: self.max(),
                clipped: true,
            }
        } else {
            Quantized {
                value: r as i64,
                clipped: false,
            }
        }
    }

    pub fn to_f64(&self, v: i64) -> f64 {
        v as f64 * 2f64.powi(-self.frac)
    }

    /// Exact product format.
    pub fn mul(&self, o: &Q) -> Q {
        Q {
            bits: self.bits + o.bits,
            frac: self.frac + o.frac,
            signed: self.signed || o.signed,
        }
    }
}

/// Bits needed to hold `n` distinct values (at least 1).
pub fn clog2(n: u64) -> u32 {
    if n <= 1 {
        1
    } else {
        64 - (n - 1).leading_zeros()
    }
}

/// `round(v / 2^sh)` with ties rounded up (towards +inf): `(v + 2^(sh-1)) >> sh`
/// with an arithmetic shift. `sh = 0` is the identity. This is exactly what the
/// RTL computes (add the half constant, then drop the low bits).
pub fn round_shift(v: i64, sh: u32) -> i64 {
    if sh == 0 {
        v
    } else {
        (v + (1i64 << (sh - 1))) >> sh
    }
}

/// Saturate to a signed `bits`-bit integer.
pub fn sat(v: i64, bits: u32) -> i64 {
    let hi = (1i64 << (bits - 1)) - 1;
    let lo = -(1i64 << (bits - 1));
    v.clamp(lo, hi)
}

/// Wrap to an unsigned `bits`-bit integer (phase arithmetic modulo one turn).
pub fn wrap(v: i64, bits: u32) -> u64 {
    (v as u64) & ((1u64 << bits) - 1)
}

/// Does `v` fit a signed `bits`-bit integer?
pub fn fits_signed(v: i64, bits: u32) -> bool {
    sat(v, bits) == v
}

/// Signed bits needed to hold every value in `lo..=hi`.
pub fn signed_bits(lo: i64, hi: i64) -> u32 {
    (1..64)
        .find(|&b| fits_signed(lo, b) && fits_signed(hi, b))
        .unwrap_or(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_shift_matches_formula_exhaustively() {
        for sh in 0..6u32 {
            for v in -200i64..200 {
                let want = (v as f64 / 2f64.powi(sh as i32) + 0.5).floor() as i64;
                assert_eq!(round_shift(v, sh), want, "v={v} sh={sh}");
            }
        }
    }

    #[test]
    fn sat_and_wrap() {
        for bits in 2..8u32 {
            for v in -300i64..300 {
                let s = sat(v, bits);
                assert!(fits_signed(s, bits));
                if fits_signed(v, bits) {
                    assert_eq!(s, v);
                }
                assert_eq!(wrap(v, bits) as i64, v.rem_euclid(1 << bits));
            }
        }
        assert_eq!(signed_bits(-128, 127), 8);
        assert_eq!(signed_bits(-129, 0), 9);
        assert_eq!(clog2(1), 1);
        assert_eq!(clog2(2), 1);
        assert_eq!(clog2(3), 2);
        assert_eq!(clog2(1024), 10);
        assert_eq!(clog2(1025), 11);
    }

    #[test]
    fn quantize_rounds_and_clips() {
        let q = Q::signed(8, 4);
        assert_eq!(q.quantize(1.0).value, 16);
        assert_eq!(q.quantize(-0.03).value, 0);
        assert_eq!(
            q.quantize(100.0),
            Quantized {
                value: 127,
                clipped: true
            }
        );
        assert_eq!(
            q.quantize(-100.0),
            Quantized {
                value: -128,
                clipped: true
            }
        );
        assert_eq!(q.to_f64(24), 1.5);
        assert_eq!(q.mul(&Q::signed(10, 9)), Q::signed(18, 13));
    }

    /// The runtime `Q` against the `fixed` crate's compile-time types, for
    /// static formats: the same values and clipping (away from exact ties,
    /// which `fixed` rounds to even and `Q` away from zero), and
    /// `round_shift`/`sat` against `fixed`'s floor and saturating
    /// conversions. `fixed` is the independent oracle here; the project's
    /// formats are set by the config at run time, so the code uses `Q`.
    #[test]
    fn runtime_formats_agree_with_the_fixed_crate() {
        use fixed::types::extra::{U0, U4, U6, U9};
        use fixed::{FixedI16, FixedI32, FixedI8, FixedU8};
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let not_tie = |x: f64, frac: i32| {
            let s = x * 2f64.powi(frac);
            (s - s.floor() - 0.5).abs() > 1e-9
        };
        for _ in 0..20_000 {
            let x = (next() - 0.5) * 12.0;
            if not_tie(x, 6) {
                let q = Q::signed(8, 6).quantize(x);
                let f = FixedI8::<U6>::saturating_from_num(x);
                assert_eq!(q.value, f.to_bits() as i64, "Q2.6 of {x}");
                assert_eq!(q.clipped, FixedI8::<U6>::checked_from_num(x).is_none());
            }
            if not_tie(x, 9) {
                let q = Q::signed(16, 9).quantize(x);
                assert_eq!(
                    q.value,
                    FixedI16::<U9>::saturating_from_num(x).to_bits() as i64
                );
            }
            if not_tie(x, 4) {
                let q = Q::unsigned(8, 4).quantize(x);
                assert_eq!(
                    q.value,
                    FixedU8::<U4>::saturating_from_num(x).to_bits() as i64
                );
            }
        }
        // round_shift(v, 9) = floor(v / 2^9 + 1/2): v as a Q.9 number
        let half = FixedI32::<U9>::from_num(0.5);
        for v in -5000i64..5000 {
            let f = FixedI32::<U9>::from_bits(v as i32);
            assert_eq!(round_shift(v, 9), (f + half).floor().to_num::<i64>(), "{v}");
            assert_eq!(
                sat(v, 8),
                FixedI8::<U0>::saturating_from_num(v).to_bits() as i64
            );
        }
    }
}
