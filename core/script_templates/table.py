"""train_model.py's pieces for tables: reading a CSV (or a scikit-learn sample) the way LayerLab
does, encoding its columns, and the start of build_model() that standardises and one-hot encodes.

Real Python, so it can be read, linted and compiled; core.codegen copies the statements it
needs (see core/script_templates/__init__.py) and puts the dataset's values in place of the
example TARGET and COLUMNS.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from core.script_templates.common import CLASSES, SAMPLE, TASK  # the shared settings; not copied

TARGET = "species"
# Input columns in model order. fill: used for empty cells (training median or most frequent
# value). A categorical column reaches the model as its value's position in `categories`
# (-1 for a value never seen in training); the model one-hot encodes it.
COLUMNS = [
    {"name": "petal length (cm)", "kind": "numeric", "fill": 4.35},
    {"name": "size", "kind": "categorical", "fill": "large", "categories": ["large", "small"]},
]


# ---- Data ------------------------------------------------------------------------------
# A number with thousands separators (1.065,5 or 1,065.5) and a plain one, per decimal mark.
GROUPED = {",": r"\s*[-+]?\d{1,3}(?:\.\d{3})+(?:,\d+)?\s*", ".": r"\s*[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*"}
PLAIN = {",": r"\s*[-+]?\d+(?:,\d+)?\s*", ".": r"\s*[-+]?\d+(?:\.\d+)?\s*"}
DECIMAL_COMMA = r"\s*[-+]?(?:\d+|\d{1,3}(?:\.\d{3})+),\d+\s*"
# Cells people and spreadsheets write for "no value" (compared stripped and lower-cased): empty
# cells in a column of numbers (pd.to_numeric reads them so), values like any other in a text column.
MISSING_MARKERS = ["?", "-", "n/a", "missing", "#div/0!"]


def decode(raw: bytes) -> str:
    """The file's text: UTF-16 (with its byte-order mark), UTF-8 (with or without one), else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
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
    for delimiter in ",;\t|":
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


FLOAT32_MAX = float(np.finfo(np.float32).max)  # the model reads float32: a number beyond it (1e39) is infinite
MAX_EXACT_INTEGER = 2.0**53  # whole numbers up to here are exact as floats, so 3.0 reads as "3"


def load_sample(name: str) -> pd.DataFrame:
    """The scikit-learn sample LayerLab used, with class names as labels."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, "load_" + name)(as_frame=True)
    frame = bunch.frame.copy()
    if TASK == "classification":
        frame[TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def is_text(values: pd.Series) -> bool:
    """Whether a column holds text (not numbers or yes/no), as the CSV reader left it."""
    return not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype))


def is_number(text: str) -> bool:
    """Whether a category is a number ("4", "1e+39"): a column of such categories holds codes."""
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def as_text(values: pd.Series) -> pd.Series:
    """Cells as the text LayerLab compares categories with: 3.0 -> "3", True -> "True"."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "True", False: "False"})
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.map(str)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        usable = np.abs(numbers) <= FLOAT32_MAX  # empty, infinite and beyond float32 are empty cells
        finite = numbers[usable]
        # whole numbers read as "3", unless one is too large to be exact (then every one reads as "3.0")
        whole = np.array_equal(finite, np.trunc(finite)) and not (finite.size and np.abs(finite).max() > MAX_EXACT_INTEGER)
        return pd.Series(
            [None if not ok else str(int(v)) if whole else str(v) for v, ok in zip(numbers, usable)], index=values.index
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
        if column["kind"] == "numeric":  # text such as '?' or '#DIV/0!' is an empty cell
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
            numbers[~(np.abs(numbers) <= FLOAT32_MAX)] = column["fill"]  # empty, infinite or beyond float32
            parts.append(numbers[:, None])
        else:
            if is_text(values) and all(is_number(category) for category in column["categories"]):
                values = pd.to_numeric(values, errors="coerce")  # whole-number codes: "4.0" is 4, "?" is empty
            text = as_text(values).fillna(column["fill"])
            positions = {category: i for i, category in enumerate(column["categories"])}
            parts.append(text.map(positions).fillna(-1).to_numpy(dtype="float64")[:, None])
    return np.concatenate(parts, axis=1).astype("float32")


def load_data(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets; rows with an empty target ('', '?', 'n/a' ...) are left out, as LayerLab does."""
    frame = load_sample(SAMPLE) if path is None else read_table(path)
    if TARGET not in frame.columns:
        sys.exit(f"The data has no target column {TARGET!r}.")
    rows = len(frame)
    if TASK == "classification":
        labels = as_text(frame[TARGET])
        # '?' or 'n/a' is an empty target unless it is one of the classes: LayerLab empties such
        # marks in a column of numbers (class labels 1, 2, 3), where no class is one
        marker = labels.str.strip().str.lower().isin(MISSING_MARKERS) & ~labels.isin(CLASSES)
        present = labels.notna() & ~marker
        frame, labels = frame[present], labels[present]
        unknown = sorted(set(labels) - set(CLASSES))
        if unknown:
            sys.exit("The target has values the model has no output for: " + ", ".join(unknown[:10]))
        y = labels.map({name: i for i, name in enumerate(CLASSES)}).to_numpy(dtype="int64")
    else:
        numbers = pd.to_numeric(frame[TARGET], errors="coerce")  # '?', 'n/a' ... are no numbers: empty
        frame, y = frame[numbers.notna()], numbers[numbers.notna()].to_numpy(dtype="float32")
    if len(frame) < rows:
        print(f"Left out {rows - len(frame)} row(s) whose target {TARGET!r} is empty.")
    return encode(frame), y


# ---- build_model() pieces: core.codegen copies one function's body, between its docstring and
# its `return`, into build_model() (the same blocks as core.build.table_inputs_block).
def normalized_inputs(inputs: keras.KerasTensor, x_train: np.ndarray) -> keras.KerasTensor:
    """Every column numeric: one Normalization adapted on the training split."""
    # standardise each input with the training mean and variance: the saved model takes raw values
    normalization = keras.layers.Normalization(name="normalization")
    normalization.adapt(x_train)
    x = normalization(inputs)
    return x


def encoded_inputs(inputs: keras.KerasTensor, x_train: np.ndarray) -> keras.KerasTensor:
    """Some columns categorical: numbers standardised, category positions one-hot encoded."""
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
    return x
