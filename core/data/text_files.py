"""Reading one text document (a `.txt` file of a text zip): bytes -> str, and the encoding it was in.

Rules, in order (`decode_text`):
1. Empty -> "". A byte-order mark decides: UTF-8 (utf-8-sig), UTF-32 LE/BE, UTF-16 LE/BE.
2. Known binary formats, judged by their first bytes (PDF, PNG, JPEG, GIF, WebP, zip/.docx,
   old Office, ELF, gzip, 7z, RAR; and RTF, which is formatted text), are refused.
3. NUL bytes: UTF-16 without a byte-order mark (the NULs of ASCII-range characters all fall on
   one side of each byte pair), else binary data.
4. Valid UTF-8 -> utf-8 (ISO-2022-JP, which is 7-bit and so valid UTF-8 too, is recognised by its
   escape sequences). A file cut in the middle of its last character keeps a U+FFFD there.
5. Otherwise charset_normalizer picks a legacy encoding from a short list (CANDIDATES), looking
   at the first SAMPLE_BYTES only; the whole file is then decoded with it, strictly, or with
   U+FFFD for at most MAX_REPLACED of its characters.

Whatever the encoding, a text with a NUL or more than MAX_CONTROL_SHARE control characters is
binary data. Line ends become "\\n" and a leading byte-order mark is dropped; nothing else changes.

Why MAX_CHAOS = 0.2 (charset_normalizer's "chaos" is its mess ratio of the decoded text, 0 =
clean). Measured on reviews in 14 languages and 15 legacy encodings, 20 to 3,700 bytes each:
the right encoding scored at most 0.125 (a Polish pangram; other texts 0 to 0.075), so a
threshold below 0.13 refuses valid text. The wrong encodings offered next to the right one
scored 0 to 0.18, so chaos cannot tell a right answer from a wrong one: the choice among
candidates is made by chaos, then language coherence, then the language seen in each reading
(_LATIN_HOME), then PREFERENCE. Junk (random bytes with or without NULs, EBCDIC, a UTF-8 file
with a GBK half, GBK followed by Big5, compressed data) got no candidate even at a threshold of
1.0 (its chaos is above 1). 0.2, charset_normalizer's own default, keeps every right answer with
room to spare and refuses the junk.

How often the text came out exactly right, without `prefer` (random slices of one review per
language, 15 per length; slices that were pure ASCII left out): GB18030/GBK, Big5, EUC-KR,
Windows-1251 and 1256: 13-15 of 15 at 20 bytes, all from 40; Windows-1252 French and Spanish:
13-15 of 15 at every length; Shift-JIS, EUC-JP, KOI8-R, Greek, Hebrew: from 80 bytes (Hebrew 13
of 15 at 160); Polish and Czech (Windows-1250) from 160 bytes (Czech 12-14 of 15); Turkish
(Windows-1254) from 400 bytes. charset_normalizer's own best() read French and Spanish as
Windows-1250 ("naďve") at nearly every length.

Cannot be recognised reliably (see tests/unit/test_text_files.py): a document of a sentence or
less in a legacy encoding (20 to 40 bytes of Shift-JIS, KOI8-R or Hebrew read validly as another
encoding; pass `prefer`, the encoding most files of the same archive were read in, to settle
those); a short Czech or Turkish text (read as Windows-1252: "Èekali" for "Čekali"); Mac Roman
(read as a Windows code page, wrongly); UTF-16 without a byte-order mark and with few ASCII
characters (refused as binary); UTF-7 and HZ (left as their ASCII bytes); a byte damaged inside
a GBK character, which shifts the rest of its line (refused unless the line is short); a file
whose parts are in different encodings (refused).

No pandas, TensorFlow or Streamlit here; charset_normalizer is imported only for non-UTF-8 input.
"""
from __future__ import annotations

import codecs
import re

