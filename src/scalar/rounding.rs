//! Exact values that carry a rigorous bound on what float arithmetic could make of them.
//!
//! A float computation of a program of `+`, `−`, `×` and divisions by exact constants satisfies,
//! in the standard model of floating-point arithmetic (each operation returns the exact result
//! times `1 + ε` with `|ε| ≤ u`; no underflow or overflow), whatever the order of its sums:
//!
//! ```text
//! |fl(y) − y| ≤ γ_d · M,    γ_d = d·u / (1 − d·u),
//! ```
//!
//! where `y` is the exact result, `M` the same program run on the absolute values of its inputs
//! with every subtraction turned into an addition, and `d` a bound on the number of roundings
//! any single product of inputs goes through (Higham, *Accuracy and Stability of Numerical
//! Algorithms*, §3.1–3.4: every monomial of the expanded result carries at most `d` factors
//! `1 + εᵢ`, and `|Π(1 + εᵢ) − 1| ≤ γ_d`). [`Rounded`] computes `y`, `M` and `d` together:
//! `M` and `d` follow the rules below, and branches (`select`, `sign`) follow the exact value.
//! The bound holds for a float run that takes the same branches (the same ReLU pattern and
//! max-pool winners), which the exact run names when a branch is close (see the grading).
//!
//! * `a ± b`: `M = M_a + M_b`, `d = max(d_a, d_b) + 1` — a sum of `n` terms in any order
//!   rounds each term at most `n − 1` times, and a left fold counts `n`;
//! * `a × b`: `M = M_a·M_b`, `d = d_a + d_b + 1` — the factors of both monomials, and this
//!   product's own rounding;
//! * `a / b` with `b` exact (`d_b = 0`): `M = M_a/|b|`, `d = d_a + 1`; a division by a rounded
//!   value has no bound of this form, and gives `d = None` (no bound);
//! * a constant is exact (`d = 0`) when it is a dyadic rational with at most 24 significant bits
//!   (exact in float32 and float64), and rounded once (`d = 1`) otherwise.
//!
//! Fused multiply-adds, blocked and pairwise sums only round fewer times, so the bound covers
//! them. Equality and order look at the exact value only.

use super::{Field, FunctionError, Ordered, Ring, Transcendental, Q};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// An exact value `value`, the magnitude `M` of the computation that produced it, and the
/// number `d` of roundings a float run of that computation can apply to one of its terms
/// (`None` when no such bound exists). See the module documentation for the rules.
#[derive(Clone)]
pub struct Rounded {
    /// The exact value.
    pub value: Q,
    /// The computation run on absolute values (≥ 0).
    pub magnitude: Q,
    /// The most roundings any term went through; `None` after a division by a rounded value.
    pub depth: Option<u32>,
}

crate::error::debug_with_fractions!(Rounded {
    value,
    magnitude,
    depth
});

impl Rounded {
    /// An input of the computation, exactly representable in float32 and float64 or not (see
    /// [`Rounded::exact_in_float32`]).
    pub fn input(q: &Q) -> Self {
        Rounded {
            value: q.clone(),
            magnitude: q.abs(),
            depth: Some(if Self::exact_in_float32(q) { 0 } else { 1 }),
        }
    }

    /// Whether `q` is a dyadic rational with at most 24 significant bits (so exact in float32,
    /// and in float64).
    pub fn exact_in_float32(q: &Q) -> bool {
        let d = q.denom();
        if d.is_zero() || (d & (d - BigInt::one())) != BigInt::zero() {
            return false;
        }
        let n = q.numer().abs();
        if n.is_zero() {
            return true;
        }
        let trailing = n.trailing_zeros().unwrap_or(0);
        n.bits() - trailing <= 24
    }

    /// `γ_d·M`: the largest error a float run with unit roundoff `u` can make on this value
    /// (`None` without a depth, or when `d·u ≥ 1`).
    pub fn error_bound(&self, u: &Q) -> Option<Q> {
        let d = Q::from_integer(BigInt::from(self.depth?));
        let du = d * u;
        if du >= Q::one() {
            return None;
        }
        Some(du.clone() / (Q::one() - du) * &self.magnitude)
    }
}

fn plus_one(d: Option<u32>) -> Option<u32> {
    d.and_then(|d| d.checked_add(1))
}

impl fmt::Display for Rounded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.depth {
            Some(d) => write!(f, "{} (|·| {}, {d} roundings)", self.value, self.magnitude),
            None => write!(f, "{} (unbounded rounding)", self.value),
        }
    }
}

