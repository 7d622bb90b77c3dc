//! Exact feasibility of a system of strict linear inequalities over ℚ, by the simplex method.
//!
//! A linear region of a ReLU network is the set of inputs on which every guard (a
//! pre-activation, affine in the input on that region) has a fixed sign; the region is non-empty
//! — and then open — exactly when the strict system "each guard has its sign" has a solution.
//! Floats cannot decide that when several boundaries meet in one point, so the simplex here runs
//! over exact rationals, with Bland's rule so that it terminates on such degenerate systems too.

use crate::error::{Error, Result};
use crate::scalar::Q;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

/// One strict inequality `a·x + c > 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strict {
    /// The coefficients `a`, one per variable.
    pub a: Vec<Q>,
    /// The constant term `c`.
    pub c: Q,
}

impl Strict {
    /// The value `a·x + c` at `x`; the caller has checked that `x` has one entry per
    /// coefficient (extra entries of either side are ignored, never a panic).
    pub fn at(&self, x: &[Q]) -> Q {
        self.a
            .iter()
            .zip(x)
            .filter(|(a, _)| !a.is_zero())
            .fold(self.c.clone(), |acc, (a, xi)| acc + a * xi)
    }
}

/// A point `x ∈ ℚⁿ` with every `aᵢ·x + cᵢ > 0`, or `None` when no such point exists.
///
/// With the point comes its margin `min_i (aᵢ·x + cᵢ) > 0` (1 when there are no rows). The
/// point maximises the margin, capped at 1, of the rows that involve `x`, so the margin is at
/// least `min(1, sup_x min_i (aᵢ·x + cᵢ))`: the point lies well inside the region rather than
/// near its boundary. A row whose length is not `n` is an [`Error::ShapeMismatch`].
pub fn strictly_feasible(n: usize, rows: &[Strict]) -> Result<Option<(Vec<Q>, Q)>> {
    for (i, row) in rows.iter().enumerate() {
        if row.a.len() != n {
            return Err(Error::shape_mismatch(
                &format!("strictly_feasible: row {i} must have one coefficient per variable"),
                [row.a.len()],
                [n],
            ));
        }
    }
    // A zero row is a constant: it decides alone, and in the tableau it would only cap the
    // margin at c, which does not change the margin's sign.
    let mut live = Vec::with_capacity(rows.len());
    for row in rows {
        if row.a.iter().all(Zero::is_zero) {
            if !row.c.is_positive() {
                return Ok(None);
            }
        } else {
            live.push(row);
        }
    }
    let x = if live.is_empty() {
        vec![Q::zero(); n]
    } else {
        match maximise_margin(n, &live) {
            Some(x) => x,
            None => return Ok(None),
        }
    };
    // Recomputed from the rows as given rather than read off the tableau, so that the margin
    // returned is a fact about the point and not about the simplex's bookkeeping.
    let margin = rows.iter().map(|r| r.at(&x)).min().unwrap_or_else(Q::one);
    Ok(Some((x, margin)))
}

