//! 2-D max pooling; ties are kinks.

use super::{Guard, Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// `y[c, r, s] = max` of the window `x[c, r·s_h .. r·s_h + k_h, s·s_w .. s·s_w + k_w]` for an
/// input `[c, H, W]` (no padding); output `[c, (H − k_h)/s_h + 1, (W − k_w)/s_w + 1]`.
///
/// On a piece the op copies one entry per window (the argmax), so `jvp` reads `dx` at the argmax
/// and `vjp` adds `δ` there (overlapping windows accumulate). The piece changes where the maximum
/// is shared: the guards are, window by window in output order, `max − x[j]` for every other
/// candidate `j` of the window, at `j`'s input coordinate. A zero guard is a tie — a kink, where
/// no derivative exists — and the kink error names the tied candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    kernel: (usize, usize),
    stride: (usize, usize),
}

impl MaxPool2d {
    /// Pooling with window `kernel` and `stride` (all ≥ 1); [`Error::InvalidArgument`] naming
    /// the first of the two that has a zero.
    pub fn new(kernel: (usize, usize), stride: (usize, usize)) -> Result<Self> {
        for (argument, value) in [("kernel", kernel), ("stride", stride)] {
            if value.0 == 0 || value.1 == 0 {
                return Err(Error::InvalidArgument {
                    op: "MaxPool2d".into(),
                    argument: argument.into(),
                    value: format!("{value:?}"),
                    requirement: "at least 1 in both dimensions".into(),
                });
            }
        }
        Ok(MaxPool2d { kernel, stride })
    }

    /// For every output entry (row-major), the input offsets of its window.
    fn windows(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<Vec<usize>>)> {
        let out = self.output_shape(input)?;
        let (h, w) = (input[1], input[2]);
        let ((kh, kw), (sh, sw)) = (self.kernel, self.stride);
        let mut windows = Vec::with_capacity(out.iter().product());
        for c in 0..out[0] {
            for r in 0..out[1] {
                for s in 0..out[2] {
                    let mut win = Vec::with_capacity(kh * kw);
                    for p in 0..kh {
                        for q in 0..kw {
                            win.push((c * h + r * sh + p) * w + s * sw + q);
                        }
                    }
                    windows.push(win);
                }
            }
        }
        Ok((out, windows))
    }

    /// Every window and the input offset of its maximum (the first one, should several tie).
    fn argmax<S: Scalar>(&self, x: &Tensor<S>) -> Result<Pooling> {
        let (out, windows) = self.windows(x.shape())?;
        let d = x.data();
        let picks = windows
            .iter()
            .map(|win| {
                win.iter().copied().fold(win[0], |best, j| {
                    if d[j].sub_ref(&d[best]).sign() == Ordering::Greater {
                        j
                    } else {
                        best
                    }
                })
            })
            .collect();
        Ok(Pooling {
            out,
            windows,
            picks,
        })
    }
}

/// The piece of the pooling that contains a point: output shape, windows, argmaxes.
struct Pooling {
    out: Vec<usize>,
    windows: Vec<Vec<usize>>,
    picks: Vec<usize>,
}

