"""serving.zip: a trained model as a ready-to-run service.

    model/1/          TensorFlow SavedModel in TF Serving's versioned layout; its serving_default
                      signature takes raw inputs (a table's raw cells as text, pixels, texts, recent
                      values) and does the preprocessing itself
    serve.py          core/serving/standalone.py, copied byte for byte: the same FastAPI app as
                      `python -m core serve`, over the SavedModel
    serving.json      what serve.py needs: the request format, classes, columns, limits' defaults
    requirements.txt  Dockerfile  README.md (the run commands and curl examples for this model)

A table's TablePreprocessor (median / most frequent fills, category positions) runs outside the
Keras model in LayerLab; here it is rebuilt from TensorFlow ops in front of the model
(`table_cells_to_inputs`), checked against TablePreprocessor + the .keras model in
tests/unit/test_serving_zip.py.
"""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from core.data.kinds import contract_for, kind_of
from core.serving import standalone

# a number as pandas.to_numeric reads one in a CSV cell (surrounding spaces allowed)
NUMBER_PATTERN = r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*"
FLOAT32_MAX = 3.4028234663852886e38


def serving_settings(dataset: Any, name: str = "") -> dict:
    """serving.json: the kind's contract for a service, plus example inputs from the data."""
    settings = {**contract_for(dataset).serving_info(), **kind_of(dataset).serving_examples(dataset)}
    settings["name"] = f"LayerLab model: {name}" if name else "LayerLab model"
    return settings


def table_cells_to_inputs(tf: Any, cells: Any, columns: list[dict]) -> Any:
    """(rows, columns) strings -> the float32 vectors TablePreprocessor.transform makes: a numeric
    cell's number (the training median when empty, not a number or beyond float32), a categorical
    cell's position in its categories (the most frequent one's when empty, -1 when never seen)."""
    parts = []
    for j, column in enumerate(columns):
        cell = cells[:, j]
        if column["kind"] == "numeric":
            number, usable = _numbers(tf, cell)
            parts.append(tf.where(usable, number, tf.constant(float(column["fill"]), tf.float32)))
            continue
        categories = [str(c) for c in column.get("categories", [])]
        fill = float(categories.index(str(column["fill"])))
        if categories and all(_is_number(c) for c in categories):  # codes: "3.0" is category "3"
            number, usable = _numbers(tf, cell, tf.float64)
            match = tf.equal(number[:, None], tf.constant([float(c) for c in categories], tf.float64)[None, :])
            empty = ~usable
        else:
            match = tf.equal(cell[:, None], tf.constant(categories, tf.string)[None, :])
            empty = tf.equal(cell, "")
        position = tf.where(tf.reduce_any(match, axis=1), tf.cast(tf.argmax(tf.cast(match, tf.int32), axis=1), tf.float32), -1.0)
        parts.append(tf.where(empty, fill, position))
    return tf.stack(parts, axis=1)


def _numbers(tf: Any, cell: Any, dtype: Any = None) -> tuple[Any, Any]:
    ok = tf.strings.regex_full_match(cell, NUMBER_PATTERN)
    value = tf.strings.to_number(tf.where(ok, tf.strings.strip(cell), "0"), tf.float64)
    usable = ok & (tf.abs(value) <= FLOAT32_MAX)
    return (value if dtype is not None else tf.cast(value, tf.float32)), usable


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def write_saved_model(model: Any, settings: dict, path: Path) -> None:
    """The SavedModel whose serving_default signature takes `settings["signature_input"]` raw inputs."""
    import keras
    import tensorflow as tf

    name = settings["signature_input"]
    fmt = settings["format"]
    if fmt == standalone.TABLE_ROWS:
        columns = settings["columns"]
        spec = tf.TensorSpec([None, len(columns)], tf.string, name=name)

        def serve(cells: Any) -> dict:
            return {"outputs": model(table_cells_to_inputs(tf, cells, columns), training=False)}
    else:
        dtype = tf.string if fmt == standalone.TEXTS else tf.float32
        spec = tf.TensorSpec([None, *[int(d) for d in model.input_shape[1:]]], dtype, name=name)

        def serve(x: Any) -> dict:
            return {"outputs": model(x, training=False)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serving_default", fn=serve, input_signature=[spec])
    archive.write_out(str(path), verbose=False)


def serving_zip_bytes(model: Any, dataset: Any, name: str = "") -> bytes:
    """serving.zip for `model` (the downloadable one: core.export.downloadable_model) trained on `dataset`."""
    settings = serving_settings(dataset, name)
    files = service_files(settings)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="layerlab-savedmodel-") as tmp, zipfile.ZipFile(
        buffer, "w", zipfile.ZIP_DEFLATED
    ) as archive:
        write_saved_model(model, settings, Path(tmp) / "1")
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                archive.write(path, f"model/{path.relative_to(tmp).as_posix()}")
        for file_name, content in files.items():
            archive.writestr(file_name, content)
    return buffer.getvalue()


