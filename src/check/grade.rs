//! Grading a framework's float gradients against the exact ones: `exact` (bit for bit),
//! `rounding` (within the rigorous bound of a float run, [`crate::Rounded`]), or `wrong`.

use crate::error::{Error, Result};
use crate::import::npy::Dtype;
use crate::scalar::{pow2, Rounded, Q};
use crate::tensor::Tensor;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// A binary float format: its precision and smallest normal exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatFormat {
    /// `float16`, `float32` or `float64`.
    pub name: &'static str,
    /// Significant bits, the hidden one included (11, 24, 53).
    pub precision: u32,
    /// The exponent of the smallest normal number (−14, −126, −1022).
    pub min_exponent: i64,
}

impl FloatFormat {
    /// IEEE binary64.
    pub const F64: FloatFormat = FloatFormat {
        name: "float64",
        precision: 53,
        min_exponent: -1022,
    };
    /// IEEE binary32.
    pub const F32: FloatFormat = FloatFormat {
        name: "float32",
        precision: 24,
        min_exponent: -126,
    };
    /// IEEE binary16.
    pub const F16: FloatFormat = FloatFormat {
        name: "float16",
        precision: 11,
        min_exponent: -14,
    };

    /// The format of a NumPy array's dtype (`None` for integers).
    pub fn of(dtype: Dtype) -> Option<FloatFormat> {
        match dtype {
            Dtype::F64 => Some(Self::F64),
            Dtype::F32 => Some(Self::F32),
            Dtype::F16 => Some(Self::F16),
            Dtype::Int => None,
        }
    }

    /// The unit roundoff `u = 2^−p` (round to nearest).
    pub fn unit_roundoff(&self) -> Q {
        pow2(-i64::from(self.precision))
    }

    /// The spacing of the format's numbers at `v`: `2^(e − p + 1)` for `2^e ≤ |v| < 2^(e+1)`,
    /// and the subnormal spacing below the normal range (and at 0).
    pub fn ulp(&self, v: &Q) -> Q {
        let e = if v.is_zero() {
            self.min_exponent
        } else {
            floor_log2(&v.abs()).max(self.min_exponent)
        };
        pow2(e - i64::from(self.precision) + 1)
    }
}

/// `⌊log₂ v⌋` for `v > 0`.
fn floor_log2(v: &Q) -> i64 {
    let (n, d) = (v.numer(), v.denom());
    let e = n.bits() as i64 - d.bits() as i64;
    // 2^e ≤ v < 2^(e+1) or 2^(e−1) ≤ v < 2^e.
    if *v >= pow2(e) {
        e
    } else {
        e - 1
    }
}

/// The grade of one tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry equals the exact value.
    Exact,
    /// Every entry is within the rounding bound of a float run.
    Rounding,
    /// Some entry is further from the exact value than any float run of the model could put it.
    Wrong,
    /// Some entry differs and no rounding bound exists for it (a division by a rounded value).
    Unbounded,
}

/// One entry of a graded tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its multi-index.
    pub coordinate: Vec<usize>,
    /// The framework's float value, exactly.
    pub float: Q,
    /// The exact value.
    pub exact: Q,
    /// `|float − exact|`.
    pub error: Q,
    /// The error in ulps of the format at the exact value.
    pub ulps: f64,
    /// The rounding bound `γ_d·M` there (`None` when none exists).
    pub bound: Option<Q>,
    /// The bound in ulps.
    pub bound_ulps: Option<f64>,
    /// The most roundings a term of this entry goes through (`d`).
    pub roundings: Option<u32>,
}

/// A framework's gradient tensor graded against the exact one.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    /// The tensor's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// The format it was stored in.
    pub format: FloatFormat,
    /// The verdict.
    pub verdict: Verdict,
    /// The entry with the largest error in ulps, the first (row-major) of equal ones (`None`
    /// when exact).
    pub worst: Option<Entry>,
    /// The largest ratio `error / bound` over the entries (0 when exact), exact: the verdict
    /// is `rounding` when it is at most 1 (a float would show `1 + 2⁻⁶⁰` as 1).
    pub worst_ratio: Q,
    /// The first entry (row-major) over its bound, for `wrong` and `unbounded`.
    pub first_bad: Option<Entry>,
}

