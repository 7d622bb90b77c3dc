//! Cross-entropy of logits against class indices or class probabilities
//! (`torch.nn.functional.cross_entropy`).

use super::softmax::{lane_dots, log_softmax_lanes, softmax_lanes, Lanes};
use super::sum::scalar;
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::{Ordered, Scalar, Q};
use crate::tensor::Tensor;
use num_traits::{One, Zero};
use std::cmp::Ordering;
use std::fmt;

/// How the per-sample losses are combined, torch's `reduction=` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// `'none'`: the vector of per-sample losses, shape `[N]` (`[]` for an unbatched input).
    None,
    /// `'mean'` (torch's default): their sum divided by the number of samples `N`, shape `[]`.
    #[default]
    Mean,
    /// `'sum'`: their sum, shape `[]`.
    Sum,
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
        })
    }
}

/// What the logits are compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// One class index per sample.
    Classes(Vec<usize>),
    /// One probability distribution over the classes per sample, `[N, C]` or `[C]`.
    Probabilities(Tensor<Q>),
}

/// Cross-entropy of logits `x` against stored targets, matching
/// `torch.nn.functional.cross_entropy(x, target, reduction=…, label_smoothing=ε)` for logits of
/// shape `[N, C]` (a batch) or `[C]` (one sample, torch's unbatched form).
///
/// With `t_n` the target distribution of sample `n`, the per-sample loss is
/// `ℓ_n = −Σ_c t_nc·log_softmax(x_n)_c`, where
/// * for **class indices** `k_n` ([`CrossEntropy::classes`]), `t_n = (1 − ε)·onehot(k_n) + ε/C`;
/// * for **class probabilities** `p_n` ([`CrossEntropy::probabilities`]),
///   `t_n = (1 − ε)·p_n + ε/C`;
///
/// and `ε` is the label smoothing (0 unless [`CrossEntropy::label_smoothing`] sets it). The
/// [`Reduction`] then gives `[ℓ_n]` (shape `[N]`, or `[]` unbatched), `Σ_n ℓ_n / N` or
/// `Σ_n ℓ_n` (shape `[]`).
///
/// Rules: the gradient with respect to the logits of sample `n` is `softmax(x_n) − t_n`
/// (each `t_n` sums to 1), times `δ_n` (none), `δ/N` (mean) or `δ` (sum); `jvp` is the
/// matching sum `Σ_c (softmax(x_n) − t_n)_c·dx_nc`, reduced like the loss.
///
/// Not supported: class weights (`weight=`), `ignore_index`, and inputs of shape
/// `[N, C, d₁, …]`. Unlike torch, probability targets are validated: every row must be a
/// distribution (entries `≥ 0` summing to exactly 1), which the rule above assumes.
#[derive(Clone, PartialEq, Eq)]
pub struct CrossEntropy {
    target: Target,
    reduction: Reduction,
    smoothing: Q,
}

crate::error::debug_with_fractions!(CrossEntropy {
    target,
    reduction,
    smoothing
});

/// The sizes an input implies: `n` samples of `c` classes, and whether it has a batch axis.
#[derive(Clone, Copy, Debug)]
struct Layout {
    n: usize,
    c: usize,
    batched: bool,
}

fn invalid(
    argument: impl Into<String>,
    value: impl Into<String>,
    requirement: impl Into<String>,
) -> Error {
    Error::InvalidArgument {
        op: "CrossEntropy".into(),
        argument: argument.into(),
        value: value.into(),
        requirement: requirement.into(),
    }
}

/// A list of rationals as `[a, b, …]`.
fn show(values: &[Q]) -> String {
    let shown: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("[{}]", shown.join(", "))
}

impl CrossEntropy {
    /// The loss against one class index per sample (torch's integer `target` of shape `[N]`,
    /// or `[]` for an unbatched input, which takes a list of one index). An index must be less
    /// than the number of classes `C`, which the input's shape gives: that is checked by
    /// [`Op::output_shape`], naming the sample. An empty list is [`Error::InvalidArgument`].
    pub fn classes(indices: Vec<usize>, reduction: Reduction) -> Result<Self> {
        if indices.is_empty() {
            return Err(invalid(
                "class indices",
                "[]",
                "at least one (one per sample)",
            ));
        }
        Ok(CrossEntropy {
            target: Target::Classes(indices),
            reduction,
            smoothing: Q::zero(),
        })
    }

