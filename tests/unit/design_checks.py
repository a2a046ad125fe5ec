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


def assert_report_matches_model(report, model) -> None:
    """Every row's output shape and parameter count equal what Keras built, and so do the totals."""
    from core.build import layer_name

    for row in report.rows:
        if row.role == "input":
            assert tuple(model.input.shape[1:]) == row.output_shape
            continue
        if row.role == "layer":
            layer = model.get_layer(layer_name(row.number, row.type))
        elif row.role == "preprocessing":
            if row.type == "None":
                continue
            layer = model.get_layer(row.type.lower())
        else:
            layer = model.get_layer("output" if row.settings.endswith("softmax") else "output_standardised")
        label = f"{row.role} {row.number} {row.type}"
        assert tuple(layer.output.shape[1:]) == row.output_shape, label
        assert layer.count_params() == row.params, label
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        assert trainable == row.trainable_params, label
    assert model.count_params() == report.total_params
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == report.trainable_params
