//! The MLP theorem generalised to any depth and width:
//! `backward(x, δ) = (W_L·D_{L−1}···D_1·W_1)ᵀ·δ`, the closed-form kink radius, and kinks named by
//! stage and unit.

use exactgrad::check::{self, deep_mlp_theorem, deep_mlp_theorem_with};
use exactgrad::ops::{param_vector, DeepMlp, Guard, Linear, Mlp, Op, OpSpec, Relu, WrtParams};
use exactgrad::strategy::{any_q, small_q, tensor};
use exactgrad::{Compose, Counterexample, Error, Ordered, Scalar, Tensor, Q};
use proptest::prelude::*;
use std::cmp::Ordering;

fn q(n: i64, d: i64) -> Q {
    Q::new(n.into(), d.into())
}

fn layer(w: &[&[i64]], b: &[i64]) -> Linear {
    let rows = w
        .iter()
        .map(|r| r.iter().map(|&v| q(v, 1)).collect())
        .collect();
    Linear::new(
        Tensor::from_rows(rows).unwrap(),
        Tensor::from_vec(b.iter().map(|&v| q(v, 1)).collect()),
    )
    .unwrap()
}

fn vec_q(values: &[Q]) -> Tensor<Q> {
    Tensor::from_vec(values.to_vec())
}

/// A deep MLP with the given widths, entries from `elem`, moved off every kink: a hidden unit
/// whose pre-activation is exactly zero gets its bias moved by one, layer by layer (later
/// pre-activations depend on the earlier fixes).
fn deep_case<E: Strategy<Value = Q> + Clone + 'static>(
    widths: Vec<usize>,
    elem: E,
) -> impl Strategy<Value = (DeepMlp, Tensor<Q>, Tensor<Q>)> {
    let layers: Vec<_> = widths
        .windows(2)
        .map(|w| {
            (
                tensor(vec![w[1], w[0]], elem.clone()),
                tensor(vec![w[1]], elem.clone()),
            )
        })
        .collect();
    let (n, m) = (widths[0], *widths.last().unwrap());
    (layers, tensor(vec![n], elem.clone()), tensor(vec![m], elem)).prop_map(|(layers, x, dy)| {
        let count = layers.len();
        let mut fixed = Vec::with_capacity(count);
        let mut h = x.clone();
        for (k, (w, b)) in layers.into_iter().enumerate() {
            let wx = w.mat_vec_mul(&h).unwrap();
            let b = b
                .zip_with(&wx, |b, z| {
                    if k + 1 < count && (b.clone() + z.clone()).sign() == Ordering::Equal {
                        b.clone() + q(1, 1)
                    } else {
                        b.clone()
                    }
                })
                .unwrap();
            let l = Linear::new(w, b).unwrap();
            h = Relu.forward(&l.forward(&h).unwrap()).unwrap();
            fixed.push(l);
        }
        (DeepMlp::new(fixed).unwrap(), x, dy)
    })
}

/// Depth `1..=max_depth`, each width in `1..=max_width`.
fn any_deep_case<E: Strategy<Value = Q> + Clone + 'static>(
    max_depth: usize,
    max_width: usize,
    elem: E,
) -> impl Strategy<Value = (DeepMlp, Tensor<Q>, Tensor<Q>)> {
    (1..=max_depth)
        .prop_flat_map(move |depth| proptest::collection::vec(1..=max_width, depth + 1))
        .prop_flat_map(move |widths| deep_case(widths, elem.clone()))
}

