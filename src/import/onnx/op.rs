//! The ops an imported graph is made of: the crate's primitive ops in one type, so that one
//! [`crate::tape::Graph`] can hold them all.

use crate::error::Result;
use crate::ops::{
    Abs, AvgPool2d, BroadcastAdd, BroadcastMul, Clamp, Conv1d, Conv2d, Exp, Guard, LeakyRelu,
    Linear, Log, LogSoftmax, MaxPool2d, Op, OpSpec, Pad, Param, Polynomial, Power, Reduce, Relu,
    Reshape, Sigmoid, Slice, Softmax, Tanh, Transpose,
};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// Declares [`ModelOp`] with one variant per op type, and the two views every method of the
/// contract goes through, so that no rule is restated here.
macro_rules! model_ops {
    ($($(#[$doc:meta])* $variant:ident($ty:ty)),* $(,)?) => {
        /// One op of an imported model: a primitive op of this crate, with its parameters.
        #[derive(Clone, Debug, PartialEq)]
        pub enum ModelOp {
            $($(#[$doc])* $variant($ty)),*
        }

        impl ModelOp {
            fn op(&self) -> &dyn Op {
                match self {
                    $(ModelOp::$variant(o) => o),*
                }
            }
            fn spec<S: Scalar>(&self) -> &dyn OpSpec<S> {
                match self {
                    $(ModelOp::$variant(o) => o),*
                }
            }
        }
    };
}

model_ops! {
    /// `Gemm` and `MatMul` with a constant right operand.
    Linear(Linear),
    /// 1-D `Conv`.
    Conv1d(Conv1d),
    /// 2-D `Conv`.
    Conv2d(Conv2d),
    /// `MaxPool` (1-D through a reshape to height 1).
    MaxPool2d(MaxPool2d),
    /// `AveragePool`.
    AvgPool2d(AvgPool2d),
    /// `ReduceSum`, `ReduceMean`, `GlobalAveragePool`.
    Reduce(Reduce),
    /// `Pad` with zeros, and the parts of a `Concat` of computed tensors.
    Pad(Pad),
    /// `Relu`.
    Relu(Relu),
    /// `LeakyRelu`.
    LeakyRelu(LeakyRelu),
    /// `Abs`.
    Abs(Abs),
    /// `Clip` with both bounds.
    Clamp(Clamp),
    /// `Add` and `Sub` of a constant (the bias of `MatMul` + `Add`).
    BroadcastAdd(BroadcastAdd),
    /// `Mul` and `Div` by a constant.
    BroadcastMul(BroadcastMul),
    /// `−x` (for `Sub` of computed tensors) and other polynomials.
    Polynomial(Polynomial),
    /// `1/x` (for `Div` of computed tensors).
    Power(Power),
    /// `Reshape` and `Flatten`.
    Reshape(Reshape),
    /// `Transpose`.
    Transpose(Transpose),
    /// `Slice` along one axis.
    Slice(Slice),
    /// `Sigmoid`.
    Sigmoid(Sigmoid),
    /// `Tanh`.
    Tanh(Tanh),
    /// `Softmax`.
    Softmax(Softmax),
    /// `LogSoftmax`.
    LogSoftmax(LogSoftmax),
    /// `Exp`.
    Exp(Exp),
    /// `Log`.
    Log(Log),
}

impl Op for ModelOp {
    fn name(&self) -> String {
        self.op().name()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.op().output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.op().is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        self.op().depth()
    }
    fn certified_guard_layers(&self) -> usize {
        self.op().certified_guard_layers()
    }
    fn params(&self) -> Vec<Param<'_>> {
        self.op().params()
    }
    fn param_count(&self) -> usize {
        self.op().param_count()
    }
}

impl<S: Scalar> OpSpec<S> for ModelOp {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.spec::<S>().forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.spec::<S>().jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.spec::<S>().vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.spec::<S>().guards(x)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.spec::<S>().forward_with_params(params, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.spec::<S>().jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.spec::<S>().vjp_params(x, dy)
    }
}
