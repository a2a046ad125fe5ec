"""A seeded generator of random valid designs with blocks (core.blocks), over the layer catalog.

Shapes are tracked with the catalog's own formulas while a design is drawn, so every choice
fits its input: image, sequence and table layers where they belong, residual blocks that
keep the number of axes (projections where the shapes change), branches that can be added
(same shape) or concatenated (same shape but the last axis), empty branches, blocks inside
blocks. Pure Python; the tests build the designs with Keras.
"""
from __future__ import annotations

import random
from typing import Any

from core.blocks import BRANCHES, MAX_NESTING, RESIDUAL, LayerProblem, merged_shape, residual_shortcut
from core.catalog import LAYERS, Shape
from core.spec import normalize_layer

# Where the data starts: name -> (dataset, first entries that shape its input). The shapes after them:
STARTS = {
    "wine": ("wine", []),  # (13,) a table
    "diabetes": ("diabetes", []),  # (10,) regression
    "iris_categories": ("iris_categories", []),  # (12,) numbers and categories one-hot encoded in the model
    "wine_sequence": ("wine", [{"type": "Reshape", "target_shape": [-1, 1]}]),  # (13, 1): columns as a sequence
    "digits": ("digits", []),  # (8, 8, 1) images
    "digits_again": ("digits", []),  # images twice as often: their blocks have the most to check
    "electrical_equipment": ("electrical_equipment", []),  # (24, 1) a series window
    "sms_spam_embedding": ("sms_spam", [{"type": "Embedding", "output_dim": 8}]),  # (31, 8): token ids, embedded
    "sms_spam": ("sms_spam", []),  # a multi-hot vector of the vocabulary
}


def _small(rng: random.Random) -> int:
    return rng.choice([2, 3, 4, 6, 8, 12, 16])


def _layer_choices(rng: random.Random, shape: Shape, keep_rank: bool) -> dict:
    """One random catalog layer for an input of `shape` (keep_rank: its output has as many axes)."""
    rank = len(shape)
    common = [
        {"type": "Dropout", "rate": rng.choice([0.1, 0.3])},
        {"type": "GaussianNoise", "stddev": 0.05},
        {"type": "Activation", "activation": rng.choice(["relu", "tanh", "gelu", "linear"])},
        {"type": "BatchNormalization"},
        {"type": "LayerNormalization"},
        {"type": "Dense", "units": _small(rng), "activation": rng.choice(["relu", "linear"]),
         "kernel_l2": rng.choice([0.0, 0.001])},
    ]
    padding = rng.choice(["same", "same", "valid"])
    if rank == 1:
        options = common[:]
        options += [common[-1]] * 3  # Dense mostly
        if not keep_rank:
            options.append({"type": "Reshape", "target_shape": [-1, 1]})
    elif rank == 2:
        options = common[:-1] + [
            {"type": "Dense", "units": _small(rng)},
            {"type": "Conv1D", "filters": _small(rng), "kernel_size": rng.choice([1, 2, 3]), "strides": rng.choice([1, 1, 2]),
             "padding": padding},
            {"type": "Conv1D", "filters": _small(rng), "kernel_size": 3, "padding": "same"},
            {"type": rng.choice(["MaxPooling1D", "AveragePooling1D"]), "pool_size": 2, "padding": padding},
        ]
        recurrent = shape[0] <= 64  # a forward pass over the 3,679 steps of a multi-hot vector took 35 s
        if recurrent:
            options += [
                {"type": rng.choice(["LSTM", "GRU"]), "units": _small(rng), "return_sequences": True},
                {"type": "Bidirectional", "layer": rng.choice(["LSTM", "GRU"]), "units": _small(rng),
                 "return_sequences": True, "merge_mode": rng.choice(["concat", "sum"])},
            ]
        if not keep_rank:
            options += [{"type": "Flatten"}, {"type": rng.choice(["GlobalAveragePooling1D", "GlobalMaxPooling1D"])}]
            if recurrent:
                options.append({"type": rng.choice(["LSTM", "GRU"]), "units": _small(rng)})
    else:
        options = common[:-1] + [
            {"type": "Conv2D", "filters": _small(rng), "kernel_size": rng.choice([1, 3]), "strides": rng.choice([1, 1, 2]),
             "padding": padding},
            {"type": "Conv2D", "filters": _small(rng), "kernel_size": 3, "padding": "same"},
            {"type": "SeparableConv2D", "filters": _small(rng), "kernel_size": 3, "padding": padding,
             "strides": rng.choice([1, 2]), "depth_multiplier": rng.choice([1, 2])},
            {"type": "Dense", "units": _small(rng)},  # per pixel (the report warns; the design is valid)
            {"type": rng.choice(["MaxPooling2D", "AveragePooling2D"]), "pool_size": 2, "padding": padding},
            {"type": rng.choice(["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast"])},
        ]
        if not keep_rank:
            options += [{"type": "Flatten"}, {"type": rng.choice(["GlobalAveragePooling2D", "GlobalMaxPooling2D"])}]
    return rng.choice(options)


def _next_shape(layer: dict, shape: Shape) -> Shape:
    """The catalog's output shape (LayerProblem when the layer cannot take `shape`)."""
    entry = LAYERS[layer["type"]]
    if entry.input_ranks and len(shape) not in entry.input_ranks:
        raise LayerProblem("test.rank", "wrong rank")
    out = tuple(int(d) for d in entry.output_shape(shape, normalize_layer(1, layer)))
    if any(d <= 0 for d in out):
        raise LayerProblem("test.empty", "empty")
    return out


