//! A training-style scalar loss: a network followed by the mean squared error against a stored
//! target, with its gradients for every parameter and for the input — TorchLean's
//! `grad_W1_mse`, `grad_b1_mse`, `grad_W2_mse`, `grad_b2_mse`, `grad_x_mse`.

use super::{no_kinks, Guard, Mlp, Op, OpSpec, Parametrized};
use crate::error::{Error, Result};
use crate::scalar::{Lift, Scalar};
use crate::tensor::Tensor;

/// `L(x) = (1/m)·Σᵢ (f(x)ᵢ − tᵢ)²` for a network `f` with `m` outputs and a fixed target `t`;
/// the output is a scalar (shape `[]`).
///
/// Rules, with `r = f(x) − t`: `jvp = (2/m)·⟪r, Df·dx⟫`, `vjp = Dfᵀ·((2/m)·r·δ)`; with respect to
/// the network's parameters the same with `∂f/∂θ` (same flattening as the network's). The
/// network is usually an [`Mlp`] or a [`super::DeepMlp`], but any op works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpMse<N, P> {
    net: N,
    target: Tensor<P>,
}

/// The five gradients of an MLP's MSE loss, in closed form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MseGradients<S> {
    /// `∂L/∂W1 = (D1·W2ᵀ·g)·xᵀ`, `[h, n]`, with `g = (2/m)·(f(x) − t)`.
    pub w1: Tensor<S>,
    /// `∂L/∂b1 = D1·W2ᵀ·g`.
    pub b1: Tensor<S>,
    /// `∂L/∂W2 = g·relu(z1)ᵀ`, `[m, h]`.
    pub w2: Tensor<S>,
    /// `∂L/∂b2 = g`.
    pub b2: Tensor<S>,
    /// `∂L/∂x = W1ᵀ·D1·W2ᵀ·g`.
    pub x: Tensor<S>,
}

impl<N: Op, P: Clone> MlpMse<N, P> {
    /// The loss of `net` against `target`; [`Error::ShapeMismatch`] unless `target` has the
    /// network's output shape for inputs of shape `input`.
    pub fn new(net: N, target: Tensor<P>, input: &[usize]) -> Result<Self> {
        target.expect_shape(
            &net.output_shape(input)?,
            "MlpMse: the target must have the network's output shape",
        )?;
        Ok(MlpMse { net, target })
    }

    /// The network.
    pub fn net(&self) -> &N {
        &self.net
    }

    /// The target `t`.
    pub fn target(&self) -> &Tensor<P> {
        &self.target
    }
}

impl<N, P: Clone + 'static> MlpMse<N, P> {
    /// `g = (2/m)·(y − t)`: the cotangent the loss sends back into the network's output `y`.
    fn output_cotangent<S: Scalar + Lift<P>>(&self, y: &Tensor<S>) -> Result<Tensor<S>> {
        let r = y.sub(&S::lift_tensor(&self.target))?;
        let two_over_m = S::from_i64(2)
            .checked_div(&S::from_i64(r.len() as i64))
            .ok_or_else(|| Error::DivisionByZero {
                context: "MlpMse: mean over an empty output".into(),
                coordinate: vec![],
            })?;
        Ok(r.scale(&two_over_m))
    }

    /// `(1/m)·Σ (yᵢ − tᵢ)²` as a shape-`[]` tensor.
    fn loss<S: Scalar + Lift<P>>(&self, y: &Tensor<S>) -> Result<Tensor<S>> {
        let r = y.sub(&S::lift_tensor(&self.target))?;
        let mean = r
            .dot(&r)?
            .checked_div(&S::from_i64(r.len() as i64))
            .ok_or_else(|| Error::DivisionByZero {
                context: "MlpMse: mean over an empty output".into(),
                coordinate: vec![],
            })?;
        Tensor::new(vec![], vec![mean])
    }

    /// The one value of a shape-`[]` cotangent.
    fn scalar_cotangent<S: Clone>(dy: &Tensor<S>) -> Result<S> {
        dy.expect_shape(&[], "MlpMse: δ of a scalar loss")?;
        Ok(dy.data()[0].clone())
    }
}

