//! Slicing a range along one axis.

use super::gather::{gather, indices, offset_of, scatter_add, strides};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)` = the entries with index `start..end` along `axis`; `vjp` puts `δ` back in place and
/// zeros elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    axis: usize,
    start: usize,
    end: usize,
}

impl Slice {
    /// The range `start..end` of axis `axis`; [`Error::InvalidArgument`] unless `start < end`.
    pub fn new(axis: usize, start: usize, end: usize) -> Result<Self> {
        if start >= end {
            return Err(Error::InvalidArgument {
                op: "Slice".into(),
                argument: "range".into(),
                value: format!("{start}..{end}"),
                requirement: "non-empty (start < end)".into(),
            });
        }
        Ok(Slice { axis, start, end })
    }

    fn source(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
        let out = self.output_shape(input)?;
        let st = strides(input);
        let src = indices(&out)
            .map(|mut i| {
                i[self.axis] += self.start;
                offset_of(&i, &st)
            })
            .collect();
        Ok((src, out))
    }
}

impl Op for Slice {
    fn name(&self) -> String {
        format!("Slice(axis {}, {}..{})", self.axis, self.start, self.end)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input.get(self.axis) {
            Some(&n) if self.end <= n => {
                let mut out = input.to_vec();
                out[self.axis] = self.end - self.start;
                Ok(out)
            }
            _ => Err(Error::shape_mismatch(
                &format!("{}: the axis must exist and hold the range", self.name()),
                input.to_vec(),
                vec![self.axis, self.end],
            )),
        }
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Slice {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (src, out) = self.source(x.shape())?;
        gather(x, &src, out)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Slice jvp: dx")?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (src, out) = self.source(x.shape())?;
        dy.expect_shape(&out, "Slice vjp: δ")?;
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
    fn slice_passes() {
        assert_passes(
            &crate::check_op!(Slice::new(0, 1, 3).unwrap(), [4], cases(64)),
            true,
        );
        assert_passes(
            &crate::check_op!(Slice::new(1, 0, 2).unwrap(), [2, 3], cases(64)),
            true,
        );
    }

    #[test]
    fn empty_and_out_of_range_slices_are_errors() {
        assert_eq!(
            Slice::new(0, 2, 2).err(),
            Some(crate::Error::InvalidArgument {
                op: "Slice".into(),
                argument: "range".into(),
                value: "2..2".into(),
                requirement: "non-empty (start < end)".into(),
            })
        );
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let r = OpSpec::<Q>::forward(&Slice::new(1, 1, 4).unwrap(), &x);
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(OffByStart(Slice), fn vjp(&_op, x, dy) {
        // δ put back from index 0 instead of the slice's start (which is 1 here).
        let mut data = vec![S::zero(); x.len()];
        for (k, d) in dy.data().iter().enumerate() {
            data[k] = d.clone();
        }
        Tensor::new(x.shape().to_vec(), data)
    });

    #[test]
    fn planted_slice_gradient_misplaced() {
        assert_cx(
            &caught(&OffByStart(Slice::new(0, 1, 3).unwrap()), &[4]),
            VJP,
            &[1],
            "1",
            "0",
        );
    }
}
