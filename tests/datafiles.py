"""Real data files for tests: scikit-learn's bundled datasets written as CSVs, images and zips.

The one home of test data builders: unit, app and browser tests all make their files here."""
from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

# The hostile files are the load test's too; their builders live with it (bench never imports tests).
from bench.hostile_files import (  # noqa: F401  (re-exported for the tests)
    big_png,
    canvases_zip,
    gif_with_big_canvas,
    png_with_note,
    wide_csv_bytes,
    zip_bytes,
    zip_with_many_entries,
)

_LOADERS = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer", "diabetes": "load_diabetes"}


def sklearn_frame(name: str, target: str = "target") -> pd.DataFrame:
    """A scikit-learn table with its target last; classification labels are the real class names."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, _LOADERS[name])(as_frame=True)
    frame = bunch.frame.copy().rename(columns={"target": target})
    if name != "diabetes":
        frame[target] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def csv_bytes(frame: pd.DataFrame, *, sep: str = ",", decimal: str = ".", encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False, sep=sep, decimal=decimal).encode(encoding)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# Files as users make them, uploaded by the app and browser tests (and read by the unit tests):
# a wine table with two label columns, spreadsheet exports, a cluttered zip of scans, junk.
# ---------------------------------------------------------------------------------------------

SCAN_CLASSES = {0: "zero", 1: "one", 2: "two"}  # the class folders of scanned_digits_zip
SCAN_IMAGES_PER_CLASS = 40
SCAN_IMAGE_SIDE = 16


def wine_frame() -> pd.DataFrame:
    """scikit-learn's wine table with two label columns: a strength band (2 classes) and the
    cultivar (3 classes, last), so changing the target changes the classes."""
    frame = sklearn_frame("wine", target="cultivar")
    strength = (frame["alcohol"] > frame["alcohol"].median()).map({True: "strong", False: "light"})
    frame.insert(len(frame.columns) - 1, "strength", strength)
    return frame


def german_excel_wine() -> bytes:
    """Wine as German Excel saves it: cp1252, `;`, decimal commas, 'proline' with thousands dots (1.065)."""
    frame = sklearn_frame("wine").rename(columns={"alcohol": "Alkohol", "malic_acid": "Äpfelsäure"})
    frame["proline"] = [f"{int(v):,}".replace(",", ".") for v in frame["proline"]]
    frame.loc[4, "Äpfelsäure"] = np.nan
    return csv_bytes(frame, sep=";", decimal=",", encoding="cp1252")


def spreadsheet_csv(folder: Path, name: str = "flowers export.csv") -> Path:
    """Iris as a European spreadsheet saves it: semicolons, decimal commas, string labels,
    a few empty cells, the label column first (so the target must be picked) and a text column
    of categories last (the garden bed, with blanks)."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    rng = np.random.default_rng(7)
    lines = ["species;sepal length;sepal width;petal length;petal width;bed"]
    beds = rng.choice(["north", "south", "shade", ""], len(iris.data), p=[0.4, 0.3, 0.25, 0.05])
    for features, label, bed in zip(iris.data, iris.target, beds):
        cells = [f"{value:.1f}".replace(".", ",") for value in features]
        if rng.random() < 0.08:  # about one row in twelve misses a measurement
            cells[rng.integers(len(cells))] = ""
        lines.append(";".join([str(iris.target_names[label]), *cells, str(bed)]))
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def garden_iris_csv(folder: Path, name: str = "garden_flowers.csv") -> Path:
    """Iris with its own column names (comma-separated, label last)."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    header = "petal_len_user_a,petal_wid_user_a,sepal_len_user_a,sepal_wid_user_a,flower_kind"
    rows = [
        ",".join([f"{x[2]:.1f}", f"{x[3]:.1f}", f"{x[0]:.1f}", f"{x[1]:.1f}", str(iris.target_names[y])])
        for x, y in zip(iris.data, iris.target)
    ]
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def cellar_wine_csv(folder: Path, name: str = "cellar_wines.csv") -> Path:
    """Wine with distinctive column names (comma-separated, label last)."""
    from sklearn.datasets import load_wine

    wine = load_wine()
    header = ",".join([f"{feature.replace('/', '_')}_user_b" for feature in wine.feature_names] + ["cellar"])
    rows = [",".join([*(f"{v:.3f}" for v in x), f"cellar_{y}"]) for x, y in zip(wine.data, wine.target)]
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _scan_png(pixels: np.ndarray) -> bytes:
    return encode_image(pixels, size=(SCAN_IMAGE_SIDE, SCAN_IMAGE_SIDE))


def scanned_digits_zip(folder: Path, name: str = "handwriting.zip") -> tuple[Path, str]:
    """Three class folders sitting two levels deep (16×16 PNG digits), one broken image, and
    macOS clutter. Returns the zip and the archive path of the broken image (the app must report it)."""
    broken = "scans 2024/digits/two/smudged.png"
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for label, class_name in SCAN_CLASSES.items():
            for number, (_, pixels) in enumerate(digit_images(SCAN_IMAGES_PER_CLASS, (label,))):
                archive.writestr(f"scans 2024/digits/{class_name}/{class_name}_{number:03d}.png", _scan_png(pixels))
        archive.writestr(broken, b"\x89PNG\r\n\x1a\n this is not really an image")
        archive.writestr("__MACOSX/scans 2024/digits/zero/._zero_000.png", b"\x00\x05\x16\x07")
    return path, broken


def new_digit_image(folder: Path, label: int = 1) -> Path:
    """A digit scanned_digits_zip does not contain, for the "try it" box on Evaluate."""
    _, pixels = digit_images(SCAN_IMAGES_PER_CLASS + 6, (label,))[-1]
    return write(folder / f"new_{SCAN_CLASSES[label]}.png", _scan_png(pixels))


def not_a_zip(folder: Path) -> Path:
    return write(folder / "holiday photos.zip", b"These are not photos, just a text file with a .zip name.\n" * 20)


def empty_csv(folder: Path) -> Path:
    return write(folder / "empty.csv", b"")


# ---------------------------------------------------------------------------------------------
# Images and zips of scikit-learn's digits.
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8), bunch.target


def digit_images(per_class: int, classes: tuple[int, ...] = (0, 1, 2)) -> list[tuple[int, np.ndarray]]:
    """(label, 8×8 uint8 grayscale) pairs from scikit-learn's digits."""
    images, labels = _digits()
    out = []
    for c in classes:
        out += [(c, images[i]) for i in np.flatnonzero(labels == c)[:per_class]]
    return out


