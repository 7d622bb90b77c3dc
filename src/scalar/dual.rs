//! Dual numbers `a + b·ε` with `ε² = 0`: forward-mode derivatives that stay exact over `Q`.
//!
//! `num-dual` needs float scalars and so cannot hold rationals; this type is generic over any
//! [`Ring`], so `Dual<Q>` gives exact derivatives and `Dual<Dual<Q>>` exact second derivatives.

use super::kernels::dual::{self as kernel, Layout, Parts, Split};
use super::{Field, Ordered, Ring};
use num_traits::{One, Zero};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// `re + eps·ε` with `ε² = 0`. Equality is structural (both parts); only [`Ordered::sign`] looks
/// at the real part alone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Dual<S> {
    /// The value.
    pub re: S,
    /// The tangent (derivative part).
    pub eps: S,
}

crate::error::debug_with_fractions!(Dual<S> { re, eps });

impl<S: Ring> Dual<S> {
    /// `re + eps·ε`.
    pub fn new(re: S, eps: S) -> Self {
        Dual { re, eps }
    }
    /// A constant: tangent zero.
    pub fn constant(re: S) -> Self {
        Dual { re, eps: S::zero() }
    }
    /// A variable: tangent one.
    pub fn variable(re: S) -> Self {
        Dual { re, eps: S::one() }
    }
}

impl<S: Ring> fmt::Display for Dual<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {}ε", self.re, self.eps)
    }
}

impl<S: Ring> Add for Dual<S> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Dual::new(self.re + rhs.re, self.eps + rhs.eps)
    }
}

impl<S: Ring> Sub for Dual<S> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Dual::new(self.re - rhs.re, self.eps - rhs.eps)
    }
}

impl<S: Ring> Mul for Dual<S> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl<S: Ring> Neg for Dual<S> {
    type Output = Self;
    fn neg(self) -> Self {
        Dual::new(-self.re, -self.eps)
    }
}

impl<S: Ring> Zero for Dual<S> {
    fn zero() -> Self {
        Dual::constant(S::zero())
    }
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }
}

impl<S: Ring> One for Dual<S> {
    fn one() -> Self {
        Dual::constant(S::one())
    }
}

impl<S: Ring> Ring for Dual<S> {
    fn add_ref(&self, rhs: &Self) -> Self {
        Dual::new(self.re.add_ref(&rhs.re), self.eps.add_ref(&rhs.eps))
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        Dual::new(self.re.sub_ref(&rhs.re), self.eps.sub_ref(&rhs.eps))
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        let eps = self.re.mul_ref(&rhs.eps) + self.eps.mul_ref(&rhs.re);
        Dual::new(self.re.mul_ref(&rhs.re), eps)
    }
    fn neg_ref(&self) -> Self {
        Dual::new(self.re.neg_ref(), self.eps.neg_ref())
    }
    fn from_i64(n: i64) -> Self {
        Dual::constant(S::from_i64(n))
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        let mut out = join(kernel::bilinear(
            a,
            b,
            parts(),
            Some(Layout::Dot),
            |x, y| vec![S::dot(x, y)],
        ));
        out.pop().unwrap_or_else(Self::zero)
    }
    fn mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        join(kernel::bilinear(
            a,
            v,
            parts(),
            Some(Layout::MatVec(rows, cols)),
            |x, y| S::mat_vec(x, rows, cols, y),
        ))
    }
    fn transpose_mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        join(kernel::bilinear(
            a,
            v,
            parts(),
            Some(Layout::TransposeMatVec(rows, cols)),
            |x, y| S::transpose_mat_vec(x, rows, cols, y),
        ))
    }
    fn matmul(a: &[Self], m: usize, k: usize, b: &[Self], n: usize) -> Vec<Self> {
        join(kernel::bilinear(
            a,
            b,
            parts(),
            Some(Layout::MatMul(m, k, n)),
            |x, y| S::matmul(x, m, k, y, n),
        ))
    }
    fn affine(a: &[Self], rows: usize, cols: usize, v: &[Self], b: &[Self]) -> Vec<Self> {
        join(kernel::affine(a, rows, cols, v, b, parts()))
    }
    fn outer(u: &[Self], v: &[Self]) -> Vec<Self> {
        join(kernel::bilinear(u, v, parts(), None, |x, y| S::outer(x, y)))
    }
}