proptest! {
    #[test]
    fn the_deep_theorem_holds_for_random_depths_and_widths(
        (net, x, dy) in any_deep_case(6, 4, small_q())
    ) {
        let report = deep_mlp_theorem(&net, &x, &dy).unwrap();
        prop_assert_eq!(&report.deriv, &report.jacobian);
        prop_assert_eq!(&report.deriv, &report.fderiv.derivative);
        prop_assert_eq!(report.adjoint.lhs, report.adjoint.rhs);
        prop_assert_eq!(report.pre_activations.len(), net.layers().len() - 1);
        prop_assert_eq!(report.widths, net.widths());
        // The increment identity was checked at a probe inside the certified box.
        prop_assert!(report.fderiv.increment.inside);
    }

    #[test]
    fn the_deep_theorem_holds_for_huge_and_float_exact_entries(
        (net, x, dy) in any_deep_case(3, 3, any_q())
    ) {
        deep_mlp_theorem(&net, &x, &dy).unwrap();
    }

    #[test]
    fn deep_parameter_gradients_are_the_dual_number_jacobian(
        (net, x, dy) in any_deep_case(4, 3, small_q())
    ) {
        let theta: Tensor<Q> = param_vector(&net);
        let wrt = WrtParams::new(&net, x);
        check::jacobian(&wrt, &theta, &check::probe(theta.shape(), 1).unwrap(), &dy).unwrap();
        check::adjoint(&wrt, &theta, &check::probe(theta.shape(), 2).unwrap(), &dy).unwrap();
    }

    #[test]
    fn the_closed_form_radius_is_attained_exactly(
        (net, x, _dy) in any_deep_case(5, 3, small_q())
    ) {
        let closed = net.kink_radius(&x).unwrap();
        let from_guards = check::kink_radius(&net, &x).unwrap();
        prop_assert_eq!(&closed.radius, &from_guards.radius);
        if let (Some(r), Some((stage, unit))) = (closed.radius, closed.binding) {
            // Move by r in each coordinate against the binding unit's gradient sign: the unit's
            // pre-activation becomes exactly 0 (the box is the largest kink-free one).
            let grads = net.partial_derivs(&x).unwrap();
            let k = stage / 2 - 1;
            let n = x.len();
            let z = net.pre_activations(&x).unwrap()[k].data()[unit].clone();
            let row = &grads[k].data()[unit * n..(unit + 1) * n];
            let towards = x
                .data()
                .iter()
                .zip(row)
                .map(|(xi, g)| {
                    let s = q((g.sign() as i64) * (z.sign() as i64), 1);
                    xi.clone() - s * r.clone()
                })
                .collect::<Vec<_>>();
            let moved = net.pre_activations(&vec_q(&towards)).unwrap()[k].data()[unit].clone();
            prop_assert_eq!(moved, q(0, 1));
        }
    }

    #[test]
    fn two_layer_deep_mlps_are_the_reference_mlp(
        (net, x, dy) in (1..=4usize, 1..=4usize, 1..=4usize)
            .prop_flat_map(|(n, h, m)| deep_case(vec![n, h, m], small_q()))
    ) {
        let mlp = Mlp::from_layers(net.layers()[0].clone(), net.layers()[1].clone()).unwrap();
        prop_assert_eq!(net.deriv(&x).unwrap(), mlp.deriv(&x).unwrap());
        prop_assert_eq!(OpSpec::<Q>::vjp(&net, &x, &dy).unwrap(), mlp.vjp(&x, &dy).unwrap());
        prop_assert_eq!(OpSpec::<Q>::guards(&net, &x).unwrap(), mlp.guards(&x).unwrap());
        prop_assert_eq!(net.depth(), mlp.depth());
    }
}

/// `1 → 2 → 2 → 1`: `z1 = (1, 2)` both active, `z2 = (3, −1)` with unit 1 inactive, so
/// `Df = W3·D2·W2·D1·W1 = [[3]]`.
fn three_layer_net() -> DeepMlp {
    DeepMlp::new(vec![
        layer(&[&[1], &[2]], &[0, 0]),
        layer(&[&[1, 1], &[1, -1]], &[0, 0]),
        layer(&[&[1, 1]], &[0]),
    ])
    .unwrap()
}

#[test]
fn the_deep_net_is_the_composition_of_its_stages() {
    let net = three_layer_net();
    let [l1, l2, l3] = <[&Linear; 3]>::try_from(net.layers()).unwrap();
    let composed = l1
        .clone()
        .then(Relu)
        .then(l2.clone())
        .then(Relu)
        .then(l3.clone());
    let x = vec_q(&[q(1, 1)]);
    let (dx, dy) = (vec_q(&[q(-2, 3)]), vec_q(&[q(5, 7)]));
    assert_eq!(OpSpec::<Q>::forward(&net, &x), composed.forward(&x));
    assert_eq!(OpSpec::<Q>::jvp(&net, &x, &dx), composed.jvp(&x, &dx));
    assert_eq!(OpSpec::<Q>::vjp(&net, &x, &dy), composed.vjp(&x, &dy));
    assert_eq!(OpSpec::<Q>::guards(&net, &x), composed.guards(&x));
    assert_eq!(net.depth(), composed.depth());
    assert_eq!(
        net.deriv(&x),
        Ok(Tensor::from_rows(vec![vec![q(3, 1)]]).unwrap())
    );
    assert_eq!(net.name(), "DeepMLP(1→2→2→1)");
}

