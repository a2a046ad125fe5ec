"""Reading an uploaded CSV into a raw table: size caps, encoding, delimiter, decimal mark.

Nothing here decides what the columns mean (that is `tables.py`); the result, a
`RawTable`, is cheap to keep so the app can re-run `prepare_table` when the user picks
another target.
"""
from __future__ import annotations

import codecs
import csv
import ctypes
import io
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES

from core.data.limits import Limits, current_limits
from core.errors import UserError
from core.sizes import human_size

DELIMITERS = (",", ";", "\t", "|")
NO_DELIMITER = "\x1f"  # a one-column file is parsed with a separator that never occurs in it
SAMPLE_BYTES = 256 * 1024
SAMPLE_LINES = 200
# A header (2,000 long column names) may be longer than the sample: it is read on up to this far
# before the file counts as one long line without line breaks.
LONG_LINE_BYTES = 16 << 20
SCAN_CHUNK = 8 << 20
# A big file is parsed a part at a time (each part with pyarrow's threaded reader) and each
# part's columns are copied into the frame's arrays before the next part is parsed: only one
# part's parse buffers are ever alive, instead of the whole file's.
PART_BYTES = 4 << 20  # at least; with more cores, PART_BYTES_PER_CORE each, so every reader thread has blocks
PART_BYTES_PER_CORE = 2 << 20  # two of pyarrow's 1 MiB blocks
ONE_PIECE_BYTES = 8 << 20  # smaller files are parsed whole
# pyarrow dictionary-encodes a text column while parsing (a small code per row, never the
# strings) as long as a 1 MiB block holds at most this many different values; past that the
# column is plain text (and _compact_repeated_text decides after reading).
DICTIONARY_MAX_PER_BLOCK = 1000
# pandas' own list of cells that mean "missing" ("", "NA", "N/A", "NaN", "null", "#N/A", ...)
NULL_VALUES = sorted(STR_NA_VALUES)
INT_TYPES = (np.int8, np.int16, np.int32, np.int64)  # whole-number columns are kept in the smallest that fits
# Python's csv module refuses a field over 128 KiB (a long header line, a long cell); the upload
# cap bounds what is read, so the module's own cap only stands in the way.
csv.field_size_limit(2**31 - 1)
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?(?:\d+|\d{1,3}(?:\.\d{3})+),\d+\s*$")  # 3,5 or 1.065,5
# Per decimal mark: a number written with thousands separators (1.065,5 or 1,065.5), and a plain one.
_GROUPED = {",": r"\s*[-+]?\d{1,3}(?:\.\d{3})+(?:,\d+)?\s*", ".": r"\s*[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*"}
_PLAIN = {",": r"\s*[-+]?\d+(?:,\d+)?\s*", ".": r"\s*[-+]?\d+(?:\.\d+)?\s*"}
# What a user may upload by mistake, recognised by the first bytes.
_MAGIC = {
    b"PK\x03\x04": "a zip archive (an Excel .xlsx file is one too): save your sheet as CSV",
    b"%PDF": "a PDF document: export the table as CSV",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\xd0\xcf\x11\xe0": "an old Excel/Word file: save your sheet as CSV",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip-compressed file: decompress it first",
}


@dataclass
class RawTable:
    """A CSV as read, before any decision about target or column kinds."""

    name: str
    frame: pd.DataFrame  # text columns whose values repeat are pandas Categoricals (see _compact_repeated_text)
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", or a CJK one ("gb18030", "cp932", ...)
    delimiter: str  # one of DELIMITERS, or "" for a one-column file
    decimal: str  # "." or ","
    n_bytes: int

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise UserError(
            "csv.too_large",
            "{file} is {size}, more than the {limit} this server accepts. Use fewer rows or columns, "
            "or ask the administrator to raise LAYERLAB_MAX_UPLOAD_BYTES.",
            file=name, size=human_size(size), limit=human_size(max_bytes),
        )


