#!/usr/bin/env bash
# Mutation testing of the op and check modules with cargo-mutants, one file at a time (not run in
# CI: slow).
#
# Every mutant (a plausible code change: a flipped comparison, a replaced return value, ...) must
# make some test fail. cargo-mutants reports each as caught, missed (tests still pass), unviable
# (does not compile) or timeout.
#
# Usage: scripts/mutants.sh [FILE ...]
#   With no argument: src/check/*.rs, then src/ops/*.rs (about 3,500 mutants with cargo-mutants
#   27: days on 2 cores, so pass the files to run next).
# For each file, only the tests that can see it are run: the library's and the integration
# crate's tests whose name contains the file's stem (`relu` for src/ops/relu.rs: the unit tests
# in ops::relu and integration modules such as mutants::relu), plus the filters listed for the
# file in EXTRA below. A mutant missed under this filter may still be caught by another test:
# rerun it without the filter before calling it a gap.
# Files in src/ops run in two passes: the library's unit tests alone first (timeout: TIMEOUT if
# set, else cargo-mutants' own from the unmutated run), then the missed mutants again with the
# integration crate too (LIB_FIRST=0: one pass, as elsewhere).
# Each file appends a row to scripts/mutants_progress.md (file, mutants, caught, missed,
# unviable, timeouts, minutes); the mutants' lists are in target/mutants-out/<file>/mutants.out.
# Environment: PROPTEST_CASES (default 32 here: a wrong rule is caught on the first cases, and a
#   smaller count keeps each mutant's test run short), TIMEOUT (seconds per test run, default
#   300; in the first pass of a src/ops file, cargo-mutants' own).
#
# Mutants are applied in place (--in-place, which implies one job at a time) so that every file reuses one build directory
# (target/mutants, profile `mutants` in Cargo.toml) instead of rebuilding the dependencies in a
# copy: do not edit src/ or tests/ while it runs. cargo-mutants restores each file after its
# mutant; the script refuses to start on uncommitted changes in src/ and checks after each file.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

# Test-name filters beyond the file's stem, for files whose tests are named otherwise.
declare -A EXTRA=(
    [src/check/mod.rs]="check::tests suite::"
    [src/check/gradient.rs]="kinks:: theorem::"
    [src/check/deep_theorem.rs]="deep_mlp"
    [src/check/theorem.rs]="mlp_theorem"
    [src/check/structural.rs]="suite:: mutants::"
    [src/check/model.rs]="onnx::"
    [src/check/planted.rs]="mutants::"
    [src/check/randomized.rs]="modular::"
    [src/check/grade.rs]="onnx::"
    [src/ops/compose.rs]="mutants::compose suite::"
    [src/ops/relu.rs]="mutants::relu suite::"
    # The suite's files: its own unit tests (check::suite::…) and the integration modules that
    # run check_op, check_family, check_kinks or check_poles on the files' paths.
    [src/check/suite/family.rs]="suite::"
    [src/check/suite/parameters.rs]="suite:: stages:: mutants::mlp scale::"
    [src/check/suite/case.rs]="suite:: mutants:: stages::"
    [src/check/suite/report.rs]="suite:: mutants:: stages:: kinks:: poles:: scale::"
    [src/check/suite/kinks.rs]="suite:: mutants::relu robustness:: error::"
    [src/check/suite/checks.rs]="suite:: mutants:: stages:: kinks:: poles::"
    [src/check/suite/progress.rs]="suite:: scale::"
    [src/check/suite/poles.rs]="suite:: ops::div ops::power"
    [src/check/suite/stages.rs]="suite:: mutants::"
    [src/check/suite/config.rs]="suite:: mutants:: scale::"
    [src/check/suite/shrink.rs]="suite:: mutants:: stages:: scale::"
    [src/check/suite/branches.rs]="suite:: mutants::branches comparisons::"
    [src/check/suite/steer.rs]="suite:: mutants::branches comparisons::"
    [src/check/suite/runner.rs]="suite:: mutants:: stages:: kinks:: poles:: scale:: exp_field:: steering::"
    # Helpers shared by ops: the unit tests of the ops that call them (`ops::abs`, …) and the
    # integration modules that run those ops; `no_kinks` (hypothesis.rs) is called by the
    # checks, so its filter is theirs. derived.rs needs none: nothing but its own tests calls it.
    [src/ops/coordinate_guards.rs]="ops::abs ops::elu ops::l1_loss ops::leaky_relu ops::softsign"
    [src/ops/pointwise.rs]="ops::elu ops::exp ops::gelu ops::log ops::sigmoid ops::silu ops::softmax ops::softplus ops::tanh"
    [src/ops/hypothesis.rs]="kink jet:: tape:: suite:: theorem:: fderiv::"
    [src/ops/piecewise.rs]="ops::relu ops::abs ops::elu ops::deep_mlp ops::softplus ops::mlp ops::log ops::l1_loss mutants::relu mutants::mlp kinks::"
    [src/ops/stacked.rs]="ops::mul ops::div ops::concat"
    [src/ops/gather.rs]="ops::reduce ops::broadcast_add ops::broadcast_mul ops::slice ops::transpose ops::concat ops::pad"
    [src/ops/pool_window.rs]="ops::avg_pool ops::max_pool torch_conv::"
    [src/ops/params.rs]="parameters:: ops::linear ops::conv ops::compose ops::sequential ops::mlp modular::"
    # The op contract's default methods run under every check.
    [src/ops/contract.rs]="ops:: check:: suite:: mutants::"
    [src/ops/loss_reduction.rs]="ops::mse_loss ops::l1_loss ops::huber_loss parameters:: torch_conv::"
)

