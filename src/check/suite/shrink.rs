//! Shrinking a failing case: proptest's value-tree search, run here with a step and a time
//! budget, then an exact simplification of the values.

use super::case::Case;
use crate::error::Error;
use crate::scalar::Q;
use crate::tensor::Tensor;
use num_traits::{One, Signed, Zero};
use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Instant;

/// A strategy that keeps a handle on the value tree of the last case it drew. Proptest hands
/// back only the value of a failing case; with the tree the runner can shrink it itself
/// ([`shrink_tree`]).
pub(super) struct Remembered<S: Strategy> {
    inner: S,
    last: RefCell<Option<Shared<S::Tree>>>,
}

impl<S: Strategy> Remembered<S> {
    /// `inner`, remembering its trees.
    pub(super) fn new(inner: S) -> Self {
        Remembered {
            inner,
            last: RefCell::new(None),
        }
    }

    /// The tree of the last case drawn (the failing one, when a run fails).
    pub(super) fn last(&self) -> Option<Shared<S::Tree>> {
        self.last.borrow().clone()
    }
}

impl<S: Strategy> fmt::Debug for Remembered<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Remembered").field(&self.inner).finish()
    }
}

impl<S: Strategy> Strategy for Remembered<S> {
    type Tree = Shared<S::Tree>;
    type Value = S::Value;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let tree = Shared(Rc::new(RefCell::new(self.inner.new_tree(runner)?)));
        *self.last.borrow_mut() = Some(tree.clone());
        Ok(tree)
    }
}

/// A value tree shared between proptest's runner and [`Remembered`].
pub(super) struct Shared<T>(Rc<RefCell<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T: ValueTree> ValueTree for Shared<T> {
    type Value = T::Value;
    fn current(&self) -> T::Value {
        self.0.borrow().current()
    }
    fn simplify(&mut self) -> bool {
        self.0.borrow_mut().simplify()
    }
    fn complicate(&mut self) -> bool {
        self.0.borrow_mut().complicate()
    }
}

/// How a shrink ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// Nothing simpler fails, or the step budget ran out: the result depends on the seed only.
    Done,
    /// The time budget ran out: the smallest failing case found so far.
    OutOfTime,
}

/// Proptest's shrinking loop (`TestRunner::shrink`, same steps in the same order, so the same
/// minimal case for the same seed), with a deadline and a callback per step, and silent:
/// `fails` runs the test on a candidate; the tree is left at the smallest failing case found.
pub(super) fn shrink_tree<T: ValueTree>(
    tree: &mut T,
    fails: impl Fn(T::Value) -> bool,
    max_steps: u32,
    deadline: Instant,
    mut step: impl FnMut(u32),
) -> Ended {
    let mut steps = 0;
    if !tree.simplify() {
        return Ended::Done;
    }
    loop {
        let out_of_time = Instant::now() >= deadline;
        if steps >= max_steps || out_of_time {
            // Back to the most recent failing case, as proptest does.
            while tree.complicate() {}
            return if out_of_time {
                Ended::OutOfTime
            } else {
                Ended::Done
            };
        }
        steps += 1;
        step(steps);
        let more = if fails(tree.current()) {
            tree.simplify()
        } else {
            tree.complicate()
        };
        if !more {
            return Ended::Done;
        }
    }
}

