//! Certified rational enclosures of `e^r` and `ln y`: how [`crate::Ex`] finds the sign of a
//! value it knows is not zero, and separates values that differ only in formal logarithms.
//!
//! Every bound is rigorous: Taylor series with a bounded remainder, each operation rounded
//! outward to a dyadic grid of `bits` bits so that sizes stay bounded. An enclosure only ever
//! decides a sign that excludes zero; it never decides an equality.

use super::exp_poly::ExpPoly;
use super::{pow2, Q};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;

/// `[lo, hi]` with rational ends, `lo ≤ hi`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Interval {
    pub lo: Q,
    pub hi: Q,
}

/// `⌊x·2^bits⌋ / 2^bits`.
fn down(x: &Q, bits: u64) -> Q {
    let scale = BigInt::one() << bits;
    let n = (x.numer() * &scale).div_floor(x.denom());
    Q::new(n, scale)
}

/// `⌈x·2^bits⌉ / 2^bits`.
fn up(x: &Q, bits: u64) -> Q {
    -down(&-x, bits)
}

impl Interval {
    pub fn point(x: Q) -> Self {
        Interval {
            lo: x.clone(),
            hi: x,
        }
    }

    /// The interval rounded outward to `bits` fractional bits.
    fn round(self, bits: u64) -> Self {
        Interval {
            lo: down(&self.lo, bits),
            hi: up(&self.hi, bits),
        }
    }

    pub fn add(&self, rhs: &Self) -> Self {
        Interval {
            lo: &self.lo + &rhs.lo,
            hi: &self.hi + &rhs.hi,
        }
    }

    pub fn mul(&self, rhs: &Self, bits: u64) -> Self {
        let p = [
            &self.lo * &rhs.lo,
            &self.lo * &rhs.hi,
            &self.hi * &rhs.lo,
            &self.hi * &rhs.hi,
        ];
        let lo = p.iter().min().expect("four products").clone();
        let hi = p.iter().max().expect("four products").clone();
        Interval { lo, hi }.round(bits)
    }

    /// `c·self` for an exact rational `c`.
    pub fn scale(&self, c: &Q, bits: u64) -> Self {
        self.mul(&Interval::point(c.clone()), bits)
    }

    /// `self / rhs`, or `None` when `rhs` contains zero.
    pub fn div(&self, rhs: &Self, bits: u64) -> Option<Self> {
        rhs.sign()?;
        let inv = Interval {
            lo: Q::one() / &rhs.hi,
            hi: Q::one() / &rhs.lo,
        };
        Some(self.mul(&inv.round(bits), bits))
    }

    /// The sign of every point, or `None` when the interval contains zero.
    pub fn sign(&self) -> Option<Ordering> {
        if self.lo.is_positive() {
            Some(Ordering::Greater)
        } else if self.hi.is_negative() {
            Some(Ordering::Less)
        } else if self.lo.is_zero() && self.hi.is_zero() {
            Some(Ordering::Equal)
        } else {
            None
        }
    }
}

/// Exponents beyond this size are not enclosed (the numbers would have that many bits).
const MAX_EXPONENT: i64 = 1 << 16;

/// `e^f` for `0 ≤ f ≤ 1` by its Taylor series; the tail after a term `t_k` with `k ≥ 2` is at
/// most `t_k·(1/3 + 1/9 + …) ≤ t_k`.
fn exp_unit(f: &Q, bits: u64) -> Interval {
    let z = Interval::point(f.clone()).round(bits);
    let tiny = Q::new(BigInt::one(), BigInt::one() << bits);
    let mut term = Interval::point(Q::one());
    let mut sum = term.clone();
    let mut k = 1i64;
    loop {
        term = term
            .mul(&z, bits)
            .scale(&Q::new(BigInt::one(), BigInt::from(k)), bits);
        sum = sum.add(&term);
        if k >= 2 && term.hi <= tiny {
            sum.hi += &term.hi;
            return sum;
        }
        k += 1;
    }
}

/// A certified enclosure of `e^r`, or `None` when `|r|` exceeds [`MAX_EXPONENT`].
pub(crate) fn exp(r: &Q, bits: u64) -> Option<Interval> {
    if r.is_negative() {
        let e = exp(&-r, bits)?;
        return Interval::point(Q::one()).div(&e, bits);
    }
    let n = r.floor();
    let f = r - &n;
    let n: i64 = n.to_integer().try_into().ok()?;
    if n > MAX_EXPONENT {
        return None;
    }
    // Extra bits for the relative error the powers of e accumulate.
    let work = bits + 2 * (64 - n.leading_zeros() as u64) + 8;
    let mut result = exp_unit(&f, work);
    let mut base = exp_unit(&Q::one(), work);
    let mut m = n;
    while m > 0 {
        if m & 1 == 1 {
            result = result.mul(&base, work);
        }
        base = base.mul(&base, work);
        m >>= 1;
    }
    Some(result)
}

