//! Sum or mean over some axes (ONNX `ReduceSum` / `ReduceMean`, `torch.sum` / `torch.mean` with
//! `dim` and `keepdim`).

use super::gather::{gather, indices, offset_of, scatter_add, strides};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// Which reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sum,
    Mean,
}

/// `y[i'] = Σ x[i]` (or that sum over `n`, the number of entries reduced) over the indices `i`
/// that agree with `i'` off the reduced axes; the reduced axes are dropped from the output, or
/// kept with length 1 under `keepdims`. No axes means every axis (ONNX's default).
///
/// The op is linear: `jvp` reduces `dx` the same way, `vjp` broadcasts `δ` back over the reduced
/// axes (divided by `n` for the mean). A mean over an empty extent is
/// [`Error::DivisionByZero`]; an axis the input does not have is [`Error::ShapeMismatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduce {
    kind: Kind,
    axes: Vec<usize>,
    keepdims: bool,
}

/// Where every input entry goes: output shape, the output offset of each input offset, and the
/// number of entries reduced into each output entry.
struct Plan {
    out: Vec<usize>,
    target: Vec<usize>,
    extent: usize,
}

impl Reduce {
    /// The sum over `axes` (distinct, else [`Error::InvalidArgument`]; empty for all axes),
    /// keeping them with length 1 when `keepdims`.
    pub fn sum(axes: Vec<usize>, keepdims: bool) -> Result<Self> {
        Self::build(Kind::Sum, axes, keepdims)
    }

    /// The mean over `axes` (distinct, else [`Error::InvalidArgument`]; empty for all axes),
    /// keeping them with length 1 when `keepdims`.
    pub fn mean(axes: Vec<usize>, keepdims: bool) -> Result<Self> {
        Self::build(Kind::Mean, axes, keepdims)
    }

    fn build(kind: Kind, axes: Vec<usize>, keepdims: bool) -> Result<Self> {
        let mut sorted = axes.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|p| p[0] == p[1]) {
            return Err(Error::InvalidArgument {
                op: match kind {
                    Kind::Sum => "ReduceSum".into(),
                    Kind::Mean => "ReduceMean".into(),
                },
                argument: "axes".into(),
                value: format!("{axes:?}"),
                requirement: "distinct".into(),
            });
        }
        Ok(Reduce {
            kind,
            axes,
            keepdims,
        })
    }

    /// Whether axis `a` of a rank-`rank` input is reduced.
    fn reduces(&self, a: usize) -> bool {
        self.axes.is_empty() || self.axes.contains(&a)
    }

    fn plan(&self, input: &[usize]) -> Result<Plan> {
        let out = self.output_shape(input)?;
        let overflow = |quantity| Error::SizeOverflow {
            op: self.name(),
            quantity,
            shape: input.to_vec(),
        };
        // An empty input may have kept axes whose product overflows; below it, strides fit.
        crate::tensor::element_count(&out).map_err(|_| overflow("output size"))?;
        // Output strides per input axis: 0 on a reduced axis, so its index is forgotten.
        let kept: Vec<usize> = (0..input.len()).filter(|&a| !self.reduces(a)).collect();
        let kept_shape: Vec<usize> = kept.iter().map(|&a| input[a]).collect();
        let kept_strides = strides(&kept_shape);
        let mut st = vec![0; input.len()];
        for (&a, &s) in kept.iter().zip(&kept_strides) {
            st[a] = s;
        }
        // Only the mean needs the count; a zero among the reduced lengths makes it 0 however
        // large the others are.
        let reduced: Vec<usize> = (0..input.len())
            .filter(|&a| self.reduces(a))
            .map(|a| input[a])
            .collect();
        // The non-zero dimensions of a tensor's shape fit in `usize` together
        // (`tensor::element_count`), so this product cannot overflow; it is checked all the same.
        let extent = if reduced.contains(&0) {
            0
        } else {
            reduced
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .ok_or_else(|| overflow("number of entries reduced"))?
        };
        let target = indices(input).map(|i| offset_of(&i, &st)).collect();
        Ok(Plan {
            out,
            target,
            extent,
        })
    }

    /// `v / n` for the mean (`n` the extent reduced), `v` for the sum.
    fn scale<S: Scalar>(&self, v: Tensor<S>, extent: usize) -> Result<Tensor<S>> {
        if self.kind == Kind::Sum {
            return Ok(v);
        }
        let n = i64::try_from(extent).map_err(|_| Error::SizeOverflow {
            op: self.name(),
            quantity: "number of entries reduced",
            shape: v.shape().to_vec(),
        })?;
        let n = S::from_i64(n);
        let data = v
            .data()
            .iter()
            .map(|e| e.checked_div(&n))
            .collect::<Option<Vec<S>>>()
            .ok_or_else(|| {
                Error::division_by_zero(format!("{} over an empty extent", self.name()), [])
            })?;
        Tensor::new(v.shape().to_vec(), data)
    }

    /// The reduction of `v` (the input or a tangent).
    fn reduce<S: Scalar>(&self, v: &Tensor<S>) -> Result<Tensor<S>> {
        let Plan {
            out,
            target,
            extent,
        } = self.plan(v.shape())?;
        self.mean_defined(extent)?;
        let summed = scatter_add(v, &target, &out)?;
        self.scale(summed, extent)
    }

    /// A mean over no entries has no value, even where the output is empty too.
    fn mean_defined(&self, extent: usize) -> Result<()> {
        if self.kind == Kind::Mean && extent == 0 {
            return Err(Error::division_by_zero(
                format!("{} over an empty extent", self.name()),
                [],
            ));
        }
        Ok(())
    }
}

