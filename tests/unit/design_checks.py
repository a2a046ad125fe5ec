"""Shared helpers for the design tests (catalog, shapes, build, templates)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from sklearn.datasets import load_digits

from core.data import load_sample
from core.data.dataset import Dataset


@lru_cache(maxsize=None)
def sample(name: str) -> Dataset:
    return load_sample(name)


@lru_cache(maxsize=None)
def digit_codes() -> Dataset:
    """The digits as a table of whole-number pixel codes 0-16: real data that suits Embedding."""
    x, y = load_digits(return_X_y=True)
    x, y = x.astype("float32")[:600], y.astype("int64")[:600]
    return Dataset(
        name="digit codes", kind="table", task="classification",
        x_train=x[:400], y_train=y[:400], x_val=x[400:500], y_val=y[400:500], x_test=x[500:], y_test=y[500:],
        classes=[str(i) for i in range(10)],
    )


@lru_cache(maxsize=None)
def iris_with_categories() -> Dataset:
    """iris with a text column and a whole-number code column: the model one-hot encodes them itself."""
    import tempfile
    from pathlib import Path

    from core.data import load_data
    from tests.datafiles import sklearn_frame

    frame = sklearn_frame("iris")
    rng = np.random.default_rng(0)
    frame.insert(0, "colour", rng.choice(["red", "green", "blue"], len(frame)))
    frame.insert(1, "grade", rng.integers(1, 6, len(frame)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "iris_categories.csv"
        frame.to_csv(path, index=False)
        return load_data(path)


def dataset(name: str) -> Dataset:
    """A sample by name, or one of the datasets above ("digit_codes", "iris_categories")."""
    made = {"digit_codes": digit_codes, "iris_categories": iris_with_categories}
    return made[name]() if name in made else sample(name)


def assert_report_matches_model(report, model) -> None:
    """Every row's output shape and parameter count equal what Keras built, and so do the totals."""

    for row in report.rows:
        if row.role == "input":
            assert tuple(model.input.shape[1:]) == row.output_shape
            continue
        if row.role in ("layer", "block", "shortcut"):
            layer = model.get_layer(_keras_layer_of(row))
        elif row.role == "preprocessing":
            if row.type == "None":
                continue
            if row.type.startswith("TextVectorization"):  # in the downloaded model, before the token-id network
                _assert_first_layer_reads(report, row, model)
                continue
            if "one-hot" in row.type.lower():  # keras.ops one-hot nodes are not layers: check what follows
                _assert_encoded_inputs(report, row, model)
                continue
            layer = model.get_layer(row.type.lower())
        else:
            layer = model.get_layer(_output_dense(model, row))
        label = f"{row.role} {row.number} {row.type}"
        assert tuple(layer.output.shape[1:]) == row.output_shape, label
        assert layer.count_params() == row.params, label
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        assert trainable == row.trainable_params, label
    assert model.count_params() == report.total_params
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == report.trainable_params


def _keras_layer_of(row) -> str:
    """The Keras layer a row stands for (core.blocks.keras_name): a block's merge, a shortcut's projection."""
    token = (row.label or str(row.number)).replace(".", "_")
    if row.role == "shortcut":
        return f"layer_{token[:-2]}_residual_shortcut"
    if row.role == "block":
        return f"layer_{token}_residual_activation" if row.type == "Residual" else \
            f"layer_{token}_branches_{row.settings.rsplit(', ', 1)[-1]}"
    return f"layer_{token}_{row.type.lower()}"


def _output_dense(model, row) -> str:
    """The head's Dense layer: "output" for classes, the one scaled to the target's units otherwise
    (a forecast's learned change)."""
    if row.settings.endswith("softmax"):
        return "output"
    names = {layer.name for layer in model.layers}
    return next(name for name in ("output_standardised", "output_change") if name in names)


def _input_readers(report) -> list:
    """The hidden-layer rows that read the preprocessed input itself: the first entry of the design,
    and inside a leading block the first entry of its layers or of each branch (core.blocks)."""
    by_path = {row.path: row for row in report.rows if row.path}
    readers, paths = [], [(0,)]
    while paths:
        path = paths.pop(0)
        row = by_path.get(path)
        if row is None:
            continue
        if row.role == "layer":
            readers.append(row)
        elif row.type == "Residual":
            paths.append((*path, 0))
        else:  # Branches: the first entry of every branch (an empty branch passes the input on)
            paths += [(*path, branch, 0) for branch in range(8)]
    return readers


def _assert_first_layer_reads(report, row, model) -> None:
    """The trained network's first hidden layers take what the preprocessing row gives (token ids,
    or the multi-hot vector), and that preprocessing has no weights."""
    for first in _input_readers(report):
        layer = model.get_layer(_keras_layer_of(first))
        assert tuple(layer.input.shape[1:]) == row.output_shape, f"{first.label} reads the input"
    assert row.params == 0


def _assert_encoded_inputs(report, row, model) -> None:
    """A table with categories: the first hidden layers read the one-hot-widened input, and
    the preprocessing's only weights are the Normalization's (mean, variance, count)."""
    readers = _input_readers(report)
    if not readers and next(r for r in report.rows if r.role in ("layer", "block", "output")).role == "output":
        readers = [r for r in report.rows if r.role == "output"]
    for first in readers:
        name = _output_dense(model, first) if first.role == "output" else _keras_layer_of(first)
        assert tuple(model.get_layer(name).input.shape[1:]) == row.output_shape, "width after one-hot"
    names = {layer.name for layer in model.layers}
    params = model.get_layer("normalization").count_params() if "normalization" in names else 0
    assert params == row.params and row.trainable_params == 0