/// A certified enclosure of `ln y` for a rational `y > 0`: `y = 2^k·m` with `m ∈ [1, 2)`,
/// `ln y = k·ln 2 + 2·atanh((m − 1)/(m + 1))`, the series' tail after a term `t` at most `t/8`.
fn ln_rational(y: &Q, bits: u64) -> Interval {
    let k = y.numer().bits() as i64 - y.denom().bits() as i64;
    let two = Q::from_integer(BigInt::from(2));
    let mut m = y / pow2(k);
    let mut k = k;
    while m >= two {
        m /= &two;
        k += 1;
    }
    while m < Q::one() {
        m *= &two;
        k -= 1;
    }
    let work = bits + 8 + (64 - k.unsigned_abs().leading_zeros() as u64);
    let atanh2 = |z: &Q| -> Interval {
        let z = Interval::point(z.clone()).round(work);
        let z2 = z.mul(&z, work);
        let tiny = Q::new(BigInt::one(), BigInt::one() << work);
        let mut power = z.clone();
        let mut sum = z.clone();
        let mut i = 1i64;
        loop {
            power = power.mul(&z2, work);
            let term = power.scale(&Q::new(BigInt::one(), BigInt::from(2 * i + 1)), work);
            sum = sum.add(&term);
            if term.hi <= tiny {
                sum.hi += &term.hi;
                return sum.scale(&two, work);
            }
            i += 1;
        }
    };
    let ln_m = atanh2(&((&m - Q::one()) / (&m + Q::one())));
    let ln2 = atanh2(&Q::new(BigInt::one(), BigInt::from(3)));
    ln_m.add(&ln2.scale(&Q::from_integer(BigInt::from(k)), work))
}

/// A certified enclosure of `ln` over an interval of positive numbers (`ln` is increasing).
pub(crate) fn ln(x: &Interval, bits: u64) -> Option<Interval> {
    if !x.lo.is_positive() {
        return None;
    }
    Some(Interval {
        lo: ln_rational(&x.lo, bits).lo,
        hi: ln_rational(&x.hi, bits).hi,
    })
}

/// `p = e^{top}·scaled` with `top` the largest exponent of `p`: an enclosure of `scaled`, whose
/// terms are `cᵢ·e^{rᵢ − top}` with `rᵢ − top ≤ 0`. A term further than `bits` below the top is
/// at most `|cᵢ|·2^{−bits}` and enclosed as such, so huge exponent gaps cost nothing.
pub(crate) fn scaled(p: &ExpPoly, bits: u64) -> (Q, Interval) {
    let Some((top, _)) = p.leading() else {
        return (Q::zero(), Interval::point(Q::zero()));
    };
    let far = Q::from_integer(BigInt::from(bits));
    let tiny = Q::new(BigInt::one(), BigInt::one() << bits);
    let mut sum = Interval::point(Q::zero());
    for (r, c) in p.terms() {
        let gap = top - r;
        let e = if gap > far {
            Interval {
                lo: Q::zero(),
                hi: tiny.clone(),
            }
        } else {
            exp(&-gap, bits).expect("the gap is at most `bits`")
        };
        sum = sum.add(&e.scale(c, bits));
    }
    (top.clone(), sum)
}

/// The exact sign of a non-zero exponential polynomial, refining until the enclosure excludes
/// zero. It terminates: a sum with terms is not zero (Lindemann–Weierstrass), and the enclosure
/// shrinks to the value as the precision grows.
pub(crate) fn sign(p: &ExpPoly) -> Ordering {
    if p.is_empty() {
        return Ordering::Equal;
    }
    // Every e^r is positive: coefficients of one sign decide at once (1 + e^x > 0).
    let positive = p.terms().iter().filter(|(_, c)| c.is_positive()).count();
    if positive == p.len() {
        return Ordering::Greater;
    }
    if positive == 0 {
        return Ordering::Less;
    }
    let mut bits = 64;
    loop {
        if let Some(s) = scaled(p, bits).1.sign() {
            return s;
        }
        bits *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Q {
        Q::new(n.into(), d.into())
    }

    fn to_f64(x: &Q) -> f64 {
        num_traits::ToPrimitive::to_f64(x).unwrap()
    }

    #[test]
    fn enclosures_contain_the_float_values_and_are_tight() {
        for r in [q(0, 1), q(1, 3), q(-5, 2), q(7, 1), q(-40, 3)] {
            let e = exp(&r, 80).unwrap();
            let v = to_f64(&r).exp();
            assert!(to_f64(&e.lo) <= v * (1.0 + 1e-15) && v <= to_f64(&e.hi) * (1.0 + 1e-15));
            assert!(to_f64(&(&e.hi - &e.lo)) < v.max(1.0) * 1e-20);
        }
        for y in [q(1, 1), q(3, 7), q(1000, 3), q(1, 1024)] {
            let l = ln(&Interval::point(y.clone()), 80).unwrap();
            let v = to_f64(&y).ln();
            assert!((to_f64(&l.lo) - v).abs() < 1e-14 && (to_f64(&l.hi) - v).abs() < 1e-14);
            assert!(l.lo <= l.hi);
        }
    }

    #[test]
    fn signs_of_near_cancellations_are_found() {
        // e^{1/10^6} − 1 − 10^{-6} > 0 (by about 5·10^{-13}).
        let eps = q(1, 1_000_000);
        let p = ExpPoly::from_terms(vec![(eps.clone(), q(1, 1)), (q(0, 1), -(q(1, 1) + &eps))]);
        assert_eq!(sign(&p), Ordering::Greater);
        // e^{-1000} − 3·e^{-1001} = e^{-1001}·(e − 3) < 0, far below any float.
        let p = ExpPoly::from_terms(vec![(q(-1000, 1), q(1, 1)), (q(-1001, 1), q(-3, 1))]);
        assert_eq!(sign(&p), Ordering::Less);
    }
}
