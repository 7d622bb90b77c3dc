//! Structural properties every pair of derivative rules has, whatever the function: the checks
//! float checkers such as PyTorch's `gradcheck` run (zero cotangent, linearity, determinism,
//! batched = looped), here as exact equalities.
//!
//! None of them needs the derivative to exist, so they also apply at a kink.

use super::{agree, expect_rule_shape, violation};
use crate::error::{Error, Result};
use crate::ops::OpSpec;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `vjp(x, 0) = 0` and `jvp(x, 0) = 0`: a rule that adds a constant (a bias gradient added to
/// the input gradient, say) fails here.
pub fn zero_tangents<S: Scalar, O: OpSpec<S> + ?Sized>(op: &O, x: &Tensor<S>) -> Result<()> {
    let out = op.output_shape(x.shape())?;
    let inputs = || vec![("x", x.to_string())];
    let vjp = op.vjp(x, &Tensor::zeros(&out)?)?;
    expect_rule_shape(&vjp, x.shape(), "vjp")?;
    agree("structural: vjp(x, 0) = 0", &vjp, &x.zeros_like(), &inputs)?;
    let jvp = op.jvp(x, &x.zeros_like())?;
    expect_rule_shape(&jvp, &out, "jvp")?;
    agree(
        "structural: jvp(x, 0) = 0",
        &jvp,
        &Tensor::zeros(&out)?,
        &inputs,
    )
}

/// `jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)`: the rule is linear in the tangent.
/// The left side is the rule's value, the right side the reference.
pub fn linear_in_tangent<S: Scalar, O: OpSpec<S> + ?Sized>(
    op: &O,
    x: &Tensor<S>,
    [dx1, dx2]: [&Tensor<S>; 2],
    [a, b]: [&S; 2],
) -> Result<()> {
    linear_in_tangent_given(op, x, [dx1, dx2], [a, b], None)
}

/// [`linear_in_tangent`], with `jvp(x, dx₁)` when the caller has it already.
pub(crate) fn linear_in_tangent_given<S: Scalar, O: OpSpec<S> + ?Sized>(
    op: &O,
    x: &Tensor<S>,
    probes: [&Tensor<S>; 2],
    coefficients: [&S; 2],
    jvp1: Option<&Tensor<S>>,
) -> Result<()> {
    linear_in(
        "structural: jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)",
        ["dx₁", "dx₂"],
        &|v| op.jvp(x, v),
        x,
        probes,
        coefficients,
        jvp1,
    )
}

/// `vjp(x, a·δ₁ + b·δ₂) = a·vjp(x, δ₁) + b·vjp(x, δ₂)`: the rule is linear in the cotangent.
pub fn linear_in_cotangent<S: Scalar, O: OpSpec<S> + ?Sized>(
    op: &O,
    x: &Tensor<S>,
    [dy1, dy2]: [&Tensor<S>; 2],
    [a, b]: [&S; 2],
) -> Result<()> {
    linear_in_cotangent_given(op, x, [dy1, dy2], [a, b], None)
}

/// [`linear_in_cotangent`], with `vjp(x, δ₁)` when the caller has it already.
pub(crate) fn linear_in_cotangent_given<S: Scalar, O: OpSpec<S> + ?Sized>(
    op: &O,
    x: &Tensor<S>,
    probes: [&Tensor<S>; 2],
    coefficients: [&S; 2],
    vjp1: Option<&Tensor<S>>,
) -> Result<()> {
    linear_in(
        "structural: vjp(x, a·δ₁ + b·δ₂) = a·vjp(x, δ₁) + b·vjp(x, δ₂)",
        ["δ₁", "δ₂"],
        &|v| op.vjp(x, v),
        x,
        probes,
        coefficients,
        vjp1,
    )
}

/// `rule(a·v₁ + b·v₂) = a·rule(v₁) + b·rule(v₂)`. Both combinations are one
/// [`crate::Ring::combination`] call each (for `ModP` one modulus fetch and one bound per entry,
/// which matters when the vectors are as large as a network's parameters); the inputs are
/// formatted only when the two sides differ.
fn linear_in<S: Scalar>(
    check: &str,
    [name1, name2]: [&'static str; 2],
    rule: &dyn Fn(&Tensor<S>) -> Result<Tensor<S>>,
    x: &Tensor<S>,
    [v1, v2]: [&Tensor<S>; 2],
    [a, b]: [&S; 2],
    value1: Option<&Tensor<S>>,
) -> Result<()> {
    let combination = |u: &Tensor<S>, w: &Tensor<S>| -> Result<Tensor<S>> {
        u.expect_shape(w.shape(), "combination")?;
        Tensor::new(u.shape().to_vec(), S::combination(a, u.data(), b, w.data()))
    };
    let lhs = rule(&combination(v1, v2)?)?;
    let computed;
    let r1 = match value1 {
        Some(known) => known,
        None => {
            computed = rule(v1)?;
            &computed
        }
    };
    let r2 = rule(v2)?;
    let shapes = lhs.shape() == r1.shape() && r1.shape() == r2.shape();
    let rhs = combination(r1, &r2);
    if shapes && rhs.as_ref().is_ok_and(|rhs| lhs == *rhs) {
        return Ok(());
    }
    let rhs = rhs?;
    let inputs = || {
        vec![
            ("x", x.to_string()),
            (name1, v1.to_string()),
            (name2, v2.to_string()),
            ("a", a.to_string()),
            ("b", b.to_string()),
        ]
    };
    agree(check, &lhs, &rhs, &inputs)
}

/// Running `forward`, `jvp` and `vjp` twice gives identical values (no hidden state, no
/// randomness). The second run is the "rule", the first the "reference".
pub fn deterministic<S: Scalar, O: OpSpec<S> + ?Sized>(
    op: &O,
    x: &Tensor<S>,
    dx: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<()> {
    let inputs = || {
        vec![
            ("x", x.to_string()),
            ("dx", dx.to_string()),
            ("δ", dy.to_string()),
        ]
    };
    let first = [op.forward(x)?, op.jvp(x, dx)?, op.vjp(x, dy)?];
    let second = [op.forward(x)?, op.jvp(x, dx)?, op.vjp(x, dy)?];
    for (what, (a, b)) in ["forward", "jvp", "vjp"]
        .iter()
        .zip(second.iter().zip(&first))
    {
        agree(
            &format!("structural: {what} run twice gives the same value"),
            a,
            b,
            &inputs,
        )?;
    }
    Ok(())
}

/// The rules ignore state left by earlier calls: `jvp(x, dx)` and `vjp(x, δ)` (and, for an op
/// with parameters, `jvp_params(x, dθ)` and `vjp_params(x, δ)`) give the values they give right
/// after `forward(x)` also when `forward` ran at another point `x′` in between, and when they
/// are called in the other order after it. A rule that reads what an earlier call saved (the
/// input of the last `forward`, a mask) instead of its own arguments fails, and the
/// counterexample's identity names the sequence of calls. An error of `forward(x′)` is ignored:
/// the call is only there to leave state behind.
pub fn interleaved<S: Scalar, O: OpSpec<S> + ?Sized>(
    op: &O,
    x: &Tensor<S>,
    other: &Tensor<S>,
    [dx, dtheta]: [&Tensor<S>; 2],
    dy: &Tensor<S>,
) -> Result<()> {
    let params = op.param_count() > 0;
    let rules = |order: [usize; 4]| -> Result<[Option<Tensor<S>>; 4]> {
        let mut out = [None, None, None, None];
        for k in order {
            out[k] = match k {
                0 => Some(op.jvp(x, dx)?),
                1 => Some(op.vjp(x, dy)?),
                2 if params => Some(op.jvp_params(x, dtheta)?),
                3 if params => Some(op.vjp_params(x, dy)?),
                _ => None,
            };
        }
        Ok(out)
    };
    op.forward(x)?;
    let clean = rules([0, 1, 2, 3])?;
    let inputs = || {
        let mut inputs = vec![
            ("x", x.to_string()),
            ("x′", other.to_string()),
            ("dx", dx.to_string()),
            ("δ", dy.to_string()),
        ];
        if params {
            inputs.push(("dθ", dtheta.to_string()));
        }
        inputs
    };
    let names = [
        "jvp(x, dx)",
        "vjp(x, δ)",
        "jvp_params(x, dθ)",
        "vjp_params(x, δ)",
    ];
    let sequences: [(&str, [usize; 4]); 2] = [
        ("forward(x), forward(x′), then jvp, vjp", [0, 1, 2, 3]),
        (
            "forward(x′), then vjp_params, jvp_params, vjp, jvp",
            [3, 2, 1, 0],
        ),
    ];
    for (i, (calls, order)) in sequences.into_iter().enumerate() {
        if i == 0 {
            op.forward(x)?;
        }
        let _ = op.forward(other);
        let got = rules(order)?;
        for k in order {
            if let (Some(rule), Some(reference)) = (&got[k], &clean[k]) {
                agree(
                    &format!(
                        "structural: {} after {calls} equals {0} right after forward(x)",
                        names[k]
                    ),
                    rule,
                    reference,
                    &inputs,
                )?;
            }
        }
    }
    Ok(())
}

/// Batched equals looped: for an op `batched` over inputs `[B, …]` that treats each of the `B`
/// samples independently, `forward`, `jvp` and `vjp` on the batch equal the per-sample op
/// `single` applied to each slice `x[b]` (with `dx[b]`, `δ[b]`) and stacked.
///
/// On failure the coordinate is the full index into the batched tensor (batch index first).
pub fn batched_equals_looped<S, B, O>(
    batched: &B,
    single: &O,
    x: &Tensor<S>,
    dx: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<()>
where
    S: Scalar,
    B: OpSpec<S> + ?Sized,
    O: OpSpec<S> + ?Sized,
{
    let Some((&count, sample)) = x.shape().split_first() else {
        return Err(Error::shape_mismatch(
            &format!(
                "batched_equals_looped: {} needs a batch dimension",
                batched.name()
            ),
            x.shape().to_vec(),
            vec![],
        ));
    };
    let sample_out = single.output_shape(sample)?;
    let out: Vec<usize> = std::iter::once(count).chain(sample_out.clone()).collect();
    let batched_out = batched.output_shape(x.shape())?;
    if batched_out != out {
        return Err(Error::shape_mismatch(
            &format!(
                "batched_equals_looped: output of {} vs the per-sample outputs of {} stacked",
                batched.name(),
                single.name()
            ),
            batched_out,
            out,
        ));
    }
    dx.expect_shape(x.shape(), "batched_equals_looped: dx")?;
    dy.expect_shape(&out, "batched_equals_looped: δ")?;
    let (mut fwd, mut jvp, mut vjp) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..count {
        let xb = slice(x, b, sample)?;
        let dxb = slice(dx, b, sample)?;
        let dyb = slice(dy, b, &sample_out)?;
        fwd.extend(single.forward(&xb)?.into_data());
        jvp.extend(single.jvp(&xb, &dxb)?.into_data());
        vjp.extend(single.vjp(&xb, &dyb)?.into_data());
    }
    let inputs = || {
        vec![
            ("x", x.to_string()),
            ("dx", dx.to_string()),
            ("δ", dy.to_string()),
        ]
    };
    let looped = [
        (
            "forward",
            Tensor::new(out.clone(), fwd)?,
            batched.forward(x)?,
        ),
        ("jvp", Tensor::new(out, jvp)?, batched.jvp(x, dx)?),
        (
            "vjp",
            Tensor::new(x.shape().to_vec(), vjp)?,
            batched.vjp(x, dy)?,
        ),
    ];
    for (what, reference, rule) in &looped {
        expect_rule_shape(rule, reference.shape(), what)?;
        if let Some(k) = (0..rule.len()).find(|&k| rule.data()[k] != reference.data()[k]) {
            return Err(violation(
                &format!("structural: batched {what} = looped {what}"),
                reference.multi_index(k),
                &rule.data()[k],
                &reference.data()[k],
                &inputs(),
            ));
        }
    }
    Ok(())
}

/// Sample `b` of a batched tensor (its first index fixed), with shape `sample`.
fn slice<S: Clone>(t: &Tensor<S>, b: usize, sample: &[usize]) -> Result<Tensor<S>> {
    let size: usize = sample.iter().product();
    Tensor::new(sample.to_vec(), t.data()[b * size..(b + 1) * size].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Identity, Mlp, Op, Param, Relu};
    use crate::planted;
    use crate::scalar::Q;
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicI64, Ordering};

    use crate::ops::test_support::t;

    /// `op` with rule `stale` (0 jvp, 1 vjp, 2 jvp_params, 3 vjp_params; any other: none)
    /// reading the input of the last `forward` instead of its own argument.
    struct Stale<O> {
        op: O,
        stale: usize,
        /// Which `forward` the stale rule reads: 0 the last, 1 the one before, …
        back: usize,
        saved: RefCell<Vec<Tensor<Q>>>,
    }
    impl<O> Stale<O> {
        fn new(op: O, stale: usize) -> Self {
            Self::lagging(op, stale, 0)
        }
        /// Rule `stale` reads the input of the `forward` `back` calls before the last.
        fn lagging(op: O, stale: usize, back: usize) -> Self {
            Stale {
                op,
                stale,
                back,
                saved: RefCell::new(Vec::new()),
            }
        }
        fn input(&self, rule: usize, x: &Tensor<Q>) -> Tensor<Q> {
            let saved = self.saved.borrow();
            match saved.len().checked_sub(1 + self.back) {
                Some(i) if rule == self.stale => saved[i].clone(),
                _ => x.clone(),
            }
        }
    }
    impl<O: Op> Op for Stale<O> {
        fn name(&self) -> String {
            format!("{} reading the last forward's input", self.op.name())
        }
        fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
            self.op.output_shape(input)
        }
        fn params(&self) -> Vec<Param<'_>> {
            self.op.params()
        }
    }
    impl<O: OpSpec<Q>> OpSpec<Q> for Stale<O> {
        fn forward(&self, x: &Tensor<Q>) -> Result<Tensor<Q>> {
            self.saved.borrow_mut().push(x.clone());
            self.op.forward(x)
        }
        fn jvp(&self, x: &Tensor<Q>, dx: &Tensor<Q>) -> Result<Tensor<Q>> {
            self.op.jvp(&self.input(0, x), dx)
        }
        fn vjp(&self, x: &Tensor<Q>, dy: &Tensor<Q>) -> Result<Tensor<Q>> {
            self.op.vjp(&self.input(1, x), dy)
        }
        fn jvp_params(&self, x: &Tensor<Q>, dtheta: &Tensor<Q>) -> Result<Tensor<Q>> {
            self.op.jvp_params(&self.input(2, x), dtheta)
        }
        fn vjp_params(&self, x: &Tensor<Q>, dy: &Tensor<Q>) -> Result<Tensor<Q>> {
            self.op.vjp_params(&self.input(3, x), dy)
        }
    }

    /// `1 → 1 → 1`, ReLU active at `x = 1` and inactive at `x′ = −1`: each of the four rules
    /// differs between the two points.
    fn mlp() -> Mlp {
        let (one, zero) = (t(&[1, 1], &["1"]), t(&[1], &["0"]));
        Mlp::new(one, zero.clone(), t(&[1, 1], &["2"]), zero).unwrap()
    }

    fn q(literal: &str) -> Q {
        crate::parse_q(literal).unwrap()
    }

    fn counterexample(result: Result<()>) -> Box<crate::error::Counterexample> {
        match result {
            Err(Error::Violated(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn interleaved_catches_each_rule_that_reads_the_last_forwards_input() {
        let (x, other, dx, dy) = (
            t(&[1], &["1"]),
            t(&[1], &["-1"]),
            t(&[1], &["1"]),
            t(&[1], &["1"]),
        );
        let dtheta = t(&[4], &["1", "1", "1", "1"]);
        let run = |stale| interleaved(&Stale::new(mlp(), stale), &x, &other, [&dx, &dtheta], &dy);
        assert_eq!(run(4), Ok(()));
        let names = [
            "jvp(x, dx)",
            "vjp(x, δ)",
            "jvp_params(x, dθ)",
            "vjp_params(x, δ)",
        ];
        for (stale, name) in names.iter().enumerate() {
            let c = counterexample(run(stale));
            let expected =
                format!("structural: {name} after forward(x), forward(x′), then jvp, vjp");
            assert!(c.check.starts_with(&expected), "{}", c.check);
            assert!(c.inputs.iter().any(|(input, _)| input == "dθ"), "{c:?}");
        }
        // An op without parameters: no parameter tangent among the inputs reported.
        let (x, other) = (t(&[2], &["1", "-2"]), t(&[2], &["-1", "2"]));
        let (d, none) = (t(&[2], &["1", "1"]), t(&[0], &[]));
        let c = counterexample(interleaved(
            &Stale::new(Relu, 1),
            &x,
            &other,
            [&d, &none],
            &d,
        ));
        assert!(
            c.check.starts_with("structural: vjp(x, δ) after"),
            "{}",
            c.check
        );
        assert!(c.inputs.iter().all(|(input, _)| input != "dθ"), "{c:?}");
    }

    planted!(NoJvpParams(Relu), fn jvp_params(&op, _x, _dtheta) {
        Err(Error::MissingRule { op: op.name(), rule: "jvp_params" })
    });

    planted!(NoVjpParams(Relu), fn vjp_params(&op, _x, _dy) {
        Err(Error::MissingRule { op: op.name(), rule: "vjp_params" })
    });

    #[test]
    fn interleaved_leaves_the_parameter_rules_of_an_op_without_parameters_alone() {
        let (x, other) = (t(&[2], &["1", "-2"]), t(&[2], &["-1", "2"]));
        let (d, none) = (t(&[2], &["1", "1"]), t(&[0], &[]));
        // Neither parameter rule is called, so neither its refusal nor a dθ of any shape counts.
        assert_eq!(interleaved(&Relu, &x, &other, [&d, &d], &d), Ok(()));
        assert_eq!(
            interleaved(&NoJvpParams(Relu), &x, &other, [&d, &none], &d),
            Ok(())
        );
        assert_eq!(
            interleaved(&NoVjpParams(Relu), &x, &other, [&d, &none], &d),
            Ok(())
        );
        // Called directly, each refuses.
        assert!(matches!(
            NoVjpParams(Relu).vjp_params(&x, &d),
            Err(Error::MissingRule {
                rule: "vjp_params",
                ..
            })
        ));
    }

    #[test]
    fn interleaved_runs_forward_at_x_only_before_the_first_sequence() {
        // A rule reading the input of the forward before the last: right after forward(x),
        // forward(x′) that is x, but the second sequence's single forward(x′) makes it x′.
        let (x, other) = (t(&[1], &["1"]), t(&[1], &["-1"]));
        let (dx, dy) = (t(&[1], &["1"]), t(&[1], &["1"]));
        let dtheta = t(&[4], &["1", "1", "1", "1"]);
        let op = Stale::lagging(mlp(), 0, 1);
        let c = counterexample(interleaved(&op, &x, &other, [&dx, &dtheta], &dy));
        assert_eq!(
            c.check,
            "structural: jvp(x, dx) after forward(x′), then vjp_params, jvp_params, vjp, jvp \
             equals jvp(x, dx) right after forward(x)"
        );
    }

    #[test]
    fn linearity_is_checked_on_every_entry_and_on_the_shapes_of_all_three_values() {
        let (v1, v2) = (t(&[1], &["1"]), t(&[1], &["2"]));
        let (a, b) = (q("2"), q("1"));
        let check = |rule: &dyn Fn(&Tensor<Q>) -> Result<Tensor<Q>>| {
            linear_in(
                "linear",
                ["v₁", "v₂"],
                rule,
                &v1,
                [&v1, &v2],
                [&a, &b],
                None,
            )
        };
        assert_eq!(check(&|v| Ok(v.clone())), Ok(()));
        // v ↦ v² differs from the combination in its only entry.
        let c = counterexample(check(&|v| v.zip_with(v, |p, w| p * w)));
        assert_eq!(c.check, "linear");
        // A value of the wrong shape at a·v₁ + b·v₂ = 4, at v₂ or at v₁.
        for wrong in ["4", "2", "1"] {
            let wrong = q(wrong);
            let result = check(&|v| {
                if v.data()[0] == wrong {
                    Ok(t(&[0], &[]))
                } else {
                    Ok(v.clone())
                }
            });
            assert!(
                matches!(result, Err(Error::ShapeMismatch { .. })),
                "{result:?}"
            );
        }
    }

    planted!(PlusOne(Relu), fn vjp(&op, x, dy) {
        // A constant added to the input gradient: wrong even for δ = 0.
        Ok(op.vjp(x, dy)?.map(|v| v.add_ref(&S::from_i64(1))))
    });

    /// Calls of `Drifting`'s jvp so far.
    static CALLS: AtomicI64 = AtomicI64::new(0);

    planted!(Drifting(Relu), fn jvp(&op, x, dx) {
        // Hidden state: each call adds one more than the last.
        let calls = CALLS.fetch_add(1, Ordering::Relaxed);
        Ok(op.jvp(x, dx)?.map(|v| v.add_ref(&S::from_i64(calls))))
    });

    #[test]
    fn zero_tangents_and_determinism_catch_a_constant_and_hidden_state() {
        let x = t(&[2], &["1", "-2"]);
        assert_eq!(zero_tangents(&Relu, &x), Ok(()));
        let c = counterexample(zero_tangents(&PlusOne(Relu), &x));
        assert_eq!(c.check, "structural: vjp(x, 0) = 0");
        let d = t(&[2], &["1", "1"]);
        assert_eq!(deterministic(&Relu, &x, &d, &d), Ok(()));
        let c = counterexample(deterministic(&Drifting(Relu), &x, &d, &d));
        assert_eq!(c.check, "structural: jvp run twice gives the same value");
    }

    #[test]
    fn batched_equals_looped_compares_each_sample_with_its_own_slice() {
        let x = t(&[2, 3], &["1", "-2", "3", "-4", "5", "-6"]);
        let dx = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let dy = t(&[2, 3], &["-1", "2", "-3", "4", "-5", "6"]);
        assert_eq!(batched_equals_looped(&Relu, &Relu, &x, &dx, &dy), Ok(()));
        // Slices of the wrong sample would show here: every entry differs from the others.
        assert_eq!(slice(&dx, 1, &[3]), Ok(t(&[3], &["4", "5", "6"])));
        assert_eq!(slice(&dx, 0, &[3]), Ok(t(&[3], &["1", "2", "3"])));
        // ReLU batched, identity per sample: the first negative entry, x[0][1].
        let c = counterexample(batched_equals_looped(&Relu, &Identity, &x, &dx, &dy));
        assert_eq!(c.check, "structural: batched forward = looped forward");
        assert_eq!(c.coordinate, vec![0, 1]);
    }

    planted!(SquaredJvp(Relu), fn jvp(&_op, _x, dx) {
        dx.zip_with(dx, |p, w| p.mul_ref(w))
    });

    planted!(SquaredVjp(Relu), fn vjp(&_op, _x, dy) {
        dy.zip_with(dy, |p, w| p.mul_ref(w))
    });

    #[test]
    fn the_linearity_checks_catch_a_rule_quadratic_in_its_tangent_or_cotangent() {
        let x = t(&[2], &["1", "-2"]);
        let (v1, v2) = (t(&[2], &["1", "2"]), t(&[2], &["-3", "1/2"]));
        let (a, b) = (q("2"), q("-1/3"));
        assert_eq!(linear_in_tangent(&Relu, &x, [&v1, &v2], [&a, &b]), Ok(()));
        assert_eq!(linear_in_cotangent(&Relu, &x, [&v1, &v2], [&a, &b]), Ok(()));
        let c = counterexample(linear_in_tangent(
            &SquaredJvp(Relu),
            &x,
            [&v1, &v2],
            [&a, &b],
        ));
        assert_eq!(
            c.check,
            "structural: jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)"
        );
        let c = counterexample(linear_in_cotangent(
            &SquaredVjp(Relu),
            &x,
            [&v1, &v2],
            [&a, &b],
        ));
        assert_eq!(
            c.check,
            "structural: vjp(x, a·δ₁ + b·δ₂) = a·vjp(x, δ₁) + b·vjp(x, δ₂)"
        );
    }
}
