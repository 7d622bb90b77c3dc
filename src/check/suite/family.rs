//! [`check_family`]: the suite over ops drawn from a strategy, shrinking the op with the case.

use super::case::cases;
use super::checks::{check_case, descriptions, Subject};
use super::config::CheckConfig;
use super::report::{parameter_names, CheckReport, CheckResult};
use super::runner::{kink_everywhere, output_shape, run};
use super::Checkable;
use crate::ops::{CheckableOver, Op};
use crate::scalar::{Transcendental, Q};
use crate::strategy::nudge_off_kinks;
use proptest::prelude::*;

/// Checks every op drawn from `ops` (random weights, say) on inputs of `shape`: each case draws
/// an op and then its inputs, and shrinking minimises both, so the counterexample includes the
/// smallest weights that expose the bug. The op's `Debug` form appears in the case.
pub fn check_family<St>(ops: St, shape: &[usize], config: &CheckConfig) -> CheckResult<CheckReport>
where
    St: Strategy,
    St::Value: Checkable + Clone + 'static,
{
    let sample = crate::strategy::sample(&ops, config.seed);
    let out = output_shape(&sample, shape, config)?;
    let entries = config.entries_for::<Q>();
    let (in_shape, out_shape) = (shape.to_vec(), out.clone());
    let strategy = ops.prop_flat_map(move |op| {
        let nudging = op.clone();
        let xs = entries
            .tensor(&in_shape)
            .prop_map(move |x| nudge_off_kinks(&nudging, x));
        let params = op.param_count();
        (Just(op), cases(xs, &in_shape, &out_shape, params, &entries))
    });
    let name = format!("{} (drawn)", sample.name());
    let counts = run(
        name.clone(),
        &strategy,
        config,
        (|(_, case)| case, false),
        |(op, case)| {
            check_case(
                &Subject::<Q> {
                    op: op as &dyn CheckableOver<Q>,
                    looped: None,
                },
                case,
            )
        },
        kink_everywhere,
    )?;
    Ok(CheckReport {
        op: name,
        input_shape: shape.to_vec(),
        output_shape: out,
        cases: counts.passed,
        kinks_redrawn: counts.kinks,
        outside_domain_redrawn: counts.outside_domain,
        checks: descriptions(&Subject::<Q> {
            op: &sample,
            looped: None,
        }),
        parameters: parameter_names(&sample),
        seed: config.seed,
        scalar: <Q as Transcendental>::FIELD,
        steered: 0,
        branches: Vec::new(),
    })
}
