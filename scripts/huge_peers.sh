#!/usr/bin/env bash
# The MLP theorem on huge exact values, ours and python-flint's same exact operations, back to
# back on the same data (by hand, never in CI: the machine is shared and noisy, so only the
# ratios of one run mean anything).
#
#     scripts/huge_peers.sh [OUT_DIR]     # default OUT_DIR=target/huge_peers
# Environment: PEERS_VENV (default ../.peers-venv, with python-flint), CASES (default
# "8x8x4:1000 8x8x4:10000 4x4x2:10000": SIZE:BITS pairs), REPEAT (default 3: the median of that
# many runs of each side).
# Writes OUT_DIR/SIZE_BITS/{huge_data.txt, huge_ours.txt} (flint checks it got the same values)
# and prints a markdown table: ours, flint, ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/huge_peers}
VENV=${PEERS_VENV:-../.peers-venv}
PY="$VENV/bin/python"
CASES=${CASES:-"8x8x4:1000 8x8x4:10000 4x4x2:10000"}
REPEAT=${REPEAT:-3}
[ -x "$PY" ] || { echo "no peer venv at $VENV (python -m venv, pip install python-flint)"; exit 1; }
cargo build --release -q --example huge_values
mkdir -p "$OUT"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=""
for c in $CASES; do
    size=${c%%:*}; bits=${c##*:}; dir="$OUT/${size}_${bits}"
    ours=$(./target/release/examples/huge_values --size "$size" --bits "$bits" --repeat "$REPEAT" \
        --out "$dir" | awk '/^theorem/{print $2}')
    flint_out=$("$PY" scripts/huge_flint.py "$dir" --repeat "$REPEAT")
    flint=$(echo "$flint_out" | awk '/^flint/{print $2}')
    same=$(echo "$flint_out" | grep -c "same values" || true)
    ratio=$(awk -v a="$ours" -v b="$flint" 'BEGIN{printf "%.2f", a/b}')
    echo "$size, $bits bits: ours $ours s, flint $flint s, ratio $ratio (same values: $same)"
    rows+="| $size | $bits | $ours s | $flint s | ${ratio}× |"$'\n'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| network | bits | ours (mlp_theorem) | python-flint (same operations) | ours / flint |"
echo "|---|---|---|---|---|"
printf "%s" "$rows"
