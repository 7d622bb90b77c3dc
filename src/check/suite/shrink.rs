//! The exact simplification of a failing case after proptest's shrinking.

use super::case::Case;
use crate::error::Error;
use crate::scalar::Q;
use crate::tensor::Tensor;
use num_traits::{One, Signed, Zero};

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
/// ([`super::check_at`]).
pub(super) fn simplify<T: Clone>(
    mut value: T,
    case_of: impl Fn(&mut T) -> &mut Case,
    fails: impl Fn(&T) -> bool,
    fixed_point: bool,
) -> T {
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
                *field(case_of(&mut trial)) = Tensor::zeros(current.shape());
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
    value
}
