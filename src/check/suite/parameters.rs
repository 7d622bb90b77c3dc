//! The suite's checks of the parameter rules: each runs an input check on the op seen as a
//! function of its parameters ([`WrtParams`]), and a failure is reported in the op's terms — the
//! check prefixed `parameters:`, the parameter named by layer, op, tensor and index, `θ` and `dθ`
//! instead of `x` and `dx`.

use super::case::Over;
use crate::error::{Error, Result};
use crate::ops::{CheckableOver, Exact, Op, WrtParams};
use crate::scalar::Q;
use crate::tensor::Tensor;

/// Runs `check` on `θ ↦ f_θ(x)` at the op's own parameters `θ`, with the case's `x`, and
/// relabels a counterexample in terms of the parameters.
pub(super) fn on_parameters<'o, B: Exact>(
    op: &'o dyn CheckableOver<B>,
    case: &Over<B>,
    check: impl FnOnce(&WrtParams<'o, dyn CheckableOver<B> + 'o>, &Tensor<B>) -> Result<()>,
) -> Result<()> {
    let wrt = WrtParams::new(op, case.case.x.clone());
    let theta = wrt.point::<B>();
    check(&wrt, &theta).map_err(|e| relabel(e, &wrt, &case.case.x))
}

fn relabel<O: Op + ?Sized>(error: Error, wrt: &WrtParams<'_, O>, x: &Tensor<Q>) -> Error {
    let Error::Violated(mut c) = error else {
        return error;
    };
    // The input of a reverse identity is the parameter vector: the VJP's coordinate, or the
    // last index of the adjoint's (output index, input index) pair. A forward rule fails at an
    // output coordinate, which names no parameter.
    let reverse = c.check.contains("vjp") || c.check.starts_with("adjoint");
    if reverse {
        c.parameter = c.coordinate.last().and_then(|&k| wrt.name_coordinate(k));
    }
    c.check = format!("parameters: {}", c.check);
    for (name, _) in &mut c.inputs {
        match name.as_str() {
            "x" => *name = "θ".into(),
            "dx" => *name = "dθ".into(),
            "dx₁" => *name = "dθ₁".into(),
            "dx₂" => *name = "dθ₂".into(),
            _ => {}
        }
    }
    c.inputs.insert(0, ("x".into(), x.to_string()));
    Error::Violated(c)
}

#[cfg(test)]
mod tests {
    use crate::check::{check_op, CheckConfig};
    use crate::ops::{Linear, Relu};
    use crate::{planted, Compose, Tensor};

    planted!(DoubledBias(Linear), fn vjp_params(&op, x, dy) {
        let mut g = op.vjp_params(x, dy)?.into_data();
        let start = g.len() - dy.len();
        for v in &mut g[start..] {
            *v = v.add_ref(v);
        }
        Ok(Tensor::from_vec(g))
    });

    planted!(DoubledJvpParams(Linear), fn jvp_params(&op, x, dt) {
        let j = op.jvp_params(x, dt)?;
        j.add(&j)
    });

    planted!(SquaredJvpParams(Linear), fn jvp_params(&op, x, dt) {
        let j = op.jvp_params(x, dt)?;
        j.hadamard(&j)
    });

    use crate::ops::test_support::t;

    #[test]
    fn a_wrong_parameter_rule_deep_in_a_composition_is_named_by_layer_op_tensor_and_index() {
        let w1 = t(&[3, 2], &["1", "-2", "1/2", "3", "-1", "1/4"]);
        let w2 = t(&[2, 3], &["1", "0", "-1", "2", "1/2", "1"]);
        let first = Linear::new(w1, t(&[3], &["0", "1", "-1"])).unwrap();
        let last = Linear::new(w2, t(&[2], &["0", "1"])).unwrap();
        let net = first.then(Relu).then(DoubledBias(last));
        let failure = check_op(&net, &[2], &CheckConfig::default().cases(32)).unwrap_err();
        let c = failure.counterexample().expect("a violated identity");
        assert_eq!(c.check, "parameters: jacobian: vjp(x, δ) = Jᵀ·δ");
        // The last layer's bias starts after 6 + 3 + 6 parameters; the smallest failing δ is 1
        // at output 0, so the rule gives 2 where the reference gives 1.
        assert_eq!(c.coordinate, vec![15]);
        assert_eq!(c.parameter.as_deref(), Some("layer 3 Linear(3→2) bias[0]"));
        assert_eq!((c.rule.as_str(), c.reference.as_str()), ("2", "1"));
        assert_eq!(c.inputs[1].0, "θ");
    }

