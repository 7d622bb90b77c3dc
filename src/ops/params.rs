//! Ops with parameters: their derivative rules with respect to the parameters, and an adapter
//! that makes "the op as a function of its parameters" an op, so every check applies to it.

use super::{Guard, Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::{Lift, Ring};
use crate::tensor::Tensor;

/// An op with parameters `θ` (flattened in a documented order), and its rules with respect to
/// them, evaluated at the op's own parameters.
pub trait Parametrized<S: Ring>: OpSpec<S> {
    /// The parameters, flattened into one vector (order documented by each op).
    fn params(&self) -> Tensor<S>;

    /// `f_θ(x)` for the given flattened parameters `θ` — the reference side: the checks evaluate
    /// it over dual numbers to get `∂f/∂θ` without calling the rules below.
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>>;

    /// `(∂f/∂θ)·dθ` at the op's parameters.
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>>;

    /// `(∂f/∂θ)ᵀ·δ` at the op's parameters (the parameter gradients, flattened).
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>;
}

/// `θ ↦ f_θ(x)` for a fixed input `x`: the op seen as a function of its parameters.
///
/// Its input is the flattened parameter vector, and its rules are the op's parameter rules, so
/// [`crate::check::adjoint`] and [`crate::check::jacobian`] check parameter gradients exactly
/// like input gradients. The rules are evaluated at the op's own parameters, so the point given
/// to `jvp`/`vjp` must be [`Parametrized::params`] (anything else is an error).
#[derive(Clone, Debug)]
pub struct WrtParams<'a, O, P> {
    op: &'a O,
    x: Tensor<P>,
    param_count: usize,
}

impl<'a, O, P: Ring + Lift<P>> WrtParams<'a, O, P> {
    /// The op `op` as a function of its parameters at input `x`.
    pub fn new(op: &'a O, x: Tensor<P>) -> Self
    where
        O: Parametrized<P>,
    {
        let param_count = op.params().len();
        WrtParams { op, x, param_count }
    }
}

impl<'a, O: Op, P> Op for WrtParams<'a, O, P> {
    fn name(&self) -> String {
        format!("{} w.r.t. parameters", self.op.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        super::expect_input(input, &[self.param_count], "parameters")?;
        self.op.output_shape(self.x.shape())
    }
    /// The guards are reported (so a point on a kink is refused) but not as functions of the
    /// parameters, so no radius in parameter space is certified.
    fn certified_guard_layers(&self) -> usize {
        0
    }
}

impl<'a, O, P: Clone + 'static> WrtParams<'a, O, P> {
    fn at_own_params<S: Ring + Lift<P>>(&self, params: &Tensor<S>) -> Result<Tensor<S>>
    where
        O: Parametrized<S>,
    {
        if *params != self.op.params() {
            return Err(Error::Malformed(
                "parameter rules are evaluated at the op's own parameters; pass op.params()".into(),
            ));
        }
        Ok(self.x.lift())
    }
}

impl<'a, O, P, S> OpSpec<S> for WrtParams<'a, O, P>
where
    P: Clone + 'static,
    S: Ring + Lift<P>,
    O: Parametrized<S>,
{
    fn forward(&self, params: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.forward_with_params(params, &self.x.lift())
    }
    fn jvp(&self, params: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.jvp_params(&self.at_own_params(params)?, dparams)
    }
    fn vjp(&self, params: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.vjp_params(&self.at_own_params(params)?, dy)
    }
    /// The op's guards at `x` and its own parameters: a zero among them is a kink of `θ ↦ f_θ(x)`
    /// too, so every parameter check refuses the point instead of judging a rule there.
    fn guards(&self, _params: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.op.guards(&self.x.lift())
    }
}

/// Splits a flattened parameter vector into consecutive tensors of the given shapes.
pub(crate) fn split_params<S: Clone>(
    params: &Tensor<S>,
    shapes: &[&[usize]],
) -> Result<Vec<Tensor<S>>> {
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    params.expect_shape(&[total], "parameter vector")?;
    let mut rest = params.data();
    shapes
        .iter()
        .map(|shape| {
            let (head, tail) = rest.split_at(shape.iter().product());
            rest = tail;
            Tensor::new(shape.to_vec(), head.to_vec())
        })
        .collect()
}

/// Concatenates tensors into one flattened parameter vector.
pub(crate) fn join_params<S: Clone>(parts: &[&Tensor<S>]) -> Tensor<S> {
    Tensor::from_vec(
        parts
            .iter()
            .flat_map(|t| t.data().iter().cloned())
            .collect(),
    )
}
