//! Human-readable derivations and machine-readable exact output of the checks.

mod derivation;
mod json;
mod showcase;

pub use json::{tensor_json, theorem_json};
pub use showcase::{builtin_example, random_example};
