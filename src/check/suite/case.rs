//! One generated case, and the strategy that draws it.

use crate::scalar::Q;
use crate::strategy::tensor;
use crate::tensor::Tensor;
use proptest::prelude::*;
use std::fmt;

/// One generated case: the point, two tangents, two cotangents and two scalars (for the
/// linearity checks). Its `Debug` form is exact, so a regression file records it readably.
#[derive(Clone, PartialEq)]
pub struct Case {
    /// The point `x`.
    pub x: Tensor<Q>,
    /// The tangent `dx` (`dx₁`).
    pub dx: Tensor<Q>,
    /// A second tangent `dx₂`.
    pub dx2: Tensor<Q>,
    /// The cotangent `δ` (`δ₁`).
    pub dy: Tensor<Q>,
    /// A second cotangent `δ₂`.
    pub dy2: Tensor<Q>,
    /// The scalar `a`.
    pub a: Q,
    /// The scalar `b`.
    pub b: Q,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "x = {}, dx = {}, dx₂ = {}, δ = {}, δ₂ = {}, a = {}, b = {}",
            self.x, self.dx, self.dx2, self.dy, self.dy2, self.a, self.b
        )
    }
}

/// The generated inputs of one case for an op `shape → out`, `x` drawn by `xs` (which decides
/// where the point may lie: off kinks, on one, or fixed).
pub(super) fn cases<X: Strategy<Value = Tensor<Q>>>(
    xs: X,
    shape: &[usize],
    out: &[usize],
    elem: &BoxedStrategy<Q>,
) -> impl Strategy<Value = Case> {
    let t = |s: &[usize]| tensor(s.to_vec(), elem.clone());
    (
        xs,
        t(shape),
        t(shape),
        t(out),
        t(out),
        elem.clone(),
        elem.clone(),
    )
        .prop_map(|(x, dx, dx2, dy, dy2, a, b)| Case {
            x,
            dx,
            dx2,
            dy,
            dy2,
            a,
            b,
        })
}
