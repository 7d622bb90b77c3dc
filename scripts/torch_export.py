#!/usr/bin/env python3
"""Export a PyTorch module for `exactgrad check`: the ONNX model, a dyadic input and cotangent,
and torch's own gradients in float64 and float32 (by hand; CI never installs torch).

Check your own model (FACTORY is a function in MODULE_FILE.py returning a float32 nn.Module):

    python scripts/torch_export.py my_model.py:make_model --shape 2,3,8,8 out/ [--seed S] [--no-check]

Regenerate every committed fixture under tests/fixtures/onnx (the one by-hand command):

    python scripts/torch_export.py --fixtures tests/fixtures/onnx

For a module and an input, OUT_DIR receives:

- model.onnx      torch.onnx.export of the float32 module (opset 17, input "input", output
                  "output", static shapes, constant folding), parameters kept as initializers
                  named like the torch parameters (`fc1.weight`);
- input.npy       the input, float32, multiples of 1/8 in [-2, 2] (exact in float32 and float64);
- cotangent.npy   the output cotangent δ, float32, multiples of 1/4 in [-2, 2];
- grads_f64.npz   torch's gradients of <output, δ> in float64 (a deep copy of the module turned
                  to float64, which converts the float32 weights exactly), keyed by ONNX
                  initializer name, plus "input" for the input gradient;
- grads_f32.npz   the same gradients computed in float32;
- manifest.json   versions, opset, seed, op types and initializer names of the graph, shapes and
                  the command that made it.

Then, unless --no-check, it runs
`cargo run --release -q -- check OUT_DIR/model.onnx --input ... --cotangent ... --compare OUT_DIR/grads_f64.npz`
from the repository root and reports its exit code.

The weights are torch's default initialisation under the seed (`torch.manual_seed(seed)` right
before FACTORY is called); input and cotangent are drawn from a generator with the same seed.
The export aborts when the point sits on a kink: a ReLU input (nn.ReLU module) that is exactly
0, or a max-pool window (nn.MaxPool1d/2d module) whose maximum is attained twice, in float32 or
float64.
"""
import argparse
import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17
REPO = Path(__file__).resolve().parent.parent
FIXTURES_COMMAND = "python scripts/torch_export.py --fixtures tests/fixtures/onnx"


class KinkError(Exception):
    """The point is on a kink of the model (a ReLU input exactly 0 or a max-pool tie)."""


# ---------------------------------------------------------------------------------------------
# Dyadic data


def dyadic(shape, denominator, seed, offset):
    """Multiples of 1/denominator in [-2, 2], float32, drawn from a generator seeded by
    seed (+ offset, so input and cotangent differ)."""
    g = torch.Generator().manual_seed(seed * 1000 + offset)
    k = 2 * denominator
    ints = torch.randint(-k, k + 1, tuple(shape), generator=g)
    return (ints.to(torch.float64) / denominator).to(torch.float32)


# ---------------------------------------------------------------------------------------------
# Kink detection


def _pool_ties(pool, x):
    """Number of windows of the max-pool `pool` on `x` whose maximum is attained more than once."""
    if isinstance(pool, nn.MaxPool2d):
        ks, st, pd, dl = (nn.modules.utils._pair(v) for v in (pool.kernel_size, pool.stride, pool.padding, pool.dilation))
        xp = F.pad(x, (pd[1], pd[1], pd[0], pd[0]), value=float("-inf"))
        if pool.ceil_mode:
            # Extra bottom/right rows so the last (partial) windows exist; -inf never wins.
            xp = F.pad(xp, (0, st[1], 0, st[0]), value=float("-inf"))
        cols = F.unfold(xp, ks, dilation=dl, stride=st)  # [N, C*kh*kw, L]
        n, _, l = cols.shape
        cols = cols.view(n, x.shape[1], ks[0] * ks[1], l)
    elif isinstance(pool, nn.MaxPool1d):
        k, s, p, d = (v if isinstance(v, int) else v[0] for v in (pool.kernel_size, pool.stride, pool.padding, pool.dilation))
        xp = F.pad(x, (p, p + (s if pool.ceil_mode else 0)), value=float("-inf"))
        span = d * (k - 1) + 1
        starts = range(0, xp.shape[-1] - span + 1, s)
        cols = torch.stack([xp[..., i : i + span : d] for i in starts], dim=-1)  # [N, C, k, L]
    else:
        raise TypeError(f"unsupported pool {type(pool).__name__}")
    mx = cols.max(dim=2, keepdim=True).values
    ties = ((cols == mx) & torch.isfinite(mx)).sum(dim=2) > 1
    return int(ties.sum())


