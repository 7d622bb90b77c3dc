//! The deep MLP theorem printed as a derivation: per hidden layer its pre-activation and mask,
//! then the closed form, the rules and the kink-free box — summarised when large.

use super::derivation::{closing, shower, values, Derivation};
use super::summary::Detail;
use crate::check::DeepTheoremReport;
use crate::scalar::Scalar;
use std::fmt;

impl<S: Scalar> fmt::Display for Derivation<'_, DeepTheoremReport<S>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.report;
        let total = values(
            [&r.x, &r.output, &r.deriv, &r.delta, &r.vjp, &r.dx]
                .into_iter()
                .chain(&r.pre_activations)
                .chain(&r.masks),
        );
        let summary = self.detail.summarises(total);
        let show = shower::<S>(summary);
        let widths: Vec<String> = r.widths.iter().map(usize::to_string).collect();
        let layers = r.widths.len().saturating_sub(1);
        writeln!(f, "The deep MLP theorem, checked exactly over ℚ")?;
        writeln!(f, "network {}   ({})", r.net, widths.join(" → "))?;
        writeln!(f)?;
        writeln!(f, "1. the point  x = {}", show(&r.x, 0))?;
        writeln!(
            f,
            "2. no kinks: every hidden pre-activation z_k = W_k·a_(k−1) + b_k is non-zero"
        )?;
        for (k, (z, mask)) in r.pre_activations.iter().zip(&r.masks).enumerate() {
            writeln!(f, "   z{} = {}", k + 1, show(z, 8))?;
            writeln!(f, "   relu′(z{}) = {}", k + 1, show(mask, 8))?;
        }
        writeln!(f, "3. output  f(x) = {}", show(&r.output, 0))?;
        writeln!(
            f,
            "4. closed form  J = W_{layers}·D_{}···D_1·W_1 =",
            layers.saturating_sub(1)
        )?;
        writeln!(f, "                  {}", show(&r.deriv, 18))?;
        writeln!(f, "5. cotangent  δ = {}", show(&r.delta, 0))?;
        writeln!(f, "6. reverse mode  backward(x, δ) = {}", show(&r.vjp, 0))?;
        writeln!(
            f,
            "   equals Jᵀ·δ, entry by entry                                  ✓"
        )?;
        writeln!(
            f,
            "7. forward mode: the Jacobian of forward over jets equals J        ✓"
        )?;
        writeln!(
            f,
            "8. the kink radius from the rule's guards equals the closed form's ✓"
        )?;
        closing(
            f,
            (&r.dx, &r.adjoint.lhs),
            (&r.radius, &r.fderiv, "J"),
            summary,
            total,
        )
    }
}

impl<S: Scalar> fmt::Display for DeepTheoremReport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = Derivation {
            report: self,
            detail: Detail::Auto,
        };
        write!(f, "{d}")
    }
}
