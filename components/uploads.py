"""An uploaded file is read once (Streamlit hands it back on every rerun), and the error it gave
is remembered and shown for as long as that file stays in its uploader; nothing done before is lost."""
from __future__ import annotations

from typing import Any

import streamlit as st


class UploadOnce:
    """Bookkeeping for one file_uploader, in the session's state under `name`."""

    def __init__(self, name: str) -> None:
        self._last = f"{name}.last_upload"
        self._error = f"{name}.upload_error"

    def is_new(self, uploaded: Any) -> bool:
        """True the first time this file is seen (the caller reads it then); its old error is cleared."""
        if uploaded is None or uploaded.file_id == st.session_state.get(self._last):
            return False
        st.session_state[self._last] = uploaded.file_id
        st.session_state[self._error] = None
        return True

    def failed(self, uploaded: Any, message: str) -> None:
        st.session_state[self._error] = (uploaded.file_id, message)

    def show_error(self, uploaded: Any) -> bool:
        """Show the error this file gave, if it is still the one in the uploader; True if shown."""
        failure = st.session_state.get(self._error)
        if uploaded is None or not failure or failure[0] != uploaded.file_id:
            return False
        st.error(failure[1], icon=":material/error:")
        return True
