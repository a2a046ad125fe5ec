"""Built-in datasets: scikit-learn's (bundled with it), our text and time-series samples; no network needed."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from core.data.archive import ArchiveFiles
from core.data.dataset import Dataset
from core.errors import UserError
from core.sources import sample_source

SAMPLES: dict[str, str] = {
    "iris": "Iris flowers: 150 rows, 4 measurements, 3 species (classification)",
    "wine": "Wines: 178 rows, 13 chemical measurements, 3 cultivars (classification)",
    "breast_cancer": "Breast tumours: 569 rows, 30 measurements, malignant or benign (classification)",
    "diabetes": "Diabetes: 442 patients, 10 measurements, disease progression after a year (regression)",
    "digits": "Handwritten digits: 1,797 grayscale 8×8 images, 10 classes (image classification)",
    "sms_spam": "SMS messages: 1,284 English texts, spam or not (text classification)",
    "zh_reviews": "Chinese shopping and hotel reviews: 4,000 texts, positive or negative (text classification)",
    "electrical_equipment": "Electrical equipment orders (euro area): 257 months, a turnover index to forecast (time series)",
    "co2_mauna_loa": "CO2 at Mauna Loa: 2,284 weekly readings 1958-2001, with gaps (time-series forecasting)",
}
# Real labelled texts shipped in core/data/text_samples (sources and licences: SOURCES.md there)
_TEXT_FILES = {"sms_spam": "sms_spam.csv", "zh_reviews": "zh_reviews.csv"}
TEXT_SAMPLES_DIR = Path(__file__).resolve().parent / "text_samples"
# Real public-domain series shipped in core/data/series_samples (SOURCES.md there)
_SERIES_FILES = {"electrical_equipment": "electrical_equipment.csv", "co2_mauna_loa": "co2_mauna_loa.csv"}
SERIES_SAMPLES_DIR = Path(__file__).resolve().parent / "series_samples"
_LOADERS = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer", "diabetes": "load_diabetes"}


def text_sample_file(name: str | None) -> Path | None:
    """The CSV file of a text sample (sms_spam.csv), None for other names."""
    return TEXT_SAMPLES_DIR / _TEXT_FILES[name] if name in _TEXT_FILES else None


def series_sample_file(name: str | None) -> Path | None:
    """The CSV file of a time-series sample, None for other names."""
    return SERIES_SAMPLES_DIR / _SERIES_FILES[name] if name in _SERIES_FILES else None


def _table(name: str, seed: int) -> Dataset:
    import sklearn.datasets

    # Here, not at the top: the Data page reads SAMPLES before it has data, without pandas.
    from core.data.csv_reader import RawTable
    from core.data.tables import prepare_table

    bunch = getattr(sklearn.datasets, _LOADERS[name])(as_frame=True)
    frame = bunch.frame.copy()
    if name == "diabetes":
        task = "regression"
    else:  # real class names, as a user's CSV would have them
        frame["target"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        task = "classification"
    raw = RawTable(name=sample_source(name), frame=frame, encoding="utf-8", delimiter=",", decimal=".", n_bytes=0)
    return prepare_table(raw, target="target", task=task, seed=seed)


def _digit_pngs() -> ArchiveFiles:
    """The 8×8 digits (0-16) as 0-255 grayscale PNGs in class folders, as if unzipped from an upload."""
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    files = []
    for i, (image, label) in enumerate(zip(pixels, bunch.target)):
        buf = io.BytesIO()
        Image.fromarray(image, "L").save(buf, format="PNG")
        files.append((f"digits/{label}/{i:04d}.png", buf.getvalue()))
    return ArchiveFiles(files=files)


def load_sample(name: str, seed: int = 42, series_settings: Any = None) -> Dataset:
    """One of SAMPLES as a Dataset, through the same code path as an uploaded file."""
    if name not in SAMPLES:
        raise UserError(
            "sample.unknown",
            "There is no built-in dataset called '{name}'. Choose one of: {names}.",
            name=name, names=", ".join(SAMPLES),
        )
    if name in _TEXT_FILES:
        from core.data.csv_reader import read_csv
        from core.data.tables import prepare_table

        raw = read_csv(TEXT_SAMPLES_DIR / _TEXT_FILES[name], sample_source(name))
        return prepare_table(raw, target="label", seed=seed, data_kind="text", text_column="text")
    if name in _SERIES_FILES:
        from core.data.csv_reader import read_csv
        from core.data.series import prepare_series

        return prepare_series(read_csv(SERIES_SAMPLES_DIR / _SERIES_FILES[name], sample_source(name)), series_settings)
    if name == "digits":
        from core.data.images import build_image_dataset

        return build_image_dataset(sample_source("digits"), _digit_pngs(), seed=seed)
    return _table(name, seed)
