//! Mean squared error against a stored target.

use super::mean::per_entry;
use super::sum::{scalar, scalar_cotangent};
use super::{expect_input, Op, OpSpec};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = (1/n) Σᵢ (xᵢ − tᵢ)²` for a stored target `t` of the input's shape; a scalar
/// (shape `[]`). Rules: `jvp = (2/n) Σ (x − t) ⊙ dx`, `vjp = (2δ/n)(x − t)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MseLoss {
    target: Tensor<Q>,
}

impl MseLoss {
    /// The loss against `target`.
    pub fn new(target: Tensor<Q>) -> Self {
        MseLoss { target }
    }

    /// The target.
    pub fn target(&self) -> &Tensor<Q> {
        &self.target
    }
}

impl MseLoss {
    /// `x − t`, shape-checked.
    fn residual<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        expect_input(x.shape(), self.target.shape(), "MseLoss")?;
        x.sub(&self.target.lifted::<S>())
    }
}

impl Op for MseLoss {
    fn name(&self) -> String {
        "MseLoss".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_input(input, self.target.shape(), "MseLoss")?;
        Ok(vec![])
    }
}

impl<S: Scalar> OpSpec<S> for MseLoss {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let r = self.residual(x)?;
        Ok(scalar(per_entry(&r.dot(&r)?, x, "MseLoss")?))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let two_r = self.residual(x)?.scale(&S::from_i64(2));
        Ok(scalar(per_entry(&two_r.dot(dx)?, x, "MseLoss")?))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = scalar_cotangent(dy, "MseLoss vjp: δ")?;
        let coeff = per_entry(&S::from_i64(2).mul_ref(d), x, "MseLoss")?;
        Ok(self.residual(x)?.scale(&coeff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn mse_passes() {
        let op = MseLoss::new(t(&[2, 2], &["1", "-1/2", "0", "3"]));
        assert_passes(&crate::check_op!(op, [2, 2], cases(64)), false);
    }

    #[test]
    fn mse_is_exact_and_checks_the_target_shape() {
        // ((3−1)² + (0−1)²)/2 = 5/2, gradient (x − t)·2/2 = [2, −1].
        let op = MseLoss::new(t(&[2], &["1", "1"]));
        let g = crate::check::gradient(&op, &t(&[2], &["3", "0"])).unwrap();
        assert_eq!((g.value, g.gradient), (q("5/2"), t(&[2], &["2", "-1"])));
        let r = OpSpec::<Q>::forward(&op, &t(&[3], &["1", "2", "3"]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(NoTwo(MseLoss), fn vjp(&op, x, dy) {
        // d/dx (x − t)² taken as (x − t): the factor 2 lost.
        let half = S::one().checked_div(&S::from_i64(2)).unwrap();
        Ok(op.vjp(x, dy)?.scale(&half))
    });

    #[test]
    fn planted_mse_without_factor_two() {
        let op = NoTwo(MseLoss::new(t(&[2], &["1", "1"])));
        assert_cx(&caught(&op, &[2]), VJP, &[0], "-1/2", "-1");
    }
}
