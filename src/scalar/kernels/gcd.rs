//! The gcd of two big naturals by Lehmer's method (Knuth, TAOCP vol. 2, §4.5.2, Algorithm L).
//!
//! num-bigint's gcd is binary (Stein's): each step removes about one bit by a shift and a
//! full-width subtraction, so two `n`-limb numbers cost about `64·n` passes over `n` limbs. On
//! exact values of 10⁴ bits and more that was almost all of the time (a profile of the MLP
//! theorem at 8×8×4 with 1000-bit entries: 95 % in `biguint_shr2` and `sub_assign`). Lehmer's
//! method runs Euclid's algorithm on the leading 62 bits of both numbers in word arithmetic and
//! applies the accumulated 2×2 matrix to the full numbers once, removing about 30 bits per
//! pass; a remainder step first brings operands of very different lengths together.

use num_bigint::BigUint;
use num_traits::Zero;

/// Below this many limbs the operands are finished by word (`u128`) Euclid.
const WORDS: usize = 2;

/// `gcd(a, b)` (the other operand when one is zero).
pub(crate) fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let (mut a, mut b): (Vec<u64>, Vec<u64>) =
        (a.iter_u64_digits().collect(), b.iter_u64_digits().collect());
    if less(&a, &b) {
        std::mem::swap(&mut a, &mut b);
    }
    loop {
        trim(&mut a);
        trim(&mut b);
        if b.is_empty() {
            return from_limbs(&a);
        }
        if a.len() <= WORDS {
            return BigUint::from(gcd_u128(value(&a), value(&b)));
        }
        if a.len() > b.len() + 1 {
            remainder_step(&mut a, &mut b);
            continue;
        }
        let (p, q, r, s) = cosequence(&a, &b);
        if q == 0 {
            // Euclid's first quotient is already uncertain in the leading bits (or huge): one
            // full-precision division.
            remainder_step(&mut a, &mut b);
            continue;
        }
        // (a, b) ← (p·a + q·b, r·a + s·b): both stay non-negative, and smaller.
        b.resize(a.len(), 0);
        combine(&mut a, &mut b, (p, q), (r, s));
        if less(&a, &b) {
            std::mem::swap(&mut a, &mut b);
        }
    }
}

/// `(a, b) ← (b, a mod b)`.
fn remainder_step(a: &mut Vec<u64>, b: &mut Vec<u64>) {
    let r = from_limbs(a) % from_limbs(b);
    *a = std::mem::take(b);
    *b = r.iter_u64_digits().collect();
}

/// The leading 124 bits of `v`, aligned so that `a`'s leading bit (`a` has `n ≥ 3` limbs) is
/// bit 123.
fn leading(v: &[u64], n: usize, shift: u32) -> i128 {
    let at = |k: usize| v.get(k).copied().unwrap_or(0) as u128;
    let window = (at(n - 1) << 64) | at(n - 2);
    let below = at(n - 3);
    // Bring a's leading bit to bit 127, then keep 124 bits.
    let w = if shift == 0 {
        window
    } else {
        (window << shift) | (below >> (64 - shift))
    };
    (w >> 4) as i128
}

/// The cosequences stay below this in magnitude, so that [`combine`] works in `i128`.
const COEFFICIENT: i128 = 1 << 62;

/// Knuth's Algorithm L on the leading bits of `a ≥ b` (same limb count, or `b` one shorter):
/// the matrix `(p q; r s)` of the quotients both bounds agree on, so that `p·a + q·b` and
/// `r·a + s·b` are the numbers Euclid's algorithm reaches after those steps. `q = 0` when no
/// step is certain.
///
/// With 124 leading bits the simulation runs until the cosequences reach about 2⁶², so each
/// pass over the full numbers removes about 62 bits (the double-digit variant of Lehmer's
/// method). Every step is checked: stopping early is always sound, the matrix so far being exact.
fn cosequence(a: &[u64], b: &[u64]) -> (i64, i64, i64, i64) {
    let n = a.len();
    let shift = a[n - 1].leading_zeros();
    let (mut x, mut y) = (leading(a, n, shift), leading(b, n, shift));
    let (mut p, mut q, mut r, mut s): (i128, i128, i128, i128) = (1, 0, 0, 1);
    loop {
        let (d1, d2) = (y + r, y + s);
        let (n1, n2) = (x + p, x + q);
        if d1 <= 0 || d2 <= 0 || n1 < 0 || n2 < 0 {
            break;
        }
        let q1 = quotient(n1, d1);
        if q1 != quotient(n2, d2) {
            break;
        }
        let (Some(nr), Some(ns)) = (
            q1.checked_mul(r).map(|w| p - w),
            q1.checked_mul(s).map(|w| q - w),
        ) else {
            break;
        };
        if nr.abs() >= COEFFICIENT || ns.abs() >= COEFFICIENT {
            break;
        }
        (p, r) = (r, nr);
        (q, s) = (s, ns);
        (x, y) = (y, x - q1 * y);
    }
    (p as i64, q as i64, r as i64, s as i64)
}

