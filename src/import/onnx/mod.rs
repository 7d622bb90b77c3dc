//! ONNX models, as `torch.onnx.export` writes them, imported into an exact graph.
//!
//! The file is decoded by prost ([`proto`]), its weights read exactly (`tensor.rs`: a float32,
//! float64, float16 or bfloat16 value is the dyadic rational it stands for), and its nodes
//! translated into ops of this crate ([`ModelOp`]) on a [`crate::tape::Graph`]. The result, a
//! [`Model`], is an op like any other: its forward pass, JVP, VJP and parameter gradients are
//! exact, and every check of the crate applies to it.

mod error;
mod model;
mod nodes;
mod op;
pub mod proto;
mod tensor;

pub use error::{OnnxError, SUPPORTED};
pub use model::{Layout, Link, Model, Origin, MAX_FILE_BYTES};
pub use op::ModelOp;
pub use tensor::{constant, Constant, MAX_VALUES};