class DesignGenerator:
    """Random valid designs: `design(shape)` is hidden layers for an input of that shape."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def layer(self, shape: Shape, keep_rank: bool) -> tuple[dict, Shape]:
        for _ in range(50):
            layer = _layer_choices(self.rng, shape, keep_rank)
            try:
                out = _next_shape(layer, shape)
            except LayerProblem:
                continue
            if keep_rank and len(out) != len(shape):
                continue
            return layer, out
        layer = {"type": "Dropout", "rate": 0.1}
        return layer, shape

    def entries(self, shape: Shape, depth: int, count: int, keep_rank: bool) -> tuple[list[dict], Shape]:
        out: list[dict] = []
        for _ in range(count):
            if depth < MAX_NESTING and self.rng.random() < (0.45 if depth == 0 else 0.3):
                entry, shape = self.block(shape, depth, keep_rank)
            else:
                entry, shape = self.layer(shape, keep_rank)
            out.append(entry)
        return out, shape

    def block(self, shape: Shape, depth: int, keep_rank: bool) -> tuple[dict, Shape]:
        for _ in range(30):
            made = self.residual(shape, depth) if self.rng.random() < 0.5 else self.branches(shape, depth, keep_rank)
            if made is not None:
                return made
        return self.layer(shape, keep_rank)

    def residual(self, shape: Shape, depth: int) -> tuple[dict, Shape] | None:
        layers, out = self.entries(shape, depth + 1, self.rng.randint(1, 3), keep_rank=True)
        try:
            residual_shortcut(shape, out)  # identity, or a projection that exists
        except LayerProblem:
            return None
        activation = self.rng.choice(["relu", "relu", "linear", "tanh"])
        return {"type": RESIDUAL, "activation": activation, "layers": layers}, out

    def branches(self, shape: Shape, depth: int, keep_rank: bool) -> tuple[dict, Shape] | None:
        merge = self.rng.choice(["add", "concatenate"])
        count = self.rng.choice([2, 2, 2, 2, 3, 3, 4, 8])
        branches, outputs = [], []
        for _ in range(count):
            if self.rng.random() < 0.2:
                branch, out = [], shape
            else:
                branch, out = self.entries(shape, depth + 1, self.rng.randint(1, 3), keep_rank)
            if merge == "add" and outputs and out != outputs[0] and len(out) == len(outputs[0]):
                # the same width as branch 1 (the spatial size may still differ: then a retry)
                branch, out = [*branch, self.channel_fixer(out, outputs[0][-1])], (*out[:-1], outputs[0][-1])
            branches.append(branch)
            outputs.append(out)
        try:
            merged = tuple(merged_shape(outputs, merge))
        except LayerProblem:
            return None
        return {"type": BRANCHES, "merge": merge, "branches": branches}, merged

    @staticmethod
    def channel_fixer(shape: Shape, width: int) -> dict:
        """A layer that gives `width` channels / units and keeps the rest of the shape."""
        if len(shape) == 3:
            return {"type": "Conv2D", "filters": width, "kernel_size": 1}
        if len(shape) == 2:
            return {"type": "Conv1D", "filters": width, "kernel_size": 1}
        return {"type": "Dense", "units": width}

    def design(self, shape: Shape) -> list[dict]:
        """1-4 random entries for an input of `shape`, then flattening if the output needs it."""
        layers, shape = self.entries(shape, 0, self.rng.randint(1, 4), keep_rank=False)
        tail: list[dict] = []
        if len(shape) == 3:
            tail = [{"type": self.rng.choice(["Flatten", "GlobalAveragePooling2D"])}]
        elif len(shape) == 2:
            tail = [{"type": self.rng.choice(["Flatten", "GlobalMaxPooling1D"])}]
        return [*layers, *tail]


def random_designs(count: int, seed: int = 21) -> list[tuple[str, list[dict]]]:
    """`count` designs as (dataset name, hidden layers), one start after another."""
    from tests.unit.design_checks import dataset

    generator = DesignGenerator(seed)
    designs = []
    starts = list(STARTS)
    for index in range(count):
        data, leading = STARTS[starts[index % len(starts)]]
        shape = start_shape(leading, dataset(data))
        while True:  # within the weight and memory budgets (a projection of a long flat vector can exceed them)
            layers = [*leading, *generator.design(shape)]
            if not over_budget(layers, dataset(data)):
                break
        designs.append((data, layers))
    return designs


def over_budget(layers: list[dict], data: Any) -> bool:
    from core.shapes import shape_report
    from core.spec import ProjectSpec

    errors = shape_report(ProjectSpec.from_dict({"layers": layers}), data).errors
    return bool(errors) and errors[0].code in ("build.too_many_params", "build.too_much_memory")


def start_shape(leading: list[dict], data: Any) -> Shape:
    """The shape the generated entries start from: after preprocessing and the leading entries."""
    from core.shapes import shape_report
    from core.spec import ProjectSpec

    report = shape_report(ProjectSpec(layers=list(leading)), data)
    rows = [r for r in report.rows if r.role in ("preprocessing", "layer")]
    return tuple(rows[-1].output_shape)
