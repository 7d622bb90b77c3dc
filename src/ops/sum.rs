//! The sum of all entries.

use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x) = Σᵢ xᵢ`, a scalar (shape `[]`). Rules: `jvp = Σ dx`, `vjp = δ·𝟙` (the cotangent
/// broadcast to the input's shape).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum;

/// The one value of a shape-`[]` cotangent.
pub(crate) fn scalar_cotangent<'a, S>(dy: &'a Tensor<S>, context: &str) -> Result<&'a S> {
    dy.expect_shape(&[], context)?;
    Ok(&dy.data()[0])
}

/// A shape-`[]` tensor.
pub(crate) fn scalar<S>(v: S) -> Tensor<S> {
    Tensor::new(vec![], vec![v]).expect("shape [] holds one value")
}

pub(crate) fn total<S: Scalar>(x: &Tensor<S>) -> S {
    x.data().iter().fold(S::zero(), |acc, v| acc.add_ref(v))
}

impl Op for Sum {
    fn name(&self) -> String {
        "Sum".into()
    }
    fn output_shape(&self, _input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![])
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Sum {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(scalar(total(x)))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Sum jvp: dx")?;
        Ok(scalar(total(dx)))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = scalar_cotangent(dy, "Sum vjp: δ")?;
        Ok(x.map(|_| d.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn sum_passes() {
        assert_passes(&crate::check_op!(Sum, [2, 3], cases(64)), true);
    }

    planted!(FirstOnly(Sum), fn vjp(&_op, x, dy) {
        // The cotangent routed to the first entry only, instead of broadcast to all.
        let mut data = vec![S::zero(); x.len()];
        data[0] = dy.data()[0].clone();
        Tensor::new(x.shape().to_vec(), data)
    });

    #[test]
    fn planted_sum_not_broadcast() {
        assert_cx(&caught(&FirstOnly(Sum), &[3]), VJP, &[1], "0", "1");
    }
}
