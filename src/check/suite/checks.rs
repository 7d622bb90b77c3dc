//! The checks every case runs, as one table: how a report lists each, when it applies, whether it
//! needs the derivative, and how it runs. The runner, the report and [`super::check_kinks`] all
//! read this table, so a new check is one entry here. The table is generic over the exact scalar
//! `B` the checks decide over (`Q`, or `Ex` for ops with `exp` and `ln`).

use super::case::{Case, Over};
use super::parameters::on_parameters;
use crate::check::structural::{
    batched_equals_looped, deterministic, interleaved, linear_in_cotangent, linear_in_tangent,
    zero_tangents,
};
use crate::check::{adjoint, fderiv, jacobian};
use crate::error::{Error, Result};
use crate::ops::{no_kinks, CheckableOver, Exact};

/// What a run checks: the op, and for [`super::check_batched`] the per-sample op that the op
/// must equal when looped over the batch.
#[derive(Clone, Copy)]
pub(super) struct Subject<'a, B: Exact> {
    /// The op under test.
    pub op: &'a dyn CheckableOver<B>,
    /// The per-sample op of a batched check.
    pub looped: Option<&'a dyn CheckableOver<B>>,
}

/// One check of the suite.
pub(super) struct SuiteCheck<B: Exact> {
    /// How [`super::CheckReport::checks`] lists it.
    pub description: &'static str,
    /// Whether it runs for this subject (a fixed property of the op, so the report computed from
    /// one op holds for every case).
    pub applies: fn(&Subject<B>) -> bool,
    /// Whether it compares against the derivative. At a kink the derivative does not exist, so
    /// such a check must refuse the point with the kink error, while the others must still hold.
    pub derivative: bool,
    /// The check at one case.
    pub run: fn(&Subject<B>, &Over<B>) -> Result<()>,
}

/// The checks, in the order a case runs them: the first failure is the one reported, so the
/// cheap structural checks come before the ones that need a reference derivative.
pub(super) fn checks<B: Exact>() -> [SuiteCheck<B>; 11] {
    [
        SuiteCheck {
            description: "structural: vjp(x, 0) = 0 and jvp(x, 0) = 0",
            applies: |_| true,
            derivative: false,
            run: |s, c| zero_tangents(&s.op, &c.x),
        },
        SuiteCheck {
            description: "structural: forward, jvp, vjp run twice give identical values",
            applies: |_| true,
            derivative: false,
            run: |s, c| deterministic(&s.op, &c.x, &c.dx, &c.dy),
        },
        SuiteCheck {
            description: "structural: rules ignore state left by forward at another point x′ \
                          and by the order of calls",
            applies: |_| true,
            derivative: false,
            run: |s, c| interleaved(&s.op, &c.x, &c.dx2, [&c.dx, &c.dtheta], &c.dy),
        },
        SuiteCheck {
            description: "structural: jvp linear in dx, vjp linear in δ",
            applies: |_| true,
            derivative: false,
            run: |s, c| {
                linear_in_tangent(&s.op, &c.x, [&c.dx, &c.dx2], [&c.a, &c.b])?;
                linear_in_cotangent(&s.op, &c.x, [&c.dy, &c.dy2], [&c.a, &c.b])
            },
        },
        SuiteCheck {
            description: "jacobian: jvp(x, dx) = J·dx, vjp(x, δ) = Jᵀ·δ (J by dual numbers)",
            applies: |_| true,
            derivative: true,
            run: |s, c| jacobian(&s.op, &c.x, &c.dx, &c.dy).map(|_| ()),
        },
        SuiteCheck {
            description: "adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫",
            applies: |_| B::CHEAP_SUMS,
            derivative: true,
            run: |s, c| adjoint(&s.op, &c.x, &c.dx, &c.dy).map(|_| ()),
        },
        SuiteCheck {
            description: "fderiv: exact increment in the kink-free box, vjp = Df(x)ᵀ·δ",
            applies: |s| s.op.is_piecewise_linear(),
            derivative: true,
            run: |s, c| fderiv(&s.op, &c.x, &c.dy).map(|_| ()),
        },
        SuiteCheck {
            description: "parameters, structural: vjp_params(x, 0) = 0, jvp_params(x, 0) = 0, \
                      deterministic, linear in dθ and δ",
            applies: has_parameters,
            derivative: false,
            run: |s, c| {
                on_parameters(s.op, c, |wrt, theta| {
                    zero_tangents(wrt, theta)?;
                    deterministic(wrt, theta, &c.dtheta, &c.dy)?;
                    linear_in_tangent(wrt, theta, [&c.dtheta, &c.dtheta2], [&c.a, &c.b])?;
                    linear_in_cotangent(wrt, theta, [&c.dy, &c.dy2], [&c.a, &c.b])
                })
            },
        },
        SuiteCheck {
            description: "parameters, jacobian: jvp_params(x, dθ) = J_θ·dθ, vjp_params(x, δ) = \
                      J_θᵀ·δ (J_θ by dual numbers through forward_with_params)",
            applies: has_parameters,
            derivative: true,
            run: |s, c| {
                on_parameters(s.op, c, |wrt, theta| {
                    jacobian(wrt, theta, &c.dtheta, &c.dy).map(|_| ())
                })
            },
        },
        SuiteCheck {
            description: "parameters, adjoint: ⟪jvp_params(x, dθ), δ⟫ = ⟪dθ, vjp_params(x, δ)⟫",
            applies: |s| B::CHEAP_SUMS && has_parameters(s),
            derivative: true,
            run: |s, c| {
                on_parameters(s.op, c, |wrt, theta| {
                    adjoint(wrt, theta, &c.dtheta, &c.dy).map(|_| ())
                })
            },
        },
        SuiteCheck {
            description: "structural: batched = looped (forward, jvp, vjp)",
            applies: |s| s.looped.is_some(),
            derivative: false,
            run: |s, c| match s.looped {
                Some(single) => {
                    batched_equals_looped::<B, _, _>(&s.op, &single, &c.x, &c.dx, &c.dy)?;
                    batched_equals_looped::<B, _, _>(&s.op, &single, &c.x, &c.dx2, &c.dy2)
                }
                None => Ok(()),
            },
        },
    ]
}

