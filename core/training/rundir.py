"""The private directory of one training run and the files in it.

The server writes the job (spec + dataset arrays), the worker writes progress and
results; nothing else is shared between them, so a worker that crashes or is killed
leaves a directory that still explains what happened and holds the best model so far.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from core.data.dataset import Dataset, Feature

ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
# What the worker needs to rebuild the Dataset for build_model and fit; the raw frame, the
# preprocessor and the file lists stay with the server.
META_FIELDS = ("name", "kind", "task", "target", "classes", "image_size", "channels", "dropped_rows", "warnings")


class RunDir:
    """Paths inside one run directory."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    spec = property(lambda self: self.path / "spec.json")
    dataset_meta = property(lambda self: self.path / "dataset.json")
    events = property(lambda self: self.path / "events.jsonl")
    best_model = property(lambda self: self.path / "best.keras")
    result = property(lambda self: self.path / "result.json")

    def array(self, name: str) -> Path:
        return self.path / f"{name}.npy"

    def create(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self


def write_job(run_dir: RunDir, spec: Any, dataset: Dataset) -> None:
    """Store what a worker needs to train: the spec as JSON and the arrays as .npy files."""
    run_dir.create()
    run_dir.spec.write_text(spec.to_json(), encoding="utf-8")
    meta = {name: getattr(dataset, name) for name in META_FIELDS}
    meta["features"] = [asdict(f) for f in dataset.features]
    write_json(run_dir.dataset_meta, meta)
    for name in ARRAYS:
        np.save(run_dir.array(name), getattr(dataset, name), allow_pickle=False)


def read_job(run_dir: RunDir) -> tuple[Any, Dataset]:
    from core.spec import ProjectSpec

    spec = ProjectSpec.from_json(run_dir.spec.read_text(encoding="utf-8"))
    return spec, read_dataset(run_dir)


def read_dataset(run_dir: RunDir) -> Dataset:
    meta = json.loads(run_dir.dataset_meta.read_text(encoding="utf-8"))
    features = [Feature(**f) for f in meta.pop("features")]
    if meta.get("image_size") is not None:
        meta["image_size"] = tuple(meta["image_size"])
    arrays = {name: np.load(run_dir.array(name), allow_pickle=False) for name in ARRAYS}
    return Dataset(**meta, **arrays, features=features)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
