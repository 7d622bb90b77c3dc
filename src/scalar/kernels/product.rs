//! One product or sum of two rationals, with gcds that cost what the smaller operand costs.
//!
//! `BigRational`'s `*` cancels with two gcds, and num-bigint's gcd is binary (Stein's): its
//! steps shift and subtract the larger operand one bit at a time, so `gcd(a, d)` with a
//! 700-bit `a` and a 52-bit `d` (a float's denominator) costs hundreds of full-width passes. A
//! remainder step first brings the larger operand down to the size of the smaller, after which
//! the binary gcd runs on two short numbers. The result is the same reduced fraction.
//! Past a few words the gcd itself is Lehmer's ([`super::gcd`]), not num-bigint's binary one.

use super::Q;
use num_bigint::{BigInt, BigUint};
use num_traits::{One, Zero};

/// Operands whose sizes differ by more than this many bits take a remainder step first.
const SIZE_GAP: u64 = 64;

/// `gcd(a, b)`, by remainder steps while one operand is much longer, then Lehmer's
/// ([`super::gcd`], which finishes two-word operands by word Euclid). num-bigint's binary gcd
/// was used below 193 bits: a quarter of a theorem check on small fractions
/// (64×64×10: 54.7 → 43.7 million instructions).
pub(crate) fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let (mut big, mut small) = if a.bits() >= b.bits() {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    };
    while !small.is_zero() && big.bits() > small.bits() + SIZE_GAP {
        let r = &big % &small;
        big = std::mem::replace(&mut small, r);
    }
    if small.is_zero() {
        return big;
    }
    super::gcd::gcd(&big, &small)
}

/// `n / d` in lowest terms, for `d ≠ 0` (`BigRational::new` with this module's gcd).
pub(crate) fn reduce(n: BigInt, d: BigInt) -> Q {
    debug_assert!(!d.is_zero());
    if n.is_zero() {
        return Q::zero();
    }
    let g = gcd(n.magnitude(), d.magnitude());
    let (n, d) = if g.is_one() {
        (n, d)
    } else {
        let g = BigInt::from(g);
        (n / &g, d / &g)
    };
    if d.sign() == num_bigint::Sign::Minus {
        Q::new_raw(-n, -d)
    } else {
        Q::new_raw(n, d)
    }
}

/// `x / y` for `y ≠ 0`, reduced: `x · (1/y)` by [`mul`] (the reciprocal of a reduced fraction is
/// reduced).
pub(crate) fn div(x: &Q, y: &Q) -> Q {
    debug_assert!(!y.is_zero());
    mul(x, &y.recip())
}

/// `x · y`, reduced: `(a/b)·(c/d) = (a/g₁)(c/g₂) / ((b/g₂)(d/g₁))` with `g₁ = gcd(a, d)` and
/// `g₂ = gcd(c, b)`; both inputs are reduced, so the result is too.
pub(crate) fn mul(x: &Q, y: &Q) -> Q {
    if x.is_zero() || y.is_zero() {
        return Q::zero();
    }
    let (a, b, c, d) = (x.numer(), x.denom(), y.numer(), y.denom());
    if b.is_one() && d.is_one() {
        return Q::from_integer(a * c);
    }
    let g1 = BigInt::from(gcd(a.magnitude(), d.magnitude()));
    let g2 = BigInt::from(gcd(c.magnitude(), b.magnitude()));
    let numer = (a / &g1) * (c / &g2);
    let denom = (b / &g2) * (d / &g1);
    Q::new_raw(numer, denom)
}

