//! Values in messages at any size. Exact values can be huge (a product of 128-bit fractions
//! through a wide layer has thousands of digits, a tensor of a wide layer a million entries), so
//! the text of an error or a proof shortens them; the exact values stay in the data (the
//! error's fields, a proof's tensors, the JSON report).

use crate::tensor::Tensor;
use std::fmt::{self, Display};

/// Digit runs longer than this are shortened; a 64-bit seed (20 digits) and the 128-bit
/// numerators and denominators of the default entries (39 digits) stay whole.
const LONG_NUMBER: usize = 40;
/// The leading digits kept of a shortened number.
const LEADING: usize = 6;
/// Lists with more entries than this, whose text is also longer than [`LONG_LIST_CHARS`], are
/// shortened to their first [`HEAD`] and last [`TAIL`] entries.
const LONG_LIST: usize = 8;
const LONG_LIST_CHARS: usize = 160;
const HEAD: usize = 3;
const TAIL: usize = 2;
/// A text still longer than this after the numbers and lists are shortened (a long expression
/// over [`crate::Ex`], say) keeps its start and end, [`KEEP`] characters each.
const MAX_CHARS: usize = 2000;
const KEEP: usize = 400;

/// `s` made readable at any size, with every part that was left out marked and counted:
///
/// * a number of more than 40 digits becomes its first 6 digits and its digit count:
///   `-31415926535…` with 4013 digits prints as `-314159…(4013 digits)`, and a fraction
///   `p/q` of two such numbers as `-314159…(4013 digits)/271828…(3990 digits)` — the sign, the
///   leading digits and the size stay; `…(N digits)` never appears in an exact value, so a
///   shortened number cannot be mistaken for one;
/// * a list `[a, b, …]` of more than 8 entries whose text is longer than 160 characters keeps
///   its first 3 and last 2 entries around `… N more …` (nested lists, such as a matrix's rows,
///   likewise);
/// * what is still longer than 2000 characters keeps its first and last 400 around
///   `…[N characters]…`.
///
/// Short values are returned unchanged.
///
/// ```
/// use exactgrad::error::shorten;
/// let big = format!("-{}/{}", "7".repeat(4013), "3".repeat(3990));
/// assert_eq!(shorten(&big), "-777777…(4013 digits)/333333…(3990 digits)");
/// assert_eq!(shorten("[1/2, -3]"), "[1/2, -3]");
/// let long: Vec<String> = (0..1000).map(|k| (k * 1_000_003).to_string()).collect();
/// let list = format!("[{}]", long.join(", "));
/// assert_eq!(shorten(&list), "[0, 1000003, 2000006, … 995 more …, 998002994, 999002997]");
/// ```
pub fn shorten(s: &str) -> String {
    head_and_tail(&lists(&numbers(s)))
}

/// A tensor as [`Tensor`]'s `Display` prints it, shortened as [`shorten`] does, without printing
/// the entries that are left out (a tensor of a million entries costs a few of them).
pub(crate) fn tensor<S: Display>(t: &Tensor<S>) -> String {
    if t.len() <= LONG_LIST {
        return shorten(&t.to_string());
    }
    let entry = |v: &S| numbers(&v.to_string());
    let n = t.len();
    let head: Vec<String> = t.data()[..HEAD].iter().map(entry).collect();
    let tail: Vec<String> = t.data()[n - TAIL..].iter().map(entry).collect();
    let shape = if t.shape().len() == 1 {
        String::new()
    } else {
        format!("shape {:?}, row-major ", t.shape())
    };
    shorten(&format!(
        "{shape}[{}, … {} more …, {}]",
        head.join(", "),
        n - HEAD - TAIL,
        tail.join(", ")
    ))
}

/// Displays a value through [`shorten`]: `format!("{}", Short(&v))`.
pub(crate) struct Short<'a, T: ?Sized>(pub &'a T);

impl<T: Display + ?Sized> Display for Short<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shorten(&self.0.to_string()))
    }
}

/// Displays a tensor through [`tensor`].
pub(crate) struct ShortTensor<'a, S>(pub &'a Tensor<S>);

impl<S: Display> Display for ShortTensor<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tensor(self.0))
    }
}

/// `s` with every `Ratio { numer: p, denom: q }` — how `num-rational` debug-prints a rational —
/// written `p/q` (`p` when `q` is 1), as the rational displays itself. Rewriting the text keeps
/// `Debug` available for every scalar (a `Dual<Q>` prints `Dual { re: 1/2, eps: 3 }`), not only
/// those that display themselves.
pub(crate) fn ratios_as_fractions(s: &str) -> String {
    const OPEN: &str = "Ratio { numer: ";
    const MID: &str = ", denom: ";
    const CLOSE: &str = " }";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        let body = &rest[start + OPEN.len()..];
        let Some((numer, denom, len)) = body.find(MID).and_then(|m| {
            let after = &body[m + MID.len()..];
            after
                .find(CLOSE)
                .map(|c| (&body[..m], &after[..c], m + MID.len() + c + CLOSE.len()))
        }) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(numer);
        if denom != "1" {
            out.push('/');
            out.push_str(denom);
        }
        rest = &body[len..];
    }
    out.push_str(rest);
    out
}

/// Debug-prints a value with its rationals as `p/q` ([`ratios_as_fractions`]).
pub(crate) struct Fractions<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Debug + ?Sized> fmt::Debug for Fractions<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&ratios_as_fractions(&format!("{:?}", self.0)))
    }
}