def _is_utf8(data: bytes, stop: int | None = None, final: bool = True) -> bool:
    """Whether data[:stop] is UTF-8; decoded a piece at a time so a big file never becomes one
    huge string. `final=False` allows a character cut off at the end (a sample of the file)."""
    if data.isascii():
        return True
    view = memoryview(data)[:stop]
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(view), SCAN_CHUNK):
            decoder.decode(view[start : start + SCAN_CHUNK])
        decoder.decode(b"", final=final)
    except UnicodeDecodeError:
        return False
    return True


def _part_bytes() -> int:
    import pyarrow as pa

    return max(PART_BYTES, PART_BYTES_PER_CORE * pa.cpu_count())


def _last_row_end(chunk: bytes) -> int:
    """Offset just past the last '\n' of `chunk` outside quoted values; 0 if there is none.

    `chunk` starts at the start of a row. A newline is outside quoted values when the number
    of '"' bytes before it is even (quotes inside a quoted value are doubled, so the parity
    holds). A stray quote inside an unquoted cell (5'11") flips the parity: usually no newline
    after it qualifies and the rest of the file is one part, but a quoted line break further on
    can then look like a row end. A file with no '\n' (old Mac '\r' line ends) is never cut.
    """
    end = chunk.rfind(b"\n") + 1
    if not end or b'"' not in chunk:  # a fast search; quotes are counted only where they occur
        return end
    quotes = chunk.count(b'"', 0, end)  # before `end`
    while quotes % 2:
        newline = chunk.rfind(b"\n", 0, end - 1)
        if newline < 0:
            return 0
        quotes -= chunk.count(b'"', newline + 1, end)
        end = newline + 1
    return end


def _rows_by_lines(data: bytes) -> int:
    """Data rows if every line is one (quoted line breaks only make this an overestimate)."""
    return data.count(b"\n") + (not data.endswith(b"\n")) - 1


class _NotUtf8(Exception):
    """A part of the file is not UTF-8: the file is read again as CP1252."""


class _TooManyRows(Exception):
    def __init__(self, estimate: int) -> None:
        super().__init__(estimate)
        self.estimate = estimate  # the file's rows, judged from the part read so far


class _PartReader:
    """A big file's parts, found while reading it: each about `_part_bytes()` long, ending after
    a row, and checked to be UTF-8 before it is parsed. A file under ONE_PIECE_BYTES (or
    `whole`) is one part. Reading and cutting in the same pass as the parse means the file is
    never scanned beforehand (that pass alone took a tenth of a second per 100 MB)."""

    def __init__(self, source: Path | bytes, whole: bool = False, max_rows: int | None = None) -> None:
        self.source = source
        self.max_rows = max_rows  # a rest of the file that cannot be cut is refused past this many lines
        self.size = len(source) if isinstance(source, bytes) else source.stat().st_size
        self.part = self.size if whole or self.size < ONE_PIECE_BYTES else _part_bytes()

    def __iter__(self) -> Iterator[tuple[object, int]]:
        """(pyarrow input, bytes of the file read once it is parsed) per part."""
        import pyarrow as pa

        with _byte_reader(self.source) as read:
            offset = 0
            while offset < self.size:
                chunk = read(offset, self.part)
                end = len(chunk)
                if offset + end < self.size:
                    end = _last_row_end(chunk)  # the bytes after it start the next part
                    if not end:  # no row ends outside quotes here: the rest is one part
                        chunk += read(offset + len(chunk), self.size)
                        end = len(chunk)
                        if self.max_rows is not None and (rows := _rows_by_lines(chunk)) > self.max_rows:
                            raise _TooManyRows(rows)  # before parsing it whole
                if not _is_utf8(chunk, end):
                    raise _NotUtf8
                offset += end
                yield pa.py_buffer(memoryview(chunk)[:end]), offset
                del chunk


@contextmanager
def _byte_reader(source: Path | bytes) -> Iterator[Callable[[int, int], bytes]]:
    """read(start, count) -> up to `count` bytes of the file from `start`."""
    if isinstance(source, bytes):
        yield lambda start, count: source[start : start + count]
        return
    with open(source, "rb") as handle:

        def read(start: int, count: int) -> bytes:
            handle.seek(start)
            return handle.read(count)

        yield read


