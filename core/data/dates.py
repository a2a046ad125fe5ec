"""Dates and times as people export them: which column holds them, in which format, how often.

A time series' date column may arrive as real dates (pyarrow read them), as text in one of many
styles ("2024-01-31", "31/01/2024", "01/31/2024", "Jan 2024", "Jan-24", "2024Q1",
"31.01.2024 13:00", "1/31/2024 1:00 PM", ISO 8601 with a time-zone offset) or as numbers: Unix
seconds or milliseconds, whole-number dates (19580329, 202401), years (1700, or "1700.0") and
Excel day numbers (45322). One format must read every cell of the column: a column in several
formats is refused with the row that differs, not guessed cell by cell. Rows whose date cell says
"Total" (a spreadsheet's sum row) are left out, and so are empty cells. Day/month order is decided
from the data (a day above 12, or the order that gives regular steps); when both orders read
every date equally well, day first is taken and the column is flagged ambiguous so the user can
choose (`date_order`, which then must read every date).

Every step is vectorised: each different text is parsed once (pandas' C parsers), and the rows
take their value from it by code, so a million rows read in about a second.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.cell_text import MISSING_MARKERS
from core.errors import UserError

DAY_FIRST, MONTH_FIRST = "day_first", "month_first"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
DATE_NAMES = ("date", "time", "timestamp", "datetime", "day", "month", "year", "quarter", "period", "week", "ds",
              "hour", "epoch", "unix", "yr", "fecha", "año", "ano", "mes", "datum", "zeit", "jahr", "monat", "tag",
              "data", "anno", "mese", "annee", "année", "mois", "jour", "heure", "日期", "时间", "時間", "年月", "年", "月")
UNIX_SECONDS = (1e8, 4.2e9)  # 1973 .. 2103
UNIX_MILLISECONDS = (1e11, 4.2e12)
YEARS = (1000, 2999)
YEAR_MONTHS = (100001, 299912)  # 202401
YEAR_MONTH_DAYS = (10000101, 29991231)  # 20240131
EXCEL_DAYS = (20000, 80000)  # Excel's day numbers, 1954 .. 2119 (day 1: 1900-01-01)
EXCEL_EPOCH = np.datetime64("1899-12-30", "s")
FORMAT_SAMPLE = 200  # different values tried against each format before the whole column is read
NUMERIC_FORMATS = ("unix_s", "unix_ms", "yyyymmdd", "yyyymm", "year", "excel")

_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p", " %I:%M:%S%p")
_DAY_MONTH = [f"%d{s}%m{s}{y}" for s in "/.-" for y in ("%Y", "%y")]
_MONTH_DAY = [f"%m{s}%d{s}{y}" for s in "/.-" for y in ("%Y", "%y")]
_OTHER_FORMATS = ["%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%b %Y", "%B %Y", "%b-%Y", "%b-%y", "%b %y", "%Y-%b", "%Y %b",
                  "%Y/%m", "%Y.%m", "%m/%Y", "%m-%Y", "%m.%Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%d %B %Y",
                  "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%b-%d-%Y", "%A, %B %d, %Y", "%a %d %b %Y", "%d. %b %Y",
                  "%d. %B %Y"]
# Month names in the languages spreadsheets export in (German, French, Spanish, Italian, Dutch,
# Portuguese), as English abbreviations: "Mär 24", "janv. 2024", "31. Oktober 2024" read like "Mar 24".
_MONTH_WORDS = {
    "Jan": "januar jän jänner janv janvier ene enero gen gennaio januari janeiro",
    "Feb": "februar févr fevr février fevrier febrero febbraio februari fev fevereiro",
    "Mar": "mär mrz märz mars marzo mrt maart março marco",
    "Apr": "avr avril abr abril aprile",
    "May": "mai mayo mag maggio mei maio",
    "Jun": "juni juin junio giu giugno junho",
    "Jul": "juli juil juillet julio lug luglio julho",
    "Aug": "août aout ago agosto augustus",
    "Sep": "sept septembre septiembre set setiembre settembre setembro",
    "Oct": "okt oktober octobre octubre ott ottobre out outubro",
    "Nov": "novembre noviembre novembro",
    "Dec": "dez dezember déc décembre decembre dic diciembre dicembre dezembro",
}
_ENGLISH_MONTH = {word: english for english, words in _MONTH_WORDS.items() for word in words.split()}
_ENGLISH_MONTH.update({m[:3].lower(): m[:3] for m in _MONTH_WORDS} | {"sept": "Sep"})  # "Oct." and "Sept." as "Oct"
_FULL_MONTHS = {m[:3]: m for m in ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                                   "October", "November", "December")}
_SHORT_MONTH = {**_ENGLISH_MONTH, **{full.lower(): short for short, full in _FULL_MONTHS.items()}}
_MONTH_WORD = re.compile(r"[^\W\d_]+\.?")
_QUARTER = re.compile(r"\s*(?:(\d{4})\s*[-/ ]?\s*Q([1-4])|Q([1-4])\s*[-/ ]?\s*(\d{4}))\s*", re.IGNORECASE)
_ISO_LIKE = re.compile(r"\s*\d{4}-\d{1,2}(-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?)?\s*",
                       re.IGNORECASE)
_MARKERS = pa.array(sorted(MISSING_MARKERS), type=pa.large_string())
# A time-zone offset after a time ("13:00+01:00", "13:00:00Z"), and the time it follows.
_ZONE = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)\s*$", re.IGNORECASE)
_ZONE_AFTER_TIME = re.compile(r"(\d:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*(?:Z|[+-]\d\d(?::?\d\d)?)\s*$", re.IGNORECASE)
# A spreadsheet's summary rows: the date cell says what the row adds up ("Total", "Summe", "合计").
_SUMMARY = re.compile(r"(?:^|\W)(?:total|totals|grand total|subtotal|sum|summe|gesamt|insgesamt|zwischensumme|totale|"
                      r"somme|suma|soma|average|mean|avg|durchschnitt|mittelwert|moyenne|promedio|media)(?:$|\W)"
                      r"|合计|合計|总计|總計|小计|小計|平均", re.IGNORECASE)
# What parse_dates tells the page (English templates; core.i18n.CORE_FRAGMENTS translates them).
NOTE_LOCAL_DATES = "The dates in '{column}' carry time-zone offsets; they were read as the local dates."
NOTE_UTC = ("The times in '{column}' carry time-zone offsets; they were converted to UTC, so a change to or from summer "
            "time leaves no gap and no repeated hour.")
NOTES = (NOTE_LOCAL_DATES, NOTE_UTC)


@dataclass
class ParsedDates:
    """A date column read as timestamps (datetime64[s], NaT where a row has no date)."""

    column: str
    values: np.ndarray
    style: str  # how the cells were written, for the page: "2024-01-31", "31/01/2024", "Unix seconds", ...
    format: str = "datetime"  # how to read them again: a strptime format, "ISO8601", "quarter", one of NUMERIC_FORMATS, "date", "datetime"
    date_order: str | None = None  # day_first / month_first where the style has both; None otherwise
    ambiguous: bool = False  # both orders read every cell and the data did not decide: the user may choose
    summary_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # rows (0-based) saying "Total" ...
    footer_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # rows at the end with a note, not a date
    notes: list[str] = field(default_factory=list)  # what was decided about the dates, for the page


# ---------------------------------------------------------------- which column


def name_hints_time(name: str) -> bool:
    lowered = str(name).strip().lower()
    return any(hint == lowered or re.search(rf"(^|[\s_\-.()/]){re.escape(hint)}($|[\s_\-.()/])", lowered)
               for hint in DATE_NAMES) or any(hint in lowered for hint in DATE_NAMES if not hint.isascii())


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


_YEAR_NAMES = ("year", "yr", "jahr", "año", "ano", "anno", "annee", "année", "年")
_DAY_NAMES = ("date", "datum", "fecha", "data", "day", "period", "month", "monat", "mes", "mois", "日期", "年月", "月")


def _named(name: str, hints: tuple[str, ...]) -> bool:
    lowered = str(name).strip().lower()
    return any(re.search(rf"(^|[^a-z]){re.escape(h)}($|[^a-z])", lowered) if h.isascii() else h in lowered for h in hints)


def numeric_date_format(values: np.ndarray, name: str = "") -> str | None:
    """Which kind of date these numbers are (one of NUMERIC_FORMATS), or None. Unix times and
    whole-number dates (20240131, checked cell by cell) need no hint; years need a column named like
    a year, 202401 and Excel day numbers one named like a date ("time" may count seconds from a start)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    low, high, whole = float(finite.min()), float(finite.max()), _whole(finite)
    if UNIX_SECONDS[0] <= low and high <= UNIX_SECONDS[1] and (whole or name_hints_time(name)):
        return "unix_s"
    if UNIX_MILLISECONDS[0] <= low and high <= UNIX_MILLISECONDS[1] and whole:
        return "unix_ms"
    if YEAR_MONTH_DAYS[0] <= low and high <= YEAR_MONTH_DAYS[1] and whole and not _numeric_stamps(finite, "yyyymmdd").isna().any():
        return "yyyymmdd"
    if YEARS[0] <= low and high <= YEARS[1] and whole and _named(name, _YEAR_NAMES):
        return "year"
    if not _named(name, _DAY_NAMES):
        return None
    if YEAR_MONTHS[0] <= low and high <= YEAR_MONTHS[1] and whole and not _numeric_stamps(finite, "yyyymm").isna().any():
        return "yyyymm"
    if EXCEL_DAYS[0] <= low and high <= EXCEL_DAYS[1]:
        return "excel"
    return None


