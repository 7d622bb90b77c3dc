//! Block-tangent forward mode: a value with a whole row of partial derivatives, so one pass of
//! `forward` over [`Jet<S>`] seeded with the identity gives the full Jacobian — the `n` dual
//! passes of the per-coordinate method, as one.
//!
//! Constants (lifted parameters) carry no tangent at all and the seed `eᵢ` is stored as its index,
//! so `W·x` at the seed costs no multiplication (its tangent block is `W` itself), and matrix
//! products of a constant and a jet vector run on the `Q` kernels as one matrix product
//! (src/scalar/kernels/jet.rs). Every entry equals what the per-coordinate [`crate::Dual`] pass
//! gives (tests/integration/jet.rs checks that property).

use super::kernels::jet::{self as kernel, Layout, Parts};
use super::tangent::Tangent;
use super::{Field, Ordered, Ring};
use num_traits::{One, Zero};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// A value and its row of partial derivatives with respect to `width` seed coordinates.
///
/// Equality compares the value and every partial (a constant equals a jet whose row is zero);
/// [`Ordered::sign`] looks at the value alone, so branching follows the point while tangents ride
/// along — as for [`crate::Dual`].
#[derive(Clone)]
pub struct Jet<S> {
    value: S,
    tangent: Tangent<S>,
}

crate::error::debug_with_fractions!(Jet<S> { value, tangent });

impl<S: Ring> Jet<S> {
    /// A constant: every partial zero, stored as no row at all.
    pub fn constant(value: S) -> Self {
        Jet {
            value,
            tangent: Tangent::Zero,
        }
    }

    /// Seed coordinate `index` of `width`: its row is the basis row `e_index`.
    pub fn variable(value: S, index: usize, width: usize) -> Self {
        Jet {
            value,
            tangent: Tangent::Unit { index, width },
        }
    }

    /// A value with an explicit row of partials.
    pub fn new(value: S, tangent: Vec<S>) -> Self {
        Jet {
            value,
            tangent: Tangent::Dense(tangent.into()),
        }
    }

    pub(crate) fn from_parts(value: S, tangent: Tangent<S>) -> Self {
        Jet { value, tangent }
    }

    pub(crate) fn tangent_ref(&self) -> &Tangent<S> {
        &self.tangent
    }

    /// The value.
    pub fn value(&self) -> &S {
        &self.value
    }

    /// The row of partials padded to `width` entries (borrowed when stored in full).
    pub fn tangent(&self, width: usize) -> Cow<'_, [S]> {
        self.tangent.dense(width)
    }

    /// Whether no partial is stored (a constant; a stored row may still be zero).
    pub fn is_constant(&self) -> bool {
        matches!(self.tangent, Tangent::Zero)
    }
}

impl<S: Ring> PartialEq for Jet<S> {
    fn eq(&self, other: &Self) -> bool {
        if self.value != other.value {
            return false;
        }
        match (self.tangent.width(), other.tangent.width()) {
            (None, None) => true,
            (Some(w), None) | (None, Some(w)) => {
                self.tangent.dense(w).iter().all(Zero::is_zero)
                    && other.tangent.dense(w).iter().all(Zero::is_zero)
            }
            (Some(w), Some(v)) => w == v && self.tangent.dense(w) == other.tangent.dense(w),
        }
    }
}

impl<S: Ring> fmt::Display for Jet<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)?;
        if let Some(w) = self.tangent.width() {
            write!(f, " + [")?;
            for (c, t) in self.tangent.dense(w).iter().enumerate() {
                if c > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{t}")?;
            }
            write!(f, "]·∂")?;
        }
        Ok(())
    }
}

impl<S: Ring> Add for Jet<S> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl<S: Ring> Sub for Jet<S> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.sub_ref(&rhs)
    }
}

impl<S: Ring> Mul for Jet<S> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl<S: Ring> Neg for Jet<S> {
    type Output = Self;
    fn neg(self) -> Self {
        self.neg_ref()
    }
}

impl<S: Ring> Zero for Jet<S> {
    fn zero() -> Self {
        Jet::constant(S::zero())
    }
    fn is_zero(&self) -> bool {
        self.value.is_zero() && self.tangent.is_zero()
    }
}

impl<S: Ring> One for Jet<S> {
    fn one() -> Self {
        Jet::constant(S::one())
    }
}

impl<S: Ring> Ring for Jet<S> {
    fn add_ref(&self, rhs: &Self) -> Self {
        Jet::from_parts(
            self.value.add_ref(&rhs.value),
            self.tangent.add(&rhs.tangent),
        )
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        Jet::from_parts(
            self.value.sub_ref(&rhs.value),
            self.tangent.add(&rhs.tangent.neg()),
        )
    }
    /// `(a + a′)(b + b′) = ab + (a·b′ + a′·b)`, in the order [`crate::Dual`] uses.
    fn mul_ref(&self, rhs: &Self) -> Self {
        let tangent = rhs
            .tangent
            .scale(&self.value)
            .add(&self.tangent.scale(&rhs.value));
        Jet::from_parts(self.value.mul_ref(&rhs.value), tangent)
    }
    fn neg_ref(&self) -> Self {
        Jet::from_parts(self.value.neg_ref(), self.tangent.neg())
    }
    fn from_i64(n: i64) -> Self {
        Jet::constant(S::from_i64(n))
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        assert_eq!(
            a.len(),
            b.len(),
            "dot of lengths {} and {}",
            a.len(),
            b.len()
        );
        let mut out = product(a, b, Layout::Dot(a.len()), None);
        out.pop().unwrap_or_else(Self::zero)
    }
    fn mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        product(a, v, Layout::MatVec(rows, cols), None)
    }
    fn transpose_mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        product(a, v, Layout::TransposeMatVec(rows, cols), None)
    }
    fn matmul(a: &[Self], m: usize, k: usize, b: &[Self], n: usize) -> Vec<Self> {
        product(a, b, Layout::MatMul(m, k, n), None)
    }
    fn affine(a: &[Self], rows: usize, cols: usize, v: &[Self], b: &[Self]) -> Vec<Self> {
        product(a, v, Layout::MatVec(rows, cols), Some(b))
    }
    fn outer(u: &[Self], v: &[Self]) -> Vec<Self> {
        product(u, v, Layout::Outer(u.len(), v.len()), None)
    }
}