def _check_content(head: bytes, name: str) -> None:
    """Refuse files that are obviously not text tables, by their first bytes."""
    if not head.removeprefix(codecs.BOM_UTF8).strip():  # a byte-order mark alone is empty too
        raise UserError("csv.empty", "{file} is empty. Upload a CSV file with a header row and data rows.", file=name)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise UserError("csv.binary", "{file} is not a CSV file: it looks like {what}.", file=name, what=what)
    if b"\x00" in head[:8192]:
        raise UserError(
            "csv.binary",
            "{file} is not a text file (it contains binary data). Upload a CSV file: a spreadsheet "
            "saved as 'CSV (comma separated)'.",
            file=name,
        )


def _transcode(data: bytes, encoding: str, name: str) -> tuple[bytes, str]:
    """Other encodings -> UTF-8 (what the parser reads), and the encoding actually used."""
    if encoding != "utf-16" and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode(encoding).encode("utf-8"), encoding
    except UnicodeDecodeError:
        if encoding not in ("utf-16", "cp1252"):  # the CJK guess does not hold for the whole file
            return _transcode(data, "cp1252", name)
        if encoding == "cp1252":  # bytes CP1252 leaves undefined: plain Latin-1 decodes anything
            return data.decode("latin-1").encode("utf-8"), "latin-1"
        raise UserError(
            "csv.bad_encoding",
            "{file} starts like a UTF-16 text file but is damaged. Save it again as CSV (UTF-8).",
            file=name,
        ) from None


def _sample_lines(head: bytes, complete: bool) -> list[str]:
    """The first non-blank lines; an incomplete last line is dropped unless `head` is the whole file."""
    sample = head if complete or b"\n" not in head else head[: head.rindex(b"\n")]
    if sample.startswith(codecs.BOM_UTF8):
        sample = sample[3:]
    text = sample.decode("utf-8", errors="replace")
    # at line ends only: str.splitlines would also cut at U+2028, NEL or a form feed inside a text
    return [line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()][:SAMPLE_LINES]


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    return [len(row) for row in csv.reader(lines, delimiter=delimiter)]


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample lines into the same number (> 1) of fields most consistently.

    Looking at many lines (not only the header) keeps a one-column file of sentences with
    commas from being split, and prefers `;` over `,` in European files with decimal commas.
    """
    best, best_score = "", (0.0, 0)
    for delim in DELIMITERS:
        counts = _field_counts(lines, delim)
        if not counts or counts[0] < 2:
            continue
        agreeing = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = (agreeing, counts[0])
        if agreeing >= 0.9 and score > best_score:
            best, best_score = delim, score
    return best


def _detect_decimal(lines: list[str], delimiter: str) -> str:
    if delimiter != ";":
        return "."
    fields = [f for row in csv.reader(lines[1:], delimiter=delimiter) for f in row]
    return "," if any(_DECIMAL_COMMA.match(f) for f in fields) else "."


def _header(lines: list[str], delimiter: str, name: str, max_columns: int) -> list[str]:
    raw = next(csv.reader(lines[:1], delimiter=delimiter or NO_DELIMITER))
    names = [h.strip() or f"column {i + 1}" for i, h in enumerate(raw)]
    if len(names) > max_columns:
        raise UserError(
            "csv.too_many_columns",
            "{file} has {n} columns, more than the {limit} this server accepts. Remove columns you do not need.",
            file=name, n=len(names), limit=max_columns,
        )
    seen: set[str] = set()
    duplicates = sorted({h for h in names if h in seen or seen.add(h)})
    if duplicates:
        raise UserError(
            "csv.duplicate_header",
            "{file} has several columns with the same name: {names}. Give each column its own name in the "
            "first row.",
            file=name, names=", ".join(f"'{d}'" for d in duplicates),
        )
    return names


def _find_ragged_row(data: bytes, delimiter: str, n_columns: int) -> tuple[int, int] | None:
    """(line number, field count) of the first row whose field count differs from the header's."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""), delimiter=delimiter)
    for row in reader:
        if row and len(row) != n_columns and reader.line_num > 1:
            return reader.line_num, len(row)
    return None


