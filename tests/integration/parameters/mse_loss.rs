//! Parameter gradients, checked like input gradients: the reference Jacobian with respect to the
//! parameters comes from dual numbers (`WrtParams`), and the training-style loss MLP + MSE gives
//! `grad_W1_mse … grad_x_mse`.

use exactgrad::check::{self, probe};
use exactgrad::ops::{param_vector, Add, DeepMlp, Guard, Mlp, MlpMse, Op, OpSpec, WrtParams};
use exactgrad::strategy::{any_mlp_case, any_q, linear, mlp_case, small_q, tensor};
use exactgrad::{Counterexample, Error, Scalar, Tensor, Q};
use proptest::prelude::*;

fn q(n: i64, d: i64) -> Q {
    Q::new(n.into(), d.into())
}

fn vec_q(values: &[i64]) -> Tensor<Q> {
    Tensor::from_vec(values.iter().map(|&v| q(v, 1)).collect())
}

/// An MLP case plus a target of the output's shape.
fn mse_case(max: usize) -> impl Strategy<Value = (MlpMse<Mlp>, Tensor<Q>)> {
    any_mlp_case(max).prop_flat_map(|(mlp, x, _)| {
        let (n, _, m) = mlp.dims();
        tensor(vec![m], any_q()).prop_map(move |t| {
            (
                MlpMse::new(mlp.clone(), t, &[n]).expect("target has the output's shape"),
                x.clone(),
            )
        })
    })
}

/// Splits a flattened `W1, b1, W2, b2` vector into its four parts.
fn split(mlp: &Mlp, flat: &Tensor<Q>) -> [Tensor<Q>; 4] {
    let (n, h, m) = mlp.dims();
    let mut rest = flat.data();
    let mut take = |shape: Vec<usize>| {
        let (head, tail) = rest.split_at(shape.iter().product());
        rest = tail;
        Tensor::new(shape, head.to_vec()).unwrap()
    };
    [
        take(vec![h, n]),
        take(vec![h]),
        take(vec![m, h]),
        take(vec![m]),
    ]
}

