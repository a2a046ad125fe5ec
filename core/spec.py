"""ProjectSpec: the user's design as plain data, and the project file (JSON) it round-trips through.

Loading a project file is safe by construction: the text is size- and depth-checked
before it is parsed, parsed with the standard json module only, and every value is
checked against core.catalog. Nothing in it reaches Keras deserialization, and keys or
layer types that could carry code are refused by name.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.blocks import (
    BLOCK_PARAMS, BLOCK_TYPES, CONTENT_KEY, MAX_BRANCHES, MAX_NESTING, RESIDUAL, enclosing_blocks, is_block, position_name,
)
from core.backbones import BACKBONE, is_backbone, normalize_backbone
from core.catalog import LAYERS, OPTIMIZERS, REFUSED_LAYER_TYPES, TASKS, TRAINING_PARAMS, Param, ParamProblem
from core.errors import UserError

MAX_FILE_BYTES = 256 * 1024
# {spec {layers [ {block {branches [ [ {block {layers [ {layer {target_shape [ ... is 10 deep; some room
MAX_DEPTH = 14
MAX_LAYERS = 200
TOP_LEVEL_KEYS = ("format", "task", "layers", "optimizer", "training")
# Keys Keras uses for serialized objects or that name code; a LayerLab project never has them.
CODE_KEYS = frozenset({
    "function", "function_type", "module", "class_name", "config", "registered_name", "build_config",
    "compile_config", "fn", "code", "lambda", "output_shape_type", "arguments", "__class__", "__reduce__",
})


def default_training() -> dict[str, Any]:
    return {name: p.default for name, p in TRAINING_PARAMS.items()}


def default_optimizer() -> dict[str, Any]:
    return {"type": "Adam", **OPTIMIZERS["Adam"].defaults()}


@dataclass
class ProjectSpec:
    """Hidden layers (Keras class names and keyword names), optimizer and training settings.

    The input, preprocessing and output head are not in the spec: core.build derives them
    from the data. Construct it directly (the designer does) or with from_json/from_dict,
    which validate and fill in every default.
    """

    layers: list[dict] = field(default_factory=list)
    task: str | None = None
    optimizer: dict = field(default_factory=default_optimizer)
    training: dict = field(default_factory=default_training)

    FORMAT: ClassVar[str] = "layerlab/2"  # blocks (core.blocks); layerlab/1 files read the same
    READS: ClassVar[tuple[str, ...]] = ("layerlab/1", "layerlab/2")

    # ---- reading -------------------------------------------------------------------------
    @classmethod
    def from_json(cls, text: str | bytes) -> "ProjectSpec":
        return cls.from_dict(parse_project_json(text))

    @classmethod
    def from_dict(cls, data: Any) -> "ProjectSpec":
        if not isinstance(data, dict):
            raise UserError("spec.not_object", "A project file must be a JSON object ({...}), not {kind}.", kind=type(data).__name__)
        _refuse_code_keys(data, "The project file")
        unknown = [k for k in data if k not in TOP_LEVEL_KEYS]
        if unknown:
            raise UserError(
                "spec.unknown_top_key",
                'The project file has an unknown entry "{key}". Allowed entries: {known}.',
                key=unknown[0], known=", ".join(TOP_LEVEL_KEYS),
            )
        fmt = data.get("format", cls.FORMAT)
        if fmt not in cls.READS:
            raise UserError(
                "spec.format",
                'This project file has format "{found}", but LayerLab reads "{expected}". Save it again from LayerLab.',
                found=str(fmt)[:40], expected=cls.FORMAT,
            )
        task = data.get("task")
        if task is not None and task not in TASKS:
            raise UserError("spec.bad_task", 'task must be "classification", "regression", "forecast" or null, got {value}.', value=repr(task)[:40])
        layers = data.get("layers", [])
        if not isinstance(layers, list):
            raise UserError("spec.layers_not_list", 'The project file\'s "layers" must be a list of layers [...].')
        count = _count_entries(layers)
        if count > MAX_LAYERS:
            raise UserError("spec.too_many_layers", "The project has {count} layers; LayerLab allows at most {limit}.",
                            count=count, limit=MAX_LAYERS)
        return cls(
            layers=normalize_entries(layers),
            task=task,
            optimizer=normalize_optimizer(data.get("optimizer", default_optimizer())),
            training=normalize_training(data.get("training", {})),
        )

    def validated(self) -> "ProjectSpec":
        """A checked copy with every default filled in (raises UserError like from_dict)."""
        return ProjectSpec.from_dict(self.to_dict())

    # ---- writing -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.FORMAT,
            "task": self.task,
            "layers": copy.deepcopy(self.layers),
            "optimizer": copy.deepcopy(self.optimizer),
            "training": copy.deepcopy(self.training),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


# ---- parsing -------------------------------------------------------------------------------
def parse_project_json(text: str | bytes) -> Any:
    """Parse a project file's text after checking its size and nesting depth."""
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > MAX_FILE_BYTES:
        raise UserError(
            "spec.too_large",
            "The project file is {size} KB; a LayerLab project is at most {limit} KB. Is this the right file?",
            size=size // 1024, limit=MAX_FILE_BYTES // 1024,
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError("spec.not_text", "The project file is not UTF-8 text. Choose the .json file LayerLab saved.") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise UserError(
            "spec.too_deep",
            "The project file is nested {depth} levels deep; a LayerLab project needs at most {limit}. Is this the right file?",
            depth=depth, limit=MAX_DEPTH,
        )
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as err:
        raise UserError(
            "spec.not_json",
            "The project file is not valid JSON (line {line}, column {column}: {reason}).",
            line=err.lineno, column=err.colno, reason=err.msg,
        ) from None
    except ValueError as err:  # duplicate keys, NaN/Infinity, absurdly long numbers
        raise UserError("spec.not_json", "The project file is not valid JSON: {reason}.", reason=str(err)[:120]) from None


def nesting_depth(text: str) -> int:
    """Deepest [ / { nesting in JSON text, ignoring brackets inside strings (checked before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f'the key "{key[:40]}" appears twice in one object')
        out[key] = value
    return out


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


# ---- validation ----------------------------------------------------------------------------
def _shown(value: Any) -> str:
    """A value from the file as a message quotes it: short, JSON-like for lists and objects."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # a spec built in code may hold anything
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse_code_keys(entry: dict, where: str) -> None:
    for key in entry:
        if not isinstance(key, str) or key.lower() in CODE_KEYS or key.startswith("__"):
            raise UserError(
                "spec.code_refused",
                '{where}: the entry "{key}" is for program code or Keras internals, which a LayerLab project never '
                "contains. Remove it (LayerLab never runs code from a project file).",
                where=where, key=str(key)[:40],
            )


def _check_params(entry: dict, params: dict[str, Param], where: str, what: str, also: tuple[str, ...] = ()) -> dict[str, Any]:
    """Values of `entry` (minus "type") checked against `params`, defaults filled in, catalog order.
    `also`: other keys the object has (a block's "layers" or "branches"), named when a key is unknown."""
    _refuse_code_keys(entry, where)
    for key in entry:
        if key != "type" and key not in params:
            raise UserError(
                "spec.unknown_key",
                '{where}: there is no setting "{key}". {what} has: {known}.',
                where=where, key=str(key)[:40], what=what, known=", ".join([*params, *also]) or "no settings",
            )
    out: dict[str, Any] = {}
    for name, param in params.items():
        value = entry.get(name, param.default)
        try:
            checked = param.check(value)
        except ParamProblem as problem:
            raise UserError(problem.code, problem.template, where=where, **problem.params) from None
        out[name] = checked
    return out


def _count_entries(entries: list) -> int:
    """Layers and blocks at every depth (a bad entry counts as one; it is refused later)."""
    count = 0
    for entry in entries:
        count += 1
        if is_block(entry):
            inner = entry.get(CONTENT_KEY[entry["type"]])
            lists = [inner] if entry["type"] == RESIDUAL else (inner if isinstance(inner, list) else [])
            count += sum(_count_entries(x) for x in lists if isinstance(x, list))
    return count


def normalize_entries(entries: list, prefix: tuple[int, ...] = (), root: list | None = None) -> list[dict[str, Any]]:
    """Each layer or block of a list checked, blocks with their contents, at most MAX_NESTING deep."""
    root = entries if root is None else root
    return [normalize_entry((*prefix, index), entry, root) for index, entry in enumerate(entries)]


def normalize_entry(path: tuple[int, ...], entry: Any, root: list) -> dict[str, Any]:
    """One entry at `path` (core.blocks) checked; a position inside a block is named as a path."""
    position = path[0] + 1 if len(path) == 1 else position_name(path, root)  # as messages name it after "Layer "
    if is_backbone(entry):  # where it may stand (first, images only) is the shape report's to say
        return normalize_backbone(position, entry, _check_params)
    if not is_block(entry):
        return normalize_layer(position, entry)
    where = f"Layer {position} ({entry['type']})"
    if enclosing_blocks(path, root) >= MAX_NESTING:
        raise UserError("spec.too_deep_blocks", "{where}: blocks can be nested at most {limit} levels deep. Move this "
                        "block out of the block around it.", where=where, limit=MAX_NESTING, layer=position)
    type_name = entry["type"]
    content = CONTENT_KEY[type_name]
    try:
        settings = _check_params({k: v for k, v in entry.items() if k != content},
                                 {p.name: p for p in BLOCK_PARAMS[type_name]}, where, type_name, also=(content,))
    except UserError as err:
        err.params.setdefault("layer", position)  # as for a layer: the designer points at it
        raise
    inner = entry.get(content, [])
    if type_name == RESIDUAL:
        if not isinstance(inner, list) or not inner:
            raise UserError("spec.empty_block", '{where}: a residual block needs at least one layer in "layers". Add a '
                            "layer to it, or delete the block.", where=where, layer=position)
        return {"type": type_name, **settings, content: normalize_entries(inner, path, root)}
    if not isinstance(inner, list) or not 2 <= len(inner) <= MAX_BRANCHES or not all(isinstance(b, list) for b in inner):
        raise UserError("spec.bad_branches", '{where}: "branches" must be a list of {low} to {high} lists of layers (an '
                        "empty list passes the input through).", where=where, low=2, high=MAX_BRANCHES,
                        layer=position)
    branches = [normalize_entries(branch, (*path, number), root) for number, branch in enumerate(inner)]
    return {"type": type_name, **settings, content: branches}


def normalize_layer(number: int | str, layer: Any) -> dict[str, Any]:
    """One layer checked against the catalog, as {"type": ..., every setting...}."""
    if not isinstance(layer, dict):
        raise UserError("spec.layer_not_object", 'Layer {layer} must be an object such as {{"type": "Dense", "units": 64}}.', layer=number)
    kind = layer.get("type")
    if not isinstance(kind, str):  # a list or object here would break every lookup by name below
        raise UserError(
            "spec.unknown_layer",
            'Layer {layer}: "{type}" is not a layer LayerLab offers. Choose one of: {known}.',
            layer=number, type=_shown(kind), known=", ".join([*LAYERS, *BLOCK_TYPES, BACKBONE]),
        )
    if kind in REFUSED_LAYER_TYPES:
        raise UserError(
            "spec.code_layer",
            "Layer {layer}: {type} layers run program code, so LayerLab never loads them. Remove it from the project file.",
            layer=number, type=kind,
        )
    if kind not in LAYERS:
        raise UserError(
            "spec.unknown_layer",
            'Layer {layer}: "{type}" is not a layer LayerLab offers. Choose one of: {known}.',
            layer=number, type=_shown(kind), known=", ".join([*LAYERS, *BLOCK_TYPES, BACKBONE]),
        )
    entry = LAYERS[kind]
    where = f"Layer {number} ({kind})"
    try:
        values = _check_params(layer, {p.name: p for p in entry.params}, where, kind)
    except UserError as err:
        err.params.setdefault("layer", number)  # tests and the designer point at the layer by number
        raise
    return {"type": kind, **values}


def normalize_optimizer(optimizer: Any) -> dict[str, Any]:
    if not isinstance(optimizer, dict):
        raise UserError(
            "spec.optimizer_not_object",
            'The project file\'s "optimizer" must be an object such as {example}.',
            example='{"type": "Adam", "learning_rate": 0.001}',  # a parameter: a template without one is not formatted
        )
    found = optimizer.get("type")
    if not isinstance(found, str) or found not in OPTIMIZERS:  # a str first: a list cannot be looked up
        raise UserError(
            "spec.unknown_optimizer",
            'Optimizer: "{type}" is not an optimizer LayerLab offers. Choose one of: {known}.',
            type=_shown(found), known=", ".join(OPTIMIZERS),
        )
    entry = OPTIMIZERS[optimizer["type"]]
    values = _check_params(optimizer, {p.name: p for p in entry.params}, f"Optimizer ({entry.name})", entry.name)
    return {"type": entry.name, **values}


def normalize_training(training: Any) -> dict[str, Any]:
    if not isinstance(training, dict):
        raise UserError("spec.training_not_object", 'The project file\'s "training" must be an object such as {example}.',
                        example='{"epochs": 30}')
    return _check_params(training, TRAINING_PARAMS, "Training settings", "Training")
