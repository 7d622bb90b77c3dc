//! The graph as an op: the passes over the tape (values and tangents forwards, cotangents
//! backwards with accumulation at fan-out, parameter gradients summed over shared uses).

use super::accumulate::Accumulate;
use super::graph::{Graph, Node, NodeId};
use crate::error::Result;
use crate::ops::{Guard, OpSpec};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

impl<O, A> Graph<O, A> {
    /// The value of every node up to the output, each op evaluated by `apply(op, argument)`.
    fn run_forward<S: Scalar>(
        &self,
        x: &Tensor<S>,
        apply: impl Fn(usize, &Tensor<S>) -> Result<Tensor<S>>,
    ) -> Result<Vec<Tensor<S>>> {
        x.expect_shape(&self.shapes[0], "Graph: input")?;
        let mut values: Vec<Tensor<S>> = Vec::with_capacity(self.output.0 + 1);
        values.push(x.clone());
        for node in &self.nodes[1..=self.output.0] {
            let value = match *node {
                Node::Input => unreachable!("only node 0 is the input"),
                Node::Apply { op, arg } => apply(op.0, &values[arg.0])?,
                Node::Add(a, b) => values[a.0].add(&values[b.0])?,
                Node::Mul(a, b) => values[a.0].hadamard(&values[b.0])?,
            };
            values.push(value);
        }
        Ok(values)
    }

    /// The forward pass: every node's value (the tape).
    pub(super) fn values<S: Scalar>(&self, x: &Tensor<S>) -> Result<Vec<Tensor<S>>>
    where
        O: OpSpec<S>,
    {
        self.run_forward(x, |k, v| self.ops[k].forward(v))
    }

    /// The forward pass with the ops' parameters replaced by `params` (one part per op).
    pub(super) fn values_with_params<S: Scalar>(
        &self,
        x: &Tensor<S>,
        params: &[Tensor<S>],
    ) -> Result<Vec<Tensor<S>>>
    where
        O: OpSpec<S>,
    {
        self.run_forward(x, |k, v| self.ops[k].forward_with_params(&params[k], v))
    }

    /// Forward mode: the output's tangent for an input tangent `dx` and, when given, a tangent
    /// of the parameters (one part per op). Each node's tangent is computed once from its
    /// arguments' tangents, so fan-out needs no accumulation here.
    pub(super) fn tangents<S: Scalar>(
        &self,
        values: &[Tensor<S>],
        dx: Tensor<S>,
        dparams: Option<&[Tensor<S>]>,
    ) -> Result<Tensor<S>>
    where
        O: OpSpec<S> + OpSpec<S>,
    {
        self.push_tangents(values, dx, |k, v, t| {
            let through = self.ops[k].jvp(v, t)?;
            match dparams {
                Some(dp) => through.add(&self.ops[k].jvp_params(v, &dp[k])?),
                None => Ok(through),
            }
        })
    }

    /// Forward mode with respect to the input only (no parameter rules needed).
    pub(super) fn input_tangents<S: Scalar>(
        &self,
        values: &[Tensor<S>],
        dx: Tensor<S>,
    ) -> Result<Tensor<S>>
    where
        O: OpSpec<S>,
    {
        self.push_tangents(values, dx, |k, v, t| self.ops[k].jvp(v, t))
    }

    fn push_tangents<S: Scalar>(
        &self,
        values: &[Tensor<S>],
        dx: Tensor<S>,
        apply: impl Fn(usize, &Tensor<S>, &Tensor<S>) -> Result<Tensor<S>>,
    ) -> Result<Tensor<S>> {
        let mut tangents: Vec<Tensor<S>> = Vec::with_capacity(values.len());
        tangents.push(dx);
        for node in &self.nodes[1..values.len()] {
            let tangent = match *node {
                Node::Input => unreachable!("only node 0 is the input"),
                Node::Apply { op, arg } => apply(op.0, &values[arg.0], &tangents[arg.0])?,
                Node::Add(a, b) => tangents[a.0].add(&tangents[b.0])?,
                // d(a ⊙ b) = da ⊙ b + a ⊙ db.
                Node::Mul(a, b) => tangents[a.0]
                    .hadamard(&values[b.0])?
                    .add(&values[a.0].hadamard(&tangents[b.0])?)?,
            };
            tangents.push(tangent);
        }
        Ok(tangents.pop().expect("the output's tangent"))
    }

    /// Reverse mode: every node's cotangent for an output cotangent `dy`, visiting the nodes in
    /// reverse topological order and combining contributions by the accumulation policy. `None`
    /// for nodes the output does not depend on.
    pub(super) fn cotangents<S: Scalar>(
        &self,
        values: &[Tensor<S>],
        dy: &Tensor<S>,
    ) -> Result<Vec<Option<Tensor<S>>>>
    where
        O: OpSpec<S>,
        A: Accumulate<S>,
    {
        let out = self.output.0;
        dy.expect_shape(&self.shapes[out], "Graph vjp: δ")?;
        let mut grads: Vec<Option<Tensor<S>>> = vec![None; out + 1];
        grads[out] = Some(dy.clone());
        for k in (1..=out).rev() {
            // Arguments come before their node, so they live in `before`.
            let (before, after) = grads.split_at_mut(k);
            let Some(g) = &after[0] else { continue };
            let acc = &self.accumulate;
            match self.nodes[k] {
                Node::Input => unreachable!("only node 0 is the input"),
                Node::Apply { op, arg } => {
                    let contribution = self.ops[op.0].vjp(&values[arg.0], g)?;
                    acc.accumulate(&mut before[arg.0], contribution)?;
                }
                Node::Add(a, b) => {
                    acc.accumulate(&mut before[a.0], g.clone())?;
                    acc.accumulate(&mut before[b.0], g.clone())?;
                }
                Node::Mul(a, b) => {
                    acc.accumulate(&mut before[a.0], g.hadamard(&values[b.0])?)?;
                    acc.accumulate(&mut before[b.0], g.hadamard(&values[a.0])?)?;
                }
            }
        }
        Ok(grads)
    }

