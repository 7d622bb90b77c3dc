//! The weights-file reader behind `--weights` ([`exactgrad::report::read_weights`]): any text
//! gives a case or a typed error naming a field, never a panic; a case read is written back in
//! the `--json` layout and read again to the same case, and its theorem is checked when the
//! network is small.
//!
//! Input: the file's bytes (UTF-8 only; the binary refuses other files before parsing).
//! Inputs with large exponents are skipped for the reason the `parse_q` target gives.
#![no_main]

use exactgrad::check::{deep_mlp_theorem, mlp_theorem};
use exactgrad::report::{case_json, read_weights, Network};
use exactgrad::Error;
use libfuzzer_sys::fuzz_target;

/// As in the `parse_q` target: a literal near `1e±10000` costs tens of milliseconds under the
/// address sanitizer, a cost by design.
const MAX_WRITTEN_EXPONENTS: usize = 400;

/// A rough upper bound on the exponents written: every run of digits after an `e` or `E`.
fn written_exponents(text: &str) -> usize {
    let mut total = 0usize;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if matches!(b, b'e' | b'E') {
            let digits: String = bytes[i + 1..]
                .iter()
                .skip_while(|c| matches!(c, b'+' | b'-'))
                .take_while(|c| c.is_ascii_digit())
                .map(|&c| c as char)
                .collect();
            total = total.saturating_add(digits.parse::<usize>().unwrap_or(usize::MAX).min(10_001));
        }
    }
    total
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if written_exponents(text) > MAX_WRITTEN_EXPONENTS {
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
