//! The comparisons a computation makes through [`Ordered`](super::Ordered), recorded where they
//! are made: the source line of the call (`sign`, `select`, `abs_val` and `max_val` carry
//! `#[track_caller]`), the outcome, and on request the compared value.
//!
//! Generic code can only branch on its input through `Ordered` (the scalar traits have no other
//! order), so this record is every branch a rule takes on its values. The checker turns it into
//! branch coverage, and steers new cases to both sides of each threshold it saw
//! ([`crate::check::check_op`], "What a pass means"). Equality tests (`==`, `is_zero`) are not
//! comparisons here and are not seen.
//!
//! Recording is off unless a [`record`] scope is open on this thread *and* the code runs inside
//! [`observing`] (the checker opens it around the op's own methods, so the comparisons of the
//! checker's guards and radii are not counted as the op's).

use super::Q;
use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;

/// Where a comparison is made: the source location of the call.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Site {
    /// The source file, as the compiler names it.
    pub file: &'static str,
    /// The line.
    pub line: u32,
    /// The column.
    pub column: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What a recording saw at one site.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seen {
    /// How often the compared value was `< 0`, `= 0` and `> 0`.
    pub outcomes: [u32; 3],
    /// The first rational value compared there (`None` until one is seen, or when the scalar
    /// has no rational value to give).
    pub first: Option<Q>,
    /// Whether two different values were compared there: a site whose value never changes (a
    /// check of a constant parameter) has no threshold to steer to.
    pub varied: bool,
}

impl Seen {
    /// The index of `outcome` in [`Seen::outcomes`].
    pub fn slot(outcome: Ordering) -> usize {
        match outcome {
            Ordering::Less => 0,
            Ordering::Equal => 1,
            Ordering::Greater => 2,
        }
    }

    fn note(&mut self, outcome: Ordering, value: Option<&Q>) {
        self.outcomes[Self::slot(outcome)] += 1;
        match (&self.first, value) {
            (None, Some(v)) => self.first = Some(v.clone()),
            (Some(f), Some(v)) if !self.varied && f != v => self.varied = true,
            _ => {}
        }
        if self.outcomes.iter().filter(|&&n| n > 0).count() > 1 {
            self.varied = true;
        }
    }

    /// Adds what `other` saw.
    pub fn merge(&mut self, other: &Seen) {
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += b;
        }
        match (&self.first, &other.first) {
            (None, Some(v)) => self.first = Some(v.clone()),
            (Some(a), Some(b)) if a != b => self.varied = true,
            _ => {}
        }
        self.varied |= other.varied;
        if self.outcomes.iter().filter(|&&n| n > 0).count() > 1 {
            self.varied = true;
        }
    }
}

/// One recording: every site seen, and with tracing the sequence of compared values.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// What each site saw.
    pub sites: HashMap<Site, Seen>,
    /// With tracing on, each comparison in order: its site and its value (`None` when the
    /// scalar has no rational value to give).
    pub trace: Option<Vec<(Site, Option<Q>)>>,
}

impl Recording {
    /// Adds what `other` saw (not its trace).
    pub fn merge(&mut self, other: &Recording) {
        for (site, seen) in &other.sites {
            self.sites.entry(*site).or_default().merge(seen);
        }
    }
}

thread_local! {
    static ACTIVE: RefCell<Option<Recording>> = const { RefCell::new(None) };
    static OBSERVING: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` recording the comparisons made inside [`observing`] scopes, with the sequence of
/// values when `trace` is set. Scopes nest: an outer recording also gets what an inner one saw.
pub fn record<R>(trace: bool, f: impl FnOnce() -> R) -> (R, Recording) {
    let fresh = Recording {
        sites: HashMap::new(),
        trace: trace.then(Vec::new),
    };
    let outer = ACTIVE.with(|a| a.replace(Some(fresh)));
    let result = f();
    let inner = ACTIVE.with(|a| a.replace(outer)).unwrap_or_default();
    ACTIVE.with(|a| {
        if let Some(outer) = a.borrow_mut().as_mut() {
            outer.merge(&inner);
        }
    });
    (result, inner)
}

/// Runs `f` as the op's own code: its comparisons are recorded by an open [`record`] scope.
pub fn observing<R>(f: impl FnOnce() -> R) -> R {
    OBSERVING.with(|o| o.set(o.get() + 1));
    let result = f();
    OBSERVING.with(|o| o.set(o.get() - 1));
    result
}

/// Whether a comparison made now would be recorded (so an instance computes the value to record
/// only then).
pub(crate) fn is_observing() -> bool {
    OBSERVING.with(|o| o.get()) > 0 && ACTIVE.with(|a| a.borrow().is_some())
}

/// Records one comparison at `site` (called by the [`Ordered`](super::Ordered) instances with
/// `Location::caller()`).
pub(crate) fn note(site: &'static Location<'static>, outcome: Ordering, value: Option<&Q>) {
    if !is_observing() || internal(site.file()) {
        return;
    }
    ACTIVE.with(|a| {
        if let Some(recording) = a.borrow_mut().as_mut() {
            let site = if site.file().contains("/library/core/") {
                // A `#[track_caller]` method passed as a function value (`x.map(S::abs_val)`)
                // is called by a shim of the standard library, which is all it can name.
                Site {
                    file: "<a comparison passed as a function value: call it in a closure to see its line>",
                    line: 0,
                    column: 0,
                }
            } else {
                Site {
                    file: site.file(),
                    line: site.line(),
                    column: site.column(),
                }
            };
            recording
                .sites
                .entry(site)
                .or_default()
                .note(outcome, value);
            if let Some(trace) = recording.trace.as_mut() {
                trace.push((site, value.cloned()));
            }
        }
    });
}

/// Whether a site is inside this crate's scalar, tensor and checker code, whose comparisons
/// serve the arithmetic (the sign of an exponential polynomial, a kink radius) rather than an
/// op's choice of piece.
fn internal(file: &str) -> bool {
    const INTERNAL: [&str; 6] = [
        "src/scalar/",
        "src/tensor/",
        "src/check/",
        "src/strategy.rs",
        "src/prove/",
        "src/ops/hypothesis.rs",
    ];
    // This file's own path tells how the compiler names this crate's files (relative in its own
    // build, absolute as a dependency).
    let root = file!()
        .strip_suffix("src/scalar/comparisons.rs")
        .unwrap_or("");
    file.strip_prefix(root)
        .is_some_and(|rest| INTERNAL.iter().any(|p| rest.starts_with(p)))
}
