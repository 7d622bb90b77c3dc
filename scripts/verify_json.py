#!/usr/bin/env python3
"""Recomputes exactgrad's --json output with Python's fractions, independently of the crate.

Usage: cargo run --release -- --dims 5,7,3 --seed 1 --json | python3 scripts/verify_json.py
Checks z1 = W1·x + b1, the mask, J = W2·diag(mask)·W1, vjp = Jᵀ·δ, the output, the adjoint
pair and the kink radius. Exits 1 with the first mismatch.
"""
import json
import sys
from fractions import Fraction as F


def vec(v):
    return [F(s) for s in v]


def mat(m):
    return [vec(r) for r in m]


def main():
    d = json.load(sys.stdin)
    if d.get("verdict") != "holds":
        sys.exit(f"verdict is {d.get('verdict')!r}: {d.get('error')}")
    W1, b1, W2, b2 = mat(d["W1"]), vec(d["b1"]), mat(d["W2"]), vec(d["b2"])
    x, delta = vec(d["x"]), vec(d["delta"])
    n, h, m = len(x), len(b1), len(b2)
    if d["dims"] != [n, h, m]:
        sys.exit(f"dims {d['dims']} disagree with the weights ({n}, {h}, {m})")
    z1 = [sum(W1[i][j] * x[j] for j in range(n)) + b1[i] for i in range(h)]
    if any(z == 0 for z in z1):
        sys.exit("a pre-activation is zero: the point is on a kink")
    mask = [F(1) if z > 0 else F(0) for z in z1]
    J = [[sum(W2[k][i] * mask[i] * W1[i][j] for i in range(h)) for j in range(n)] for k in range(m)]
    vjp = [sum(J[k][j] * delta[k] for k in range(m)) for j in range(n)]
    out = [sum(W2[k][i] * max(z1[i], F(0)) for i in range(h)) + b2[k] for k in range(m)]
    rows = [sum(abs(w) for w in W1[i]) for i in range(h)]
    radii = [abs(z1[i]) / rows[i] for i in range(h) if rows[i] != 0]
    dx = vec(d["adjoint"]["dx"])
    lhs = sum(sum(J[k][j] * dx[j] for j in range(n)) * delta[k] for k in range(m))
    checks = {
        "z1": (vec(d["z1"]), z1),
        "mask": (vec(d["mask"]), mask),
        "jacobian": (mat(d["jacobian"]), J),
        "vjp": (vec(d["vjp"]), vjp),
        "output": (vec(d["output"]), out),
        "adjoint": ((F(d["adjoint"]["jvp_dot_delta"]), F(d["adjoint"]["dx_dot_vjp"])), (lhs, lhs)),
    }
    # The radius from layer-1 guards alone; exactgrad's must not exceed it (later guards can
    # only shrink it), and for Linear → ReLU → Linear there are no later guards.
    if radii:
        checks["radius"] = (F(d["radius"]), min(radii))
    for name, (got, want) in checks.items():
        if got != want:
            sys.exit(f"{name}: exactgrad printed {got}, recomputed {want}")
    print(f"verified {n}→{h}→{m}: z1, mask, Jacobian, VJP, output, adjoint pair and radius agree exactly")


if __name__ == "__main__":
    main()
