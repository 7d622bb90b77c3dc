//! Zero padding per axis (ONNX `Pad` in constant mode with value 0, `torch.nn.functional.pad`
//! with non-negative pads).

use super::gather::{gather, indices, offset_of, scatter_add, strides};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `y` of shape `n_a + begin[a] + end[a]` per axis `a`, holding `x` at offset `begin` and zeros
/// around it. The op is linear and only moves entries: `jvp` pads `dx`, `vjp` crops `δ` back to
/// the input's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pad {
    begin: Vec<usize>,
    end: Vec<usize>,
}

impl Pad {
    /// `begin[a]` zeros before and `end[a]` after axis `a`; [`Error::InvalidArgument`] unless
    /// the two lists have the same length (the input's rank, checked at forward time).
    pub fn new(begin: Vec<usize>, end: Vec<usize>) -> Result<Self> {
        if begin.len() != end.len() {
            return Err(Error::InvalidArgument {
                op: "Pad".into(),
                argument: "end".into(),
                value: format!("{end:?}"),
                requirement: format!("as long as begin {begin:?}"),
            });
        }
        Ok(Pad { begin, end })
    }

    /// The output offset of every input offset, with the output shape.
    fn placement(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
        let out = self.output_shape(input)?;
        let st = strides(&out);
        let dst = indices(input)
            .map(|mut i| {
                for (slot, b) in i.iter_mut().zip(&self.begin) {
                    *slot += b;
                }
                offset_of(&i, &st)
            })
            .collect();
        Ok((dst, out))
    }
}

impl Op for Pad {
    fn name(&self) -> String {
        format!("Pad(begin {:?}, end {:?})", self.begin, self.end)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.len() != self.begin.len() {
            return Err(Error::shape_mismatch(
                &format!(
                    "{}: one begin and one end per axis (input, begin)",
                    self.name()
                ),
                input.to_vec(),
                self.begin.clone(),
            ));
        }
        let overflow = |quantity| Error::SizeOverflow {
            op: self.name(),
            quantity,
            shape: input.to_vec(),
        };
        let out = input
            .iter()
            .zip(self.begin.iter().zip(&self.end))
            .map(|(&n, (&b, &e))| n.checked_add(b).and_then(|m| m.checked_add(e)))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| overflow("n + begin + end"))?;
        // Offsets into the output stay below its count, so they do not overflow either.
        crate::tensor::element_count(&out).map_err(|_| overflow("output size"))?;
        Ok(out)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Pad {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (dst, out) = self.placement(x.shape())?;
        scatter_add(x, &dst, &out)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Pad jvp: dx")?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (dst, out) = self.placement(x.shape())?;
        dy.expect_shape(&out, "Pad vjp: δ")?;
        gather(dy, &dst, x.shape().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn pads_pass_and_are_proved() {
        let pad = Pad::new(vec![1, 0], vec![0, 2]).unwrap();
        assert_passes(&crate::check_op!(pad, [2, 3], cases(32)), true);
        let pad3 = Pad::new(vec![0, 2, 1], vec![1, 0, 1]).unwrap();
        assert_passes(&crate::check_op!(pad3, [1, 2, 2], cases(32)), true);
        assert_proved(&pad, &[2, 3]);
    }

    #[test]
    fn zeros_around_the_input() {
        let pad = Pad::new(vec![1, 0], vec![0, 2]).unwrap();
        let y = pad.forward(&t(&[1, 2], &["3", "4"])).unwrap();
        assert_eq!(y, t(&[2, 4], &["0", "0", "0", "0", "3", "4", "0", "0"]));
        assert_eq!(pad.name(), "Pad(begin [1, 0], end [0, 2])");
    }

    #[test]
    fn mismatched_lists_ranks_and_overflows_are_typed_errors() {
        assert_eq!(
            Pad::new(vec![1, 0], vec![0]).err(),
            Some(Error::InvalidArgument {
                op: "Pad".into(),
                argument: "end".into(),
                value: "[0]".into(),
                requirement: "as long as begin [1, 0]".into(),
            })
        );
        let pad = Pad::new(vec![1], vec![1]).unwrap();
        let r = OpSpec::<Q>::forward(&pad, &t(&[1, 2], &["3", "4"]));
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{r:?}");
        let huge = Pad::new(vec![usize::MAX], vec![1]).unwrap();
        let r = OpSpec::<Q>::forward(&huge, &t(&[1], &["3"]));
        assert!(matches!(r, Err(Error::SizeOverflow { .. })), "{r:?}");
        let wide = Pad::new(vec![0, usize::MAX / 2], vec![0, 0]).unwrap();
        let r = OpSpec::<Q>::forward(&wide, &t(&[3, 1], &["1", "2", "3"]));
        assert!(matches!(r, Err(Error::SizeOverflow { .. })), "{r:?}");
    }

    planted!(CropAtZero(Pad), fn vjp(&op, x, dy) {
        // δ cropped from the output's corner instead of from the offset `begin`.
        let n = op.begin.len();
        let end = op.begin.iter().zip(&op.end).map(|(b, e)| b + e).collect();
        Pad { begin: vec![0; n], end }.vjp(x, dy)
    });

    #[test]
    fn planted_pad_gradient_cropped_at_the_wrong_offset() {
        let op = CropAtZero(Pad::new(vec![1, 0], vec![0, 2]).unwrap());
        assert_cx(&caught(&op, &[2, 3]), VJP, &[1, 2], "0", "1");
    }
}
