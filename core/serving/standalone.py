"""LayerLab model service: the HTTP contract of a trained model, in one file.

`python -m core serve RUN_DIR` builds its app with `create_app` from here, over the run folder's
model.keras and the data kind's prediction contract (core/serving/app.py). serving.zip carries this
same file, byte for byte, as serve.py: there `main()` serves the TensorFlow SavedModel in model/1
(raw inputs in, preprocessing inside) described by serving.json. So the routes, the request and
answer formats, the limits, the error answers and the micro-batching live here only.

Needs numpy, fastapi, uvicorn and python-multipart; the SavedModel needs tensorflow (images are
decoded with tf.io, no Pillow). Nothing here imports LayerLab.

    python serve.py [--host 127.0.0.1] [--port 8000] [--model model/1] [--settings serving.json]

Routes: GET / (usage), GET /health, GET /docs (OpenAPI), POST /predict:
  table rows      {"rows": [{"column": value, ...}, ...]}   (raw values as in the CSV)
  texts           {"texts": ["...", ...]}
  recent rows     {"rows": [{"date": ..., "column": value}, ...]}   (a forecast: the oldest row first)
  images          multipart/form-data, one or more files in the field `files`
Answers: {"predictions": [{"input": ..., "label": ..., "probabilities": {class: p}}], "warnings": [...]}
(classifiers), {"value": v} (regression) or {"values": [...], "times": [...]} (forecasts), in input
order; a bad request gets a 4xx {"error": {"code": ..., "message": ...}}.
"""
import argparse
import asyncio
import json
import math
import os
import queue
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

# request formats (serving.json "format"): how one request carries its inputs
TABLE_ROWS = "table_rows"
IMAGE_FILES = "image_files"
TEXTS = "texts"
RECENT_ROWS = "recent_rows"

# error codes answered with something other than 400
_STATUS = {"serve.too_large": 413, "serve.too_many_rows": 413, "serve.too_many_files": 413,
"serve.model_failed": 500}


class UserError(Exception):
    """A request the user can fix; the same shape as LayerLab's core.errors.UserError (code, English
    template with {named} placeholders, params), answered as 4xx JSON, never a traceback."""

    def __init__(self, code: str, template: str, **params: Any) -> None:
        self.code, self.template, self.params = code, template, params
        super().__init__(self.render())

    @property
    def status(self) -> int:
        return _STATUS.get(self.code, 400)

    def render(self, lang: str = "en") -> str:
        return self.template.format(**self.params)


@dataclass
class Limits:
    """What one request may hold; flags or the environment change them (LAYERLAB_SERVE_MAX_ROWS, ...)."""

    max_rows: int = 10_000  # rows or texts in one request
    max_bytes: int = 20 * 1024**2  # a request body
    max_files: int = 64  # images in one request
    max_batch: int = 1024  # inputs per model call
    batch_wait_ms: float = 0.0  # extra wait to gather requests into one model call (0: take what is queued)

    ENV = {"max_rows": "LAYERLAB_SERVE_MAX_ROWS", "max_bytes": "LAYERLAB_SERVE_MAX_BYTES",
           "max_files": "LAYERLAB_SERVE_MAX_FILES", "max_batch": "LAYERLAB_SERVE_MAX_BATCH",
           "batch_wait_ms": "LAYERLAB_SERVE_BATCH_WAIT_MS"}

    @classmethod
    def from_env(cls, **given: Any) -> "Limits":
        """Flags first (`given`, None = not given), then the environment, then the defaults."""
        values = {}
        for name, env in cls.ENV.items():
            value = given.get(name)
            if value is None and os.environ.get(env):
                value = os.environ[env]
            if value is not None:
                kind = float if name == "batch_wait_ms" else int
                values[name] = max(kind(value), 0 if kind is float else 1)
        return cls(**values)


# ---------------------------------------------------------------- decoded requests and answers


