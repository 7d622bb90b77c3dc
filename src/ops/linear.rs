//! The affine layer `W·x + b` — Lean's `Spec.linear_spec`.

use super::params::{join_params, split_params};
use super::{expect_input, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = W·x + b` with `W` of shape `[m, n]` and `b` of shape `[m]`.
///
/// Rules: `jvp = W·dx`, `vjp = Wᵀ·δ`; with respect to the parameters (flattened as `W`
/// row-major, then `b`): `∂W = δ·xᵀ`, `∂b = δ`.
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

    fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (m, n) = self.dims();
        expect_input(input, &[n], "Linear")?;
        Ok(vec![m])
    }
}

impl Linear {
    /// The gradient with respect to `W`: `δ·xᵀ`, shape `[m, n]`.
    pub fn vjp_weight<S: Scalar>(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.dims();
        expect_input(x.shape(), &[n], "Linear vjp_weight")?;
        dy.expect_shape(&[m], "Linear vjp_weight: δ")?;
        Ok(dy.outer(x))
    }

    /// The gradient with respect to `b`: `δ`.
    pub fn vjp_bias<S: Scalar>(&self, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(&[self.dims().0], "Linear vjp_bias: δ")?;
        Ok(dy.clone())
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
        self.w.lifted::<S>().linear(&self.b.lifted::<S>(), x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        self.w.lifted::<S>().mat_vec_mul(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        self.w.lifted::<S>().transpose_mat_vec_mul(dy)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let [w, b] = <[_; 2]>::try_from(split_params(params, &[self.w.shape(), self.b.shape()])?)
            .expect("two shapes give two parts");
        w.linear(&b, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(join_params(&[
            &self.vjp_weight(x, dy)?,
            &self.vjp_bias(dy)?,
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
