//! Translating ONNX nodes, in graph order, into ops of an exact [`Graph`].
//!
//! A value is either computed (a node of the graph, which depends on the input) or constant (an
//! initializer, a `Constant` node, or a node whose operands are all constant, evaluated over
//! `Q` at import). Ops with one computed operand become graph ops whose other operands are
//! their parameters; operations between computed tensors become the graph's own `Add` and
//! `Mul` nodes (`a − b` as `a + (−b)`, `a / b` as `a ⊙ b⁻¹`, a `Concat` as the sum of its parts
//! zero-padded into place).

use super::error::{OnnxError, SUPPORTED};
use super::model::{Layout, Link, Model, Origin};
use super::op::ModelOp;
use super::proto::{AttributeProto, GraphProto, NodeProto, TensorProto};
use super::tensor::{constant, Constant};
use crate::error::{Error, Result};
use crate::ops::{
    Abs, AvgPool2d, BroadcastAdd, BroadcastMul, Clamp, Conv1d, Conv2d, Exp, LeakyRelu, Linear, Log,
    LogSoftmax, MaxPool2d, OpSpec, Pad, Polynomial, Power, Reduce, Relu, Reshape, Sigmoid, Slice,
    Softmax, Tanh, Transpose,
};
use crate::scalar::{Field, Ring, Q};
use crate::tape::{Graph, NodeId};
use crate::tensor::{element_count, Tensor};
use num_traits::{One, Zero};
use std::collections::HashMap;

/// A value of the graph being translated.
#[derive(Clone, Debug)]
enum Value {
    /// Computed from the input.
    Node(NodeId),
    /// Constant; the initializer's name when it is one (a parameter of the model).
    Const(Constant, Option<String>),
}

/// The translation state.
pub(super) struct Builder {
    graph: Graph<ModelOp>,
    values: HashMap<String, Value>,
    origins: Vec<Origin>,
    links: Vec<Link>,
    current: Origin,
}

/// A parameter link to record when an op is registered: offset in the op's parameters,
/// initializer name, its value in the file's shape, and the layout.
type PendingLink = (usize, String, Tensor<Q>, Layout);

