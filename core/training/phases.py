"""Training a design that starts with a pretrained backbone: phase "head", then optionally "fine_tune".

Phase "head" trains the layers after the frozen backbone. With `cache_features` the backbone's output is
computed once for the training and validation images and the layers after it train on those arrays
through `head_model` (a functional sub-model sharing the same layer objects), which is one to two orders
of magnitude faster per epoch on a CPU; the whole network then holds the trained weights. Phase
"fine_tune" unfreezes the backbone's last `fine_tune_layers` layers (BatchNormalization stays frozen, in
inference mode), recompiles with a lower learning rate and trains `fine_tune_epochs` more epochs through
the images. One RunMonitor watches both (best epoch over both, Stop, time limit).

Imported by the trainer only (Keras is imported inside the functions).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from core.backbones import DEFAULT_FINE_TUNE_FACTOR, FROZEN_CLASSES, has_backbone
from core.training import events as ev

HEAD = "head"
FINE_TUNE = "fine_tune"
BACKBONE_LAYER = "backbone"
PREDICT_BATCH = 64


@dataclass(frozen=True)
class PhasePlan:
    head_epochs: int
    fine_tune_layers: int
    fine_tune_epochs: int  # 0 when nothing is fine-tuned
    fine_tune_learning_rate: float | None
    cache_features: bool

    @property
    def total_epochs(self) -> int:
        return self.head_epochs + self.fine_tune_epochs

    def start_field(self) -> list[dict]:
        """The start event's "phases"."""
        phases = [{"phase": HEAD, "epochs": self.head_epochs, "cached_features": self.cache_features}]
        if self.fine_tune_epochs:
            phases.append({"phase": FINE_TUNE, "epochs": self.fine_tune_epochs})
        return phases


def plan_for(spec: Any, epochs: int) -> PhasePlan | None:
    """The phases of a design with a backbone (None without one: plain training)."""
    if not has_backbone(spec):
        return None
    entry = spec.layers[0]
    layers = int(entry.get("fine_tune_layers") or 0)
    return PhasePlan(
        head_epochs=epochs,
        fine_tune_layers=layers,
        fine_tune_epochs=int(entry.get("fine_tune_epochs") or 0) if layers else 0,
        fine_tune_learning_rate=entry.get("fine_tune_learning_rate"),
        cache_features=bool(entry.get("cache_features", True)),
    )


def fine_tune_learning_rate(plan: PhasePlan, optimizer: dict) -> float:
    if plan.fine_tune_learning_rate is not None:
        return float(plan.fine_tune_learning_rate)
    return float(f"{float(optimizer.get('learning_rate', 0.001)) * DEFAULT_FINE_TUNE_FACTOR:.6g}")  # as train_model.py writes it


def backbone_of(model: Any) -> Any:
    return model.get_layer(BACKBONE_LAYER)


def backbone_output(model: Any) -> Any:
    """The backbone's output tensor in the network's graph (a nested model's own `.output` is its inner one)."""
    return backbone_of(model)._inbound_nodes[-1].outputs[0]


def feature_model(model: Any):
    """Raw pixels -> the frozen backbone's feature map (the first part of the network)."""
    import keras

    return keras.Model(model.inputs[0], backbone_output(model), name="features")


def head_model(model: Any):
    """The backbone's feature map -> the outputs: the layers after the backbone, the same layer objects."""
    import keras

    return keras.Model(backbone_output(model), model.outputs[0], name="head")


def features(model: Any, x: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """The frozen backbone's output for every image (float32), in batches."""
    if len(x) == 0:
        return np.zeros((0, *(int(d) for d in backbone_of(model).output.shape[1:])), dtype="float32")
    return np.asarray(feature_model(model).predict(x, batch_size=batch_size, verbose=0), dtype="float32")


def cached_fit_data(model: Any, data: dict, batch_size: int = PREDICT_BATCH) -> dict:
    """model.fit's data arguments with the images replaced by the frozen backbone's features."""
    out = dict(data)
    out["x"] = features(model, data["x"], batch_size)
    validation = data.get("validation_data")
    if validation is not None:
        out["validation_data"] = (features(model, validation[0], batch_size), *validation[1:])
    return out


def unfreeze_top(model: Any, layers: int) -> int:
    """Make the backbone's last `layers` layers trainable (BatchNormalization and input statistics stay
    frozen); the number of weights that are now trained in the backbone."""
    backbone = backbone_of(model)
    backbone.trainable = True
    inner = backbone.layers
    first = max(len(inner) - layers, 0)
    for index, layer in enumerate(inner):
        layer.trainable = index >= first and type(layer).__name__ not in FROZEN_CLASSES
    return int(sum(int(np.prod(w.shape)) for w in backbone.trainable_weights))


def compile_like(model: Any, dataset: Any, optimizer: dict, learning_rate: float | None = None) -> None:
    """Compile as core.build does (keywords only), optionally with another learning rate."""
    from core.build import make_optimizer

    settings = dict(optimizer)
    if learning_rate is not None:
        settings["learning_rate"] = learning_rate
    classification = dataset.task == "classification"
    model.compile(
        optimizer=make_optimizer(__import__("keras"), settings),
        loss="sparse_categorical_crossentropy" if classification else "mse",
        metrics=["accuracy"] if classification else ["mae"],
    )


def train_phases(model: Any, spec: Any, dataset: Any, plan: PhasePlan, data: dict, monitor: Any,
                 emit: Callable[[dict], None]) -> None:
    """Phase "head" (cached features or through the frozen backbone), then "fine_tune" when planned and
    the run was not stopped. `monitor` (RunMonitor with network=model) records both."""
    started = time.perf_counter()
    fit_model, fit_data = model, data
    if plan.cache_features:
        fit_data = cached_fit_data(model, data)
        fit_model = head_model(model)
        compile_like(fit_model, dataset, spec.optimizer)
    emit({"type": "phase", "phase": HEAD, "epoch": 0, "learning_rate": float(spec.optimizer.get("learning_rate", 0.0)),
          "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
          "cached_features": plan.cache_features, "cache_s": round(time.perf_counter() - started, 3)})
    monitor.begin_phase(HEAD, 0)
    fit_model.fit(**fit_data, epochs=plan.head_epochs, callbacks=[monitor], verbose=0)
    if not plan.fine_tune_epochs or monitor.status not in (ev.FINISHED, ev.EARLY_STOPPED):
        return
    done = len(monitor.history)
    learning_rate = fine_tune_learning_rate(plan, spec.optimizer)
    trained = unfreeze_top(model, plan.fine_tune_layers)
    compile_like(model, dataset, spec.optimizer, learning_rate)
    monitor.begin_phase(FINE_TUNE, done, total_epochs=done + plan.fine_tune_epochs)
    emit({"type": "phase", "phase": FINE_TUNE, "epoch": done, "learning_rate": learning_rate,
          "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
          "backbone_trainable_params": trained, "cached_features": False, "cache_s": 0.0})
    model.fit(**data, initial_epoch=done, epochs=done + plan.fine_tune_epochs, callbacks=[monitor], verbose=0)