/// The kernel's product of jets, read through their parts and rebuilt as jets.
fn product<S: Ring>(
    a: &[Jet<S>],
    b: &[Jet<S>],
    layout: Layout,
    bias: Option<&[Jet<S>]>,
) -> Vec<Jet<S>> {
    let parts = Parts {
        value: Jet::value,
        tangent: Jet::tangent_ref,
    };
    kernel::bilinear(a, b, parts, layout, bias)
        .into_iter()
        .map(|(value, row)| match row {
            Some(row) => Jet::from_parts(value, Tangent::Dense(row.into())),
            None => Jet::constant(value),
        })
        .collect()
}

impl<S: Field> Field for Jet<S> {
    /// `(a/b)′ = (a′·b − a·b′)/b²` entry by entry, as [`crate::Dual`] divides; `None` when
    /// `b = 0`, whatever its partials.
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        let value = self.value.checked_div(&rhs.value)?;
        let b2 = rhs.value.mul_ref(&rhs.value);
        let width = self.tangent.width().or(rhs.tangent.width());
        let Some(width) = width else {
            S::zero().checked_div(&b2)?;
            return Some(Jet::constant(value));
        };
        let (ta, tb) = (self.tangent.dense(width), rhs.tangent.dense(width));
        let mut row = Vec::with_capacity(width);
        for (x, y) in ta.iter().zip(tb.iter()) {
            let num = x.mul_ref(&rhs.value) - self.value.mul_ref(y);
            row.push(num.checked_div(&b2)?);
        }
        Some(Jet::new(value, row))
    }
    fn from_q(q: &super::Q) -> Self {
        Jet::constant(S::from_q(q))
    }
}

impl<S: Ordered> Ordered for Jet<S> {
    fn sign(&self) -> Ordering {
        self.value.sign()
    }
    const DECIDES_SIGNS: bool = S::DECIDES_SIGNS;
    /// The value and every partial chosen by the guard's value, so a symbolic selection gives
    /// them all the same mask.
    fn select(guard: &Self, if_positive: Self, otherwise: Self) -> Self {
        if S::DECIDES_SIGNS {
            return if guard.value.sign() == Ordering::Greater {
                if_positive
            } else {
                otherwise
            };
        }
        let g = &guard.value;
        let value = S::select(g, if_positive.value, otherwise.value);
        let width = if_positive.tangent.width().or(otherwise.tangent.width());
        let tangent = match width {
            None => Tangent::Zero,
            Some(w) => {
                let (a, b) = (if_positive.tangent.dense(w), otherwise.tangent.dense(w));
                Tangent::Dense(
                    a.iter()
                        .zip(b.iter())
                        .map(|(x, y)| S::select(g, x.clone(), y.clone()))
                        .collect(),
                )
            }
        };
        Jet { value, tangent }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::{Dual, Q};

    fn q(n: i64) -> Q {
        Q::from_i64(n)
    }

    #[test]
    fn products_and_quotients_match_dual_numbers_column_by_column() {
        let x = Jet::variable(q(3), 0, 2);
        let y = Jet::variable(q(-2), 1, 2);
        let f = |a: Jet<Q>, b: Jet<Q>| {
            a.mul_ref(&a)
                .mul_ref(&b)
                .sub_ref(&b)
                .checked_div(&a.add_ref(&Jet::from_i64(1)))
                .unwrap()
        };
        let g = |a: Dual<Q>, b: Dual<Q>| {
            a.mul_ref(&a)
                .mul_ref(&b)
                .sub_ref(&b)
                .checked_div(&a.add_ref(&Dual::from_i64(1)))
                .unwrap()
        };
        let out = f(x, y);
        let d0 = g(Dual::new(q(3), q(1)), Dual::constant(q(-2)));
        let d1 = g(Dual::constant(q(3)), Dual::new(q(-2), q(1)));
        assert_eq!(out.value(), &d0.re);
        assert_eq!(out.tangent(2).to_vec(), vec![d0.eps, d1.eps]);
        assert!(Jet::constant(q(1))
            .checked_div(&Jet::variable(q(0), 0, 1))
            .is_none());
    }

    #[test]
    fn equality_ignores_how_a_row_is_stored_but_sign_reads_the_value() {
        assert_eq!(Jet::constant(q(1)), Jet::new(q(1), vec![q(0), q(0)]));
        assert_eq!(Jet::variable(q(1), 1, 2), Jet::new(q(1), vec![q(0), q(1)]));
        assert_ne!(Jet::variable(q(1), 0, 2), Jet::new(q(1), vec![q(0), q(1)]));
        assert_ne!(Jet::constant(q(1)), Jet::variable(q(1), 0, 2));
        assert_eq!(Jet::variable(q(0), 0, 1).sign(), Ordering::Equal);
        assert_eq!(Jet::new(q(-1), vec![q(5)]).sign(), Ordering::Less);
        assert!(!Jet::variable(q(0), 0, 1).is_zero());
        assert!(Jet::new(q(0), vec![q(0)]).is_zero());
    }
}