def service_files(settings: dict) -> dict[str, str]:
    return {
        "serve.py": Path(standalone.__file__).read_text(encoding="utf-8"),
        "serving.json": json.dumps(settings, indent=1, ensure_ascii=False) + "\n",
        "requirements.txt": requirements(),
        "Dockerfile": DOCKERFILE,
        "README.md": readme(settings),
    }


def requirements() -> str:
    from importlib.metadata import PackageNotFoundError, version

    lines = []
    for package in ("tensorflow", "numpy", "fastapi", "uvicorn", "python-multipart"):
        try:
            lines.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            lines.append(package)
    return "\n".join(lines) + "\n"


DOCKERFILE = """FROM python:3.11-slim
WORKDIR /service
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "8000"]
"""


def tf_serving_example(settings: dict) -> dict:
    """A TF Serving REST body ({"instances": [...]}) for this model's signature."""
    fmt = settings["format"]
    if fmt == standalone.TABLE_ROWS:
        example = settings.get("example") or {}
        return {"instances": [[standalone._cell_text(example.get(c["name"])) for c in settings["columns"]]]}
    if fmt == standalone.TEXTS:
        return {"instances": [settings.get("example") or "a text"]}
    if fmt == standalone.RECENT_ROWS:
        rows = settings.get("example_rows") or []
        return {"instances": [[[row.get(c) for c in settings["columns"]] for row in rows]] if rows else "..."}
    return {"instances": "[[[pixel values 0-255, height × width × channels]]]"}


def readme(settings: dict) -> str:
    body = standalone.curl_example(settings)
    tf_body = json.dumps(tf_serving_example(settings), ensure_ascii=False).replace("'", "'\\''")
    columns = settings.get("columns") or []
    signature = (f"a string tensor of shape (rows, {len(columns)}): each row's raw cells as text, in this column "
                 f"order: {', '.join(c['name'] if isinstance(c, dict) else c for c in columns)}"
                 if settings["format"] == standalone.TABLE_ROWS else f"`{settings['signature_input']}`")
    return f"""# {settings.get('name') or 'LayerLab model'}: a ready-to-run service

## Run it with Python

    pip install -r requirements.txt
    python serve.py --port 8000

Then open http://127.0.0.1:8000/ (usage) or http://127.0.0.1:8000/docs (API docs). /predict takes
{standalone.what_it_takes(settings)}

    {body}

Limits: --max-rows, --max-bytes, --max-files (or LAYERLAB_SERVE_MAX_ROWS, ..._BYTES, ..._FILES).
A bad request gets a 4xx answer {{"error": {{"code": ..., "message": ...}}}}.

## Run it with Docker

    docker build -t layerlab-model .
    docker run -p 8000:8000 layerlab-model

## Run it with TensorFlow Serving

model/1 is a SavedModel in TF Serving's layout. Its `serving_default` signature takes
{signature} and does the preprocessing itself; it answers `outputs`.

    docker run -p 8501:8501 -v "$PWD/model:/models/model" -e MODEL_NAME=model tensorflow/serving
    curl -d '{tf_body}' http://127.0.0.1:8501/v1/models/model:predict
"""
