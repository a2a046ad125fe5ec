"""train_model.py's pieces for texts: reading a CSV's text column (or class folders of .txt
files) the way LayerLab does, TextVectorization adapted on the training texts, the multi-hot
block that opens build_model() when the first layer is not Embedding, and main(), which saves
the model that takes raw strings.

Real Python, so it can be read, linted and compiled; core.codegen copies the statements it
needs (see core/script_templates/__init__.py) and puts the dataset's values in place of the
example TARGET, TEXT_COLUMN and tokenizer settings.
"""
from __future__ import annotations

import io
import string
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from core.script_templates.archives import class_folders, is_junk, zip_name  # copied from archives.py
from core.script_templates.common import (  # the shared settings and functions; not copied
    CLASSES, TASK, arguments, build_model, fit, split,
)

TARGET = "label"  # the CSV's column to predict (None: the texts came from class folders of .txt files)
TEXT_COLUMN = "text"  # the CSV's column of texts
# How TextVectorization cuts a text into tokens: lower-case A-Z and remove ASCII punctuation, then
# split at spaces ("whitespace": words) or into single characters ("character"; ngrams (1, 2)
# adds every pair of neighbouring characters).
STANDARDIZE = "lower_and_strip_punctuation"
SPLIT = "whitespace"
NGRAMS = None
VOCABULARY_SIZE = 5000  # token ids: 0 padding, 1 an unknown token, then the training texts' most frequent tokens
SEQUENCE_LENGTH = 40  # each text becomes this many token ids: longer texts are cut, shorter ones padded


# ---- Data ------------------------------------------------------------------------------
TEXT_SUFFIXES = (".txt", ".text")
# Target cells people and spreadsheets write for "no value" (compared stripped and lower-cased):
# such a row is left out unless the mark is one of the classes.
MISSING_MARKERS = ["?", "-", "n/a", "missing", "#div/0!"]
NO_PUNCTUATION = str.maketrans("", "", string.punctuation)  # what STANDARDIZE removes


