//! The record of comparisons made through `Ordered`: the caller's line and outcome, only inside
//! an observed scope, with the values on request.

use exactgrad::scalar::comparisons::{observing, record};
use exactgrad::scalar::Dual;
use exactgrad::{Ordered, Q};

fn q(n: i64) -> Q {
    Q::from_integer(n.into())
}

#[test]
fn records_the_callers_line_and_outcome_only_when_observing() {
    let (_, nothing) = record(false, || q(1).sign());
    assert!(nothing.sites.is_empty());
    let (_, seen) = record(true, || {
        observing(|| {
            for v in [-2, 3, 5] {
                let _ = Q::select(&q(v), q(1), q(0));
            }
            let _ = Dual::new(q(-1), q(7)).sign();
        })
    });
    assert_eq!(seen.sites.len(), 2);
    let (site, select) = seen
        .sites
        .iter()
        .find(|(_, s)| s.outcomes == [1, 0, 2])
        .expect("the select's site");
    assert!(site.file.ends_with("comparisons.rs"), "{site}");
    assert!(select.varied);
    let trace = seen.trace.expect("traced");
    assert_eq!(trace.len(), 4);
    // A dual number is compared by its real part.
    assert_eq!(trace[3].1, Some(q(-1)));
}

#[test]
fn a_site_comparing_one_value_has_not_varied() {
    let (_, seen) = record(false, || {
        observing(|| {
            for _ in 0..3 {
                let _ = q(4).sign();
            }
        })
    });
    let s = seen.sites.values().next().expect("one site");
    assert_eq!((s.outcomes, s.varied), ([0, 0, 3], false));
}

#[test]
fn an_outer_recording_also_gets_what_an_inner_one_saw() {
    let (inner, outer) = record(false, || {
        observing(|| {
            let _ = q(-1).sign();
            record(false, || q(2).sign()).1
        })
    });
    assert_eq!(inner.sites.len(), 1);
    assert_eq!(outer.sites.len(), 2);
}
