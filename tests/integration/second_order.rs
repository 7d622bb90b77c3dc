//! Second order, exactly: Hessians and Hessian-vector products by nested duals, the rules
//! differentiated over dual numbers (gradgradcheck), and symmetric Hessians of scalar losses.
//! ReLU nets have zero Hessian almost everywhere, so the ops here are smooth and rational:
//! polynomials, MSE, products in a graph.

use exactgrad::check::{self, gradgrad, hessian_symmetry, probe};
use exactgrad::ops::{Elementwise, Linear, MlpMse, Op, OpSpec, ScalarFn};
use exactgrad::strategy::{linear, mlp_case, small_q, tensor};
use exactgrad::tape::{Graph, Layer};
use exactgrad::{Compose, Counterexample, Error, Scalar, Tensor, Q};
use proptest::prelude::*;

fn q(n: i64, d: i64) -> Q {
    Q::new(n.into(), d.into())
}

fn vec_q(values: &[i64]) -> Tensor<Q> {
    Tensor::from_vec(values.iter().map(|&v| q(v, 1)).collect())
}

fn div<S: Scalar>(a: S, b: i64) -> S {
    a.checked_div(&S::from_i64(b)).expect("non-zero constant")
}

/// `φ(x) = x³/3 − x² + x/2`, `φ′(x) = x² − 2x + 1/2` (so `φ″(x) = 2x − 2`).
struct Cubic;

impl ScalarFn for Cubic {
    fn name(&self) -> String {
        "x³/3 − x² + x/2".into()
    }
    fn value<S: Scalar>(&self, x: &S) -> exactgrad::Result<S> {
        let x2 = x.mul_ref(x);
        Ok(div(x2.mul_ref(x), 3) - x2 + div(x.clone(), 2))
    }
    fn deriv<S: Scalar>(&self, x: &S) -> exactgrad::Result<S> {
        Ok(x.mul_ref(x) - S::from_i64(2).mul_ref(x) + div(S::one(), 2))
    }
}

/// A planted bug that first-order checks at `x = 1` cannot see: `φ(x) = x³` with the claimed
/// derivative `3x² + 5(x − 1)`, right at 1 only, so its own derivative there is `6 + 5`.
struct RightOnlyAtOne;

impl ScalarFn for RightOnlyAtOne {
    fn name(&self) -> String {
        "x³ (derivative right only at 1)".into()
    }
    fn value<S: Scalar>(&self, x: &S) -> exactgrad::Result<S> {
        Ok(x.mul_ref(x).mul_ref(x))
    }
    fn deriv<S: Scalar>(&self, x: &S) -> exactgrad::Result<S> {
        Ok(S::from_i64(3).mul_ref(&x.mul_ref(x)) + S::from_i64(5).mul_ref(&(x.clone() - S::one())))
    }
}

/// `f(x) = x₀·x₁` whose rules use a saved, detached copy of `x₀` — the double-backward bug of a
/// backward that saves a constant instead of the input. Right wherever `x₀` equals the copy.
struct StaleProduct {
    saved: Q,
}

impl Op for StaleProduct {
    fn name(&self) -> String {
        "x₀·x₁ (saved x₀)".into()
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        if input != [2] {
            return Err(Error::shape_mismatch("StaleProduct: input", input, vec![2]));
        }
        Ok(vec![1])
    }
}

impl<S: Scalar> OpSpec<S> for StaleProduct {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(Tensor::from_vec(vec![x.data()[0].mul_ref(&x.data()[1])]))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        let saved = S::from_q(&self.saved);
        Ok(Tensor::from_vec(vec![
            x.data()[1].mul_ref(&dx.data()[0]) + saved.mul_ref(&dx.data()[1]),
        ]))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        let saved = S::from_q(&self.saved);
        Ok(Tensor::from_vec(vec![
            x.data()[1].mul_ref(&dy.data()[0]),
            saved.mul_ref(&dy.data()[0]),
        ]))
    }
}

