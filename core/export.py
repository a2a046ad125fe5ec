"""Files a user downloads: model.keras, TFLite variants, labels/preprocessing JSON, safe CSVs.

Every function works from its arguments only (no module-level caches), so the app can call
them from a download button's callback.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.data.dataset import FORECAST, Dataset
from core.data.kinds import kind_of
from core.data.tables import PREPROCESSING_FORMAT
from core.errors import UserError

TFLITE_VARIANTS = ("float32", "float16", "dynamic_range", "int8")
TFLITE_VARIANT_HELP = {  # what each file stores; sizes are measured (tflite_report), never promised
    "float32": "Same numbers as the Keras model.",
    "float16": "Weights stored as 16-bit floats; results practically the same.",
    "dynamic_range": "Weights stored as 8-bit integers, computed in float.",
    "int8": "Weights and activations as 8-bit integers (calibrated on training samples) for small devices; "
    "inputs and outputs stay float32, so you feed it the same values as the other files "
    "(for tables, the input standardisation also stays float32).",
}
CALIBRATION_SAMPLES = 200
# Ops kept in float32 in the int8 file. SUB..ADD implement the input Normalization of a table
# model: one shared int8 scale for raw columns of different ranges (e.g. 0.05 and 2500) wipes
# out the small ones (measured on breast_cancer: 98% -> 63% test accuracy). ONE_HOT (a table's
# categories, a text model's multi-hot words): the converter quantizes its off value with a
# scale of its own, so a quantized 0 read back as 0.5 in the output's scale (every word absent
# from a text counted as half present: SMS multi-hot 95% -> 50% test accuracy, a table with
# categories 89% -> 67%). GATHER and STRIDED_SLICE pick raw input values: a table's columns, and
# the reference values a forecast adds its change to, which must not be clipped to the range the
# training period calibrated (a rising series left it: CO2 weekly, test MAE 1.06 in Keras, 12.5 in
# int8 with them quantized, 1.00 without).
_TABLE_FLOAT_OPS = ["SUB", "MUL", "DIV", "RSQRT", "SQRT", "ADD", "ONE_HOT", "GATHER", "STRIDED_SLICE"]
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def load_trained_model(path: Path | str) -> Any:
    """Load a .keras file that LayerLab wrote (a run's best.keras, a `train` folder's model.keras).

    safe_mode stays on, so a file can never run embedded code; user uploads are never loaded.
    """
    import keras

    return keras.saving.load_model(path, safe_mode=True)


def downloadable_model(model: Any, dataset: Dataset) -> Any:
    """The model a user downloads: the trained one, with whatever its raw inputs need in front
    (text: TextVectorization, so it takes strings); the trained one itself for tables and images."""
    import keras

    return kind_of(dataset).serving_model(keras, model, dataset)


def side_files(dataset: Dataset) -> dict[str, str]:
    """Files a developer needs next to the model besides labels.json and preprocessing.json
    (text: vocabulary.json, the token list a phone app looks words up in)."""
    if dataset.text is None:
        return {}
    from core.data.tokens import RESERVED_IDS

    text = dataset.text
    data = {
        "tokenization": text.tokenization,
        "sequence_length": text.sequence_length,
        "note": f"index = token id: 0 is padding, 1 an unknown token, the vocabulary starts at id {RESERVED_IDS}. "
        "preprocessing.json says how to split a text into tokens.",
        "tokens": ["", "[UNK]", *text.vocabulary],
    }
    return {"vocabulary.json": json.dumps(data, indent=1, ensure_ascii=False)}


def serving_zip(model: Any, dataset: Dataset, name: str = "") -> bytes:
    """serving.zip: a TF Serving SavedModel taking raw inputs (model/1/), serve.py (the same FastAPI app
    as `python -m core serve`), serving.json, requirements.txt, Dockerfile and a README for this model.
    `model`: the downloadable one (`downloadable_model`)."""
    from core.serving.package import serving_zip_bytes

    return serving_zip_bytes(model, dataset, name)


def keras_bytes(model: Any) -> bytes:
    """The model as a .keras file (loads with plain keras.saving.load_model, safe mode on)."""
    with tempfile.TemporaryDirectory(prefix="layerlab-keras-") as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


def tflite_bytes(model: Any, variant: str, dataset: Dataset) -> bytes:
    """Convert `model` to a TFLite flatbuffer; raises UserError export.tflite_failed when it cannot.

    Inputs and outputs are float32 in every variant: raw values in, probabilities or target
    values out, like the .keras file. Recurrent models are converted for one example at a time
    (batch 1), because TFLite needs a static shape for their loop.
    """
    import tensorflow as tf

    if variant not in TFLITE_VARIANTS:
        raise ValueError(f"unknown TFLite variant {variant!r}; expected one of {TFLITE_VARIANTS}")
    if variant == "int8" and _recurrent(model):
        # TF 2.21's int8 calibration crashes the whole process (segfault) on LSTM/GRU loops
        raise UserError(
            "export.int8_recurrent",
            "The int8 TFLite file is not available for models with LSTM or GRU layers: TFLite cannot "
            "calibrate their loops. Use the dynamic_range file instead: it also stores the weights as "
            "8-bit integers. The .keras file and the other TFLite files are not affected.",
        )
    try:
        # the converter prints "Saved artifact at ..." on stdout and warns about its own
        # internals (deprecated interpreter, input statistics): noise for a user
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), tempfile.TemporaryDirectory(
            prefix="layerlab-tflite-"
        ) as workdir:
            warnings.simplefilter("ignore")
            converter = _converter(tf, model, Path(workdir))
            if variant != "float32":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if variant == "float16":
                converter.target_spec.supported_types = [tf.float16]
            if variant != "int8":
                return converter.convert()
            return _int8_convert(tf, converter, dataset)
    # The converter raises several unrelated exception types (ConverterError, ValueError,
    # RuntimeError...) for layers TFLite cannot run; all mean "this model has no TFLite form".
    except Exception as err:  # noqa: BLE001
        raise UserError(
            "export.tflite_failed",
            "The model could not be converted to TFLite ({variant}): {reason}. "
            "The .keras file is not affected and can still be downloaded. "
            "To get a TFLite file, replace the layer that uses this operation.",
            variant=variant,
            reason=_conversion_reason(err),
        ) from None


def _recurrent(model: Any) -> bool:
    import keras

    return any(isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)) for layer in model.layers)


def _converter(tf: Any, model: Any, workdir: Path) -> Any:
    import keras

    if not _recurrent(model):
        return tf.lite.TFLiteConverter.from_keras_model(model)
    # What from_keras_model does, but with a batch of exactly 1: LSTM/GRU loops only convert
    # with static shapes.
    archive = keras.export.ExportArchive()
    archive.track(model)
    signature = [tf.TensorSpec([1, *model.input_shape[1:]], tf.float32)]
    archive.add_endpoint("serve", lambda x: model(x, training=False), signature)
    archive.write_out(str(workdir / "saved_model"))
    return tf.lite.TFLiteConverter.from_saved_model(str(workdir / "saved_model"))


def _int8_convert(tf: Any, converter: Any, dataset: Dataset) -> bytes:
    samples = _calibration_samples(dataset)

    def representative_data():
        for row in samples:
            yield [row[None]]

    converter.representative_dataset = representative_data
    if kind_of(dataset).int8_integer_only:
        # e.g. pixels 0-255 quantize exactly with one scale, so everything can be int8
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter.convert()
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=_TABLE_FLOAT_OPS)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=representative_data, debug_options=options
    )
    return debugger.get_nondebug_quantized_model()


def _calibration_samples(dataset: Dataset) -> np.ndarray:
    x = np.asarray(dataset.x_train, dtype=np.float32)
    if len(x) <= CALIBRATION_SAMPLES:
        return x
    picks = np.random.default_rng(0).choice(len(x), CALIBRATION_SAMPLES, replace=False)
    return x[np.sort(picks)]


def _conversion_reason(err: Exception) -> str:
    text = str(err)
    ops = sorted(set(re.findall(r"'tf\.([A-Z][A-Za-z0-9_]+)' op", text)))
    if not ops:
        first = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
        return first[:300]
    return "TFLite has no built-in operation " + ", ".join(ops) + _layers_named_in(text)


def _layers_named_in(text: str) -> str:
    """' (used by layer 2 (LSTM))' from converter locations such as fused["Op:", "model/layer_2_lstm_1/..."]."""
    from core.catalog import LAYERS

    types = {name.lower(): name for name in LAYERS}
    found: dict[str, str] = {}
    for name in re.findall(r'fused\["\w+:", "[^"/]+/([^"/]+)/', text):
        # "layer_3_conv2d", or inside blocks "layer_3_b2_1_conv2d" (core.blocks.keras_name): layer 3 › branch 2 › layer 1
        match = re.fullmatch(r"layer_(\d+(?:_b?\d+)*)_([a-z0-9]+?)(?:_\d+)?", name)
        if match:
            position = re.sub(r"_b(\d+)", r" › branch \1", match.group(1))
            position = re.sub(r"_(\d+)", r" › layer \1", position)
            found[name] = f"layer {position} ({types.get(match.group(2), match.group(2))})"
        else:
            found[name] = f"layer '{name}'"
    return f" (used by {', '.join(sorted(set(found.values())))})" if found else ""


def run_tflite(model_content: bytes, x: np.ndarray) -> np.ndarray:
    """Run a TFLite flatbuffer (float32 input and output) with the LiteRT interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_content)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    x = np.asarray(x, dtype=np.float32)
    if inp["shape_signature"][0] != -1:  # a batch-1 file (recurrent models): one example at a time
        interpreter.allocate_tensors()
        results = []
        for row in x:
            interpreter.set_tensor(inp["index"], row[None])
            interpreter.invoke()
            results.append(interpreter.get_tensor(out["index"])[0])
        return np.asarray(results, dtype=np.float32).reshape(len(x), *out["shape"][1:])
    interpreter.resize_tensor_input(inp["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(out["index"]).astype(np.float32)


def tflite_report(model: Any, dataset: Dataset, variants: tuple[str, ...] = TFLITE_VARIANTS) -> list[dict]:
    """Per variant: file size, test-set accuracy (or MAE) through LiteRT, largest difference
    from the Keras model on the test inputs, or the conversion error."""
    x_test = np.asarray(dataset.x_test, dtype=np.float32)
    reference = np.asarray(model.predict(x_test, verbose=0), dtype=np.float32)
    metric = "accuracy" if dataset.task == "classification" else "mae"
    rows = [{"variant": "keras", "size_bytes": len(keras_bytes(model)), metric: _score(reference, dataset), "max_abs_diff": 0.0, "error": None}]
    for variant in variants:
        row: dict[str, Any] = {"variant": variant, "size_bytes": None, metric: None, "max_abs_diff": None, "error": None}
        try:
            content = tflite_bytes(model, variant, dataset)
        except UserError as err:
            row["error"] = err.render()
        else:
            outputs = run_tflite(content, x_test).reshape(reference.shape)
            row.update(size_bytes=len(content), max_abs_diff=float(np.max(np.abs(outputs - reference))) if len(x_test) else 0.0)
            row[metric] = _score(outputs, dataset)
        rows.append(row)
    return rows


def _score(outputs: np.ndarray, dataset: Dataset) -> float | None:
    if len(dataset.y_test) == 0:
        return None
    if dataset.task == "classification":
        return float(np.mean(outputs.argmax(axis=1) == np.asarray(dataset.y_test)))
    return float(np.mean(np.abs(outputs.reshape(-1) - np.asarray(dataset.y_test, dtype=np.float32).reshape(-1))))


def labels_json(dataset: Dataset) -> str:
    """What the model's output means: class names in output order, or the predicted column."""
    if dataset.task == "classification":
        data = {
            "task": "classification",
            "target": dataset.target,
            "classes": list(dataset.classes),
            "output": f"{len(dataset.classes)} probabilities, one per class in the order of 'classes'; they sum to 1",
        }
    elif dataset.task == FORECAST:
        data = {
            "task": FORECAST,
            "target": dataset.target,
            "classes": [],
            "horizon": dataset.n_outputs,
            "output": f"{dataset.n_outputs} numbers: the next values of '{dataset.target}', one per step ahead, "
            "in its own units",
        }
    else:
        data = {
            "task": "regression",
            "target": dataset.target,
            "classes": [],
            "output": "one number: the predicted value, in the same units as the training target",
        }
    return json.dumps(data, indent=2, ensure_ascii=False)


def preprocessing_info(dataset: Dataset) -> dict[str, Any]:
    """What a developer must do to raw values before calling the model (preprocessing.json)."""
    info: dict[str, Any] = {"format": PREPROCESSING_FORMAT, "kind": dataset.kind, "task": dataset.task}
    info.update(kind_of(dataset).preprocessing_info(dataset))
    info["tflite"] = {variant: TFLITE_VARIANT_HELP[variant] for variant in TFLITE_VARIANTS}
    return info


def preprocessing_json(dataset: Dataset) -> str:
    return json.dumps(preprocessing_info(dataset), indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def safe_csv_bytes(frame: Any) -> bytes:
    """CSV bytes (UTF-8) with formula injection neutralised: a text cell or header starting with
    = + - @ (or tab / carriage return) gets a leading apostrophe, so spreadsheet programs show
    it as text instead of running it. Numbers, including negative ones, are left as numbers."""
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column].dtype) or pd.api.types.is_bool_dtype(safe[column].dtype)):
            safe[column] = safe[column].astype(object).map(_neutralise)
    safe.columns = [_neutralise(str(c)) for c in safe.columns]
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
