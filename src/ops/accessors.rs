//! Every public accessor of an op returns what the op was built with. Nothing in the crate
//! reads most of them (the rules read the fields), so without this test an accessor returning
//! 0, 1 or the default would go unnoticed by everything but a user. The values are chosen to
//! differ from those: strides, paddings and axes of 2 or more, non-default reductions.

use super::test_support::{q, t};
use super::*;

#[test]
fn every_accessor_returns_what_the_op_was_built_with() {
    let w = t(
        &[4, 3],
        &[
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
    );
    let b = t(&[4], &["-1", "-2", "-3", "-4"]);
    let linear = Linear::new(w.clone(), b.clone()).unwrap();
    assert_eq!((linear.weight(), linear.bias()), (&w, &b));
    assert_eq!(linear.dims(), (4, 3));

    let w2 = t(
        &[2, 4],
        &["1/2", "1/3", "1/4", "1/5", "1/6", "1/7", "1/8", "1/9"],
    );
    let b2 = t(&[2], &["7", "8"]);
    let mlp = Mlp::new(w.clone(), b.clone(), w2.clone(), b2.clone()).unwrap();
    assert_eq!(mlp.dims(), (3, 4, 2));

    let second = Linear::new(w2, b2).unwrap();
    let deep = DeepMlp::new(vec![linear.clone(), second.clone()]).unwrap();
    assert_eq!(deep.widths(), vec![3, 4, 2]);
    let layers = deep.layers();
    assert_eq!(layers.len(), 2);
    assert_eq!((layers[0].weight(), layers[1].bias()), (&w, second.bias()));

    let target = t(&[4], &["3", "1/2", "-5", "9"]);
    let net = MlpMse::new(linear.clone(), target.clone(), &[3]).unwrap();
    assert_eq!((net.net().weight(), net.target()), (&w, &target));

    let right = t(&[1, 3, 2], &["1", "2", "3", "4", "5", "6"]);
    assert_eq!(BatchMatMul::new(right.clone()).unwrap().right(), &right);
    assert_eq!(BroadcastAdd::new(b.clone()).bias(), &b);
    assert_eq!(BroadcastMul::new(b.clone()).factor(), &b);

    let clamp = Clamp::new(q("-1/2"), q("3")).unwrap();
    assert_eq!(clamp.bounds(), (&q("-1/2"), &q("3")));

    let conv1 = Conv1d::new(t(&[4, 1, 3], &["1"; 12]), b.clone(), 2, 3)
        .unwrap()
        .with_dilation(2)
        .unwrap()
        .with_groups(2)
        .unwrap();
    assert_eq!(
        (
            conv1.stride(),
            conv1.padding(),
            conv1.dilation(),
            conv1.groups()
        ),
        (2, 3, 2, 2)
    );

    let kernel = t(
        &[4, 1, 3, 1],
        &[
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
    );
    let conv2 = Conv2d::new(kernel.clone(), b.clone(), (2, 3), (3, 2))
        .unwrap()
        .with_dilation((2, 1))
        .unwrap()
        .with_groups(2)
        .unwrap();
    assert_eq!((conv2.weight(), conv2.bias()), (&kernel, &b));
    assert_eq!(
        (
            conv2.stride(),
            conv2.padding(),
            conv2.dilation(),
            conv2.groups()
        ),
        ((2, 3), (3, 2), (2, 1), 2)
    );

    let ce = CrossEntropy::classes(vec![0, 1], Reduction::Sum)
        .unwrap()
        .label_smoothing(q("1/10"))
        .unwrap();
    assert_eq!(
        (ce.reduction(), ce.smoothing()),
        (Reduction::Sum, &q("1/10"))
    );

    let huber = HuberLoss::new(target.clone(), q("5/2"))
        .unwrap()
        .with_reduction(Reduction::None);
    assert_eq!(
        (huber.reduction(), huber.target(), huber.threshold()),
        (Reduction::None, &target, &q("5/2"))
    );
    let l1 = L1Loss::new(target.clone()).with_reduction(Reduction::Sum);
    assert_eq!((l1.reduction(), l1.target()), (Reduction::Sum, &target));
    let mse = MseLoss::new(target.clone()).with_reduction(Reduction::None);
    assert_eq!((mse.reduction(), mse.target()), (Reduction::None, &target));

    assert_eq!(Elu::new(q("1/2")).alpha(), &q("1/2"));
    assert_eq!(LeakyRelu::new(q("1/100")).slope(), &q("1/100"));
    let softplus = Softplus::new(q("2"), q("20")).unwrap();
    assert_eq!((softplus.beta(), softplus.threshold()), (&q("2"), &q("20")));
    let coefficients = vec![q("1"), q("0"), q("-2/3")];
    assert_eq!(
        Polynomial::new(coefficients.clone()).coefficients(),
        &coefficients[..]
    );
    assert_eq!(Power::new(-2).exponent(), -2);
    assert_eq!(LogSoftmax::new(2).axis(), 2);
    assert_eq!(Softmax::new(3).axis(), 3);

    assert_eq!(Residual::new(linear.clone()).inner().weight(), &w);
    let seq = Sequential::new(vec![linear, second]);
    let ops: Vec<String> = seq.ops().iter().map(Op::name).collect();
    assert_eq!(ops, ["Linear(3→4)", "Linear(4→2)"]);
}
