//! The mean of all entries.

use super::sum::{scalar, scalar_cotangent, total};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x) = (1/n) Σᵢ xᵢ`, a scalar (shape `[]`). Rules: `jvp = mean(dx)`, `vjp = (δ/n)·𝟙`.
/// The mean of an empty tensor is [`Error::DivisionByZero`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mean;

/// `v / n` where `n` is the number of entries of `x`; an error for an empty `x`.
pub(crate) fn per_entry<S: Scalar>(v: &S, x: &Tensor<S>, context: &str) -> Result<S> {
    v.checked_div(&S::from_i64(x.len() as i64))
        .ok_or_else(|| Error::division_by_zero(format!("{context} of an empty tensor"), []))
}

impl Op for Mean {
    fn name(&self) -> String {
        "Mean".into()
    }
    fn output_shape(&self, _input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![])
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Mean {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(scalar(per_entry(&total(x), x, "Mean")?))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Mean jvp: dx")?;
        Ok(scalar(per_entry(&total(dx), x, "Mean")?))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = per_entry(scalar_cotangent(dy, "Mean vjp: δ")?, x, "Mean")?;
        Ok(x.map(|_| d.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn mean_passes() {
        assert_passes(&crate::check_op!(Mean, [2, 3], cases(64)), true);
    }

    #[test]
    fn the_mean_of_nothing_is_a_division_by_zero() {
        let empty = Tensor::<Q>::new(vec![0], vec![]).unwrap();
        let r = OpSpec::<Q>::forward(&Mean, &empty);
        assert!(matches!(r, Err(crate::Error::DivisionByZero { .. })));
    }

    planted!(NotDivided(Mean), fn vjp(&_op, x, dy) {
        // The 1/n of the mean forgotten in the backward pass.
        Ok(x.map(|_| dy.data()[0].clone()))
    });

    #[test]
    fn planted_mean_without_one_over_n() {
        assert_cx(&caught(&NotDivided(Mean), &[4]), VJP, &[0], "1", "1/4");
    }

    planted!(JvpNotDivided(Mean), fn jvp(&_op, _x, dx) {
        // The forward-mode rule of the mean without its 1/n: the tangent summed.
        let total = dx.data().iter().fold(S::zero(), |a, v| a.add_ref(v));
        Tensor::new(vec![], vec![total])
    });

    #[test]
    fn planted_mean_jvp_without_one_over_n() {
        assert_cx(&caught(&JvpNotDivided(Mean), &[4]), JVP, &[], "1", "1/4");
    }
}