impl Builder {
    /// Translates `g` into a [`Model`] (opset and producer are filled in by the caller).
    pub(super) fn build(g: &GraphProto, input_shape: Option<&[usize]>) -> Result<Model> {
        let mut values = HashMap::new();
        for t in &g.initializer {
            let name = t.name.clone().unwrap_or_default();
            let c = constant(&name, t)?;
            values.insert(name.clone(), Value::Const(c, Some(name)));
        }
        let inputs: Vec<_> = g
            .input
            .iter()
            .filter(|i| !values.contains_key(i.name.as_deref().unwrap_or_default()))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(OnnxError::InputCount {
                inputs: inputs
                    .iter()
                    .map(|i| i.name.clone().unwrap_or_default())
                    .collect(),
            }
            .into());
        };
        let input_name = input.name.clone().unwrap_or_default();
        let shape = input_dims(&input_name, input, input_shape)?;
        let outputs: Vec<String> = g
            .output
            .iter()
            .map(|o| o.name.clone().unwrap_or_default())
            .collect();
        let [output_name] = outputs.as_slice() else {
            return Err(OnnxError::OutputCount { outputs }.into());
        };
        let graph = Graph::new(shape);
        values.insert(input_name.clone(), Value::Node(graph.input()));
        let input_origin = Origin {
            node: input_name.clone(),
            op_type: "input".into(),
        };
        let mut b = Builder {
            graph,
            values,
            origins: vec![input_origin.clone()],
            links: Vec::new(),
            current: input_origin,
        };
        for n in &g.node {
            b.current = Origin {
                node: node_name(n),
                op_type: n.op_type.clone().unwrap_or_default(),
            };
            let out = b.node(n).map_err(|e| match e {
                Error::Onnx(_) => e,
                other => OnnxError::InNode {
                    node: b.current.node.clone(),
                    op_type: b.current.op_type.clone(),
                    source: Box::new(other),
                }
                .into(),
            })?;
            if let Some(name) = n.output.first() {
                b.values.insert(name.clone(), out);
            }
        }
        let no_path = || OnnxError::NoDifferentiablePath {
            input: input_name.clone(),
            output: output_name.clone(),
        };
        match b.values.get(output_name) {
            Some(Value::Node(id)) => {
                let id = *id;
                b.graph.set_output(id)?;
            }
            Some(Value::Const(..)) => return Err(no_path().into()),
            _ => {
                return Err(OnnxError::UndefinedValue {
                    node: "graph output".into(),
                    op_type: "output".into(),
                    value: output_name.clone(),
                }
                .into())
            }
        }
        Ok(Model {
            graph: b.graph,
            input: input_name,
            output: output_name.clone(),
            origins: b.origins,
            links: b.links,
            opset: 0,
            producer: String::new(),
        })
    }

    /// The value node `n` computes (its first output).
    fn node(&mut self, n: &NodeProto) -> Result<Value> {
        let op_type = n.op_type.as_deref().unwrap_or_default();
        if !matches!(n.domain.as_deref(), None | Some("") | Some("ai.onnx")) {
            return Err(self.unsupported_op(&format!(
                "{}.{op_type}",
                n.domain.as_deref().unwrap_or_default()
            )));
        }
        if n.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(self.unsupported(&format!("a second output ({:?})", n.output[1])));
        }
        let attrs = Attrs(&n.attribute);
        match op_type {
            "Identity" => self.value(n, 0),
            "Constant" => self.constant_node(&attrs),
            "Relu" => self.unary(ModelOp::Relu(Relu), n),
            "Abs" => self.unary(ModelOp::Abs(Abs), n),
            "Sigmoid" => self.unary(ModelOp::Sigmoid(Sigmoid), n),
            "Tanh" => self.unary(ModelOp::Tanh(Tanh), n),
            "Exp" => self.unary(ModelOp::Exp(Exp), n),
            "Log" => self.unary(ModelOp::Log(Log), n),
            "Neg" => self.unary(neg(), n),
            "LeakyRelu" => {
                let alpha = attrs.float("alpha").unwrap_or(0.01);
                let alpha = exact(f64::from(alpha), "alpha", self)?;
                self.unary(ModelOp::LeakyRelu(LeakyRelu::new(alpha)), n)
            }
            "Softmax" | "LogSoftmax" => {
                let rank = self.rank(n, 0)?;
                let axis = self.axis(attrs.int("axis").unwrap_or(-1), rank, "axis")?;
                let op = if op_type == "Softmax" {
                    ModelOp::Softmax(Softmax::new(axis))
                } else {
                    ModelOp::LogSoftmax(LogSoftmax::new(axis))
                };
                self.unary(op, n)
            }
            "Clip" => self.clip(n),
            "Gemm" => self.gemm(n, &attrs),
            "MatMul" => self.matmul(n),
            "Add" | "Sub" | "Mul" | "Div" => self.binary(n, op_type),
            "Conv" => self.conv(n, &attrs),
            "MaxPool" | "AveragePool" => self.pool(n, &attrs, op_type),
            "GlobalAveragePool" => {
                let rank = self.rank(n, 0)?;
                let op = Reduce::mean((2..rank).collect(), true)?;
                self.unary(ModelOp::Reduce(op), n)
            }
            "ReduceSum" | "ReduceMean" => self.reduce(n, &attrs, op_type),
            "Flatten" => {
                let shape = self.shape_of(n, 0)?;
                // Flatten's axis may also be the rank itself (everything in the first factor).
                let r = shape.len() as i64;
                let a = attrs.int("axis").unwrap_or(1);
                let a = if a < 0 { a + r } else { a };
                if !(0..=r).contains(&a) {
                    return Err(self.bad_argument(
                        "axis",
                        &a.to_string(),
                        "an axis from −rank to rank",
                    ));
                }
                let axis = a as usize;
                let lead = element_count(&shape[..axis])?;
                let rest = element_count(&shape[axis..])?;
                self.unary(ModelOp::Reshape(Reshape::new(vec![lead, rest])), n)
            }
            "Reshape" => self.reshape(n, &attrs),
            "Transpose" => {
                let rank = self.rank(n, 0)?;
                let perm = match attrs.ints("perm") {
                    Some(p) => p
                        .iter()
                        .map(|&a| self.axis(a, rank, "perm"))
                        .collect::<Result<Vec<_>>>()?,
                    None => (0..rank).rev().collect(),
                };
                self.unary(ModelOp::Transpose(Transpose::new(perm)?), n)
            }
            "Slice" => self.slice(n),
            "Pad" => self.pad(n, &attrs),
            "Concat" => self.concat(n, &attrs),
            "Shape" => self.shape_node(n, &attrs),
            "Gather" => self.gather(n, &attrs),
            "Unsqueeze" | "Squeeze" => self.squeeze(n, &attrs, op_type == "Unsqueeze"),
            _ => Err(self.unsupported_op(op_type)),
        }
    }

    // ---- values -------------------------------------------------------------------------

    /// Input `k` of `n`; an error when absent or undefined.
    fn value(&self, n: &NodeProto, k: usize) -> Result<Value> {
        self.optional(n, k)?
            .ok_or_else(|| self.bad_argument(&format!("input {k}"), "absent", "it is required"))
    }

    /// Input `k` of `n`, `None` when omitted (absent or named "").
    fn optional(&self, n: &NodeProto, k: usize) -> Result<Option<Value>> {
        match n.input.get(k).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(name) => match self.values.get(name) {
                Some(v) => Ok(Some(v.clone())),
                None => Err(OnnxError::UndefinedValue {
                    node: self.current.node.clone(),
                    op_type: self.current.op_type.clone(),
                    value: name.into(),
                }
                .into()),
            },
        }
    }

    fn shape_of_value(&self, v: &Value) -> Result<Vec<usize>> {
        Ok(match v {
            Value::Node(id) => self.graph.shape(*id)?.to_vec(),
            Value::Const(c, _) => c.shape().to_vec(),
        })
    }

    fn shape_of(&self, n: &NodeProto, k: usize) -> Result<Vec<usize>> {
        self.shape_of_value(&self.value(n, k)?)
    }

    fn rank(&self, n: &NodeProto, k: usize) -> Result<usize> {
        Ok(self.shape_of(n, k)?.len())
    }

    /// Input `k` as a float constant, with its initializer name.
    fn float_const(
        &self,
        n: &NodeProto,
        k: usize,
        what: &str,
    ) -> Result<(Tensor<Q>, Option<String>)> {
        match self.value(n, k)? {
            Value::Const(Constant::Float(t), name) => Ok((t, name)),
            Value::Const(Constant::Int(..), _) => {
                Err(self.bad_argument(what, "an integer tensor", "it must be a float tensor"))
            }
            Value::Node(_) => Err(self.unsupported(&format!("a computed {what} (input {k})"))),
        }
    }

    /// Input `k` as a constant integer list (shapes, axes, pads), `None` when omitted.
    fn int_list(&self, n: &NodeProto, k: usize, what: &str) -> Result<Option<Vec<i64>>> {
        match self.optional(n, k)? {
            None => Ok(None),
            Some(Value::Const(Constant::Int(_, v), _)) => Ok(Some(v)),
            Some(Value::Const(Constant::Float(_), _)) => {
                Err(self.bad_argument(what, "a float tensor", "it must be an integer tensor"))
            }
            Some(Value::Node(_)) => {
                Err(self.unsupported(&format!("a computed {what} (input {k})")))
            }
        }
    }

    /// A scalar float constant (`Clip`'s bounds), `None` when omitted.
    fn scalar_const(&self, n: &NodeProto, k: usize, what: &str) -> Result<Option<Q>> {
        if self.optional(n, k)?.is_none() {
            return Ok(None);
        }
        let (t, _) = self.float_const(n, k, what)?;
        match t.data() {
            [v] => Ok(Some(v.clone())),
            _ => Err(self.bad_argument(
                what,
                &format!("shape {:?}", t.shape()),
                "it must be a scalar",
            )),
        }
    }

    /// `a` normalized against `rank` (negative counts from the end).
    fn axis(&self, a: i64, rank: usize, what: &str) -> Result<usize> {
        let r = rank as i64;
        let k = if a < 0 { a + r } else { a };
        if (0..r).contains(&k) {
            Ok(k as usize)
        } else {
            Err(self.bad_argument(
                what,
                &a.to_string(),
                &format!("an axis of a rank-{rank} tensor"),
            ))
        }
    }

    // ---- graph --------------------------------------------------------------------------

    /// Registers `op` and applies it to `arg`; records the parameter links.
    fn apply(&mut self, op: ModelOp, arg: NodeId, links: Vec<PendingLink>) -> Result<NodeId> {
        let id = self.graph.op(op);
        let out = self.graph.apply(id, arg)?;
        self.origins.push(self.current.clone());
        for (offset, initializer, value, layout) in links {
            self.links.push(Link {
                initializer,
                value,
                op: id.0,
                offset,
                layout,
            });
        }
        Ok(out)
    }

    /// `op` applied to a value: a graph op on a computed value, evaluated at import on a
    /// constant one.
    fn apply_value(&mut self, op: ModelOp, v: Value, links: Vec<PendingLink>) -> Result<Value> {
        match v {
            Value::Node(id) => Ok(Value::Node(self.apply(op, id, links)?)),
            Value::Const(Constant::Float(t), _) => Ok(Value::Const(
                Constant::Float(OpSpec::<Q>::forward(&op, &t)?),
                None,
            )),
            Value::Const(Constant::Int(..), _) => {
                Err(self.unsupported("an integer tensor as the operand of a float op"))
            }
        }
    }

    fn unary(&mut self, op: ModelOp, n: &NodeProto) -> Result<Value> {
        let v = self.value(n, 0)?;
        self.apply_value(op, v, Vec::new())
    }

    fn add_nodes(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        let out = self.graph.add(a, b)?;
        self.origins.push(self.current.clone());
        Ok(out)
    }

    fn mul_nodes(&mut self, a: NodeId, b: NodeId) -> Result<NodeId> {
        let out = self.graph.mul(a, b)?;
        self.origins.push(self.current.clone());
        Ok(out)
    }

    // ---- ops ----------------------------------------------------------------------------

    fn constant_node(&self, attrs: &Attrs<'_>) -> Result<Value> {
        let name = self.current.node.clone();
        if let Some(t) = attrs.tensor("value") {
            return Ok(Value::Const(constant(&name, t)?, None));
        }
        if let Some(f) = attrs.float("value_float") {
            let q = exact(f64::from(f), "value_float", self)?;
            return Ok(Value::Const(
                Constant::Float(Tensor::new(vec![], vec![q])?),
                None,
            ));
        }
        if let Some(a) = attrs.find("value_floats") {
            let v = a
                .floats
                .iter()
                .map(|&f| exact(f64::from(f), "value_floats", self));
            let v = v.collect::<Result<Vec<Q>>>()?;
            return Ok(Value::Const(Constant::Float(Tensor::from_vec(v)), None));
        }
        if let Some(i) = attrs.int("value_int") {
            return Ok(Value::Const(Constant::Int(vec![], vec![i]), None));
        }
        if let Some(v) = attrs.ints("value_ints") {
            return Ok(Value::Const(Constant::Int(vec![v.len()], v), None));
        }
        Err(self.unsupported("a Constant without a tensor, float or int value"))
    }

    fn clip(&mut self, n: &NodeProto) -> Result<Value> {
        let x = self.value(n, 0)?;
        let lo = self.scalar_const(n, 1, "min")?;
        let hi = self.scalar_const(n, 2, "max")?;
        let shift = |c: &Q| ModelOp::BroadcastAdd(BroadcastAdd::new(scalar(c.clone())));
        match (lo, hi) {
            (Some(lo), Some(hi)) => {
                self.apply_value(ModelOp::Clamp(Clamp::new(lo, hi)?), x, vec![])
            }
            // max(x, lo) = relu(x − lo) + lo.
            (Some(lo), None) => {
                let v = self.apply_value(shift(&-lo.clone()), x, vec![])?;
                let v = self.apply_value(ModelOp::Relu(Relu), v, vec![])?;
                self.apply_value(shift(&lo), v, vec![])
            }
            // min(x, hi) = hi − relu(hi − x).
            (None, Some(hi)) => {
                let v = self.apply_value(neg(), x, vec![])?;
                let v = self.apply_value(shift(&hi), v, vec![])?;
                let v = self.apply_value(ModelOp::Relu(Relu), v, vec![])?;
                let v = self.apply_value(neg(), v, vec![])?;
                self.apply_value(shift(&hi), v, vec![])
            }
            (None, None) => Ok(x),
        }
    }

    fn gemm(&mut self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        for (name, default) in [("alpha", 1.0), ("beta", 1.0)] {
            if let Some(v) = attrs.float(name) {
                if v != default {
                    return Err(self.unsupported(&format!("{name} = {v} (only 1)")));
                }
            }
        }
        if attrs.int("transA").unwrap_or(0) != 0 {
            return Err(self.unsupported("transA = 1"));
        }
        let trans_b = attrs.int("transB").unwrap_or(0) != 0;
        let a = self.value(n, 0)?;
        if matches!(a, Value::Const(..)) {
            return Err(self.unsupported("a constant A with a computed B"));
        }
        let (b, b_name) = self.float_const(n, 1, "B")?;
        let &[rows, cols] = b.shape() else {
            return Err(self.bad_argument(
                "B",
                &format!("shape {:?}", b.shape()),
                "it must be a matrix",
            ));
        };
        let (w, layout) = if trans_b {
            (b.clone(), Layout::Same)
        } else {
            (transpose(&b, rows, cols)?, Layout::Transposed)
        };
        let out = w.shape()[0];
        let mut links = Vec::new();
        if let Some(name) = b_name {
            links.push((0, name, b, layout));
        }
        let bias = match self.optional(n, 2)? {
            None => Tensor::zeros(&[out])?,
            Some(_) => {
                let (c, c_name) = self.float_const(n, 2, "C")?;
                if c.len() != out || !matches!(c.shape(), [_] | [1, _]) {
                    return Err(self.unsupported(&format!("a bias C of shape {:?}", c.shape())));
                }
                if let Some(name) = c_name {
                    links.push((w.len(), name, c.clone(), Layout::Same));
                }
                c.reshape(vec![out])?
            }
        };
        let op = ModelOp::Linear(Linear::new(w, bias)?);
        self.apply_value(op, a, links)
    }

    fn matmul(&mut self, n: &NodeProto) -> Result<Value> {
        let (a, b) = (self.value(n, 0)?, self.value(n, 1)?);
        match (&a, &b) {
            (Value::Node(_), Value::Const(..)) => {}
            (Value::Node(_), Value::Node(_)) => {
                return Err(self.unsupported("MatMul of two computed tensors"))
            }
            (Value::Const(..), _) => {
                return Err(self.unsupported("MatMul with a constant left operand"))
            }
        }
        let (b, b_name) = self.float_const(n, 1, "B")?;
        let &[rows, cols] = b.shape() else {
            return Err(self.unsupported(&format!("a right operand of shape {:?}", b.shape())));
        };
        let w = transpose(&b, rows, cols)?;
        let links = b_name
            .into_iter()
            .map(|name| (0, name, b.clone(), Layout::Transposed));
        let op = ModelOp::Linear(Linear::new(w, Tensor::zeros(&[cols])?)?);
        self.apply_value(op, a, links.collect())
    }

    fn binary(&mut self, n: &NodeProto, op_type: &str) -> Result<Value> {
        let (a, b) = (self.value(n, 0)?, self.value(n, 1)?);
        match (a, b) {
            (Value::Node(x), Value::Node(y)) => {
                let (sx, sy) = (self.graph.shape(x)?.to_vec(), self.graph.shape(y)?.to_vec());
                if sx != sy {
                    return Err(self.unsupported(&format!(
                        "{op_type} of computed tensors of shapes {sx:?} and {sy:?} (broadcasting)"
                    )));
                }
                let out = match op_type {
                    "Add" => self.add_nodes(x, y)?,
                    "Mul" => self.mul_nodes(x, y)?,
                    "Sub" => {
                        let ny = self.apply(neg(), y, vec![])?;
                        self.add_nodes(x, ny)?
                    }
                    _ => {
                        let ry = self.apply(ModelOp::Power(Power::new(-1)), y, vec![])?;
                        self.mul_nodes(x, ry)?
                    }
                };
                Ok(Value::Node(out))
            }
            (x @ Value::Node(_), Value::Const(Constant::Float(c), name))
            | (x @ Value::Const(Constant::Float(_), _), Value::Const(Constant::Float(c), name)) => {
                let link = |layout| name.clone().map(|nm| (0, nm, c.clone(), layout));
                let (op, link) = match op_type {
                    "Add" => (add(c.clone()), link(Layout::Same)),
                    "Sub" => (add(c.map(Ring::neg_ref)), link(Layout::Negated)),
                    "Mul" => (mul(c.clone()), link(Layout::Same)),
                    _ => (mul(self.reciprocal(&c)?), None),
                };
                self.apply_value(op, x, link.into_iter().collect())
            }
            (Value::Const(Constant::Float(c), name), x @ Value::Node(_)) => {
                let links: Vec<PendingLink> = name
                    .into_iter()
                    .map(|nm| (0, nm, c.clone(), Layout::Same))
                    .collect();
                match op_type {
                    "Add" => self.apply_value(add(c), x, links),
                    "Mul" => self.apply_value(mul(c), x, links),
                    "Sub" => {
                        let v = self.apply_value(neg(), x, vec![])?;
                        self.apply_value(add(c), v, links)
                    }
                    _ => {
                        let v = self.apply_value(ModelOp::Power(Power::new(-1)), x, vec![])?;
                        self.apply_value(mul(c), v, links)
                    }
                }
            }
            _ => Err(self.unsupported(&format!("{op_type} of integer tensors"))),
        }
    }

    /// `1/c` entrywise; a zero entry is an error naming it.
    fn reciprocal(&self, c: &Tensor<Q>) -> Result<Tensor<Q>> {
        let mut out = Vec::with_capacity(c.len());
        for (k, v) in c.data().iter().enumerate() {
            match Q::one().checked_div(v) {
                Some(r) => out.push(r),
                None => {
                    return Err(self.bad_argument(
                        &format!("divisor{:?}", c.multi_index(k)),
                        "0",
                        "division by zero",
                    ))
                }
            }
        }
        Tensor::new(c.shape().to_vec(), out)
    }

    fn conv(&mut self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        let x = self.value(n, 0)?;
        if matches!(x, Value::Const(..)) {
            return Err(self.unsupported("a constant input X"));
        }
        let (w, w_name) = self.float_const(n, 1, "W")?;
        let spatial = w.shape().len().saturating_sub(2);
        if !(1..=2).contains(&spatial) {
            return Err(self.unsupported(&format!("{spatial}-D convolution (1-D and 2-D are)")));
        }
        self.no_auto_pad(attrs)?;
        let strides = self.per_axis(attrs, "strides", spatial, 1)?;
        let dilations = self.per_axis(attrs, "dilations", spatial, 1)?;
        let pads = self.symmetric_pads(attrs, spatial)?;
        let groups = self.usize_attr(attrs, "group", 1)?;
        let out = w.shape()[0];
        let mut links: Vec<PendingLink> = w_name
            .into_iter()
            .map(|nm| (0, nm, w.clone(), Layout::Same))
            .collect();
        let bias = match self.optional(n, 2)? {
            None => Tensor::zeros(&[out])?,
            Some(_) => {
                let (b, b_name) = self.float_const(n, 2, "B")?;
                if let Some(nm) = b_name {
                    links.push((w.len(), nm, b.clone(), Layout::Same));
                }
                b
            }
        };
        let op = if spatial == 2 {
            let c = Conv2d::new(w, bias, (strides[0], strides[1]), (pads[0], pads[1]))?
                .with_dilation((dilations[0], dilations[1]))?
                .with_groups(groups)?;
            ModelOp::Conv2d(c)
        } else {
            let c = Conv1d::new(w, bias, strides[0], pads[0])?
                .with_dilation(dilations[0])?
                .with_groups(groups)?;
            ModelOp::Conv1d(c)
        };
        self.apply_value(op, x, links)
    }

    fn pool(&mut self, n: &NodeProto, attrs: &Attrs<'_>, op_type: &str) -> Result<Value> {
        let x = self.value(n, 0)?;
        let shape = self.shape_of_value(&x)?;
        let spatial = shape.len().saturating_sub(2);
        if !(1..=2).contains(&spatial) {
            return Err(self.unsupported(&format!("{spatial}-D pooling (1-D and 2-D are)")));
        }
        self.no_auto_pad(attrs)?;
        if attrs.int("storage_order").unwrap_or(0) != 0 {
            return Err(self.unsupported("storage_order = 1"));
        }
        let kernel = attrs
            .ints("kernel_shape")
            .ok_or_else(|| self.bad_argument("kernel_shape", "absent", "it is required"))?;
        if kernel.len() != spatial {
            return Err(self.bad_argument(
                "kernel_shape",
                &format!("{kernel:?}"),
                &format!("it must have {spatial} entries"),
            ));
        }
        let kernel = self.per_axis(attrs, "kernel_shape", spatial, 1)?;
        let strides = self.per_axis(attrs, "strides", spatial, 1)?;
        let dilations = self.per_axis(attrs, "dilations", spatial, 1)?;
        let pads = self.symmetric_pads(attrs, spatial)?;
        let ceil = attrs.int("ceil_mode").unwrap_or(0) != 0;
        // A 1-D pool is the 2-D pool of height 1.
        let pair = |v: &[usize], one: usize| {
            if spatial == 2 {
                (v[0], v[1])
            } else {
                (one, v[0])
            }
        };
        let op = if op_type == "MaxPool" {
            let p = MaxPool2d::new(pair(&kernel, 1), pair(&strides, 1))?
                .with_padding(pair(&pads, 0))?
                .with_dilation(pair(&dilations, 1))?
                .with_ceil_mode(ceil)?;
            ModelOp::MaxPool2d(p)
        } else {
            if dilations.iter().any(|&d| d != 1) {
                return Err(self.unsupported("AveragePool with dilations"));
            }
            let include = attrs.int("count_include_pad").unwrap_or(0) != 0;
            let p = AvgPool2d::new(pair(&kernel, 1), pair(&strides, 1))?
                .with_padding(pair(&pads, 0))?
                .with_ceil_mode(ceil)?
                .with_count_include_pad(include)?;
            ModelOp::AvgPool2d(p)
        };
        if spatial == 2 {
            return self.apply_value(op, x, vec![]);
        }
        let (nb, c, l) = (shape[0], shape[1], shape[2]);
        let v = self.apply_value(ModelOp::Reshape(Reshape::new(vec![nb, c, 1, l])), x, vec![])?;
        let v = self.apply_value(op, v, vec![])?;
        let pooled = self.shape_of_value(&v)?;
        self.apply_value(
            ModelOp::Reshape(Reshape::new(vec![nb, c, pooled[3]])),
            v,
            vec![],
        )
    }

    fn reduce(&mut self, n: &NodeProto, attrs: &Attrs<'_>, op_type: &str) -> Result<Value> {
        let rank = self.rank(n, 0)?;
        let axes = match attrs.ints("axes") {
            Some(a) => Some(a),
            None => self.int_list(n, 1, "axes")?,
        };
        let keep = attrs.int("keepdims").unwrap_or(1) != 0;
        let axes = axes.unwrap_or_default();
        if axes.is_empty() && attrs.int("noop_with_empty_axes").unwrap_or(0) != 0 {
            return self.value(n, 0);
        }
        let axes = axes
            .iter()
            .map(|&a| self.axis(a, rank, "axes"))
            .collect::<Result<Vec<_>>>()?;
        let op = if op_type == "ReduceSum" {
            Reduce::sum(axes, keep)?
        } else {
            Reduce::mean(axes, keep)?
        };
        self.unary(ModelOp::Reduce(op), n)
    }

    fn reshape(&mut self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        let shape = self.shape_of(n, 0)?;
        let target = self
            .int_list(n, 1, "shape")?
            .ok_or_else(|| self.bad_argument("shape", "absent", "it is required"))?;
        let allow_zero = attrs.int("allowzero").unwrap_or(0) != 0;
        let total = element_count(&shape)?;
        let mut out = Vec::with_capacity(target.len());
        let mut infer = None;
        for (k, &d) in target.iter().enumerate() {
            out.push(match d {
                0 if !allow_zero => *shape.get(k).ok_or_else(|| {
                    self.bad_argument(
                        "shape",
                        &format!("{target:?}"),
                        "0 copies an axis the input lacks",
                    )
                })?,
                -1 if infer.is_none() => {
                    infer = Some(k);
                    1
                }
                d if d >= 0 => d as usize,
                _ => {
                    return Err(self.bad_argument(
                        "shape",
                        &format!("{target:?}"),
                        "entries must be ≥ 0, with at most one −1",
                    ))
                }
            });
        }
        if let Some(k) = infer {
            let known = element_count(&out)?;
            if known == 0 || !total.is_multiple_of(known) {
                return Err(self.bad_argument(
                    "shape",
                    &format!("{target:?}"),
                    &format!("no size for −1 makes {total} entries"),
                ));
            }
            out[k] = total / known;
        }
        self.unary(ModelOp::Reshape(Reshape::new(out)), n)
    }

    fn slice(&mut self, n: &NodeProto) -> Result<Value> {
        let shape = self.shape_of(n, 0)?;
        let need = |v: Option<Vec<i64>>, what: &str| {
            v.ok_or_else(|| self.bad_argument(what, "absent", "it is required"))
        };
        let starts = need(self.int_list(n, 1, "starts")?, "starts")?;
        let ends = need(self.int_list(n, 2, "ends")?, "ends")?;
        let axes = self
            .int_list(n, 3, "axes")?
            .unwrap_or_else(|| (0..starts.len() as i64).collect());
        if let Some(steps) = self.int_list(n, 4, "steps")? {
            if steps.iter().any(|&s| s != 1) {
                return Err(self.unsupported(&format!("steps {steps:?} (only 1)")));
            }
        }
        if ends.len() != starts.len() || axes.len() != starts.len() {
            return Err(self.bad_argument(
                "starts/ends/axes",
                &format!("{starts:?}/{ends:?}/{axes:?}"),
                "they must have equal lengths",
            ));
        }
        let mut v = self.value(n, 0)?;
        for ((&s, &e), &a) in starts.iter().zip(&ends).zip(&axes) {
            let axis = self.axis(a, shape.len(), "axes")?;
            let dim = shape[axis] as i64;
            let clamp = |i: i64| (if i < 0 { i + dim } else { i }).clamp(0, dim) as usize;
            let op = Slice::new(axis, clamp(s), clamp(e))?;
            v = self.apply_value(ModelOp::Slice(op), v, vec![])?;
        }
        Ok(v)
    }

    fn pad(&mut self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        if let Some(mode) = attrs.string("mode") {
            if mode != "constant" {
                return Err(self.unsupported(&format!("mode {mode:?} (only \"constant\")")));
            }
        }
        if self.optional(n, 3)?.is_some() {
            return Err(self.unsupported("the axes input"));
        }
        if let Some(c) = self.scalar_const(n, 2, "constant_value")? {
            if !c.is_zero() {
                return Err(self.unsupported(&format!("constant_value {c} (only 0)")));
            }
        }
        let rank = self.rank(n, 0)?;
        let pads = self
            .int_list(n, 1, "pads")?
            .ok_or_else(|| self.bad_argument("pads", "absent", "it is required"))?;
        if pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
            return Err(self.bad_argument(
                "pads",
                &format!("{pads:?}"),
                &format!("it must hold {} non-negative entries", 2 * rank),
            ));
        }
        let to_usize = |p: &[i64]| p.iter().map(|&v| v as usize).collect::<Vec<_>>();
        let op = Pad::new(to_usize(&pads[..rank]), to_usize(&pads[rank..]))?;
        self.unary(ModelOp::Pad(op), n)
    }

    fn concat(&mut self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        let parts = (0..n.input.len())
            .map(|k| self.value(n, k))
            .collect::<Result<Vec<_>>>()?;
        let shapes = parts
            .iter()
            .map(|p| self.shape_of_value(p))
            .collect::<Result<Vec<_>>>()?;
        let Some(first) = shapes.first() else {
            return Err(self.bad_argument("inputs", "none", "Concat needs at least one"));
        };
        let rank = first.len();
        let axis = self.axis(
            attrs
                .int("axis")
                .ok_or_else(|| self.bad_argument("axis", "absent", "it is required"))?,
            rank,
            "axis",
        )?;
        for s in &shapes {
            let same = s.len() == rank && (0..rank).all(|a| a == axis || s[a] == first[a]);
            if !same {
                return Err(Error::shape_mismatch(
                    "Concat: the parts must agree off the axis (first part, this part)",
                    first.clone(),
                    s.clone(),
                ));
            }
        }
        let total = shapes
            .iter()
            .try_fold(0usize, |t, s| t.checked_add(s[axis]))
            .ok_or_else(|| self.unsupported("a Concat whose size overflows"))?;
        if parts
            .iter()
            .all(|p| matches!(p, Value::Const(Constant::Int(..), _)))
        {
            if rank != 1 {
                return Err(self.unsupported("Concat of integer tensors of rank other than 1"));
            }
            let v = parts.into_iter().flat_map(|p| match p {
                Value::Const(Constant::Int(_, v), _) => v,
                _ => Vec::new(),
            });
            return Ok(Value::Const(Constant::Int(vec![total], v.collect()), None));
        }
        // Each part zero-padded into its place; the sum of the padded parts is the concat.
        let mut sum: Option<Value> = None;
        let mut offset = 0;
        for (p, s) in parts.into_iter().zip(&shapes) {
            let mut begin = vec![0; rank];
            let mut end = vec![0; rank];
            begin[axis] = offset;
            end[axis] = total - offset - s[axis];
            offset += s[axis];
            let placed = self.apply_value(ModelOp::Pad(Pad::new(begin, end)?), p, vec![])?;
            sum = Some(match (sum, placed) {
                (None, v) => v,
                (Some(Value::Node(a)), Value::Node(b)) => Value::Node(self.add_nodes(a, b)?),
                (Some(Value::Node(a)), Value::Const(Constant::Float(c), _))
                | (Some(Value::Const(Constant::Float(c), _)), Value::Node(a)) => {
                    self.apply_value(add(c), Value::Node(a), vec![])?
                }
                (
                    Some(Value::Const(Constant::Float(a), _)),
                    Value::Const(Constant::Float(b), _),
                ) => Value::Const(Constant::Float(a.add(&b)?), None),
                _ => return Err(self.unsupported("Concat of float and integer tensors")),
            });
        }
        sum.ok_or_else(|| self.bad_argument("inputs", "none", "Concat needs at least one"))
    }

    /// The (static) shape of a value as an integer constant: what a dynamic-batch export
    /// computes its `Reshape` targets from.
    fn shape_node(&self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        let shape = self.shape_of(n, 0)?;
        let r = shape.len() as i64;
        let clamp = |a: i64| (if a < 0 { a + r } else { a }).clamp(0, r) as usize;
        let start = clamp(attrs.int("start").unwrap_or(0));
        let end = clamp(attrs.int("end").unwrap_or(r)).max(start);
        let dims: Vec<i64> = shape[start..end].iter().map(|&d| d as i64).collect();
        Ok(Value::Const(Constant::Int(vec![dims.len()], dims), None))
    }

    /// `Gather` on integer constants of rank 1 (shape arithmetic); a computed or float operand
    /// is not supported.
    fn gather(&self, n: &NodeProto, attrs: &Attrs<'_>) -> Result<Value> {
        let (data, indices) = (self.value(n, 0)?, self.value(n, 1)?);
        let (Value::Const(Constant::Int(ds, dv), _), Value::Const(Constant::Int(is, iv), _)) =
            (data, indices)
        else {
            return Err(self.unsupported("Gather of anything but integer constants"));
        };
        if ds.len() != 1 || attrs.int("axis").unwrap_or(0) != 0 {
            return Err(self.unsupported("Gather from an integer tensor of rank other than 1"));
        }
        let len = dv.len() as i64;
        let picked = iv
            .iter()
            .map(|&i| {
                let k = if i < 0 { i + len } else { i };
                usize::try_from(k)
                    .ok()
                    .and_then(|k| dv.get(k).copied())
                    .ok_or_else(|| self.bad_argument("indices", &i.to_string(), "out of range"))
            })
            .collect::<Result<Vec<i64>>>()?;
        Ok(Value::Const(Constant::Int(is, picked), None))
    }

    /// `Unsqueeze` / `Squeeze`: a reshape (of a computed value, or of a constant at import).
    fn squeeze(&mut self, n: &NodeProto, attrs: &Attrs<'_>, unsqueeze: bool) -> Result<Value> {
        let shape = self.shape_of(n, 0)?;
        let axes = match attrs.ints("axes") {
            Some(a) => Some(a),
            None => self.int_list(n, 1, "axes")?,
        };
        let out = if unsqueeze {
            let axes = axes.ok_or_else(|| self.bad_argument("axes", "absent", "it is required"))?;
            let rank = shape.len() + axes.len();
            let mut axes = axes
                .iter()
                .map(|&a| self.axis(a, rank, "axes"))
                .collect::<Result<Vec<_>>>()?;
            axes.sort_unstable();
            let mut out = shape.clone();
            for a in axes {
                out.insert(a.min(out.len()), 1);
            }
            out
        } else {
            let axes = match axes {
                Some(a) => a
                    .iter()
                    .map(|&a| self.axis(a, shape.len(), "axes"))
                    .collect::<Result<Vec<_>>>()?,
                None => (0..shape.len()).filter(|&a| shape[a] == 1).collect(),
            };
            if let Some(&a) = axes.iter().find(|&&a| shape[a] != 1) {
                return Err(self.bad_argument(
                    "axes",
                    &format!("{axes:?}"),
                    &format!("axis {a} has size {}, not 1", shape[a]),
                ));
            }
            (0..shape.len())
                .filter(|a| !axes.contains(a))
                .map(|a| shape[a])
                .collect()
        };
        match self.value(n, 0)? {
            Value::Const(Constant::Int(_, v), name) => {
                Ok(Value::Const(Constant::Int(out, v), name))
            }
            v => self.apply_value(ModelOp::Reshape(Reshape::new(out)), v, vec![]),
        }
    }

    // ---- attributes ---------------------------------------------------------------------

    fn no_auto_pad(&self, attrs: &Attrs<'_>) -> Result<()> {
        match attrs.string("auto_pad").as_deref() {
            None | Some("NOTSET") | Some("VALID") => Ok(()),
            Some(other) => {
                Err(self.unsupported(&format!("auto_pad {other:?} (give explicit pads)")))
            }
        }
    }

    /// An attribute with one positive entry per spatial axis (`default` when absent).
    fn per_axis(
        &self,
        attrs: &Attrs<'_>,
        name: &str,
        spatial: usize,
        default: usize,
    ) -> Result<Vec<usize>> {
        let Some(v) = attrs.ints(name) else {
            return Ok(vec![default; spatial]);
        };
        if v.len() != spatial || v.iter().any(|&x| x < 1) {
            return Err(self.bad_argument(
                name,
                &format!("{v:?}"),
                &format!("it must hold {spatial} positive entries"),
            ));
        }
        Ok(v.iter().map(|&x| x as usize).collect())
    }

    /// `pads` = `[b₁, …, e₁, …]` with `bᵢ = eᵢ` (the padding torch writes), as `[p₁, …]`.
    fn symmetric_pads(&self, attrs: &Attrs<'_>, spatial: usize) -> Result<Vec<usize>> {
        let Some(p) = attrs.ints("pads") else {
            return Ok(vec![0; spatial]);
        };
        if p.len() != 2 * spatial || p.iter().any(|&x| x < 0) {
            return Err(self.bad_argument(
                "pads",
                &format!("{p:?}"),
                &format!("it must hold {} non-negative entries", 2 * spatial),
            ));
        }
        if p[..spatial] != p[spatial..] {
            return Err(self.unsupported(&format!("asymmetric pads {p:?}")));
        }
        Ok(p[..spatial].iter().map(|&x| x as usize).collect())
    }

    fn usize_attr(&self, attrs: &Attrs<'_>, name: &str, default: usize) -> Result<usize> {
        match attrs.int(name) {
            None => Ok(default),
            Some(v) if v >= 1 => Ok(v as usize),
            Some(v) => Err(self.bad_argument(name, &v.to_string(), "it must be at least 1")),
        }
    }

    // ---- errors -------------------------------------------------------------------------

    fn unsupported_op(&self, op_type: &str) -> Error {
        OnnxError::UnsupportedOp {
            node: self.current.node.clone(),
            op_type: op_type.into(),
            supported: SUPPORTED.iter().map(|s| s.to_string()).collect(),
        }
        .into()
    }

    fn unsupported(&self, what: &str) -> Error {
        OnnxError::Unsupported {
            node: self.current.node.clone(),
            op_type: self.current.op_type.clone(),
            what: what.into(),
        }
        .into()
    }

    fn bad_argument(&self, argument: &str, value: &str, reason: &str) -> Error {
        OnnxError::BadArgument {
            node: self.current.node.clone(),
            op_type: self.current.op_type.clone(),
            argument: argument.into(),
            value: value.into(),
            reason: reason.into(),
        }
        .into()
    }
}

