//! 2-D max pooling; ties are kinks.

use super::pool_window::{at_least_one, at_most_half, planes, PoolAxis};
use super::{Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// `y[…, r, s] = max` of the window of `x[…, ·, ·]` at rows `r·s_h − p_h + i·d_h` (`i < k_h`) and
/// columns `s·s_w − p_w + j·d_w` (`j < k_w`), as `torch.nn.functional.max_pool2d`: input
/// `[C, H, W]` or `[N, C, H, W]` (every plane pooled alike), output `[…, H_out, W_out]` with
/// `H_out = ⌊(H + 2p_h − d_h(k_h − 1) − 1 + (ceil_mode ? s_h − 1 : 0)) / s_h⌋ + 1`, the last
/// window dropped under `ceil_mode` when it would start in the right padding. Positions in the
/// padding are −∞: they never win and never tie, so a window is its in-range entries.
///
/// On a piece the op copies one entry per window (the argmax), so `jvp` reads `dx` at the argmax
/// and `vjp` adds `δ` there (overlapping windows accumulate). The piece changes where the maximum
/// is shared: the guards are, window by window in output order, `max − x[j]` for every other
/// candidate `j` of the window, at `j`'s input coordinate (in the input's own shape, batch axis
/// included). A zero guard is a tie — a kink, where no derivative exists — and the kink error
/// names the tied candidate.
///
/// The maximum and the routing of derivatives are chosen by [`crate::Ordered::select`] (see
/// `MaxPool2d::routing`), so over [`crate::Sym`] one evaluation covers every winner. The
/// guards cannot be: which candidates they name depends on the winner, so they locate it by its
/// sign and, over `Sym`, record a branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    ceil_mode: bool,
}

impl MaxPool2d {
    /// Pooling with window `kernel` and `stride` (all ≥ 1), no padding, dilation 1, floor mode;
    /// [`crate::Error::InvalidArgument`] naming the first of the two that has a zero.
    pub fn new(kernel: (usize, usize), stride: (usize, usize)) -> Result<Self> {
        at_least_one("MaxPool2d", "kernel", kernel)?;
        at_least_one("MaxPool2d", "stride", stride)?;
        Ok(MaxPool2d {
            kernel,
            stride,
            padding: (0, 0),
            dilation: (1, 1),
            ceil_mode: false,
        })
    }

    /// The same pooling with implicit −∞ padding `(p_h, p_w)` on both sides; torch allows at most
    /// half the kernel (`p ≤ ⌊k/2⌋`), anything more is [`crate::Error::InvalidArgument`].
    pub fn with_padding(self, padding: (usize, usize)) -> Result<Self> {
        at_most_half("MaxPool2d", padding, self.kernel)?;
        Ok(MaxPool2d { padding, ..self })
    }

    /// The same pooling with the window's taps `(d_h, d_w)` apart (each ≥ 1, else
    /// [`crate::Error::InvalidArgument`]).
    pub fn with_dilation(self, dilation: (usize, usize)) -> Result<Self> {
        at_least_one("MaxPool2d", "dilation", dilation)?;
        Ok(MaxPool2d { dilation, ..self })
    }

    /// The same pooling with torch's `ceil_mode`: the output length rounds up, so a last,
    /// partial window is kept unless it would start in the right padding. Never an error; a
    /// `Result` like the other builders.
    pub fn with_ceil_mode(self, ceil_mode: bool) -> Result<Self> {
        Ok(MaxPool2d { ceil_mode, ..self })
    }

    /// The row and column axes of the window.
    fn axes(&self) -> (PoolAxis, PoolAxis) {
        let axis = |k, s, p, d| PoolAxis {
            kernel: k,
            stride: s,
            padding: p,
            dilation: d,
            ceil_mode: self.ceil_mode,
        };
        (
            axis(
                self.kernel.0,
                self.stride.0,
                self.padding.0,
                self.dilation.0,
            ),
            axis(
                self.kernel.1,
                self.stride.1,
                self.padding.1,
                self.dilation.1,
            ),
        )
    }