/// The `x` part of a maximiser of `t` subject to `aᵢ·x + cᵢ ≥ t` and `t ≤ 1`, when the
/// maximum is `> 0`; `None` when it is `≤ 0`. Every row has length `n` and is not zero.
///
/// Variables, in this order (the order is Bland's): `x⁺` (n), `x⁻` (n), `s = t + K`, and one
/// slack per constraint. With `K = max(0, maxᵢ(−cᵢ)) + 1` each constraint
/// `−aᵢ·x⁺ + aᵢ·x⁻ + s ≤ cᵢ + K` and `s ≤ 1 + K` has a right-hand side `≥ 1`, so the all-slack
/// basis is feasible and no phase 1 is needed. `s ≥ 0` (that is, `t ≥ −K`) cuts nothing the
/// maximum needs, since the origin already reaches `t = −K`.
///
/// The tableau holds integers `T` standing for `T / d` (integer-preserving pivoting, Edmonds
/// and Bareiss): every entry stays a minor of the initial matrix, so entries grow no more than
/// the data forces, and no pivot pays for the gcds that keep a rational reduced — on 40
/// variables and 100 rows that is the difference between seconds and a fraction of one.
fn maximise_margin(n: usize, rows: &[&Strict]) -> Option<Vec<Q>> {
    let m = rows.len() + 1;
    let s = 2 * n;
    let rhs = s + 1 + m;
    let width = rhs + 1;
    let k = rows
        .iter()
        .map(|r| -&r.c)
        .fold(Q::zero(), |acc, v| if v > acc { v } else { acc })
        + Q::one();

    let mut tab: Vec<Vec<BigInt>> = Vec::with_capacity(m);
    for (i, r) in rows.iter().enumerate() {
        let b = &r.c + &k;
        // Each constraint is scaled by a positive integer to clear its denominators; its slack
        // is scaled with it, so the slack keeps a unit column and the slack basis is canonical.
        let l =
            r.a.iter()
                .chain([&b])
                .fold(BigInt::one(), |l, v| l.lcm(v.denom()));
        let int = |v: &Q| v.numer() * (&l / v.denom());
        let mut row = vec![BigInt::zero(); width];
        for (j, aj) in r.a.iter().enumerate() {
            if !aj.is_zero() {
                let v = int(aj);
                row[j] = -&v;
                row[n + j] = v;
            }
        }
        row[rhs] = int(&b);
        row[s] = l;
        row[s + 1 + i] = BigInt::one();
        tab.push(row);
    }
    let top = &k + Q::one();
    let mut cap = vec![BigInt::zero(); width];
    cap[s] = top.denom().clone();
    cap[s + m] = BigInt::one();
    cap[rhs] = top.numer().clone();
    tab.push(cap);
    let mut basis: Vec<usize> = (s + 1..s + 1 + m).collect();

    // The objective row of `z − s = 0`: a negative entry is a variable whose increase raises s;
    // its right-hand side is d times the current value of s.
    let mut obj = vec![BigInt::zero(); width];
    obj[s] = -BigInt::one();
    let mut d = BigInt::one();

    // Bland's rule: the lowest-numbered improving variable enters, and among tied ratios the
    // row whose basic variable is lowest-numbered leaves; this cannot cycle. The common
    // denominator d > 0 scales every row alike, so it drops out of both choices.
    while let Some(enter) = obj[..rhs].iter().position(Signed::is_negative) {
        let mut leave: Option<usize> = None;
        for (i, row) in tab.iter().enumerate() {
            if !row[enter].is_positive() {
                continue;
            }
            leave = Some(match leave {
                None => i,
                Some(l) => {
                    // rhsᵢ/aᵢ against rhsₗ/aₗ, cross-multiplied: both pivots are positive.
                    let here = &row[rhs] * &tab[l][enter];
                    let best = &tab[l][rhs] * &row[enter];
                    if here < best || (here == best && basis[i] < basis[l]) {
                        i
                    } else {
                        l
                    }
                }
            });
        }
        // A column with no positive entry would make s unbounded, but the last row caps s at
        // 1 + K, so every improving column has one.
        let Some(leave) = leave else { break };
        d = pivot(&mut tab, &mut obj, leave, enter, &d);
        basis[leave] = enter;
    }

    if Q::new(obj[rhs].clone(), d.clone()) <= k {
        return None;
    }
    let mut x = vec![Q::zero(); n];
    for (row, &b) in tab.iter().zip(&basis) {
        if b < s {
            let v = Q::new(row[rhs].clone(), d.clone());
            if b < n {
                x[b] += v;
            } else {
                x[b - n] -= v;
            }
        }
    }
    Some(x)
}

