//! The one-pass Jacobian over jets (`check::reference_jacobian`) and the guard gradients behind
//! `check::kink_radius` equal, entry for entry, what the per-coordinate method gives — one pass of
//! `forward` (or `guards`) over `Dual<Q>` per input coordinate, kept here as the reference — on
//! random ops with small, huge and float-exact entries, and fail with the same typed errors at
//! kinks. The jet matrix products are also checked against their definition by scalar jet
//! arithmetic, in every storage of the tangents (absent, seeds, dense rows).

use exactgrad::check::{kink_radius, no_kinks, reference_jacobian, KinkRadius};
use exactgrad::ops::{
    param_vector, Compose, Conv2d, DeepMlp, Elementwise, Linear, MlpMse, Mul, Power, Relu,
    ScalarFn, Softsign, Sum, WrtParams,
};
use exactgrad::strategy::{any_mlp_case, any_q, huge_q, linear, onto_kink, small_q, tensor};
use exactgrad::tape::{Graph, Layer};
use exactgrad::{Dual, Error, Field, Jet, OpSpec, Ordered, Result, Ring, Scalar, Tensor, Q};
use proptest::prelude::*;
use std::cmp::Ordering;

/// `x` with tangent `e_j`.
fn dual_seed(x: &Tensor<Q>, j: usize) -> Tensor<Dual<Q>> {
    let data = x.data().iter().enumerate().map(|(k, v)| {
        let t = if k == j {
            Q::from_i64(1)
        } else {
            Q::from_i64(0)
        };
        Dual::new(v.clone(), t)
    });
    Tensor::new(x.shape().to_vec(), data.collect()).unwrap()
}

/// The per-coordinate reference: one dual pass per input coordinate (the method jets replace).
fn dual_jacobian<O: OpSpec<Q> + OpSpec<Dual<Q>>>(op: &O, x: &Tensor<Q>) -> Result<Tensor<Q>> {
    let out_shape = op.output_shape(x.shape())?;
    no_kinks(op, x)?;
    let (out, n) = (out_shape.iter().product::<usize>(), x.len());
    let mut data = vec![Q::from_i64(0); out * n];
    for j in 0..n {
        let y = op.forward(&dual_seed(x, j))?;
        assert_eq!(y.shape(), &out_shape[..]);
        for (i, v) in y.data().iter().enumerate() {
            data[i * n + j] = v.eps.clone();
        }
    }
    Tensor::new(vec![out, n], data)
}

/// The per-coordinate kink radius: `‖∇g‖₁` accumulated over one dual pass of the guards per
/// input coordinate.
fn dual_kink_radius<O: OpSpec<Q> + OpSpec<Dual<Q>>>(
    op: &O,
    x: &Tensor<Q>,
) -> Result<KinkRadius<Q>> {
    let guards = no_kinks(op, x)?;
    let certified = op.certified_guard_layers();
    if let Some(g) = guards.iter().find(|g| g.layer > certified) {
        return Err(Error::RadiusNotCertified {
            op: op.name(),
            layer: g.layer,
        });
    }
    let mut norms = vec![Q::from_i64(0); guards.len()];
    for j in 0..x.len() {
        let dual_guards = op.guards(&dual_seed(x, j))?;
        assert_eq!(dual_guards.len(), guards.len());
        for (norm, g) in norms.iter_mut().zip(&dual_guards) {
            *norm = norm.add_ref(&g.value.eps.abs_val());
        }
    }
    let mut best: Option<(Q, usize)> = None;
    for (k, (g, norm)) in guards.iter().zip(&norms).enumerate() {
        if let Some(r) = g.value.abs_val().checked_div(norm) {
            if best
                .as_ref()
                .is_none_or(|(b, _)| r.sub_ref(b).sign() == Ordering::Less)
            {
                best = Some((r, k));
            }
        }
    }
    Ok(KinkRadius {
        radius: best.as_ref().map(|(r, _)| r.clone()),
        binding: best.map(|(_, k)| guards[k].clone()),
    })
}

