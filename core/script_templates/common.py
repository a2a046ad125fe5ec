"""train_model.py's pieces every data kind shares: settings, split, the model's head, training.

Real Python, so it can be read, linted and compiled. core.codegen copies the statements it
needs into the script (see core/script_templates/__init__.py), with the dataset's and the
design's values in place of the example constants below. The data kind's pieces (table.py,
images.py, text.py, series.py) go between the settings and split(); build_model() is written from
the user's layers. text.py brings its own main() (it tokenizes after the split), series.py its own
split (in time, into windows) and main(); every main() trains with fit().
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

import keras  # noqa: E402
import numpy as np  # noqa: E402

# ---- What LayerLab learned about the data and the training settings ----------------
DEFAULT_DATA = "flowers.csv"  # used when --data is not given
SAMPLE = None  # a scikit-learn sample dataset, loaded when --data is not given
TASK = "classification"
CLASSES = ["setosa", "versicolor", "virginica"]  # the model's outputs, in this order

# (the data kind's settings go here: see table.py, images.py, text.py and series.py)

EPOCHS = 100
BATCH_SIZE = 32
PATIENCE = 15  # stop after this many epochs without validation improvement (0 = never)
SEED = 42
BALANCE_CLASSES = False  # weigh each class by n / (classes × its examples) in training (classification)
VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.15


def load_data(path: str | None) -> tuple[np.ndarray, ...]:
    """Declared here so main() below reads as it will in the script; never copied: train_model.py
    gets the data kind's own load_data (table.py, images.py, text.py)."""
    raise RuntimeError("this template is not run: train_model.py has its own load_data")


def split(x: np.ndarray, y: np.ndarray, usable: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded train / validation / test split (each class cut on its own), as LayerLab does.

    `usable` (images) is False for an image that could not be decoded: it takes its place in the
    draw, as in LayerLab (which splits before decoding), and is then left out."""
    rng = np.random.default_rng(SEED)
    part = np.zeros(len(y), dtype=np.int8)  # 0 train, 1 validation, 2 test
    groups = [np.flatnonzero(y == k) for k in range(len(CLASSES))] if TASK == "classification" else [np.arange(len(y))]
    for members in groups:
        if members.size:
            order, n = rng.permutation(members), len(members)
            n_val = max(1, round(n * VALIDATION_FRACTION)) if n >= 3 else 0
            n_test = max(1, round(n * TEST_FRACTION)) if n >= 3 else 0
            part[order[:n_val]], part[order[n_val:n_val + n_test]] = 1, 2
    if usable is not None:
        part[~usable] = -1
    return [(x[part == k], y[part == k]) for k in range(3)]


# ---- build_model() pieces: core.codegen copies a function's body, between its docstring and its
# `return`, into build_model(); the opening and the user's layers it writes itself.
def integer_code_inputs(inputs: keras.KerasTensor) -> keras.KerasTensor:
    """When the first layer reads whole-number codes (Embedding): the inputs as they come."""
    x = inputs  # the first layer reads whole-number codes, so no Normalization
    return x


def classification_head(x: keras.KerasTensor) -> tuple[keras.KerasTensor, str, list[str]]:
    """One probability per class, in CLASSES order."""
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax", name="output")(x)
    loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    return outputs, loss, metrics


def regression_head(x: keras.KerasTensor, y_train: np.ndarray) -> tuple[keras.KerasTensor, str, list[str]]:
    """One number in the target's own units."""
    # the network learns a standardised target; the last layer turns it back into real units
    mean, std = float(np.mean(y_train)), float(np.std(y_train))
    x = keras.layers.Dense(1, name="output_standardised")(x)
    outputs = keras.layers.Rescaling(scale=std if std > 0 else 1.0, offset=mean, name="output")(x)
    loss, metrics = "mse", ["mae"]
    return outputs, loss, metrics


# ---- blocks (core.blocks): written into train_model.py only when the design has a residual block
def shortcut(block_input: keras.KerasTensor, output: keras.KerasTensor, name: str) -> keras.KerasTensor:
    """A residual block's input brought to its output's shape, to be added to it: as it is, or a
    projection (Dense for vectors, a kernel-1 Conv1D for sequences, a 1×1 Conv2D for images, with
    the stride that shrinks it to the output's size)."""
    if tuple(block_input.shape[1:]) == tuple(output.shape[1:]):
        return block_input
    if len(output.shape) == 2:
        return keras.layers.Dense(output.shape[-1], name=name)(block_input)
    stride = max(1, -(-block_input.shape[1] // output.shape[1]))
    convolution = keras.layers.Conv1D if len(output.shape) == 3 else keras.layers.Conv2D
    return convolution(output.shape[-1], 1, strides=stride, padding="same", name=name)(block_input)


def build_model(x_train: np.ndarray, y_train: np.ndarray) -> keras.Model:
    """Declared here so main() below reads as it will in the script; never copied: core.codegen
    writes train_model.py's build_model from the design."""
    raise RuntimeError("this template is not run: train_model.py has its own build_model")


# ---- Training --------------------------------------------------------------------------
def arguments() -> argparse.Namespace:
    """The command line: --data (checked to exist; None loads the scikit-learn SAMPLE), --epochs, --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="the training data (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the training data")
    parser.add_argument("--out", default="model.keras", help="where to save the trained model")
    args = parser.parse_args()
    if args.data is not None and not Path(args.data).exists():
        sys.exit(f"{args.data} does not exist. Give the training data with --data PATH.")
    return args


def class_weights(y_train: np.ndarray) -> dict[int, float]:
    """Balanced class weights from the training labels, as LayerLab computes them: a class with
    `count` examples weighs n / (classes × count), so every class counts the same in the loss."""
    counts = np.bincount(y_train.astype("int64"), minlength=len(CLASSES))
    present = int(np.count_nonzero(counts))
    return {k: (int(counts.sum()) / (present * int(count)) if count else 1.0) for k, count in enumerate(counts)}


def fit(model: keras.Model, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
        epochs: int) -> None:
    """Train in shuffled batches; with PATIENCE, stop once the validation loss has not improved for that
    many epochs and keep the best epoch's weights, as LayerLab does. With BALANCE_CLASSES, the training
    and validation examples weigh their class's weight (class_weights of the training labels)."""
    callbacks = []
    if PATIENCE:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True))
    weights = class_weights(train[1]) if BALANCE_CLASSES else None
    if weights is not None and len(validation[1]):
        validation = (*validation, np.array([weights[int(k)] for k in validation[1]], dtype="float32"))
    model.fit(
        *train,
        validation_data=validation,
        class_weight=weights,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        shuffle=True,
        callbacks=callbacks,
        verbose=2,
    )


def main() -> None:
    args = arguments()
    x, y, *usable = load_data(args.data)  # from image files, also which images decoded
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split(x.astype("float32"), y, *usable)
    print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test examples")
    model = build_model(x_train, y_train)
    model.summary()
    fit(model, (x_train, y_train), (x_val, y_val), args.epochs)
    if len(x_test):
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        print("test:", ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    model.save(args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
