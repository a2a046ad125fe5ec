"""The Train page's parts: start/stop, live progress, the runs table (the settings form is
components.training_form).

Training runs in core.training's worker process; the session's runs and their bookkeeping
are components.state.runs. The page only reads progress events: `live_progress` is a
fragment that re-runs itself while a run is active (every QUEUED_POLL_S while it waits for a
slot, every FIRST_PROGRESS_POLL_S until the run's first progress shows, then every POLL_INTERVAL_S), reads the events appended since
its last look (sync_active_run), redraws small Plotly curves and calls st.rerun() when the
first progress arrives (to slow the timer down) and once when the run ends.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from components.charts import CurveSeries, training_curves
from components.i18n import current_lang, error_text, show_error, t
from components.state.runs import FINE_TUNE, SessionRun, active_session_run, start_run, sync_active_run
from components.state.training_service import get_training_service
from components.state.workspace import Workspace
from core.errors import UserError

# Each refresh costs the server ~0.1 s of CPU and headless Chromium ~0.2-0.25 s (measured by
# bench case 2), taken from the trainer on a 2-core machine: polling every 0.75 s cost training
# 15-30 % of its speed. So the page polls fast only until the first progress shows (pressing
# Start must answer within 2 s), then at a pace that still reads as live.
FIRST_PROGRESS_POLL_S = 0.5
POLL_INTERVAL_S = 2.0
# A queued run only needs its place in line: 20 queued pages at 0.5 s kept a 2-core server busy
# with reruns (bench/results/load_test_before_issue18_20users.json).
QUEUED_POLL_S = 3.0
EARLIER_RUNS_OVERLAID = 5
DATA_PAGE = "pages/data.py"
DESIGN_PAGE = "pages/design.py"
TRAIN_PAGE = "pages/train.py"


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
    missing = missing_weights(ws)
    if missing is not None:
        name, file = missing
        return [(t("{name} needs its ImageNet weights file `{file}` first: download or upload it in the Pretrained "
                   "backbone panel, or choose random weights.", name=name, file=file), DESIGN_PAGE,
                 t("Go to the Design page"))]
    return []


def missing_weights(ws: Workspace) -> tuple[str, str] | None:
    """(backbone, file name) when the design's ImageNet backbone has no weights file: neither the session's own
    (which the run's job carries to the worker) nor one in Keras' cache, where the training worker looks
    otherwise (the Design page downloads or takes an upload)."""
    from components.state.backbones import session_weights_file
    from core.backbones import cached_weights_path, has_backbone, is_model_backbone

    spec = ws.spec
    if not has_backbone(spec):
        return None
    entry = spec.layers[0]
    if is_model_backbone(entry) or entry.get("weights") != "imagenet" or session_weights_file(ws.backbones, spec):
        return None
    path = cached_weights_path(entry)
    return None if path.is_file() else (entry["name"], path.name)


# --- transfer learning ---------------------------------------------------------------------


def transfer_note(ws: Workspace) -> None:
    """With a pretrained backbone: how the run will go, in two phases (the curves mark the second)."""
    from core.backbones import has_backbone

    if ws.spec is None or not has_backbone(ws.spec):
        return
    entry = ws.spec.layers[0]
    epochs = int((ws.spec.training or {}).get("epochs") or 0)
    layers = int(entry.get("fine_tune_layers") or 0)
    text = t("Phase 1: {epochs} epochs train your layers while the pretrained backbone stays frozen.", epochs=epochs)
    if entry.get("cache_features", True):
        text += " " + t("Its features are computed once per image, so augmentation is off then.")
    if layers > 0:
        text += " " + t("Phase 2: {n} more epochs also train the backbone's top {layers} layers, at a lower learning "
                        "rate; the curves mark where it starts.", n=int(entry.get("fine_tune_epochs") or 0),
                        layers=layers)
    st.info(text, icon=":material/neurology:")


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
    server_limit = get_training_service().max_run_seconds
    if server_limit:
        st.caption(t("This server ends any run after {limit}; the best model so far is kept.", limit=_duration(server_limit)))
    if start and not blockers and not running and _start(ws):
        st.rerun()  # redraw the settings and buttons above in their "running" state
    if stop and running:
        ws.active_run.stop()
        st.toast(t("Stopping after the current batch. The best weights so far are kept."))


def _start(ws: Workspace) -> bool:
    """Start a run; says why not (the service refused it) and returns False."""
    try:
        start_run(ws)
    except UserError as err:
        show_error(err)
        return False
    return True


# --- live progress -------------------------------------------------------------------------


def live_progress(ws: Workspace) -> None:
    """Progress and curves, refreshed by a timer only while a run is active."""
    interval = None
    if ws.active_run is not None:
        run = active_session_run(ws)
        if run is not None and run.status == "queued":
            interval = QUEUED_POLL_S
        else:
            interval = POLL_INTERVAL_S if run is not None and run.shows_progress else FIRST_PROGRESS_POLL_S
    st.fragment(_live_progress_body, run_every=interval)(ws)


def _live_progress_body(ws: Workspace) -> None:
    was_active = ws.active_run is not None
    active = active_session_run(ws)
    had_progress = active is not None and active.shows_progress
    was_queued = active is not None and active.status == "queued"
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
        run_keras_download(run)
    _curves(ws, run)
    if was_active and ws.active_run is None:
        st.rerun()  # once: the buttons, settings and runs table update for the ended run
    elif was_active and not had_progress and run.shows_progress:
        st.rerun()  # once: live_progress sets the slower timer now that progress shows
    elif was_queued and run.status != "queued":
        st.rerun()  # once: a worker took the run; poll fast until its first progress shows


def _progress_bar(run: SessionRun) -> None:
    if run.status == "queued":
        position = run.handle.queue_position
        st.info(
            t("Waiting for a free training slot: the server is busy. Position in the queue: {n}.", n=position or 1),
            icon=":material/hourglass_top:",
        )
        return
    _phase_line(run)
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


def _phase_line(run: SessionRun) -> None:
    """Transfer learning: which of the two phases is going."""
    if run.phase == "head":
        st.caption(":material/ac_unit: " + t("Phase 1: your layers learn while the pretrained backbone stays frozen "
                                             "(its features are computed once per image)."))
    elif run.phase == FINE_TUNE:
        st.caption(":material/tune: " + t("Phase 2: fine-tuning: the backbone's top layers learn too, at a lower "
                                          "learning rate (from epoch {epoch}).", epoch=run.fine_tune_from or 1))


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


def run_keras_download(run: SessionRun) -> None:
    """The ended run's .keras right under how it ended: the file the Export page offers
    (read as bytes: the server never loads the model)."""
    if not run.has_model:
        return
    from core.training.tasks import downloadable_keras

    st.download_button(
        t("Download model.keras"), data=downloadable_keras(run.run_dir).read_bytes(), file_name="model.keras",
        mime="application/octet-stream", key="download_run_keras", on_click="ignore", icon=":material/download:",
    )


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
    signature = (current_lang(), run.id, len(run.history), run.fine_tune_from, tuple((r.id, len(r.history)) for r in earlier))
    cached = ws.cache.get(CURVES_CACHE_KEY)
    if cached is None or cached[0] != signature:
        series = [CurveSeries(r.label, r.history, r.number - 1, faint=True) for r in earlier]
        series.append(CurveSeries(run.label, run.history, run.number - 1, fine_tune_from=run.fine_tune_from))
        titles = {name: t(text) for name, text in CURVE_TITLES_EN.items()}
        figure = training_curves(series, titles=titles, train_label=t("training"), val_label=t("validation"),
                                 epoch_label=t("Epoch"), fine_tune_label=t("fine-tuning"))
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
    classifies = any(_classifies(run) for run in runs)
    for run in reversed(runs):
        summary = run.summary()
        balanced = {t("Balanced classes"): _balanced_text(run, summary)} if classifies else {}
        row = {
            t("Run"): run.number,
            t("Status"): status_text(run.status),
            t("Layers"): summary["layers"],
            # what the worker built: the Design page's total for the same design and data
            t("Parameters"): f"{summary['parameters']:,}" if summary["parameters"] is not None else "—",
            t("Optimizer"): summary["optimizer"],
            t("Learning rate"): summary["learning_rate"],
            t("Epochs"): f"{summary['epochs_run']}/{run.epochs_planned}",  # a fine-tuning phase adds its epochs
            t("Batch size"): summary["batch_size"],
            t("Seed"): summary["seed"],
            **balanced,
            t("Best epoch"): summary["best_epoch"],
            t("Seconds"): summary["seconds"],
        }
        row.update({metric_header(key): _rounded(value) for key, value in run.best_logs().items()})
        row.update({metric_header(key): _rounded(value) for key, value in summary.items()
                    if key.startswith("test_") and key not in NOT_METRICS})
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="runs_table")
    st.caption(t("Training and validation metrics are those of the best epoch; test metrics appear once a run is evaluated."))
    if any(_classifies(run) and run.settings.balance_classes for run in runs):
        st.caption(t("A run with balanced classes weighs its training and validation loss by class: compare it with "
                     "the others by the test metrics, such as the lowest class recall."))


def _balanced_text(run: SessionRun, summary: dict) -> str:
    if not _classifies(run):
        return "—"
    return t("yes") if summary["balance_classes"] else t("no")


def _classifies(run: SessionRun) -> bool:
    """A classification run: the one kind "Balance the classes" changes."""
    dataset = getattr(run, "dataset", None)
    return (dataset.task if dataset is not None else run.spec.get("task")) == "classification"


# Runs-table headers for the metric columns (Keras log names and test_ + core.evaluate's names).
METRIC_HEADERS_EN = {
    "loss": "Training loss", "val_loss": "Validation loss", "test_loss": "Test loss",
    "accuracy": "Training accuracy", "val_accuracy": "Validation accuracy", "test_accuracy": "Test accuracy",
    "mae": "Training MAE", "val_mae": "Validation MAE", "test_mae": "Test MAE",
    "test_rmse": "Test RMSE", "test_r2": "Test R²", "test_macro_f1": "Test average F1", "test_n_test": "Test examples",
    "test_min_recall": "Test lowest class recall",
    "test_mape": "Test MAPE (%)", "test_naive_mae": "Test MAE, naive forecast", "test_naive_rmse": "Test RMSE, naive forecast",
    "test_seasonal_naive_mae": "Test MAE, seasonal naive", "test_seasonal_naive_rmse": "Test RMSE, seasonal naive",
}
# Numbers in a forecast's metrics that describe the data, not the model (the Data page shows them).
NOT_METRICS = {"test_horizon", "test_window", "test_season"}


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
