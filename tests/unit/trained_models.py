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
    """A small model for sample `name`, built as LayerLab builds one and fitted briefly."""
    import keras

    dataset = sample(name)
    keras.utils.set_random_seed(0)
    inputs = keras.Input(dataset.input_shape)
    if dataset.kind == "images":
        x = keras.layers.Rescaling(1.0 / 255)(inputs)
        x = keras.layers.Conv2D(8, 3, activation="relu")(x)
        x = keras.layers.Flatten()(x)
    else:
        normalization = keras.layers.Normalization()
        normalization.adapt(dataset.x_train)
        x = keras.layers.Dense(16, activation="relu")(normalization(inputs))
    if dataset.task == "classification":
        outputs = keras.layers.Dense(len(dataset.classes), activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    else:
        mean, std = float(dataset.y_train.mean()), float(dataset.y_train.std())
        outputs = keras.layers.Rescaling(std, offset=mean)(keras.layers.Dense(1)(x))
        loss = "mse"
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    model.fit(dataset.x_train.astype("float32"), dataset.y_train, epochs=epochs, batch_size=32, verbose=0)
    return model


def untrained(name: str):
    """Freshly initialised (no training): it makes plenty of mistakes to inspect."""
    return trained(name, epochs=0)
