"""The shape report: every layer's output shape and parameter count, before any training.

Pure Python over core.catalog (no Keras), so the designer can recompute it on every form
edit. core.build refuses a model whose report has errors, with the report's first error.
"""
from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

from core.backbones import (
    BACKBONE, BACKBONES, backbone_size, check_backbone_size, describe_entry, fine_tuned_params, is_backbone,
    is_model_backbone, model_info_path, preprocessing_words, read_model_info,
)
from core.blocks import (
    CONTENT_KEY, RESIDUAL, block_summary, enclosing_blocks, is_block, merged_shape, path_label, position_name, residual_shortcut,
)
from core.catalog import LAYERS, OPTIMIZERS, LayerProblem, LayerType, Shape, format_shape, prod
from core.data.kinds import kind_of
from core.errors import UserError
from core.sizes import human_size

DEFAULT_MAX_PARAMS = 20_000_000
DEFAULT_MAX_MEMORY_BYTES = 4 * 1024**3
BYTES_PER_VALUE = 4  # float32

# The 1-D / 2-D counterpart of a layer, for "use X instead" fixes.
COUNTERPART = {
    "Conv2D": "Conv1D", "SeparableConv2D": "Conv1D", "MaxPooling2D": "MaxPooling1D", "AveragePooling2D": "AveragePooling1D",
    "GlobalAveragePooling2D": "GlobalAveragePooling1D", "GlobalMaxPooling2D": "GlobalMaxPooling1D",
    "Conv1D": "Conv2D", "MaxPooling1D": "MaxPooling2D", "AveragePooling1D": "AveragePooling2D",
    "GlobalAveragePooling1D": "GlobalAveragePooling2D", "GlobalMaxPooling1D": "GlobalMaxPooling2D",
    "LSTM": "Conv2D", "GRU": "Conv2D", "Bidirectional": "Conv2D",
}


@dataclass
class Notice:
    """An error or warning of the report; `template` + `params` like UserError (translatable)."""

    code: str
    template: str
    params: dict[str, Any]
    layer: int | None = None  # 1-based hidden layer number (of the top-level entry), None for input/output/whole model
    path: tuple[int, ...] = ()  # the exact position (core.blocks) when inside a block

    def render(self, lang: str = "en") -> str:
        return self.to_error().render(lang)

    def __str__(self) -> str:
        return self.render("en")

    def to_error(self) -> UserError:
        return UserError(self.code, self.template, **self.params)


@dataclass
class ShapeRow:
    role: str  # "input" | "preprocessing" | "layer" | "block" | "shortcut" | "output"
    type: str
    settings: str
    output_shape: Shape | None  # without the batch axis; None when unknown (after an error)
    params: int = 0
    trainable_params: int = 0
    number: int | None = None  # hidden layers: 1-based position in spec.layers (of the block holding it)
    error: str | None = None
    warning: str | None = None
    path: tuple[int, ...] = ()  # core.blocks position: (2,) top-level entry 3, (2, 1, 0) inside a block
    depth: int = 0  # blocks around this row
    block_params: int | None = None  # a block's row: every parameter inside it (its own row has params 0)
    label: str = ""  # the position as a short label: "3", "3.1", "3.b2.1", "3.s" (a block's shortcut)


@dataclass
class ShapeReport:
    rows: list[ShapeRow]
    total_params: int
    trainable_params: int
    memory_bytes: int  # training estimate: weights + gradients + optimizer slots + activations
    errors: list[Notice] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    max_params: int = DEFAULT_MAX_PARAMS

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def first_error(self) -> UserError:
        return self.errors[0].to_error()


def max_params_limit(override: int | None = None) -> int:
    if override is not None:
        return override
    return int(os.environ.get("LAYERLAB_MAX_PARAMS", DEFAULT_MAX_PARAMS))


def max_memory_limit(override: int | None = None) -> int:
    if override is not None:
        return override
    env = os.environ.get("LAYERLAB_MAX_MEMORY_MB")
    return int(env) * 1024**2 if env else DEFAULT_MAX_MEMORY_BYTES


def _layer_notice(code: str, template: str, path: tuple[int, ...], type_name: str, root: list | None = None,
                  **params: Any) -> Notice:
    name = position_name(path, root) if root is not None and len(path) > 1 else path[0] + 1
    return Notice(code, "Layer {layer} ({type}): " + template, {"layer": name, "type": type_name, **params},
                  layer=path[0] + 1, path=tuple(path))