impl Op for Reduce {
    fn name(&self) -> String {
        let kind = match self.kind {
            Kind::Sum => "ReduceSum",
            Kind::Mean => "ReduceMean",
        };
        let axes = if self.axes.is_empty() {
            "all axes".to_string()
        } else {
            format!("axes {:?}", self.axes)
        };
        let keep = if self.keepdims { ", keepdims" } else { "" };
        format!("{kind}({axes}{keep})")
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if let Some(&a) = self.axes.iter().find(|&&a| a >= input.len()) {
            return Err(Error::shape_mismatch(
                &format!("{}: the axis must exist (input, axis)", self.name()),
                input.to_vec(),
                vec![a],
            ));
        }
        Ok((0..input.len())
            .filter_map(|a| match (self.reduces(a), self.keepdims) {
                (false, _) => Some(input[a]),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Reduce {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.reduce(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Reduce jvp: dx")?;
        self.reduce(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let Plan {
            out,
            target,
            extent,
        } = self.plan(x.shape())?;
        dy.expect_shape(&out, "Reduce vjp: δ")?;
        self.mean_defined(extent)?;
        let spread = gather(
            &self.scale(dy.clone(), extent)?,
            &target,
            x.shape().to_vec(),
        )?;
        Ok(spread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn reductions_pass_and_are_proved() {
        let sum = Reduce::sum(vec![2, 0], true).unwrap();
        assert_passes(&crate::check_op!(sum, [2, 3, 2], cases(32)), true);
        let mean = Reduce::mean(vec![1], false).unwrap();
        assert_passes(&crate::check_op!(mean, [2, 3], cases(32)), true);
        let all = Reduce::mean(vec![], false).unwrap();
        assert_passes(&crate::check_op!(all, [2, 2], cases(32)), true);
        let several = Reduce::mean(vec![3, 1], true).unwrap();
        assert_passes(&crate::check_op!(several, [2, 2, 1, 2], cases(32)), true);
        assert_proved(&several, &[2, 2, 1, 2]);
    }

    #[test]
    fn shapes_and_values() {
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let sum = Reduce::sum(vec![1], false).unwrap();
        assert_eq!(sum.forward(&x).unwrap(), t(&[2], &["6", "15"]));
        let kept = Reduce::mean(vec![0], true).unwrap();
        assert_eq!(
            kept.forward(&x).unwrap(),
            t(&[1, 3], &["5/2", "7/2", "9/2"])
        );
        let all = Reduce::sum(vec![], true).unwrap();
        assert_eq!(all.forward(&x).unwrap(), t(&[1, 1], &["21"]));
        assert_eq!(
            Reduce::mean(vec![], false)
                .unwrap()
                .output_shape(&[2, 3])
                .unwrap(),
            Vec::<usize>::new()
        );
        assert_eq!(kept.name(), "ReduceMean(axes [0], keepdims)");
        assert_eq!(
            Reduce::sum(vec![], false).unwrap().name(),
            "ReduceSum(all axes)"
        );
    }

    #[test]
    fn bad_axes_and_empty_means_are_typed_errors() {
        assert_eq!(
            Reduce::sum(vec![1, 0, 1], false).err(),
            Some(Error::InvalidArgument {
                op: "ReduceSum".into(),
                argument: "axes".into(),
                value: "[1, 0, 1]".into(),
                requirement: "distinct".into(),
            })
        );
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let r = OpSpec::<Q>::forward(&Reduce::sum(vec![2], false).unwrap(), &x);
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{r:?}");
        let empty = Tensor::<Q>::new(vec![2, 0], vec![]).unwrap();
        let mean = Reduce::mean(vec![1], false).unwrap();
        let r = mean.forward(&empty);
        assert!(matches!(r, Err(Error::DivisionByZero { .. })), "{r:?}");
        let r = mean.vjp(&empty, &t(&[2], &["1", "1"]));
        assert!(matches!(r, Err(Error::DivisionByZero { .. })), "{r:?}");
        // Also where the output is empty too: no entry is divided, and the mean still has none.
        let none = Tensor::<Q>::new(vec![0, 0], vec![]).unwrap();
        let r = mean.forward(&none);
        assert!(matches!(r, Err(Error::DivisionByZero { .. })), "{r:?}");
        // A sum over nothing is zero.
        let sum = Reduce::sum(vec![1], false).unwrap();
        assert_eq!(sum.forward(&empty).unwrap(), t(&[2], &["0", "0"]));
    }

    planted!(NoOneOverN(Reduce), fn vjp(&op, x, dy) {
        // The mean's backward without its 1/n: δ broadcast as for the sum.
        Reduce { kind: Kind::Sum, ..op.clone() }.vjp(x, dy)
    });

    #[test]
    fn planted_reduce_mean_without_one_over_n() {
        let op = NoOneOverN(Reduce::mean(vec![0, 2], false).unwrap());
        assert_cx(&caught(&op, &[2, 2, 3]), VJP, &[0, 1, 0], "1", "1/6");
    }
}