def check_kinks(module, x, label):
    """Run `module` on `x` with hooks; raise KinkError naming each ReLU zero and pool tie."""
    problems = []

    def hook(name):
        def f(mod, inputs, _out):
            t = inputs[0].detach()
            if isinstance(mod, nn.ReLU):
                zeros = int((t == 0).sum())
                if zeros:
                    problems.append(f"{label}: {zeros} input(s) of ReLU '{name}' are exactly 0")
            else:
                ties = _pool_ties(mod, t)
                if ties:
                    problems.append(f"{label}: {ties} window(s) of max-pool '{name}' have a tie")

        return f

    handles = [
        m.register_forward_hook(hook(n))
        for n, m in module.named_modules()
        if isinstance(m, (nn.ReLU, nn.MaxPool1d, nn.MaxPool2d))
    ]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    if problems:
        raise KinkError("; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Gradients


def gradients(module, x, cotangent):
    """torch's gradients of <module(x), cotangent> with respect to each parameter and x."""
    module.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    out = module(x)
    (out * cotangent).sum().backward()
    # A parameter the output does not use has no gradient (and no initializer in the export).
    grads = {n: p.grad.detach().clone() for n, p in module.named_parameters() if p.grad is not None}
    grads["input"] = x.grad.detach().clone()
    return out.detach(), grads


def initializer_names(onnx_model, module):
    """Map each torch parameter name to the ONNX initializer holding its values.

    The TorchScript exporter keeps parameter names; if an initializer was renamed (constant
    folding), the parameter is matched by identical values and shape."""
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in onnx_model.graph.initializer}
    mapping = {}
    for name, p in module.named_parameters():
        value = p.detach().cpu().numpy()
        if name in inits and inits[name].shape == value.shape and np.array_equal(inits[name], value):
            mapping[name] = name
            continue
        same = [k for k, v in inits.items() if v.shape == value.shape and np.array_equal(v, value)]
        if not same and p.grad is None:
            continue  # unused by the output: the exporter drops it, and it has no gradient
        if len(same) != 1:
            raise SystemExit(
                f"parameter {name} {tuple(value.shape)}: {len(same)} initializers hold its values "
                f"({same}); cannot key its gradient by initializer name"
            )
        mapping[name] = same[0]
    return mapping


def onnx_export(module, x, path):
    """Export with the TorchScript exporter (keeps parameter names) and fall back to dynamo."""
    kwargs = dict(
        input_names=["input"],
        output_names=["output"],
        opset_version=OPSET,
        do_constant_folding=True,
    )
    try:
        torch.onnx.export(module, (x,), str(path), dynamo=False, **kwargs)
        return "torchscript"
    except TypeError:
        torch.onnx.export(module, (x,), str(path), dynamo=True, external_data=False, **kwargs)
        return "dynamo"


# ---------------------------------------------------------------------------------------------
# The export


