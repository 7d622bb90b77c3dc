//! Softsign `x/(1 + |x|)`, elementwise.

use super::coordinate_guards::coordinate_guards;
use super::{Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = xᵢ/(1 + |xᵢ|)`, rule `1/(1 + |xᵢ|)²`. The denominator is at least 1, so it never
/// divides by zero.
///
/// Softsign is C¹ but not C² at `xᵢ = 0` (the two rational pieces `x/(1+x)` and `x/(1−x)` meet
/// with equal slope but different curvature). The guards report `xᵢ` so that every check,
/// including second-order ones over nested duals, evaluates a single rational piece; a point
/// with `xᵢ = 0` is refused as a kink.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softsign;

fn one_plus_abs<S: Scalar>(v: &S) -> S {
    S::one().add_ref(&v.abs_val())
}

impl Softsign {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Tensor<S> {
        x.map(|v| {
            let d = one_plus_abs(v);
            S::one()
                .checked_div(&d.mul_ref(&d))
                .expect("1 + |x| ≥ 1 is never zero")
        })
    }
}

impl Op for Softsign {
    fn name(&self) -> String {
        "Softsign".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Softsign {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.map(|v| {
            v.checked_div(&one_plus_abs(v))
                .expect("1 + |x| ≥ 1 is never zero")
        }))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x).hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x).hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(coordinate_guards(x, "Softsign"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn softsign_passes() {
        assert_passes(&crate::check_op!(Softsign, [2, 3], cases(64)), false);
    }

    #[test]
    fn zero_is_a_kink() {
        let x = t(&[2, 2], &["1", "-2", "0", "3"]);
        let r = crate::check::jacobian(&Softsign, &x, &x, &x);
        assert_eq!(kink(r), (1, "Softsign".into(), vec![1, 0]));
    }

    planted!(NotSquared(Softsign), fn vjp(&_op, x, dy) {
        // 1/(1 + |x|) instead of 1/(1 + |x|)².
        let d = x.map(|v| S::one().checked_div(&S::one().add_ref(&v.abs_val())).unwrap());
        d.hadamard(dy)
    });

    #[test]
    fn planted_softsign_denominator_not_squared() {
        assert_cx(
            &caught(&NotSquared(Softsign), &[1]),
            VJP,
            &[0],
            "1/2",
            "1/4",
        );
    }
}