def looks_like_date_column(name: str, series: pd.Series, position: int) -> bool:
    """Whether a column holds the dates: real dates, text in a date style, or numbers that are dates
    (see numeric_date_format; Unix seconds unnamed only as the first column, counting up)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    head = series.iloc[: FORMAT_SAMPLE * 5].dropna()
    present = head if len(head) else series.dropna()
    if present.empty:
        return False
    if _is_numeric(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        fmt = numeric_date_format(values, name)
        if fmt in ("unix_s", "unix_ms") and not name_hints_time(name):
            finite = values[np.isfinite(values)]
            return position == 0 and bool(np.all(np.diff(finite) > 0))
        return fmt is not None
    if series.dtype == object and all(hasattr(v, "year") and hasattr(v, "month") for v in present.iloc[:FORMAT_SAMPLE]):
        return True
    head = _arrow_text(present.iloc[: FORMAT_SAMPLE * 5])
    head = pc.unique(pc.filter(head, pa.array(~_quiet(head))))
    sample = head.slice(0, FORMAT_SAMPLE).to_pylist()
    try:
        return bool(_choose_formats(sample, name))
    except UserError:
        return False


def find_date_column(frame: pd.DataFrame) -> str | None:
    """The first column that holds dates (a column named like one first), or None: row order is time."""
    columns = [str(c) for c in frame.columns]
    ordered = sorted(range(len(columns)), key=lambda k: (not name_hints_time(columns[k]), k))
    return next((columns[k] for k in ordered if looks_like_date_column(columns[k], frame[columns[k]], k)), None)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


# ---------------------------------------------------------------- text cells
# Text is handled as Arrow arrays (pyarrow.compute): trimming, finding the different values and
# splitting a date from its time run in C++ over a million cells in a fraction of a second, where
# pandas' string methods call Python per cell.


def _arrow_text(values: Any) -> pa.Array:
    """Texts (a pandas Series, a list, an Arrow array) as one Arrow large_string array, trimmed."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        if isinstance(values, pd.Series):
            if not (pd.api.types.is_string_dtype(values.dtype) or values.dtype == object):
                values = values.astype(str).where(values.notna(), None)
            try:
                values = pa.Array.from_pandas(values)
                if isinstance(values, pa.ChunkedArray):
                    values = values.combine_chunks()
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                values = pa.array([None if v is None or v != v else str(v) for v in values.to_numpy(dtype=object)],
                                  type=pa.large_string())
        else:
            values = pa.array([None if v is None else str(v) for v in values], type=pa.large_string())
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return pc.utf8_trim_whitespace(values)