class _PartsDisagree(Exception):
    """A column's type differs between parts in a way only a whole-file read settles."""


class _Column:
    """One column gathered part by part, in row order.

    int64 and double columns go straight into one array sized for the whole file: whole
    numbers without an empty cell in the smallest integer type that holds every value (int8
    for a column of ratings: an eighth of int64), anything else numeric float64 with NaN;
    other types are kept as Arrow chunks and converted once at the end, exactly as a
    whole-file column would be. Text is dictionary-encoded (a pandas Categorical at the end)
    unless some part had too many different values for that, in which case it is plain text
    throughout.
    """

    __slots__ = ("chunks", "type", "values")

    def __init__(self) -> None:
        self.values: np.ndarray | None = None  # one of INT_TYPES or float64, `capacity` rows
        self.chunks: list | None = None  # Arrow arrays of one type
        self.type = None  # the Arrow type of the parts with values; None while all were empty

    def add(self, column, start: int, capacity: int) -> None:
        """Append a part's column, whose rows start at row `start`."""
        import pyarrow as pa

        kind, rows = column.type, len(column)
        if not rows:  # a part of blank lines: nothing to add, and no type to learn from
            return
        if pa.types.is_null(kind):  # all empty in this part: fits any type
            if self.values is not None:
                self._hold(np.dtype(np.float64), start, capacity)
                self.values[start : start + rows] = np.nan
            elif self.chunks is not None:
                self.chunks.append(pa.nulls(rows, self._stored(self.type)))
            return
        numeric = pa.types.is_int64(kind) or pa.types.is_float64(kind)
        if self.type is None:
            self.type = kind
            if not numeric:
                self.chunks = [pa.nulls(start, self._stored(kind))] if start else []
        elif kind != self.type and _is_text_type(kind) and _is_text_type(self.type):
            self._as_plain_text()  # this part or an earlier one had too many values to encode
        elif kind != self.type and not (numeric and self.values is not None):
            raise _PartsDisagree(kind, self.type)  # text and numbers, bools, dates...: read whole
        if numeric:
            # int64 with an empty cell comes out as float64 with NaN, as pandas converts it
            pieces = [chunk.to_numpy(zero_copy_only=False) for chunk in column.chunks if len(chunk)]
            self._hold(_smallest_type(pieces), start, capacity)
            for piece in pieces:
                self.values[start : start + len(piece)] = piece
                start += len(piece)
        else:
            stored = self._stored(self.type)
            self.chunks.extend(chunk if chunk.type == stored else chunk.cast(stored) for chunk in column.chunks)

    def _hold(self, dtype: np.dtype, start: int, capacity: int) -> None:
        """Make `values` able to hold `dtype` from row `start` on (rows before it that had no part are empty)."""
        if self.values is None:
            self.values = np.empty(capacity, dtype=np.float64 if start else dtype)
            if start:
                self.values[:start] = np.nan
            return
        wanted = np.promote_types(self.values.dtype, dtype)  # int8 + int16 -> int16, int + float -> float64
        if wanted != self.values.dtype:
            values = np.empty(len(self.values), dtype=wanted)
            values[:start] = self.values[:start]
            self.values = values

    def _as_plain_text(self) -> None:
        import pyarrow as pa

        self.type = pa.string()
        self.chunks = [c.cast(pa.large_string()) if c.type != pa.large_string() else c for c in self.chunks]

    def grow(self, rows: int, capacity: int) -> None:
        if self.values is not None:
            values = np.empty(capacity, dtype=self.values.dtype)
            values[:rows] = self.values[:rows]
            self.values = values

    def series(self, rows: int) -> pd.Series:
        import pyarrow as pa

        if self.values is not None:
            return pd.Series(self.values[:rows], copy=False)
        if self.chunks is not None:
            chunks, self.chunks = self.chunks, None
            return pa.chunked_array(chunks, type=self._stored(self.type)).to_pandas()
        return pd.Series(np.full(rows, np.nan), copy=False)  # pandas reads an entirely empty column as NaN

    @staticmethod
    def _stored(kind):
        """pandas keeps text as large_string; converting each part's chunks early frees their offsets."""
        import pyarrow as pa

        return pa.large_string() if pa.types.is_string(kind) else kind


