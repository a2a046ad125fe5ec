"""train_model.py's pieces for time series: reading a dated CSV the way LayerLab does (the dates in
the training file's format, rows in date order on the regular grid of the frequency, gaps and empty
values carried forward from the past only), the chronological split into windows, the
Normalization that opens build_model(), the forecast head, and main(), which compares the test
forecasts with the naive ones.

Real Python, so it can be read, linted and compiled; core.codegen copies the statements it
needs (see core/script_templates/__init__.py) and puts the dataset's values in place of the
example TARGET ... REFERENCE_POSITIONS. The CSV is read by table.py's read_table.
"""
from __future__ import annotations

import re
import sys

import keras
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from core.script_templates.common import (  # the shared settings and functions; not copied
    TEST_FRACTION, VALIDATION_FRACTION, arguments, build_model, fit,
)
from core.script_templates.table import MISSING_MARKERS, read_table  # copied from table.py

TARGET = "turnover_index"  # the series to forecast
INPUTS = []  # other series the model reads too (after the target, in this order)
DATE_COLUMN = "month"  # None: no dates, the rows are in time order, one step each
# How the dates are written: a strptime format such as "%d/%m/%Y"; "ISO8601", "date" or "datetime"
# (2024-01-31, 2024-01-31 13:00, time zones turned into UTC); "quarter" (2024Q1); "unix_s" or
# "unix_ms" (seconds or milliseconds since 1970)
DATE_FORMAT = "ISO8601"
WINDOW = 24  # the model reads this many steps back...
HORIZON = 12  # ...and forecasts this many steps ahead
# One step is `months` months or `seconds` seconds (both 0: the dates are not evenly spaced, each row
# is one step); `season` steps make a season (12 months), None without one.
FREQUENCY = {"name": "monthly", "months": 1, "seconds": 0, "season": 12}
# The forecast head adds a learned change to the value each step starts from (the window's step in
# REFERENCE_POSITIONS: the same step one season earlier when the window holds it, else the last
# one); CHANGE_SCALE is the typical size of that change in the training period.
CHANGE_SCALE = 3.8
REFERENCE_POSITIONS = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]


# ---- The series: dates, the regular grid, gaps carried forward ----------------------------
QUARTER = re.compile(r"(\d{4})\s*[-/ ]?\s*Q([1-4])|Q([1-4])\s*[-/ ]?\s*(\d{4})", re.IGNORECASE)  # 2024Q1, Q1 2024


def quarter_start(text: str) -> pd.Timestamp:
    """'2024Q1' -> 2024-01-01, the first day of the quarter; NaT for other text."""
    match = QUARTER.fullmatch(text)
    if not match:
        return pd.NaT
    year, quarter = (match[1], match[2]) if match[1] else (match[4], match[3])
    return pd.Timestamp(int(year), 3 * int(quarter) - 2, 1)


def parse_dates(cells: pd.Series) -> pd.Series:
    """The date column as timestamps, every cell read in DATE_FORMAT; NaT for an empty cell. A cell
    that is not such a date stops the script, naming its row."""
    if DATE_FORMAT in ("unix_s", "unix_ms"):
        return pd.to_datetime(pd.to_numeric(cells, errors="coerce"), unit=DATE_FORMAT.removeprefix("unix_"),
                              errors="coerce")
    text = cells.astype("str").str.strip().where(cells.notna(), "")
    if DATE_FORMAT == "quarter":
        stamps = pd.to_datetime(text.map(quarter_start))
    elif DATE_FORMAT in ("ISO8601", "date", "datetime"):
        stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    else:
        stamps = pd.to_datetime(text, format=DATE_FORMAT, errors="coerce")
    bad = stamps.isna() & (text != "") & ~text.str.lower().isin(MISSING_MARKERS)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        sys.exit(f"Row {row + 2} has {text.iloc[row]!r} in the date column {DATE_COLUMN!r}, which is not a date "
                 "written like the training data's. Correct or remove that row.")
    return stamps


