//! 2-D average pooling with torch's divisor rule.

use super::max_pool::{at_least_one, at_most_half};
use super::pool_window::{planes, PoolAxis};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `y[…, r, s] = (Σ x[…, i, j]) / n_{r,s}` over the window's in-range rows
/// `r·s_h − p_h .. r·s_h − p_h + k_h` and columns likewise, as
/// `torch.nn.functional.avg_pool2d` (and ONNX `AveragePool`): input `[C, H, W]` or
/// `[N, C, H, W]`, output `[…, H_out, W_out]` with
/// `H_out = ⌊(H + 2p_h − k_h + (ceil_mode ? s_h − 1 : 0)) / s_h⌋ + 1`, the last window dropped
/// under `ceil_mode` when it would start in the right padding.
///
/// The divisor is torch's: with `count_include_pad` (the default) the window clipped to the
/// padded input `−p .. H + p` in each axis — so the padding counts, but a `ceil_mode` window
/// that runs past the right padding counts only up to it — and without it the number of
/// in-range entries. The op is linear: `jvp` is the same average of `dx`, `vjp` spreads
/// `δ / n` over each window (overlapping windows accumulate). No guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    ceil_mode: bool,
    count_include_pad: bool,
}

/// The pooling at an input shape: output shape, and per output entry its window's input offsets
/// and divisor.
struct Averages {
    out: Vec<usize>,
    windows: Vec<Vec<usize>>,
    divisors: Vec<i64>,
}

impl AvgPool2d {
    /// Pooling with window `kernel` and `stride` (all ≥ 1), no padding, floor mode, padding
    /// counted; [`Error::InvalidArgument`] naming the first of the two that has a zero.
    pub fn new(kernel: (usize, usize), stride: (usize, usize)) -> Result<Self> {
        at_least_one("AvgPool2d", "kernel", kernel)?;
        at_least_one("AvgPool2d", "stride", stride)?;
        Ok(AvgPool2d {
            kernel,
            stride,
            padding: (0, 0),
            ceil_mode: false,
            count_include_pad: true,
        })
    }

    /// The same pooling with zero padding `(p_h, p_w)` on both sides; torch allows at most half
    /// the kernel (`p ≤ ⌊k/2⌋`), anything more is [`Error::InvalidArgument`].
    pub fn with_padding(self, padding: (usize, usize)) -> Result<Self> {
        at_most_half("AvgPool2d", padding, self.kernel)?;
        Ok(AvgPool2d { padding, ..self })
    }

    /// The same pooling with torch's `ceil_mode` (see [`AvgPool2d`]). Never an error; a
    /// `Result` like the other builders.
    pub fn with_ceil_mode(self, ceil_mode: bool) -> Result<Self> {
        Ok(AvgPool2d { ceil_mode, ..self })
    }

    /// The same pooling with torch's `count_include_pad` (default `true`): whether padded
    /// positions count in the divisor. Never an error; a `Result` like the other builders.
    pub fn with_count_include_pad(self, count_include_pad: bool) -> Result<Self> {
        Ok(AvgPool2d {
            count_include_pad,
            ..self
        })
    }

    fn axes(&self) -> (PoolAxis, PoolAxis) {
        let axis = |k, s, p| PoolAxis {
            kernel: k,
            stride: s,
            padding: p,
            dilation: 1,
            ceil_mode: self.ceil_mode,
        };
        (
            axis(self.kernel.0, self.stride.0, self.padding.0),
            axis(self.kernel.1, self.stride.1, self.padding.1),
        )
    }

    fn averages(&self, input: &[usize]) -> Result<Averages> {
        let (rows, cols) = self.axes();
        let name = self.name();
        let layout = planes(&name, input, rows, cols)?;
        let windows = layout.windows(rows, cols);
        let mut divisors = Vec::with_capacity(windows.len());
        for (k, win) in windows.iter().enumerate() {
            let (r, s) = ((k / layout.wo) % layout.ho, k % layout.wo);
            let n = if self.count_include_pad {
                rows.padded_extent(r, layout.h)
                    .checked_mul(cols.padded_extent(s, layout.w))
            } else {
                Some(win.len())
            };
            let n = n
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| Error::SizeOverflow {
                    op: name.clone(),
                    quantity: "divisor",
                    shape: input.to_vec(),
                })?;
            divisors.push(n);
        }
        Ok(Averages {
            out: layout.out_shape,
            windows,
            divisors,
        })
    }

    /// The average of `v` over every window.
    fn pool<S: Scalar>(&self, v: &Tensor<S>) -> Result<Tensor<S>> {
        let Averages {
            out,
            windows,
            divisors,
        } = self.averages(v.shape())?;
        let d = v.data();
        let y = windows
            .iter()
            .zip(&divisors)
            .enumerate()
            .map(|(k, (win, &n))| {
                let sum = win.iter().fold(S::zero(), |acc, &j| acc.add_ref(&d[j]));
                divide(&sum, n, &self.name(), &out, k)
            })
            .collect::<Result<Vec<S>>>()?;
        Tensor::new(out, y)
    }
}

/// `v / n`; `n` is at least 1 (windows are never empty), but a zero is a typed error naming the
/// output coordinate `k` of `shape`, not a panic.
fn divide<S: Scalar>(v: &S, n: i64, op: &str, shape: &[usize], k: usize) -> Result<S> {
    v.checked_div(&S::from_i64(n)).ok_or_else(|| {
        let mut index = vec![0; shape.len()];
        let mut rest = k;
        for (slot, &len) in index.iter_mut().zip(shape).rev() {
            *slot = rest % len.max(1);
            rest /= len.max(1);
        }
        Error::division_by_zero(op, index)
    })
}

impl Op for AvgPool2d {
    fn name(&self) -> String {
        let mut name = format!(
            "AvgPool2d(kernel {:?}, stride {:?}",
            self.kernel, self.stride
        );
        if self.padding != (0, 0) {
            name += &format!(", padding {:?}", self.padding);
        }
        if self.ceil_mode {
            name += ", ceil_mode";
        }
        if !self.count_include_pad {
            name += ", padding not counted";
        }
        name + ")"
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (rows, cols) = self.axes();
        Ok(planes(&self.name(), input, rows, cols)?.out_shape)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for AvgPool2d {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.pool(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "AvgPool2d jvp: dx")?;
        self.pool(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let Averages {
            out,
            windows,
            divisors,
        } = self.averages(x.shape())?;
        dy.expect_shape(&out, "AvgPool2d vjp: δ")?;
        let mut dx = vec![S::zero(); x.len()];
        for (k, ((win, &n), d)) in windows.iter().zip(&divisors).zip(dy.data()).enumerate() {
            let share = divide(d, n, &self.name(), &out, k)?;
            for &j in win {
                dx[j] = dx[j].add_ref(&share);
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    }
}
