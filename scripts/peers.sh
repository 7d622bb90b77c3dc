#!/usr/bin/env bash
# Runs our benchmarks and both peer scripts back to back and prints the ratios (by hand, never
# in CI: the machine is shared and noisy, so only ratios from one run are meaningful).
#
# Setup once, outside the repository:
#     python3 -m venv ../.peers-venv
#     ../.peers-venv/bin/pip install numpy sympy python-flint jax jaxlib torch
# Run:
#     scripts/peers.sh [OUT_DIR]            # default OUT_DIR=target/peers; ~20–30 min
# Environment: PEERS_VENV (default ../.peers-venv), PEERS_DIR (default ../shared/peers),
#              QUICK=1 (exact_peers --quick, fewer float repeats).
# Writes OUT_DIR/{data/, ours_once.txt, ours_one_thread.txt, exact_peers.txt, torch_sizes.txt,
# run_peers/results.json, table.md} and
# prints table.md: medians per size and weight kind, and our time divided by each peer's.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/peers}
VENV=${PEERS_VENV:-../.peers-venv}
PEERS=${PEERS_DIR:-../shared/peers}
PY="$VENV/bin/python"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -x "$PY" ] || { echo "no peer venv at $VENV (see the header of this script)"; exit 1; }

echo "== machine"; { uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo || true;
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$OUT/machine.txt"

echo "== our data files and single-run timings"
cargo build --release --examples --benches -q
./target/release/examples/peer_data "$OUT/data" --time --theorem | tee "$OUT/ours_once.txt"
echo "== the same on one thread (the residue kernels otherwise use every core)"
RAYON_NUM_THREADS=1 ./target/release/examples/peer_data "$OUT/data" --theorem \
    | tee "$OUT/ours_one_thread.txt"
/usr/bin/time -v ./target/release/examples/peer_data "$OUT/data784" --only 784x512x10 --theorem \
    2> "$OUT/peak_784.txt" >/dev/null
grep -E "Maximum resident" "$OUT/peak_784.txt"

echo "== our criterion benches"
cargo bench -q --bench jacobian 2>&1 | grep -E "^(jacobian|theorem)|time:" || true
cargo bench -q --bench randomized 2>&1 | grep -E "^randomized|time:" || true

echo "== exact peers (python-flint, SymPy)"
Q=""; [ "${QUICK:-0}" = 1 ] && Q="--quick"
"$PY" "$PEERS/exact_peers.py" "$OUT/data" $Q | tee "$OUT/exact_peers.txt"

echo "== float peers (torch gradcheck, jax check_grads)"
REP=5; [ "${QUICK:-0}" = 1 ] && REP=3
"$PY" "$PEERS/run_peers.py" --sizes "16,16,4;64,64,10;256,128,10" --skip sympy,probes \
    --repeats $REP --out-dir "$OUT/run_peers" > "$OUT/run_peers.md"

echo "== torch on our networks, every size (gradcheck slow w.r.t. x, fast_mode, one f64 pass)"
"$PY" scripts/torch_sizes.py "$OUT/data" 16x16x4 64x64x10 256x128x10 784x512x10 --repeats $REP \
    | tee "$OUT/torch_sizes.txt"

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

echo "== ratios"
"$PY" - "$OUT" <<'PYEOF' | tee "$OUT/table.md"
import json, os, sys, statistics
out = sys.argv[1]
crit = "target/criterion"
def ours(group, case, size):
    p = os.path.join(crit, group, case, size, "new", "estimates.json")
    if not os.path.exists(p):
        return None
    return json.load(open(p))["median"]["point_estimate"] / 1e6  # ms
once = {}
for line in open(os.path.join(out, "ours_once.txt")):
    name, what, ms, _ = line.split()
    once[(name, what)] = float(ms)
one = {}
for line in open(os.path.join(out, "ours_one_thread.txt")):
    name, what, ms, _ = line.split()
    one[(name, what)] = float(ms)
tsz = {}
for line in open(os.path.join(out, "torch_sizes.txt")):
    size, what, ms, _ = line.split()
    tsz[(size, what)] = float(ms)
exact = {}
for line in open(os.path.join(out, "exact_peers.txt")):
    if line.startswith("RESULT"):
        _, size, case, op, impl, med, *_ = line.rstrip("\n").split("\t")
        exact[(size, case[0], op, impl.split(" [")[0])] = float(med)
rp = json.load(open(os.path.join(out, "run_peers", "results.json")))["timing"]
def peer(key, size):
    v = rp.get(key, {}).get(size.replace("x", ","))
    return v["median"] * 1e3 if v else None
def f(v):
    return "–" if v is None else (f"{v:.3g}" if v < 100 else f"{v:.0f}")
def r(a, b):
    return "–" if a is None or b is None else f"{a / b:.2f}×"
sizes = ["16x16x4", "64x64x10", "256x128x10", "784x512x10"]
print("### Exact Jacobian J = W2·diag(relu′)·W1 (ms, medians; ratio = ours / peer)\n")
print("| size | weights | ours | python-flint | SymPy Matrix(Rational) | ours/flint | SymPy/ours (speed-up) |")
print("|---|---|---|---|---|---|---|")
for s in sizes:
    for c in "ab":
        o = ours("jacobian", c, s)
        fl = exact.get((s, c, "jacobian", "python-flint fmpq_mat"))
        sy = exact.get((s, c, "jacobian", "sympy Matrix(Rational)"))
        print(f"| {s} | {c} | {f(o)} | {f(fl)} | {f(sy)} | {r(o, fl)} | {r(sy, o)} |")
print("\n### Checks (ms, medians; ours: weights (a) / (b); torch on the (b) network, one thread)\n")
print("| size | ours: theorem w.r.t. x | torch gradcheck slow w.r.t. x | theorem / slow | ours: modular w.r.t. x + all weights (one thread) | ours: exact randomized w.r.t. x + all | torch gradcheck fast_mode w.r.t. all | jax check_grads w.r.t. all | modular / fast_mode | modular, first check on fresh weights / fast_mode | floor: one f64 forward+backward, ours / torch |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for s in sizes:
    th = [ours("theorem_wrt_x", c, s) or once.get((f"{s}_{c}", "theorem_wrt_x")) for c in "ab"]
    ma = [ours("modular_wrt_all", c, s) for c in "ab"]
    m1 = [one.get((f"{s}_{c}", "modular_wrt_all")) for c in "ab"]
    mf = [once.get((f"{s}_{c}", "modular_wrt_all_first")) for c in "ab"]
    ra = [ours("randomized_wrt_all", c, s) for c in "ab"]
    ts_x = tsz.get((s, "torch_gradcheck_slow_wrt_x"))
    tf_a = tsz.get((s, "torch_gradcheck_fast_wrt_all"))
    jx_a = peer("jax.check_grads order=1 wrt all", s)
    fl_o = once.get((f"{s}_b", "floor_f64_forward_backward"))
    fl_t = tsz.get((s, "torch_f64_forward_backward"))
    print(f"| {s} | {f(th[0])} / {f(th[1])} | {f(ts_x)} | {r(th[0], ts_x)} / {r(th[1], ts_x)} | {f(ma[0])} / {f(ma[1])} ({f(m1[0])} / {f(m1[1])}) | {f(ra[0])} / {f(ra[1])} | {f(tf_a)} | {f(jx_a)} | {r(ma[0], tf_a)} / {r(ma[1], tf_a)} | {r(mf[0], tf_a)} / {r(mf[1], tf_a)} | {f(fl_o)} / {f(fl_t)} |")
peak = [l for l in open(os.path.join(out, "peak_784.txt")) if "Maximum resident" in l]
if peak:
    kb = int(peak[0].split()[-1])
    print(f"\nPeak memory at 784×512×10 (both weight kinds: Jacobian, theorem, exact and modular randomized checks, f64 pass): {kb / 1024:.0f} MiB")
PYEOF
