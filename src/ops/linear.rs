//! The affine layer `W·x + b` — Lean's `Spec.linear_spec` — on the last axis of its input, as
//! `torch.nn.functional.linear`.

use super::params::{join_params, split_params};
use super::{Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::kernels::{remembered, Memo};
use crate::scalar::{Scalar, Q};
use crate::tensor::{element_count, Tensor};

/// `f(x) = W·x + b` with `W` of shape `[m, n]` and `b` of shape `[m]`, applied to every row of
/// an input `[…, n]` (any number of leading axes, torch's `F.linear`): output `[…, m]`.
///
/// Rules, row by row: `jvp = W·dx`, `vjp = Wᵀ·δ`; with respect to the parameters (flattened as
/// `W` row-major, then `b`), summed over the leading axes: `∂W = Σ_rows δ·xᵀ`, `∂b = Σ_rows δ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linear {
    w: Tensor<Q>,
    b: Tensor<Q>,
}

impl Linear {
    /// A layer from `W` (`[m, n]`) and `b` (`[m]`); [`Error::ShapeMismatch`] otherwise.
    pub fn new(w: Tensor<Q>, b: Tensor<Q>) -> Result<Self> {
        match *w.shape() {
            [m, _] if b.shape() == [m] => Ok(Linear { w, b }),
            _ => Err(Error::shape_mismatch(
                "Linear::new: W must be [m, n] and b [m]",
                w.shape().to_vec(),
                b.shape().to_vec(),
            )),
        }
    }

    /// The weight matrix `W`.
    pub fn weight(&self) -> &Tensor<Q> {
        &self.w
    }

    /// The bias `b`.
    pub fn bias(&self) -> &Tensor<Q> {
        &self.b
    }

    /// `(m, n)`: output and input sizes.
    pub fn dims(&self) -> (usize, usize) {
        (self.w.shape()[0], self.w.shape()[1])
    }

    /// The number of rows of an input `[…, n]` (the product of its leading axes) and the output
    /// shape `[…, m]`; [`Error::ShapeMismatch`] unless the last axis is `n`.
    fn layout(&self, input: &[usize]) -> Result<(usize, Vec<usize>)> {
        let (m, n) = self.dims();
        let Some((_, leading)) = input.split_last().filter(|(&last, _)| last == n) else {
            return Err(Error::shape_mismatch(
                "Linear: input",
                input.to_vec(),
                vec![n],
            ));
        };
        let overflow = |quantity| Error::SizeOverflow {
            op: self.name(),
            quantity,
            shape: input.to_vec(),
        };
        // 0 when a leading axis is empty: the loops over rows then run 0 times.
        let rows = element_count(leading).map_err(|_| overflow("rows"))?;
        let out: Vec<usize> = leading.iter().copied().chain([m]).collect();
        element_count(&out).map_err(|_| overflow("output size"))?;
        Ok((rows, out))
    }

    fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(self.layout(input)?.1)
    }
}

/// Below this many weights a forward pass costs less than the memo's lookup.
const FORWARD_MEMO_MIN: usize = 1024;

/// `W·x_r + b` (or `W·x_r` without a bias) for every row `x_r` of `x`, raw weights `w` `[m, n]`.
fn affine_rows<S: Scalar>(
    w: &[S],
    b: Option<&[S]>,
    (m, n): (usize, usize),
    rows: usize,
    x: &[S],
) -> Vec<S> {
    let row = |r: usize| &x[r * n..(r + 1) * n];
    (0..rows)
        .flat_map(|r| match b {
            Some(b) => S::affine(w, m, n, row(r), b),
            None => S::mat_vec(w, m, n, row(r)),
        })
        .collect()
}

impl Linear {
    /// The gradient with respect to `W`: `Σ_rows δ·xᵀ`, shape `[m, n]`.
    pub fn vjp_weight<S: Scalar>(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.dims();
        let (rows, out) = self.layout(x.shape())?;
        dy.expect_shape(&out, "Linear vjp_weight: δ")?;
        if rows == 1 {
            // One sample: the outer product, without the matrix product's sums of one term.
            return Ok(dy.outer(x));
        }
        // δᵀ·X with δ as [rows, m] and X as [rows, n].
        let dt: Vec<S> = (0..m)
            .flat_map(|i| (0..rows).map(move |r| (r, i)))
            .map(|(r, i)| dy.data()[r * m + i].clone())
            .collect();
        Tensor::new(vec![m, n], S::matmul(&dt, m, rows, x.data(), n))
    }

    /// The gradient with respect to `b`: `Σ_rows δ`, for `δ` of shape `[…, m]`.
    pub fn vjp_bias<S: Scalar>(&self, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let m = self.dims().0;
        if dy.shape().last() != Some(&m) {
            return Err(Error::shape_mismatch(
                "Linear vjp_bias: δ must be [..., m]",
                dy.shape().to_vec(),
                vec![m],
            ));
        }
        let mut db = vec![S::zero(); m];
        for (k, v) in dy.data().iter().enumerate() {
            db[k % m] = db[k % m].add_ref(v);
        }
        Ok(Tensor::from_vec(db))
    }
}

