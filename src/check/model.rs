//! An imported model at one point: kinks named by the model's own nodes, and the exact
//! gradients of `⟨output, δ⟩` with respect to the input and every parameter initializer.

use crate::error::{Error, Result};
use crate::import::onnx::Model;
use crate::ops::OpSpec;
use crate::scalar::{Ordered, Scalar, Q};
use crate::tensor::Tensor;
use num_traits::Zero;

/// The exact values of one backward pass through a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelGradients<S> {
    /// The output at the point.
    pub output: Tensor<S>,
    /// `∂⟨output, δ⟩/∂input`, named by the graph input.
    pub input: (String, Tensor<S>),
    /// `∂⟨output, δ⟩/∂w` for every parameter initializer, in the file's shapes.
    pub params: Vec<(String, Tensor<S>)>,
}

impl<S> ModelGradients<S> {
    /// The input gradient, then the parameter gradients.
    pub fn all(&self) -> impl Iterator<Item = &(String, Tensor<S>)> {
        std::iter::once(&self.input).chain(&self.params)
    }
}

/// The closest decision a model's pieces make at `x`: the guard of smallest absolute value (of
/// several as close, the first in the graph's order).
#[derive(Clone, Debug, PartialEq)]
pub struct Closest {
    /// The ONNX node, e.g. `"/relu/Relu (Relu)"`.
    pub node: String,
    /// The coordinate within that node's input.
    pub coordinate: Vec<usize>,
    /// The guard's value (never 0: that is a kink).
    pub value: Q,
}

/// Refuses a point on a kink of the model (a ReLU input at 0, a max-pool tie, …) with
/// [`Error::Kink`] naming the ONNX node and the coordinate; otherwise the guard closest to 0
/// (`None` when the model has no piecewise op).
pub fn model_kinks(model: &Model, x: &Tensor<Q>) -> Result<Option<Closest>> {
    let mut closest: Option<Closest> = None;
    for (node, g) in model.graph().node_guards(x)? {
        let origin = model
            .origin(node.0)
            .map(|o| format!("{:?} ({})", o.node, o.op_type))
            .unwrap_or_default();
        if g.value.is_zero() {
            return Err(Error::Kink {
                layer: node.0,
                op: format!("ONNX node {origin}, {}", g.op),
                coordinate: g.coordinate,
            });
        }
        let smaller = closest
            .as_ref()
            .is_none_or(|c| g.value.abs_val() < c.value.abs_val());
        if smaller {
            closest = Some(Closest {
                node: origin,
                coordinate: g.coordinate,
                value: g.value,
            });
        }
    }
    Ok(closest)
}

/// The output and the gradients of `⟨output, dy⟩` at `x`, computed over `S` (over `Q` they are
/// exact; over [`crate::Rounded`] they also carry the rounding bound of a float run).
pub fn model_gradients<S: Scalar>(
    model: &Model,
    x: &Tensor<Q>,
    dy: &Tensor<Q>,
) -> Result<ModelGradients<S>> {
    let g = model.graph();
    let (x, dy) = (x.lift::<S>(), dy.lift::<S>());
    x.expect_shape(model.input_shape(), "model input")?;
    dy.expect_shape(model.output_shape(), "model cotangent δ")?;
    let output = OpSpec::<S>::forward(g, &x)?;
    let input = OpSpec::<S>::vjp(g, &x, &dy)?;
    let flat = OpSpec::<S>::vjp_params(g, &x, &dy)?;
    Ok(ModelGradients {
        output,
        input: (model.input_name().to_string(), input),
        params: model.parameter_gradients(&flat)?,
    })
}
