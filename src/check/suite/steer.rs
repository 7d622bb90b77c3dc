//! Concolic steering: cases placed on both sides of every threshold the op compared against,
//! right next to it and far beyond it, and at the extremes of size.
//!
//! A run's random cases rarely land in a narrow band (an "epsilon branch" beside a kink, a
//! series for tiny `|x|`) or past a large bound, so a rule wrong only there passes them. Here
//! the values an op compares are traced at two points `c` and `c + d` of a line through the
//! case space (every tensor of a case moves: the point, the tangents and the cotangents, so a
//! comparison of a tangent is steered too). A comparison's value `g` along the line is
//! `g(t) = g₀ + t·(g₁ − g₀)` when it is affine in the case (every piecewise-linear op, and any
//! threshold test on an entry), so its threshold is at `t* = g₀ / (g₀ − g₁)` exactly; for other
//! values the secant step is repeated from the points it reaches. The cases then checked are at
//! `t*` and where `g = ±ε·s` and `g = ±s/ε` (`s` the scale of `g₀, g₁`, `ε = 2⁻⁶⁴`): both sides,
//! next to the threshold and far past it. Every steered case runs the whole suite, exactly as a
//! drawn one.

use super::branches::Coverage;
use super::case::Case;
use super::checks::{check_case, Subject};
use crate::error::Error;
use crate::ops::Exact;
use crate::scalar::comparisons::{record, Recording, Site};
use crate::scalar::Q;
use crate::tensor::Tensor;
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// How far from a threshold the near cases go, as a fraction of the compared values' scale.
const NEAR_BITS: u32 = 64;
/// Secant steps towards a threshold whose value is not affine along the line.
const SECANT_STEPS: usize = 3;
/// Occurrences of one site (coordinates of an elementwise op) steered per traced line.
const OCCURRENCES_PER_SITE: usize = 3;

/// A failure found by steering: the case, the error, and how the case was found.
pub(super) struct Found {
    pub case: Case,
    pub error: Error,
    pub how: String,
}

/// The steering of one run.
pub(super) struct Steering<'s, 'a, B: Exact> {
    subject: &'s Subject<'a, B>,
    /// Where the cases' outcomes are added.
    pub coverage: &'s mut Coverage,
    budget: u32,
    /// Steered cases checked (passing ones; rejected points are not counted).
    pub checked: u32,
    spent: u32,
}

/// The result of checking one steered case.
enum Verdict {
    Checked,
    Rejected,
    Failed(Error),
}

impl<'s, 'a, B: Exact> Steering<'s, 'a, B> {
    /// Steering for `subject` that checks at most `budget` cases.
    pub fn new(subject: &'s Subject<'a, B>, coverage: &'s mut Coverage, budget: u32) -> Self {
        Steering {
            subject,
            coverage,
            budget,
            checked: 0,
            spent: 0,
        }
    }

    fn exhausted(&self) -> bool {
        self.spent >= self.budget
    }

    /// Checks `case` with its comparisons traced, adding them to the coverage.
    fn check(&mut self, case: &Case) -> (Verdict, Recording) {
        self.spent += 1;
        let (result, recording) = record(true, || check_case(self.subject, case));
        let verdict = match result {
            Ok(()) => Verdict::Checked,
            Err(
                Error::Kink { .. }
                | Error::OutsideDomain { .. }
                | Error::OutsideField { .. }
                | Error::Undecided { .. },
            ) => Verdict::Rejected,
            Err(e) => Verdict::Failed(e),
        };
        self.coverage
            .add(&recording, matches!(verdict, Verdict::Checked));
        if matches!(verdict, Verdict::Checked) {
            self.checked += 1;
        }
        (verdict, recording)
    }

    /// Checks `case`; a failure is returned with `how` it was found, otherwise the comparisons
    /// and whether the point was checked (not rejected as outside the domain or on a kink).
    fn try_case(
        &mut self,
        case: Case,
        how: impl FnOnce() -> String,
    ) -> Result<(Recording, bool), Box<Found>> {
        match self.check(&case) {
            (Verdict::Failed(error), _) => Err(Box::new(Found {
                case,
                error,
                how: how(),
            })),
            (verdict, recording) => Ok((recording, matches!(verdict, Verdict::Checked))),
        }
    }

