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

/// The exponents written that `parse_q` would compute: every run of digits after an `e` or `E`
/// (an over-count, since it includes digits after an `e` outside a literal), counting those
/// beyond ±10,000 as 0 since they are refused before anything is computed.
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
            // No digits (the `e` of "delta", "shape") counts 0; digits too many for usize count
            // as past the bound, where literals are refused at once.
            let exponent = match digits.parse::<usize>() {
                _ if digits.is_empty() => 0,
                Ok(n) if n <= 10_000 => n,
                _ => 0,
            };
            total = total.saturating_add(exponent);
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
