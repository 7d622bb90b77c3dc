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