def decode(data: bytes) -> str | None:
    """A file's text: UTF-8 (with or without a byte-order mark) or UTF-16 with one; None otherwise."""
    try:
        text = data.decode("utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def as_label(value: object) -> str:
    """A target cell as LayerLab names its class: 1.0 -> "1", True -> "True"."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def load_table(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and targets from a CSV (TEXT_COLUMN and TARGET); rows with an empty target are left out."""
    if TEXT_COLUMN is None:
        sys.exit("LayerLab trained this model on class folders of .txt files: give --data such a folder or .zip.")
    text = decode(path.read_bytes())
    if text is None:
        sys.exit(f"{path} is not UTF-8 (or UTF-16) text. Save it as 'CSV UTF-8' and try again.")
    header = text.split("\n", 1)[0]
    frame = pd.read_csv(io.StringIO(text), sep=max(",;\t|", key=header.count))  # the header's most common separator
    missing = [name for name in (TARGET, TEXT_COLUMN) if name not in frame.columns]
    if missing:
        sys.exit(f"{path} has no column(s) {', '.join(missing)}; its columns are {', '.join(map(str, frame.columns))}.")
    if TASK == "classification":
        targets = frame[TARGET].map(as_label, na_action="ignore")
        marker = targets.map(lambda label: str(label).strip().lower() in MISSING_MARKERS) & ~targets.isin(CLASSES)
        targets = targets.mask(marker)
    else:
        targets = pd.to_numeric(frame[TARGET], errors="coerce")  # '?', 'n/a' ... are no numbers: empty
    present = targets.notna()
    if not present.all():
        print(f"Left out {int((~present).sum())} row(s) whose target {TARGET!r} is empty.")
    targets, cells = targets[present], frame[TEXT_COLUMN][present]
    if TASK == "classification":
        unknown = sorted(set(targets) - set(CLASSES))
        if unknown:
            sys.exit("The target has values the model has no output for: " + ", ".join(unknown[:10]))
        y = np.asarray([CLASSES.index(label) for label in targets], dtype="int64")
    else:
        y = targets.to_numpy(dtype="float32")
    return ["" if pd.isna(cell) else str(cell) for cell in cells], y


def text_files(source: Path) -> list[tuple[str, bytes]]:
    """(path, bytes) of each .txt file: a zip's in the zip's order (password-protected ones left
    out), a folder's in sorted order, as LayerLab reads them."""
    if source.is_dir():
        paths = [(path.relative_to(source).as_posix(), path) for path in sorted(source.rglob("*"))]
        return [(name, path.read_bytes()) for name, path in paths
                if path.is_file() and not path.is_symlink() and name.lower().endswith(TEXT_SUFFIXES) and not is_junk(name)]
    with zipfile.ZipFile(source) as archive:
        entries = [(zip_name(info), info) for info in archive.infolist() if not (info.is_dir() or info.flag_bits & 0x1)]
        return [(name, archive.read(info)) for name, info in entries
                if name.lower().endswith(TEXT_SUFFIXES) and not is_junk(name)]


def load_files(files: list[tuple[str, bytes]]) -> tuple[list[str], list[int]]:
    """Texts and class indices from .txt files in class folders (one text per file)."""
    texts, y, skipped = [], [], []
    for (path, data), name in zip(files, class_folders([path for path, _ in files])):
        text = decode(data)
        if name is None:
            skipped.append(f"{path} (not inside a class folder)")
        elif text is None:  # LayerLab also guesses older encodings (GB18030, Shift-JIS, Windows-1252 ...)
            skipped.append(f"{path} (not UTF-8 or UTF-16 text: save it as UTF-8)")
        elif name in CLASSES:
            texts.append(text)
            y.append(CLASSES.index(name))
    if skipped:
        print(f"Skipped {len(skipped)} file(s):", *skipped[:20], sep="\n  ")
    if not texts:
        sys.exit(f"No .txt files in class folders named {', '.join(CLASSES)} were found.")
    return texts, y


def load_data(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The texts (an array of str) and their targets, from a CSV or from class folders of .txt files
    (a folder or a .zip). Texts with nothing but spaces and punctuation are left out, as LayerLab does."""
    source = Path(path)
    if source.is_dir() or source.suffix.lower() == ".zip":
        texts, y = load_files(text_files(source))
    else:
        texts, y = load_table(source)
    keep = [bool(text.translate(NO_PUNCTUATION).strip()) for text in texts]
    if not all(keep):
        print(f"Left out {keep.count(False)} empty text(s).")
    return np.asarray(texts, dtype=object)[keep], np.asarray(y)[keep]


# ---- build_model() piece: core.codegen copies the function's body, between its docstring and its
# `return`, into build_model() when the first layer is not Embedding (Embedding reads the ids as they are).
def multi_hot_inputs(inputs: keras.KerasTensor) -> keras.KerasTensor:
    """Which vocabulary tokens a text holds: the bag-of-words input."""
    # every token id present (1) or not (0); one_hot and max also run in TFLite (bool: less memory)
    ids = keras.ops.cast(inputs, "int32")
    x = keras.ops.cast(keras.ops.max(keras.ops.one_hot(ids, VOCABULARY_SIZE, dtype="bool"), axis=1), "float32")
    return x


# ---- Tokens ----------------------------------------------------------------------------
# TextVectorization needs the TensorFlow backend (KERAS_BACKEND=tensorflow, Keras's default), for
# training and for the saved model.
def text_vectorization(texts_train: np.ndarray) -> keras.layers.TextVectorization:
    """The tokenizer, its vocabulary counted on the training texts only (as LayerLab does)."""
    vectorize = keras.layers.TextVectorization(
        max_tokens=VOCABULARY_SIZE,
        output_mode="int",
        output_sequence_length=SEQUENCE_LENGTH,
        standardize=STANDARDIZE,
        split=SPLIT,
        ngrams=NGRAMS,
        name="text_vectorization",
    )
    # the most frequent training tokens get ids 2, 3, ...: the same vocabulary LayerLab counted
    vectorize.adapt(texts_train)
    return vectorize


def token_ids(vectorize: keras.layers.TextVectorization, texts: np.ndarray) -> np.ndarray:
    """Each text as SEQUENCE_LENGTH token ids, float32 as the network takes them."""
    chunks = [keras.ops.convert_to_numpy(vectorize(texts[start:start + 1024])) for start in range(0, len(texts), 1024)]
    return np.concatenate(chunks).astype("float32") if chunks else np.zeros((0, SEQUENCE_LENGTH), "float32")


def strings_model(vectorize: keras.layers.TextVectorization, network: keras.Model) -> keras.Model:
    """The model to save: raw strings in (shape [n]), the adapted TextVectorization, the trained network."""
    inputs = keras.Input(shape=(), dtype="string", name="text")
    ids = keras.ops.cast(vectorize(inputs), "float32")
    token_model = keras.Model(network.inputs, network.outputs, name="token_model")  # as in LayerLab's download
    return keras.Model(inputs, token_model(ids), name="layerlab_text")


# ---- main(): the texts are split before they are tokenized (fit() is common.py's) ----------
def main() -> None:
    args = arguments()
    if keras.backend.backend() != "tensorflow":
        sys.exit("TextVectorization needs the TensorFlow backend: run with KERAS_BACKEND=tensorflow.")

    texts, y = load_data(args.data)
    (texts_train, y_train), (texts_val, y_val), (texts_test, y_test) = split(texts, y)
    print(f"{len(texts_train)} training, {len(texts_val)} validation, {len(texts_test)} test texts")
    vectorize = text_vectorization(texts_train)
    x_train, x_val, x_test = (token_ids(vectorize, part) for part in (texts_train, texts_val, texts_test))
    model = build_model(x_train, y_train)
    model.summary()
    fit(model, (x_train, y_train), (x_val, y_val), args.epochs)
    if len(x_test):
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        print("test:", ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    strings_model(vectorize, model).save(args.out)
    print(f"saved {args.out}: it takes raw texts, model.predict(np.array(texts, dtype=object))")
