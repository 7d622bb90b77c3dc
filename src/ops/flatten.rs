//! Flattening to a vector.

use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)` = the entries of `x` as a vector `[n]` (Lean's `toVec`); `vjp` restores the input's
/// shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl Op for Flatten {
    fn name(&self) -> String {
        "Flatten".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![crate::tensor::element_count(input)?])
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Flatten {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.flatten())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Flatten jvp: dx")?;
        Ok(dx.flatten())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(&[x.len()], "Flatten vjp: δ")?;
        dy.clone().reshape(x.shape().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn flatten_passes() {
        assert_passes(&crate::check_op!(Flatten, [2, 3], cases(64)), true);
        assert_passes(&crate::check_op!(Flatten, [2, 1, 2], cases(64)), true);
    }

    planted!(ColumnMajor(Flatten), fn vjp(&_op, x, dy) {
        // Unflattened in column-major order while the forward flattened row-major.
        let s = x.shape().to_vec();
        dy.clone().reshape(vec![s[1], s[0]])?.transpose()
    });

    #[test]
    fn planted_flatten_column_major() {
        assert_cx(
            &caught(&ColumnMajor(Flatten), &[2, 2]),
            VJP,
            &[0, 1],
            "1",
            "0",
        );
    }
}
