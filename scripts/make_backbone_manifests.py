"""Write core/backbone_weights/<name>.json: the weights a backbone's ImageNet no-top file must hold.

Run once (and after a Keras upgrade changes an application): builds each backbone with random
weights (no download) and lists, in Keras' loading order, every layer that has weights with the
shapes of its weights. core.backbones.check_weights_file compares an uploaded .h5 / .weights.h5
with it using h5py only, so the Streamlit server checks a file without TensorFlow.
tests/unit/test_backbones.py checks the committed manifests still match Keras.

    .venv/bin/python scripts/make_backbone_manifests.py [NAME ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def manifest(name: str) -> dict:
    from core.backbones import BACKBONES, keras_backbone

    info = BACKBONES[name]
    model = keras_backbone(name, info.default_size, weights=None)
    layers, all_layers, activations = [], [], 0
    for layer in model.layers:
        all_layers.append([layer.name, type(layer).__name__, int(sum(int(w.numpy().size) for w in layer.trainable_weights))])
        for out in (layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]):
            size = 1
            for d in out.shape[1:]:
                size *= int(d)
            activations += size
        weights = [*layer.trainable_weights, *layer.non_trainable_weights]
        if weights:
            layers.append([layer.name, [list(int(d) for d in w.shape) for w in weights]])
    return {
        "format": "layerlab-backbone-weights/1",
        "backbone": name,
        "weights_file": info.weights_file(),
        "params": int(model.count_params()),
        "trainable_params": int(sum(int(w.numpy().size) for w in model.trainable_weights)),
        "output_shape": [int(d) for d in model.output.shape[1:]],
        "layers_with_weights": layers,
        "layers": len(model.layers),
        "activations_224": activations,
        "all_layers": all_layers,
    }


def main(names: list[str]) -> None:
    from core.backbones import BACKBONES, MANIFEST_DIR
    from core.quiet import import_keras

    import_keras()
    for name in names or list(BACKBONES):
        data = manifest(name)
        text = "{\n" + ",\n".join(
            f' "{key}": ' + (("[\n" + ",\n".join("  " + json.dumps(row) for row in value) + "\n ]")
                             if key in ("layers_with_weights", "all_layers") else json.dumps(value))
            for key, value in data.items()) + "\n}\n"
        (MANIFEST_DIR / f"{name}.json").write_text(text, encoding="utf-8")
        print(name, data["params"], data["trainable_params"], data["output_shape"], len(data["layers_with_weights"]), data["layers"], data["activations_224"])


if __name__ == "__main__":
    main(sys.argv[1:])
