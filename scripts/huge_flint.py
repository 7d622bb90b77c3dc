"""The MLP theorem's exact operations with python-flint, on the data examples/huge_values.rs wrote.

    python scripts/huge_flint.py DIR [--repeat N]

Reads DIR/huge_data.txt (`n h m`, then W1, b1, W2, b2, x, delta row-major, one p/q per line) and
prints `flint <seconds>`: the median of N runs (default 3) of the operations below, every value
an exact `fmpq` / `fmpq_mat`. When DIR/huge_ours.txt exists (our theorem's values), checks that
flint computed the same numbers.

What it mirrors (exactgrad::check::mlp_theorem; each value the theorem checks is computed once
here, while ours recomputes some, e.g. z1 in every step's guard check; that is part of our cost):
  1. z1 = W1 x + b1, the ReLU mask relu'(z1) (no coordinate zero), f(x) = W2 relu(z1) + b2;
  2. the closed form mlpDeriv(x) = W2 diag(mask) W1;
  3. the rules' backward: vjp = W1^T (mask * (W2^T delta)), against mlpDeriv^T delta;
  4. the Jacobian by forward mode (ours: jets seeded with the identity): the tangent block
     W2 (diag(mask) W1), computed again, against mlpDeriv;
  5. adjointness at the probe dx: jvp = W2 (mask * (W1 dx)), <jvp, delta> = <dx, vjp>;
  6. the kink radius rho = min_k |z1_k| / ||W1[k, :]||_1, the step (the largest power of two
     at most rho/2, as ours since the step became a power of two), the increment
     h = probe * step / max(||probe||_inf, 1), and f(x+h) - f(x) = J h = mlpDeriv h;
  7. fderiv: vjp against J^T delta.
"""

import statistics
import sys
import time

from flint import fmpq, fmpq_mat


def probe(n, salt):
    """exactgrad::strategy::probe for a vector of n entries."""
    out = []
    for k in range(n):
        v = fmpq(1 + (k + salt) % 9, 2 + k % 7)
        out.append(v if k % 2 == 0 else -v)
    return out


def power_of_two_at_most(r):
    """The largest 2^k <= r for r > 0 (fderiv's step: exactgrad::check::fderiv)."""
    p, q = int(r.p), int(r.q)
    k = p.bit_length() - q.bit_length()

    def two(e):
        return fmpq(2**e) if e >= 0 else fmpq(1, 2**-e)

    while two(k) > r:
        k -= 1
    while two(k + 1) <= r:
        k += 1
    return two(k)


def column(values):
    return fmpq_mat(len(values), 1, values)


def entries(mat):
    return [mat[i, j] for i in range(mat.nrows()) for j in range(mat.ncols())]


def read(path):
    with open(path) as f:
        tokens = f.read().split()
    n, h, m = (int(t) for t in tokens[:3])
    vals = [fmpq(*(int(p) for p in t.split("/"))) if "/" in t else fmpq(int(t)) for t in tokens[3:]]
    it = iter(vals)

    def take(r, c):
        return fmpq_mat(r, c, [next(it) for _ in range(r * c)])

    w1, b1, w2, b2, x, dy = take(h, n), take(h, 1), take(m, h), take(m, 1), take(n, 1), take(m, 1)
    return (n, h, m), (w1, b1, w2, b2, x, dy)


def theorem(dims, data):
    n, h, m = dims
    w1, b1, w2, b2, x, dy = data
    # 1. forward
    z1 = w1 * x + b1
    z = entries(z1)
    assert all(v != 0 for v in z), "x is on a kink"
    mask = [fmpq(1) if v > 0 else fmpq(0) for v in z]
    relu = column([v if v > 0 else fmpq(0) for v in z])
    out = w2 * relu + b2
    # 2. closed form: W2 diag(mask) W1 (masking W2's columns is a selection)
    w2m = fmpq_mat(m, h, [w2[i, j] * mask[j] for i in range(m) for j in range(h)])
    deriv = w2m * w1
    # 3. the rules' vjp, against deriv^T delta
    g = w2.transpose() * dy
    g = column([g[j, 0] * mask[j] for j in range(h)])
    vjp = w1.transpose() * g
    assert vjp == deriv.transpose() * dy
    # 4. forward mode: the tangent block of W2 relu(W1 x + b1) at the identity seed
    masked_w1 = fmpq_mat(h, n, [w1[i, j] * mask[i] for i in range(h) for j in range(n)])
    jac = w2 * masked_w1
    assert jac == deriv
    # 5. adjointness at dx
    dx = column(probe(n, 2))
    t = w1 * dx
    jvp = w2 * column([t[j, 0] * mask[j] for j in range(h)])
    lhs = (jvp.transpose() * dy)[0, 0]
    rhs = (dx.transpose() * vjp)[0, 0]
    assert lhs == rhs
    # 6. kink radius, increment
    rho = None
    for k in range(h):
        norm = sum((abs(w1[k, j]) for j in range(n)), fmpq(0))
        if norm != 0:
            r = abs(z[k]) / norm
            if rho is None or r < rho:
                rho = r
    step = power_of_two_at_most(rho / 2) if rho is not None else fmpq(1)
    direction = probe(n, 0)
    norm = max(max(abs(v) for v in direction), fmpq(1))
    scale = step / norm
    hv = column([v * scale for v in direction])
    xh = x + hv
    z1h = entries(w1 * xh + b1)
    out_h = w2 * column([v if v > 0 else fmpq(0) for v in z1h]) + b2
    increment = out_h - out
    assert increment == jac * hv
    assert increment == deriv * hv
    # 7. fderiv: vjp against J^T delta
    assert vjp == jac.transpose() * dy
    return {
        "z1": z,
        "mask": mask,
        "out": entries(out),
        "deriv": entries(deriv),
        "vjp": entries(vjp),
        "dx": entries(dx),
        "lhs": [lhs],
        "rho": [rho if rho is not None else fmpq(0)],
        "h": entries(hv),
        "increment": entries(increment),
    }


def main():
    args = sys.argv[1:]
    repeat = 3
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i : i + 2]
    d = args[0]
    dims, data = read(f"{d}/huge_data.txt")
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        values = theorem(dims, data)
        times.append(time.perf_counter() - t0)
    print(f"flint\t{statistics.median(times):.4f} s")
    try:
        with open(f"{d}/huge_ours.txt") as f:
            ours = f.read().split()
    except FileNotFoundError:
        return
    mine = [
        f"{v.p}/{v.q}"
        for key in ["z1", "mask", "out", "deriv", "vjp", "dx", "lhs", "rho", "h", "increment"]
        for v in values[key]
    ]
    if ours != mine:
        bad = next(i for i, (a, b) in enumerate(zip(ours, mine)) if a != b) if len(ours) == len(mine) else "length"
        sys.exit(f"flint and exactgrad differ (value {bad})")
    print(f"same values as exactgrad ({len(mine)} numbers)")


if __name__ == "__main__":
    main()
