"""The Keras callback that reports progress and controls a run.

Imported only inside the trainer (it imports Keras at module level). The per-batch work
is kept nearly free: it uses `on_train_batch_begin`, which Keras calls with no logs to
convert and which leaves Keras's asynchronous batch-end dispatch switched on; each batch
checks the stop request (a multiprocessing Event, about a microsecond) and the clock. Batch progress events
and the time limit are handled at most every `tick_s` seconds, the running metrics (a
live loss, and the NaN check within an epoch) read at most once a second, and everything
else at epoch ends.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np

from core.training import events as ev

TICK_S = 0.2  # at most this often: batch progress events, time limit
METRICS_EVERY_S = 1.0  # reading the running metrics (live loss, NaN check) costs ~1 ms: less often
# Writing best.keras costs ~30 ms for a small model (several times that on a busy machine),
# which on sub-second epochs would eat into training speed. So an improvement is written
# only while the writes so far stay within this share of the training time; with slow
# epochs that is every improvement. The weights themselves are kept in memory at every
# improvement, so the model the run hands back is always the exact best one, and the last
# pending improvement is written when training ends.
SAVE_BUDGET = 0.005  # at most 0.5 % of the training time; with ~30 ms saves, one every ~6 s at most
FIRST_SAVE_ESTIMATE_S = 0.05


class RunMonitor(keras.callbacks.Callback):
    def __init__(
        self,
        *,
        epochs: int,
        emit: Callable[[dict], None],
        best_model_path: Path,
        should_stop: Callable[[], bool] | None = None,
        patience: int | None = None,
        time_limit_s: float | None = None,
        tick_s: float = TICK_S,
        network: Any = None,
    ) -> None:
        super().__init__()
        # The whole network whose weights are kept and saved; None: the model being fitted. A backbone's
        # cached-features phase fits a sub-model sharing the network's layers (core.training.phases).
        self.network = network
        self.phase: str | None = None  # "head" | "fine_tune" on the events of a design with a backbone
        self._phase_start = 0  # epochs done before this phase (patience counts from there)
        self._started = False
        self.epochs = epochs
        self.emit = emit
        self.best_model_path = Path(best_model_path)
        self.should_stop = should_stop or (lambda: False)
        self.patience = patience or None
        self.time_limit_s = time_limit_s or None
        self.tick_s = tick_s
        # What happened, read by the trainer after fit returns.
        self.status: str = ev.FINISHED
        self.history: list[dict[str, float | None]] = []
        self.best_epoch: int | None = None  # 1-based
        self.best_value = math.inf
        self.saved_epoch: int | None = None  # the epoch whose weights best.keras holds
        self.monitor_key = "loss"
        self.stopped_in_epoch: int | None = None
        self.elapsed = 0.0
        self._best_weights: list[np.ndarray] | None = None
        self._initial_weights: list[np.ndarray] | None = None
        self._save_pending = False
        self._save_seconds = 0.0  # spent writing best.keras so far
        self._last_save_cost = FIRST_SAVE_ESTIMATE_S
        self._epoch = 0
        self._batches = 0
        self._t0 = 0.0
        self._next_tick = 0.0
        self._next_metrics = 0.0
        self._batch_logs: dict[str, float | None] = {}
        self._epoch_t0 = 0.0

    # ---- Keras hooks -------------------------------------------------------------------
    @property
    def kept(self) -> Any:
        """The model whose weights are kept and written to best.keras."""
        return self.network if self.network is not None else self.model

    def begin_phase(self, phase: str, epochs_done: int, total_epochs: int | None = None) -> None:
        """Another fit follows (core.training.phases): an early stop ended only the phase before."""
        self.phase = phase
        self._phase_start = epochs_done
        if total_epochs is not None:
            self.epochs = total_epochs
        if self.status == ev.EARLY_STOPPED:
            self.status = ev.FINISHED
            self.stopped_in_epoch = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        now = time.perf_counter()
        if not self._started:  # a second phase's fit continues the clock
            self._started = True
            self._t0 = now
            self._initial_weights = self.kept.get_weights()
        self._next_tick = now  # the first batch is reported as it starts: the page shows training has begun
        self._batches = int(self.params.get("steps") or 0)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._epoch_t0 = time.perf_counter()
        self._batch_logs = {}

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.should_stop():
            self._end(ev.STOPPED)
        now = time.perf_counter()
        if now < self._next_tick:
            return
        self._next_tick = now + self.tick_s
        self._tick(batch, now)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        clean = ev.clean_logs(logs)
        holds_best = False  # does the model hold the best weights right now?
        self.history.append(clean)
        if "val_loss" in clean:
            self.monitor_key = "val_loss"
        value = clean.get(self.monitor_key)
        if clean.get("loss") is None or value is None:
            self._end(ev.DIVERGED)
        elif value < self.best_value:
            self.best_value = value
            self.best_epoch = epoch + 1
            self._best_weights = self.kept.get_weights()
            self._save_pending = True
            holds_best = True
        elif self.patience and epoch + 1 - max(self.best_epoch or 0, self._phase_start) >= self.patience:
            self._end(ev.EARLY_STOPPED)
        elapsed = now - self._t0
        if self._save_pending and self._save_seconds + self._last_save_cost <= SAVE_BUDGET * elapsed:
            self._save_best(model_holds_best=holds_best)
        done = epoch + 1
        event = {
            "type": "epoch",
            "epoch": done,
            "epochs": self.epochs,
            "logs": clean,
            "elapsed": round(elapsed, 3),
            "epoch_s": round(now - self._epoch_t0, 3),
            "eta": round(elapsed / done * max(self.epochs - done, 0), 3),
            "best_epoch": self.best_epoch,
            "saved_epoch": self.saved_epoch,
        }
        if self.phase is not None:
            event["phase"] = self.phase
        self.emit(event)
        if self.time_limit_s and elapsed >= self.time_limit_s:
            self._end(ev.TIMEOUT)

    def on_train_end(self, logs: dict | None = None) -> None:
        self.elapsed = time.perf_counter() - self._t0
        self.keep_best_weights()

    # ---- helpers -----------------------------------------------------------------------
    def _tick(self, batch: int, now: float) -> None:
        elapsed = now - self._t0
        if batch > 0 and now >= self._next_metrics:  # the metrics exist after the epoch's first batch
            self._next_metrics = now + METRICS_EVERY_S
            self._batch_logs = ev.clean_logs(self._running_metrics())
            if self._batch_logs.get("loss", 0.0) is None:
                self._end(ev.DIVERGED)
        fraction = min((self._epoch + batch / max(self._batches, 1)) / self.epochs, 1.0)
        event = {
            "type": "batch",
            "epoch": self._epoch + 1,
            "epochs": self.epochs,
            "batch": batch,
            "batches": self._batches,
            "logs": self._batch_logs,  # running means over the epoch so far
            "elapsed": round(elapsed, 3),
            "eta": round(elapsed * (1 - fraction) / fraction, 3) if fraction > 0 else None,
        }
        if self.phase is not None:
            event["phase"] = self.phase
        self.emit(event)
        if self.time_limit_s and elapsed >= self.time_limit_s:
            self._end(ev.TIMEOUT)

    def _running_metrics(self) -> dict:
        # On JAX, fit keeps the variables' current values outside the model during an epoch
        # (the model's own read as their initial values until the epoch ends). Read them from
        # those values in a stateless scope: syncing the whole state back (jax_state_sync)
        # costs tens of milliseconds per read on a GPU.
        state = getattr(self.model, "_jax_state", None)
        if state and state.get("metrics_variables"):
            mapping = list(zip(self.model.metrics_variables, state["metrics_variables"]))
            with keras.StatelessScope(state_mapping=mapping):
                return self.model.get_metrics_result()
        return self.model.get_metrics_result()

    def _end(self, status: str) -> None:
        """Ask Keras to stop after the current batch; the first reason given wins."""
        if not self.model.stop_training:
            self.status = status
            self.stopped_in_epoch = self._epoch + 1
            self.model.stop_training = True

    def keep_best_weights(self) -> None:
        """Leave the model holding the weights the run hands back, and write best.keras.

        The best epoch's weights when an epoch completed with finite values; otherwise the
        current weights if they are finite (a stop during the first epoch), else the
        weights the run started from (a divergence in the first epoch).
        """
        kept = self.kept
        if self._best_weights is not None:
            kept.set_weights(self._best_weights)
        elif not _all_finite(kept.get_weights()) and self._initial_weights is not None:
            kept.set_weights(self._initial_weights)
        if self._save_pending or not self.best_model_path.exists():
            self._save_best(model_holds_best=True)

    def _save_best(self, *, model_holds_best: bool) -> None:
        start = time.perf_counter()
        current = None
        kept = self.kept
        if not model_holds_best and self._best_weights is not None:
            current = kept.get_weights()
            kept.set_weights(self._best_weights)
        tmp = self.best_model_path.with_name("best.tmp.keras")
        kept.save(tmp)
        tmp.replace(self.best_model_path)  # atomic: a reader never loads half a file
        if current is not None:
            kept.set_weights(current)
        self._save_pending = False
        self.saved_epoch = self.best_epoch
        self._last_save_cost = time.perf_counter() - start
        self._save_seconds += self._last_save_cost


def _all_finite(weights: list[np.ndarray]) -> bool:
    return all(np.isfinite(w).all() for w in weights if np.issubdtype(w.dtype, np.floating))
