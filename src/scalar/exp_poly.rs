//! Exponential polynomials `Σ cᵢ·e^{rᵢ}` with rational `cᵢ ≠ 0` and distinct rational `rᵢ`: the
//! numerators and denominators of [`crate::Ex`].
//!
//! By the Lindemann–Weierstrass theorem the numbers `e^r` for distinct rational `r` are linearly
//! independent over the algebraic numbers, so such a sum is zero exactly when it has no terms
//! once equal exponents are merged: equality is structural, and decided with no approximation.

use super::Q;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;

/// `Σ cᵢ·e^{rᵢ}`, its terms `(rᵢ, cᵢ)` sorted by exponent, exponents distinct, coefficients
/// non-zero: a canonical form, so `==` is equality of the real numbers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ExpPoly {
    terms: Vec<(Q, Q)>,
}

impl ExpPoly {
    /// `0`.
    pub fn zero() -> Self {
        ExpPoly { terms: Vec::new() }
    }

    /// The rational `c`.
    pub fn constant(c: Q) -> Self {
        Self::monomial(c, Q::zero())
    }

    /// `c·e^r`.
    pub fn monomial(c: Q, r: Q) -> Self {
        if c.is_zero() {
            return Self::zero();
        }
        ExpPoly {
            terms: vec![(r, c)],
        }
    }

    /// From terms `(exponent, coefficient)` in any order, merging equal exponents.
    pub fn from_terms(mut terms: Vec<(Q, Q)>) -> Self {
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Q, Q)> = Vec::with_capacity(terms.len());
        for (r, c) in terms {
            match out.last_mut() {
                Some(last) if last.0 == r => last.1 += c,
                _ => {
                    if out.last().is_some_and(|l| l.1.is_zero()) {
                        out.pop();
                    }
                    out.push((r, c));
                }
            }
        }
        if out.last().is_some_and(|l| l.1.is_zero()) {
            out.pop();
        }
        ExpPoly { terms: out }
    }

    /// The terms `(exponent, coefficient)`, by increasing exponent.
    pub fn terms(&self) -> &[(Q, Q)] {
        &self.terms
    }

    /// Whether this is `0`.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// The rational value, when there is no `e^r` with `r ≠ 0`.
    pub fn as_rational(&self) -> Option<Q> {
        match self.terms.as_slice() {
            [] => Some(Q::zero()),
            [(r, c)] if r.is_zero() => Some(c.clone()),
            _ => None,
        }
    }

    /// The single term `(r, c)`, when there is exactly one.
    pub fn as_monomial(&self) -> Option<(&Q, &Q)> {
        match self.terms.as_slice() {
            [(r, c)] => Some((r, c)),
            _ => None,
        }
    }

    /// The number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether there are no terms (the value `0`).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// `self + rhs`: a merge of two sorted lists.
    pub fn add(&self, rhs: &Self) -> Self {
        self.merge(rhs, false)
    }

    /// `self − rhs`.
    pub fn sub(&self, rhs: &Self) -> Self {
        self.merge(rhs, true)
    }

    fn merge(&self, rhs: &Self, negate: bool) -> Self {
        let (a, b) = (&self.terms, &rhs.terms);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        let sign = |c: &Q| if negate { -c } else { c.clone() };
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => x.0.cmp(&y.0),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                Ordering::Greater => {
                    out.push((b[j].0.clone(), sign(&b[j].1)));
                    j += 1;
                }
                Ordering::Equal => {
                    let c = &a[i].1 + sign(&b[j].1);
                    if !c.is_zero() {
                        out.push((a[i].0.clone(), c));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        ExpPoly { terms: out }
    }

    /// `−self`.
    pub fn neg(&self) -> Self {
        self.scale(&-Q::one())
    }

    /// `c·self`.
    pub fn scale(&self, c: &Q) -> Self {
        if c.is_zero() {
            return Self::zero();
        }
        ExpPoly {
            terms: self.terms.iter().map(|(r, d)| (r.clone(), d * c)).collect(),
        }
    }

    /// `c·e^s·self`: a monomial times the sum, which keeps the order.
    pub fn times_monomial(&self, c: &Q, s: &Q) -> Self {
        if c.is_zero() {
            return Self::zero();
        }
        ExpPoly {
            terms: self.terms.iter().map(|(r, d)| (r + s, d * c)).collect(),
        }
    }

    /// `self × rhs`, every pair of terms, equal exponents merged.
    pub fn mul(&self, rhs: &Self) -> Self {
        if let Some((s, c)) = rhs.as_monomial() {
            return self.times_monomial(c, s);
        }
        if let Some((s, c)) = self.as_monomial() {
            return rhs.times_monomial(c, s);
        }
        let mut terms = Vec::with_capacity(self.len() * rhs.len());
        for (r, c) in &self.terms {
            for (s, d) in &rhs.terms {
                terms.push((r + s, c * d));
            }
        }
        Self::from_terms(terms)
    }

    /// `k` with `self = k·other` for a monomial `k = c·e^s`, if there is one.
    pub fn monomial_ratio(&self, other: &Self) -> Option<(Q, Q)> {
        if self.len() != other.len() || self.is_empty() {
            return None;
        }
        let (r0, c0) = &self.terms[0];
        let (s0, d0) = &other.terms[0];
        let (shift, ratio) = (r0 - s0, c0 / d0);
        self.terms
            .iter()
            .zip(&other.terms)
            .all(|((r, c), (s, d))| *r == s + &shift && *c == d * &ratio)
            .then_some((ratio, shift))
    }

    /// The term with the largest exponent (it dominates for large values of the exponents).
    pub fn leading(&self) -> Option<&(Q, Q)> {
        self.terms.last()
    }

    /// The sign of the leading coefficient (the sign of the value when one term dominates).
    pub fn leading_sign(&self) -> Ordering {
        match self.leading() {
            None => Ordering::Equal,
            Some((_, c)) if c.is_positive() => Ordering::Greater,
            Some(_) => Ordering::Less,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Q {
        Q::new(n.into(), d.into())
    }

    #[test]
    fn equal_exponents_merge_and_cancel() {
        let a = ExpPoly::from_terms(vec![(q(1, 2), q(1, 1)), (q(0, 1), q(2, 1))]);
        let b = ExpPoly::monomial(q(-1, 1), q(1, 2));
        assert_eq!(a.add(&b), ExpPoly::constant(q(2, 1)));
        assert!(a.sub(&a).is_zero());
        // (1 + e^x)(1 − e^x) = 1 − e^{2x}
        let x = q(1, 3);
        let p = ExpPoly::from_terms(vec![(q(0, 1), q(1, 1)), (x.clone(), q(1, 1))]);
        let m = ExpPoly::from_terms(vec![(q(0, 1), q(1, 1)), (x.clone(), q(-1, 1))]);
        assert_eq!(
            p.mul(&m),
            ExpPoly::from_terms(vec![(q(0, 1), q(1, 1)), (q(2, 3), q(-1, 1))])
        );
    }

    #[test]
    fn proportional_sums_have_a_monomial_ratio() {
        let p = ExpPoly::from_terms(vec![(q(0, 1), q(1, 1)), (q(1, 1), q(2, 1))]);
        let k = p.times_monomial(&q(3, 1), &q(-1, 2));
        assert_eq!(k.monomial_ratio(&p), Some((q(3, 1), q(-1, 2))));
        assert_eq!(p.monomial_ratio(&p.add(&ExpPoly::constant(q(1, 1)))), None);
    }
}
