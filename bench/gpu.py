"""Case 7: case 1 on a GPU with KERAS_BACKEND=jax (our engine / plain fit), when there is one.

Without an NVIDIA GPU (or without JAX) the case records why it did not run. To run it on a
lent GPU machine (see /work/.library/device/README.md): that image has Python 3.12 with JAX,
pandas, pyarrow, scikit-learn and Pillow but not Keras, so carry Keras 3.15.1 and the
packages it needs that are missing there (namex, optree) as py3.12 wheels in `.whl`, then:

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    PYTHONPATH=/tmp/site python3 -m bench --only gpu

which merges the result into bench/results/full.json (copy it back through $OUT).
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
from typing import Any

from bench.harness import Context
from bench.training_overhead import compare_all, metrics_for

NAME = "gpu"
TITLE = "7. GPU (JAX backend)"
GPU_SIZES = {"mlp": {"pairs": 6}, "cnn": {"pairs": 6, "epochs": 10}}


def gpu_name() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def run(ctx: Context) -> dict[str, Any]:
    gpu = gpu_name()
    if gpu is None:
        return {"not_run": "not run: no GPU on this machine (no GPU was lent to this task)", "metrics": []}
    if importlib.util.find_spec("jax") is None:
        return {"not_run": f"not run: {gpu} found but JAX is not installed", "metrics": []}
    ctx.log(f"  {gpu}, KERAS_BACKEND=jax")
    # A GPU run of these sizes takes seconds, so run more pairs, and more CNN epochs: its
    # first epoch is mostly XLA compilation (2-3 s against ~0.15 s for a later one).
    results = compare_all(ctx, env={"KERAS_BACKEND": "jax"}, overrides=GPU_SIZES)
    return {"gpu": gpu, **results, "metrics": metrics_for(results, prefix="GPU, JAX: ")}
