//! The natural logarithm, elementwise (`torch.log`).

use super::piecewise::step;
use super::pointwise::map_at;
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::{FunctionError, Scalar};
use crate::tensor::Tensor;

/// `f(x)ᵢ = ln xᵢ` (`torch.log`), rule `ln′(x) = 1/x` (torch's backward is `δ / x`).
///
/// Defined for `xᵢ > 0` only. Where torch returns NaN (`xᵢ < 0`) or `−inf` (`xᵢ = 0`), every
/// rule here returns [`crate::Error::OutsideDomain`] naming the coordinate, so the property
/// checks draw another point (counted in [`crate::check::CheckReport::outside_domain_redrawn`])
/// instead of failing. Over `Q` only `ln 1` exists; over [`crate::Ex`] the value is a formal
/// logarithm and the rule `1/x` is rational, so the verdicts are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Log;

/// `1/v` for `v > 0`; outside the domain, the refusal `ln` itself gives.
///
/// Not a choice between pieces (there is one), but a domain test, asked as `[v > 0] = 0` through
/// [`crate::Ordered::select`] instead of the sign: where signs are decided that is `v ≤ 0`; over
/// `Sym`, `[v > 0]` is a mask symbol for any non-constant `v`, so the rule is the rational
/// function `1/v` (the zero polynomial is still refused).
fn reciprocal_in_domain<S: Scalar>(v: &S) -> std::result::Result<S, FunctionError> {
    if !step(v).is_zero() {
        Ok(S::one()
            .checked_div(v)
            .expect("v > 0, or v is not the zero polynomial"))
    } else {
        Err(FunctionError::OutsideDomain {
            function: "ln",
            argument: v.to_string(),
        })
    }
}

impl Log {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Log", reciprocal_in_domain)
    }
}

impl Op for Log {
    fn name(&self) -> String {
        "Log".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Log {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Log", |v| v.ln())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn log_passes_with_every_draw_moved_into_the_domain() {
        // The default entries are ≤ 0 about half the time; `strategy::into_domain` flips the sign
        // of each refused entry, so no point has to be redrawn.
        let report = crate::check_op!(Log, [2, 3], cases(64));
        println!("{report}");
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
        assert_eq!(report.outside_domain_redrawn, 0, "{report}");
    }

    #[test]
    fn a_run_that_cannot_reach_the_domain_says_so() {
        // ln(0·x − 1) is undefined at every x: the run gives up and names the domain, not kinks.
        use crate::Compose;
        let constant = crate::ops::Linear::new(t(&[1, 1], &["0"]), t(&[1], &["-1"])).unwrap();
        let failure = crate::check::check_op(&constant.then(Log), &[1], &cases(16)).unwrap_err();
        assert!(
            matches!(failure.error, crate::Error::NoPointInDomain { .. }),
            "{failure}"
        );
    }

    #[test]
    fn log_values_are_formal_logarithms() {
        let x = t(&[3], &["1", "2", "1/2"]).lift::<crate::Ex>();
        let shown: Vec<_> = Log
            .forward(&x)
            .unwrap()
            .data()
            .iter()
            .map(|v| v.to_string())
            .collect();
        // ln(1/2) stays a formal ln(1/2), not −ln 2: equal reals, different formal forms (the
        // checks never report such a pair as a difference, see `Ex::certify_distinct`).
        assert_eq!(shown, ["0", "ln(2)", "ln(1/2)"]);
    }

    #[test]
    fn log_of_a_negative_entry_is_outside_the_domain() {
        let x = t(&[2, 2], &["2", "1/3", "-3", "4"]).lift::<crate::Ex>();
        let outside = |argument: &str| crate::Error::outside_domain("Log", [1, 0], "ln", &argument);
        assert_eq!(Log.forward(&x), Err(outside("-3")));
        assert_eq!(Log.vjp(&x, &x), Err(outside("-3")));
        let zero = t(&[2, 2], &["2", "1/3", "0", "4"]).lift::<crate::Ex>();
        assert_eq!(Log.forward(&zero), Err(outside("0")));
        assert_eq!(Log.jvp(&zero, &zero), Err(outside("0")));
    }

    #[test]
    fn log_is_outside_the_symbolic_field_without_branching() {
        // ln x has no value over Sym; the rule 1/x does, and its domain test asks no sign.
        assert_outside_field_not_branched(&Log, &[3]);
        let calls = symbolic_calls(&Log, &[3]);
        let ok: Vec<_> = calls
            .iter()
            .filter(|c| c.error.is_none())
            .map(|c| c.rule)
            .collect();
        assert_eq!(ok, ["jvp", "vjp", "guards", "jvp_params", "vjp_params"]);
    }

    planted!(Log1pRule(Log), fn vjp(&op, x, dy) {
        // log1p's rule 1/(1 + x) where log's 1/x belongs (after the domain check, so x > 0).
        op.vjp(x, dy)?;
        let d = x.map(|v| S::one().checked_div(&S::one().add_ref(v)).expect("1 + x > 1"));
        d.hadamard(dy)
    });

    #[test]
    fn planted_log_rule_of_log1p() {
        let c = caught(&Log1pRule(Log), &[2]);
        println!("{c}");
        assert_cx(&c, VJP, &[0], "1/2", "1");
    }
}