/// A node's attributes, looked up by name.
struct Attrs<'a>(&'a [AttributeProto]);

impl<'a> Attrs<'a> {
    fn find(&self, name: &str) -> Option<&'a AttributeProto> {
        self.0.iter().find(|a| a.name.as_deref() == Some(name))
    }
    fn int(&self, name: &str) -> Option<i64> {
        self.find(name).and_then(|a| a.i)
    }
    fn float(&self, name: &str) -> Option<f32> {
        self.find(name).and_then(|a| a.f)
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.find(name).map(|a| a.ints.clone())
    }
    fn string(&self, name: &str) -> Option<String> {
        self.find(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
    fn tensor(&self, name: &str) -> Option<&'a TensorProto> {
        self.find(name).and_then(|a| a.t.as_ref())
    }
}

/// The shape of the graph input: the declared one, with dynamic axes taken from `given`.
fn input_dims(
    name: &str,
    input: &super::proto::ValueInfoProto,
    given: Option<&[usize]>,
) -> Result<Vec<usize>> {
    let dims = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| s.dim.clone());
    let Some(dims) = dims else {
        // No declared shape: the input file decides.
        return given.map(<[usize]>::to_vec).ok_or_else(|| {
            OnnxError::DynamicDim {
                input: name.into(),
                axis: 0,
                param: "(no shape declared)".into(),
            }
            .into()
        });
    };
    let declared: Vec<Option<usize>> = dims
        .iter()
        .map(|d| d.dim_value.and_then(|v| usize::try_from(v).ok()))
        .collect();
    match given {
        Some(g) => {
            let fits = g.len() == declared.len()
                && declared
                    .iter()
                    .zip(g)
                    .all(|(d, &s)| d.is_none_or(|d| d == s));
            if fits {
                Ok(g.to_vec())
            } else {
                Err(OnnxError::InputShape {
                    input: name.into(),
                    model: declared,
                    given: g.to_vec(),
                }
                .into())
            }
        }
        None => declared
            .iter()
            .enumerate()
            .map(|(axis, d)| {
                d.ok_or_else(|| {
                    OnnxError::DynamicDim {
                        input: name.into(),
                        axis,
                        param: dims[axis].dim_param.clone().unwrap_or_else(|| "?".into()),
                    }
                    .into()
                })
            })
            .collect(),
    }
}