    /// The loss against class probabilities (torch's floating `target` of the input's shape):
    /// a tensor `[N, C]`, or `[C]` for an unbatched input. [`Error::InvalidArgument`] unless it
    /// has one of these shapes with `N, C ≥ 1` and every row is a probability distribution
    /// (entries `≥ 0` summing to exactly 1), the row named when it is not.
    pub fn probabilities(target: Tensor<Q>, reduction: Reduction) -> Result<Self> {
        let shape = target.shape().to_vec();
        if !(1..=2).contains(&shape.len()) || shape.contains(&0) {
            return Err(invalid(
                "probabilities' shape",
                format!("{shape:?}"),
                "[N, C] or [C] with N, C ≥ 1",
            ));
        }
        let c = shape[shape.len() - 1];
        for (n, row) in target.data().chunks(c).enumerate() {
            let total = row.iter().fold(Q::zero(), |acc, v| acc + v);
            if row.iter().any(|v| v.sign() == Ordering::Less) || !total.is_one() {
                return Err(invalid(
                    format!("probabilities of sample {n}"),
                    show(row),
                    "a distribution (entries ≥ 0 summing to 1)",
                ));
            }
        }
        Ok(CrossEntropy {
            target: Target::Probabilities(target),
            reduction,
            smoothing: Q::zero(),
        })
    }

