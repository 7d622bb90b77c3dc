//! Permuting the axes of a tensor (the matrix transpose is the permutation `[1, 0]`).

use super::gather::{gather, indices, offset_of, scatter_add, strides};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)[i₀, …] = x[j]` with `j[perm[a]] = i[a]`: output axis `a` is input axis `perm[a]`.
/// `vjp` applies the inverse permutation (the scatter along the same index map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transpose {
    perm: Vec<usize>,
}

impl Transpose {
    /// Axis permutation `perm`; [`Error::InvalidArgument`] unless it is a permutation of
    /// `0..len`.
    pub fn new(perm: Vec<usize>) -> Result<Self> {
        let mut seen = vec![false; perm.len()];
        for &a in &perm {
            match seen.get_mut(a) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(Error::InvalidArgument {
                        op: "Transpose".into(),
                        argument: "perm".into(),
                        value: format!("{perm:?}"),
                        requirement: format!("a permutation of 0..{}", perm.len()),
                    })
                }
            }
        }
        Ok(Transpose { perm })
    }

    /// The matrix transpose `[m, n] → [n, m]`.
    pub fn matrix() -> Self {
        Transpose { perm: vec![1, 0] }
    }

    /// The input offset of every output entry.
    fn source(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
        let out = self.output_shape(input)?;
        let st = strides(input);
        let permuted: Vec<usize> = self.perm.iter().map(|&a| st[a]).collect();
        let src = indices(&out).map(|i| offset_of(&i, &permuted)).collect();
        Ok((src, out))
    }
}

impl Op for Transpose {
    fn name(&self) -> String {
        format!("Transpose{:?}", self.perm)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.len() != self.perm.len() {
            return Err(Error::shape_mismatch(
                &format!(
                    "{}: input rank must equal the permutation's length",
                    self.name()
                ),
                input.to_vec(),
                self.perm.clone(),
            ));
        }
        Ok(self.perm.iter().map(|&a| input[a]).collect())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Transpose {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (src, out) = self.source(x.shape())?;
        gather(x, &src, out)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Transpose jvp: dx")?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (src, out) = self.source(x.shape())?;
        dy.expect_shape(&out, "Transpose vjp: δ")?;
        scatter_add(dy, &src, x.shape())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn transpose_passes() {
        assert_passes(
            &crate::check_op!(Transpose::matrix(), [2, 3], cases(64)),
            true,
        );
        let op = Transpose::new(vec![1, 2, 0]).unwrap();
        assert_passes(&crate::check_op!(op, [2, 1, 3], cases(64)), true);
    }

    #[test]
    fn a_repeated_axis_is_refused() {
        assert_eq!(
            Transpose::new(vec![0, 0]).err(),
            Some(crate::Error::InvalidArgument {
                op: "Transpose".into(),
                argument: "perm".into(),
                value: "[0, 0]".into(),
                requirement: "a permutation of 0..2".into(),
            })
        );
    }

    planted!(NotInverted(Transpose), fn vjp(&op, _x, dy) {
        // The forward permutation applied again instead of its inverse (right for involutions).
        op.forward(dy)
    });

    #[test]
    fn planted_transpose_without_inverse_permutation() {
        let op = NotInverted(Transpose::new(vec![1, 2, 0]).unwrap());
        assert_cx(&caught(&op, &[2, 2, 2]), VJP, &[0, 1, 1], "0", "1");
    }
}
