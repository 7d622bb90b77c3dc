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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::t;

    // Without reduction the slopes' product would refuse a δ of another shape anyway, but as
    // `zip_with` with the shapes swapped: the loss's own check is what names δ and its expected
    // shape.
    #[test]
    fn without_reduction_a_cotangent_of_another_shape_is_refused_as_delta_with_the_input_shape() {
        let x = t(&[2], &["3", "0"]);
        assert_eq!(
            term_cotangents(&x, &t(&[], &["1"]), Reduction::None, "MseLoss"),
            Err(crate::Error::shape_mismatch(
                "MseLoss vjp: δ",
                vec![],
                vec![2]
            ))
        );
        let dy = t(&[2], &["1", "-1/2"]);
        assert_eq!(
            term_cotangents(&x, &dy, Reduction::None, "MseLoss"),
            Ok(dy.clone())
        );
    }
}