@dataclass
class Decoded:
    """One request's inputs, ready for the model, and what the answer names them by."""

    x: Any  # numpy array, first axis = inputs (batched with other requests')
    sources: list[str]
    warnings: list[str] = field(default_factory=list)
    times: list[list[str]] = field(default_factory=list)  # forecasts: each input's future timestamps


def answer(settings: dict, decoded: Decoded, outputs: Any) -> dict:
    """The JSON answer for `decoded` from the model's raw outputs, in input order."""
    outputs = np.asarray(outputs, dtype=np.float64)
    task, classes = settings["task"], settings.get("classes", [])
    items = []
    for k, (source, out) in enumerate(zip(decoded.sources, outputs)):
        if task == "forecast":
            values = [float(v) for v in np.reshape(out, -1)]
            times = decoded.times[k] if k < len(decoded.times) else [f"step +{j + 1}" for j in range(len(values))]
            items.append({"input": source, "values": values, "times": list(times)})
        elif task == "classification":
            best = int(np.argmax(out))
            items.append({"input": source, "label": classes[best],
                          "probabilities": {str(name): float(p) for name, p in zip(classes, out)}})
        else:
            items.append({"input": source, "value": float(np.reshape(out, -1)[0])})
    result: dict[str, Any] = {"predictions": items, "warnings": list(decoded.warnings)}
    if task != "classification":
        result["target"] = settings.get("target")  # what the values measure, in its own units
    return result


def example_request(settings: dict) -> Any:
    """An example /predict body for this model (None for images: they are files)."""
    fmt = settings["format"]
    if fmt == TABLE_ROWS:
        return {"rows": [settings.get("example") or {c["name"]: c.get("fill") for c in settings["columns"]}]}
    if fmt == TEXTS:
        return {"texts": [settings.get("example") or "a text to classify"]}
    if fmt == RECENT_ROWS:
        rows = settings.get("example_rows")
        if not rows:
            names = ([settings["date_column"]] if settings.get("date_column") else []) + list(settings["columns"])
            rows = [{name: "..." for name in names}]
        return {"rows": rows}
    return None


def what_it_takes(settings: dict) -> str:
    """One sentence: what /predict takes for this model."""
    fmt = settings["format"]
    if fmt == TABLE_ROWS:
        names = ", ".join(c["name"] for c in settings["columns"])
        return f'JSON {{"rows": [{{column: value, ...}}, ...]}} with the columns {names} (raw values as in the CSV).'
    if fmt == TEXTS:
        return 'JSON {"texts": ["...", ...]}.'
    if fmt == RECENT_ROWS:
        names = ", ".join(([settings["date_column"]] if settings.get("date_column") else []) + list(settings["columns"]))
        return (f'JSON {{"rows": [...]}} of at least {settings["window"]} recent rows, oldest first, with the columns '
                f'{names}; the answer is the next {settings["horizon"]} values.')
    height, width = settings["image_size"]
    return (f"multipart/form-data with one or more image files in the field 'files' (PNG, JPEG, BMP or GIF; "
            f"brought to {width}×{height} pixels).")


def curl_example(settings: dict, url: str = "http://127.0.0.1:8000") -> str:
    if settings["format"] == IMAGE_FILES:
        return f"curl -F files=@picture.png {url}/predict"
    body = json.dumps(example_request(settings), ensure_ascii=False).replace("'", "'\\''")
    return f"curl -H 'Content-Type: application/json' -d '{body}' {url}/predict"


def _openapi_body(settings: dict) -> dict:
    """The /predict request as OpenAPI describes it (the app reads and checks the body itself, so a
    mistake gets LayerLab's plain message rather than a validation dump)."""
    if settings["format"] == IMAGE_FILES:
        schema = {"type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                  "required": ["files"]}
        return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}
    if settings["format"] == TEXTS:
        schema = {"type": "object", "properties": {"texts": {"type": "array", "items": {"type": "string"}}}, "required": ["texts"]}
    else:
        names = ([settings["date_column"]] if settings.get("date_column") else []) + (
            [c["name"] for c in settings["columns"]] if settings["format"] == TABLE_ROWS else list(settings["columns"]))
        row = {"type": "object", "properties": {name: {"type": ["number", "string", "null"]} for name in names}}
        schema = {"type": "object", "properties": {"rows": {"type": "array", "items": row}}, "required": ["rows"]}
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": schema, "example": example_request(settings)}}}}


