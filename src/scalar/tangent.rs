//! The row of partial derivatives a [`Jet`](crate::scalar::Jet) carries, stored so that
//! constants and seed coordinates cost nothing to build or multiply.
//!
//! It sits below both the jet type and its product kernel (src/scalar/kernels/jet.rs), which
//! each read it, so that neither file has to import the other's items.

use super::Ring;
use num_traits::Zero;
use std::borrow::Cow;
use std::rc::Rc;

/// The tangent row of a [`Jet`]: `∂value/∂x_c` for `c < width`.
#[derive(Clone, Debug)]
pub(crate) enum Tangent<S> {
    /// All zero: a constant (its width is whatever the other operands say).
    Zero,
    /// The basis row `e_index` of length `width`: a seed coordinate.
    Unit {
        /// Where the one is.
        index: usize,
        /// The row's length.
        width: usize,
    },
    /// Every entry, shared between clones (ReLU and guards copy jets without copying rows).
    Dense(Rc<[S]>),
}

impl<S: Ring> Tangent<S> {
    /// The row's length, unknown for [`Tangent::Zero`].
    pub(crate) fn width(&self) -> Option<usize> {
        match self {
            Tangent::Zero => None,
            Tangent::Unit { width, .. } => Some(*width),
            Tangent::Dense(d) => Some(d.len()),
        }
    }

    /// Entry `c`, borrowing `zero` or `one` for the implicit entries.
    pub(crate) fn at<'a>(&'a self, c: usize, zero: &'a S, one: &'a S) -> &'a S {
        match self {
            Tangent::Zero => zero,
            Tangent::Unit { index, .. } => {
                if *index == c {
                    one
                } else {
                    zero
                }
            }
            Tangent::Dense(d) => &d[c],
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        match self {
            Tangent::Zero => true,
            Tangent::Unit { .. } => false,
            Tangent::Dense(d) => d.iter().all(Zero::is_zero),
        }
    }

    /// The entries as a slice of length `width` (borrowed when stored densely).
    pub(crate) fn dense(&self, width: usize) -> Cow<'_, [S]> {
        match self {
            Tangent::Dense(d) => Cow::Borrowed(d),
            Tangent::Zero => Cow::Owned(vec![S::zero(); width]),
            Tangent::Unit { index, .. } => {
                let mut row = vec![S::zero(); width];
                if let Some(e) = row.get_mut(*index) {
                    *e = S::one();
                }
                Cow::Owned(row)
            }
        }
    }

    pub(crate) fn add(&self, rhs: &Self) -> Self {
        match (self, rhs) {
            (Tangent::Zero, t) | (t, Tangent::Zero) => t.clone(),
            (a, b) => {
                let width = a.width().expect("not zero");
                let (a, b) = (a.dense(width), b.dense(width));
                Tangent::Dense(a.iter().zip(b.iter()).map(|(x, y)| add(x, y)).collect())
            }
        }
    }

    pub(crate) fn neg(&self) -> Self {
        match self {
            Tangent::Zero => Tangent::Zero,
            t => {
                let width = t.width().expect("not zero");
                Tangent::Dense(t.dense(width).iter().map(S::neg_ref).collect())
            }
        }
    }

    /// `c·self` (the scalar on the left, as [`crate::Dual`] multiplies).
    pub(crate) fn scale(&self, c: &S) -> Self {
        match self {
            Tangent::Zero => Tangent::Zero,
            Tangent::Unit { .. } if c.is_one() => self.clone(),
            t => {
                let width = t.width().expect("not zero");
                let row = t.dense(width);
                Tangent::Dense(
                    row.iter()
                        .map(|x| if x.is_zero() { x.clone() } else { c.mul_ref(x) })
                        .collect(),
                )
            }
        }
    }
}

/// `x + y`, without touching a zero side.
pub(crate) fn add<S: Ring>(x: &S, y: &S) -> S {
    if x.is_zero() {
        y.clone()
    } else if y.is_zero() {
        x.clone()
    } else {
        x.add_ref(y)
    }
}
