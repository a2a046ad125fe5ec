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


class TemplateModels(dict):
    """template id -> that template's model for `dataset`, built by core.build and fitted as LayerLab
    fits (the kind's fit_data: a series streams its windows) the first time a test asks for it."""

    def __init__(self, dataset: Dataset, epochs: int) -> None:
        super().__init__()
        self.dataset, self.epochs = dataset, epochs

    def __missing__(self, template_id: str):
        from core.build import build_model
        from core.data.kinds import kind_of
        from core.templates import template

        model = build_model(template(template_id).fresh_spec(self.dataset.task), self.dataset)
        model.fit(**kind_of(self.dataset).fit_data(self.dataset, 32, seed=1), epochs=self.epochs, verbose=0)
        self[template_id] = model
        return model