SAMPLE_BYTES = 64 * 1024  # what charset_normalizer sees; the whole file is decoded with its answer
MAX_CHAOS = 0.2  # see the module docstring
# Unreadable bytes that may become U+FFFD: this share of the characters, or one damaged
# character (a cut UTF-8 sequence gives one U+FFFD per byte), whichever is more.
MAX_REPLACED = 0.001
MAX_REPLACED_ANYWAY = 3
MAX_CONTROL_SHARE = 0.05  # random bytes read as text: about 11% C0 controls
_TIE_CHAOS = 0.005  # charset_normalizer's own tie margins (CharsetMatch.__lt__)
_TIE_COHERENCE = 0.02
_PREFER_MARGIN = 0.05  # `prefer` wins when its chaos is at most this much above the best answer's

# What charset_normalizer may answer, and the order in which a tie is broken. Chinese first
# (LayerLab's second language), then the other East Asian encodings, then Windows code pages.
# Left out on purpose: Thai (cp874), Vietnamese (cp1258) and Baltic (cp1257), which read most
# high bytes validly and won short Chinese and French texts in the measurements; Mac and DOS
# code pages; EBCDIC; UTF-7; UTF-16/32 (handled above, by byte-order mark and NULs).
PREFERENCE = (
    "gb18030", "big5", "cp932", "euc_jp", "cp949",
    "cp1252", "cp1250", "cp1251", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256", "latin_1",
)
CANDIDATES = list(PREFERENCE)
# Decoders tried in order for the whole file, strictly, once a sample chose the first one: the
# Windows supersets and the newer standards read the characters the older ones lack.
_FAMILIES = {
    "gb18030": ("gb18030",),  # a superset of GB2312 and GBK
    "big5": ("big5", "cp950", "big5hkscs"),
    "cp932": ("cp932", "shift_jis_2004"),  # Windows Shift-JIS (NEC and IBM extensions)
    "euc_jp": ("euc_jp", "euc_jis_2004"),
    "cp949": ("cp949",),  # a superset of EUC-KR
    "latin_1": ("cp1252", "latin-1"),
}
# The Latin code pages read each other's bytes as other letters of the same kind, and
# charset_normalizer often scores both readings the same (a French text read as Windows-1250:
# "naďve"; a Czech text read as Windows-1252: "Èekali jsme, pøimìøené"). The language it sees
# in each reading breaks the tie: French is at home in Windows-1252, "Slovak" is not.
_WESTERN = frozenset({"English", "Danish", "Dutch", "Finnish", "French", "German", "Indonesian", "Italian",
                      "Norwegian", "Portuguese", "Spanish", "Swedish"})
_LATIN_HOME = {
    "cp1252": _WESTERN,
    "latin_1": _WESTERN,
    "cp1250": frozenset({"Czech", "Croatian", "Hungarian", "Polish", "Romanian", "Slovak", "Slovene"}),
    "cp1254": frozenset({"Turkish"}),
}
# Tried by _damaged_multibyte when charset_normalizer offers nothing or a single-byte code page
# (which reads almost any bytes): East Asian text with a damaged byte fails every strict decoder.
_MULTIBYTE = ("gb18030", "big5", "cp932", "euc_jp", "cp949")
_MULTIBYTE_SHARE = 0.3
# UTF-16 without a byte-order mark: at least this share of the byte pairs has a NUL on one side
# (English 100%, a review mixing English, Chinese, Japanese, Arabic and emoji 47%; binary
# records such as b"hello\0world\0" 33%), and at most _UTF16_OTHER_SIDE on the other side
# (U+xx00 characters such as 一 U+4E00: about 2% of Chinese text).
_UTF16_NUL_SIDE = 0.4
_UTF16_OTHER_SIDE = 0.05

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

