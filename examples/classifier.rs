//! A classifier — Linear → ReLU → Linear → CrossEntropy — whose exact input and parameter
//! gradients are checked over `Ex`, the exponential-polynomial field, and printed as a
//! derivation: the logits, the loss (with its formal logarithm), every gradient as an exact
//! exponential-polynomial fraction, and the checks against forward mode.
//!
//! `cargo run --release --example classifier` exits 0 when every check holds. `-- --plant-bug`
//! swaps in a cross-entropy whose backward forgets the target (`softmax(x)` instead of
//! `softmax(x) − t`): the check fails with an exact counterexample and the exit status is 1.
//!
//! The same network with a Tanh hidden layer is refused with a typed error: its logits are
//! exponential-polynomial fractions, and `e` to such a power is outside the field (deciding
//! equalities there would need Schanuel's conjecture), so exactgrad does not approximate.

use exactgrad::check::{check_op, gradient, jacobian, CheckConfig};
use exactgrad::ops::{
    param_vector, CrossEntropy, Linear, Reduction, Relu, Reshape, Softmax, Tanh, WrtParams,
};
use exactgrad::{planted, Compose, Ex, Op, OpSpec, Ring, Tensor, Q};
use std::process::ExitCode;

fn t(shape: &[usize], lits: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), lits).expect("valid literals")
}

planted!(ForgetsTarget(CrossEntropy), fn vjp(&_op, x, dy) {
    // softmax(x)·δ: the gradient of the log-partition alone, without the −t.
    let s = Softmax::new(1).forward(x)?;
    Ok(s.map(|v| v.mul_ref(&dy.data()[0])))
});

fn main() -> ExitCode {
    let plant = std::env::args().any(|a| a == "--plant-bug");
    let first = Linear::new(
        t(
            &[4, 3],
            &[
                "1/2", "-1", "1/3", "2", "1/4", "-1/2", "-1/3", "1", "1", "1", "-2", "1/5",
            ],
        ),
        t(&[4], &["0", "1/2", "-1/4", "1"]),
    )
    .expect("shapes agree");
    let last = Linear::new(
        t(
            &[3, 4],
            &[
                "1", "-1/2", "0", "1/3", "-1", "2", "1/2", "0", "1/4", "1", "-1", "1/2",
            ],
        ),
        t(&[3], &["0", "-1/3", "1/7"]),
    )
    .expect("shapes agree");
    let loss = CrossEntropy::classes(vec![2], Reduction::Mean).expect("class 2 of 3");
    let body = first
        .clone()
        .then(Relu)
        .then(last.clone())
        .then(Reshape::new(vec![1, 3]));
    let x = t(&[3], &["1", "-1/2", "2/3"]).lift::<Ex>();

    println!("Classifier: Linear(3→4) → ReLU → Linear(4→3) → CrossEntropy(target class 2, mean)");
    println!("x = {x}");
    let logits = OpSpec::<Ex>::forward(&body, &x).expect("rational logits");
    println!("logits = {logits}   (rational: ReLU networks stay in ℚ)");

    let ok = if plant {
        report(&body.then(ForgetsTarget(loss)), &x)
    } else {
        report(&body.then(loss), &x)
    };

    let tanh_net = first
        .then(Tanh)
        .then(last)
        .then(Reshape::new(vec![1, 3]))
        .then(CrossEntropy::classes(vec![2], Reduction::Mean).expect("class 2 of 3"));
    println!("\nThe same network with Tanh as its hidden layer:");
    match OpSpec::<Ex>::forward(&tanh_net, &x) {
        Err(e) => println!(
            "  refused: {e}\n  (its logits are exponential-polynomial fractions, and e to such a power is \
             outside the field: no approximation is made)"
        ),
        Ok(v) => println!("  unexpectedly evaluated: {v}"),
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints the loss, the gradients and the checks of `net` at `x`; whether every check held.
fn report<N: exactgrad::Checkable + Op>(net: &N, x: &Tensor<Ex>) -> bool {
    println!("network: {}", net.name());
    let loss = OpSpec::<Ex>::forward(net, x).expect("the loss exists");
    println!("loss = {}", loss.data()[0]);
    println!("     ≈ {:.17}", loss.data()[0].to_f64());
    let one = Tensor::<Ex>::from_vec(vec![Ex::from_i64(1)])
        .reshape(vec![])
        .expect("a scalar");
    let gx = OpSpec::<Ex>::vjp(net, x, &one).expect("the rule runs");
    println!("\nbackward (the rules under test), δ = 1:");
    println!("  ∂loss/∂x = {gx}");
    let gp = OpSpec::<Ex>::vjp_params(net, x, &one).expect("the rule runs");
    let mut offset = 0;
    for p in net.params() {
        let n = p.value.len();
        let values: Vec<String> = gp.data()[offset..offset + n]
            .iter()
            .map(|v| v.to_string())
            .collect();
        println!(
            "  ∂loss/∂({p}) {:?} = [{}]",
            p.value.shape(),
            values.join(", ")
        );
        offset += n;
    }

    println!(
        "\nchecks (exact, over {}):",
        <Ex as exactgrad::Transcendental>::FIELD
    );
    let mut ok = true;
    let mut verdict = |what: &str, r: exactgrad::Result<()>| match r {
        Ok(()) => println!("  ✓ {what}"),
        Err(e) => {
            ok = false;
            println!("  ✗ {what}\n{e}");
        }
    };
    verdict(
        "input gradient: vjp(x, 1) = ∇loss(x), ∇ by forward mode over jets",
        gradient(net, x).map(|_| ()),
    );
    let wrt = WrtParams::new(net, t(&[3], &["1", "-1/2", "2/3"]));
    let theta: Tensor<Ex> = param_vector(net);
    verdict(
        "parameter gradients: vjp_params(x, 1) = J_θᵀ·1, J_θ by forward mode over jets",
        exactgrad::check::probe::<Ex>(theta.shape(), 1)
            .and_then(|dtheta| jacobian(&wrt, &theta, &dtheta, &one))
            .map(|_| ()),
    );
    match check_op(net, &[3], &CheckConfig::default().cases(32)) {
        Ok(r) => println!(
            "  ✓ check_op: {} random points, every check of the suite",
            r.cases
        ),
        Err(f) => {
            ok = false;
            println!("  ✗ check_op:\n{f}");
        }
    }
    ok
}