/// What kind of failure an error is, for simplification to keep: the identity that failed, or
/// the error variant.
pub(super) fn kind(e: &Error) -> String {
    match e {
        Error::Violated(c) => c.check.clone(),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

/// How complex a rational is, for simplification: the bits of its numerator and denominator,
/// then its sign (so `1` is simpler than `−1`).
fn size(v: &Q) -> (u64, bool) {
    (v.numer().bits() + v.denom().bits(), v < &Q::zero())
}

/// Simpler values to try in place of `v`, each strictly smaller by [`size`]: 0, 1, −1, the
/// integer part and `|v|`.
fn candidates(v: &Q) -> Vec<Q> {
    let mut out: Vec<Q> = Vec::new();
    for c in [Q::zero(), Q::one(), -Q::one(), v.trunc(), v.abs()] {
        if size(&c) < size(v) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Proptest shrinks each component of a case in turn and stops at the first component it cannot
/// shrink further, so a case may keep large entries the failure does not need. This pass
/// finishes the job greedily and exactly: for every tensor of the case, try it all-zero, then
/// each entry replaced by a simpler value ([`candidates`]); keep every change under which the
/// case still fails the same way (same identity; a point on a kink never counts); repeat until
/// nothing changes. It terminates because every accepted change strictly decreases one entry's
/// [`size`] and leaves the others alone. With `fixed_point` the point `x` is left alone
/// ([`super::check_at`]). Past `deadline` no further change is tried (the result then still
/// fails, only it may not be the simplest), and the second value says so.
pub(super) fn simplify<T: Clone>(
    mut value: T,
    case_of: impl Fn(&mut T) -> &mut Case,
    fails: impl Fn(&T) -> bool,
    fixed_point: bool,
    deadline: Instant,
) -> (T, Ended) {
    let fails = |t: &T| Instant::now() < deadline && fails(t);
    type Field = fn(&mut Case) -> &mut Tensor<Q>;
    let fields: [Field; 7] = [
        |c| &mut c.x,
        |c| &mut c.dx,
        |c| &mut c.dx2,
        |c| &mut c.dtheta,
        |c| &mut c.dtheta2,
        |c| &mut c.dy,
        |c| &mut c.dy2,
    ];
    let mut changed = true;
    while changed {
        changed = false;
        for field in fields.into_iter().skip(fixed_point as usize) {
            let current = field(case_of(&mut value)).clone();
            if current.data().iter().any(|v| !v.is_zero()) {
                let mut trial = value.clone();
                *field(case_of(&mut trial)) = current.zeros_like();
                if fails(&trial) {
                    value = trial;
                    changed = true;
                    continue;
                }
            }
            for k in 0..current.len() {
                let entry = field(case_of(&mut value)).data()[k].clone();
                for c in candidates(&entry) {
                    let mut trial = value.clone();
                    let t = field(case_of(&mut trial));
                    let mut data = t.data().to_vec();
                    data[k] = c;
                    *t = Tensor::new(t.shape().to_vec(), data).expect("same length");
                    if fails(&trial) {
                        value = trial;
                        changed = true;
                        break;
                    }
                }
            }
        }
        type Scalar = fn(&mut Case) -> &mut Q;
        let scalars: [Scalar; 2] = [|c| &mut c.a, |c| &mut c.b];
        for scalar in scalars {
            let entry = scalar(case_of(&mut value)).clone();
            for c in candidates(&entry) {
                let mut trial = value.clone();
                *scalar(case_of(&mut trial)) = c;
                if fails(&trial) {
                    value = trial;
                    changed = true;
                    break;
                }
            }
        }
    }
    let ended = if Instant::now() >= deadline {
        Ended::OutOfTime
    } else {
        Ended::Done
    };
    (value, ended)
}

#[cfg(test)]
mod tests {
    use super::{simplify, Case, Ended, Remembered, Q};
    use crate::scalar::parse_q;
    use crate::tensor::Tensor;
    use num_traits::Signed;
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    use std::time::{Duration, Instant};

    #[test]
    fn a_remembered_strategy_shows_the_strategy_it_wraps_and_hands_back_the_tree_it_drew() {
        // Proptest requires every strategy to be `Debug`; the wrapper should show what it draws
        // from rather than hide it.
        let strategy = Remembered::new(10..1000u32);
        assert_eq!(format!("{strategy:?}"), "Remembered(10..1000)");
        assert!(strategy.last().is_none());
        let mut drawn = strategy.new_tree(&mut TestRunner::deterministic()).unwrap();
        let remembered = strategy.last().expect("a tree was drawn");
        // The runner shrinks its own handle; the remembered one must see the same tree, not a
        // copy taken when it was drawn.
        let first = drawn.current();
        assert_ne!(
            first, 10,
            "the seed drew the simplest value: nothing to shrink"
        );
        while drawn.simplify() {}
        assert_eq!(drawn.current(), 10);
        assert_eq!(remembered.current(), drawn.current());
    }

    fn tensor(literals: &[&str]) -> Tensor<Q> {
        Tensor::parse(vec![literals.len()], literals).expect("valid literals")
    }

    fn case(x: &[&str], dx: &[&str], dy: [&str; 2], dy2: [&str; 2], a: &str, b: &str) -> Case {
        Case {
            x: tensor(x),
            dx: tensor(dx),
            dx2: tensor(&["0", "0", "0"]),
            dtheta: tensor(&[]),
            dtheta2: tensor(&[]),
            dy: tensor(&dy),
            dy2: tensor(&dy2),
            a: parse_q(a).unwrap(),
            b: parse_q(b).unwrap(),
        }
    }

    #[test]
    fn simplification_keeps_only_what_the_failure_needs_and_ends_done_before_its_deadline() {
        // The failure needs the second entry of x negative and nothing else, so the simplest
        // failing case has −1 there and 0 everywhere else. `dx₂` starts all zero: zeroing it
        // again is no change, or the pass would repeat until the deadline and say it ran out.
        let x = ["3/7", "-5", "2"];
        let drawn = case(
            &x,
            &["1/3", "0", "-8"],
            ["7", "-1/2"],
            ["11/13", "0"],
            "-4/9",
            "6",
        );
        let fails = |c: &Case| c.x.data()[1].is_negative();
        let deadline = Instant::now() + Duration::from_secs(5);
        let (zero, zeros) = (["0", "0", "0"], ["0", "0"]);
        let (simplest, ended) = simplify(drawn.clone(), |c: &mut Case| c, fails, false, deadline);
        assert_eq!(ended, Ended::Done);
        assert_eq!(
            simplest,
            case(&["0", "-1", "0"], &zero, zeros, zeros, "0", "0")
        );
        // At a fixed point (`check_at`) the point is the caller's and stays as it was.
        let (at_x, ended) = simplify(drawn, |c: &mut Case| c, fails, true, deadline);
        assert_eq!(ended, Ended::Done);
        assert_eq!(at_x, case(&x, &zero, zeros, zeros, "0", "0"));
    }
}
