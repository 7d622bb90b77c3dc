//! Matrix product with a batch dimension, the right factor stored as a parameter.

use super::{Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(A)[t] = A[t]·B[t]` for an input `A` of shape `[batch, m, k]` and a stored right factor `B`
/// of shape `[batch, k, n]` (one matrix per batch entry) or `[k, n]` (shared by the whole batch,
/// as a weight is); output `[batch, m, n]`.
///
/// The two factors have different shapes, so `B` is a parameter rather than a stacked operand:
/// its gradient is checked through [`super::WrtParams`] like any parameter. Rules:
/// `jvp = dA[t]·B[t]`, `vjp = δ[t]·B[t]ᵀ`; w.r.t. `B`: `A[t]ᵀ·δ[t]` (summed over `t` when `B`
/// is shared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchMatMul {
    b: Tensor<Q>,
}

/// The sizes of one product: `batch, m, k, n`, and whether `B` is shared.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    shared: bool,
}

impl BatchMatMul {
    /// The product with right factor `b` (`[k, n]` or `[batch, k, n]`); [`Error::ShapeMismatch`]
    /// for any other rank.
    pub fn new(b: Tensor<Q>) -> Result<Self> {
        match b.shape().len() {
            2 | 3 => Ok(BatchMatMul { b }),
            _ => Err(Error::shape_mismatch(
                "BatchMatMul::new: B must be [k, n] or [batch, k, n]",
                b.shape().to_vec(),
                vec![],
            )),
        }
    }

    /// The right factor `B`.
    pub fn right(&self) -> &Tensor<Q> {
        &self.b
    }

    fn dims(&self, input: &[usize]) -> Result<Dims> {
        let bs = self.b.shape();
        let (bb, k, n, shared) = match *bs {
            [k, n] => (None, k, n, true),
            [t, k, n] => (Some(t), k, n, false),
            _ => unreachable!("checked by new"),
        };
        match *input {
            [batch, m, kk] if kk == k && bb.is_none_or(|t| t == batch) => Ok(Dims {
                batch,
                m,
                k,
                n,
                shared,
            }),
            _ => Err(Error::shape_mismatch(
                "BatchMatMul: A must be [batch, m, k] for B of shape [(batch,) k, n] (A, B)",
                input.to_vec(),
                bs.to_vec(),
            )),
        }
    }
}

/// `out[t] = a[t]·b[t]` on raw row-major data.
fn product<S: Scalar>(d: Dims, a: &[S], b: &[S]) -> Vec<S> {
    let mut out = Vec::with_capacity(d.batch * d.m * d.n);
    for t in 0..d.batch {
        let bt = if d.shared { 0 } else { t * d.k * d.n };
        for i in 0..d.m {
            for j in 0..d.n {
                let acc = (0..d.k).fold(S::zero(), |acc, l| {
                    acc.add_ref(&a[(t * d.m + i) * d.k + l].mul_ref(&b[bt + l * d.n + j]))
                });
                out.push(acc);
            }
        }
    }
    out
}

impl Op for BatchMatMul {
    fn name(&self) -> String {
        format!("BatchMatMul(B{:?})", self.b.shape())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let d = self.dims(input)?;
        Ok(vec![d.batch, d.m, d.n])
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "right", &self.b)]
    }
}

/// Parameters: `B`, flattened row-major.
impl<S: Scalar> OpSpec<S> for BatchMatMul {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let d = self.dims(x.shape())?;
        let b = self.b.lifted::<S>();
        Tensor::new(vec![d.batch, d.m, d.n], product(d, x.data(), b.data()))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let d = self.dims(x.shape())?;
        dx.expect_shape(x.shape(), "BatchMatMul jvp: dA")?;
        let b = self.b.lifted::<S>();
        Tensor::new(vec![d.batch, d.m, d.n], product(d, dx.data(), b.data()))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = self.dims(x.shape())?;
        dy.expect_shape(&[d.batch, d.m, d.n], "BatchMatMul vjp: δ")?;
        let b = self.b.lifted::<S>();
        let (b, dy) = (b.data(), dy.data());
        let mut out = Vec::with_capacity(x.len());
        for t in 0..d.batch {
            let bt = if d.shared { 0 } else { t * d.k * d.n };
            for i in 0..d.m {
                for l in 0..d.k {
                    let acc = (0..d.n).fold(S::zero(), |acc, j| {
                        acc.add_ref(&dy[(t * d.m + i) * d.n + j].mul_ref(&b[bt + l * d.n + j]))
                    });
                    out.push(acc);
                }
            }
        }
        Tensor::new(x.shape().to_vec(), out)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let d = self.dims(x.shape())?;
        params.expect_shape(&[self.b.len()], "BatchMatMul parameters")?;
        Tensor::new(vec![d.batch, d.m, d.n], product(d, x.data(), params.data()))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = self.dims(x.shape())?;
        dy.expect_shape(&[d.batch, d.m, d.n], "BatchMatMul vjp_params: δ")?;
        let (a, dy) = (x.data(), dy.data());
        let mut grad = vec![S::zero(); self.b.len()];
        for t in 0..d.batch {
            let bt = if d.shared { 0 } else { t * d.k * d.n };
            for l in 0..d.k {
                for j in 0..d.n {
                    let g = &mut grad[bt + l * d.n + j];
                    for i in 0..d.m {
                        *g = g.add_ref(
                            &a[(t * d.m + i) * d.k + l].mul_ref(&dy[(t * d.m + i) * d.n + j]),
                        );
                    }
                }
            }
        }
        Ok(Tensor::from_vec(grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn batch_matmul_passes_shared_and_batched_right_factors() {
        let shared = BatchMatMul::new(t(&[2, 3], &["1", "-2", "1/3", "0", "4", "-1"])).unwrap();
        assert_passes(&crate::check_op!(shared, [2, 2, 2], cases(32)), true);
        assert_params_pass(&shared, t(&[1, 2, 2], &["1", "2", "-3", "1/2"]), 32);
        // Two columns: a batch's block of B starts at t·k·n, not t·k.
        let batched = BatchMatMul::new(t(
            &[2, 2, 2],
            &["1", "-2", "3", "1/4", "0", "5", "-1/2", "2"],
        ))
        .unwrap();
        assert_passes(&crate::check_op!(batched, [2, 3, 2], cases(32)), true);
        assert_params_pass(&batched, t(&[2, 1, 2], &["1", "2", "-3", "1/2"]), 32);
    }

    #[test]
    fn mismatched_inner_dimensions_are_errors() {
        let op = BatchMatMul::new(t(&[2, 2], &["1"; 4])).unwrap();
        let r = OpSpec::<Q>::forward(&op, &t(&[1, 1, 3], &["1"; 3]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(MatMulNoTranspose(BatchMatMul), fn vjp(&op, x, dy) {
        // δ·B instead of δ·Bᵀ (only right for a symmetric B).
        let b = op.right().lifted::<S>();
        let s = dy.shape().to_vec();
        dy.clone().reshape(vec![s[0] * s[1], s[2]])?.matmul(&b)?.reshape(x.shape().to_vec())
    });

    #[test]
    fn planted_matmul_without_transpose() {
        let op = MatMulNoTranspose(BatchMatMul::new(t(&[2, 2], &["1", "2", "3", "4"])).unwrap());
        assert_cx(&caught(&op, &[1, 1, 2]), VJP, &[0, 0, 1], "2", "3");
    }
}
