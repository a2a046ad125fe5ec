"""The Train page's parts: settings, start/stop, live progress, the runs table.

Training runs in core.training's worker process. The page only reads progress events:
`live_progress` is a fragment that re-runs itself while a run is active (every
FIRST_PROGRESS_POLL_S until the run's first progress shows, then every POLL_INTERVAL_S),
reads the events appended since its last look (handle.poll()), redraws small Plotly
curves and calls st.rerun() when the first progress arrives (to slow the timer down) and
once when the run ends. The run's handle lives in the
Workspace, so leaving the page neither loses nor stops the run.
"""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from components.charts import CurveSeries, training_curves
from components.i18n import N_, current_lang, error_text, show_error, t
from components.training_service import get_training_service
from components.workspace import Workspace
from core.errors import UserError
from core.training.events import END_STATUSES, FAILED
from core.training.records import RunRecord
from core.training.rundir import RunDir

# Each refresh costs the server ~0.1 s of CPU and headless Chromium ~0.2-0.25 s (measured by
# bench case 2), taken from the trainer on a 2-core machine: polling every 0.75 s cost training
# 15-30 % of its speed. So the page polls fast only until the first progress shows (pressing
# Start must answer within 2 s), then at a pace that still reads as live.
FIRST_PROGRESS_POLL_S = 0.5
POLL_INTERVAL_S = 2.0
EARLIER_RUNS_OVERLAID = 5
DATA_PAGE = "pages/data.py"
DESIGN_PAGE = "pages/design.py"
TRAIN_PAGE = "pages/train.py"

@dataclass(eq=False)  # identity: two runs are never "equal" (and the dataset holds arrays)
class SessionRun(RunRecord):
    """core.training's RunRecord plus what the pages need while and after it runs.

    Kept newest last in Workspace.runs. `spec` (inherited) is the design as a dict;
    `project` is the same design as a ProjectSpec, for the files the Export page writes.
    """

    run_dir: Path | None = None
    project: Any = None  # core.spec.ProjectSpec snapshot the run was started with
    dataset: Any = None  # core.data.Dataset it trained on: evaluation and export need the same one
    handle: Any = None  # core.training.RunHandle while the worker owns the run
    template: str = ""  # the end message as an English template + params, for translation
    params: dict = field(default_factory=dict)
    last_batch_event: dict | None = None
    eta_s: float | None = None  # from the newest batch or epoch event

    @property
    def ended(self) -> bool:
        return self.status in END_STATUSES

    @property
    def epochs_planned(self) -> int:
        return self.settings.epochs

    @property
    def best_model_path(self) -> Path | None:
        """best.keras in the run directory (written by our own worker), once it exists."""
        path = Path(self.model_path) if self.model_path else RunDir(self.run_dir).best_model
        return path if path.exists() else None

    @property
    def has_model(self) -> bool:
        return self.best_model_path is not None

    @property
    def label(self) -> str:
        return t("Run {n}", n=self.number)

    def absorb(self, events: list[dict]) -> None:
        """Fold newly read progress events into the record (only the new ones: cheap)."""
        for event in events:
            kind = event.get("type")
            if kind in ("start", "batch"):
                self.status = "running"
                if kind == "batch":
                    self.last_batch_event = event
                    self.eta_s = event.get("eta", self.eta_s)
            elif kind == "epoch":
                self.status = "running"
                self.history.append(dict(event.get("logs") or {}))
                self.eta_s = event.get("eta", self.eta_s)
                self.elapsed = float(event.get("elapsed") or self.elapsed)
            elif kind == "end":
                self.status = str(event.get("status") or FAILED)
                self.message = str(event.get("message") or "")
                self.template = str(event.get("template") or "")
                self.params = dict(event.get("params") or {})
                self.best_epoch = event.get("best_epoch")
                self.elapsed = float(event.get("elapsed") or self.elapsed)

    def best_logs(self) -> dict:
        """The metrics of the epoch whose weights were kept (the last epoch if unknown)."""
        if not self.history:
            return {}
        if self.best_epoch is not None and 1 <= int(self.best_epoch) <= len(self.history):
            return self.history[int(self.best_epoch) - 1]
        return self.history[-1]


# --- keeping runs up to date (also called by the Evaluate and Export pages) ---------------


