//! Reading what other frameworks write, exactly: ONNX models and NumPy tensor files.
//!
//! A float is a dyadic rational, so every finite value read here becomes the exact [`crate::Q`]
//! it stands for; nothing is rounded on the way in.

pub mod npy;
pub mod onnx;
