//! A chain of any number of ops of one type — [`super::Then`] folded over a list, for networks
//! whose depth is a run-time value.

use super::contract::stages_of;
use super::params::split_at_count;
use super::{Guard, Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `ops[0] >>> ops[1] >>> … >>> ops[k−1]`, with exactly the rules, guards, layer numbering and
/// parameter order of the nested [`super::Then`]. An empty chain is the identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequential<O> {
    ops: Vec<O>,
}

impl<O> Sequential<O> {
    /// The chain of `ops`, applied first to last.
    pub fn new(ops: Vec<O>) -> Self {
        Sequential { ops }
    }

    /// The ops, first to last.
    pub fn ops(&self) -> &[O] {
        &self.ops
    }
}

impl<O: Op> Sequential<O> {
    /// Every op's input, then the output: `values[k]` is the input of `ops[k]`.
    fn values<S: Scalar>(&self, x: &Tensor<S>) -> Result<Vec<Tensor<S>>>
    where
        O: OpSpec<S>,
    {
        let mut values = vec![x.clone()];
        for op in &self.ops {
            let next = op.forward(values.last().expect("starts with x"))?;
            values.push(next);
        }
        Ok(values)
    }

    /// Splits a flat parameter vector into the ops' parts.
    fn split<S: Scalar>(&self, params: &Tensor<S>) -> Result<Vec<Tensor<S>>> {
        let mut rest = params.clone();
        let mut total = self.param_count();
        let mut parts = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let n = op.param_count();
            let [head, tail] = split_at_count(&rest, n, total)?;
            parts.push(head);
            rest = tail;
            total -= n;
        }
        Ok(parts)
    }
}

impl<O: Op> Op for Sequential<O> {
    fn name(&self) -> String {
        let names: Vec<String> = self.ops.iter().map(Op::name).collect();
        if names.is_empty() {
            "Identity".into()
        } else {
            names.join(" >>> ")
        }
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.ops
            .iter()
            .try_fold(input.to_vec(), |shape, op| op.output_shape(&shape))
    }
    fn is_piecewise_linear(&self) -> bool {
        self.ops.iter().all(Op::is_piecewise_linear)
    }
    fn depth(&self) -> usize {
        self.ops.iter().map(Op::depth).sum()
    }
    /// As for nested [`super::Then`]: every layer up to and including the first op that is not
    /// piecewise linear (whose own certified layers count).
    fn certified_guard_layers(&self) -> usize {
        let mut layers = 0;
        for op in &self.ops {
            if !op.is_piecewise_linear() {
                return layers + op.certified_guard_layers();
            }
            layers += op.depth();
        }
        layers
    }
    fn params(&self) -> Vec<Param<'_>> {
        let mut shift = 0;
        let mut params = Vec::new();
        for op in &self.ops {
            params.extend(op.params().into_iter().map(|p| p.shifted(shift)));
            shift += op.depth();
        }
        params
    }
    fn param_count(&self) -> usize {
        self.ops.iter().map(Op::param_count).sum()
    }
}