    /// Steers from the checked cases `bases`: each consecutive pair gives a line (the first a
    /// point, the second a direction). Sites with an outcome not reached yet go first.
    pub fn thresholds(&mut self, bases: &[Case]) -> Result<(), Box<Found>> {
        for pair in bases.windows(2) {
            if self.exhausted() {
                break;
            }
            let (base, direction) = (&pair[0], &pair[1]);
            let (start, _) = self.try_case(base.clone(), || "a traced case".into())?;
            let (end, _) =
                self.try_case(along(base, direction, &Q::one()), || "a traced case".into())?;
            let mut lines = lines(&start, &end);
            let first = self.coverage.one_sided();
            lines.sort_by_key(|l| (!first.contains(&l.site), l.occurrence_rank));
            for line in lines {
                if self.exhausted() {
                    break;
                }
                self.steer(base, direction, line)?;
            }
        }
        Ok(())
    }

    /// The cases of one threshold: its secant root, then both sides near and far.
    fn steer(&mut self, base: &Case, direction: &Case, line: Line) -> Result<(), Box<Found>> {
        let Line {
            site,
            occurrence,
            mut points,
            ..
        } = line;
        let how = |t: &Q, what: &str| {
            format!(
                "steered {what} the threshold of the comparison at {site} (occurrence \
                 {occurrence}, t = {})",
                crate::error::shorten(&t.to_string())
            )
        };
        let mut root = None;
        for _ in 0..SECANT_STEPS {
            let Some(t) = secant(&points) else { break };
            if self.exhausted() {
                break;
            }
            let (recording, _) = self.try_case(along(base, direction, &t), || how(&t, "onto"))?;
            let g = value_at(&recording, site, occurrence);
            root = Some(t.clone());
            match g {
                Some(g) if !g.is_zero() => points.push((t, g)),
                _ => break,
            }
        }
        let Some(root) = root else { return Ok(()) };
        for (t, what, side) in sides(&root, &points) {
            if self.exhausted() {
                break;
            }
            let (_, checked) = self.try_case(along(base, direction, &t), || how(&t, what))?;
            if !checked {
                // The point is outside the domain (or on a kink) before the comparison is made
                // (a rule's domain test runs only where `forward` succeeded): that side of the
                // threshold was reached, where no derivative is owed.
                self.coverage.reached_outside(site, side);
            }
        }
        Ok(())
    }

    /// Cases at the extremes of size, made from `base`: every entry scaled by `2⁻¹⁰⁰` (tiny),
    /// by `2¹⁰⁰` (huge, unless `huge` is off: `e^x` of such an `x` has no sign a few hundred
    /// bits decide), and multiplied by a fraction of 256-bit numerator and denominator close to
    /// 1 (long numerators and denominators).
    pub fn extremes(&mut self, base: &Case, huge: bool) -> Result<(), Box<Found>> {
        let two_100 = Q::from_integer(BigInt::one() << 100u32);
        let long = Q::new(
            (BigInt::one() << 255u32) + BigInt::from(1),
            (BigInt::one() << 255u32) + BigInt::from(3),
        );
        let mut factors = vec![(two_100.recip(), "tiny (every entry × 2⁻¹⁰⁰)")];
        if huge {
            factors.push((two_100, "huge (every entry × 2¹⁰⁰)"));
        }
        factors.push((long, "long (every entry × (2²⁵⁵+1)/(2²⁵⁵+3))"));
        for (factor, what) in factors {
            let case = map_case(base, |v| v * &factor);
            self.try_case(case, || format!("the extreme case {what}"))?;
        }
        Ok(())
    }
}

/// A site's occurrence along a traced line: the values at `t = 0` and `t = 1`.
struct Line {
    site: Site,
    occurrence: usize,
    /// Which of the site's chosen occurrences this is (0 first), to interleave sites.
    occurrence_rank: usize,
    points: Vec<(Q, Q)>,
}

