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
    a few empty cells, and the label column first (so the target must be picked)."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    rng = np.random.default_rng(7)
    lines = ["species;sepal length;sepal width;petal length;petal width"]
    for features, label in zip(iris.data, iris.target):
        cells = [f"{value:.1f}".replace(".", ",") for value in features]
        if rng.random() < 0.08:  # about one row in twelve misses a measurement
            cells[rng.integers(len(cells))] = ""
        lines.append(";".join([str(iris.target_names[label]), *cells]))
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


def zip_bytes(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def digits_zip_entries(per_class: int = 8, prefix: str = "my photos/", classes: tuple[int, ...] = (0, 1, 2)) -> dict[str, bytes]:
    """Class folders named zero/one/two... under `prefix`, PNG digits inside."""
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    return {
        f"{prefix}{names[label]}/img{i:03d}.png": encode_image(pixels)
        for i, (label, pixels) in enumerate(digit_images(per_class, classes))
    }
