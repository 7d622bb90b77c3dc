//! 2-D average pooling with torch's divisor rule.

use super::pool_window::{at_least_one, at_most_half, planes, PoolAxis};
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
    v.checked_div(&S::from_i64(n))
        .ok_or_else(|| Error::division_by_zero(op, crate::tensor::multi_index(shape, k)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    fn avg(
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> AvgPool2d {
        AvgPool2d::new(kernel, stride)
            .and_then(|p| p.with_padding(padding))
            .and_then(|p| p.with_ceil_mode(ceil_mode))
            .and_then(|p| p.with_count_include_pad(count_include_pad))
            .unwrap()
    }

    #[test]
    fn avg_pools_pass_and_are_proved() {
        let plain = avg((2, 2), (1, 1), (0, 0), false, true);
        assert_passes(&crate::check_op!(plain, [2, 1, 3, 3], cases(32)), true);
        let counted = avg((3, 3), (2, 2), (1, 1), true, true);
        assert_passes(&crate::check_op!(counted, [1, 2, 4, 4], cases(32)), true);
        let uncounted = avg((3, 2), (2, 1), (1, 1), true, false);
        assert_passes(&crate::check_op!(uncounted, [2, 4, 3], cases(32)), true);
        // Linear, no select: over Sym the rules hold for every input.
        assert_proved(&counted, &[1, 1, 4, 4]);
        assert_proved(&uncounted, &[1, 4, 3]);
    }

    #[test]
    fn the_divisor_is_torchs() {
        // 36 everywhere, kernel 3, stride 2, padding 1, ceil_mode, in a 4×4 plane (torch 2.15
        // gives these values). Rows and columns: windows −1..2, 1..4 and 3..6, the last clipped
        // to H + p = 5, so the padded extents are 3, 3, 2.
        let x = t(&[1, 1, 4, 4], &["36"; 16]);
        let counted = avg((3, 3), (2, 2), (1, 1), true, true);
        let y = ["16", "24", "12", "24", "36", "18", "12", "18", "9"];
        assert_eq!(counted.forward(&x).unwrap(), t(&[1, 1, 3, 3], &y));
        let uncounted = avg((3, 3), (2, 2), (1, 1), true, false);
        assert_eq!(counted.output_shape(&[1, 1, 4, 4]).unwrap(), [1, 1, 3, 3]);
        assert_eq!(uncounted.forward(&x).unwrap(), t(&[1, 1, 3, 3], &["36"; 9]));
    }

    #[test]
    fn bad_settings_and_overflowing_divisors_are_typed_errors() {
        assert_eq!(
            AvgPool2d::new((2, 2), (0, 1)).err(),
            Some(Error::InvalidArgument {
                op: "AvgPool2d".into(),
                argument: "stride".into(),
                value: "(0, 1)".into(),
                requirement: "at least 1 in both dimensions".into(),
            })
        );
        let pool = AvgPool2d::new((2, 3), (1, 1)).unwrap();
        assert!(matches!(
            pool.with_padding((1, 2)),
            Err(Error::InvalidArgument { .. })
        ));
        // A 2⁴⁰ × 2⁴⁰ window padded by half of it over one entry: the counted divisor is 2⁸⁰.
        let k = 1usize << 40;
        let huge = avg((k, k), (1, 1), (k / 2, k / 2), false, true);
        let x = t(&[1, 1, 1], &["1"]);
        assert!(matches!(
            OpSpec::<crate::scalar::Q>::forward(&huge, &x),
            Err(Error::SizeOverflow {
                quantity: "divisor",
                ..
            })
        ));
        // Without the padding counted it is one entry over one, in each of the two windows.
        let one = avg((k, k), (1, 1), (k / 2, k / 2), false, false);
        assert_eq!(one.forward(&x).unwrap(), t(&[1, 2, 2], &["1"; 4]));
        assert_eq!(
            avg((3, 3), (2, 2), (1, 1), true, false).name(),
            "AvgPool2d(kernel (3, 3), stride (2, 2), padding (1, 1), ceil_mode, padding not counted)"
        );
    }

    planted!(FullKernel(AvgPool2d), fn vjp(&op, x, dy) {
        // δ divided by the whole kernel k_h·k_w, where torch divides a clipped window by fewer.
        let a = op.averages(x.shape())?;
        let n = S::from_i64((op.kernel.0 * op.kernel.1) as i64);
        let mut dx = vec![S::zero(); x.len()];
        for (win, d) in a.windows.iter().zip(dy.data()) {
            for &j in win {
                dx[j] = dx[j].add_ref(&d.checked_div(&n).expect("n ≥ 1"));
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    });

    #[test]
    fn planted_avg_pool_dividing_by_the_full_kernel() {
        let op = FullKernel(avg((3, 3), (2, 2), (1, 1), true, true));
        assert_cx(
            &caught(&op, &[1, 1, 4, 4]),
            VJP,
            &[0, 0, 3, 3],
            "1/9",
            "1/4",
        );
    }

    planted!(PadCounted(AvgPool2d), fn vjp(&op, x, dy) {
        // The padding counted in the divisor although count_include_pad is off.
        AvgPool2d { count_include_pad: true, ..*op }.vjp(x, dy)
    });

    #[test]
    fn planted_avg_pool_counting_the_padding() {
        let op = PadCounted(avg((2, 2), (1, 1), (1, 1), false, false));
        assert_cx(&caught(&op, &[1, 2, 2]), VJP, &[0, 1, 1], "1/4", "1");
    }
}
