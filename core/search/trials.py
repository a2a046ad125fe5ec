"""What a search reports: one TrialRow per trial, and the search's trials.json.

A trial's score is the validation score of the model it keeps (the epoch with the lowest
validation loss, core.training.monitor): accuracy for classification (higher is better), the
loss otherwise (lower is better). The test split never takes part in choosing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RUNNING, FINISHED, PRUNED, FAILED = "running", "finished", "pruned", "failed"
TRIAL_STATES = (RUNNING, FINISHED, PRUNED, FAILED)
# The search as a whole
SEARCH_QUEUED, SEARCH_STARTING, SEARCH_RUNNING, SEARCH_DONE, SEARCH_STOPPED, SEARCH_FAILED = (
    "queued", "starting", "running", "done", "stopped", "failed")
FORMAT = "layerlab-search/1"

# What a search and its trials say, as English templates (a row's `template` + `params`; the
# UI translates them through core.i18n like a run's end message; scripts/i18n_extract.py reads MESSAGES).
STOPPED_BY_USER = "Stopped at your request; the trials that ran are kept."
TIME_BUDGET_SPENT = "The time budget of {seconds} seconds ran out; the trials that ran are kept."
DONE_SUMMARY = "{n} trials: {finished} finished, {pruned} pruned, {failed} failed."
DONE_BEST = "{n} trials: {finished} finished, {pruned} pruned, {failed} failed. The best is trial {best} ({metric} {score})."
TRIAL_PRUNED = "Stopped early after epoch {epoch}: its validation score was behind the other trials' at that point."
TRIAL_WORKER_ENDED = "The process training this trial ended unexpectedly ({reason})."
SEARCH_ENDED = "The search stopped unexpectedly ({reason})."
SEARCH_BUG = "The search failed because of a bug in LayerLab: {error}"
MESSAGES = (STOPPED_BY_USER, TIME_BUDGET_SPENT, DONE_SUMMARY, DONE_BEST, TRIAL_PRUNED, TRIAL_WORKER_ENDED, SEARCH_ENDED,
            SEARCH_BUG)


@dataclass
class TrialRow:
    id: int
    settings: dict[str, Any]
    state: str = RUNNING
    epochs: int = 0
    score: float | None = None  # best validation score so far (of the epoch the trial keeps)
    curve: list[float | None] = field(default_factory=list)  # the validation score after each epoch
    message: str = ""  # how it ended, in words (English; `template` + `params` to translate)
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # training time from the trial's own start (its worker's TensorFlow import not counted)
    best_epoch: int | None = None

    def add_epoch(self, epoch: int, logs: dict[str, Any], losses: list[float | None], metric: str,
                  elapsed: float | None = None) -> None:
        """Take in one epoch's logs (a run's epoch event locally, a trial's report on Ray); `losses`: the
        validation losses so far (this one is appended); `elapsed`: the trial's training clock."""
        losses.append(logs.get("val_loss"))
        self.curve.append(logs.get(metric))
        self.epochs = epoch
        self.score, self.best_epoch = kept_score(self.curve, losses, metric)
        if elapsed is not None:
            self.seconds = round(float(elapsed), 2)

    def conclude(self, failed: bool, pruned: bool) -> None:
        """Its final state (the local and Ray drivers' one rule): failed (it could not train, or diverged:
        the search goes on) or without a score → failed; stopped by the pruner → pruned; else finished."""
        if failed or self.score is None:
            self.state = FAILED
        elif pruned:
            self.state, self.template, self.params = PRUNED, TRIAL_PRUNED, {"epoch": self.epochs}
        else:
            self.state = FINISHED
        if self.template:
            self.message = render(self.template, self.params)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRow:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def render(template: str, params: dict[str, Any], lang: str = "en") -> str:
    from core.i18n import translate

    return translate(template, lang, **params)


def objective(task: str | None) -> tuple[str, str]:
    """(the validation metric that scores a trial, "maximize" or "minimize")."""
    return ("val_accuracy", "maximize") if task == "classification" else ("val_loss", "minimize")


def kept_score(curve: list[float | None], losses: list[float | None], metric: str) -> tuple[float | None, int | None]:
    """The score of the epoch a run keeps (lowest validation loss; core.training.monitor) and that epoch (1-based)."""
    best, best_epoch = None, None
    for epoch, loss in enumerate(losses, start=1):
        if loss is not None and (best is None or loss < best):
            best, best_epoch = loss, epoch
    if best_epoch is None:
        return None, None
    return (best if metric == "val_loss" else curve[best_epoch - 1]), best_epoch


def best_row(rows: list[TrialRow], direction: str) -> TrialRow | None:
    """The best trial with a score (finished first; a pruned trial's partial score never wins over a finished one)."""
    scored = [r for r in rows if r.score is not None and r.state == FINISHED]
    if not scored:
        return None
    sign = 1 if direction == "maximize" else -1
    return max(scored, key=lambda r: (sign * r.score, -r.id))
