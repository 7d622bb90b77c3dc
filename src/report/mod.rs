//! Human-readable derivations and machine-readable exact output of the checks, and the inputs
//! of a run: the built-in example, seeded random networks and weights files.

mod case;
mod deep_derivation;
mod derivation;
mod error_json;
mod exact;
mod json;
mod model_check;
mod showcase;
mod summary;
mod weights;

pub use case::{Case, Network};
pub use derivation::Derivation;
pub use error_json::error_json;
pub use exact::{ExactQ, ExactTensor};
pub use json::{
    case_json, deep_theorem_json, failure_json, tensor_json, theorem_json, write_deep_theorem_json,
    write_theorem_json, DEEP_KIND, MLP_KIND, SCHEMA,
};
pub use model_check::{ModelCheck, Text as ModelCheckText};
pub use showcase::{
    attempt_seed, builtin_example, first_deep_draw, first_draw, is_deep_degenerate, is_degenerate,
    random_deep_example, random_example, MAX_DRAWS,
};
pub use summary::{digest, shorten_number, Detail, SUMMARY_ABOVE};
pub use weights::{read_weights, MAX_SIZE};