def export(module, x, out_dir, cotangent=None, *, seed=0, command=None, check=True, notes=None):
    """Write model.onnx, input.npy, cotangent.npy, grads_f64.npz, grads_f32.npz and
    manifest.json for `module` at `x` into `out_dir`; return the manifest (a dict).

    `x` is a float32 tensor of dyadic values; `cotangent` defaults to dyadic multiples of 1/4
    in [-2, 2] drawn with `seed`. Raises KinkError when the point is on a ReLU or max-pool kink.
    With `check`, runs `exactgrad check` on the result and stores its exit code in the manifest.
    """
    import onnx

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    module = module.float().eval()
    x = x.to(torch.float32)
    module64 = copy.deepcopy(module).double()

    check_kinks(module, x, "float32")
    check_kinks(module64, x.double(), "float64")

    with torch.no_grad():
        out_shape = tuple(module(x).shape)
    if cotangent is None:
        cotangent = dyadic(out_shape, 4, seed, 1)
    cotangent = cotangent.to(torch.float32)
    if tuple(cotangent.shape) != out_shape:
        raise SystemExit(f"cotangent shape {tuple(cotangent.shape)} != output shape {out_shape}")

    _, g32 = gradients(module, x, cotangent)
    _, g64 = gradients(module64, x.double(), cotangent.double())

    model_path = out_dir / "model.onnx"
    exporter = onnx_export(module, x, model_path)
    model = onnx.load(str(model_path))
    onnx.checker.check_model(model)
    names = initializer_names(model, module)

    def keyed(grads, dtype):
        d = {names[n]: g.cpu().numpy().astype(dtype) for n, g in grads.items() if n != "input"}
        d["input"] = grads["input"].cpu().numpy().astype(dtype)
        return d

    # astype is exact here: the float64 grads stay float64, the float32 ones stay float32.
    np.save(out_dir / "input.npy", x.cpu().numpy().astype(np.float32))
    np.save(out_dir / "cotangent.npy", cotangent.cpu().numpy().astype(np.float32))
    np.savez(out_dir / "grads_f64.npz", **keyed(g64, np.float64))
    np.savez(out_dir / "grads_f32.npz", **keyed(g32, np.float32))

    from onnx import numpy_helper

    manifest = {
        "command": command,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "numpy": np.__version__,
        "exporter": exporter,
        "opset": OPSET,
        "seed": seed,
        "ops": [n.op_type for n in model.graph.node],
        "op_types": sorted({n.op_type for n in model.graph.node}),
        "initializers": {
            i.name: list(numpy_helper.to_array(i).shape) for i in model.graph.initializer
        },
        "parameter_to_initializer": names,
        "input_shape": list(x.shape),
        "output_shape": list(out_shape),
        "grads": {
            "keys": list(keyed(g64, np.float64).keys()),
            "f64": "grads_f64.npz: float64 module (deepcopy(module).double()), float64 input and cotangent",
            "f32": "grads_f32.npz: the float32 module",
        },
        "relu_active_fraction": relu_activity(module, x),
        "kinks": "none: no ReLU input is exactly 0 and no max-pool window has a tie (float32 and float64)",
    }
    if notes:
        manifest["notes"] = notes
    if check:
        manifest["check_exit_code"] = run_check(out_dir)
    write_manifest(out_dir, manifest)
    return manifest


def write_manifest(out_dir, manifest):
    with open(Path(out_dir) / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


def run_check(out_dir):
    """Run `exactgrad check` on an export; print and return its exit code (None if not run)."""
    out_dir = Path(out_dir).resolve()
    cmd = [
        "cargo", "run", "--release", "-q", "--", "check", str(out_dir / "model.onnx"),
        "--input", str(out_dir / "input.npy"),
        "--cotangent", str(out_dir / "cotangent.npy"),
        "--compare", str(out_dir / "grads_f64.npz"),
    ]
    print("$", " ".join(cmd), file=sys.stderr)
    try:
        rc = subprocess.run(cmd, cwd=REPO).returncode
    except OSError as e:
        print(f"exactgrad check could not run: {e}", file=sys.stderr)
        return None
    print(f"exactgrad check exited with {rc}" + ("" if rc == 0 else " (failed)"), file=sys.stderr)
    return rc


# ---------------------------------------------------------------------------------------------
# The committed fixtures


class Mlp(nn.Module):
    """Linear(4→8) → ReLU → Linear(8→8) → ReLU → Linear(8→3)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(8, 8)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


class Cnn(nn.Module):
    """[2,4,9,9] → Conv2d(4→4, k3, groups 2, dilation 2, pad 1) → ReLU → MaxPool2d(2, stride 2,
    pad 1) → Conv2d(4→2, k2) → ReLU → Flatten → Linear(18→3)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, kernel_size=3, groups=2, dilation=2, padding=1)
        # Shifted up from the default init so that every pool window holds a positive value: with
        # about half the ReLU outputs at 0, windows of zeros (ties of the max) are certain
        # otherwise. The shift is a dyadic, so the bias stays exactly what float32 holds.
        with torch.no_grad():
            self.conv1.bias += 0.75
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 2, kernel_size=2, stride=1)
        self.relu2 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(18, 3)

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        return self.fc(self.flatten(self.relu2(self.conv2(x))))


