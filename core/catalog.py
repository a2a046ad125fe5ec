"""The layer catalog: every layer, optimizer and training setting LayerLab offers.

The designer's forms, the project-file validation (core.spec), the shape report
(core.shapes), the builder (core.build) and the code generator (core.codegen) all read
these tables, so adding a layer means adding one LayerType to a module in core/layers/.

Mapping to Keras (what build and codegen must both do): a layer becomes
`keras.layers.<name>(**LAYERS[name].keras_call(settings).kwargs)`; kernel_l1/kernel_l2
become `keras.regularizers.L1L2(l1=..., l2=...)` (see core.layers.base.LayerType); an
optimizer becomes `keras.optimizers.<name>(**settings)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from core.layers import augmentation, basic, convolution, pooling, recurrent, reshaping
from core.layers.base import (
    DATA_KINDS, KerasCall, LayerProblem, LayerType, Param, ParamProblem, Regularizer, Shape, format_shape, prod,
)

__all__ = [
    "LAYERS", "OPTIMIZERS", "TRAINING_PARAMS", "TASKS", "DATA_KINDS", "REFUSED_LAYER_TYPES",
    "LayerType", "OptimizerType", "Param", "KerasCall", "Regularizer", "LayerProblem", "ParamProblem",
    "Shape", "format_shape", "prod", "layers_for", "PARAM_LABELS",
]

LAYERS: dict[str, LayerType] = {
    layer.name: layer
    for family in (basic, reshaping, convolution, pooling, recurrent, augmentation)
    for layer in family.LAYERS
}

# Keras layers that carry or run code; a project file naming one is refused outright.
REFUSED_LAYER_TYPES = frozenset({"Lambda", "TFOpLambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})

TASKS = ("classification", "regression", "forecast")


@dataclass(frozen=True)
class OptimizerType:
    name: str
    help: str
    params: tuple[Param, ...]
    slots: Callable[[dict], int]  # per-weight values the optimizer keeps (memory estimate)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def summary(self, params: dict) -> str:
        full = {**self.defaults(), **params}
        return f"{self.name}, learning rate {full['learning_rate']:g}"


def _learning_rate(default: float) -> Param:
    return Param("learning_rate", "float", default, "How big each learning step is. Too high: unstable; too low: slow.",
                 min=1e-7, max=10.0, label="Learning rate")


OPTIMIZERS: dict[str, OptimizerType] = {
    o.name: o
    for o in (
        OptimizerType(
            "Adam", "Adapts the step size per weight; a safe default.",
            (_learning_rate(0.001),), slots=lambda p: 2,
        ),
        OptimizerType(
            "AdamW", "Adam with weight decay, which keeps weights small (less overfitting).",
            (_learning_rate(0.001),
             Param("weight_decay", "float", 0.004, "How strongly weights are pulled towards 0 each step.", min=0.0, max=1.0,
                   label="Weight decay")),
            slots=lambda p: 2,
        ),
        OptimizerType(
            "SGD", "Plain gradient descent, optionally with momentum; simple and predictable.",
            (_learning_rate(0.01),
             Param("momentum", "float", 0.9, "How much of the previous step carries over (0 = none).", min=0.0, max=0.999,
                   label="Momentum"),
             Param("nesterov", "bool", False, "Look-ahead momentum; often a little faster.", label="Nesterov look-ahead")),
            slots=lambda p: 1 if p.get("momentum") else 0,
        ),
        OptimizerType(
            "RMSprop", "Divides each step by a running average of recent gradient sizes; good for recurrent models.",
            (_learning_rate(0.001),
             Param("rho", "float", 0.9, "How slowly the running average forgets.", min=0.0, max=0.9999, label="Averaging speed")),
            slots=lambda p: 1,
        ),
    )
}

TRAINING_PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("epochs", "int", 30, "How many times the model sees the whole training data.", min=1, max=10000, label="Epochs"),
        Param("batch_size", "int", 32, "How many examples are looked at before each learning step.", min=1, max=65536, label="Batch size"),
        Param("early_stopping_patience", "int", 5,
              "Stop when the validation loss has not improved for this many epochs (0 = never stop early).", min=0, max=10000, label="Early-stopping patience"),
        Param("seed", "int", 42, "Starting point for all randomness; the same seed gives the same result.", min=0, max=2**31 - 1,
              label="Random seed"),
        Param("time_limit_s", "float", None, "Stop training after this many seconds (empty = no limit).",
              min=1.0, max=7 * 24 * 3600.0, optional=True, label="Time limit (seconds)"),
        Param("balance_classes", "bool", False,
              "Classification: weigh each class equally in training, so the model cannot do well by mostly "
              "guessing the biggest class. Each class weighs examples ÷ (classes × its examples), counted on "
              "the training data (the validation loss is weighted the same way). On by default when the largest "
              "class has 3× the examples of the smallest.",
              label="Balance the classes"),
    )
}

# Every setting's plain label, as a table: the forms translate a label with
# t(PARAM_LABELS[label]), which is how the string extractor finds texts kept in core tables.
PARAM_LABELS: dict[str, str] = {
    p.label: p.label
    for p in (*(p for owner in (*LAYERS.values(), *OPTIMIZERS.values()) for p in owner.params), *TRAINING_PARAMS.values())
    if p.label
}


def layers_for(kind: str) -> list[LayerType]:
    """Catalog entries that suit a data kind ("table", "images" or "sequence"), in catalog order."""
    return [layer for layer in LAYERS.values() if kind in layer.kinds]