    /// The same loss with label smoothing `ε` (torch's `label_smoothing`): every target
    /// distribution `t_n` becomes `(1 − ε)·t_n + ε/C`. [`Error::InvalidArgument`] unless
    /// `0 ≤ ε ≤ 1`.
    pub fn label_smoothing(self, eps: Q) -> Result<Self> {
        if eps.sign() == Ordering::Less || eps > Q::one() {
            return Err(invalid("label_smoothing", eps.to_string(), "in [0, 1]"));
        }
        Ok(CrossEntropy {
            smoothing: eps,
            ..self
        })
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The label smoothing `ε`.
    pub fn smoothing(&self) -> &Q {
        &self.smoothing
    }

    /// The sizes of `input`, checked against the targets.
    fn layout(&self, input: &[usize]) -> Result<Layout> {
        let (n, c, batched) = match *input {
            [n, c] => (n, c, true),
            [c] => (1, c, false),
            _ => {
                return Err(invalid(
                    "input shape",
                    format!("{input:?}"),
                    "[N, C] (a batch of logits) or [C] (one sample); K-dimensional inputs are \
                     not supported",
                ))
            }
        };
        if n == 0 || c == 0 {
            return Err(invalid(
                "input shape",
                format!("{input:?}"),
                "at least one sample and one class",
            ));
        }
        match &self.target {
            Target::Classes(indices) => {
                if indices.len() != n {
                    let context = if batched {
                        "CrossEntropy: one class index per sample"
                    } else {
                        "CrossEntropy: an unbatched input takes one class index"
                    };
                    return Err(Error::shape_mismatch(context, vec![indices.len()], vec![n]));
                }
                if let Some((sample, &k)) = indices.iter().enumerate().find(|(_, &k)| k >= c) {
                    return Err(invalid(
                        format!("class index of sample {sample}"),
                        k.to_string(),
                        format!("less than the number of classes C = {c}"),
                    ));
                }
            }
            Target::Probabilities(p) => {
                super::expect_input(input, p.shape(), "CrossEntropy")?;
            }
        }
        Ok(Layout { n, c, batched })
    }

    /// The smoothed target distributions `t_n`, row-major `[N, C]`.
    fn targets(&self, l: Layout) -> Vec<Q> {
        let keep = Q::one() - &self.smoothing;
        let spread = &self.smoothing / Q::from_integer((l.c as i64).into());
        match &self.target {
            Target::Classes(indices) => indices
                .iter()
                .flat_map(|&k| {
                    let (keep, spread) = (&keep, &spread);
                    (0..l.c).map(move |c| {
                        if c == k {
                            keep + spread
                        } else {
                            spread.clone()
                        }
                    })
                })
                .collect(),
            Target::Probabilities(p) => p.data().iter().map(|v| &keep * v + &spread).collect(),
        }
    }

    /// The output shape for `l`.
    fn out_shape(&self, l: Layout) -> Vec<usize> {
        match (self.reduction, l.batched) {
            (Reduction::None, true) => vec![l.n],
            _ => vec![],
        }
    }

    /// The per-sample values `v_n` reduced as the loss is.
    fn reduce<S: Scalar>(&self, per_sample: Vec<S>, l: Layout) -> Result<Tensor<S>> {
        if self.reduction == Reduction::None {
            return Tensor::new(self.out_shape(l), per_sample);
        }
        let total = per_sample.iter().fold(S::zero(), |acc, v| acc.add_ref(v));
        Ok(scalar(if self.reduction == Reduction::Mean {
            total.checked_div(&S::from_i64(l.n as i64)).expect("N ≥ 1")
        } else {
            total
        }))
    }

    /// The weight of each sample's gradient: `δ_n` (none), `δ/N` (mean) or `δ` (sum).
    fn weights<S: Scalar>(&self, dy: &Tensor<S>, l: Layout) -> Result<Vec<S>> {
        dy.expect_shape(&self.out_shape(l), "CrossEntropy vjp: δ")?;
        Ok(match self.reduction {
            Reduction::None => dy.data().to_vec(),
            Reduction::Sum => vec![dy.data()[0].clone(); l.n],
            Reduction::Mean => {
                let d = dy.data()[0]
                    .checked_div(&S::from_i64(l.n as i64))
                    .expect("N ≥ 1");
                vec![d; l.n]
            }
        })
    }

    /// `softmax(x_n) − t_n` for every sample, in `x`'s layout.
    fn residual<S: Scalar>(&self, x: &Tensor<S>, l: Layout) -> Result<Tensor<S>> {
        let s = softmax_lanes(x, self.lanes(x.shape())?, "CrossEntropy")?;
        let t: Vec<S> = self.targets(l).iter().map(S::from_q).collect();
        s.sub(&Tensor::new(x.shape().to_vec(), t)?)
    }

    /// The class axis: the last one.
    fn lanes(&self, input: &[usize]) -> Result<Lanes> {
        Lanes::new(input, input.len().saturating_sub(1), "CrossEntropy")
    }
}

impl Op for CrossEntropy {
    fn name(&self) -> String {
        let target = match self.target {
            Target::Classes(_) => "class indices",
            Target::Probabilities(_) => "probabilities",
        };
        let smoothing = if self.smoothing.is_zero() {
            String::new()
        } else {
            format!(", label smoothing {}", self.smoothing)
        };
        format!("CrossEntropy({target}, {}{smoothing})", self.reduction)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(self.out_shape(self.layout(input)?))
    }
}

impl<S: Scalar> OpSpec<S> for CrossEntropy {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let l = self.layout(x.shape())?;
        let lanes = self.lanes(x.shape())?;
        let ls = log_softmax_lanes(x, lanes, "CrossEntropy")?;
        let t = self.targets(l);
        let losses = (0..l.n)
            .map(|n| {
                (n * l.c..(n + 1) * l.c)
                    .filter(|&k| !t[k].is_zero())
                    .fold(S::zero(), |acc, k| {
                        acc.sub_ref(&ls.data()[k].mul_ref(&S::from_q(&t[k])))
                    })
            })
            .collect();
        self.reduce(losses, l)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "CrossEntropy jvp: dx")?;
        let l = self.layout(x.shape())?;
        let r = self.residual(x, l)?;
        self.reduce(lane_dots(&r, dx, self.lanes(x.shape())?), l)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let l = self.layout(x.shape())?;
        let w = self.weights(dy, l)?;
        let mut g = self.residual(x, l)?.into_data();
        for (k, v) in g.iter_mut().enumerate() {
            *v = v.mul_ref(&w[k / l.c]);
        }
        Tensor::new(x.shape().to_vec(), g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::{Ex, Ring};

    #[test]
    fn cross_entropy_passes_with_class_indices_and_mean() {
        let op = CrossEntropy::classes(vec![2, 0], Reduction::Mean).unwrap();
        let report = crate::check_op!(op, [2, 3], cases(32));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <Ex as crate::Transcendental>::FIELD);
    }