class Residual(nn.Module):
    """[2,4] → stem Linear(4→6) → ReLU → h; h + fc2(ReLU(fc1(h))) → ReLU → head Linear(6→2).
    The stem makes both operands of the skip Add computed tensors."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 6)
        self.relu0 = nn.ReLU()
        self.fc1 = nn.Linear(6, 6)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(6, 6)
        self.relu2 = nn.ReLU()
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        h = self.relu0(self.stem(x))
        return self.head(self.relu2(h + self.fc2(self.relu1(self.fc1(h)))))


# name: (class, input shape, seed). The seeds are the first from 0 at which the point has no kink
# and every ReLU passes 25–90 % of its inputs (found by `--fixtures --search`).
FIXTURES = {
    "mlp": (Mlp, (2, 4), 1),
    "cnn": (Cnn, (2, 4, 9, 9), 8),
    "residual": (Residual, (2, 4), 0),
}

# cnn_wrong: one coordinate of one gradient in cnn's grads_f64.npz, scaled by (1 + 2^-13): about
# 1.2e-4 relative, which torch.allclose (rtol 1e-3) accepts, and billions of float64 ulps.
WRONG = {"key": "conv1.weight", "index": (1, 0, 2, 1), "relative": 2.0**-13}


def build(cls, shape, seed):
    torch.manual_seed(seed)
    module = cls()
    return module, dyadic(shape, 8, seed, 0)


def relu_activity(module, x):
    """Fraction of positive inputs of each nn.ReLU module of `module` at `x`."""
    seen = {}
    handles = [
        m.register_forward_hook(lambda mod, i, o, n=n: seen.__setitem__(n, float((i[0] > 0).float().mean())))
        for n, m in module.named_modules()
        if isinstance(m, nn.ReLU)
    ]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def lively(module, x, low=0.25, high=0.9):
    """True when every ReLU passes between `low` and `high` of its inputs: a fixture whose ReLU
    is dead (all gradients behind it 0) or always on (the kink never matters) tests little."""
    return all(low <= f <= high for f in relu_activity(module, x).values())


def search_seed(cls, shape, start=0, tries=1000):
    """The first seed from `start` whose point has no kink and lively ReLUs."""
    for seed in range(start, start + tries):
        module, x = build(cls, shape, seed)
        try:
            check_kinks(module, x, "float32")
            check_kinks(copy.deepcopy(module).double(), x.double(), "float64")
        except KinkError:
            continue
        if lively(module, x):
            return seed
    raise SystemExit(f"no kink-free seed with lively ReLUs for {cls.__name__} in {tries} tries")


def make_wrong(src, dst):
    """cnn_wrong: copy src's model, input and cotangent; corrupt one entry of grads_f64.npz."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for f in ("model.onnx", "input.npy", "cotangent.npy"):
        shutil.copyfile(Path(src) / f, dst / f)
    grads = dict(np.load(Path(src) / "grads_f64.npz"))
    key, index = WRONG["key"], WRONG["index"]
    old = float(grads[key][index])
    if old == 0.0:
        raise SystemExit(f"{key}{list(index)} is 0; pick another coordinate")
    new = float(np.float64(old) * np.float64(1.0 + WRONG["relative"]))
    grads[key] = grads[key].copy()
    grads[key][index] = new
    np.savez(dst / "grads_f64.npz", **grads)
    ulps = int(np.array(new).view(np.int64)) - int(np.array(old).view(np.int64))
    stale = dst / "grads_f32.npz"
    if stale.exists():
        stale.unlink()
    src_manifest = json.loads((Path(src) / "manifest.json").read_text())
    manifest = {
        "command": FIXTURES_COMMAND,
        "copy_of": "cnn",
        "files": "model.onnx, input.npy, cotangent.npy copied from cnn/; grads_f64.npz is cnn's with one entry changed; no grads_f32.npz",
        "wrong": {
            "key": key,
            "index": list(index),
            "old": repr(old),
            "new": repr(new),
            "old_hex": old.hex(),
            "new_hex": new.hex(),
            "relative_change": f"2^-13 = {WRONG['relative']!r}",
            "float64_ulps": ulps,
        },
        "expected_grade": "wrong at " + key + str(list(index)),
    }
    for k in ("torch", "onnx", "opset", "seed", "notes", "ops", "op_types", "initializers", "input_shape", "output_shape"):
        manifest[k] = src_manifest[k]
    write_manifest(dst, manifest)
    return manifest