BINARY_NUL = "binary data, not text (it contains NUL bytes)"
BINARY_CONTROLS = "binary data, not text (it has many control characters)"
UNKNOWN_ENCODING = "text in an encoding LayerLab cannot recognise; save it as UTF-8"
DAMAGED_UNICODE = "damaged UTF-16 or UTF-32 text (it has a byte-order mark but cannot be read); save it as UTF-8"
RTF = "formatted text (an RTF document), not plain text; save it as plain text (.txt)"
_MAGIC = (
    ((b"%PDF-",), "binary data, not text (it looks like a PDF document)"),
    ((b"\x89PNG\r\n\x1a\n",), "binary data, not text (it looks like a PNG image)"),
    ((b"\xff\xd8\xff",), "binary data, not text (it looks like a JPEG image)"),
    ((b"GIF87a", b"GIF89a"), "binary data, not text (it looks like a GIF image)"),
    ((b"PK\x03\x04", b"PK\x05\x06"), "binary data, not text (it looks like a zip archive, such as a Word .docx file)"),
    ((b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",), "binary data, not text (it looks like an old Word or Excel document)"),
    ((b"\x7fELF",), "binary data, not text (it looks like a program)"),
    ((b"\x1f\x8b",), "binary data, not text (it looks like a gzip-compressed file)"),
    ((b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07"), "binary data, not text (it looks like a compressed archive)"),
    ((b"{\\rtf",), RTF),
)
_WEBP = "binary data, not text (it looks like a WebP image)"
# Every reason UnreadableText can carry: English fragments for core.i18n.CORE_FRAGMENTS.
REASONS = (BINARY_NUL, BINARY_CONTROLS, UNKNOWN_ENCODING, DAMAGED_UNICODE, _WEBP, *(reason for _, reason in _MAGIC))

_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # tab, LF, VT, FF, CR are text
# The same, counted in the bytes of UTF-8 and the legacy encodings here (a byte below 0x20 is
# always that control character in them): 1.5 ms a MB instead of 4.5 ms for the regex above.
_C0_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")


class UnreadableText(Exception):
    """A file that is not a readable text document; `.reason` fits a skipped-file list."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def decode_text(data: bytes, *, prefer: str | None = None) -> tuple[str, str]:
    """(text, encoding name) of a text file's bytes; UnreadableText if it is not text.

    The encoding name is a Python codec name ("utf-8", "utf-8-sig", "utf-16", "utf-16-le",
    "gb18030", "cp932", "cp1252"...), reading `data` again gives the same text (line ends aside).
    `prefer`: the legacy encoding most other files of the same archive were read in (a name this
    function returned); a short non-UTF-8 file that reads about as well in it is read in it."""
    if not data:
        return "", "utf-8"
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is not None:
        # FF FE 00 00 is also a UTF-16 mark followed by U+0000: UTF-16 if it is not UTF-32.
        read = _decode_all(data, (encoding, "utf-16") if encoding == "utf-32" else (encoding,))
        if read is None:
            raise UnreadableText(DAMAGED_UNICODE)
        text, encoding = read
    else:
        _refuse_known_formats(data)
        if b"\x00" in data:
            text, encoding = _utf16_without_bom(data)
        else:
            try:
                text, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError as err:
                text, encoding = _not_utf8(data, err, prefer)
            else:
                if b"\x1b$" in data:  # ISO-2022-JP: Japanese in 7 bits, switched in by ESC $ B
                    text, encoding = _iso2022(data, text)
    _refuse_controls(text, data, encoding)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removeprefix("\ufeff"), encoding


# Labels for the Data page, keyed by codecs.lookup(name).name.
ENCODING_LABELS = {
    "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16",
    "utf-32": "UTF-32", "utf-32-le": "UTF-32", "utf-32-be": "UTF-32",
    "gb18030": "GB18030 (Chinese)", "gbk": "GBK (Chinese)", "gb2312": "GB2312 (Chinese)",
    "big5": "Big5 (Traditional Chinese)", "cp950": "Big5 (Traditional Chinese)",
    "big5hkscs": "Big5-HKSCS (Traditional Chinese)",
    "cp932": "Shift-JIS (Japanese)", "shift_jis": "Shift-JIS (Japanese)", "shift_jis_2004": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)", "euc_jis_2004": "EUC-JP (Japanese)", "iso2022_jp": "ISO-2022-JP (Japanese)",
    "cp949": "EUC-KR (Korean)", "euc_kr": "EUC-KR (Korean)",
    "cp1252": "Windows-1252 (Western European)", "iso8859-1": "Latin-1 (Western European)",
    "cp1250": "Windows-1250 (Central European)", "cp1251": "Windows-1251 (Cyrillic)", "koi8-r": "KOI8-R (Russian)",
    "cp1253": "Windows-1253 (Greek)", "cp1254": "Windows-1254 (Turkish)", "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
}
_UTF8 = frozenset({"utf-8", "utf-8-sig", "ascii"})
# The notes' English templates, for core.i18n.CORE_FRAGMENTS (with the labels above).
NOTE_ONE = "{n} file(s) were not UTF-8 and were read as {encoding}."
NOTE_MANY = "{n} file(s) were not UTF-8: {details}."
NOTE_PART = "{n} read as {encoding}"


def text_encoding_note(encodings: dict[str, int]) -> str | None:
    """One line for the Data page when some files were not UTF-8, e.g. "12 file(s) were not UTF-8
    and were read as GB18030 (Chinese)."; None when all were UTF-8 (or ASCII).
    `encodings`: encoding name (as decode_text returns it) -> number of files."""
    counts: dict[str, int] = {}
    for name, n in encodings.items():
        try:
            key = codecs.lookup(name).name
        except LookupError:
            key = name
        if n > 0 and key not in _UTF8:
            label = ENCODING_LABELS.get(key, name)
            counts[label] = counts.get(label, 0) + n
    if not counts:
        return None
    total = sum(counts.values())
    if len(counts) == 1:
        return NOTE_ONE.format(n=total, encoding=next(iter(counts)))
    parts = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    details = ", ".join(NOTE_PART.format(n=n, encoding=label) for label, n in parts)
    return NOTE_MANY.format(n=total, details=details)


def _refuse_known_formats(data: bytes) -> None:
    for magics, reason in _MAGIC:
        if data.startswith(magics):
            raise UnreadableText(reason)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        raise UnreadableText(_WEBP)


def _refuse_controls(text: str, data: bytes, encoding: str) -> None:
    if "\x00" in text:
        raise UnreadableText(BINARY_NUL)
    if encoding.startswith(("utf-16", "utf-32", "iso2022", "latin")):  # not counted in bytes
        many = _many_controls(text)
    else:
        n = len(data) - len(data.translate(None, _C0_BYTES))
        if encoding.startswith("utf-8"):
            n += len(_C1_UTF8.findall(data))
        many = n > MAX_CONTROL_SHARE * len(text)
    if many:
        raise UnreadableText(BINARY_CONTROLS)


def _many_controls(text: str) -> bool:
    return len(_CONTROLS.findall(text)) > MAX_CONTROL_SHARE * len(text)


def _decode_all(data: bytes, decoders: tuple[str, ...]) -> tuple[str, str] | None:
    """(text, decoder) of the whole file in the first decoder that reads it strictly; else in the
    first one with U+FFFD for unreadable bytes when they are few (_few_replaced); else None."""
    for decoder in decoders:
        try:
            return data.decode(decoder), decoder
        except UnicodeDecodeError:
            pass
    text = data.decode(decoders[0], errors="replace")
    return (text, decoders[0]) if _few_replaced(text.count("\ufffd"), len(text)) else None


def _few_replaced(bad: int, n_chars: int) -> bool:
    return bad <= max(MAX_REPLACED_ANYWAY, MAX_REPLACED * n_chars)


def _sample(data: bytes, start: int = 0) -> bytes:
    """SAMPLE_BYTES from `start` (a character boundary), ending at a line end when there is one in
    the second half (no encoding here uses byte 0x0A inside a character), so no character is cut."""
    if len(data) - start <= SAMPLE_BYTES:
        return data[start:]
    cut = data.rfind(b"\n", start + SAMPLE_BYTES // 2, start + SAMPLE_BYTES)
    return data[start : cut + 1] if cut >= 0 else data[start : start + SAMPLE_BYTES]


def _utf16_without_bom(data: bytes) -> tuple[str, str]:
    """UTF-16 without a byte-order mark, recognised by where its NUL bytes fall: an ASCII-range
    character has one on its high side (odd offsets in little-endian). Anything else with NUL
    bytes is binary data (UnreadableText)."""
    sample = data[: min(len(data), SAMPLE_BYTES) // 2 * 2]
    pairs = max(1, len(sample) // 2)
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    decoder = "utf-16-le" if odd > even else "utf-16-be"
    if max(even, odd) >= _UTF16_NUL_SIDE * pairs and min(even, odd) <= _UTF16_OTHER_SIDE * pairs:
        read = _decode_all(data, (decoder,))
        if read is not None and "\x00" not in read[0] and not _many_controls(read[0]):
            return read
    raise UnreadableText(BINARY_NUL)


def _iso2022(data: bytes, ascii_text: str) -> tuple[str, str]:
    try:
        return data.decode("iso2022_jp"), "iso2022_jp"
    except UnicodeDecodeError:
        return ascii_text, "utf-8"  # an escape sequence by chance: the control check judges it


def _not_utf8(data: bytes, err: UnicodeDecodeError, prefer: str | None) -> tuple[str, str]:
    if err.reason == "unexpected end of data" and err.end == len(data):
        # Valid UTF-8 cut in the middle of its last character (a file truncated at N bytes).
        try:
            return data[: err.start].decode("utf-8") + "\ufffd", "utf-8"
        except UnicodeDecodeError:
            pass
    # The sample starts at the line of the first byte that is not UTF-8: a file whose first
    # 64 KB are ASCII is judged by its other characters. A line start is a character boundary.
    line = data.rfind(b"\n", 0, err.start) + 1
    sample = _sample(data, line if err.start - line <= SAMPLE_BYTES // 2 else err.start)
    read = _mostly_utf8(data, sample)
    if read is None:
        decoder = _choose_legacy(sample, prefer)
        if decoder is None or decoder not in _MULTIBYTE:
            decoder = _damaged_multibyte(sample) or decoder
        if decoder is None:
            raise UnreadableText(UNKNOWN_ENCODING)
        read = _decode_all(data, _FAMILIES.get(decoder, (decoder,)))
        if read is None:  # the rest of the file is not in the sample's encoding
            raise UnreadableText(UNKNOWN_ENCODING)
    return read[0], _reported_name(data, read[1])


def _mostly_utf8(data: bytes, sample: bytes) -> tuple[str, str] | None:
    """A UTF-8 file with a damaged byte or two: few U+FFFD and many well-formed multi-byte
    characters (a legacy file has the reverse: its accents and CJK characters are what fails)."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    if not _few_replaced(bad, len(text)) or good < 10 * max(1, bad):
        return None
    return _decode_all(data, ("utf-8",))


def _choose_legacy(sample: bytes, prefer: str | None) -> str | None:
    """charset_normalizer's answer among CANDIDATES with chaos <= MAX_CHAOS: the least chaos,
    then the most language coherence, then PREFERENCE; `prefer` when it is close enough."""
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(sample, cp_isolation=CANDIDATES, threshold=MAX_CHAOS) if m.chaos <= MAX_CHAOS]
    if not matches:
        return None
    least = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= least + _TIE_CHAOS]
    most = max(m.coherence for m in close)
    tied = [m for m in close if m.coherence >= most - _TIE_COHERENCE]
    rank = {name: i for i, name in enumerate(PREFERENCE)}
    # The language seen in each reading breaks the tie only when the readings differ in it (on
    # a short text the letter counts of both readings can say "Polish" for a Spanish text).
    by_language = len({m.language for m in tied}) > 1
    best = min(
        tied, key=lambda m: (by_language and not _at_home(m.encoding, m.language), rank.get(m.encoding, len(rank)))
    ).encoding
    if prefer and not prefer.lower().startswith("utf") and _same_codec(prefer, best) is False:
        chaos = next((m.chaos for m in matches if _same_codec(m.encoding, prefer)), None)
        if chaos is None:  # not a candidate, or it needs a family member to read the sample
            found = from_bytes(sample, cp_isolation=[prefer], threshold=MAX_CHAOS).best()
            chaos = found.chaos if found is not None else None
        if chaos is not None and chaos <= least + _PREFER_MARGIN:
            return prefer
    return best


def _at_home(encoding: str, language: str) -> bool:
    """Whether the language charset_normalizer sees in a reading is written in that code page."""
    return language.rstrip("\u2014") in _LATIN_HOME.get(encoding, ())


def _same_codec(a: str, b: str) -> bool | None:
    """Whether two names are one codec; None when one is no codec at all."""
    try:
        return codecs.lookup(a).name == codecs.lookup(b).name
    except LookupError:
        return None


def _damaged_multibyte(sample: bytes) -> str | None:
    """An East Asian encoding that reads the sample but for a few bytes (_few_replaced), in which
    at least _MULTIBYTE_SHARE of the characters are two-byte ones (a French text in CP1252 reads
    as Big5 with few errors too: an accent and the next letter make a Big5 character), and which
    charset_normalizer, shown the sample without the bad bytes, picks too (EBCDIC and Big5 bytes
    read as GB18030 with few errors: mojibake)."""
    for decoder in _MULTIBYTE:
        text = sample.decode(decoder, errors="replace")
        bad = text.count("\ufffd")
        wide = len(sample) - len(text)  # about one per character of two bytes or more
        if 0 < bad and _few_replaced(bad, len(text)) and wide >= _MULTIBYTE_SHARE * len(text):
            cleaned = text.replace("\ufffd", "").encode(decoder, errors="ignore")
            if _choose_legacy(cleaned, None) == decoder:
                return decoder
    return None


def _reported_name(data: bytes, decoder: str) -> str:
    """cp1252 when a Central European or Turkish choice reads the file exactly as cp1252 does
    (a German text, whose letters are the same in all three), so the note says what people
    expect; the decoder itself otherwise."""
    if decoder in ("cp1250", "cp1254", "latin-1"):
        try:
            if data.decode("cp1252") == data.decode(decoder):
                return "cp1252"
        except UnicodeDecodeError:
            pass
    return decoder


_HIGH = re.compile(rb"[\x80-\xff]")
_LETTERS = re.compile(rb"[A-Za-z]")
CJK_BYTE_SHARE = 0.4  # bytes >= 0x80 among them and the ASCII letters: CJK text, not accented words


def table_legacy_encoding(sample: bytes) -> str:
    """The codec for a CSV that is not UTF-8: a Chinese, Japanese or Korean one when its bytes
    say so, else cp1252 (the spreadsheet default in Western Europe, as before).

    A table is mostly ASCII (numbers, short labels), where charset_normalizer alone can mistake
    "Müller" for a GBK character. In Western text an accented letter is one byte among many ASCII
    letters; in Chinese, Japanese or Korean text nearly every letter is two bytes, mostly >= 0x80.
    So a multi-byte encoding is asked for only when such bytes outnumber the ASCII letters enough."""
    high = len(_HIGH.findall(sample))
    if not high or high < CJK_BYTE_SHARE * (high + len(_LETTERS.findall(sample))):
        return "cp1252"
    chosen = _choose_legacy(sample, None)
    return chosen if chosen in _MULTIBYTE else "cp1252"
