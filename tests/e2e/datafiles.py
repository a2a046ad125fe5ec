"""Files a user would upload, written at test time from scikit-learn's bundled datasets.

Nothing binary is committed: every CSV, zip and image is generated into the test's
temporary folder, small enough for a few seconds of training on two CPU cores.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits, load_iris, load_wine

DIGIT_NAMES = {0: "zero", 1: "one", 2: "two"}
IMAGES_PER_CLASS = 40
IMAGE_SIDE = 16


def spreadsheet_csv(folder: Path, name: str = "flowers export.csv") -> Path:
    """Iris as a European spreadsheet saves it: semicolons, decimal commas, string labels,
    a few empty cells, and the label column first (so the target must be picked)."""
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


def iris_csv(folder: Path, name: str = "garden_flowers.csv") -> Path:
    """Iris with its own column names (comma-separated, label last)."""
    iris = load_iris()
    header = "petal_len_user_a,petal_wid_user_a,sepal_len_user_a,sepal_wid_user_a,flower_kind"
    rows = [
        ",".join([f"{x[2]:.1f}", f"{x[3]:.1f}", f"{x[0]:.1f}", f"{x[1]:.1f}", str(iris.target_names[y])])
        for x, y in zip(iris.data, iris.target)
    ]
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def wine_csv(folder: Path, name: str = "cellar_wines.csv") -> Path:
    """Wine with distinctive column names (comma-separated, label last)."""
    wine = load_wine()
    header = ",".join([f"{feature.replace('/', '_')}_user_b" for feature in wine.feature_names] + ["cellar"])
    rows = [",".join([*(f"{v:.3f}" for v in x), f"cellar_{y}"]) for x, y in zip(wine.data, wine.target)]
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def digit_png(pixels_8x8: np.ndarray) -> bytes:
    """One scikit-learn digit (0–16 intensities) as a 16×16 grayscale PNG."""
    image = Image.fromarray((pixels_8x8.reshape(8, 8) * 255 / 16).astype(np.uint8), mode="L")
    buffer = io.BytesIO()
    image.resize((IMAGE_SIDE, IMAGE_SIDE), Image.NEAREST).save(buffer, format="PNG")
    return buffer.getvalue()


def _digit_samples() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    keep = np.isin(digits.target, list(DIGIT_NAMES))
    return digits.data[keep], digits.target[keep]


def digits_zip(folder: Path, name: str = "handwriting.zip") -> tuple[Path, str]:
    """Three class folders sitting two levels deep, one broken image, and macOS clutter.

    Returns the zip and the archive path of the broken image (the app must report it).
    """
    data, target = _digit_samples()
    broken = "scans 2024/digits/two/smudged.png"
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for label, class_name in DIGIT_NAMES.items():
            for number, pixels in enumerate(data[target == label][:IMAGES_PER_CLASS]):
                archive.writestr(f"scans 2024/digits/{class_name}/{class_name}_{number:03d}.png", digit_png(pixels))
        archive.writestr(broken, b"\x89PNG\r\n\x1a\n this is not really an image")
        archive.writestr("__MACOSX/scans 2024/digits/zero/._zero_000.png", b"\x00\x05\x16\x07")
    return path, broken


def new_digit_image(folder: Path, label: int = 1) -> Path:
    """A digit the zip does not contain, for the "try it" box on Evaluate."""
    data, target = _digit_samples()
    pixels = data[target == label][IMAGES_PER_CLASS + 5]
    path = folder / f"new_{DIGIT_NAMES[label]}.png"
    path.write_bytes(digit_png(pixels))
    return path


def not_a_zip(folder: Path) -> Path:
    path = folder / "holiday photos.zip"
    path.write_bytes(b"These are not photos, just a text file with a .zip name.\n" * 20)
    return path


def empty_csv(folder: Path) -> Path:
    path = folder / "empty.csv"
    path.write_bytes(b"")
    return path