    /// The gradient of each registered op's parameters: the sum, over the nodes applying it, of
    /// its parameter VJP at that node's cotangent (zeros for an op the output never uses).
    pub(super) fn parameter_cotangents<S: Scalar>(
        &self,
        values: &[Tensor<S>],
        dy: &Tensor<S>,
    ) -> Result<Vec<Tensor<S>>>
    where
        O: OpSpec<S>,
        A: Accumulate<S>,
    {
        let grads = self.cotangents(values, dy)?;
        let mut slots: Vec<Option<Tensor<S>>> = vec![None; self.ops.len()];
        for (k, g) in grads.iter().enumerate().rev() {
            if let (Node::Apply { op, arg }, Some(g)) = (self.nodes[k], g) {
                let contribution = self.ops[op.0].vjp_params(&values[arg.0], g)?;
                self.accumulate.accumulate(&mut slots[op.0], contribution)?;
            }
        }
        slots
            .into_iter()
            .zip(&self.ops)
            .map(|(slot, o)| slot.map_or_else(|| Tensor::zeros(&[o.param_count()]), Ok))
            .collect()
    }
}

/// The rules chain the ops' rules over the tape. The parameters are those of all registered
/// ops, in registration order, each flattened as that op flattens them. A parameter shared by
/// several nodes appears once; its gradient is the sum over the nodes that apply it. Like every
/// op's, the rules return values at a kink; the checks refuse such a point through the guards.
impl<O, A, S> OpSpec<S> for Graph<O, A>
where
    O: OpSpec<S>,
    A: Accumulate<S>,
    S: Scalar,
{
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let mut values = self.values(x)?;
        Ok(values.swap_remove(self.output.0))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let values = self.values(x)?;
        dx.expect_shape(&self.shapes[0], "Graph jvp: dx")?;
        self.input_tangents(&values, dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let values = self.values(x)?;
        let mut cotangents = self.cotangents(&values, dy)?;
        cotangents[0]
            .take()
            .map_or_else(|| Tensor::zeros(&self.shapes[0]), Ok)
    }
    /// The guards of every live `Apply` node, numbered by the layers of the nodes before it; the
    /// op name says which node.
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(self.node_guards(x)?.into_iter().map(|(_, g)| g).collect())
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let parts = self.split_params(params)?;
        let mut values = self.values_with_params(x, &parts)?;
        Ok(values.swap_remove(self.output.0))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        let parts = self.split_params(dparams)?;
        let values = self.values(x)?;
        self.tangents(&values, Tensor::zeros(&self.shapes[0])?, Some(&parts))
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let values = self.values(x)?;
        let parts = self.parameter_cotangents(&values, dy)?;
        Ok(Tensor::from_vec(
            parts.into_iter().flat_map(Tensor::into_data).collect(),
        ))
    }
}

impl<O, A> Graph<O, A> {
    /// [`OpSpec::guards`] of the graph with the node each guard belongs to: the guards of every
    /// live `Apply` node, numbered by the layers of the nodes before it, the op name prefixed by
    /// `node k:`.
    pub fn node_guards<S: Scalar>(&self, x: &Tensor<S>) -> Result<Vec<(NodeId, Guard<S>)>>
    where
        O: OpSpec<S>,
    {
        let values = self.values(x)?;
        let live = self.live();
        let mut guards = Vec::new();
        let mut shift = 0;
        for (k, &is_live) in live.iter().enumerate() {
            if let (Node::Apply { op, arg }, true) = (self.nodes[k], is_live) {
                guards.extend(self.ops[op.0].guards(&values[arg.0])?.into_iter().map(|g| {
                    let guard = Guard {
                        layer: g.layer + shift,
                        op: format!("node {k}: {}", g.op),
                        ..g
                    };
                    (NodeId(k), guard)
                }));
            }
            shift += self.node_depth(k);
        }
        Ok(guards)
    }

    /// Splits a flattened parameter vector into one part per registered op.
    fn split_params<S: Scalar>(&self, params: &Tensor<S>) -> Result<Vec<Tensor<S>>>
    where
        O: OpSpec<S>,
    {
        let counts: Vec<usize> = self.ops.iter().map(|o| o.param_count()).collect();
        params.expect_shape(&[counts.iter().sum()], "Graph: parameter vector")?;
        let mut rest = params.data();
        Ok(counts
            .into_iter()
            .map(|n| {
                let (head, tail) = rest.split_at(n);
                rest = tail;
                Tensor::from_vec(head.to_vec())
            })
            .collect())
    }
}
