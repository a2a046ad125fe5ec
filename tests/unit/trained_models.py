"""Small trained models on the built-in samples, shared by the evaluation/export/predict tests.

Cached per test process: training even a tiny model costs seconds on this machine.
"""
from __future__ import annotations

import os
from functools import lru_cache

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.data import Dataset, load_sample  # noqa: E402


@lru_cache(maxsize=None)
def sample(name: str) -> Dataset:
    return load_sample(name)


@lru_cache(maxsize=None)
def trained(name: str, epochs: int = 30):
    """LayerLab's default design for sample `name` (core.build), fitted briefly."""
    from core.build import build_model
    from core.templates import default_template

    dataset = sample(name)
    model = build_model(default_template(dataset), dataset)
    model.fit(dataset.x_train.astype("float32"), dataset.y_train, epochs=epochs, batch_size=32, verbose=0)
    return model


def untrained(name: str):
    """Freshly initialised (no training): it makes plenty of mistakes to inspect."""
    return trained(name, epochs=0)
