"""Weights files for the backbone tests, written with h5py from core.backbones' manifest (zeros of
the right shapes: the checks read names and shapes only), in the legacy layout Keras downloads or
the Keras 3 `.weights.h5` layout (layers named by class: core.backbones.keras3_keys); `drop_last`
makes one that does not fit. No TensorFlow, a fraction of a second each."""
from __future__ import annotations

import io

import numpy as np


def legacy_weights(layers: list) -> bytes:
    """A weights file in the legacy layout Keras downloads (layer_names, weight_names): zeros of the shapes in
    `layers` ([(layer name, [shape, ...]), ...], as a manifest's "layers_with_weights")."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        h5.attrs["layer_names"] = [layer.encode() for layer, _ in layers]
        for layer, shapes in layers:
            group = h5.create_group(layer)
            names = [f"{layer}/w{i}:0" for i in range(len(shapes))]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for n, shape in zip(names, shapes):
                group.create_dataset(n, data=np.zeros(shape, dtype=np.float32))
    return buffer.getvalue()


def weights_bytes(name: str, layout: str = "legacy", drop_last: bool = False) -> bytes:
    """Backbone `name`'s weights file (zeros) in either layout ("legacy" or "keras3")."""
    import h5py

    from core.backbones import keras3_keys, manifest

    layers = manifest(name)["layers_with_weights"]
    if drop_last:
        layers = layers[:-1]
    if layout == "legacy":
        return legacy_weights(layers)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        top, keys = h5.create_group("layers"), {layer: key for key, layer in keras3_keys(name)}
        for layer, shapes in layers:
            variables = top.create_group(keys[layer]).create_group("vars")
            for i, shape in enumerate(shapes):
                variables.create_dataset(str(i), data=np.zeros(shape, dtype=np.float32))
    return buffer.getvalue()
