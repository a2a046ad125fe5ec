"""How a data source is named: a path, an upload's file name, or "sample:NAME" for a built-in dataset.

Kept apart from core.data so that pages and the CLI can name sources without importing pandas.
"""
from __future__ import annotations

SAMPLE_PREFIX = "sample:"  # "sample:iris" names a built-in dataset (CLI argument, workspace, Dataset.name)


def sample_source(name: str) -> str:
    return SAMPLE_PREFIX + name


def sample_name(source: str | None) -> str | None:
    """"sample:iris" -> "iris"; None for any other source."""
    return source[len(SAMPLE_PREFIX):] if source and source.startswith(SAMPLE_PREFIX) else None
