"""Frees a closed browser tab's workspace: its training worker, temp files and memory.

How Streamlit 1.67 ends a session (streamlit/runtime/websocket_session_manager.py): when
the websocket closes, `disconnect_session` moves the AppSession into MemorySessionStorage,
a TTL cache (120 s) that lets a reconnecting tab resume it. Nothing is called when that
entry expires, and an expired entry is only dropped on the *next* write to the storage
(another tab's disconnect), so the session's state, its uploaded files
(`uploaded_file_mgr.remove_session_files` runs only from `AppSession.shutdown`) and
anything they hold can stay in memory indefinitely. `Workspace.__del__` therefore cannot
be relied on, and a session-scoped `st.cache_resource(on_release=...)` fires on every
disconnect, which would kill a run on a mere network blip.

So a server-wide SessionReaper watches the sessions that own a workspace (weak references
only: it keeps no user data alive) and, once Streamlit no longer has a session as active
for longer than it would allow a reconnect, cleans its workspace up and releases its
uploads and media files.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Callable, Protocol

from streamlit.logger import get_logger

GRACE_ENV = "LAYERLAB_SESSION_GRACE_S"
# MemorySessionStorage's TTL: a disconnected tab can resume its session for 120 s, so its
# run must keep going that long.
DEFAULT_GRACE_S = 120.0
SWEEP_INTERVAL_S = 5.0

_LOG = get_logger(__name__)  # Streamlit's logging setup: these lines appear in the server log


class Cleanable(Protocol):
    def cleanup(self) -> None: ...


def streamlit_is_active(session_id: str) -> bool:
    """Whether Streamlit has `session_id` as a connected session (thread-safe in 1.67)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and Runtime.instance().is_active_session(session_id)


def release_streamlit_files(session_id: str) -> None:
    """Drop the session's uploads and download buttons' files, as AppSession.shutdown would."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return
    runtime = Runtime.instance()
    runtime.uploaded_file_mgr.remove_session_files(session_id)
    runtime.media_file_mgr.clear_session_refs(session_id)
    runtime.media_file_mgr.remove_orphaned_files()


def grace_seconds() -> float:
    raw = os.environ.get(GRACE_ENV, "").strip()
    return float(raw) if raw else DEFAULT_GRACE_S


class SessionReaper:
    """Cleans up the workspace of every session that stayed disconnected past the grace time.

    Only sessions seen connected at least once are watched: under AppTest (no websocket)
    no session is ever active, and nothing is reaped.
    """

    def __init__(
        self,
        is_active: Callable[[str], bool] = streamlit_is_active,
        release_files: Callable[[str], None] = release_streamlit_files,
        grace_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._is_active = is_active
        self._release_files = release_files
        self.grace_s = grace_seconds() if grace_s is None else grace_s
        self._clock = clock
        self._lock = threading.Lock()
        self._workspaces: weakref.WeakValueDictionary[str, Cleanable] = weakref.WeakValueDictionary()
        self._gone_since: dict[str, float] = {}
        self._thread: threading.Thread | None = None

    def watch(self, session_id: str, workspace: Cleanable) -> None:
        """Called on every script run: cheap, and keeps the newest workspace of the session."""
        if not self._is_active(session_id):
            return
        with self._lock:
            if self._workspaces.get(session_id) is not workspace:
                self._workspaces[session_id] = workspace
            self._gone_since.pop(session_id, None)

    def watched(self) -> list[str]:
        with self._lock:
            return list(self._workspaces.keys())

    def sweep(self) -> list[str]:
        """Clean up every watched session gone for longer than the grace time; their ids."""
        now = self._clock()
        due: list[tuple[str, Cleanable | None]] = []
        with self._lock:
            for session_id in set(self._gone_since) | set(self._workspaces.keys()):
                if self._is_active(session_id):
                    self._gone_since.pop(session_id, None)
                    continue
                since = self._gone_since.setdefault(session_id, now)
                if now - since >= self.grace_s:
                    due.append((session_id, self._workspaces.pop(session_id, None)))
                    del self._gone_since[session_id]
        for session_id, workspace in due:  # outside the lock: killing a worker takes a moment
            try:
                if workspace is not None:
                    workspace.cleanup()
                self._release_files(session_id)
                _LOG.info("Freed the workspace of session %s (disconnected for %.0f s or more)", session_id, self.grace_s)
            except Exception:  # one bad session must not stop the others being freed
                _LOG.exception("cleaning up session %s failed", session_id)
        return [session_id for session_id, _ in due]

    def start(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Sweep in a daemon thread from now on (once per process)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, args=(interval_s,), name="layerlab-session-reaper", daemon=True)
            self._thread.start()

    def _loop(self, interval_s: float) -> None:
        while True:
            time.sleep(interval_s)
            self.sweep()


_reaper: SessionReaper | None = None
_reaper_lock = threading.Lock()


def session_reaper() -> SessionReaper:
    """The server's reaper, started on first use."""
    global _reaper
    with _reaper_lock:
        if _reaper is None:
            _reaper = SessionReaper()
            _reaper.start()
        return _reaper
