//! `Tensor<S>`: a shape and row-major data, with the spec operations of the Lean file.

mod linalg;
mod seed;

use crate::error::{Error, Result};
use crate::scalar::{Field, Ring, Q};
use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

/// A dense tensor: `shape` and its values in row-major order (Lean's `Tensor ℝ s`).
///
/// A scalar is shape `[]` with one value; a vector `[n]`; a matrix `[m, n]`.
///
/// `Debug` prints the shape and every value exactly, a rational as `p/q`:
/// `Tensor { shape: [2], data: [1/2, -3] }`.
#[derive(Clone)]
pub struct Tensor<S> {
    shape: Vec<usize>,
    /// The values are `store[start..end]`, shared: a clone, a reshape or a part
    /// ([`Tensor::part`]) of a tensor costs no copy, which matters for the parameter vectors
    /// of large layers that a check splits and passes around many times.
    store: Arc<Vec<S>>,
    start: usize,
    end: usize,
    /// Names these values for the lifetime of the process: a tensor is never changed after it
    /// is built (no method hands out its data mutably), and a clone holds the same values, so
    /// the id may key a cache of its conversions ([`Tensor::lifted`]). Not part of equality.
    id: u64,
}

/// The next fresh [`Tensor`] id.
fn fresh_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, AtomicOrdering::Relaxed)
}

impl<S: PartialEq> PartialEq for Tensor<S> {
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.data() == other.data()
    }
}

impl<S: Eq> Eq for Tensor<S> {}

impl<S: Hash> Hash for Tensor<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.shape.hash(state);
        self.data().hash(state);
    }
}

/// The number of values a tensor of `shape` holds; [`Error::SizeOverflow`] when the product of
/// its non-zero dimensions does not fit in `usize`.
///
/// The non-zero dimensions are required to fit even when a zero makes the tensor empty (the rule
/// of `ndarray`), so that the strides and offsets computed from any shape of a tensor fit too.
pub fn element_count(shape: &[usize]) -> Result<usize> {
    let nonzero = shape
        .iter()
        .filter(|&&n| n != 0)
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| Error::SizeOverflow {
            op: "Tensor".into(),
            quantity: "element count",
            shape: shape.to_vec(),
        })?;
    Ok(if shape.contains(&0) { 0 } else { nonzero })
}

/// The multi-index of the row-major `offset` in `shape` (a zero-length axis counts as length 1,
/// so every offset has one).
pub fn multi_index(shape: &[usize], mut offset: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &n) in index.iter_mut().zip(shape).rev() {
        *slot = offset % n.max(1);
        offset /= n.max(1);
    }
    index
}

/// [`element_count`] of `shape`, when that many values of `value_bytes` bytes each fit in one
/// `Vec` (at most `isize::MAX` bytes); past it [`Error::SizeOverflow`] with quantity "size in
/// bytes", where `vec!` would panic ("capacity overflow").
pub fn storable_count(shape: &[usize], value_bytes: usize) -> Result<usize> {
    let count = element_count(shape)?;
    let fits = count
        .checked_mul(value_bytes)
        .is_some_and(|bytes| isize::try_from(bytes).is_ok());
    if !fits {
        return Err(Error::SizeOverflow {
            op: "Tensor".into(),
            quantity: "size in bytes",
            shape: shape.to_vec(),
        });
    }
    Ok(count)
}

impl<S> Tensor<S> {
    /// A tensor of `shape` holding `data` (row-major); [`Error::DataLength`] when the lengths
    /// disagree, [`Error::SizeOverflow`] when the shape's element count overflows (see
    /// [`element_count`]).
    pub fn new(shape: Vec<usize>, data: Vec<S>) -> Result<Self> {
        let expected = element_count(&shape)?;
        if expected != data.len() {
            return Err(Error::DataLength {
                shape,
                expected,
                got: data.len(),
            });
        }
        Ok(Tensor::raw(shape, data))
    }

