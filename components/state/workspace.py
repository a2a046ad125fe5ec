"""One Workspace per browser session, kept in st.session_state.

Everything a user brings or makes (data, design, runs, exports) lives here and nowhere
global: Streamlit's caches are shared by every session on the server.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.state.backbones import BackboneFiles
from components.state.my_classes import MyClasses
from components.state.session_cleanup import session_reaper

WORKSPACE_KEY = "workspace"


@dataclass
class Workspace:
    dataset: Any = None  # core.data.Dataset
    raw_table: Any = None  # core.data RawTable, kept so target/kind changes skip re-reading
    raw_archive: bytes | None = None  # an uploaded zip whose kind re-reads it on a settings change (text)
    data_source: str | None = None  # "sample:iris" or the uploaded file name
    spec: Any = None  # core.spec.ProjectSpec
    template_id: str | None = None
    runs: list = field(default_factory=list)  # core.training run records, newest last
    active_run: Any = None  # core.training.RunHandle while a run is going
    selected_run: int | None = None  # index into runs used by Evaluate / Export
    cache: dict = field(default_factory=dict)  # per-session derived results (evaluation, exports)
    data_version: int = 0  # bumped by set_dataset: a cache/widget key that changes with the data
    done_steps: set = field(default_factory=set)  # "evaluate"/"export" once shown (Home ticks them)
    my_classes: MyClasses = field(default_factory=MyClasses)  # the Data page's "Make my own image classes"
    search_draft: Any = None  # components.state.search.SearchDraft: the Search tab's form
    search: Any = None  # components.state.search.SessionSearch: the design search started last
    backbones: BackboneFiles = field(default_factory=BackboneFiles)  # uploaded weights and .keras files (issue 22)
    temp_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="layerlab-")))
    closed: bool = False  # set by cleanup(): get_workspace() then starts a fresh one

    def set_dataset(self, dataset: Any, source: str, raw_table: Any = None, raw_archive: bytes | None = None) -> None:
        """A new dataset invalidates everything derived from the old one, not the design."""
        self.dataset = dataset
        self.data_source = source
        self.raw_table = raw_table
        self.raw_archive = raw_archive
        self.data_version += 1
        self.cache.clear()

    def mark_done(self, step: str) -> None:
        """Record that a workflow step ("evaluate", "export") was completed in this session."""
        self.done_steps.add(step)

    def run_dir(self, run_id: str) -> Path:
        path = self.temp_dir / "runs" / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def cleanup(self) -> None:
        """End the session's training worker, delete its files and let go of its data.

        Called by components.state.session_cleanup once the browser tab is gone for good (the
        object itself may stay referenced by Streamlit for a while, hence the data is
        dropped here rather than left to garbage collection)."""
        handle, self.active_run = self.active_run, None
        search, self.search = self.search, None
        for ending in (handle, getattr(search, "handle", None)):
            if ending is not None:
                try:
                    ending.kill()
                except Exception:  # the worker may already be gone; cleanup must not fail
                    pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        self.closed = True
        self.dataset = self.raw_table = self.raw_archive = None
        self.my_classes = MyClasses()
        self.search_draft = None
        self.backbones = BackboneFiles()
        self.runs = []
        self.cache = {}

    def __del__(self) -> None:
        # A fallback: Streamlit may drop a session's state without any hook being called.
        self.cleanup()


def get_workspace() -> Workspace:
    workspace = st.session_state.get(WORKSPACE_KEY)
    if workspace is None or workspace.closed:
        workspace = st.session_state[WORKSPACE_KEY] = Workspace()
    _watch_session(workspace)
    return workspace


def _watch_session(workspace: Workspace) -> None:
    """Have the server's reaper clean the workspace up once this tab is gone (weakly held)."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        session_reaper().watch(ctx.session_id, workspace)
