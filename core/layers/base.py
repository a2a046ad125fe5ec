"""The building blocks of the layer catalog: typed parameters and layer types.

Everything here is plain Python (no Keras), so the designer can validate settings and
recompute shapes on every form edit in microseconds. Shapes never include the batch axis.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

Shape = tuple[int, ...]

# Data kinds a layer can suit. "sequence" means steps × features: a table reshaped with
# Reshape(target_shape=[-1, 1]), the output of Embedding, or LSTM/Conv1D outputs.
DATA_KINDS = ("table", "images", "sequence", "text")


class LayerProblem(Exception):
    """Why a layer cannot work on its input. The template has no layer prefix; the shape
    report adds "Layer N (Type): " in front of it."""

    def __init__(self, code: str, template: str, **params: object) -> None:
        self.code = code
        self.template = template
        self.params = params
        super().__init__(template.format(**params))


class ParamProblem(Exception):
    """A parameter value that is the wrong type or out of range. Templates use {where}
    (e.g. "Layer 2 (Dense)") and {key}; core.spec fills in `where`."""

    def __init__(self, code: str, template: str, **params: object) -> None:
        self.code = code
        self.template = template
        self.params = params
        super().__init__(template)


@dataclass(frozen=True)
class Param:
    """One setting of a layer, optimizer or training run, as the designer form shows it.

    type: "int" | "float" | "bool" | "choice" | "int_tuple".
    optional: None is allowed (shown as "automatic"; e.g. pooling strides = pool_size).
    length: for int_tuple, the allowed number of entries (min, max).
    label: the plain-language name the forms show ("Number of filters"); `name` stays the
    Keras keyword used in project files and code ("filters"). Empty = show `name`.
    """

    name: str
    type: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    length: tuple[int, int] | None = None
    label: str = ""

    @property
    def plain_label(self) -> str:
        return self.label or self.name

    def check(self, value: Any) -> Any:
        """The value, normalised (floats from ints, int tuples as lists); ParamProblem if invalid."""
        if value is None:
            if self.optional:
                return None
            raise _bad_type(self, value)
        if self.type == "bool":
            if not isinstance(value, bool):
                raise _bad_type(self, value)
            return value
        if self.type == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamProblem(
                    "spec.bad_choice",
                    "{where}: {key} must be one of {choices}, got {value}.",
                    key=self.name,
                    choices=", ".join(self.choices),
                    value=_show(value),
                )
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad_type(self, value)
            self._check_range(value)
            return value
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _bad_type(self, value)
            self._check_range(value)
            return float(value)
        if self.type == "int_tuple":
            if not isinstance(value, (list, tuple)) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
                raise _bad_type(self, value)
            lo, hi = self.length or (1, 8)
            if not lo <= len(value) <= hi:
                raise ParamProblem(
                    "spec.bad_length",
                    "{where}: {key} must have {lo} to {hi} numbers, got {count}.",
                    key=self.name, lo=lo, hi=hi, count=len(value),
                )
            for v in value:
                self._check_range(v)
            return [int(v) for v in value]
        raise AssertionError(f"unknown parameter type {self.type}")

    def _check_range(self, value: float) -> None:
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ParamProblem(
                "spec.out_of_range",
                "{where}: {key} must be between {min} and {max}, got {value}.",
                key=self.name, min=_num(self.min), max=_num(self.max), value=_show(value),
            )

    def describe_type(self) -> str:
        words = {
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "choice": "one of " + ", ".join(self.choices),
            "int_tuple": "a list of whole numbers such as [8, 1]",
        }[self.type]
        return words + (" or null" if self.optional else "")


def _bad_type(param: Param, value: Any) -> ParamProblem:
    return ParamProblem(
        "spec.bad_type",
        "{where}: {key} must be {expected}, got {value}.",
        key=param.name, expected=param.describe_type(), value=_show(value),
    )


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


def _num(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


@dataclass(frozen=True)
class Regularizer:
    """keras.regularizers.L1L2(l1=..., l2=...): what the catalog's kernel_l1/kernel_l2 become."""

    l1: float
    l2: float


@dataclass(frozen=True)
class KerasCall:
    """How to construct one Keras layer: `keras.layers.<class_name>(**kwargs)`.

    kwargs values are plain JSON-like values, tuples, `Regularizer`, or a nested `KerasCall`
    (Bidirectional's wrapped layer). core.build instantiates it; core.codegen prints it.
    """

    class_name: str
    kwargs: dict[str, Any]


def no_params(shape: Shape, params: dict) -> int:
    return 0


def same_shape(shape: Shape, params: dict) -> Shape:
    return shape