#[test]
fn the_kink_radius_is_carried_through_all_layers() {
    // At x = 1/2: z1 = (1/2, 1) with gradients (1), (2): radii 1/2, 1/2; z2 = (3/2, −1/2) with
    // gradients (3), (−1): radii 1/2, 1/2. Every unit reaches its kink at distance 1/2.
    let net = three_layer_net();
    let x = vec_q(&[q(1, 2)]);
    let radius = net.kink_radius(&x).unwrap();
    assert_eq!(radius.radius, Some(q(1, 2)));
    assert_eq!(radius.binding, Some((2, 0)));
    // With a bias the deepest layer binds: z2 = (3x + 1/4, −x + 1/4)... at x = 1/2: unit 1 is
    // −1/4 with gradient −1, radius 1/4, nearer than layer 1's 1/2.
    let biased = DeepMlp::new(vec![
        layer(&[&[1], &[2]], &[0, 0]),
        Linear::new(
            Tensor::from_rows(vec![vec![q(1, 1), q(1, 1)], vec![q(1, 1), q(-1, 1)]]).unwrap(),
            vec_q(&[q(1, 4), q(1, 4)]),
        )
        .unwrap(),
        layer(&[&[1, 1]], &[0]),
    ])
    .unwrap();
    let radius = biased.kink_radius(&x).unwrap();
    assert_eq!(radius.radius, Some(q(1, 4)));
    assert_eq!(radius.binding, Some((4, 1)));
    assert_eq!(
        check::kink_radius(&biased, &x).unwrap().radius,
        Some(q(1, 4))
    );
    // Inside the box the increment identity holds; a step past the deep kink breaks it.
    check::increment(&biased, &x, &vec_q(&[q(1, 4)])).unwrap();
    let err = check::increment(&biased, &x, &vec_q(&[q(-1, 2)])).unwrap_err();
    let Error::Violated(ce) = err else {
        panic!("expected a violation")
    };
    assert_eq!(ce.check, "fderiv: f(x+h) − f(x) = J·h");
    assert!(ce
        .inputs
        .contains(&("h inside the kink-free box".into(), "false".into())));
}

#[test]
fn a_kink_in_a_deep_layer_is_named_by_stage_and_unit() {
    // At x = 0 the first layer's pre-activations are (0, 0): stage 2, unit 0.
    let net = three_layer_net();
    let err = deep_mlp_theorem(&net, &vec_q(&[q(0, 1)]), &vec_q(&[q(1, 1)])).unwrap_err();
    assert_eq!(
        err,
        Error::Kink {
            layer: 2,
            op: "ReLU".into(),
            coordinate: vec![0]
        }
    );
    // With z1 = (1, 1) and z2 = (2, 0): stage 4, unit 1.
    let deep = DeepMlp::new(vec![
        layer(&[&[1], &[1]], &[0, 0]),
        layer(&[&[1, 1], &[1, -1]], &[0, 0]),
        layer(&[&[1, 1]], &[0]),
    ])
    .unwrap();
    let err = deep_mlp_theorem(&deep, &vec_q(&[q(1, 1)]), &vec_q(&[q(1, 1)])).unwrap_err();
    assert_eq!(
        err,
        Error::Kink {
            layer: 4,
            op: "ReLU".into(),
            coordinate: vec![1]
        }
    );
}

/// A planted bug: the VJP forgets the mask of the deepest hidden ReLU (treats it as the
/// identity on the way back).
struct ForgetsLastMask<'a>(&'a DeepMlp);

impl Op for ForgetsLastMask<'_> {
    fn name(&self) -> String {
        format!("{} (last mask forgotten)", self.0.name())
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn depth(&self) -> usize {
        self.0.depth()
    }
}

impl<S: Scalar> OpSpec<S> for ForgetsLastMask<'_> {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        let layers = self.0.layers();
        let zs = self.0.pre_activations(x)?;
        let mut g = dy.clone();
        for k in (0..layers.len()).rev() {
            let input = if k == 0 {
                x.clone()
            } else {
                Relu.forward(&zs[k - 1])?
            };
            g = layers[k].vjp(&input, &g)?;
            if k > 0 && k + 1 < layers.len() {
                g = Relu.vjp(&zs[k - 1], &g)?;
            }
        }
        Ok(g)
    }
    fn guards(&self, x: &Tensor<S>) -> exactgrad::Result<Vec<Guard<S>>> {
        self.0.guards(x)
    }
}