    fn layer() -> Linear {
        let w = t(&[2, 2], &["1", "-2", "1/2", "3"]);
        Linear::new(w, t(&[2], &["0", "1"])).unwrap()
    }

    #[test]
    fn a_wrong_forward_parameter_rule_names_theta_and_d_theta_and_no_parameter() {
        let failure = check_op(
            &DoubledJvpParams(layer()),
            &[2],
            &CheckConfig::default().cases(32),
        )
        .unwrap_err();
        let c = failure.counterexample().expect("a violated identity");
        assert_eq!(c.check, "parameters: jacobian: jvp(x, dx) = J·dx");
        // A forward rule fails at an output coordinate, which names no parameter.
        assert_eq!(c.parameter, None);
        let names: Vec<&str> = inputs(c).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["x", "θ", "dθ", "δ"]);
        assert_eq!(c.inputs[1].1, "[1, -2, 1/2, 3, 0, 1]");
        assert_eq!(
            c.rule,
            format!("{}", 2 * c.reference.parse::<i64>().unwrap())
        );

        // The same check on a fixed case: dW·x + db = [1, 0], doubled.
        let case = fixed_case();
        let over = case.over::<crate::Q>();
        let c = violated(super::on_parameters(
            &DoubledJvpParams(layer()),
            &over,
            |wrt, theta| crate::check::jacobian(wrt, theta, &over.dtheta, &over.dy).map(|_| ()),
        ));
        assert_eq!(c.check, "parameters: jacobian: jvp(x, dx) = J·dx");
        assert_eq!(c.coordinate, vec![0]);
        assert_eq!((c.rule.as_str(), c.reference.as_str()), ("2", "1"));
        assert_eq!(c.parameter, None);
        assert_eq!(
            inputs(&c),
            [
                ("x", "[1, 2]"),
                ("θ", "[1, -2, 1/2, 3, 0, 1]"),
                ("dθ", "[1, 0, 0, 0, 0, 0]"),
                ("δ", "[0, 1]"),
            ]
        );
    }

    /// `x = [1, 2]`, `dθ₁` the first weight's tangent, `dθ₂` the first bias's, `a = b = 1`.
    fn fixed_case() -> crate::check::suite::Case {
        crate::check::suite::Case {
            x: t(&[2], &["1", "2"]),
            dx: t(&[2], &["0", "0"]),
            dx2: t(&[2], &["0", "0"]),
            dtheta: t(&[6], &["1", "0", "0", "0", "0", "0"]),
            dtheta2: t(&[6], &["0", "0", "0", "0", "1", "0"]),
            dy: t(&[2], &["0", "1"]),
            dy2: t(&[2], &["0", "0"]),
            a: crate::parse_q("1").unwrap(),
            b: crate::parse_q("1").unwrap(),
        }
    }

    /// The counterexample of a check that must fail with a violated identity.
    fn violated(result: crate::error::Result<()>) -> crate::Counterexample {
        match result {
            Err(crate::Error::Violated(c)) => *c,
            other => panic!("a violated identity, got {other:?}"),
        }
    }

    fn inputs(c: &crate::Counterexample) -> Vec<(&str, &str)> {
        c.inputs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect()
    }

    /// The linearity check on the parameters, run as the suite runs it, names the two parameter
    /// tangents `dθ₁`, `dθ₂` (drawn by the suite as the case's `dtheta`, `dtheta2`).
    #[test]
    fn a_nonlinear_forward_parameter_rule_names_both_parameter_tangents() {
        let case = fixed_case();
        let over = case.over::<crate::Q>();
        let op = SquaredJvpParams(layer());
        let c = violated(super::on_parameters(&op, &over, |wrt, theta| {
            crate::check::structural::linear_in_tangent(
                wrt,
                theta,
                [&over.dtheta, &over.dtheta2],
                [&over.a, &over.b],
            )
        }));
        assert_eq!(
            c.check,
            "parameters: structural: jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)"
        );
        // dW·x + db is [1, 0] for each tangent and [2, 0] for their sum: squared, 4 against 2.
        assert_eq!(c.coordinate, vec![0]);
        assert_eq!((c.rule.as_str(), c.reference.as_str()), ("4", "2"));
        assert_eq!(c.parameter, None);
        assert_eq!(
            inputs(&c),
            [
                ("x", "[1, 2]"),
                ("θ", "[1, -2, 1/2, 3, 0, 1]"),
                ("dθ₁", "[1, 0, 0, 0, 0, 0]"),
                ("dθ₂", "[0, 0, 0, 0, 1, 0]"),
                ("a", "1"),
                ("b", "1"),
            ]
        );
    }
}
