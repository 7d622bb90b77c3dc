//! The absolute value, elementwise.

use super::coordinate_guards::coordinate_guards;
use super::piecewise::signum;
use super::{Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = |xᵢ|`, with derivative `sign(xᵢ)`; every coordinate where `xᵢ = 0` is a kink.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Abs;

/// `sign(x)` as ±1 (0 only at the kink, which the checks refuse), through selects.
fn signs<S: Scalar>(x: &Tensor<S>) -> Tensor<S> {
    x.map(|v| signum(v))
}

impl Op for Abs {
    fn name(&self) -> String {
        "Abs".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Abs {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.map(|v| v.abs_val()))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        signs(x).hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        signs(x).hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(coordinate_guards(x, "Abs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn abs_passes() {
        assert_passes(&crate::check_op!(Abs, [2, 3], cases(64)), true);
    }

    #[test]
    fn a_zero_input_is_a_kink() {
        let x = t(&[2, 2], &["1", "-2", "0", "3"]);
        let r = crate::check::jacobian(&Abs, &x, &x, &x);
        assert_eq!(kink(r), (1, "Abs".into(), vec![1, 0]));
    }

    #[test]
    fn abs_branches_through_select() {
        assert_proved(&Abs, &[2, 3]);
    }

    #[test]
    fn abs_keeps_its_values_at_the_kink() {
        // sign(0) stays 0 through the nested selects; |0| = 0.
        let x = t(&[3], &["-2", "0", "1/3"]);
        assert_eq!(signs(&x), t(&[3], &["-1", "0", "1"]));
        assert_eq!(Abs.forward(&x).unwrap(), t(&[3], &["2", "0", "1/3"]));
    }

    planted!(AbsNoSign(Abs), fn vjp(&_op, _x, dy) {
        // The sign of x forgotten: the gradient of |x| taken as 1 everywhere.
        Ok(dy.clone())
    });

    #[test]
    fn planted_abs_without_sign() {
        assert_cx(&caught(&AbsNoSign(Abs), &[2]), VJP, &[1], "1", "-1");
    }
}
