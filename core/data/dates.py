"""Dates and times as people export them: which column holds them, in which format, how often.

A time series' date column may arrive as real dates (pyarrow read them), as text in one of many
styles ("2024-01-31", "31/01/2024", "01/31/2024", "Jan 2024", "2024Q1", "31.01.2024 13:00") or as
Unix seconds. One format must read every cell of the column: a column in several formats is
refused with the row that differs, not guessed cell by cell. Day/month order is decided from the
data (a day above 12, or the order that gives regular steps) and otherwise reported as ambiguous,
so the user can choose.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.data.cell_text import is_missing_marker
from core.errors import UserError

DAY_FIRST, MONTH_FIRST = "day_first", "month_first"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
DATE_NAMES = ("date", "time", "timestamp", "datetime", "day", "month", "year", "quarter", "period", "week", "ds",
              "hour", "epoch", "unix", "fecha", "datum", "data", "日期", "时间", "時間", "年月")
UNIX_SECONDS = (1e8, 4.2e9)  # 1973 .. 2103
UNIX_MILLISECONDS = (1e11, 4.2e12)
FORMAT_SAMPLE = 200  # different values tried against each format before the whole column is read

_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S")
_DAY_MONTH = [f"{d}{s}{m}{s}{y}" for s in "/.-" for y in ("%Y", "%y") for d, m in (("%d", "%m"),)]
_MONTH_DAY = [f"{m}{s}{d}{s}{y}" for s in "/.-" for y in ("%Y", "%y") for d, m in (("%d", "%m"),)]
_OTHER_FORMATS = ["%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%b %Y", "%B %Y", "%b-%Y", "%b-%y", "%b %y", "%Y-%b", "%Y %b",
                  "%Y/%m", "%m/%Y", "%m-%Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y"]
_QUARTER = re.compile(r"\s*(\d{4})\s*[-/ ]?\s*Q([1-4])\s*|\s*Q([1-4])\s*[-/ ]?\s*(\d{4})\s*", re.IGNORECASE)
_ISO_LIKE = re.compile(r"\s*\d{4}-\d{1,2}(-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*",
                       re.IGNORECASE)


@dataclass
class ParsedDates:
    """A date column read as timestamps (datetime64[s], NaT where a cell was empty)."""

    column: str
    values: np.ndarray
    style: str  # how the cells were written, for the page: "2024-01-31", "31/01/2024", "Unix seconds", ...
    format: str = "datetime"  # how to read them again: a strptime format, "ISO8601", "quarter", "unix_s", "unix_ms", "date", "datetime"
    date_order: str | None = None  # day_first / month_first where the style has both; None otherwise
    ambiguous: bool = False  # both orders read every cell and the data did not decide: the user may choose


def _text_values(series: pd.Series) -> pd.Series:
    return series.astype("str").where(series.notna(), None)


def _name_hints_time(name: str) -> bool:
    lowered = str(name).strip().lower()
    return any(hint == lowered or re.search(rf"(^|[\s_\-.]){re.escape(hint)}($|[\s_\-.])", lowered)
               for hint in DATE_NAMES) or any(hint in lowered for hint in DATE_NAMES if not hint.isascii())


def _unix_unit(values: np.ndarray) -> str | None:
    finite = values[np.isfinite(values)]
    if not finite.size or np.any(finite != np.round(finite)):
        return None
    low, high = float(finite.min()), float(finite.max())
    if UNIX_SECONDS[0] <= low and high <= UNIX_SECONDS[1]:
        return "s"
    if UNIX_MILLISECONDS[0] <= low and high <= UNIX_MILLISECONDS[1]:
        return "ms"
    return None


def looks_like_date_column(name: str, series: pd.Series, position: int) -> bool:
    """Whether a column holds the dates: real dates, text in a date style, or Unix seconds when the
    name says time (or, unnamed, the first column counting up in that range)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    present = series.dropna()
    if present.empty:
        return False
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = present.to_numpy(dtype=np.float64)
        if _unix_unit(values) is None:
            return False
        return _name_hints_time(name) or (position == 0 and bool(np.all(np.diff(values) > 0)))
    sample = _text_values(present.iloc[:FORMAT_SAMPLE])
    try:
        _choose_format(sample.drop_duplicates().tolist(), name, None)
        return True
    except UserError:
        return False