impl Op for MaxPool2d {
    fn name(&self) -> String {
        format!(
            "MaxPool2d(kernel {:?}, stride {:?})",
            self.kernel, self.stride
        )
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let ((kh, kw), (sh, sw)) = (self.kernel, self.stride);
        match *input {
            [c, h, w] if h >= kh && w >= kw => Ok(vec![c, (h - kh) / sh + 1, (w - kw) / sw + 1]),
            _ => Err(Error::shape_mismatch(
                &format!(
                    "{}: input must be [c, H, W] with H, W ≥ the kernel",
                    self.name()
                ),
                input.to_vec(),
                vec![kh, kw],
            )),
        }
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for MaxPool2d {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let Pooling { out, picks, .. } = self.argmax(x)?;
        Tensor::new(out, picks.iter().map(|&j| x.data()[j].clone()).collect())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "MaxPool2d jvp: dx")?;
        let Pooling { out, picks, .. } = self.argmax(x)?;
        Tensor::new(out, picks.iter().map(|&j| dx.data()[j].clone()).collect())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let Pooling { out, picks, .. } = self.argmax(x)?;
        dy.expect_shape(&out, "MaxPool2d vjp: δ")?;
        let mut dx = vec![S::zero(); x.len()];
        for (&j, d) in picks.iter().zip(dy.data()) {
            dx[j] = dx[j].add_ref(d);
        }
        Tensor::new(x.shape().to_vec(), dx)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let Pooling { windows, picks, .. } = self.argmax(x)?;
        let d = x.data();
        let name = self.name();
        Ok(windows
            .iter()
            .zip(&picks)
            .flat_map(|(win, &best)| {
                win.iter()
                    .filter(move |&&j| j != best)
                    .map(move |&j| (best, j))
            })
            .map(|(best, j)| Guard {
                layer: 1,
                op: name.clone(),
                coordinate: x.multi_index(j),
                value: d[best].sub_ref(&d[j]),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn max_pool_passes_off_ties() {
        let overlapping = MaxPool2d::new((2, 2), (1, 1)).unwrap();
        assert_passes(&crate::check_op!(overlapping, [1, 3, 3], cases(32)), true);
        let strided = MaxPool2d::new((1, 2), (2, 1)).unwrap();
        assert_passes(&crate::check_op!(strided, [2, 3, 3], cases(32)), true);
    }

    #[test]
    fn ties_are_kinks_and_empty_kernels_refused() {
        let pool = MaxPool2d::new((2, 2), (2, 2)).unwrap();
        let x = t(&[1, 2, 2], &["1", "4", "4", "2"]);
        let r = crate::check::adjoint(&pool, &x, &x, &t(&[1, 1, 1], &["1"]));
        let name = "MaxPool2d(kernel (2, 2), stride (2, 2))";
        assert_eq!(kink(r), (1, name.into(), vec![0, 1, 0]));
        assert_eq!(
            MaxPool2d::new((0, 2), (1, 1)).err(),
            Some(crate::Error::InvalidArgument {
                op: "MaxPool2d".into(),
                argument: "kernel".into(),
                value: "(0, 2)".into(),
                requirement: "at least 1 in both dimensions".into(),
            })
        );
        assert_eq!(
            MaxPool2d::new((2, 2), (1, 0)).err(),
            Some(crate::Error::InvalidArgument {
                op: "MaxPool2d".into(),
                argument: "stride".into(),
                value: "(1, 0)".into(),
                requirement: "at least 1 in both dimensions".into(),
            })
        );
    }

    #[test]
    fn a_dead_pooling_window_is_a_tie() {
        // Every conv output is negative (bias −10), so ReLU gives 0 everywhere and each pooling
        // window ties at 0: the composition is locally constant, but the guard max − other = 0
        // is reported — the conservative reading of the kink rule, naming layer 3.
        use crate::ops::{Compose, Conv2d, Flatten, Relu};
        let w = t(&[1, 1, 2, 2], &["1", "1", "1", "1"]);
        let conv = Conv2d::new(w, t(&[1], &["-10"]), (1, 1), (0, 0)).unwrap();
        let pool = MaxPool2d::new((2, 2), (1, 1)).unwrap();
        let net = conv.then(Relu).then(pool).then(Flatten);
        let x = t(&[1, 3, 3], &["1"; 9]);
        let r = crate::check::jacobian(&net, &x, &x, &t(&[1], &["1"]));
        let name = "MaxPool2d(kernel (2, 2), stride (1, 1))";
        assert_eq!(kink(r), (3, name.into(), vec![0, 0, 1]));
    }

    planted!(FirstEntry(MaxPool2d), fn vjp(&_op, x, dy) {
        // δ routed to the window's first entry instead of its argmax (kernel = stride = 2×2).
        let (h, w) = (x.shape()[1], x.shape()[2]);
        let (ho, wo) = (dy.shape()[1], dy.shape()[2]);
        let mut dx = vec![S::zero(); x.len()];
        for c in 0..x.shape()[0] {
            for r in 0..ho {
                for s in 0..wo {
                    dx[(c * h + 2 * r) * w + 2 * s] = dy.data()[(c * ho + r) * wo + s].clone();
                }
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    });

    #[test]
    fn planted_max_pool_gradient_to_the_wrong_entry() {
        let op = FirstEntry(MaxPool2d::new((2, 2), (2, 2)).unwrap());
        assert_cx(&caught(&op, &[1, 2, 4]), VJP, &[0, 0, 2], "1", "0");
    }
}
