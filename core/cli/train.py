"""`python -m core train DATA ... --out DIR`: train in this process and write the results.

DIR gets model.keras, model.tflite (float32), metrics.json (test metrics plus how training
ended), history.json (per-epoch values, Keras History style), project.json, labels.json,
preprocessing.json, train_model.py and serving.zip (core.serving.package: a TF Serving SavedModel
taking raw inputs, serve.py, Dockerfile, README).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.training import events as ev


def train_to_folder(args: argparse.Namespace) -> int:
    from core.cli.io import design_for, load_cli_data
    from core.shapes import shape_report

    dataset = load_cli_data(args)
    spec = design_for(args, dataset)
    spec = with_overrides(spec, epochs=args.epochs, seed=args.seed)
    report = shape_report(spec, dataset)
    if not report.ok:  # before Keras loads and before --out is made
        raise report.first_error()
    weights = _backbone_weights(spec, args.weights)
    out = writable_folder(Path(args.out))  # made only once the data and the design are fine

    from core.quiet import import_keras
    from core.training.trainer import train_in_process

    import_keras()  # after the checks: their mistakes do not wait for it

    print(f"Training on {dataset.name}: {len(dataset.x_train)} training and {len(dataset.x_val)} validation examples.", flush=True)
    with tempfile.TemporaryDirectory(prefix="layerlab-run-") as run_dir:
        result = train_in_process(spec, dataset, run_dir, on_event=print_progress, weights_file=weights)
    print(result.message, flush=True)
    if result.status == ev.FAILED:
        raise UserError("training.failed", "{message}", message=result.message)
    written = write_outputs(out, spec, dataset, result)
    print(f"Wrote {', '.join(written)} to {out}", flush=True)
    return 0


def _backbone_weights(spec: Any, weights: str | None) -> Path | None:
    """A pretrained backbone's ImageNet weights file: --weights, Keras' cache, or downloaded there (online; not
    with LAYERLAB_DOWNLOAD_WEIGHTS=0); offline, `backbone.weights_missing` says which file and where."""
    from core.backbones import has_backbone, resolve_weights

    if not has_backbone(spec):
        return None
    return resolve_weights(spec.layers[0], weights, download=None)


def writable_folder(out: Path) -> Path:
    """`out`, created and checked for writing before any training: a run must not be lost at the end."""
    if out.exists() and not out.is_dir():
        raise UserError("cli.out_not_folder", "{out} is a file, not a folder. Give a folder for --out.", out=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".layerlab-write-check-"):
            pass
    except OSError as err:
        raise UserError(
            "cli.out_not_writable",
            "LayerLab cannot write into {out} ({reason}). Give a folder you can write to for --out.",
            out=str(out),
            reason=err.strerror or type(err).__name__,
        ) from None
    return out


def with_overrides(spec: Any, *, epochs: int | None, seed: int | None) -> Any:
    """The spec with --epochs / --seed applied, validated like a project file."""
    if epochs is None and seed is None:
        return spec
    from core.spec import ProjectSpec

    data = spec.to_dict()
    if epochs is not None:
        data["training"]["epochs"] = epochs
    if seed is not None:
        data["training"]["seed"] = seed
    return ProjectSpec.from_dict(data)


def print_progress(event: dict) -> None:
    if event["type"] == "epoch":
        print(format_epoch(event), flush=True)


def format_epoch(event: dict) -> str:
    width = len(str(event["epochs"]))
    # loss first, then the other metrics, validation values after the training ones
    names = sorted(event["logs"], key=lambda n: (n.startswith("val_"), n.removeprefix("val_") != "loss", n))
    values = "  ".join(f"{name} {_number(event['logs'][name])}" for name in names)
    return (
        f"Epoch {event['epoch']:>{width}}/{event['epochs']}  {values}  "
        f"({event['elapsed']:.1f} s, about {event['eta']:.0f} s left)"
    )


def _number(value: float | None) -> str:
    return "nan" if value is None else f"{value:.4f}"


def write_outputs(out: Path, spec: Any, dataset: Any, result: Any) -> list[str]:
    from core import codegen, export
    from core.data.kinds import kind_of
    from core.evaluate import evaluate

    model = result.model
    evaluation = evaluate(model, dataset)
    metrics = {
        **evaluation.metrics(),
        "training": {
            "status": result.status,
            "message": result.message,
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "seconds": round(result.elapsed, 2),
        },
    }
    downloadable = export.downloadable_model(model, dataset)
    files: dict[str, bytes | str] = {
        "model.keras": export.keras_bytes(downloadable),
        "metrics.json": _json(metrics),
        "history.json": _json(keras_style_history(result.history)),
        "project.json": spec.to_json(),
        "labels.json": export.labels_json(dataset),
        "preprocessing.json": export.preprocessing_json(dataset),
        "train_model.py": codegen.training_script(spec, dataset),
        **export.side_files(dataset),
    }
    try:
        files["model.tflite"] = export.tflite_bytes(model, "float32", dataset)
    except UserError as err:  # an op TFLite lacks must not cost the user the trained model
        print(f"model.tflite not written: {err}", file=sys.stderr)
    files["serving.zip"] = export.serving_zip(downloadable, dataset, dataset.name)
    for name, content in files.items():
        path = out / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if kind_of(dataset).takes_backbone:  # so that --base-model OUT can start another design from it
        from core.backbones import MODEL_INFO_SUFFIX, write_model_info

        try:
            write_model_info(out / "model.keras", model)
            files["model.keras" + MODEL_INFO_SUFFIX] = ""
        except UserError:  # a design without layers of its own: nothing to reuse
            pass
    return list(files)


def keras_style_history(history: list[dict[str, float | None]]) -> dict[str, list[float | None]]:
    """Per-epoch logs as Keras's History.history: {"loss": [...], "val_loss": [...]}."""
    names: list[str] = []
    for logs in history:
        names.extend(n for n in logs if n not in names)
    return {name: [logs.get(name) for logs in history] for name in names}


def _json(data: Any) -> str:
    return json.dumps(_strict(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _strict(data: Any) -> Any:
    """NaN and infinities as null: strict JSON has neither."""
    if isinstance(data, float):
        return ev.finite_or_none(data)
    if isinstance(data, dict):
        return {k: _strict(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_strict(v) for v in data]
    return data
