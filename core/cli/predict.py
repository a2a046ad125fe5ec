"""`python -m core predict DIR INPUT...`: predictions from a folder written by `python -m core train`.

The folder holds model.keras (our own training output), labels.json and preprocessing.json;
the last two say what the model expects, so no training data is needed here. Every file of the
folder is checked before Keras is loaded: the folder may have been edited by hand.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.data.dataset import CLASSIFICATION, FORECAST, REGRESSION
from core.data.kinds import InputContract, kind_named
from core.errors import UserError
from core.predict import predict_inputs

MODEL_FILES = ("model.keras", "labels.json", "preprocessing.json")
TASKS = (CLASSIFICATION, REGRESSION, FORECAST)
MAX_JSON_BYTES = 64 * 1024**2  # preprocessing.json of a table at the column cap is a few MB


def predict_from_folder(args: argparse.Namespace) -> int:
    folder = Path(args.model_dir)
    contract = read_contract(folder)
    paths = [Path(p) for p in args.input]
    for path in paths:
        if not path.is_file():
            raise UserError("predict.input_missing", "The input file {file} does not exist. Check the path.", file=str(path))
    # read and check every input first: a user error should not wait for Keras to load
    inputs = contract.inputs_from_files(paths)
    predictions = predict_inputs(load_folder_model(folder, contract), contract, inputs)
    for warning in predictions.warnings:
        print(f"Note: {warning}", file=sys.stderr)
    for item in predictions.items:
        print(item.text())
    return 0


def read_contract(folder: Path) -> InputContract:
    """What the model in `folder` expects, from labels.json and preprocessing.json."""
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(
            "predict.not_a_model_folder",
            "{folder} is not a model folder: {files} is missing. Give the folder that `python -m core train --out` wrote.",
            folder=str(folder),
            files=", ".join(missing),
        )
    labels = _read_json(folder / "labels.json")
    problem = _labels_problem(labels)
    if problem:
        raise _bad_file(folder / "labels.json", problem)
    info = _read_json(folder / "preprocessing.json")
    kind = kind_named(info.get("kind"))
    try:
        return kind.contract_from_files(labels, info)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise _bad_file(folder / "preprocessing.json", f"unexpected content: {type(err).__name__} {err}") from None


def _labels_problem(labels: dict) -> str | None:
    task, classes = labels.get("task"), labels.get("classes", [])
    if task not in TASKS:
        return f"its task is {task!r}, not classification, regression or forecast"
    if not isinstance(classes, list) or not all(isinstance(c, (str, int, float)) for c in classes):
        return "its classes are not a list of names"
    if task == "classification" and len(classes) < 2:
        return "it has fewer than two classes"
    return None


def load_folder_model(folder: Path, contract: InputContract) -> Any:
    """The folder's model.keras, refused unless it is a model whose outputs match labels.json."""
    from core.export import load_trained_model
    from core.quiet import import_keras

    import_keras()
    path = folder / "model.keras"
    try:
        model = load_trained_model(path)
    except Exception as err:  # a foreign, truncated or code-bearing file: never run, never trusted
        raise _bad_file(path, f"it is not a model LayerLab can load safely ({str(err).splitlines()[0][:160] if str(err) else type(err).__name__})") from None
    outputs = int(model.output_shape[-1]) if model.output_shape else 0
    expected = contract.n_outputs
    if outputs != expected:
        raise _bad_file(path, f"it gives {outputs} outputs but labels.json describes {expected}")
    return model


def _read_json(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ValueError(f"larger than {MAX_JSON_BYTES // 1024**2} MB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise _bad_file(path, str(err)[:200]) from None
    if not isinstance(data, dict):
        raise _bad_file(path, "it does not hold a JSON object")
    return data


def _bad_file(path: Path, detail: str) -> UserError:
    return UserError(
        "predict.bad_model_file",
        "{file} could not be read ({detail}). Train the model again to rewrite the folder.",
        file=str(path),
        detail=detail,
    )
