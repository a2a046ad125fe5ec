"""One entry point for every kind of source: a CSV, a zip, an image folder or "sample:NAME"."""
from __future__ import annotations

import zipfile
from pathlib import Path

from core.data.dataset import Dataset
from core.errors import UserError
from core.sources import sample_name

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
) -> Dataset:
    """Load and prepare a dataset; the kind of source is judged by what it is, not by its name alone."""
    from core.data.csv_reader import read_csv
    from core.data.images import load_image_folder, load_image_zip
    from core.data.samples import load_sample
    from core.data.tables import prepare_table

    text = str(source)
    sample = sample_name(text)
    if sample is not None:
        return load_sample(sample, seed=seed)
    path = Path(source)
    if path.is_dir():
        return load_image_folder(path, image_size=image_size, seed=seed)
    if not path.is_file():
        raise UserError("data.not_found", "{file} does not exist. Check the path.", file=text)
    suffix = path.suffix.lower()
    if suffix == ".zip" or (suffix not in TABLE_SUFFIXES and zipfile.is_zipfile(path)):
        return load_image_zip(path, path.name, image_size=image_size, seed=seed)
    return prepare_table(read_csv(path, path.name), target=target, task=task, kinds=kinds, seed=seed)
