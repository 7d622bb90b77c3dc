//! 1-D convolution with stride, zero padding, dilation, groups and an optional batch axis
//! (`torch.nn.functional.conv1d`): a 2-D convolution of height 1.

use super::conv2d::check_groups;
use super::{Conv2d, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `y[n, o, t] = b[o] + Σ_{i,p} W[o, i, p] · x̃[n, g·C + i, t·s + p·d − pad]` for an input
/// `[N, c_in, L]` (a batch) or `[c_in, L]` (one sample, the same formula without `n`), weights
/// `[c_out, c_in/groups, k]` and bias `[c_out]`, where `g = o / (c_out/groups)` and
/// `C = c_in/groups`; output `[N, c_out, (L + 2·pad − d·(k − 1) − 1)/s + 1]` (or without `N`).
///
/// Implemented as [`Conv2d`] on inputs of height 1 (kernel height 1, no vertical padding or
/// dilation), so both share one convolution kernel; the rules and parameter order (`W`
/// row-major, then `b`) are those of [`Conv2d`] with the height axis dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv1d {
    inner: Conv2d,
}

impl Conv1d {
    /// A convolution from weights `[c_out, c_in, k]`, bias `[c_out]`, stride `≥ 1` and padding;
    /// dilation 1 and one group until [`Conv1d::with_dilation`] and [`Conv1d::with_groups`] say
    /// otherwise.
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
        Ok(Conv1d { inner })
    }

    /// The same convolution with kernel dilation `d` (torch's `dilation=`);
    /// [`Error::InvalidArgument`] unless `d ≥ 1`.
    pub fn with_dilation(self, dilation: usize) -> Result<Self> {
        if dilation == 0 {
            return Err(Error::InvalidArgument {
                op: "Conv1d".into(),
                argument: "dilation".into(),
                value: "0".into(),
                requirement: "at least 1".into(),
            });
        }
        Ok(Conv1d {
            inner: self.inner.with_dilation((1, dilation))?,
        })
    }

    /// The same convolution split into `groups` groups (torch's `groups=`), weights
    /// `[c_out, c_in/groups, k]`; the errors of [`Conv2d::with_groups`], naming `Conv1d`.
    pub fn with_groups(self, groups: usize) -> Result<Self> {
        let ws = self.inner.weight().shape();
        check_groups("Conv1d", &[ws[0], ws[1], ws[3]], groups)?;
        Ok(Conv1d {
            inner: self.inner.with_groups(groups)?,
        })
    }

    /// The same convolution as a [`Conv2d`] on inputs `[c_in, 1, L]` or `[N, c_in, 1, L]`.
    pub fn as_conv2d(&self) -> &Conv2d {
        &self.inner
    }

    /// The stride.
    pub fn stride(&self) -> usize {
        self.inner.stride().1
    }

    /// The zero padding on each side.
    pub fn padding(&self) -> usize {
        self.inner.padding().1
    }

    /// The kernel dilation.
    pub fn dilation(&self) -> usize {
        self.inner.dilation().1
    }

    /// The number of groups.
    pub fn groups(&self) -> usize {
        self.inner.groups()
    }

    /// `[c_in, L]` as `[c_in, 1, L]`, `[N, c_in, L]` as `[N, c_in, 1, L]` (and the same for
    /// output shapes).
    fn lifted_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match *input {
            [c, l] => Ok(vec![c, 1, l]),
            [n, c, l] => Ok(vec![n, c, 1, l]),
            _ => Err(Error::shape_mismatch(
                &format!("{}: input must be [c_in, L] or [N, c_in, L]", self.name()),
                input.to_vec(),
                self.inner.weight().shape().to_vec(),
            )),
        }
    }

    fn up<S: Clone>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        x.clone().reshape(self.lifted_shape(x.shape())?)
    }

    /// `[…, c_out, 1, L_out]` back to `[…, c_out, L_out]`.
    fn down<S: Clone>(y: Tensor<S>) -> Result<Tensor<S>> {
        let mut s = y.shape().to_vec();
        s.remove(s.len() - 2);
        y.reshape(s)
    }
}

