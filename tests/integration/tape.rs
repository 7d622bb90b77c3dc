//! Backprop over a DAG tape: fan-out (residual connections, `x + x`, `x ⊙ x`) and shared weights
//! accumulate, checked against the dual-number Jacobian of the whole graph; overwriting instead
//! of accumulating is caught with its exact counterexample.

use exactgrad::check::{self, probe};
use exactgrad::ops::{param_vector, Linear, Mlp, Op, OpSpec, WrtParams};
use exactgrad::strategy::{linear, small_q, tensor};
use exactgrad::tape::{Accumulate, Graph, Layer, NodeId};
use exactgrad::{Counterexample, Error, Scalar, Tensor, Q};
use proptest::prelude::*;

fn q(n: i64, d: i64) -> Q {
    Q::new(n.into(), d.into())
}

fn vec_q(values: &[i64]) -> Tensor<Q> {
    Tensor::from_vec(values.iter().map(|&v| q(v, 1)).collect())
}

fn scalar_layer(w: i64, b: i64) -> Layer {
    Layer::Linear(
        Linear::new(Tensor::from_rows(vec![vec![q(w, 1)]]).unwrap(), vec_q(&[b])).unwrap(),
    )
}

/// The planted bug: the last contribution overwrites the earlier ones.
struct Overwrite;

impl<S: Scalar> Accumulate<S> for Overwrite {
    fn accumulate(
        &self,
        slot: &mut Option<Tensor<S>>,
        contribution: Tensor<S>,
    ) -> exactgrad::Result<()> {
        *slot = Some(contribution);
        Ok(())
    }
}

/// `y = relu(2x) + x`: `x` feeds both the linear layer and the residual add.
fn residual() -> Graph<Layer> {
    let mut g = Graph::new(vec![1]);
    let x = g.input();
    let w = g.op(scalar_layer(2, 0));
    let relu = g.op(Layer::Relu);
    let h = g.apply(w, x).unwrap();
    let h = g.apply(relu, h).unwrap();
    g.add(h, x).unwrap();
    g
}

/// `y = L(relu(L(x)))` with one `L = (w 2, b 1)` applied twice.
fn shared() -> Graph<Layer> {
    let mut g = Graph::new(vec![1]);
    let l = g.op(scalar_layer(2, 1));
    let relu = g.op(Layer::Relu);
    let h = g.apply(l, g.input()).unwrap();
    let h = g.apply(relu, h).unwrap();
    g.apply(l, h).unwrap();
    g
}

#[test]
fn a_residual_connection_accumulates_its_two_cotangents() {
    let g = residual();
    let (x, one) = (vec_q(&[1]), vec_q(&[1]));
    let proof = check::jacobian(&g, &x, &one, &one).unwrap();
    assert_eq!(proof.vjp, vec_q(&[3]));
    check::fderiv(&g, &x, &one).unwrap();
    check::adjoint(&g, &x, &vec_q(&[5]), &vec_q(&[-7])).unwrap();
}

#[test]
fn overwriting_at_a_residual_connection_is_caught_with_its_counterexample() {
    let g = residual().with_accumulator(Overwrite);
    let (x, one) = (vec_q(&[1]), vec_q(&[1]));
    // Forward mode needs no accumulation, so the forward rule is still right…
    assert_eq!(OpSpec::<Q>::jvp(&g, &x, &one), Ok(vec_q(&[3])));
    // …but the VJP keeps only the last contribution to x (2 from the linear layer, the
    // residual's 1 lost).
    let err = check::jacobian(&g, &x, &one, &one).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "jacobian: vjp(x, δ) = Jᵀ·δ".into(),
            coordinate: vec![0],
            rule: "2".into(),
            reference: "3".into(),
            difference: "-1".into(),
            inputs: vec![
                ("x".into(), "[1]".into()),
                ("dx".into(), "[1]".into()),
                ("δ".into(), "[1]".into()),
            ],
            parameter: None,
            stage: None,
        }))
    );
    // Adjointness sees the same Jacobian entry.
    let Err(Error::Violated(ce)) = check::adjoint(&g, &x, &one, &one) else {
        panic!("adjointness must fail")
    };
    assert_eq!(
        (ce.coordinate, ce.rule, ce.reference),
        (vec![0, 0], "2".into(), "3".into())
    );
}

