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

WORKSPACE_KEY = "workspace"


@dataclass
class Workspace:
    dataset: Any = None  # core.data.Dataset
    raw_table: Any = None  # core.data RawTable, kept so target/kind changes skip re-reading
    data_source: str | None = None  # "sample:iris" or the uploaded file name
    spec: Any = None  # core.spec.ProjectSpec
    template_id: str | None = None
    runs: list = field(default_factory=list)  # core.training run records, newest last
    active_run: Any = None  # core.training.RunHandle while a run is going
    selected_run: int | None = None  # index into runs used by Evaluate / Export
    cache: dict = field(default_factory=dict)  # per-session derived results (evaluation, exports)
    data_version: int = 0  # bumped by set_dataset: a cache/widget key that changes with the data
    done_steps: set = field(default_factory=set)  # "evaluate"/"export" once shown (Home ticks them)
    temp_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="layerlab-")))

    def set_dataset(self, dataset: Any, source: str, raw_table: Any = None) -> None:
        """A new dataset invalidates everything derived from the old one, not the design."""
        self.dataset = dataset
        self.data_source = source
        self.raw_table = raw_table
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
        if self.active_run is not None:
            try:
                self.active_run.kill()
            except Exception:  # the worker may already be gone; cleanup must not fail
                pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __del__(self) -> None:
        # Streamlit drops session_state when a session ends: free its worker and files.
        self.cleanup()


def get_workspace() -> Workspace:
    if WORKSPACE_KEY not in st.session_state:
        st.session_state[WORKSPACE_KEY] = Workspace()
    return st.session_state[WORKSPACE_KEY]