impl Op for Conv1d {
    fn name(&self) -> String {
        let ws = self.inner.weight().shape();
        let mut name = format!(
            "Conv1d({}→{}, kernel {}, stride {}, padding {}",
            // Checked not to overflow by `with_groups`.
            ws[1].saturating_mul(self.groups()),
            ws[0],
            ws[3],
            self.stride(),
            self.padding()
        );
        if self.dilation() != 1 {
            name += &format!(", dilation {}", self.dilation());
        }
        if self.groups() != 1 {
            name += &format!(", groups {}", self.groups());
        }
        name + ")"
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut out = self.inner.output_shape(&self.lifted_shape(input)?)?;
        out.remove(out.len() - 2);
        Ok(out)
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
        let dy = dy.clone().reshape(self.lifted_shape(&out)?)?;
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
        let dy = dy.clone().reshape(self.lifted_shape(&out)?)?;
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

    /// `[2, 4, 7]` → `[2, 2, 3]`: two samples, two groups, dilation 2, stride 2, padding 1.
    fn grouped() -> Conv1d {
        let w = t(
            &[2, 2, 3],
            &[
                "1", "-2", "1/2", "3", "0", "-1", "1/4", "2", "-3/2", "1", "1", "-1/2",
            ],
        );
        Conv1d::new(w, t(&[2], &["1/2", "-1"]), 2, 1)
            .and_then(|c| c.with_dilation(2))
            .and_then(|c| c.with_groups(2))
            .unwrap()
    }

    fn input(shape: &[usize]) -> Tensor<Q> {
        let n: usize = shape.iter().product();
        let v: Vec<String> = (0..n)
            .map(|k| format!("{}/8", (k as i64 * 5) % 11 - 5))
            .collect();
        Tensor::parse(
            shape.to_vec(),
            &v.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn batched_grouped_dilated_conv1d_passes_with_its_parameter_gradients() {
        let op = grouped();
        assert_eq!(
            op.name(),
            "Conv1d(4→2, kernel 3, stride 2, padding 1, dilation 2, groups 2)"
        );
        assert_eq!(op.output_shape(&[2, 4, 7]).unwrap(), [2, 2, 3]);
        assert_eq!(op.output_shape(&[4, 7]).unwrap(), [2, 3]);
        assert_passes(&crate::check_op!(op, [2, 4, 7], cases(16)), true);
        assert_params_pass(&grouped(), input(&[2, 4, 7]), 16);
        assert_passes(&crate::check_op!(grouped(), [4, 7], cases(8)), true);
    }

    #[test]
    fn conv1d_is_exact_with_dilation_and_groups() {
        // Depthwise (groups 2, one input channel each), kernel [1, 2] dilated by 2, no bias:
        // y[o, t] = x[o, t] + 2·x[o, t + 2].
        let op = Conv1d::new(
            t(&[2, 1, 2], &["1", "2", "1", "2"]),
            t(&[2], &["0", "0"]),
            1,
            0,
        )
        .and_then(|c| c.with_dilation(2))
        .and_then(|c| c.with_groups(2))
        .unwrap();
        let x = t(&[1, 2, 3], &["1", "2", "3", "4", "5", "6"]);
        let y = OpSpec::<Q>::forward(&op, &x).unwrap();
        assert_eq!(y, t(&[1, 2, 1], &["7", "16"]));
    }

    #[test]
    fn bad_conv1d_arguments_are_typed_errors_naming_conv1d() {
        use crate::Error;
        let conv = || Conv1d::new(t(&[2, 1, 2], &["1"; 4]), t(&[2], &["0"; 2]), 1, 0).unwrap();
        let invalid = |argument: &str, value: &str, requirement: &str| Error::InvalidArgument {
            op: "Conv1d".into(),
            argument: argument.into(),
            value: value.into(),
            requirement: requirement.into(),
        };
        assert_eq!(
            conv().with_dilation(0).err(),
            Some(invalid("dilation", "0", "at least 1"))
        );
        assert_eq!(
            conv().with_groups(3).err(),
            Some(invalid("groups", "3", "a divisor of c_out = 2"))
        );
        let two = conv().with_groups(2).unwrap();
        assert!(matches!(
            two.output_shape(&[1, 3]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            two.output_shape(&[1, 1, 2, 3]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            conv()
                .with_dilation(usize::MAX)
                .unwrap()
                .output_shape(&[1, 3]),
            Err(Error::SizeOverflow { .. })
        ));
    }

    planted!(SamplesSwapped(Conv1d), fn vjp(&op, x, dy) {
        // The batch stride wrong in the scatter: sample n's gradient lands in sample N−1−n.
        let g = op.vjp(x, dy)?;
        let per = g.len() / x.shape()[0];
        let blocks: Vec<S> = g.data().chunks(per).rev().flatten().cloned().collect();
        Tensor::new(g.shape().to_vec(), blocks)
    });

    #[test]
    fn planted_batched_conv1d_vjp_with_the_samples_swapped() {
        assert_cx(
            &caught(&SamplesSwapped(grouped()), &[2, 4, 7]),
            VJP,
            &[0, 2, 3],
            "1/4",
            "0",
        );
    }
}
