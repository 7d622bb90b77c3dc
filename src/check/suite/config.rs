//! How a run draws its cases: the number, the seed, the entries, the regression file.

use crate::budget::Budget;
use crate::scalar::{Ex, Transcendental, Q};
use crate::strategy::{f64_q, huge_q, size_aware_tensor, small_q, tensor};
use crate::tensor::Tensor;
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FailurePersistence, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner,
};
use std::path::Path;
use std::time::Duration;

/// The shrinking budget in steps. Fixed (proptest's default scales with the number of cases, and
/// reads `PROPTEST_MAX_SHRINK_ITERS`) so that the minimal counterexample of a failing rule
/// depends on the seed only, not on how many cases were asked for.
pub(super) const SHRINK_ITERS: u32 = 1024;

/// The default time budget of shrinking ([`CheckConfig::shrink_time`]).
pub const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(30);

/// The seed of every run unless [`CheckConfig::seed`] changes it.
pub const DEFAULT_SEED: u64 = 0x00e4_ac79_7ad0;

/// The checker's default entries: mostly small fractions `p/q` (`|p|, q ≤ 9`), then exact values
/// of `f64`s in `[-2, 2]`, then 128-bit fractions (6 : 2 : 1) — every kind of exactness a float
/// checker lacks, weighted so that a case stays cheap. A tensor of more than
/// [`crate::strategy::FULL_MIX_ENTRIES`] entries draws from the first two and holds at most
/// [`crate::strategy::LONG_ENTRIES`] 128-bit fractions ([`size_aware_tensor`]).
pub fn default_elements() -> impl Strategy<Value = Q> + Clone {
    prop_oneof![6 => small_q(), 2 => f64_q(), 1 => huge_q(128)]
}

/// The cheap part of the default mix: small fractions and exact floats (6 : 2).
fn cheap_elements() -> impl Strategy<Value = Q> + Clone {
    prop_oneof![6 => small_q(), 2 => f64_q()]
}

/// The default entries of a run over [`crate::Ex`] (an op with `exp`): as
/// [`default_elements`], but the 128-bit fractions are taken in `(−8, 8)`. Their numerators and
/// denominators stay long, while `e^x` stays a number whose sign a few hundred bits decide, so
/// a case stays cheap.
pub fn default_exp_elements() -> impl Strategy<Value = Q> + Clone {
    prop_oneof![6 => small_q(), 2 => f64_q(), 1 => long_exp_elements()]
}

/// The long entries of [`default_exp_elements`]: 128-bit fractions in `(−8, 8)`.
fn long_exp_elements() -> impl Strategy<Value = Q> + Clone {
    huge_q(128).prop_map(|v| v.fract() * Q::from_integer(8.into()))
}

/// How a run draws the entries of its tensors and scalars.
#[derive(Clone, Debug)]
pub(super) enum Entries {
    /// Every entry from one strategy ([`CheckConfig::elements`]).
    Each(BoxedStrategy<Q>),
    /// The defaults: the full mix for scalars and small tensors, long entries at a few positions
    /// of a wide tensor ([`size_aware_tensor`]).
    SizeAware {
        full: BoxedStrategy<Q>,
        cheap: BoxedStrategy<Q>,
        long: BoxedStrategy<Q>,
    },
}

impl Entries {
    /// A tensor of `shape`.
    pub(super) fn tensor(&self, shape: &[usize]) -> BoxedStrategy<Tensor<Q>> {
        match self {
            Entries::Each(e) => tensor(shape.to_vec(), e.clone()).boxed(),
            Entries::SizeAware { full, cheap, long } => {
                size_aware_tensor(shape.to_vec(), full.clone(), cheap.clone(), long.clone())
            }
        }
    }

    /// One scalar.
    pub(super) fn scalar(&self) -> BoxedStrategy<Q> {
        match self {
            Entries::Each(e) | Entries::SizeAware { full: e, .. } => e.clone(),
        }
    }
}

/// How a check run draws its cases.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    cases: Option<u32>,
    pub(super) seed: u64,
    regressions: Option<&'static str>,
    elements: Option<BoxedStrategy<Q>>,
    steered: Option<u32>,
    pub(super) allow_unreached: bool,
    shrink_time: Option<Duration>,
    pub(super) progress: Option<bool>,
    pub(super) budget: Option<Budget>,
}

impl Default for CheckConfig {
    /// 256 cases (or `PROPTEST_CASES`), [`DEFAULT_SEED`], entries from [`default_elements`]
    /// (from [`default_exp_elements`] over [`crate::Ex`]), no regression file, steering as
    /// [`CheckConfig::steered_case_count`] says, unreached branches an error, shrinking for at
    /// most [`DEFAULT_SHRINK_TIME`], and progress lines when stderr is a terminal.
    fn default() -> Self {
        CheckConfig {
            cases: None,
            seed: DEFAULT_SEED,
            regressions: None,
            elements: None,
            steered: None,
            allow_unreached: false,
            shrink_time: None,
            progress: None,
            budget: None,
        }
    }
}

impl CheckConfig {
    /// Run `n` cases (overrides `PROPTEST_CASES`).
    pub fn cases(mut self, n: u32) -> Self {
        self.cases = Some(n);
        self
    }