impl<S: Scalar, O: OpSpec<S>> OpSpec<S> for Sequential<O> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.ops.iter().try_fold(x.clone(), |v, op| op.forward(&v))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let values = self.values(x)?;
        self.ops
            .iter()
            .zip(&values)
            .try_fold(dx.clone(), |t, (op, v)| op.jvp(v, &t))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let values = self.values(x)?;
        self.ops
            .iter()
            .zip(&values)
            .rev()
            .try_fold(dy.clone(), |d, (op, v)| op.vjp(v, &d))
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let values = self.values(x)?;
        let mut guards = Vec::new();
        let mut shift = 0;
        for (op, v) in self.ops.iter().zip(&values) {
            guards.extend(op.guards(v)?.into_iter().map(|g| Guard {
                layer: g.layer + shift,
                ..g
            }));
            shift += op.depth();
        }
        Ok(guards)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let parts = self.split(params)?;
        self.ops
            .iter()
            .zip(&parts)
            .try_fold(x.clone(), |v, (op, p)| op.forward_with_params(p, &v))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        let parts = self.split(dparams)?;
        let values = self.values(x)?;
        let out = self.output_shape(x.shape())?;
        let mut tangent: Option<Tensor<S>> = None;
        for ((op, v), d) in self.ops.iter().zip(&values).zip(&parts) {
            let own = op.jvp_params(v, d)?;
            tangent = Some(match tangent {
                None => own,
                Some(t) => op.jvp(v, &t)?.add(&own)?,
            });
        }
        tangent.map_or_else(|| Tensor::zeros(&out), Ok)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let values = self.values(x)?;
        let mut grads = Vec::with_capacity(self.ops.len());
        let mut d = dy.clone();
        for (op, v) in self.ops.iter().zip(&values).rev() {
            grads.push(op.vjp_params(v, &d)?);
            d = op.vjp(v, &d)?;
        }
        Ok(Tensor::from_vec(
            grads
                .into_iter()
                .rev()
                .flat_map(Tensor::into_data)
                .collect(),
        ))
    }
    fn stages(&self) -> Vec<&dyn OpSpec<S>> {
        self.ops.iter().flat_map(|op| stages_of(op)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    use crate::ops::Linear;

    /// Two `Linear(2→2)` layers whose weights do not commute.
    fn two_layers() -> Sequential<Linear> {
        let l1 = Linear::new(t(&[2, 2], &["1", "2", "0", "1"]), t(&[2], &["1/2", "0"])).unwrap();
        let l2 = Linear::new(t(&[2, 2], &["1", "0", "3", "1"]), t(&[2], &["0", "-1"])).unwrap();
        Sequential::new(vec![l1, l2])
    }

    /// Depth and piecewise linearity as for nested `Then`: the guards certified are those of
    /// every layer up to and including the first op that is not piecewise linear.
    #[test]
    fn layers_and_certified_guards_count_as_for_nested_then() {
        use crate::ops::{Compose, Relu, Sigmoid};
        let lin = two_layers().ops()[0].clone();
        let mixed = Sequential::new(vec![&lin as &dyn Op, &Relu, &Sigmoid, &Relu]);
        let then = lin.clone().then(Relu).then(Sigmoid).then(Relu);
        let summary = |op: &dyn Op| {
            (
                op.depth(),
                op.certified_guard_layers(),
                op.is_piecewise_linear(),
            )
        };
        assert_eq!(summary(&mixed), (4, 3, false));
        assert_eq!(summary(&then), (4, 3, false));
        let linear = Sequential::new(vec![&lin as &dyn Op, &Relu, &lin]);
        assert_eq!(summary(&linear), (3, 3, true));
    }

    /// Parameters and guards are numbered by the layers before their op: in
    /// `Linear >>> ReLU >>> Linear >>> ReLU`, the weights at layers 1 and 3, the guards at 2 and 4.
    #[test]
    fn parameters_and_guards_count_the_layers_before_them() {
        use crate::tape::Layer;
        let [l1, l2] = [0, 1].map(|k| two_layers().ops()[k].clone());
        let net = Sequential::new(vec![
            Layer::Linear(l1),
            Layer::Relu,
            Layer::Linear(l2),
            Layer::Relu,
        ]);
        let params: Vec<usize> = net.params().iter().map(|p| p.layer).collect();
        assert_eq!(params, [1, 1, 3, 3]);
        let guards = OpSpec::<crate::Q>::guards(&net, &t(&[2], &["1", "-1"])).unwrap();
        let layers: Vec<usize> = guards.iter().map(|g| g.layer).collect();
        assert_eq!(layers, [2, 2, 4, 4]);
    }

    #[test]
    fn sequential_passes_and_chains_the_parameter_gradients() {
        assert_passes(&crate::check_op!(two_layers(), [2], cases(64)), true);
        assert_params_pass(&two_layers(), t(&[2], &["1", "-1/2"]), 32);
    }

    planted!(ForwardOrder(Sequential<Linear>), fn vjp(&op, x, dy) {
        // The ops' VJPs chained first to last (each at its own input) instead of last to first.
        let mut inputs = vec![x.clone()];
        for o in op.ops() {
            let next = o.forward(inputs.last().expect("non-empty"))?;
            inputs.push(next);
        }
        op.ops().iter().zip(&inputs).try_fold(dy.clone(), |d, (o, v)| o.vjp(v, &d))
    });

    #[test]
    fn planted_sequential_chained_in_forward_order() {
        assert_cx(
            &caught(&ForwardOrder(two_layers()), &[2]),
            VJP,
            &[0],
            "7",
            "1",
        );
    }
}
