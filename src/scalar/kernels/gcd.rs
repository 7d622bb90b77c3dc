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
    let mut scratch = (Vec::new(), Vec::new());
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
        combine(&a, &b, p, q, &mut scratch.0);
        combine(&a, &b, r, s, &mut scratch.1);
        std::mem::swap(&mut a, &mut scratch.0);
        std::mem::swap(&mut b, &mut scratch.1);
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

/// `n / d` for `n ≥ 0`, `d > 0`, in word arithmetic when both fit.
fn quotient(n: i128, d: i128) -> i128 {
    if n >> 64 == 0 && d >> 64 == 0 {
        ((n as u64) / (d as u64)) as i128
    } else {
        n / d
    }
}

/// `out = u·a + v·b`, known to be non-negative (`u` and `v` have opposite signs or one is 0).
fn combine(a: &[u64], b: &[u64], u: i64, v: i64, out: &mut Vec<u64>) {
    out.clear();
    let (u, v) = (u as i128, v as i128);
    let mut carry: i128 = 0;
    for k in 0..a.len().max(b.len()) {
        let x = a.get(k).copied().unwrap_or(0) as i128;
        let y = b.get(k).copied().unwrap_or(0) as i128;
        // |u·x + v·y| < 2⁶²·2⁶⁴ since u and v have opposite signs; the carry is below 2⁶³.
        let t = u * x + v * y + carry;
        out.push(t as u64);
        carry = t >> 64;
    }
    debug_assert!(carry == 0, "Lehmer's combination is non-negative and no longer");
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