def sync_active_run(ws: Workspace) -> SessionRun | None:
    """Read the active run's new events; release it from `active_run` once it has ended.

    Returns the run that was active during this call (ended or not), or None.
    """
    handle = ws.active_run
    if handle is None:
        return None
    run = _active_session_run(ws)
    if run is None:  # a handle without a record cannot be shown; forget it
        ws.active_run = None
        return None
    run.absorb(handle.poll())
    if handle.state == "queued":
        run.status = "queued"  # waiting for a free slot (the server's concurrent-run cap)
    elif handle.state == "running" and run.status == "queued":
        run.status = "running"  # a worker took it; its first event follows once TensorFlow is loaded
    if handle.state == "done" and handle.result is not None:
        run.update_from(handle.result)  # the service's final word, also when the worker crashed
    elif handle.state == "done" and not run.ended:
        run.status = FAILED  # the worker went away without saying how
    if run.ended:
        ws.active_run = None
        ws.selected_run = ws.runs.index(run)  # Evaluate and Export open on the newest model
    return run


def runs_with_model(ws: Workspace) -> list[SessionRun]:
    """Ended runs whose best model file exists, newest last."""
    return [r for r in ws.runs if isinstance(r, SessionRun) and r.ended and r.has_model]


# --- what is missing -----------------------------------------------------------------------


def missing_step(message: str, page: str, link_label: str) -> None:
    """Say what an earlier step lacks and link to the page that fixes it."""
    st.info(message, icon=":material/info:")
    st.page_link(page, label=link_label, icon=":material/arrow_forward:")


def start_blockers(ws: Workspace) -> list[tuple[str, str, str]]:
    """Why training cannot start now: (message, page to fix it, link label) each."""
    if ws.dataset is None:
        return [(t("There is no data yet. Pick a sample or upload your own first."), DATA_PAGE, t("Go to Data"))]
    if ws.spec is None:
        return [(t("There is no network design yet. Pick a template first."), DESIGN_PAGE, t("Go to Design"))]
    from core.shapes import shape_report

    report = shape_report(ws.spec, ws.dataset)
    if not report.ok:
        first = error_text(report.first_error())
        return [(t("The design has an error: {error}", error=first), DESIGN_PAGE, t("Fix it on the Design page"))]
    return []


# --- settings ------------------------------------------------------------------------------


# Training settings shown on this page, in order, with their labels; the ranges, defaults
# and help texts come from the catalog (core.catalog.TRAINING_PARAMS).
TRAINING_FIELDS = {
    "epochs": (N_("Epochs"), "epochs"),  # (English label, widget key: "epochs" is a stable automation key)
    "batch_size": (N_("Batch size"), "train_batch_size"),
    "early_stopping_patience": (N_("Early stopping patience (0 = off)"), "train_patience"),
    "seed": (N_("Seed"), "train_seed"),
}


