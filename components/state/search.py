"""The session's design search (issue 24): what may vary, the search's settings, and the search
itself while and after it runs. Draws nothing (components/search_form.py and
components/search_view.py do).

The search runs in its own process (core.search.start_search → a SearchHandle): the Streamlit
server never imports TensorFlow or Ray. The page polls the handle for its trial rows. Its trial
workers take their slots from the server-wide TrainingService's cap, shared with every session's
runs: with none free the search waits in that queue (state "queued").

- `Candidate`: one setting of the current design that may vary ("optimizer.learning_rate",
  "layers.0.units"), with its plain label and the range it starts with.
- `SearchDraft`: what the Search tab's form holds (kept in the Workspace, as Streamlit drops
  widget values when the tab or page is left): per place in the project file whether it varies
  and its range; the strategy, budgets, pruner, epochs per trial and where trials run.
- `SessionSearch`: a started search: its handle, the space and settings it started with, and
  the trial rows read so far.
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from components.state.backbones import session_weights_file
from components.state.workspace import Workspace
from core.blocks import is_block
from core.catalog import LAYERS, OPTIMIZERS, TRAINING_PARAMS
from core.i18n import N_

LAYER_SETTING = N_("Layer {n} ({type}): {what}")  # {what}: units, filters, dropout rate, repeats

STRATEGIES = ("tpe", "random", "grid")  # core.search.strategies.STRATEGIES, the form's order
PRUNERS = ("median", "halving", "none")  # core.search.strategies.PRUNERS
WHERE = ("local", "ray")
RAY_ENV = "RAY_ADDRESS"
ENDED_TRIAL_STATES = ("finished", "pruned", "failed")  # core.search.trials' trial states, besides "running"
SEARCH_ENDED = ("done", "stopped", "failed")  # core.search.handle.FINAL_STATES
DEFAULT_TRIALS = 12
DEFAULT_TIME_BUDGET_MIN = 10
DEFAULT_EPOCHS_PER_TRIAL = 20
BATCH_SIZES = (16, 32, 64, 128)
# A layer's width is tried at half, the same and twice its size.
WIDTH_FACTORS = (0.5, 1, 2)
LEARNING_RATE_SPAN = 10.0  # the design's learning rate ÷ and × this
DROPOUT_RANGE = (0.0, 0.5)
REPEAT_RANGE = (1, 3)
REPEATABLE_PARAMS = ("units", "filters")  # a layer with one of these may be repeated (so may a block)


@dataclass(frozen=True)
class Candidate:
    """One setting of the design that may vary.

    `kind` is the SPACE.json form its range takes: "log_uniform" / "uniform" (two numbers),
    "int" (two whole numbers) or "choice" (a list); `label` is an English template, drawn with
    `label_params` through t() ("": the place itself); `options` lists what a choice of names may
    hold (optimizers).
    """

    path: str
    kind: str
    label: str
    label_params: tuple[tuple[str, Any], ...] = ()
    default: Any = None  # the range: [low, high] or the list of choices
    options: tuple = ()
    low: float | None = None  # the catalog's bounds
    high: float | None = None
    on: bool = False  # varies unless the user switches it off

    def space_entry(self, value: Any) -> dict:
        return {self.kind: list(value)}


def _round_width(value: float) -> int:
    return max(1, int(round(value)))


def _layer_label(index: int, entry: dict, what: str) -> tuple[str, tuple]:
    return LAYER_SETTING, (("n", index + 1), ("type", str(entry.get("type"))), ("what", what))


def design_candidates(spec, dataset, default_space: dict | None = None) -> list[Candidate]:
    """What may vary in `spec`: learning rate, optimizer, batch size, each layer's units or filters,
    each dropout rate, how often a layer or block is repeated. Those in `default_space`
    (core.search's pre-filled space) start switched on with its ranges; the rest start off with
    the ranges here. Places of `default_space` not listed here are added as they are."""
    default_space = dict(default_space or {})
    found: list[Candidate] = []
    optimizer = dict(spec.optimizer or {})
    training = dict(spec.training or {})
    lr_param = next(p for p in OPTIMIZERS[optimizer.get("type", "Adam")].params if p.name == "learning_rate") \
        if optimizer.get("type") in OPTIMIZERS else None
    lr = float(optimizer.get("learning_rate") or (lr_param.default if lr_param else 0.001))
    lr_low = max(lr / LEARNING_RATE_SPAN, lr_param.min if lr_param and lr_param.min else 1e-7)
    lr_high = min(lr * LEARNING_RATE_SPAN, lr_param.max if lr_param and lr_param.max else 10.0)
    found.append(Candidate("optimizer.learning_rate", "log_uniform", N_("Learning rate (log scale)"),
                           default=[_tidy(lr_low), _tidy(lr_high)], low=1e-7, high=10.0))
    found.append(Candidate("optimizer.type", "choice", N_("Optimizer"), default=[o for o in ("Adam", "RMSprop", "SGD") if o in OPTIMIZERS],
                           options=tuple(OPTIMIZERS)))
    batch = TRAINING_PARAMS["batch_size"]
    y_train = getattr(dataset, "y_train", None)
    n_train = len(y_train) if y_train is not None else 0
    sizes = [b for b in BATCH_SIZES if not n_train or b <= max(n_train, BATCH_SIZES[0])]
    found.append(Candidate("training.batch_size", "choice", N_("Batch size"), default=sizes or [int(training.get("batch_size", 32))],
                           low=batch.min, high=batch.max))
    for index, entry in enumerate(spec.layers or []):
        if is_block(entry):
            label, params = _layer_label(index, entry, "repeats")
            found.append(Candidate(f"layers.{index}.repeat", "int", label, params, default=list(REPEAT_RANGE),
                                   low=1, high=8))
            continue
        layer = LAYERS.get(str(entry.get("type")))
        if layer is None:
            continue
        params = {p.name: p for p in layer.params}
        for name in ("units", "filters"):
            if name in params:
                now = int(entry.get(name) or params[name].default)
                widths = sorted({_round_width(now * f) for f in WIDTH_FACTORS})
                label, lparams = _layer_label(index, entry, name)
                found.append(Candidate(f"layers.{index}.{name}", "choice", label, lparams, default=widths,
                                       low=params[name].min, high=params[name].max))
        if "rate" in params:
            label, lparams = _layer_label(index, entry, "dropout rate")
            found.append(Candidate(f"layers.{index}.rate", "uniform", label, lparams, default=list(DROPOUT_RANGE),
                                   low=params["rate"].min, high=params["rate"].max))
        if any(name in params for name in REPEATABLE_PARAMS):
            label, lparams = _layer_label(index, entry, "repeats")
            found.append(Candidate(f"layers.{index}.repeat", "int", label, lparams, default=list(REPEAT_RANGE),
                                   low=1, high=8))
    out = []
    known = {c.path for c in found}
    for cand in found:
        entry = default_space.get(cand.path)
        if isinstance(entry, dict) and len(entry) == 1:
            kind, value = next(iter(entry.items()))
            out.append(_replace(cand, kind=kind, default=list(value), on=True))
        else:
            out.append(cand)
    for path, entry in default_space.items():
        if path not in known and isinstance(entry, dict) and len(entry) == 1:
            kind, value = next(iter(entry.items()))
            out.append(Candidate(path, kind, "", default=list(value), on=True))  # labelled by its place
    return out


def _replace(cand: Candidate, **changes) -> Candidate:
    from dataclasses import replace

    return replace(cand, **changes)


def _tidy(value: float) -> float:
    """1.0000000000000002e-05 -> 1e-05: a range as a person would type it."""
    if value <= 0:
        return value
    digits = 2 - int(math.floor(math.log10(value)))
    return round(value, max(digits, 0))


def design_signature(spec, dataset_version: int) -> str:
    """Changes when the design's layers or the data change: the draft then starts afresh."""
    layers = json.dumps(spec.layers, sort_keys=True, default=str) if spec is not None else ""
    return hashlib.sha1(f"{dataset_version}|{layers}".encode()).hexdigest()[:10]


@dataclass
class SearchDraft:
    """The Search tab's form, kept in the Workspace (widget values are dropped on tab changes)."""

    signature: str
    candidates: list[Candidate]
    on: dict[str, bool] = field(default_factory=dict)  # path -> varies
    values: dict[str, Any] = field(default_factory=dict)  # path -> [low, high] or [choices]
    strategy: str = "tpe"
    trials: int = DEFAULT_TRIALS
    time_budget_min: float | None = DEFAULT_TIME_BUDGET_MIN
    pruner: str = "median"
    epochs: int = DEFAULT_EPOCHS_PER_TRIAL
    where: str = "local"
    ray_address: str = ""
    problems: dict = field(default_factory=dict)  # place (or "where") -> why Start cannot go yet

    @classmethod
    def fresh(cls, ws: Workspace, signature: str, default_space: dict | None = None) -> SearchDraft:
        candidates = design_candidates(ws.spec, ws.dataset, default_space)
        epochs = int((ws.spec.training or {}).get("epochs") or DEFAULT_EPOCHS_PER_TRIAL)
        return cls(
            signature=signature,
            candidates=candidates,
            on={c.path: c.on for c in candidates},
            values={c.path: list(c.default) for c in candidates},
            epochs=min(epochs, DEFAULT_EPOCHS_PER_TRIAL),
            where="ray" if os.environ.get(RAY_ENV) else "local",
            ray_address=os.environ.get(RAY_ENV, ""),
        )

    def space(self) -> dict:
        """SPACE.json: the places that vary and their ranges (core.search.space checks them)."""
        by_path = {c.path: c for c in self.candidates}
        return {path: {by_path[path].kind: list(self.values[path])} for path, on in self.on.items()
                if on and path in by_path}

    def settings(self) -> dict:
        """The search's settings: core.search.strategies.SearchSettings as JSON."""
        budget = self.time_budget_min
        return {
            "strategy": self.strategy,
            "trials": int(self.trials),
            "time_budget_s": float(budget) * 60 if budget else None,
            "pruner": self.pruner,
            "epochs": int(self.epochs),
            "ray_address": (self.ray_address.strip() or None) if self.where == "ray" else None,
        }


def search_draft(ws: Workspace) -> SearchDraft:
    """The session's draft for the current design and data (a fresh one after either changed)."""
    signature = design_signature(ws.spec, ws.data_version)
    draft = ws.search_draft
    if draft is None or draft.signature != signature:
        draft = ws.search_draft = SearchDraft.fresh(ws, signature, _default_space(ws))
    return draft


def _default_space(ws: Workspace) -> dict:
    """core.search's pre-filled space for this design (empty if it has none to offer)."""
    try:
        from core.search.space import default_space
    except ImportError:
        return {}
    try:
        return dict(default_space(ws.spec, ws.dataset) or {})
    except Exception:  # noqa: BLE001 - the pre-filled ranges are a convenience; the form's own stand in
        return {}


def ray_installed() -> bool:
    """Whether Ray Tune can be used here (found without importing it: Ray costs seconds and ~660 MB)."""
    return importlib.util.find_spec("ray") is not None


# --- a started search --------------------------------------------------------------------


@dataclass(eq=False)
class SessionSearch:
    """A search started from this session: its handle and what it has reported."""

    id: str
    folder: Any  # Path of the search's files (trials.json, each trial's run folder)
    space: dict
    settings: dict
    spec: Any  # the ProjectSpec it started from (epochs per trial set)
    handle: Any = None  # core.search.SearchHandle
    rows: list = field(default_factory=list)  # core.search's TrialRow objects, last poll
    state: str = "starting"  # the handle's: queued | starting | running | done | stopped | failed
    queue_position: int | None = None  # while queued for a training slot: 1 = next
    started: float = field(default_factory=time.monotonic)
    error: Any = None  # a UserError the search ended with (e.g. an unreachable Ray address)
    message: str = ""  # the search's own word on how it ended (English)
    used_trial: Any = None  # the trial whose design was made the current one
    candidates: dict = field(default_factory=dict)  # place -> Candidate (its label), as the form had them
    data_version: int = 0  # the Workspace's data when it started: a trial's model fits only that data
    kept_runs: dict = field(default_factory=dict)  # trial id -> the SessionRun made from its model
    metric: str | None = None  # what the score is ("val_accuracy", "val_loss"), once the search says
    direction: str = "maximize"  # or "minimize": which scores are better
    stopping: bool = False  # Stop was pressed

    @property
    def ended(self) -> bool:
        return self.state in SEARCH_ENDED

    def best(self) -> Any:
        """The best finished trial (a pruned trial's partial score never wins), or None."""
        from core.search.trials import best_row

        return best_row(self.rows, self.direction)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def start_search(ws: Workspace, draft: SearchDraft) -> SessionSearch:
    """Hand the current design, data, space and settings to core.search's own process; never waits.

    Raises core's UserError (an empty space, a range that makes every design invalid, an
    unreachable Ray address): nothing is recorded then."""
    from components.state.training_service import get_training_service
    from core.search.handle import start_search as core_start
    from core.search.strategies import SearchSettings

    space = draft.space()
    settings = draft.settings()
    spec = copy.deepcopy(ws.spec)
    search_id = f"search-{uuid.uuid4().hex[:8]}"
    folder = ws.temp_dir / "searches" / search_id
    folder.mkdir(parents=True, exist_ok=True)
    # its trial workers take their slots from the server-wide cap, shared with every session's runs
    handle = core_start(spec, ws.dataset, space, SearchSettings(**settings), folder, service=get_training_service(),
                        weights_file=session_weights_file(ws.backbones, spec))
    candidates = {c.path: c for c in draft.candidates if c.path in space}
    search = SessionSearch(id=search_id, folder=folder, space=space, settings=settings, spec=spec, handle=handle,
                           candidates=candidates, data_version=ws.data_version)
    ws.search = search
    return search


def sync_search(ws: Workspace) -> SessionSearch | None:
    """Read the search's trial rows and state (cheap: the handle reads what its process wrote)."""
    search = ws.search
    if search is None or search.handle is None:
        return search
    if search.ended and search.rows:
        return search
    handle = search.handle
    search.rows = list(handle.poll())
    search.state = str(handle.state)
    search.queue_position = getattr(handle, "queue_position", None)
    search.error = handle.error
    search.message = handle.message
    search.metric = handle.metric or search.metric
    search.direction = handle.direction or search.direction
    return search


def stop_search(ws: Workspace) -> None:
    """Stop the whole search; the trials that finished are kept."""
    search = ws.search
    if search is not None and search.handle is not None and not search.ended:
        search.handle.stop()
        search.stopping = True


def use_trial(ws: Workspace, trial_id: Any) -> Any:
    """Make a trial's design the current one (the designer shows it, Train trains it) and its trained
    model one of the session's runs, selected for Evaluate and Export. Returns that run, or None
    when the trial kept no model or the data changed since the search started.

    Raises core's UserError when the trial saved no design."""
    search = ws.search
    spec = search.handle.trial_spec(trial_id)
    ws.spec, ws.template_id = spec, None
    search.used_trial = trial_id
    run = search.kept_runs.get(trial_id)
    if run is None or run not in ws.runs:
        run = search.kept_runs[trial_id] = _trial_run(ws, search, trial_id, spec)
    if run is not None:
        ws.selected_run = ws.runs.index(run)
    return run


def _serves_trained_model(dataset: Any) -> bool:
    """Whether the data's kind offers the trained network itself as the download (its
    `serving_model` is DataKind's own), so a trial's best.keras is what Export gives."""
    from core.data.kinds import DataKind, kind_of

    return type(kind_of(dataset)).serving_model is DataKind.serving_model


def _trial_run(ws: Workspace, search: SessionSearch, trial_id: Any, spec: Any) -> Any:
    """The trial's run folder copied into a session run (its job written as for any run, so the
    helpers can evaluate and convert its model); None without a model or on other data."""
    import shutil
    from pathlib import Path

    from components.state.runs import SessionRun
    from core.training.events import read_all
    from core.training.rundir import RunDir, write_job

    trial = RunDir(Path(search.handle.trial_dir(trial_id)))
    if search.data_version != ws.data_version or not trial.best_model.exists() or not trial.events.exists():
        return None
    if not _serves_trained_model(ws.dataset):
        return None  # its download needs layers only a training worker adds (exports/model.keras): train it
    number = len(ws.runs) + 1
    run_id = f"run{number}-trial{trial_id}-{uuid.uuid4().hex[:6]}"
    run_dir = RunDir(ws.run_dir(run_id))
    write_job(run_dir, spec, ws.dataset)
    for name in ("events", "best_model"):
        shutil.copyfile(getattr(trial, name), getattr(run_dir, name))
    run = SessionRun(id=run_id, number=number, spec=spec.to_dict(), status="running", run_dir=run_dir.path,
                     project=copy.deepcopy(spec), dataset=ws.dataset, search_trial=trial_id)
    run.absorb(read_all(run_dir.events))
    if not run.ended:  # a trial stopped without its end event: what it kept is still a model
        run.status = "stopped"
    ws.runs.append(run)
    return run
