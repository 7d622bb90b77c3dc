//! Parameter gradients of the primitive ops (Linear's `∂W = δ·xᵀ`, `∂b = δ`; Add; MatVec; the
//! MLP's four parameter blocks), checked like input gradients through `WrtParams`.

use crate::common::*;
use exactgrad::check::{adjoint, jacobian, probe};
use exactgrad::ops::{param_vector, Add, Linear, MatVec, WrtParams};
use exactgrad::strategy::{any_mlp_case, any_q, linear, tensor};
use exactgrad::{Error, Op, OpSpec, Result, Ring, Scalar, Tensor, Q};
use proptest::prelude::*;

fn check_params<O>(op: &O, x: &Tensor<Q>, dy: &Tensor<Q>) -> Result<()>
where
    O: exactgrad::Checkable,
{
    let wrt = WrtParams::new(op, x.clone());
    let theta: Tensor<Q> = param_vector(&op);
    let dtheta = probe(theta.shape(), 5).unwrap();
    adjoint(&wrt, &theta, &dtheta, dy)?;
    jacobian(&wrt, &theta, &dtheta, dy)?;
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn linear_add_matvec_parameter_rules_are_exact(
        (l, a, c, x, dy) in (1usize..4, 1usize..4).prop_flat_map(|(n, m)| (
            linear(n, m, any_q()), tensor(vec![m, n], any_q()), tensor(vec![n], any_q()),
            tensor(vec![n], any_q()), tensor(vec![m], any_q())))
    ) {
        check_params(&l, &x, &dy).unwrap();
        check_params(&MatVec::new(a).unwrap(), &x, &dy).unwrap();
        check_params(&Add::new(c), &x, &x).unwrap();
        // ∂W = δ·xᵀ and ∂b = δ, as the Linear docs say.
        prop_assert_eq!(l.vjp_weight(&x, &dy).unwrap(), dy.outer(&x));
        prop_assert_eq!(l.vjp_bias(&dy).unwrap(), dy);
    }

    #[test]
    fn mlp_parameter_rules_are_exact((mlp, x, dy) in any_mlp_case(4)) {
        check_params(&mlp, &x, &dy).unwrap();
    }
}

/// Planted bug: Linear whose bias gradient is doubled.
struct DoubledBiasGradient(Linear);

impl Op for DoubledBiasGradient {
    fn name(&self) -> String {
        "Linear with doubled bias gradient".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn params(&self) -> Vec<exactgrad::Param<'_>> {
        self.0.params()
    }
}

impl<S: Scalar> OpSpec<S> for DoubledBiasGradient {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.vjp(x, dy)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.forward_with_params(params, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let mut g = self.0.vjp_params(x, dy)?.into_data();
        let m = dy.len();
        let start = g.len() - m;
        for v in &mut g[start..] {
            *v = v.add_ref(&v.clone());
        }
        Ok(Tensor::from_vec(g))
    }
}

#[test]
fn a_doubled_bias_gradient_is_caught_by_both_checks() {
    let l = Linear::new(
        t(&[2, 3], &["1", "2", "3", "4", "5", "6"]),
        t(&[2], &["1/2", "1/3"]),
    )
    .unwrap();
    let bad = DoubledBiasGradient(l);
    let (x, dy) = (t(&[3], &["1", "-1", "2"]), t(&[2], &["3/5", "-7"]));
    let wrt = WrtParams::new(&bad, x.clone());
    let theta: Tensor<Q> = param_vector(&bad);
    let Error::Violated(c) =
        jacobian(&wrt, &theta, &probe(theta.shape(), 0).unwrap(), &dy).unwrap_err()
    else {
        panic!()
    };
    // Parameter 6 is b₀: gradient δ₀ = 3/5, doubled to 6/5.
    assert_eq!(
        (c.coordinate.clone(), c.rule.as_str(), c.reference.as_str()),
        (vec![6], "6/5", "3/5")
    );
    let Error::Violated(c) =
        adjoint(&wrt, &theta, &probe(theta.shape(), 0).unwrap(), &dy).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        (c.coordinate.clone(), c.rule.as_str(), c.reference.as_str()),
        (vec![0, 6], "2", "1")
    );
}

#[test]
fn parameter_rules_are_only_evaluated_at_the_ops_own_parameters() {
    let l = Linear::new(t(&[1, 1], &["2"]), t(&[1], &["0"])).unwrap();
    let wrt = WrtParams::new(&l, t(&[1], &["1"]));
    let other = t(&[2], &["3", "0"]);
    assert!(matches!(
        wrt.vjp(&other, &t(&[1], &["1"])),
        Err(Error::NotOwnParameters { .. })
    ));
}

#[test]
fn the_same_op_value_runs_over_q_f64_and_dual() {
    let (mlp, x, _) = exactgrad::report::builtin_example();
    let exact: Tensor<Q> = mlp.forward(&x).unwrap();
    let float: Tensor<f64> = mlp.forward(&x.lift::<f64>()).unwrap();
    let dual: Tensor<exactgrad::Dual<Q>> = mlp.forward(&x.lift()).unwrap();
    for ((e, f), d) in exact.data().iter().zip(float.data()).zip(dual.data()) {
        assert!((<f64 as exactgrad::Field>::from_q(e) - f).abs() < 1e-12);
        assert_eq!(&d.re, e);
        assert_eq!(d.eps, Q::from_i64(0));
    }
}

#[test]
fn parameter_checks_refuse_a_point_on_a_kink() {
    // z1 = W1·x + b1 = (0, 1): hidden unit 0 sits on its kink.
    let mlp = exactgrad::ops::Mlp::new(
        t(&[2, 1], &["1", "1"]),
        t(&[2], &["-1", "0"]),
        t(&[1, 2], &["1", "1"]),
        t(&[1], &["0"]),
    )
    .unwrap();
    let x = t(&[1], &["1"]);
    let wrt = WrtParams::new(&mlp, x);
    let theta: Tensor<Q> = param_vector(&mlp);
    let dy = t(&[1], &["1"]);
    for err in [
        adjoint(&wrt, &theta, &probe(theta.shape(), 0).unwrap(), &dy).unwrap_err(),
        jacobian(&wrt, &theta, &probe(theta.shape(), 0).unwrap(), &dy).unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Kink { layer: 2, ref coordinate, .. } if coordinate == &vec![0]),
            "{err}"
        );
    }
    assert!(matches!(
        exactgrad::check::kink_radius(&wrt, &theta),
        Err(Error::Kink { .. })
    ));
    // Off the kink, no radius in parameter space is claimed: the guards are not reported as
    // functions of the parameters.
    let off = WrtParams::new(&mlp, t(&[1], &["2"]));
    let err = exactgrad::check::kink_radius(&off, &theta).unwrap_err();
    assert!(
        matches!(err, Error::RadiusNotCertified { layer: 2, .. }),
        "{err}"
    );
}
