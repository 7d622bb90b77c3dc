//! One nudge to the system allocator, so that a check's large temporaries reuse memory instead
//! of being faulted in afresh by every check.
//!
//! glibc's `malloc` serves a block above its mmap threshold with a fresh mapping, and gives the
//! top of its heap back to the system once more than twice that threshold lies free there. The
//! threshold starts at 128 KiB and rises to the size of the largest mapped block freed so far,
//! up to 32 MiB (`mallopt(3)`, "dynamic mmap threshold"). A check allocates and frees
//! parameter-sized buffers many times (about 10 MB in all for the modular check of a 256×128×10
//! network), so at the starting thresholds each check maps or grows that memory again and
//! takes a page fault per 4 KiB of it (118,688 faults in a loop of 80 such checks, 2,848 with
//! this; README "Performance"). Freeing one mapped block just below the cap raises both
//! thresholds for the rest of the process. The block is never written, so no page of it is
//! touched; on another allocator it is one allocation, freed.

use std::sync::Once;

/// Below glibc's cap on the dynamic threshold (32 MiB on 64-bit targets), header included.
const BLOCK: usize = 31 << 20;

/// Raises glibc's mmap and trim thresholds, once per process (module docs).
pub(crate) fn settle() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(BLOCK))));
}