impl<P: Clone + 'static> MlpMse<Mlp<P>, P> {
    /// All five gradients in closed form (no rule of the composed op is called), or
    /// [`Error::Kink`] when a hidden pre-activation is exactly zero.
    pub fn gradients<S: Scalar + Lift<P>>(&self, x: &Tensor<S>) -> Result<MseGradients<S>> {
        let mlp = &self.net;
        let mask = mlp.mask(x)?;
        let z1 = mlp.z1(x)?;
        let hidden = z1.hadamard(&mask)?;
        let w2 = S::lift_tensor(mlp.layer2().weight());
        let y = w2.linear(&S::lift_tensor(mlp.layer2().bias()), &hidden)?;
        let g = self.output_cotangent(&y)?;
        let b1 = mask.hadamard(&w2.transpose_mat_vec_mul(&g)?)?;
        Ok(MseGradients {
            w1: b1.outer(x),
            x: S::lift_tensor(mlp.layer1().weight()).transpose_mat_vec_mul(&b1)?,
            b1,
            w2: g.outer(&hidden),
            b2: g,
        })
    }

    /// `∂L/∂W1` — TorchLean's `grad_W1_mse`.
    pub fn grad_w1_mse<S: Scalar + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.w1)
    }

    /// `∂L/∂b1` — TorchLean's `grad_b1_mse`.
    pub fn grad_b1_mse<S: Scalar + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.b1)
    }

    /// `∂L/∂W2` — TorchLean's `grad_W2_mse`.
    pub fn grad_w2_mse<S: Scalar + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.w2)
    }

    /// `∂L/∂b2` — TorchLean's `grad_b2_mse`.
    pub fn grad_b2_mse<S: Scalar + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.b2)
    }

    /// `∂L/∂x` — TorchLean's `grad_x_mse`.
    pub fn grad_x_mse<S: Scalar + Lift<P>>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.x)
    }
}

impl<N: Op, P> Op for MlpMse<N, P> {
    fn name(&self) -> String {
        format!("MSE({})", self.net.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.net.output_shape(input)?;
        Ok(vec![])
    }
    fn depth(&self) -> usize {
        self.net.depth() + 1
    }
}

impl<N, P, S> OpSpec<S> for MlpMse<N, P>
where
    N: OpSpec<S>,
    P: Clone + 'static,
    S: Scalar + Lift<P>,
{
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.loss(&self.net.forward(x)?)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let g = self.output_cotangent(&self.net.forward(x)?)?;
        Tensor::new(vec![], vec![g.dot(&self.net.jvp(x, dx)?)?])
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = Self::scalar_cotangent(dy)?;
        let g = self.output_cotangent(&self.net.forward(x)?)?;
        self.net.vjp(x, &g.scale(&d))
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.net.guards(x)
    }
}

/// The network's parameters, in the network's order (for an [`Mlp`]: `W1`, `b1`, `W2`, `b2`).
/// The parameter rules return [`Error::Kink`] at a point where a guard of the network is zero.
impl<N, P, S> Parametrized<S> for MlpMse<N, P>
where
    N: Parametrized<S>,
    P: Clone + 'static,
    S: Scalar + Lift<P>,
{
    fn params(&self) -> Tensor<S> {
        self.net.params()
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.loss(&self.net.forward_with_params(params, x)?)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        no_kinks(&self.net, x)?;
        let g = self.output_cotangent(&self.net.forward(x)?)?;
        Tensor::new(vec![], vec![g.dot(&self.net.jvp_params(x, dparams)?)?])
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        no_kinks(&self.net, x)?;
        let d = Self::scalar_cotangent(dy)?;
        let g = self.output_cotangent(&self.net.forward(x)?)?;
        self.net.vjp_params(x, &g.scale(&d))
    }
}
