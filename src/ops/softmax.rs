//! Softmax along one axis (`torch.softmax(x, dim)`), and the lane machinery that
//! [`super::LogSoftmax`] and [`super::CrossEntropy`] share with it.

use super::pointwise::map_at;
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// The lanes of a row-major tensor along one axis: for every index of the other axes, the
/// `len` entries that differ only in `axis`. Lane `j` starts at
/// `(j / inner)·len·inner + j mod inner` and steps by `inner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lanes {
    outer: usize,
    len: usize,
    inner: usize,
}

impl Lanes {
    /// The lanes of `shape` along `axis`: [`Error::InvalidArgument`] naming `op` when `axis` is
    /// not an axis of `shape`, or when that axis is empty (softmax of no values).
    pub(crate) fn new(shape: &[usize], axis: usize, op: &str) -> Result<Lanes> {
        if axis >= shape.len() {
            return Err(Error::InvalidArgument {
                op: op.into(),
                argument: "axis".into(),
                value: axis.to_string(),
                requirement: format!(
                    "less than the input's rank {} (shape {shape:?})",
                    shape.len()
                ),
            });
        }
        if shape[axis] == 0 {
            return Err(Error::InvalidArgument {
                op: op.into(),
                argument: "input shape".into(),
                value: format!("{shape:?}"),
                requirement: format!("non-empty along axis {axis}"),
            });
        }
        Ok(Lanes {
            outer: shape[..axis].iter().product(),
            len: shape[axis],
            inner: shape[axis + 1..].iter().product(),
        })
    }

    /// The number of lanes.
    pub(crate) fn count(&self) -> usize {
        self.outer * self.inner
    }

    /// The offsets of lane `j`, in order along the axis.
    pub(crate) fn offsets(&self, j: usize) -> impl Iterator<Item = usize> {
        let base = (j / self.inner) * self.len * self.inner + j % self.inner;
        let step = self.inner;
        (0..self.len).map(move |k| base + k * step)
    }
}

/// Per lane: the shifted entries `xₖ − m` (`m` the lane's maximum, by
/// [`crate::Ordered::max_val`]) and their exponentials `e^{xₖ − m}`, both in `x`'s layout, and
/// the sum of the exponentials, one per lane.
struct Shifted<S> {
    shifted: Tensor<S>,
    exps: Tensor<S>,
    sums: Vec<S>,
}

/// [`Shifted`] for `x`; a refused `exp` names `op` and the entry's coordinate.
fn shifted_exps<S: Scalar>(x: &Tensor<S>, lanes: Lanes, op: &str) -> Result<Shifted<S>> {
    let mut shifted = x.data().to_vec();
    for j in 0..lanes.count() {
        let mut offsets = lanes.offsets(j);
        let first = offsets.next().expect("lanes are non-empty");
        let m = offsets.fold(x.data()[first].clone(), |m, k| m.max_val(&x.data()[k]));
        for k in lanes.offsets(j) {
            shifted[k] = x.data()[k].sub_ref(&m);
        }
    }
    let shifted = Tensor::new(x.shape().to_vec(), shifted)?;
    let exps = map_at(&shifted, op, |v| v.exp())?;
    let sums = (0..lanes.count())
        .map(|j| {
            lanes
                .offsets(j)
                .fold(S::zero(), |acc, k| acc.add_ref(&exps.data()[k]))
        })
        .collect();
    Ok(Shifted {
        shifted,
        exps,
        sums,
    })
}

/// Softmax of every lane: `sₖ = e^{xₖ − m} / Σⱼ e^{xⱼ − m}`.
pub(crate) fn softmax_lanes<S: Scalar>(x: &Tensor<S>, lanes: Lanes, op: &str) -> Result<Tensor<S>> {
    let Shifted { exps, sums, .. } = shifted_exps(x, lanes, op)?;
    let mut out = exps.into_data();
    for (j, sum) in sums.iter().enumerate() {
        for k in lanes.offsets(j) {
            // The sum holds e^0 = 1 (the maximum's term) and positive terms, so it is > 0.
            out[k] = out[k].checked_div(sum).expect("Σ e^{x − m} ≥ 1");
        }
    }
    Tensor::new(x.shape().to_vec(), out)
}

