"""Convolution layers: Conv2D and SeparableConv2D for images, Conv1D for sequences."""
from __future__ import annotations

from core.layers.base import (
    LayerProblem, LayerType, Param, Shape, activation_param, initializer_param, padding_param,
    regularizer_params, window_length,
)


def _filters(default: int) -> Param:
    return Param("filters", "int", default, "How many different patterns this layer looks for (output channels).", min=1, max=4096,
                 label="Number of filters")


def _kernel_size(default: int) -> Param:
    return Param("kernel_size", "int", default, "Size of the window each filter looks at (3 means 3×3 for images).", min=1, max=64,
                 label="Filter size")


def _strides() -> Param:
    return Param("strides", "int", 1, "Step between windows; 2 halves the size.", min=1, max=64, label="Step")


def _too_small(size: str, kernel: str) -> LayerProblem:
    return LayerProblem(
        "build.input_too_small",
        "its input is only {size} here, smaller than the {kernel} window. "
        'Use padding "same", a smaller kernel_size, or fewer pooling layers before it.',
        size=size, kernel=kernel,
    )


def _conv2d_shape(shape: Shape, p: dict) -> Shape:
    h, w, _ = shape
    k, s = p["kernel_size"], p["strides"]
    oh, ow = window_length(h, k, s, p["padding"]), window_length(w, k, s, p["padding"])
    if oh < 1 or ow < 1:
        raise _too_small(f"{h}×{w}", f"{k}×{k}")
    return (oh, ow, p["filters"])


def _conv1d_shape(shape: Shape, p: dict) -> Shape:
    steps, _ = shape
    k, s = p["kernel_size"], p["strides"]
    out = window_length(steps, k, s, p["padding"])
    if out < 1:
        raise _too_small(f"{steps} steps long", f"{k}-step")
    return (out, p["filters"])


def _conv_params(window_cells: int):
    def count(shape: Shape, p: dict) -> int:
        cells = p["kernel_size"] ** window_cells
        return cells * shape[-1] * p["filters"] + p["filters"]

    return count


def _separable_params(shape: Shape, p: dict) -> int:
    c, m = shape[-1], p["depth_multiplier"]
    return p["kernel_size"] ** 2 * c * m + c * m * p["filters"] + p["filters"]


def _conv_summary(p: dict) -> str:
    k = p["kernel_size"]
    text = f"{p['filters']} filters {k}×{k}, {p['activation']}"
    if p["strides"] != 1:
        text += f", stride {p['strides']}"
    return text + (", same" if p["padding"] == "same" else "")


CONV_COMMON = (_kernel_size(3), _strides(), padding_param("same"), activation_param("relu"))

CONV2D = LayerType(
    name="Conv2D",
    help="Slides small filters over the image to find local patterns such as edges and shapes.",
    category="Convolution",
    kinds=("images",),
    params=(_filters(32), *CONV_COMMON, initializer_param(), *regularizer_params()),
    output_shape=_conv2d_shape,
    param_count=_conv_params(2),
    input_ranks=(3,),
    describe=_conv_summary,
)

SEPARABLE_CONV2D = LayerType(
    name="SeparableConv2D",
    help="A lighter Conv2D: filters each channel on its own, then mixes channels. Fewer parameters.",
    category="Convolution",
    kinds=("images",),
    params=(
        _filters(32), *CONV_COMMON,
        Param("depth_multiplier", "int", 1, "How many filters per input channel in the first step.", min=1, max=64,
              label="Filters per channel"),
        initializer_param("depthwise_initializer", label="Per-channel weight initialiser"),
        initializer_param("pointwise_initializer", label="Channel-mixing weight initialiser"),
        *regularizer_params(),
    ),
    output_shape=_conv2d_shape,
    param_count=_separable_params,
    input_ranks=(3,),
    describe=_conv_summary,
    # kernel_l1 / kernel_l2 apply to both of its weight sets.
    regularizer_targets=("depthwise_regularizer", "pointwise_regularizer"),
)

CONV1D = LayerType(
    name="Conv1D",
    help="Slides small filters along a sequence to find local patterns.",
    category="Convolution",
    kinds=("sequence",),
    params=(_filters(32), *CONV_COMMON, initializer_param(), *regularizer_params()),
    output_shape=_conv1d_shape,
    param_count=_conv_params(1),
    input_ranks=(2,),
    describe=lambda p: f"{p['filters']} filters of {p['kernel_size']}, {p['activation']}"
    + (f", stride {p['strides']}" if p["strides"] != 1 else ""),
)

LAYERS = (CONV2D, SEPARABLE_CONV2D, CONV1D)