class _Walk:
    """State while walking the stack: the current shape, what last flattened it, and the design
    (for naming positions inside blocks)."""

    def __init__(self, shape: Shape, root: list | None = None) -> None:
        self.shape = shape
        self.flattened_by: tuple[int | str, str] | None = None
        self.root = root or []

    def branch(self, shape: Shape) -> "_Walk":
        inner = _Walk(shape, self.root)
        inner.flattened_by = self.flattened_by
        return inner


def _rank_problem(entry: LayerType, walk: _Walk) -> LayerProblem:
    """Why `entry` cannot take an input of this rank, with the fix that fits the situation."""
    shape, size = walk.shape, prod(walk.shape)
    alt = COUNTERPART.get(entry.name, "Dense")
    if 3 in entry.input_ranks:  # image layers
        if len(shape) == 1 and walk.flattened_by:
            number, name = walk.flattened_by
            return LayerProblem(
                "build.image_layer_after_flatten",
                "it needs an image (height × width × channels), but layer {flat_layer} ({flat_type}) already turned "
                "the data into a flat list of {size} numbers. Move this layer before layer {flat_layer}.",
                flat_layer=number, flat_type=name, size=size,
            )
        if len(shape) == 1:
            return LayerProblem(
                "build.image_layer_on_table",
                "it works on images, but here each example is a flat list of {size} numbers (table data). "
                "Use Dense layers for tables, or add Reshape with target_shape [-1, 1] and use {alt} to read the numbers as a sequence.",
                size=size, alt="Conv1D",
            )
        return LayerProblem(
            "build.image_layer_on_sequence",
            "it needs an image (height × width × channels), but its input is a sequence of shape {shape}. Use {alt} for sequences.",
            shape=format_shape(shape), alt=alt,
        )
    if 2 in entry.input_ranks:  # sequence layers
        if len(shape) == 1:
            return LayerProblem(
                "build.needs_sequence",
                "it needs a sequence (steps × features), but its input is a flat list of {size} numbers. "
                "Add a Reshape layer before it with target_shape [{size}, 1] (or [-1, 1]) so each number becomes one step.",
                size=size,
            )
        return LayerProblem(
            "build.sequence_layer_on_image",
            "it works on sequences, but its input is an image of shape {shape}. Use {alt} for images, or add Reshape "
            "with target_shape [{rows}, {row_size}] before it to read the image row by row.",
            shape=format_shape(shape), alt=alt, rows=shape[0], row_size=prod(shape[1:]),
        )
    return LayerProblem(
        "build.needs_flat",
        "it needs a flat list of numbers, but its input has shape {shape}. Add Flatten before it.",
        shape=format_shape(shape),
    )


def _integer_code_problem(path: tuple[int, ...], params: dict, dataset: Any) -> LayerProblem | None:
    """Embedding reads raw codes: first layer, and data whose kind holds whole-number codes in range."""
    if len(path) > 1:
        return LayerProblem(
            "build.embedding_in_block",
            "Embedding cannot be inside a block: it reads the raw whole-number codes of the data, so it must be the "
            "first layer of the design, before any block. Move it out of the block, to position 1.",
        )
    if tuple(path) != (0,):
        return LayerProblem(
            "build.embedding_not_first",
            "Embedding must be the first layer, because it reads the raw whole-number codes of the data. Move it to position 1.",
        )
    return kind_of(dataset).integer_code_problem(dataset, params["input_dim"])