fn node_name(n: &NodeProto) -> String {
    match n.name.as_deref() {
        Some(s) if !s.is_empty() => s.into(),
        _ => n.output.first().cloned().unwrap_or_default(),
    }
}

/// The exact value of an attribute's float; NaN and infinities are errors.
fn exact(v: f64, what: &str, b: &Builder) -> Result<Q> {
    Q::from_float(v).ok_or_else(|| b.bad_argument(what, &v.to_string(), "it must be finite"))
}

fn scalar(q: Q) -> Tensor<Q> {
    Tensor::new(vec![], vec![q]).expect("one value for shape []")
}

fn neg() -> ModelOp {
    ModelOp::Polynomial(Polynomial::new(vec![Q::zero(), -Q::one()]))
}

fn add(c: Tensor<Q>) -> ModelOp {
    ModelOp::BroadcastAdd(BroadcastAdd::new(c))
}

fn mul(c: Tensor<Q>) -> ModelOp {
    ModelOp::BroadcastMul(BroadcastMul::new(c))
}

/// The `[cols, rows]` transpose of a row-major `[rows, cols]` matrix.
fn transpose(m: &Tensor<Q>, rows: usize, cols: usize) -> Result<Tensor<Q>> {
    let d = m.data();
    let t = (0..rows * cols).map(|k| d[(k % rows) * cols + k / rows].clone());
    Tensor::new(vec![cols, rows], t.collect())
}