/// `x + y`, reduced (Knuth's method: `g = gcd(b, d)`; with `t = a·(d/g) + c·(b/g)` the only
/// common factor left is `gcd(t, g)`).
pub(crate) fn add(x: &Q, y: &Q) -> Q {
    if x.is_zero() {
        return y.clone();
    }
    if y.is_zero() {
        return x.clone();
    }
    let (a, b, c, d) = (x.numer(), x.denom(), y.numer(), y.denom());
    if b.is_one() && d.is_one() {
        return Q::from_integer(a + c);
    }
    let g = BigInt::from(gcd(b.magnitude(), d.magnitude()));
    if g.is_one() {
        return Q::new_raw(a * d + c * b, b * d);
    }
    let (b_g, d_g) = (b / &g, d / &g);
    let t = a * &d_g + c * &b_g;
    if t.is_zero() {
        return Q::zero();
    }
    let g2 = BigInt::from(gcd(t.magnitude(), g.magnitude()));
    Q::new_raw(t / &g2, b_g * (d / g2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{any_q, huge_q};
    use num_integer::Integer;
    use num_traits::Signed;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_product_is_the_reduced_product(x in any_q(), y in prop_oneof![any_q(), huge_q(700)]) {
            let (p, expected) = (mul(&x, &y), &x * &y);
            // The same reduced fraction: the same numerator and denominator.
            prop_assert_eq!(p.numer(), expected.numer());
            prop_assert_eq!(p.denom(), expected.denom());
        }

        #[test]
        fn the_sum_is_the_reduced_sum(x in any_q(), y in prop_oneof![any_q(), huge_q(700)]) {
            let (s, expected) = (add(&x, &y), &x + &y);
            prop_assert_eq!(s.numer(), expected.numer());
            prop_assert_eq!(s.denom(), expected.denom());
            let zero = add(&x, &-&x);
            prop_assert_eq!(zero.denom(), &BigInt::one());
        }

        #[test]
        fn gcd_in_two_words_agrees_with_num(a in any::<u128>(), b in any::<u128>(), shift in 0u32..64) {
            // Common powers of two too, and operands past one word: the word Euclid path.
            let (a, b) = (BigUint::from(a >> shift << shift), BigUint::from(b >> shift << shift));
            prop_assert_eq!(gcd(&a, &b), a.gcd(&b));
        }

        #[test]
        fn gcd_of_two_to_four_words_agrees_with_num(
            a in prop::collection::vec(any::<u64>(), 2..5),
            b in prop::collection::vec(any::<u64>(), 1..5),
            common in any::<u64>(),
        ) {
            let number = |words: &[u64]| words.iter().fold(BigUint::zero(), |n, &w| (n << 64u32) + w);
            let common = BigUint::from(common | 1);
            let (a, b) = (number(&a) * &common, number(&b) * &common);
            prop_assert_eq!(gcd(&a, &b), a.gcd(&b));
            prop_assert_eq!(gcd(&b, &a), a.gcd(&b));
        }

        #[test]
        fn gcd_agrees_with_num(a in huge_q(700), b in any_q()) {
            let (a, b) = (a.numer().magnitude().clone(), b.denom().magnitude().clone());
            prop_assert_eq!(gcd(&a, &b), a.gcd(&b));
            prop_assert_eq!(gcd(&b, &a), a.gcd(&b));
        }

        #[test]
        fn quotients_and_reductions_are_num_rationals(
            x in prop_oneof![any_q(), huge_q(1500)],
            y in prop_oneof![any_q(), huge_q(1500)],
            k in huge_q(400),
        ) {
            if !y.is_zero() {
                let (q, expected) = (div(&x, &y), &x / &y);
                prop_assert_eq!(q.numer(), expected.numer());
                prop_assert_eq!(q.denom(), expected.denom());
            }
            // A common factor of hundreds of bits, and a negative denominator.
            let f: BigInt = k.numer().abs() + 1;
            let (n, d): (BigInt, BigInt) = (x.numer() * &f, -(x.denom() * &f));
            let r = reduce(n.clone(), d.clone());
            let expected = Q::new(n, d);
            prop_assert_eq!(r.numer(), expected.numer());
            prop_assert_eq!(r.denom(), expected.denom());
        }
    }

    #[test]
    fn gcd_of_zero_is_the_other_operand() {
        let six = BigUint::from(6u32);
        assert_eq!(gcd(&six, &BigUint::zero()), six);
        assert_eq!(gcd(&BigUint::zero(), &six), six);
    }
}
