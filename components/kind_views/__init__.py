"""One small view per kind of data, for the parts of the pages that differ by kind.

Each module (table.py, images.py, text.py) has: `summary(dataset) -> str` (the Data page's line),
`worst_mistakes(evaluation, dataset)` and `try_it(ws, run)` (Evaluate). Optional: `export_notes(dataset)`
(drawn at the top of the Export page) and `KEEPS_UPLOAD = True` (the Data page keeps an uploaded zip's
bytes, to read it again when a setting changes). A new kind of data adds its module here next to its
core module in core/data/kinds.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any


def view_for(dataset: Any) -> ModuleType:
    """The view module of the dataset's kind (imported when first needed: it imports the page helpers)."""
    return import_module(f"components.kind_views.{dataset.kind}")
