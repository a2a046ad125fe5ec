"""The private directory of one training run and the files in it.

The server writes the job (spec + dataset arrays), the worker writes progress and
results; nothing else is shared between them, so a worker that crashes or is killed
leaves a directory that still explains what happened and holds the best model so far.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.data.kinds import DATASET_ARRAYS, kind_named, kind_of

# What every kind shares; the kind adds everything else its model depends on (kind.job_fields).
# Only the raw frame stays with the server: the worker never reads raw rows.
COMMON_FIELDS = ("name", "kind", "task", "classes", "warnings")


class RunDir:
    """Paths inside one run directory."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    spec = property(lambda self: self.path / "spec.json")
    dataset_meta = property(lambda self: self.path / "dataset.json")
    events = property(lambda self: self.path / "events.jsonl")
    best_model = property(lambda self: self.path / "best.keras")
    result = property(lambda self: self.path / "result.json")
    evaluation = property(lambda self: self.path / "evaluation.json")  # the worker's test results
    exports = property(lambda self: self.path / "exports")  # TFLite files: float32 by the worker, others on request
    evaluation_error = property(lambda self: self.path / "evaluation_error.txt")  # a bug's traceback (the worker's)
    helper_error = property(lambda self: self.path / "helper_error.txt")  # a bug's traceback (a helper task's)
    job = property(lambda self: self.path / "job.json")  # the job's other settings: {"weights_file": path}

    def array(self, name: str) -> Path:
        return self.path / f"{name}.npy"

    def create(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def clear_results(self) -> RunDir:
        """Remove what an earlier run in this folder left (its events, model, evaluation, TFLite
        files and error notes), so nothing of it is shown for the next model."""
        for stale in (self.events, self.result, self.best_model, self.evaluation, self.evaluation_error, self.helper_error):
            stale.unlink(missing_ok=True)
        shutil.rmtree(self.exports, ignore_errors=True)
        return self


def write_job(run_dir: RunDir, spec: Any, dataset: Dataset, *, weights_file: str | os.PathLike | None = None) -> None:
    """Store what a worker needs to train: the spec as JSON, the arrays as .npy files, and in job.json the
    pretrained backbone's weights file when it is not Keras' cached one (a session's own: `read_weights_file`)."""
    run_dir.create()
    run_dir.spec.write_text(spec.to_json(), encoding="utf-8")
    if weights_file is None:
        run_dir.job.unlink(missing_ok=True)
    else:
        write_json(run_dir.job, {"weights_file": str(Path(weights_file).resolve())})
    meta = {name: getattr(dataset, name) for name in COMMON_FIELDS}
    kind = kind_of(dataset)
    meta[dataset.kind] = kind.job_fields(dataset)
    arrays = kind.job_arrays(dataset)  # the six arrays, or what they are views of (a series)
    meta["arrays"] = list(arrays)
    write_json(run_dir.dataset_meta, meta)
    for name, values in arrays.items():
        np.save(run_dir.array(name), values, allow_pickle=False)


def read_job(run_dir: RunDir) -> tuple[Any, Dataset]:
    from core.spec import ProjectSpec

    spec = ProjectSpec.from_json(run_dir.spec.read_text(encoding="utf-8"))
    return spec, read_dataset(run_dir)


def read_weights_file(run_dir: RunDir) -> Path | None:
    """The weights file the job's backbone builds with (core.training.trainer's `weights_file`); None: Keras' cache."""
    job = read_json(run_dir.job) or {}
    return Path(job["weights_file"]) if job.get("weights_file") else None


def read_dataset(run_dir: RunDir, *, mapped: bool = False) -> Dataset:
    """The job's Dataset; `mapped`: the arrays are read-only views of the files, read from disk
    only where used (a helper task that evaluates or converts touches the test split only)."""
    meta = json.loads(run_dir.dataset_meta.read_text(encoding="utf-8"))
    common = {name: meta[name] for name in COMMON_FIELDS}
    mode = "r" if mapped else None
    arrays = {name: np.load(run_dir.array(name), allow_pickle=False, mmap_mode=mode)
              for name in meta.get("arrays", DATASET_ARRAYS)}
    return Dataset(**common, **kind_named(common["kind"]).from_job(meta[common["kind"]], arrays))


def write_json(path: Path, data: Any, *, allow_nan: bool = False) -> None:
    """Write JSON atomically, so a reader never sees half a file. `allow_nan` for results that
    may hold a diverged model's NaN (Python's json reads it back)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two processes may write the same file
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=allow_nan), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
