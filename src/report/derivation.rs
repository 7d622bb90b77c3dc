//! The theorem check printed as a derivation a reader can follow line by line.

use crate::check::TheoremReport;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::fmt;

/// Indents every line after the first so a matrix lines up under its label.
fn aligned<S: fmt::Display>(t: &Tensor<S>, indent: usize) -> String {
    t.to_string()
        .replace('\n', &format!("\n{}", " ".repeat(indent)))
}

impl<S: Scalar> fmt::Display for TheoremReport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, h, m) = (self.x.len(), self.z1.len(), self.output.len());
        writeln!(f, "The 2-layer MLP theorem, checked exactly over ℚ")?;
        writeln!(f, "network {}   ({n} → {h} → {m})", self.net)?;
        writeln!(f)?;
        writeln!(f, "  W1 = {}", aligned(&self.w1, 7))?;
        writeln!(f, "  b1 = {}", self.b1)?;
        writeln!(f, "  W2 = {}", aligned(&self.w2, 7))?;
        writeln!(f, "  b2 = {}", self.b2)?;
        writeln!(f)?;
        writeln!(f, "1. the point            x = {}", self.x)?;
        writeln!(f, "2. pre-activation      z1 = W1·x + b1 = {}", self.z1)?;
        writeln!(
            f,
            "3. no kinks: every z1ᵢ ≠ 0, so relu′(z1) = {}",
            self.mask
        )?;
        writeln!(
            f,
            "4. output            f(x) = W2·relu(z1) + b2 = {}",
            self.output
        )?;
        writeln!(f, "5. closed form  mlpDeriv(x) = W2·diag(relu′(z1))·W1 =")?;
        writeln!(f, "                  {}", aligned(&self.deriv, 18))?;
        writeln!(f, "6. cotangent            δ = {}", self.delta)?;
        writeln!(f, "7. reverse mode  backward(x, δ) = {}", self.vjp)?;
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
        writeln!(f, "9. adjointness at dx = {}:", self.dx)?;
        writeln!(
            f,
            "   ⟪jvp(x, dx), δ⟫ = {} = ⟪dx, vjp(x, δ)⟫                 ✓",
            self.adjoint.lhs
        )?;
        let fd = &self.fderiv;
        match (&fd.radius.radius, &fd.radius.binding) {
            (Some(r), Some(g)) => writeln!(
                f,
                "10. kink radius ρ = {r}: no pre-activation changes sign for ‖h‖∞ < ρ\n    (nearest kink: layer {} ({}), coordinate {:?}, pre-activation {})",
                g.layer, g.op, g.coordinate, g.value
            )?,
            _ => writeln!(f, "10. no kink can be reached: the network is affine everywhere")?,
        }
        writeln!(
            f,
            "    exact increment inside the box (‖h‖∞ ≤ ρ/2 = {}): f is affine there with slope mlpDeriv(x):",
            fd.step
        )?;
        writeln!(
            f,
            "    f(x+h) − f(x) = mlpDeriv(x)·h = {} at h = {}  ✓",
            fd.increment.increment, fd.increment.h
        )?;
        writeln!(f)?;
        write!(
            f,
            "verdict: backward(x, δ) = (Df(x))ᵀ·δ holds exactly at this point."
        )
    }
}
