"""The Search tab's form: what may vary, how to search, where trials run.

Every widget starts from the session's SearchDraft (components/state/search.py) and writes back
to it on each run, so leaving the tab or the page keeps the choices. Keys: `search_vary_<place>`
(the switch), `search_low_<place>` / `search_high_<place>` (a range), `search_values_<place>` (a
list of numbers, comma-separated) or `search_options_<place>` (a list of names: optimizers);
`search_strategy`, `search_trials`, `search_time_budget` (minutes, empty = none), `search_epochs`,
`search_pruner`, `search_where`, `search_ray_address`. A place is a key of SPACE.json
("optimizer.learning_rate", "layers.0.units").
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from components.i18n import N_, option_labels, t
from components.state.search import (
    PRUNERS, STRATEGIES, WHERE, Candidate, SearchDraft, ray_installed, search_draft,
)
from components.state.workspace import Workspace

FORM_PREFIXES = ("search_vary_", "search_low_", "search_high_", "search_values_", "search_options_")
FORM_KEYS = ("search_strategy", "search_trials", "search_time_budget", "search_epochs", "search_pruner",
             "search_where", "search_ray_address")
SIGNATURE_KEY = "search.form_signature"  # the draft the widgets were made from
STRATEGY_LABELS = {
    "tpe": N_("Model-based (TPE): learns which settings work"),
    "random": N_("Random: settings drawn at random"),
    "grid": N_("Grid: every combination of a few values"),
}
PRUNER_LABELS = {
    "median": N_("Median: stop a trial doing worse than half the others at the same epoch"),
    "halving": N_("Successive halving: keep only the best part at a few checkpoints"),
    "none": N_("None: every trial runs all its epochs"),
}
WHERE_LABELS = {"local": N_("This machine"), "ray": N_("A Ray cluster")}
RAY_HINT = N_("Ray is not installed here. Add it with `make ray` (or `pip install -r requirements-ray.txt`), then "
              "restart the app.")
WHAT_LABELS = {"units": N_("units"), "filters": N_("filters"), "dropout rate": N_("dropout rate"), "repeats": N_("repeats")}


def candidate_label(cand: Candidate) -> str:
    if not cand.label:
        return cand.path
    params = dict(cand.label_params)
    if "what" in params:
        params["what"] = t(WHAT_LABELS[params["what"]]) if params["what"] in WHAT_LABELS else params["what"]
    return t(cand.label, **params)


def _forget_widgets() -> None:
    """The draft was made afresh (another design or data): its widgets start from it again."""
    for key in list(st.session_state):
        if isinstance(key, str) and (key.startswith(FORM_PREFIXES) or key in FORM_KEYS):
            del st.session_state[key]


def _seed(key: str, value: Any) -> None:
    """A widget shows the draft's value when Streamlit has dropped its own."""
    if key not in st.session_state:
        st.session_state[key] = value


def search_form(ws: Workspace, *, locked: bool) -> SearchDraft:
    """Draw the form (disabled while a search runs) and return the draft it edits."""
    draft = search_draft(ws)
    if st.session_state.get(SIGNATURE_KEY) != draft.signature:
        _forget_widgets()
        st.session_state[SIGNATURE_KEY] = draft.signature
    draft.problems = {}
    st.subheader(t("What may vary"))
    st.caption(t("Switch on the settings the search may change and set their ranges; the others stay as in "
                 "the current design. Layers count from 1, as on the Design page."))
    for cand in draft.candidates:
        _candidate_row(draft, cand, locked)
    st.subheader(t("How to search"))
    left, middle, right = st.columns(3)
    with left:
        _seed("search_strategy", draft.strategy)
        draft.strategy = st.radio(t("Strategy"), STRATEGIES, key="search_strategy", disabled=locked,
                                  format_func=option_labels(STRATEGIES, lambda s: t(STRATEGY_LABELS[s])))
        if draft.strategy == "grid":
            st.caption(t("A grid tries each listed value, and 3 points of each range (5 of a whole-number range), "
                         "up to the trial budget."))
    with middle:
        _seed("search_trials", draft.trials)
        draft.trials = st.number_input(t("Trial budget"), min_value=1, max_value=500, step=1, key="search_trials",
                                       disabled=locked, help=t("At most this many designs are trained."))
        _seed("search_time_budget", float(draft.time_budget_min) if draft.time_budget_min else None)
        draft.time_budget_min = st.number_input(
            t("Time budget (minutes)"), min_value=1.0, max_value=24 * 60.0, step=1.0, format="%g",
            key="search_time_budget", disabled=locked,
            help=t("No new trial starts after this time and running ones are stopped; what finished is kept. "
                   "Empty: no time limit."))
        _seed("search_epochs", draft.epochs)
        draft.epochs = st.number_input(t("Epochs per trial"), min_value=1, max_value=10000, step=1, key="search_epochs",
                                       disabled=locked, help=t("Each trial trains at most this long; early stopping "
                                                               "and the pruner may end it sooner."))
    with right:
        _seed("search_pruner", draft.pruner)
        draft.pruner = st.radio(t("Stop hopeless trials early"), PRUNERS, key="search_pruner", disabled=locked,
                                format_func=option_labels(PRUNERS, lambda p: t(PRUNER_LABELS[p])))
    _where(draft, locked)
    return draft


