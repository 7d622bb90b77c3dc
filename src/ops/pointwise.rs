//! Entry-by-entry evaluation of scalar functions that may refuse (`exp`, `ln`), with the refusal
//! named by op and coordinate.

use crate::error::Result;
use crate::scalar::{FunctionError, Scalar};
use crate::tensor::Tensor;

/// `f` at every entry of `x`; a [`FunctionError`] becomes the crate's error naming `op` and the
/// entry's multi-index.
pub(crate) fn map_at<S: Scalar>(
    x: &Tensor<S>,
    op: &str,
    f: impl Fn(&S) -> std::result::Result<S, FunctionError>,
) -> Result<Tensor<S>> {
    let data = x
        .data()
        .iter()
        .enumerate()
        .map(|(k, v)| f(v).map_err(|e| e.at(op, x.multi_index(k))))
        .collect::<Result<Vec<_>>>()?;
    Tensor::new(x.shape().to_vec(), data)
}

/// The logistic function `σ(v) = 1/(1 + e^{−v})`, shared by the ops built on it.
pub(crate) fn sigmoid<S: Scalar>(v: &S) -> std::result::Result<S, FunctionError> {
    let e = v.neg_ref().exp()?;
    Ok(S::one()
        .checked_div(&S::one().add_ref(&e))
        .expect("1 + e^{-v} > 0"))
}

/// The hyperbolic tangent `tanh(v) = (1 − e^{−2v})/(1 + e^{−2v})`, shared by the ops built on it.
pub(crate) fn tanh<S: Scalar>(v: &S) -> std::result::Result<S, FunctionError> {
    let e = v.add_ref(v).neg_ref().exp()?;
    Ok(S::one()
        .sub_ref(&e)
        .checked_div(&S::one().add_ref(&e))
        .expect("1 + e^{-2v} > 0"))
}
