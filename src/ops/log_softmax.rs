//! Log-softmax along one axis (`torch.log_softmax(x, dim)`).

use super::softmax::{lane_dots, log_softmax_lanes, softmax_lanes, Lanes};
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)` = log-softmax of `x` along `axis`, for an input of any rank, like
/// `torch.log_softmax(x, dim=axis)` (only non-negative axes: torch's `dim=-1` is
/// `axis = rank − 1`). Every lane along the axis maps to `xₖ − ln Σⱼ e^{xⱼ}`, computed in the
/// stable form torch uses, `(xₖ − m) − ln Σⱼ e^{xⱼ − m}` with `m` the lane's maximum.
///
/// Over [`crate::Ex`] the value carries a formal logarithm (`ln` of an exponential polynomial);
/// the rules do not: with `s` the lane's softmax, `jvp = dx − ⟨s, dx⟩` and `vjp = δ − s·Σδ`
/// (the Jacobian is `I − 𝟙·sᵀ`), so the checks decide them exactly.
///
/// An axis outside the input's rank, or an empty axis, is [`crate::Error::InvalidArgument`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogSoftmax {
    axis: usize,
}

impl LogSoftmax {
    /// Log-softmax along `axis` (torch's `dim`).
    pub fn new(axis: usize) -> Self {
        LogSoftmax { axis }
    }

    /// The axis along which the entries are normalised.
    pub fn axis(&self) -> usize {
        self.axis
    }

    fn lanes(&self, shape: &[usize]) -> Result<Lanes> {
        Lanes::new(shape, self.axis, "LogSoftmax")
    }
}

impl Op for LogSoftmax {
    fn name(&self) -> String {
        format!("LogSoftmax(axis {})", self.axis)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.lanes(input)?;
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for LogSoftmax {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        log_softmax_lanes(x, self.lanes(x.shape())?, "LogSoftmax")
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        // dx − ⟨s, dx⟩ on every lane.
        dx.expect_shape(x.shape(), "LogSoftmax jvp: dx")?;
        let lanes = self.lanes(x.shape())?;
        let s = softmax_lanes(x, lanes, "LogSoftmax")?;
        let mut out = dx.data().to_vec();
        for (j, c) in lane_dots(&s, dx, lanes).iter().enumerate() {
            for k in lanes.offsets(j) {
                out[k] = out[k].sub_ref(c);
            }
        }
        Tensor::new(x.shape().to_vec(), out)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        // δ − s·Σδ on every lane.
        dy.expect_shape(x.shape(), "LogSoftmax vjp: δ")?;
        let lanes = self.lanes(x.shape())?;
        let s = softmax_lanes(x, lanes, "LogSoftmax")?;
        let mut out = dy.data().to_vec();
        for j in 0..lanes.count() {
            let total = lanes
                .offsets(j)
                .fold(S::zero(), |acc, k| acc.add_ref(&dy.data()[k]));
            for k in lanes.offsets(j) {
                out[k] = out[k].sub_ref(&s.data()[k].mul_ref(&total));
            }
        }
        Tensor::new(x.shape().to_vec(), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::{Ex, Q};

    #[test]
    fn log_softmax_passes_along_the_last_axis() {
        let report = crate::check_op!(LogSoftmax::new(1), [2, 3], cases(32));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <Ex as crate::Transcendental>::FIELD);
    }

    #[test]
    fn log_softmax_passes_along_the_first_axis() {
        assert_passes(
            &crate::check_op!(LogSoftmax::new(0), [2, 3], cases(32)),
            false,
        );
    }

    #[test]
    fn log_softmax_carries_a_formal_log_and_matches_floats() {
        // [0, 1]: shifted to [−1, 0], ln(e^(−1) + 1) = ln(e + 1) − 1, so the outputs are
        // −ln(e + 1) and 1 − ln(e + 1).
        let x = t(&[2], &["0", "1"]).lift::<Ex>();
        let y = OpSpec::<Ex>::forward(&LogSoftmax::new(0), &x).unwrap();
        let shown: Vec<String> = y.data().iter().map(|v| v.to_string()).collect();
        assert_eq!(shown, ["-ln(e + 1)", "1 − ln(e + 1)"]);
        let expected = [-(1f64.exp() + 1.0).ln(), 1.0 - (1f64.exp() + 1.0).ln()];
        for (v, e) in y.data().iter().zip(expected) {
            assert!((v.to_f64() - e).abs() < 1e-12, "{v} vs {e}");
        }
        // A single class: log-softmax is exactly 0, even over Q (ln 1 = 0).
        let z = OpSpec::<Q>::forward(&LogSoftmax::new(1), &t(&[2, 1], &["3", "-5"])).unwrap();
        assert_eq!(z, t(&[2, 1], &["0", "0"]));
    }

    #[test]
    fn an_axis_outside_the_rank_or_empty_is_a_typed_error() {
        assert_eq!(
            LogSoftmax::new(1).output_shape(&[4]),
            Err(Error::InvalidArgument {
                op: "LogSoftmax".into(),
                argument: "axis".into(),
                value: "1".into(),
                requirement: "less than the input's rank 1 (shape [4])".into(),
            })
        );
        assert!(matches!(
            LogSoftmax::new(0).output_shape(&[0, 2]),
            Err(Error::InvalidArgument { ref argument, .. }) if argument == "input shape"
        ));
    }

    planted!(SoftmaxOfCotangent(LogSoftmax), fn vjp(&op, x, dy) {
        // δ − softmax(δ)·Σδ: the softmax taken of the cotangent instead of the input.
        let lanes = op.lanes(x.shape())?;
        let s = softmax_lanes(dy, lanes, "LogSoftmax")?;
        let mut out = dy.data().to_vec();
        for j in 0..lanes.count() {
            let total = lanes.offsets(j).fold(S::zero(), |acc, k| acc.add_ref(&dy.data()[k]));
            for k in lanes.offsets(j) {
                out[k] = out[k].sub_ref(&s.data()[k].mul_ref(&total));
            }
        }
        Tensor::new(x.shape().to_vec(), out)
    });

    #[test]
    fn planted_log_softmax_vjp_with_the_softmax_of_the_cotangent() {
        // Small entries keep the shrinking over Ex fast (as for softmax's planted rule).
        let config = fixed().elements(crate::strategy::small_q());
        let c = caught_with(&SoftmaxOfCotangent(LogSoftmax::new(1)), &[2, 3], &config);
        println!("{c}");
        // At x = 0, δ = e₁₂: the rule gives 0 − softmax(δ)₁₀·1 = −1/(e + 2), printed with the
        // denominator's lowest term 1; the reference is 0 − s₁₀·1 = −1/3.
        assert_cx(&c, VJP, &[1, 0], "(-1/2)/((1/2)e + 1)", "-1/3");
    }
}
