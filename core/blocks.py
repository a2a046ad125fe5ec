"""Blocks: a residual block and parallel branches, written as one entry of the layer list.

A design is still a list of entries; an entry is a catalog layer or a block that holds its own
lists of entries (the functional API without a graph editor):
- `{"type": "Residual", "layers": [...], "activation": "relu"}`: the inner layers, then the
  block's input added back (through a projection when the shapes differ: a 1×1 Conv2D with the
  right stride for images, Dense for vectors, a kernel-1 Conv1D for sequences), then the
  activation;
- `{"type": "Branches", "branches": [[...], [...]], "merge": "concatenate" | "add"}`: parallel
  paths from the same input, merged. An empty branch passes its input through.
Blocks nest at most MAX_NESTING levels. A position is a path of 0-based indexes: an index into a
list, and after a Branches entry the branch's index (`(2, 1, 0)`: entry 3, branch 2, its first
layer), named for people as "layer 3 › branch 2 › layer 1". Pure Python: no Keras here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from core.catalog import LayerProblem, Param, Shape, format_shape
from core.layers.base import ACTIVATIONS

RESIDUAL, BRANCHES = "Residual", "Branches"
BLOCK_TYPES = (RESIDUAL, BRANCHES)
MERGES = ("concatenate", "add")
MAX_NESTING = 2  # a block inside a block, no deeper
MAX_BRANCHES = 8
Path = tuple[int, ...]


def is_block(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("type") in BLOCK_TYPES


def child_lists(entry: dict) -> list[list[dict]]:
    """The lists of entries a block holds (one for Residual, one per branch)."""
    return [entry["layers"]] if entry["type"] == RESIDUAL else list(entry["branches"])


def position_name(path: Path, entries: list[dict]) -> str:
    """"3 › branch 2 › layer 1" for (2, 1, 0): how messages and the designer name a position
    (the caller writes "Layer " before it, as for a top-level layer number)."""
    parts: list[str] = []
    container = entries
    steps = list(path)
    while steps:
        index = steps.pop(0)
        parts.append(str(index + 1) if not parts else f"layer {index + 1}")
        entry = container[index] if 0 <= index < len(container) else None
        if not steps or not is_block(entry):
            break
        if entry["type"] == BRANCHES:
            branch = steps.pop(0)
            parts.append(f"branch {branch + 1}")
            container = entry["branches"][branch] if 0 <= branch < len(entry["branches"]) else []
        else:
            container = entry["layers"]
    return " › ".join(parts)


def keras_name(path: Path, type_name: str, entries: list[dict] | None = None) -> str:
    """The Keras layer name of the entry at `path`: "layer_3_conv2d" at the top, "layer_3_1_conv2d"
    inside a residual block, "layer_3_b2_1_conv2d" in a branch (unique in the model)."""
    return f"layer_{_path_token(path, entries)}_{type_name.lower()}"


def path_label(path: Path, entries: list[dict]) -> str:
    """A short label of a position: "3", "3.1" in a residual block, "3.b2.1" in branch 2."""
    return _path_token(path, entries).replace("_", ".")


def _path_token(path: Path, entries: list[dict] | None) -> str:
    if entries is None or len(path) == 1:
        return "_".join(str(i + 1) for i in path)
    parts = [str(path[0] + 1)]
    container, steps = entries, list(path)
    while len(steps) > 1:
        entry = container[steps.pop(0)]
        if entry["type"] == BRANCHES:
            branch = steps.pop(0)
            parts.append(f"b{branch + 1}")
            container = entry["branches"][branch]
        else:
            container = entry["layers"]
        if steps:
            parts.append(str(steps[0] + 1))
    return "_".join(parts)


def enclosing_blocks(path: Path, entries: list) -> int:
    """How many blocks hold the entry at `path`."""
    container, steps, depth = entries, list(path), 0
    while len(steps) > 1:
        entry = container[steps.pop(0)]
        depth += 1
        container = entry["layers"] if entry["type"] == RESIDUAL else entry["branches"][steps.pop(0)]
    return depth


def walk(entries: list[dict], prefix: Path = ()) -> Iterator[tuple[Path, dict]]:
    """Every entry with its path, depth first, blocks before their contents."""
    for index, entry in enumerate(entries):
        path = (*prefix, index)
        yield path, entry
        if is_block(entry):
            if entry["type"] == RESIDUAL:
                yield from walk(entry["layers"], path)
            else:
                for branch, inner in enumerate(entry["branches"]):
                    yield from walk(inner, (*path, branch))


def first_layer(entries: list[dict]) -> dict | None:
    """The first catalog layer the data reaches (inside a leading block too)."""
    for _, entry in walk(entries):
        if not is_block(entry):
            return entry
    return None


def block_summary(entry: dict) -> str:
    if entry["type"] == RESIDUAL:
        count = len(entry["layers"])
        return f"{count} layer{'s' if count != 1 else ''}, input added back, {entry['activation']}"
    return f"{len(entry['branches'])} branches, {entry['merge']}"


# ---- the blocks' own settings, as catalog Params (checked and drawn like a layer's)

BLOCK_PARAMS: dict[str, tuple[Param, ...]] = {
    RESIDUAL: (Param("activation", "choice", "relu", "Applied after the input is added back; relu as in ResNet, "
                     "linear for none.", choices=ACTIVATIONS, label="Activation after the sum"),),
    BRANCHES: (Param("merge", "choice", "concatenate", "concatenate puts the branches' outputs side by side (Inception); "
                     "add sums them (they must have the same shape).", choices=MERGES, label="Merge"),),
}
CONTENT_KEY = {RESIDUAL: "layers", BRANCHES: "branches"}
BLOCK_HELP = {
    RESIDUAL: "A few layers whose result is added to their own input (a shortcut), as in ResNet: deep networks train "
    "better with them.",
    BRANCHES: "Parallel paths from the same input, merged at the end (Inception-style): each path can look at the data "
    "differently.",
}


def new_block(type_name: str) -> dict:
    """A block as the designer adds it: settings at their defaults, one empty place for layers."""
    defaults = {p.name: p.default for p in BLOCK_PARAMS[type_name]}
    return {"type": type_name, **defaults, CONTENT_KEY[type_name]: [] if type_name == RESIDUAL else [[], []]}


# ---- shapes where paths meet (the shape report and the builder share these rules)

@dataclass(frozen=True)
class Shortcut:
    """How a residual block's input is brought to its output's shape: nothing, or a projection."""

    type: str | None  # None (identity), "Conv2D", "Dense" or "Conv1D"
    units: int = 0  # filters / units of the projection
    strides: int = 1

    def params(self, in_shape: Shape) -> int:
        return 0 if self.type is None else in_shape[-1] * self.units + self.units

    def settings(self) -> str:
        if self.type is None:
            return "identity"
        if self.type == "Dense":
            return f"projection: {self.units} units"
        size = "1×1" if self.type == "Conv2D" else "of 1"  # as the layers' rows say it (core.layers.convolution)
        return f"projection: {self.units} filters {size}" + (f", stride {self.strides}" if self.strides > 1 else "")


# What takes axes away, by the rank of a residual block's input (a message's fix names it).
FEWER_AXES = {
    2: "Flatten, global pooling, Reshape or an LSTM/GRU without return_sequences",
    3: "Flatten, global pooling or Reshape",
}


def residual_shortcut(in_shape: Shape, out_shape: Shape) -> Shortcut:
    """The shortcut that makes `in_shape` addable to `out_shape`, or LayerProblem."""
    if tuple(in_shape) == tuple(out_shape):
        return Shortcut(None)
    if len(out_shape) < len(in_shape):
        raise LayerProblem(
            "build.residual_rank",
            "its layers turn shape {input} into {output}, which cannot be added back to the input: a shortcut can only "
            "change the size of each axis, not the number of axes. Move {flattening} out of the block (after it).",
            input=format_shape(in_shape), output=format_shape(out_shape),
            flattening=FEWER_AXES[min(len(in_shape), 3)],
        )
    if len(out_shape) > len(in_shape):  # only Reshape adds axes (Embedding is refused inside a block)
        raise LayerProblem(
            "build.residual_rank",
            "its layers turn shape {input} into {output}, which cannot be added back to the input: a shortcut can only "
            "change the size of each axis, not the number of axes. Move Reshape out of the block (before it), so the "
            "block works on the reshaped data.",
            input=format_shape(in_shape), output=format_shape(out_shape),
        )
    kind = {1: "Dense", 2: "Conv1D", 3: "Conv2D"}[len(in_shape)]
    if len(in_shape) == 1:
        return Shortcut(kind, int(out_shape[0]))
    spatial_in, spatial_out = in_shape[:-1], out_shape[:-1]
    stride = max(1, -(-spatial_in[0] // max(1, spatial_out[0])))
    if any(-(-size // stride) != target for size, target in zip(spatial_in, spatial_out)) or any(
            s == 0 for s in spatial_out):
        raise LayerProblem(
            "build.residual_size",
            "its layers turn shape {input} into {output}; the input cannot be brought to that size by a shortcut with "
            'one stride for every axis. Use padding "same" in the block\'s layers, and the same pooling or stride on '
            "every axis.",
            input=format_shape(in_shape), output=format_shape(out_shape),
        )
    return Shortcut(kind, int(out_shape[-1]), stride)


def merged_shape(shapes: list[Shape], merge: str) -> Shape:
    """The output of merging branch outputs, or LayerProblem naming the branches that do not fit."""
    first = tuple(shapes[0])
    if merge == "add":
        for number, shape in enumerate(shapes[1:], start=2):
            if tuple(shape) != first:
                raise LayerProblem(
                    "build.branches_add",
                    "branch 1 gives shape {first} but branch {branch} gives {shape}; adding needs the same shape from "
                    'every branch. Give the branches the same number of units or filters (and padding "same"), or '
                    "merge with concatenate.",
                    first=format_shape(first), branch=number, shape=format_shape(shape),
                )
        return first
    for number, shape in enumerate(shapes[1:], start=2):
        if len(shape) != len(first) or tuple(shape[:-1]) != first[:-1]:
            raise LayerProblem(
                "build.branches_concatenate",
                "branch 1 gives shape {first} but branch {branch} gives {shape}; concatenating needs every axis but the "
                'last to match. Use padding "same" and the same pooling in every branch, or end each branch with the '
                "same flattening layer.",
                first=format_shape(first), branch=number, shape=format_shape(shape),
            )
    return (*first[:-1], sum(int(s[-1]) for s in shapes))
