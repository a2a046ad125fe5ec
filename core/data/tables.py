"""From a raw CSV table to a training-ready Dataset: column kinds, target, task, split, encoding.

Everything learned from values (medians, most frequent categories, the category lists)
is fitted on the training split only, so validation and test scores stay honest.
"""
from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.cell_text import DATE_SAMPLE, is_missing_marker, looks_like_dates
from core.data.csv_reader import DELIMITERS, RawTable
from core.data.dataset import CATEGORICAL, IGNORED, NUMERIC, TEXT, Dataset, Feature
from core.data.limits import current_limits
from core.data.split import split_indices
from core.errors import UserError

KINDS = (NUMERIC, CATEGORICAL, TEXT, IGNORED)
TASKS = ("classification", "regression")
MIN_TABLE_ROWS = 10
MAX_INTEGER_CLASSES = 20  # an integer target with at most this many values is a class label
ALWAYS_CATEGORIES = 20  # a text column with at most this many values is categorical
MAX_AUTO_CATEGORIES = 100  # ...and up to this many when values repeat a lot (<= 5% distinct)
CODE_RANGE = 20  # whole numbers within 0..20 with 3-10 distinct values are codes, not amounts
TEXT_MEAN_LENGTH = 30  # long strings are free text, not categories
TEXT_UNIQUE_SHARE = 0.5  # ...and so are short ones that are mostly different
TEXT_MIN_WORDS = 3  # ...with at least this many words on average (a headline, a short message)
FREE_TEXT_REASON = "free text (sentences); used only by a text model: choose 'Classify this text'"
TEXT_INPUT_REASON = "the text the model reads"
MIXED_NUMERIC_SHARE = 0.9  # a text column whose cells are >= 90% numbers is a numeric column with typos
PROFILE_SAMPLE = 10_000
PROBE_SAMPLE = 200
PREPROCESSING_FORMAT = "layerlab-preprocessing/2"  # /1 fed categories one-hot
ENCODE_BLOCK = 32_768  # rows encoded at a time: small enough to stay in the CPU cache
PARALLEL_ROWS = 50_000  # tables from this size are profiled, fitted and encoded on all cores
MEDIAN_SAMPLE = 200_000  # training values a fill median is taken from (a seeded sample beyond that)
# The model reads float32: a number beyond it (1e39) would become infinite, so it counts as one.
FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_EXACT_INTEGER = 2.0**53  # whole numbers up to here are exact in float64 (and fit int64)
_ID_NAME = re.compile(r"(^|[\s_\-.])(id|uuid|guid|key|index)$|^(no|nr|number|row|rownum|index)$", re.IGNORECASE)


def _map_in_threads(function: Callable, items: Iterable, rows: int) -> list:
    """[function(item) for item in items], on one thread per core when a table is big: numpy
    lets go of Python's lock while it scans a column, so the columns are worked on side by side."""
    items = list(items)
    threads = min(len(items), os.cpu_count() or 1) if rows >= PARALLEL_ROWS else 1
    if threads <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(function, items))


def _line(position: int) -> int:
    """Line of the file holding data row `position` (the header is line 1)."""
    return int(position) + 2


def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype))


def _in_float32_range(values: np.ndarray) -> np.ndarray:
    """Per cell: a number the model's float32 holds (False for NaN, infinities and beyond ±3.4e38)."""
    if values.dtype.kind in "iub":
        return np.ones(values.shape, dtype=bool)
    return np.abs(values) <= FLOAT32_MAX


def _all_in_float32_range(values: np.ndarray) -> bool:
    """Whether every cell is a number float32 holds: NaN, an infinity or a huge number would show in
    the minimum or maximum, so a complete column is told apart without a mask per cell."""
    return values.dtype.kind in "iub" or bool(values.size and _in_float32_range(np.array([values.min(), values.max()])).all())


