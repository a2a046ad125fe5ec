"""How a run ended: its status, a message a non-programmer understands, and the result
record written to result.json. Pure Python (the server side uses it without Keras)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.training import events as ev

# (status, whether a best epoch exists) -> English template. The UI translates the
# template with its params through core.i18n, like UserError messages.
_TEMPLATES: dict[tuple[str, bool], str] = {
    (ev.FINISHED, True): "Training finished after {epochs} epochs. The model from epoch {best_epoch} (lowest {monitor}) is kept.",
    (ev.FINISHED, False): "Training finished after {epochs} epochs.",
    (ev.STOPPED, True): "Training stopped at your request during epoch {epoch}. The best model so far (epoch {best_epoch}) is kept.",
    (ev.STOPPED, False): "Training stopped at your request during epoch {epoch}. The model as it was when stopped is kept.",
    (ev.EARLY_STOPPED, True): "Stopped early at epoch {epoch}: the {monitor} had not improved for {patience} epochs. The model from epoch {best_epoch} is kept.",
    (ev.DIVERGED, True): "Training diverged — try a lower learning rate. The loss stopped being a finite number during epoch {epoch}; the last good model (epoch {best_epoch}) is kept.",
    (ev.DIVERGED, False): "Training diverged — try a lower learning rate. The loss stopped being a finite number during epoch {epoch}; the model as it was before training is kept.",
    (ev.TIMEOUT, True): "Training reached its time limit of {limit} seconds during epoch {epoch}. The best model so far (epoch {best_epoch}) is kept.",
    (ev.TIMEOUT, False): "Training reached its time limit of {limit} seconds during epoch {epoch}. The model as it was then is kept.",
    (ev.FAILED, True): "Training failed: {error}. The best model so far (epoch {best_epoch}) is kept.",
    (ev.FAILED, False): "Training failed: {error}.",
}
OUT_OF_MEMORY = "the computer ran out of memory — try a smaller batch size or a smaller model"
# A worker that died without its "end" event: (status key, a model was saved) -> template.
CRASHED = "The training process stopped unexpectedly ({reason}). The best model so far is kept."
CRASHED_NO_MODEL = "The training process stopped unexpectedly ({reason}) before any model was saved."
KILLED = "The training run was ended before it finished. The best model so far is kept."
KILLED_NO_MODEL = "The training run was ended before it finished, before any model was saved."
SERVER_LIMIT = "The training run took longer than the server allows ({limit} seconds) and was ended. The best model so far is kept."
SERVER_LIMIT_NO_MODEL = "The training run took longer than the server allows ({limit} seconds) and was ended before any model was saved."
LOST_WORKER_TEMPLATES = {
    "crashed": (CRASHED, CRASHED_NO_MODEL),
    "killed": (KILLED, KILLED_NO_MODEL),
    "server_limit": (SERVER_LIMIT, SERVER_LIMIT_NO_MODEL),
}
CANCELLED = "The training run was cancelled before it started."


def end_message(status: str, best_epoch: int | None, **params: Any) -> tuple[str, dict[str, Any]]:
    """The template and params for a run that ended with `status`."""
    template = _TEMPLATES.get((status, best_epoch is not None)) or _TEMPLATES[(status, True)]
    return template, {**params, "best_epoch": best_epoch}


def render(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


@dataclass
class RunResult:
    """What a run produced. `model` is only set for runs trained in this process."""

    status: str
    message: str
    best_epoch: int | None = None
    epochs_run: int = 0
    history: list[dict[str, float | None]] = field(default_factory=list)
    elapsed: float = 0.0
    best_model_path: Path | None = None
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    samples_per_s: float | None = None
    model: Any = None

    def end_event(self) -> dict[str, Any]:
        return {
            "type": "end",
            "status": self.status,
            "message": self.message,
            "template": self.template,
            "params": self.params,
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "elapsed": round(self.elapsed, 3),
            "samples_per_s": self.samples_per_s,
        }

    def to_json(self) -> dict[str, Any]:
        data = self.end_event()
        del data["type"]
        data["history"] = self.history
        data["best_model_path"] = str(self.best_model_path) if self.best_model_path else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        path = data.get("best_model_path")
        return cls(
            status=data["status"],
            message=data["message"],
            best_epoch=data.get("best_epoch"),
            epochs_run=data.get("epochs_run", 0),
            history=list(data.get("history") or []),
            elapsed=data.get("elapsed", 0.0),
            best_model_path=Path(path) if path else None,
            template=data.get("template", ""),
            params=dict(data.get("params") or {}),
            samples_per_s=data.get("samples_per_s"),
        )