/// The steerable occurrences of two traces of the same computation: for each site, up to
/// [`OCCURRENCES_PER_SITE`] occurrences (spread over the site's occurrences) whose value is
/// rational at both ends and differs between them.
fn lines(start: &Recording, end: &Recording) -> Vec<Line> {
    let by_site = |r: &Recording| {
        let mut m: BTreeMap<Site, Vec<Option<Q>>> = BTreeMap::new();
        for (site, v) in r.trace.iter().flatten() {
            m.entry(*site).or_default().push(v.clone());
        }
        m
    };
    let (a, b) = (by_site(start), by_site(end));
    let mut out = Vec::new();
    for (site, values) in &a {
        let Some(other) = b.get(site) else { continue };
        let candidates: Vec<usize> = (0..values.len().min(other.len()))
            .filter(|&k| matches!((&values[k], &other[k]), (Some(x), Some(y)) if x != y))
            .collect();
        let n = candidates.len();
        let chosen: Vec<usize> = if n <= OCCURRENCES_PER_SITE {
            candidates
        } else {
            (0..OCCURRENCES_PER_SITE)
                .map(|i| candidates[i * (n - 1) / (OCCURRENCES_PER_SITE - 1)])
                .collect()
        };
        for (rank, k) in chosen.into_iter().enumerate() {
            if let (Some(g0), Some(g1)) = (&values[k], &other[k]) {
                out.push(Line {
                    site: *site,
                    occurrence: k,
                    occurrence_rank: rank,
                    points: vec![(Q::zero(), g0.clone()), (Q::one(), g1.clone())],
                });
            }
        }
    }
    out
}

/// The next secant step towards `g = 0` from the last two of `points` (`(t, g)` pairs), unless
/// their values agree: exact when `g` is affine in `t`.
fn secant(points: &[(Q, Q)]) -> Option<Q> {
    let [(t0, g0), (t1, g1)] = [&points[points.len() - 2], &points[points.len() - 1]];
    (g0 != g1).then(|| simplest_near(&(t0 - g0 * (t1 - t0) / (g1 - g0))))
}

/// The four cases beside the threshold found at `root`: where the secant through the last two
/// of `points` reaches `g = ∓ε·s` (just below, just above) and `g = ∓s/ε` (far below, far
/// above), `s = 1 + |g₀| + |g₁|` the scale of those two values and `ε = 2⁻⁶⁴`. Each with its
/// name and the side of the threshold it is on; none when the secant is flat.
fn sides(root: &Q, points: &[(Q, Q)]) -> Vec<(Q, &'static str, Ordering)> {
    let (t0, g0) = &points[points.len() - 2];
    let (t1, g1) = &points[points.len() - 1];
    if g0 == g1 || t0 == t1 {
        return Vec::new();
    }
    let slope = (g1 - g0) / (t1 - t0);
    let scale = Q::one() + g0.abs() + g1.abs();
    let epsilon = Q::new(BigInt::one(), BigInt::one() << NEAR_BITS);
    [
        (-(&scale * &epsilon), "just below", Ordering::Less),
        (&scale * &epsilon, "just above", Ordering::Greater),
        (-(&scale / &epsilon), "far below", Ordering::Less),
        (&scale / &epsilon, "far above", Ordering::Greater),
    ]
    .into_iter()
    .map(|(offset, what, side)| (root + offset / &slope, what, side))
    .collect()
}

/// The value compared at the `occurrence`-th comparison of `site` in a traced recording.
fn value_at(recording: &Recording, site: Site, occurrence: usize) -> Option<Q> {
    recording
        .trace
        .iter()
        .flatten()
        .filter(|(s, _)| *s == site)
        .nth(occurrence)
        .and_then(|(_, v)| v.clone())
}

/// `t` itself when short; otherwise a dyadic within `2⁻²⁰⁰·|t|` of it, so that secant steps on a
/// non-affine value do not grow the case's entries without bound.
fn simplest_near(t: &Q) -> Q {
    if t.numer().bits() + t.denom().bits() <= 512 {
        return t.clone();
    }
    let shift = 200 + t.denom().bits().saturating_sub(t.numer().bits());
    let scale = BigInt::one() << shift;
    Q::new(
        (t * Q::from_integer(scale.clone())).round().to_integer(),
        scale,
    )
}