#[test]
fn a_value_added_to_or_multiplied_by_itself() {
    // x + x: the same node twice in one Add; x ⊙ x: twice in one Mul.
    let mut g: Graph<Layer> = Graph::new(vec![2]);
    let x = g.input();
    g.add(x, x).unwrap();
    let point = Tensor::from_vec(vec![q(3, 2), q(-1, 3)]);
    let dy = Tensor::from_vec(vec![q(1, 1), q(1, 1)]);
    assert_eq!(
        check::jacobian(&g, &point, &dy, &dy).unwrap().vjp,
        vec_q(&[2, 2])
    );
    let Err(Error::Violated(ce)) =
        check::jacobian(&g.clone().with_accumulator(Overwrite), &point, &dy, &dy)
    else {
        panic!("x + x with overwriting must fail")
    };
    assert_eq!((ce.rule, ce.reference), ("1".into(), "2".into()));

    let mut g: Graph<Layer> = Graph::new(vec![2]);
    let x = g.input();
    g.mul(x, x).unwrap();
    let proof = check::jacobian(&g, &point, &dy, &dy).unwrap();
    assert_eq!(proof.vjp, Tensor::from_vec(vec![q(3, 1), q(-2, 3)]));
    assert!(!g.is_piecewise_linear());
    assert_eq!(
        check::fderiv(&g, &point, &dy).map(|_| ()),
        Err(Error::NotPiecewiseLinear(g.name()))
    );
}

#[test]
fn shared_weights_accumulate_their_parameter_gradients() {
    // y = w·relu(w·x + b) + b at w = 2, b = 1, x = 1: ∂y/∂w = relu(3) + w·x = 5, ∂y/∂b = w + 1 = 3.
    let g = shared();
    let x = vec_q(&[1]);
    let theta: Tensor<Q> = param_vector(&g);
    assert_eq!(theta, vec_q(&[2, 1]));
    let one = vec_q(&[1]);
    let proof = check::jacobian(
        &WrtParams::new(&g, x.clone()),
        &theta,
        &probe(&[2], 1).unwrap(),
        &one,
    )
    .unwrap();
    assert_eq!(proof.vjp, vec_q(&[5, 3]));
    // The input gradient has no fan-out here: w·w = 4.
    assert_eq!(
        check::jacobian(&g, &x, &one, &one).unwrap().vjp,
        vec_q(&[4])
    );
}

#[test]
fn overwriting_a_shared_weight_gradient_is_caught_while_the_input_gradient_passes() {
    let g = shared().with_accumulator(Overwrite);
    let (x, one) = (vec_q(&[1]), vec_q(&[1]));
    check::jacobian(&g, &x, &one, &one).unwrap();
    let theta: Tensor<Q> = param_vector(&g);
    let dtheta = probe(&[2], 1).unwrap();
    // Reverse order of nodes: the outer use sends (h, 1) = (3, 1), then the inner use's (2, 2)
    // overwrites it; the sum is (5, 3).
    let err = check::jacobian(&WrtParams::new(&g, x), &theta, &dtheta, &one).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "jacobian: vjp(x, δ) = Jᵀ·δ".into(),
            coordinate: vec![0],
            rule: "2".into(),
            reference: "5".into(),
            difference: "-3".into(),
            inputs: vec![
                ("x".into(), "[2, 1]".into()),
                ("dx".into(), dtheta.to_string()),
                ("δ".into(), "[1]".into()),
            ],
            parameter: None,
            stage: None,
        }))
    );
}