/// `Debug` for a struct, as `derive` writes it but with every rational printed `p/q`:
/// `debug_with_fractions!(Proof<S> { field, … })` for a struct generic over its scalar (with the
/// bound `S: Debug`), `debug_with_fractions!(Op { field, … })` for one that is not.
macro_rules! debug_with_fractions {
    ($ty:ident<S> { $($field:ident),* $(,)? }) => {
        impl<S: std::fmt::Debug> std::fmt::Debug for $ty<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &$crate::error::Fractions(&self.$field)))*
                    .finish()
            }
        }
    };
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &$crate::error::Fractions(&self.$field)))*
                    .finish()
            }
        }
    };
}
pub(crate) use debug_with_fractions;

/// Every run of more than [`LONG_NUMBER`] digits replaced by its leading digits and its length.
fn numbers(s: &str) -> String {
    digit_runs_past(s, LONG_NUMBER)
}

/// Every run of more than `limit` digits in `s` cut to its first 6 digits and its digit count
/// (`-314159…(4013 digits)`); the summaries of big tensors use it with a lower limit.
pub(crate) fn digit_runs_past(s: &str, limit: usize) -> String {
    let mut out = String::with_capacity(s.len().min(4 * MAX_CHARS));
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() > limit.max(LEADING) {
            out.push_str(&run[..LEADING]);
            out.push_str(&format!("…({} digits)", run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Every long bracketed list shortened to its ends, innermost first.
fn lists(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match closing(&rest[open..]) {
            Some(close) => {
                out.push_str(&list(&rest[open + 1..open + close]));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push('[');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of the `]` that closes the `[` at the start of `s`.
fn closing(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `[inner]`, its entries shortened and, when it is long, only its ends kept.
fn list(inner: &str) -> String {
    // Entries are separated by commas outside brackets and parentheses; a matrix's rows by
    // ",\n ".
    let mut entries = Vec::new();
    let (mut depth, mut start) = (0i64, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                entries.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    entries.push(&inner[start..]);
    let entries: Vec<String> = entries.iter().map(|e| lists(e)).collect();
    let joined = entries.join(",");
    if entries.len() <= LONG_LIST || joined.chars().count() <= LONG_LIST_CHARS {
        return format!("[{joined}]");
    }
    let n = entries.len();
    let sep = if entries[1].starts_with('\n') {
        ",\n "
    } else {
        ", "
    };
    format!(
        "[{}{sep}… {} more …{sep}{}]",
        entries[..HEAD].join(","),
        n - HEAD - TAIL,
        entries[n - TAIL..]
            .iter()
            .map(|e| e.trim_start())
            .collect::<Vec<_>>()
            .join(sep)
    )
}

/// `s` itself when short, else its start and end around the number of characters left out.
fn head_and_tail(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_CHARS {
        return s.to_string();
    }
    let head: String = s.chars().take(KEEP).collect();
    let tail: String = s.chars().skip(n - KEEP).collect();
    format!("{head} …[{} characters]… {tail}", n - 2 * KEEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Q;

    #[test]
    fn a_huge_fraction_keeps_sign_leading_digits_and_digit_counts() {
        let p: num_bigint::BigInt = num_bigint::BigInt::from(-31415926535i64).pow(400);
        let q: num_bigint::BigInt = num_bigint::BigInt::from(27182818284i64).pow(399) * 3;
        let v = Q::new(-p.clone(), q.clone());
        let text = shorten(&v.to_string());
        let digits = |n: &num_bigint::BigInt| n.magnitude().to_string().len();
        let lead = |n: &num_bigint::BigInt| n.magnitude().to_string()[..6].to_string();
        // The value is reduced: print its own numerator and denominator.
        let (p, q) = (v.numer().clone(), v.denom().clone());
        assert_eq!(
            text,
            format!(
                "-{}…({} digits)/{}…({} digits)",
                lead(&p),
                digits(&p),
                lead(&q),
                digits(&q)
            )
        );
        assert!(text.len() < 60);
    }

    #[test]
    fn short_values_and_seeds_are_unchanged() {
        for s in [
            "0",
            "-1/3",
            "[1, 2]",
            "18446744073709551615",
            "x = [1/2, 3]",
        ] {
            assert_eq!(shorten(s), s);
        }
    }

    #[test]
    fn a_long_matrix_keeps_its_first_and_last_rows_and_entries() {
        let t = Tensor::new(
            vec![20, 20],
            (0..400)
                .map(|k| Q::from_integer((k * 100_000).into()))
                .collect(),
        );
        let text = shorten(&t.unwrap().to_string());
        assert!(
            text.starts_with("[[0, 100000, 200000, … 15 more …, 1800000, 1900000],\n [2000000,"),
            "{text}"
        );
        assert!(text.contains(",\n … 15 more …,\n [36000000,"), "{text}");
        assert!(text.ends_with("39800000, 39900000]]"), "{text}");
    }

    #[test]
    fn a_tensor_is_shortened_without_printing_it_whole() {
        let t = Tensor::new(
            vec![1000, 1000],
            vec![Q::new(1.into(), 3.into()); 1_000_000],
        );
        let text = tensor(&t.unwrap());
        assert_eq!(
            text,
            "shape [1000, 1000], row-major [1/3, 1/3, 1/3, … 999995 more …, 1/3, 1/3]"
        );
        let v = Tensor::from_vec(vec![Q::from_integer(2.into()); 3]);
        assert_eq!(tensor(&v), "[2, 2, 2]");
    }

    #[test]
    fn an_unbalanced_or_huge_text_keeps_its_ends() {
        assert_eq!(shorten("[1, [2"), "[1, [2");
        let s = "ab".repeat(5000);
        let short = shorten(&s);
        assert!(short.contains("…[9200 characters]…"));
        assert!(short.chars().count() < 900);
    }
}