def find_date_column(frame: pd.DataFrame) -> str | None:
    """The first column that holds dates (a column named like one first), or None: row order is time."""
    columns = [str(c) for c in frame.columns]
    ordered = sorted(range(len(columns)), key=lambda k: (not _name_hints_time(columns[k]), k))
    return next((columns[k] for k in ordered if looks_like_date_column(columns[k], frame[columns[k]], k)), None)


def _parse_with(values: list[str], fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "quarter":
            return pd.Series([_quarter(v) for v in values], dtype="datetime64[s]")
        if fmt == "ISO8601":
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", errors="coerce", utc=True)
            return parsed.dt.tz_localize(None).astype("datetime64[s]")
        return pd.to_datetime(pd.Series(values, dtype=object), format=fmt, errors="coerce").astype("datetime64[s]")


def _quarter(text: str) -> Any:
    match = _QUARTER.fullmatch(str(text))
    if not match:
        return pd.NaT
    year, quarter = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    return pd.Timestamp(int(year), 3 * int(quarter) - 2, 1)


def _candidates(sample: list[str]) -> list[str]:
    formats = []
    if all(_QUARTER.fullmatch(v) for v in sample):
        return ["quarter"]
    if any(_ISO_LIKE.fullmatch(v) for v in sample):
        formats.append("ISO8601")
    for fmt in _DAY_MONTH + _MONTH_DAY + _OTHER_FORMATS:
        formats += [fmt + t for t in (_TIMES if "%d" in fmt else ("",))]
    return formats


def _reads_all(values: list[str], fmt: str) -> bool:
    return bool(values) and not _parse_with(values, fmt).isna().any()


def _choose_format(sample: list[str], column: str, date_order: str | None) -> list[str]:
    """The formats that read every sampled cell (both orders when the day/month order is open)."""
    sample = [str(v).strip() for v in sample if str(v).strip() and not is_missing_marker(str(v))]
    if not sample:
        raise UserError("series.no_dates", "The column '{column}' has no dates in it.", column=column)
    fitting = [fmt for fmt in _candidates(sample) if _reads_all(sample, fmt)]
    if not fitting:  # the most cells in one format: parse_dates names the first cell in another
        counts = {fmt: int(_parse_with(sample, fmt).notna().sum()) for fmt in _candidates(sample)}
        best = max(counts, key=counts.get, default=None)
        if best is not None and counts[best] >= len(sample) / 2:
            return [best]
        raise UserError(
            "series.unknown_date_format",
            "The dates in '{column}' are written in a way LayerLab does not recognise (for example '{value}'). "
            "Write them like 2024-01-31, 2024-01-31 13:00, 31/01/2024, Jan 2024 or 2024Q1.",
            column=column, value=sample[0][:40],
        )
    if fitting[0] in ("ISO8601", "quarter"):
        return fitting[:1]
    first = fitting[0]
    twin = _twin(first)
    if twin != first and twin in fitting:  # both orders read every cell: the caller decides from the steps
        ordered = [first, twin] if first.index("%d") < first.index("%m") else [twin, first]
        return ordered if date_order != MONTH_FIRST else ordered[::-1]
    return [first]



def _twin(fmt: str) -> str:
    """The same format with day and month swapped."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _regularity(stamps: pd.Series) -> tuple[int, int]:
    """(steps that go backwards, different step sizes): smaller is the more plausible reading."""
    seconds = stamps.dropna().astype("int64").to_numpy()
    steps = np.diff(seconds)
    return int(np.sum(steps < 0)), len(np.unique(steps))


def parse_dates(series: pd.Series, column: str, file: str, date_order: str | None = None,
                fmt: str | None = None) -> ParsedDates:
    """The column as timestamps; every cell in one format (empty cells are NaT and reported later).
    `fmt` (a ParsedDates.format) reads text cells in that format only: recent rows for a forecast."""
    if date_order is not None and date_order not in DATE_ORDERS:
        raise UserError("series.bad_date_order", "The date order must be 'day_first' or 'month_first', not '{value}'.",
                        value=str(date_order)[:20])
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_convert(None) if getattr(series.dt, "tz", None) is not None else series
        return ParsedDates(column, values.to_numpy(dtype="datetime64[s]"), "date and time")
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        unit = _unix_unit(numbers)
        if unit is None:
            raise UserError(
                "series.numbers_not_dates",
                "The column '{column}' holds numbers, not dates. Choose the column with the dates, or write the "
                "dates like 2024-01-31 (Unix seconds also work).",
                column=column,
            )
        stamps = pd.to_datetime(numbers, unit=unit, errors="coerce")
        return ParsedDates(column, stamps.to_numpy(dtype="datetime64[s]"),
                           "Unix seconds" if unit == "s" else "Unix milliseconds", f"unix_{unit}")
    present = series.dropna()
    if series.dtype == object and len(present) and all(hasattr(v, "year") and hasattr(v, "month")
                                                       for v in present.iloc[:FORMAT_SAMPLE]):
        stamps = pd.to_datetime(series, errors="coerce")  # datetime.date objects (pyarrow's date32)
        return ParsedDates(column, stamps.to_numpy(dtype="datetime64[s]"), "2024-01-31", "date")
    text = _text_values(series)
    stripped = text.str.strip()
    unique = stripped.dropna().drop_duplicates()
    known = fmt not in (None, "date", "datetime", "unix_s", "unix_ms")
    formats = [fmt] if known else _choose_format(unique.iloc[:FORMAT_SAMPLE].tolist(), column, date_order)
    readings = {}
    for fmt in formats:
        parsed_unique = _parse_with(unique.tolist(), fmt)
        readings[fmt] = dict(zip(unique.tolist(), parsed_unique.tolist()))
    chosen, ambiguous = formats[0], False
    if len(formats) == 2 and date_order is None:
        scores = {fmt: _regularity(pd.Series(stripped.map(readings[fmt]), dtype="datetime64[s]")) for fmt in formats}
        if scores[formats[0]] != scores[formats[1]]:
            chosen = min(formats, key=lambda f: scores[f])
        else:
            ambiguous = True
    mapping = readings[chosen]
    stamps = pd.Series(stripped.map(mapping), dtype="datetime64[s]")
    bad = stamps.isna() & stripped.notna() & ~stripped.fillna("").map(lambda v: not v or is_missing_marker(v))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = str(stripped.iloc[row])
        other = next((f for f in _candidates([value]) if _reads_all([value], f)), None)
        if other is not None:
            raise UserError(
                "series.mixed_date_formats",
                "The dates in '{column}' of {file} are written in more than one way: row {row} has '{value}', "
                "unlike the rows before it (such as '{example}'). Write every date the same way and load the file again.",
                column=column, file=file, row=row + 2, value=value[:40], example=str(unique.iloc[0])[:40],
            )
        raise UserError(
            "series.bad_date",
            "Row {row} of {file} has '{value}' in the date column '{column}', which is not a date. Correct or "
            "remove that row.",
            row=row + 2, file=file, value=value[:40], column=column,
        )
    order = None
    if _twin(chosen) != chosen:
        order = DAY_FIRST if chosen.index("%d") < chosen.index("%m") else MONTH_FIRST
    return ParsedDates(column, stamps.to_numpy(dtype="datetime64[s]"), _style_of(chosen, unique.iloc[0]),
                       chosen, order, ambiguous)


def _style_of(fmt: str, example: str) -> str:
    if fmt == "quarter":
        return "2024Q1"
    if fmt == "ISO8601":
        return str(example)[:25]
    return pd.Timestamp(2024, 1, 31, 13, 0).strftime(fmt)
