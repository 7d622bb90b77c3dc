//! `check_op` at real sizes: entries that cost what they test, shrinking within a time budget,
//! and where failing seeds are kept.

use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::{Linear, Relu};
use exactgrad::strategy::{
    f64_q, huge_q, linear, sample, size_aware_tensor, small_q, FULL_MIX_ENTRIES, LONG_ENTRIES,
};
use exactgrad::{planted, Compose, Error, Tensor, Q};
// Through the re-export, as a user without their own proptest dependency writes it.
use exactgrad::proptest::strategy::{Strategy, ValueTree};
use exactgrad::proptest::test_runner::TestRunner;
use std::time::Duration;

/// Entries longer than any small fraction or float of [-2, 2] can be.
fn is_long(v: &Q) -> bool {
    v.numer().bits() > 80 || v.denom().bits() > 80
}

fn draws(shape: &[usize], n: usize) -> Vec<Tensor<Q>> {
    let strategy = size_aware_tensor(
        shape.to_vec(),
        exactgrad::check::default_elements(),
        small_q(),
        huge_q(128),
    );
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn a_wide_tensor_holds_a_few_long_entries_and_a_small_one_the_full_mix() {
    let wide = draws(&[64, 32], 200);
    let longs: Vec<usize> = wide
        .iter()
        .map(|t| t.data().iter().filter(|v| is_long(v)).count())
        .collect();
    assert!(longs.iter().all(|&k| k <= LONG_ENTRIES), "{longs:?}");
    // Long entries do appear: exactness is still tested on wide tensors.
    assert!(longs.iter().filter(|&&k| k > 0).count() > 100, "{longs:?}");
    // A tensor of FULL_MIX_ENTRIES entries is drawn entry by entry from the full mix, where one
    // entry in nine is long: over 200 draws, far more than LONG_ENTRIES per tensor on average.
    let small = draws(&[FULL_MIX_ENTRIES], 200);
    let long_entries: usize = small
        .iter()
        .map(|t| t.data().iter().filter(|v| is_long(v)).count())
        .sum();
    assert!(long_entries > 200, "{long_entries}");
}

planted!(OffInOneWeight(Linear), fn vjp_params(&op, x, dy) {
    // The gradient of the last weight is off by one.
    let mut g = op.vjp_params(x, dy)?.into_data();
    let last = g.len() - 1 - op.bias().len();
    g[last] = g[last].add_ref(&S::from_i64(1));
    Ok(Tensor::from_vec(g))
});

fn wide_wrong_op() -> impl exactgrad::Checkable {
    let layer: Linear = sample(linear(48, 24, f64_q()), 7);
    OffInOneWeight(layer).then(Relu)
}

#[test]
fn shrinking_out_of_time_keeps_the_smallest_failure_found_and_says_so() {
    let config = CheckConfig::default()
        .cases(8)
        .progress(false)
        .shrink_time(Duration::from_millis(1));
    let failure = check_op(&wide_wrong_op(), &[48], &config).unwrap_err();
    assert!(failure.shrink_stopped.is_some(), "{failure}");
    assert!(matches!(failure.error, Error::Violated(_)), "{failure}");
    let text = failure.to_string();
    assert!(text.contains("shrinking stopped after"), "{text}");
    assert!(text.contains("found so far"), "{text}");
}

#[test]
fn shrinking_within_its_budget_gives_the_minimal_case() {
    let config = CheckConfig::default().cases(8).progress(false);
    let failure = check_op(&wide_wrong_op(), &[48], &config).unwrap_err();
    assert_eq!(failure.shrink_stopped, None, "{failure}");
    assert!(failure.to_string().contains("minimal exact counterexample"));
    let c = failure.counterexample().expect("a violated identity");
    assert_eq!(c.difference, "1", "{failure}");
}

#[test]
fn a_run_over_its_budget_is_refused_after_one_case() {
    let layer: Linear = sample(linear(48, 24, f64_q()), 7);
    let op = layer.then(Relu);
    let tight = exactgrad::Budget {
        seconds: 0,
        memory_mb: 1,
    };
    let config = CheckConfig::default().cases(64).progress(false);
    let failure = check_op(&op, &[48], &config.clone().budget(tight)).unwrap_err();
    let Error::OverBudget {
        task,
        budget_seconds,
        ..
    } = &failure.error
    else {
        panic!("expected OverBudget, got {failure}");
    };
    assert_eq!(*budget_seconds, 0);
    assert!(task.contains("80 cases"), "{task}"); // 64 drawn + 16 steered
    assert_eq!(failure.case, None, "no case failed");
    // After the first case, even when it is the only one drawn.
    let failure = check_op(&op, &[48], &config.clone().cases(1).budget(tight)).unwrap_err();
    assert!(
        matches!(failure.error, Error::OverBudget { .. }),
        "{failure}"
    );
    let roomy = exactgrad::Budget::unlimited();
    assert!(check_op(&op, &[48], &config.cases(4).budget(roomy)).is_ok());
}

/// The identity, whose `forward` takes 10 ms.
struct Slow;
impl exactgrad::Op for Slow {
    fn name(&self) -> String {
        "slow".into()
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl<S: exactgrad::Scalar> exactgrad::OpSpec<S> for Slow {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        std::thread::sleep(Duration::from_millis(10));
        Ok(x.clone())
    }
    fn jvp(&self, _: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(dx.clone())
    }
    fn vjp(&self, _: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(dy.clone())
    }
}

/// A run's estimate is its first case's time times its cases: at least 24 × 10 ms for 8 drawn
/// and 16 steered cases of an op whose `forward` takes 10 ms; and a fast op's 80 cases fit in a
/// minute.
#[test]
fn a_run_is_estimated_as_its_first_case_times_its_cases() {
    let budget = |seconds| exactgrad::Budget {
        seconds,
        memory_mb: 1,
    };
    let config = CheckConfig::default().progress(false);
    let failure = check_op(&Slow, &[1], &config.clone().cases(8).budget(budget(0))).unwrap_err();
    let Error::OverBudget { estimated_ms, .. } = failure.error else {
        panic!("expected OverBudget, got {failure}");
    };
    assert!(estimated_ms >= 24 * 10, "{estimated_ms} ms");
    assert!(check_op(&Relu, &[2], &config.cases(64).budget(budget(60))).is_ok());
}

#[test]
fn a_wrong_rule_under_a_tight_budget_is_still_a_counterexample() {
    // The first case fails; the passing candidates of its shrinking are not timed as cases.
    let tight = exactgrad::Budget {
        seconds: 0,
        memory_mb: 1,
    };
    let config = CheckConfig::default()
        .cases(8)
        .progress(false)
        .budget(tight);
    let failure = check_op(&wide_wrong_op(), &[48], &config).unwrap_err();
    assert!(matches!(failure.error, Error::Violated(_)), "{failure}");
}
