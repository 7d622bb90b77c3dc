use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::*;
use exactgrad::{strategy, Compose};
use std::time::Instant;
fn main() {
    let l1 = strategy::sample(strategy::linear(16, 8, strategy::small_q()), 1);
    let l2 = strategy::sample(strategy::linear(8, 4, strategy::small_q()), 2);
    let net = l1.then(Relu).then(l2);
    for (name, cfg) in [
        ("steer off", CheckConfig::default().steered_cases(0)),
        ("default", CheckConfig::default()),
    ] {
        let t = Instant::now();
        let r = check_op(&net, &[16], &cfg).unwrap();
        println!(
            "mlp16x8x4 {name}: {:.2}s ({} + {})",
            t.elapsed().as_secs_f64(),
            r.cases,
            r.steered
        );
        let t = Instant::now();
        let r = check_op(&Relu, &[2, 3], &cfg).unwrap();
        println!(
            "relu {name}: {:.3}s ({} + {})",
            t.elapsed().as_secs_f64(),
            r.cases,
            r.steered
        );
        let t = Instant::now();
        let r = check_op(&Sigmoid, &[4], &cfg.clone().cases(32)).unwrap();
        println!(
            "sigmoid {name}: {:.3}s ({} + {})",
            t.elapsed().as_secs_f64(),
            r.cases,
            r.steered
        );
    }
}
