"""train_model.py: a standalone, readable plain-Keras script that rebuilds and trains the model.

Generated from the ProjectSpec and the layer catalog (the same `keras_call` mapping that
core.build instantiates), plus what the Dataset learned: column kinds, fill values and
category lists, classes in output order, image size and colour mode. The script prepares
data the way LayerLab does, so the model it saves takes the same raw inputs.
"""
from __future__ import annotations

import json
from typing import Any

from core.catalog import LAYERS, OPTIMIZERS, KerasCall, Regularizer
from core.data.dataset import Dataset

_LINE = 96  # wrap a layer call's keywords one per line beyond this width
_SAMPLE_PREFIX = "sample:"


def training_script(spec: Any, dataset: Dataset) -> str:
    """The source of train_model.py for `spec` trained on `dataset`."""
    from core import __version__
    from core.build import layer_name

    spec = spec.validated()
    sample = dataset.name[len(_SAMPLE_PREFIX):] if dataset.name.startswith(_SAMPLE_PREFIX) else None
    images = dataset.kind == "images"
    parts = [
        _HEADER.format(
            name=_docstring_safe(dataset.name),
            version=__version__,
            data_help="a folder (or .zip) with one sub-folder of images per class" if images else "a CSV file",
            default_usage="" if sample else " --data " + _docstring_safe(_shell_word(dataset.name)),
            needs="numpy pandas pillow" if images else "numpy pandas",
            sklearn=" scikit-learn" if sample else "",
            epochs=int(spec.training["epochs"]),
        ),
        _settings(spec, dataset, sample),
        _IMAGE_LOADING if images else _TABLE_LOADING,
        _SPLIT,
        _model_source(spec, dataset, layer_name),
        _MAIN,
    ]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


# ---------------------------------------------------------------- settings block


