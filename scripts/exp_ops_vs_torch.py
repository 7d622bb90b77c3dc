#!/usr/bin/env python3
"""Torch float64 against the exact values of the exp/log ops (by hand; CI does not need torch).

    cargo run --release --example exp_ops_exact > /tmp/exact.json
    /path/to/venv/bin/python scripts/exp_ops_vs_torch.py /tmp/exact.json

The example prints, for each op at dyadic inputs (exactly representable in float64), certified
rational enclosures (2^-200 wide) of the exact forward values and of the exact VJP at a dyadic
cotangent. This script runs torch's float64 forward and backward at the same inputs and reports
the largest error of each, in units in the last place (ulp) of the exact value.
"""
import json
import math
import sys
from fractions import Fraction

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def frac(s):
    return Fraction(s)


def ulps(got, lo, hi):
    mid = (frac(lo) + frac(hi)) / 2
    err = abs(Fraction(got) - mid)
    return float(err / Fraction(math.ulp(float(mid)) if float(mid) != 0 else math.ulp(0.0)))


def torch_op(case):
    name, p = case["op"], case.get("params", {})
    if name == "Exp":
        return torch.exp
    if name == "Log":
        return torch.log
    if name == "Sigmoid":
        return torch.sigmoid
    if name == "Tanh":
        return torch.tanh
    if name == "Silu":
        return F.silu
    if name == "Softplus":
        return lambda x: F.softplus(x, beta=float(frac(p["beta"])), threshold=float(frac(p["threshold"])))
    if name == "Elu":
        return lambda x: F.elu(x, alpha=float(frac(p["alpha"])))
    if name == "GeluTanh":
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "Softmax":
        return lambda x: torch.softmax(x, dim=p["axis"])
    if name == "LogSoftmax":
        return lambda x: torch.log_softmax(x, dim=p["axis"])
    if name == "CrossEntropy":
        target = torch.tensor(p["classes"])
        return lambda x: F.cross_entropy(x, target, reduction=p["reduction"])
    raise SystemExit(f"unknown op {name}")


def main():
    data = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    print(f"torch {torch.__version__}, float64; error in ulps of the exact value")
    print(f"{'op':<28} {'n':>3} {'forward max ulps':>17} {'at x':>9} {'vjp max ulps':>13} {'at x':>9}")
    for case in data:
        x = torch.tensor([float(frac(v)) for v in case["x"]]).reshape(case["shape"])
        x.requires_grad_(True)
        y = torch_op(case)(x)
        dy = torch.tensor([float(frac(v)) for v in case["dy"]]).reshape(y.shape)
        (g,) = torch.autograd.grad(y, x, dy)
        xs = x.detach().flatten().tolist()
        fwd = [ulps(a, *b) for a, b in zip(y.detach().flatten().tolist(), case["forward"])]
        vjp = [ulps(a, *b) for a, b in zip(g.flatten().tolist(), case["vjp"])]
        # The input coordinate of the worst entry (for elementwise ops, the entry itself).
        fx = xs[fwd.index(max(fwd))] if len(fwd) == len(xs) else float("nan")
        vx = xs[vjp.index(max(vjp))]
        print(
            f"{case['label']:<28} {len(case['x']):>3} {max(fwd):>17.2f} {fx:>9} "
            f"{max(vjp):>13.2f} {vx:>9}"
        )


if __name__ == "__main__":
    main()
