"""Input and output helpers shared by the CLI commands."""
from __future__ import annotations

import json
from pathlib import Path

from core.errors import UserError


def read_spec_file(path: str | None):
    """Load a project file given on the command line, or None."""
    if not path:
        return None
    from core.spec import ProjectSpec

    p = Path(path)
    if not p.is_file():
        raise UserError("cli.spec_missing", "The project file {file} does not exist. Check the path.", file=path)
    return ProjectSpec.from_json(p.read_bytes())


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def load_cli_data(args):
    """The dataset a command names, with the --target / --task / --kind / --text-column / text / forecast options."""
    from core.data import load_data
    from core.data.tokens import TextSettings

    from core.data.series import SeriesSettings

    text = TextSettings(args.tokenization, args.vocabulary_size, args.sequence_length)
    inputs = tuple(c.strip() for c in args.inputs.split(",") if c.strip()) if args.inputs else None
    series = SeriesSettings(args.target, inputs, args.window, args.horizon, args.date_column, args.date_order)
    return load_data(args.data, target=args.target, task=args.task, kind=args.kind, text_column=args.text_column,
                     text_settings=text if text != TextSettings() else None,
                     series_settings=series if series != SeriesSettings(args.target) else None)


def design_for(args, dataset):
    """The design a command trains or summarises: --spec or the data's default, with --base-model as its
    layer 1; --weights checked against its pretrained backbone (`backbone.weights_mismatch` names both)."""
    from core.templates import default_template

    spec = read_spec_file(args.spec)
    if getattr(args, "base_model", None):
        spec = with_base_model(spec, args.base_model)
    spec = spec or default_template(dataset)
    weights = getattr(args, "weights", None)
    if weights:
        from core.backbones import check_weights_file, has_backbone, is_model_backbone

        if not has_backbone(spec) or is_model_backbone(spec.layers[0]) or spec.layers[0]["weights"] != "imagenet":
            raise UserError("cli.weights_without_backbone", "--weights {file} is for a design that starts with a "
                            'pretrained backbone with "weights": "imagenet", and this design has none. Remove --weights, or '
                            "add the backbone to the project file.", file=weights)
        if not Path(weights).is_file():
            raise UserError("cli.weights_missing", "The weights file {file} does not exist. Check the path.", file=weights)
        check_weights_file(spec.layers[0]["name"], weights)
    return spec


def base_model_file(source: str) -> Path:
    """The .keras file of --base-model: the file itself, or a run folder's best.keras (the app) / model.keras (train --out)."""
    path = Path(source)
    if path.is_file() and path.suffix == ".keras":
        return path
    for name in ("best.keras", "model.keras"):
        if (path / name).is_file():
            return path / name
    raise UserError("cli.base_model_missing", "{path} is not a LayerLab run folder or .keras file: it has no best.keras or "
                    "model.keras. Give the folder `python -m core train --out` wrote, or a .keras file.", path=source)


def with_base_model(spec, source: str):
    """`spec` (or a default: global pooling when the features are a map, dropout) with the model of --base-model as
    its backbone (replacing the source of one it starts with, keeping its fine-tuning settings). Describes the
    model for the shape report first (core.backbones.model_info; imports Keras when it was never described)."""
    from core.backbones import has_backbone, model_info
    from core.spec import ProjectSpec

    path = base_model_file(source)
    info = model_info(path)
    if spec is None:
        layers = ([{"type": "GlobalAveragePooling2D"}] if len(info.feature_shape) == 3 else []) + [{"type": "Dropout", "rate": 0.2}]
        data = ProjectSpec(layers=layers).to_dict()
    else:
        data = spec.to_dict()
    entry = {"type": "Backbone", "model": str(path)}
    if data["layers"] and has_backbone(ProjectSpec(layers=data["layers"])):
        old = data["layers"][0]
        entry.update({k: old[k] for k in ("fine_tune_layers", "fine_tune_epochs", "fine_tune_learning_rate", "cache_features")
                      if k in old})
        data["layers"][0] = entry
    else:
        data["layers"].insert(0, entry)
    return ProjectSpec.from_dict(data)