# Tests left out of a file's filter: slow ones that exercise the file only the way faster
# selected tests do. contract.rs's filter selects nearly every unit test (87 s unmutated); the
# CNN's gradients (56 s) and the ops over the exp field (55 s more) call its default methods as
# every other op does. A mutant missed without them is killed by a new test or shown equivalent.
declare -A SKIP=(
    [src/ops/contract.rs]="ops::compose::tests::cnn_gradients_are_exact ops::cross_entropy:: ops::gelu:: ops::softmax:: ops::log_softmax::"
)

if [ "$#" -eq 0 ]; then
    set -- src/check/*.rs src/ops/*.rs
fi

if ! git diff --quiet -- src tests; then
    echo "mutants.sh: uncommitted changes in src/ or tests/; commit them first" >&2
    exit 2
fi

export PROPTEST_CASES="${PROPTEST_CASES:-32}"
progress=scripts/mutants_progress.md
if [ ! -f "$progress" ]; then
    {
        echo "| file | mutants | caught | missed | unviable | timeouts | minutes | commit |"
        echo "|---|---|---|---|---|---|---|---|"
    } >"$progress"
fi

# A mutant that fails a property test makes proptest save its seed: proptest's own macros
# honour PROPTEST_DISABLE_FAILURE_PERSISTENCE, but a CheckConfig with `regressions(file!())`
# sets its file explicitly, so after each file the script deletes the regression files that
# appeared during its run and restores the committed ones.
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1
new_regressions() {
    git ls-files --others --exclude-standard | grep -E 'proptest-regressions' || true
}
forget_regressions() {
    local f
    comm -13 <(printf '%s\n' "$1" | LC_ALL=C sort) <(new_regressions | LC_ALL=C sort) | while IFS= read -r f; do
        [ -n "$f" ] && rm -f -- "$f" && echo "mutants.sh: removed $f" >&2
    done
    git ls-files -m | { grep -E 'proptest-regressions' || true; } | while IFS= read -r f; do
        git checkout -- "$f" && echo "mutants.sh: restored $f" >&2
    done
}

# src/ops files run in two passes (see below); LIB_FIRST=0 runs them in one, as the others.
lib_first() { [ "${LIB_FIRST:-1}" = 1 ] && [[ "$1" == src/ops/* ]]; }

# Lines of a mutants list; after a second pass, only those of mutants it was asked to rerun:
# cargo-mutants 27.1 adds every "delete field … from struct … expression" mutant to a run
# filtered by `--re`, which counted those caught in pass 1 twice.
count() {
    if [ ! -f "$1" ]; then
        echo 0
    elif [ -n "$rerun_of" ]; then
        grep -Fxf "$rerun_of" "$1" | grep -c . || true
    else
        grep -c . "$1" || true
    fi
}

for file in "$@"; do
    stem=$(basename "$file" .rs)
    [ "$stem" = mod ] && stem=$(basename "$(dirname "$file")")
    filters=("$stem")
    # Every proof's Display is tested in failure_text.rs; every op's name in ops::names, its
    # accessors in ops::accessors.
    case "$file" in
        src/check/*) filters+=("failure_text::") ;;
        src/ops/*) filters+=("ops::names::" "ops::accessors::") ;;
    esac
    for extra in ${EXTRA[$file]:-}; do
        filters+=("$extra")
    done
    # Under the mutants profile (opt-level 0) this test's shrinking of a 48→24 layer runs out of
    # its 30 s budget before reaching the minimal case, so the unmutated tree fails it; the
    # shrinking's own unit tests (check::suite::shrink) stay.
    filters+=(--skip scale::shrinking_within_its_budget_gives_the_minimal_case)
    for skip in ${SKIP[$file]:-}; do
        filters+=(--skip "$skip")
    done
    regressions_before=$(new_regressions)
    out="target/mutants-out/${file//\//_}"
    mkdir -p "$out"
    start=$(date +%s)
    # Exit status 2 means "some mutants missed", which is a result, not a failure of the run.
    # Doctests, benches and examples are left out: the library's and the integration crate's
    # tests exercise the same code.
    status=0
    # `--cargo-arg` reaches both the build step (`cargo test --no-run`) and the test step, so
    # the build compiles the library, the binary and the integration crate only; the arguments
    # after `--` reach the test step only (cargo-mutants 27: `--` then the test-name filters).
    common=(--in-place --profile mutants --file "$file" --no-shuffle --output "$out")
    d="$out/mutants.out"
    # Pass 1's caught, unviable and timeouts when a second pass replaces its lists.
    first=(0 0 0)
    rerun_of=
    if lib_first "$file"; then
        # Pass 1 builds and runs the library's unit tests only: an op's check_op! test and its
        # planted wrong rule sit beside the rule, and skipping the integration crate (and the
        # library's non-test build it needs) makes each mutant's build much shorter. Its timeout
        # is cargo-mutants' own, from the unmutated tests' time: seconds for an op whose filter
        # selects its own tests, minutes for mod.rs, whose stem selects all of ops. Pass 2 reruns
        # only the mutants pass 1 missed, with the integration crate too, so that a file's
        # verdicts are those of one full pass.
        cargo mutants "${common[@]}" ${TIMEOUT:+--timeout "$TIMEOUT"} --cargo-arg=--lib \
            -- -- "${filters[@]}" || status=$?
        if [ "$status" -eq 2 ]; then
            rerun=()
            while IFS= read -r name; do
                # The whole name as a regex: escape the regex metacharacters it contains.
                rerun+=(--re "^$(printf '%s' "$name" | sed 's/[][\\.*^$+?(){}|]/\\&/g')\$")
            done <"$d/missed.txt"
            first=("$(count "$d/caught.txt")" "$(count "$d/unviable.txt")" "$(count "$d/timeout.txt")")
            rerun_of="$out/pass1_missed.txt"
            cp "$d/missed.txt" "$rerun_of"
            status=0
            cargo mutants "${common[@]}" --timeout "${TIMEOUT:-300}" --baseline=skip "${rerun[@]}" \
                --cargo-arg=--lib --cargo-arg=--test=integration \
                -- -- "${filters[@]}" || status=$?
        fi
    else
        cargo mutants "${common[@]}" --timeout "${TIMEOUT:-300}" \
            --cargo-arg=--lib --cargo-arg=--test=integration \
            -- -- "${filters[@]}" || status=$?
    fi
    minutes=$(( ($(date +%s) - start + 30) / 60 ))
    forget_regressions "$regressions_before"
    if ! git diff --quiet -- src; then
        echo "mutants.sh: $file left modified after cargo-mutants" >&2
        exit 3
    fi
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ] && [ "$status" -ne 3 ]; then
        echo "mutants.sh: cargo mutants exited $status on $file; no row written" >&2
        continue
    fi
    caught=$((first[0] + $(count "$d/caught.txt")))
    unviable=$((first[1] + $(count "$d/unviable.txt")))
    timeouts=$((first[2] + $(count "$d/timeout.txt")))
    missed=$(count "$d/missed.txt")
    total=$((caught + missed + unviable + timeouts))
    echo "| \`$file\` | $total | $caught | $missed | $unviable | $timeouts | $minutes | $(git rev-parse --short HEAD) |" >>"$progress"
    if [ "$missed" -gt 0 ]; then
        echo "missed in $file:" >&2
        cat "$d/missed.txt" >&2
    fi
done