def _settings(spec: Any, dataset: Dataset, sample: str | None) -> str:
    training = spec.training
    lines = [
        "# ---- What LayerLab learned about the data and the training settings ----------------",
        f"DEFAULT_DATA = {_py(None if sample else dataset.name)}  # used when --data is not given",
        f"SAMPLE = {_py(sample)}  # a scikit-learn sample dataset, loaded when --data is not given",
        f"TASK = {_py(dataset.task)}",
        f"CLASSES = {_py(list(dataset.classes))}  # the model's outputs, in this order",
    ]
    if dataset.kind == "images":
        height, width = dataset.image_size or dataset.input_shape[:2]
        channels = dataset.channels or dataset.input_shape[-1]
        lines += [
            f"IMAGE_SIZE = ({int(height)}, {int(width)})  # (height, width): every image is resized to this",
            f"CHANNELS = {int(channels)}  # 1 = grayscale, 3 = RGB",
        ]
    else:
        columns = dataset.preprocessor.to_json()["columns"] if dataset.preprocessor is not None else []
        lines += [
            f"TARGET = {_py(dataset.target)}",
            "# Input columns in model order. fill: used for empty cells (training median or most frequent",
            "# value). A categorical column reaches the model as its value's position in `categories`",
            "# (-1 for a value never seen in training); the model one-hot encodes it.",
            "COLUMNS = " + _json_block(columns),
        ]
    lines += [
        f"EPOCHS = {int(training['epochs'])}",
        f"BATCH_SIZE = {int(training['batch_size'])}",
        f"PATIENCE = {int(training['early_stopping_patience'])}  # stop after this many epochs without "
        "validation improvement (0 = never)",
        f"SEED = {int(training['seed'])}",
        "VALIDATION_FRACTION = 0.15",
        "TEST_FRACTION = 0.15",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- model block


def _model_source(spec: Any, dataset: Dataset, layer_name: Any) -> str:
    first = LAYERS[spec.layers[0]["type"]] if spec.layers else None
    lines = [
        "def build_model(x_train: np.ndarray, y_train: np.ndarray) -> keras.Model:",
        '    """The LayerLab design: preprocessing inside the model, your layers, the output head."""',
        "    keras.utils.set_random_seed(SEED)",
        f"    inputs = keras.Input(shape={tuple(int(d) for d in dataset.input_shape)!r}, name=\"input\")",
    ]
    if dataset.kind == "images":
        lines += [
            "    # raw 0-255 pixels in, 0-1 inside: the saved model takes raw pixels",
            '    x = keras.layers.Rescaling(scale=1.0 / 255.0, name="rescaling")(inputs)',
        ]
    elif first is not None and first.needs_integer_codes:
        lines += ["    x = inputs  # the first layer reads whole-number codes, so no Normalization"]
    elif dataset.preprocessor is not None and dataset.preprocessor.categorical_positions:
        lines += _ENCODED_INPUTS.strip("\n").splitlines()
    else:
        lines += [
            "    # standardise each input with the training mean and variance: the saved model takes raw values",
            '    normalization = keras.layers.Normalization(name="normalization")',
            "    normalization.adapt(x_train)",
            "    x = normalization(inputs)",
        ]
    for number, layer in enumerate(spec.layers, start=1):
        call = LAYERS[layer["type"]].keras_call(layer)
        name = layer_name(number, layer["type"])
        lines.append(_call_statement(f"    x = keras.layers.{call.class_name}", _call_args(call, name), tail="(x)"))
    if dataset.task == "classification":
        lines += [
            '    outputs = keras.layers.Dense(len(CLASSES), activation="softmax", name="output")(x)',
            '    loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]',
        ]
    else:
        lines += [
            "    # the network learns a standardised target; the last layer turns it back into real units",
            "    mean, std = float(np.mean(y_train)), float(np.std(y_train))",
            '    x = keras.layers.Dense(1, name="output_standardised")(x)',
            '    outputs = keras.layers.Rescaling(scale=std if std > 0 else 1.0, offset=mean, name="output")(x)',
            '    loss, metrics = "mse", ["mae"]',
        ]
    lines += [
        '    model = keras.Model(inputs=inputs, outputs=outputs, name="layerlab")',
        _call_statement("    model.compile", [f"optimizer={_optimizer_source(spec.optimizer)}", "loss=loss", "metrics=metrics"]),
        "    return model",
    ]
    return "\n".join(lines)


# Mirrors core.build.table_inputs_block, so the saved model takes the same raw inputs.
_ENCODED_INPUTS = """
    # standardise the numeric columns with the training mean and variance, and one-hot encode the
    # categorical ones (a position of -1, a category never seen in training, becomes all zeros)
    numeric = [i for i, column in enumerate(COLUMNS) if column["kind"] == "numeric"]
    parts = []
    if numeric:
        numbers = inputs if len(numeric) == len(COLUMNS) else keras.ops.take(inputs, numeric, axis=1)
        normalization = keras.layers.Normalization(name="normalization")
        normalization.adapt(x_train[:, numeric])
        parts.append(normalization(numbers))
    for i, column in enumerate(COLUMNS):
        if column["kind"] != "numeric":
            positions = keras.ops.cast(inputs[:, i], "int32")
            parts.append(keras.ops.one_hot(positions, len(column["categories"])))
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="encoded_inputs")(parts)
"""


def _optimizer_source(optimizer: dict) -> str:
    entry = OPTIMIZERS[optimizer["type"]]
    settings = {**entry.defaults(), **{k: v for k, v in optimizer.items() if k != "type"}}
    return f"keras.optimizers.{entry.name}(" + ", ".join(f"{k}={_py(v)}" for k, v in settings.items()) + ")"


def _call_args(call: KerasCall, name: str | None = None) -> list[str]:
    args = [f"{key}={_value_source(value)}" for key, value in call.kwargs.items()]
    if name:
        args.append(f"name={_py(name)}")
    return args


def _call_source(call: KerasCall) -> str:
    return f"keras.layers.{call.class_name}(" + ", ".join(_call_args(call)) + ")"


def _call_statement(head: str, args: list[str], tail: str = "", indent: int = 8) -> str:
    """`head(a=1, b=2)tail` on one line, or one argument per line when that is too long."""
    line = f"{head}(" + ", ".join(args) + f"){tail}"
    if len(line) <= _LINE:
        return line
    return f"{head}(\n" + "".join(f"{' ' * indent}{arg},\n" for arg in args) + " " * (indent - 4) + f"){tail}"


def _value_source(value: Any) -> str:
    if isinstance(value, Regularizer):
        return f"keras.regularizers.L1L2(l1={value.l1!r}, l2={value.l2!r})"
    if isinstance(value, KerasCall):
        return _call_source(value)
    return _py(value)


def _py(value: Any) -> str:
    """A Python literal for a JSON-like value (strings with double quotes, as in the JSON files)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_py(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _json_block(items: list[dict]) -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f"    {_py(item)},\n" for item in items) + "]"


def _docstring_safe(text: str) -> str:
    """Text that cannot end or break the script's docstring (a file name is user input)."""
    return "".join(ch for ch in text if ch.isprintable() and ch not in '"\\')


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


# ---------------------------------------------------------------- fixed script parts

_HEADER = '''
#!/usr/bin/env python3
"""Train the LayerLab model for {name} again, in plain Keras.

Generated by LayerLab {version}. It rebuilds the same layers, prepares the data the way
LayerLab did, trains with the same settings and saves the model as model.keras.

    python train_model.py{default_usage} --epochs {epochs} --out model.keras

--data takes {data_help}.
Needs: pip install tensorflow {needs}{sklearn}
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
'''

_TABLE_LOADING = '''
# ---- Data ------------------------------------------------------------------------------
# A number with thousands separators (1.065,5 or 1,065.5) and a plain one, per decimal mark.
GROUPED = {",": r"\\s*[-+]?\\d{1,3}(?:\\.\\d{3})+(?:,\\d+)?\\s*", ".": r"\\s*[-+]?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?\\s*"}
PLAIN = {",": r"\\s*[-+]?\\d+(?:,\\d+)?\\s*", ".": r"\\s*[-+]?\\d+(?:\\.\\d+)?\\s*"}
DECIMAL_COMMA = r"\\s*[-+]?(?:\\d+|\\d{1,3}(?:\\.\\d{3})+),\\d+\\s*"


def decode(raw: bytes) -> str:
    """The file's text: UTF-16 (with its byte-order mark), UTF-8 (with or without one), else Windows-1252."""
    if raw.startswith((b"\\xff\\xfe", b"\\xfe\\xff")):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")  # decodes any bytes


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields most consistently."""
    best, best_score = ",", (0.0, 0)
    for delimiter in ",;\\t|":
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        agreeing = counts.count(counts[0]) / len(counts)
        if counts[0] > 1 and agreeing >= 0.9 and (agreeing, counts[0]) > best_score:
            best, best_score = delimiter, (agreeing, counts[0])
    return best


def grouped_to_numbers(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Text columns like 1.065 / 735 become numbers, but only when every cell fits the pattern."""
    separator = "." if decimal == "," else ","
    for name in frame.columns:
        if not pd.api.types.is_string_dtype(frame[name].dtype):
            continue
        cells = frame[name].dropna().astype(str)
        number = f"(?:{GROUPED[decimal]})|(?:{PLAIN[decimal]})"
        if len(cells) and cells.str.fullmatch(number).all() and cells.str.fullmatch(GROUPED[decimal]).any():
            text = cells.str.strip().str.replace(separator, "", regex=False).str.replace(",", ".", regex=False)
            frame[name] = pd.to_numeric(text).reindex(frame.index).astype("float64")
    return frame


def read_table(path: str) -> pd.DataFrame:
    """The CSV as LayerLab reads it: encoding, delimiter, decimal comma and thousands separators detected."""
    text = decode(Path(path).read_bytes())
    lines = [line for line in text.splitlines() if line.strip()][:200]
    delimiter = detect_delimiter(lines)
    cells = [cell for row in csv.reader(lines[1:], delimiter=delimiter) for cell in row]
    decimal = "," if delimiter == ";" and any(re.fullmatch(DECIMAL_COMMA, cell) for cell in cells) else "."
    frame = pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal)
    return grouped_to_numbers(frame, decimal)


def load_sample(name: str) -> pd.DataFrame:
    """The scikit-learn sample LayerLab used, with class names as labels."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, "load_" + name)(as_frame=True)
    frame = bunch.frame.copy()
    if TASK == "classification":
        frame[TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def as_text(values: pd.Series) -> pd.Series:
    """Cells as the text LayerLab compares categories with: 3.0 -> "3", True -> "True"."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "True", False: "False"})
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = numbers[np.isfinite(numbers)]
        whole = bool(np.array_equal(finite, np.trunc(finite)))
        return pd.Series(
            [None if not np.isfinite(v) else str(int(v)) if whole else str(v) for v in numbers], index=values.index
        )
    return values.map(lambda v: None if pd.isna(v) else str(v))


def encode(frame: pd.DataFrame) -> np.ndarray:
    """Raw rows -> float32 model inputs, one per column: empty cells filled, categories as positions."""
    missing = [c["name"] for c in COLUMNS if c["name"] not in frame.columns]
    if missing:
        sys.exit("The data lacks the column(s) " + ", ".join(missing) + " that the model needs.")
    parts = []
    for column in COLUMNS:
        values = frame[column["name"]]
        if column["kind"] == "numeric":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
            numbers[~np.isfinite(numbers)] = column["fill"]
            parts.append(numbers[:, None])
        else:
            text = as_text(values).fillna(column["fill"])
            positions = {category: i for i, category in enumerate(column["categories"])}
            parts.append(text.map(positions).fillna(-1).to_numpy(dtype="float64")[:, None])
    return np.concatenate(parts, axis=1).astype("float32")


def load_data(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets; rows with an empty target are left out, as LayerLab does."""
    frame = load_sample(SAMPLE) if path is None else read_table(path)
    if TARGET not in frame.columns:
        sys.exit(f"The data has no target column {TARGET!r}.")
    if TASK == "classification":
        labels = as_text(frame[TARGET])
        frame, labels = frame[labels.notna()], labels[labels.notna()]
        unknown = sorted(set(labels) - set(CLASSES))
        if unknown:
            sys.exit("The target has values the model has no output for: " + ", ".join(unknown[:10]))
        y = labels.map({name: i for i, name in enumerate(CLASSES)}).to_numpy(dtype="int64")
    else:
        numbers = pd.to_numeric(frame[TARGET], errors="coerce")
        frame, y = frame[numbers.notna()], numbers[numbers.notna()].to_numpy(dtype="float32")
    return encode(frame), y
'''

_IMAGE_LOADING = '''
# ---- Data ------------------------------------------------------------------------------
IMAGE_FORMATS = {"PNG", "JPEG", "BMP", "GIF", "WEBP"}  # the formats LayerLab reads, judged by content
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic"}


def read_image(path: Path) -> np.ndarray:
    """One image of any size and mode -> uint8 pixels (height, width, channels), as LayerLab does."""
    from PIL import Image

    with Image.open(path) as image:
        if image.format not in IMAGE_FORMATS:
            raise ValueError(f"a {image.format} image; LayerLab reads PNG, JPEG, BMP, GIF and WebP")
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")  # transparent areas become white
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("L" if CHANNELS == 1 else "RGB")
        height, width = IMAGE_SIZE
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return np.asarray(image, dtype=np.uint8).reshape(height, width, CHANNELS)


def is_junk(path: Path) -> bool:
    """macOS and Windows system files (__MACOSX/, ._IMG.JPG, .DS_Store, Thumbs.db), skipped silently."""
    return any(part == "__MACOSX" or part.startswith(".") for part in path.parts) or path.name in (
        "Thumbs.db", "desktop.ini")


def load_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images in class folders (the folder name is the class); files that are not readable images are skipped."""
    from PIL import UnidentifiedImageError

    pixels, labels, skipped = [], [], []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or is_junk(relative) or path.parent.name not in CLASSES:
            continue
        try:
            pixels.append(read_image(path))
        except (UnidentifiedImageError, OSError, ValueError) as err:  # not an image, or a damaged one
            if path.suffix.lower() in IMAGE_SUFFIXES:
                skipped.append(f"{relative} ({type(err).__name__}: {err})")
            continue
        labels.append(CLASSES.index(path.parent.name))
    if skipped:
        print(f"Skipped {len(skipped)} file(s) that could not be read as images:", *skipped[:20], sep="\\n  ")
    if not pixels:
        sys.exit(f"No images in class folders named {', '.join(CLASSES)} were found in {folder}.")
    return np.stack(pixels), np.asarray(labels, dtype="int64")


def load_sample() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (values 0-16), as the 0-255 grayscale pixels LayerLab used."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = np.asarray([CLASSES.index(str(t)) for t in bunch.target], dtype="int64")
    return pixels, labels


def load_data(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    if path is None:
        return load_sample()
    source = Path(path)
    if source.suffix.lower() == ".zip":
        import tempfile
        import zipfile

        target = Path(tempfile.mkdtemp(prefix="train_model_"))
        with zipfile.ZipFile(source) as archive:
            archive.extractall(target)  # extractall keeps every file inside `target`
        source = target
    if not source.is_dir():
        sys.exit(f"{path} is not a folder of class folders (or a .zip of them).")
    return load_folder(source)
'''

_SPLIT = '''
def split(x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded train / validation / test split (each class cut on its own), as LayerLab does."""
    rng = np.random.default_rng(SEED)
    part = np.zeros(len(y), dtype=np.int8)  # 0 train, 1 validation, 2 test
    groups = [np.flatnonzero(y == k) for k in range(len(CLASSES))] if TASK == "classification" else [np.arange(len(y))]
    for members in groups:
        if members.size:
            order, n = rng.permutation(members), len(members)
            n_val = max(1, round(n * VALIDATION_FRACTION)) if n >= 3 else 0
            n_test = max(1, round(n * TEST_FRACTION)) if n >= 3 else 0
            part[order[:n_val]], part[order[n_val:n_val + n_test]] = 1, 2
    return [(x[part == k], y[part == k]) for k in range(3)]
'''


_MAIN = '''
# ---- Training --------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="the training data (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the training data")
    parser.add_argument("--out", default="model.keras", help="where to save the trained model")
    args = parser.parse_args()
    if args.data is not None and not Path(args.data).exists():
        sys.exit(f"{args.data} does not exist. Give the training data with --data PATH.")

    x, y = load_data(args.data)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split(x.astype("float32"), y)
    print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test examples")
    model = build_model(x_train, y_train)
    model.summary()
    callbacks = []
    if PATIENCE:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True))
    model.fit(
        x_train, y_train,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=BATCH_SIZE,
        shuffle=True,
        callbacks=callbacks,
        verbose=2,
    )
    if len(x_test):
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        print("test:", ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    model.save(args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
'''
