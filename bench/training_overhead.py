"""Case 1 (and 7 on a GPU): training engine overhead.

Samples/s of `core.training.train_in_process` (with its progress events, stop checks and
best-model saving) divided by samples/s of a plain `model.fit` of the identical model
(`core.build.build_model` of the same spec), data, batch size and epochs, with the same
validation data and seed, in the same interpreter. Both sides are timed from "build the
model" to "fit returned", so the engine's extra work (run directory, events, best.keras)
counts against it. The two alternate (A B B A ...) after a warm-up fit, and the ratio is the
median of the per-pair ratios, so a drift in machine load hits both sides alike.

Models: a 20-128-64-2 MLP on a 20-column table, and a small CNN (Conv2D 16 / pool /
Conv2D 32 / pool / Dense 64) on 28x28 grey images.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import Context, median, metric, run_child

NAME = "training_overhead"
TITLE = "1. Training engine overhead"
TARGET_RATIO = 0.97

MLP_LAYERS = [
    {"type": "Dense", "units": 128, "activation": "relu"},
    {"type": "Dense", "units": 64, "activation": "relu"},
]
CNN_LAYERS = [
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 64, "activation": "relu"},
]
VALIDATION_FRACTION = 0.1


def make_dataset(model: str, n_train: int):
    """A classification Dataset built straight from arrays (ingestion is measured elsewhere)."""
    from bench import synthetic
    from core.data.dataset import Dataset, Feature

    n_val = max(1, int(n_train * VALIDATION_FRACTION))
    if model == "mlp":
        x, y = synthetic.table_arrays(n_train + 2 * n_val)
        extra = {"features": [Feature(f"x{i:02d}", "numeric", "benchmark column") for i in range(x.shape[1])],
                 "target": "label"}
        classes, kind = ["no", "yes"], "table"
    else:
        x, y = synthetic.digit_images(n_train + 2 * n_val, 28, channels=1)
        extra = {"image_size": (28, 28), "channels": 1}
        classes, kind = synthetic.CLASS_NAMES, "images"
    a, b = n_train, n_train + n_val
    return Dataset(name=f"bench-{model}", kind=kind, task="classification", classes=list(classes),
                   x_train=x[:a], y_train=y[:a], x_val=x[a:b], y_val=y[a:b], x_test=x[b:], y_test=y[b:], **extra)


def make_spec(model: str, epochs: int, batch_size: int):
    from core.spec import ProjectSpec

    return ProjectSpec.from_dict({
        "task": "classification",
        "layers": MLP_LAYERS if model == "mlp" else CNN_LAYERS,
        "optimizer": {"type": "Adam", "learning_rate": 0.001},
        # patience 0: every epoch runs on both sides (plain fit has no early stopping)
        "training": {"epochs": epochs, "batch_size": batch_size, "early_stopping_patience": 0, "seed": 1},
    })


def _train_clock():
    """A callback with only train begin/end hooks (no per-batch cost): the same span the
    engine's monitor reports as `elapsed`, so the fit-only figures compare like with like."""
    import keras

    class TrainClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            self.epoch_ends = []

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_ends.append(time.perf_counter() - self.start)

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    return TrainClock()


def _plain_fit(spec: Any, dataset: Any) -> dict[str, float]:
    import keras

    from core.build import build_model

    start = time.perf_counter()
    keras.utils.set_random_seed(spec.training["seed"])
    net = build_model(spec, dataset)
    clock = _train_clock()
    net.fit(dataset.x_train, dataset.y_train, batch_size=spec.training["batch_size"],
            epochs=spec.training["epochs"], validation_data=(dataset.x_val, dataset.y_val), shuffle=True, verbose=0,
            callbacks=[clock])
    return {"total_s": time.perf_counter() - start, "fit_s": clock.seconds, "epoch_ends": clock.epoch_ends}


def _engine_fit(spec: Any, dataset: Any, run_root: Path, index: int) -> dict[str, float]:
    from core.training import train_in_process

    events: list[dict] = []
    start = time.perf_counter()
    result = train_in_process(spec, dataset, run_root / f"run{index}", on_event=events.append)
    end = time.perf_counter()
    if result.status != "finished" or result.epochs_run != spec.training["epochs"]:
        raise RuntimeError(f"engine run ended {result.status} after {result.epochs_run} epochs: {result.message}")
    return {"total_s": end - start, "fit_s": result.elapsed,
            "epoch_ends": [e["elapsed"] for e in events if e["type"] == "epoch"],
            "events": len(events), "batch_events": sum(e["type"] == "batch" for e in events)}


