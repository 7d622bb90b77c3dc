//! The theorem check printed as a derivation a reader can follow line by line; large reports
//! print each tensor as a summary ([`Detail`]) so the text never runs to megabytes.

use super::summary::{Detail, Shown};
use crate::check::{FDerivProof, KinkRadius, TheoremReport};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::fmt;

/// A report printed with a chosen [`Detail`]; `Display` of the report itself is
/// `Derivation { detail: Detail::Auto, .. }`.
#[derive(Clone, Copy, Debug)]
pub struct Derivation<'a, R> {
    /// The report.
    pub report: &'a R,
    /// How much of each tensor to print.
    pub detail: Detail,
}

/// The number of values of `tensors` together.
pub(crate) fn values<'a, S: 'a>(tensors: impl IntoIterator<Item = &'a Tensor<S>>) -> usize {
    tensors.into_iter().map(Tensor::len).sum()
}

/// The tensor printer of a derivation: `show(t, indent)`.
pub(crate) fn shower<S>(summary: bool) -> impl Fn(&Tensor<S>, usize) -> Shown<'_, S> {
    move |tensor, indent| Shown {
        tensor,
        summary,
        indent,
    }
}

/// Lines 9 and after, shared by both theorems: adjointness at `dx` (with `⟪jvp(x, dx), δ⟫`),
/// the kink-free box around the closed form named `closed_form`, the summary note when
/// summarised (`total` values), and the verdict.
pub(crate) fn closing<S: Scalar>(
    f: &mut fmt::Formatter<'_>,
    (dx, adjoint_lhs): (&Tensor<S>, &S),
    (radius, fd, closed_form): (&KinkRadius<S>, &FDerivProof<S>, &str),
    summary: bool,
    total: usize,
) -> fmt::Result {
    let show = shower::<S>(summary);
    writeln!(f, "9. adjointness at dx = {}:", show(dx, 0))?;
    writeln!(
        f,
        "   ⟪jvp(x, dx), δ⟫ = {} = ⟪dx, vjp(x, δ)⟫                 ✓",
        scalar(adjoint_lhs, summary)
    )?;
    kink_free_box(f, radius, fd, closed_form, summary)?;
    writeln!(f)?;
    if summary {
        summary_note(f, total)?;
    }
    write!(
        f,
        "verdict: backward(x, δ) = (Df(x))ᵀ·δ holds exactly at this point."
    )
}

/// Lines 10 and after: the kink radius and the exact increment.
fn kink_free_box<S: Scalar>(
    f: &mut fmt::Formatter<'_>,
    radius: &KinkRadius<S>,
    fd: &FDerivProof<S>,
    closed_form: &str,
    summary: bool,
) -> fmt::Result {
    let show = shower::<S>(summary);
    match (&radius.radius, &radius.binding) {
        (Some(r), Some(g)) => writeln!(
            f,
            "10. kink radius ρ = {}: no pre-activation changes sign for ‖h‖∞ < ρ\n    (nearest kink: layer {} ({}), coordinate {:?}, pre-activation {})",
            scalar(r, summary), g.layer, g.op, g.coordinate, scalar(&g.value, summary)
        )?,
        _ => writeln!(f, "10. no kink can be reached: the network is affine everywhere")?,
    }
    writeln!(
        f,
        "    exact increment inside the box (‖h‖∞ ≤ {} ≤ ρ/2): f is affine there with slope {closed_form}:",
        scalar(&fd.step, summary)
    )?;
    writeln!(
        f,
        "    f(x+h) − f(x) = {closed_form}·h = {} at h = {}  ✓",
        show(&fd.increment.increment, 4),
        show(&fd.increment.h, 4)
    )
}

/// A scalar of a derivation: in full, or shortened ([`super::shorten_number`]) in a summary.
pub(crate) fn scalar<S: Scalar>(v: &S, summary: bool) -> String {
    if summary {
        super::summary::shorten_number(&v.to_string())
    } else {
        v.to_string()
    }
}

/// The closing note of a summarised derivation: how many values were left out and how to see
/// them.
fn summary_note(f: &mut fmt::Formatter<'_>, values: usize) -> fmt::Result {
    writeln!(
        f,
        "(tensors summarised: {values} values in all; `--full` prints every value, `--json` \
         writes them exactly)"
    )
}

impl<S: Scalar> fmt::Display for Derivation<'_, TheoremReport<S>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.report;
        let total = values([
            &r.w1, &r.b1, &r.w2, &r.b2, &r.x, &r.z1, &r.mask, &r.output, &r.deriv, &r.delta,
            &r.vjp, &r.dx,
        ]);
        let summary = self.detail.summarises(total);
        let show = shower::<S>(summary);
        let (n, h, m) = (r.x.len(), r.z1.len(), r.output.len());
        writeln!(f, "The 2-layer MLP theorem, checked exactly over ℚ")?;
        writeln!(f, "network {}   ({n} → {h} → {m})", r.net)?;
        writeln!(f)?;
        writeln!(f, "  W1 = {}", show(&r.w1, 7))?;
        writeln!(f, "  b1 = {}", show(&r.b1, 7))?;
        writeln!(f, "  W2 = {}", show(&r.w2, 7))?;
        writeln!(f, "  b2 = {}", show(&r.b2, 7))?;
        writeln!(f)?;
        writeln!(f, "1. the point            x = {}", show(&r.x, 0))?;
        writeln!(
            f,
            "2. pre-activation      z1 = W1·x + b1 = {}",
            show(&r.z1, 0)
        )?;
        writeln!(
            f,
            "3. no kinks: every z1ᵢ ≠ 0, so relu′(z1) = {}",
            show(&r.mask, 0)
        )?;
        writeln!(
            f,
            "4. output            f(x) = W2·relu(z1) + b2 = {}",
            show(&r.output, 0)
        )?;
        writeln!(f, "5. closed form  mlpDeriv(x) = W2·diag(relu′(z1))·W1 =")?;
        writeln!(f, "                  {}", show(&r.deriv, 18))?;
        writeln!(f, "6. cotangent            δ = {}", show(&r.delta, 0))?;
        writeln!(f, "7. reverse mode  backward(x, δ) = {}", show(&r.vjp, 0))?;
        writeln!(
            f,
            "   equals mlpDeriv(x)ᵀ·δ, entry by entry                        ✓"
        )?;
        writeln!(
            f,
            "8. forward mode: the Jacobian of forward over jets (exact partials, no rule called)"
        )?;
        writeln!(
            f,
            "   equals mlpDeriv(x) entry by entry                            ✓"
        )?;
        let adjoint = (&r.dx, &r.adjoint.lhs);
        let kinks = (&r.fderiv.radius, &r.fderiv, "mlpDeriv(x)");
        closing(f, adjoint, kinks, summary, total)
    }
}

impl<S: Scalar> fmt::Display for TheoremReport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = Derivation {
            report: self,
            detail: Detail::Auto,
        };
        write!(f, "{d}")
    }
}