    /// A tensor of `shape` whose value at row-major offset `k` is `f(k)`.
    /// [`Error::SizeOverflow`] when the element count overflows, when its size in bytes is
    /// beyond what a `Vec` holds, or when that much memory cannot be had (quantity "memory"):
    /// an absurd shape is refused before any value is computed, instead of aborting the
    /// process.
    pub fn from_fn(shape: &[usize], f: impl FnMut(usize) -> S) -> Result<Self> {
        let (mut data, count) = storage(shape)?;
        data.extend((0..count).map(f));
        Ok(Tensor::raw(shape.to_vec(), data))
    }

    /// A vector (shape `[n]`) holding `data` — Lean's `fromVec`.
    pub fn from_vec(data: Vec<S>) -> Self {
        Tensor::raw(vec![data.len()], data)
    }

    /// The id naming these values (see the field's docs): a key for per-check memos.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// A tensor from parts known to agree, with a fresh id.
    pub(crate) fn raw(shape: Vec<usize>, data: Vec<S>) -> Self {
        Tensor {
            shape,
            start: 0,
            end: data.len(),
            store: Arc::new(data),
            id: fresh_id(),
        }
    }

    /// The values at offsets `range` as a tensor of `shape`, sharing them (no copy), with a
    /// fresh id; [`Error::DataLength`] when `shape` does not hold `range.len()` values.
    pub(crate) fn part(&self, range: std::ops::Range<usize>, shape: Vec<usize>) -> Result<Self> {
        let expected = element_count(&shape)?;
        if expected != range.len() || range.start > range.end || range.end > self.len() {
            return Err(Error::DataLength {
                shape,
                expected,
                got: range.len(),
            });
        }
        Ok(Tensor {
            shape,
            store: Arc::clone(&self.store),
            start: self.start + range.start,
            end: self.start + range.end,
            id: fresh_id(),
        })
    }

    /// A matrix from its rows; [`Error::RaggedRow`] names the first row whose length differs
    /// from row 0's.
    pub fn from_rows(rows: Vec<Vec<S>>) -> Result<Self> {
        let m = rows.len();
        let n = rows.first().map_or(0, Vec::len);
        if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n) {
            return Err(Error::RaggedRow {
                row,
                expected: n,
                got: r.len(),
            });
        }
        let data: Vec<S> = rows.into_iter().flatten().collect();
        Tensor::new(vec![m, n], data)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[S] {
        &self.store[self.start..self.end]
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same values under another shape of the same size (no copy).
    pub fn reshape(self, shape: Vec<usize>) -> Result<Self> {
        self.part(0..self.len(), shape)
    }

    /// The row-major offset of a multi-index, or [`Error::Index`].
    pub fn offset(&self, index: &[usize]) -> Result<usize> {
        let bad = || Error::Index {
            index: index.to_vec(),
            shape: self.shape.clone(),
        };
        if index.len() != self.shape.len() {
            return Err(bad());
        }
        index.iter().zip(&self.shape).try_fold(
            0,
            |acc, (&i, &n)| {
                if i < n {
                    Ok(acc * n + i)
                } else {
                    Err(bad())
                }
            },
        )
    }

    /// The multi-index of a row-major offset (inverse of [`Tensor::offset`]).
    pub fn multi_index(&self, offset: usize) -> Vec<usize> {
        multi_index(&self.shape, offset)
    }

    /// The value at a multi-index — Lean's `Spec.get`.
    pub fn get(&self, index: &[usize]) -> Result<&S> {
        Ok(&self.data()[self.offset(index)?])
    }

    /// The entry `(i, j)` of a matrix — Lean's `Spec.get2`.
    pub fn get2(&self, i: usize, j: usize) -> Result<&S> {
        self.get(&[i, j])
    }

    /// `f` applied to every value — Lean's `map_spec`.
    pub fn map<T>(&self, f: impl FnMut(&S) -> T) -> Tensor<T> {
        Tensor::raw(self.shape.clone(), self.data().iter().map(f).collect())
    }

    /// `f` applied to matching values of two tensors of the same shape.
    pub fn zip_with<T, U>(
        &self,
        other: &Tensor<T>,
        mut f: impl FnMut(&S, &T) -> U,
    ) -> Result<Tensor<U>> {
        self.expect_shape(other.shape(), "zip_with")?;
        Ok(Tensor::raw(
            self.shape.clone(),
            self.data()
                .iter()
                .zip(other.data())
                .map(|(a, b)| f(a, b))
                .collect(),
        ))
    }

    /// [`Error::ShapeMismatch`] unless `self` has `shape`.
    pub fn expect_shape(&self, shape: &[usize], context: &str) -> Result<()> {
        if self.shape == shape {
            Ok(())
        } else {
            Err(Error::shape_mismatch(
                context,
                self.shape.clone(),
                shape.to_vec(),
            ))
        }
    }
}

impl<S: Clone> Tensor<S> {
    /// The values as a flat vector — Lean's `Spec.toVec`.
    pub fn to_vec(&self) -> Vec<S> {
        self.data().to_vec()
    }

