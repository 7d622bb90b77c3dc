//! The convention for ops of several operands: the operands are stacked along a new leading
//! axis, so an op of `k` operands of shape `s` takes one input of shape `[k, ...s]`.
//!
//! `OpSpec` is single-input on purpose (one point, one tangent, one cotangent), and stacking keeps
//! every check unchanged: the tangent of the stacked input is the stacked tangents, and the VJP
//! returns the stacked gradients of the operands, operand `k` at index `[k, ...]`. Operands of
//! different shapes are never stacked; such ops keep one operand as a stored parameter instead
//! ([`super::BatchMatMul`], [`super::BroadcastAdd`]).

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Splits `[k, ...s]` into its `k` operands of shape `s`; [`Error::ShapeMismatch`] unless the
/// leading axis is `k`.
pub(crate) fn unstack<S: Clone>(x: &Tensor<S>, k: usize, context: &str) -> Result<Vec<Tensor<S>>> {
    match x.shape().split_first() {
        Some((&lead, rest)) if lead == k => {
            let size: usize = rest.iter().product();
            (0..k)
                .map(|i| Tensor::new(rest.to_vec(), x.data()[i * size..(i + 1) * size].to_vec()))
                .collect()
        }
        _ => Err(Error::shape_mismatch(
            &format!("{context}: operands stacked as [{k}, ...shape]"),
            x.shape().to_vec(),
            vec![k],
        )),
    }
}

/// Stacks operands of one shape along a new leading axis: the input of a multi-operand op
/// ([`super::Mul`], [`super::Div`], [`super::Concat`]) from its operands, e.g.
/// `stack(&[a, b])` of shape `[2, ...s]`. [`Error::ShapeMismatch`] if the shapes differ.
///
/// ```
/// use exactgrad::{ops::{stack, Mul}, OpSpec, Tensor, Q};
/// let a = Tensor::parse(vec![2], &["1/2", "3"]).unwrap();
/// let b = Tensor::parse(vec![2], &["4", "-1/3"]).unwrap();
/// let ab = OpSpec::<Q>::forward(&Mul, &stack(&[a, b]).unwrap()).unwrap();
/// assert_eq!(ab, Tensor::parse(vec![2], &["2", "-1"]).unwrap());
/// ```
pub fn stack<S: Clone>(parts: &[Tensor<S>]) -> Result<Tensor<S>> {
    let inner = parts.first().map_or(vec![], |p| p.shape().to_vec());
    let mut data = Vec::new();
    for p in parts {
        p.expect_shape(&inner, "stack: operands must share one shape")?;
        data.extend_from_slice(p.data());
    }
    let mut shape = vec![parts.len()];
    shape.extend(inner);
    Tensor::new(shape, data)
}

/// The output shape of a `k`-operand elementwise op: the operand shape `s` of `[k, ...s]`.
pub(crate) fn operand_shape(input: &[usize], k: usize, context: &str) -> Result<Vec<usize>> {
    match input.split_first() {
        Some((&lead, rest)) if lead == k => Ok(rest.to_vec()),
        _ => Err(Error::shape_mismatch(
            &format!("{context}: operands stacked as [{k}, ...shape]"),
            input.to_vec(),
            vec![k],
        )),
    }
}
