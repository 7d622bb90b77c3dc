//! The entry points for one op, and the proptest loop every run goes through.

use super::branches::{unreached, Coverage, Observed};
use super::case::{cases, Case};
use super::checks::{check_case, descriptions, Subject};
use super::config::CheckConfig;
use super::config::SHRINK_ITERS;
use super::progress::Progress;
use super::report::{parameter_names, CheckFailure, CheckReport, CheckResult};
use super::shrink::{kind, shrink_tree, simplify, Ended, Remembered};
use super::steer::{Found, Steering};
use super::Checkable;
use crate::budget::Estimate;
use crate::error::{Error, Result};
use crate::ops::{no_kinks, Op};
use crate::ops::{CheckableOver, Exact};
use crate::scalar::comparisons::record;
use crate::scalar::{Ex, Transcendental, Q};
use crate::strategy::{into_domain, nudge_off_kinks_over};
use crate::tensor::Tensor;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestError};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::time::Instant;

/// Checks `op` on inputs of `shape` over the configured number of cases (see the module docs).
///
/// `Ok` with a report when every case passes; otherwise the minimal exact counterexample.
pub fn check_op<O: Checkable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<CheckReport> {
    run_suite(&op, shape, config, None)
}

/// [`check_op`] for an op over a batch — inputs `[B, …]` — that must treat each sample
/// independently: every case also checks that `batched` equals `single` applied to each sample
/// and stacked ([`crate::check::batched_equals_looped`]). `shape` includes the batch dimension.
pub fn check_batched<B: Checkable + ?Sized, O: Checkable>(
    batched: &B,
    single: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<CheckReport> {
    run_suite(&batched, shape, config, Some(single))
}

/// [`check_op`] at one fixed point `x`: only the tangents, cotangents and scalars are drawn.
///
/// For an op whose rules are only defined at one point — [`crate::ops::WrtParams`], the op as a
/// function of its parameters, evaluated at its own parameters — and for a point a user cares
/// about. A point on a kink is a setup failure ([`Error::Kink`]), and so is a pole
/// ([`Error::DivisionByZero`] naming the coordinate).
pub fn check_at<O: Checkable + ?Sized>(
    op: &O,
    x: &Tensor<Q>,
    config: &CheckConfig,
) -> CheckResult<CheckReport> {
    if let Err(e @ Error::DivisionByZero { .. }) = <Q as Exact>::view(&op).forward(x) {
        return Err(CheckFailure::setup(op.name(), e, config.seed));
    }
    let run = |over_ex: bool| {
        if over_ex {
            no_kinks(&<Ex as Exact>::view(&op), &x.lift::<Ex>())
                .map_err(|e| CheckFailure::setup(op.name(), e, config.seed))?;
            suite_over::<Ex>(&op, x.shape(), config, None, Some(x))
        } else {
            no_kinks(&<Q as Exact>::view(&op), x)
                .map_err(|e| CheckFailure::setup(op.name(), e, config.seed))?;
            suite_over::<Q>(&op, x.shape(), config, None, Some(x))
        }
    };
    match run(false) {
        Err(failure) if needs_ex(&failure.error) => run(true),
        result => result,
    }
}

/// The output shape, or a setup failure (also when the element count of either shape overflows).
pub(super) fn output_shape<O: Op + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<Vec<usize>> {
    // Shapes whose element count overflows are refused before any op or generator sees them:
    // both compute offsets and lengths from the shape. So are shapes whose values (Q or Ex)
    // cannot be held in one `Vec`, which the generator would allocate by panicking.
    let value_bytes = std::mem::size_of::<Q>().max(std::mem::size_of::<Ex>());
    crate::tensor::storable_count(shape, value_bytes)
        .and_then(|_| op.output_shape(shape))
        .and_then(|out| crate::tensor::storable_count(&out, value_bytes).map(|_| out))
        .map_err(|e| CheckFailure::setup(op.name(), e, config.seed))
}

// From here on the op is a `&dyn Checkable`: the proptest machinery below is compiled once per
// exact scalar, not once per op type (which made the test build of many ops slow).
fn run_suite(
    op: &dyn Checkable,
    shape: &[usize],
    config: &CheckConfig,
    looped: Option<&dyn Checkable>,
) -> CheckResult<CheckReport> {
    // Before the input generator is built: it sizes its tensors from the shape.
    output_shape(op, shape, config)?;
    match suite_over::<Q>(op, shape, config, looped, None) {
        Err(failure) if needs_ex(&failure.error) => {
            suite_over::<Ex>(op, shape, config, looped, None)
        }
        result => result,
    }
}

fn suite_over<B: Exact>(
    op: &dyn Checkable,
    shape: &[usize],
    config: &CheckConfig,
    looped: Option<&dyn Checkable>,
    fixed: Option<&Tensor<Q>>,
) -> CheckResult<CheckReport> {
    let view = B::view(op);
    match fixed {
        Some(x) => run_suite_with(
            view,
            shape,
            config,
            looped.map(B::view),
            (Just(x.clone()), true),
        ),
        None => {
            let xs = config.entries_for::<B>().tensor(shape).prop_map(move |x| {
                into_domain::<B, _>(view, nudge_off_kinks_over::<B, _>(view, x))
            });
            run_suite_with(view, shape, config, looped.map(B::view), (xs, false))
        }
    }
}

/// Whether a run over `Q` stopped because the op needs `exp` or `ln` where `Q` has no value: the
/// run is then repeated over [`Ex`], where every such value is exact.
fn needs_ex(error: &Error) -> bool {
    matches!(error, Error::OutsideField { field, .. } if *field == <Q as Transcendental>::FIELD)
}

/// Errors after which a run stops without shrinking: the value left the scalar, or the scalar
/// could not decide an identity.
fn stops_run(error: &Error) -> bool {
    matches!(error, Error::OutsideField { .. } | Error::Undecided { .. })
}

fn run_suite_with<B: Exact, X: Strategy<Value = Tensor<Q>>>(
    op: &dyn CheckableOver<B>,
    shape: &[usize],
    config: &CheckConfig,
    looped: Option<&dyn CheckableOver<B>>,
    (xs, fixed_point): (X, bool),
) -> CheckResult<CheckReport> {
    let out = output_shape(op, shape, config)?;
    let strategy = cases(
        xs,
        shape,
        &out,
        op.param_count(),
        &config.entries_for::<B>(),
    );
    let observed = Observed(op);
    let subject = Subject {
        op: &observed,
        looped,
    };
    // A case whose values leave the scalar (`exp` outside it; over `Q` the caller then repeats
    // the run over `Ex`) or that the scalar cannot decide ends the run at once, unshrunk: there
    // is no wrong rule to minimise, and deciding each shrink step again costs the most.
    let stopped = RefCell::new(None);
    let passed = Cell::new(0u32);
    let coverage = RefCell::new(Coverage::default());
    let bases = RefCell::new(Vec::new());
    let failing = RefCell::new(None); // the last failing case, for super::stages
    let result = run(
        op.name(),
        &strategy,
        config,
        (|c| c, fixed_point),
        |case| {
            if stopped.borrow().is_some() {
                return Ok(());
            }
            let (result, recording) = record(false, || check_case(&subject, case));
            match result {
                Err(e) if stops_run(&e) => {
                    *stopped.borrow_mut() = Some((e, format!("{case:?}"), passed.get()));
                    Ok(())
                }
                Ok(()) => {
                    passed.set(passed.get() + 1);
                    coverage.borrow_mut().add(&recording, true);
                    if bases.borrow().len() < STEERING_LINES + 1 {
                        bases.borrow_mut().push(case.clone());
                    }
                    Ok(())
                }
                Err(e @ (Error::Kink { .. } | Error::OutsideDomain { .. })) => {
                    coverage.borrow_mut().add(&recording, false);
                    Err(e)
                }
                other => {
                    failing.replace(Some(case.clone()));
                    other
                }
            }
        },
        kink_everywhere,
    );
    if let Some((error, case, passed_before)) = stopped.into_inner() {
        return Err(Box::new(CheckFailure {
            op: op.name(),
            error,
            case: Some(case),
            passed_before,
            seed: config.seed,
            found_by: None,
            shrink_stopped: None,
        }));
    }
    let counts = result.map_err(|f| super::stages::locate(op, failing.take().as_ref(), f))?;
    let mut coverage = coverage.into_inner();
    let bases = bases.into_inner();
    let mut steering = Steering::new(&subject, &mut coverage, config.steered_case_count());
    if !fixed_point && config.steered_case_count() > 0 {
        let huge = B::FIELD == <Q as Transcendental>::FIELD;
        let found = steering
            .thresholds(&bases)
            .and_then(|()| match bases.first() {
                Some(base) => steering.extremes(base, huge),
                None => Ok(()),
            });
        if let Err(found) = found {
            return Err(steered_failure(
                &subject,
                found,
                counts.passed + steering.checked,
                config,
            ));
        }
    }
    let steered = steering.checked;
    let branches = coverage.report();
    let missing: Vec<_> = branches.iter().flat_map(unreached).collect();
    if !missing.is_empty() && !fixed_point && !config.allow_unreached {
        let error = Error::UnreachedBranches {
            op: op.name(),
            branches: missing,
        };
        return Err(CheckFailure::setup(op.name(), error, config.seed));
    }
    Ok(CheckReport {
        op: op.name(),
        input_shape: shape.to_vec(),
        output_shape: out,
        cases: counts.passed,
        kinks_redrawn: counts.kinks,
        outside_domain_redrawn: counts.outside_domain,
        checks: descriptions(&subject),
        parameters: parameter_names(&op),
        seed: config.seed,
        scalar: B::FIELD,
        steered,
        branches,
    })
}

/// How many lines through the case space steering traces (each from one checked case towards
/// the next).
const STEERING_LINES: usize = 3;

/// The failure of a steered case, simplified as a drawn one is (the same identity must keep
/// failing, so the simplified case stays on the failing side of the threshold).
fn steered_failure<B: Exact>(
    subject: &Subject<B>,
    found: Box<Found>,
    passed_before: u32,
    config: &CheckConfig,
) -> Box<CheckFailure> {
    let failure = kind(&found.error);
    let fails = |c: &Case| check_case(subject, c).is_err_and(|e| kind(&e) == failure);
    let Found { case, error, how } = *found;
    let budget = config.shrink_time_budget();
    let (case, ended) = simplify(
        case,
        |c: &mut Case| c,
        fails,
        false,
        Instant::now() + budget,
    );
    let error = check_case(subject, &case).err().unwrap_or(error);
    Box::new(CheckFailure {
        op: subject.op.name(),
        error,
        case: Some(format!("{case:?}")),
        passed_before,
        seed: config.seed,
        found_by: Some(how),
        shrink_stopped: (ended == Ended::OutOfTime).then_some(budget),
    })
}

/// Why a run whose points are nudged off kinks gave up: they stayed on one every time.
pub(super) fn kink_everywhere(op: String, kinks: u32, outside_domain: u32) -> Error {
    if outside_domain > kinks {
        Error::NoPointInDomain {
            op,
            redrawn: outside_domain,
        }
    } else {
        Error::KinkEverywhere { op, redrawn: kinks }
    }
}

/// What a run counted.
pub(super) struct Counts {
    /// Cases that passed.
    pub passed: u32,
    /// Points redrawn because they stayed on a kink.
    pub kinks: u32,
    /// Points redrawn because they were outside the op's domain.
    pub outside_domain: u32,
}

/// Runs `test` over `strategy` with the configured runner. A case whose test returns
/// [`Error::Kink`] is rejected (drawn again) and counted; any other error fails the case. The
/// failing case is shrunk by proptest's search ([`shrink_tree`]), then simplified further by
/// [`simplify`], both within [`CheckConfig::shrink_time_budget`], and re-checked to return its
/// structured error. Progress lines go to stderr as [`CheckConfig::progress`] says; a run
/// estimated past [`CheckConfig::budget`] after its first case is refused. When proptest gives
/// up because too many cases were rejected, `gave_up(op, kinks redrawn, points outside the
/// domain redrawn)` says why: only the caller knows what its rejections mean.
pub(super) fn run<T: fmt::Debug + Clone, St: Strategy<Value = T>>(
    op: String,
    strategy: &St,
    config: &CheckConfig,
    (case_of, fixed_point): (impl Fn(&mut T) -> &mut Case, bool),
    test: impl Fn(&T) -> Result<()>,
    gave_up: impl FnOnce(String, u32, u32) -> Error,
) -> CheckResult<Counts> {
    let passed = Cell::new(0u32);
    let kinks = Cell::new(0u32);
    let domain = Cell::new(0u32);
    let failed = Cell::new(false);
    let progress = Progress::new(op.clone(), config.case_count(), config.progress);
    let over_budget = RefCell::new(None);
    let verdict = |case: &T| {
        // Past the budget the remaining cases are let through unchecked, and the run refused.
        let result = over_budget.borrow().is_none().then(|| test(case));
        match result {
            None => Ok(()),
            Some(Ok(())) => {
                // Shrinking candidates that pass are neither counted nor timed.
                if !failed.get() {
                    if passed.get() == 0 {
                        *over_budget.borrow_mut() = over(config, &op, progress.elapsed());
                    }
                    passed.set(passed.get() + 1);
                    progress.case(passed.get());
                }
                Ok(())
            }
            Some(Err(Error::Kink { .. })) => {
                if !failed.get() {
                    kinks.set(kinks.get() + 1);
                }
                Err(TestCaseError::reject("the point is on a kink"))
            }
            Some(Err(Error::OutsideDomain { .. })) => {
                if !failed.get() {
                    domain.set(domain.get() + 1);
                }
                Err(TestCaseError::reject(
                    "the point is outside the op's domain",
                ))
            }
            Some(Err(e)) => {
                failed.set(true);
                Err(TestCaseError::fail(e.to_string()))
            }
        }
    };
    let strategy = Remembered::new(strategy);
    let mut runner = config.runner();
    let outcome = runner.run(&strategy, |case| verdict(&case));
    if let Some(error) = over_budget.borrow_mut().take() {
        return Err(CheckFailure::setup(op, error, config.seed));
    }
    match outcome {
        Ok(()) => Ok(Counts {
            passed: passed.get(),
            kinks: kinks.get(),
            outside_domain: domain.get(),
        }),
        Err(TestError::Fail(reason, drawn)) => {
            let budget = config.shrink_time_budget();
            let shrinking_from = Instant::now();
            let deadline = shrinking_from + budget;
            let last_reason = RefCell::new(reason);
            let (case, searched) = match strategy.last() {
                Some(mut tree) => {
                    let fails = |case: T| match verdict(&case) {
                        Err(TestCaseError::Fail(why)) => {
                            *last_reason.borrow_mut() = why;
                            true
                        }
                        _ => false,
                    };
                    let step = |k| progress.shrinking(k, budget);
                    let ended = shrink_tree(&mut tree, fails, SHRINK_ITERS, deadline, step);
                    (tree.current(), ended)
                }
                None => (drawn, Ended::Done),
            };
            // Rules are re-run on the minimal case to return the error as a value; a rule that
            // passes the second time is not deterministic, and the first message is kept.
            let (case, error, simplified) = match test(&case) {
                Err(e) => {
                    let failure = kind(&e);
                    let fails = |t: &T| test(t).is_err_and(|e| kind(&e) == failure);
                    let (case, ended) = simplify(case, &case_of, fails, fixed_point, deadline);
                    let error = test(&case).err().unwrap_or(e);
                    (case, error, ended)
                }
                Ok(()) => (
                    case,
                    Error::NotDeterministic {
                        op: op.clone(),
                        first: last_reason.into_inner().to_string(),
                    },
                    Ended::Done,
                ),
            };
            let stopped = searched == Ended::OutOfTime || simplified == Ended::OutOfTime;
            Err(Box::new(CheckFailure {
                op,
                error,
                case: Some(format!("{case:?}")),
                passed_before: passed.get(),
                seed: config.seed,
                found_by: None,
                shrink_stopped: stopped.then(|| shrinking_from.elapsed()),
            }))
        }
        Err(TestError::Abort(_)) => {
            let error = gave_up(op.clone(), kinks.get(), domain.get());
            Err(CheckFailure::setup(op, error, config.seed))
        }
    }
}

/// [`Error::OverBudget`] when a run whose first case took `first` would exceed the configured
/// budget: the estimate is that time for every case, drawn and steered.
fn over(config: &CheckConfig, op: &str, first: std::time::Duration) -> Option<Error> {
    let budget = config.budget?;
    let cases = config.case_count() + config.steered_case_count();
    let estimate = Estimate {
        seconds: first.as_secs_f64() * f64::from(cases),
        memory_mb: 0.0,
    };
    let task = format!("check_op {op}: {cases} cases");
    budget.admit(&task, &estimate).err()
}

/// The loop of [`super::check_kinks`] and [`super::check_poles`]: points drawn and moved onto a
/// special set by `onto(x, pick)` (`None` when it cannot be reached from `x`: rejected, and
/// `gave_up` names the op when every point is), each case checked by `at`, which returns what it
/// found there (a layer, a coordinate); the number of cases and how often each finding came.
pub(super) fn tally_special_points<K: Ord>(
    op: &dyn Checkable,
    shape: &[usize],
    config: &CheckConfig,
    (why, onto): (
        &'static str,
        impl Fn(&Tensor<Q>, usize) -> Option<Tensor<Q>>,
    ),
    at: impl Fn(&Case) -> Result<K>,
    gave_up: fn(String) -> Error,
) -> CheckResult<(u32, Vec<(K, u32)>)> {
    let out = output_shape(op, shape, config)?;
    let xs = (config.entries_for::<Q>().tensor(shape), any::<usize>())
        .prop_filter_map(why, move |(x, k)| onto(&x, k));
    let strategy = cases(
        xs,
        shape,
        &out,
        op.param_count(),
        &config.entries_for::<Q>(),
    );
    let found = std::sync::Mutex::new(std::collections::BTreeMap::<K, u32>::new());
    let counts = run(
        op.name(),
        &strategy,
        config,
        (|c| c, false),
        |case| {
            let key = at(case)?;
            *found.lock().expect("not poisoned").entry(key).or_default() += 1;
            Ok(())
        },
        // The only rejections are points `onto` could not move.
        |op, _, _| gave_up(op),
    )?;
    let found = found.into_inner().expect("not poisoned");
    Ok((counts.passed, found.into_iter().collect()))
}

/// Checks an op in one line inside a `#[test]`: [`check_op`] with failing seeds saved to (and
/// replayed from) proptest's regression file for the calling source file; panics with the
/// minimal exact counterexample on failure, returns the [`CheckReport`] otherwise.
///
/// ```
/// use exactgrad::{check_op, ops::Relu};
/// let report = check_op!(Relu, [4]);
/// assert!(report.cases > 0);
/// // With a configuration:
/// check_op!(Relu, [2, 3], exactgrad::check::CheckConfig::default().cases(16));
/// ```
#[macro_export]
macro_rules! check_op {
    ($op:expr, $shape:expr $(,)?) => {
        $crate::check_op!($op, $shape, $crate::check::CheckConfig::default())
    };
    ($op:expr, $shape:expr, $config:expr $(,)?) => {
        match $crate::check::check_op(&$op, &$shape, &$config.regressions(file!())) {
            Ok(report) => report,
            Err(failure) => panic!("{failure}"),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::kink_everywhere;
    use crate::error::Error;

    /// A run that gave up names the commoner reason for its redraws; a tie goes to the kinks.
    #[test]
    fn a_run_that_gave_up_names_the_commoner_reason() {
        let kinks = |op: &str, redrawn| Error::KinkEverywhere {
            op: op.into(),
            redrawn,
        };
        assert_eq!(kink_everywhere("f".into(), 3, 2), kinks("f", 3));
        assert_eq!(kink_everywhere("f".into(), 4, 4), kinks("f", 4));
        assert_eq!(
            kink_everywhere("f".into(), 2, 5),
            Error::NoPointInDomain {
                op: "f".into(),
                redrawn: 5
            }
        );
    }
}