    /// Draw cases from `seed` instead of [`DEFAULT_SEED`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Save failing seeds, and replay saved ones first, in proptest's regression file for the
    /// source file `source` (pass `file!()`): `proptest-regressions/…` beside `src/`,
    /// `tests/NAME.proptest-regressions` for a single-file integration test, or
    /// `tests/proptest-regressions/NAME.txt` for a module of a `tests/DIR/main.rs` crate. Commit
    /// those files.
    pub fn regressions(mut self, source: &'static str) -> Self {
        self.regressions = Some(source);
        self
    }

    /// Draw every entry of `x`, `dx`, `δ` (and `a`, `b`) from `elements`, over every scalar.
    pub fn elements(mut self, elements: impl Strategy<Value = Q> + 'static) -> Self {
        self.elements = Some(elements.boxed());
        self
    }

    /// Check at most `n` cases steered to the thresholds of the op's comparisons after the
    /// drawn ones, then three at the extremes of size (default: a quarter of the drawn cases, at
    /// least 16; 0 turns steering off, the extremes too).
    pub fn steered_cases(mut self, n: u32) -> Self {
        self.steered = Some(n);
        self
    }

    /// The number of steered cases a run may check.
    pub fn steered_case_count(&self) -> u32 {
        self.steered
            .unwrap_or_else(|| (self.case_count() / 4).max(16))
    }

    /// Pass a run even when an outcome of one of the op's comparisons was reached by no case
    /// (by default that is [`crate::Error::UnreachedBranches`]): for a branch that is
    /// unreachable on purpose, or not worth steering to.
    pub fn allow_unreached_branches(mut self) -> Self {
        self.allow_unreached = true;
        self
    }

    /// Stop shrinking a failing case after `budget` (default [`DEFAULT_SHRINK_TIME`]): the
    /// failure then holds the smallest failing case found so far and says that shrinking
    /// stopped ([`super::CheckFailure::shrink_stopped`]). Shrinking also stops after 1024 steps,
    /// whatever the time; only a run that hits the time budget depends on the machine's speed.
    pub fn shrink_time(mut self, budget: Duration) -> Self {
        self.shrink_time = Some(budget);
        self
    }

    /// The time budget of shrinking.
    pub fn shrink_time_budget(&self) -> Duration {
        self.shrink_time.unwrap_or(DEFAULT_SHRINK_TIME)
    }

    /// Write progress lines to stderr during runs longer than 2 s (`true`), or never (`false`).
    /// By default they are written when stderr is a terminal.
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = Some(show);
        self
    }

    /// Refuse a run whose cases would take longer than `budget.seconds` in all: after the first
    /// case the run is estimated as its time × the number of cases, and past the budget it stops
    /// with [`crate::Error::OverBudget`] (a setup failure, no case failed). Without a budget
    /// (the default) a run is never refused; its progress lines say how long it will take.
    /// Memory is not estimated here (`budget.memory_mb` is not used).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The entries of a run over the exact scalar `B`: the configured ones, or the default for
    /// `B` ([`default_elements`] over `Q`, [`default_exp_elements`] over [`crate::Ex`], both
    /// size-aware).
    pub(super) fn entries_for<B: Transcendental>(&self) -> Entries {
        match &self.elements {
            Some(e) => Entries::Each(e.clone()),
            None if B::FIELD == <Ex as Transcendental>::FIELD => Entries::SizeAware {
                full: default_exp_elements().boxed(),
                cheap: cheap_elements().boxed(),
                long: long_exp_elements().boxed(),
            },
            None => Entries::SizeAware {
                full: default_elements().boxed(),
                cheap: cheap_elements().boxed(),
                long: huge_q(128).boxed(),
            },
        }
    }

    /// The number of cases a run will pass before declaring success.
    pub fn case_count(&self) -> u32 {
        self.cases.unwrap_or_else(|| Config::default().cases)
    }

    /// Proptest's runner for this configuration, its RNG seeded from [`CheckConfig::seed`] alone
    /// so that a run is reproducible.
    pub(super) fn runner(&self) -> TestRunner {
        let config = Config {
            cases: self.case_count(),
            failure_persistence: self.regressions.and_then(persistence),
            source_file: self.regressions,
            // The runner shrinks failing cases itself (`super::shrink::shrink_tree`): with a time
            // budget it can report, and without proptest's messages on stderr.
            max_shrink_iters: 0,
            ..Config::default()
        };
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&self.seed.to_le_bytes());
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
    }
}

/// Where proptest keeps the failing seeds of `source` (a `file!()` path): beside `src/` for a
/// file under a directory with a `lib.rs` or `main.rs` (proptest's default), else beside the
/// file itself — the place proptest's default falls back to, chosen here so that proptest does
/// not print a warning on every run of a single-file integration test. No persistence when the
/// file cannot be found from the working directory.
fn persistence(source: &'static str) -> Option<Box<dyn FailurePersistence>> {
    let source = Path::new(source);
    let absolute = if source.is_absolute() {
        source.to_path_buf()
    } else {
        let mut dir = std::env::current_dir().ok()?;
        loop {
            if dir.join(source).is_file() {
                break dir.join(source);
            }
            if !dir.pop() {
                return None;
            }
        }
    };
    let beside_a_crate_root = absolute
        .ancestors()
        .skip(1)
        .any(|dir| dir.join("lib.rs").is_file() || dir.join("main.rs").is_file());
    Some(Box::new(if beside_a_crate_root {
        FileFailurePersistence::SourceParallel("proptest-regressions")
    } else {
        FileFailurePersistence::WithSource("proptest-regressions")
    }))
}