    /// The values, consuming the tensor: moved out when no other tensor shares them, copied
    /// otherwise.
    pub fn into_data(self) -> Vec<S> {
        let (start, end) = (self.start, self.end);
        match Arc::try_unwrap(self.store) {
            Ok(mut all) => {
                all.truncate(end);
                all.drain(..start);
                all
            }
            Err(shared) => shared[start..end].to_vec(),
        }
    }

    /// The same values as a vector of shape `[len]` (flatten; no copy).
    pub fn flatten(&self) -> Tensor<S> {
        self.part(0..self.len(), vec![self.len()])
            .expect("a vector holds every value")
    }
}

/// Tensors with fewer values are lifted afresh each time: cheaper than a lookup.
const LIFT_CACHE_MIN: usize = 256;

/// An op's exact parameters as values of the scalar `S` ([`Tensor::lifted`]): borrowed over `Q`,
/// shared from the check's cache, or converted for this call.
pub enum Lifted<'a, S> {
    /// The tensor itself (`S` is `Q`).
    Borrowed(&'a Tensor<S>),
    /// The conversion made earlier in the same check.
    Shared(Rc<Tensor<S>>),
    /// A conversion made for this call.
    Owned(Tensor<S>),
}

impl<S> std::ops::Deref for Lifted<'_, S> {
    type Target = Tensor<S>;
    fn deref(&self) -> &Tensor<S> {
        match self {
            Lifted::Borrowed(t) => t,
            Lifted::Shared(t) => t,
            Lifted::Owned(t) => t,
        }
    }
}

impl<S: Clone> Lifted<'_, S> {
    /// The tensor, copied unless this call owns it.
    pub fn into_owned(self) -> Tensor<S> {
        match self {
            Lifted::Borrowed(t) => t.clone(),
            Lifted::Shared(t) => Rc::unwrap_or_clone(t),
            Lifted::Owned(t) => t,
        }
    }
}

impl Tensor<Q> {
    /// Every value as a constant of another scalar (e.g. `Q` into `Dual<Q>` with zero
    /// tangent): how an op's exact parameters enter an evaluation over `S`.
    pub fn lift<S: Field>(&self) -> Tensor<S> {
        Tensor::raw(self.shape().to_vec(), S::from_q_named(self.data(), self.id))
    }

