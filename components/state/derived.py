"""Results derived from a session's runs (an evaluation, predictions, converted files' paths),
computed once per key and kept in the workspace's cache, so a rerun of a page asks no worker
process again. A UserError is kept too: the same model fails the same way next time; when a
helper process failed instead (stopped, too slow), the message comes with a "Try again" button."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.i18n import show_error, t
from components.state.workspace import Workspace
from core.errors import UserError


def computed_once(ws: Workspace, key: tuple, compute: Callable[[], Any] | None, *, spinner: str | None = None,
                  retry_button: bool = True) -> Any:
    """`compute()`'s result for `key`, computed on first use; None (with the error shown) after a
    UserError. With `compute` None, only what is already kept (None if nothing is). After a
    helper's failure, a "Try again" button forgets the error (`retry_button` False: the caller's
    own button asks again, e.g. a form's submit)."""
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
        from core.training.task_service import RETRYABLE

        if retry_button and result.code in RETRYABLE:  # the message says "try again": forget it when the user does
            st.button(t("Try again"), key="retry_" + "_".join(map(str, key)), icon=":material/refresh:",
                      on_click=ws.cache.pop, args=(key, None))
        return None
    return result
