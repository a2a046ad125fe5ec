"""Train / validation / test split, seeded, stratified for classification."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError

VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.15
MIN_PER_CLASS = 3  # one example each for training, validation and test
MIN_ROWS_REGRESSION = 10
ITEM_OF_UNIT = {"rows": "row", "images": "image", "texts": "text"}  # the plural named in messages -> one of them


@dataclass
class Split:
    train: np.ndarray  # row indices
    val: np.ndarray
    test: np.ndarray


def _cut(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled indices of one group -> (train, val, test), each non-empty when the group has >= 3."""
    n = len(indices)
    n_val = max(1, int(round(n * VALIDATION_FRACTION))) if n >= 3 else 0
    n_test = max(1, int(round(n * TEST_FRACTION))) if n >= 3 else 0
    return indices[n_val + n_test :], indices[:n_val], indices[n_val : n_val + n_test]


def split_indices(
    y: np.ndarray,
    *,
    task: str,
    classes: list[str],
    seed: int,
    where: str,
    unit: str = "rows",
    min_per_class: int = MIN_PER_CLASS,
) -> Split:
    """Seeded split; `y` holds class indices for classification. Refuses data too small to split.

    `where` names the file for messages, `unit` is "rows", "images" or "texts".
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    if task == "regression":
        if n < MIN_ROWS_REGRESSION:
            raise UserError(
                "split.too_few_rows",
                "{file} has only {n} usable {unit}; at least {minimum} are needed to train, validate and test. "
                "Add more {unit}.",
                file=where, n=n, unit=unit, minimum=MIN_ROWS_REGRESSION,
            )
        train, val, test = _cut(rng.permutation(n))
        return Split(np.sort(train), np.sort(val), np.sort(test))

    counts = np.bincount(y, minlength=len(classes))
    if len(classes) < 2 or np.count_nonzero(counts) < 2:
        only = classes[int(np.argmax(counts))] if len(classes) else "?"
        raise UserError(
            "split.one_class",
            "In {file} every {item} has the same class ({label}). A classifier needs at least two different "
            "classes: add examples of another class, or pick another target.",
            file=where, label=only, item=ITEM_OF_UNIT.get(unit, "row"),
        )
    small = [(classes[i], int(c)) for i, c in enumerate(counts) if c < min_per_class]
    if small:
        listed = ", ".join(f"'{name}' ({c})" for name, c in small[:5]) + (" …" if len(small) > 5 else "")
        raise UserError(
            "split.class_too_small",
            "In {file} some classes have too few {unit} to split into training, validation and test: {classes}. "
            "Each class needs at least {minimum}. Add more examples of these classes or remove them.",
            file=where, classes=listed, unit=unit, minimum=min_per_class,
        )
    # Shuffle each class on its own and cut it the same way; a mark per row keeps indices sorted.
    part = np.zeros(n, dtype=np.int8)  # 0 train, 1 validation, 2 test
    for label in range(len(classes)):
        members = np.flatnonzero(y == label)
        if members.size:
            _, val, test = _cut(rng.permutation(members))
            part[val], part[test] = 1, 2
    return Split(*(np.flatnonzero(part == k) for k in range(3)))
