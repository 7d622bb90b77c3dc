//! ReLU and its derivative mask — Lean's `Spec.relu_op`, `relu_deriv_spec`.

use super::{Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// `relu(x) = max(x, 0)` elementwise. Not differentiable where a coordinate is 0: those points
/// are reported as kinks by [`OpSpec::guards`], and every derivative check refuses them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

/// The derivative mask `relu′(x)`: 1 where `x > 0`, 0 where `x < 0` (and 0 at the kink, a
/// convention the checks never rely on) — Lean's `relu_deriv_spec`.
pub fn relu_deriv_spec<S: Scalar>(x: &Tensor<S>) -> Tensor<S> {
    x.map(|v| {
        if v.sign() == Ordering::Greater {
            S::one()
        } else {
            S::zero()
        }
    })
}

impl Op for Relu {
    fn name(&self) -> String {
        "ReLU".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Relu {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.map(|v| {
            if v.sign() == Ordering::Greater {
                v.clone()
            } else {
                S::zero()
            }
        }))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        relu_deriv_spec(x).hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_deriv_spec(x).hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok((0..x.len())
            .map(|k| Guard {
                layer: 1,
                op: "ReLU".into(),
                coordinate: x.multi_index(k),
                value: x.data()[k].clone(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn relu_passes() {
        assert_passes(&crate::check_op!(Relu, [2, 3], cases(64)), true);
    }

    planted!(MaskNegated(Relu), fn vjp(&_op, x, dy) {
        // The mask taken where x < 0 instead of x > 0.
        relu_deriv_spec(&x.map(|v| v.neg_ref())).hadamard(dy)
    });

    #[test]
    fn planted_relu_mask_negated() {
        assert_cx(&caught(&MaskNegated(Relu), &[2]), VJP, &[0], "0", "1");
    }
}