def settings_form(ws: Workspace) -> None:
    """Optimizer and training settings; every change is written back to the spec at once."""
    from core.catalog import OPTIMIZERS, TRAINING_PARAMS

    spec = ws.spec
    optimizer = dict(spec.optimizer or {})
    training = dict(spec.training or {})
    names = list(OPTIMIZERS)
    current = optimizer.get("type") if optimizer.get("type") in names else names[0]
    locked = ws.active_run is not None  # a running job keeps the settings it started with

    cols = st.columns(3)
    with cols[0]:
        chosen = st.selectbox(t("Optimizer"), names, index=names.index(current), key="train_optimizer", disabled=locked)
        st.caption(t(OPTIMIZERS[chosen].help))
        # Each optimizer has its own sensible learning rate: switching resets it to that default
        # (the widget key includes the optimizer, so a new widget starts from the new default).
        same = chosen == optimizer.get("type")
        defaults = OPTIMIZERS[chosen].defaults()
        rate_param = next(p for p in OPTIMIZERS[chosen].params if p.name == "learning_rate")
        learning_rate = st.number_input(
            t("Learning rate"),
            min_value=float(rate_param.min),
            max_value=float(rate_param.max),
            value=float(optimizer.get("learning_rate") if same and optimizer.get("learning_rate") else rate_param.default),
            format="%.5f",
            step=float(rate_param.default) / 10,
            key=f"train_learning_rate_{chosen}",
            help=t(rate_param.help),
            disabled=locked,
        )
    values: dict[str, int] = {}
    for k, (name, (label, key)) in enumerate(TRAINING_FIELDS.items()):
        param = TRAINING_PARAMS[name]
        current_value = training.get(name)
        with cols[1 + k // 2]:
            values[name] = int(
                st.number_input(
                    t(label),
                    min_value=int(param.min),
                    max_value=int(param.max),
                    value=int(current_value if current_value is not None else param.default),
                    step=1,
                    key=key,
                    help=t(param.help),
                    disabled=locked,
                )
            )
    if locked:
        return
    base = optimizer if same else defaults  # keep the other optimizer settings made on the Design page
    spec.optimizer = {**base, "type": chosen, "learning_rate": float(learning_rate)}
    spec.training = {**training, **values}


# --- start / stop --------------------------------------------------------------------------


def run_controls(ws: Workspace) -> None:
    """Start and Stop buttons; Start explains (with a link) why it is disabled."""
    blockers = start_blockers(ws)
    running = ws.active_run is not None
    col_start, col_stop, _ = st.columns([1, 1, 4])
    with col_start:
        start = st.button(
            t("Start training"),
            key="start_training",
            type="primary",
            disabled=bool(blockers) or running,
            help=blockers[0][0] if blockers else None,
            icon=":material/play_arrow:",
        )
    with col_stop:
        stop = st.button(t("Stop"), key="stop_training", disabled=not running, icon=":material/stop:")
    for message, page, link_label in blockers:
        missing_step(message, page, link_label)
    if start and not blockers and not running and start_run(ws) is not None:
        st.rerun()  # redraw the settings and buttons above in their "running" state
    if stop and running:
        ws.active_run.stop()
        st.toast(t("Stopping after the current batch. The best weights so far are kept."))


def start_run(ws: Workspace) -> SessionRun | None:
    """Hand the current design and data to the worker; the page never waits for it."""
    number = len(ws.runs) + 1
    run_id = f"run{number}-{uuid.uuid4().hex[:8]}"
    run_dir = ws.run_dir(run_id)
    spec = copy.deepcopy(ws.spec)  # later design edits must not change what this run trained
    try:
        handle = get_training_service().start(spec, ws.dataset, run_dir)
    except UserError as err:
        show_error(err)
        return None
    run = SessionRun(
        id=run_id, number=number, spec=spec.to_dict(), status="queued",
        run_dir=run_dir, project=spec, dataset=ws.dataset, handle=handle,
    )
    ws.runs.append(run)
    ws.active_run = handle
    return run


# --- live progress -------------------------------------------------------------------------


def live_progress(ws: Workspace) -> None:
    """Progress and curves, refreshed by a timer only while a run is active."""
    interval = None
    if ws.active_run is not None:
        run = _active_session_run(ws)
        interval = POLL_INTERVAL_S if run is not None and _shows_progress(run) else FIRST_PROGRESS_POLL_S
    st.fragment(_live_progress_body, run_every=interval)(ws)


def _active_session_run(ws: Workspace) -> SessionRun | None:
    handle = ws.active_run
    return next((r for r in reversed(ws.runs) if r.handle is handle), None) if handle is not None else None


def _shows_progress(run: SessionRun) -> bool:
    return bool(run.history) or run.last_batch_event is not None


def _live_progress_body(ws: Workspace) -> None:
    was_active = ws.active_run is not None
    active = _active_session_run(ws)
    had_progress = active is not None and _shows_progress(active)
    run = sync_active_run(ws)
    if run is None:
        run = ws.runs[-1] if ws.runs else None
    if run is None:
        if ws.dataset is not None:
            st.caption(t("No training run yet. Choose the settings and press Start training."))
        return
    if not run.ended:
        _progress_bar(run)
    else:
        run_status_message(run)
    _curves(ws, run)
    if was_active and ws.active_run is None:
        st.rerun()  # once: the buttons, settings and runs table update for the ended run
    elif was_active and not had_progress and _shows_progress(run):
        st.rerun()  # once: live_progress sets the slower timer now that progress shows


def _progress_bar(run: SessionRun) -> None:
    if run.status == "queued":
        position = run.handle.queue_position
        st.info(
            t("Waiting for a free training slot: the server is busy. Position in the queue: {n}.", n=position or 1),
            icon=":material/hourglass_top:",
        )
        return
    epochs = run.epochs_planned
    done = len(run.history)
    batch = run.last_batch_event
    eta = t("about {eta} left", eta=_duration(run.eta_s)) if run.eta_s is not None else t("estimating the time left")
    if batch and int(batch.get("epoch", 0)) > done and batch.get("batches"):
        # sent as batch number `batch` (0-based) begins: that many batches of the epoch are done
        fraction = min(1.0, int(batch["batch"]) / int(batch["batches"]))
        text = t(
            "Epoch {epoch} of {total} · batch {b} of {n} · {eta}",
            epoch=done + 1, total=epochs, b=int(batch["batch"]) + 1, n=int(batch["batches"]), eta=eta,
        )
    elif done:
        fraction = 0.0
        text = t("{done} of {total} epochs done · {eta}", done=done, total=epochs, eta=eta)
    else:
        fraction = 0.0
        text = t("Starting… (loading TensorFlow can take a few seconds)")
    st.progress(min(1.0, (done + fraction) / epochs), text=text)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(float(seconds))))
    if seconds < 60:
        return t("{s} s", s=seconds)
    return t("{m} min {s} s", m=seconds // 60, s=seconds % 60)


# How each ending is shown: the worker's own message says what happened and what was kept.
_STATUS_STYLE = {
    "finished": ("success", ":material/check_circle:"),
    "early_stopped": ("success", ":material/check_circle:"),
    "stopped": ("info", ":material/stop_circle:"),
    "timeout": ("warning", ":material/timer:"),
    "diverged": ("error", ":material/warning:"),
    "failed": ("error", ":material/error:"),
}


def end_text(run: SessionRun) -> str:
    """The run's end message in the session's language (the worker sends an English template)."""
    if run.template:
        return t(run.template, **run.params)
    if run.message:
        return run.message
    return t("The training process stopped unexpectedly. The best model so far is kept.")


def run_status_message(run: SessionRun) -> None:
    """One plain sentence about how the run ended."""
    kind, icon = _STATUS_STYLE.get(run.status, ("info", ":material/info:"))
    getattr(st, kind)(t("{run}: {message}", run=run.label, message=end_text(run)), icon=icon)


CURVES_CACHE_KEY = "training_curves"  # one entry: (what it shows, the figure)
CURVE_TITLES_EN = {"loss": "Loss", "accuracy": "Accuracy", "mae": "Mean absolute error", "mse": "Mean squared error"}


def _curves(ws: Workspace, run: SessionRun) -> None:
    """Loss and metric curves of `run`, earlier runs faint behind it.

    Building the figure costs ~20 ms, so it is rebuilt only when an epoch was added (or
    the language changed), not on every refresh between epochs.
    """
    if not run.history:
        return
    earlier = [r for r in ws.runs if r is not run and r.history][-EARLIER_RUNS_OVERLAID:]
    signature = (current_lang(), run.id, len(run.history), tuple((r.id, len(r.history)) for r in earlier))
    cached = ws.cache.get(CURVES_CACHE_KEY)
    if cached is None or cached[0] != signature:
        series = [CurveSeries(r.label, r.history, r.number - 1, faint=True) for r in earlier]
        series.append(CurveSeries(run.label, run.history, run.number - 1))
        titles = {name: t(text) for name, text in CURVE_TITLES_EN.items()}
        figure = training_curves(series, titles=titles, train_label=t("training"), val_label=t("validation"), epoch_label=t("Epoch"))
        cached = ws.cache[CURVES_CACHE_KEY] = (signature, figure)
    st.plotly_chart(cached[1], key="training_curves", config={"displayModeBar": False})


# --- runs table ----------------------------------------------------------------------------


def runs_table(ws: Workspace) -> None:
    """Every run of this session: its settings, how it ended, the metrics of its best epoch
    (whose weights are kept) and its test metrics once it has been evaluated."""
    runs = [r for r in ws.runs if isinstance(r, SessionRun) and r.ended]  # the live one is shown above
    if not runs:
        return
    st.subheader(t("Runs"))
    rows = []
    for run in reversed(runs):
        summary = run.summary()
        row = {
            t("Run"): run.number,
            t("Status"): status_text(run.status),
            t("Layers"): summary["layers"],
            t("Optimizer"): summary["optimizer"],
            t("Learning rate"): summary["learning_rate"],
            t("Epochs"): f"{summary['epochs_run']}/{summary['epochs']}",
            t("Batch size"): summary["batch_size"],
            t("Seed"): summary["seed"],
            t("Best epoch"): summary["best_epoch"],
            t("Seconds"): summary["seconds"],
        }
        row.update({metric_header(key): _rounded(value) for key, value in run.best_logs().items()})
        row.update({metric_header(key): _rounded(value) for key, value in summary.items() if key.startswith("test_")})
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="runs_table")
    st.caption(t("Training and validation metrics are those of the best epoch; test metrics appear once a run is evaluated."))


# Runs-table headers for the metric columns (Keras log names and test_ + core.evaluate's names).
METRIC_HEADERS_EN = {
    "loss": "Training loss", "val_loss": "Validation loss", "test_loss": "Test loss",
    "accuracy": "Training accuracy", "val_accuracy": "Validation accuracy", "test_accuracy": "Test accuracy",
    "mae": "Training MAE", "val_mae": "Validation MAE", "test_mae": "Test MAE",
    "test_rmse": "Test RMSE", "test_r2": "Test R²", "test_macro_f1": "Test average F1", "test_n_test": "Test examples",
}


def metric_header(key: str) -> str:
    return t(METRIC_HEADERS_EN[key]) if key in METRIC_HEADERS_EN else key


def _rounded(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def status_text(status: str) -> str:
    return {
        "queued": t("waiting"),
        "running": t("running"),
        "finished": t("finished"),
        "stopped": t("stopped"),
        "early_stopped": t("stopped early"),
        "diverged": t("diverged"),
        "timeout": t("time limit"),
        "failed": t("failed"),
    }.get(status, status)
