//! The piece choices shared by piecewise ops, all made through [`crate::Ordered::select`].
//!
//! An op never asks for the sign of a value that depends on its input (DESIGN.md, "Scalars to
//! come"): over `Q`, `f64` and `Ex` a selection is decided by the sign, so every value below is
//! what an `if` on the sign gave; over `Dual` and `Jet` the real part decides; over
//! [`crate::Sym`] each guard becomes a mask symbol, so one evaluation covers every piece.

use crate::scalar::Scalar;

/// `[v > 0]`: 1 or 0 where signs are decided, a mask symbol `m` over `Sym`.
#[track_caller]
pub(crate) fn step<S: Scalar>(v: &S) -> S {
    S::select(v, S::one(), S::zero())
}

/// `sign(v)` as 1, −1, or 0 at `v = 0` exactly: the two selects are nested so that the value at
/// the kink stays 0 (over `Sym` it reduces to `2m − 1`, as `m² = m`).
#[track_caller]
pub(crate) fn signum<S: Scalar>(v: &S) -> S {
    let minus_one = S::one().neg_ref();
    // The inner selection is made from here (a closure does not pass the caller on), so the
    // caller's site records the sign of `v` only, not that of `−v` too.
    let below = || S::select(&v.neg_ref(), minus_one, S::zero());
    S::select(v, S::one(), below())
}

/// Whether `v` is a kink: `v = 0` as the sign reads it (the real part for dual numbers and
/// jets). Asked through [`signum`] rather than `is_zero`, which compares tangents too; over `Sym`
/// only the zero polynomial is a kink.
#[track_caller]
pub(crate) fn is_kink<S: Scalar>(v: &S) -> bool {
    signum(v).is_zero()
}

/// [`crate::Ordered::select`] when the `otherwise` piece may have no value in the scalar (`e^v`
/// over `Q` for `v ≠ 0`). Both pieces are evaluated, as a selection needs; the refusal of
/// `otherwise` is returned unless the selection certainly takes `if_positive` (`[guard > 0]` is
/// exactly 1, which over `Sym` it never is for a non-constant guard), so over `Q` the result is
/// what evaluating only the chosen piece gave.
#[track_caller]
pub(crate) fn select_else<S: Scalar, E>(
    guard: &S,
    if_positive: S,
    otherwise: std::result::Result<S, E>,
) -> std::result::Result<S, E> {
    match otherwise {
        Ok(b) => Ok(S::select(guard, if_positive, b)),
        Err(_) if step(guard).is_one() => Ok(if_positive),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::symbols::{fresh, scoped, take_refusals};
    use crate::scalar::{Dual, Ring, Sym, Q};
    use num_traits::One;

    fn q(n: i64) -> Q {
        Q::from_integer(n.into())
    }

    #[test]
    fn step_and_signum_are_the_sign_over_q_and_masks_over_sym() {
        assert_eq!([3, 0].map(|v| step(&q(v))), [q(1), q(0)]);
        assert_eq!([3, -2, 0].map(|v| signum(&q(v))), [q(1), q(-1), q(0)]);
        scoped(|| {
            let x = Sym::symbol(fresh("x"));
            let m = step(&x);
            assert_eq!(signum(&x), m.add_ref(&m).sub_ref(&Sym::one()));
            assert!(take_refusals().is_empty());
        });
    }

    #[test]
    fn a_kink_is_a_zero_as_the_sign_reads_it() {
        assert_eq!([3, -2, 0].map(|v| is_kink(&q(v))), [false, false, true]);
        // A dual number is a kink by its real part alone.
        assert!(is_kink(&Dual::new(q(0), q(5))));
        scoped(|| {
            let x = Sym::symbol(fresh("x"));
            assert!(!is_kink(&x));
            assert!(is_kink(&x.sub_ref(&x)));
            assert!(take_refusals().is_empty());
        });
    }

    #[test]
    fn a_refused_piece_matters_only_where_it_can_be_taken() {
        let refused = || Err::<Q, _>("refused");
        assert_eq!(select_else(&q(1), q(7), refused()), Ok(q(7)));
        assert_eq!(select_else(&q(0), q(7), refused()), Err("refused"));
        assert_eq!(select_else(&q(0), q(7), Ok::<_, &str>(q(8))), Ok(q(8)));
        scoped(|| {
            let x = Sym::symbol(fresh("x"));
            let refused: Result<Sym, &str> = Err("refused");
            assert_eq!(select_else(&x, x.clone(), refused), Err("refused"));
            assert!(take_refusals().is_empty());
        });
    }
}
