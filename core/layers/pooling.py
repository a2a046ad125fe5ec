"""Pooling layers: shrink images or sequences by keeping the maximum or the average."""
from __future__ import annotations

from core.layers.base import LayerProblem, LayerType, Param, Shape, padding_param, window_length


def _pool_params(default_size: int) -> tuple[Param, ...]:
    return (
        Param("pool_size", "int", default_size, "Size of the window summarised into one value (2 halves the size).", min=1, max=64,
              label="Window size"),
        Param("strides", "int", None, "Step between windows; empty = the same as pool_size.", min=1, max=64, optional=True, label="Step"),
        padding_param("valid"),
    )


def _shrunk(size: str, window: str) -> LayerProblem:
    return LayerProblem(
        "build.pooling_too_small",
        "pooling with a {window} window would shrink its {size} input below 1×1. "
        'Use a smaller pool_size, padding "same", or remove a pooling layer.',
        size=size, window=window,
    )


def _pool2d_shape(shape: Shape, p: dict) -> Shape:
    h, w, c = shape
    k = p["pool_size"]
    s = p["strides"] or k
    oh, ow = window_length(h, k, s, p["padding"]), window_length(w, k, s, p["padding"])
    if oh < 1 or ow < 1:
        raise _shrunk(f"{h}×{w}", f"{k}×{k}")
    return (oh, ow, c)


def _pool1d_shape(shape: Shape, p: dict) -> Shape:
    steps, c = shape
    k = p["pool_size"]
    out = window_length(steps, k, p["strides"] or k, p["padding"])
    if out < 1:
        raise _shrunk(f"{steps}-step", f"{k}-step")
    return (out, c)


def _pool_summary(p: dict) -> str:
    k = p["pool_size"]
    return f"{k}×{k}" + (f", stride {p['strides']}" if p["strides"] and p["strides"] != k else "")


def _pooling2d(name: str, what: str) -> LayerType:
    return LayerType(
        name=name,
        help=f"Shrinks the image by keeping the {what} of each small window; makes the model faster and less sensitive to position.",
        category="Pooling",
        kinds=("images",),
        params=_pool_params(2),
        output_shape=_pool2d_shape,
        input_ranks=(3,),
        describe=_pool_summary,
    )


def _global(name: str, what: str, rank: int) -> LayerType:
    noun = "image" if rank == 3 else "sequence"
    return LayerType(
        name=name,
        help=f"Summarises the whole {noun} into one value per channel (the {what}); a light alternative to Flatten.",
        category="Pooling",
        kinds=("images",) if rank == 3 else ("sequence",),
        params=(),
        output_shape=lambda s, p: (s[-1],),
        input_ranks=(rank,),
        describe=lambda p: "",
    )


MAX_POOLING2D = _pooling2d("MaxPooling2D", "largest value")
AVERAGE_POOLING2D = _pooling2d("AveragePooling2D", "average")
GLOBAL_AVERAGE_POOLING2D = _global("GlobalAveragePooling2D", "average", 3)
GLOBAL_MAX_POOLING2D = _global("GlobalMaxPooling2D", "largest value", 3)
GLOBAL_AVERAGE_POOLING1D = _global("GlobalAveragePooling1D", "average", 2)
GLOBAL_MAX_POOLING1D = _global("GlobalMaxPooling1D", "largest value", 2)


def _pooling1d(name: str, what: str) -> LayerType:
    return LayerType(
        name=name,
        help=f"Shortens the sequence by keeping the {what} of each small window.",
        category="Pooling",
        kinds=("sequence",),
        params=_pool_params(2),
        output_shape=_pool1d_shape,
        input_ranks=(2,),
        describe=lambda p: f"{p['pool_size']}" + (f", stride {p['strides']}" if p["strides"] else ""),
    )


MAX_POOLING1D = _pooling1d("MaxPooling1D", "largest value")
AVERAGE_POOLING1D = _pooling1d("AveragePooling1D", "average")

LAYERS = (
    MAX_POOLING2D, AVERAGE_POOLING2D, GLOBAL_AVERAGE_POOLING2D, GLOBAL_MAX_POOLING2D,
    MAX_POOLING1D, AVERAGE_POOLING1D, GLOBAL_AVERAGE_POOLING1D, GLOBAL_MAX_POOLING1D,
)
