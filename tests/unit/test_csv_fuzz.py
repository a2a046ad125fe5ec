"""Random small CSVs through read_csv + prepare_table: a UserError or a sane Dataset, nothing else.

The files mix what real uploads hold: numbers, blanks, '?' and 'n/a' markers, dates, quoted
cells with delimiters and line breaks, long cells, decimal commas, four delimiters and four
encodings; the choices (target, task, column kinds) are random too. Seeded, so a failure
repeats; each failing case prints the seed that rebuilds it.
"""
from __future__ import annotations

import codecs
import json
import random

import numpy as np
import pytest

from core.data import TablePreprocessor, prepare_table, read_csv
from core.data.tables import KINDS, TASKS
from core.errors import UserError

CASES = 300
MARKERS = ["?", "n/a", "NA", "-", "null", "", "", "#DIV/0!", "missing"]


def _cell(rng: random.Random, style: str, row: int, decimal: str) -> str:
    """One cell of a column written in `style`."""
    if rng.random() < 0.04:
        return rng.choice(MARKERS)
    number = rng.gauss(50, 20)
    if style == "rating":
        return str(rng.randint(1, 5))
    if style == "whole":
        return str(rng.randint(-3, 400))
    if style == "float":
        return f"{number:.3f}".replace(".", decimal)
    if style == "huge":
        return rng.choice(["1e39", "-3e40", f"{number:.1f}", "1e999", "inf"])
    if style == "category":
        return rng.choice(["red", "green", "blue", "Grün", "日本"])
    if style == "date":
        return f"2024-0{1 + row % 3}-{1 + row % 5:02d}"  # repeats: several rows per day
    if style == "local date":
        return rng.choice(["31.01.2024", "01.02.2024", "1/3/24", "Jan 5, 2024", "13:45"])
    if style == "quoted":
        return '"' + rng.choice(["a, b", 'say ""hi""', "two\nlines", "x;y|z\tw"]) + '"'
    if style == "long":
        return "word " * rng.randint(0, 40)
    if style == "bool":
        return rng.choice(["true", "false"])
    if style == "grouped":  # thousands separators, as spreadsheets write big numbers
        whole = f"{rng.randint(0, 3_000_000):,}"
        return whole.replace(",", ".") + ",5" if decimal == "," else whole
    if style == "padded":
        return rng.choice([" 5", "7 ", " -2.5 ", "1.5e3", "+4", "0x1F", "5%", "$3"])
    if style == "timestamp":
        return rng.choice(["2024-01-31T10:00:00", "2024-01-31 10:00:00+02:00", "2024-02-01T00:00:00Z", "12:30:00"])
    if style == "blank":
        return ""
    return rng.choice([str(row), f"id-{row}", "text", "5'11\""])  # "mixed"


def _quoted(cell: str, delimiter: str) -> str:
    """As a CSV writer puts it: in quotes when it holds the delimiter (a stray quote mark is left as people leave it)."""
    return f'"{cell}"' if delimiter in cell and not cell.startswith('"') else cell


STYLES = ["rating", "whole", "float", "huge", "category", "date", "local date", "quoted", "long", "bool", "blank",
          "grouped", "padded", "timestamp", "mixed"]
# Mostly targets a model can learn, so most files reach the Dataset checks; the rest must be refused plainly.
TARGET_STYLES = ["rating", "rating", "category", "category", "float", "whole", "grouped", "huge", "date", "blank",
                 "mixed"]


def _random_csv(rng: random.Random) -> bytes:
    delimiter = rng.choice([",", ";", "\t", "|"])
    decimal = "," if delimiter == ";" and rng.random() < 0.5 else "."
    styles = rng.choices(STYLES, k=rng.choice([0, 1, 2, 2, 3, 3, 4, 5])) + [rng.choice(TARGET_STYLES)]
    header = [f"c{i}" for i in range(len(styles))]
    if rng.random() < 0.1:  # a blank name, or a name used twice
        header[rng.randrange(len(header))] = rng.choice(["", header[0]])
    lines = [delimiter.join(header)]
    ragged = rng.randrange(200) if rng.random() < 0.05 else None
    for row in range(rng.choice([0, 4, 15, 40, 80, 80, 150, 150, 150])):
        cells = [_quoted(_cell(rng, style, row, decimal), delimiter) for style in styles]
        lines.append(delimiter.join(cells + (["extra"] if row == ragged else [])))
    newline = rng.choice(["\n", "\r\n"])
    text = newline.join(lines) + (newline if rng.random() < 0.8 else "")
    encoding = rng.choice(["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16"])
    data = text.encode(encoding, errors="replace")
    return data if encoding != "utf-8-sig" or data.startswith(codecs.BOM_UTF8) else codecs.BOM_UTF8 + data


