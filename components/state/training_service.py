"""The server-wide TrainingService, shared by every session through st.cache_resource.

It holds no user data: only the worker processes (one kept warm, with TensorFlow already
imported) and the queue that caps how many runs, and design searches' trial workers (their
slot leases, components/state/search.py), train at once for every session together
(LAYERLAB_MAX_CONCURRENT_RUNS, default 2). Each run's data, events and model live in the
owning session's Workspace run directory.
"""
from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner=False)
def get_training_service():  # -> core.training.service.TrainingService
    # Created on the first visit to the Train page, so the warm worker imports TensorFlow
    # while the user is still choosing settings.
    from core.training.service import TrainingService

    return TrainingService()