/// Makes `enter` basic in row `leave` of a tableau standing for `T / d`, and returns the new
/// common denominator (the pivot).
///
/// Every other row becomes `(p·Tᵢ − Tᵢ[enter]·T_leave) / d`, a division that is exact because
/// the result is a minor of the initial matrix; the pivot row is unchanged.
fn pivot(
    tab: &mut [Vec<BigInt>],
    obj: &mut [BigInt],
    leave: usize,
    enter: usize,
    d: &BigInt,
) -> BigInt {
    let prow = std::mem::take(&mut tab[leave]);
    let p = prow[enter].clone();
    let update = |row: &mut [BigInt]| {
        // Taking the entry leaves the 0 it must become, so its column is skipped below.
        let f = std::mem::take(&mut row[enter]);
        for (j, (v, pv)) in row.iter_mut().zip(&prow).enumerate() {
            if j == enter {
                continue;
            }
            // Zeros stay zero when the pivot row is zero there too, which is most of the
            // tableau: each constraint touches few columns.
            let mut w = if v.is_zero() {
                if f.is_zero() || pv.is_zero() {
                    continue;
                }
                BigInt::zero()
            } else {
                &*v * &p
            };
            if !f.is_zero() && !pv.is_zero() {
                w -= &f * pv;
            }
            *v = w / d;
        }
    };
    for (i, row) in tab.iter_mut().enumerate() {
        if i != leave {
            update(row);
        }
    }
    update(obj);
    tab[leave] = prow;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::parse_q;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};

    fn q(i: i64) -> Q {
        Q::from_integer(BigInt::from(i))
    }

    fn row(a: &[i64], c: i64) -> Strict {
        Strict {
            a: a.iter().map(|&v| q(v)).collect(),
            c: q(c),
        }
    }

    /// Every row strictly positive at `x`, and the margin is exactly their minimum.
    fn verified(rows: &[Strict], x: &[Q], margin: &Q) -> bool {
        let values: Vec<Q> = rows.iter().map(|r| r.at(x)).collect();
        values.iter().all(Signed::is_positive)
            && values.iter().min().map_or(margin.is_one(), |m| m == margin)
    }

    fn feasible(n: usize, rows: &[Strict]) -> Option<(Vec<Q>, Q)> {
        let got = strictly_feasible(n, rows).unwrap();
        if let Some((x, margin)) = &got {
            assert_eq!(x.len(), n);
            assert!(verified(rows, x, margin), "x = {x:?}, margin {margin}");
        }
        got
    }

    /// Fourier–Motzkin elimination: an independent decision procedure. For strict rows it is
    /// exact: the last variable can be chosen iff every lower bound is below every upper bound,
    /// and a positive combination of strict rows is strict.
    fn fourier_motzkin(n: usize, rows: &[Strict]) -> bool {
        let mut rows: Vec<Strict> = rows.to_vec();
        for k in 0..n {
            let (mut next, mut pos, mut neg) = (Vec::new(), Vec::new(), Vec::new());
            for r in rows {
                if r.a[k].is_positive() {
                    pos.push(r);
                } else if r.a[k].is_negative() {
                    neg.push(r);
                } else {
                    next.push(r);
                }
            }
            for p in &pos {
                for m in &neg {
                    let (lp, lm) = (-&m.a[k], p.a[k].clone());
                    let a = p.a.iter().zip(&m.a).map(|(u, v)| &lp * u + &lm * v);
                    let c = &lp * &p.c + &lm * &m.c;
                    let mut combined = Strict { a: a.collect(), c };
                    // Scaled by a positive number to keep the entries small.
                    let scale = combined
                        .a
                        .iter()
                        .chain([&combined.c])
                        .map(Signed::abs)
                        .max()
                        .filter(|v| !v.is_zero())
                        .unwrap_or_else(Q::one);
                    combined.a.iter_mut().for_each(|v| *v /= &scale);
                    combined.c /= &scale;
                    if !next.contains(&combined) {
                        next.push(combined);
                    }
                }
            }
            rows = next;
        }
        rows.iter().all(|r| r.c.is_positive())
    }

    /// Points of the plane a strictly feasible 2-D system would likely contain one of: a grid,
    /// and each crossing of two boundary lines nudged a little in eight directions.
    fn plane_candidates(rows: &[Strict]) -> Vec<Vec<Q>> {
        let mut points = Vec::new();
        for i in -16..=16 {
            for j in -16..=16 {
                points.push(vec![q(i) / q(2), q(j) / q(2)]);
            }
        }
        let eps = q(1) / q(1000);
        for (u, r) in rows.iter().enumerate() {
            for t in &rows[u + 1..] {
                let det = &r.a[0] * &t.a[1] - &r.a[1] * &t.a[0];
                if det.is_zero() {
                    continue;
                }
                // Cramer's rule for a·x = −c on both lines.
                let x = (-&r.c * &t.a[1] + &t.c * &r.a[1]) / &det;
                let y = (-&r.a[0] * &t.c + &t.a[0] * &r.c) / &det;
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        points.push(vec![&x + &eps * q(dx), &y + &eps * q(dy)]);
                    }
                }
            }
        }
        points
    }

    #[test]
    fn open_interval_is_feasible_with_the_point_inside() {
        let rows = [row(&[1], 0), row(&[-1], 1)];
        let (x, margin) = feasible(1, &rows).unwrap();
        assert!(x[0] > q(0) && x[0] < q(1));
        // The centre maximises the margin.
        assert_eq!(x[0], parse_q("1/2").unwrap());
        assert_eq!(margin, parse_q("1/2").unwrap());
    }

    #[test]
    fn opposite_half_lines_are_infeasible() {
        assert_eq!(feasible(1, &[row(&[1], 0), row(&[-1], 0)]), None);
    }

    #[test]
    fn zero_rows_decide_by_their_constant() {
        assert_eq!(feasible(0, &[row(&[], 1), row(&[], 0)]), None);
        assert_eq!(feasible(0, &[row(&[], -1)]), None);
        assert_eq!(feasible(2, &[row(&[0, 0], 0), row(&[1, 0], 0)]), None);
        assert_eq!(feasible(0, &[row(&[], 3)]), Some((vec![], q(3))));
        let (x, margin) = feasible(1, &[row(&[0], 2), row(&[1], 0)]).unwrap();
        assert!(x[0].is_positive() && margin.is_positive());
    }

    #[test]
    fn no_rows_give_the_origin() {
        assert_eq!(feasible(3, &[]), Some((vec![q(0); 3], q(1))));
        assert_eq!(feasible(0, &[]), Some((vec![], q(1))));
    }

    #[test]
    fn open_triangle() {
        // x > 0, y > 0, x + y < 1.
        let rows = [row(&[1, 0], 0), row(&[0, 1], 0), row(&[-1, -1], 1)];
        let (x, _) = feasible(2, &rows).unwrap();
        assert!(x[0].is_positive() && x[1].is_positive() && &x[0] + &x[1] < q(1));
        // The same triangle closed off from the other side: x + y < 0 as well.
        let mut shut = rows.to_vec();
        shut.push(row(&[-1, -1], 0));
        assert_eq!(feasible(2, &shut), None);
    }

    #[test]
    fn many_rows_through_one_point() {
        // Every boundary passes through (1, 1), so every ratio test ties at the start.
        let through = |a: i64, b: i64| row(&[a, b], -(a + b));
        let infeasible = [
            through(1, 1),
            through(1, -1),
            through(-1, 0),
            through(1, 2),
            through(2, -1),
            through(3, 1),
        ];
        assert_eq!(feasible(2, &infeasible), None);
        assert!(!fourier_motzkin(2, &infeasible));
        // A cone with its apex there.
        let cone = [
            through(1, 0),
            through(0, 1),
            through(1, 1),
            through(1, 2),
            through(2, 1),
            through(3, -1),
        ];
        assert!(feasible(2, &cone).is_some());
        // x > 1 and x < 1: two boundaries that coincide, so every ratio ties along a line.
        let flat = [through(1, 0), through(-1, 0), through(0, 1)];
        assert_eq!(feasible(2, &flat), None);
    }

    #[test]
    fn unbounded_direction() {
        let (x, margin) = feasible(1, &[row(&[1], -5)]).unwrap();
        assert!(x[0] > q(5));
        assert_eq!(margin, q(1));
    }

    #[test]
    fn big_coordinates() {
        let big = parse_q("1000000000000000000000000000000").unwrap();
        let rows = [
            Strict {
                a: vec![q(1), q(0)],
                c: -&big,
            },
            row(&[-1, 1], 0),
        ];
        let (x, _) = feasible(2, &rows).unwrap();
        assert!(x[0] > big && x[1] > x[0]);
        let mut capped = rows.to_vec();
        capped.push(Strict {
            a: vec![q(0), q(-1)],
            c: big.clone(),
        });
        assert_eq!(feasible(2, &capped), None);
    }

    #[test]
    fn wrong_row_length_is_a_shape_error() {
        let err = strictly_feasible(2, &[row(&[1, 0], 0), row(&[1], 0)]).unwrap_err();
        assert!(matches!(
            &err,
            Error::ShapeMismatch { op, left, right, .. }
                if op == "strictly_feasible" && left == &[1] && right == &[2]
        ));
        assert!(err.to_string().contains("row 1"));
    }

    #[test]
    fn size_of_a_region_query() {
        // 40 variables and 100 rows around a known interior point, then the same system with
        // one row and its negation added, which no point satisfies.
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        let n = 40;
        let centre: Vec<Q> = (0..n).map(|_| q(rng.random_range(-5..=5))).collect();
        let mut rows: Vec<Strict> = (0..100)
            .map(|_| {
                let a: Vec<Q> = (0..n).map(|_| q(rng.random_range(-4..=4))).collect();
                let mut r = Strict { a, c: q(0) };
                r.c = q(rng.random_range(1..=3)) - r.at(&centre);
                r
            })
            .collect();
        assert!(feasible(n, &rows).is_some());
        let opposite = Strict {
            a: rows[0].a.iter().map(|v| -v).collect(),
            c: -&rows[0].c,
        };
        rows.push(opposite);
        assert_eq!(feasible(n, &rows), None);
    }

    /// Small integers, and now and then halves and thirds, so that rows need their
    /// denominators cleared.
    fn small() -> impl Strategy<Value = Q> {
        (-4i64..=4, prop::sample::select(vec![1i64, 1, 1, 2, 3])).prop_map(|(p, d)| q(p) / q(d))
    }

    /// Random rows, and half the time one more row that is minus a non-negative combination of
    /// them plus δ ∈ {−1, 0, 1}: infeasible for δ ≤ 0 (Farkas), on the edge for δ = 1, so that
    /// infeasible systems are common in 3 and 4 variables too.
    fn system() -> impl Strategy<Value = (usize, Vec<Strict>)> {
        (2usize..=4).prop_flat_map(|n| {
            let r = (prop::collection::vec(small(), n), small()).prop_map(|(a, c)| Strict { a, c });
            (
                Just(n),
                prop::collection::vec(r, 1..=6),
                prop::collection::vec(0i64..=2, 6),
                prop::option::of(-1i64..=1),
            )
                .prop_map(|(n, mut rows, weights, delta)| {
                    if let Some(delta) = delta {
                        let mut last = Strict {
                            a: vec![q(0); n],
                            c: q(delta),
                        };
                        for (r, &w) in rows.iter().zip(&weights) {
                            for (l, v) in last.a.iter_mut().zip(&r.a) {
                                *l -= q(w) * v;
                            }
                            last.c -= q(w) * &r.c;
                        }
                        rows.push(last);
                    }
                    (n, rows)
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn agrees_with_fourier_motzkin((n, rows) in system()) {
            let got = feasible(n, &rows);
            prop_assert_eq!(got.is_some(), fourier_motzkin(n, &rows));
            if got.is_none() && n == 2 {
                for p in plane_candidates(&rows) {
                    prop_assert!(
                        !rows.iter().all(|r| r.at(&p).is_positive()),
                        "{:?} satisfies every row", p
                    );
                }
            }
        }
    }
}