#[cfg(test)]
mod tests {
    use super::{long_exp_elements, persistence, CheckConfig, Entries};
    use crate::scalar::{Ex, Q};
    use crate::strategy::sample;
    use num_traits::{One, Signed};
    use proptest::strategy::Just;

    fn chosen(source: &'static str) -> String {
        format!("{:?}", persistence(source))
    }

    #[test]
    fn a_module_of_a_test_crate_keeps_its_seeds_beside_the_crate_root() {
        // tests/integration/ holds main.rs: proptest's own default, found without a warning.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/integration/suite.rs");
        assert!(chosen(path).contains("SourceParallel"), "{}", chosen(path));
    }

    #[test]
    fn a_single_file_test_keeps_its_seeds_beside_itself() {
        // The place proptest falls back to after printing "failed to find lib.rs or main.rs".
        let dir = std::env::temp_dir().join(format!("exactgrad-persist-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        let file = dir.join("tests").join("my_op.rs");
        std::fs::write(&file, "").unwrap();
        let path: &'static str = Box::leak(file.to_string_lossy().into_owned().into_boxed_str());
        let got = chosen(path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(got.contains("WithSource"), "{got}");
    }

    #[test]
    fn a_file_that_cannot_be_found_keeps_no_seeds() {
        assert_eq!(chosen("no/such/dir/my_test.rs"), "None");
    }

    /// The long entries over `Ex` lie in (−8, 8) and spread across it: kills `*` → `+` (all in
    /// (7, 9), none negative) and `*` → `/` (all in (−1/8, 1/8)) in `long_exp_elements`.
    #[test]
    fn long_exp_entries_lie_in_minus_eight_to_eight_and_fill_it() {
        let drawn: Vec<Q> = (0..64).map(|s| sample(long_exp_elements(), s)).collect();
        let eight = Q::from_integer(8.into());
        assert!(drawn.iter().all(|v| v.abs() < eight), "{drawn:?}");
        assert!(drawn.iter().any(Signed::is_negative), "{drawn:?}");
        assert!(drawn.iter().any(|v| v.abs() > Q::one()), "{drawn:?}");
    }

    /// Each setter keeps what was set before it (kills `seed`, `elements` and `steered_cases`
    /// replaced by `Default::default()`).
    #[test]
    fn setters_keep_the_earlier_settings() {
        let config = CheckConfig::default().cases(7).seed(5);
        assert_eq!((config.seed, config.case_count()), (5, 7));
        let config = CheckConfig::default().seed(5).steered_cases(3);
        assert_eq!((config.seed, config.steered_case_count()), (5, 3));
        let half = Q::new(1.into(), 2.into());
        let config = CheckConfig::default().seed(5).elements(Just(half.clone()));
        assert_eq!(config.seed, 5);
        match config.entries_for::<Q>() {
            Entries::Each(e) => assert_eq!(sample(e, 1), half),
            other => panic!("configured entries ignored: {other:?}"),
        }
    }

    /// A quarter of the drawn cases are steered, at least 16 (kills `/` → `%`).
    #[test]
    fn a_quarter_of_the_cases_are_steered_at_least_sixteen() {
        let steered = |n| CheckConfig::default().cases(n).steered_case_count();
        assert_eq!((steered(256), steered(100), steered(8)), (64, 25, 16));
    }

    /// A relative path is looked for in the working directory, then in each parent: the crate's
    /// own `src/lib.rs` named from the directory above it (kills `delete !` before `dir.pop()`,
    /// which gave up at the first parent).
    #[test]
    fn a_relative_path_is_found_from_a_parent_directory() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let name = root.file_name().unwrap().to_string_lossy();
        let path: &'static str = Box::leak(format!("{name}/src/lib.rs").into_boxed_str());
        assert!(chosen(path).contains("SourceParallel"), "{}", chosen(path));
    }

    /// Over `Ex` the default entries stay within 9 of zero (small fractions, floats in (−2, 2),
    /// long fractions in (−8, 8)), while over `Q` some 128-bit fraction lies past it (kills the
    /// match guard replaced by `false`, which gave `Ex` runs the unbounded long fractions).
    #[test]
    fn default_entries_over_ex_stay_small_and_over_q_do_not() {
        let largest = |entries: Entries| {
            (0..200)
                .map(|s| sample(entries.scalar(), s).abs())
                .max()
                .unwrap()
        };
        let nine = Q::from_integer(9.into());
        let config = CheckConfig::default();
        assert!(largest(config.entries_for::<Ex>()) <= nine);
        assert!(largest(config.entries_for::<Q>()) > nine);
    }
}