def shape_report(spec: Any, dataset: Any, *, max_params: int | None = None, max_memory_bytes: int | None = None) -> ShapeReport:
    """Rows for the input, preprocessing, each hidden layer and the output head, with totals.

    Never raises for a bad design: problems become row errors and `report.errors`.
    """
    from core.spec import normalize_entry

    errors: list[Notice] = []
    warnings: list[Notice] = []
    in_shape = tuple(dataset.input_shape)
    walk = _Walk(in_shape, spec.layers)
    rows = [ShapeRow("input", "Input", kind_of(dataset).input_text(dataset), in_shape)]

    layers: list[dict | None] = []
    for index, layer in enumerate(spec.layers):
        try:
            layers.append(with_data_settings(normalize_entry((index,), layer, spec.layers), dataset))
        except UserError as err:
            layers.append(None)
            errors.append(Notice(err.code, err.template, dict(err.params), layer=index + 1))
    walk.root = [layer if layer is not None else {} for layer in layers]

    reads_codes = bool(layers) and layers[0] is not None and _reads_codes(layers[0])
    backbone = layers[0] if layers and is_backbone(layers[0]) else None
    extra_activations = 0
    if backbone is None:
        rows.append(_preprocessing_row(dataset, reads_codes))
        walk.shape = rows[-1].output_shape  # one-hot encoding widens a table's input
    else:
        backbone_rows, extra_activations = _backbone_rows(backbone, dataset, errors)
        rows += backbone_rows
        walk.shape = rows[-1].output_shape

    for number, layer in enumerate(layers, start=1):
        if backbone is not None and number == 1:
            continue
        if layer is None:  # settings invalid: the error is already listed
            raw = spec.layers[number - 1]
            type_name = str(raw.get("type", "?")) if isinstance(raw, dict) else "?"
            error = next(str(e) for e in errors if e.layer == number)
            rows.append(ShapeRow("layer", type_name, "", None, number=number, error=error, path=(number - 1,)))
            walk.shape = None
            continue
        rows += _entry_rows((number - 1,), layer, walk, dataset, errors, warnings)

    rows.append(_output_row(dataset, walk, layers, errors))

    if spec.task and spec.task != dataset.task:
        warnings.append(Notice(
            "build.task_mismatch",
            "This project was designed for {spec_task}, but the data is a {data_task} problem. "
            "LayerLab builds the output for {data_task}.",
            {"spec_task": spec.task, "data_task": dataset.task},
        ))

    total = sum(r.params for r in rows)
    trainable = sum(r.trainable_params for r in rows)
    memory = estimate_memory(rows, total, trainable, spec, extra_activations)
    limit = max_params_limit(max_params)
    # A pretrained backbone's frozen weights are read, never trained: the budget counts only what is trained.
    frozen = sum(r.params - r.trainable_params for r in rows if r.type == BACKBONE and r.role == "layer")
    if not errors and total - frozen > limit:
        biggest = max((r for r in rows if r.role in ("layer", "shortcut")), key=lambda r: r.params, default=rows[-1])
        errors.append(Notice(
            "build.too_many_params",
            "This model has {total} parameters, more than the limit of {limit}. The biggest layer is {where} with {biggest} "
            "parameters: make it smaller, or shrink the input before it (pooling before Flatten, fewer units).",
            {"total": f"{total - frozen:,}", "limit": f"{limit:,}", "where": _row_name(biggest, spec.layers), "biggest": f"{biggest.params:,}"},
        ))
    memory_limit = max_memory_limit(max_memory_bytes)
    if not errors and memory > memory_limit:
        errors.append(Notice(
            "build.too_much_memory",
            "Training this model would need about {need} MB of memory, more than the limit of {limit} MB. "
            "Lower batch_size, use fewer or smaller layers, or add pooling.",
            {"need": f"{memory // 1024**2:,}", "limit": f"{memory_limit // 1024**2:,}"},
        ))
    return ShapeReport(rows, total, trainable, memory, errors, warnings, max_params=limit)


def _backbone_rows(entry: dict, dataset: Any, errors: list[Notice]) -> tuple[list[ShapeRow], int]:
    """The preprocessing row in front of a backbone (gray → 3 channels, resizing, the backbone's own input scaling)
    and the backbone's row; and the activations it keeps per example while fine-tuning (memory estimate)."""
    in_shape = tuple(dataset.input_shape)
    row = ShapeRow("layer", BACKBONE, describe_entry(entry), None, number=1, path=(0,), label="1")
    pre = ShapeRow("preprocessing", "Resizing", "", None)
    notice = _backbone_problem(entry, dataset)
    if notice is not None:
        errors.append(notice)
        row.error = str(notice)
        return [pre, row], 0
    if is_model_backbone(entry):
        info = read_model_info(entry["model"])
        size = tuple(info.input_shape[:2])
        pre.settings = preprocessing_words(entry, in_shape, size, channels=info.input_shape[2])
        pre.output_shape = tuple(info.input_shape)
        params, trainable, feature = info.params, info.fine_tuned_params(entry["fine_tune_layers"]), info.feature_shape
        extra = 2 * prod(info.input_shape) * 8 if entry["fine_tune_layers"] else 0  # rough: small LayerLab networks
    else:
        info = BACKBONES[entry["name"]]
        side = backbone_size(entry)
        pre.settings = preprocessing_words(entry, in_shape, (side, side))
        pre.output_shape = (side, side, 3)
        pre.params = 12 if info.preprocessing == "caffe" else 0  # the frozen 1×1 convolution RGB → BGR − mean
        params, feature = info.params, info.feature_shape(side)
        trainable = fine_tuned_params(info.name, entry["fine_tune_layers"])
        extra = info.activations_224 * side * side // (224 * 224) if entry["fine_tune_layers"] else 0
    row.output_shape = tuple(feature)
    row.params, row.trainable_params = params, trainable
    return [pre, row], extra


