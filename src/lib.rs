pub mod check;
pub mod error;
pub mod ops;
pub mod report;
pub mod scalar;
pub mod strategy;
pub mod tape;
pub mod tensor;

pub use error::{Counterexample, Error, Result};
pub use ops::{Compose, Op, OpSpec};
pub use scalar::{parse_q, Dual, Field, Lift, Ordered, Ring, Scalar, Q};
pub use tensor::Tensor;
