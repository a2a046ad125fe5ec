"""The session's training runs: what each one is, and keeping them up to date.

A run trains in core.training's worker process; its handle lives in the Workspace, so
leaving a page neither loses nor stops it. The pages read progress through
`sync_active_run` (the Train page's live view, and Evaluate and Export on arrival), which
folds the events appended since the last look into the run's record.
"""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.i18n import t
from components.state.backbones import session_weights_file
from components.state.training_service import get_training_service
from components.state.workspace import Workspace
from core.training.events import END_STATUSES, FAILED
from core.training.records import RunRecord
from core.training.rundir import RunDir

FINE_TUNE = "fine_tune"  # the second phase's name in events (core.training); the first is "head"


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
    search_trial: int | None = None  # the design search's trial this run's model comes from (its "Use this design")
    # Transfer learning (a design that starts with a pretrained backbone): the phase now going
    # ("head": the new layers learn, the backbone frozen; "fine_tune": its top layers too) and the
    # first epoch of fine-tuning (1-based; the curves shade from there).
    phase: str | None = None
    fine_tune_from: int | None = None

    @property
    def ended(self) -> bool:
        return self.status in END_STATUSES

    @property
    def epochs_planned(self) -> int:
        """Epochs the run does at most: the training setting's, plus the fine-tuning phase's when its
        design fine-tunes a pretrained backbone (core.training.phases)."""
        from core.backbones import is_backbone

        epochs = self.settings.epochs
        layers = self.spec.get("layers") or []
        if layers and is_backbone(layers[0]) and int(layers[0].get("fine_tune_layers") or 0) > 0:
            epochs += int(layers[0].get("fine_tune_epochs") or 0)
        return max(epochs, len(self.history), 1)

    @property
    def best_model_path(self) -> Path | None:
        """best.keras in the run directory (written by our own worker), once it exists."""
        path = Path(self.model_path) if self.model_path else RunDir(self.run_dir).best_model
        return path if path.exists() else None

    @property
    def has_model(self) -> bool:
        return self.best_model_path is not None

    @property
    def shows_progress(self) -> bool:
        """Whether the worker has reported any progress yet (an epoch or a batch)."""
        return bool(self.history) or self.last_batch_event is not None

    @property
    def label(self) -> str:
        return t("Run {n}", n=self.number)

    def absorb(self, events: list[dict]) -> None:
        """Fold newly read progress events into the record (only the new ones: cheap)."""
        for event in events:
            kind = event.get("type")
            if kind in ("start", "batch"):
                self.status = "running"
                if kind == "start":
                    self.model_params = event.get("params")
                if kind == "batch":
                    self.last_batch_event = event
                    self.eta_s = event.get("eta", self.eta_s)
            elif kind == "phase":
                self._enter_phase(event.get("phase"), event.get("epoch"))
            elif kind == "epoch":
                self.status = "running"
                if event.get("phase"):
                    self._enter_phase(event["phase"], event.get("epoch"))
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


    def _enter_phase(self, phase: Any, epoch: Any) -> None:
        """A phase event, or an epoch event naming its phase: fine-tuning starts at the next epoch
        to be recorded (or at the epoch the event names), once."""
        if not isinstance(phase, str):
            return
        self.phase = phase
        if phase == FINE_TUNE and self.fine_tune_from is None:
            number = len(self.history) + 1
            if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch > len(self.history):
                number = epoch
            self.fine_tune_from = number


def start_run(ws: Workspace) -> SessionRun:
    """Hand the current design and data to a worker and make it the active run; never waits.

    Raises the service's UserError (nothing is recorded then)."""
    number = len(ws.runs) + 1
    run_id = f"run{number}-{uuid.uuid4().hex[:8]}"
    run_dir = ws.run_dir(run_id)
    spec = copy.deepcopy(ws.spec)  # later design edits must not change what this run trained
    weights = session_weights_file(ws.backbones, spec)  # the session's own weights file, never shared
    handle = get_training_service().start(spec, ws.dataset, run_dir, weights_file=weights)
    run = SessionRun(
        id=run_id, number=number, spec=spec.to_dict(), status="queued",
        run_dir=run_dir, project=spec, dataset=ws.dataset, handle=handle,
    )
    ws.runs.append(run)
    ws.active_run = handle
    return run


def active_session_run(ws: Workspace) -> SessionRun | None:
    """The record of the run whose worker is going (or queued), if any."""
    handle = ws.active_run
    return next((r for r in reversed(ws.runs) if r.handle is handle), None) if handle is not None else None


def sync_active_run(ws: Workspace) -> SessionRun | None:
    """Read the active run's new events; release it from `active_run` once it has ended.

    Returns the run that was active during this call (ended or not), or None.
    """
    handle = ws.active_run
    if handle is None:
        return None
    run = active_session_run(ws)
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
        run.metrics = _test_metrics(run)
    return run


def _test_metrics(run: SessionRun) -> dict:
    """The test-set numbers the worker wrote when the run ended (the runs table shows them)."""
    from core.errors import UserError
    from core.training.tasks import read_evaluation

    try:
        evaluation = read_evaluation(run.run_dir) if run.has_model else None
    except UserError:  # e.g. no test split: the Evaluate page says so
        evaluation = None
    return evaluation.metrics() if evaluation is not None else run.metrics


def runs_with_model(ws: Workspace) -> list[SessionRun]:
    """Ended runs whose best model file exists, newest last."""
    return [r for r in ws.runs if isinstance(r, SessionRun) and r.ended and r.has_model]