/// `n / d` for `n ≥ 0`, `d > 0`: by subtraction for the small quotients Euclid's algorithm
/// mostly meets (1, 2, 3: about 80 % of them), else in word arithmetic when both fit (a
/// 128-bit division is a library call).
fn quotient(n: i128, d: i128) -> i128 {
    let mut rest = n;
    for q in 0..4 {
        if rest < d {
            return q;
        }
        rest -= d;
    }
    if n >> 64 == 0 && d >> 64 == 0 {
        ((n as u64) / (d as u64)) as i128
    } else {
        n / d
    }
}

/// `(a, b) ← (p·a + q·b, r·a + s·b)` in place (`a` and `b` of equal length), for matrices
/// from [`cosequence`]: each row has one entry ≥ 0 and one ≤ 0, and both results are
/// non-negative and no longer than the operands.
///
/// One pass reads each limb pair once; each output limb is a difference of two word products
/// (`u64 × u64 → u128`, one `mul` each) plus a signed carry.
fn combine(a: &mut [u64], b: &mut [u64], (p, q): (i64, i64), (r, s): (i64, i64)) {
    // t = m₊·(one operand) − m₋·(the other); `first` says whether the added one is `a`.
    let split = |u: i64, v: i64| -> (u128, u128, bool) {
        if u >= 0 && v <= 0 {
            (u as u128, v.unsigned_abs() as u128, true)
        } else {
            (v as u128, u.unsigned_abs() as u128, false)
        }
    };
    let (plus1, minus1, first1) = split(p, q);
    let (plus2, minus2, first2) = split(r, s);
    let (mut c1, mut c2): (i128, i128) = (0, 0);
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        let (xa, yb) = (*x as u128, *y as u128);
        let (u1, v1) = if first1 { (xa, yb) } else { (yb, xa) };
        let (u2, v2) = if first2 { (xa, yb) } else { (yb, xa) };
        // Each product is below 2⁶²·2⁶⁴, so the difference and the carry fit an i128.
        let t1 = (plus1 * u1) as i128 - (minus1 * v1) as i128 + c1;
        let t2 = (plus2 * u2) as i128 - (minus2 * v2) as i128 + c2;
        *x = t1 as u64;
        *y = t2 as u64;
        c1 = t1 >> 64;
        c2 = t2 >> 64;
    }
    debug_assert!(c1 == 0 && c2 == 0, "Lehmer's combinations are non-negative");
}

fn trim(v: &mut Vec<u64>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

/// `a < b` for trimmed or untrimmed limbs.
fn less(a: &[u64], b: &[u64]) -> bool {
    let (la, lb) = (len(a), len(b));
    if la != lb {
        return la < lb;
    }
    for k in (0..la).rev() {
        if a[k] != b[k] {
            return a[k] < b[k];
        }
    }
    false
}

fn len(v: &[u64]) -> usize {
    v.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1)
}

fn value(v: &[u64]) -> u128 {
    v.iter()
        .take(WORDS)
        .rev()
        .fold(0u128, |acc, &d| (acc << 64) | d as u128)
}

fn from_limbs(v: &[u64]) -> BigUint {
    super::limbs::to_biguint(v)
}

/// Euclid on two `u128`s.
fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while !b.is_zero() {
        if a >> 64 == 0 && b >> 64 == 0 {
            return u128::from(super::limbs::gcd_u64(a as u64, b as u64));
        }
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_integer::Integer;
    use proptest::prelude::*;

    fn natural(words: Vec<u64>) -> BigUint {
        super::from_limbs(&words)
    }

    proptest! {
        #[test]
        fn lehmer_agrees_with_num(
            a in proptest::collection::vec(any::<u64>(), 0..40),
            b in proptest::collection::vec(any::<u64>(), 0..40),
            common in proptest::collection::vec(any::<u64>(), 0..12),
        ) {
            let g = natural(common) + 1u32;
            let (a, b) = (natural(a) * &g, natural(b) * &g);
            prop_assert_eq!(gcd(&a, &b), a.gcd(&b));
            prop_assert_eq!(gcd(&b, &a), a.gcd(&b));
        }
    }

    #[test]
    fn consecutive_fibonacci_numbers_take_every_step() {
        // Every quotient is 1: the worst case for the leading-bits simulation.
        let (mut a, mut b) = (BigUint::from(1u8), BigUint::from(1u8));
        for _ in 0..3000 {
            let c = &a + &b;
            a = std::mem::replace(&mut b, c);
        }
        assert_eq!(gcd(&a, &b), BigUint::from(1u8));
        let k = BigUint::from(u64::MAX) * 12345u32;
        assert_eq!(gcd(&(&a * &k), &(&b * &k)), k);
        assert_eq!(gcd(&a, &BigUint::zero()), a);
        assert_eq!(gcd(&BigUint::zero(), &BigUint::zero()), BigUint::zero());
    }
}
