//! SiLU (swish) `x·σ(x)`, elementwise (`torch.nn.functional.silu`).

use super::pointwise::{map_at, sigmoid};
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = xᵢ·σ(xᵢ)` (`torch.nn.functional.silu`, `torch.nn.SiLU`), rule
/// `σ(x)·(1 + x·(1 − σ(x)))` (torch's backward, from the input). Smooth everywhere; decided
/// exactly over [`crate::Ex`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Silu;

impl Silu {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "SiLU", |v| {
            let s = sigmoid(v)?;
            let one = S::one();
            Ok(s.mul_ref(&one.add_ref(&v.mul_ref(&one.sub_ref(&s)))))
        })
    }
}

impl Op for Silu {
    fn name(&self) -> String {
        "SiLU".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Silu {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "SiLU", |v| Ok(v.mul_ref(&sigmoid(v)?)))
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
    fn silu_passes_over_the_exp_field() {
        let report = crate::check_op!(Silu, [2, 3], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
    }

    #[test]
    fn silu_is_outside_the_symbolic_field_without_branching() {
        assert_outside_field_not_branched(&Silu, &[3]);
    }

    planted!(RightForPositive(Silu), fn vjp(&op, x, dy) {
        // For x < 0 the rule drops the x·σ(x)·(1 − σ(x)) term and gives σ(x) alone; the true
        // rule elsewhere. Tested only on positive inputs (where SiLU is "almost the identity"),
        // it would pass.
        let right = op.vjp(x, dy)?;
        let s = map_at(x, "SiLU", sigmoid)?;
        let wrong = s.hadamard(dy)?;
        // The wrong rule where −v > 0, chosen by a select as the ops choose their pieces.
        let data = (x.data().iter().zip(right.into_data()).zip(wrong.into_data()))
            .map(|((v, r), w)| S::select(&v.neg_ref(), w, r))
            .collect();
        Tensor::new(x.shape().to_vec(), data)
    });

    #[test]
    fn planted_silu_rule_right_only_for_positive_inputs() {
        let c = caught(&RightForPositive(Silu), &[2]);
        println!("{c}");
        assert_eq!((c.check.as_str(), c.coordinate.as_slice()), (VJP, &[0][..]));
        let x = &c.inputs.iter().find(|(name, _)| name == "x").expect("x").1;
        let entries: Vec<_> = x.trim_matches(['[', ']']).split(", ").map(q).collect();
        let at = &entries[c.coordinate[0]];
        assert!(at < &crate::Q::from_integer(0.into()), "x = {x}");
        // At x = -1: σ(-1) = 1/(e + 1) against σ(-1)² (shown without the common factor e + 1
        // cancelled: the field does not take polynomial gcds).
        assert_eq!(x, "[-1, 0]");
        assert_cx(&c, VJP, &[0], "1/(e + 1)", "(e + 1)/(e^3 + 3e^2 + 3e + 1)");
    }
}
