//! The DAG: nodes, their shapes, and the graph as an op.

use super::accumulate::FanInSum;
use crate::error::{Error, Result};
use crate::ops::{Op, Param};

/// A node of a [`Graph`]: the input, or its position among the nodes added so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// An op registered in a [`Graph`]; applying the same `OpId` at several nodes shares its
/// parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpId(pub usize);

/// What a node computes from earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// The graph's input (node 0).
    Input,
    /// A registered op applied to an earlier node.
    Apply {
        /// The op (possibly applied elsewhere too: shared weights).
        op: OpId,
        /// Its argument.
        arg: NodeId,
    },
    /// The elementwise sum of two earlier nodes of one shape (a residual connection); the two
    /// may be the same node.
    Add(NodeId, NodeId),
    /// The elementwise product of two earlier nodes of one shape (smooth, bilinear: gives the
    /// graph a non-zero Hessian).
    Mul(NodeId, NodeId),
}

/// A DAG of ops over one input, evaluated as one op.
///
/// Nodes can only refer to earlier nodes, so the order of insertion is a topological order: the
/// forward pass runs it forwards, backprop backwards. `A` is how cotangents from several uses
/// combine ([`FanInSum`] unless a test plants a bug).
#[derive(Clone, Debug, PartialEq)]
pub struct Graph<O, A = FanInSum> {
    pub(super) ops: Vec<O>,
    pub(super) nodes: Vec<Node>,
    pub(super) shapes: Vec<Vec<usize>>,
    pub(super) output: NodeId,
    pub(super) accumulate: A,
}

impl<O: Op> Graph<O> {
    /// A graph with only its input, of shape `input_shape`.
    pub fn new(input_shape: Vec<usize>) -> Self {
        Graph {
            ops: Vec::new(),
            nodes: vec![Node::Input],
            shapes: vec![input_shape],
            output: NodeId(0),
            accumulate: FanInSum,
        }
    }
}

impl<O: Op, A> Graph<O, A> {
    /// The same graph with another accumulation policy.
    pub fn with_accumulator<B>(self, accumulate: B) -> Graph<O, B> {
        Graph {
            ops: self.ops,
            nodes: self.nodes,
            shapes: self.shapes,
            output: self.output,
            accumulate,
        }
    }

    /// The input node.
    pub fn input(&self) -> NodeId {
        NodeId(0)
    }

    /// The output node (the last node added, unless [`Graph::set_output`] chose another).
    pub fn output(&self) -> NodeId {
        self.output
    }

    /// The nodes, in topological order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The registered ops.
    pub fn ops(&self) -> &[O] {
        &self.ops
    }

    /// The shape of a node's value; [`Error::UnknownNode`] for an unknown node.
    pub fn shape(&self, node: NodeId) -> Result<&[usize]> {
        self.shapes
            .get(node.0)
            .map(Vec::as_slice)
            .ok_or(Error::UnknownNode { node: node.0 })
    }

    /// Registers an op, to be applied at one or more nodes.
    pub fn op(&mut self, op: O) -> OpId {
        self.ops.push(op);
        OpId(self.ops.len() - 1)
    }

    /// A new node `op(arg)`, which becomes the output. [`Error::ShapeMismatch`] when `arg`'s
    /// shape does not fit the op (the context names the node), [`Error::UnknownNode`] or
    /// [`Error::UnknownOp`] for unknown ids.
    pub fn apply(&mut self, op: OpId, arg: NodeId) -> Result<NodeId> {
        let shape = self.shape(arg)?.to_vec();
        let o = self.ops.get(op.0).ok_or(Error::UnknownOp { op: op.0 })?;
        let out = o.output_shape(&shape).map_err(|e| match e {
            Error::ShapeMismatch {
                op,
                context,
                left,
                right,
            } => Error::ShapeMismatch {
                op: format!("graph node {}: {op}", self.nodes.len()),
                context,
                left,
                right,
            },
            other => other,
        })?;
        Ok(self.push(Node::Apply { op, arg }, out))
    }