def child_compare(model: str, n_train: int, epochs: int, batch_size: int, pairs: int) -> dict[str, Any]:
    """Warm up, then alternate plain fit and engine runs; returns per-run times and rates."""
    import keras

    dataset = make_dataset(model, n_train)
    spec = make_spec(model, epochs, batch_size)
    samples = n_train * epochs
    warm = make_spec(model, 1, batch_size)
    _plain_fit(warm, dataset)  # first fit pays TensorFlow's one-off start-up costs
    plain, engine = [], []
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as tmp:
        for i in range(pairs):
            order = ("plain", "engine") if i % 2 == 0 else ("engine", "plain")
            for side in order:
                if side == "plain":
                    plain.append(_plain_fit(spec, dataset))
                else:
                    engine.append(_engine_fit(spec, dataset, Path(tmp), i))
    pair_ratios = [p["total_s"] / e["total_s"] for p, e in zip(plain, engine)]
    # Epochs 2+: the first epoch also compiles the step functions (on a GPU with JAX, 2-3 s
    # against ~0.15 s for a later epoch of the CNN), a one-off cost that varies run to run.
    later = [_after_first_epoch(p) / _after_first_epoch(e) for p, e in zip(plain, engine)] if epochs > 1 else []
    return {
        "model": model,
        "backend": keras.backend.backend(),
        "device": _device_name(),
        "n_train": n_train,
        "n_val": len(dataset.x_val),
        "epochs": epochs,
        "batch_size": batch_size,
        "pairs": pairs,
        "plain_samples_per_s": samples / median(p["total_s"] for p in plain),
        "engine_samples_per_s": samples / median(e["total_s"] for e in engine),
        "plain_fit_only_samples_per_s": samples / median(p["fit_s"] for p in plain),
        "engine_fit_only_samples_per_s": samples / median(e["fit_s"] for e in engine),
        "ratio": median(pair_ratios),
        "pair_ratios": pair_ratios,
        "after_first_epoch_ratio": median(later) if later else None,
        "engine_events_per_run": engine[0]["events"],
        "runs": {"plain": plain, "engine": engine},
    }


def _after_first_epoch(run: dict[str, Any]) -> float:
    return run["epoch_ends"][-1] - run["epoch_ends"][0]


def _device_name() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return str(jax.devices()[0])
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "CPU"


def sizes(ctx: Context) -> dict[str, dict[str, int]]:
    return {
        "mlp": {"n_train": ctx.size(40_000, 200_000), "epochs": ctx.size(2, 5), "batch_size": 256,
                "pairs": ctx.size(2, 4)},
        "cnn": {"n_train": ctx.size(2_000, 10_000), "epochs": ctx.size(2, 4), "batch_size": 128,
                "pairs": ctx.size(2, 4)},
    }


def compare_all(ctx: Context, env: dict[str, str] | None = None,
                overrides: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model, params in sizes(ctx).items():
        params = {**params, **(overrides or {}).get(model, {})}
        ctx.log(f"  {model}: {params['n_train']:,} samples x {params['epochs']} epochs, {params['pairs']} pairs ...")
        out[model] = run_child("bench.training_overhead:child_compare", {"model": model, **params}, env=env)
    return out


def metrics_for(results: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for model, label in (("mlp", "tabular MLP"), ("cnn", "small CNN")):
        r = results[model]
        rows.append(metric(f"{prefix}{label}: engine / plain fit (samples/s)", r["ratio"], "x",
                           at_least=TARGET_RATIO,
                           note=f"{r['engine_samples_per_s']:,.0f} vs {r['plain_samples_per_s']:,.0f} samples/s, "
                                f"{r['n_train']:,} samples, batch {r['batch_size']}, {r['epochs']} epochs"))
        rows.append(metric(f"{prefix}{label}: same, fit() only", r["engine_fit_only_samples_per_s"]
                           / r["plain_fit_only_samples_per_s"], "x"))
        if r.get("after_first_epoch_ratio") is not None:
            rows.append(metric(f"{prefix}{label}: same, epochs 2+ (the first also compiles)",
                               r["after_first_epoch_ratio"], "x"))
    return rows


def run(ctx: Context) -> dict[str, Any]:
    results = compare_all(ctx, env={"KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow")})
    return {**results, "metrics": metrics_for(results)}
