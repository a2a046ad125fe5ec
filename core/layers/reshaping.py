"""Layers that only rearrange values: Flatten and Reshape."""
from __future__ import annotations

from core.layers.base import LayerProblem, LayerType, Param, Shape, format_shape, prod


def _reshape_shape(shape: Shape, p: dict) -> Shape:
    target = list(p["target_shape"])
    size = prod(shape)
    if 0 in target:
        raise LayerProblem("build.reshape_zero", "target_shape cannot contain 0, got {target}. Use whole numbers from 1 up, or -1 once.", target=target)
    if target.count(-1) > 1:
        raise LayerProblem("build.reshape_two_unknowns", "target_shape may contain -1 only once, got {target}.", target=target)
    known = prod(tuple(d for d in target if d != -1))
    if -1 in target:
        if size % known:
            raise LayerProblem(
                "build.reshape_size",
                "target_shape {target} cannot hold the {size} values of its input {shape}: {size} is not a multiple of {known}. "
                "Choose numbers whose product divides {size}.",
                target=target, size=size, shape=format_shape(shape), known=known,
            )
        target[target.index(-1)] = size // known
    elif known != size:
        raise LayerProblem(
            "build.reshape_size",
            "target_shape {target} holds {known} values but its input {shape} has {size}. "
            "Make the product of target_shape equal {size}, or use -1 for one entry.",
            target=target, known=known, shape=format_shape(shape), size=size,
        )
    return tuple(target)


FLATTEN = LayerType(
    name="Flatten",
    help="Turns an image or sequence into one long list of numbers, so Dense layers can read it.",
    category="Reshaping",
    kinds=("images", "sequence"),
    params=(),
    output_shape=lambda s, p: (prod(s),),
    describe=lambda p: "",
)

RESHAPE = LayerType(
    name="Reshape",
    help="Rearranges the values into a new shape, e.g. a table row of n numbers into a sequence [n, 1] for Conv1D or LSTM.",
    category="Reshaping",
    kinds=("table", "images", "sequence"),
    params=(
        Param(
            "target_shape", "int_tuple", [-1, 1],
            "The new shape without the batch; -1 once means 'whatever fits'. [-1, 1] makes a table row a sequence.",
            min=-1, max=1_000_000, length=(1, 3), label="New shape",
        ),
    ),
    output_shape=_reshape_shape,
    describe=lambda p: "to [" + ", ".join(str(d) for d in p["target_shape"]) + "]",
)

LAYERS = (FLATTEN, RESHAPE)
