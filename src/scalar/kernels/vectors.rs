//! [`Vectors`]: families of vectors read in place, the operand type of every product kernel.
//!
//! It has a file of its own, below the kernels and the module that dispatches between them, so
//! that each kernel can read it without importing the dispatcher that imports the kernel.

use num_rational::BigRational as Q;

/// `count` vectors of `dim` entries each, read in place through an accessor: the rows or the
/// columns of a row-major matrix, or one part of each entry of a slice of dual numbers or jets.
///
/// This is what [`Ring::products`](crate::Ring::products) receives, so that a scalar with a
/// fast product kernel serves `Dual<S>` and `Jet<S>` passes without their parts being copied.
pub struct Vectors<'a, S = Q> {
    pub(crate) count: usize,
    pub(crate) len: usize,
    read: Read<'a, S>,
}

/// How entry `t` of vector `v` is found.
enum Read<'a, S> {
    /// The entries are entries of a slice (not parts of them): the kernels read them by index
    /// arithmetic, without a call per entry.
    Laid(Layout<'a, S>),
    /// Anything else (a part of a dual number, a jet's tangent) goes through an accessor.
    Through(Box<dyn Fn(usize, usize) -> &'a S + 'a>),
}

/// Entry `t < len` of vector `v` is `data[v·vec_stride + at(t)·elem_stride]`, with `at(t)` either
/// `t` or `keep[t]` (a view of some positions only); a position `len` reads `tail[v]`.
pub(crate) struct Layout<'a, S> {
    data: &'a [S],
    strides: (usize, usize),
    len: usize,
    tail: Option<&'a [S]>,
    keep: Option<&'a [usize]>,
}

impl<'a, S> Layout<'a, S> {
    #[inline]
    fn entry(&self, v: usize, p: usize) -> &'a S {
        if p < self.len {
            &self.data[v * self.strides.0 + p * self.strides.1]
        } else {
            &self.tail.expect("only a tail lies past len")[v]
        }
    }
}

impl<S> Clone for Layout<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Layout<'_, S> {}

impl<'a, S> Vectors<'a, S> {
    /// How many vectors there are.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How many entries each vector has.
    pub fn dim(&self) -> usize {
        self.len
    }

    /// Entry `t` of vector `v`.
    #[inline]
    pub fn at(&self, v: usize, t: usize) -> &'a S {
        match &self.read {
            Read::Laid(l) => l.entry(v, l.keep.map_or(t, |keep| keep[t])),
            Read::Through(get) => get(v, t),
        }
    }

    /// Entry `t` of vector `v` is `data[v·vec_stride + t·elem_stride]` for `t < len`, and
    /// `tail[v]` for `t = len` when there is a tail.
    pub(crate) fn strided(
        data: &'a [S],
        count: usize,
        len: usize,
        strides: (usize, usize),
        tail: Option<&'a [S]>,
    ) -> Vectors<'a, S> {
        Vectors {
            count,
            len: len + usize::from(tail.is_some()),
            read: Read::Laid(Layout {
                data,
                strides,
                len,
                tail,
                keep: None,
            }),
        }
    }

    /// `count` vectors of `len` entries, entry `t` of vector `v` being `get(v, t)`.
    pub(crate) fn through(
        count: usize,
        len: usize,
        get: impl Fn(usize, usize) -> &'a S + 'a,
    ) -> Vectors<'a, S> {
        Vectors {
            count,
            len,
            read: Read::Through(Box::new(get)),
        }
    }

    /// Like [`Vectors::strided`], reading a part of each element (e.g. the real or the tangent
    /// part of a dual number) without copying it.
    pub(crate) fn projected<T>(
        data: &'a [T],
        part: fn(&T) -> &S,
        count: usize,
        len: usize,
        (vec_stride, elem_stride): (usize, usize),
        tail: Option<&'a [T]>,
    ) -> Vectors<'a, S> {
        Vectors::through(count, len + usize::from(tail.is_some()), move |v, t| {
            if t < len {
                part(&data[v * vec_stride + t * elem_stride])
            } else {
                part(&tail.expect("only a tail lies past len")[v])
            }
        })
    }

    /// The rows of a `rows × cols` row-major matrix.
    pub(crate) fn rows(data: &'a [S], rows: usize, cols: usize) -> Vectors<'a, S> {
        Vectors::strided(data, rows, cols, (cols, 1), None)
    }

    /// The columns of a `rows × cols` row-major matrix.
    pub(crate) fn columns(data: &'a [S], rows: usize, cols: usize) -> Vectors<'a, S> {
        Vectors::strided(data, cols, rows, (1, cols), None)
    }

    /// Each vector `v` with `tail[v]` appended.
    pub(crate) fn extended(self, tail: &'a [S]) -> Vectors<'a, S> {
        let len = self.len;
        Vectors::through(self.count, len + 1, move |v, t| {
            if t < len {
                self.at(v, t)
            } else {
                &tail[v]
            }
        })
    }

    /// Each vector `v` with `tail[v]` appended, borrowing `self`.
    pub(crate) fn with_tail<'v>(&'v self, tail: &'v [S]) -> Vectors<'v, S>
    where
        'a: 'v,
    {
        match self.read {
            Read::Laid(
                l @ Layout {
                    tail: None,
                    keep: None,
                    ..
                },
            ) => Vectors {
                count: self.count,
                len: self.len + 1,
                read: Read::Laid(Layout {
                    tail: Some(tail),
                    ..l
                }),
            },
            _ => {
                let len = self.len;
                Vectors::through(self.count, len + 1, move |v, t| {
                    if t < len {
                        self.at(v, t)
                    } else {
                        &tail[v]
                    }
                })
            }
        }
    }

    /// Every entry, vector by vector.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &'a S> + '_ {
        (0..self.count).flat_map(move |v| self.vector(v))
    }

    /// The entries of vector `v`.
    pub(crate) fn vector(&self, v: usize) -> impl Iterator<Item = &'a S> + '_ {
        (0..self.len).map(move |t| self.at(v, t))
    }

    /// The positions `keep` of every vector.
    pub(crate) fn picked<'v>(&'v self, keep: &'v [usize]) -> Vectors<'v, S>
    where
        'a: 'v,
    {
        let read = match self.read {
            Read::Laid(l @ Layout { keep: None, .. }) => Read::Laid(Layout {
                keep: Some(keep),
                ..l
            }),
            _ => Read::Through(Box::new(move |v, t| self.at(v, keep[t]))),
        };
        Vectors {
            count: self.count,
            len: keep.len(),
            read,
        }
    }
}