/// Jets and duals agree on the Jacobian, and on the kink radius when the op has one.
fn same_as_duals<O>(op: &O, x: &Tensor<Q>) -> std::result::Result<(), TestCaseError>
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<Jet<Q>>,
{
    prop_assert_eq!(
        reference_jacobian(op, x),
        dual_jacobian(op, x),
        "{}",
        op.name()
    );
    if op.is_piecewise_linear() {
        prop_assert_eq!(kink_radius(op, x), dual_kink_radius(op, x), "{}", op.name());
    }
    Ok(())
}

/// `φ(x) = x³/(1 + x²) − 2x`: products, a quotient and constants on every entry.
struct Rational;

impl ScalarFn for Rational {
    fn name(&self) -> String {
        "x³/(1 + x²) − 2x".into()
    }
    fn value<S: Scalar>(&self, x: &S) -> Result<S> {
        let den = S::one().add_ref(&x.mul_ref(x));
        let q = x.mul_ref(x).mul_ref(x).checked_div(&den);
        let q = q.ok_or_else(|| Error::DivisionByZero {
            context: self.name(),
            coordinate: vec![],
        })?;
        Ok(q - S::from_i64(2).mul_ref(x))
    }
    fn deriv<S: Scalar>(&self, _x: &S) -> Result<S> {
        unreachable!("the reference Jacobian never calls a rule")
    }
}

fn conv_case() -> impl Strategy<Value = (Conv2d, Tensor<Q>)> {
    (1usize..=2, 1usize..=2, 1usize..=2, 2usize..=4, 0usize..=1).prop_flat_map(
        |(cin, cout, k, side, pad)| {
            (
                tensor(vec![cout, cin, k, k], any_q()),
                tensor(vec![cout], small_q()),
                tensor(vec![cin, side, side], any_q()),
                1usize..=2,
            )
                .prop_map(move |(w, b, x, stride)| {
                    let conv = Conv2d::new(w, b, (stride, stride), (pad, pad)).unwrap();
                    (conv, x)
                })
        },
    )
}

fn deep_case() -> impl Strategy<Value = (DeepMlp, Tensor<Q>)> {
    prop::collection::vec(1usize..=4, 3..=4).prop_flat_map(|widths| {
        let layers: Vec<_> = widths
            .windows(2)
            .map(|w| linear(w[0], w[1], any_q()))
            .collect();
        (layers, tensor(vec![widths[0]], any_q()))
            .prop_map(|(layers, x)| (DeepMlp::new(layers).unwrap(), x))
    })
}

/// `y = L2(relu(L1(x))) ⊙ L1(x) + L1(x)`: fan-out, a product of two jets and a residual.
fn graph(l1: Linear, l2: Linear) -> Graph<Layer> {
    let n = l1.weight().shape()[1];
    let mut g = Graph::new(vec![n]);
    let (a, r, b) = (
        g.op(Layer::Linear(l1)),
        g.op(Layer::Relu),
        g.op(Layer::Linear(l2)),
    );
    let h = g.apply(a, g.input()).unwrap();
    let z = g.apply(r, h).unwrap();
    let z = g.apply(b, z).unwrap();
    let p = g.mul(z, h).unwrap();
    g.add(p, h).unwrap();
    g
}

/// A jet with its row stored in each of the three ways, from a selector.
fn jet(value: Q, kind: u8, index: usize, width: usize, row: &[Q]) -> Jet<Q> {
    match kind % 3 {
        0 => Jet::constant(value),
        1 => Jet::variable(value, index % width, width),
        _ => Jet::new(value, row.to_vec()),
    }
}

