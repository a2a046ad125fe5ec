"""Case 6: TFLite export of the digits CNN.

The built-in digits sample (8x8 grey images, 10 classes) with the app's default design,
trained by the engine. For each variant `core.export.tflite_bytes` produces: file size,
per-sample latency in the LiteRT interpreter divided by `model.predict` on one sample (what a
Keras user would call), and the test-accuracy change against the Keras model. A direct
`model(x)` call is reported too, since `predict` carries a fixed per-call cost.
"""
from __future__ import annotations

import tempfile
import time
from typing import Any

import numpy as np

from bench.harness import Context, median, metric, run_child

NAME = "export_tflite"
TITLE = "6. Export (TFLite, digits CNN)"


def _latency(call, samples: np.ndarray, repeats: int) -> float:
    """Median seconds of `call(one_sample)` over `repeats` samples, after a short warm-up."""
    for i in range(3):
        call(samples[i : i + 1])
    times = []
    for i in range(repeats):
        one = samples[i % len(samples)][None]
        start = time.perf_counter()
        call(one)
        times.append(time.perf_counter() - start)
    return median(times)


def _litert_runner(content: bytes):
    """A one-sample LiteRT predictor: interpreter built and allocated once, as a device would."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    in_scale, in_zero = inp["quantization"]

    def run(x: np.ndarray) -> np.ndarray:
        if np.issubdtype(inp["dtype"], np.integer):
            x = np.round(x / in_scale + in_zero)
        interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(out["index"])

    return run


def child_export(epochs: int, latency_repeats: int) -> dict[str, Any]:
    import keras

    from core.data import load_sample
    from core.export import TFLITE_VARIANTS, keras_bytes, run_tflite, tflite_bytes
    from core.templates import default_template
    from core.training import train_in_process

    dataset = load_sample("digits")
    spec = default_template(dataset)
    spec.training.update(epochs=epochs, seed=1)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        result = train_in_process(spec, dataset, tmp)
    model = result.model
    x_test = np.asarray(dataset.x_test, dtype=np.float32)
    y_test = np.asarray(dataset.y_test)
    keras_accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    predict_s = _latency(lambda x: model.predict(x, verbose=0), x_test, max(20, latency_repeats // 10))
    call_s = _latency(lambda x: model(x, training=False), x_test, max(50, latency_repeats // 4))
    variants = []
    for variant in TFLITE_VARIANTS:
        start = time.perf_counter()
        content = tflite_bytes(model, variant, dataset)
        convert_s = time.perf_counter() - start
        accuracy = float(np.mean(run_tflite(content, x_test).argmax(axis=1) == y_test))
        latency_s = _latency(_litert_runner(content), x_test, latency_repeats)
        variants.append({"variant": variant, "size_bytes": len(content), "convert_s": convert_s,
                         "latency_s": latency_s, "accuracy": accuracy, "accuracy_change": accuracy - keras_accuracy,
                         "latency_vs_predict": latency_s / predict_s, "latency_vs_call": latency_s / call_s})
    return {
        "layers": [layer["type"] for layer in spec.layers],
        "params": int(model.count_params()),
        "epochs_run": result.epochs_run,
        "test_samples": int(len(x_test)),
        "keras_accuracy": keras_accuracy,
        "keras_file_bytes": len(keras_bytes(model)),
        "keras_predict_latency_s": predict_s,
        "keras_call_latency_s": call_s,
        "backend": keras.backend.backend(),
        "variants": variants,
    }


def run(ctx: Context) -> dict[str, Any]:
    r = run_child("bench.export_tflite:child_export",
                  {"epochs": ctx.size(5, 30), "latency_repeats": ctx.size(200, 1000)})
    rows = [metric("Keras model: test accuracy", r["keras_accuracy"], "",
                   note=f"{r['params']:,} parameters; .keras file {r['keras_file_bytes'] / 1024:.0f} KiB; "
                        f"predict() {r['keras_predict_latency_s'] * 1e3:.1f} ms, model(x) "
                        f"{r['keras_call_latency_s'] * 1e3:.2f} ms per sample")]
    for v in r["variants"]:
        rows.append(metric(f"{v['variant']}: file size", v["size_bytes"] / 1024, "KiB"))
        rows.append(metric(f"{v['variant']}: latency LiteRT / Keras predict", v["latency_vs_predict"], "x",
                           note=f"{v['latency_s'] * 1e6:.0f} us per sample; {v['latency_vs_call']:.3f}x of model(x)"))
        rows.append(metric(f"{v['variant']}: accuracy change", v["accuracy_change"] * 100, "points"))
    return {**r, "metrics": rows}
