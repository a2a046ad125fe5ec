"""Case 4: image ingestion. A zip of 10,000 PNGs (64x64, 10 classes) to training-ready arrays.

Ours: `core.data.load_image_zip(zip)` (read the archive, decode, split).
Reference: `keras.utils.image_dataset_from_directory` on the same images unpacked,
iterated to the end and stacked into arrays (the same end point: arrays in memory).
Both children import the same libraries (TensorFlow/Keras, Pillow, core.data) before the
baseline mark, so the memory figures compare the work, not the imports.
"""
from __future__ import annotations

import time
from typing import Any

from bench.harness import Context, mark_baseline, median, metric, ratio, run_child, warm_file_cache

NAME = "image_ingestion"
TITLE = "4. Image ingestion"
SIZE = 64


def _import_libraries() -> None:
    import keras  # noqa: F401
    import numpy  # noqa: F401
    import PIL.Image  # noqa: F401
    import tensorflow  # noqa: F401

    import core.data  # noqa: F401


def child_ours(zip_path: str) -> dict[str, Any]:
    _import_libraries()
    from core.data import load_image_zip

    mark_baseline()
    start = time.perf_counter()
    dataset = load_image_zip(zip_path, "digits64.zip")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images": dataset.n_rows, "shape": list(dataset.input_shape),
            "dtype": str(dataset.x_train.dtype), "skipped": len(dataset.skipped)}


def child_keras(folder: str) -> dict[str, Any]:
    _import_libraries()
    import keras
    import numpy as np

    mark_baseline()
    start = time.perf_counter()
    stream = keras.utils.image_dataset_from_directory(folder, image_size=(SIZE, SIZE), batch_size=32, seed=42,
                                                      verbose=False)
    images, labels = [], []
    for x, y in stream:
        images.append(x.numpy())
        labels.append(y.numpy())
    x_all, y_all = np.concatenate(images), np.concatenate(labels)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images": int(len(x_all)), "shape": list(x_all.shape[1:]),
            "dtype": str(x_all.dtype), "labels": int(len(y_all))}


def run(ctx: Context) -> dict[str, Any]:
    from bench import synthetic

    n = ctx.size(1_000, 10_000)
    folder, zip_path = ctx.work / f"images_{n}", ctx.work / f"images_{n}.zip"
    ctx.log(f"  generating {n:,} PNGs ({SIZE}x{SIZE}) ...")
    synthetic.write_image_folder_and_zip(folder, zip_path, n, SIZE)
    warm_file_cache(zip_path, *sorted(folder.rglob("*.png")))
    repeats = ctx.size(1, 3)
    ours, reference = [], []
    for _ in range(repeats):
        reference.append(run_child("bench.image_ingestion:child_keras", {"folder": str(folder)}))
        ours.append(run_child("bench.image_ingestion:child_ours", {"zip_path": str(zip_path)}))
    ours_s = median(r["seconds"] for r in ours)
    keras_s = median(r["seconds"] for r in reference)
    ours_peak = max(r["work_peak_bytes"] for r in ours)
    keras_peak = max(r["work_peak_bytes"] for r in reference)
    return {
        "images": n,
        "zip_bytes": zip_path.stat().st_size,
        "repeats": repeats,
        "ours_seconds": ours_s,
        "keras_seconds": keras_s,
        "ours_peak_bytes": ours_peak,
        "keras_peak_bytes": keras_peak,
        "ours_arrays": {k: ours[0][k] for k in ("images", "shape", "dtype", "skipped")},
        "keras_arrays": {k: reference[0][k] for k in ("images", "shape", "dtype")},
        "metrics": [
            metric("time: load_image_zip / image_dataset_from_directory", ratio(ours_s, keras_s), "x",
                   at_most=1.0),
            metric("load_image_zip time", ours_s, "s"),
            metric("image_dataset_from_directory time (fully iterated)", keras_s, "s"),
            metric("peak memory of load_image_zip", ours_peak / 2**20, "MiB"),
            metric("peak memory of image_dataset_from_directory", keras_peak / 2**20, "MiB"),
        ],
    }