impl Op for Linear {
    fn name(&self) -> String {
        let (m, n) = self.dims();
        format!("Linear({n}→{m})")
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![
            Param::new(self, "weight", &self.w),
            Param::new(self, "bias", &self.b),
        ]
    }
}

impl<S: Scalar> OpSpec<S> for Linear {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (rows, out) = self.layout(x.shape())?;
        let y = || {
            let (w, b) = (self.w.lifted::<S>(), self.b.lifted::<S>());
            Tensor::new(
                out.clone(),
                affine_rows(w.data(), Some(b.data()), self.dims(), rows, x.data()),
            )
        };
        // A check evaluates a layer at the same point many times (the guards, every rule, the
        // report): within one check the output is remembered, keyed by the ids of `W`, `b` and
        // `x`, which name their values.
        if self.w.len() < FORWARD_MEMO_MIN {
            return y();
        }
        match remembered(Memo::LinearForward, &[self.w.id(), self.b.id(), x.id()], y) {
            Some(memo) => memo.as_ref().clone(),
            None => y(),
        }
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let (rows, out) = self.layout(x.shape())?;
        dx.expect_shape(x.shape(), "Linear jvp: dx")?;
        let w = self.w.lifted::<S>();
        Tensor::new(
            out,
            affine_rows(w.data(), None, self.dims(), rows, dx.data()),
        )
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.dims();
        let (rows, out) = self.layout(x.shape())?;
        dy.expect_shape(&out, "Linear vjp: δ")?;
        let w = self.w.lifted::<S>();
        let d = dy.data();
        let dx = (0..rows)
            .flat_map(|r| S::transpose_mat_vec(w.data(), m, n, &d[r * m..(r + 1) * m]))
            .collect();
        Tensor::new(x.shape().to_vec(), dx)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let [w, b] = <[_; 2]>::try_from(split_params(params, &[self.w.shape(), self.b.shape()])?)
            .expect("two shapes give two parts");
        let (rows, out) = self.layout(x.shape())?;
        let y = affine_rows(w.data(), Some(b.data()), self.dims(), rows, x.data());
        Tensor::new(out, y)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(join_params(vec![
            self.vjp_weight(x, dy)?,
            self.vjp_bias(dy)?,
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::ops::{param_vector, WrtParams};
    use crate::planted;
    use crate::prove::prove_op_for_all_weights;
    use num_traits::Zero;

    /// `Linear(3→2)`, non-square and non-symmetric.
    fn l32() -> Linear {
        let w = t(&[2, 3], &["1", "-2", "3", "-1", "4", "2"]);
        Linear::new(w, t(&[2], &["1/2", "-3"])).unwrap()
    }

    #[test]
    fn linear_passes_and_its_parameter_gradients() {
        assert_passes(&crate::check_op!(l32(), [3], cases(64)), true);
        assert_params_pass(&l32(), t(&[3], &["1", "-1/2", "2"]), 32);
    }

    #[test]
    fn batched_linear_passes_and_its_parameter_gradients() {
        assert_passes(&crate::check_op!(l32(), [2, 2, 3], cases(16)), true);
        let x = t(&[2, 3], &["1", "-1/2", "2", "0", "3", "-1"]);
        assert_params_pass(&l32(), x, 32);
    }

    #[test]
    fn a_batch_is_its_rows_mapped_one_by_one_and_its_parameter_gradients_add() {
        let x = t(&[2, 1, 3], &["1", "-1/2", "2", "0", "3", "-1"]);
        let dy = t(&[2, 1, 2], &["1", "-2", "1/2", "3"]);
        let row = |v: &Tensor<Q>, r: usize, n: usize| {
            Tensor::from_vec(v.data()[r * n..(r + 1) * n].to_vec())
        };
        let y = OpSpec::<Q>::forward(&l32(), &x).unwrap();
        assert_eq!(y.shape(), [2, 1, 2]);
        let mut sum = Tensor::zeros(&[8]).unwrap();
        for r in 0..2 {
            let (xr, dr) = (row(&x, r, 3), row(&dy, r, 2));
            assert_eq!(OpSpec::<Q>::forward(&l32(), &xr).unwrap(), row(&y, r, 2));
            let g = OpSpec::<Q>::vjp(&l32(), &x, &dy).unwrap();
            assert_eq!(OpSpec::<Q>::vjp(&l32(), &xr, &dr).unwrap(), row(&g, r, 3));
            sum = sum.add(&l32().vjp_params(&xr, &dr).unwrap()).unwrap();
        }
        assert_eq!(l32().vjp_params(&x, &dy).unwrap(), sum);
    }

    #[test]
    fn bad_and_overflowing_input_shapes_are_typed_errors() {
        let mismatch = |input: Vec<usize>| Error::ShapeMismatch {
            op: "Linear".into(),
            context: "input".into(),
            left: input,
            right: vec![3],
        };
        for input in [vec![], vec![2, 4], vec![3, 2]] {
            assert_eq!(l32().output_shape(&input).err(), Some(mismatch(input)));
        }
        assert_eq!(l32().output_shape(&[0, 3]).unwrap(), [0, 2]);
        let overflow = |quantity, shape: &[usize]| Error::SizeOverflow {
            op: "Linear(3→2)".into(),
            quantity,
            shape: shape.to_vec(),
        };
        let rows = [1 << 40, 1 << 40, 3];
        assert_eq!(
            l32().output_shape(&rows).err(),
            Some(overflow("rows", &rows))
        );
        // 2⁶³ rows fit; 2⁶³·2 outputs do not.
        let out = [1 << 63, 3];
        assert_eq!(
            l32().output_shape(&out).err(),
            Some(overflow("output size", &out))
        );
    }

    planted!(FirstSampleOnly(Linear), fn vjp_params(&l, x, dy) {
        // ∂W and ∂b from the first row only: the sum over the batch forgotten.
        let (m, n) = l.dims();
        let x0 = Tensor::new(vec![n], x.data()[..n].to_vec())?;
        let d0 = Tensor::new(vec![m], dy.data()[..m].to_vec())?;
        l.vjp_params(&x0, &d0)
    });

    #[test]
    fn planted_batched_linear_parameter_gradient_from_the_first_sample() {
        let x = t(&[2, 3], &["1", "-1/2", "2", "0", "3", "-1"]);
        let c = caught_params(&FirstSampleOnly(l32()), x);
        assert_cx(&c, VJP, &[4], "0", "3");
    }

    planted!(SquareStride(Linear), fn vjp(&l, _x, dy) {
        // vjpⱼ = Σᵢ W.data[i·m + j]·δᵢ: the row stride is the output size, right for square W.
        let (m, n) = l.dims();
        let w = l.weight().lifted::<S>();
        let v = (0..n).map(|j| (0..m).fold(S::zero(), |acc, i| acc.add_ref(&w.data()[i * m + j].mul_ref(&dy.data()[i]))));
        Ok(Tensor::from_vec(v.collect()))
    });

    #[test]
    fn planted_linear_vjp_with_the_square_stride() {
        assert_cx(&caught(&SquareStride(l32()), &[3]), VJP, &[0], "3", "-1");
    }

    planted!(DoubledBias(Linear), fn vjp_params(&l, x, dy) {
        // ∂b = 2δ: the bias gradient added twice.
        let g = l.vjp_params(x, dy)?;
        let nw = g.len() - dy.len();
        let g = g.data().iter().enumerate();
        Ok(Tensor::from_vec(g.map(|(k, v)| if k < nw { v.clone() } else { v.add_ref(v) }).collect()))
    });

    #[test]
    fn planted_linear_bias_gradient_doubled() {
        // Only that the check fails, at a bias entry, with the doubled and the correct value:
        // the check that catches it may change as `check_op` learns parameters.
        let op = DoubledBias(l32());
        let c = crate::check::check_at(
            &WrtParams::new(&op, t(&[3], &["1", "-1/2", "2"])),
            &param_vector(&op),
            &fixed(),
        )
        .unwrap_err();
        let c = c.counterexample().expect("a violated identity");
        assert!(matches!(c.coordinate[..], [6] | [7]), "{c}");
        let (rule, reference) = (q(&c.rule), q(&c.reference));
        assert!(!reference.is_zero(), "{c}");
        assert_eq!(rule, &reference + &reference, "{c}");
    }

    fn rebuilt(p: &[Tensor<Q>]) -> Result<Linear> {
        Linear::new(p[0].clone(), p[1].clone())
    }

    #[test]
    fn linear_proved_for_every_input_and_every_weight() {
        assert_eq!(crate::prove_op!(l32(), [3]).symbols.masks, 0);
        let c = prove_op_for_all_weights(&l32(), rebuilt, &[3], &Default::default()).unwrap();
        assert_eq!((c.symbols.inputs, c.symbols.weights), (3, 8));
    }

    #[test]
    fn planted_square_stride_fails_as_a_proof_with_a_point() {
        let rebuild = |p: &[Tensor<Q>]| Ok(SquareStride(rebuilt(p)?));
        let e = prove_op_for_all_weights(&SquareStride(l32()), rebuild, &[3], &Default::default());
        let Err(Error::ProofFailed(f)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (f.identity.as_str(), f.coordinate.as_str()),
            ("vjp(x, δ) = Df(x)ᵀ·δ", "input [0]")
        );
        assert_eq!(f.counterexample.expect("the point check fails").check, VJP);
    }

    #[test]
    fn planted_doubled_bias_gradient_fails_as_a_proof() {
        let Err(Error::ProofFailed(f)) = crate::prove::prove_op(&DoubledBias(l32()), &[3]) else {
            panic!("the doubled bias gradient was proved")
        };
        assert_eq!(f.identity, "vjp_params(x, δ) = (∂f/∂θ)ᵀ·δ");
        assert!(f.coordinate.ends_with("bias[0]"), "{f}");
        assert!(f.counterexample.is_some(), "{f}");
    }
}
