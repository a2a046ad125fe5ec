"""Edits of a design's layer lists, as pure functions: each returns a new ProjectSpec.

The app's designer (components.designer) calls these and keeps the result; nothing here
touches Streamlit or Keras, so a click costs microseconds and the old spec stays intact if
the caller discards the new one. Indexes are 0-based positions in a list of entries; `place`
says which list (core.blocks): () is the design's own list, (2,) the layers of the residual
block at index 2, (2, 1) branch 2 of the Branches block at index 2, and so on inside blocks.
The layers given are assumed checked (core.spec.normalize_layer).
"""
from __future__ import annotations

import copy
import dataclasses

from core.blocks import BRANCHES, MAX_BRANCHES, RESIDUAL
from core.spec import ProjectSpec

Place = tuple[int, ...]


def entries_at(layers: list[dict], place: Place) -> list[dict]:
    """The list of entries `place` names, inside `layers` (the same list objects, not copies)."""
    container, steps = layers, list(place)
    while steps:
        entry = container[steps.pop(0)]
        if entry["type"] == RESIDUAL:
            container = entry["layers"]
        elif entry["type"] == BRANCHES and steps:
            container = entry["branches"][steps.pop(0)]
        else:  # a layer, or a Branches block without the branch's index
            raise ValueError(f"{place} does not name a block's list of layers")
    return container


def _edited(spec: ProjectSpec, place: Place, change) -> ProjectSpec:
    layers = copy.deepcopy(spec.layers)
    change(entries_at(layers, place))
    return dataclasses.replace(spec, layers=layers)


def insert_layer(spec: ProjectSpec, position: int, layer: dict, place: Place = ()) -> ProjectSpec:
    """Insert `layer` (or a block) so that it becomes number `position` (1-based, clamped) of its list."""
    def change(entries: list) -> None:
        entries.insert(min(max(position - 1, 0), len(entries)), copy.deepcopy(layer))
    return _edited(spec, place, change)


def replace_layer(spec: ProjectSpec, index: int, layer: dict, place: Place = ()) -> ProjectSpec:
    def change(entries: list) -> None:
        entries[index] = copy.deepcopy(layer)
    return _edited(spec, place, change)


def duplicate_layer(spec: ProjectSpec, index: int, place: Place = ()) -> ProjectSpec:
    """Put a copy of entry `index` (a block with everything in it) right after it."""
    return insert_layer(spec, index + 2, entries_at(spec.layers, place)[index], place)


def move_layer(spec: ProjectSpec, index: int, offset: int, place: Place = ()) -> ProjectSpec:
    """Move entry `index` up (offset -1) or down (+1) in its list; a move past either end changes nothing."""
    target = index + offset
    if not 0 <= target < len(entries_at(spec.layers, place)):
        return spec

    def change(entries: list) -> None:
        entries[index], entries[target] = entries[target], entries[index]
    return _edited(spec, place, change)


def delete_layer(spec: ProjectSpec, index: int, place: Place = ()) -> ProjectSpec:
    def change(entries: list) -> None:
        del entries[index]
    return _edited(spec, place, change)


def add_branch(spec: ProjectSpec, block: Place) -> ProjectSpec:
    """One more (empty) branch in the Branches block at `block` (its place plus its index)."""
    def change(entries: list) -> None:
        branches = entries[block[-1]]["branches"]
        if len(branches) < MAX_BRANCHES:
            branches.append([])
    return _edited(spec, block[:-1], change)


def delete_branch(spec: ProjectSpec, block: Place, branch: int) -> ProjectSpec:
    """Remove one branch of the Branches block at `block`; a block keeps at least two."""
    def change(entries: list) -> None:
        branches = entries[block[-1]]["branches"]
        if len(branches) > 2:
            del branches[branch]
    return _edited(spec, block[:-1], change)