@dataclass(frozen=True)
class LayerType:
    """One catalog entry. Adding a layer to LayerLab = adding one of these to core.catalog.

    output_shape / param_count / non_trainable_count take the input shape (no batch axis)
    and the layer's full settings (defaults filled in). output_shape raises LayerProblem when
    the layer cannot work on that input. `input_ranks` lists the input ranks it accepts
    (1: flat vector, 2: sequence steps × features, 3: image H × W × C); the shape report turns
    a mismatch into a message that fits the situation.

    keras_call maps settings to Keras constructor keywords. The rule for regularisation:
    settings kernel_l1 / kernel_l2 become `keras.regularizers.L1L2(l1=kernel_l1, l2=kernel_l2)`
    passed as each keyword in `regularizer_targets` (omitted when both are 0).
    `fixed_kwargs` are added as they are.
    """

    name: str
    help: str
    category: str
    kinds: tuple[str, ...]
    params: tuple[Param, ...]
    output_shape: Callable[[Shape, dict], Shape]
    param_count: Callable[[Shape, dict], int] = no_params
    non_trainable_count: Callable[[Shape, dict], int] = no_params
    input_ranks: tuple[int, ...] | None = None
    describe: Callable[[dict], str] | None = None
    regularizer_targets: tuple[str, ...] = ("kernel_regularizer",)
    fixed_kwargs: dict[str, Any] = field(default_factory=dict)
    needs_integer_codes: bool = False  # Embedding: reads raw whole-number codes, no Normalization
    training_only: bool = False  # active only while training (dropout, noise, augmentation)
    wraps: Callable[[dict], "KerasCall"] | None = None  # Bidirectional: builds its inner layer

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: (list(p.default) if isinstance(p.default, (list, tuple)) else p.default) for p in self.params}

    def summary(self, params: dict) -> str:
        """Key settings in a few words for the layer list, e.g. "64 units, relu"."""
        full = {**self.defaults(), **params}
        return self.describe(full) if self.describe else ""

    def keras_call(self, params: dict) -> KerasCall:
        full = {**self.defaults(), **{k: v for k, v in params.items() if k != "type"}}
        if self.wraps is not None:
            return self.wraps(full)
        return KerasCall(self.name, keras_kwargs(full, self.regularizer_targets, self.fixed_kwargs))


REGULARIZER_KEYS = ("kernel_l1", "kernel_l2")


def keras_kwargs(params: dict, regularizer_targets: tuple[str, ...], fixed: dict | None = None) -> dict[str, Any]:
    """Catalog settings -> Keras keywords (lists become tuples, L1/L2 become a Regularizer)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in REGULARIZER_KEYS:
            continue
        out[key] = tuple(value) if isinstance(value, list) else value
    l1, l2 = params.get("kernel_l1", 0.0), params.get("kernel_l2", 0.0)
    if l1 or l2:
        for target in regularizer_targets:
            out[target] = Regularizer(l1=float(l1), l2=float(l2))
    out.update(fixed or {})
    return out


# ---- shared parameters ------------------------------------------------------------------

ACTIVATIONS = ("relu", "linear", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "swish", "leaky_relu")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal")


def units_param(default: int, help: str = "How many neurons (outputs) this layer has. More can learn more but may overfit.",
                label: str = "Number of neurons") -> Param:
    return Param("units", "int", default, help, min=1, max=65536, label=label)


def activation_param(default: str = "relu") -> Param:
    return Param("activation", "choice", default, "The function applied to each output; relu is a good default.", choices=ACTIVATIONS,
                 label="Activation function")


def initializer_param(name: str = "kernel_initializer", default: str = "glorot_uniform", label: str = "Weight initialiser") -> Param:
    return Param(name, "choice", default, "How the weights start before training; he_normal suits relu layers.", choices=INITIALIZERS,
                 label=label)


def regularizer_params() -> tuple[Param, Param]:
    return (
        Param("kernel_l1", "float", 0.0, "L1 penalty on the weights (pushes weights to exactly 0). 0 = off.", min=0.0, max=1.0,
              label="L1 penalty"),
        Param("kernel_l2", "float", 0.0, "L2 penalty on the weights (keeps them small, fights overfitting). 0 = off; try 0.0001.", min=0.0, max=1.0,
              label="L2 penalty"),
    )


def padding_param(default: str = "valid") -> Param:
    return Param("padding", "choice", default, '"same" keeps the size (adds a border of zeros); "valid" shrinks it a little.', choices=("valid", "same"),
                 label="Padding")


def window_length(size: int, window: int, stride: int, padding: str) -> int:
    """Output length of a convolution or pooling window along one axis (Keras's rule)."""
    if padding == "same":
        return -(-size // stride)
    return (size - window) // stride + 1 if size >= window else 0


def prod(shape: Shape) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def format_shape(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