def _smallest_type(pieces: list[np.ndarray]) -> np.dtype:
    """float64 for fractions or empty cells, else the smallest of INT_TYPES that holds every value."""
    if not pieces or any(p.dtype.kind == "f" for p in pieces):
        return np.dtype(np.float64)
    lo, hi = min(int(p.min()) for p in pieces), max(int(p.max()) for p in pieces)
    return next(np.dtype(t) for t in INT_TYPES if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max)


def _narrow_whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """int64 columns in the smallest of INT_TYPES, as the part reader keeps them (pandas' parser gives int64)."""
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype == np.int64 and len(column):
            dtype = _smallest_type([column.to_numpy()])
            if dtype != column.dtype:
                frame.isetitem(i, column.astype(dtype))
    return frame


def _is_text_type(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or (
        pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type))


def _read_parts(reader: _PartReader, max_rows: int, parse, convert) -> pd.DataFrame:
    """The frame of the file, its parts parsed one after another (the next one read and parsed
    in a second thread while this one's columns are copied); _TooManyRows past `max_rows`."""
    import pyarrow.csv as pa_csv

    parts = iter(reader)

    def parse_next(names: list[str] | None):
        """(table, bytes of the file read) of the next part, or None after the last."""
        part, offset = next(parts, (None, 0))
        if part is None:
            return None
        # Parts after the first have no header: they get the first part's column names.
        read = pa_csv.ReadOptions(column_names=names) if names is not None else None
        return pa_csv.read_csv(part, read_options=read, parse_options=parse, convert_options=convert), offset

    try:
        parsed = parse_next(None)
        names = parsed[0].column_names
        columns = [_Column() for _ in names]
        rows = capacity = 0
        with ThreadPoolExecutor(1) as pool:
            while parsed is not None:
                (table, offset), parsed = parsed, None
                upcoming = pool.submit(parse_next, names)
                n = table.num_rows
                expected = (rows + n) * reader.size / offset  # the file's rows, judged from what is read
                if rows + n > max_rows:
                    raise _TooManyRows(int(expected))
                if rows + n > capacity:  # room for the expected rows and a fifth more, or twice as many
                    capacity = min(max_rows, max(2 * capacity, int(1.2 * expected) + 1))
                    for column in columns:
                        column.grow(rows, capacity)
                # Each Arrow column is dropped once copied, so a whole-file parse is never held twice
                # (a list, not table.remove_column: that copies the other columns' list each time).
                arrow_columns, table = table.columns, None
                for i, column in enumerate(columns):
                    column.add(arrow_columns[i], rows, capacity)
                    arrow_columns[i] = None
                rows += n
                _release_freed_memory()  # the part's parse buffers, before the next part is copied
                parsed = upcoming.result()
    finally:
        parts.close()
    # Keyed by position: a header with two blank names gives pyarrow two columns named "".
    frame = pd.DataFrame({i: column.series(rows) for i, column in enumerate(columns)}, copy=False)
    frame.columns = names
    return frame


def _parse_with_arrow(source: Path | bytes, delimiter: str, decimal: str, max_rows: int) -> pd.DataFrame:
    """pyarrow's multi-threaded reader, a part of a big file at a time, each part's columns
    moved into the frame's arrays before the next part is parsed."""
    import pyarrow.csv as pa_csv

    parse = pa_csv.ParseOptions(delimiter=delimiter or NO_DELIMITER)
    convert = pa_csv.ConvertOptions(null_values=NULL_VALUES, strings_can_be_null=True, decimal_point=decimal,
                                    auto_dict_encode=True, auto_dict_max_cardinality=DICTIONARY_MAX_PER_BLOCK)
    try:
        return _read_parts(_PartReader(source, max_rows=max_rows), max_rows, parse, convert)
    except _PartsDisagree:  # e.g. a column of numbers with text in a later part: text throughout, as a whole-file read says
        return _read_parts(_PartReader(source, whole=True), max_rows, parse, convert)