def _backbone_problem(entry: dict, dataset: Any) -> Notice | None:
    """Why the design's backbone cannot read this data, as the backbone row's notice; None when it can."""
    from core.data.limits import current_limits

    in_shape = tuple(dataset.input_shape)
    if not kind_of(dataset).takes_backbone or len(in_shape) != 3:
        return _layer_notice("build.backbone_on_non_images", "a pretrained backbone reads pictures, but this data is not "
                             "images. Remove the backbone (it works on image data only).", (0,), BACKBONE)
    if not is_model_backbone(entry):
        try:
            check_backbone_size(entry)
        except LayerProblem as problem:
            return _layer_notice(problem.code, problem.template, (0,), BACKBONE, **problem.params)
        return None
    path = Path(entry["model"])
    if not path.is_file():
        return _layer_notice("build.backbone_model_missing", "the model {file} to start from was not found. Choose a "
                             "finished run or upload a .keras file made by LayerLab.", (0,), BACKBONE, file=str(path))
    limit = current_limits().weights_bytes
    if path.stat().st_size > limit:
        return _layer_notice("build.backbone_model_too_large", "the model {file} is over {limit} MB; LayerLab reads "
                             "models up to that size.", (0,), BACKBONE, file=path.name, limit=limit // 1_000_000)
    info = read_model_info(path)
    if info is None:
        return _layer_notice("build.backbone_model_unknown", "LayerLab has not read the model {file} yet (its description "
                             "{info} is missing). Choose it again, or use --base-model in the command line.", (0,),
                             BACKBONE, file=path.name, info=model_info_path(path).name)
    if in_shape[2] == 3 and info.input_shape[2] == 1:
        return _layer_notice("build.backbone_model_channels", "your model {file} was trained on gray pictures (1 channel), "
                             "but this data is in colour (3 channels). Use gray pictures, or start from a model trained "
                             "on colour ones.", (0,), BACKBONE, file=path.name)
    return None


def with_data_settings(layer: dict, dataset: Any) -> dict:
    """The layer with its "automatic" settings taken from the data: an Embedding's input_dim
    (the vocabulary of a text, the largest code of a table + 1). The shape report, the builder
    and train_model.py all use this, so they agree. A block gets its contents' settings."""
    if is_backbone(layer):
        return layer
    if is_block(layer):
        key = CONTENT_KEY[layer["type"]]
        inner = layer[key]
        lists = [inner] if layer["type"] == RESIDUAL else inner
        done = [[with_data_settings(entry, dataset) for entry in entries] for entries in lists]
        return {**layer, key: done[0] if layer["type"] == RESIDUAL else done}
    if LAYERS[layer["type"]].needs_integer_codes and layer.get("input_dim") is None:
        return {**layer, "input_dim": max(2, kind_of(dataset).code_count(dataset))}
    return layer


def _reads_codes(entry: dict) -> bool:
    return not is_block(entry) and not is_backbone(entry) and LAYERS[entry["type"]].needs_integer_codes


def _entry_rows(path: tuple[int, ...], entry: dict, walk: _Walk, dataset: Any, errors: list[Notice],
                warnings: list[Notice]) -> list[ShapeRow]:
    """The rows of one entry: a layer's row, or a block's row, its contents' rows and its shortcut."""
    if is_backbone(entry):  # the first entry's rows are made before the walk; anywhere else it cannot work
        row = ShapeRow("layer", BACKBONE, describe_entry(entry), None, number=path[0] + 1, path=tuple(path),
                       depth=enclosing_blocks(path, walk.root), label=path_label(path, walk.root))
        notice = _layer_notice("build.backbone_not_first", "a pretrained backbone reads the images themselves, so it must be "
                               "the first layer of the design, outside any block. Move it to position 1.", path, BACKBONE,
                               walk.root)
        errors.append(notice)
        row.error = str(notice)
        walk.shape = None
        return [row]
    if not is_block(entry):
        row = _layer_row(path, entry, walk, dataset, errors, warnings)
        row.depth, row.label = enclosing_blocks(path, walk.root), path_label(path, walk.root)
        return [row]
    depth = enclosing_blocks(path, walk.root)
    head = ShapeRow("block", entry["type"], block_summary(entry), None, number=path[0] + 1, path=tuple(path),
                    depth=depth, label=path_label(path, walk.root))
    rows = [head]
    in_shape = walk.shape
    if entry["type"] == RESIDUAL:
        for index, inner in enumerate(entry["layers"]):
            rows += _entry_rows((*path, index), inner, walk, dataset, errors, warnings)
        if in_shape is not None and walk.shape is not None:
            try:
                shortcut = residual_shortcut(in_shape, walk.shape)
            except LayerProblem as problem:
                _block_error(head, problem, path, walk, errors)
            else:
                if shortcut.type is not None:
                    params = shortcut.params(in_shape)
                    rows.append(ShapeRow("shortcut", shortcut.type, shortcut.settings(), tuple(walk.shape), params=params,
                                         trainable_params=params, number=path[0] + 1, path=(*path, -1), depth=depth + 1,
                                         label=head.label + ".s"))
                head.settings += ", shortcut: " + shortcut.settings()
                head.output_shape = tuple(walk.shape)
    else:
        outputs = []
        for branch, entries in enumerate(entry["branches"]):
            inner_walk = walk.branch(in_shape)
            for index, inner in enumerate(entries):
                rows += _entry_rows((*path, branch, index), inner, inner_walk, dataset, errors, warnings)
            outputs.append(inner_walk.shape)
        walk.shape = None
        if in_shape is not None and all(shape is not None for shape in outputs):
            try:
                walk.shape = tuple(merged_shape(outputs, entry["merge"]))
            except LayerProblem as problem:
                _block_error(head, problem, path, walk, errors)
            else:
                head.output_shape = walk.shape
                if len(walk.shape) == 1 < len(in_shape):  # the branches flattened: a later 2-D layer names the block
                    walk.flattened_by = (path[0] + 1 if len(path) == 1 else position_name(path, walk.root), entry["type"])
    head.block_params = sum(r.params for r in rows[1:])
    return rows


def _block_error(head: ShapeRow, problem: LayerProblem, path: tuple[int, ...], walk: _Walk, errors: list[Notice]) -> None:
    notice = _layer_notice(problem.code, problem.template, path, head.type, walk.root, **problem.params)
    errors.append(notice)
    head.error = str(notice)
    walk.shape = None


def _row_name(row: ShapeRow, root: list) -> str:
    if row.role == "shortcut":  # path: the block's, then -1
        block = row.path[:-1]
        return f"the shortcut of layer {position_name(block, root) if len(block) > 1 else block[0] + 1} (Residual)"
    if len(row.path) > 1:
        return f"layer {position_name(row.path, root)} ({row.type})"
    return f"layer {row.number} ({row.type})" if row.number else row.type


def _preprocessing_row(dataset: Any, reads_codes: bool) -> ShapeRow:
    step = kind_of(dataset).preprocessing_step(dataset, reads_codes)
    return ShapeRow("preprocessing", step.type, step.settings, step.output_shape, params=step.params)


def _layer_row(path: tuple[int, ...], layer: dict, walk: _Walk, dataset: Any, errors: list[Notice],
               warnings: list[Notice]) -> ShapeRow:
    entry = LAYERS[layer["type"]]
    number = path[0] + 1
    row = ShapeRow("layer", entry.name, entry.summary(layer), None, number=number, path=tuple(path))
    if walk.shape is None:  # an earlier layer failed; this one's input is unknown
        return row
    try:
        problem = _integer_code_problem(path, layer, dataset) if entry.needs_integer_codes else None
        if problem:
            raise problem
        if entry.input_ranks and len(walk.shape) not in entry.input_ranks:
            raise _rank_problem(entry, walk)
        out = tuple(int(d) for d in entry.output_shape(walk.shape, layer))
    except LayerProblem as problem:
        notice = _layer_notice(problem.code, problem.template, path, entry.name, walk.root, **problem.params)
        errors.append(notice)
        row.error = str(notice)
        walk.shape = None
        return row
    if entry.name == "Dense" and len(walk.shape) == 3:
        notice = _layer_notice(
            "build.dense_on_image",
            "Dense is applied to each pixel of the {shape} image separately. That works, but usually you want to "
            "add Flatten or GlobalAveragePooling2D first.",
            path, entry.name, walk.root, shape=format_shape(walk.shape),
        )
        warnings.append(notice)
        row.warning = str(notice)
    total = entry.param_count(walk.shape, layer)
    row.params, row.trainable_params = total, total - entry.non_trainable_count(walk.shape, layer)
    row.output_shape = out
    if len(out) < len(walk.shape) and len(out) == 1:
        walk.flattened_by = (number if len(path) == 1 else position_name(path, walk.root), entry.name)
    walk.shape = out
    return row


def _output_row(dataset: Any, walk: _Walk, layers: list[dict | None], errors: list[Notice]) -> ShapeRow:
    units = dataset.n_outputs
    row = ShapeRow("output", "Dense", kind_of(dataset).output_text(dataset), None)
    if walk.shape is None:
        return row
    if len(walk.shape) != 1:
        last = next(((n, l["type"]) for n, l in reversed(list(enumerate(layers, start=1))) if l), None)  # a block counts
        where = f"layer {last[0]} ({last[1]})" if last else "the input"
        fix = "Flatten or GlobalAveragePooling2D" if len(walk.shape) == 3 else "Flatten or GlobalAveragePooling1D (or switch return_sequences off)"
        notice = Notice(
            "build.output_needs_flat",
            "The output needs one flat list of numbers per example, but {where} gives shape {shape}. Add {fix} as the last layer.",
            {"where": where, "shape": format_shape(walk.shape), "fix": fix},
        )
        errors.append(notice)
        row.error = str(notice)
        return row
    row.output_shape = (units,)
    row.params = row.trainable_params = walk.shape[0] * units + units
    return row


def estimate_memory(rows: list[ShapeRow], total: int, trainable: int, spec: Any, extra_activations: int = 0) -> int:
    """Bytes to train: weights, gradients, optimizer slots, and activations (kept and back-propagated) per batch.
    `extra_activations`: values a fine-tuned backbone's layers output per example (a frozen one keeps none)."""
    batch = int(spec.training.get("batch_size", 32))
    optimizer = OPTIMIZERS.get(spec.optimizer.get("type", "Adam"), OPTIMIZERS["Adam"])
    slots = optimizer.slots({**optimizer.defaults(), **spec.optimizer})
    activations = sum(prod(r.output_shape) for r in rows if r.output_shape) + extra_activations
    values = total + trainable * (1 + slots) + 2 * batch * activations
    return values * BYTES_PER_VALUE


def format_report(report: ShapeReport) -> str:
    """A printable table: number, layer, settings, output shape, parameters; then totals and problems."""
    table = [("#", "Layer", "Settings", "Output shape", "Parameters")]
    for row in report.rows:
        number = (row.label or str(row.number)) if row.number else {"input": "in", "preprocessing": "pre", "output": "out"}.get(row.role, "")
        params = f"({row.block_params:,})" if row.block_params is not None else f"{row.params:,}"
        table.append((number, "  " * row.depth + row.type, row.settings, format_shape(row.output_shape), params))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = []
    for i, r in enumerate(table):
        lines.append("  ".join(c.rjust(w) if j in (0, 4) else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths))).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    lines.append("-" * len(lines[0]))
    lines.append(f"Total parameters: {report.total_params:,} (trainable {report.trainable_params:,}, "
                 f"not trainable {report.non_trainable_params:,})")
    lines.append(f"Estimated training memory: {human_size(report.memory_bytes)}")
    lines += [f"Warning: {w}" for w in report.warnings]
    lines += [f"Error: {e}" for e in report.errors]
    return "\n".join(lines)
