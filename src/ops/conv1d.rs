//! 1-D convolution with stride and zero padding: a 2-D convolution of height 1.

use super::{Conv2d, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `y[o, t] = b[o] + Σ_{i,p} W[o, i, p] · x̃[i, t·s + p − pad]` for an input `[c_in, L]`, weights
/// `[c_out, c_in, k]` and bias `[c_out]`; output `[c_out, (L + 2·pad − k)/s + 1]`.
///
/// Implemented as [`Conv2d`] on inputs of height 1 (kernel height 1, no vertical padding), so
/// both share one convolution kernel; the rules and parameter order (`W` row-major, then `b`) are
/// those of [`Conv2d`] with the height axis dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv1d {
    inner: Conv2d,
    stride: usize,
    padding: usize,
}

impl Conv1d {
    /// A convolution from weights `[c_out, c_in, k]`, bias `[c_out]`, stride `≥ 1` and padding.
    pub fn new(w: Tensor<Q>, b: Tensor<Q>, stride: usize, padding: usize) -> Result<Self> {
        let shape = match *w.shape() {
            [cout, cin, k] => vec![cout, cin, 1, k],
            _ => {
                return Err(Error::shape_mismatch(
                    "Conv1d::new: W must be [c_out, c_in, k] and b [c_out]",
                    w.shape().to_vec(),
                    b.shape().to_vec(),
                ))
            }
        };
        let inner = Conv2d::new(w.reshape(shape)?, b, (1, stride), (0, padding))?;
        Ok(Conv1d {
            inner,
            stride,
            padding,
        })
    }

    /// The same convolution as a [`Conv2d`] on inputs `[c_in, 1, L]`.
    pub fn as_conv2d(&self) -> &Conv2d {
        &self.inner
    }

    /// `[c_in, L]` as `[c_in, 1, L]`.
    fn lifted_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match *input {
            [c, l] => Ok(vec![c, 1, l]),
            _ => Err(Error::shape_mismatch(
                &format!("{}: input must be [c_in, L]", self.name()),
                input.to_vec(),
                self.inner.weight().shape().to_vec(),
            )),
        }
    }

    fn up<S: Clone>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        x.clone().reshape(self.lifted_shape(x.shape())?)
    }

    /// `[c_out, 1, L_out]` back to `[c_out, L_out]`.
    fn down<S: Clone>(y: Tensor<S>) -> Result<Tensor<S>> {
        let s = y.shape().to_vec();
        y.reshape(vec![s[0], s[2]])
    }
}

impl Op for Conv1d {
    fn name(&self) -> String {
        let ws = self.inner.weight().shape();
        format!(
            "Conv1d({}→{}, kernel {}, stride {}, padding {})",
            ws[1], ws[0], ws[3], self.stride, self.padding
        )
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let out = self.inner.output_shape(&self.lifted_shape(input)?)?;
        Ok(vec![out[0], out[2]])
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        self.inner
            .params()
            .into_iter()
            .map(|p| Param::new(self, p.tensor, p.value))
            .collect()
    }
}

/// Parameters: `W` row-major, then `b` (the same order as [`Conv2d`]).
impl<S: Scalar> OpSpec<S> for Conv1d {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Self::down(self.inner.forward(&self.up(x)?)?)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Conv1d jvp: dx")?;
        Self::down(self.inner.jvp(&self.up(x)?, &self.up(dx)?)?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let out = self.output_shape(x.shape())?;
        dy.expect_shape(&out, "Conv1d vjp: δ")?;
        let dy = dy.clone().reshape(vec![out[0], 1, out[1]])?;
        self.inner
            .vjp(&self.up(x)?, &dy)?
            .reshape(x.shape().to_vec())
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        Self::down(self.inner.forward_with_params(params, &self.up(x)?)?)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        Self::down(self.inner.jvp_params(&self.up(x)?, dparams)?)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let out = self.output_shape(x.shape())?;
        dy.expect_shape(&out, "Conv1d vjp_params: δ")?;
        let dy = dy.clone().reshape(vec![out[0], 1, out[1]])?;
        self.inner.vjp_params(&self.up(x)?, &dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn conv1d_passes_with_stride_and_padding_and_its_parameter_gradients() {
        let w = t(&[2, 1, 2], &["1", "-2", "1/3", "3"]);
        let op = Conv1d::new(w, t(&[2], &["1/2", "-1"]), 2, 1).unwrap();
        assert_passes(&crate::check_op!(op, [1, 5], cases(32)), true);
        assert_params_pass(&op, t(&[1, 5], &["1", "-1", "2", "0", "1/2"]), 32);
    }

    planted!(StrideIgnored(Conv1d), fn vjp(&op, x, dy) {
        // The transposed convolution scattered with stride 1 whatever the forward stride was.
        let w = op.as_conv2d().weight().lifted::<S>();
        let mut dx = vec![S::zero(); x.len()];
        for (t, d) in dy.data().iter().enumerate() {
            for (p, wp) in w.data().iter().enumerate() {
                if let Some(slot) = dx.get_mut(t + p) {
                    *slot = slot.add_ref(&wp.mul_ref(d));
                }
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    });

    #[test]
    fn planted_conv1d_stride_ignored_in_backward() {
        let conv = Conv1d::new(t(&[1, 1, 2], &["1", "2"]), t(&[1], &["0"]), 2, 0).unwrap();
        assert_cx(
            &caught(&StrideIgnored(conv), &[1, 4]),
            VJP,
            &[0, 1],
            "1",
            "0",
        );
    }
}
