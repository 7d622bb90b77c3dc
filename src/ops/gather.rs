//! Ops that only move entries (reshape, transpose, concatenation, slicing, broadcasting) are
//! index maps `out[i] = x[src[i]]`: linear, with `vjp` the scatter-add along the same map. This
//! file holds that map machinery so each op only states its map.

use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `out[i] = x[src[i]]` with `out` of `shape`.
pub(crate) fn gather<S: Clone>(
    x: &Tensor<S>,
    src: &[usize],
    shape: Vec<usize>,
) -> Result<Tensor<S>> {
    let data = src
        .iter()
        .map(|&k| {
            x.data().get(k).cloned().ok_or_else(|| Error::Index {
                index: vec![k],
                shape: x.shape().to_vec(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::new(shape, data)
}

/// The adjoint of [`gather`]: `dx[src[i]] += δ[i]`, `dx` of `shape` (entries used twice, as in
/// broadcasting, accumulate).
pub(crate) fn scatter_add<S: Scalar>(
    dy: &Tensor<S>,
    src: &[usize],
    shape: &[usize],
) -> Result<Tensor<S>> {
    if dy.len() != src.len() {
        return Err(Error::shape_mismatch(
            "scatter: δ must have the output's size",
            dy.shape().to_vec(),
            vec![src.len()],
        ));
    }
    // A shape from an op's output: its size in bytes is checked, not left to `vec!`.
    let mut out = Tensor::<S>::zeros(shape)?.into_data();
    for (d, &k) in dy.data().iter().zip(src) {
        let slot = out.get_mut(k).ok_or_else(|| Error::Index {
            index: vec![k],
            shape: shape.to_vec(),
        })?;
        *slot = slot.add_ref(d);
    }
    Tensor::new(shape.to_vec(), out)
}

/// Row-major strides of `shape`.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// Every multi-index of `shape` in row-major order.
pub(crate) fn indices(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let n: usize = shape.iter().product();
    (0..n).map(|k| crate::tensor::multi_index(shape, k))
}

/// The row-major offset of `idx` under `strides`.
pub(crate) fn offset_of(idx: &[usize], strides: &[usize]) -> usize {
    idx.iter().zip(strides).map(|(i, s)| i * s).sum()
}
