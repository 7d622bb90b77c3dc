//! The weights-file reader behind `--weights` ([`exactgrad::report::read_weights`]): any text
//! gives a case or a typed error naming a field, never a panic; a case read is written back in
//! the `--json` layout and read again to the same case, and its theorem is checked when the
//! network is small.
//!
//! Input: the file's bytes (UTF-8 only; the binary refuses other files before parsing).
//! Inputs with large exponents are skipped (see `common/exponents.rs`).
#![no_main]

use exactgrad::check::{deep_mlp_theorem, mlp_theorem};
use exactgrad::report::{case_json, read_weights, Network};
use exactgrad::Error;
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
    let case = match read_weights(text) {
        Ok(case) => case,
        Err(e) => {
            assert!(
                matches!(e, Error::InvalidArgument { .. }),
                "a defect of the file is an InvalidArgument naming the field: {e:?}"
            );
            return;
        }
    };
    // Written back in the layout it was read from, it reads back to the same case.
    let again = read_weights(&case_json(&case).to_string())
        .expect("what was read is written back readable");
    assert_eq!(again, case);
    // Small networks are checked: a kink is an error, never a panic.
    let widths = case.network.widths();
    if widths.iter().sum::<usize>() <= 12 {
        let _ = match &case.network {
            Network::Mlp(mlp) => mlp_theorem(mlp, &case.x, &case.delta).map(|_| ()),
            Network::Deep(net) => deep_mlp_theorem(net, &case.x, &case.delta).map(|_| ()),
        };
    }
});