/// Equality of the exact values (the bound is bookkeeping, not part of the number).
impl PartialEq for Rounded {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Add for Rounded {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl Sub for Rounded {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.sub_ref(&rhs)
    }
}

impl Mul for Rounded {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl Neg for Rounded {
    type Output = Self;
    fn neg(self) -> Self {
        self.neg_ref()
    }
}

impl Zero for Rounded {
    fn zero() -> Self {
        Rounded::input(&Q::zero())
    }
    fn is_zero(&self) -> bool {
        self.value.is_zero()
    }
}

impl One for Rounded {
    fn one() -> Self {
        Rounded::input(&Q::one())
    }
}

impl Ring for Rounded {
    fn add_ref(&self, rhs: &Self) -> Self {
        let depth = self.depth.zip(rhs.depth).map(|(a, b)| a.max(b));
        Rounded {
            value: &self.value + &rhs.value,
            magnitude: &self.magnitude + &rhs.magnitude,
            depth: plus_one(depth),
        }
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        let depth = self.depth.zip(rhs.depth).map(|(a, b)| a.max(b));
        Rounded {
            value: &self.value - &rhs.value,
            magnitude: &self.magnitude + &rhs.magnitude,
            depth: plus_one(depth),
        }
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        let depth = self
            .depth
            .zip(rhs.depth)
            .and_then(|(a, b)| a.checked_add(b));
        Rounded {
            value: &self.value * &rhs.value,
            magnitude: &self.magnitude * &rhs.magnitude,
            depth: plus_one(depth),
        }
    }
    fn neg_ref(&self) -> Self {
        Rounded {
            value: -&self.value,
            magnitude: self.magnitude.clone(),
            depth: self.depth,
        }
    }
    fn from_i64(n: i64) -> Self {
        Rounded::input(&Q::from_integer(BigInt::from(n)))
    }
}

impl Field for Rounded {
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        if rhs.value.is_zero() {
            return None;
        }
        let value = &self.value / &rhs.value;
        let (magnitude, depth) = match rhs.depth {
            Some(0) => (&self.magnitude / rhs.value.abs(), plus_one(self.depth)),
            _ => (value.abs(), None),
        };
        Some(Rounded {
            value,
            magnitude,
            depth,
        })
    }
    fn from_q(q: &Q) -> Self {
        Rounded::input(q)
    }
}

impl Ordered for Rounded {
    fn sign(&self) -> Ordering {
        self.value.sign()
    }
}

/// Like `Q`: `exp` and `ln` leave the rationals except at 0 and 1.
impl Transcendental for Rounded {
    const FIELD: &'static str = Q::FIELD;
    fn exp(&self) -> Result<Self, FunctionError> {
        Ok(Rounded::input(&self.value.exp()?))
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        Ok(Rounded::input(&self.value.ln()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::parse_q;

    fn r(s: &str) -> Rounded {
        Rounded::input(&parse_q(s).unwrap())
    }

    #[test]
    fn magnitudes_add_where_values_cancel() {
        let s = r("3").sub_ref(&r("3"));
        assert!(s.value.is_zero());
        assert_eq!(s.magnitude, parse_q("6").unwrap());
        assert_eq!(s.depth, Some(1));
    }

    #[test]
    fn products_add_their_depths() {
        let a = r("1").add_ref(&r("2")); // d = 1
        let b = r("1").add_ref(&r("2")).add_ref(&r("1")); // d = 2
        assert_eq!(a.mul_ref(&b).depth, Some(4));
    }

    #[test]
    fn constants_beyond_24_bits_are_rounded_once() {
        assert_eq!(r("1/3").depth, Some(1));
        assert_eq!(r("16777215").depth, Some(0)); // 2²⁴ − 1
        assert_eq!(r("16777217").depth, Some(1)); // 2²⁴ + 1
        assert_eq!(r("-3/1024").depth, Some(0));
    }

    #[test]
    fn division_by_a_rounded_value_has_no_bound() {
        let b = r("1").add_ref(&r("2"));
        assert_eq!(r("1").checked_div(&b).unwrap().depth, None);
        let exact = r("1").add_ref(&r("2")).checked_div(&r("4")).unwrap();
        assert_eq!(exact.depth, Some(2));
        assert_eq!(exact.magnitude, parse_q("3/4").unwrap());
    }

    #[test]
    fn the_bound_covers_a_float_sum() {
        // 0.1-ish values: the float64 sum of these dyadics differs from the exact one, within
        // the bound.
        let xs = ["1/3", "2/7", "-5/11", "1e-8", "7/13"].map(|s| parse_q(s).unwrap());
        let floats: Vec<f64> = xs
            .iter()
            .map(|q| num_traits::ToPrimitive::to_f64(q).unwrap())
            .collect();
        let exact_inputs: Vec<Q> = floats.iter().map(|&f| Q::from_float(f).unwrap()).collect();
        let sum = exact_inputs
            .iter()
            .fold(Rounded::zero(), |acc, q| acc.add_ref(&Rounded::input(q)));
        let float_sum: f64 = floats.iter().sum();
        let err = (Q::from_float(float_sum).unwrap() - &sum.value).abs();
        let u = Q::new(BigInt::one(), BigInt::one() << 53);
        assert!(err <= sum.error_bound(&u).unwrap());
    }
}
