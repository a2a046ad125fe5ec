"""Data ingestion: CSV tables, zips or folders of images, and built-in samples -> Dataset.

The names below are imported from their modules on first use (PEP 562), not with the
package: importing `core.data.kinds`, `core.data.limits` or reading `SAMPLES` must not cost
a page pandas, pyarrow and Pillow (about 0.5 s and 80 MB in a fresh server process) before
it has any data to show.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# name -> the core.data module that defines it
_HOMES = {
    "RawTable": "csv_reader", "read_csv": "csv_reader",
    "Dataset": "dataset", "Feature": "dataset", "SkippedFile": "dataset",
    "decode_image": "images", "load_image_folder": "images", "load_image_zip": "images",
    "Limits": "limits", "current_limits": "limits",
    "load_data": "loading", "load_zip": "archive_data", "load_folder": "archive_data",
    "SAMPLES": "samples", "load_sample": "samples",
    "TablePreprocessor": "tables", "prepare_table": "tables",
}

if TYPE_CHECKING:  # what linters and type checkers see; at run time __getattr__ imports these
    from core.data.csv_reader import RawTable, read_csv
    from core.data.dataset import Dataset, Feature, SkippedFile
    from core.data.images import decode_image, load_image_folder, load_image_zip
    from core.data.limits import Limits, current_limits
    from core.data.archive_data import load_folder, load_zip
    from core.data.loading import load_data
    from core.data.samples import SAMPLES, load_sample
    from core.data.tables import TablePreprocessor, prepare_table


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups find it here without calling __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "SAMPLES", "Dataset", "Feature", "Limits", "RawTable", "SkippedFile", "TablePreprocessor",
    "current_limits", "decode_image", "load_data", "load_folder", "load_zip", "load_image_folder", "load_image_zip", "load_sample",
    "prepare_table", "read_csv",
]
