"""Training batches gathered from window views (the series kind): the windows are never all copied.

Given numpy arrays, Keras turns the whole input into one tensor first: for a long series that is
window × series × rows values (1,000,000 rows × 64 steps × 5 series: 1.3 GB) made from a 20 MB
series. A PyDataset hands Keras one batch at a time instead, gathered from the strided views.
"""
from __future__ import annotations

import keras
import numpy as np


class WindowBatches(keras.utils.PyDataset):
    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = False,
                 seed: int | None = None) -> None:
        super().__init__()
        self.x, self.y, self.batch_size = x, y, int(batch_size)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(x))
        self.on_epoch_end()

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        return np.asarray(self.x[rows], dtype=np.float32), np.asarray(self.y[rows], dtype=np.float32)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self._order)