proptest! {
    #[test]
    fn a_smooth_scalar_loss_has_a_symmetric_hessian_that_the_rules_differentiate_to(
        (l1, l2, x) in (1..=3usize, 1..=3usize).prop_flat_map(|(n, k)| {
            (linear(n, k, small_q()), linear(k, 1, small_q()), tensor(vec![n], small_q()))
        })
    ) {
        let loss = (&l1).then(Elementwise(Cubic)).then(&l2);
        let sym = hessian_symmetry(&loss, &x).unwrap();
        let proof = gradgrad(&loss, &x, &vec_q(&[1])).unwrap();
        prop_assert_eq!(&sym.hessian, &proof.hessian);
        prop_assert_eq!(&sym.rule_hessian, &proof.vjp_jacobian);
        // Closed form: H = W1ᵀ·diag(w2 ⊙ φ″(z))·W1, z = W1·x + b1.
        let z = l1.forward(&x).unwrap();
        let w2 = l2.weight();
        let scale = z.zip_with(&Tensor::from_vec(w2.data().to_vec()), |z, w| {
            (q(2, 1) * z.clone() - q(2, 1)) * w.clone()
        }).unwrap();
        let w1 = l1.weight();
        let scaled = Tensor::new(
            w1.shape().to_vec(),
            w1.data()
                .chunks(w1.shape()[1])
                .zip(scale.data())
                .flat_map(|(row, s)| row.iter().map(move |v| v.clone() * s.clone()))
                .collect(),
        ).unwrap();
        prop_assert_eq!(&proof.hessian, &w1.transpose().unwrap().matmul(&scaled).unwrap());
        // Hessian-vector products: nested duals, the rule over duals, and H·v agree.
        prop_assert_eq!(&proof.hvp, &proof.rule_hvp);
        prop_assert_eq!(proof.hvp, proof.hessian.mat_vec_mul(&proof.dx).unwrap());
    }

    #[test]
    fn vector_valued_smooth_ops_pass_gradgrad(
        (l1, x, dy) in (1..=3usize, 1..=3usize).prop_flat_map(|(n, k)| {
            (linear(n, k, small_q()), tensor(vec![n], small_q()), tensor(vec![k], small_q()))
        })
    ) {
        let op = (&l1).then(Elementwise(Cubic));
        gradgrad(&op, &x, &dy).unwrap();
    }

    #[test]
    fn the_hessian_of_mlp_mse_is_two_over_m_jt_j(
        (mlp, x, target) in mlp_case(3, 3, 2, small_q())
    ) {
        // On the piece around x the MLP is affine, so L = |J·x + c − t|²/m has Hessian 2/m·JᵀJ.
        let loss = MlpMse::new(mlp.clone(), target, &[3]).unwrap();
        let sym = hessian_symmetry(&loss, &x).unwrap();
        let j = mlp.deriv(&x).unwrap();
        let expected = j.transpose().unwrap().matmul(&j).unwrap().scale(&q(2, 2)); // 2/m, m = 2
        prop_assert_eq!(&sym.hessian, &expected);
        gradgrad(&loss, &x, &Tensor::new(vec![], vec![q(1, 1)]).unwrap()).unwrap();
    }

    #[test]
    fn graphs_with_products_and_fan_out_pass_gradgrad(
        (a, b, c, x) in (1..=3usize).prop_flat_map(|n| {
            (linear(n, n, small_q()), linear(n, n, small_q()), linear(n, 1, small_q()), tensor(vec![n], small_q()))
        })
    ) {
        // y = L3(((L1 x) ⊙ relu(L2 x) + x) ⊙ L1 x): L1 x is used twice, x three times.
        let mut g = Graph::new(x.shape().to_vec());
        let (l1, l2, l3) = (g.op(Layer::Linear(a)), g.op(Layer::Linear(b)), g.op(Layer::Linear(c)));
        let relu = g.op(Layer::Relu);
        let input = g.input();
        let u = g.apply(l1, input).unwrap();
        let v = g.apply(l2, input).unwrap();
        let v = g.apply(relu, v).unwrap();
        let w = g.mul(u, v).unwrap();
        let w = g.add(w, input).unwrap();
        let w = g.mul(w, u).unwrap();
        g.apply(l3, w).unwrap();
        match hessian_symmetry(&g, &x) {
            Err(Error::Kink { .. }) => return Ok(()),
            other => { other.unwrap(); }
        }
        gradgrad(&g, &x, &vec_q(&[1])).unwrap();
    }
}

#[test]
fn the_mse_hessian_on_a_worked_example() {
    // The 1 → 2 → 1 MLP with z1 = (x, −x) at x = 1: J = [[1]], m = 1, so H = [[2]].
    let mlp = exactgrad::ops::Mlp::new(
        Tensor::from_rows(vec![vec![q(1, 1)], vec![q(-1, 1)]]).unwrap(),
        vec_q(&[0, 0]),
        Tensor::from_rows(vec![vec![q(1, 1), q(1, 1)]]).unwrap(),
        vec_q(&[0]),
    )
    .unwrap();
    let loss = MlpMse::new(mlp, vec_q(&[0]), &[1]).unwrap();
    let sym = hessian_symmetry(&loss, &vec_q(&[1])).unwrap();
    assert_eq!(sym.hessian, Tensor::from_rows(vec![vec![q(2, 1)]]).unwrap());
}