def fixtures(root, check=True, search=False):
    root = Path(root)
    for name, (cls, shape, seed) in FIXTURES.items():
        if search:
            seed = search_seed(cls, shape)
        module, x = build(cls, shape, seed)
        notes = " ".join(cls.__doc__.split())
        if cls is Cnn:
            notes += " conv1.bias is torch's default init + 0.75 (so no max-pool window is all zeros)."
        m = export(module, x, root / name, seed=seed, command=FIXTURES_COMMAND, check=check, notes=notes)
        print(f"{name}: seed {seed}, ops {m['ops']}, initializers {list(m['initializers'])}")
    m = make_wrong(root / "cnn", root / "cnn_wrong")
    print(f"cnn_wrong: {m['wrong']}")
    if check:
        m["check_exit_code"] = run_check(root / "cnn_wrong")
        write_manifest(root / "cnn_wrong", m)


# ---------------------------------------------------------------------------------------------
# Command line


def load_factory(spec):
    path, _, factory = spec.rpartition(":")
    if not path or not factory:
        raise SystemExit(f"expected MODULE_FILE.py:FACTORY, got {spec!r}")
    s = importlib.util.spec_from_file_location(Path(path).stem, path)
    if s is None:
        raise SystemExit(f"cannot load {path}")
    mod = importlib.util.module_from_spec(s)
    s.loader.exec_module(mod)
    return getattr(mod, factory)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("factory", nargs="?", help="MODULE_FILE.py:FACTORY (returns a float32 nn.Module)")
    p.add_argument("out_dir", nargs="?", help="output folder")
    p.add_argument("--shape", help="input shape, e.g. 2,3,8,8")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-check", action="store_true", help="do not run exactgrad check")
    p.add_argument("--fixtures", metavar="DIR", help="regenerate the committed fixtures into DIR")
    p.add_argument("--search", action="store_true", help="with --fixtures: search kink-free seeds")
    a = p.parse_intermixed_args(argv)
    command = "python scripts/torch_export.py " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        if a.fixtures:
            fixtures(a.fixtures, check=not a.no_check, search=a.search)
            return 0
        if not (a.factory and a.out_dir and a.shape):
            p.error("give MODULE_FILE.py:FACTORY OUT_DIR --shape S (or --fixtures DIR)")
        shape = tuple(int(s) for s in a.shape.split(","))
        torch.manual_seed(a.seed)
        module = load_factory(a.factory)()
        x = dyadic(shape, 8, a.seed, 0)
        m = export(module, x, a.out_dir, seed=a.seed, command=command, check=not a.no_check)
    except KinkError as e:
        print(f"the point is on a kink, try another --seed: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: m[k] for k in ("ops", "initializers", "input_shape", "output_shape")}))
    rc = m.get("check_exit_code")
    return 0 if rc in (None, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
