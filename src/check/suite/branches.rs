//! Branch coverage: the op's comparisons (its calls of [`crate::Ordered`], recorded by
//! [`crate::scalar::comparisons`]) and which outcomes the cases reached at each, over a run.

use crate::error::{Result, UnreachedBranch};
use crate::ops::{CheckableOver, Exact, Guard, Op, OpSpec, Param};
use crate::scalar::comparisons::{observing, Recording, Seen, Site};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// The op under test, with every call of its own methods observed: the comparisons it makes
/// there are the op's, while those of the checker (guards, radii, the kernels) are not.
pub(super) struct Observed<'a, B: Exact>(pub &'a dyn CheckableOver<B>);

impl<B: Exact> Op for Observed<'_, B> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.0.is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        self.0.depth()
    }
    fn certified_guard_layers(&self) -> usize {
        self.0.certified_guard_layers()
    }
    fn params(&self) -> Vec<Param<'_>> {
        self.0.params()
    }
    fn param_count(&self) -> usize {
        self.0.param_count()
    }
}

impl<'a, B: Exact, S: Scalar> OpSpec<S> for Observed<'a, B>
where
    dyn CheckableOver<B> + 'a: OpSpec<S>,
{
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        observing(|| self.0.forward(x))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        observing(|| self.0.jvp(x, dx))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        observing(|| self.0.vjp(x, dy))
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.0.guards(x)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        observing(|| self.0.forward_with_params(params, x))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        observing(|| self.0.jvp_params(x, dparams))
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        observing(|| self.0.vjp_params(x, dy))
    }
}

/// One comparison site of the op and the outcomes the cases reached there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchCoverage {
    /// Where the comparison is made: `file:line:column` of the call.
    pub site: String,
    /// How many comparisons there, over the checked cases, saw the compared value `< 0`, `= 0`
    /// and `> 0`.
    pub reached: [u32; 3],
    /// The outcomes seen only at points that were then not checked (outside the domain, on a
    /// kink): the op's behaviour there needs no derivative, so they count as reached.
    pub outside_domain: [bool; 3],
    /// Whether the compared value changed from case to case; a comparison of a constant (a
    /// parameter's sign) has one outcome and no branch to reach.
    pub varies: bool,
}

impl BranchCoverage {
    /// Whether outcome `o` (`Less` or `Greater`) was reached, at a checked case or outside the
    /// domain.
    pub fn reaches(&self, o: Ordering) -> bool {
        let k = Seen::slot(o);
        self.reached[k] > 0 || self.outside_domain[k]
    }
}

impl fmt::Display for BranchCoverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [lt, eq, gt] = self.reached;
        write!(f, "{}: < 0 ×{lt}, = 0 ×{eq}, > 0 ×{gt}", self.site)?;
        let outside: Vec<&str> = ["< 0", "= 0", "> 0"]
            .iter()
            .zip(self.outside_domain)
            .filter(|(_, o)| *o)
            .map(|(s, _)| *s)
            .collect();
        if !outside.is_empty() {
            write!(f, " ({} outside the domain)", outside.join(", "))?;
        }
        if !self.varies {
            write!(f, " (a constant)")?;
        }
        Ok(())
    }
}

/// What a run saw at each site, split by whether the point was checked.
#[derive(Default)]
pub(super) struct Coverage {
    checked: BTreeMap<Site, Seen>,
    elsewhere: BTreeMap<Site, Seen>,
}

impl Coverage {
    /// Adds one case's recording: `checked` when the case was checked, not when its point was
    /// outside the domain or on a kink.
    pub fn add(&mut self, recording: &Recording, checked: bool) {
        let into = if checked {
            &mut self.checked
        } else {
            &mut self.elsewhere
        };
        for (site, seen) in &recording.sites {
            into.entry(*site).or_default().merge(seen);
        }
    }

