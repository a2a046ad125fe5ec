"""What a table cell's text means beyond its value: a mark for "no value", or a date.

pandas (and read_csv) already read "", "NA", "n/a", "null", "NaN", "#N/A"... as empty; people
and spreadsheets write more ("?", "-", "missing", "#DIV/0!"), and dates in many styles that the
parser leaves as text ("31.01.2024", "1/31/24", "Jan 31, 2024").
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

import pandas as pd

# Compared stripped and lower-cased. In a column whose other cells are numbers, these are empty cells.
MISSING_MARKERS = frozenset({
    "?", "??", "???", "-", "--", "---", "–", "—", ".", "..", "...", "_", "*",
    "na", "n/a", "n.a.", "n.a", "nan", "null", "none", "nil", "missing", "unknown", "empty", "blank", "#n/a", "#na",
    # spreadsheet errors, which land in numeric columns
    "#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!", "#n/a!",
})

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[ap]\.?m\.?)?"
_DAY = (
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 2024-01-31, 2024/1/31
    r"|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"  # 31.01.2024, 1/31/24
    rf"|\d{{1,2}}[ -]{_MONTH}[ ,-]*\d{{2,4}}"  # 31 Jan 2024, 31-Jan-24
    rf"|{_MONTH} \d{{1,2}},? \d{{4}}"  # January 31, 2024
)
_DATE_OR_TIME = re.compile(
    rf"\s*(?:(?:{_DAY})(?:[ T]{_TIME})?(?:z|[+-]\d{{2}}:?\d{{2}})?|{_TIME})\s*", re.IGNORECASE
)
DATE_SAMPLE = 100  # different values looked at to call a text column dates


def is_missing_marker(text: str) -> bool:
    return text.strip().lower() in MISSING_MARKERS


def looks_like_dates(values: Iterable[str]) -> bool:
    """Whether these texts (a sample of a column's different values) are all dates or times.

    The pattern finds the candidates; pandas then has to read each as a real date, so
    "99/99/2024" or a version number such as "1.10.3" is not one.
    """
    texts = list(values)
    return bool(texts) and all(isinstance(t, str) and _DATE_OR_TIME.fullmatch(t) and _reads_as_date(t) for t in texts)


def _reads_as_date(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format, falling back to dateutil"
        try:
            return pd.to_datetime(text) is not pd.NaT
        except (ValueError, TypeError, OverflowError):
            return False
