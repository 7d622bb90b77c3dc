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
            return Err(Error::shape_mismatch(
                &format!(
                    "{}: operands need a non-empty axis {}",
                    self.name(),
                    self.axis
                ),
                input.to_vec(),
                vec![self.parts],
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn concat_passes_along_each_axis() {
        assert_passes(
            &crate::check_op!(Concat::new(2, 1), [2, 2, 3], cases(64)),
            true,
        );
        assert_passes(
            &crate::check_op!(Concat::new(3, 0), [3, 2], cases(64)),
            true,
        );
    }

    /// The rules are checked against `forward`, which shares their index map: a map reading
    /// every part from the first would pass them, so the values are pinned here.
    #[test]
    fn concat_joins_the_operands_in_order_along_its_axis() {
        let x = t(&[2, 2, 2], &["1", "2", "3", "4", "5", "6", "7", "8"]);
        let rows = OpSpec::<Q>::forward(&Concat::new(2, 0), &x).unwrap();
        assert_eq!(rows, t(&[4, 2], &["1", "2", "3", "4", "5", "6", "7", "8"]));
        let columns = OpSpec::<Q>::forward(&Concat::new(2, 1), &x).unwrap();
        assert_eq!(
            columns,
            t(&[2, 4], &["1", "2", "5", "6", "3", "4", "7", "8"])
        );
    }

    #[test]
    fn an_axis_out_of_range_or_empty_is_an_error() {
        let out_of_range = Concat::new(2, 1).output_shape(&[2, 3]);
        assert!(matches!(
            out_of_range,
            Err(crate::Error::ShapeMismatch { .. })
        ));
        let empty = Concat::new(2, 1).output_shape(&[2, 3, 0]);
        assert!(matches!(empty, Err(crate::Error::ShapeMismatch { .. })));
    }

    #[test]
    fn too_few_operands_are_an_error() {
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let r = OpSpec::<Q>::forward(&Concat::new(3, 0), &x);
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(SplitWrongAxis(Concat), fn vjp(&_op, x, dy) {
        // δ split along the leading axis although the forward concatenated along axis 1.
        dy.clone().reshape(x.shape().to_vec())
    });

    #[test]
    fn planted_concat_split_along_the_wrong_axis() {
        assert_cx(
            &caught(&SplitWrongAxis(Concat::new(2, 1)), &[2, 2, 1]),
            VJP,
            &[0, 1, 0],
            "0",
            "1",
        );
    }
}
