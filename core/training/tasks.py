"""The small jobs a helper worker does for the pages, on a finished run's folder.

The web server never imports TensorFlow (it would cost it ~800 MB and seconds of CPU per
page), so everything that needs the trained model runs in a worker process instead:
- the test-set evaluation and the float32 TFLite file, written by the training worker when the
  run ends (`write_run_results`), or on request for a folder from an older version;
- predictions for the Evaluate page's "Try it" when the run has no float32 TFLite file for the
  server's LiteRT (raw inputs are decoded on the server side, by the data kind's contract;
  only the model's input array travels);
- the other TFLite files, the variants report and serving.zip, written into the run's exports/ folder.

`run_task(op, run_dir, args)` is the one entry (core.training.worker.task_worker_main calls
it); `read_evaluation` is what the server reads back, without Keras.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import UserError
from core.training.rundir import RunDir, read_dataset, read_json, write_json

MODELS_KEPT = 4  # loaded models a helper keeps, most recently used first (a try-it is then instant)
_models: OrderedDict[tuple[str, int], Any] = OrderedDict()


# --- what the training worker leaves when a run ends --------------------------------------------


def write_run_results(paths: RunDir, model: Any, dataset: Any) -> None:
    """evaluation.json, and the float32 TFLite file the server answers "Try it" with (LiteRT,
    microseconds per answer and no TensorFlow; bench/try_it.py) and the Export page offers first.
    A model the converter refuses gets no file: the page then asks a helper, which says why."""
    write_evaluation(paths, model, dataset)
    write_downloadable_model(paths, model, dataset)
    try:
        write_tflite(paths, model, dataset, "float32")
    except UserError:
        pass


def downloadable_keras(run_dir: str | Path) -> Path:
    """The .keras file a user downloads: exports/model.keras when the kind adds layers in front of
    the trained network (text: TextVectorization), else the run's best.keras itself."""
    paths = RunDir(run_dir)
    made = paths.exports / "model.keras"
    return made if made.exists() else paths.best_model


def write_downloadable_model(paths: RunDir, model: Any, dataset: Any) -> None:
    from core.export import downloadable_model, keras_bytes

    served = downloadable_model(model, dataset)
    if served is not model:
        _write_atomically(paths.exports / "model.keras", keras_bytes(served))


def float32_tflite(run_dir: str | Path) -> Path | None:
    """The run's float32 TFLite file, if the worker (or a helper) has made it."""
    path = tflite_path(RunDir(run_dir), "float32")
    return path if path.exists() else None


def tflite_path(paths: RunDir, variant: str) -> Path:
    return paths.exports / f"model_{variant}.tflite"


def write_tflite(paths: RunDir, model: Any, dataset: Any, variant: str) -> Path:
    from core.export import tflite_bytes

    target = tflite_path(paths, variant)
    _write_atomically(target, tflite_bytes(model, variant, dataset))
    return target


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # two helpers may convert the same file
    tmp.write_bytes(content)
    tmp.replace(target)  # a reader never sees half a file


# --- evaluation.json --------------------------------------------------------------------------


def write_evaluation(paths: RunDir, model: Any, dataset: Any) -> None:
    """Evaluate `model` on the test split and write evaluation.json; a UserError (no test
    data) is written as the file's answer, so the page says it without asking again."""
    from core.evaluate import evaluate

    try:
        data = evaluate(model, dataset).to_json()
    except UserError as err:
        from core.evaluate import EVALUATION_FORMAT

        data = {"format": EVALUATION_FORMAT, "error": {"code": err.code, "template": err.template, "params": err.params}}
    write_json(paths.evaluation, data, allow_nan=True)


def read_evaluation(run_dir: str | Path) -> Any:
    """The run's Evaluation from evaluation.json; None when it is missing or from another
    version (then ask a helper: `run_task("evaluate", ...)`). Raises the stored UserError."""
    from core.evaluate import EVALUATION_FORMAT, Evaluation

    try:
        data = read_json(RunDir(run_dir).evaluation)
    except (ValueError, OSError):  # half-written by a killed worker, or unreadable
        return None
    if not isinstance(data, dict) or data.get("format") != EVALUATION_FORMAT:
        return None
    if "error" in data:
        error = data["error"]
        raise UserError(error["code"], error["template"], **error.get("params", {}))
    return Evaluation.from_json(data)


# --- the tasks --------------------------------------------------------------------------------


def run_task(op: str, run_dir: str, args: dict[str, Any]) -> Any:
    """Do one task for the run in `run_dir`; the answer is small and picklable."""
    task = TASKS.get(op)
    if task is None:
        raise ValueError(f"unknown task {op!r}")
    return task(RunDir(run_dir), **args)


def _evaluate(paths: RunDir) -> None:
    write_evaluation(paths, _model(paths), read_dataset(paths, mapped=True))


def _predict(paths: RunDir, x: np.ndarray) -> np.ndarray:
    """The model's raw outputs for an input array the server decoded (core.predict turns them
    into labels and probabilities)."""
    return np.asarray(_model(paths).predict(np.asarray(x, dtype=np.float32), verbose=0), dtype=np.float64)


def _tflite(paths: RunDir, variant: str) -> str:
    """Convert to TFLite once per variant; the answer is the file's path."""
    target = tflite_path(paths, variant)
    if not target.exists():
        write_tflite(paths, _model(paths), read_dataset(paths, mapped=True), variant)
    return str(target)


def _tflite_report(paths: RunDir) -> list[dict]:
    from core.export import tflite_report

    target = paths.exports / "tflite_report.json"
    if target.exists():
        return json.loads(target.read_text(encoding="utf-8"))
    report = tflite_report(_model(paths), read_dataset(paths, mapped=True))
    paths.exports.mkdir(exist_ok=True)
    write_json(target, report, allow_nan=True)
    return report


def _serving_zip(paths: RunDir, name: str = "") -> str:
    """exports/serving.zip (core.serving.package: the SavedModel for TF Serving, serve.py, Dockerfile,
    README), made once; the answer is its path."""
    from core.export import downloadable_model, serving_zip

    target = paths.exports / "serving.zip"
    if not target.exists():
        dataset = read_dataset(paths, mapped=True)
        _write_atomically(target, serving_zip(downloadable_model(_model(paths), dataset), dataset, name))
    return str(target)


def _backbone_info(paths: RunDir, model: str | None = None) -> dict:
    """Describe a LayerLab .keras (an upload, or a run's best.keras without a description) as the backbone of
    another design: loaded in safe mode, `<file>.backbone.json` written next to it for the shape report
    (core.backbones.write_model_info); the answer is that description. `model` defaults to the run's best.keras."""
    from core.backbones import write_model_info

    return write_model_info(model or paths.best_model).to_json()


TASKS = {"evaluate": _evaluate, "predict": _predict, "tflite": _tflite, "tflite_report": _tflite_report,
         "serving_zip": _serving_zip, "backbone_info": _backbone_info}


def _model(paths: RunDir) -> Any:
    """The run's best.keras, loaded once while it stays among the last few used."""
    from core.export import load_trained_model

    path = paths.best_model
    if not path.exists():
        raise UserError("task.no_model", "This run has no saved model any more. Train it again.")
    key = (str(path), path.stat().st_mtime_ns)
    if key in _models:
        _models.move_to_end(key)
        return _models[key]
    model = load_trained_model(path)
    _models[key] = model
    while len(_models) > MODELS_KEPT:
        _models.popitem(last=False)
    return model
