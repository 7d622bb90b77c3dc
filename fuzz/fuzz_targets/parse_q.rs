//! `parse_q` on any text: a value or a typed error, never a panic or a hang; and a value read
//! back from its exact `p/q` form is the same value. Inputs with large exponents are skipped
//! (see [`MAX_WRITTEN_EXPONENTS`]).
#![no_main]

use exactgrad::scalar::{exact_string, parse_q, MAX_EXPONENT};
use libfuzzer_sys::fuzz_target;

/// Inputs whose exponents add up to more than this are skipped. A literal is computed exactly,
/// so `1e-10000` is a 33,000-bit number, and reading it back from `p/q` (a binary gcd in
/// `num-bigint`, quadratic in the bits) takes about 30 ms under the address sanitizer and the
/// coverage tracing: a cost by design (`MAX_EXPONENT`, unit-tested at the bound), not a bug, which
/// kept the fuzzer at a few hundred executions a second exploring `num-bigint`'s large-number
/// paths. 400 covers every `f64` literal (`1.7976931348623157e308`, `4.9e-324`); exponents beyond
/// `MAX_EXPONENT` still run, as they are refused at once.
const MAX_WRITTEN_EXPONENTS: u32 = 400;

/// The sum of the decimal exponents written in `text` (`1e300`, `2E-5`) that `parse_q` would
/// compute, i.e. those within ±`MAX_EXPONENT`; exponents beyond it count 0, since they are
/// refused before anything is computed.
fn written_exponents(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut sum = 0u32;
    for (i, b) in bytes.iter().enumerate() {
        if !matches!(b, b'e' | b'E') {
            continue;
        }
        let rest = &bytes[i + 1..];
        let rest = rest
            .strip_prefix(b"-")
            .or(rest.strip_prefix(b"+"))
            .unwrap_or(rest);
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let significant = rest[..digits].iter().skip_while(|&&b| b == b'0');
        let mut value = 0u32;
        for &d in significant {
            value = value.saturating_mul(10).saturating_add(u32::from(d - b'0'));
        }
        if value <= MAX_EXPONENT {
            sum = sum.saturating_add(value);
        }
    }
    sum
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if written_exponents(text) > MAX_WRITTEN_EXPONENTS {
        return;
    }
    if let Ok(q) = parse_q(text) {
        assert_eq!(parse_q(&exact_string(&q)).as_ref(), Ok(&q), "{text:?}");
    }
});