    #[test]
    fn cross_entropy_passes_with_probabilities_and_sum() {
        let p = t(&[2, 3], &["1/2", "1/4", "1/4", "0", "1", "0"]);
        let op = CrossEntropy::probabilities(p, Reduction::Sum).unwrap();
        assert_passes(&crate::check_op!(op, [2, 3], cases(32)), false);
    }

    #[test]
    fn cross_entropy_passes_with_label_smoothing_and_no_reduction() {
        let op = CrossEntropy::classes(vec![1, 2], Reduction::None)
            .and_then(|op| op.label_smoothing(q("1/10")))
            .unwrap();
        assert_eq!(op.output_shape(&[2, 3]), Ok(vec![2]));
        assert_passes(&crate::check_op!(op, [2, 3], cases(32)), false);
    }

    #[test]
    fn cross_entropy_passes_unbatched() {
        let op = CrossEntropy::classes(vec![1], Reduction::None).unwrap();
        assert_eq!(op.output_shape(&[3]), Ok(vec![]));
        assert_passes(&crate::check_op!(op, [3], cases(16)), false);
    }

    #[test]
    fn cross_entropy_is_exact_and_matches_floats() {
        // Logits [0, 1], class 1: ℓ = ln(1 + e) − 1; gradient softmax − onehot.
        let op = CrossEntropy::classes(vec![1], Reduction::Mean).unwrap();
        let x = t(&[1, 2], &["0", "1"]).lift::<Ex>();
        let loss = OpSpec::<Ex>::forward(&op, &x).unwrap();
        assert_eq!(loss.data()[0].to_string(), "-1 + ln(e + 1)");
        let float = OpSpec::<f64>::forward(&op, &t(&[1, 2], &["0", "1"]).lift::<f64>()).unwrap();
        assert!((float.data()[0] - 0.313_261_687_518_222_8).abs() < 1e-15);
        let g = OpSpec::<Ex>::vjp(
            &op,
            &x,
            &Tensor::new(vec![], vec![Ex::from_i64(1)]).unwrap(),
        );
        let shown: Vec<String> = g.unwrap().data().iter().map(|v| v.to_string()).collect();
        assert_eq!(shown, ["1/(e + 1)", "-1/(e + 1)"]);
        // Label smoothing ε over C classes for class indices is (1 − ε)·onehot + ε/C: here
        // ε = 1 makes the target uniform, the same loss as probabilities [1/2, 1/2].
        let smooth = CrossEntropy::classes(vec![1], Reduction::Sum)
            .and_then(|op| op.label_smoothing(q("1")))
            .unwrap();
        let uniform = CrossEntropy::probabilities(t(&[1, 2], &["1/2", "1/2"]), Reduction::Sum);
        assert_eq!(
            OpSpec::<Ex>::forward(&smooth, &x).unwrap(),
            OpSpec::<Ex>::forward(&uniform.unwrap(), &x).unwrap()
        );
        // Smoothing probabilities mixes them the same way: one-hot [0, 1] smoothed by ε = 1/2
        // is [1/4, 3/4], as class 1 smoothed by 1/2 is.
        let smoothed = |op: Result<CrossEntropy>| {
            let op = op.and_then(|op| op.label_smoothing(q("1/2"))).unwrap();
            OpSpec::<Ex>::forward(&op, &x).unwrap()
        };
        let quarter = CrossEntropy::probabilities(t(&[1, 2], &["1/4", "3/4"]), Reduction::Sum);
        let by_class = smoothed(CrossEntropy::classes(vec![1], Reduction::Sum));
        let one_hot = CrossEntropy::probabilities(t(&[1, 2], &["0", "1"]), Reduction::Sum);
        assert_eq!(smoothed(one_hot), by_class);
        assert_eq!(
            by_class,
            OpSpec::<Ex>::forward(&quarter.unwrap(), &x).unwrap()
        );
    }

