//! A training-style scalar loss: a network followed by the mean squared error against a stored
//! target (the composition `net >>> MseLoss`), with the closed forms of its gradients for every
//! parameter and for the input — TorchLean's `grad_W1_mse`, `grad_b1_mse`, `grad_W2_mse`,
//! `grad_b2_mse`, `grad_x_mse`.

use super::{Compose, Guard, Mlp, MseLoss, Op, OpSpec, Param, Then};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `L(x) = (1/m)·Σᵢ (f(x)ᵢ − tᵢ)²` for a network `f` with `m` outputs and a fixed target `t`;
/// the output is a scalar (shape `[]`).
///
/// Rules, with `r = f(x) − t`: `jvp = (2/m)·⟪r, Df·dx⟫`, `vjp = Dfᵀ·((2/m)·r·δ)`; with respect to
/// the network's parameters the same with `∂f/∂θ` (same flattening as the network's). The
/// network is usually an [`Mlp`] or a [`super::DeepMlp`], but any op works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpMse<N> {
    op: Then<N, MseLoss>,
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

impl<N: Op> MlpMse<N> {
    /// The loss of `net` against `target`; [`crate::Error::ShapeMismatch`] unless `target` has the
    /// network's output shape for inputs of shape `input`.
    pub fn new(net: N, target: Tensor<Q>, input: &[usize]) -> Result<Self> {
        target.expect_shape(
            &net.output_shape(input)?,
            "MlpMse: the target must have the network's output shape",
        )?;
        Ok(MlpMse {
            op: net.then(MseLoss::new(target)),
        })
    }

    /// The network.
    pub fn net(&self) -> &N {
        &self.op.first
    }

    /// The composition `net >>> MseLoss(t)` whose rules are this loss's rules.
    pub fn as_op(&self) -> &Then<N, MseLoss> {
        &self.op
    }

    /// The target `t`.
    pub fn target(&self) -> &Tensor<Q> {
        self.op.second.target()
    }
}

impl<N> MlpMse<N> {
    /// `g = (2/m)·(y − t)`: the cotangent the loss sends back into the network's output `y`,
    /// written out here rather than taken from `MseLoss::vjp`, so that the closed form does not
    /// depend on the rule it is checked against.
    fn output_cotangent<S: Scalar>(&self, y: &Tensor<S>) -> Result<Tensor<S>> {
        let r = y.sub(&self.op.second.target().lifted::<S>())?;
        let two_over_m = S::from_i64(2)
            .checked_div(&S::from_i64(r.len() as i64))
            .ok_or_else(|| Error::division_by_zero("MlpMse: mean over an empty output", []))?;
        Ok(r.scale(&two_over_m))
    }
}

impl MlpMse<Mlp> {
    /// All five gradients in closed form (no rule of the composed op is called), or
    /// [`crate::Error::Kink`] when a hidden pre-activation is exactly zero.
    pub fn gradients<S: Scalar>(&self, x: &Tensor<S>) -> Result<MseGradients<S>> {
        let mlp = self.net();
        let mask = mlp.mask(x)?;
        let z1 = mlp.z1(x)?;
        let hidden = z1.hadamard(&mask)?;
        let w2 = mlp.layer2().weight().lifted::<S>();
        let y = w2.linear(&mlp.layer2().bias().lifted::<S>(), &hidden)?;
        let g = self.output_cotangent(&y)?;
        let b1 = mask.hadamard(&w2.transpose_mat_vec_mul(&g)?)?;
        Ok(MseGradients {
            w1: b1.outer(x),
            x: mlp
                .layer1()
                .weight()
                .lifted::<S>()
                .transpose_mat_vec_mul(&b1)?,
            b1,
            w2: g.outer(&hidden),
            b2: g,
        })
    }

    /// `∂L/∂W1` — TorchLean's `grad_W1_mse`.
    pub fn grad_w1_mse<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.w1)
    }

    /// `∂L/∂b1` — TorchLean's `grad_b1_mse`.
    pub fn grad_b1_mse<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.b1)
    }

    /// `∂L/∂W2` — TorchLean's `grad_W2_mse`.
    pub fn grad_w2_mse<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.w2)
    }

    /// `∂L/∂b2` — TorchLean's `grad_b2_mse`.
    pub fn grad_b2_mse<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.b2)
    }

    /// `∂L/∂x` — TorchLean's `grad_x_mse`.
    pub fn grad_x_mse<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.gradients(x)?.x)
    }
}

impl<N: Op> Op for MlpMse<N> {
    fn name(&self) -> String {
        format!("MSE({})", self.net().name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.op.output_shape(input)
    }
    // Not piecewise linear (the default): the squared residual is quadratic.
    fn depth(&self) -> usize {
        self.op.depth()
    }
    fn certified_guard_layers(&self) -> usize {
        self.op.certified_guard_layers()
    }
    fn params(&self) -> Vec<Param<'_>> {
        self.op.params()
    }
    fn param_count(&self) -> usize {
        self.op.param_count()
    }
}

/// The rules of `net >>> MseLoss(t)`; the parameters are the network's, in its order (for an
/// [`Mlp`]: `W1`, `b1`, `W2`, `b2`).
impl<N: OpSpec<S>, S: Scalar> OpSpec<S> for MlpMse<N> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.op.guards(x)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.forward_with_params(params, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.vjp_params(x, dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    use crate::ops::Linear;

    /// `MLP(2→3→2)` against the target `[1, −1/2]`.
    fn loss() -> MlpMse<Mlp> {
        let w1 = t(&[3, 2], &["1", "-1", "2", "1/2", "-1", "1"]);
        let w2 = t(&[2, 3], &["1", "2", "-1", "1/3", "-1", "1"]);
        let mlp = Mlp::from_layers(
            Linear::new(w1, t(&[3], &["0", "1", "-1/2"])).unwrap(),
            Linear::new(w2, t(&[2], &["1", "0"])).unwrap(),
        );
        MlpMse::new(mlp.unwrap(), t(&[2], &["1", "-1/2"]), &[2]).unwrap()
    }

    #[test]
    fn mlp_mse_passes_and_its_parameter_gradients() {
        assert_passes(&crate::check_op!(loss(), [2], cases(64)), false);
        assert_params_pass(&loss(), t(&[2], &["1", "-1/2"]), 32);
    }

    /// The loss describes itself as the composition `net >>> MseLoss(t)` it is.
    #[test]
    fn the_loss_has_the_composition_s_shapes_and_layers() {
        let l = loss();
        let composed = l.net().clone().then(MseLoss::new(t(&[2], &["1", "-1/2"])));
        assert_eq!((l.depth(), l.certified_guard_layers()), (4, 4));
        assert_eq!(
            (composed.depth(), composed.certified_guard_layers()),
            (4, 4)
        );
        assert_eq!(l.output_shape(&[2]), Ok(vec![]));
        assert!(l.output_shape(&[5]).is_err());
        assert!(!l.is_piecewise_linear() && !composed.is_piecewise_linear());
    }

    planted!(Ascent(MlpMse<Mlp>), fn vjp(&op, x, dy) {
        // The residual taken as t − f(x) instead of f(x) − t: the gradient's sign flipped.
        Ok(op.vjp(x, dy)?.map(|v| v.neg_ref()))
    });

    #[test]
    fn planted_mlp_mse_residual_sign_flipped() {
        assert_cx(&caught(&Ascent(loss()), &[2]), VJP, &[0], "-14", "14");
    }
}
