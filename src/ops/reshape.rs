//! Reshaping: the same entries under another shape of the same size.

use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)` = the entries of `x` (row-major) under `shape`; both rules reshape their tangent
/// (the Jacobian is the identity on the flattened entries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reshape {
    shape: Vec<usize>,
}

impl Reshape {
    /// Reshaping to `shape`.
    pub fn new(shape: Vec<usize>) -> Self {
        Reshape { shape }
    }
}

impl Op for Reshape {
    fn name(&self) -> String {
        format!("Reshape{:?}", self.shape)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let count = crate::tensor::element_count;
        if count(input)? != count(&self.shape)? {
            return Err(Error::shape_mismatch(
                "Reshape: sizes must agree (input, target)",
                input.to_vec(),
                self.shape.clone(),
            ));
        }
        Ok(self.shape.clone())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Reshape {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let shape = self.output_shape(x.shape())?;
        x.clone().reshape(shape)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Reshape jvp: dx")?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(&self.output_shape(x.shape())?, "Reshape vjp: δ")?;
        dy.clone().reshape(x.shape().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn reshape_passes() {
        assert_passes(
            &crate::check_op!(Reshape::new(vec![3, 2]), [2, 3], cases(64)),
            true,
        );
        assert_passes(
            &crate::check_op!(Reshape::new(vec![1, 4]), [2, 2], cases(64)),
            true,
        );
    }

    #[test]
    fn a_size_change_is_an_error() {
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let r = OpSpec::<Q>::forward(&Reshape::new(vec![4]), &x);
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(UndoneByTranspose(Reshape), fn vjp(&_op, x, dy) {
        // The gradient of a reshape taken back by transposing (a classic mix-up for matrices).
        dy.transpose()?.reshape(x.shape().to_vec())
    });

    #[test]
    fn planted_reshape_undone_by_transpose() {
        let op = UndoneByTranspose(Reshape::new(vec![3, 2]));
        assert_cx(&caught(&op, &[2, 3]), VJP, &[0, 2], "1", "0");
    }
}
