"""The Train page's Search tab (issue 24): the form (components/search_form.py), Start and Stop,
and the live views of a design search: the trials table, their curves overlaid, settings against
the score as parallel coordinates, and "Use this design".

The search runs in core.search's own process; the page reads its trial rows through the handle
(components/state/search.py). While it waits for a training slot (shared with everyone's runs)
it shows its place in the queue, like a queued run. Like the Train tab's live view, `live_search` is a fragment that
re-runs itself every POLL_INTERVAL_S while the search runs, and calls st.rerun() once when it
ends (the form unlocks). Keys: `start_search`, `stop_search`, `search_trials_table`,
`search_curves`, `search_parallel`, `search_use_trial` (which trial), `use_trial_design`.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from components.i18n import N_, current_lang, error_text, option_labels, show_error, t
from components.search_charts import Axis, TrialCurve, settings_vs_score, trial_curves
from components.search_form import candidate_label, search_form
from components.state.search import (
    ENDED_TRIAL_STATES, SearchDraft, SessionSearch, start_search, stop_search, sync_search, use_trial,
)
from components.state.workspace import Workspace
from components.training_form import forget_settings_widgets
from core.errors import UserError

POLL_INTERVAL_S = 2.0
FIRST_POLL_S = 1.0  # until the first trial reports (pressing Start must answer quickly)
CURVES_CACHE_KEY = "search_curves"
STATE_LABELS = {
    "queued": N_("waiting"), "running": N_("running"), "finished": N_("finished"), "pruned": N_("pruned"),
    "failed": N_("failed"),
}
SEARCH_STATE_LABELS = {
    "done": N_("The search is done: {n} trials."),
    "stopped": N_("The search was stopped: the {n} trials that ended are kept."),
    "timeout": N_("The search's time budget ran out: the {n} trials that ended are kept."),
    "failed": N_("The search stopped because of a problem: {problem}"),
}
# What a trial's score is (core.search.trials.objective): the validation metric of its kept epoch.
METRIC_LABELS = {"val_accuracy": N_("validation accuracy"), "val_loss": N_("validation loss")}


def search_tab(ws: Workspace) -> None:
    """Everything on the Search tab."""
    st.caption(t("Let the app try variations of the current design and keep the best one. Every trial trains on the "
                 "same split with the same seed; the validation score chooses (the test data is never used)."))
    if ws.dataset is None or ws.spec is None:
        st.info(t("Choose data and a design first: the search varies the current design."), icon=":material/info:")
        return
    search = sync_search(ws)
    running = search is not None and not search.ended
    # With a search to show, its buttons and live views come first and the form (for the next one) below.
    top = st.container()
    if search is not None:
        st.divider()
    draft = search_form(ws, locked=running)
    with top if search is not None else st.container():
        _controls(ws, draft, running)
        live_search(ws)


def _controls(ws: Workspace, draft: SearchDraft, running: bool) -> None:
    """Start (disabled with the reason while the form has a problem) and Stop."""
    problem = None if running else _space_problem(ws, draft)
    col_start, col_stop, _ = st.columns([1, 1, 4])
    with col_start:
        start = st.button(t("Start the search"), key="start_search", type="primary", icon=":material/travel_explore:",
                          disabled=running or problem is not None, help=problem)
    with col_stop:
        stop = st.button(t("Stop the search"), key="stop_search", icon=":material/stop:", disabled=not running,
                         help=t("Stops every trial now; the trials that finished are kept."))
    if problem is not None:
        st.warning(problem, icon=":material/warning:")
    if start and problem is None and not running:
        try:
            start_search(ws, draft)
        except UserError as err:
            show_error(err)
        else:
            st.rerun()  # the form locks and the live view starts polling
    if stop and running:
        stop_search(ws)
        st.toast(t("Stopping the search. The trials that finished are kept."))


def _space_problem(ws: Workspace, draft: SearchDraft) -> str | None:
    """Why the search cannot start as the form stands (checked in pure Python, microseconds)."""
    if draft.problems:
        return next(iter(draft.problems.values()))
    from core.search.space import parse_space

    try:
        parse_space(draft.space(), ws.spec, ws.dataset)
    except UserError as err:
        return error_text(err)
    return None


# --- live views --------------------------------------------------------------------------


def live_search(ws: Workspace) -> None:
    search = ws.search
    interval = None
    if search is not None and not search.ended:
        interval = POLL_INTERVAL_S if search.rows or search.state == "queued" else FIRST_POLL_S
    st.fragment(_live_body, run_every=interval)(ws)


def _live_body(ws: Workspace) -> None:
    before = ws.search
    was_running = before is not None and not before.ended
    had_rows = before is not None and bool(before.rows)
    search = sync_search(ws)
    if search is None:
        return
    _status(search)
    if search.rows:
        _trials_table(ws, search)
        _curves(ws, search)
        _parallel(search)
        _use_design(ws, search)
    if was_running and search.ended:
        st.rerun()  # once: the form and the buttons unlock
    elif was_running and not had_rows and search.rows:
        st.rerun()  # once: the slower timer, now that trials report


def _status(search: SessionSearch) -> None:
    rows = search.rows
    ended = [r for r in rows if r.state in ENDED_TRIAL_STATES]
    if search.ended and (search.error is not None or search.state == "failed"):
        problem = _error_text(search.error) if search.error is not None else _described(search)
        st.error(_search_message("failed", problem=problem), icon=":material/error:")
        return
    if search.ended:
        state = search.state if search.state in SEARCH_STATE_LABELS else "done"
        if state == "stopped" and not search.stopping:
            state = "timeout"  # nobody pressed Stop: the time budget ended it
        message = _search_message(state, n=len(ended))
        best = search.best()
        if best is not None:
            message += " " + t("Best: trial {trial}, {metric} {score}.", trial=best.id, metric=_metric_label(search),
                               score=_score_text(best.score))
        (st.success if search.state == "done" else st.info)(message, icon=":material/check_circle:")
        return
    if search.state == "queued":
        # the same words as a queued run (components/training_view.py): searches and runs share the slots
        st.progress(0.0, text=t("Waiting for a free training slot: the server is busy. Position in the queue: {n}.",
                                n=search.queue_position or 1))
        return
    budget = int(search.settings.get("trials") or 1)
    running = sum(1 for r in rows if r.state == "running")
    text = t("{done} of at most {budget} trials done, {running} running · {elapsed}", done=len(ended), budget=budget,
             running=running, elapsed=_duration(search.elapsed))
    if search.stopping:
        text = t("Stopping the search…") + " " + text
    elif not rows:
        text = t("Starting the search… (the trials' workers load TensorFlow first)")
    st.progress(min(1.0, len(ended) / budget), text=text)


def _search_message(state: str, **params: Any) -> str:
    return t(SEARCH_STATE_LABELS[state], **params)


def _described(search: SessionSearch) -> str:
    """How the search ended in the session's language (core's SearchHandle.describe), e.g. a crash."""
    describe = getattr(search.handle, "describe", None)
    return (describe(current_lang()) if describe is not None else search.message) or t("unknown")


def _error_text(error: Any) -> str:
    return error_text(error) if isinstance(error, UserError) else str(error)


def _trials_table(ws: Workspace, search: SessionSearch) -> None:
    labels = _place_labels(search)
    best = search.best()
    rows = []
    for row in search.rows:
        line = {t("Trial"): row.id, t("State"): t(STATE_LABELS.get(row.state, row.state))}
        for place in search.space:
            line[labels[place]] = _cell(row.settings.get(place))
        line[t("Best validation score")] = _score(row.score)
        line[t("Epochs")] = row.epochs
        line[t("Seconds")] = round(float(row.seconds or 0), 1)
        line[t("Best")] = "★" if best is not None and row.id == best.id else ""
        line[t("Note")] = _note(row) if row.state in ("pruned", "failed") else ""  # why it ended early
        rows.append(line)
    st.subheader(t("Trials"))
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="search_trials_table")
    st.caption(t("The score is the {metric} of the epoch each trial keeps. Pruned trials were stopped early by the "
                 "pruner; failed ones could not train (for example a loss that became NaN): the search went on.",
                 metric=_metric_label(search)))


def _curves(ws: Workspace, search: SessionSearch) -> None:
    best = search.best()
    best_id = best.id if best is not None else None
    signature = (current_lang(), search.id, tuple((r.id, len(r.curve), r.state) for r in search.rows), best_id)
    cached = ws.cache.get(CURVES_CACHE_KEY)
    if cached is None or cached[0] != signature:
        curves = [TrialCurve(t("Trial {n}", n=r.id), list(r.curve), r.state, colour_index=int(r.id), best=r.id == best_id)
                  for r in search.rows]
        label = _metric_label(search)
        figure = trial_curves(curves, score_label=label[:1].upper() + label[1:], epoch_label=t("Epoch"))
        cached = ws.cache[CURVES_CACHE_KEY] = (signature, figure)
    st.plotly_chart(cached[1], key="search_curves", config={"displayModeBar": False})


def _parallel(search: SessionSearch) -> None:
    scored = [r for r in search.rows if _score(r.score) is not None]
    if len(scored) < 2:
        return
    labels = _place_labels(search)
    axes = [Axis(labels[place], [r.settings.get(place) for r in scored], log="log_uniform" in search.space[place])
            for place in search.space]
    label = _metric_label(search)
    figure = settings_vs_score(axes, [r.score for r in scored], score_label=label[:1].upper() + label[1:],
                               higher_is_better=search.direction != "minimize")
    st.subheader(t("Settings against the score"))
    st.plotly_chart(figure, key="search_parallel", config={"displayModeBar": False})
    st.caption(t("One line per trial through the settings it tried, ending at its score. Drag along an axis to pick "
                 "out the trials in a range."))


def _use_design(ws: Workspace, search: SessionSearch) -> None:
    """Pick a trial (the best first) and make its design the current one."""
    usable = [r for r in search.rows if r.state in ("finished", "pruned") and _score(r.score) is not None]
    if not usable:
        return
    best = search.best()
    usable.sort(key=lambda r: best is None or r.id != best.id)  # the best first, then in order
    by_id = {r.id: r for r in usable}
    st.subheader(t("Use a trial's design"))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        chosen = st.selectbox(
            t("Trial"), list(by_id), key="search_use_trial",
            format_func=option_labels(list(by_id), lambda n: _trial_choice(by_id[n], best)))
    with right:
        st.button(t("Use this design"), key="use_trial_design", type="primary", icon=":material/check:",
                  on_click=_use, args=(ws, chosen))
    if st.session_state.pop(USED_KEY, False):
        st.rerun()  # the whole app, not only this fragment: the form, the sidebar's steps and the runs follow
    failed = st.session_state.pop(USE_ERROR_KEY, None)
    if failed:
        st.error(failed, icon=":material/error:")
    elif search.used_trial is not None:
        text = t("Trial {n}'s design is now the current design: the Design page shows it and Train trains it.",
                 n=search.used_trial)
        run = search.kept_runs.get(search.used_trial)
        if run is not None and run in ws.runs:
            text += " " + t("Its trained model is {run}: Evaluate and Export open on it.", run=run.label)
        st.success(text, icon=":material/check_circle:")
        links = st.columns(3)
        links[0].page_link("pages/design.py", label=t("See it on the Design page"), icon=":material/arrow_forward:")
        if run is not None and run in ws.runs:
            links[1].page_link("pages/evaluate.py", label=t("Evaluate it"), icon=":material/arrow_forward:")
            links[2].page_link("pages/export.py", label=t("Export it"), icon=":material/arrow_forward:")


def _trial_choice(row: Any, best: Any) -> str:
    text = t("Trial {n} · score {score}", n=row.id, score=_score_text(row.score))
    if best is not None and row.id == best.id:
        text += " · " + t("best")
    if row.state == "pruned":
        text += " · " + t("pruned")
    return text


USE_ERROR_KEY = "search.use_error"
USED_KEY = "search.used"  # set by the button's callback: the fragment then reruns the whole app


def _use(ws: Workspace, trial_id: Any) -> None:
    """Button callback (runs before the page redraws): the Train tab's widgets start from the new design."""
    try:
        use_trial(ws, trial_id)
    except UserError as err:
        st.session_state[USE_ERROR_KEY] = error_text(err)
        return
    forget_settings_widgets()
    st.session_state[USED_KEY] = True


# --- helpers -----------------------------------------------------------------------------


def _note(row: Any) -> str:
    """How a trial ended, in the session's language (core sends an English template)."""
    return t(row.template, **row.params) if row.template else row.message


def _metric_label(search: SessionSearch) -> str:
    metric = search.metric or "val_loss"
    return t(METRIC_LABELS[metric]) if metric in METRIC_LABELS else metric


def _score(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 4) if number == number and abs(number) != float("inf") else None


def _score_text(value: Any) -> str:
    number = _score(value)
    return "—" if number is None else f"{number:.4g}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "—" if value is None else str(value)


def _place_labels(search: SessionSearch) -> dict[str, str]:
    """Each varied setting's plain label ("Layer 1 (Dense): units"), in the session's language."""
    return {place: candidate_label(search.candidates[place]) if place in search.candidates else place
            for place in search.space}


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(float(seconds))))
    if seconds < 60:
        return t("{s} s", s=seconds)
    return t("{m} min {s} s", m=seconds // 60, s=seconds % 60)