def _choices(rng: random.Random, columns: list[str]) -> dict:
    options: dict = {}
    if rng.random() < 0.3:
        options["target"] = rng.choice(columns)
    if rng.random() < 0.3:
        options["task"] = rng.choice(TASKS)
    if rng.random() < 0.3:
        options["kinds"] = {rng.choice(columns): rng.choice(KINDS)}
    return options


def _check_text_dataset(ds, raw, splits) -> None:
    length, n_ids = ds.text.sequence_length, ds.text.n_ids
    for x, y in splits:
        assert x.dtype.kind in "iu" and x.shape == (len(y), length) and ((0 <= x) & (x < n_ids)).all()
    assert sum(len(y) for _, y in splits) + ds.dropped_rows <= raw.n_rows  # empty texts are left out
    json.dumps(ds.describe())


def _check_dataset(ds, raw) -> None:
    """What training and prediction rely on."""
    splits = [(ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)]
    if ds.text is not None:  # a column chosen "text": a text dataset of token ids
        _check_text_dataset(ds, raw, splits)
        return
    width = len(ds.preprocessor.input_names)
    assert width == len([f for f in ds.features if f.kind in ("numeric", "categorical")]) > 0
    for x, y in splits:
        assert x.dtype == np.float32 and x.shape == (len(y), width) and np.isfinite(x).all()
    assert sum(len(y) for _, y in splits) + ds.dropped_rows == raw.n_rows
    if ds.task == "classification":
        assert len(ds.classes) >= 2 and all(isinstance(c, str) and c for c in ds.classes)
        for _, y in splits:
            assert y.dtype == np.int64 and ((0 <= y) & (y < len(ds.classes))).all()
    else:
        assert ds.classes == [] and all(y.dtype == np.float32 and np.isfinite(y).all() for _, y in splits)
    for feature in ds.features:
        if feature.kind == "categorical":
            assert feature.categories
    json.dumps(ds.describe())
    # A model in use reads raw rows through the saved preprocessor: it must encode them exactly as training did.
    restored = TablePreprocessor.from_json(json.loads(json.dumps(ds.preprocessor.to_json())))
    kept = raw.frame[raw.frame[ds.target].notna()] if ds.dropped_rows else raw.frame
    again = restored.transform(kept)
    assert again.dtype == np.float32 and np.isfinite(again).all()
    if not ds.dropped_rows:
        together = np.concatenate([x for x, _ in splits])
        assert np.array_equal(_sorted_rows(together), _sorted_rows(again))


def _sorted_rows(x: np.ndarray) -> np.ndarray:
    return x[np.lexsort(x.T[::-1])] if x.size else x


@pytest.mark.parametrize("block", range(3))
def test_random_csvs_give_a_user_error_or_a_sane_dataset(block):
    outcomes = {"dataset": 0, "refused": 0}
    for case in range(block * CASES // 3, (block + 1) * CASES // 3):
        rng = random.Random(case)
        data = _random_csv(rng)
        try:
            raw = read_csv(data, "fuzz.csv")
            options = _choices(rng, [str(c) for c in raw.frame.columns])
            ds = prepare_table(raw, **options)
        except UserError as err:
            assert err.render(), f"case {case}"
            outcomes["refused"] += 1
            continue
        except Exception as err:  # noqa: BLE001 - the point of the test: report which file broke it
            raise AssertionError(f"case {case} ({data[:300]!r}) raised {type(err).__name__}: {err}") from err
        try:
            _check_dataset(ds, raw)
        except AssertionError as err:
            raise AssertionError(f"case {case} ({data[:300]!r}, {options}): {err}") from err
        outcomes["dataset"] += 1
    assert outcomes["dataset"] >= 5 and outcomes["refused"] >= 5  # both paths are exercised