/// Whether the op has parameters, whose rules the suite then checks too.
fn has_parameters<B: Exact>(s: &Subject<B>) -> bool {
    s.op.param_count() > 0
}

/// The checks that apply to `subject`, in order.
pub(super) fn applicable<B: Exact>(subject: &Subject<B>) -> Vec<SuiteCheck<B>> {
    checks()
        .into_iter()
        .filter(|c| (c.applies)(subject))
        .collect()
}

/// How the report lists the checks that apply to `subject`.
pub(super) fn descriptions<B: Exact>(subject: &Subject<B>) -> Vec<&'static str> {
    applicable(subject).iter().map(|c| c.description).collect()
}

/// Every check that applies at one case; the first error is the verdict. `Err(Error::Kink)`
/// from the op's guards means "not checkable here" (the point is on a kink), and
/// `Err(Error::OutsideDomain)` from `forward` "not in the op's domain" (`ln` of a value `≤ 0`,
/// or a pole: `forward` dividing by zero): neither is a failure. Past those two, the point is
/// one the op accepts, so a rule that refuses it (a kink or domain error, or a division by
/// zero `forward` does not make) fails: [`Error::RuleRefused`] names the check.
///
/// [`Error::Kink`]: crate::Error::Kink
/// [`Error::OutsideDomain`]: crate::Error::OutsideDomain
pub(super) fn check_case<B: Exact>(subject: &Subject<B>, case: &Case) -> Result<()> {
    let over = case.over::<B>();
    no_kinks(&subject.op, &over.x)?;
    crate::ops::OpSpec::<B>::forward(subject.op, &over.x).map_err(Error::pole_as_outside_domain)?;
    applicable(subject).iter().try_for_each(|c| {
        (c.run)(subject, &over).map_err(|e| match e {
            Error::Kink { .. } | Error::OutsideDomain { .. } => Error::RuleRefused {
                op: subject.op.name(),
                check: c.description.to_string(),
                error: Box::new(e),
            },
            e => e,
        })
    })
}
