//! A progress line on stderr for long runs: how many cases passed, how long a case takes, and
//! a hint when cases are slow; then how shrinking goes.
//!
//! Lines, not a redrawn bar: tests run in parallel threads that share one terminal, and full
//! lines from several runs stay readable where redrawn ones would overwrite each other. They are
//! written to the process's stderr directly (libtest captures only the `print!` macros), and
//! only when stderr is a terminal unless [`super::CheckConfig::progress`] says otherwise.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// No line before a run has taken this long.
const QUIET_FOR: Duration = Duration::from_secs(2);

/// At most one line per this interval.
const EVERY: Duration = Duration::from_secs(5);

/// Cases slower than this get the hint.
const SLOW_CASE: Duration = Duration::from_secs(1);

/// The progress of one run.
pub(super) struct Progress<'w> {
    what: String,
    total: u32,
    start: Instant,
    next: Cell<Instant>,
    every: Duration,
    out: Option<std::cell::RefCell<Box<dyn Write + 'w>>>,
}

impl Progress<'static> {
    /// The progress of a run of `total` cases of `what` (the op and its input shape), shown when
    /// `show` says so, or by default when stderr is a terminal.
    pub(super) fn new(what: String, total: u32, show: Option<bool>) -> Self {
        let show = show.unwrap_or_else(|| std::io::stderr().is_terminal());
        let out: Option<Box<dyn Write>> = show.then(|| Box::new(std::io::stderr()) as _);
        Progress::to(what, total, out, QUIET_FOR, EVERY)
    }
}

impl<'w> Progress<'w> {
    /// Progress written to `out` (nothing when `None`), the first line after `quiet_for`, then
    /// at most one per `every`.
    pub(super) fn to(
        what: String,
        total: u32,
        out: Option<Box<dyn Write + 'w>>,
        quiet_for: Duration,
        every: Duration,
    ) -> Self {
        let start = Instant::now();
        Progress {
            what,
            total,
            start,
            next: Cell::new(start + quiet_for),
            every,
            out: out.map(std::cell::RefCell::new),
        }
    }

    /// After a case: `passed` of the total have passed.
    pub(super) fn case(&self, passed: u32) {
        self.line(|elapsed| {
            let per_case = elapsed / passed.max(1);
            let left = per_case * self.total.saturating_sub(passed);
            let mut line = format!(
                "{}/{} cases in {:.1} s ({:.2} s per case, about {:.0} s left)",
                passed,
                self.total,
                elapsed.as_secs_f64(),
                per_case.as_secs_f64(),
                left.as_secs_f64()
            );
            if per_case >= SLOW_CASE {
                line.push_str(
                    "; cases are slow: fewer cases (CheckConfig::cases or PROPTEST_CASES), a \
                     smaller shape, or small entries only \
                     (CheckConfig::elements(exactgrad::strategy::small_q()))",
                );
            }
            line
        });
    }

    /// During shrinking: `steps` tried so far, against a time budget of `budget`.
    pub(super) fn shrinking(&self, steps: u32, budget: Duration) {
        self.line(|elapsed| {
            format!(
                "a case failed; shrinking it: {steps} steps, {:.1} s (stops at {:.0} s)",
                elapsed.as_secs_f64(),
                budget.as_secs_f64()
            )
        });
    }

    /// A line from `text(elapsed)` if one is due.
    fn line(&self, text: impl FnOnce(Duration) -> String) {
        let Some(out) = &self.out else { return };
        let now = Instant::now();
        if now < self.next.get() {
            return;
        }
        self.next.set(now + self.every);
        let line = text(now - self.start);
        // Progress is a courtesy: a closed stderr must not fail the check.
        let _ = writeln!(out.borrow_mut(), "exactgrad: {}: {line}", self.what);
    }

    /// How long the run has taken.
    pub(super) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Whether lines would be written at all.
    #[cfg(test)]
    fn shown(&self) -> bool {
        self.out.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(f: impl FnOnce(&Progress)) -> String {
        let mut buffer = Vec::new();
        {
            let out: Box<dyn Write + '_> = Box::new(&mut buffer);
            let p = Progress::to(
                "Op [3]".into(),
                10,
                Some(out),
                Duration::ZERO,
                Duration::ZERO,
            );
            assert!(p.shown());
            f(&p);
        }
        String::from_utf8(buffer).unwrap()
    }

    #[test]
    fn a_line_names_the_run_and_counts_its_cases() {
        let text = lines(|p| p.case(3));
        assert!(
            text.starts_with("exactgrad: Op [3]: 3/10 cases in "),
            "{text}"
        );
        assert!(!text.contains("slow"), "{text}");
    }

    #[test]
    fn slow_cases_get_the_hint() {
        let text = lines(|p| {
            std::thread::sleep(Duration::from_millis(1100));
            p.case(1)
        });
        assert!(text.contains("cases are slow"), "{text}");
        assert!(text.contains("small_q"), "{text}");
    }

    /// The number `N` of "about N s left" in `text`.
    fn seconds_left(text: &str) -> f64 {
        let (_, after) = text.split_once("about ").expect("a time left");
        let (n, _) = after.split_once(" s left").expect("a time left");
        n.parse().unwrap()
    }

    #[test]
    fn the_time_per_case_is_the_time_so_far_over_the_cases_and_the_rest_takes_as_long_each() {
        // 4 cases in at least 1.1 s: at least 0.275 s per case (not slow unless the machine
        // stalls for 3 s), and the 6 left take at least 1.65 s, printed as "about 2 s left".
        let text = lines(|p| {
            std::thread::sleep(Duration::from_millis(1100));
            p.case(4)
        });
        assert!(
            text.starts_with("exactgrad: Op [3]: 4/10 cases in "),
            "{text}"
        );
        assert!(!text.contains("slow"), "{text}");
        assert!(seconds_left(&text) >= 2.0, "{text}");
    }

    #[test]
    fn at_most_one_line_per_interval() {
        let mut buffer = Vec::new();
        {
            let out: Box<dyn Write + '_> = Box::new(&mut buffer);
            let p = Progress::to(
                "Op".into(),
                10,
                Some(out),
                Duration::ZERO,
                Duration::from_secs(60),
            );
            p.case(1);
            p.case(2);
            p.shrinking(3, Duration::from_secs(30));
        }
        let text = String::from_utf8(buffer).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("exactgrad: Op: 1/10 cases in "), "{text}");
    }

    #[test]
    fn shrinking_says_its_budget() {
        let text = lines(|p| p.shrinking(12, Duration::from_secs(30)));
        assert!(text.contains("shrinking it: 12 steps"), "{text}");
        assert!(text.contains("stops at 30 s"), "{text}");
    }

    #[test]
    fn nothing_before_the_quiet_period_or_without_a_sink() {
        let mut buffer = Vec::new();
        {
            let out: Box<dyn Write + '_> = Box::new(&mut buffer);
            let p = Progress::to("Op".into(), 10, Some(out), Duration::from_secs(60), EVERY);
            p.case(1);
        }
        assert!(buffer.is_empty());
        let p = Progress::to("Op".into(), 10, None, Duration::ZERO, Duration::ZERO);
        p.case(1);
        assert!(!p.shown());
    }
}