#[test]
fn a_chain_graph_is_the_composed_mlp() {
    let w1 = Tensor::from_rows(vec![vec![q(1, 1), q(-2, 1)], vec![q(3, 2), q(1, 3)]]).unwrap();
    let w2 = Tensor::from_rows(vec![vec![q(2, 1), q(-1, 1)]]).unwrap();
    let (b1, b2) = (Tensor::from_vec(vec![q(1, 2), q(-1, 1)]), vec_q(&[3]));
    let mlp = Mlp::new(w1.clone(), b1.clone(), w2.clone(), b2.clone()).unwrap();
    let mut g = Graph::new(vec![2]);
    let l1 = g.op(Layer::Linear(Linear::new(w1, b1).unwrap()));
    let relu = g.op(Layer::Relu);
    let l2 = g.op(Layer::Linear(Linear::new(w2, b2).unwrap()));
    let h = g.apply(l1, g.input()).unwrap();
    let h = g.apply(relu, h).unwrap();
    g.apply(l2, h).unwrap();
    let x = Tensor::from_vec(vec![q(2, 3), q(-1, 5)]);
    let (dx, dy) = (Tensor::from_vec(vec![q(1, 7), q(5, 1)]), vec_q(&[-2]));
    assert_eq!(OpSpec::<Q>::forward(&g, &x), mlp.forward(&x));
    assert_eq!(OpSpec::<Q>::jvp(&g, &x, &dx), mlp.jvp(&x, &dx));
    assert_eq!(OpSpec::<Q>::vjp(&g, &x, &dy), mlp.vjp(&x, &dy));
    let strip = |gs: Vec<exactgrad::ops::Guard<Q>>| {
        gs.into_iter()
            .map(|g| (g.layer, g.coordinate, g.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(OpSpec::<Q>::guards(&g, &x).unwrap()),
        strip(mlp.guards(&x).unwrap())
    );
    assert_eq!(g.depth(), mlp.depth());
    let theta: Tensor<Q> = param_vector(&g);
    assert_eq!(theta, param_vector::<Q, _>(&mlp));
    assert_eq!(g.vjp_params(&x, &dy), mlp.vjp_params(&x, &dy));
}

#[test]
fn kinks_are_named_by_node_and_dead_branches_do_not_count() {
    // y = relu(x) + x at x = 0: the ReLU of node 1 is on its kink.
    let mut g: Graph<Layer> = Graph::new(vec![1]);
    let relu = g.op(Layer::Relu);
    let x = g.input();
    let h = g.apply(relu, x).unwrap();
    g.add(h, x).unwrap();
    let kink = Error::Kink {
        layer: 1,
        op: "node 1: ReLU".into(),
        coordinate: vec![0],
    };
    let zero = vec_q(&[0]);
    assert_eq!(
        check::jacobian(&g, &zero, &zero, &zero).map(|_| ()),
        Err(kink.clone())
    );
    let theta: Tensor<Q> = param_vector(&g);
    // The rules return values at a kink, like every op's; the checks refuse the point.
    assert_eq!(g.vjp_params(&zero, &zero), Ok(theta.clone()));
    assert_eq!(
        check::jacobian(&WrtParams::new(&g, zero.clone()), &theta, &theta, &zero).map(|_| ()),
        Err(kink)
    );
    assert_eq!(theta.len(), 0);
    // A ReLU on a branch the output ignores cannot make the graph non-differentiable.
    let mut g2 = g.clone();
    let id = g2.op(scalar_layer(1, 0));
    g2.apply(id, x).unwrap();
    g2.set_output(NodeId(0)).unwrap();
    assert_eq!(
        check::jacobian(&g2, &zero, &vec_q(&[1]), &vec_q(&[1]))
            .unwrap()
            .vjp,
        vec_q(&[1])
    );
}

#[test]
fn malformed_graphs_are_typed_errors() {
    let mut g: Graph<Layer> = Graph::new(vec![2]);
    let l = g.op(scalar_layer(1, 0));
    assert_eq!(
        g.apply(l, g.input()),
        Err(Error::ShapeMismatch {
            op: "graph node 1: Linear".into(),
            context: "input".into(),
            left: vec![2],
            right: vec![1],
        })
    );
    assert_eq!(g.apply(l, NodeId(7)), Err(Error::UnknownNode { node: 7 }));
    assert_eq!(
        g.apply(exactgrad::tape::OpId(9), g.input()),
        Err(Error::UnknownOp { op: 9 })
    );
    let mut g: Graph<Layer> = Graph::new(vec![1]);
    let w = g.op(Layer::Linear(
        Linear::new(
            Tensor::from_rows(vec![vec![q(1, 1)], vec![q(1, 1)]]).unwrap(),
            vec_q(&[0, 0]),
        )
        .unwrap(),
    ));
    let h = g.apply(w, g.input()).unwrap();
    assert!(matches!(
        g.add(h, g.input()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(g.set_output(NodeId(5)), Err(Error::UnknownNode { node: 5 }));
    assert!(matches!(
        OpSpec::<Q>::forward(&g, &vec_q(&[1, 2])),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// How a random node is built from earlier ones: indices are reduced modulo what exists.
#[derive(Clone, Debug)]
enum Spec {
    /// Linear op `k` then ReLU.
    Dense(usize, usize),
    /// Linear op `k` alone.
    Affine(usize, usize),
    /// Sum of two nodes.
    Add(usize, usize),
    /// Product of two nodes.
    Mul(usize, usize),
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(k, a)| Spec::Dense(k, a)),
        (any::<usize>(), any::<usize>()).prop_map(|(k, a)| Spec::Affine(k, a)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Spec::Add(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Spec::Mul(a, b)),
    ]
}

/// A random DAG of width `n` with 1–3 square linear ops (reused at random: shared weights) and
/// 1–6 nodes whose arguments are random earlier nodes (fan-out), plus a point and a cotangent.
fn dag_case() -> impl Strategy<Value = (Graph<Layer>, Tensor<Q>, Tensor<Q>)> {
    (1..=3usize)
        .prop_flat_map(|n| {
            (
                proptest::collection::vec(linear(n, n, small_q()), 1..=3),
                proptest::collection::vec(spec(), 1..=6),
                tensor(vec![n], small_q()),
                tensor(vec![n], small_q()),
            )
        })
        .prop_map(|(layers, specs, x, dy)| {
            let mut g = Graph::new(x.shape().to_vec());
            let ops: Vec<_> = layers.into_iter().map(|l| g.op(Layer::Linear(l))).collect();
            let relu = g.op(Layer::Relu);
            let mut nodes = vec![g.input()];
            for s in specs {
                let pick = |i: usize| nodes[i % nodes.len()];
                let node = match s {
                    Spec::Dense(k, a) => {
                        let h = g.apply(ops[k % ops.len()], pick(a)).unwrap();
                        g.apply(relu, h).unwrap()
                    }
                    Spec::Affine(k, a) => g.apply(ops[k % ops.len()], pick(a)).unwrap(),
                    Spec::Add(a, b) => g.add(pick(a), pick(b)).unwrap(),
                    Spec::Mul(a, b) => g.mul(pick(a), pick(b)).unwrap(),
                };
                nodes.push(node);
            }
            (g, x, dy)
        })
}

proptest! {
    #[test]
    fn backprop_over_random_dags_is_the_dual_number_jacobian((g, x, dy) in dag_case()) {
        let dx = probe(x.shape(), 1).unwrap();
        match check::jacobian(&g, &x, &dx, &dy) {
            // A random point can sit on a ReLU kink (a ReLU fed by a zero); then every check
            // must refuse it, by node.
            Err(Error::Kink { op, .. }) => prop_assert!(op.starts_with("node ")),
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
            Ok(_) => {
                check::adjoint(&g, &x, &dx, &dy).unwrap();
                if g.is_piecewise_linear() {
                    check::fderiv(&g, &x, &dy).unwrap();
                }
                let theta: Tensor<Q> = param_vector(&g);
                let wrt = WrtParams::new(&g, x.clone());
                check::jacobian(&wrt, &theta, &probe(theta.shape(), 2).unwrap(), &dy).unwrap();
            }
        }
    }

    #[test]
    fn overwriting_is_caught_on_random_dags_with_fan_out((g, x, dy) in dag_case()) {
        // Whenever the two policies give different cotangents, the check must reject the
        // overwriting one; when they agree (no fan-out reached the input), it must pass.
        let dx = probe(x.shape(), 1).unwrap();
        if check::no_kinks(&g, &x).is_err() {
            return Ok(());
        }
        let right = OpSpec::<Q>::vjp(&g, &x, &dy).unwrap();
        let bad = g.clone().with_accumulator(Overwrite);
        let wrong = OpSpec::<Q>::vjp(&bad, &x, &dy).unwrap();
        let verdict = check::jacobian(&bad, &x, &dx, &dy);
        if right == wrong {
            prop_assert!(verdict.is_ok());
        } else {
            let Err(Error::Violated(ce)) = verdict else {
                return Err(TestCaseError::fail("overwriting passed"));
            };
            prop_assert_eq!(ce.check, "jacobian: vjp(x, δ) = Jᵀ·δ");
        }
    }
}

#[test]
fn the_random_dags_exercise_fan_out_and_avoid_kinks_often() {
    // The properties above are only as strong as their cases: most random DAGs must be
    // kink-free, and overwriting must change the gradient on a good share of them.
    let (mut smooth, mut differing) = (0, 0);
    for seed in 0..200 {
        let (g, x, dy) = exactgrad::strategy::sample(dag_case(), seed);
        if check::no_kinks(&g, &x).is_err() {
            continue;
        }
        smooth += 1;
        let bad = g.clone().with_accumulator(Overwrite);
        if OpSpec::<Q>::vjp(&g, &x, &dy) != OpSpec::<Q>::vjp(&bad, &x, &dy) {
            differing += 1;
        }
    }
    assert!(
        smooth >= 160,
        "only {smooth} of 200 random DAGs are kink-free"
    );
    assert!(
        differing >= 80,
        "overwriting changed only {differing} gradients"
    );
}
