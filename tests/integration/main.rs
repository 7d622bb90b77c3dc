//! The integration tests of `exactgrad`, one crate (one link of the library) with one module per
//! theorem or capability. Unit tests of single ops live beside the ops in `src/`.
//!
//! Proptest keeps failing seeds of this crate under `tests/proptest-regressions/` (its default
//! `SourceParallel` persistence, resolved from this `main.rs`): `kernels.txt` for the module
//! `kernels`, and so on.

mod common;

mod adjoint;
mod cli;
mod cli_io;
mod comparisons;
mod deep_mlp;
mod exp_field;
mod failure_text;
mod fderiv;
mod jacobian;
mod jet;
mod kernels;
mod kinks;
mod modular;
mod mutants;
mod npy;
mod onnx;
mod parameters;
mod poles;
mod randomized;
mod robustness;
mod scale;
mod second_order;
mod stages;
mod steering;
mod suite;
mod tape;
mod theorem;
mod torch_conv;
mod torch_pool;
