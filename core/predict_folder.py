"""`python -m core predict DIR INPUT...`: predictions from a folder written by `python -m core train`.

The folder holds model.keras (our own training output), labels.json and preprocessing.json;
the last two say what the model expects, so no training data is needed here.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.predict import InputContract, ModelInputs, image_inputs, predict_inputs, table_inputs

MODEL_FILES = ("model.keras", "labels.json", "preprocessing.json")


def predict_from_folder(args: argparse.Namespace) -> int:
    folder = Path(args.model_dir)
    contract = read_contract(folder)
    paths = [Path(p) for p in args.input]
    for path in paths:
        if not path.is_file():
            raise UserError("predict.input_missing", "The input file {file} does not exist. Check the path.", file=str(path))
    # read and check every input first: a user error should not wait for Keras to load
    if contract.kind == "table":
        inputs = _csv_inputs(contract, paths)
    else:
        inputs = image_inputs(contract, [p.read_bytes() for p in paths], [p.name for p in paths])
    predictions = predict_inputs(load_folder_model(folder), contract, inputs)
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
    info = _read_json(folder / "preprocessing.json")
    if info.get("kind") == "table":
        from core.data.tables import TablePreprocessor

        return InputContract(
            kind="table",
            task=labels["task"],
            classes=list(labels.get("classes", [])),
            target=info.get("target"),
            preprocessor=TablePreprocessor.from_json(info),
            known_columns=list(info.get("ignored_columns", [])),
        )
    height, width = info["image_size"]
    return InputContract(
        kind="images",
        task=labels["task"],
        classes=list(labels.get("classes", [])),
        image_size=(int(height), int(width)),
        channels=int(info["channels"]),
    )


def load_folder_model(folder: Path) -> Any:
    from core.export import load_trained_model

    return load_trained_model(folder / "model.keras")


def _csv_inputs(contract: InputContract, paths: list[Path]) -> ModelInputs:
    from core.data.csv_reader import read_csv

    combined: ModelInputs | None = None
    for path in paths:
        if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
            raise UserError(
                "predict.needs_csv",
                "{file} is not a CSV file. This model was trained on a table: give a CSV with the training columns.",
                file=str(path),
            )
        inputs = table_inputs(contract, read_csv(path, path.name).frame)
        if len(paths) > 1:
            inputs.sources = [f"{path.name} {source}" for source in inputs.sources]
        if combined is None:
            combined = inputs
        else:
            combined.extend(inputs)
    assert combined is not None  # argparse requires at least one input
    return combined


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(
            "predict.bad_model_file",
            "{file} could not be read ({detail}). Train the model again to rewrite the folder.",
            file=str(path),
            detail=str(err)[:200],
        ) from None
