"""Real data files for tests: scikit-learn's bundled datasets written as CSVs, images and zips."""
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


def wide_csv_bytes(rows: int, columns: int, *, high: int = 10, seed: int = 0) -> bytes:
    """A wide, dense table of small whole numbers (0..high-1) with a 3-class 'label' last: 2 bytes a cell."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, high, (rows, columns - 1))
    header = ",".join(f"f{i}" for i in range(columns - 1)) + ",label\n"
    body = "".join(",".join(map(str, row)) + f",{'abc'[i % 3]}\n" for i, row in enumerate(values.tolist()))
    return (header + body).encode()


def long_header_csv_bytes(columns: int, name_length: int, rows: int = 12) -> bytes:
    """A header line of `columns` names `name_length` characters long, then rows of numbers."""
    names = [f"c{i:04d}_".ljust(name_length, "x") for i in range(columns - 1)] + ["label"]
    rng = np.random.default_rng(1)
    body = "".join(",".join(map(str, rng.integers(0, 100, columns - 1))) + f",{'ab'[i % 2]}\n" for i in range(rows))
    return (",".join(names) + "\n" + body).encode()
