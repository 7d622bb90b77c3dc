//! The exponential `eˣ`, elementwise (`torch.exp`).

use super::pointwise::map_at;
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = e^{xᵢ}` (`torch.exp`), rule `exp′ = exp` (torch's backward multiplies the cotangent
/// by the saved output). Over `Q` only `e⁰` exists, so the checks decide it over
/// [`crate::Ex`], where `e^r` at a rational `r` is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exp;

impl Exp {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Exp", |v| v.exp())
    }
}

impl Op for Exp {
    fn name(&self) -> String {
        "Exp".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Exp {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Exp", |v| v.exp())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn exp_op_passes_over_the_exp_field() {
        let report = crate::check_op!(Exp, [2, 3], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
    }

    #[test]
    fn exp_op_over_q_refuses_and_names_the_coordinate() {
        let x = t(&[2, 2], &["0", "0", "1/2", "0"]);
        assert_eq!(
            OpSpec::<crate::Q>::forward(&Exp, &x),
            Err(crate::Error::outside_field(
                "Exp",
                [1, 0],
                "exp",
                &"1/2",
                "Q"
            ))
        );
    }

    planted!(SavedInput(Exp), fn vjp(&_op, x, dy) {
        // The saved input used where torch's backward uses the saved output: x ⊙ δ, not eˣ ⊙ δ.
        x.hadamard(dy)
    });

    #[test]
    fn exp_op_planted_vjp_uses_the_input_for_the_output() {
        // The search shrinks to x = 0, where e⁰ = 1 is rational.
        let c = caught(&SavedInput(Exp), &[2]);
        println!("{c}");
        assert_cx(&c, VJP, &[0], "0", "1");
        // At x = 1 the reference is e itself, over the exp field.
        let (x, dy) = (t(&[1], &["1"]).lift::<crate::Ex>(), t(&[1], &["1"]).lift());
        let c = match crate::check::jacobian(&SavedInput(Exp), &x, &dy, &dy) {
            Err(crate::Error::Violated(c)) => c,
            other => panic!("expected a counterexample, got {other:?}"),
        };
        assert_cx(&c, VJP, &[0], "1", "e");
    }
}