def _encoded(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """(code per row, -1 where empty; the different trimmed texts): each text is parsed once."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pc.dictionary_encode(_arrow_text(pd.Series(series.cat.categories.astype(str), dtype=object)))
        merged = categories.indices.to_numpy(zero_copy_only=False).astype(np.int64)  # trimmed categories may coincide
        by_row = series.cat.codes.to_numpy().astype(np.int64)
        return np.where(by_row >= 0, merged[np.maximum(by_row, 0)], -1), categories.dictionary
    encoded = pc.dictionary_encode(_arrow_text(series))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary


def _quiet(texts: pa.Array, summary: np.ndarray | None = None) -> np.ndarray:
    """Cells that mean "no date here": empty, a missing-value mark ("n/a", "-"), or a summary row's
    label (`summary`, when the caller has found those already)."""
    marker = pc.fill_null(pc.or_(pc.equal(texts, ""), pc.is_in(pc.utf8_lower(texts), value_set=_MARKERS)), True)
    return marker.to_numpy(zero_copy_only=False) | (_summary(texts) if summary is None else summary)


def _summary(texts: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(texts, _SUMMARY.pattern, ignore_case=True), False).to_numpy(
        zero_copy_only=False)


def _by_code(parsed: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per row: the parsed value of its text, NaT where it has none (code -1)."""
    if not len(parsed):
        return np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[s]")
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)], np.datetime64("NaT")).astype("datetime64[s]")