    /// For every output entry (row-major), the input offsets of its window (never empty:
    /// [`planes`] refuses a window wholly in the padding).
    fn windows(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<Vec<usize>>)> {
        let (rows, cols) = self.axes();
        let layout = planes(&self.name(), input, rows, cols)?;
        let windows = layout.windows(rows, cols);
        Ok((layout.out_shape, windows))
    }

    /// Every window with its maximum and the weights that route derivatives through it: 1 at
    /// the window's argmax (the first one, should several tie) and 0 elsewhere.
    ///
    /// A left-to-right scan moves to candidate `j` where `x[j] − (maximum so far) > 0`, through
    /// `S::select` on that difference both for the maximum and for the weights. Over `Q` this is
    /// the strict-`>` argmax, ties keeping the earlier entry; over `Sym` each comparison is a
    /// mask, the weights are products of masks that sum to 1, and the maximum is their weighted
    /// sum of the window's entries.
    fn routing<S: Scalar>(&self, x: &Tensor<S>) -> Result<Routing<S>> {
        let (out, windows) = self.windows(x.shape())?;
        let d = x.data();
        let (maxima, weights) = windows
            .iter()
            .map(|win| {
                let mut max = d[win[0]].clone();
                let mut weights: Vec<S> = (0..win.len()).map(|_| S::zero()).collect();
                weights[0] = S::one();
                for (t, &j) in win.iter().enumerate().skip(1) {
                    let gain = d[j].sub_ref(&max);
                    for (s, w) in weights.iter_mut().enumerate() {
                        let here = if s == t { S::one() } else { S::zero() };
                        *w = S::select(&gain, here, std::mem::replace(w, S::zero()));
                    }
                    max = S::select(&gain, d[j].clone(), max);
                }
                (max, weights)
            })
            .unzip();
        Ok(Routing {
            out,
            windows,
            maxima,
            weights,
        })
    }

    /// The input offset of every window's maximum (the first one, should several tie), for the
    /// guards only: an index chosen by the sign of `x[j] − x[best]`, the same strict comparison
    /// as [`MaxPool2d::routing`], so over `Q` it is the position of the routing's weight 1.
    fn argmax<S: Scalar>(&self, x: &Tensor<S>) -> Result<(Vec<Vec<usize>>, Vec<usize>)> {
        let (_, windows) = self.windows(x.shape())?;
        let d = x.data();
        let picks = windows
            .iter()
            .map(|win| {
                // From the second candidate on: `x[0] − x[0]` is 0 over Q, but over residues
                // its enclosure is not exactly 0 and the sign is left undecided.
                win.iter().copied().skip(1).fold(win[0], |best, j| {
                    if d[j].sub_ref(&d[best]).sign() == Ordering::Greater {
                        j
                    } else {
                        best
                    }
                })
            })
            .collect();
        Ok((windows, picks))
    }
}

/// The pooling at a point: output shape, windows, and per window its maximum and the weights
/// of its entries (see [`MaxPool2d::routing`]).
struct Routing<S> {
    out: Vec<usize>,
    windows: Vec<Vec<usize>>,
    maxima: Vec<S>,
    weights: Vec<Vec<S>>,
}

