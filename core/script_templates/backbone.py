"""train_model.py's pieces for a design that starts with a pretrained backbone: where its weights come
from, fine-tuning its last layers after the first training, and main() with that second phase.

Real Python, so it can be read, linted and compiled; core.codegen copies the statements it needs (see
core/script_templates/__init__.py) with this design's values in place of the examples. The backbone
itself (keras.applications or your own model's file) is written into build_model() by core.codegen.
"""
from __future__ import annotations

import keras
import numpy as np

from core.script_templates.common import (  # the shared settings and functions; not copied
    BATCH_SIZE, TASK, arguments, build_model, fit, load_data, split,
)

# The backbone's starting weights: "imagenet" (Keras downloads them once into ~/.keras/models; offline, put
# the file named below there), the path of that weights file, or None for random weights.
BACKBONE_WEIGHTS = "imagenet"
BASE_MODEL = "runs/digits/best.keras"  # the LayerLab model whose network (its output head removed) starts this one
FINE_TUNE_LAYERS = 0  # after the first training, also train the backbone's last this many layers (0 = never)
FINE_TUNE_EPOCHS = 10
FINE_TUNE_LEARNING_RATE = 0.0001  # lower than the first training's: the pretrained weights change gently


def base_network(path: str, feature_layer: str) -> keras.Model:
    """Your LayerLab model from its raw-pixel input through its last own layer (its output head removed),
    loaded in safe mode (no code in the file runs)."""
    base = keras.saving.load_model(path, compile=False, safe_mode=True)
    return keras.Model(base.inputs[0], base.get_layer(feature_layer).output, name="backbone")


def fine_tune(model: keras.Model, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray]) -> None:
    """Unfreeze the backbone's last FINE_TUNE_LAYERS layers (BatchNormalization stays frozen, in inference
    mode), compile again with FINE_TUNE_LEARNING_RATE and train FINE_TUNE_EPOCHS more epochs, as LayerLab does."""
    if not FINE_TUNE_LAYERS:
        return
    backbone = model.get_layer("backbone")
    backbone.trainable = True
    first = len(backbone.layers) - FINE_TUNE_LAYERS
    for index, layer in enumerate(backbone.layers):
        frozen = isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Normalization))
        layer.trainable = index >= first and not frozen
    optimizer = type(model.optimizer).from_config({**model.optimizer.get_config(), "learning_rate": FINE_TUNE_LEARNING_RATE})
    classification = TASK == "classification"
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy" if classification else "mse",
                  metrics=["accuracy"] if classification else ["mae"])
    print(f"fine-tuning the backbone's last {FINE_TUNE_LAYERS} layers, learning rate {FINE_TUNE_LEARNING_RATE:g}")
    fit(model, train, validation, FINE_TUNE_EPOCHS)


def main() -> None:
    args = arguments()
    x, y, *usable = load_data(args.data)  # from image files, also which images decoded
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split(x.astype("float32"), y, *usable)
    print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test examples")
    model = build_model(x_train, y_train)
    model.summary()
    fit(model, (x_train, y_train), (x_val, y_val), args.epochs)  # the backbone frozen
    fine_tune(model, (x_train, y_train), (x_val, y_val))
    if len(x_test):
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True, batch_size=BATCH_SIZE)
        print("test:", ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    model.save(args.out)
    print(f"saved {args.out}")