/// `c + t·d` on every tensor of a case; the scalars `a`, `b` stay.
fn along(c: &Case, d: &Case, t: &Q) -> Case {
    let line = |a: &Tensor<Q>, b: &Tensor<Q>| {
        Tensor::new(
            a.shape().to_vec(),
            a.data()
                .iter()
                .zip(b.data())
                .map(|(u, v)| u + v * t)
                .collect(),
        )
        .expect("two tensors of one shape")
    };
    Case {
        x: line(&c.x, &d.x),
        dx: line(&c.dx, &d.dx),
        dx2: line(&c.dx2, &d.dx2),
        dtheta: line(&c.dtheta, &d.dtheta),
        dtheta2: line(&c.dtheta2, &d.dtheta2),
        dy: line(&c.dy, &d.dy),
        dy2: line(&c.dy2, &d.dy2),
        a: c.a.clone(),
        b: c.b.clone(),
    }
}

/// `f` applied to every entry of every tensor of a case.
fn map_case(c: &Case, f: impl Fn(&Q) -> Q) -> Case {
    let map = |t: &Tensor<Q>| t.map(&f);
    Case {
        x: map(&c.x),
        dx: map(&c.dx),
        dx2: map(&c.dx2),
        dtheta: map(&c.dtheta),
        dtheta2: map(&c.dtheta2),
        dy: map(&c.dy),
        dy2: map(&c.dy2),
        a: c.a.clone(),
        b: c.b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::{along, lines, secant, sides, simplest_near, Case};
    use crate::check::{check_op, CheckConfig};
    use crate::ops::test_support::{q, t};
    use crate::ops::Clamp;
    use crate::scalar::comparisons::{Recording, Site};
    use crate::scalar::Q;
    use num_bigint::BigInt;
    use std::cmp::Ordering::{Greater, Less};

    fn pow2(k: u32) -> Q {
        Q::from_integer(BigInt::from(1) << k)
    }

    /// On `g(t) = t² − 1/4` (not affine), the secant through `t = 0, 1` lands on `1/4`, the next
    /// through `1, 1/4` on `2/5`; the four sides of `2/5` follow the last secant, of slope `5/4`,
    /// at `∓ε·s` and `∓s/ε` in `g` with `s = 1 + 3/4 + 3/16 = 31/16`: `∓(31/20)·2∓⁶⁴` in `t`.
    #[test]
    fn secant_steps_and_the_four_sides_are_exact() {
        let mut points = vec![(q("0"), q("-1/4")), (q("1"), q("3/4"))];
        assert_eq!(secant(&points), Some(q("1/4")));
        points.push((q("1/4"), q("-3/16")));
        assert_eq!(secant(&points), Some(q("2/5")));
        let (root, d) = (q("2/5"), q("31/20"));
        let expected = vec![
            (&root - &d / pow2(64), "just below", Less),
            (&root + &d / pow2(64), "just above", Greater),
            (&root - &d * pow2(64), "far below", Less),
            (&root + &d * pow2(64), "far above", Greater),
        ];
        assert_eq!(sides(&root, &points), expected);
        let flat = [(q("0"), q("1")), (q("1"), q("1"))];
        assert_eq!(secant(&flat), None);
        assert!(sides(&q("0"), &flat).is_empty());
        let vertical = [(q("1"), q("1")), (q("1"), q("2"))];
        assert!(sides(&q("1"), &vertical).is_empty());
    }

    /// A `t` of at most 512 bits (numerator and denominator together) is kept; a longer one
    /// becomes the nearest dyadic with `200 + (denominator bits − numerator bits)` bits after
    /// the point.
    #[test]
    fn only_a_long_t_is_rounded_to_a_dyadic() {
        let short = Q::new(
            (BigInt::from(1) << 29u32) + 1,
            (BigInt::from(1) << 29u32) + 3,
        );
        assert_eq!(simplest_near(&short), short);
        // 1/3 + 2⁻⁶⁰⁰: 601 + 602 bits, so 201 bits after the point; 2²⁰¹/3 rounds up.
        let long = q("1/3") + pow2(600).recip();
        let rounded = Q::new((BigInt::from(1) << 201u32) + 1, BigInt::from(3)) / pow2(201);
        assert_eq!(simplest_near(&long), rounded);
    }

    /// Of a site's occurrences whose value differs between the two traces, all are steered when
    /// there are at most three; otherwise the first, the middle and the last. Occurrences equal
    /// at both ends, without a value, or missing from one trace are not lines.
    #[test]
    fn lines_spread_three_occurrences_over_a_site() {
        let site = |line| Site {
            file: "op.rs",
            line,
            column: 1,
        };
        let trace = |entries: Vec<(u32, Option<&str>)>| Recording {
            trace: Some(
                entries
                    .into_iter()
                    .map(|(l, v)| (site(l), v.map(q)))
                    .collect(),
            ),
            ..Default::default()
        };
        let (same, none) = (Some("5"), None);
        // Site 1: ten occurrences, seven differ (0, 1, 2, 4, 5, 7, 9): steered 0, 4 and 9.
        // Site 2: two differ (1 and 3), a fifth is only in the second trace. Site 3: only in the
        // first.
        let start = trace(vec![
            (1, Some("0")),
            (1, Some("0")),
            (2, same),
            (1, Some("0")),
            (1, same),
            (1, Some("0")),
            (2, Some("1")),
            (1, Some("0")),
            (1, none),
            (1, Some("0")),
            (2, none),
            (1, same),
            (1, Some("0")),
            (3, Some("1")),
            (2, Some("1")),
        ]);
        let end = trace(vec![
            (1, Some("10")),
            (1, Some("11")),
            (1, Some("12")),
            (1, same),
            (1, Some("14")),
            (1, Some("15")),
            (1, Some("0")),
            (1, Some("17")),
            (1, same),
            (1, Some("19")),
            (2, same),
            (2, Some("2")),
            (2, Some("3")),
            (2, Some("4")),
            (2, Some("9")),
        ]);
        let got: Vec<_> = lines(&start, &end)
            .into_iter()
            .map(|l| (l.site.line, l.occurrence, l.occurrence_rank, l.points))
            .collect();
        let line = |s, k, rank, g0, g1| (s, k, rank, vec![(q("0"), q(g0)), (q("1"), q(g1))]);
        assert_eq!(
            got,
            vec![
                line(1, 0, 0, "0", "10"),
                line(1, 4, 1, "0", "14"),
                line(1, 9, 2, "0", "19"),
                line(2, 1, 0, "1", "2"),
                line(2, 3, 1, "1", "4"),
            ]
        );
    }

    /// Every tensor of a case moves to `c + t·d`; the scalars `a` and `b` stay `c`'s.
    #[test]
    fn along_moves_every_tensor_of_a_case() {
        let case = |k: i64| {
            let v = |i: i64| t(&[2], &[&(k + i).to_string(), &(k * i).to_string()]);
            Case {
                x: v(1),
                dx: v(2),
                dx2: v(3),
                dtheta: v(4),
                dtheta2: v(5),
                dy: v(6),
                dy2: v(7),
                a: Q::from_integer(k.into()),
                b: Q::from_integer((k + 1).into()),
            }
        };
        let (c, d) = (case(2), case(3));
        let moved = along(&c, &d, &q("1/2"));
        let expected = |i: i64| {
            let (c0, c1, d0, d1) = (2 + i, 2 * i, 3 + i, 3 * i);
            t(
                &[2],
                &[&format!("{}/2", 2 * c0 + d0), &format!("{}/2", 2 * c1 + d1)],
            )
        };
        let tensors = [
            &moved.x,
            &moved.dx,
            &moved.dx2,
            &moved.dtheta,
            &moved.dtheta2,
            &moved.dy,
            &moved.dy2,
        ];
        for (i, tensor) in (1..).zip(tensors) {
            assert_eq!(*tensor, expected(i), "tensor {i}");
        }
        assert_eq!((moved.a, moved.b), (q("2"), q("3")));
    }

    /// The cases steered to thresholds stop at their budget, and the three at the extremes of
    /// size (tiny, huge, long) follow: a clamp of 8 entries has two thresholds per entry to steer
    /// to, more than a budget of 2 allows. A budget of 0 turns steering off.
    #[test]
    fn steering_checks_no_more_threshold_cases_than_its_budget() {
        let clamp = Clamp::new(q("-1"), q("1")).unwrap();
        let config = |steered| CheckConfig::default().cases(8).steered_cases(steered);
        let report = check_op(&clamp, &[8], &config(2)).unwrap();
        assert_eq!(report.steered, 2 + 3, "{report}");
        let report = check_op(&clamp, &[8], &config(64)).unwrap();
        assert!(report.steered > 2 + 3, "{report}");
        let report = check_op(&clamp, &[8], &config(0)).unwrap();
        assert_eq!(report.steered, 0, "{report}");
    }
}
