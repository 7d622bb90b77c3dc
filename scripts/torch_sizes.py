"""torch's gradient checks and one float forward+backward pass on our benchmark networks.

By hand, never in CI (scripts/peers.sh calls it; torch is not a dependency of the crate):

    ../.peers-venv/bin/python scripts/torch_sizes.py DATA_DIR SIZE [SIZE ...] [--repeats N]

DATA_DIR holds the `data_SIZE_b.txt` files that `examples/peer_data.rs` writes (the exact values
of f64 weights, so torch runs the network we check, with b2 = 0). For each SIZE (e.g. 784x512x10),
prints tab-separated lines `SIZE  check  median_ms`, medians of N warm runs after one warm-up,
for: gradcheck (slow) w.r.t. x, gradcheck fast_mode w.r.t. x and all weights, and one float64
forward + backward pass (the gradients w.r.t. x and every weight) — torch's side of the
physical floor. One intra-op thread, as in ../shared/peers/run_peers.py. The slow check w.r.t.
all weights is left out: at 784x512x10 it perturbs 407,050 parameters one by one.
"""
import argparse
import statistics
import time
from fractions import Fraction

import torch


def load(path):
    tokens = open(path).read().split()
    n, h, m = (int(t) for t in tokens[:3])
    vals = [float(Fraction(t)) for t in tokens[3:]]
    i = 0

    def chunk(k):
        nonlocal i
        out = vals[i:i + k]
        i += k
        return out

    w1 = torch.tensor(chunk(h * n), dtype=torch.float64).reshape(h, n)
    b1 = torch.tensor(chunk(h), dtype=torch.float64)
    w2 = torch.tensor(chunk(m * h), dtype=torch.float64).reshape(m, h)
    x = torch.tensor(chunk(n), dtype=torch.float64)
    # The data files leave out b2: it enters no derivative, so zero stands in for it.
    b2 = torch.zeros(m, dtype=torch.float64)
    return x, w1, b1, w2, b2


def median_ms(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("sizes", nargs="+")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)

    def f(x, w1, b1, w2, b2):
        return w2 @ torch.relu(w1 @ x + b1) + b2

    for size in a.sizes:
        x, w1, b1, w2, b2 = load(f"{a.data_dir}/data_{size}_b.txt")
        params = [w1, b1, w2, b2]
        wrt_x = (x.clone().requires_grad_(True),)
        wrt_all = tuple(t.clone().requires_grad_(True) for t in [x] + params)
        gc = torch.autograd.gradcheck
        checks = {
            "torch_gradcheck_slow_wrt_x": lambda: gc(lambda x: f(x, *params), wrt_x),
            "torch_gradcheck_fast_wrt_x": lambda: gc(
                lambda x: f(x, *params), wrt_x, fast_mode=True),
            "torch_gradcheck_fast_wrt_all": lambda: gc(f, wrt_all, fast_mode=True),
        }
        dy = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(b2.numel())],
                          dtype=torch.float64)

        def forward_backward():
            for t in wrt_all:
                t.grad = None
            (f(*wrt_all) * dy).sum().backward()

        checks["torch_f64_forward_backward"] = forward_backward
        for name, fn in checks.items():
            torch.manual_seed(0)
            reps = a.repeats if name != "torch_f64_forward_backward" else 101
            print(f"{size}\t{name}\t{median_ms(fn, reps):.4f} ms", flush=True)


if __name__ == "__main__":
    main()