def encode_image(pixels: np.ndarray, fmt: str = "PNG", mode: str | None = None, size: tuple[int, int] | None = None) -> bytes:
    """Pixels -> file bytes in `fmt`, optionally converted to `mode` and resized to (width, height)."""
    im = Image.fromarray(pixels)
    if size:
        im = im.resize(size, Image.Resampling.NEAREST)
    if mode:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def digits_zip_entries(per_class: int = 8, prefix: str = "my photos/", classes: tuple[int, ...] = (0, 1, 2)) -> dict[str, bytes]:
    """Class folders named zero/one/two... under `prefix`, PNG digits inside."""
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    return {
        f"{prefix}{names[label]}/img{i:03d}.png": encode_image(pixels)
        for i, (label, pixels) in enumerate(digit_images(per_class, classes))
    }


# ---------------------------------------------------------------- hostile archives and images
# (zips of many entries, big PNGs, big-canvas GIFs and wide tables: bench/hostile_files.py)


def bmp_rle_with_big_canvas(width: int, height: int) -> bytes:
    """A run-length BMP of about 100 bytes that fills a big canvas by skipping rows (RLE "delta"
    codes, up to 255 rows each), then ends."""
    import struct

    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00"
    jumps = [255] * (height // 255) + ([height % 255] if height % 255 else [])
    pixels = b"".join(b"\x00\x02\x00" + bytes([rows]) for rows in jumps) + b"\x00\x01"  # deltas, end of bitmap
    offset = 14 + 40 + len(palette)
    header = struct.pack("<2sL2HL", b"BM", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<L2l2H6L", 40, width, height, 1, 8, 1, len(pixels), 2835, 2835, 2, 0)  # 1 = RLE8
    return header + info + palette + pixels


def without_utf8_flag(data: bytes) -> bytes:
    """The zip with the "names are UTF-8" flag cleared in every header, as macOS's Finder writes
    names (UTF-8 bytes, no flag)."""
    import struct

    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        records, at = len(zf.infolist()), zf.start_dir
        for info in zf.infolist():
            out[info.header_offset + 7] &= ~0x08  # local header flags, bit 11
    for _ in range(records):
        out[at + 9] &= ~0x08  # central directory flags, bit 11
        name, extra, comment = struct.unpack_from("<3H", out, at + 28)
        at += 46 + name + extra + comment
    return bytes(out)


def daily_sales_frame(days: int, stores: int = 5, date_format: str = "%Y-%m-%d") -> pd.DataFrame:
    """A sales log: one row per store per day, so each date repeats `stores` times; target 'busy' (yes/no)."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-03-01", periods=days, freq="D")
    n = days * stores
    units = rng.poisson(40, n)
    return pd.DataFrame({
        "date": np.repeat(dates.strftime(date_format), stores),
        "store": np.tile([f"store {i}" for i in range(stores)], days),
        "units": units,
        "price": np.round(rng.uniform(1, 9, n), 2),
        "busy": np.where(units > 40, "yes", "no"),
    })


def shop_days_csv(days: int = 240) -> bytes:
    """A shop's daily log as a spreadsheet exports it: 'date' (31/01/2024), 'visitors', 'weekday' and
    'sales' with a weekly rhythm, and the usual mess: two rows out of order, one day missing, one
    day written twice, three empty sales cells. A table to the app until the user forecasts it."""
    rng = np.random.default_rng(8)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    weekly = np.array([0.8, 0.9, 1.0, 1.0, 1.2, 1.5, 0.6])[dates.dayofweek]
    visitors = np.round(200 * weekly + rng.normal(0, 10, days)).astype(int)
    sales = np.round(visitors * 2.5 + np.arange(days) * 0.2 + rng.normal(0, 15, days), 1)
    frame = pd.DataFrame({"date": dates.strftime("%d/%m/%Y"), "visitors": visitors,
                          "weekday": dates.day_name(), "sales": sales.astype(object)})
    frame.loc[[40, 90, 91], "sales"] = None  # empty cells
    frame = frame.drop(index=150)  # a missing day
    frame = pd.concat([frame.iloc[:60], frame.iloc[[59]], frame.iloc[60:]])  # a day written twice
    order = list(range(len(frame)))
    order[100], order[101] = order[101], order[100]  # two rows out of order
    return frame.iloc[order].to_csv(index=False).encode()


def harvest_dates_csv(first: int = 1950, last: int = 2023) -> bytes:
    """Yearly values dated '05/03/YYYY': 5 March or 3 May, every year alike, so the dates cannot tell."""
    years = np.arange(first, last + 1)
    rng = np.random.default_rng(12)
    values = np.round(50 + 0.8 * (years - first) + rng.normal(0, 3, len(years)), 2)
    return pd.DataFrame({"date": [f"05/03/{y}" for y in years], "harvest": values}).to_csv(index=False).encode()


def meter_rows_csv(rows: int = 300, columns: tuple[str, ...] = ("temperature", "load")) -> bytes:
    """Hourly meter readings without a date column (the rows are in time order): a daily rhythm."""
    rng = np.random.default_rng(9)
    hours = np.arange(rows)
    temperature = np.round(10 + 5 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.5, rows), 1)
    load = np.round(500 + 80 * np.sin(2 * np.pi * (hours - 3) / 24) - 4 * temperature + rng.normal(0, 5, rows), 1)
    frame = pd.DataFrame({"temperature": temperature, "load": load})
    return frame[list(columns)].to_csv(index=False).encode()


def long_header_csv_bytes(columns: int, name_length: int, rows: int = 12) -> bytes:
    """A header line of `columns` names `name_length` characters long, then rows of numbers."""
    names = [f"c{i:04d}_".ljust(name_length, "x") for i in range(columns - 1)] + ["label"]
    rng = np.random.default_rng(1)
    body = "".join(",".join(map(str, rng.integers(0, 100, columns - 1))) + f",{'ab'[i % 2]}\n" for i in range(rows))
    return (",".join(names) + "\n" + body).encode()


def shop_wine_frame(task: str = "classification") -> pd.DataFrame:
    """A user's CSV: two categorical columns (region, barrel), empty cells in numbers and categories;
    the target is the cultivar, or (regression) the colour intensity renamed "price"."""
    frame = sklearn_frame("wine", target="cultivar").iloc[:, [0, 1, 2, 9, -1]].copy()
    rng = np.random.default_rng(3)
    frame.insert(1, "region", rng.choice(["north", "south", "east", "west"], len(frame)))
    frame.insert(3, "barrel", rng.choice(["oak", "steel"], len(frame)))
    frame.loc[[4, 40, 90], "alcohol"] = np.nan
    frame.loc[[7, 70], "region"] = None
    if task == "regression":
        frame = frame.drop(columns="cultivar").rename(columns={"color_intensity": "price"})
    return frame


def survey_with_markers_frame(rows: int = 90, target: str = "score", seed: int = 5) -> pd.DataFrame:
    """A survey export as people and spreadsheets write it: a 1-5 rating column with '?', '-' and
    '4.0' cells, a weight column with '#DIV/0!', 'missing', '--', '.', 'unknown' and a 1e39 typo, a
    floor code column with a 1e39, a colour column, and a target with marker cells:
    `target` "score" (regression, numbers), "grade" (whole-number classes 1-3) or "verdict"
    (text classes, where 'unknown' is a real answer)."""
    rng = np.random.default_rng(seed)
    rating = rng.integers(1, 6, rows)
    weight = np.round(rng.normal(70, 12, rows), 1)
    frame = pd.DataFrame({
        "rating": rating.astype(str).astype(object),
        "weight": weight.astype(str).astype(object),
        "floor": rng.integers(0, 5, rows).astype(float),
        "colour": rng.choice(["red", "green", "blue"], rows),
    })
    frame.loc[[1, 17, 40], "rating"] = ["?", "-", "4.0"]
    frame.loc[[2, 9, 23, 31, 52, 60], "weight"] = ["#DIV/0!", "missing", "--", ".", "unknown", "1e39"]
    frame.loc[14, "floor"] = 1e39
    signal = rating + (weight - 70) / 12
    if target == "score":
        values = np.round(signal * 10 + rng.normal(0, 2, rows), 2).astype(str).astype(object)
        markers = ["?", "-", "n/a", "#VALUE!"]
    elif target == "grade":
        values = np.digitize(signal, [2.5, 4]).astype(int) + 1
        values = values.astype(str).astype(object)
        markers = ["?", "--", "missing", "#N/A"]
    else:
        values = np.where(signal > 3, "keep", np.where(signal > 2, "unknown", "drop")).astype(object)
        markers = ["?", "?", "?"]  # a text target: 'unknown' is a class, and so is '?'
    values[[5, 33, 47, 70][: len(markers)]] = markers
    frame[target] = values
    return frame


def mac_and_windows_entries(per_class: int = 7, seed: int = 2) -> list[tuple[str, bytes]]:
    """Class folders from two computers: "café" decomposed (NFD, as macOS writes it) for half its
    images and composed (NFC, as Windows does) for the rest, in the order they were added (not
    sorted), byte-identical copies (one in its own class, one later in another class) and a PNG cut
    off in its pixel data (its header still reads)."""
    import unicodedata

    classes = {0: "café", 1: "thé", 2: "eau"}
    entries = []
    for i, (label, pixels) in enumerate(digit_images(per_class + 1, tuple(classes))):
        folder = classes[label]
        if label == 0:  # half of the café pictures were added from a Mac
            folder = unicodedata.normalize("NFD" if i % 2 else "NFC", folder)
        entries.append((f"drinks/{folder}/img{i:03d}.png", encode_image(pixels)))
    entries = [entries[k] for k in np.random.default_rng(seed).permutation(len(entries))]
    first_the = next(data for name, data in entries if "/thé/" in name)
    first_eau = next(data for name, data in entries if "/eau/" in name)
    return entries + [
        ("drinks/thé/img900 copy.png", first_the),  # the same file twice in one class
        ("drinks/café/img901.png", first_eau),  # and once in another class, after the original
        ("drinks/eau/img902.png", first_eau[:-30]),  # cut off in its pixel data
    ]


def mac_and_windows_zip_bytes(per_class: int = 7, seed: int = 2) -> bytes:
    """mac_and_windows_entries zipped as macOS's Finder does: names in UTF-8 without the UTF-8 flag."""
    return without_utf8_flag(zip_bytes(dict(mac_and_windows_entries(per_class, seed))))


def phone_photo_jpeg(width: int, height: int, orientation: int = 6, fmt: str = "JPEG") -> bytes:
    """A colourful photo as a phone stores it: pixels as the sensor saw them (sideways for
    orientation 6, "turn 90° clockwise to display") and the turn in its EXIF block."""
    rows, cols = np.indices((height, width))
    pixels = np.stack([cols * 255 // max(width - 1, 1), rows * 255 // max(height - 1, 1), (rows * cols) % 256], -1)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buf, format=fmt, quality=90, exif=exif.tobytes())
    return buf.getvalue()


def photos_scans_and_logos() -> dict[str, bytes]:
    """Ordinary pictures in the modes and formats people have: phone photos turned by EXIF (JPEG,
    WebP), a big photo, a CMYK print file, a 16-bit scan, 1-bit line art, logos with transparency."""
    line_art = io.BytesIO()
    Image.fromarray(np.indices((40, 40)).sum(0) % 7 == 0).save(line_art, format="PNG")
    cmyk = io.BytesIO()
    Image.open(io.BytesIO(phone_photo_jpeg(60, 40, orientation=1))).convert("CMYK").save(cmyk, format="JPEG")
    return {
        "sideways phone photo.jpg": phone_photo_jpeg(64, 48),
        "upside-down phone photo.jpg": phone_photo_jpeg(50, 30, orientation=3),
        "sideways phone photo.webp": phone_photo_jpeg(64, 48, fmt="WEBP"),
        "big photo.jpg": phone_photo_jpeg(1600, 1200, orientation=1),
        "print file cmyk.jpg": cmyk.getvalue(),
        "scan 16-bit.png": big_png(64, "I;16"),
        "line art 1-bit.png": line_art.getvalue(),
        "logo palette transparent.png": big_png(64, "P"),
        "logo rgba.png": big_png(64, "RGBA"),
        "logo gray alpha.png": big_png(64, "LA"),
    }


# ---------------------------------------------------------------------------------------------
# Texts: real SMS messages (the sms_spam sample's file) in the shapes users bring them.
# ---------------------------------------------------------------------------------------------


def sms_frame(rows: int = 160) -> pd.DataFrame:
    """The first `rows` messages of the sms_spam sample (columns label, text)."""
    from core.data.samples import TEXT_SAMPLES_DIR

    return pd.read_csv(TEXT_SAMPLES_DIR / "sms_spam.csv", nrows=rows)


def messages_with_numbers_csv(rows: int = 160, seed: int = 3) -> bytes:
    """A message log: the hour it came, the number of links in it, the text, and spam or not. A
    table model uses the numbers and leaves the text out (until the user asks for a text model)."""
    frame = sms_frame(rows)
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "hour": rng.integers(0, 24, len(frame)),
        "links": rng.integers(0, 3, len(frame)),
        "message": frame["text"],
        "verdict": frame["label"],
    })
    return csv_bytes(table)


def text_folders_zip(per_class: int = 40) -> bytes:
    """A zip of class folders with one .txt file per message (messages/ham/0001.txt ...)."""
    frame = sms_frame(1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for label in ("ham", "spam"):
            texts = frame.loc[frame["label"] == label, "text"].head(per_class)
            for number, text in enumerate(texts, start=1):
                archive.writestr(f"messages/{label}/{number:04d}.txt", str(text))
    return buffer.getvalue()


# Texts: slices of the shipped text samples (core/data/text_samples), hostile texts, CSVs in the
# encodings spreadsheets save, and zips of .txt class folders in the encodings editors save.
# ---------------------------------------------------------------------------------------------

# What a text model must read unchanged and tokenise exactly as Keras does: mixed scripts, emoji
# (ZWJ sequences, flags, skin tones), accented capitals, full-width punctuation and U+3000, odd
# spaces and line ends, control characters, combining marks, punctuation only, empty, long.
HOSTILE_TEXTS = [
    "Hello, World! ÉCOLE École façade NAÏVE",
    "中文的句子，很好。没有空格的文字",
    "日本語の文章です！カタカナもある",
    "한국어 문장입니다. 띄어쓰기가 있어요",
    "العربية جميلة، أليس كذلك؟",
    "עברית כתובה מימין לשמאל",
    "Ελληνικά ΚΕΦΑΛΑΙΑ και μικρά",
    "Русский ТЕКСТ с Заглавными",
    "emoji 👍 👍🏽 👍🏿 family 👨‍👩‍👧‍👦 kiss 👩‍❤️‍💋‍👨 flags 🇫🇷🇯🇵 🏳️‍🌈 heart ❤️",
    "full　width，ｐｕｎｃｔ！ＡＢＣ（括弧）　ideographic space",
    "no\u00a0break\u00a0space and narrow\u202fno-break",
    "tabs\tand\rcarriage\nline\x0bvertical\x0cform feed\r\nend",
    "unit\x1cfile\x1dgroup\x1erecord\x1fseparators and next\x85line line\u2028paragraph\u2029end",
    "ogham\u1680space en\u2002quad em\u2003space hair\u200aspace math\u205fspace",
    "combining e\u0301 a\u0308 o\u0302\u0323 and \u0301leading",
    "zero\u200dwidth\u200bjoiner\u200cnon-joiner \ufeffbom",
    "marks \u200fright-to-left \u200eleft-to-right \u202eoverride",
    "a long text that is much longer than the sequence length " * 12,
    "",
    "!!! ... ??? ,,, --- ''' \"\"\" ()[]{} @#$%^&*",
    "   leading and trailing spaces   ",
    "'quoted' \"double\" back\\slash under_score e-mail@example.com C++ 3.14",
    "mixed English中文混合text and 日本語mixed",
    "ＦＵＬＬ ＷＩＤＴＨ ｌａｔｉｎ and Ⅻ ① ㊙",
    "ß ẞ İ ı ǅ ﬁ ligature",
    "x",
]
# Texts a CSV cell or a .txt file must bring back exactly (no control characters a CSV refuses).
MIXED_TEXTS = [
    "Mixed: 中文 日本語 한국어 العربية עברית Ελληνικά Русский 👨‍👩‍👧‍👦 🇫🇷 👍🏽 — ok?",
    "Line one\nline two, with \"quotes\" and a comma\r\nthird line",
    "Café ÉCOLE naïve – “curly” quotes, €5 and ½ price",
    "full　width，ｐｕｎｃｔ！ and no\u00a0break space\ttab",
]
# Japanese reviews (a Shift-JIS .txt is recognised from about 80 bytes: core/data/text_files.py)
JA_REVIEWS = [
    "このホテルは駅から歩いて五分ほどで、とても便利な場所にあります。部屋は清潔で静かでした。",
    "朝食のバイキングは種類が多く、特に和食がおいしかったです。スタッフの対応も丁寧でした。",
    "部屋が狭くて、エアコンの音がうるさくて眠れませんでした。二度と泊まりたくないです。",
    "予約した部屋と違う部屋に案内され、説明もありませんでした。とても残念なホテルです。",
]


def text_sample_frame(name: str, rows: int) -> pd.DataFrame:
    """The first `rows` rows of a shipped text sample ("sms_spam" or "zh_reviews": label,text),
    both classes in each (the files alternate their classes near the top)."""
    from core.data.samples import TEXT_SAMPLES_DIR

    return pd.read_csv(TEXT_SAMPLES_DIR / f"{name}.csv", nrows=rows, dtype=str, keep_default_na=False)


def reviews_frame(rows: int = 150) -> pd.DataFrame:
    """SMS messages as "label,text" with MIXED_TEXTS in some rows (every 9th from row 3)."""
    frame = text_sample_frame("sms_spam", rows)
    for i, text in enumerate(MIXED_TEXTS):
        frame.loc[3 + 9 * i, "text"] = text
    return frame


def text_csv_bytes(frame: pd.DataFrame, *, encoding: str = "utf-8", bom: bool = False, newline: str = "\n") -> bytes:
    """A CSV as spreadsheets save it: `encoding`, an optional UTF-8 byte-order mark, `newline` line ends
    (the cells keep their own line breaks, quoted)."""
    import codecs

    data = frame.to_csv(index=False, lineterminator=newline).encode(encoding)
    return (codecs.BOM_UTF8 + data) if bom else data


def text_zip_entries() -> tuple[dict[str, bytes], dict[str, str]]:
    """A zip of review .txt files in class folders (positive/, negative/) under a top folder, in the
    encodings editors save: UTF-8, UTF-16 with a byte-order mark, GBK (Chinese), Shift-JIS
    (Japanese), Windows-1252 (curly quotes and €); plus macOS's __MACOSX clutter, an empty .txt, a
    .txt that is really a PNG and a notes file outside the class folders. Returns the entries and
    the text each readable file holds."""
    sms = text_sample_frame("sms_spam", 60)
    zh = text_sample_frame("zh_reviews", 24)
    english = {"ham": "positive", "spam": "negative"}
    entries: dict[str, bytes] = {}
    texts: dict[str, str] = {}

    def add(path: str, text: str, encoding: str, bom: bytes = b"") -> None:
        entries[path] = bom + text.encode(encoding)
        texts[path] = text

    top = "my reviews 2024/"
    for i, (label, text) in enumerate(zip(sms["label"], sms["text"])):
        add(f"{top}{english[label]}/sms_{i:03d}.txt", text, "utf-8")
    for i, (label, text) in enumerate(zip(zh["label"], zh["text"])):
        add(f"{top}{label}/zh_{i:03d}.txt", text, "gbk")
    for i, text in enumerate(JA_REVIEWS):
        add(f"{top}{'positive' if i < 2 else 'negative'}/ja_{i}.txt", text, "shift_jis")
    add(f"{top}positive/mixed utf16.txt", MIXED_TEXTS[0], "utf-16-le", b"\xff\xfe")
    add(f"{top}negative/mixed utf16.txt", MIXED_TEXTS[1].replace("\r\n", "\n"), "utf-16-le", b"\xff\xfe")
    add(f"{top}positive/windows.txt", "Café was “great” – only €5, naïve but nice. We'd come back to the café.", "cp1252")
    entries[f"{top}negative/empty.txt"] = b""
    entries[f"{top}negative/photo.txt"] = encode_image(np.zeros((8, 8), dtype=np.uint8))
    entries[f"__MACOSX/{top}positive/._sms_000.txt"] = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X"
    entries[f"{top}.DS_Store"] = b"\x00\x00\x00\x01Bud1" + bytes(64)
    return entries, texts


def zip_of_texts(texts: dict[str, str], encoding: str = "utf-8") -> bytes:
    """A zip of .txt files (path -> text) in one encoding."""
    return zip_bytes({path: text.encode(encoding) for path, text in texts.items()})


# ---------------------------------------------------------------------------------------------
# Time series as people export them (the series kind): the shipped samples in the styles they
# were published in, spreadsheets from other locales, sensor logs, shop sales with the usual mess.
# Each builder gives the file's bytes; the messy ones also give the clean series they came from.
# ---------------------------------------------------------------------------------------------

SERIES_SAMPLES = Path(__file__).resolve().parent.parent / "core" / "data" / "series_samples"


def series_sample_frame(name: str) -> pd.DataFrame:
    """A shipped sample (core/data/series_samples/NAME.csv) as pandas reads it."""
    return pd.read_csv(SERIES_SAMPLES / f"{name}.csv")


def dated_csv(stamps: list[str], columns: dict[str, list], *, date_name: str = "date", sep: str = ",",
              decimal: str = ".", extra_lines: tuple[str, ...] = ()) -> bytes:
    """A CSV of a date column and value columns, written cell by cell (None: an empty cell);
    `extra_lines` are appended as they are (a total row, empty rows)."""
    def cell(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return str(value).replace(".", decimal) if isinstance(value, float) else str(value)

    def line(cells: list[str]) -> str:  # quoted where a cell holds the separator ("Jan 31, 2024")
        return sep.join(f'"{c}"' if sep in c or '"' in c else c for c in cells)

    lines = [line([date_name, *columns])]
    for k, stamp in enumerate(stamps):
        lines.append(line([stamp, *(cell(values[k]) for values in columns.values())]))
    return ("\n".join([*lines, *extra_lines]) + "\n").encode()


def seasonal_values(n: int, season: int = 12, level: float = 100.0, seed: int = 0) -> np.ndarray:
    """A trend, a season and noise, rounded to 2 decimals (as an export shows them)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.round(level + 0.05 * t + 10 * np.sin(2 * np.pi * t / season) + rng.normal(0, 1, n), 2)


def co2_yyyymmdd_csv() -> bytes:
    """The co2 sample as statsmodels publishes it: dates as whole numbers (19580329), 59 empty values."""
    frame = series_sample_frame("co2_mauna_loa")
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y%m%d").astype(int)
    return frame.to_csv(index=False).encode()


def elec_equip_published_csv() -> bytes:
    """The electrical equipment sample with its published dates ("Jan-01-1996") and column names."""
    frame = series_sample_frame("electrical_equipment")
    frame["month"] = pd.to_datetime(frame["month"]).dt.strftime("%b-%d-%Y")
    return frame.rename(columns={"month": "DATE", "turnover_index": "STS.M.I7.W.TOVT.NS0016.4.000"}).to_csv(index=False).encode()


def sunspots_csv(first: int = 1700, last: int = 2008) -> bytes:
    """Yearly sunspot-like numbers with the year as statsmodels writes it ("1700.0"): an 11-year cycle."""
    years = np.arange(first, last + 1)
    rng = np.random.default_rng(11)
    activity = np.round(np.abs(80 * np.sin(np.pi * (years - first) / 11) + rng.normal(0, 8, len(years))), 1)
    return pd.DataFrame({"YEAR": years.astype(float), "SUNACTIVITY": activity}).to_csv(index=False).encode()


def european_meter_csv(hours: int = 600) -> tuple[bytes, pd.DataFrame]:
    """An energy meter exported by a German spreadsheet: ';', "31.01.2024 13:00", decimal commas and
    thousands dots ("1.234,5"). Also gives the clean frame (timestamp index, both columns)."""
    stamps = pd.date_range("2024-01-01", periods=hours, freq="h")
    load = np.array([float(f"{v:.1f}") for v in seasonal_values(hours, season=24, level=1200.0, seed=4)])
    temperature = np.array([float(f"{v:.1f}") for v in 5 + 4 * np.sin(2 * np.pi * np.arange(hours) / 24 - 2)])

    def german(value: float) -> str:
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")

    lines = ["Zeitstempel;Temperatur;Verbrauch kWh"]
    lines += [f"{s:%d.%m.%Y %H:%M};{german(t)};{german(v)}" for s, t, v in zip(stamps, temperature, load)]
    clean = pd.DataFrame({"Temperatur": temperature, "Verbrauch kWh": load}, index=stamps)
    return ("\n".join(lines) + "\n").encode("cp1252"), clean


def shop_sales_csv(days: int = 400, seed: int = 5) -> tuple[bytes, pd.Series]:
    """A shop's daily sales as exported by hand: US dates (01/31/2024), days with no row, one day
    exported twice (the same row), the rows out of order, a 'Total' row and empty rows at the end.
    Also gives the clean daily series (before the mess)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    sales = pd.Series(np.round(200 + 40 * np.sin(2 * np.pi * np.arange(days) / 7) + rng.normal(0, 10, days), 2),
                      index=dates)
    rows = [(d, v) for d, v in sales.items()]
    missing = {10, 11, 57, 200, 201, 202, 333}
    rows = [r for k, r in enumerate(rows) if k not in missing]
    rows.append(rows[100])  # the same day exported twice
    order = rng.permutation(len(rows))
    lines = ["Date,Sales"] + [f"{rows[k][0]:%m/%d/%Y},{rows[k][1]}" for k in order]
    lines += [f"Total,{round(float(sales.drop(sales.index[list(missing)]).sum()), 2)}", ",", ","]
    return ("\n".join(lines) + "\n").encode(), sales


def dst_hourly_csv(zone_offsets: bool = True) -> bytes:
    """Hourly readings over the European spring DST change (2024-03-31) written with their local
    offsets (2024-03-31T01:00:00+01:00, then 03:00:00+02:00), or as local times without them."""
    utc = pd.date_range("2024-03-25", periods=24 * 14, freq="h", tz="UTC")
    local = utc.tz_convert("Europe/Berlin")
    stamps = [s.isoformat() for s in local] if zone_offsets else [f"{s:%Y-%m-%d %H:%M}" for s in local]
    return dated_csv(stamps, {"kw": list(seasonal_values(len(utc), season=24, seed=9))}, date_name="time")


def unix_sensor_csv(unit: str = "s", rows: int = 3000, step: int = 600, jitter: int = 20, seed: int = 2) -> tuple[bytes, np.ndarray]:
    """A sensor logging every `step` seconds, each reading up to `jitter` seconds late, with a
    three-hour outage; the time as Unix seconds or milliseconds. Also gives the true readings' times (seconds)."""
    rng = np.random.default_rng(seed)
    start = 1_709_251_200  # 2024-03-01 00:00 UTC
    times = start + np.arange(rows) * step + rng.integers(0, jitter + 1, rows)
    keep = np.ones(rows, bool)
    keep[1000 : 1000 + 3 * 3600 // step] = False
    times = times[keep]
    values = np.round(20 + 3 * np.sin(2 * np.pi * (times - start) / 86400) + rng.normal(0, 0.2, len(times)), 2)
    stamps = times * 1000 + rng.integers(0, 1000, len(times)) if unit == "ms" else times
    frame = pd.DataFrame({"timestamp": stamps, "temperature_c": values})
    return frame.to_csv(index=False).encode(), times


def big_series_csv(rows: int = 1_000_000, series: int = 5, style: str = "%Y-%m-%d %H:%M") -> bytes:
    """`rows` minutes of `series` columns, dates in `style` (a strftime format)."""
    stamps = pd.date_range("2020-01-01", periods=rows, freq="min")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"s{k}": np.round(rng.normal(0, 1, rows).cumsum(), 3) for k in range(series)})
    frame.insert(0, "time", stamps.strftime(style))
    return frame.to_csv(index=False).encode()


# Time series: dated CSVs as people export them (forecasting, issue 20).
# ---------------------------------------------------------------------------------------------


def monthly_sales_frame(months: int = 84, date_format: str = "%d.%m.%Y", seed: int = 4) -> pd.DataFrame:
    """A shop's monthly sales (a trend, a yearly season, noise) and the month's mean temperature as a
    second series, dated on each month's last day from January 2016 (31.01.2016: a day above 12 tells
    the order), newest row first, as exports often are; one month has no row and one sales cell is empty."""
    rng = np.random.default_rng(seed)
    k = np.arange(months)
    season = np.sin(2 * np.pi * k / 12)
    frame = pd.DataFrame({
        "month": pd.date_range("2016-01-31", periods=months, freq="ME").strftime(date_format),
        "temperature": np.round(12 + 9 * season + rng.normal(0, 1, months), 1),
        "sales": np.round(200 + 1.5 * k + 40 * season + rng.normal(0, 5, months), 1),
    })
    frame.loc[int(months * 0.36), "sales"] = np.nan  # July 2018 in 84 months
    return frame.drop(index=int(months * 0.6)).iloc[::-1].reset_index(drop=True)  # March 2020


def machine_faults_frame(ok: int = 540, faults: int = 60, seed: int = 11) -> pd.DataFrame:
    """A skewed table (9:1 by default): sensor readings of machines, most 'ok', a few 'fault'. The
    classes overlap (a fault reads a little hotter and shakier), so a model that mostly says 'ok'
    scores well on accuracy and finds few faults unless the classes are balanced."""
    rng = np.random.default_rng(seed)
    status = np.array(["ok"] * ok + ["fault"] * faults, dtype=object)
    shift = np.where(status == "fault", 1.0, 0.0)
    frame = pd.DataFrame({
        "temperature": np.round(60 + 5 * (rng.normal(0, 1, len(status)) + shift), 2),
        "vibration": np.round(1 + 0.2 * (rng.normal(0, 1, len(status)) + shift), 3),
        "status": status,
    })
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
