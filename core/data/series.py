"""A dated table read as a time series to forecast: regular steps, filled gaps, windows as views.

The rows are put in date order on a regular grid (the frequency found in the dates); a missing
step becomes a row and every empty value is carried forward from the past only, never from the
future. Rows without a date (empty rows, a spreadsheet's "Total" row) are left out, a row exported
twice is kept once, and the rows at the end that have no value of the target yet are left out (a
forecast starts after the last value). The split is chronological: training, then validation,
then test periods. A window's inputs are the `window` rows before its first forecast step and
its targets the `horizon` values from there; validation and test windows may look back into the
period before them, but their targets lie wholly inside their own period. The six arrays are
strided views of one (rows × series) array (`numpy.lib.stride_tricks.sliding_window_view`), so
memory stays near the size of the series however many windows there are.

Reading is vectorised throughout (no Python call per row): a million rows take about a second.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.cell_text import MISSING_MARKERS
from core.data.dataset import FORECAST, IGNORED, NUMERIC, Dataset, Feature
from core.data.dates import ParsedDates, find_date_column, looks_like_date_column, parse_dates
from core.errors import UserError

SERIES = "series"  # the kind of data
VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.15
MIN_TRAINING_WINDOWS = 20  # below this the automatic window and horizon are shortened
MAX_DUPLICATE_SHARE = 0.01  # more rows sharing a timestamp (with different values) than this: a long-format table, refused
MAX_GRID_GROWTH = 2  # filling gaps may at most double the rows
IRREGULAR_SHARE = 0.1  # rows off the grid by more than a quarter step: the steps are taken as rows
NOT_NUMBERS_SHARE = 0.05  # more cells of a series that are not numbers than this: not a column of numbers
STEP_TOLERANCE = 0.02  # a typical step this close to a round one (599 s: 10 minutes) is that one
# Round steps in seconds a logger or a clock-driven export uses.
_ROUND_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 43200,
                86400, 7 * 86400)

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

# What reading the series tells the page (English templates; core.i18n.CORE_FRAGMENTS translates them).
NOTE_NO_DATES = "There is no date column, so the row order is taken as time: each row is one step."
NOTE_UNDATED = "{n} row(s) without a date in '{column}' were left out (the first: row {row})."
NOTE_SUMMARY = ("{n} row(s) that are not data (such as '{value}' in row {row}: a total, or the header again) were left "
                "out.")
NOTE_EMPTY_ROWS = "{n} empty row(s) were skipped."
NOTE_FOOTER = "{n} row(s) at the end have no numbers and no date (such as '{value}' in row {row}); they were left out."
NOTE_SORTED = "The rows were not in date order; they were sorted by '{column}'."
NOTE_COPIES = "{n} row(s) repeat another row exactly (the same time and values, such as {stamp}); each was kept once."
NOTE_AVERAGED = ("{n} rows share their time with another row but have other values (such as {stamp}); the values of "
                 "each time were averaged.")
NOTE_SAME_STEP = "{n} row(s) fall on the same time step as another (such as {stamp}); the values of each step were averaged."
NOTE_IRREGULAR = "The dates in '{column}' are not evenly spaced, so each row is taken as one step."
NOTE_IRREGULAR_MOSTLY = "The dates in '{column}' are not evenly spaced ({frequency} mostly), so each row is taken as one step."
NOTE_GAPS = ("{n} time step(s) had no row (the longest gap: {gap} steps); their values were carried forward from the "
             "step before.")
NOTE_LEADING = ("The first {n} row(s) were left out: not every series has a value there yet, and values are only ever "
                "filled from the past.")
NOTE_TRAILING = "The last {n} row(s) have no value of '{column}' yet, so they were left out: the forecast starts after the last value."
NOTE_FILLED = "Empty values were carried forward from the step before: {counts}."
NOTE_NOT_NUMBERS = ("'{column}': {n} cell(s) that are not numbers (such as '{value}' in row {row}) were treated as empty "
                    "and filled from the step before.")
NOTE_SHORT = ("The series is short, so the model looks back {window} steps and forecasts {horizon} (the usual {usual_window} "
              "and {usual_horizon} for {frequency} data need more rows).")
NOTE_SHORT_ROWS = ("The series is short, so the model looks back {window} steps and forecasts {horizon} (the usual "
                   "{usual_window} and {usual_horizon} need more rows).")
NOTE_AMBIGUOUS = ("The dates in '{column}' read both as day/month and as month/day; they were read day first. Choose the "
                  "order on the Data page (or --date-order) if that is wrong.")
NOTES = (NOTE_NO_DATES, NOTE_UNDATED, NOTE_SUMMARY, NOTE_EMPTY_ROWS, NOTE_FOOTER, NOTE_SORTED, NOTE_COPIES, NOTE_AVERAGED,
         NOTE_SAME_STEP, NOTE_IRREGULAR, NOTE_IRREGULAR_MOSTLY, NOTE_GAPS, NOTE_LEADING, NOTE_TRAILING, NOTE_FILLED,
         NOTE_NOT_NUMBERS, NOTE_SHORT, NOTE_SHORT_ROWS, NOTE_AMBIGUOUS)
FREQUENCY_NAMES = tuple(f[0] for f in _FREQUENCIES) + ("every {n} days", "every {n} hours", "every {n} minutes",
                                                       "every {n} seconds")


@dataclass(frozen=True)
class Frequency:
    name: str  # one of _FREQUENCIES' names, "every N minutes" (hours, ...), or "rows"
    months: int = 0
    seconds: int = 0
    season: int | None = None
    window: int = _ROW_DEFAULTS[0]
    horizon: int = _ROW_DEFAULTS[1]

    def after(self, last: np.datetime64, steps: int, month_end: bool = False) -> np.ndarray:
        """The `steps` timestamps that follow `last` (datetime64[s]); `month_end`: monthly data
        dated on each month's last day."""
        return grid_stamps(last, steps + 1, self, month_end)[1:]

    def to_json(self) -> dict:
        return {"name": self.name, "months": self.months, "seconds": self.seconds, "season": self.season,
                "window": self.window, "horizon": self.horizon}


