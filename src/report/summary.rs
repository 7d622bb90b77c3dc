//! A tensor too large to print as a one-line summary: its shape, its entry of largest absolute
//! value shortened to its sign, leading digits and digit counts, and a digest of every entry, so
//! a derivation of a 784 × 512 network stays a page while two runs can still be compared.

use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;
use std::fmt;

/// How much of each tensor a derivation prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// In full when the report holds at most [`SUMMARY_ABOVE`] values in all, else summaries.
    #[default]
    Auto,
    /// Every value, however many (`--full`).
    Full,
    /// A summary per tensor, however few values (`--summary`).
    Summary,
}

/// The number of values (all tensors of a report together) above which [`Detail::Auto`] prints
/// summaries: about 4,000 short fractions are some 40 KB of text, a 784 → 512 → 10 network
/// 2 MB.
pub const SUMMARY_ABOVE: usize = 4096;

impl Detail {
    /// Whether a report holding `values` values in all is printed as summaries.
    pub fn summarises(self, values: usize) -> bool {
        match self {
            Detail::Auto => values > SUMMARY_ABOVE,
            Detail::Full => false,
            Detail::Summary => true,
        }
    }
}

/// Integers of more digits than this are shortened in a summary.
const SHORT_NUMBER: usize = 12;

/// An exact number as printed (`-123/45`), each integer part longer than 12 digits cut to its
/// leading digits and its digit count, as error messages cut theirs past 40
/// ([`crate::error::shorten`]): `-123456…(40 digits)/789012…(38 digits)`.
pub fn shorten_number(s: &str) -> String {
    crate::error::digit_runs_past(s, SHORT_NUMBER)
}

/// FNV-1a (64 bits) of the entries as printed, each followed by `,`: the same tensor always
/// gives the same 16 hex digits, on any machine and version (Rust's own hasher promises
/// neither). `scripts/verify_json.py` recomputes it from the JSON.
pub fn digest<S: fmt::Display>(t: &Tensor<S>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in t.data() {
        for b in v.to_string().bytes().chain(std::iter::once(b',')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The multi-index and value of the entry of largest absolute value (the first on a tie).
fn largest<S: Scalar>(t: &Tensor<S>) -> Option<(Vec<usize>, &S)> {
    let mut best: Option<(usize, S)> = None;
    for (i, v) in t.data().iter().enumerate() {
        let a = v.abs_val();
        if best
            .as_ref()
            .is_none_or(|(_, b)| a.sub_ref(b).sign() == Ordering::Greater)
        {
            best = Some((i, a));
        }
    }
    best.map(|(i, _)| (t.multi_index(i), &t.data()[i]))
}

/// One tensor of a derivation: its usual print, or its summary.
pub(crate) struct Shown<'a, S> {
    pub(crate) tensor: &'a Tensor<S>,
    pub(crate) summary: bool,
    /// Columns of indentation for the rows after the first of a matrix.
    pub(crate) indent: usize,
}

impl<S: Scalar> fmt::Display for Shown<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tensor;
        if !self.summary {
            let pad = format!("\n{}", " ".repeat(self.indent));
            return write!(f, "{}", t.to_string().replace('\n', &pad));
        }
        write!(f, "shape {:?}", t.shape())?;
        if let Some((at, v)) = largest(t) {
            write!(
                f,
                ", largest |entry| {} at {at:?}",
                shorten_number(&v.to_string())
            )?;
        }
        write!(f, ", digest {}", digest(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Q;

    #[test]
    fn long_numbers_keep_sign_leading_digits_and_counts() {
        assert_eq!(shorten_number("-3/7"), "-3/7");
        assert_eq!(
            shorten_number("-12345678901234567890/3"),
            "-123456…(20 digits)/3"
        );
        assert_eq!(shorten_number("1/1000000000000000"), "1/100000…(16 digits)");
    }

    #[test]
    fn a_summary_names_shape_largest_entry_and_digest() {
        let t: Tensor<Q> = Tensor::parse(vec![2, 2], &["1/2", "-7", "3", "0"]).unwrap();
        let shown = Shown {
            tensor: &t,
            summary: true,
            indent: 0,
        }
        .to_string();
        assert_eq!(
            shown,
            format!(
                "shape [2, 2], largest |entry| -7 at [0, 1], digest {}",
                digest(&t)
            )
        );
        // The digest sees every entry.
        let u: Tensor<Q> = Tensor::parse(vec![2, 2], &["1/2", "-7", "3", "1"]).unwrap();
        assert_ne!(digest(&t), digest(&u));
        // FNV-1a of "1,": a fixed value, so a digest printed today matches one printed later.
        let one: Tensor<Q> = Tensor::parse(vec![1], &["1"]).unwrap();
        assert_eq!(digest(&one), "07f89607b4ba0f70");
    }

    #[test]
    fn auto_summarises_only_above_the_threshold() {
        assert!(!Detail::Auto.summarises(SUMMARY_ABOVE));
        assert!(Detail::Auto.summarises(SUMMARY_ABOVE + 1));
        assert!(Detail::Summary.summarises(1));
        assert!(!Detail::Full.summarises(usize::MAX));
    }
}