impl Op for MaxPool2d {
    fn name(&self) -> String {
        let mut name = format!(
            "MaxPool2d(kernel {:?}, stride {:?}",
            self.kernel, self.stride
        );
        if self.padding != (0, 0) {
            name += &format!(", padding {:?}", self.padding);
        }
        if self.dilation != (1, 1) {
            name += &format!(", dilation {:?}", self.dilation);
        }
        if self.ceil_mode {
            name += ", ceil_mode";
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

impl<S: Scalar> OpSpec<S> for MaxPool2d {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let Routing { out, maxima, .. } = self.routing(x)?;
        Tensor::new(out, maxima)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "MaxPool2d jvp: dx")?;
        let Routing {
            out,
            windows,
            weights,
            ..
        } = self.routing(x)?;
        // Σ weight·dx over the window: over Q exactly dx at the argmax.
        let dy = windows
            .iter()
            .zip(&weights)
            .map(|(win, ws)| {
                win.iter().zip(ws).fold(S::zero(), |acc, (&j, w)| {
                    acc.add_ref(&w.mul_ref(&dx.data()[j]))
                })
            })
            .collect();
        Tensor::new(out, dy)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let Routing {
            out,
            windows,
            weights,
            ..
        } = self.routing(x)?;
        dy.expect_shape(&out, "MaxPool2d vjp: δ")?;
        // δ scattered over each window by its weights: over Q all of it lands on the argmax
        // (overlapping windows accumulate), but no index is chosen by a sign.
        let mut dx = vec![S::zero(); x.len()];
        for ((win, ws), d) in windows.iter().zip(&weights).zip(dy.data()) {
            for (&j, w) in win.iter().zip(ws) {
                dx[j] = dx[j].add_ref(&w.mul_ref(d));
            }
        }
        Tensor::new(x.shape().to_vec(), dx)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let (windows, picks) = self.argmax(x)?;
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

    #[test]
    fn max_pool_rules_branch_through_select_but_its_guards_do_not() {
        // Overlapping windows, so that δ accumulates through weights from two windows.
        let pool = MaxPool2d::new((2, 2), (1, 1)).unwrap();
        let calls = symbolic_calls(&pool, &[1, 2, 3]);
        assert!(calls.iter().all(|c| c.error.is_none()), "{calls:?}");
        let branched: Vec<_> = calls
            .iter()
            .filter(|c| !c.refusals.is_empty())
            .map(|c| c.rule)
            .collect();
        // The guards name the candidates other than the winner, which only a sign can locate.
        assert_eq!(branched, ["guards"]);
    }

    #[test]
    fn over_sym_one_evaluation_is_adjoint_for_every_winner() {
        use crate::scalar::symbols::{fresh, masks, scoped};
        use crate::scalar::Sym;
        scoped(|| {
            let pool = MaxPool2d::new((1, 3), (1, 1)).unwrap();
            let sym = |name: &str, n: usize| {
                let data = (0..n)
                    .map(|i| Sym::symbol(fresh(format!("{name}{i}"))))
                    .collect();
                Tensor::new(vec![1, 1, n], data).unwrap()
            };
            let (x, dx, dy) = (sym("x", 3), sym("dx", 3), sym("dy", 1));
            // Two comparisons, two masks: x1 − x0, then x2 − (the maximum so far).
            let y = pool.forward(&x).unwrap();
            assert_eq!(masks().len(), 2);
            // ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫ as polynomials in the masks: every pattern at once.
            let lhs = pool.jvp(&x, &dx).unwrap().dot(&dy).unwrap();
            let rhs = dx.dot(&pool.vjp(&x, &dy).unwrap()).unwrap();
            assert_eq!(lhs, rhs);
            // The maximum is the weights' combination of the entries, so jvp(x, x) = f(x).
            assert_eq!(pool.jvp(&x, &x).unwrap(), y);
        });
        // And the rules against the derivative, for every input: every winner of every window.
        let c = crate::prove_op!(MaxPool2d::new((2, 2), (1, 1)).unwrap(), [1, 2, 3]);
        assert!(c.symbols.masks >= 6, "{c}");
    }

    /// `MaxPool2d::new(kernel, stride)` with padding, dilation and ceil mode set.
    fn pool(
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        ceil_mode: bool,
    ) -> MaxPool2d {
        MaxPool2d::new(kernel, stride)
            .and_then(|p| p.with_padding(padding))
            .and_then(|p| p.with_dilation(dilation))
            .and_then(|p| p.with_ceil_mode(ceil_mode))
            .unwrap()
    }

    #[test]
    fn batched_padded_dilated_and_ceil_mode_pools_pass_off_ties() {
        let batched = MaxPool2d::new((2, 2), (1, 1)).unwrap();
        assert_passes(&crate::check_op!(batched, [2, 1, 3, 3], cases(32)), true);
        let padded = pool((3, 3), (2, 2), (1, 1), (1, 1), false);
        assert_passes(&crate::check_op!(padded, [1, 2, 4, 4], cases(32)), true);
        let dilated = pool((2, 2), (1, 1), (1, 0), (2, 1), false);
        assert_passes(&crate::check_op!(dilated, [1, 4, 3], cases(32)), true);
        let ceil = pool((2, 2), (2, 2), (0, 1), (1, 1), true);
        assert_passes(&crate::check_op!(ceil, [2, 1, 3, 3], cases(32)), true);
        let all = pool((3, 2), (2, 2), (1, 1), (2, 2), true);
        assert_passes(&crate::check_op!(all, [1, 1, 5, 4], cases(32)), true);
    }

    #[test]
    fn torch_geometry_with_padding_dilation_and_ceil_mode() {
        // 1..16 in a 4×4 plane, kernel 3, stride 2, padding 1: windows at rows −1..1 and 1..3.
        let values: Vec<String> = (1..=16).map(|v| v.to_string()).collect();
        let x = t(
            &[1, 1, 4, 4],
            &values.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let padded = pool((3, 3), (2, 2), (1, 1), (1, 1), false);
        assert_eq!(
            padded.forward(&x).unwrap(),
            t(&[1, 1, 2, 2], &["6", "8", "14", "16"])
        );
        // ceil_mode keeps a third window starting at row 3 (< H + p = 5).
        let ceil = pool((3, 3), (2, 2), (1, 1), (1, 1), true);
        assert_eq!(ceil.output_shape(&[1, 1, 4, 4]).unwrap(), [1, 1, 3, 3]);
        // Kernel 2 over 5 rows: ceil gives 4 windows, but the 4th would start at row 3·2 − 1 = 5
        // = H, in the right padding ((4 − 1)·s ≥ H + p), so it is dropped.
        let dropped = pool((2, 2), (2, 2), (1, 1), (1, 1), true);
        assert_eq!(dropped.output_shape(&[1, 1, 5, 5]).unwrap(), [1, 1, 3, 3]);
        // Dilation 2 along the columns: taps s and s + 2.
        let dilated = pool((1, 2), (1, 1), (0, 0), (1, 2), false);
        let y = dilated
            .forward(&t(&[1, 1, 4], &["1", "5", "3", "2"]))
            .unwrap();
        assert_eq!(y, t(&[1, 1, 2], &["3", "5"]));
        // A window wholly in the padding (taps at −1 and 2 of a row of 2) has the maximum −∞.
        let hollow = pool((1, 2), (1, 1), (0, 1), (1, 3), false);
        assert!(matches!(
            hollow.output_shape(&[1, 1, 2]),
            Err(crate::Error::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn bad_settings_and_overflowing_sizes_are_typed_errors() {
        let pool = MaxPool2d::new((3, 2), (1, 1)).unwrap();
        assert_eq!(
            pool.with_padding((1, 2)).err(),
            Some(crate::Error::InvalidArgument {
                op: "MaxPool2d".into(),
                argument: "padding".into(),
                value: "(1, 2)".into(),
                requirement: "at most half the kernel (3, 2) in both dimensions".into(),
            })
        );
        assert!(matches!(
            pool.with_dilation((1, 0)),
            Err(crate::Error::InvalidArgument { .. })
        ));
        let huge = MaxPool2d::new((usize::MAX, 1), (1, 1))
            .and_then(|p| p.with_dilation((usize::MAX, 1)))
            .unwrap();
        assert!(matches!(
            huge.output_shape(&[1, 1, 1]),
            Err(crate::Error::SizeOverflow { .. })
        ));
        // A kernel longer than the input, padded by half of it: one window, one tap.
        let wide = MaxPool2d::new((usize::MAX, 1), (1, 1))
            .and_then(|p| p.with_padding((usize::MAX / 2, 0)))
            .unwrap();
        let x = t(&[1, 1, 1], &["7"]);
        assert_eq!(wide.forward(&x).unwrap(), x);
        assert!(matches!(
            pool.output_shape(&[1, 2, 2, 2, 2]),
            Err(crate::Error::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn the_name_shows_the_settings_that_are_not_torch_defaults() {
        assert_eq!(
            pool((2, 2), (1, 1), (1, 0), (2, 1), true).name(),
            "MaxPool2d(kernel (2, 2), stride (1, 1), padding (1, 0), dilation (2, 1), ceil_mode)"
        );
        assert_eq!(
            pool((2, 2), (1, 1), (0, 0), (1, 1), false).name(),
            "MaxPool2d(kernel (2, 2), stride (1, 1))"
        );
    }

    #[test]
    fn a_tie_in_a_padded_dilated_window_is_a_kink_named_in_the_batched_shape() {
        // Window (1, 1) of sample 1 takes rows {0, 2} and columns {0, 2}; x[1, 0, 0, 0] and
        // x[1, 0, 2, 2] are both 9, larger than everything else. No other window holds both.
        let pool = pool((2, 2), (1, 1), (1, 1), (2, 2), false);
        let mut v: Vec<String> = (1..=18).map(|k| format!("{k}/4")).collect();
        v[9] = "9".into();
        v[17] = "9".into();
        let x = t(
            &[2, 1, 3, 3],
            &v.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let dy = Tensor::zeros(&pool.output_shape(x.shape()).unwrap()).unwrap();
        let r = crate::check::adjoint(&pool, &x, &x, &dy);
        let name = "MaxPool2d(kernel (2, 2), stride (1, 1), padding (1, 1), dilation (2, 2))";
        assert_eq!(kink(r), (1, name.into(), vec![1, 0, 2, 2]));
    }

    planted!(Undilated(MaxPool2d), fn vjp(&op, x, dy) {
        // δ routed to the argmax of adjacent taps, the dilation forgotten (input [1, 1, W],
        // kernel (1, k), no padding).
        let (k, s) = (op.kernel.1, op.stride.1);
        let d = x.data();
        let mut dx = vec![S::zero(); x.len()];
        for (o, g) in dy.data().iter().enumerate() {
            let best = (o * s..o * s + k).fold(o * s, |b, j| {
                if d[j].sub_ref(&d[b]).sign() == Ordering::Greater { j } else { b }
            });
            dx[best] = dx[best].add_ref(g);
        }
        Tensor::new(x.shape().to_vec(), dx)
    });

    #[test]
    fn planted_max_pool_gradient_ignoring_the_dilation() {
        let op = Undilated(pool((1, 2), (1, 1), (0, 0), (1, 2), false));
        assert_cx(&caught(&op, &[1, 1, 4]), VJP, &[0, 0, 2], "1", "0");
    }

    #[test]
    fn max_pool_keeps_the_first_of_tied_maxima() {
        // Windows [3, 3] and [3, 1]: δ goes to the first 3 of the tie, as before.
        let pool = MaxPool2d::new((1, 2), (1, 1)).unwrap();
        let x = t(&[1, 1, 3], &["3", "3", "1"]);
        assert_eq!(pool.forward(&x).unwrap(), t(&[1, 1, 2], &["3", "3"]));
        let dx = pool.vjp(&x, &t(&[1, 1, 2], &["1", "10"])).unwrap();
        assert_eq!(dx, t(&[1, 1, 3], &["1", "10", "0"]));
        let dy = pool.jvp(&x, &t(&[1, 1, 3], &["5", "7", "11"])).unwrap();
        assert_eq!(dy, t(&[1, 1, 2], &["5", "7"]));
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

    #[test]
    fn planted_max_pool_gradient_to_the_wrong_entry_fails_as_a_proof() {
        let op = FirstEntry(MaxPool2d::new((2, 2), (2, 2)).unwrap());
        let Err(crate::Error::ProofFailed(f)) = crate::prove::prove_op(&op, &[1, 2, 4]) else {
            panic!("routing to the first entry was proved")
        };
        assert_eq!(f.identity, "vjp(x, δ) = Df(x)ᵀ·δ");
        assert_eq!(f.counterexample.expect("the point check fails").check, VJP);
    }
}
