"""Sequence layers: LSTM, GRU, Bidirectional(LSTM/GRU) and Embedding."""
from __future__ import annotations

from core.layers.base import (
    KerasCall, LayerType, Param, Shape, initializer_param, keras_kwargs, regularizer_params, units_param,
)

RECURRENT_HELP = "Reads a sequence step by step and remembers what matters"


def _recurrent_params(units: int) -> tuple[Param, ...]:
    return (
        units_param(units, "Size of the layer's memory (outputs per step).", label="Memory size"),
        Param("return_sequences", "bool", False, "On: output every step (needed before another LSTM/GRU). Off: only the last step.",
              label="Output every step"),
        Param("dropout", "float", 0.0, "Fraction of inputs dropped while training.", min=0.0, max=0.9, label="Fraction of inputs dropped"),
        initializer_param(),
        *regularizer_params(),
    )


def _weights_per_gate(shape: Shape, units: int) -> int:
    return units * (shape[-1] + units) + units


def lstm_params(shape: Shape, units: int) -> int:
    return 4 * _weights_per_gate(shape, units)


def gru_params(shape: Shape, units: int) -> int:
    # Keras's default reset_after=True keeps two bias vectors per gate.
    return 3 * (_weights_per_gate(shape, units) + units)


RECURRENT_COUNTS = {"LSTM": lstm_params, "GRU": gru_params}


def _recurrent_shape(width_factor: int = 1):
    def shape_of(shape: Shape, p: dict) -> Shape:
        width = p["units"] * (width_factor if p.get("merge_mode", "concat") == "concat" else 1)
        return (shape[0], width) if p["return_sequences"] else (width,)

    return shape_of


def _recurrent_summary(p: dict) -> str:
    return f"{p['units']} units" + (", all steps" if p["return_sequences"] else ", last step")


def _recurrent(name: str, what: str) -> LayerType:
    return LayerType(
        name=name,
        help=f"{RECURRENT_HELP} ({what}).",
        category="Recurrent",
        kinds=("sequence",),
        params=_recurrent_params(32),
        output_shape=_recurrent_shape(),
        param_count=lambda s, p: RECURRENT_COUNTS[name](s, p["units"]),
        input_ranks=(2,),
        describe=_recurrent_summary,
    )


LSTM = _recurrent("LSTM", "long short-term memory")
GRU = _recurrent("GRU", "a lighter cousin of LSTM")


def _bidirectional_call(p: dict) -> KerasCall:
    inner = {k: v for k, v in p.items() if k not in ("layer", "merge_mode")}
    return KerasCall(
        "Bidirectional",
        {"layer": KerasCall(p["layer"], keras_kwargs(inner, ("kernel_regularizer",))), "merge_mode": p["merge_mode"]},
    )


# JSON: {"type": "Bidirectional", "layer": "LSTM", "units": 32, "return_sequences": false, ...}
BIDIRECTIONAL = LayerType(
    name="Bidirectional",
    help="Runs an LSTM or GRU forwards and backwards over the sequence and combines both.",
    category="Recurrent",
    kinds=("sequence",),
    params=(
        Param("layer", "choice", "LSTM", "Which recurrent layer runs in both directions.", choices=("LSTM", "GRU"),
              label="Recurrent layer"),
        *_recurrent_params(32),
        Param("merge_mode", "choice", "concat", "How the two directions are combined; concat doubles the outputs.",
              choices=("concat", "sum", "ave", "mul"), label="How the directions are combined"),
    ),
    output_shape=_recurrent_shape(width_factor=2),
    param_count=lambda s, p: 2 * RECURRENT_COUNTS[p["layer"]](s, p["units"]),
    input_ranks=(2,),
    describe=lambda p: f"{p['layer']}, " + _recurrent_summary(p),
    wraps=_bidirectional_call,
)

# Embedding reads whole-number codes (0, 1, 2, ...) and turns each into a learned vector.
# In LayerLab it must be the first layer on a table whose every input value is such a code;
# the model then skips Normalization (it would destroy the codes). The shape report checks this.
EMBEDDING = LayerType(
    name="Embedding",
    help="Turns whole-number codes (0, 1, 2, ...) into learned vectors: each word of a text, or each input column "
    "of a table of codes, becomes one step of a sequence. Only as the first layer.",
    category="Recurrent",
    kinds=("table", "text"),
    params=(
        Param("input_dim", "int", None, "How many different codes exist (for text: the vocabulary size): must be larger "
              "than the largest code in the data. Empty: taken from the data.", min=2, max=1_000_000,
              optional=True, label="Number of codes"),
        Param("output_dim", "int", 16, "Length of the vector learned for each code.", min=1, max=4096, label="Vector length per code"),
    ),
    output_shape=lambda s, p: (s[0], p["output_dim"]),
    param_count=lambda s, p: p["input_dim"] * p["output_dim"],
    input_ranks=(1,),
    describe=lambda p: (f"{p['input_dim']} codes → " if p.get("input_dim") else "") + f"{p['output_dim']} values per code",
    needs_integer_codes=True,
)

LAYERS = (LSTM, GRU, BIDIRECTIONAL, EMBEDDING)
