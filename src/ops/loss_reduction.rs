//! How an elementwise loss combines its per-entry terms: torch's `reduction=` ([`Reduction`])
//! for `mse_loss`, `l1_loss` and `huber_loss`.

use super::mean::per_entry;
use super::sum::{scalar, scalar_cotangent, total};
use super::Reduction;
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// The loss's output shape for an input of shape `input`: the input's own shape for
/// [`Reduction::None`], a scalar `[]` otherwise.
pub(crate) fn reduced_shape(input: &[usize], reduction: Reduction) -> Vec<usize> {
    match reduction {
        Reduction::None => input.to_vec(),
        Reduction::Mean | Reduction::Sum => vec![],
    }
}

/// The per-entry terms (the input's shape) reduced: themselves, their sum, or their mean (an
/// error for an empty input, as [`super::Mean`]). `op` names the loss in errors.
pub(crate) fn reduce<S: Scalar>(
    terms: Tensor<S>,
    reduction: Reduction,
    op: &str,
) -> Result<Tensor<S>> {
    Ok(match reduction {
        Reduction::None => terms,
        Reduction::Sum => scalar(total(&terms)),
        Reduction::Mean => scalar(per_entry(&total(&terms), &terms, op)?),
    })
}

/// The cotangent of each term, shaped like `x`: `δ` itself (none: `δ` has `x`'s shape), `δ` on
/// every entry (sum), or `δ/n` on every entry (mean). The vjp of the loss is this times the
/// terms' slopes.
pub(crate) fn term_cotangents<S: Scalar>(
    x: &Tensor<S>,
    dy: &Tensor<S>,
    reduction: Reduction,
    op: &str,
) -> Result<Tensor<S>> {
    let context = format!("{op} vjp: δ");
    let d = match reduction {
        Reduction::None => {
            dy.expect_shape(x.shape(), &context)?;
            return Ok(dy.clone());
        }
        Reduction::Sum => scalar_cotangent(dy, &context)?.clone(),
        Reduction::Mean => per_entry(scalar_cotangent(dy, &context)?, x, op)?,
    };
    Ok(x.map(|_| d.clone()))
}