proptest! {
    #[test]
    fn mse_parameter_gradients_equal_the_dual_number_gradient((loss, x) in mse_case(3)) {
        let theta: Tensor<Q> = param_vector(&loss);
        let proof = check::gradient(&WrtParams::new(&loss, x.clone()), &theta).unwrap();
        // The closed forms, one by one, against the slices of the dual-number gradient.
        let grads = loss.gradients(&x).unwrap();
        let [w1, b1, w2, b2] = split(loss.net(), &proof.gradient);
        prop_assert_eq!(grads.w1, w1);
        prop_assert_eq!(grads.b1, b1);
        prop_assert_eq!(grads.w2, w2);
        prop_assert_eq!(grads.b2, b2);
        // And with respect to the input.
        let input = check::gradient(&loss, &x).unwrap();
        prop_assert_eq!(input.gradient, grads.x);
        prop_assert_eq!(input.value, proof.value);
    }

    #[test]
    fn mse_rules_are_adjoint_in_parameters_and_input((loss, x) in mse_case(4)) {
        let theta: Tensor<Q> = param_vector(&loss);
        let one = Tensor::new(vec![], vec![q(3, 2)]).unwrap();
        let wrt = WrtParams::new(&loss, x.clone());
        check::adjoint(&wrt, &theta, &probe(theta.shape(), 3).unwrap(), &one).unwrap();
        check::adjoint(&loss, &x, &probe(x.shape(), 3).unwrap(), &one).unwrap();
    }

    #[test]
    fn mlp_parameter_jacobians_are_exact((mlp, x, dy) in any_mlp_case(4)) {
        let theta: Tensor<Q> = param_vector(&mlp);
        let wrt = WrtParams::new(&mlp, x);
        check::jacobian(&wrt, &theta, &probe(theta.shape(), 1).unwrap(), &dy).unwrap();
    }

    #[test]
    fn linear_and_add_parameter_jacobians_are_exact(
        (layer, x, dy, c) in (1..=4usize, 1..=4usize).prop_flat_map(|(n, m)| {
            (
                linear(n, m, any_q()),
                tensor(vec![n], any_q()),
                tensor(vec![m], any_q()),
                tensor(vec![m], any_q()),
            )
        })
    ) {
        let theta: Tensor<Q> = param_vector(&layer);
        let wrt = WrtParams::new(&layer, x);
        check::jacobian(&wrt, &theta, &probe(theta.shape(), 1).unwrap(), &dy).unwrap();
        let bias = Add::new(c);
        let theta: Tensor<Q> = param_vector(&bias);
        let wrt = WrtParams::new(&bias, dy.clone());
        check::jacobian(&wrt, &theta, &probe(theta.shape(), 1).unwrap(), &dy).unwrap();
    }

    #[test]
    fn deep_mlp_mse_parameter_gradients_are_exact(
        (mlp, x, _) in mlp_case(3, 3, 2, small_q()),
        (tail, t) in (linear(2, 2, small_q()), tensor(vec![2], small_q())),
    ) {
        // A 3-layer net whose last hidden layer may sit on a kink: then the check must refuse
        // the point with a typed kink error rather than pass or fail.
        let net = DeepMlp::new(vec![
            mlp.layer1().clone(),
            mlp.layer2().clone(),
            tail,
        ]).unwrap();
        let loss = MlpMse::new(net, t, &[3]).unwrap();
        let theta: Tensor<Q> = param_vector(&loss);
        match check::gradient(&WrtParams::new(&loss, x.clone()), &theta) {
            Ok(proof) => {
                let dy = Tensor::new(vec![], vec![q(1, 1)]).unwrap();
                prop_assert_eq!(&proof.gradient, &loss.vjp_params(&x, &dy).unwrap());
            }
            Err(Error::Kink { layer, op, .. }) => {
                prop_assert_eq!(layer, 4);
                prop_assert_eq!(op, "ReLU");
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        }
    }
}

/// `1 → 2 → 1` with `z1 = (1, −1)`: unit 1 is inactive, target 0, so `L = 1`, `g = 2`.
fn small_loss() -> MlpMse<Mlp> {
    let mlp = Mlp::new(
        Tensor::from_rows(vec![vec![q(1, 1)], vec![q(-1, 1)]]).unwrap(),
        vec_q(&[0, 0]),
        Tensor::from_rows(vec![vec![q(1, 1), q(1, 1)]]).unwrap(),
        vec_q(&[0]),
    )
    .unwrap();
    MlpMse::new(mlp, vec_q(&[0]), &[1]).unwrap()
}

#[test]
fn the_closed_forms_on_a_worked_example() {
    let loss = small_loss();
    let x = vec_q(&[1]);
    assert_eq!(OpSpec::<Q>::forward(&loss, &x).unwrap().data(), &[q(1, 1)]);
    let g = loss.gradients(&x).unwrap();
    assert_eq!(
        g.w1,
        Tensor::from_rows(vec![vec![q(2, 1)], vec![q(0, 1)]]).unwrap()
    );
    assert_eq!(g.b1, vec_q(&[2, 0]));
    assert_eq!(
        g.w2,
        Tensor::from_rows(vec![vec![q(2, 1), q(0, 1)]]).unwrap()
    );
    assert_eq!(g.b2, vec_q(&[2]));
    assert_eq!(g.x, vec_q(&[2]));
    assert_eq!(loss.grad_w1_mse(&x), Ok(g.w1));
    assert_eq!(loss.grad_b1_mse(&x), Ok(g.b1));
    assert_eq!(loss.grad_w2_mse(&x), Ok(g.w2));
    assert_eq!(loss.grad_b2_mse(&x), Ok(g.b2));
    assert_eq!(loss.grad_x_mse(&x), Ok(g.x));
    assert_eq!(loss.name(), "MSE(MLP(1→2→1))");
    assert_eq!(loss.depth(), 4);
}

/// A planted bug, the classic one: `∂L/∂W1` and `∂L/∂b1` forget the ReLU mask.
struct UnmaskedHiddenGradient(MlpMse<Mlp>);

impl Op for UnmaskedHiddenGradient {
    fn name(&self) -> String {
        format!("{} (hidden mask forgotten)", self.0.name())
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn params(&self) -> Vec<exactgrad::Param<'_>> {
        self.0.params()
    }
}

impl<S: Scalar> OpSpec<S> for UnmaskedHiddenGradient {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> exactgrad::Result<Vec<Guard<S>>> {
        self.0.guards(x)
    }
    fn forward_with_params(&self, p: &Tensor<S>, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.forward_with_params(p, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dp: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.jvp_params(x, dp)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        let right = self.0.gradients(x)?;
        let mlp = self.0.net();
        let w2 = mlp.layer2().weight().lifted::<S>();
        let unmasked = w2.transpose_mat_vec_mul(&right.b2)?.scale(&dy.data()[0]);
        let parts = [
            unmasked.outer(x),
            unmasked,
            right.w2.scale(&dy.data()[0]),
            right.b2.scale(&dy.data()[0]),
        ];
        Ok(Tensor::from_vec(
            parts
                .iter()
                .flat_map(|t| t.data().iter().cloned())
                .collect(),
        ))
    }
}

#[test]
fn a_w1_gradient_without_the_relu_mask_is_rejected_with_its_counterexample() {
    let buggy = UnmaskedHiddenGradient(small_loss());
    let x = vec_q(&[1]);
    let theta: Tensor<Q> = param_vector(&buggy);
    assert_eq!(theta, vec_q(&[1, -1, 0, 0, 1, 1, 0]));
    // The input gradient is untouched, so the input check passes…
    check::gradient(&buggy, &x).unwrap();
    // …and the parameter check names W1[1, 0], flattened coordinate 1: 2 instead of 0.
    let err = check::gradient(&WrtParams::new(&buggy, x), &theta).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "jacobian: vjp(x, δ) = Jᵀ·δ".into(),
            coordinate: vec![1],
            rule: "2".into(),
            reference: "0".into(),
            difference: "2".into(),
            inputs: vec![
                ("x".into(), "[1, -1, 0, 0, 1, 1, 0]".into()),
                ("dx".into(), probe::<Q>(&[7], 1).unwrap().to_string()),
                ("δ".into(), "1".into()),
            ],
            parameter: None,
            stage: None,
        }))
    );
}