    /// [`Tensor::lift`], borrowing `self` when `S` is `Q` itself, so that an evaluation over
    /// `Q` does not copy the weights; inside [`crate::scalar::with_kernel_cache`] (every check
    /// opens it) a large tensor is lifted once per scalar and shared by the later calls.
    pub fn lifted<S: Field>(&self) -> Lifted<'_, S> {
        // `dyn Any` needs `'static`; every scalar is.
        if let Some(same) = (self as &dyn Any).downcast_ref::<Tensor<S>>() {
            return Lifted::Borrowed(same);
        }
        if self.len() < LIFT_CACHE_MIN {
            return Lifted::Owned(self.lift());
        }
        use crate::scalar::kernels::{remembered, Memo};
        match remembered(Memo::Lifted, &[self.id], || self.lift::<S>()) {
            Some(shared) => Lifted::Shared(shared),
            None => Lifted::Owned(self.lift()),
        }
    }

    /// The exact values of finite `f64`s; [`Error::NotFinite`] names the first non-finite one.
    pub fn from_f64_exact(shape: Vec<usize>, values: &[f64]) -> Result<Self> {
        let data = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                Q::from_float(*v).ok_or_else(|| Error::NotFinite {
                    index: i,
                    value: v.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::new(shape, data)
    }

    /// Parses exact literals (see [`crate::parse_q`]) into a tensor of `shape`.
    pub fn parse(shape: Vec<usize>, literals: &[&str]) -> Result<Self> {
        let data = literals
            .iter()
            .map(|s| crate::scalar::parse_q(s))
            .collect::<Result<Vec<_>>>()?;
        Tensor::new(shape, data)
    }
}

/// Room for the values of a tensor of `shape`, and their count: [`storable_count`], then the
/// memory itself, whose refusal is [`Error::SizeOverflow`] with quantity "memory" (where `vec!`
/// would abort the process).
fn storage<S>(shape: &[usize]) -> Result<(Vec<S>, usize)> {
    let count = storable_count(shape, std::mem::size_of::<S>())?;
    let mut data = Vec::new();
    data.try_reserve_exact(count)
        .map_err(|_| Error::SizeOverflow {
            op: "Tensor".into(),
            quantity: "memory",
            shape: shape.to_vec(),
        })?;
    Ok((data, count))
}

/// The values of [`Tensor::zeros`], to be filled in before they are wrapped.
fn zero_data<S: Ring>(shape: &[usize]) -> Result<Vec<S>> {
    let (mut data, count) = storage(shape)?;
    data.resize(count, S::zero());
    Ok(data)
}

impl<S: Ring> Tensor<S> {
    /// All zeros; [`Error::SizeOverflow`] when the shape's element count overflows `usize`, or
    /// when its size in bytes is beyond what a `Vec` can hold (`isize::MAX`), which `vec!`
    /// would report by panicking, or when the memory cannot be had (quantity "memory"). For
    /// the shape of a tensor you already hold, which cannot fail, use [`Tensor::zeros_like`].
    pub fn zeros(shape: &[usize]) -> Result<Self> {
        Ok(Tensor::raw(shape.to_vec(), zero_data(shape)?))
    }

    /// All zeros, of `self`'s shape. Infallible because `self` already holds that many values
    /// of the same type, so the count and the size in bytes fit.
    pub fn zeros_like(&self) -> Self {
        Tensor::raw(self.shape.clone(), vec![S::zero(); self.len()])
    }

    /// The `k`-th standard basis tensor of `shape` (one at row-major offset `k`);
    /// [`Error::Index`] (with index `[k]`) when `k` is not an offset of `shape`,
    /// [`Error::SizeOverflow`] when the shape's element count overflows (see
    /// [`Tensor::zeros`]). The index is checked before anything is allocated.
    pub fn basis(shape: &[usize], k: usize) -> Result<Self> {
        if k >= element_count(shape)? {
            return Err(Error::Index {
                index: vec![k],
                shape: shape.to_vec(),
            });
        }
        let mut data = zero_data::<S>(shape)?;
        data[k] = S::one();
        Ok(Tensor::raw(shape.to_vec(), data))
    }
}

impl<S: fmt::Debug> fmt::Debug for Tensor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor {{ shape: {:?}, data: [", self.shape)?;
        for (i, v) in self.data().iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            f.write_str(&crate::error::ratios_as_fractions(&format!("{v:?}")))?;
        }
        write!(f, "] }}")
    }
}

impl<S: fmt::Display> fmt::Display for Tensor<S> {
    /// Vectors as `[a, b]`, matrices one row a line, other shapes flat with their shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, vals: &[S]| {
            write!(f, "[")?;
            for (i, v) in vals.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{v}")?;
            }
            write!(f, "]")
        };
        match self.shape.as_slice() {
            [] => write!(f, "{}", self.data()[0]),
            [_] => row(f, self.data()),
            [m, n] => {
                write!(f, "[")?;
                for i in 0..*m {
                    if i > 0 {
                        write!(f, ",\n ")?;
                    }
                    row(f, &self.data()[i * n..(i + 1) * n])?;
                }
                write!(f, "]")
            }
            shape => {
                write!(f, "shape {shape:?} ")?;
                row(f, self.data())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_index_inverts_the_row_major_offset() {
        let t = Tensor::<Q>::zeros(&[2, 3, 4]).unwrap();
        for k in 0..24 {
            assert_eq!(t.offset(&t.multi_index(k)).unwrap(), k);
        }
        assert_eq!(multi_index(&[2, 3, 4], 23), [1, 2, 3]);
        // A zero-length axis holds index 0 and leaves the offset to the axes before it.
        assert_eq!(multi_index(&[2, 0, 3], 5), [1, 0, 2]);
    }

    #[test]
    fn debug_prints_the_shape_and_exact_values() {
        let t = Tensor::new(vec![2], vec![Q::new(1.into(), 2.into()), Q::from_i64(-3)]).unwrap();
        assert_eq!(format!("{t:?}"), "Tensor { shape: [2], data: [1/2, -3] }");
        let d = Tensor::from_vec(vec![crate::Dual::new(Q::from_i64(1), Q::from_i64(2))]);
        assert_eq!(
            format!("{d:?}"),
            "Tensor { shape: [1], data: [Dual { re: 1, eps: 2 }] }"
        );
        let q = Q::new((-7).into(), 3.into());
        let nested = format!("{:?}", (q.clone(), vec![q]));
        assert_eq!(crate::error::ratios_as_fractions(&nested), "(-7/3, [-7/3])");
    }

    #[test]
    fn ragged_rows_are_named() {
        let rows = vec![vec![1], vec![2], vec![3, 4]];
        assert_eq!(
            Tensor::from_rows(rows).err(),
            Some(Error::RaggedRow {
                row: 2,
                expected: 1,
                got: 2
            })
        );
        let empty: Vec<Vec<i32>> = vec![];
        assert_eq!(Tensor::from_rows(empty).unwrap().shape(), [0, 0]);
    }

    #[test]
    fn element_counts_are_checked() {
        assert_eq!(element_count(&[]), Ok(1));
        assert_eq!(element_count(&[3, 0, 5]), Ok(0));
        assert_eq!(element_count(&[usize::MAX, 1]), Ok(usize::MAX));
        for shape in [vec![1 << 32, 1 << 32], vec![usize::MAX, 2, 0]] {
            assert_eq!(
                element_count(&shape),
                Err(Error::SizeOverflow {
                    op: "Tensor".into(),
                    quantity: "element count",
                    shape
                })
            );
        }
    }

    #[test]
    fn a_basis_index_out_of_range_is_an_error() {
        assert_eq!(
            Tensor::<Q>::basis(&[2, 2], 4).err(),
            Some(Error::Index {
                index: vec![4],
                shape: vec![2, 2]
            })
        );
        assert_eq!(
            Tensor::<Q>::basis(&[2], 1).unwrap().data()[1],
            Q::from_i64(1)
        );
    }

    #[test]
    fn a_non_finite_float_is_named_by_its_index() {
        assert_eq!(
            Tensor::<Q>::from_f64_exact(vec![2], &[1.0, f64::NAN]).err(),
            Some(Error::NotFinite {
                index: 1,
                value: "NaN".into()
            })
        );
        assert_eq!(
            Tensor::from_f64_exact(vec![1], &[0.375]),
            Ok(Tensor::new(vec![1], vec![Q::new(3.into(), 8.into())]).unwrap())
        );
    }
}
