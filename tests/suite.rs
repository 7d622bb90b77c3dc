use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::Relu;
use exactgrad::strategy::{f64_q, huge_q, linear, sample, small_q};
use exactgrad::Compose;
use std::time::Instant;

#[test]
fn smoke() {
    let l = sample(linear(3, 4, small_q()), 7);
    let op = (&l).then(Relu);
    let t = Instant::now();
    let _ = check_op(&op, &[3], &CheckConfig::default().elements(small_q()));
    println!("small {:?}", t.elapsed());
    let t = Instant::now();
    let _ = check_op(&op, &[3], &CheckConfig::default().elements(f64_q()));
    println!("f64 {:?}", t.elapsed());
    let t = Instant::now();
    let _ = check_op(&op, &[3], &CheckConfig::default().elements(huge_q(256)));
    println!("huge {:?}", t.elapsed());
    let t = Instant::now();
    let _ = check_op(&l, &[3], &CheckConfig::default());
    println!("linear any {:?}", t.elapsed());
}
