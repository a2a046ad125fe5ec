"""The Train page's settings form, generated from the catalog like the designer's layer forms.

Every optimizer setting (core.catalog.OPTIMIZERS) and every training setting
(core.catalog.TRAINING_PARAMS) gets its widget from components.layer_form, with the
catalog's range, default, label and help; a setting added to the catalog shows up here.
"""
from __future__ import annotations

import streamlit as st

from components.i18n import t
from components.layer_form import param_input
from components.state.workspace import Workspace
from core.catalog import OPTIMIZERS, TRAINING_PARAMS

OPTIMIZER_KEY = "train_optimizer"
# Widget keys that people's scripts and tests use ("epochs" above all); other training
# settings are keyed "train_<name>".
TRAINING_KEYS = {
    "epochs": "epochs",
    "batch_size": "train_batch_size",
    "early_stopping_patience": "train_patience",
    "seed": "train_seed",
    "balance_classes": "balance_classes",  # issue 25's stable key
}
CLASSIFICATION_ONLY = {"balance_classes"}  # settings a regression or a forecast has no use for


def training_key(name: str) -> str:
    return TRAINING_KEYS.get(name, f"train_{name}")


def optimizer_key(optimizer: str, name: str) -> str:
    """"train_learning_rate_SGD": the optimizer's name is part of the key, so switching optimizer
    makes new widgets that start from that optimizer's own defaults."""
    return f"train_{name}_{optimizer}"


def settings_form(ws: Workspace) -> None:
    """Optimizer and training settings; every change is written back to the spec at once."""
    spec = ws.spec
    optimizer = dict(spec.optimizer or {})
    training = dict(spec.training or {})
    names = list(OPTIMIZERS)
    current = optimizer.get("type") if optimizer.get("type") in names else names[0]
    locked = ws.active_run is not None  # a running job keeps the settings it started with

    cols = st.columns(3)
    with cols[0]:
        chosen = st.selectbox(t("Optimizer"), names, index=names.index(current), key=OPTIMIZER_KEY, disabled=locked)
        entry = OPTIMIZERS[chosen]
        st.caption(t(entry.help))
        # Each optimizer has its own sensible learning rate: another optimizer starts from its defaults.
        start = {**entry.defaults(), **optimizer} if chosen == optimizer.get("type") else entry.defaults()
        optimizer_values = {
            param.name: param_input(param, start[param.name], optimizer_key(chosen, param.name), disabled=locked)
            for param in entry.params
        }
    task = ws.dataset.task if ws.dataset is not None else spec.task
    params = [p for p in TRAINING_PARAMS.values() if task == "classification" or p.name not in CLASSIFICATION_ONLY]
    training_values = {}
    for k, param in enumerate(params):
        with cols[1 + k * 2 // len(params)]:  # the training settings share the other two columns
            training_values[param.name] = param_input(param, training.get(param.name, param.default),
                                                      training_key(param.name), disabled=locked, empty_hint=False)
    if locked:
        return
    spec.optimizer = {"type": chosen, **optimizer_values}
    spec.training = {**training, **training_values}


def forget_settings_widgets() -> None:
    """Drop the form's widget values, so that its next drawing starts from the spec again (a design
    put in place from elsewhere, such as a search trial's: the old values would overwrite it).
    Only from a callback or before the form is drawn in this run."""
    keys = {OPTIMIZER_KEY, *(training_key(name) for name in TRAINING_PARAMS)}
    keys |= {optimizer_key(name, param.name) for name, entry in OPTIMIZERS.items() for param in entry.params}
    for key in keys:
        st.session_state.pop(key, None)