def _narrow_codes(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """Category codes (-1 = empty) in the smallest signed type: a wide table keeps one per cell."""
    dtype = next(t for t in (np.int8, np.int16, np.int32, np.int64) if n_labels < np.iinfo(t).max)
    return codes.astype(dtype, copy=False)


def _as_float(series: pd.Series) -> np.ndarray:
    """Numbers as float64 (missing -> NaN); text that is not a number becomes NaN."""
    if _is_text(series):
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype == np.float64:
        return series.to_numpy()  # a view: nothing here writes into it
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class Labels:
    """A column as text labels, factorised once: `codes[i]` indexes `labels`, -1 where the cell is empty."""

    codes: np.ndarray  # a small signed integer per row (int8 ... int64)
    labels: list[str]  # distinct non-empty values, as the user wrote them (but see of_whole_number_codes)

    @classmethod
    def of_whole_number_codes(cls, values: np.ndarray) -> "Labels":
        """A column of codes 0..CODE_RANGE as its own codes, label i = "i": no copy of an int8
        column (a wide table of ratings kept a second byte per cell). Unlike factorize_text's,
        a label here may have no row; fitting and encoding go by the rows each label has."""
        return cls(values.astype(np.int8, copy=False), [str(i) for i in range(int(values.max()) + 1)])

    def positions(self, categories: list[str], missing: int = -1, dtype: Any = np.int64) -> np.ndarray:
        """Per code: position of its label in `categories` (-1 if absent); the last entry, which
        code -1 picks, is `missing` (for empty cells)."""
        position = {c: i for i, c in enumerate(categories)}
        return np.array([position.get(label, -1) for label in self.labels] + [missing], dtype=dtype)

    def index_in(self, categories: list[str], missing: int = -1, rows: np.ndarray | None = None,
                 dtype: Any = np.int64) -> np.ndarray:
        """Per row (of `rows`, default all): position of its label in `categories` (-1 if absent),
        `missing` for empty cells, as `dtype`."""
        return self.positions(categories, missing, dtype)[self.codes if rows is None else self.codes[rows]]

    def counts(self, rows: np.ndarray | None = None) -> np.ndarray:
        codes = self.codes if rows is None else self.codes[rows]
        return np.bincount(codes[codes >= 0], minlength=len(self.labels))


def factorize_text(series: pd.Series) -> Labels:
    """Labels as the user wrote them: 3.0 -> "3", True -> "True"; empty and infinite cells (and numbers
    beyond float32, which the model would read as infinite) are missing."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        if pd.api.types.is_string_dtype(series.cat.categories.dtype):  # read_csv's repeated text: codes exist
            labels = Labels(series.cat.codes.to_numpy(), [str(c) for c in series.cat.categories])
            if labels.counts().all():
                return labels
            # A slice of a column can lack some categories: labels are the values present.
            series = series.cat.remove_unused_categories()
            return Labels(series.cat.codes.to_numpy(), [str(c) for c in series.cat.categories])
        series = series.astype(object)
    if series.dtype == object:
        series = series.astype("str")
    if _is_text(series):
        codes, uniques = pd.factorize(series)
        return Labels(_narrow_codes(codes, len(uniques)), [str(u) for u in uniques])
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":  # whole numbers, never empty: no float copy
        codes, uniques = pd.factorize(series.to_numpy())
        return Labels(_narrow_codes(codes, len(uniques)), [str(u) for u in uniques])
    values = _as_float(series)
    finite = _in_float32_range(values)
    kept = values[finite]
    integers = pd.api.types.is_bool_dtype(series.dtype) or _integer_valued(kept)
    kept_codes, uniques = pd.factorize(kept.astype(np.int64) if integers else kept)
    codes = np.full(len(values), -1, dtype=_narrow_codes(kept_codes[:0], len(uniques)).dtype)
    codes[finite] = kept_codes
    if pd.api.types.is_bool_dtype(series.dtype):
        return Labels(codes, ["True" if u else "False" for u in uniques])
    return Labels(codes, [str(u) for u in uniques])


def _integer_valued(values: np.ndarray) -> bool:
    """Whole numbers that int64 holds exactly (1e39 is whole, but as an int64 it would be garbage)."""
    head = values[:1000]  # most columns of fractions show it at once, before the whole column is copied
    if not (np.array_equal(head, np.trunc(head)) and np.array_equal(values, np.trunc(values))):
        return False
    return not values.size or float(np.abs(values).max()) <= MAX_EXACT_INTEGER


def as_text(series: pd.Series) -> pd.Series:
    """Values as the user wrote them, as strings (missing stays missing): 3.0 -> "3", True -> "True"."""
    labels = factorize_text(series)
    text = np.asarray(labels.labels + [None], dtype=object)[labels.codes]
    return pd.Series(text, index=series.index, dtype="str")


def sort_labels(labels: list[str]) -> list[str]:
    """Numbers in numeric order ("2" before "10"), other labels alphabetically."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def _category_labels(series: pd.Series, categories: list[str]) -> Labels:
    """A column's cells as the labels of `categories`. Whole-number codes are read as numbers, as
    prepare_table read them: "3.0" is category "3", and '?' or other text is an empty cell."""
    if all(_is_finite_number(c) for c in categories) and _is_text(series):
        return factorize_text(pd.Series(_as_float(series), index=series.index))
    return factorize_text(series)


def _is_finite_number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


# ---------------------------------------------------------------- preprocessing


@dataclass
class ColumnEncoding:
    name: str
    kind: str  # NUMERIC or CATEGORICAL
    fill: float | str  # median (numeric) or most frequent category, used for missing cells
    categories: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == CATEGORICAL else 1


class TablePreprocessor:
    """Raw table rows -> the model's float32 input vector, one value per used column; fitted on training rows.

    Numeric columns: the value; missing and infinite cells get the training median.
    Categorical columns: the position of the value in the stored (sorted) category list; a
    missing cell counts as the most frequent training category, a category never seen in
    training as -1. The model one-hot encodes these positions itself (core.build), so the
    arrays stay one number per column (a one-hot table would be several times larger) and an
    exported model takes one value per column. Columns not listed are ignored.
    """

    def __init__(self, encodings: list[ColumnEncoding]) -> None:
        self.encodings = encodings
        self.columns = [e.name for e in encodings]
        self.input_names = list(self.columns)

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def numeric_positions(self) -> list[int]:
        return [i for i, e in enumerate(self.encodings) if e.kind == NUMERIC]

    @property
    def categorical_positions(self) -> list[tuple[int, int]]:
        """(input position, number of categories) of each categorical column, in table order."""
        return [(i, len(e.categories)) for i, e in enumerate(self.encodings) if e.kind == CATEGORICAL]

    @property
    def encoded_width(self) -> int:
        """How many values the model's first layer sees once the categories are one-hot encoded."""
        return sum(e.width for e in self.encodings)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.transform_with_fills(frame)[0]

    def transform_with_fills(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Raw rows -> model inputs, and per cell (rows × columns) whether it was filled in: empty,
        not a number in a numeric column, or beyond float32's range."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise UserError(
                "preprocess.missing_columns",
                "The table is missing the column(s) {columns} that the model was trained with. Add them "
                "(empty cells are allowed) and try again.",
                columns=", ".join(f"'{c}'" for c in missing),
            )
        columns = {
            e.name: _as_float(frame[e.name]) if e.kind == NUMERIC else _category_labels(frame[e.name], e.categories)
            for e in self.encodings
        }
        filled = np.stack(
            [~_in_float32_range(columns[e.name]) if e.kind == NUMERIC else columns[e.name].codes < 0 for e in self.encodings],
            axis=1,
        ) if self.encodings else np.zeros((len(frame), 0), dtype=bool)
        return self.encode(columns, np.arange(len(frame)))[0], filled

    def encode(self, columns: dict[str, Any], *row_sets: np.ndarray) -> list[np.ndarray]:
        """Encode each set of rows of prepared columns (numeric: arrays of numbers, categorical: Labels)."""
        readers = [self._reader(e, columns[e.name]) for e in self.encodings]
        results = []
        for rows in row_sets:
            out = np.empty((len(rows), self.n_inputs), dtype=np.float32)

            def encode_block(start: int) -> None:
                # A block of rows at a time, so the rows being filled stay in the CPU cache while
                # each column is written into them.
                block, part = rows[start : start + ENCODE_BLOCK], out[start : start + ENCODE_BLOCK]
                for position, read in enumerate(readers):
                    part[:, position] = read(block)

            _map_in_threads(encode_block, range(0, len(rows), ENCODE_BLOCK), len(rows))
            results.append(out)
        return results

    @staticmethod
    def _reader(encoding: ColumnEncoding, data: Any) -> Callable[[np.ndarray], np.ndarray]:
        """rows -> the column's model inputs for those rows. Categories are looked up a block at a
        time, never for the whole column at once (on a wide table that was a float32 copy of it)."""
        if encoding.kind == CATEGORICAL:
            lookup = data.positions(encoding.categories, encoding.categories.index(encoding.fill), np.float32)
            return lambda rows: lookup[data.codes[rows]]

        def numbers(rows: np.ndarray) -> np.ndarray:
            values = data[rows]  # a copy
            if values.dtype.kind == "f":  # empty, infinite or beyond float32: the fill
                values[~_in_float32_range(values)] = encoding.fill
            return values

        return numbers

    def to_json(self) -> dict:
        return {
            "format": PREPROCESSING_FORMAT,
            "how": "Build one float32 vector per row with one value per column, in `input_names` order. Numeric "
            "column: the value, or `fill` when empty or infinite. Categorical column: the position (0, 1, 2, ...) "
            "of the value in that column's `categories`; an empty cell counts as `fill`, a value not in "
            "`categories` is -1. The model standardises numbers and one-hot encodes categories itself.",
            "columns": [
                {"name": e.name, "kind": e.kind, "fill": e.fill, **({"categories": e.categories} if e.kind == CATEGORICAL else {})}
                for e in self.encodings
            ],
            "input_names": list(self.input_names),
        }

    @classmethod
    def from_json(cls, data: dict) -> "TablePreprocessor":
        if data.get("format", PREPROCESSING_FORMAT) != PREPROCESSING_FORMAT:
            raise UserError(
                "preprocess.old_format",
                "This preprocessing file was made by an older version of LayerLab, whose models read categories "
                "differently. Train and export the model again.",
            )
        return cls(
            [
                ColumnEncoding(c["name"], c["kind"], c["fill"], list(c.get("categories", [])))
                for c in data["columns"]
            ]
        )

    @classmethod
    def fit(cls, features: list[Feature], columns: dict[str, Any], train: np.ndarray) -> "TablePreprocessor":
        sample = train
        if len(train) > MEDIAN_SAMPLE:
            sample = np.sort(np.random.default_rng(0).choice(train, MEDIAN_SAMPLE, replace=False))

        def fit_column(feat: Feature) -> ColumnEncoding:
            data = columns[feat.name]
            if feat.kind == NUMERIC:
                # float32 as the model sees it; a copy the median may reorder. On big tables a sample:
                # the fill only stands in for empty cells, and 200k values pin the median down closely.
                values = data[sample]
                usable = _in_float32_range(values)
                values = (values if usable.all() else values[usable]).astype(np.float32)
                median = float(np.median(values, overwrite_input=True)) if values.size else 0.0
                return ColumnEncoding(feat.name, NUMERIC, median)
            counts = data.counts(train)
            if not counts.any():  # nothing in training: fall back to the whole column
                counts = data.counts()
            feat.categories = sort_labels([label for label, n in zip(data.labels, counts) if n])
            return ColumnEncoding(feat.name, CATEGORICAL, data.labels[int(np.argmax(counts))], feat.categories)

        return cls(_map_in_threads(fit_column, features, len(train)))


# ---------------------------------------------------------------- column kinds


@dataclass
class _Column:
    feature: Feature
    data: Any  # int or float array (numeric) or Labels (categorical), None when unused
    warning: str | None = None


DATES_REASON = "dates or times; not used by the model (add a numeric column, such as the month, if it matters)"


def _first_bad_cell(series: pd.Series, numbers: np.ndarray, file: str) -> tuple[int, str]:
    """(row position, text) of the first non-empty cell that is not a number."""
    bad = np.flatnonzero(np.isnan(numbers) & series.notna().to_numpy())
    if bad.size == 0:  # the caller counted text cells that are not there: say so rather than crash
        raise UserError(
            "table.unreadable_column",
            "Column '{column}' of {file} could not be read as numbers or as text. Check that column in a "
            "spreadsheet, save the file again as CSV and upload it again.",
            column=str(series.name), file=file,
        )
    return int(bad[0]), str(series.iloc[bad[0]])


def _missing_and_infinite(values: np.ndarray) -> tuple[int, int]:
    """(empty cells, cells the model cannot hold: infinite or beyond float32) of numbers."""
    if _all_in_float32_range(values):
        return 0, 0
    empty = np.isnan(values)
    return int(np.count_nonzero(empty)), int(np.count_nonzero(~(empty | _in_float32_range(values))))


def _too_large_warning(name: str, values: np.ndarray, file: str) -> str | None:
    """A warning naming the column's first number beyond float32 (finite, so no one would guess)."""
    if values.dtype.kind != "f" or _all_in_float32_range(values):
        return None
    too_large = np.flatnonzero(np.isfinite(values) & ~_in_float32_range(values))
    if too_large.size == 0:
        return None
    return (
        f"Column '{name}' in {file} holds {too_large.size} number(s) too large for the model (beyond ±3.4e38; "
        f"first: {values[too_large[0]]:g} on line {_line(too_large[0])}). Those cells are treated as empty."
    )


def _numeric_kind(name: str, values: np.ndarray, integer_dtype: bool) -> tuple[str, str]:
    lo, hi = (float(values.min()), float(values.max())) if values.size else (np.nan, np.nan)
    finite = values
    if not _in_float32_range(np.array([lo, hi])).all():  # a NaN, an infinity or a huge number shows here
        finite = values[_in_float32_range(values)]
        if finite.size == 0:
            return IGNORED, "empty: no numbers in any row"
        lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        return IGNORED, f"the same value ({finite[0]:g}) in every row, so it tells the model nothing"
    if not (integer_dtype or _integer_valued(finite)):
        return NUMERIC, "numbers"
    if hi - lo + 1 >= finite.size and (_ID_NAME.search(name) or hi - lo + 1 == len(values)):
        if np.unique(finite).size == finite.size:
            return IGNORED, "a different whole number in every row, like a row number or an id"
    if lo >= 0 and hi <= CODE_RANGE:
        distinct = int(np.count_nonzero(np.bincount(finite.astype(np.int64))))
        if 3 <= distinct <= 10:
            return CATEGORICAL, f"whole-number codes ({distinct} different values), used as categories"
    return NUMERIC, "whole numbers"


def _mostly_numbers(values: pd.Series) -> bool:
    """Whether at least MIXED_NUMERIC_SHARE of these (non-empty) cells read as numbers; a small probe first."""
    for size in (PROBE_SAMPLE, PROFILE_SAMPLE):
        part = values.iloc[:size]
        if pd.to_numeric(part, errors="coerce").notna().mean() < MIXED_NUMERIC_SHARE:
            return False
        if len(part) == len(values):
            break
    return True


def _without_missing_markers(series: pd.Series, labels: Labels | None = None) -> pd.Series:
    """A text column with cells such as '?', '-' or 'n/a' emptied when the rest are (mostly)
    numbers: a rating column of 1-5 with a '?' is numbers with one empty cell. Otherwise as it is."""
    labels = labels or factorize_text(series)
    markers = [code for code, label in enumerate(labels.labels) if is_missing_marker(label)]
    if not markers:
        return series
    emptied = series.mask(np.isin(labels.codes, markers))
    return emptied if _mostly_numbers(emptied.iloc[:PROFILE_SAMPLE].dropna()) else series


def _profile_numbers_in_text(name: str, series: pd.Series, n_present: int, file: str) -> _Column | None:
    """A text column that is numbers with a few typos (judged as numbers; the typos are empty), else None."""
    numbers = _as_float(series)
    empty = np.isnan(numbers)
    parsed = len(numbers) - int(np.count_nonzero(empty))
    if parsed < MIXED_NUMERIC_SHARE * n_present:
        return None
    kind, reason = _numeric_kind(name, numbers, False)
    warning = None
    if parsed < n_present:  # some cells are text, not numbers
        pos, value = _first_bad_cell(series, numbers, file)
        warning = (
            f"Column '{name}' in {file} holds numbers, but {n_present - parsed} cell(s) are text "
            f"(first: '{value}' on line {_line(pos)}). Those cells are treated as empty; fix them in the "
            "file if they matter."
        )
        reason += " (some cells were text)"
    feat = Feature(name, kind, reason, *_missing_and_infinite(numbers))
    # Codes are read from the numbers, as TablePreprocessor.transform reads them: the text cells are empty.
    data = numbers if kind == NUMERIC else factorize_text(pd.Series(numbers)) if kind == CATEGORICAL else None
    return _Column(feat, data, warning or _too_large_warning(name, numbers, file))


def _profile_text(name: str, series: pd.Series, file: str) -> _Column:
    labels = factorize_text(series)
    emptied = _without_missing_markers(series, labels)
    if emptied is not series:
        series, labels = emptied, factorize_text(emptied)
    missing = int(np.count_nonzero(labels.codes < 0))
    n_present = len(series) - missing
    if n_present == 0:
        return _Column(Feature(name, IGNORED, "empty: no value in any row", missing), None)
    sample = series.iloc[:PROFILE_SAMPLE].dropna()
    if _mostly_numbers(sample) and (column := _profile_numbers_in_text(name, series, n_present, file)):
        return column
    distinct = len(labels.labels)
    if distinct == 1:
        return _Column(Feature(name, IGNORED, f"the same value ('{labels.labels[0]}') in every row", missing), None)
    if distinct <= ALWAYS_CATEGORIES or (distinct <= MAX_AUTO_CATEGORIES and distinct <= 0.05 * n_present):
        return _Column(Feature(name, CATEGORICAL, f"text with {distinct} different values", missing), labels)
    if _free_text(sample, distinct, n_present):
        return _Column(Feature(name, TEXT, FREE_TEXT_REASON, missing), None)
    if distinct == n_present:
        return _Column(Feature(name, IGNORED, "different in every row, like an id or a name", missing), None)
    return _Column(Feature(name, IGNORED, f"too many different values ({distinct}) to use as categories", missing), None)


def _free_text(sample: pd.Series, distinct: int, n_present: int) -> bool:
    """Sentences rather than labels: long on average, or mostly different and several words long."""
    cells = sample.astype("str")
    if float(cells.str.len().mean()) >= TEXT_MEAN_LENGTH:
        return True
    return distinct >= TEXT_UNIQUE_SHARE * n_present and float(cells.str.count(" ").mean()) + 1 >= TEXT_MIN_WORDS


def _looks_like_free_text(series: pd.Series) -> bool:
    if not _is_text(series):
        return False
    sample = series.iloc[:PROFILE_SAMPLE].dropna()
    return len(sample) > 0 and _free_text(sample, int(sample.nunique()), len(sample))


def _is_temporal(series: pd.Series) -> bool:
    """Dates, times or durations: read as such by pyarrow, or text in a date style ("31.01.2024")."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return True
    if isinstance(dtype, pd.CategoricalDtype):
        values = list(dtype.categories[:DATE_SAMPLE])
    elif dtype == object or pd.api.types.is_string_dtype(dtype):
        values = list(series.iloc[:PROFILE_SAMPLE].dropna().unique()[:DATE_SAMPLE])
    else:
        return False
    if values and isinstance(values[0], (datetime.date, datetime.time, datetime.timedelta)):
        return True
    return looks_like_dates(values)


def _profile(name: str, series: pd.Series, file: str) -> _Column:
    if _is_temporal(series):
        return _Column(Feature(name, IGNORED, DATES_REASON, int(series.isna().sum())), None)
    if series.dtype == object:  # anything else unusual: judge it by its text
        series = series.astype("str")
    if _is_text(series):
        return _profile_text(name, series, file)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        values = series.to_numpy()  # whole numbers, never empty: used as they are, not copied as floats
    else:
        values = _as_float(series)
    missing, n_inf = _missing_and_infinite(values)
    if pd.api.types.is_bool_dtype(series.dtype):
        kind, reason = (NUMERIC, "yes/no values, used as 1/0") if np.nanmin(values) != np.nanmax(values) else (
            IGNORED, "the same yes/no value in every row")
    else:
        kind, reason = _numeric_kind(name, values, pd.api.types.is_integer_dtype(series.dtype))
    if kind == CATEGORICAL:  # whole-number codes (0..CODE_RANGE); from an int column they are the codes themselves
        data = Labels.of_whole_number_codes(values) if values.dtype.kind in "iu" else factorize_text(series)
    else:
        data = values if kind == NUMERIC else None
    return _Column(Feature(name, kind, reason, missing, n_inf), data, _too_large_warning(name, values, file))


def _forced(name: str, series: pd.Series, kind: str, file: str, max_categories: int) -> _Column:
    """A column whose kind the user chose."""
    if kind in (TEXT, IGNORED):
        return _Column(Feature(name, kind, "chosen by you; not used by the model", int(series.isna().sum())), None)
    if kind == NUMERIC:
        if _is_temporal(series):
            raise UserError(
                "table.dates_not_numeric",
                "Column '{column}' in {file} holds dates or times, which the model cannot read as numbers. Choose "
                "'ignored' for it, or add a numeric column (such as the month) to the file.",
                column=name, file=file,
            )
        values = _as_float(_without_missing_markers(series) if _is_text(series) else series)
        if not _in_float32_range(values).any():
            raise UserError(
                "table.not_numeric",
                "Column '{column}' in {file} has no numbers, so it cannot be numeric. Choose another kind for it.",
                column=name, file=file,
            )
        return _Column(Feature(name, NUMERIC, "numbers (chosen by you)", *_missing_and_infinite(values)), values,
                       _too_large_warning(name, values, file))
    labels = factorize_text(series)
    distinct = len(labels.labels)
    if distinct == 0:
        raise UserError(
            "table.empty_categories",
            "Column '{column}' in {file} is empty in every row, so it has no categories. Choose 'ignored' for it.",
            column=name, file=file,
        )
    if distinct > max_categories:
        raise UserError(
            "table.too_many_categories",
            "Column '{column}' in {file} has {n} different values; at most {limit} can be used as categories. "
            "Choose 'numeric' or 'ignored' for it.",
            column=name, file=file, n=distinct, limit=max_categories,
        )
    return _Column(Feature(name, CATEGORICAL, f"categories (chosen by you), {distinct} different values",
                           int(np.count_nonzero(labels.codes < 0))), labels)


# ---------------------------------------------------------------- target


@dataclass
class _Target:
    task: str
    keep: np.ndarray  # positions of rows with a usable target
    y: np.ndarray
    classes: list[str]


def _classification_target(name: str, series: pd.Series, keep: np.ndarray, file: str, max_classes: int) -> _Target:
    labels = factorize_text(series)
    present = labels.counts(keep)
    classes = sort_labels([label for label, n in zip(labels.labels, present) if n])
    if len(classes) > max_classes:
        raise UserError(
            "table.too_many_classes",
            "The target column '{column}' in {file} has {n} different values: too many classes (at most "
            "{limit}), so it does not look like a column of labels. If it holds amounts, choose the task "
            "'regression'; otherwise pick the column that holds the labels as the target.",
            column=name, file=file, n=len(classes), limit=max_classes,
        )
    return _Target("classification", keep, labels.index_in(classes, rows=keep), classes)


def _regression_target(name: str, numbers: np.ndarray, keep: np.ndarray, file: str) -> _Target:
    values = numbers[keep]
    usable = _in_float32_range(values)
    if not usable.all():  # infinities are refused earlier: a number too large for float32
        pos = int(keep[np.flatnonzero(~usable)[0]])
        raise UserError(
            "table.target_too_large",
            "The target column '{column}' in {file} holds {value} on line {line}, a number too large for the model "
            "(at most about 3.4e38). Fix or remove that row, or choose the task 'classification'.",
            column=name, file=file, value=f"{numbers[pos]:g}", line=_line(pos),
        )
    return _Target("regression", keep, values.astype(np.float32), [])


def _infer_target(name: str, series: pd.Series, task: str | None, file: str, max_classes: int) -> _Target:
    if _is_temporal(series):
        raise UserError(
            "table.target_dates",
            "The target column '{column}' in {file} holds dates or times. LayerLab predicts categories or amounts, "
            "not dates: pick another target column.",
            column=name, file=file,
        )
    if _is_text(series):
        series = _without_missing_markers(series)  # '?' in a column of numbers: an empty target
    numbers = None if _is_text(series) else _as_float(series)
    present = series.notna().to_numpy() if numbers is None else ~np.isnan(numbers)
    if not present.any():
        raise UserError(
            "table.target_empty",
            "The target column '{column}' in {file} is empty in every row. Fill it in, or pick another target.",
            column=name, file=file,
        )
    if numbers is not None and np.isinf(numbers).any():
        pos = int(np.flatnonzero(np.isinf(numbers))[0])
        raise UserError(
            "table.target_infinite",
            "The target column '{column}' in {file} holds an infinite value (such as 'inf' or 1e999) on line "
            "{line}. Fix or remove that row.",
            column=name, file=file, line=_line(pos),
        )
    keep = np.flatnonzero(present)
    distinct = series.iloc[keep].nunique() if numbers is None and task != "regression" else 0
    # sentences as the target: too many classes, or (a small file) mostly one text per class
    if (distinct > max_classes or distinct > TEXT_UNIQUE_SHARE * len(keep)) and _looks_like_free_text(series):
        raise UserError(
            "table.target_is_text",
            "The column '{column}' of {file} holds free text (sentences), so it cannot be the column to predict. "
            "Choose the column that holds the labels (such as 'label' or 'category') as the target; the text "
            "becomes what the model reads.",
            column=name, file=file,
        )
    if numbers is None and (task == "regression" or (task is None and _mostly_numbers(series.iloc[keep[:PROFILE_SAMPLE]]))):
        converted = _as_float(series.iloc[keep])
        share = float(np.isfinite(converted).mean())
        many_values = series.iloc[keep].nunique() > MAX_INTEGER_CLASSES
        wants_numbers = task == "regression" or (share >= MIXED_NUMERIC_SHARE and many_values)
        if wants_numbers and share < 1.0:
            pos = int(keep[np.flatnonzero(~np.isfinite(converted))[0]])
            raise UserError(
                "table.target_not_numeric",
                "The target column '{column}' in {file} must hold numbers for regression, but line {line} holds "
                "'{value}'. Fix that cell, or choose the task 'classification'.",
                column=name, file=file, line=_line(pos), value=str(series.iloc[pos]),
            )
        if wants_numbers:
            numbers = _as_float(series)
    if numbers is None or task == "classification":
        return _classification_target(name, series, keep, file, max_classes)
    values = numbers[keep]
    looks_like_labels = pd.api.types.is_bool_dtype(series.dtype) or (
        _integer_valued(values) and np.unique(values).size <= MAX_INTEGER_CLASSES
    )
    if task is None and looks_like_labels:
        return _classification_target(name, series, keep, file, max_classes)
    return _regression_target(name, numbers, keep, file)


# ---------------------------------------------------------------- the whole table


def _default_target(frame: pd.DataFrame, text_column: str | None = None) -> str:
    """The last column, unless it is free text (a "label,text" export) and another column is not;
    never the column named as the text (`text_column`)."""
    columns = [str(c) for c in frame.columns]
    candidates = [c for c in columns if c != text_column] or columns
    if len(columns) > 1 and _looks_like_free_text(frame[candidates[-1]]):
        return next((c for c in reversed(candidates[:-1]) if not _looks_like_free_text(frame[c])), candidates[-1])
    return candidates[-1]


def _check_choices(frame: pd.DataFrame, target: str | None, task: str | None, kinds: dict | None, file: str,
                   text_column: str | None = None) -> str:
    columns = [str(c) for c in frame.columns]
    target = _default_target(frame, text_column) if target is None else target
    if target not in columns:
        raise UserError(
            "table.unknown_target",
            "{file} has no column named '{column}'. Its columns are: {columns}.",
            file=file, column=target, columns=", ".join(columns[:30]) + (" …" if len(columns) > 30 else ""),
        )
    if len(columns) < 2 and any(delimiter in target for delimiter in DELIMITERS):
        raise UserError(  # e.g. '"a,b,c,label"' on every line: the quotes keep the commas inside one value
            "table.unsplit_lines",
            "{file} reads as a single column ('{column}'): its lines are not split into columns. Either each "
            "line is inside quotes (remove the quotes around whole lines), or the header and the rows use "
            "different separators. Save the table again as 'CSV (comma separated)'.",
            file=file, column=target[:80],
        )
    if len(columns) < 2:
        raise UserError(
            "table.one_column",
            "{file} has only one column ('{column}'), so there is nothing to predict it from. The file needs "
            "feature columns and a target column; check that the values are separated by commas or semicolons.",
            file=file, column=target,
        )
    if task is not None and task not in TASKS:
        raise UserError("table.bad_task", "The task must be 'classification' or 'regression', not '{task}'.", task=task)
    for column, kind in (kinds or {}).items():
        if column not in columns:
            raise UserError("table.unknown_column", "{file} has no column named '{column}'.", file=file, column=column)
        if kind not in KINDS:
            raise UserError(
                "table.bad_kind",
                "'{kind}' is not a column kind. Choose one of: numeric, categorical, text, ignored.",
                kind=kind,
            )
    return target


def prepare_table(
    raw: RawTable,
    *,
    target: str | None = None,
    task: str | None = None,
    kinds: dict[str, str] | None = None,
    seed: int = 42,
    data_kind: str | None = None,
    text_column: str | None = None,
    text_settings: Any = None,
) -> Dataset:
    """Decide column kinds, target and task, split with `seed` and encode: a Dataset ready to train.

    A table whose only usable column is free text, or whose `text_column` (or a column of kind
    "text" in `kinds`) is given, becomes a text dataset (core.data.texts); `data_kind` "table"
    or "text" forces the choice, `text_settings` (core.data.tokens.TextSettings) tunes it.
    """
    frame, file = raw.frame, raw.name
    limits = current_limits()
    if data_kind not in (None, "table", TEXT):
        raise UserError("table.bad_data_kind", "A table can be read as 'table' or 'text', not '{kind}'.",
                        kind=str(data_kind))
    if target is None and text_column is None:
        text_column = _text_column_named(frame, kinds, data_kind)
    target = _check_choices(frame, target, task, kinds, file, text_column)
    if text_column is not None and (text_column not in frame.columns or text_column == target):
        raise UserError(
            "table.bad_text_column",
            "{file} has no text column named '{column}' besides the target. Its columns are: {columns}.",
            file=file, column=text_column, columns=", ".join(str(c) for c in frame.columns[:30]),
        )
    tgt = _infer_target(target, frame[target], task, file, limits.classes)
    if len(tgt.keep) < MIN_TABLE_ROWS:
        raise UserError(
            "table.too_few_rows",
            "{file} has only {n} row(s) with a value in '{target}'; at least {minimum} are needed to train, "
            "validate and test a model. Add more rows.",
            file=file, n=len(tgt.keep), target=target, minimum=MIN_TABLE_ROWS,
        )

    columns: dict[str, Any] = {}
    features: list[Feature] = []
    warnings: list[str] = []

    def judge(item: tuple[str, pd.Series]) -> _Column:
        name, series = item
        forced = (kinds or {}).get(name)
        return _forced(name, series, forced, file, limits.categories) if forced else _profile(name, series, file)

    others = [(name, frame[name]) for name in frame.columns if name != target]
    for (name, _), col in zip(others, _map_in_threads(judge, others, len(frame))):
        features.append(col.feature)
        if col.data is not None:
            columns[name] = col.data
        if col.warning:
            warnings.append(col.warning)
    used = [f for f in features if f.kind in (NUMERIC, CATEGORICAL)]
    dropped = len(frame) - len(tgt.keep)
    if dropped:
        warnings.append(f"{dropped} row(s) of {file} have an empty target '{target}' and were left out.")
    text_input = _text_input(frame, features, kinds, text_column, data_kind, file)
    if text_input is not None:
        from core.data.texts import text_from_table

        return text_from_table(raw, tgt.task, tgt.y, tgt.classes, tgt.keep, target=target, column=text_input,
                               features=features, settings=text_settings, seed=seed, warnings=warnings)
    if not used:
        raise UserError(
            "table.no_features",
            "No column of {file} can be used to predict '{target}': {reasons}. Choose column kinds yourself or "
            "add numeric or categorical columns.",
            file=file, target=target, reasons="; ".join(f"'{f.name}' is {f.reason}" for f in features[:5]),
        )

    split = split_indices(tgt.y, task=tgt.task, classes=tgt.classes, seed=seed, where=file)
    rows = [s if dropped == 0 else tgt.keep[s] for s in (split.train, split.val, split.test)]  # positions in the table
    pre = TablePreprocessor.fit(used, columns, rows[0])
    x_train, x_val, x_test = pre.encode(columns, *rows)
    return Dataset(
        name=file, kind="table", task=tgt.task,
        x_train=x_train, y_train=tgt.y[split.train], x_val=x_val, y_val=tgt.y[split.val],
        x_test=x_test, y_test=tgt.y[split.test],
        target=target, classes=tgt.classes, features=features, preprocessor=pre,
        frame=frame, dropped_rows=dropped, warnings=warnings,
    )


def _text_column_named(frame: pd.DataFrame, kinds: dict | None, data_kind: str | None) -> str | None:
    """Before the target is chosen: the one column set to 'text' in `kinds`, or (read as text) the
    column of the most different texts, so that the default target is another column ("label,text"
    with short texts must not predict the texts from the labels)."""
    if data_kind not in (None, TEXT):  # read as a table: a 'text' column is not used
        return None
    forced = [name for name, kind in (kinds or {}).items() if kind == TEXT]
    if len(forced) == 1:
        return forced[0]
    if data_kind != TEXT or forced:
        return None
    texts = [str(c) for c in frame.columns if _is_text(frame[c])]
    if len(texts) < 2:
        return None  # one text column (or none): the default target is another column anyway

    def variety(name: str) -> tuple[int, float]:
        sample = frame[name].iloc[:PROFILE_SAMPLE].dropna().astype("str")
        return int(sample.nunique()), float(sample.str.len().mean() or 0)

    return max(texts, key=variety)


def _text_input(frame: pd.DataFrame, features: list[Feature], kinds: dict | None, text_column: str | None,
                data_kind: str | None, file: str) -> str | None:
    """The column a text model reads, or None for a table model."""
    if text_column is not None:
        return text_column
    if data_kind not in (None, TEXT):  # read as a table: a text column is not used
        return None
    forced = [name for name, kind in (kinds or {}).items() if kind == TEXT]
    if len(forced) > 1:
        raise UserError(
            "table.several_text_columns",
            "Only one column can be the text the model reads, but {columns} are all set to 'text'. Keep 'text' "
            "for one of them and choose 'ignored' (or 'categorical') for the others.",
            columns=", ".join(f"'{c}'" for c in forced),
        )
    if forced:
        return forced[0]
    texts = [f.name for f in features if f.kind == TEXT]
    used = [f for f in features if f.kind in (NUMERIC, CATEGORICAL)]
    if data_kind != TEXT and (used or not texts):
        return None
    candidates = texts or [f.name for f in features if _is_text(frame[f.name])]
    if not candidates:
        raise UserError(
            "table.no_text_column",
            "{file} has no column of text for a text model to read. Its columns hold numbers or dates; "
            "read it as a table instead.",
            file=file,
        )
    return max(candidates, key=lambda name: float(frame[name].iloc[:PROFILE_SAMPLE].dropna().astype("str").str.len().mean() or 0))
