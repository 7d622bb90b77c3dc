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
        .ok_or_else(|| Error::DivisionByZero {
            context: format!("{context} of an empty tensor"),
            coordinate: vec![],
        })
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