#[test]
fn a_derivative_right_only_at_the_point_passes_first_order_and_fails_gradgrad() {
    let op = Elementwise(RightOnlyAtOne);
    let (x, one) = (vec_q(&[1]), vec_q(&[1]));
    check::jacobian(&op, &x, &one, &one).unwrap();
    check::adjoint(&op, &x, &one, &one).unwrap();
    let err = gradgrad(&op, &x, &one).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "gradgrad: ∂ⱼ vjp(x, δ)ᵢ = ∂ᵢ∂ⱼ⟪δ, f⟫(x)".into(),
            coordinate: vec![0, 0],
            rule: "11".into(),
            reference: "6".into(),
            difference: "5".into(),
            inputs: vec![
                ("x".into(), "[1]".into()),
                ("dx".into(), "[1]".into()),
                ("δ".into(), "[1]".into()),
            ],
            parameter: None,
            stage: None,
        }))
    );
}

#[test]
fn a_vjp_with_a_stale_saved_input_has_an_asymmetric_hessian() {
    let op = StaleProduct { saved: q(3, 1) };
    let x = vec_q(&[3, 5]);
    let one = vec_q(&[1]);
    // Right at the point where the copy was taken…
    check::jacobian(&op, &x, &probe(&[2], 1).unwrap(), &one).unwrap();
    check::adjoint(&op, &x, &probe(&[2], 1).unwrap(), &one).unwrap();
    // …but its derivative is [[0, 1], [0, 0]]: ∂₁g₀ = 1 while ∂₀g₁ = 0. No reference needed.
    let err = hessian_symmetry(&op, &x).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "Hessian symmetry: ∂ⱼ vjp(x, 1)ᵢ = ∂ᵢ vjp(x, 1)ⱼ".into(),
            coordinate: vec![0, 1],
            rule: "1".into(),
            reference: "0".into(),
            difference: "1".into(),
            inputs: vec![("x".into(), "[3, 5]".into())],
            parameter: None,
            stage: None,
        }))
    );
    // Against nested duals the true Hessian is [[0, 1], [1, 0]]: entry (1, 0) differs.
    let err = gradgrad(&op, &x, &one).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "gradgrad: ∂ⱼ vjp(x, δ)ᵢ = ∂ᵢ∂ⱼ⟪δ, f⟫(x)".into(),
            coordinate: vec![1, 0],
            rule: "0".into(),
            reference: "1".into(),
            difference: "-1".into(),
            inputs: vec![
                ("x".into(), "[3, 5]".into()),
                ("dx".into(), "[1, -1]".into()),
                ("δ".into(), "[1]".into()),
            ],
            parameter: None,
            stage: None,
        }))
    );
    assert_eq!(
        check::reference_hessian(&op, &x, &one).unwrap(),
        Tensor::from_rows(vec![vec![q(0, 1), q(1, 1)], vec![q(1, 1), q(0, 1)]]).unwrap()
    );
}

#[test]
fn hessian_vector_products_by_nested_duals_on_a_worked_example() {
    // f(x) = x₀·x₁: H = [[0, 1], [1, 0]], so H·(2, 7) = (7, 2).
    let op = StaleProduct { saved: q(3, 1) };
    let (x, v) = (vec_q(&[3, 5]), vec_q(&[2, 7]));
    assert_eq!(check::hvp(&op, &x, &vec_q(&[1]), &v), Ok(vec_q(&[7, 2])));
    // The stale rule loses the ∂₀ of its second component: (7, 0).
    assert_eq!(
        check::rule_hvp(&op, &x, &vec_q(&[1]), &v),
        Ok(vec_q(&[7, 0]))
    );
}

#[test]
fn bad_inputs_are_typed_errors() {
    let op = Elementwise(Cubic);
    assert!(matches!(
        hessian_symmetry(&op, &vec_q(&[1, 2])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        gradgrad(&op, &vec_q(&[1, 2]), &vec_q(&[1])),
        Err(Error::ShapeMismatch { .. })
    ));
    let relu_loss = exactgrad::ops::Relu
        .then(Linear::new(Tensor::from_rows(vec![vec![q(1, 1)]]).unwrap(), vec_q(&[0])).unwrap());
    assert_eq!(
        hessian_symmetry(&relu_loss, &vec_q(&[0])).map(|_| ()),
        Err(Error::Kink {
            layer: 1,
            op: "ReLU".into(),
            coordinate: vec![0]
        })
    );
}
