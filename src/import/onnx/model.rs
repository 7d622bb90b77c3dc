//! An imported model: the exact graph, where each of its nodes came from, and which
//! initializers are its parameters.

use super::error::OnnxError;
use super::nodes::Builder;
use super::op::ModelOp;
use super::proto::{decode_model, ModelProto};
use crate::error::{Error, Result};
use crate::ops::Op;
use crate::scalar::{Ring, Q};
use crate::tape::Graph;
use crate::tensor::Tensor;
use std::path::Path;

/// The largest model file read (protobuf's own limit is 2 GiB).
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Where a node of the exact graph comes from: the ONNX node (or the graph input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The ONNX node's name (its first output's name when it has none).
    pub node: String,
    /// Its op type.
    pub op_type: String,
}

/// How an initializer is laid out inside the op that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// As in the file (reshaped to the op's shape).
    Same,
    /// The file holds the transpose of the op's matrix (`MatMul`'s `[in, out]` weights, `Gemm`
    /// with `transB = 0`).
    Transposed,
    /// The op holds `−c` (`Sub` of a constant).
    Negated,
}

/// One initializer held by an op as (part of) its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The initializer's name (for a PyTorch export, the parameter's name, e.g. `fc1.weight`).
    pub initializer: String,
    /// Its value, in the file's shape.
    pub value: Tensor<Q>,
    /// The op holding it (its registration number in the graph).
    pub op: usize,
    /// Where it starts in that op's flat parameter vector.
    pub offset: usize,
    /// How the op holds it.
    pub layout: Layout,
}

/// An ONNX model imported exactly: a [`Graph`] of [`ModelOp`]s (itself an op, so every check
/// of the crate applies to it), with the names a user knows the model by.
#[derive(Clone, Debug)]
pub struct Model {
    pub(super) graph: Graph<ModelOp>,
    pub(super) input: String,
    pub(super) output: String,
    pub(super) origins: Vec<Origin>,
    pub(super) links: Vec<Link>,
    pub(super) opset: i64,
    pub(super) producer: String,
}

impl Model {
    /// Reads a model file. `input_shape` (the shape of the input that will be fed, e.g. an
    /// `.npy` file's) fixes dynamic axes; without it every axis must be fixed in the model.
    pub fn load(path: &Path, input_shape: Option<&[usize]>) -> Result<Model> {
        let read = |reason: String| {
            Error::from(OnnxError::Read {
                path: path.display().to_string(),
                reason,
            })
        };
        let meta = std::fs::metadata(path).map_err(|e| read(e.to_string()))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(read(format!(
                "{} bytes, more than the {MAX_FILE_BYTES} read",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| read(e.to_string()))?;
        Model::from_bytes(&bytes, input_shape)
    }

    /// Imports a model from the bytes of an `.onnx` file (see [`Model::load`]).
    pub fn from_bytes(bytes: &[u8], input_shape: Option<&[usize]>) -> Result<Model> {
        let proto = decode_model(bytes).map_err(|e| OnnxError::decode(&e))?;
        Model::from_proto(&proto, input_shape)
    }

    /// Imports a decoded model.
    pub fn from_proto(proto: &ModelProto, input_shape: Option<&[usize]>) -> Result<Model> {
        let opset = proto
            .opset_import
            .iter()
            .filter(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
            .filter_map(|o| o.version)
            .max()
            .unwrap_or(0);
        if opset < 13 {
            return Err(OnnxError::Opset { version: opset }.into());
        }
        let graph = proto.graph.as_ref().ok_or(OnnxError::NoGraph)?;
        let mut model = Builder::build(graph, input_shape)?;
        model.opset = opset;
        model.producer = format!(
            "{} {}",
            proto.producer_name.as_deref().unwrap_or("unknown"),
            proto.producer_version.as_deref().unwrap_or("")
        )
        .trim()
        .to_string();
        Ok(model)
    }

    /// The exact graph (an op: forward, JVP, VJP and parameter rules of the whole model).
    pub fn graph(&self) -> &Graph<ModelOp> {
        &self.graph
    }

    /// The graph input's name.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    /// The input shape (dynamic axes fixed by the input given at import).
    pub fn input_shape(&self) -> &[usize] {
        self.graph
            .shape(self.graph.input())
            .expect("the input node exists")
    }

    /// The graph output's name.
    pub fn output_name(&self) -> &str {
        &self.output
    }

    /// The output shape.
    pub fn output_shape(&self) -> &[usize] {
        self.graph
            .shape(self.graph.output())
            .expect("the output node exists")
    }

    /// The ONNX node that graph node `k` came from.
    pub fn origin(&self, k: usize) -> Option<&Origin> {
        self.origins.get(k)
    }

    /// The default domain's opset version.
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// What wrote the file (`producer_name producer_version`).
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// The initializers the ops hold as parameters, each once, in the order first used, with
    /// their values in the file's shapes.
    pub fn parameters(&self) -> Vec<(String, Tensor<Q>)> {
        let mut out: Vec<(String, Tensor<Q>)> = Vec::new();
        for l in &self.links {
            if !out.iter().any(|(n, _)| *n == l.initializer) {
                out.push((l.initializer.clone(), l.value.clone()));
            }
        }
        out
    }

    /// The gradient of each parameter initializer (in the order of [`Model::parameters`], in
    /// the file's shapes) from the graph's flat parameter cotangent `flat` (what
    /// [`crate::OpSpec::vjp_params`] of [`Model::graph`] returns). An initializer held by
    /// several ops gets the sum of their gradients.
    pub fn parameter_gradients<S: Ring>(
        &self,
        flat: &Tensor<S>,
    ) -> Result<Vec<(String, Tensor<S>)>> {
        let ops = self.graph.ops();
        let mut starts = Vec::with_capacity(ops.len());
        let mut total = 0usize;
        for op in ops {
            starts.push(total);
            total += op.param_count();
        }
        flat.expect_shape(&[total], "Model: flat parameter gradient")?;
        let mut out: Vec<(String, Tensor<S>)> = Vec::new();
        for l in &self.links {
            let start = starts[l.op] + l.offset;
            let part = &flat.data()[start..start + l.value.len()];
            let shape = l.value.shape().to_vec();
            let data: Vec<S> = match l.layout {
                Layout::Same => part.to_vec(),
                Layout::Negated => part.iter().map(Ring::neg_ref).collect(),
                // The op holds the [b, a] transpose of the file's [a, b] matrix.
                Layout::Transposed => {
                    let (a, b) = (shape[0], shape[1]);
                    (0..a * b)
                        .map(|k| part[(k % b) * a + k / b].clone())
                        .collect()
                }
            };
            let g = Tensor::new(shape, data)?;
            match out.iter_mut().find(|(n, _)| *n == l.initializer) {
                Some((_, sum)) => *sum = sum.add(&g)?,
                None => out.push((l.initializer.clone(), g)),
            }
        }
        Ok(out)
    }
}
