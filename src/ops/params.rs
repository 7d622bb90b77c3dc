//! The op as a function of its parameters ([`WrtParams`]), so every check applies to parameter
//! gradients, and the flat parameter vector's splitting.

use super::{param_vector, Guard, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `θ ↦ f_θ(x)` for a fixed input `x`: the op seen as a function of its flat parameter vector.
///
/// Its input is the flat parameter vector, and its rules are the op's parameter rules, so
/// [`crate::check::adjoint`] and [`crate::check::jacobian`] check parameter gradients exactly
/// like input gradients. The rules are evaluated at the op's own parameters, so the point given
/// to `jvp`/`vjp` must be [`param_vector`] of the op ([`Error::NotOwnParameters`] otherwise).
#[derive(Clone, Debug)]
pub struct WrtParams<'a, O: ?Sized> {
    op: &'a O,
    x: Tensor<Q>,
    param_count: usize,
}

impl<'a, O: Op + ?Sized> WrtParams<'a, O> {
    /// The op `op` as a function of its parameters at input `x`.
    pub fn new(op: &'a O, x: Tensor<Q>) -> Self {
        let param_count = op.param_count();
        WrtParams { op, x, param_count }
    }

    /// The op's own parameters: the point at which the parameter rules are checked.
    pub fn point<S: Scalar>(&self) -> Tensor<S> {
        param_vector(self.op)
    }

    /// Names entry `index` of the flat parameter vector by layer, op, tensor and multi-index,
    /// e.g. `"layer 3 Conv2d(1→2, 3×3) weight[0, 1, 2, 2]"`.
    pub fn name_coordinate(&self, index: usize) -> Option<String> {
        Param::name_flat(&self.op.params(), index)
    }
}

impl<O: Op + ?Sized> Op for WrtParams<'_, O> {
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

impl<O: Op + ?Sized> WrtParams<'_, O> {
    fn at_own_params<S: Scalar>(&self, params: &Tensor<S>) -> Result<Tensor<S>> {
        if *params != param_vector::<S, _>(self.op) {
            return Err(Error::NotOwnParameters { op: self.op.name() });
        }
        Ok(self.x.lift())
    }
}

impl<S: Scalar, O: OpSpec<S> + ?Sized> OpSpec<S> for WrtParams<'_, O> {
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

/// Splits a flat parameter vector into consecutive tensors of the given shapes (an op's own
/// parameter tensors), sharing its values (no copy).
pub(crate) fn split_params<S: Clone>(
    params: &Tensor<S>,
    shapes: &[&[usize]],
) -> Result<Vec<Tensor<S>>> {
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    params.expect_shape(&[total], "parameter vector")?;
    let mut at = 0;
    shapes
        .iter()
        .map(|shape| {
            let n: usize = shape.iter().product();
            at += n;
            params.part(at - n..at, shape.to_vec())
        })
        .collect()
}

/// Splits a flat vector of `total` parameters into the first `first` and the rest (a
/// composition's parts), sharing its values (no copy).
pub(crate) fn split_at_count<S: Clone>(
    params: &Tensor<S>,
    first: usize,
    total: usize,
) -> Result<[Tensor<S>; 2]> {
    params.expect_shape(&[total], "parameter vector")?;
    Ok([
        params.part(0..first, vec![first])?,
        params.part(first..total, vec![total - first])?,
    ])
}

/// Concatenates tensors into one flat parameter vector. The first part's values are moved,
/// not copied, when nothing else shares them: it is usually the large one (a weight gradient
/// before its bias, the first layers of a network before the last).
pub(crate) fn join_params<S: Clone>(parts: Vec<Tensor<S>>) -> Tensor<S> {
    let total = parts.iter().map(Tensor::len).sum::<usize>();
    let mut parts = parts.into_iter();
    let mut data = parts.next().map(Tensor::into_data).unwrap_or_default();
    // One exact growth (in place when the allocator can) instead of doubling per part.
    data.reserve_exact(total - data.len());
    for part in parts {
        data.extend_from_slice(part.data());
    }
    Tensor::from_vec(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::kink_radius;
    use crate::ops::test_support::t;
    use crate::ops::{Clamp, Compose, Linear, Relu};

    /// The guards of `θ ↦ f_θ(x)` are reported at the op's own parameters, not as functions of
    /// θ, so their gradient in θ is unknown: a radius computed from them (here unbounded, while
    /// Clamp's guard `x − hi` reaches 0 at distance 1/2 in `hi`) must be refused, not certified.
    #[test]
    fn no_kink_radius_is_certified_in_parameter_space() {
        let op = Clamp::hardtanh();
        let wrt = WrtParams::new(&op, t(&[1], &["1/2"]));
        let answer = kink_radius(&wrt, &wrt.point::<Q>());
        assert!(
            matches!(&answer, Err(Error::RadiusNotCertified { layer: 1, .. })),
            "{:?}",
            answer.map(|r| r.radius)
        );
    }

    #[test]
    fn parameter_vectors_split_and_join_in_order() {
        let theta = t(&[5], &["1", "2", "3", "4", "5"]);
        let parts = split_params(&theta, &[&[2, 1], &[0], &[3]]).unwrap();
        assert_eq!(
            parts,
            [
                t(&[2, 1], &["1", "2"]),
                t(&[0], &[]),
                t(&[3], &["3", "4", "5"])
            ]
        );
        let [a, b] = split_at_count(&theta, 0, 5).unwrap();
        assert_eq!((a, &b), (t(&[0], &[]), &theta));
        // A first part with no parameters (an activation before a layer) joins as nothing.
        let joined = join_params(vec![t(&[0], &[]), b, t(&[1], &["6"])]);
        assert_eq!(joined, t(&[6], &["1", "2", "3", "4", "5", "6"]));
        assert_eq!(join_params::<Q>(Vec::new()), t(&[0], &[]));
    }

    /// An op without parameters before one with them: the composition's parameter gradient is
    /// the second op's alone.
    #[test]
    fn a_parameter_gradient_through_an_op_without_parameters() {
        let lin = Linear::new(t(&[1, 2], &["2", "-1"]), t(&[1], &["1"])).unwrap();
        let net = Relu.then(&lin);
        let x = t(&[2], &["3", "-1"]);
        let grad = net.vjp_params(&x, &t(&[1], &["5"])).unwrap();
        // relu(x) = (3, 0): ∂/∂W = 5·(3, 0), ∂/∂b = 5.
        assert_eq!(grad, t(&[3], &["15", "0", "5"]));
    }
}
