//! What can be wrong with an ONNX model, as data: the node, its op type, the tensor, the axis.

use crate::error::shorten;
use thiserror::Error;

/// Every op type the importer maps (the list an unsupported op's error shows).
pub const SUPPORTED: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "Div",
    "Exp",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "Identity",
    "LeakyRelu",
    "Log",
    "LogSoftmax",
    "MatMul",
    "MaxPool",
    "Mul",
    "Neg",
    "Pad",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Squeeze",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
];

/// A model the importer cannot read or cannot represent exactly.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OnnxError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// What the system reported.
        reason: String,
    },
    /// The bytes are not an ONNX protobuf (truncated, corrupted, or another file).
    #[error("not a readable ONNX model: {reason}")]
    Decode {
        /// What the protobuf decoder reported.
        reason: String,
    },
    /// The model has no graph.
    #[error("the ONNX model has no graph")]
    NoGraph,
    /// The default domain's opset is older than the first one supported.
    #[error("the model uses opset {version}; opset 13 or later is supported")]
    Opset {
        /// The model's opset version (0 when it declares none).
        version: i64,
    },
    /// A node whose op type has no mapping.
    #[error(
        "node {node:?}: op type {op_type:?} is not supported; supported: {}",
        supported.join(", ")
    )]
    UnsupportedOp {
        /// The node's name (or its first output when unnamed).
        node: String,
        /// Its op type, with its domain when not the standard one.
        op_type: String,
        /// The op types that are mapped.
        supported: Vec<String>,
    },
    /// A supported op used in a way the importer does not map (an attribute value, a constant
    /// where a computed tensor is needed, or the reverse).
    #[error("node {node:?} ({op_type}): {what} is not supported")]
    Unsupported {
        /// The node.
        node: String,
        /// Its op type.
        op_type: String,
        /// What about it.
        what: String,
    },
    /// An attribute or constant operand with a value the op does not accept.
    #[error("node {node:?} ({op_type}): {argument} = {value}: {reason}")]
    BadArgument {
        /// The node.
        node: String,
        /// Its op type.
        op_type: String,
        /// The attribute or operand.
        argument: String,
        /// Its value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A node reads a value no earlier node, initializer or graph input defines.
    #[error("node {node:?} ({op_type}) reads {value:?}, which nothing before it defines")]
    UndefinedValue {
        /// The node.
        node: String,
        /// Its op type.
        op_type: String,
        /// The missing value's name.
        value: String,
    },
    /// The graph has no input besides its initializers, or several.
    #[error("the graph must have exactly one input that is not an initializer; it has {inputs:?}")]
    InputCount {
        /// The non-initializer inputs.
        inputs: Vec<String>,
    },
    /// The graph has no output, or several.
    #[error("the graph must have exactly one output; it has {outputs:?}")]
    OutputCount {
        /// The outputs.
        outputs: Vec<String>,
    },
    /// An input axis whose size the model leaves open and no input file fixes.
    #[error("input {input:?} axis {axis} has the dynamic size {param:?}; give an input file (--input) to fix it")]
    DynamicDim {
        /// The graph input.
        input: String,
        /// The axis.
        axis: usize,
        /// The symbolic size's name.
        param: String,
    },
    /// The input given does not fit the model's declared input shape (`None` = dynamic).
    #[error("input {input:?}: the model declares shape {model:?} (None = any size) but the input has shape {given:?}")]
    InputShape {
        /// The graph input.
        input: String,
        /// Its declared shape.
        model: Vec<Option<usize>>,
        /// The shape given.
        given: Vec<usize>,
    },
    /// A tensor whose data type has no exact import.
    #[error("tensor {tensor:?}: data type {data_type} is not supported (float, double, float16, bfloat16, int32, int64 are)")]
    DataType {
        /// The tensor.
        tensor: String,
        /// The ONNX `DataType` code.
        data_type: i32,
    },
    /// A tensor stored outside the model file.
    #[error("tensor {tensor:?} is stored in an external file, which is not read")]
    ExternalData {
        /// The tensor.
        tensor: String,
    },
    /// A tensor whose data does not match its shape.
    #[error(
        "tensor {tensor:?}: shape {shape:?} needs {expected} values but the data holds {found}"
    )]
    TensorData {
        /// The tensor.
        tensor: String,
        /// Its declared shape.
        shape: Vec<i64>,
        /// Values the shape needs (`None` when the shape is negative or overflows).
        expected: String,
        /// Values found.
        found: usize,
    },
    /// NaN or an infinity in a weight or constant.
    #[error("tensor {tensor:?} holds {value} at {coordinate:?}, not a finite number")]
    NotFinite {
        /// The tensor.
        tensor: String,
        /// Where.
        coordinate: Vec<usize>,
        /// `NaN`, `inf` or `-inf`.
        value: String,
    },
    /// The output does not depend on the input through differentiable ops.
    #[error("output {output:?} does not depend on input {input:?} through differentiable ops: there is nothing to check")]
    NoDifferentiablePath {
        /// The graph input.
        input: String,
        /// The graph output.
        output: String,
    },
    /// A node whose op rejected its operands (a shape mismatch, a bad stride): the op's own
    /// typed error, with the node it came from.
    #[error("node {node:?} ({op_type}): {source}")]
    InNode {
        /// The node.
        node: String,
        /// Its op type.
        op_type: String,
        /// The op's error.
        source: Box<crate::Error>,
    },
}

impl OnnxError {
    /// An [`OnnxError::Decode`] from prost's error, its text shortened.
    pub fn decode(e: &prost::DecodeError) -> Self {
        OnnxError::Decode {
            reason: shorten(&e.to_string()),
        }
    }
}