def usage_page(settings: dict, url: str = "http://127.0.0.1:8000") -> str:
    from html import escape

    what = settings.get("task", "")
    classes = settings.get("classes") or []
    answer_text = (f"label and probabilities of {', '.join(map(str, classes))}" if what == "classification"
                   else f"the next values of {settings.get('target')}" if what == "forecast" else f"a value of {settings.get('target')}")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>LayerLab model</title></head><body>"
        f"<h1>{escape(settings.get('name') or 'LayerLab model')}</h1>"
        f"<p>POST /predict takes {escape(what_it_takes(settings))}</p>"
        f"<p>It answers with {escape(answer_text)}, in input order.</p>"
        f"<pre>{escape(curl_example(settings, url))}</pre>"
        "<p><a href='/docs'>API docs</a> · <a href='/health'>health</a></p></body></html>"
    )


# ---------------------------------------------------------------- request checks shared by both services


def rows_of(body: Any, limits: Limits) -> list[dict]:
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UserError("serve.needs_rows", 'The request needs "rows": a list of objects, one per row, with the '
                        'column names as keys, e.g. {{"rows": [{{"column": 1.5}}]}}.')
    if not rows:
        raise UserError("predict.no_rows", "The table has no rows to predict. Add at least one row below the header.")
    if len(rows) > limits.max_rows:
        raise UserError("serve.too_many_rows", "The request has {n} rows; this service takes at most {limit} at once. "
                        "Send them in smaller requests.", n=f"{len(rows):,}", limit=f"{limits.max_rows:,}")
    for k, row in enumerate(rows):
        for column, value in row.items():
            if isinstance(value, (dict, list)):
                raise UserError("serve.bad_value", "Row {row}, column '{column}' holds a list or an object; give one "
                                "number or text per cell.", row=k + 1, column=column)
    return rows


def texts_of(body: Any, limits: Limits) -> list[str]:
    texts = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(texts, list) or not all(t is None or isinstance(t, str) for t in texts):
        raise UserError("serve.needs_texts", 'The request needs "texts": a list of strings, e.g. {{"texts": ["a text"]}}.')
    if len(texts) > limits.max_rows:
        raise UserError("serve.too_many_rows", "The request has {n} rows; this service takes at most {limit} at once. "
                        "Send them in smaller requests.", n=f"{len(texts):,}", limit=f"{limits.max_rows:,}")
    return ["" if t is None else t for t in texts]


def wrong_request(settings: dict) -> UserError:
    return UserError("serve.wrong_request", "This model takes {expected}", expected=what_it_takes(settings))


# ---------------------------------------------------------------- micro-batching


@dataclass
class _Job:
    x: Any
    future: Future


class Batcher:
    """One thread runs the model; requests that arrive while it runs wait in a queue and go into the
    next call together (up to `max_batch` inputs), so a burst of single-row requests costs a few
    model calls, not one each. `run(x) -> outputs` is called with the inputs stacked on axis 0."""

    def __init__(self, run: Callable[[Any], Any], limits: Limits) -> None:
        self._run, self._limits = run, limits
        self._queue: queue.Queue[_Job] = queue.Queue()
        self.calls = 0  # model calls made
        self.requests = 0  # requests answered by them (/health shows both: how much batching happens)
        threading.Thread(target=self._loop, name="model-batcher", daemon=True).start()

    def submit(self, x: Any) -> Future:
        future: Future = Future()
        self._queue.put(_Job(x, future))
        return future

    def _loop(self) -> None:
        while True:
            jobs = [self._queue.get()]
            count = len(jobs[0].x)
            deadline = time.monotonic() + self._limits.batch_wait_ms / 1000
            while count < self._limits.max_batch:
                try:
                    wait = deadline - time.monotonic()
                    job = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                count += len(job.x)
            self._answer(jobs)

    def _answer(self, jobs: list[_Job]) -> None:
        try:
            x = jobs[0].x if len(jobs) == 1 else np.concatenate([job.x for job in jobs])
            step = self._limits.max_batch
            parts = [np.asarray(self._run(x[i:i + step])) for i in range(0, len(x), step)]
            self.calls += len(parts)
            outputs = parts[0] if len(parts) == 1 else np.concatenate(parts)
        except Exception as err:  # the model failed: every waiting request hears it, the next ones still run
            failure = UserError("serve.model_failed", "The model could not compute an answer ({reason}).",
                                reason=f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}")
            for job in jobs:
                job.future.set_exception(failure)
            return
        self.requests += len(jobs)
        start = 0
        for job in jobs:
            job.future.set_result(outputs[start:start + len(job.x)])
            start += len(job.x)


