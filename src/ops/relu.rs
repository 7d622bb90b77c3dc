//! ReLU and its derivative mask — Lean's `Spec.relu_op`, `relu_deriv_spec`.

use super::piecewise::step;
use super::{Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `relu(x) = max(x, 0)` elementwise. Not differentiable where a coordinate is 0: those points
/// are reported as kinks by [`OpSpec::guards`], and every derivative check refuses them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

/// The derivative mask `relu′(x)`: 1 where `x > 0`, 0 where `x < 0` (and 0 at the kink, a
/// convention the checks never rely on) — Lean's `relu_deriv_spec`. Chosen by
/// [`crate::Ordered::select`], so over [`crate::Sym`] the mask is a mask symbol per coordinate.
pub fn relu_deriv_spec<S: Scalar>(x: &Tensor<S>) -> Tensor<S> {
    x.map(|v| step(v))
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
        Ok(x.map(|v| S::select(v, v.clone(), S::zero())))
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

    #[test]
    fn relu_branches_through_select() {
        assert_proved(&Relu, &[2, 3]);
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
