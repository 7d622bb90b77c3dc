#!/usr/bin/env python3
"""Recomputes exactgrad's --json output with Python's fractions, independently of the crate.

Usage: cargo run --release -- --dims 5,7,3 --seed 1 --json | python3 scripts/verify_json.py
       (add --digests to also print each input tensor's digest as the text summaries show it)
Reads the layout of README's "JSON schema" (schema 1: tensors as {"shape", "data"}, values
"p/q"). For the 2-layer theorem it checks z1 = W1·x + b1, the mask, J = W2·diag(mask)·W1,
vjp = Jᵀ·δ, the output, the adjoint pair and the kink radius; for the deep theorem
(--deep) every pre-activation, mask, the output, J and the VJP. Exits 1 with the first mismatch.
"""
import json
import sys
from fractions import Fraction as F


def tensor(t, rank):
    """The values of a {"shape", "data"} tensor of the given rank, as nested lists."""
    shape, data = t["shape"], [F(s) for s in t["data"]]
    if len(shape) != rank:
        sys.exit(f"expected rank {rank}, got shape {shape}")
    size = 1
    for d in shape:
        size *= d
    if len(data) != size:
        sys.exit(f"shape {shape} holds {size} values, data has {len(data)}")
    if rank == 1:
        return data
    rows, cols = shape
    return [data[i * cols:(i + 1) * cols] for i in range(rows)]


def vec(t):
    return tensor(t, 1)


def mat(t):
    return tensor(t, 2)


def mat_vec(W, v):
    return [sum(w * x for w, x in zip(row, v)) for row in W]


def compare(checks):
    for name, (got, want) in checks.items():
        if got != want:
            sys.exit(f"{name}: exactgrad printed {got}, recomputed {want}")


def check_mlp(d):
    W1, b1, W2, b2 = mat(d["W1"]), vec(d["b1"]), mat(d["W2"]), vec(d["b2"])
    x, delta = vec(d["x"]), vec(d["delta"])
    n, h, m = len(x), len(b1), len(b2)
    if d["dims"] != [n, h, m]:
        sys.exit(f"dims {d['dims']} disagree with the weights ({n}, {h}, {m})")
    z1 = [z + b for z, b in zip(mat_vec(W1, x), b1)]
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
    # The radius from layer-1 guards alone; for Linear → ReLU → Linear there are no later guards.
    if radii:
        checks["radius"] = (F(d["radius"]), min(radii))
    compare(checks)
    return f"{n}→{h}→{m}: z1, mask, Jacobian, VJP, output, adjoint pair and radius"


def check_deep(d):
    layers = [(mat(l["W"]), vec(l["b"])) for l in d["layers"]]
    x, delta = vec(d["x"]), vec(d["delta"])
    widths = [len(x)] + [len(b) for _, b in layers]
    if d["widths"] != widths:
        sys.exit(f"widths {d['widths']} disagree with the layers {widths}")
    a, J = x, None
    zs, masks = [], []
    for k, (W, b) in enumerate(layers):
        z = [v + c for v, c in zip(mat_vec(W, a), b)]
        # J = W_k·D_(k−1)···W_1, built one layer at a time.
        J = W if J is None else [[sum(W[i][l] * J[l][j] for l in range(len(J))) for j in range(len(x))] for i in range(len(W))]
        if k == len(layers) - 1:
            a = z
            break
        if any(v == 0 for v in z):
            sys.exit(f"a pre-activation of layer {k + 1} is zero: the point is on a kink")
        mask = [F(1) if v > 0 else F(0) for v in z]
        zs.append(z)
        masks.append(mask)
        J = [[mask[i] * v for v in row] for i, row in enumerate(J)]
        a = [max(v, F(0)) for v in z]
    vjp = [sum(J[k][j] * delta[k] for k in range(len(delta))) for j in range(len(x))]
    compare({
        "pre_activations": ([vec(z) for z in d["pre_activations"]], zs),
        "masks": ([vec(m) for m in d["masks"]], masks),
        "output": (vec(d["output"]), a),
        "jacobian": (mat(d["jacobian"]), J),
        "vjp": (vec(d["vjp"]), vjp),
    })
    return "→".join(map(str, widths)) + ": pre-activations, masks, output, Jacobian and VJP"


def digest(t):
    """FNV-1a (64 bits) of the entries as the derivation prints them ("3", "-1/2"), each
    followed by ",": the digest of the text summaries (src/report/summary.rs)."""
    h = 0xCBF29CE484222325
    for s in t["data"]:
        for b in (str(F(s)) + ",").encode():
            h = ((h ^ b) * 0x100000001B3) % 2**64
    return f"{h:016x}"


def main():
    d = json.load(sys.stdin)
    if d.get("schema") != 1:
        sys.exit(f"schema {d.get('schema')!r}: this script reads schema 1")
    if d.get("verdict") != "holds":
        sys.exit(f"verdict is {d.get('verdict')!r}: {json.dumps(d.get('error'))}")
    what = check_deep(d) if "layers" in d else check_mlp(d)
    print(f"verified {what} agree exactly")
    if "--digests" in sys.argv[1:]:
        for key in ["W1", "b1", "W2", "b2", "x", "delta"]:
            if key in d:
                print(f"digest {key} = {digest(d[key])}")


if __name__ == "__main__":
    main()