def _parse_with(values: Any, fmt: str, cache: dict | None = None) -> np.ndarray:
    """The texts read in one format: datetime64[s], NaT where a text does not fit it."""
    texts = _arrow_text(values)
    if fmt == "quarter":
        return _quarters(texts)
    if fmt in ("ISO8601", "ISO8601_utc"):  # wall-clock times (offsets dropped), or converted to UTC
        if fmt == "ISO8601" and pc.any(pc.match_substring_regex(texts, _ZONE.pattern, ignore_case=True)).as_py():
            texts = pc.replace_substring_regex(texts, _ZONE_AFTER_TIME.pattern, r"\1")
        return _pandas_parse(texts, "ISO8601", utc=True)
    split = _time_split(fmt)
    if split is not None:
        return _parse_date_and_time(texts, *split, cache=cache)
    return _parse_each(texts, fmt)


def _pandas_parse(texts: pa.Array, fmt: str | None, utc: bool = False) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(pd.Series(texts.to_pandas(), dtype=object), format=None if fmt in (None, "date", "datetime")
                                else fmt, errors="coerce", utc=utc)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[s]")


def _parse_each(texts: pa.Array, fmt: str) -> np.ndarray:
    """Each different text parsed once with pandas (strict: 29/02/2023 is not a date)."""
    encoded = pc.dictionary_encode(texts)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    different = encoded.dictionary
    if "%b" in fmt or "%B" in fmt:  # month names: a Python call per different date, not per row
        different = pa.array([_english_months(t, "%B" in fmt) for t in different.to_pylist()], type=pa.large_string())
    return _by_code(_pandas_parse(different, fmt), codes)


def _english_months(text: str | None, full: bool = False) -> str | None:
    """"Mär 24" -> "Mar 24", "janv. 2024" -> "Jan 2024", "1. April 2024" -> "1. Apr 2024"; or, `full`
    (a %B format), "Oktober 2024" -> "October 2024". Other words stay."""
    if text is None:
        return None

    def english(match: re.Match) -> str:
        word = match.group(0)
        key = word.rstrip(".").lower()
        found = (_ENGLISH_MONTH if full else _SHORT_MONTH).get(key)
        if found is None:
            return word
        return _FULL_MONTHS[found] if full else found

    return _MONTH_WORD.sub(english, text)


def _time_split(fmt: str) -> tuple[str, str, str] | None:
    """(date format, separator, time format) of a date-and-time format."""
    for time in sorted(_TIMES[1:], key=len, reverse=True):
        if fmt.endswith(time) and len(fmt) > len(time):
            return fmt[: -len(time)], time[0], time[1:]
    return None


def _parse_date_and_time(texts: pa.Array, date_fmt: str, separator: str, time_fmt: str,
                         cache: dict | None = None) -> np.ndarray:
    """A date and a time: split, each part's different values parsed once, and added up (a
    minute-by-minute year has 525,600 texts but 365 dates and 1,440 times). `cache` keeps the
    split and the times for the same texts read with another date format (day/month twins)."""
    key = (separator, time_fmt)
    if cache is None or key not in cache:
        split = _split_time(texts, separator, time_fmt)
        if cache is not None:
            cache[key] = split
    else:
        split = cache[key]
    rows, dates, offsets = split
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[s]")
    if not len(rows):
        return out
    days = _parse_each(dates, date_fmt)
    ok = ~np.isnat(days) & np.isfinite(offsets)
    out[rows[ok]] = days[ok] + offsets[ok].astype(np.int64).astype("timedelta64[s]")
    return out


