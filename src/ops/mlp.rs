//! The 2-layer MLP of the reference page: Linear → ReLU → Linear (`mlpVec`), its closed-form
//! derivative (`mlpDeriv`) and its parameter gradients.

use super::params::{join_params, split_params};
use super::{Compose, Guard, Linear, Op, OpSpec, Parametrized, Relu, Then};
use crate::error::{Error, Result};
use crate::scalar::{Lift, Ordered};
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// `mlpVec(x) = W2·relu(W1·x + b1) + b2`, as a composition of primitive ops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mlp<P> {
    l1: Linear<P>,
    l2: Linear<P>,
}

/// The composed op of an [`Mlp`], borrowing its layers.
pub type MlpOp<'a, P> = Then<Then<&'a Linear<P>, Relu>, &'a Linear<P>>;

impl<P: Clone + 'static> Mlp<P> {
    /// An MLP from `W1` (`[h, n]`), `b1` (`[h]`), `W2` (`[m, h]`), `b2` (`[m]`); a typed shape
    /// error otherwise.
    pub fn new(w1: Tensor<P>, b1: Tensor<P>, w2: Tensor<P>, b2: Tensor<P>) -> Result<Self> {
        Mlp::from_layers(Linear::new(w1, b1)?, Linear::new(w2, b2)?)
    }

    /// An MLP from two layers whose sizes chain.
    pub fn from_layers(l1: Linear<P>, l2: Linear<P>) -> Result<Self> {
        if l1.dims().0 != l2.dims().1 {
            return Err(Error::ShapeMismatch {
                context: "Mlp: W2's column count must equal W1's row count".into(),
                left: l1.weight().shape().to_vec(),
                right: l2.weight().shape().to_vec(),
            });
        }
        Ok(Mlp { l1, l2 })
    }

    /// The first layer `(W1, b1)`.
    pub fn layer1(&self) -> &Linear<P> {
        &self.l1
    }

    /// The second layer `(W2, b2)`.
    pub fn layer2(&self) -> &Linear<P> {
        &self.l2
    }

    /// `(in, hidden, out)`.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.l1.dims().1, self.l1.dims().0, self.l2.dims().0)
    }

    /// The network as the composition `Linear >>> ReLU >>> Linear` (Lean's spec-level MLP).
    pub fn as_op(&self) -> MlpOp<'_, P> {
        (&self.l1).then(Relu).then(&self.l2)
    }

    /// The first pre-activation `z1 = W1·x + b1`.
    pub fn z1<S: Ordered + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.l1.forward(x)
    }

    /// The ReLU mask `relu′(z1)`, or [`Error::Kink`] naming the first zero coordinate of `z1`
    /// (layer 2 of the composition).
    pub fn mask<S: Ordered + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let z1 = self.z1(x)?;
        if let Some(i) = z1.data().iter().position(|v| v.sign() == Ordering::Equal) {
            return Err(Error::Kink {
                layer: 2,
                op: "ReLU".into(),
                coordinate: vec![i],
            });
        }
        Ok(super::relu_deriv_spec(&z1))
    }

    /// `mlpDeriv(x) = W2·diag(relu′(z1))·W1` as an `[out, in]` matrix, in closed form.
    pub fn deriv<S: Ordered + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let mask = self.mask(x)?;
        let w2 = S::lift_tensor(self.l2.weight());
        let (m, h) = (w2.shape()[0], w2.shape()[1]);
        // W2·diag(mask) zeroes the columns of inactive units: m·h selections instead of h·n
        // products, and W1 goes to the matmul kernel without being copied.
        let masked = Tensor::new(
            vec![m, h],
            w2.data()
                .chunks(h.max(1))
                .flat_map(|row| {
                    row.iter().zip(mask.data()).map(|(v, k)| {
                        if k.is_zero() {
                            S::zero()
                        } else if k.is_one() {
                            v.clone()
                        } else {
                            k.mul_ref(v)
                        }
                    })
                })
                .collect(),
        )?;
        masked.matmul(&S::lift_tensor(self.l1.weight()))
    }
}

impl<P: Clone + 'static> Op for Mlp<P> {
    fn name(&self) -> String {
        let (n, h, m) = self.dims();
        format!("MLP({n}→{h}→{m})")
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.as_op().output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn depth(&self) -> usize {
        3
    }
}

impl<P: Clone + 'static, S: Ordered + Lift<P>> OpSpec<S> for Mlp<P> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.as_op().forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.as_op().jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.as_op().vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.as_op().guards(x)
    }
}

/// Parameters flattened as `W1` (row-major), `b1`, `W2` (row-major), `b2`.
impl<P: Clone + 'static, S: Ordered + Lift<P>> Parametrized<S> for Mlp<P> {
    fn params(&self) -> Tensor<S> {
        join_params(&[
            &self.l1.weight().lift(),
            &self.l1.bias().lift(),
            &self.l2.weight().lift(),
            &self.l2.bias().lift(),
        ])
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let shapes = [
            self.l1.weight().shape(),
            self.l1.bias().shape(),
            self.l2.weight().shape(),
            self.l2.bias().shape(),
        ];
        let [w1, b1, w2, b2] = <[_; 4]>::try_from(split_params(params, &shapes)?)
            .expect("four shapes give four parts");
        let h = Relu.forward(&w1.linear(&b1, x)?)?;
        w2.linear(&b2, &h)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        let (n, h, m) = self.dims();
        let [dw1, db1, dw2, db2] =
            <[_; 4]>::try_from(split_params(dparams, &[&[h, n], &[h], &[m, h], &[m]])?)
                .expect("four parts");
        let z1 = self.z1(x)?;
        let dz1 = dw1.linear(&db1, x)?;
        let dh = Relu.jvp(&z1, &dz1)?;
        let hidden = Relu.forward(&z1)?;
        S::lift_tensor(self.l2.weight())
            .mat_vec_mul(&dh)?
            .add(&dw2.linear(&db2, &hidden)?)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let z1 = self.z1(x)?;
        let hidden = Relu.forward(&z1)?;
        let dw2 = self.l2.vjp_weight(&hidden, dy)?;
        let db2 = self.l2.vjp_bias(dy)?;
        let dz1 = Relu.vjp(&z1, &self.l2.vjp(&hidden, dy)?)?;
        let dw1 = self.l1.vjp_weight(x, &dz1)?;
        let db1 = self.l1.vjp_bias(&dz1)?;
        Ok(join_params(&[&dw1, &db1, &dw2, &db2]))
    }
}