# ---------------------------------------------------------------- the app


def create_app(predictor: Any, limits: Limits | None = None, render: Callable[[UserError], str] | None = None) -> Any:
    """The FastAPI app over `predictor`, which has `settings` (serving.json's content), `run(x)`,
    `decode_json(body, limits) -> Decoded` and `decode_files([(name, bytes)], limits) -> Decoded`,
    each raising a UserError (this module's, or any exception with code/status/render) for a bad request.
    `render(err)`: the message in the service's language (default: English)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.concurrency import run_in_threadpool

    limits = limits or Limits.from_env()
    settings = predictor.settings
    batcher = Batcher(predictor.run, limits)
    app = FastAPI(title=settings.get("name") or "LayerLab model",
                  description=f"POST /predict takes {what_it_takes(settings)}", version="1")
    app.state.batcher = batcher

    def error_answer(err: Exception) -> JSONResponse:
        message = render(err) if render else err.render()
        return JSONResponse({"error": {"code": err.code, "message": message}}, status_code=getattr(err, "status", 400))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def usage(request: Request) -> str:
        return usage_page(settings, str(request.base_url).rstrip("/"))  # the address this service answers on

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "task": settings["task"], "format": settings["format"],
                "classes": settings.get("classes") or [], "target": settings.get("target"),
                "requests": batcher.requests, "model_calls": batcher.calls}

    @app.post("/predict", openapi_extra=_openapi_body(settings))
    async def predict(request: Request) -> Any:
        try:
            decoded = await _decode(request)
            outputs = await asyncio.wrap_future(batcher.submit(decoded.x))
            return answer(settings, decoded, outputs)
        except Exception as err:
            if hasattr(err, "code") and hasattr(err, "render"):
                return error_answer(err)
            print(f"predict failed: {type(err).__name__}: {err}", flush=True)  # a bug: one line in the log
            return JSONResponse({"error": {"code": "serve.internal", "message": "The service failed on this request. "
                                           "Nothing was changed; try again, and report it if it happens again."}},
                                status_code=500)

    async def _decode(request: Request) -> Decoded:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_bytes:
            raise _too_large(limits)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "multipart/form-data":
            files = await _files(request)
            return await run_in_threadpool(predictor.decode_files, files, limits)
        # any other body is read as JSON (curl -d sends form-urlencoded unless told otherwise)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_bytes:
                raise _too_large(limits)
        try:
            data = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:  # RecursionError: nested thousands deep
            raise UserError("serve.bad_json", "The request is not valid JSON ({reason}). Send JSON (Content-Type: "
                            "application/json) such as {example}, or image files as multipart/form-data.",
                            reason=str(err)[:120], example=json.dumps(example_request(settings) or {}, ensure_ascii=False)[:300]) from None
        return await run_in_threadpool(predictor.decode_json, data, limits)

    async def _files(request: Request) -> list[tuple[str, bytes]]:
        from starlette.datastructures import UploadFile

        try:
            form = await request.form(max_files=limits.max_files, max_fields=limits.max_files, max_part_size=limits.max_bytes)
        except Exception as err:  # starlette's MultiPartException / HTTPException: too many files, a broken body
            detail = getattr(err, "detail", None) or getattr(err, "message", None) or str(err)
            if "many files" in str(detail).lower():
                raise UserError("serve.too_many_files", "The request has more than {limit} files; send at most {limit} "
                                "images at once.", limit=limits.max_files) from None
            raise UserError("serve.bad_form", "The uploaded form could not be read ({reason}). Send the images as "
                            "multipart/form-data in the field 'files'.", reason=str(detail)[:160]) from None
        uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        if not uploads:
            raise UserError("predict.no_images", "No images were given. Choose one or more image files.")
        files, total = [], 0
        for k, upload in enumerate(uploads):
            data = await upload.read()
            total += len(data)
            if total > limits.max_bytes:
                raise _too_large(limits)
            files.append((upload.filename or f"image {k + 1}", data))
        await form.close()
        return files

    return app


def _too_large(limits: Limits) -> UserError:
    return UserError("serve.too_large", "The request is larger than {limit} MB. Send fewer or smaller inputs at once.",
                     limit=f"{limits.max_bytes / 1024**2:g}")


# ---------------------------------------------------------------- the standalone service over a SavedModel


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _cell_text(value: Any) -> str:
    """A JSON cell as the text a CSV would hold ("" = empty)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "" if value is None or math.isnan(value) else repr(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class SavedModelPredictor:
    """serving.zip's service: raw inputs into the SavedModel's serving signature (which does the
    preprocessing itself), as serving.json describes."""

    def __init__(self, model_dir: str | Path, settings: dict) -> None:
        import tensorflow as tf

        self.settings = settings
        self._tf = tf
        self._loaded = tf.saved_model.load(str(model_dir))
        self._signature = self._loaded.signatures["serving_default"]
        self._input = settings["signature_input"]

    def run(self, x: Any) -> np.ndarray:
        tf = self._tf
        result = self._signature(**{self._input: tf.constant(x)})
        return np.asarray(next(iter(result.values())))

    def decode_files(self, files: list[tuple[str, bytes]], limits: Limits) -> Decoded:
        if self.settings["format"] != IMAGE_FILES:
            raise wrong_request(self.settings)
        tf = self._tf
        height, width = self.settings["image_size"]
        channels = int(self.settings["channels"])
        pixels = []
        for name, data in files:
            side = _image_side(data)
            if side is not None and side > MAX_IMAGE_SIDE:
                raise UserError("predict.image_unreadable", "{file} cannot be used as an image: it is {reason}. Use a "
                                "PNG, JPEG, BMP, GIF or WebP image.", file=name,
                                reason=f"{side} pixels on a side, more than the {MAX_IMAGE_SIDE} this service decodes")
            try:
                image = tf.io.decode_image(data, channels=channels, expand_animations=False)
            except Exception:
                raise UserError("predict.image_unreadable", "{file} cannot be used as an image: it is {reason}. Use a "
                                "PNG, JPEG, BMP, GIF or WebP image.", file=name, reason="not an image TensorFlow can read") from None
            if tuple(image.shape[:2]) != (height, width):
                image = tf.image.resize(image, (height, width), antialias=True)
            pixels.append(np.asarray(image, dtype=np.float32))
        return Decoded(np.stack(pixels), [name for name, _ in files])

    def decode_json(self, body: Any, limits: Limits) -> Decoded:
        fmt = self.settings["format"]
        if fmt == TEXTS:
            if not isinstance(body, dict) or "texts" not in body:
                raise wrong_request(self.settings)
            texts = texts_of(body, limits)
            if not texts or not any(t.strip() for t in texts):
                raise UserError("predict.no_texts", "There is no text to classify. Type or paste at least one text.")
            return Decoded(np.array(texts, dtype=object), [f"text {k + 1}" for k in range(len(texts))])
        if not isinstance(body, dict) or "rows" not in body:
            raise wrong_request(self.settings)
        rows = rows_of(body, limits)
        if fmt == TABLE_ROWS:
            return self._table(rows)
        if fmt == RECENT_ROWS:
            return self._recent(rows)
        raise wrong_request(self.settings)

    def _table(self, rows: list[dict]) -> Decoded:
        columns = self.settings["columns"]
        names = [c["name"] for c in columns]
        present = {key for row in rows for key in row}
        missing = [n for n in names if n not in present]
        if missing:
            raise UserError(
                "predict.missing_columns",
                "The table is missing the column(s) {columns} that the model was trained with. "
                "Add them with the same names (empty cells are allowed) and try again. "
                "The model needs these columns: {expected}.",
                columns=", ".join(f"'{c}'" for c in missing), expected=", ".join(f"'{c}'" for c in names))
        warnings = []
        known = set(names) | set(self.settings.get("ignored_columns", [])) | {self.settings.get("target")}
        extra = sorted(str(c) for c in present - known)
        if extra:
            warnings.append("These column(s) were not part of the training data and were ignored: "
                            + ", ".join(f"'{c}'" for c in extra) + ". Check the names if you expected them to be used.")
        cells = np.array([[_cell_text(row.get(n)) for n in names] for row in rows], dtype=object).reshape(len(rows), len(names))
        usable = np.array([[bool(_NUMBER.fullmatch(text)) and math.isfinite(float(text)) and abs(float(text)) <= 3.4028235e38
                            if c["kind"] == "numeric" else text.strip() != "" for text, c in zip(line, columns)]
                           for line in cells], dtype=bool).reshape(len(rows), len(columns))
        unusable = np.flatnonzero(~usable.any(axis=1)) if columns else np.array([], dtype=int)
        if unusable.size:
            rows_named = ", ".join(str(int(k) + 1) for k in unusable[:5])
            raise UserError(
                "predict.row_unusable",
                "{rows} has no value the model can use: every training column is empty, not a number where a "
                "number is needed, or too large. Fill in the values (the columns are {columns}) and try again.",
                rows=(f"Row {rows_named}" if unusable.size == 1 else f"Rows {rows_named}" + (" and more" if unusable.size > 5 else "")),
                columns=", ".join(f"'{c}'" for c in names))
        filled = np.flatnonzero(~usable.all(axis=1))
        for k in filled[:5]:
            named = ", ".join(f"'{names[j]}'" for j in np.flatnonzero(~usable[k]))
            warnings.append(f"Row {k + 1}: {named} empty, not a number or too large, so filled in with the training "
                            "value (median or most frequent). The prediction is less certain than it looks.")
        if len(filled) > 5:
            warnings.append(f"{len(filled) - 5} more row(s) had cells filled in the same way.")
        encoded = np.frompyfunc(lambda text: text.encode("utf-8"), 1, 1)(cells) if cells.size else cells
        return Decoded(encoded, [f"row {k + 1}" for k in range(len(rows))], warnings)

    def _recent(self, rows: list[dict]) -> Decoded:
        """Recent rows, oldest first: the last `window` of them, empty values carried forward."""
        s = self.settings
        date, columns, window, horizon = s.get("date_column"), list(s["columns"]), int(s["window"]), int(s["horizon"])
        needed = ([date] if date else []) + columns
        present = {key for row in rows for key in row}
        missing = [c for c in needed if c not in present]
        if missing:
            raise UserError(
                "predict.series_columns",
                "{source} has no column {missing}. A forecast needs the columns the model was trained with: {needed} "
                "(at least {window} recent rows).",
                source="the request", missing=", ".join(f"'{c}'" for c in missing),
                needed=", ".join(f"'{c}'" for c in needed), window=window)
        if len(rows) < window:
            raise UserError(
                "predict.series_too_few_rows",
                "{source} has {n} time steps, but the model reads the last {window}. Give at least {window} recent rows "
                "(dates in order, no long gaps).", source="the request", n=len(rows), window=window)
        stamps = None
        if date:
            try:
                stamps = np.array([np.datetime64(str(row.get(date)).replace(" ", "T"), "s") for row in rows])
                order = np.argsort(stamps, kind="stable")
                rows, stamps = [rows[k] for k in order], stamps[order]
            except ValueError:
                stamps = None  # not ISO dates: the rows' own order, and the steps ahead are numbered
        values = np.full((len(rows), len(columns)), np.nan, dtype=np.float64)
        for k, row in enumerate(rows):
            for j, column in enumerate(columns):
                text = _cell_text(row.get(column))
                if _NUMBER.fullmatch(text):
                    values[k, j] = float(text)
        for j, column in enumerate(columns):  # carried forward from the past only
            for k in range(1, len(values)):
                if np.isnan(values[k, j]):
                    values[k, j] = values[k - 1, j]
        x = values[-window:].astype(np.float32)
        if np.isnan(x).any():
            raise UserError("serve.series_empty_start", "The oldest rows of the last {window} have no value in {column}, "
                            "and nothing earlier to carry forward. Send more rows or fill them in.", window=window,
                            column=", ".join(f"'{c}'" for c, bad in zip(columns, np.isnan(x).any(axis=0)) if bad))
        times = _steps_after(stamps[-1], horizon, s.get("frequency") or {}) if stamps is not None else \
            [f"step +{k}" for k in range(1, horizon + 1)]
        return Decoded(x[None], [f"next {horizon} steps"], [], [times])


MAX_IMAGE_SIDE = 8192  # a small compressed file can claim a huge canvas: refused before decoding


def _image_side(data: bytes) -> int | None:
    """The longer side a PNG, GIF, BMP or JPEG header declares (None when it cannot tell)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return max(int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return max(int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little"))
    if data[:2] == b"BM" and len(data) >= 26:
        return max(abs(int.from_bytes(data[18:22], "little", signed=True)), abs(int.from_bytes(data[22:26], "little", signed=True)))
    if data[:2] == b"\xff\xd8":
        k = 2
        while k + 9 < len(data) and data[k] == 0xFF:
            marker, length = data[k + 1], int.from_bytes(data[k + 2:k + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                return max(int.from_bytes(data[k + 5:k + 7], "big"), int.from_bytes(data[k + 7:k + 9], "big"))
            k += 2 + length
    return None


def _steps_after(last: np.datetime64, horizon: int, frequency: dict) -> list[str]:
    """The `horizon` timestamps after `last`, written as LayerLab writes them."""
    months, seconds = int(frequency.get("months") or 0), int(frequency.get("seconds") or 0)
    if months:
        first = last.astype("datetime64[M]")
        day = (last.astype("datetime64[D]") - first.astype("datetime64[D]")).astype(int)
        stamps = []
        for k in range(1, horizon + 1):
            month = first + k * months
            length = int(((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int))
            stamps.append((month.astype("datetime64[D]") + min(day, length - 1)))
        if months == 12:
            return [str(s)[:4] for s in stamps]
        if months == 3:
            return [f"{str(s)[:4]}Q{(int(str(s)[5:7]) - 1) // 3 + 1}" for s in stamps]
        return [str(s)[:7] for s in stamps]
    if not seconds:
        return [f"step +{k}" for k in range(1, horizon + 1)]
    stamps = [last + k * np.timedelta64(seconds, "s") for k in range(1, horizon + 1)]
    if seconds % 86400 == 0 and all(str(s).endswith("T00:00:00") for s in stamps):
        return [str(s)[:10] for s in stamps]
    return [str(s).replace("T", " ")[: 16 if str(s).endswith(":00") else 19] for s in stamps]


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description="Serve a LayerLab model over HTTP.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--model", default=str(here / "model" / "1"), help="the SavedModel folder")
    p.add_argument("--settings", default=str(here / "serving.json"))
    p.add_argument("--max-rows", type=int)
    p.add_argument("--max-bytes", type=int)
    p.add_argument("--max-files", type=int)
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import uvicorn

    settings = json.loads(Path(args.settings).read_text(encoding="utf-8"))
    limits = Limits.from_env(max_rows=args.max_rows, max_bytes=args.max_bytes, max_files=args.max_files)
    app = create_app(SavedModelPredictor(args.model, settings), limits)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
