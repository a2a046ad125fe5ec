"""Run a downloaded model in a fresh Python process, as the user would after downloading it.

The test process never imports Keras: `predict_in_new_process` writes the inputs to a
.npy file and runs this module (`python -m tests.e2e.model_check KIND MODEL X OUT [...]`),
which loads each file with plain Keras (.keras) or the LiteRT interpreter (.tflite).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = REPO_ROOT / ".venv/bin/python"


def predict_in_new_process(kind: str, model: Path, x: np.ndarray, workdir: Path) -> np.ndarray:
    """Outputs of the downloaded `model` (kind "keras" or "tflite") for inputs `x`; kind
    "keras_params" gives the model's parameter count."""
    return predict_many_in_new_process([(kind, model, x)], workdir)[0]


def predict_many_in_new_process(jobs: list[tuple[str, Path, np.ndarray]], workdir: Path) -> list[np.ndarray]:
    """Several models in one fresh process: TensorFlow is imported once, not once per model."""
    arguments, outputs = [], []
    for number, (kind, model, x) in enumerate(jobs):
        inputs, output = workdir / f"job{number}.x.npy", workdir / f"job{number}.out.npy"
        np.save(inputs, x)
        arguments += [kind, str(model), str(inputs), str(output)]
        outputs.append(output)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [str(PYTHON), "-m", "tests.e2e.model_check", *arguments],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    names = ", ".join(model.name for _, model, _ in jobs)
    assert result.returncode == 0, f"{names} did not run in a fresh process:\n{result.stderr[-3000:]}"
    return [np.load(output) for output in outputs]


def _keras_outputs(model_path: str, x: np.ndarray) -> np.ndarray:
    import keras

    model = keras.saving.load_model(model_path)
    if x.dtype.kind == "U":  # texts: a text model takes strings, which Keras wants as objects
        x = x.astype(object)
    return np.asarray(model.predict(x, verbose=0))


def _keras_parameters(model_path: str, x: np.ndarray) -> np.ndarray:
    """The downloaded model's parameter count (x is not used)."""
    import keras

    return np.array([keras.saving.load_model(model_path).count_params()])


def _tflite_outputs(model_path: str, x: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=model_path)
    (input_detail,) = interpreter.get_input_details()
    output_detail = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(input_detail["index"], [1, *x.shape[1:]])
    interpreter.allocate_tensors()
    rows = []
    for sample in x:
        batch = sample[None].astype(input_detail["dtype"])
        if input_detail["dtype"] in (np.int8, np.uint8):  # a fully quantised model: scale the input
            scale, zero_point = input_detail["quantization"]
            batch = np.round(sample[None] / scale + zero_point).astype(input_detail["dtype"])
        interpreter.set_tensor(input_detail["index"], batch)
        interpreter.invoke()
        output = interpreter.get_tensor(output_detail["index"]).astype(np.float32)
        if output_detail["dtype"] in (np.int8, np.uint8):
            scale, zero_point = output_detail["quantization"]
            output = (output - zero_point) * scale
        rows.append(output[0])
    return np.stack(rows)


def main(argv: list[str]) -> None:
    """argv: KIND MODEL X OUT, repeated once per model."""
    runners = {"keras": _keras_outputs, "keras_params": _keras_parameters, "tflite": _tflite_outputs}
    for start in range(0, len(argv), 4):
        kind, model_path, inputs, outputs = argv[start : start + 4]
        np.save(outputs, runners[kind](model_path, np.load(inputs)))


if __name__ == "__main__":
    main(sys.argv[1:])