BY_ROWS = Frequency(ROWS)


def grid_stamps(start: Any, count: int, frequency: Frequency, month_end: bool = False) -> np.ndarray:
    """`count` timestamps a step apart from `start` (datetime64[s]). Month steps keep the start's day
    of the month (31 January + 1 month: 29 February, as pandas' DateOffset) or, with `month_end`,
    each month's last day; the time of day stays."""
    start = np.datetime64(start, "s")
    k = np.arange(count, dtype=np.int64)
    if not frequency.months:
        return start + k * np.timedelta64(frequency.seconds, "s")
    first_month = start.astype("datetime64[M]")
    months = first_month + k * frequency.months
    first_days = months.astype("datetime64[D]")
    lengths = ((months + 1).astype("datetime64[D]") - first_days).astype(np.int64)
    start_day = int((start.astype("datetime64[D]") - first_month.astype("datetime64[D]")).astype(np.int64))
    days = lengths - 1 if month_end else np.minimum(start_day, lengths - 1)
    time_of_day = start - start.astype("datetime64[D]").astype("datetime64[s]")
    return (first_days + days).astype("datetime64[s]") + time_of_day


def _month_ends(stamps: np.ndarray) -> bool:
    """Whether every date is the last day of its month (and not all the 1st: a one-day month has none)."""
    days = stamps.astype("datetime64[D]")
    return bool(len(days)) and bool(np.all((days + 1).astype("datetime64[M]") != days.astype("datetime64[M]")))


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
        month_end = bool(self.frequency.months) and _month_ends(self.timestamps[-24:])
        return [_stamp_text(s, self.frequency) for s in self.frequency.after(self.timestamps[-1], self.horizon, month_end)]

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


@dataclass
class _Read:
    """A table read as a series: the values on their grid, and what was found and done."""

    table: pd.DataFrame  # one column per series; a DatetimeIndex of the grid, or a RangeIndex: row order
    frequency: Frequency
    parsed: ParsedDates | None
    report: dict[str, Any]
    notes: list[str]


