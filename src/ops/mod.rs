//! The `OpSpec` abstraction (forward / JVP / VJP), its composition by the chain rule, and the
//! primitive ops, one file each.
//!
//! An op is a value (its parameters stored once as `Tensor<P>`) that implements
//! [`OpSpec<S>`] for every scalar `S` able to [`Lift`](crate::scalar::Lift) its parameters, so the
//! same op is evaluated over `Q` for verdicts, over `Dual<Q>` for reference derivatives and over
//! `f64` for comparisons.

mod abs;
mod add;
mod batch_matmul;
mod broadcast_add;
mod clamp;
mod compose;
mod concat;
mod conv1d;
mod conv2d;
mod coordinate_guards;
mod deep_mlp;
mod div;
mod elementwise;
mod flatten;
mod gather;
mod huber_loss;
mod identity;
mod l1_loss;
mod leaky_relu;
mod linear;
mod mat_vec;
mod max_pool;
mod mean;
mod mlp;
mod mlp_mse;
mod mse_loss;
mod mul;
mod params;
mod polynomial;
mod power;
mod relu;
mod reshape;
mod residual;
mod slice;
mod softsign;
mod stacked;
mod sum;
mod transpose;

pub use abs::Abs;
pub use add::Add;
pub use batch_matmul::BatchMatMul;
pub use broadcast_add::BroadcastAdd;
pub use clamp::Clamp;
pub use compose::{Compose, Then};
pub use concat::Concat;
pub use conv1d::Conv1d;
pub use conv2d::Conv2d;
pub use deep_mlp::{DeepKinkRadius, DeepMlp};
pub use div::Div;
pub use elementwise::{Elementwise, ScalarFn};
pub use flatten::Flatten;
pub use huber_loss::HuberLoss;
pub use identity::Identity;
pub use l1_loss::L1Loss;
pub use leaky_relu::LeakyRelu;
pub use linear::Linear;
pub use mat_vec::MatVec;
pub use max_pool::MaxPool2d;
pub use mean::Mean;
pub use mlp::Mlp;
pub use mlp_mse::{MlpMse, MseGradients};
pub use mse_loss::MseLoss;
pub use mul::Mul;
pub use params::{Parametrized, WrtParams};
pub use polynomial::Polynomial;
pub use power::Power;
pub use relu::{relu_deriv_spec, Relu};
pub use reshape::Reshape;
pub use residual::Residual;
pub use slice::Slice;
pub use softsign::Softsign;
pub use stacked::stack;
pub use sum::Sum;
pub use transpose::Transpose;

use crate::error::{Error, Result};
use crate::scalar::{Ordered, Ring};
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// A differentiable op with its derivative rules — Lean's `Spec.OpSpec`.
///
/// * `forward(x)` is the function `f`;
/// * `jvp(x, dx)` must equal `Df(x)·dx` (forward mode);
/// * `vjp(x, δ)` must equal `Df(x)ᵀ·δ` (reverse mode, "backward").
///
/// The checks in [`crate::check`] verify the last two exactly, computing `Df(x)` without calling
/// either rule. Every method returns a typed error on bad shapes instead of panicking.
pub trait OpSpec<S: Ring>: Op {
    /// `f(x)`.
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>>;

    /// `Df(x)·dx`, the rule under test in forward mode.
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>>;

    /// `Df(x)ᵀ·δ`, the rule under test in reverse mode.
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>;

    /// The pre-activations whose signs select the smooth piece that contains `x` (for ReLU, its
    /// input coordinates). A zero among them is a kink: the derivative does not exist there.
    /// Smooth ops have none.
    fn guards(&self, _x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(Vec::new())
    }
}

/// What an op is independently of the scalar it is evaluated over: its name, shapes and kind.
pub trait Op {
    /// A short name for reports, e.g. `"Linear(3→4)"`.
    fn name(&self) -> String;

    /// The output shape for an input of shape `input`, or [`crate::Error::ShapeMismatch`].
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>>;

    /// Whether `f` is affine on each piece (Linear, ReLU and their compositions), so that exact
    /// difference quotients inside a kink-free box equal the derivative.
    fn is_piecewise_linear(&self) -> bool {
        false
    }

    /// How many primitive ops this op chains (1 for a primitive); used to number layers.
    fn depth(&self) -> usize {
        1
    }

    /// Guards at layers `1..=certified_guard_layers()` are affine functions of this op's input
    /// on the current piece, so [`crate::check::kink_radius`] can certify an exact radius for
    /// them. By default: every layer of a piecewise-linear op, and the first layer of any other
    /// op (a primitive's guards are affine in its own input). Return 0 when even that fails.
    fn certified_guard_layers(&self) -> usize {
        if self.is_piecewise_linear() {
            self.depth()
        } else {
            1
        }
    }
}

/// A pre-activation of a piecewise op at the current point: its sign must not change for the op
/// to stay on one smooth piece.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard<S> {
    /// 1-based position of the op in the composed network.
    pub layer: usize,
    /// The op's name.
    pub op: String,
    /// The multi-index within that op's input.
    pub coordinate: Vec<usize>,
    /// The pre-activation's value.
    pub value: S,
}

/// The no-kinks hypothesis: every guard of `op` at `x` is non-zero. Returns the guards, or
/// [`Error::Kink`] naming the layer and coordinate of the first zero.
pub fn no_kinks<S: Ordered, O: OpSpec<S>>(op: &O, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
    let guards = op.guards(x)?;
    if let Some(g) = guards.iter().find(|g| g.value.sign() == Ordering::Equal) {
        return Err(Error::Kink {
            layer: g.layer,
            op: g.op.clone(),
            coordinate: g.coordinate.clone(),
        });
    }
    Ok(guards)
}

/// Ops by reference are ops, so compositions can borrow their parts.
impl<O: Op + ?Sized> Op for &O {
    fn name(&self) -> String {
        (**self).name()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        (**self).output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        (**self).is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        (**self).depth()
    }
    fn certified_guard_layers(&self) -> usize {
        (**self).certified_guard_layers()
    }
}

impl<S: Ring, O: OpSpec<S> + ?Sized> OpSpec<S> for &O {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        (**self).guards(x)
    }
}

/// [`crate::Error::ShapeMismatch`] unless `x` has the shape `expected`; `context` names the op.
pub(crate) fn expect_input(x: &[usize], expected: &[usize], context: &str) -> Result<()> {
    if x == expected {
        Ok(())
    } else {
        Err(crate::Error::ShapeMismatch {
            context: format!("{context}: input"),
            left: x.to_vec(),
            right: expected.to_vec(),
        })
    }
}