#[test]
fn a_target_of_the_wrong_shape_and_a_kink_are_typed_errors() {
    let mlp = small_loss().net().clone();
    assert!(matches!(
        MlpMse::new(mlp.clone(), vec_q(&[0, 0]), &[1]),
        Err(Error::ShapeMismatch { .. })
    ));
    let loss = MlpMse::new(mlp, vec_q(&[0]), &[1]).unwrap();
    // x = 0 puts both hidden units on their kink.
    let kink = Error::Kink {
        layer: 2,
        op: "ReLU".into(),
        coordinate: vec![0],
    };
    assert_eq!(loss.gradients(&vec_q(&[0])), Err(kink.clone()));
    let theta: Tensor<Q> = param_vector(&loss);
    assert_eq!(
        check::gradient(&WrtParams::new(&loss, vec_q(&[0])), &theta).map(|_| ()),
        Err(kink)
    );
}

#[test]
fn the_loss_is_a_scalar_and_its_cotangent_must_be_one() {
    let loss = small_loss();
    assert_eq!(loss.output_shape(&[1]), Ok(vec![]));
    assert!(matches!(
        OpSpec::<Q>::vjp(&loss, &vec_q(&[1]), &vec_q(&[1])),
        Err(Error::ShapeMismatch { .. })
    ));
}