def prepare_series(raw: Any, settings: SeriesSettings | None = None) -> Dataset:
    """A dated table (core.data.csv_reader.RawTable) as a forecasting Dataset."""
    settings = settings or SeriesSettings()
    frame, file = raw.frame, raw.name
    columns = [str(c) for c in frame.columns]
    date_column = _date_column(frame, settings, file)
    candidates = [c for c in columns if c != date_column]
    target = _target(frame, candidates, settings.target, file, date_column)
    inputs = _inputs(candidates, target, settings.inputs, file)
    read = read_series(frame, [target, *inputs], date_column, file, settings.date_order)
    table, frequency, parsed, report, notes = read.table, read.frequency, read.parsed, read.report, read.notes
    window, horizon = _framing(len(table), frequency, settings, file, notes)
    bounds = periods(len(table), window, horizon)
    assert bounds is not None  # _framing checked the length
    val_start, test_start = bounds
    values = np.ascontiguousarray(table.to_numpy(dtype=np.float32))
    timestamps = table.index.to_numpy(dtype="datetime64[s]") if isinstance(table.index, pd.DatetimeIndex) else None
    del table, read  # the values are copied: the table's memory goes before the windows are made
    _check_varies(values[:val_start, 0], target, file)
    series = SeriesData(
        target=target, inputs=inputs, window=window, horizon=horizon, frequency=frequency, values=values,
        timestamps=timestamps, val_start=val_start, test_start=test_start, date_column=date_column,
        date_style=parsed.style if parsed else None, date_format=parsed.format if parsed else None,
        date_order=parsed.date_order if parsed else None, date_ambiguous=bool(parsed and parsed.ambiguous), report=report,
    )
    if series.date_ambiguous and settings.date_order is None:
        notes.append(NOTE_AMBIGUOUS.format(column=date_column))
    used = set(series.columns) | {date_column}
    features = [Feature(name, NUMERIC, "a series the model reads") for name in inputs] + [
        Feature(name, IGNORED, "not used") for name in columns if name not in used]
    return series_dataset(raw.name, series, features=features, warnings=notes, frame=frame)


def series_dataset(name: str, series: SeriesData, **extra: Any) -> Dataset:
    """The Dataset whose arrays are the windows of `series` (views of its values)."""
    arrays = split_windows(series.values, series.window, series.horizon, series.val_start, series.test_start)
    return Dataset(name=name, kind=SERIES, task=FORECAST, target=series.target, series=series, **arrays, **extra)


def read_series(frame: pd.DataFrame, names: list[str], date_column: str | None, file: str,
                date_order: str | None = None, date_format: str | None = None, known: Frequency | None = None) -> _Read:
    """The columns `names` (target first) as a series: dated rows on the grid of their frequency (or
    `known`, the training data's), gaps and empty values carried forward from the past, the rows at
    the start before every series has a value and at the end after the target's last value left out."""
    report: dict[str, Any] = {"rows_read": int(len(frame))}
    notes: list[str] = []
    for name in names:
        if frame[name].isna().all():
            raise UserError("series.empty_column", "The column '{column}' of {file} has no numbers in it.", column=name,
                            file=file)
    used = [date_column, *names] if date_column is not None else list(names)
    empty = frame[used].isna().to_numpy().all(axis=1)
    report["empty_rows"] = int(empty.sum())
    if report["empty_rows"] and empty[: len(empty) - _trailing(empty)].any():  # empty rows at the end are no news
        notes.append(NOTE_EMPTY_ROWS.format(n=report["empty_rows"]))
    keep = ~empty
    parsed = None
    if date_column is not None:
        valueless = frame[list(names)].isna().to_numpy().all(axis=1)
        footer = np.zeros(len(frame), dtype=bool)
        footer[len(frame) - _trailing(valueless):] = True  # the rows at the end without numbers: notes, or dates to come
        parsed = parse_dates(frame[date_column], date_column, file, date_order, date_format, footer)
        notes += parsed.notes
        summary = np.zeros(len(frame), dtype=bool)
        summary[parsed.summary_rows] = True
        summary &= keep
        report["summary_rows"] = int(summary.sum())
        if summary.any():
            row = int(np.flatnonzero(summary)[0])
            notes.append(NOTE_SUMMARY.format(n=int(summary.sum()), value=str(frame[date_column].iloc[row]).strip()[:40],
                                             row=row + 2))
        notes_below = np.zeros(len(frame), dtype=bool)
        notes_below[parsed.footer_rows] = True
        report["footer_rows"] = int(notes_below.sum())
        if notes_below.any():
            row = int(np.flatnonzero(notes_below)[0])
            notes.append(NOTE_FOOTER.format(n=int(notes_below.sum()), value=str(frame[date_column].iloc[row]).strip()[:40],
                                            row=row + 2))
        summary |= notes_below
        undated = np.isnat(parsed.values) & keep & ~summary
        report["undated_rows"] = int(undated.sum())
        if undated.any():
            notes.append(NOTE_UNDATED.format(n=int(undated.sum()), column=date_column, row=int(np.flatnonzero(undated)[0]) + 2))
        keep &= ~np.isnat(parsed.values)
        if not keep.any():
            raise UserError("series.no_dates", "The column '{column}' has no dates in it.", column=date_column)
    kept = None if keep.all() else np.flatnonzero(keep)
    values = np.empty((len(names), len(frame) if kept is None else len(kept)), dtype=np.float32)  # one row per series
    for j, name in enumerate(names):
        column = _numbers(frame[name], name, file, notes, keep)
        values[j] = column if kept is None else column[kept]
    table = pd.DataFrame(values.T, columns=names, copy=False)  # float32 throughout: the size of the series, not twice it
    if date_column is None:
        notes.append(NOTE_NO_DATES)
        frequency = BY_ROWS
    else:
        stamps = parsed.values if kept is None else parsed.values[kept]
        try:
            table, frequency = _on_grid(table, stamps, parsed, file, report, notes, known)
        except UserError as err:
            partner = _date_partner(frame, parsed, stamps, [date_column, *names]) if err.code == "series.duplicate_timestamps" else None
            if partner is None:
                raise
            raise UserError(
                "series.split_date",
                "'{column}' and '{other}' of {file} hold the time in two parts, so many rows share the same '{column}'. "
                "LayerLab reads the time from one column: join the two into one (like {example}) in your spreadsheet and "
                "load the file again.",
                column=date_column, other=partner, file=file,
                example="2024-01" if parsed.format == "year" else "2024-01-31 13:00",
            ) from None
    table = _trimmed_and_filled(table, names[0], report, notes, file)
    return _Read(table, frequency, parsed, report, notes)