/// Grades `float` (a framework's values, exactly as stored, in `format`) against `exact`
/// (computed over [`Rounded`], so each entry carries its rounding bound for unit roundoff `u`
/// of `format`).
pub fn grade(
    name: &str,
    float: &Tensor<Q>,
    exact: &Tensor<Rounded>,
    format: FloatFormat,
) -> Result<Grade> {
    if float.shape() != exact.shape() {
        return Err(Error::shape_mismatch(
            &format!("gradient {name:?}: the framework's shape, the model's"),
            float.shape().to_vec(),
            exact.shape().to_vec(),
        ));
    }
    let u = format.unit_roundoff();
    let mut worst: Option<Entry> = None;
    let mut worst_ratio = Q::zero();
    let mut first_bad: Option<Entry> = None;
    for (k, (f, e)) in float.data().iter().zip(exact.data()).enumerate() {
        if *f == e.value {
            continue;
        }
        let error = (f - &e.value).abs();
        let ulp = format.ulp(&e.value);
        let bound = e.error_bound(&u);
        let entry = Entry {
            coordinate: float.multi_index(k),
            float: f.clone(),
            exact: e.value.clone(),
            ulps: (&error / &ulp).to_f64().unwrap_or(f64::INFINITY),
            bound_ulps: bound
                .as_ref()
                .map(|b| (b / &ulp).to_f64().unwrap_or(f64::INFINITY)),
            error,
            bound,
            roundings: e.depth,
        };
        let over = match &entry.bound {
            Some(b) if !b.is_zero() => {
                let r = &entry.error / b;
                if r > worst_ratio {
                    worst_ratio = r.clone();
                }
                r > Q::one()
            }
            Some(_) => true,
            None => true,
        };
        if over && first_bad.is_none() {
            first_bad = Some(entry.clone());
        }
        if worst.as_ref().is_none_or(|w| entry.ulps > w.ulps) {
            worst = Some(entry);
        }
    }
    let verdict = match (&worst, &first_bad) {
        (None, _) => Verdict::Exact,
        (Some(_), None) => Verdict::Rounding,
        (Some(_), Some(b)) if b.bound.is_none() => Verdict::Unbounded,
        (Some(_), Some(_)) => Verdict::Wrong,
    };
    Ok(Grade {
        name: name.into(),
        shape: float.shape().to_vec(),
        format,
        verdict,
        worst,
        worst_ratio,
        first_bad,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::{parse_q, Ring};

    fn q(s: &str) -> Q {
        parse_q(s).unwrap()
    }

    #[test]
    fn ulps_of_the_formats() {
        assert_eq!(FloatFormat::F64.ulp(&q("1")), pow2(-52));
        assert_eq!(FloatFormat::F64.ulp(&q("3/2")), pow2(-52));
        assert_eq!(FloatFormat::F64.ulp(&q("-1/3")), pow2(-54));
        assert_eq!(FloatFormat::F32.ulp(&q("1024")), pow2(10 - 23));
        assert_eq!(FloatFormat::F64.ulp(&q("0")), pow2(-1074));
        assert_eq!(floor_log2(&q("1/2")), -1);
        assert_eq!(floor_log2(&q("3/4")), -1);
        assert_eq!(floor_log2(&q("7")), 2);
    }

    /// `Σ xᵢ` over `Rounded` and its float64 sum: the float sum grades `rounding`, the float sum
    /// plus a few hundred ulps grades `wrong`, naming the coordinate.
    #[test]
    fn a_float_sum_is_rounding_and_a_perturbed_one_is_wrong() {
        let xs: Vec<f64> = (1..=20).map(|k| 1.0 / f64::from(k)).collect();
        let exact_sum = xs.iter().fold(Rounded::zero(), |acc, &x| {
            acc.add_ref(&Rounded::input(&Q::from_float(x).unwrap()))
        });
        let float_sum: f64 = xs.iter().sum();
        let exact = Tensor::new(vec![2], vec![exact_sum.clone(), exact_sum]).unwrap();
        let good = Tensor::from_f64_exact(vec![2], &[float_sum, float_sum]).unwrap();
        let g = grade("s", &good, &exact, FloatFormat::F64).unwrap();
        assert!(matches!(g.verdict, Verdict::Rounding | Verdict::Exact));
        let off = f64::from_bits(float_sum.to_bits() + 300);
        let bad = Tensor::from_f64_exact(vec![2], &[float_sum, off]).unwrap();
        let g = grade("s", &bad, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Wrong);
        assert_eq!(g.first_bad.unwrap().coordinate, vec![1]);
    }

    #[test]
    fn equal_values_are_exact() {
        let exact = Tensor::new(vec![1], vec![Rounded::input(&q("3/8"))]).unwrap();
        let float = Tensor::new(vec![1], vec![q("3/8")]).unwrap();
        let g = grade("w", &float, &exact, FloatFormat::F32).unwrap();
        assert_eq!(g.verdict, Verdict::Exact);
        let r = grade(
            "w",
            &Tensor::from_vec(vec![q("1"), q("2")]),
            &exact,
            FloatFormat::F32,
        );
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn ulps_and_unit_roundoff_of_float16() {
        assert_eq!(FloatFormat::of(Dtype::F16), Some(FloatFormat::F16));
        assert_eq!(FloatFormat::of(Dtype::Int), None);
        assert_eq!(FloatFormat::F16.unit_roundoff(), pow2(-11));
        assert_eq!(FloatFormat::F16.ulp(&q("1")), pow2(-10));
        assert_eq!(FloatFormat::F16.ulp(&q("-3/2")), pow2(-10));
        // Below 2⁻¹⁴, the smallest normal, the subnormal spacing 2⁻²⁴.
        assert_eq!(FloatFormat::F16.ulp(&q("1/65536")), pow2(-24));
        assert_eq!(FloatFormat::F16.ulp(&q("0")), pow2(-24));
    }

    /// One graded entry: exact value `value` with magnitude `magnitude` and depth `depth`.
    fn rounded(value: &str, magnitude: &str, depth: Option<u32>) -> Rounded {
        Rounded {
            value: q(value),
            magnitude: q(magnitude),
            depth,
        }
    }

    /// `1 + k` ulps of float64 at 1.
    fn one_plus_ulps(k: i64) -> Q {
        Q::one() + Q::from_i64(k) * pow2(-52)
    }

    #[test]
    fn an_entry_reports_its_error_and_its_bound_in_ulps() {
        // Two roundings of magnitude 4: the bound γ₂·4 = 8u/(1 − 2u), just over 4 ulps at 1.
        let exact = Tensor::new(vec![1], vec![rounded("1", "4", Some(2))]).unwrap();
        let float = Tensor::new(vec![1], vec![one_plus_ulps(3)]).unwrap();
        let g = grade("g", &float, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Rounding);
        let worst = g.worst.unwrap();
        assert_eq!(worst.error, pow2(-52) * q("3"));
        assert_eq!(worst.ulps, 3.0);
        let bound_ulps = worst.bound_ulps.unwrap();
        assert!((bound_ulps - 4.0).abs() < 1e-12, "{bound_ulps}");
        // 6u / (8u/(1 − 2u)) exactly.
        assert_eq!(g.worst_ratio, q("3/4") * (Q::one() - pow2(-52)));
        assert_eq!(worst.roundings, Some(2));
    }

    #[test]
    fn an_error_equal_to_its_bound_is_rounding_and_one_just_over_is_wrong() {
        // One rounding of magnitude 1 in float64: the bound is γ₁ = u/(1 − u), u = 2⁻⁵³.
        let u = pow2(-53);
        let bound = u.clone() / (Q::one() - u);
        let exact = Tensor::new(vec![1], vec![rounded("1", "1", Some(1))]).unwrap();
        let at_bound = Tensor::new(vec![1], vec![Q::one() + bound.clone()]).unwrap();
        let g = grade("b", &at_bound, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Rounding);
        assert_eq!(g.worst_ratio, Q::one());
        assert_eq!(g.first_bad, None);
        let over = Q::one() + bound * (Q::one() + pow2(-60));
        let over = Tensor::new(vec![1], vec![over]).unwrap();
        let g = grade("b", &over, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Wrong);
        // Exact: as an f64 this ratio would read 1, beside the verdict `wrong`.
        assert_eq!(g.worst_ratio, Q::one() + pow2(-60));
    }

    #[test]
    fn the_worst_entry_is_the_first_with_the_most_ulps() {
        // Every entry is over its bound (γ₁ at 1: half an ulp); the worst is [1], not the first
        // bad one [0], nor [2] with as many ulps as [1].
        let exact = Tensor::new(vec![3], vec![rounded("1", "1", Some(1)); 3]).unwrap();
        let float = Tensor::new(
            vec![3],
            vec![one_plus_ulps(1), one_plus_ulps(5), one_plus_ulps(5)],
        )
        .unwrap();
        let g = grade("w", &float, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Wrong);
        assert_eq!(g.worst.unwrap().coordinate, vec![1]);
        assert_eq!(g.first_bad.unwrap().coordinate, vec![0]);
    }

    #[test]
    fn a_differing_entry_without_a_bound_is_unbounded_and_with_a_zero_bound_wrong() {
        // After a division by a rounded value there is no bound.
        let exact = Tensor::new(vec![1], vec![rounded("1", "1", None)]).unwrap();
        let float = Tensor::new(vec![1], vec![one_plus_ulps(1)]).unwrap();
        let g = grade("u", &float, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Unbounded);
        assert_eq!(g.first_bad.unwrap().bound, None);
        // An exact input (no rounding, bound 0) that differs: wrong, with no division by 0.
        let exact = Tensor::new(vec![1], vec![Rounded::input(&q("1"))]).unwrap();
        let g = grade("z", &float, &exact, FloatFormat::F64).unwrap();
        assert_eq!(g.verdict, Verdict::Wrong);
        assert_eq!(g.first_bad.unwrap().bound, Some(Q::zero()));
    }
}