def numbers(cells: pd.Series, name: str) -> np.ndarray:
    """A column of the series as float64, NaN where empty. Decimal commas (3,5) are read; a few cells
    that are not numbers count as empty, more than 5% stop the script."""
    if pd.api.types.is_numeric_dtype(cells.dtype):
        return cells.to_numpy(dtype="float64", na_value=np.nan)
    text = cells.astype("str").str.strip().where(cells.notna(), "")
    present = text[text != ""].iloc[:200]
    if len(present) and present.str.fullmatch(r"-?\d+,\d+").mean() > 0.5:
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & (text != "") & ~text.str.lower().isin(MISSING_MARKERS)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        if bad.mean() > 0.05:
            sys.exit(f"The column {name!r} is not a column of numbers: row {row + 2} has {text.iloc[row]!r}.")
        print(f"{name!r}: {int(bad.sum())} cell(s) that are not numbers (such as {text.iloc[row]!r} in row {row + 2}) "
              "were treated as empty.")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def on_grid(table: pd.DataFrame, stamps: pd.Series) -> pd.DataFrame:
    """The rows in date order, one per step of FREQUENCY: rows without a date left out, rows on the same
    timestamp (or step) averaged, an empty row for each step that has none."""
    dated = stamps.notna().to_numpy()
    if not dated.all():
        print(f"Left out {int((~dated).sum())} row(s) without a date in {DATE_COLUMN!r}.")
    table = table[dated].set_axis(pd.DatetimeIndex(stamps[dated]), axis=0).sort_index(kind="stable")
    table = table.groupby(level=0).mean()
    if not (FREQUENCY["months"] or FREQUENCY["seconds"]):  # dates not evenly spaced: one row per step
        return table.reset_index(drop=True)
    index = table.index
    if FREQUENCY["months"]:
        steps = (index.year * 12 + index.month - (index[0].year * 12 + index[0].month)) / FREQUENCY["months"]
    else:
        seconds = index.to_numpy(dtype="datetime64[s]").astype("int64")
        steps = (seconds - seconds[0]) / FREQUENCY["seconds"]
    positions = np.round(np.asarray(steps)).astype("int64")
    table = table.groupby(positions).mean()
    return table.reindex(np.arange(positions[-1] + 1))


def filled(table: pd.DataFrame) -> pd.DataFrame:
    """The leading steps before every series has a value left out, then each empty value carried
    forward from the step before (never from the future)."""
    present = table.notna().to_numpy()
    if not present.any(axis=0).all():
        sys.exit("A column of the series has no numbers in it.")
    first = int(present.argmax(axis=0).max())
    if first:
        print(f"Left out the first {first} step(s): not every series has a value there yet.")
    return table.iloc[first:].ffill()


def load_data(path: str) -> np.ndarray:
    """The series as LayerLab prepared it: (steps, 1 + len(INPUTS)) float32, TARGET first."""
    frame = read_table(path)
    missing = [name for name in [DATE_COLUMN, TARGET, *INPUTS] if name is not None and name not in frame.columns]
    if missing:
        sys.exit(f"{path} has no column(s) {', '.join(missing)}; its columns are {', '.join(map(str, frame.columns))}.")
    table = pd.DataFrame({name: numbers(frame[name], name) for name in [TARGET, *INPUTS]})
    if DATE_COLUMN is not None:
        table = on_grid(table, parse_dates(frame[DATE_COLUMN]))
    return filled(table).to_numpy(dtype="float32")


# ---- The split: in time, into windows ----------------------------------------------
def periods(steps: int) -> tuple[int, int]:
    """Where the validation and the test periods start: the last VALIDATION_FRACTION and TEST_FRACTION
    of the steps (at least HORIZON each, only HORIZON when the series is short)."""
    n_val = max(HORIZON, round(steps * VALIDATION_FRACTION))
    n_test = max(HORIZON, round(steps * TEST_FRACTION))
    if steps - n_val - n_test < WINDOW + HORIZON:
        n_val = n_test = HORIZON
    if steps - n_val - n_test < WINDOW + HORIZON:
        sys.exit(f"The series has {steps} steps: at least {WINDOW + 3 * HORIZON} are needed for a window of {WINDOW} "
                 f"and a horizon of {HORIZON}.")
    return steps - n_val - n_test, steps - n_test