_MONTH_NAMES = ("month", "monat", "mes", "mois", "mese", "maand", "quarter", "quartal", "week", "woche", "period", "月", "季度")
_TIME_NAMES = ("time", "hour", "uhrzeit", "zeit", "heure", "hora", "ora", "tijd", "时间", "時間", "時刻", "小时")


def _date_partner(frame: pd.DataFrame, parsed: ParsedDates, stamps: np.ndarray, used: list[str]) -> str | None:
    """The column that holds the rest of the time when the date column has only a part of it:
    the month next to a year column, the time of day next to a date column."""
    if parsed.format == "year":
        wanted = _MONTH_NAMES
    elif len(stamps) and np.all(stamps.astype("datetime64[D]") == stamps):  # dates without times
        wanted = _TIME_NAMES
    else:
        return None
    for name in frame.columns:
        lowered = str(name).strip().lower()
        if str(name) not in used and any(w in lowered for w in wanted):
            return str(name)
    return None


def _trailing(flags: np.ndarray) -> int:
    """How many of the last entries are True."""
    false = np.flatnonzero(~flags)
    return len(flags) - 1 - int(false[-1]) if len(false) else len(flags)


def _date_column(frame: pd.DataFrame, settings: SeriesSettings, file: str) -> str | None:
    if settings.date_column == "":
        return None
    if settings.date_column is not None:
        if settings.date_column not in frame.columns:
            raise UserError("series.unknown_date_column", "{file} has no column named '{column}'. Its columns are: {columns}.",
                            file=file, column=settings.date_column, columns=_listed(frame.columns))
        column = frame[settings.date_column]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
            parse_dates(column, settings.date_column, file)  # numbers that are not dates are refused before the target is looked for
        return settings.date_column
    if settings.target is not None and settings.target in frame.columns and looks_like_date_column(
            settings.target, frame[settings.target], list(frame.columns).index(settings.target)):
        raise UserError(
            "series.target_is_dates",
            "'{column}' is the date column of {file}, so it cannot be forecast. Choose a column of numbers to "
            "forecast (the columns are: {columns}).",
            column=settings.target, file=file, columns=_listed(frame.columns),
        )
    others = [c for c in frame.columns if str(c) != settings.target]
    return find_date_column(frame[others]) if others else None


def _listed(columns: Any) -> str:
    names = [str(c) for c in columns]
    return ", ".join(names[:30]) + (" …" if len(names) > 30 else "")