fn jets(width: usize, len: usize) -> impl Strategy<Value = Vec<Jet<Q>>> {
    prop::collection::vec(
        (
            any_q(),
            any::<u8>(),
            any::<usize>(),
            prop::collection::vec(prop_oneof![2 => Just(Q::from_i64(0)), 3 => any_q()], width),
        ),
        len,
    )
    .prop_map(move |v| {
        v.into_iter()
            .map(|(x, kind, i, row)| jet(x, kind, i, width, &row))
            .collect()
    })
}

/// All jets of `xs` constant (`mask` false) or as drawn.
fn some_constant(xs: Vec<Jet<Q>>, constant: bool) -> Vec<Jet<Q>> {
    if constant {
        xs.into_iter()
            .map(|x| Jet::constant(x.value().clone()))
            .collect()
    } else {
        xs
    }
}

/// `Σ aᵢ·bᵢ` by scalar jet arithmetic: the definition the kernels must meet.
fn plain_dot(a: &[Jet<Q>], b: &[Jet<Q>]) -> Jet<Q> {
    a.iter()
        .zip(b)
        .fold(Jet::constant(Q::from_i64(0)), |acc, (x, y)| {
            acc.add_ref(&x.mul_ref(y))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn linear_relu_and_mlps_match_dual_passes((mlp, x, _dy) in any_mlp_case(6)) {
        same_as_duals(&mlp, &x)?;
        same_as_duals(&mlp.as_op(), &x)?;
        same_as_duals(mlp.layer1(), &x)?;
        same_as_duals(&mlp.layer1().clone().then(Relu), &x)?;
    }

    #[test]
    fn huge_rationals_match((l, x) in (1usize..=4, 1usize..=4).prop_flat_map(|(n, m)| {
        (linear(n, m, huge_q(300)), tensor(vec![n], huge_q(300)))
    })) {
        same_as_duals(&l.clone().then(Relu), &x)?;
        same_as_duals(&l, &x)?;
    }

    #[test]
    fn deep_mlps_match((net, x) in deep_case()) {
        same_as_duals(&net, &x)?;
    }

    #[test]
    fn convolutions_match((conv, x) in conv_case()) {
        same_as_duals(&conv, &x)?;
        same_as_duals(&conv.clone().then(Relu), &x)?;
    }

    #[test]
    fn smooth_and_bilinear_ops_match(
        (l, x) in (1usize..=4, 1usize..=4).prop_flat_map(|(n, m)| {
            (linear(n, m, any_q()), tensor(vec![n], any_q()))
        }),
        stacked in tensor(vec![2, 3], any_q()),
    ) {
        let smooth = l.clone().then(Power::new(3)).then(Softsign).then(Sum);
        same_as_duals(&smooth, &x)?;
        same_as_duals(&l.clone().then(Elementwise(Rational)), &x)?;
        same_as_duals(&Mul, &stacked)?;
        same_as_duals(&Power::new(-2), &x)?;
    }

    #[test]
    fn losses_graphs_and_parameters_match(
        (mlp, x, _dy) in any_mlp_case(4),
        l2 in (1usize..=4).prop_flat_map(|n| linear(n, n, any_q())),
    ) {
        let m = mlp.layer2().weight().shape()[0];
        let target = Tensor::from_vec(vec![Q::from_i64(1); m]);
        let loss = MlpMse::new(mlp.as_op(), target, x.shape()).unwrap();
        same_as_duals(&loss, &x)?;
        let hidden = l2.weight().shape()[0];
        let square = Linear::new(
            Tensor::new(vec![hidden, x.len()], vec![Q::from_i64(1); hidden * x.len()]).unwrap(),
            Tensor::from_vec(vec![Q::new(1.into(), 3.into()); hidden]),
        ).unwrap();
        same_as_duals(&graph(square, l2), &x)?;
        let wrt = WrtParams::new(&mlp, x.clone());
        same_as_duals(&wrt, &param_vector(&mlp))?;
    }

    #[test]
    fn kinks_are_the_same_typed_errors((mlp, x, _dy) in any_mlp_case(5), pick in any::<usize>()) {
        let on = onto_kink(&mlp.as_op(), &x, pick);
        prop_assume!(on.is_some());
        let x = on.unwrap();
        let got = reference_jacobian(&mlp, &x);
        prop_assert!(matches!(got, Err(Error::Kink { .. })), "{:?}", got);
        prop_assert_eq!(&got, &dual_jacobian(&mlp, &x));
        prop_assert_eq!(kink_radius(&mlp, &x), dual_kink_radius(&mlp, &x));
    }

    #[test]
    fn jet_products_equal_scalar_jet_arithmetic(
        (rows, cols, width) in (0usize..=4, 0usize..=5, 1usize..=4),
        seed in any::<u64>(),
        const_a in any::<bool>(),
        const_b in any::<bool>(),
    ) {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            Default::default(),
            proptest::test_runner::TestRng::from_seed(
                proptest::test_runner::RngAlgorithm::ChaCha,
                &[seed.to_le_bytes(), [1; 8], [2; 8], [3; 8]].concat(),
            ),
        );
        let mut draw = |len| jets(width, len).new_tree(&mut runner).unwrap().current();
        let a = some_constant(draw(rows * cols), const_a);
        let v = some_constant(draw(cols), const_b);
        let u = some_constant(draw(rows), const_b);
        let bias = draw(rows);
        let b = some_constant(draw(cols * 3), const_b);
        let row = |i: usize| &a[i * cols..(i + 1) * cols];
        let col = |m: &[Jet<Q>], j: usize, stride: usize, len: usize| -> Vec<Jet<Q>> {
            (0..len).map(|t| m[t * stride + j].clone()).collect()
        };

        let mv: Vec<_> = (0..rows).map(|i| plain_dot(row(i), &v)).collect();
        prop_assert_eq!(Jet::mat_vec(&a, rows, cols, &v), mv.clone());
        let aff: Vec<_> = mv.iter().zip(&bias).map(|(x, y)| x.add_ref(y)).collect();
        prop_assert_eq!(Jet::affine(&a, rows, cols, &v, &bias), aff);
        let tmv: Vec<_> = (0..cols).map(|j| plain_dot(&col(&a, j, cols, rows), &u)).collect();
        prop_assert_eq!(Jet::transpose_mat_vec(&a, rows, cols, &u), tmv);
        let mm: Vec<_> = (0..rows)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| plain_dot(row(i), &col(&b, j, 3, cols)))
            .collect();
        prop_assert_eq!(Jet::matmul(&a, rows, cols, &b, 3), mm);
        prop_assert_eq!(Jet::dot(&v, &b[..cols]), plain_dot(&v, &b[..cols]));
        let outer: Vec<_> = u.iter().flat_map(|x| v.iter().map(move |y| x.mul_ref(y))).collect();
        prop_assert_eq!(Jet::outer(&u, &v), outer);
    }
}

#[test]
fn a_layer_at_the_identity_seed_has_its_weights_as_tangent_block() {
    let q = |n: i64, d: i64| Q::new(n.into(), d.into());
    let w = Tensor::from_rows(vec![vec![q(1, 3), q(-2, 1)], vec![q(0, 1), q(5, 7)]]).unwrap();
    let layer = Linear::new(w.clone(), Tensor::from_vec(vec![q(1, 2), q(0, 1)])).unwrap();
    let x = Tensor::from_vec(vec![q(3, 1), q(-1, 4)]);
    let y = layer.forward(&Jet::seed(&x).unwrap()).unwrap();
    for (i, out) in y.data().iter().enumerate() {
        assert_eq!(out.tangent(2).to_vec(), w.data()[i * 2..i * 2 + 2].to_vec());
    }
    assert_eq!(reference_jacobian(&layer, &x).unwrap(), w);
    // A constant stays a constant through the layer: no row is ever stored for it.
    let c = layer.forward(&x.map(|v| Jet::constant(v.clone()))).unwrap();
    assert!(c.data().iter().all(Jet::is_constant));
}
