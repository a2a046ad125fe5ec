"""Results derived from a session's runs (a loaded model, an evaluation, predictions, converted
files), computed once per key and kept in the workspace's cache, so a rerun of a page costs
no TensorFlow work. A UserError is kept too: the same model fails the same way next time."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.i18n import show_error
from components.state.workspace import Workspace
from core.errors import UserError


def computed_once(ws: Workspace, key: tuple, compute: Callable[[], Any] | None, *, spinner: str | None = None) -> Any:
    """`compute()`'s result for `key`, computed on first use; None (with the error shown) after a
    UserError. With `compute` None, only what is already kept (None if nothing is)."""
    if key not in ws.cache and compute is not None:
        try:
            if spinner:
                with st.spinner(spinner):
                    ws.cache[key] = compute()
            else:
                ws.cache[key] = compute()
        except UserError as err:
            ws.cache[key] = err
    result = ws.cache.get(key)
    if isinstance(result, UserError):
        show_error(result)
        return None
    return result
