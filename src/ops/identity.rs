//! The identity op: the unit of composition.

use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x) = x`; both rules are the identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl Op for Identity {
    fn name(&self) -> String {
        "Identity".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Identity {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.clone())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Identity jvp: dx")?;
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(x.shape(), "Identity vjp: δ")?;
        Ok(dy.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn identity_passes() {
        assert_passes(&crate::check_op!(Identity, [2, 3], cases(64)), true);
    }

    planted!(DerivativeForVjp(Identity), fn vjp(&_op, x, _dy) {
        // The Jacobian's diagonal (all ones) returned instead of Jᵀ·δ: δ never multiplied in.
        Ok(x.map(|_| S::one()))
    });

    #[test]
    fn planted_identity_derivative_for_vjp() {
        assert_cx(
            &caught(&DerivativeForVjp(Identity), &[2]),
            "structural: vjp(x, 0) = 0",
            &[0],
            "1",
            "0",
        );
    }
}