    /// Notes that a point on the `outcome` side of `site`'s threshold was outside the domain.
    pub fn reached_outside(&mut self, site: Site, outcome: Ordering) {
        self.elsewhere.entry(site).or_default().outcomes[Seen::slot(outcome)] += 1;
    }

    /// Every site seen, in source order.
    pub fn sites(&self) -> Vec<Site> {
        let mut sites: Vec<Site> = self
            .checked
            .keys()
            .chain(self.elsewhere.keys())
            .copied()
            .collect();
        sites.sort();
        sites.dedup();
        sites
    }

    /// The report of each site.
    pub fn report(&self) -> Vec<BranchCoverage> {
        self.sites()
            .into_iter()
            .map(|site| {
                let none = Seen::default();
                let checked = self.checked.get(&site).unwrap_or(&none);
                let elsewhere = self.elsewhere.get(&site).unwrap_or(&none);
                let mut all = checked.clone();
                all.merge(elsewhere);
                BranchCoverage {
                    site: site.to_string(),
                    reached: checked.outcomes,
                    outside_domain: [0, 1, 2]
                        .map(|k| checked.outcomes[k] == 0 && elsewhere.outcomes[k] > 0),
                    varies: all.varied,
                }
            })
            .collect()
    }

    /// The sites with a side (`< 0` or `> 0`) not reached yet whose value varies: where
    /// steering should go first.
    pub fn one_sided(&self) -> Vec<Site> {
        self.sites()
            .into_iter()
            .zip(self.report())
            .filter(|(_, b)| !unreached(b).is_empty())
            .map(|(s, _)| s)
            .collect()
    }
}

/// The outcomes of `b` that no case reached, when its value varies.
pub(super) fn unreached(b: &BranchCoverage) -> Vec<UnreachedBranch> {
    if !b.varies {
        return Vec::new();
    }
    let taken = [Ordering::Less, Ordering::Equal, Ordering::Greater]
        .into_iter()
        .map(|o| (o, b.reached[Seen::slot(o)]))
        .max_by_key(|(_, n)| *n)
        .unwrap_or((Ordering::Equal, 0));
    [Ordering::Less, Ordering::Greater]
        .into_iter()
        .filter(|&o| !b.reaches(o))
        .map(|outcome| UnreachedBranch {
            site: b.site.clone(),
            outcome,
            taken,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::t;
    use crate::ops::{Linear, Relu, Tanh, Then};
    use crate::scalar::Q;

    /// The suite checks the `Observed` wrapper in the op's place, so everything it asks of the
    /// op must come back as the op answers it: a piecewise-linear network of three layers with
    /// parameters, and a smooth op without any.
    #[test]
    fn an_observed_op_answers_every_question_as_the_op_it_wraps() {
        let linear =
            |w: &[&str], b: &[&str]| Linear::new(t(&[2, 2], w), t(&[2], b)).expect("a 2→2 layer");
        let net = Then::new(
            Then::new(linear(&["1", "-2", "3", "1/2"], &["0", "1"]), Relu),
            linear(&["2", "0", "-1", "1"], &["1/3", "0"]),
        );
        let ops: [&dyn CheckableOver<Q>; 2] = [&net, &Tanh];
        for op in ops {
            let observed = Observed(op);
            assert_eq!(observed.name(), op.name());
            assert_eq!(observed.output_shape(&[2]), op.output_shape(&[2]));
            assert_eq!(observed.is_piecewise_linear(), op.is_piecewise_linear());
            assert_eq!(observed.depth(), op.depth());
            assert_eq!(
                observed.certified_guard_layers(),
                op.certified_guard_layers()
            );
            assert_eq!(observed.params(), op.params());
            assert_eq!(observed.param_count(), op.param_count());
        }
        // Values no constant replacement of a method returns.
        assert_eq!(
            (net.depth(), net.certified_guard_layers(), net.param_count()),
            (3, 3, 12)
        );
        assert_eq!(net.params().len(), 4);
        assert!(net.is_piecewise_linear() && !Tanh.is_piecewise_linear());
    }
}
