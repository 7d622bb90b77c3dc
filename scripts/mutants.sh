#!/usr/bin/env bash
# Mutation testing of the op and check modules with cargo-mutants (not run in CI: slow).
#
# Every mutant (a plausible code change: a flipped comparison, a replaced return value, ...) must
# make some test fail. cargo-mutants reports each as caught, missed (tests still pass), unviable
# (does not compile) or timeout.
#
# Usage: scripts/mutants.sh [FILE_GLOB ...]
#   With no argument the scope is the rule-bearing ops and the core checks; pass globs to
#   choose (e.g. scripts/mutants.sh 'src/ops/*.rs' 'src/check/*.rs' for everything, ~580
#   mutants, several hours on 2 cores).
# Environment: PROPTEST_CASES (default 32 here: a wrong rule is caught on the first cases, and a
#   smaller count keeps each mutant's test run short), JOBS (default 1), TIMEOUT (seconds per
#   test run, default 300).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

if [ "$#" -eq 0 ]; then
    set -- src/ops/relu.rs src/ops/compose.rs src/check/adjoint.rs src/check/jacobian.rs \
        src/check/structural.rs
fi
args=()
for f in "$@"; do
    args+=(--file "$f")
done

export PROPTEST_CASES="${PROPTEST_CASES:-32}"
# Doctests are left out (--tests): they compile one binary each and add nothing to the
# integration tests that exercise the same code.
exec cargo mutants "${args[@]}" --jobs "${JOBS:-1}" --timeout "${TIMEOUT:-300}" \
    --no-shuffle --cargo-test-arg=--tests --output target/mutants