def _parse(source: Path | bytes, name: str, delimiter: str, decimal: str, names: list[str], max_rows: int) -> pd.DataFrame:
    try:
        return _parse_with_arrow(source, delimiter, decimal, max_rows)
    except (ValueError, TypeError, OSError):
        pass  # find out why below; pyarrow also refuses line breaks inside quoted values
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not _is_utf8(data):  # only the parts pyarrow reached were checked: read it as CP1252
        raise _NotUtf8
    if (rows := _rows_by_lines(data)) > max_rows:  # refused before pandas parses it all
        raise _TooManyRows(rows)
    sep = delimiter or NO_DELIMITER
    ragged = _find_ragged_row(data, sep, len(names))
    if ragged:  # said plainly, rather than letting a lenient parser pad short rows with empty cells
        line, got = ragged
        raise UserError(
            "csv.ragged",
            "Line {line} of {file} has {got} values but the header has {expected} columns. Fix that line "
            "(a missing or extra '{delimiter}', or an unclosed quote) and upload again.",
            file=name, line=line, got=got, expected=len(names), delimiter=sep if delimiter else ",",
        )
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=sep, decimal=decimal, engine="c", low_memory=False)
    except (pd.errors.ParserError, ValueError) as err:
        raise UserError(
            "csv.unreadable",
            "{file} could not be read as a CSV table ({detail}). Save it again as 'CSV (comma separated)'.",
            file=name, detail=str(err).strip().splitlines()[0][:200],
        ) from None
    if len(frame) > max_rows:
        raise _TooManyRows(len(frame))
    return _narrow_whole_numbers(frame)


def _grouped_numbers(column: pd.Series, decimal: str) -> pd.Series | None:
    """The column as numbers if every cell is a number and some use thousands separators, else None.

    The parser leaves such a column as text; only a column that fits the pattern throughout is
    converted, so a column of codes like "1.5.2" or a mix of styles stays as it is.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):  # judge and convert each different value once
        numbers = _grouped_numbers(pd.Series(column.cat.categories, dtype="str"), decimal)
        if numbers is None:
            return None
        by_code = np.append(numbers.to_numpy(dtype=np.float64, na_value=np.nan), np.nan)  # code -1: empty
        return pd.Series(by_code[column.cat.codes.to_numpy()], index=column.index)
    if not pd.api.types.is_string_dtype(column.dtype):
        return None
    number = f"(?:{_GROUPED[decimal]})|(?:{_PLAIN[decimal]})"
    if not column.iloc[:1000].dropna().astype("str").str.fullmatch(number).all():
        return None  # the first cells reject most text columns cheaply, before the whole column is copied
    cells = column.dropna().astype("str")
    if not cells.str.fullmatch(number).all():
        return None
    if cells.empty or not cells.str.fullmatch(_GROUPED[decimal]).any():
        return None
    separator = "." if decimal == "," else ","
    text = column.astype("str").str.strip().str.replace(separator, "", regex=False)
    return pd.to_numeric(text.str.replace(",", ".", regex=False).where(column.notna()), errors="coerce")


def _convert_grouped_numbers(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    for i in range(frame.shape[1]):  # by position: column names may repeat until read_csv renames them
        numbers = _grouped_numbers(frame.iloc[:, i], decimal)
        if numbers is not None:
            frame.isetitem(i, numbers.astype("float64"))
    return frame


def _compact_repeated_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose values repeat (categories such as a colour or a city; at most one
    different value per two rows) are pandas Categoricals: a small code per row instead of the
    text, so a big table's text columns take a few MiB instead of tens. Other text (names, ids,
    sentences) is plain text. Cells, empty ones included, read back exactly as before."""
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if isinstance(column.dtype, pd.CategoricalDtype):  # dictionary-encoded by pyarrow while parsing
            if len(column.cat.categories) > len(column) // 2:
                frame.isetitem(i, column.astype("str"))
            continue
        if not isinstance(column.dtype, pd.StringDtype) or len(column) < 2:
            continue  # only text: dates and times (Python objects) stay what they are, for tables.py to recognise
        codes, uniques = pd.factorize(column)
        if len(uniques) <= len(column) // 2:
            frame.isetitem(i, pd.Categorical.from_codes(codes, categories=uniques))
    return frame