/// Log-softmax of every lane: `(xₖ − m) − ln Σⱼ e^{xⱼ − m}`. A refused `ln` names `op` and the
/// coordinate of the lane's first entry.
pub(crate) fn log_softmax_lanes<S: Scalar>(
    x: &Tensor<S>,
    lanes: Lanes,
    op: &str,
) -> Result<Tensor<S>> {
    let Shifted { shifted, sums, .. } = shifted_exps(x, lanes, op)?;
    let mut out = shifted.into_data();
    for (j, sum) in sums.iter().enumerate() {
        let first = lanes.offsets(j).next().expect("lanes are non-empty");
        let lse = sum.ln().map_err(|err| err.at(op, x.multi_index(first)))?;
        for k in lanes.offsets(j) {
            out[k] = out[k].sub_ref(&lse);
        }
    }
    Tensor::new(x.shape().to_vec(), out)
}

/// Per lane, `⟨a, b⟩` over the lane.
pub(crate) fn lane_dots<S: Scalar>(a: &Tensor<S>, b: &Tensor<S>, lanes: Lanes) -> Vec<S> {
    (0..lanes.count())
        .map(|j| {
            lanes.offsets(j).fold(S::zero(), |acc, k| {
                acc.add_ref(&a.data()[k].mul_ref(&b.data()[k]))
            })
        })
        .collect()
}

/// `s ⊙ (v − ⟨s, v⟩)` per lane: the softmax Jacobian `diag(s) − s·sᵀ` (symmetric) applied to `v`.
fn softmax_jacobian_times<S: Scalar>(
    s: &Tensor<S>,
    v: &Tensor<S>,
    lanes: Lanes,
) -> Result<Tensor<S>> {
    let dots = lane_dots(s, v, lanes);
    let mut out = v.data().to_vec();
    for (j, c) in dots.iter().enumerate() {
        for k in lanes.offsets(j) {
            out[k] = s.data()[k].mul_ref(&v.data()[k].sub_ref(c));
        }
    }
    Tensor::new(v.shape().to_vec(), out)
}

/// `f(x)` = softmax of `x` along `axis`, for an input of any rank, like
/// `torch.softmax(x, dim=axis)` (only non-negative axes: torch's `dim=-1` is `axis = rank − 1`).
/// Every lane `x_{…,:,…}` along the axis maps to `sₖ = e^{xₖ}/Σⱼ e^{xⱼ}`, computed in the
/// numerically stable form torch uses, `e^{xₖ − m}/Σⱼ e^{xⱼ − m}` with `m` the lane's maximum
/// (over exact scalars the two are the same value).
///
/// Rules, per lane: `jvp = s ⊙ (dx − ⟨s, dx⟩)`, `vjp = s ⊙ (δ − ⟨s, δ⟩)` (the Jacobian
/// `diag(s) − s·sᵀ` is symmetric). At a rational point every value is an exponential-polynomial
/// fraction, so the checks decide them exactly over [`crate::Ex`].
///
/// An axis outside the input's rank, or an empty axis, is [`Error::InvalidArgument`] (torch
/// returns an empty tensor for the latter; there is nothing to check).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax {
    axis: usize,
}

impl Softmax {
    /// Softmax along `axis` (torch's `dim`).
    pub fn new(axis: usize) -> Self {
        Softmax { axis }
    }

    /// The axis along which the entries are normalised.
    pub fn axis(&self) -> usize {
        self.axis
    }

    fn lanes(&self, shape: &[usize]) -> Result<Lanes> {
        Lanes::new(shape, self.axis, "Softmax")
    }
}