def _candidate_row(draft: SearchDraft, cand: Candidate, locked: bool) -> None:
    path = cand.path
    switch, ranges = st.columns([0.4, 0.6], vertical_alignment="center")
    with switch:
        _seed(f"search_vary_{path}", bool(draft.on.get(path)))
        on = st.toggle(candidate_label(cand), key=f"search_vary_{path}", disabled=locked)
        draft.on[path] = on
    with ranges:
        value = draft.values.get(path, cand.default)
        if cand.kind == "choice" and cand.options:
            _seed(f"search_options_{path}", [v for v in value if v in cand.options])
            chosen = st.multiselect(t("Try"), list(cand.options), key=f"search_options_{path}",
                                    disabled=locked or not on, label_visibility="collapsed")
            draft.values[path] = list(chosen)
        elif cand.kind == "choice":
            _seed(f"search_values_{path}", ", ".join(_shown(v) for v in value))
            text = st.text_input(t("Try these values"), key=f"search_values_{path}", disabled=locked or not on,
                                 label_visibility="collapsed", help=t("Numbers separated by commas, for example 16, 32, 64."))
            numbers = _numbers(text, whole=_whole(cand))
            if numbers is None:
                draft.problems[path] = t("Write numbers separated by commas, for example 16, 32, 64.")
            else:
                draft.values[path] = numbers
        else:
            _range(draft, cand, value, locked or not on)
        if on and path in draft.problems:
            st.caption(f":red[{draft.problems[path]}]")


def _range(draft: SearchDraft, cand: Candidate, value: list, disabled: bool) -> None:
    path = cand.path
    whole = cand.kind == "int"
    cast = int if whole else float
    low_col, high_col = st.columns(2)
    bounds = {"min_value": cast(cand.low) if cand.low is not None else None,
              "max_value": cast(cand.high) if cand.high is not None else None}
    out = []
    for col, key, number, label in ((low_col, f"search_low_{path}", value[0], t("from")),
                                    (high_col, f"search_high_{path}", value[-1], t("to"))):
        with col:
            _seed(key, cast(number))
            kwargs: dict[str, Any] = {"step": 1} if whole else {"step": _step(float(number)), "format": "%g"}
            out.append(st.number_input(label, key=key, disabled=disabled, **bounds, **kwargs))
    draft.values[path] = out


def _step(value: float) -> float:
    return 10.0 ** (math.floor(math.log10(abs(value))) - 1) if value else 0.01


def _whole(cand: Candidate) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in cand.default)


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _numbers(text: str, whole: bool) -> list | None:
    """"16, 32; 64" -> [16, 32, 64]; None when a part is not a number (or not whole where needed)."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    out = []
    for part in parts:
        try:
            number = float(part)
        except ValueError:
            return None
        if whole:
            if number != int(number):
                return None
            number = int(number)
        out.append(number)
    return out


def _where(draft: SearchDraft, locked: bool) -> None:
    st.subheader(t("Where trials run"))
    _seed("search_where", draft.where)
    draft.where = st.radio(t("Trials run on"), WHERE, key="search_where", disabled=locked, horizontal=True,
                           format_func=option_labels(WHERE, lambda w: t(WHERE_LABELS[w])),
                           label_visibility="collapsed")
    if draft.where == "local":
        from core.search.strategies import SearchSettings

        at_once = SearchSettings(trials=int(draft.trials)).concurrency  # the server's cap, the cores, the budget
        st.caption(t("Up to {n} trials train at once, each in its own worker process on this machine (the server's "
                     "limit on runs at the same time and its processor cores decide how many).", n=at_once))
        return
    _seed("search_ray_address", draft.ray_address)
    draft.ray_address = st.text_input(
        t("Ray address"), key="search_ray_address", disabled=locked, placeholder="127.0.0.1:6379",
        help=t("What Ray accepts: host:port of a head started with `ray start --head`, ray://host:10001, or auto. "
               "The RAY_ADDRESS environment variable fills it in."))
    if not ray_installed():
        draft.problems["where"] = t(RAY_HINT)
        st.warning(t(RAY_HINT), icon=":material/extension:")
    elif not draft.ray_address.strip():
        draft.problems["where"] = t("Give the address of the Ray cluster, or run the trials on this machine.")
    else:
        st.caption(t("The data is sent to the cluster once; results and curves come back here as trials run. "
                     "An address that cannot be reached stops the search with a message: nothing runs elsewhere."))