/// Where the product kernel (src/scalar/kernels/dual.rs) reads the parts of a dual number.
fn parts<S>() -> Parts<Dual<S>, S> {
    fn re<S>(d: &Dual<S>) -> &S {
        &d.re
    }
    fn eps<S>(d: &Dual<S>) -> &S {
        &d.eps
    }
    Parts { re, eps }
}

/// Dual numbers from the kernel's real parts and tangents.
fn join<S: Ring>((re, eps): Split<S>) -> Vec<Dual<S>> {
    re.into_iter()
        .zip(eps)
        .map(|(r, e)| Dual::new(r, e))
        .collect()
}

impl<S: Field> Field for Dual<S> {
    /// `(a + bε)/(c + dε) = a/c + (b·c − a·d)/c² ε`; `None` when `c = 0`, even if `d ≠ 0`,
    /// because no dual number times `dε` gives a non-zero real part.
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        let re = self.re.checked_div(&rhs.re)?;
        let num = self.eps.mul_ref(&rhs.re) - self.re.mul_ref(&rhs.eps);
        let eps = num.checked_div(&rhs.re.mul_ref(&rhs.re))?;
        Some(Dual::new(re, eps))
    }
    fn from_q(q: &super::Q) -> Self {
        Dual::constant(S::from_q(q))
    }
    fn from_q_slice(qs: &[super::Q]) -> Vec<Self> {
        S::from_q_slice(qs)
            .into_iter()
            .map(Dual::constant)
            .collect()
    }
    fn from_q_named(qs: &[super::Q], name: u64) -> Vec<Self> {
        S::from_q_named(qs, name)
            .into_iter()
            .map(Dual::constant)
            .collect()
    }
}

impl<S: Ordered> Ordered for Dual<S> {
    fn sign(&self) -> Ordering {
        self.re.sign()
    }
    const DECIDES_SIGNS: bool = S::DECIDES_SIGNS;
    /// Both parts chosen by the real part of the guard, so a symbolic selection gives the
    /// value and its tangent the same mask.
    fn select(guard: &Self, if_positive: Self, otherwise: Self) -> Self {
        if S::DECIDES_SIGNS {
            return if guard.re.sign() == Ordering::Greater {
                if_positive
            } else {
                otherwise
            };
        }
        Dual {
            re: S::select(&guard.re, if_positive.re, otherwise.re),
            eps: S::select(&guard.re, if_positive.eps, otherwise.eps),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Q;

    fn q(n: i64) -> Q {
        Q::from_i64(n)
    }

    #[test]
    fn product_rule_and_quotient_rule_are_exact() {
        let x = Dual::variable(q(3));
        let y = x.mul_ref(&x).mul_ref(&x); // x³ → 27 + 27ε
        assert_eq!(y, Dual::new(q(27), q(27)));
        let r = Dual::constant(q(1)).checked_div(&x).unwrap(); // 1/x → 1/3 − 1/9 ε
        assert_eq!(
            r,
            Dual::new(Q::new(1.into(), 3.into()), Q::new((-1).into(), 9.into()))
        );
        assert!(Dual::constant(q(1))
            .checked_div(&Dual::new(q(0), q(1)))
            .is_none());
    }

    #[test]
    fn equality_is_structural_but_sign_reads_the_real_part() {
        assert_ne!(Dual::new(q(1), q(0)), Dual::new(q(1), q(2)));
        assert_eq!(Dual::new(q(0), q(-5)).sign(), Ordering::Equal);
        assert_eq!(Dual::new(q(-1), q(5)).sign(), Ordering::Less);
    }

    #[test]
    fn nested_duals_give_second_derivatives() {
        // f(x) = x³ at 2: f'' = 12, seen in the ε₁ε₂ part.
        let x = Dual::new(Dual::variable(q(2)), Dual::constant(q(1)));
        let y = x.mul_ref(&x).mul_ref(&x);
        assert_eq!(y.eps.eps, q(12));
    }
}
