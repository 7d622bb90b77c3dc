//! `parse_q` on any text: a value or a typed error, never a panic or a hang; and a value read
//! back from its exact `p/q` form is the same value. Inputs with large exponents are skipped
//! (see `exponents::MAX_WRITTEN_EXPONENTS`).
#![no_main]

use exactgrad::scalar::{exact_string, parse_q};
use libfuzzer_sys::fuzz_target;

#[path = "common/exponents.rs"]
mod exponents;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if exponents::too_costly(text) {
        return;
    }
    if let Ok(q) = parse_q(text) {
        assert_eq!(parse_q(&exact_string(&q)).as_ref(), Ok(&q), "{text:?}");
    }
});
