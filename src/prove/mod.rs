//! Proofs about whole regions of input space, beyond single points.

pub(crate) mod lp;