def _split_time(texts: pa.Array, separator: str, time_fmt: str) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """(the texts that have a date and a time part, their dates, their times as seconds of the day or NaN)."""
    inner = time_fmt.count(separator)  # "01:00 PM" has a space of its own
    pieces = pc.split_pattern(texts, pattern=separator, max_splits=inner + 1, reverse=True)
    whole = pc.fill_null(pc.equal(pc.list_value_length(pieces), inner + 2), False)
    rows = np.flatnonzero(whole.to_numpy(zero_copy_only=False))
    if not len(rows):
        return rows, pa.array([], pa.large_string()), np.zeros(0)
    pieces = pc.filter(pieces, whole)
    dates = pc.utf8_trim_whitespace(pc.list_element(pieces, 0))
    times = pc.list_element(pieces, 1)
    for k in range(2, inner + 2):
        times = pc.binary_join_element_wise(times, pc.list_element(pieces, k), pa.scalar(separator, pa.large_string()))
    encoded = pc.dictionary_encode(times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clock = pd.to_datetime(pd.Series(encoded.dictionary.to_pandas(), dtype=object), format=time_fmt, errors="coerce")
    seconds = (clock - pd.Timestamp(1900, 1, 1)).dt.total_seconds().to_numpy()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return rows, dates, np.where(codes >= 0, seconds[np.maximum(codes, 0)], np.nan)


def _quarters(texts: pa.Array) -> np.ndarray:
    """"2024Q1", "2024-Q1", "Q1 2024": the quarter's first day."""
    parts = pd.Series(texts.to_pandas(), dtype=object).str.extract(_QUARTER.pattern, flags=re.IGNORECASE)
    years = pd.to_numeric(parts[0].fillna(parts[3]), errors="coerce")
    quarters = pd.to_numeric(parts[1].fillna(parts[2]), errors="coerce")
    months = (years - 1970) * 12 + (quarters - 1) * 3
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = months.notna().to_numpy()
    out[ok] = months.to_numpy()[ok].astype(np.int64).astype("datetime64[M]").astype("datetime64[s]")
    return out


def _candidates(sample: list[str]) -> list[str]:
    if all(_QUARTER.fullmatch(v) for v in sample):
        return ["quarter"]
    formats = []
    if any(_ISO_LIKE.fullmatch(v) for v in sample):
        formats.append("ISO8601")
    times = _time_styles(sample[:5])
    for fmt in _DAY_MONTH + _MONTH_DAY + _OTHER_FORMATS:
        formats += [fmt + t for t in (times if "%d" in fmt else ("",))]
    return formats


_TIME_SHAPE = re.compile(r"([ T])\s*\d{1,2}:\d{2}(:\d{2})?(\s*)([ap]\.?m\.?)?\s*$", re.IGNORECASE)


def _time_styles(texts: list[str]) -> list[str]:
    """The _TIMES that the cells' times can be in, judged by their shape ("13:00", "1:00 PM", "T13:00:00")."""
    styles = []
    for text in texts:
        match = _TIME_SHAPE.search(text)
        if match is None:
            styles.append("")
            continue
        separator, seconds, space, noon = match.groups()
        if noon:
            styles.append(f" %I:%M{':%S' if seconds else ''}{' ' if space else ''}%p")
        else:
            styles.append(f"{separator}%H:%M{':%S' if seconds else ''}")
    return [t for t in _TIMES if t in styles] or [""]


def _reads_all(values: list[str], fmt: str) -> bool:
    return bool(values) and not np.isnat(_parse_with(values, fmt)).any()


def _choose_formats(sample: list[str], column: str) -> list[str]:
    """The formats that read every sampled cell: one, or a day-first and a month-first twin, day
    first. None fits: the one that reads most (at least half) of the sample, whose misfits
    parse_dates then names; fewer, and the column is refused."""
    if not sample:
        raise UserError("series.no_dates", "The column '{column}' has no dates in it.", column=column)
    return list(_fitting_formats(tuple(sample), column))


@lru_cache(maxsize=16)
def _fitting_formats(sample: tuple[str, ...], column: str) -> tuple[str, ...]:
    """_choose_formats, once per sample (the column is judged by find_date_column, then read)."""
    sample = list(sample)
    firsts = sample[:5]  # strptime rules most formats out from a few cells, far faster than pandas on the sample
    candidates = [fmt for fmt in _candidates(sample) if fmt in ("ISO8601", "quarter") or _strptime_fits(firsts, fmt)]
    fitting = [fmt for fmt in candidates if _reads_all(sample, fmt)]
    if not fitting:
        counts = {fmt: int((~np.isnat(_parse_with(sample, fmt))).sum()) for fmt in candidates}
        best = max(counts, key=counts.get, default=None)
        if best is not None and counts[best] >= len(sample) / 2:
            return (best,)
        raise UserError(
            "series.unknown_date_format",
            "The dates in '{column}' are written in a way LayerLab does not recognise (for example '{value}'). "
            "Write them like 2024-01-31, 2024-01-31 13:00, 31/01/2024, Jan 2024 or 2024Q1.",
            column=column, value=sample[0][:40],
        )
    first = fitting[0]
    twin = _twin(first)
    if twin is not None and twin in fitting:
        return (first, twin) if _order_of(first) == DAY_FIRST else (twin, first)
    return (first,)


def _strptime_fits(texts: list[str], fmt: str) -> bool:
    for text in texts:
        try:
            datetime.strptime(_english_months(text, "%B" in fmt) if "%b" in fmt or "%B" in fmt else text, fmt)
            return True
        except ValueError:
            pass
    return False


def _twin(fmt: str) -> str | None:
    """The same format with day and month swapped, where the format writes both as numbers."""
    if "%d" not in fmt or "%m" not in fmt or fmt.startswith("%Y"):
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _order_of(fmt: str) -> str | None:
    if _twin(fmt) is None:
        return None
    return DAY_FIRST if fmt.index("%d") < fmt.index("%m") else MONTH_FIRST


def _irregularity(stamps: np.ndarray) -> tuple[float, int]:
    """(share of steps unlike the most common step, steps that go backwards): smaller is the more
    plausible reading. Steps are measured in months too, so 1 Jan, 1 Feb, 1 Mar is regular."""
    stamps = stamps[~np.isnat(stamps)]
    if len(stamps) < 3:
        return 0.0, 0
    backwards = int(np.sum(np.diff(stamps.astype(np.int64)) < 0))
    ordered = np.unique(stamps)
    shares = [_off_share(np.diff(ordered.astype(np.int64)))]
    days = ordered.astype("datetime64[D]")
    months = ordered.astype("datetime64[M]")
    same_day = (days - months.astype("datetime64[D]")).astype(np.int64)
    month_end = (days + 1).astype("datetime64[M]") != months
    if len(np.unique(same_day)) == 1 or month_end.all():
        shares.append(_off_share(np.diff(months.astype(np.int64))))
    return round(min(shares), 4), backwards


def _off_share(steps: np.ndarray) -> float:
    if not len(steps):
        return 0.0
    _, counts = np.unique(steps, return_counts=True)
    return 1 - counts.max() / len(steps)


# ---------------------------------------------------------------- reading the column


def parse_dates(series: pd.Series, column: str, file: str, date_order: str | None = None,
                fmt: str | None = None, footer: np.ndarray | None = None) -> ParsedDates:
    """The column as timestamps; every cell in one format. Empty cells, summary rows ("Total", a
    repeated header) and, among the rows `footer` allows (the rows at the end without numbers),
    cells that are not dates ("Source: Eurostat") are NaT; summary_rows and footer_rows name them.
    `fmt` (a ParsedDates.format) reads the cells in that format only: the recent rows a forecast
    starts from."""
    if date_order is not None and date_order not in DATE_ORDERS:
        raise UserError("series.bad_date_order", "The date order must be 'day_first' or 'month_first', not '{value}'.",
                        value=str(date_order)[:20])
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            return _from_utc(series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[s]"),
                             column, "2024-01-31T13:00:00+01:00", "datetime")
        return ParsedDates(column, series.to_numpy(dtype="datetime64[s]"), "2024-01-31 13:00")
    if _is_numeric(series):
        return _numeric_dates(series, column, file, fmt)
    present = series.dropna()
    if series.dtype == object and len(present) and all(hasattr(v, "year") and hasattr(v, "month")
                                                       for v in present.iloc[:FORMAT_SAMPLE]):
        return _date_objects(series, column)
    return _text_dates(series, column, file, date_order, fmt, footer)


def _date_objects(series: pd.Series, column: str) -> ParsedDates:
    """datetime.date cells (pyarrow's date32): as days, without a Python call per row."""
    try:
        days = pa.array(series.to_numpy(dtype=object), type=pa.date32(), from_pandas=True)
        stamps = days.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        stamps = pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[s]")
    return ParsedDates(column, stamps, "2024-01-31", "date")


def _numeric_stamps(values: np.ndarray, fmt: str) -> pd.Series:
    """Numbers in one of NUMERIC_FORMATS as timestamps (NaT where a number is not a date in it)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    v = values[finite]
    if fmt in ("unix_s", "unix_ms"):
        seconds = v if fmt == "unix_s" else v / 1000
        out[finite] = np.round(seconds).astype(np.int64).astype("datetime64[s]")
    elif fmt == "excel":
        out[finite] = EXCEL_EPOCH + np.round(v * 86400).astype(np.int64).astype("timedelta64[s]")
    elif fmt == "year":
        ok = v == np.round(v)
        years = np.where(ok, v, 1970).astype(np.int64)
        out[finite] = np.where(ok, (years - 1970).astype("datetime64[Y]"), np.datetime64("NaT"))
    else:
        whole = np.where(v == np.round(v), v, -1).astype(np.int64)
        if fmt == "yyyymmdd":
            parts = {"year": whole // 10000, "month": whole // 100 % 100, "day": whole % 100}
        else:
            parts = {"year": whole // 100, "month": whole % 100, "day": np.ones_like(whole)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
        out[finite] = np.where(whole >= 0, parsed.to_numpy(dtype="datetime64[s]"), np.datetime64("NaT"))
    return pd.Series(out)


_NUMERIC_STYLES = {"unix_s": "Unix seconds", "unix_ms": "Unix milliseconds", "yyyymmdd": "20240131",
                   "yyyymm": "202401", "year": "2024", "excel": "Excel day numbers (45322)"}


def _numeric_dates(series: pd.Series, column: str, file: str, fmt: str | None) -> ParsedDates:
    numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if fmt not in NUMERIC_FORMATS:  # the column was chosen as the dates: its name need not say so
        fmt = numeric_date_format(numbers, column) or numeric_date_format(numbers, "date") or numeric_date_format(
            numbers, "year")
    if fmt is None:
        raise UserError(
            "series.numbers_not_dates",
            "The column '{column}' holds numbers, not dates. Choose the column with the dates, or write the "
            "dates like 2024-01-31 (Unix seconds also work).",
            column=column,
        )
    stamps = _numeric_stamps(numbers, fmt).to_numpy()
    bad = np.isnat(stamps) & np.isfinite(numbers)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise UserError(
            "series.bad_date",
            "Row {row} of {file} has '{value}' in the date column '{column}', which is not a date. Correct or "
            "remove that row.",
            row=row + 2, file=file, value=f"{numbers[row]:g}", column=column,
        )
    return ParsedDates(column, stamps, _NUMERIC_STYLES[fmt], fmt)


def _from_utc(stamps: np.ndarray, column: str, style: str, fmt: str) -> ParsedDates:
    """Times that carried zone offsets, now in UTC. Dates written at local midnight (at most two
    times of day in UTC: summer and winter time) are read as those local dates; other times stay
    in UTC, where a change to or from summer time leaves no gap and no repeated hour."""
    present = stamps[~np.isnat(stamps)]
    seconds = present.astype(np.int64) % 86400
    times = np.unique(seconds)
    if len(present) and 0 < len(times) <= 2 and not (len(times) == 1 and times[0] == 0):
        days = (stamps.astype(np.int64) + 43200) // 86400 * 86400  # the nearest midnight
        local = np.where(np.isnat(stamps), np.datetime64("NaT"), days.astype("datetime64[s]"))
        return ParsedDates(column, local.astype("datetime64[s]"), style, fmt, notes=[NOTE_LOCAL_DATES.format(column=column)])
    return ParsedDates(column, stamps, style, "ISO8601_utc" if fmt.startswith("ISO8601") else fmt,
                       notes=[NOTE_UTC.format(column=column)])


def _text_dates(series: pd.Series, column: str, file: str, date_order: str | None, fmt: str | None,
                footer: np.ndarray | None = None) -> ParsedDates:
    codes, uniques = _encoded(series)
    header_again = pc.fill_null(pc.equal(pc.utf8_lower(uniques), column.strip().lower()), False)
    summary = _summary(uniques) | header_again.to_numpy(zero_copy_only=False)  # a total, or the header again
    quiet = _quiet(uniques, summary)
    footer_only = np.zeros(len(uniques), dtype=bool)  # texts only in the rows at the end without numbers
    if footer is not None and footer.any():
        footer_only[:] = True
        footer_only[codes[(codes >= 0) & ~footer]] = False
        footer_only &= ~quiet
    main = ~quiet & ~footer_only
    texts = pc.filter(uniques, pa.array(main))
    sample = texts.slice(0, FORMAT_SAMPLE).to_pylist()
    chosen_by_data = fmt in (None, "date", "datetime", *NUMERIC_FORMATS)
    formats = _choose_formats(sample, column) if chosen_by_data else [fmt]
    if date_order is not None and _twin(formats[0]) is not None:  # the user's order first, whatever the sample said
        wanted = formats[0] if _order_of(formats[0]) == date_order else _twin(formats[0])
        formats = [wanted, *(f for f in formats if f != wanted)]
    cache: dict = {}
    readings = {f: _parse_with(texts, f, cache) for f in formats}
    read_all = [f for f in formats if not np.isnat(readings[f]).any()]
    if chosen_by_data and _twin(formats[0]) is not None and len(formats) == 1 and not read_all and date_order is None:
        twin = _twin(formats[0])  # the sample's days were all 12 or less, and a later one is not
        readings[twin] = _parse_with(texts, twin, cache)
        if not np.isnat(readings[twin]).any():
            formats, read_all = [twin], [twin]
    chosen, ambiguous = formats[0], False
    code_of = np.flatnonzero(main)  # the code of each text in `texts`
    if date_order is not None and _twin(chosen) is not None and chosen not in read_all:
        row = _first_row(codes, code_of[np.isnat(readings[chosen])])
        raise UserError(
            "series.date_order_impossible",
            "The dates in '{column}' of {file} cannot all be read {order}: row {row} has '{value}'. Choose the other "
            "date order, or let LayerLab decide.",
            column=column, file=file, order="day first" if date_order == DAY_FIRST else "month first", row=row + 2,
            value=str(uniques[int(codes[row])].as_py())[:40],
        )
    if len(read_all) == 2:
        day_first, month_first = read_all
        if not np.array_equal(readings[day_first], readings[month_first]):
            scores = {f: _irregularity(_by_code(_spread(readings[f], main), codes)) for f in read_all}
            if scores[day_first] == scores[month_first]:
                ambiguous = True
                chosen = day_first if date_order is None else chosen
            elif date_order is None:
                chosen = min(read_all, key=lambda f: scores[f])
    elif read_all:
        chosen = read_all[0]
    else:
        chosen = max(formats, key=lambda f: int((~np.isnat(readings[f])).sum()))
    parsed = readings[chosen]
    bad = np.isnat(parsed)
    if bad.any():
        _refuse_cell(codes, uniques, code_of[bad], texts, bad, column, file)
    by_text = _spread(parsed, main)
    footer_rows = np.zeros(0, np.int64)
    if footer_only.any():  # the notes under the table that are dates count; the others are left out
        extra = np.flatnonzero(footer_only)
        extra_parsed = _parse_with(pc.take(uniques, pa.array(extra)), chosen)
        by_text[extra] = extra_parsed
        notes = extra[np.isnat(extra_parsed)]
        footer_rows = np.flatnonzero(np.isin(codes, notes)) if len(notes) else footer_rows
    summary_rows = np.flatnonzero(np.isin(codes, np.flatnonzero(summary))) if summary.any() else np.zeros(0, np.int64)
    stamps = _by_code(by_text, codes)
    result = ParsedDates(column, stamps, _style_of(chosen, sample[0] if sample else ""), chosen, _order_of(chosen),
                         ambiguous, summary_rows, footer_rows)
    if chosen.startswith("ISO8601") and any(_ZONE.search(v) for v in sample):
        zoned = _parse_with(texts, "ISO8601_utc")
        offsets = np.unique((parsed - zoned).astype(np.int64))
        if len(offsets) > 1:  # summer and winter time: see _from_utc
            converted = _from_utc(_by_code(_spread(zoned, main), codes), column, result.style, chosen)
            result.values, result.format, result.notes = converted.values, converted.format, converted.notes
    return result


def _spread(parsed: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Values parsed for the texts `where` marks, spread over all the different texts (NaT elsewhere)."""
    out = np.full(len(where), np.datetime64("NaT"), dtype="datetime64[s]")
    out[where] = parsed
    return out


def _first_row(codes: np.ndarray, wanted: np.ndarray) -> int:
    return int(np.flatnonzero(np.isin(codes, wanted))[0])


def _refuse_cell(codes: np.ndarray, uniques: pa.Array, failing: np.ndarray, texts: pa.Array, bad: np.ndarray,
                 column: str, file: str) -> None:
    row = _first_row(codes, failing)
    value = str(uniques[int(codes[row])].as_py())
    other = next((f for f in _candidates([value]) if _reads_all([value], f)), None)
    if other is not None:
        good = np.flatnonzero(~bad)
        example = texts[int(good[0]) if len(good) else 0].as_py()
        raise UserError(
            "series.mixed_date_formats",
            "The dates in '{column}' of {file} are written in more than one way: row {row} has '{value}', "
            "unlike the other rows (such as '{example}'). Write every date the same way and load the file again.",
            column=column, file=file, row=row + 2, value=value[:40], example=str(example)[:40],
        )
    raise UserError(
        "series.bad_date",
        "Row {row} of {file} has '{value}' in the date column '{column}', which is not a date. Correct or "
        "remove that row.",
        row=row + 2, file=file, value=value[:40], column=column,
    )


def _style_of(fmt: str, example: str) -> str:
    if fmt == "quarter":
        return "2024Q1"
    if fmt.startswith("ISO8601") or "%b" in fmt or "%B" in fmt:  # a cell itself: "2024-01", "Januar 2024"
        return str(example)[:25]
    return pd.Timestamp(2024, 1, 31, 13, 0).strftime(fmt)
