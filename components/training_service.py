"""The server-wide TrainingService, shared by every session through st.cache_resource.

It holds no user data: only the warm worker processes and the queue that caps how many
runs train at once. Each run's data, events and model live in the owning session's
Workspace run directory.
"""
from __future__ import annotations

import os

import streamlit as st

MAX_CONCURRENT_ENV = "LAYERLAB_MAX_CONCURRENT_RUNS"
DEFAULT_MAX_CONCURRENT = 2  # two CPU cores: more parallel runs only slow each other down


def max_concurrent_runs() -> int:
    try:
        return max(1, int(os.environ.get(MAX_CONCURRENT_ENV, DEFAULT_MAX_CONCURRENT)))
    except ValueError:
        return DEFAULT_MAX_CONCURRENT


@st.cache_resource(show_spinner=False)
def get_training_service():  # -> core.training.TrainingService
    from core.training import TrainingService

    return TrainingService(max_concurrent=max_concurrent_runs())