    #[test]
    fn bad_targets_and_smoothing_are_typed_errors() {
        // An index ≥ C names the sample.
        let op = CrossEntropy::classes(vec![0, 3], Reduction::Mean).unwrap();
        assert_eq!(
            op.output_shape(&[2, 3]),
            Err(invalid(
                "class index of sample 1",
                "3",
                "less than the number of classes C = 3"
            ))
        );
        let r = OpSpec::<Q>::forward(&op, &t(&[2, 3], &["0"; 6]));
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{r:?}");
        // One index per sample.
        assert!(matches!(
            op.output_shape(&[3, 4]),
            Err(Error::ShapeMismatch { ref left, ref right, .. }) if left == &[2] && right == &[3]
        ));
        assert!(matches!(
            op.output_shape(&[2, 3, 4]),
            Err(Error::InvalidArgument { ref argument, .. }) if argument == "input shape"
        ));
        assert_eq!(
            CrossEntropy::classes(vec![], Reduction::Sum).err(),
            Some(invalid(
                "class indices",
                "[]",
                "at least one (one per sample)"
            ))
        );
        // No class: a shape error of the target and of the input.
        let empty = Tensor::new(vec![2, 0], vec![]).unwrap();
        assert_eq!(
            CrossEntropy::probabilities(empty, Reduction::Sum).err(),
            Some(invalid(
                "probabilities' shape",
                "[2, 0]",
                "[N, C] or [C] with N, C ≥ 1"
            ))
        );
        let two_samples = CrossEntropy::classes(vec![0, 0], Reduction::Sum).unwrap();
        assert_eq!(
            two_samples.output_shape(&[2, 0]),
            Err(invalid(
                "input shape",
                "[2, 0]",
                "at least one sample and one class"
            ))
        );
        // ε outside [0, 1].
        for eps in ["-1/10", "11/10"] {
            let r = CrossEntropy::classes(vec![0], Reduction::Sum)
                .unwrap()
                .label_smoothing(q(eps));
            assert_eq!(r.err(), Some(invalid("label_smoothing", eps, "in [0, 1]")));
        }
        // Probability rows must be distributions; the target must have the input's shape.
        let r =
            CrossEntropy::probabilities(t(&[2, 2], &["1/2", "1/2", "1", "1/2"]), Reduction::Sum);
        assert_eq!(
            r.err(),
            Some(invalid(
                "probabilities of sample 1",
                "[1, 1/2]",
                "a distribution (entries ≥ 0 summing to 1)"
            ))
        );
        let r = CrossEntropy::probabilities(t(&[2], &["2", "-1"]), Reduction::Sum);
        assert!(matches!(r, Err(Error::InvalidArgument { .. })));
        let op = CrossEntropy::probabilities(t(&[1, 2], &["1/2", "1/2"]), Reduction::Sum).unwrap();
        assert!(matches!(
            op.output_shape(&[2, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    planted!(MeanWithoutOneOverN(CrossEntropy), fn vjp(&op, x, dy) {
        // The mean's 1/N forgotten in backward: (softmax(x_n) − t_n)·δ.
        let n = S::from_i64(x.shape()[0] as i64);
        Ok(op.vjp(x, dy)?.scale(&n))
    });

    #[test]
    fn planted_cross_entropy_mean_without_one_over_n() {
        let op = MeanWithoutOneOverN(CrossEntropy::classes(vec![2, 0], Reduction::Mean).unwrap());
        // Small entries keep the shrinking over Ex fast (as for softmax's planted rule).
        let c = caught_with(&op, &[2, 3], &fixed().elements(crate::strategy::small_q()));
        println!("{c}");
        // At x = 0 (s = 1/3), sample 0 of class 2, δ = 1: the rule gives (1/3 − 0)·1, the
        // reference (1/3 − 0)·1/2.
        assert_cx(&c, VJP, &[0, 0], "1/3", "1/6");
    }
}
