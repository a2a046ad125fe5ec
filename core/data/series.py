"""A dated table read as a time series to forecast: regular steps, filled gaps, windows as views.

The rows are put in date order on a regular grid (the frequency found in the dates); a missing
step becomes a row and every empty value is carried forward from the past only, never from the
future. The split is chronological: training, then validation, then test periods. A window's
inputs are the `window` rows before its first forecast step and its targets the `horizon`
values from there; validation and test windows may look back into the period before them, but
their targets lie wholly inside their own period. The six arrays are strided views of one
(rows × series) array (`numpy.lib.stride_tricks.sliding_window_view`), so memory stays near the
size of the series however many windows there are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.dataset import FORECAST, IGNORED, NUMERIC, Dataset, Feature
from core.data.dates import ParsedDates, find_date_column, parse_dates
from core.errors import UserError

SERIES = "series"  # the kind of data
VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.15
MIN_TRAINING_WINDOWS = 20  # below this the automatic window and horizon are shortened
MAX_DUPLICATE_SHARE = 0.01  # more rows sharing a timestamp than this: a long-format table, refused
MAX_GRID_GROWTH = 2  # filling gaps may at most double the rows (a far-off date is a typo, not a gap)
IRREGULAR_SHARE = 0.1  # rows off the grid by more than a quarter step: the steps are taken as rows

# name, months per step (0: a fixed number of seconds), seconds per step, season (steps), default window, horizon
_FREQUENCIES = (
    ("minutely", 0, 60, 60, 120, 30),
    ("hourly", 0, 3600, 24, 72, 24),
    ("daily", 0, 86400, 7, 28, 7),
    ("weekly", 0, 7 * 86400, 52, 26, 4),
    ("monthly", 1, 0, 12, 24, 12),
    ("quarterly", 3, 0, 4, 12, 4),
    ("yearly", 12, 0, None, 10, 3),
)
ROWS = "rows"  # no date column, or irregular dates: each row is one step
_ROW_DEFAULTS = (24, 6)


@dataclass(frozen=True)
class Frequency:
    name: str  # one of _FREQUENCIES' names, "every N seconds", or "rows"
    months: int = 0
    seconds: int = 0
    season: int | None = None
    window: int = _ROW_DEFAULTS[0]
    horizon: int = _ROW_DEFAULTS[1]

    def after(self, last: np.datetime64, steps: int) -> np.ndarray:
        """The `steps` timestamps that follow `last` (datetime64[s])."""
        if self.months:
            stamp = pd.Timestamp(last)
            return np.array([(stamp + pd.DateOffset(months=self.months * k)).to_datetime64() for k in range(1, steps + 1)],
                            dtype="datetime64[s]")
        return last + np.arange(1, steps + 1) * np.timedelta64(self.seconds, "s")

    def to_json(self) -> dict:
        return {"name": self.name, "months": self.months, "seconds": self.seconds, "season": self.season,
                "window": self.window, "horizon": self.horizon}


BY_ROWS = Frequency(ROWS)


@dataclass
class SeriesSettings:
    """What the user chose; None is "decide from the data"."""

    target: str | None = None
    inputs: tuple[str, ...] | None = None  # other series the model reads (default: none)
    window: int | None = None
    horizon: int | None = None
    date_column: str | None = None  # "" = no date column: row order
    date_order: str | None = None  # "day_first" | "month_first" where the dates allow both


@dataclass
class SeriesData:
    """Everything the series kind knows besides the six arrays (which are views of `values`)."""

    target: str
    inputs: list[str]
    window: int
    horizon: int
    frequency: Frequency
    values: np.ndarray  # (rows, 1 + len(inputs)) float32, target first, gaps filled
    timestamps: np.ndarray | None  # (rows,) datetime64[s], or None: row order
    val_start: int  # first row of the validation period
    test_start: int  # first row of the test period
    date_column: str | None = None
    date_style: str | None = None
    date_format: str | None = None  # core.data.dates.ParsedDates.format: how recent rows' dates are read
    date_order: str | None = None
    date_ambiguous: bool = False
    report: dict[str, Any] = field(default_factory=dict)  # what was found and done (gaps, fills, ...)

    @property
    def columns(self) -> list[str]:
        return [self.target, *self.inputs]

    @property
    def n(self) -> int:
        return int(len(self.values))

    @property
    def season(self) -> int | None:
        return self.frequency.season

    def stamp_text(self, index: int) -> str:
        return _stamp_text(self.timestamps[index], self.frequency) if self.timestamps is not None else f"step {index + 1}"

    def future_stamps(self) -> list[str]:
        """The timestamps of the next `horizon` steps after the data."""
        if self.timestamps is None:
            return [f"step {self.n + k}" for k in range(1, self.horizon + 1)]
        return [_stamp_text(s, self.frequency) for s in self.frequency.after(self.timestamps[-1], self.horizon)]

    def to_json(self) -> dict:
        """The JSON part (the arrays travel as .npy files: core.training.rundir)."""
        return {
            "target": self.target, "inputs": list(self.inputs), "window": self.window, "horizon": self.horizon,
            "frequency": self.frequency.to_json(), "val_start": self.val_start, "test_start": self.test_start,
            "date_column": self.date_column, "date_style": self.date_style, "date_format": self.date_format,
            "date_order": self.date_order,
            "date_ambiguous": self.date_ambiguous, "report": self.report,
        }

    @classmethod
    def from_json(cls, data: dict, values: np.ndarray, timestamps: np.ndarray | None) -> "SeriesData":
        return cls(
            target=str(data["target"]), inputs=[str(c) for c in data["inputs"]], window=int(data["window"]),
            horizon=int(data["horizon"]), frequency=Frequency(**data["frequency"]), values=values,
            timestamps=timestamps, val_start=int(data["val_start"]), test_start=int(data["test_start"]),
            date_column=data.get("date_column"), date_style=data.get("date_style"), date_format=data.get("date_format"),
            date_order=data.get("date_order"), date_ambiguous=bool(data.get("date_ambiguous")),
            report=dict(data.get("report", {})),
        )


def _stamp_text(stamp: np.datetime64, frequency: Frequency) -> str:
    ts = pd.Timestamp(stamp)
    if frequency.months == 12:
        return f"{ts.year}"
    if frequency.months == 3:
        return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"
    if frequency.months:
        return ts.strftime("%Y-%m")
    if frequency.seconds and frequency.seconds % 86400 == 0 and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M" if ts.second == 0 else "%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- windows


def window_views(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows as views: inputs (rows - window + 1, window, series) and targets
    (rows - horizon + 1, horizon) of column 0. Origin i (the first forecast step) has inputs
    `x[i - window]` and targets `y[i]`."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = sliding_window_view(values, window, axis=0).transpose(0, 2, 1)
    y = sliding_window_view(values[:, 0], horizon)
    return x, y


def split_windows(values: np.ndarray, window: int, horizon: int, val_start: int, test_start: int) -> dict[str, np.ndarray]:
    """x_train ... y_test: the windows whose targets lie inside each period (views, no copies)."""
    x, y = window_views(values, window, horizon)
    n = len(values)
    ranges = {"train": (window, val_start - horizon), "val": (val_start, test_start - horizon), "test": (test_start, n - horizon)}
    arrays = {}
    for name, (first, last) in ranges.items():
        last = max(last, first - 1)  # an empty period gives empty arrays
        arrays[f"x_{name}"] = x[first - window : last - window + 1]
        arrays[f"y_{name}"] = y[first : last + 1]
    return arrays


def minimum_rows(window: int, horizon: int) -> int:
    """One training window, and a horizon each for validation and test."""
    return window + 3 * horizon


def periods(n: int, window: int, horizon: int) -> tuple[int, int] | None:
    """(validation start, test start) rows, or None when the series is too short."""
    n_test = max(horizon, int(round(n * TEST_FRACTION)))
    n_val = max(horizon, int(round(n * VALIDATION_FRACTION)))
    if n - n_val - n_test < window + horizon:
        n_test = n_val = horizon
    if n - n_val - n_test < window + horizon:
        return None
    return n - n_val - n_test, n - n_test


# ---------------------------------------------------------------- reading the table


def prepare_series(raw: Any, settings: SeriesSettings | None = None) -> Dataset:
    """A dated table (core.data.csv_reader.RawTable) as a forecasting Dataset."""
    settings = settings or SeriesSettings()
    frame, file = raw.frame, raw.name
    columns = [str(c) for c in frame.columns]
    report: dict[str, Any] = {"rows_read": int(len(frame))}
    notes: list[str] = []
    date_column = _date_column(frame, settings, file)
    candidates = [c for c in columns if c != date_column]
    target = _target(frame, candidates, settings.target, file)
    inputs = _inputs(candidates, target, settings.inputs, file)
    numbers = {name: _numbers(frame[name], name, file, notes) for name in [target, *inputs]}
    table = pd.DataFrame(numbers)
    parsed: ParsedDates | None = None
    frequency = BY_ROWS
    if date_column is not None:
        parsed = parse_dates(frame[date_column], date_column, file, settings.date_order)
        table, frequency = _on_grid(table, parsed, file, report, notes)
    else:
        notes.append("There is no date column, so the row order is taken as time: each row is one step.")
    table = _filled(table, report, notes, file)
    window, horizon = _framing(len(table), frequency, settings, file, notes)
    bounds = periods(len(table), window, horizon)
    assert bounds is not None  # _framing checked the length
    val_start, test_start = bounds
    values = np.ascontiguousarray(table.to_numpy(dtype=np.float32))
    _check_varies(values[:val_start, 0], target, file)
    timestamps = table.index.to_numpy(dtype="datetime64[s]") if date_column is not None and frequency.name != ROWS else None
    series = SeriesData(
        target=target, inputs=inputs, window=window, horizon=horizon, frequency=frequency, values=values,
        timestamps=timestamps, val_start=val_start, test_start=test_start, date_column=date_column,
        date_style=parsed.style if parsed else None, date_format=parsed.format if parsed else None, date_order=parsed.date_order if parsed else None,
        date_ambiguous=bool(parsed and parsed.ambiguous), report=report,
    )
    if series.date_ambiguous:
        notes.append(f"The dates in '{date_column}' read both as day/month and as month/day; they were read "
                     "day first. Choose the order on the Data page (or --date-order) if that is wrong.")
    used = set(series.columns) | {date_column}
    features = [Feature(name, NUMERIC, "a series the model reads") for name in inputs] + [
        Feature(name, IGNORED, "not used") for name in columns if name not in used]
    return series_dataset(raw.name, series, features=features, warnings=notes, frame=frame)


def series_dataset(name: str, series: SeriesData, **extra: Any) -> Dataset:
    """The Dataset whose arrays are the windows of `series` (views of its values)."""
    arrays = split_windows(series.values, series.window, series.horizon, series.val_start, series.test_start)
    return Dataset(name=name, kind=SERIES, task=FORECAST, target=series.target, series=series, **arrays, **extra)


def _date_column(frame: pd.DataFrame, settings: SeriesSettings, file: str) -> str | None:
    if settings.date_column == "":
        return None
    if settings.date_column is not None:
        if settings.date_column not in frame.columns:
            raise UserError("series.unknown_date_column", "{file} has no column named '{column}'. Its columns are: {columns}.",
                            file=file, column=settings.date_column, columns=_listed(frame.columns))
        return settings.date_column
    return find_date_column(frame)


def _listed(columns: Any) -> str:
    names = [str(c) for c in columns]
    return ", ".join(names[:30]) + (" …" if len(names) > 30 else "")


def _mostly_numbers(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    present = series.dropna().astype("str").str.strip()
    present = present[present != ""]
    return bool(len(present)) and pd.to_numeric(present, errors="coerce").notna().mean() >= 0.9


def _target(frame: pd.DataFrame, candidates: list[str], chosen: str | None, file: str) -> str:
    if chosen is not None:
        if chosen not in frame.columns:
            raise UserError("table.unknown_target", "{file} has no column named '{column}'. Its columns are: {columns}.",
                            file=file, column=chosen, columns=_listed(frame.columns))
        return chosen
    numeric = [c for c in candidates if _mostly_numbers(frame[c])]
    if not numeric:
        raise UserError(
            "series.no_numeric_column",
            "{file} has no column of numbers to forecast (its columns are: {columns}). A time series needs a column "
            "of dates (or rows in time order) and at least one column of numbers.",
            file=file, columns=_listed(frame.columns),
        )
    return numeric[-1]


def _inputs(candidates: list[str], target: str, chosen: tuple[str, ...] | None, file: str) -> list[str]:
    if not chosen:
        return []
    unknown = [c for c in chosen if c not in candidates]
    if unknown:
        raise UserError("series.unknown_input", "{file} has no series named {columns} to use as an input. Its columns are: {all}.",
                        file=file, columns=", ".join(f"'{c}'" for c in unknown), all=", ".join(candidates[:30]))
    return [c for c in dict.fromkeys(chosen) if c != target]


def _numbers(series: pd.Series, name: str, file: str, notes: list[str]) -> np.ndarray:
    """The column as float64 (NaN: empty); a column that is not numbers is refused with a row."""
    from core.data.cell_text import is_missing_marker

    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise UserError("series.not_numbers", "The column '{column}' of {file} holds {what}, not numbers, so it cannot be "
                        "forecast or used as a series. Choose a column of numbers.", column=name, file=file,
                        what="yes/no values" if pd.api.types.is_bool_dtype(series.dtype) else "dates")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    text = series.astype("str").where(series.notna(), "").str.strip()
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False) if _decimal_commas(text) else text, errors="coerce")
    empty = (text == "") | text.map(is_missing_marker)
    bad = numbers.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        if bad.mean() > 0.05:
            raise UserError(
                "series.not_numbers_at",
                "The column '{column}' of {file} is not a column of numbers: row {row} has '{value}'. Choose a column of "
                "numbers to forecast, or correct the file.",
                column=name, file=file, row=row + 2, value=str(text.iloc[row])[:40],
            )
        notes.append(f"'{name}': {int(bad.sum())} cell(s) that are not numbers (such as '{str(text.iloc[row])[:40]}' in "
                     f"row {row + 2}) were treated as empty and filled from the row before.")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _decimal_commas(text: pd.Series) -> bool:
    sample = text[text != ""].iloc[:200]
    return bool(len(sample)) and sample.str.fullmatch(r"-?\d+,\d+").mean() > 0.5


def _on_grid(table: pd.DataFrame, parsed: ParsedDates, file: str, report: dict, notes: list[str],
             known: Frequency | None = None) -> tuple[pd.DataFrame, Frequency]:
    """Rows in date order, one per step of the frequency found (or `known`: the training data's),
    missing steps as empty rows."""
    stamps = pd.Series(parsed.values)
    undated = int(stamps.isna().sum())
    if undated:
        if undated == len(stamps):
            raise UserError("series.no_dates", "The column '{column}' has no dates in it.", column=parsed.column)
        notes.append(f"{undated} row(s) without a date in '{parsed.column}' were left out.")
        table, stamps = table[stamps.notna().to_numpy()], stamps[stamps.notna()]
    report["undated_rows"] = undated
    table.index = pd.DatetimeIndex(stamps.to_numpy(), name=parsed.column)
    if not table.index.is_monotonic_increasing:
        table = table.sort_index(kind="stable")
        notes.append(f"The rows were not in date order; they were sorted by '{parsed.column}'.")
        report["sorted"] = True
    duplicated = int(table.index.duplicated(keep=False).sum())
    report["duplicate_timestamps"] = duplicated
    if duplicated:
        first = table.index[table.index.duplicated()][0]
        if duplicated > max(2, MAX_DUPLICATE_SHARE * len(table)):
            raise UserError(
                "series.duplicate_timestamps",
                "{n} rows of {file} share their timestamp with another row (for example {stamp}). A series needs one row "
                "per timestamp; this file looks like several series in one column (one row per item and date). Keep one "
                "item's rows, or sum them per date in your spreadsheet, and load the file again.",
                n=f"{duplicated:,}", file=file, stamp=str(first),
            )
        table = table.groupby(level=0, sort=True).mean()
        notes.append(f"{duplicated} rows share a timestamp with another (such as {first}); the values of each "
                     "timestamp were averaged.")
    frequency = known if known is not None else _frequency(table.index)
    if frequency.name == ROWS:
        notes.append(f"The dates in '{parsed.column}' are not evenly spaced, so each row is taken as one step.")
        return table, frequency
    positions = _grid_positions(table.index, frequency)
    off = positions is None
    if not off:
        collisions = int(pd.Index(positions).duplicated().sum())
        if collisions:
            table = table.groupby(positions).mean()
            positions = np.asarray(table.index)
        size = int(positions[-1]) + 1
        if size > MAX_GRID_GROWTH * len(table) + 10:
            off = True
    if off:
        notes.append(f"The dates in '{parsed.column}' are not evenly spaced ({frequency.name} mostly), so each row is "
                     "taken as one step.")
        report["irregular"] = True
        return table.reset_index(drop=True), BY_ROWS
    if len(positions) == 0:
        return table, frequency
    grid = np.full((size, table.shape[1]), np.nan)
    grid[positions] = table.to_numpy(dtype=np.float64)
    missing_steps = size - len(positions)
    report["missing_steps"] = int(missing_steps)
    if missing_steps:
        gaps = np.diff(positions)
        report["largest_gap"] = int(gaps.max() - 1) if len(gaps) else 0
        notes.append(f"{missing_steps} {frequency.name} step(s) had no row (the longest gap: {report['largest_gap']} "
                     "steps); their values were carried forward from the step before.")
    start = table.index[0]
    index = pd.DatetimeIndex(_stamps_of(start, size, frequency), name=parsed.column)
    return pd.DataFrame(grid, columns=table.columns, index=index), frequency


def _stamps_of(start: pd.Timestamp, size: int, frequency: Frequency) -> np.ndarray:
    if frequency.months:
        return np.array([(start + pd.DateOffset(months=frequency.months * k)).to_datetime64() for k in range(size)],
                        dtype="datetime64[s]")
    return start.to_datetime64().astype("datetime64[s]") + np.arange(size) * np.timedelta64(frequency.seconds, "s")


def _frequency(index: pd.DatetimeIndex) -> Frequency:
    """The step most rows are apart: a named frequency, a fixed number of seconds, or rows."""
    if len(index) < 3:
        return BY_ROWS
    seconds = np.diff(index.to_numpy(dtype="datetime64[s]").astype(np.int64))
    step = float(np.median(seconds))
    months = np.diff(index.year.to_numpy() * 12 + index.month.to_numpy())
    month_step = int(np.median(months))
    for name, n_months, n_seconds, season, window, horizon in _FREQUENCIES:
        if n_months and month_step == n_months and abs(step - n_months * 30.44 * 86400) < n_months * 4 * 86400:
            return Frequency(name, n_months, 0, season, window, horizon)
        if n_seconds and step == n_seconds:
            return Frequency(name, 0, n_seconds, season, window, horizon)
    if step > 0 and step == int(step):
        return Frequency(f"every {_duration(int(step))}", 0, int(step), None, *_ROW_DEFAULTS)
    return BY_ROWS


def _duration(seconds: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"


def _grid_positions(index: pd.DatetimeIndex, frequency: Frequency) -> np.ndarray | None:
    """Each row's step number from the first row, or None when too many rows fall between steps."""
    if frequency.months:
        months = (index.year.to_numpy() * 12 + index.month.to_numpy()) - (index[0].year * 12 + index[0].month)
        steps = months / frequency.months
        exact = np.round(steps)
        if np.mean(steps != exact) > IRREGULAR_SHARE:
            return None
        return exact.astype(np.int64)
    offsets = (index.to_numpy(dtype="datetime64[s]").astype(np.int64) - index[0].value // 10**9) / frequency.seconds
    exact = np.round(offsets)
    if np.mean(np.abs(offsets - exact) > 0.25) > IRREGULAR_SHARE:
        return None
    return exact.astype(np.int64)


def _filled(table: pd.DataFrame, report: dict, notes: list[str], file: str) -> pd.DataFrame:
    """Empty values carried forward from the past; leading rows before every series has a value left out."""
    missing = {str(c): int(n) for c, n in table.isna().sum().items()}
    report["missing_values"] = missing
    starts = [table[c].first_valid_index() for c in table.columns]
    if any(s is None for s in starts):
        empty = next(str(c) for c, s in zip(table.columns, starts) if s is None)
        raise UserError("series.empty_column", "The column '{column}' of {file} has no numbers in it.", column=empty, file=file)
    first = max(table.index.get_loc(s) for s in starts)
    if first:
        notes.append(f"The first {first} row(s) were left out: not every series has a value there yet, and values are "
                     "only ever filled from the past.")
        table = table.iloc[first:]
    report["leading_rows_dropped"] = int(first)
    filled = {c: n for c, n in ((str(c), int(table[c].isna().sum())) for c in table.columns) if n}
    report["filled_values"] = filled
    if filled:
        notes.append("Empty values were carried forward from the step before: "
                     + ", ".join(f"'{c}' {n}" for c, n in filled.items()) + ".")
        table = table.ffill()
    return table


def _framing(n: int, frequency: Frequency, settings: SeriesSettings, file: str, notes: list[str]) -> tuple[int, int]:
    """Window and horizon: the user's, or the frequency's defaults shortened to fit the data."""
    for name, value in (("window", settings.window), ("horizon", settings.horizon)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise UserError("series.bad_framing", "The {name} must be a whole number of steps, 1 or more, not {value}.",
                            name=name, value=str(value)[:20])
    window = settings.window or frequency.window
    horizon = settings.horizon or frequency.horizon
    if settings.window is None or settings.horizon is None:
        shortened = False
        while n < minimum_rows(window, horizon) + MIN_TRAINING_WINDOWS and (
                (settings.window is None and window > max(2, horizon)) or (settings.horizon is None and horizon > 1)):
            if settings.window is None and window > max(2, horizon):
                window = max(2, horizon, window // 2)
            elif settings.horizon is None:
                horizon = max(1, horizon // 2)
            shortened = True
        if shortened:
            notes.append(f"The series is short, so the model looks back {window} steps and forecasts {horizon} "
                         f"(the usual {frequency.window} and {frequency.horizon} for {frequency.name} data need more rows).")
    if periods(n, window, horizon) is None:
        raise UserError(
            "series.too_short",
            "{file} has {n} time steps, too few for a window of {window} and a horizon of {horizon}: at least {minimum} "
            "are needed ({window} + {horizon} for one training example, and {horizon} each to validate and test). Add "
            "more rows, or make the window or the horizon shorter.",
            file=file, n=n, window=window, horizon=horizon, minimum=minimum_rows(window, horizon),
        )
    return window, horizon


def _check_varies(train_target: np.ndarray, target: str, file: str) -> None:
    if len(train_target) and float(np.nanmax(train_target)) == float(np.nanmin(train_target)):
        raise UserError(
            "series.constant",
            "'{column}' in {file} has the same value ({value}) throughout the training period, so there is nothing to "
            "learn or forecast. Choose a series that changes over time.",
            column=target, file=file, value=f"{float(train_target[0]):g}",
        )


def reference_positions(window: int, horizon: int, season: int | None) -> list[int]:
    """Which input step each forecast step starts from (the head adds a learned change to it): the same
    step one season earlier when the window holds it, else the last step (the naive forecast)."""
    if season and season >= 2 and window >= season * -(-horizon // season):
        return [window - season * (j // season + 1) + j for j in range(horizon)]
    return [window - 1] * horizon


def seasonal_reference(series: SeriesData) -> bool:
    return reference_positions(series.window, series.horizon, series.season) != [series.window - 1] * series.horizon


def change_scale(series: SeriesData) -> float:
    """How far the training period's targets are from the head's reference values (std): the forecast
    head's output scale, so the network learns changes of about unit size."""
    values = series.values[: series.val_start, 0].astype(np.float64)
    h, w = series.horizon, series.window
    if len(values) < w + h:
        return 1.0
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(values, w + h)
    reference = windows[:, reference_positions(w, h, series.season)]
    spread = float(np.std(windows[:, w:] - reference))
    return spread if math.isfinite(spread) and spread > 0 else max(float(np.std(values)), 1.0)
