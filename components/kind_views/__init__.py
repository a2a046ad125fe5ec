"""One small view per kind of data, for the parts of the pages that differ by kind.

Each module (table.py, images.py) has: `summary(dataset) -> str` (the Data page's line),
`worst_mistakes(evaluation, dataset)` and `try_it(ws, run)` (Evaluate). A new kind of data
adds its module here next to its core module in core/data/kinds.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any


def view_for(dataset: Any) -> ModuleType:
    """The view module of the dataset's kind (imported when first needed: it imports the page helpers)."""
    return import_module(f"components.kind_views.{dataset.kind}")
