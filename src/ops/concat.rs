//! Concatenation of operands along an axis.

use super::gather::{gather, indices, offset_of, scatter_add, strides};
use super::stacked::operand_shape;
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// Concatenates `k` operands of shape `s`, stacked as `[k, ...s]` (the stacking convention of
/// `ops::stacked`), along axis `axis` of `s`: the output has `s[axis]·k` there. An index map, so
/// `vjp` splits `δ` back into the stacked operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concat {
    parts: usize,
    axis: usize,
}

impl Concat {
    /// Concatenation of `parts` operands along `axis` (an axis of each operand).
    pub fn new(parts: usize, axis: usize) -> Self {
        Concat { parts, axis }
    }

    fn source(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
        let out = self.output_shape(input)?;
        let part = operand_shape(input, self.parts, "Concat")?;
        let st = strides(input);
        let width = part[self.axis];
        let src = indices(&out)
            .map(|mut i| {
                let k = i[self.axis] / width;
                i[self.axis] %= width;
                k * st[0] + offset_of(&i, &st[1..])
            })
            .collect();
        Ok((src, out))
    }
}

impl Op for Concat {
    fn name(&self) -> String {
        format!("Concat({} parts, axis {})", self.parts, self.axis)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut part = operand_shape(input, self.parts, "Concat")?;
        if self.axis >= part.len() || part[self.axis] == 0 {
            return Err(Error::ShapeMismatch {
                context: format!(
                    "{}: operands need a non-empty axis {}",
                    self.name(),
                    self.axis
                ),
                left: input.to_vec(),
                right: vec![self.parts],
            });
        }
        part[self.axis] *= self.parts;
        Ok(part)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Concat {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (src, out) = self.source(x.shape())?;
        gather(x, &src, out)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Concat jvp: dx")?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (src, out) = self.source(x.shape())?;
        dy.expect_shape(&out, "Concat vjp: δ")?;
        scatter_add(dy, &src, x.shape())
    }
}