def split_windows(values: np.ndarray, val_start: int, test_start: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(inputs, targets) of the training, validation and test periods, as views of `values`. A window
    whose first forecast step is i reads the rows [i - WINDOW, i) and forecasts the target's rows
    [i, i + HORIZON); its targets lie inside one period, its inputs may reach back into the one before."""
    x = sliding_window_view(values, WINDOW, axis=0).transpose(0, 2, 1)
    y = sliding_window_view(values[:, 0], HORIZON)
    parts = []
    for first, last in ((WINDOW, val_start - HORIZON), (val_start, test_start - HORIZON),
                        (test_start, len(values) - HORIZON)):
        parts.append((x[first - WINDOW:last - WINDOW + 1], y[first:last + 1]))
    return parts


# ---- build_model() pieces: core.codegen copies a function's body, between its docstring and its
# `return`, into build_model() (the same layers as LayerLab's series kind).
def normalized_window(inputs: keras.KerasTensor, x_train: np.ndarray) -> keras.KerasTensor:
    """Each series standardised with the mean and variance of the training period."""
    # main() passes the training period's rows (steps x series) as x_train: the saved model takes raw values
    normalization = keras.layers.Normalization(axis=-1, name="normalization")
    normalization.adapt(x_train)
    x = normalization(inputs)
    return x


def forecast_head(inputs: keras.KerasTensor, x: keras.KerasTensor) -> tuple[keras.KerasTensor, str, list[str]]:
    """HORIZON values in the series' own units: a learned change added to the value each step starts from."""
    change = keras.layers.Dense(HORIZON, name="output_change")(x)
    change = keras.layers.Rescaling(scale=CHANGE_SCALE, name="output_scaled")(change)
    # the raw target values each forecast step starts from (an untrained model forecasts about those)
    reference = keras.ops.take(inputs[:, :, 0], REFERENCE_POSITIONS, axis=1)
    outputs = keras.layers.Add(name="output")([change, reference])
    loss, metrics = "mse", ["mae"]
    return outputs, loss, metrics


# ---- main(): train, then compare with the forecasts anyone can make ------------------------
def baseline_forecasts(values: np.ndarray, test_start: int) -> dict[str, np.ndarray]:
    """The test windows' forecasts anyone can make: the last value repeated, and (with a season) each
    step's value one season earlier."""
    target = values[:, 0]
    origins = np.arange(test_start, len(values) - HORIZON + 1)
    forecasts = {"naive": np.repeat(target[origins - 1, None], HORIZON, axis=1)}
    season, steps = FREQUENCY["season"], np.arange(HORIZON)
    if season and season >= 2 and origins.min() >= season:
        forecasts["seasonal naive"] = target[origins[:, None] + steps - season * (steps // season + 1)]
    return forecasts


def main() -> None:
    args = arguments()
    values = load_data(args.data)
    val_start, test_start = periods(len(values))
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split_windows(values, val_start, test_start)
    print(f"{len(values)} time steps: {len(x_train)} training, {len(x_val)} validation, {len(x_test)} test windows")
    model = build_model(values[:val_start], y_train)  # Normalization adapts on the training period's rows
    model.summary()
    fit(model, (x_train, y_train), (x_val, y_val), args.epochs)
    forecasts = {"model": model.predict(x_test, verbose=0), **baseline_forecasts(values, test_start)}
    print("test MAE:", ", ".join(f"{name} {np.mean(np.abs(f - y_test)):.4f}" for name, f in forecasts.items()))
    model.save(args.out)
    print(f"saved {args.out}: it takes the last {WINDOW} steps of {', '.join([TARGET, *INPUTS])} (raw values, "
          f"oldest first) and forecasts the next {HORIZON} values of {TARGET}")
