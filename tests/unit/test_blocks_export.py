"""Models with blocks (issue 21) leave LayerLab like any other: the .keras file reloads in a fresh
process in safe mode with the same predictions, and the TFLite files run in LiteRT close to Keras.

The block templates (the small ResNet on the digits, the residual network on wine) and an
Inception-style design with branches merged by concatenate and by add (a residual block with a
projection inside a branch), each trained for a few epochs.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from core import export
from core.build import build_model
from core.spec import ProjectSpec
from core.templates import template
from tests.unit.design_checks import sample

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 3


def _conv(filters: int, kernel_size: int = 3, **settings) -> dict:
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size, **settings}


BRANCHES_DESIGN = [
    _conv(8),
    {"type": "Branches", "merge": "concatenate", "branches": [  # 8 + 8 + 8 + 8 channels
        [_conv(8, 1)],
        [_conv(8), _conv(8)],
        [{"type": "MaxPooling2D", "pool_size": 3, "strides": 1, "padding": "same"}],
        [],
    ]},
    {"type": "Branches", "merge": "add", "branches": [
        [_conv(16, 1, activation="linear")],
        [{"type": "Residual", "layers": [_conv(16), _conv(16, activation="linear")]}],  # a 1×1 projection 32 → 16
    ]},
    {"type": "Flatten"},
]

MODELS = {  # name: (sample, design)
    "resnet": ("digits", lambda: template("images_resnet_small").fresh_spec("classification")),
    "residual_mlp": ("wine", lambda: template("table_residual_mlp").fresh_spec("classification")),
    "branches": ("digits", lambda: ProjectSpec.from_dict({"layers": BRANCHES_DESIGN, "task": "classification"})),
}


@lru_cache(maxsize=None)
def trained(name: str):
    data, make_spec = MODELS[name]
    dataset = sample(data)
    model = build_model(make_spec(), dataset)
    model.fit(dataset.x_train.astype("float32"), dataset.y_train, epochs=EPOCHS, batch_size=32, verbose=0)
    return dataset, model


def test_the_designs_have_their_blocks():
    from core.shapes import shape_report

    report = shape_report(MODELS["branches"][1](), sample("digits"))
    assert report.ok and [r.type for r in report.rows if r.role == "shortcut"] == ["Conv2D"]
    names = {layer.name for layer in trained("branches")[1].layers}
    assert {"layer_2_branches_concatenate", "layer_3_branches_add", "layer_3_b2_1_residual_shortcut"} <= names


def test_keras_files_with_blocks_reload_in_a_fresh_process_in_safe_mode(tmp_path):
    expected = {}
    for name in MODELS:
        dataset, model = trained(name)
        (tmp_path / f"{name}.keras").write_bytes(export.keras_bytes(model))
        np.save(tmp_path / f"{name}_x.npy", dataset.x_test)
        expected[name] = model.predict(dataset.x_test, verbose=0)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        import numpy as np
        from core.export import load_trained_model  # keras.saving.load_model, safe_mode=True

        folder = Path(sys.argv[1])
        for name in sys.argv[2:]:
            model = load_trained_model(folder / f"{name}.keras")
            np.save(folder / f"{name}_out.npy", model.predict(np.load(folder / f"{name}_x.npy"), verbose=0))
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path), *MODELS], check=True, capture_output=True,
                   timeout=300, cwd=ROOT)
    for name, predictions in expected.items():
        assert np.load(tmp_path / f"{name}_out.npy") == pytest.approx(predictions, abs=1e-6), name


TOLERANCE = {"float32": 1e-5, "float16": 1e-2, "dynamic_range": 0.05, "int8": 0.15}


@pytest.mark.parametrize("name", list(MODELS))
def test_tflite_files_of_models_with_blocks_run_in_litert_like_keras(name):
    dataset, model = trained(name)
    rows = {row["variant"]: row for row in export.tflite_report(model, dataset)}
    keras_accuracy = rows["keras"]["accuracy"]
    assert keras_accuracy > 0.5, "trained a little: the comparison means something"
    for variant in export.TFLITE_VARIANTS:
        row = rows[variant]
        assert row["error"] is None, (variant, row["error"])
        assert row["max_abs_diff"] <= TOLERANCE[variant], (variant, row["max_abs_diff"])
        assert row["accuracy"] >= keras_accuracy - 0.05, (variant, row["accuracy"], keras_accuracy)


def test_a_conversion_error_names_the_position_inside_a_block():
    from core.export import _layers_named_in

    text = 'fused["Op:", "model/layer_2_lstm_1/while"] fused["Op:", "model/layer_3_b2_1_conv2d/x"]'
    assert _layers_named_in(text) == " (used by layer 2 (LSTM), layer 3 › branch 2 › layer 1 (Conv2D))"
