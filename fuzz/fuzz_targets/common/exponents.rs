//! The exponent filter shared by the targets that parse literals (`parse_q`, `tensor_parse`,
//! `weights`), included by each with `#[path]`.

use exactgrad::scalar::MAX_EXPONENT;

/// Inputs whose exponents add up to more than this are skipped. A literal is computed exactly,
/// so `1e-10000` is a 33,000-bit number, and reading it back from `p/q` or printing it (a binary
/// gcd and a decimal conversion in `num-bigint`, quadratic in the bits) takes tens of
/// milliseconds under the address sanitizer and the coverage tracing: a cost by design
/// (`MAX_EXPONENT`, unit-tested at the bound), not a bug, which kept the fuzzer at a few hundred
/// (`parse_q`) or about 60 (`tensor_parse`) executions a second exploring `num-bigint`'s
/// large-number paths. 400 covers every `f64` literal (`1.7976931348623157e308`, `4.9e-324`);
/// exponents beyond `MAX_EXPONENT` still run, as they are refused at once.
pub const MAX_WRITTEN_EXPONENTS: u32 = 400;

/// The sum of the decimal exponents written in `text` (`1e300`, `2E-5`) that `parse_q` would
/// compute, i.e. those within ±`MAX_EXPONENT`; exponents beyond it count 0, since they are
/// refused before anything is computed. An `e` outside a literal (`"delta"`) with no digits
/// after it counts 0.
pub fn written_exponents(text: &str) -> u32 {
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

/// Whether `text` is skipped: its exponents add up to more than [`MAX_WRITTEN_EXPONENTS`].
pub fn too_costly(text: &str) -> bool {
    written_exponents(text) > MAX_WRITTEN_EXPONENTS
}
