//! The `OpSpec` abstraction (forward / JVP / VJP), its composition by the chain rule, and the
//! primitive ops, one file each.
//!
//! An op is a value (its parameters stored once, exactly, as `Tensor<Q>`) that implements
//! [`OpSpec<S>`] once, generically, for every [`Scalar`](crate::Scalar) `S`: the same op is
//! evaluated over `Q` for verdicts, over `Dual<Q>` and `Jet<Q>` for reference derivatives and
//! over `f64` for comparisons. The checks ask for [`Checkable`], which every such op is.
//!
//! The contract covers parameters too: an op names its parameter tensors ([`Op::params`]) and
//! gives their rules ([`OpSpec::vjp_params`], [`OpSpec::jvp_params`], or the forward-mode
//! defaults of [`derived`]), and composition ([`Then`], [`Residual`], [`Sequential`],
//! `tape::Graph`) chains them, so a composed network's parameter gradients are checked in one
//! call.

#[macro_use]
mod delegate;

mod abs;
#[cfg(test)]
mod accessors;
mod add;
mod avg_pool;
mod batch_matmul;
mod broadcast_add;
mod broadcast_mul;
mod clamp;
mod compose;
mod concat;
mod contract;
mod conv1d;
mod conv2d;
mod coordinate_guards;
mod cross_entropy;
mod deep_mlp;
pub mod derived;
mod div;
mod elementwise;
mod elu;
mod exp;
mod flatten;
mod gather;
mod gelu;
mod huber_loss;
mod hypothesis;
mod identity;
mod l1_loss;
mod leaky_relu;
mod linear;
mod log;
mod log_softmax;
mod loss_reduction;
mod mat_vec;
mod max_pool;
mod mean;
mod mlp;
mod mlp_mse;
mod mse_loss;
mod mul;
#[cfg(test)]
mod names;
mod pad;
mod params;
mod piecewise;
mod pointwise;
mod polynomial;
mod pool_window;
mod power;
mod reduce;
mod relu;
mod reshape;
mod residual;
mod sequential;
mod sigmoid;
mod silu;
mod slice;
mod softmax;
mod softplus;
mod softsign;
mod stacked;
mod sum;
mod tanh;
#[cfg(test)]
pub(crate) mod test_support;
mod transpose;

pub use abs::Abs;
pub use add::Add;
pub use avg_pool::AvgPool2d;
pub use batch_matmul::BatchMatMul;
pub use broadcast_add::BroadcastAdd;
pub use broadcast_mul::BroadcastMul;
pub use clamp::Clamp;
pub use compose::{Compose, Then};
pub use concat::Concat;
pub use contract::{param_vector, Checkable, CheckableOver, Exact, Guard, Op, OpSpec, Param};
pub use conv1d::Conv1d;
pub use conv2d::Conv2d;
pub use cross_entropy::{CrossEntropy, Reduction};
pub use deep_mlp::{DeepKinkRadius, DeepMlp, DeepMlpOp};
pub use div::Div;
pub use elementwise::{Elementwise, ScalarFn};
pub use elu::Elu;
pub use exp::Exp;
pub use flatten::Flatten;
pub use gelu::GeluTanh;
pub use hypothesis::no_kinks;

pub use huber_loss::HuberLoss;
pub use identity::Identity;
pub use l1_loss::L1Loss;
pub use leaky_relu::LeakyRelu;
pub use linear::Linear;
pub use log::Log;
pub use log_softmax::LogSoftmax;
pub use mat_vec::MatVec;
pub use max_pool::MaxPool2d;
pub use mean::Mean;
pub use mlp::{Mlp, MlpOp};
pub use mlp_mse::{MlpMse, MseGradients};
pub use mse_loss::MseLoss;
pub use mul::Mul;
pub use pad::Pad;
pub use params::WrtParams;
pub use polynomial::Polynomial;
pub use power::Power;
pub use reduce::Reduce;
pub use relu::{relu_deriv_spec, Relu};
pub use reshape::Reshape;
pub use residual::Residual;
pub use sequential::Sequential;
pub use sigmoid::Sigmoid;
pub use silu::Silu;
pub use slice::Slice;
pub use softmax::Softmax;
pub use softplus::Softplus;
pub use softsign::Softsign;
pub use stacked::stack;
pub use sum::Sum;
pub use tanh::Tanh;
pub use transpose::Transpose;

/// [`crate::Error::ShapeMismatch`] unless `x` has the shape `expected`; `context` names the op.
pub(crate) fn expect_input(x: &[usize], expected: &[usize], context: &str) -> crate::Result<()> {
    if x == expected {
        Ok(())
    } else {
        Err(crate::Error::shape_mismatch(
            &format!("{context}: input"),
            x.to_vec(),
            expected.to_vec(),
        ))
    }
}