impl Op for Softmax {
    fn name(&self) -> String {
        format!("Softmax(axis {})", self.axis)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.lanes(input)?;
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Softmax {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        softmax_lanes(x, self.lanes(x.shape())?, "Softmax")
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Softmax jvp: dx")?;
        let lanes = self.lanes(x.shape())?;
        softmax_jacobian_times(&softmax_lanes(x, lanes, "Softmax")?, dx, lanes)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(x.shape(), "Softmax vjp: δ")?;
        let lanes = self.lanes(x.shape())?;
        softmax_jacobian_times(&softmax_lanes(x, lanes, "Softmax")?, dy, lanes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::{Ex, Ring, Q};

    #[test]
    fn softmax_passes_along_the_last_axis() {
        let report = crate::check_op!(Softmax::new(1), [2, 3], cases(16));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <Ex as crate::Transcendental>::FIELD);
    }

    #[test]
    fn softmax_passes_along_the_first_axis() {
        assert_passes(&crate::check_op!(Softmax::new(0), [2, 3], cases(16)), false);
    }

    #[test]
    fn a_middle_axis_is_the_softmax_of_each_lane() {
        // [2, 2, 2] along axis 1: lane (o, i) is [x[o, 0, i], x[o, 1, i]], and forward, jvp and
        // vjp on it are Softmax::new(0)'s on that lane alone. (A full check_op on four lanes is
        // slow: the adjoint check sums over all lanes, whose denominators then multiply.)
        let lift = |v: &[&str]| t(&[2, 2, 2], v).lift::<Ex>();
        let x = lift(&["0", "1/2", "-1", "2", "1/3", "0", "3/2", "-2"]);
        let dx = lift(&["1", "0", "2", "-1", "1/2", "3", "0", "1"]);
        let op = Softmax::new(1);
        let (y, jvp, vjp) = (op.forward(&x), op.jvp(&x, &dx), op.vjp(&x, &dx));
        let (y, jvp, vjp) = (y.unwrap(), jvp.unwrap(), vjp.unwrap());
        let lane = |v: &Tensor<Ex>, o: usize, i: usize| {
            let at = |a: usize| v.get(&[o, a, i]).unwrap().clone();
            Tensor::from_vec(vec![at(0), at(1)])
        };
        let one = Softmax::new(0);
        for (o, i) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let (xl, dl) = (lane(&x, o, i), lane(&dx, o, i));
            assert_eq!(lane(&y, o, i), one.forward(&xl).unwrap());
            assert_eq!(lane(&jvp, o, i), one.jvp(&xl, &dl).unwrap());
            assert_eq!(lane(&vjp, o, i), one.vjp(&xl, &dl).unwrap());
        }
    }

    #[test]
    fn softmax_is_exact() {
        // Lane [1/3, 1/2]: shifted by the maximum 1/2 to [−1/6, 0], so
        // s = [e^(−1/6), 1]/(e^(−1/6) + 1), printed with the denominator's lowest term 1.
        let x = t(&[2], &["1/3", "1/2"]).lift::<Ex>();
        let s = OpSpec::<Ex>::forward(&Softmax::new(0), &x).unwrap();
        let shown: Vec<String> = s.data().iter().map(|v| v.to_string()).collect();
        assert_eq!(shown, ["1/(e^(1/6) + 1)", "e^(1/6)/(e^(1/6) + 1)"]);
        assert_eq!(s.data()[0].add_ref(&s.data()[1]), Ex::from_i64(1));
        // Equal entries need no exp at all: softmax is uniform, exactly, even over Q.
        let u = OpSpec::<Q>::forward(&Softmax::new(1), &t(&[1, 3], &["2", "2", "2"])).unwrap();
        assert_eq!(u, t(&[1, 3], &["1/3", "1/3", "1/3"]));
    }

    #[test]
    fn an_axis_outside_the_rank_or_empty_is_a_typed_error() {
        assert_eq!(
            Softmax::new(2).output_shape(&[2, 3]),
            Err(Error::InvalidArgument {
                op: "Softmax".into(),
                argument: "axis".into(),
                value: "2".into(),
                requirement: "less than the input's rank 2 (shape [2, 3])".into(),
            })
        );
        assert_eq!(
            Softmax::new(1).output_shape(&[2, 0]),
            Err(Error::InvalidArgument {
                op: "Softmax".into(),
                argument: "input shape".into(),
                value: "[2, 0]".into(),
                requirement: "non-empty along axis 1".into(),
            })
        );
        let empty = Tensor::<Q>::new(vec![2, 0], vec![]).unwrap();
        let r = OpSpec::<Q>::forward(&Softmax::new(1), &empty);
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{r:?}");
    }

    planted!(NoOuterTerm(Softmax), fn vjp(&op, x, dy) {
        // diag(s)·δ only: the −s·(sᵀδ) term of the Jacobian dropped.
        OpSpec::<S>::forward(op, x)?.hadamard(dy)
    });

    #[test]
    fn planted_softmax_vjp_without_the_outer_product_term() {
        // Small entries: shrinking re-runs the checks over Ex hundreds of times, slow with the
        // default 128-bit entries (≈ 5 s); the minimal counterexample is the same (x = 0).
        let config = fixed().elements(crate::strategy::small_q());
        let c = caught_with(&NoOuterTerm(Softmax::new(1)), &[2, 3], &config);
        println!("{c}");
        // At x = 0 every s is 1/3 and δ = e₁₂: the rule's s₁₀·δ₁₀ is 0, but
        // (Jᵀδ)₁₀ = −s₁₀·s₁₂·δ₁₂ = −1/9.
        assert_cx(&c, VJP, &[1, 0], "0", "-1/9");
    }
}
