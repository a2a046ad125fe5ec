"""One entry point for every kind of source: a CSV, a zip, an image folder or "sample:NAME"."""
from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.data.dataset import FORECAST, Dataset
from core.errors import UserError
from core.sources import sample_name

SERIES = "series"  # the kind a dated CSV becomes when forecast

# Read as tables whatever their content, so an Excel file gets the "save it as CSV" advice.
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods"}


def load_data(
    source: str | Path,
    *,
    target: str | None = None,
    task: str | None = None,
    kinds: dict[str, str] | None = None,
    seed: int = 42,
    image_size: tuple[int, int] | None = None,
    kind: str | None = None,
    text_column: str | None = None,
    text_settings: Any = None,
    series_settings: Any = None,
) -> Dataset:
    """Load and prepare a dataset; the kind of source is judged by what it is, not by its name alone.
    `kind` ("table", "text", "images", "series") insists on one; `text_column` implies "text";
    task "forecast" (or `series_settings`, core.data.series.SeriesSettings) implies "series"."""
    from core.data.csv_reader import read_csv
    from core.data.archive_data import load_folder, load_zip
    from core.data.samples import load_sample
    from core.data.tables import prepare_table

    text = str(source)
    if text_column is not None:
        kind = kind or "text"
    if task == FORECAST or series_settings is not None:
        kind = kind or SERIES
    if kind == SERIES and task not in (None, FORECAST):
        raise UserError("series.bad_task", "A time series is forecast: its task is 'forecast', not '{task}'.", task=task)
    sample = sample_name(text)
    if sample is not None:
        dataset = load_sample(sample, seed=seed, series_settings=series_settings)
        return _of_kind(dataset, kind, text)
    path = Path(source)
    if path.is_dir():
        return _of_kind(load_folder(path, image_size=image_size, seed=seed, text_settings=text_settings), kind, text)
    if not path.is_file():
        raise UserError("data.not_found", "{file} does not exist. Check the path.", file=text)
    suffix = path.suffix.lower()
    if suffix == ".zip" or (suffix not in TABLE_SUFFIXES and zipfile.is_zipfile(path)):
        dataset = load_zip(path, path.name, image_size=image_size, seed=seed, text_settings=text_settings)
        return _of_kind(dataset, kind, text)
    if kind == SERIES:
        from core.data.series import SeriesSettings, prepare_series

        settings = series_settings or SeriesSettings()
        if target is not None:
            settings = replace(settings, target=target)
        return prepare_series(read_csv(path, path.name), settings)
    if kind not in (None, "table", "text"):  # a CSV holds a table, or texts in one of its columns
        raise _wrong_kind(text, "table", kind)
    return prepare_table(read_csv(path, path.name), target=target, task=task, kinds=kinds, seed=seed, data_kind=kind,
                         text_column=text_column, text_settings=text_settings)


def _of_kind(dataset: Dataset, kind: str | None, source: str) -> Dataset:
    if kind is not None and dataset.kind != kind:
        raise _wrong_kind(source, dataset.kind, kind)
    return dataset


def _wrong_kind(source: str, found: str, wanted: str) -> UserError:
    return UserError(
        "data.wrong_kind",
        "{file} holds {found} data, so it cannot be read as {wanted}. Leave out --kind, or give a file of that kind.",
        file=source, found=found, wanted=wanted,
    )
