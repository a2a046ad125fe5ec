"""Edits of a design's hidden-layer list, as pure functions: each returns a new ProjectSpec.

The app's designer (components.designer) calls these and keeps the result; nothing here
touches Streamlit or Keras, so a click costs microseconds and the old spec stays intact if
the caller discards the new one. Indexes are 0-based positions in `spec.layers`; the
layers given are assumed checked (core.spec.normalize_layer).
"""
from __future__ import annotations

import copy
import dataclasses

from core.spec import ProjectSpec


def _with_layers(spec: ProjectSpec, layers: list[dict]) -> ProjectSpec:
    return dataclasses.replace(spec, layers=layers)


def insert_layer(spec: ProjectSpec, position: int, layer: dict) -> ProjectSpec:
    """Insert `layer` so that it becomes hidden layer number `position` (1-based, clamped)."""
    layers = copy.deepcopy(spec.layers)
    index = min(max(position - 1, 0), len(layers))
    layers.insert(index, copy.deepcopy(layer))
    return _with_layers(spec, layers)


def replace_layer(spec: ProjectSpec, index: int, layer: dict) -> ProjectSpec:
    layers = copy.deepcopy(spec.layers)
    layers[index] = copy.deepcopy(layer)
    return _with_layers(spec, layers)


def duplicate_layer(spec: ProjectSpec, index: int) -> ProjectSpec:
    """Put a copy of layer `index` right after it."""
    return insert_layer(spec, index + 2, spec.layers[index])


def move_layer(spec: ProjectSpec, index: int, offset: int) -> ProjectSpec:
    """Move layer `index` up (offset -1) or down (+1); a move past either end changes nothing."""
    target = index + offset
    if not 0 <= target < len(spec.layers):
        return spec
    layers = copy.deepcopy(spec.layers)
    layers[index], layers[target] = layers[target], layers[index]
    return _with_layers(spec, layers)


def delete_layer(spec: ProjectSpec, index: int) -> ProjectSpec:
    layers = copy.deepcopy(spec.layers)
    del layers[index]
    return _with_layers(spec, layers)
