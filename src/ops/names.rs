//! The names reports, errors and JSON print for every op type of the crate (but `Elementwise`,
//! named by its function: `ops::elementwise`'s tests), each optional part of a name shown once
//! present and once absent.
//! Users and scripts read these names (`"op"` in the JSON, the head of a report), so a change
//! to one is a change of the output format.

use super::test_support::{q, t};
use super::*;

fn zeros(shape: &[usize]) -> crate::tensor::Tensor<crate::scalar::Q> {
    crate::tensor::Tensor::zeros(shape).expect("a small shape")
}

fn linear(n: usize, m: usize) -> Linear {
    Linear::new(zeros(&[m, n]), zeros(&[m])).unwrap()
}

#[test]
fn every_op_is_named_as_reports_print_it() {
    let conv = || Conv2d::new(zeros(&[4, 2, 3, 1]), zeros(&[4]), (1, 2), (0, 1)).unwrap();
    let conv1 = || Conv1d::new(zeros(&[4, 2, 3]), zeros(&[4]), 2, 1).unwrap();
    let avg = || AvgPool2d::new((2, 3), (1, 2)).unwrap();
    let max = || MaxPool2d::new((2, 3), (1, 2)).unwrap();
    let ce = |r| CrossEntropy::classes(vec![0, 1], r).unwrap();
    let named: Vec<(Box<dyn Op>, &str)> =
        vec![
        (Box::new(Abs), "Abs"),
        (Box::new(Add::new(zeros(&[2, 3]))), "Add[2, 3]"),
        (Box::new(avg()), "AvgPool2d(kernel (2, 3), stride (1, 2))"),
        (
            Box::new(
                avg()
                    .with_padding((1, 1))
                    .unwrap()
                    .with_ceil_mode(true)
                    .unwrap()
                    .with_count_include_pad(false)
                    .unwrap(),
            ),
            "AvgPool2d(kernel (2, 3), stride (1, 2), padding (1, 1), ceil_mode, padding not \
             counted)",
        ),
        (
            Box::new(BatchMatMul::new(zeros(&[2, 3, 4])).unwrap()),
            "BatchMatMul(B[2, 3, 4])",
        ),
        (Box::new(BroadcastAdd::new(zeros(&[3]))), "BroadcastAdd[3]"),
        (Box::new(BroadcastMul::new(zeros(&[3]))), "BroadcastMul[3]"),
        (
            Box::new(Clamp::new(q("-1/2"), q("3")).unwrap()),
            "Clamp[-1/2, 3]",
        ),
        (Box::new(Concat::new(3, 1)), "Concat(3 parts, axis 1)"),
        (
            Box::new(conv1()),
            "Conv1d(2→4, kernel 3, stride 2, padding 1)",
        ),
        (
            Box::new(
                Conv1d::new(zeros(&[4, 1, 3]), zeros(&[4]), 2, 1)
                    .unwrap()
                    .with_dilation(2)
                    .unwrap()
                    .with_groups(2)
                    .unwrap(),
            ),
            "Conv1d(2→4, kernel 3, stride 2, padding 1, dilation 2, groups 2)",
        ),
        (
            Box::new(conv()),
            "Conv2d(2→4, kernel 3×1, stride (1, 2), padding (0, 1))",
        ),
        (
            Box::new(
                Conv2d::new(zeros(&[4, 1, 3, 1]), zeros(&[4]), (1, 2), (0, 1))
                    .unwrap()
                    .with_dilation((2, 1))
                    .unwrap()
                    .with_groups(2)
                    .unwrap(),
            ),
            "Conv2d(2→4, kernel 3×1, stride (1, 2), padding (0, 1), dilation (2, 1), groups 2)",
        ),
        (
            Box::new(ce(Reduction::Mean)),
            "CrossEntropy(class indices, mean)",
        ),
        (
            Box::new(
                CrossEntropy::probabilities(t(&[1, 2], &["1/4", "3/4"]), Reduction::Sum)
                    .unwrap()
                    .label_smoothing(q("1/10"))
                    .unwrap(),
            ),
            "CrossEntropy(probabilities, sum, label smoothing 1/10)",
        ),
        (Box::new(Div), "Div"),
        (Box::new(Elu::new(q("1/2"))), "ELU(α=1/2)"),
        (Box::new(Exp), "Exp"),
        (Box::new(Flatten), "Flatten"),
        (Box::new(GeluTanh), "GELU(tanh)"),
        (
            Box::new(HuberLoss::new(zeros(&[2]), q("1")).unwrap()),
            "HuberLoss(β=1)",
        ),
        (
            Box::new(
                HuberLoss::new(zeros(&[2]), q("1"))
                    .unwrap()
                    .with_reduction(Reduction::None),
            ),
            "HuberLoss(β=1, reduction=none)",
        ),
        (Box::new(Identity), "Identity"),
        (Box::new(L1Loss::new(zeros(&[2]))), "L1Loss"),
        (
            Box::new(L1Loss::new(zeros(&[2])).with_reduction(Reduction::Sum)),
            "L1Loss(reduction=sum)",
        ),
        (Box::new(LeakyRelu::new(q("1/100"))), "LeakyReLU(α=1/100)"),
        (Box::new(linear(3, 4)), "Linear(3→4)"),
        (Box::new(Log), "Log"),
        (Box::new(LogSoftmax::new(1)), "LogSoftmax(axis 1)"),
        (
            Box::new(MatVec::new(zeros(&[4, 3])).unwrap()),
            "MatVec(3→4)",
        ),
        (Box::new(max()), "MaxPool2d(kernel (2, 3), stride (1, 2))"),
        (
            Box::new(
                max()
                    .with_padding((1, 1))
                    .unwrap()
                    .with_dilation((2, 1))
                    .unwrap()
                    .with_ceil_mode(true)
                    .unwrap(),
            ),
            "MaxPool2d(kernel (2, 3), stride (1, 2), padding (1, 1), dilation (2, 1), ceil_mode)",
        ),
        (Box::new(Mean), "Mean"),
        (
            Box::new(Mlp::new(zeros(&[4, 3]), zeros(&[4]), zeros(&[2, 4]), zeros(&[2])).unwrap()),
            "MLP(3→4→2)",
        ),
        (
            Box::new(DeepMlp::new(vec![linear(1, 2), linear(2, 2), linear(2, 1)]).unwrap()),
            "DeepMLP(1→2→2→1)",
        ),
        (
            Box::new(MlpMse::new(linear(3, 2), zeros(&[2]), &[3]).unwrap()),
            "MSE(Linear(3→2))",
        ),
        (Box::new(MseLoss::new(zeros(&[2]))), "MseLoss"),
        (
            Box::new(MseLoss::new(zeros(&[2])).with_reduction(Reduction::None)),
            "MseLoss(reduction=none)",
        ),
        (Box::new(Mul), "Mul"),
        (
            Box::new(Pad::new(vec![0, 1], vec![2, 0]).unwrap()),
            "Pad(begin [0, 1], end [2, 0])",
        ),
        (
            Box::new(Polynomial::new(vec![q("1"), q("0"), q("2")])),
            "Polynomial(degree 2)",
        ),
        (Box::new(Power::new(-2)), "Power(x^-2)"),
        (
            Box::new(Reduce::sum(vec![], false).unwrap()),
            "ReduceSum(all axes)",
        ),
        (
            Box::new(Reduce::mean(vec![0, 2], true).unwrap()),
            "ReduceMean(axes [0, 2], keepdims)",
        ),
        (Box::new(Relu), "ReLU"),
        (Box::new(Reshape::new(vec![3, 2])), "Reshape[3, 2]"),
        (Box::new(Residual::new(Tanh)), "Residual(Tanh)"),
        (
            Box::new(Sequential::new(vec![linear(2, 2), linear(2, 3)])),
            "Linear(2→2) >>> Linear(2→3)",
        ),
        (Box::new(Sequential::<Relu>::new(vec![])), "Identity"),
        (Box::new(Sigmoid), "Sigmoid"),
        (Box::new(Silu), "SiLU"),
        (Box::new(Slice::new(1, 2, 5).unwrap()), "Slice(axis 1, 2..5)"),
        (Box::new(Softmax::new(0)), "Softmax(axis 0)"),
        (
            Box::new(Softplus::new(q("2"), q("20")).unwrap()),
            "Softplus(β=2, threshold=20)",
        ),
        (Box::new(Softsign), "Softsign"),
        (Box::new(Sum), "Sum"),
        (Box::new(Tanh), "Tanh"),
        (Box::new(Then::new(Relu, Tanh)), "ReLU >>> Tanh"),
        (Box::new(Transpose::new(vec![1, 0]).unwrap()), "Transpose[1, 0]"),
    ];
    let wrong: Vec<String> = named
        .iter()
        .filter(|(op, name)| op.name() != *name)
        .map(|(op, name)| format!("expected {name:?}, printed {:?}", op.name()))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    let linear = linear(2, 1);
    assert_eq!(
        WrtParams::new(&linear, zeros(&[2])).name(),
        "Linear(2→1) w.r.t. parameters"
    );
}