#[test]
fn a_vjp_that_forgets_a_deep_mask_is_rejected_with_its_counterexample() {
    let net = three_layer_net();
    let (x, dy) = (vec_q(&[q(1, 1)]), vec_q(&[q(1, 1)]));
    deep_mlp_theorem(&net, &x, &dy).unwrap();
    let err = deep_mlp_theorem_with(&net, &ForgetsLastMask(&net), &x, &dy).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "deep MLP theorem: backward(x, δ) = (W_L·D_{L−1}···D_1·W_1)ᵀ·δ".into(),
            coordinate: vec![0],
            rule: "2".into(),
            reference: "3".into(),
            difference: "-1".into(),
            inputs: vec![("x".into(), "[1]".into()), ("δ".into(), "[1]".into())],
            parameter: None,
            stage: None,
        }))
    );
}

/// A planted bug in the kink rule: guards that report only the first hidden layer, so the
/// radius from the guards misses the nearer kink in the second.
struct ShallowGuards<'a>(&'a DeepMlp);

impl Op for ShallowGuards<'_> {
    fn name(&self) -> String {
        format!("{} (deep guards dropped)", self.0.name())
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn depth(&self) -> usize {
        self.0.depth()
    }
}

impl<S: Scalar> OpSpec<S> for ShallowGuards<'_> {
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
        Ok(self
            .0
            .guards(x)?
            .into_iter()
            .filter(|g| g.layer == 2)
            .collect())
    }
}

#[test]
fn guards_that_miss_a_deep_kink_are_rejected_with_the_closed_form_radius() {
    let net = DeepMlp::new(vec![
        layer(&[&[1], &[2]], &[0, 0]),
        Linear::new(
            Tensor::from_rows(vec![vec![q(1, 1), q(1, 1)], vec![q(1, 1), q(-1, 1)]]).unwrap(),
            vec_q(&[q(1, 4), q(1, 4)]),
        )
        .unwrap(),
        layer(&[&[1, 1]], &[0]),
    ])
    .unwrap();
    let (x, dy) = (vec_q(&[q(1, 2)]), vec_q(&[q(1, 1)]));
    let err = deep_mlp_theorem_with(&net, &ShallowGuards(&net), &x, &dy).unwrap_err();
    assert_eq!(
        err,
        Error::Violated(Box::new(Counterexample {
            check: "deep MLP theorem: kink radius from guards = closed form".into(),
            coordinate: vec![4, 1],
            rule: "1/2".into(),
            reference: "1/4".into(),
            difference: "1/4".into(),
            inputs: vec![
                ("x".into(), "[1/2]".into()),
                ("δ".into(), "[1]".into()),
                ("radius from the rule's guards".into(), "1/2".into()),
                ("closed-form radius".into(), "1/4".into()),
            ],
            parameter: None,
            stage: None,
        }))
    );
}

#[test]
fn a_single_layer_is_affine_with_an_unbounded_box() {
    let net = DeepMlp::new(vec![layer(&[&[1, 2], &[3, 4]], &[1, -1])]).unwrap();
    let x = vec_q(&[q(1, 3), q(-2, 5)]);
    let report = deep_mlp_theorem(&net, &x, &vec_q(&[q(1, 1), q(2, 1)])).unwrap();
    assert_eq!(report.radius.radius, None);
    assert_eq!(net.kink_radius(&x).unwrap().radius, None);
    assert_eq!(report.deriv, net.layers()[0].weight().clone());
}

#[test]
fn bad_input_shapes_are_typed_errors() {
    let net = three_layer_net();
    let err = deep_mlp_theorem(&net, &vec_q(&[q(1, 1), q(1, 1)]), &vec_q(&[q(1, 1)]));
    assert!(matches!(err, Err(Error::ShapeMismatch { .. })));
    let err = deep_mlp_theorem(&net, &vec_q(&[q(1, 1)]), &vec_q(&[q(1, 1), q(1, 1)]));
    assert!(matches!(err, Err(Error::ShapeMismatch { .. })));
}