def _release_freed_memory() -> None:
    """Hand the parse's buffers and the text replaced by Categoricals back to the system.

    pyarrow's allocator keeps freed pages for itself, and numpy (which allocates the training
    arrays next) cannot use them: on the 1M-row benchmark CSV, load_data's peak varied between
    297 and 342 MiB from run to run with them kept, and is 288 MiB every run without. The C
    library's allocator keeps what pyarrow's parser threads freed outside that pool: on a
    2,000-column file of 43 MB, 50 MiB after reading (the columns themselves are 46 MiB).
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if (trim := _malloc_trim()) is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _open_source(source: Path | str | bytes, name: str, max_bytes: int) -> tuple[Path | bytes, bytes]:
    """(path or bytes, first bytes), refusing a missing or oversized file before reading it all."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)  # no copy when it already is bytes
        _check_size(len(data), name, max_bytes)
        return data, data[:SAMPLE_BYTES]
    path = Path(source)
    if not path.is_file():
        raise UserError("csv.not_found", "The file {file} does not exist. Check the path.", file=str(path))
    _check_size(path.stat().st_size, name, max_bytes)
    with open(path, "rb") as handle:
        return path, handle.read(SAMPLE_BYTES)


def _max_rows(limits: Limits, n_columns: int) -> int:
    """The rows a file of `n_columns` may have: the row cap, or fewer where the cell cap bites first."""
    return min(limits.rows, limits.cells // max(n_columns, 1))


def _too_many_rows(name: str, rows: int, n_columns: int, limits: Limits) -> UserError:
    if rows <= limits.rows:  # within the row cap: the cells (rows × columns) are too many
        return UserError(
            "csv.too_many_cells",
            "{file} has about {rows} rows × {columns} columns = {cells} values, more than the {limit} values this "
            "server accepts. Use fewer rows or columns, or ask the administrator to raise LAYERLAB_MAX_CELLS.",
            file=name, rows=f"{rows:,}", columns=f"{n_columns:,}", cells=f"{rows * n_columns:,}",
            limit=f"{limits.cells:,}",
        )
    return UserError(
        "csv.too_many_rows",
        "{file} has about {n} rows, more than the {limit} this server accepts. Use a sample of your rows, "
        "or ask the administrator to raise LAYERLAB_MAX_ROWS.",
        file=name, n=f"{rows:,}", limit=f"{limits.rows:,}",
    )


def _line_breaks(data: bytes) -> int:
    """Line breaks in `data`; a file with old Mac line ends has only '\r'."""
    return data.count(b"\n") or data.count(b"\r")


def _read_head(read: Callable[[int, int], bytes], size: int, name: str) -> bytes:
    """The sample the delimiter and header are judged from: SAMPLE_BYTES, or more when the first
    lines are longer; refuses a file that is one long line."""
    head = read(0, SAMPLE_BYTES)
    if size > len(head) and _line_breaks(head.strip()) < 2:  # a header longer than the sample
        head = read(0, LONG_LINE_BYTES)
    text = head.strip()  # blank lines around it are no rows
    if len(text) > SAMPLE_BYTES and not _line_breaks(text):
        raise UserError(
            "csv.one_line",
            "{file} has no line break in its first {size}: it is one very long line, not a table with one row per "
            "line. Save the table again as CSV (comma separated): a header line, then one line per row.",
            file=name, size=human_size(len(head)),
        )
    return head


def _transcoded(src: Path | bytes, encoding: str, name: str) -> tuple[bytes, str]:
    """The whole file converted to UTF-8 in memory, checked again by its first bytes. `encoding`
    "legacy" is whatever the bytes that are not UTF-8 say (core.data.text_files.table_legacy_encoding)."""
    data = src if isinstance(src, bytes) else src.read_bytes()
    if encoding == "legacy":
        encoding = _legacy_encoding(data)
    data, encoding = _transcode(data, encoding, name)
    _check_content(data[:SAMPLE_BYTES], name)
    return data, encoding


def _legacy_encoding(data: bytes) -> str:
    """GB18030, Shift-JIS, Big5, EUC-KR... or cp1252, judged from 64 KB around the first byte
    that is not UTF-8 (the header and first rows of a table are often plain ASCII)."""
    from core.data.text_files import table_legacy_encoding

    try:
        data.decode("utf-8")
        return "cp1252"
    except UnicodeDecodeError as err:
        start = data.rfind(b"\n", 0, err.start) + 1
    return table_legacy_encoding(data[start : start + (1 << 16)])


def _read_utf8(src: Path | bytes, name: str) -> tuple[pd.DataFrame, str, str]:
    """(frame, delimiter, decimal mark) of a UTF-8 file; _NotUtf8 if a part of it is not."""
    limits = current_limits()
    size = len(src) if isinstance(src, bytes) else src.stat().st_size
    with _byte_reader(src) as read:
        head = _read_head(read, size, name)
        lines = _sample_lines(head, complete=len(head) >= size)
        delimiter = detect_delimiter(lines)
        decimal = _detect_decimal(lines, delimiter)
        names = _header(lines, delimiter, name, limits.columns)
        if len(lines) < 2 and len(head) >= size:
            raise UserError(
                "csv.no_rows", "{file} has a header row but no data rows. Add rows of data below the header.", file=name
            )
        max_rows = _max_rows(limits, len(names))
        if size < ONE_PIECE_BYTES:  # parsed whole: refused before parsing, by its lines (cheap to count here)
            data = read(0, size) if size > len(head) else head
            if (rows := _rows_by_lines(data)) > max_rows:
                raise _too_many_rows(name, rows, len(names), limits)
    try:
        frame = _parse(src, name, delimiter, decimal, names, max_rows)
    except _TooManyRows as err:  # a big file is refused at the first part past the cap
        raise _too_many_rows(name, err.estimate, len(names), limits) from None
    frame = _compact_repeated_text(_convert_grouped_numbers(frame, decimal))
    _release_freed_memory()
    if len(frame) == 0:
        raise UserError(
            "csv.no_rows", "{file} has a header row but no data rows. Add rows of data below the header.", file=name
        )
    if len(frame.columns) == len(names):
        frame.columns = names
        # A trailing delimiter on every line (common in spreadsheet exports) makes an unnamed, empty column.
        blank = [c for i, c in enumerate(names) if c == f"column {i + 1}" and frame[c].isna().all()]
        if blank:
            frame = frame.drop(columns=blank)
    return frame, delimiter, decimal


def read_csv(source: Path | str | bytes, name: str | None = None) -> RawTable:
    """Read a CSV (path or uploaded bytes) into a RawTable, refusing what cannot be a usable table.

    A UTF-8 file is read a part at a time (see _PartReader); only other encodings are loaded
    into memory to be converted.
    """
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "the uploaded file")
    src, head = _open_source(source, name, current_limits().upload_bytes)
    n_bytes = len(src) if isinstance(src, bytes) else src.stat().st_size
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        src, encoding = _transcoded(src, "utf-16", name)
    else:
        _check_content(head, name)
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        if not _is_utf8(head, final=len(head) < SAMPLE_BYTES):  # most legacy files show it in their header
            src, encoding = _transcoded(src, "legacy", name)
    try:
        frame, delimiter, decimal = _read_utf8(src, name)
    except _NotUtf8:  # further down, the file is not UTF-8 after all
        src, encoding = _transcoded(src, "legacy", name)
        frame, delimiter, decimal = _read_utf8(src, name)
    return RawTable(name=name, frame=frame, encoding=encoding, delimiter=delimiter, decimal=decimal, n_bytes=n_bytes)