    /// A new node `a + b` (elementwise), which becomes the output.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        let shape = self.same_shapes(a, b, "add")?;
        Ok(self.push(Node::Add(a, b), shape))
    }

    /// A new node `a ⊙ b` (elementwise), which becomes the output.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        let shape = self.same_shapes(a, b, "mul")?;
        Ok(self.push(Node::Mul(a, b), shape))
    }

    /// Makes `node` the graph's output.
    pub fn set_output(&mut self, node: NodeId) -> Result<()> {
        self.shape(node)?;
        self.output = node;
        Ok(())
    }

    fn same_shapes(&self, a: NodeId, b: NodeId, what: &str) -> Result<Vec<usize>> {
        let (sa, sb) = (self.shape(a)?, self.shape(b)?);
        if sa != sb {
            return Err(Error::shape_mismatch(
                &format!(
                    "graph node {}: {what} of nodes {} and {}",
                    self.nodes.len(),
                    a.0,
                    b.0
                ),
                sa.to_vec(),
                sb.to_vec(),
            ));
        }
        Ok(sa.to_vec())
    }

    fn push(&mut self, node: Node, shape: Vec<usize>) -> NodeId {
        self.nodes.push(node);
        self.shapes.push(shape);
        self.output = NodeId(self.nodes.len() - 1);
        self.output
    }

    /// Which nodes the output depends on (a node feeding only dead ends contributes nothing,
    /// not even kinks).
    pub(super) fn live(&self) -> Vec<bool> {
        let mut live = vec![false; self.nodes.len()];
        live[self.output.0] = true;
        for k in (0..=self.output.0).rev() {
            if !live[k] {
                continue;
            }
            match self.nodes[k] {
                Node::Input => {}
                Node::Apply { arg, .. } => live[arg.0] = true,
                Node::Add(a, b) | Node::Mul(a, b) => {
                    live[a.0] = true;
                    live[b.0] = true;
                }
            }
        }
        live
    }

    /// How many layers node `k` contributes to the numbering of guards.
    pub(super) fn node_depth(&self, k: usize) -> usize {
        match self.nodes[k] {
            Node::Input => 0,
            Node::Apply { op, .. } => self.ops[op.0].depth(),
            Node::Add(..) | Node::Mul(..) => 1,
        }
    }
}

impl<O: Op, A> Op for Graph<O, A> {
    fn name(&self) -> String {
        format!(
            "Graph({} nodes, {} ops, output node {})",
            self.nodes.len(),
            self.ops.len(),
            self.output.0
        )
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input != self.shapes[0].as_slice() {
            return Err(Error::shape_mismatch(
                "Graph: input",
                input.to_vec(),
                self.shapes[0].clone(),
            ));
        }
        Ok(self.shapes[self.output.0].clone())
    }
    fn is_piecewise_linear(&self) -> bool {
        let live = self.live();
        self.nodes.iter().zip(&live).all(|(node, &l)| match node {
            _ if !l => true,
            Node::Input | Node::Add(..) => true,
            Node::Mul(..) => false,
            Node::Apply { op, .. } => self.ops[op.0].is_piecewise_linear(),
        })
    }
    fn depth(&self) -> usize {
        (0..=self.output.0).map(|k| self.node_depth(k)).sum()
    }
    /// Every registered op's parameters, in registration order; for a graph, `layer` is the
    /// op's registration number (1-based), since one op may sit at several nodes.
    fn params(&self) -> Vec<Param<'_>> {
        self.ops
            .iter()
            .enumerate()
            .flat_map(|(k, o)| {
                o.params().into_iter().map(move |p| Param {
                    layer: k + 1,
                    op: format!("op {k}: {}", p.op),
                    ..p
                })
            })
            .collect()
    }
    fn param_count(&self) -> usize {
        self.ops.iter().map(Op::param_count).sum()
    }
}