def _mostly_numbers(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    present = series.iloc[:1000].dropna().astype("str").str.strip()
    present = present[present != ""]
    return bool(len(present)) and pd.to_numeric(present, errors="coerce").notna().mean() >= 0.9


def _target(frame: pd.DataFrame, candidates: list[str], chosen: str | None, file: str, date_column: str | None) -> str:
    if chosen is not None:
        if chosen not in frame.columns:
            raise UserError("table.unknown_target", "{file} has no column named '{column}'. Its columns are: {columns}.",
                            file=file, column=chosen, columns=_listed(frame.columns))
        if chosen == date_column:
            raise UserError(
                "series.target_is_dates",
                "'{column}' is the date column of {file}, so it cannot be forecast. Choose a column of numbers to "
                "forecast (the columns are: {columns}).",
                column=chosen, file=file, columns=_listed(frame.columns),
            )
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


def _numbers(series: pd.Series, name: str, file: str, notes: list[str], keep: np.ndarray) -> np.ndarray:
    """The column as float64 (NaN: empty); a column that is not numbers is refused with a row. Only the
    rows in `keep` count (a "Total" row's label is no reason to refuse a column)."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise UserError("series.not_numbers", "The column '{column}' of {file} holds {what}, not numbers, so it cannot be "
                        "forecast or used as a series. Choose a column of numbers.", column=name, file=file,
                        what="yes/no values" if pd.api.types.is_bool_dtype(series.dtype) else "dates or times")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    text = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False) if _decimal_commas(text) else text, errors="coerce")
    empty = (text == "") | text.str.lower().isin(MISSING_MARKERS)
    bad = (numbers.isna() & ~empty).to_numpy() & keep
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        if bad.sum() > NOT_NUMBERS_SHARE * max(int(keep.sum()), 1):
            raise UserError(
                "series.not_numbers_at",
                "The column '{column}' of {file} is not a column of numbers: row {row} has '{value}'. Choose a column of "
                "numbers to forecast, or correct the file.",
                column=name, file=file, row=row + 2, value=str(text.iloc[row])[:40],
            )
        notes.append(NOTE_NOT_NUMBERS.format(column=name, n=int(bad.sum()), value=str(text.iloc[row])[:40], row=row + 2))
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _decimal_commas(text: pd.Series) -> bool:
    sample = text[text != ""].iloc[:200]
    return bool(len(sample)) and sample.str.fullmatch(r"-?\d+,\d+").mean() > 0.5


def _on_grid(table: pd.DataFrame, stamps: np.ndarray, parsed: ParsedDates, file: str, report: dict, notes: list[str],
             known: Frequency | None = None) -> tuple[pd.DataFrame, Frequency]:
    """Rows in date order, one per step of the frequency found (or `known`: the training data's),
    missing steps as empty rows."""
    column = parsed.column
    table.index = pd.DatetimeIndex(stamps, name=column)
    report["sorted"] = not table.index.is_monotonic_increasing
    if report["sorted"]:
        table = table.sort_index(kind="stable")
        notes.append(NOTE_SORTED.format(column=column))
    table = _without_duplicates(table, file, report, notes)
    frequency = known if known is not None else _frequency(table.index)
    report.update(irregular=False, missing_steps=0, largest_gap=0)
    if frequency.name == ROWS:
        if len(table) >= 3:
            notes.append(NOTE_IRREGULAR.format(column=column))
            report["irregular"] = True
        return table.reset_index(drop=True), BY_ROWS
    anchor = _anchor(table.index[0], frequency)
    positions = _grid_positions(table.index, frequency, anchor)
    if positions is not None:
        collisions = pd.Index(positions).duplicated()
        if collisions.any():
            stamp = _stamp_text(table.index[np.flatnonzero(collisions)[0]], frequency)
            notes.append(NOTE_SAME_STEP.format(n=int(collisions.sum()), stamp=stamp))
            table = table.groupby(positions).mean()
            positions = np.asarray(table.index, dtype=np.int64)
        size = int(positions[-1]) + 1
        if size > MAX_GRID_GROWTH * len(table) + 10:
            _refuse_far_date(positions, table.index if isinstance(table.index, pd.DatetimeIndex) else None, parsed,
                             stamps, frequency, file)
            positions = None
    if positions is None:
        named = frequency.months or frequency.seconds in _ROUND_STEPS
        notes.append(NOTE_IRREGULAR_MOSTLY.format(column=column, frequency=frequency.name) if named else
                     NOTE_IRREGULAR.format(column=column))
        report["irregular"] = True
        return table.reset_index(drop=True), BY_ROWS
    missing_steps = size - len(positions)
    report["missing_steps"] = int(missing_steps)
    month_end = bool(frequency.months) and _month_ends(stamps)
    index = pd.DatetimeIndex(grid_stamps(anchor, size, frequency, month_end), name=column)
    if not missing_steps:  # every step has its row: the values stay where they are
        table.index = index
        return table, frequency
    report["largest_gap"] = int(np.diff(positions).max() - 1)
    notes.append(NOTE_GAPS.format(n=int(missing_steps), gap=report["largest_gap"]))
    grid = np.full((table.shape[1], size), np.nan, dtype=np.float32)
    grid[:, positions] = table.to_numpy(dtype=np.float32).T
    return pd.DataFrame(grid.T, columns=table.columns, index=index, copy=False), frequency


def _without_duplicates(table: pd.DataFrame, file: str, report: dict, notes: list[str]) -> pd.DataFrame:
    """Rows exported twice kept once; rows sharing a time with other values averaged (a few, as a
    change back from summer time repeats an hour) or, many, refused: several series in one column."""
    shared = table.index.duplicated(keep=False)
    report["duplicate_timestamps"] = int(shared.sum())
    report["exact_copies"] = 0
    if not shared.any():
        return table
    copies = table.reset_index().duplicated(keep="first").to_numpy()
    if copies.any():
        report["exact_copies"] = int(copies.sum())
        notes.append(NOTE_COPIES.format(n=int(copies.sum()), stamp=_when(table.index[np.flatnonzero(copies)[0]])))
        table = table[~copies]
    conflicting = table.index.duplicated(keep=False)
    if conflicting.any():
        n = int(conflicting.sum())
        first = table.index[np.flatnonzero(conflicting)[0]]
        if n > max(2, MAX_DUPLICATE_SHARE * len(table)):
            raise UserError(
                "series.duplicate_timestamps",
                "{n} rows of {file} share their timestamp with another row (for example {stamp}). A series needs one row "
                "per timestamp; this file looks like several series in one column (one row per item and date). Keep one "
                "item's rows, or sum them per date in your spreadsheet, and load the file again.",
                n=f"{n:,}", file=file, stamp=_when(first),
            )
        table = table.groupby(level=0, sort=True).mean()
        notes.append(NOTE_AVERAGED.format(n=n, stamp=_when(first)))
    return table


def _when(stamp: Any) -> str:
    """A timestamp as people write it: the date alone at midnight."""
    ts = pd.Timestamp(stamp)
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M" if ts.second == 0 else "%Y-%m-%d %H:%M:%S")


def _refuse_far_date(positions: np.ndarray, index: pd.DatetimeIndex | None, parsed: ParsedDates, stamps: np.ndarray,
                     frequency: Frequency, file: str) -> None:
    """One gap longer than the rest of the series is a mistyped date (2204 for 2024) or two series
    in one file: said with the rows on both sides. Many gaps: the caller takes rows as steps."""
    gaps = np.diff(positions)
    k = int(np.argmax(gaps))
    if gaps[k] - 1 <= positions[-1] / 2 or index is None:
        return
    before, after = index[k], index[k + 1]
    lone = after if k + 1 >= len(positions) - 1 - k else before  # the side with fewer rows holds the odd date
    row = int(np.flatnonzero(parsed.values == np.datetime64(lone, "s"))[0])
    raise UserError(
        "series.far_date",
        "The dates in '{column}' of {file} jump from {before} to {after}: {gap} steps ({frequency}) with no row, more "
        "than the rest of the series. If row {row} ('{value}') is mistyped, correct it; if the file holds two periods, "
        "keep one.",
        column=parsed.column, file=file, before=_stamp_text(before, frequency), after=_stamp_text(after, frequency),
        gap=f"{int(gaps[k]) - 1:,}", frequency=frequency.name, row=row + 2, value=_stamp_text(lone, frequency),
    )


def _frequency(index: pd.DatetimeIndex) -> Frequency:
    """The step most rows are apart: a named frequency, a round number of seconds (a logger's 599 s
    or 601 s count as 10 minutes), a whole number of seconds, or rows."""
    if len(index) < 3:
        return BY_ROWS
    seconds = np.diff(index.to_numpy(dtype="datetime64[s]").astype(np.int64))
    step = float(np.median(seconds))
    months = np.diff(index.year.to_numpy() * 12 + index.month.to_numpy())
    month_step = int(np.median(months))
    round_step = next((s for s in _ROUND_STEPS if abs(step - s) <= STEP_TOLERANCE * s), None)
    for name, n_months, n_seconds, season, window, horizon in _FREQUENCIES:
        if n_months and month_step == n_months and abs(step - n_months * 30.44 * 86400) < n_months * 4 * 86400:
            return Frequency(name, n_months, 0, season, window, horizon)
        if n_seconds and round_step == n_seconds:
            return Frequency(name, 0, n_seconds, season, window, horizon)
    if round_step is None and (step <= 0 or step != int(step)):
        return BY_ROWS
    seconds_per_step = round_step or int(step)
    season = 86400 // seconds_per_step if seconds_per_step < 86400 and 86400 % seconds_per_step == 0 else None
    window = season if season is not None and _ROW_DEFAULTS[0] <= season <= 288 else _ROW_DEFAULTS[0]
    return Frequency(f"every {_duration(seconds_per_step)}", 0, seconds_per_step, season, window, _ROW_DEFAULTS[1])


def _duration(seconds: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"


def _anchor(first: pd.Timestamp, frequency: Frequency) -> np.datetime64:
    """Where the grid starts: the first row's time, on the nearest round step for steps within a
    day (a logger's 10:00:17 starts the 10-minute grid at 10:00:00)."""
    start = np.datetime64(first, "s")
    step = frequency.seconds
    if frequency.months or not step or step >= 86400 or 86400 % step:
        return start
    seconds = int(start.astype(np.int64))
    return np.datetime64((seconds + step // 2) // step * step, "s")


def _grid_positions(index: pd.DatetimeIndex, frequency: Frequency, anchor: np.datetime64) -> np.ndarray | None:
    """Each row's step number from the anchor, or None when too many rows fall between steps."""
    if frequency.months:
        start = pd.Timestamp(anchor)
        months = (index.year.to_numpy() * 12 + index.month.to_numpy()) - (start.year * 12 + start.month)
        steps = months / frequency.months
        exact = np.round(steps)
        if np.mean(steps != exact) > IRREGULAR_SHARE:
            return None
        return exact.astype(np.int64)
    offsets = (index.to_numpy(dtype="datetime64[s]").astype(np.int64) - int(anchor.astype(np.int64))) / frequency.seconds
    exact = np.round(offsets)
    if np.mean(np.abs(offsets - exact) > 0.25) > IRREGULAR_SHARE:
        return None
    return exact.astype(np.int64)


def _trimmed_and_filled(table: pd.DataFrame, target: str, report: dict, notes: list[str], file: str) -> pd.DataFrame:
    """Rows after the target's last value left out (nothing is invented at the end), rows before
    every series has a value left out, and the empty values between carried forward from the past."""
    present = table.notna().to_numpy()
    report["missing_values"] = {str(c): int(n) for c, n in zip(table.columns, (~present).sum(axis=0))}
    for k, name in enumerate(table.columns):
        if not present[:, k].any():
            raise UserError("series.empty_column", "The column '{column}' of {file} has no numbers in it.",
                            column=str(name), file=file)
    last = int(np.flatnonzero(present[:, 0])[-1])
    trailing = len(table) - 1 - last
    report["trailing_rows_dropped"] = trailing
    if trailing:
        notes.append(NOTE_TRAILING.format(n=trailing, column=target))
    first = max(int(np.argmax(present[:, k])) for k in range(present.shape[1]))
    report["leading_rows_dropped"] = first
    if first:
        notes.append(NOTE_LEADING.format(n=first))
    if first or trailing:
        table = table.iloc[first : last + 1]
    gaps = ~present[first : last + 1]
    filled = {str(c): int(n) for c, n in zip(table.columns, gaps.sum(axis=0)) if n}
    report["filled_values"] = filled
    if filled:
        notes.append(NOTE_FILLED.format(counts=", ".join(f"'{c}' {n}" for c, n in filled.items())))
        values = table.to_numpy(dtype=np.float32).T.copy()  # (series, rows): each series' rows contiguous
        for row in values:
            _carry_forward(row)
        table = pd.DataFrame(values.T, columns=table.columns, index=table.index, copy=False)
    return table


def _carry_forward(values: np.ndarray) -> None:
    """Each NaN replaced by the last value before it (in place); leading NaNs stay."""
    empty = np.isnan(values)
    if not empty.any():
        return
    last = np.where(~empty, np.arange(len(values)), 0)
    np.maximum.accumulate(last, out=last)
    values[:] = values[last]


def _framing(n: int, frequency: Frequency, settings: SeriesSettings, file: str, notes: list[str]) -> tuple[int, int]:
    """Window and horizon: the user's, or the frequency's defaults shortened to fit the data."""
    for name, value in (("look-back window", settings.window), ("horizon (steps ahead)", settings.horizon)):
        if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1):
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
            template = NOTE_SHORT_ROWS if frequency.name == ROWS else NOTE_SHORT
            notes.append(template.format(window=window, horizon=horizon, usual_window=frequency.window,
                                         usual_horizon=frequency.horizon, frequency=frequency.name))
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


# ---------------------------------------------------------------- recent rows (a forecast from new data)


def recent_window(frame: pd.DataFrame, contract: Any, frequency: Frequency, source: str) -> tuple[np.ndarray, list[str], list[str]]:
    """The last `window` steps of recent rows (core.data.kinds.series.SeriesContract), read as the
    training data was: (x (window, series) float32, the next `horizon` timestamps, notes)."""
    columns = [str(c) for c in frame.columns]
    needed = ([contract.date_column] if contract.date_column else []) + list(contract.columns)
    missing = [c for c in needed if c not in columns]
    if missing:
        raise UserError(
            "predict.series_columns",
            "{source} has no column {missing}. A forecast needs the columns the model was trained with: {needed} "
            "(at least {window} recent rows).",
            source=source, missing=", ".join(f"'{c}'" for c in missing), needed=", ".join(f"'{c}'" for c in needed),
            window=contract.window,
        )
    dated = bool(contract.date_column)
    read = read_series(frame, list(contract.columns), contract.date_column if dated else None, source,
                       date_format=contract.date_format if dated else None,
                       known=frequency if dated and frequency.name != ROWS else None)
    if len(read.table) < contract.window:
        raise UserError(
            "predict.series_too_few_rows",
            "{source} has {n} time steps, but the model reads the last {window}. Give at least {window} recent rows "
            "(dates in order, no long gaps).",
            source=source, n=len(read.table), window=contract.window,
        )
    x = np.ascontiguousarray(read.table.to_numpy(dtype=np.float32)[-contract.window:])
    if isinstance(read.table.index, pd.DatetimeIndex):
        stamps = read.table.index.to_numpy(dtype="datetime64[s]")
        month_end = bool(read.frequency.months) and _month_ends(stamps[-24:])
        ahead = [_stamp_text(s, read.frequency) for s in read.frequency.after(stamps[-1], contract.horizon, month_end)]
    else:
        ahead = [f"step +{k}" for k in range(1, contract.horizon + 1)]
    return x, ahead, read.notes


def reference_positions(window: int, horizon: int, season: int | None) -> list[int]:
    """Which input step each forecast step starts from (the head adds a learned change to it): the same
    step one season earlier when the window holds it, else the last step (the naive forecast)."""
    if season and season >= 2 and window >= season * -(-horizon // season):
        return [window - season * (j // season + 1) + j for j in range(horizon)]
    return [window - 1] * horizon


def head_reference(series: SeriesData) -> list[int]:
    """The input steps the forecast head of this series starts from: one season earlier when the window
    covers a season and, on the training period, the value a season earlier forecasts better than the
    last value (a seasonally adjusted series does not; bench/series.py: quarterly GDP 1.26 → 0.94 of the
    naive MAE); else the last value."""
    return reference_positions(series.window, series.horizon, series.season if _seasonal_helps(series) else None)


def _seasonal_helps(series: SeriesData) -> bool:
    from core.forecast import naive_forecasts, seasonal_naive_forecasts

    values = series.values[: series.val_start, 0].astype(np.float64)
    origins = np.arange(max(series.window, series.season or 0), len(values) - series.horizon + 1)
    seasonal = seasonal_naive_forecasts(values, origins, series.horizon, series.season)
    if seasonal is None:
        return False
    actual = np.stack([values[origins + j] for j in range(series.horizon)], axis=1)
    naive = naive_forecasts(values, origins, series.horizon)
    return float(np.mean(np.abs(seasonal - actual))) < float(np.mean(np.abs(naive - actual)))


def seasonal_reference(series: SeriesData) -> bool:
    return head_reference(series) != [series.window - 1] * series.horizon


def change_scale(series: SeriesData) -> float:
    """How far the training period's targets are from the head's reference values (std): the forecast
    head's output scale, so the network learns changes of about unit size."""
    values = series.values[: series.val_start, 0].astype(np.float64)
    h, w = series.horizon, series.window
    if len(values) < w + h:
        return 1.0
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(values, w + h)
    reference = windows[:, head_reference(series)]
    spread = float(np.std(windows[:, w:] - reference))
    return spread if math.isfinite(spread) and spread > 0 else max(float(np.std(values)), 1.0)
