"""Serving over HTTP: `python -m core serve` as a real process on a free loopback port, and
serving.zip's standalone serve.py; the other kinds through the same app (core.serving.app) on
uvicorn in a thread. Answers equal `core predict`'s; bad requests get 4xx plain messages."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from tests.datafiles import encode_image

ROOT = Path(__file__).resolve().parents[2]
IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
IRIS_ROWS = [dict(zip(IRIS_COLUMNS, values)) for values in
             ([5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], ["5.9", " 3.0 ", "4.2", "1.5"], [6.0, None, 4.5, "abc"])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _post(url: str, data: object) -> tuple[int, dict]:
    return _request(f"{url}/predict", json.dumps(data).encode())


def _post_files(url: str, files: list[tuple[str, bytes]]) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n" for name, data in files
    ) + f"--{boundary}--\r\n".encode()
    return _request(f"{url}/predict", body, f"multipart/form-data; boundary={boundary}")


def _start(command: list[str], cwd: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen([*command, "--port", str(port)], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _wait(process: subprocess.Popen, url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()  # by its own PID
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def iris_folder(tmp_path_factory) -> Path:
    """What `core train --out` writes that serving reads (model.keras, labels.json, preprocessing.json,
    serving.zip), from an untrained iris model: the answers only need to agree (test_training_cli
    checks that train --out writes serving.zip)."""
    from core.data import load_sample
    from core.export import serving_zip

    dataset = load_sample("iris")
    folder = _model_folder(dataset, tmp_path_factory.mktemp("iris-serve") / "model")
    (folder / "serving.zip").write_bytes(serving_zip(_load(folder), dataset, "iris"))
    return folder


def _load(folder: Path):
    from core.export import load_trained_model

    return load_trained_model(folder / "model.keras")


@pytest.fixture(scope="module")
def servers(iris_folder, tmp_path_factory):
    """`core serve` on the folder (small limits) and serve.py unpacked from its serving.zip, started together."""
    service = tmp_path_factory.mktemp("service")
    with zipfile.ZipFile(iris_folder / "serving.zip") as archive:
        archive.extractall(service)
    core = _start([sys.executable, "-m", "core", "serve", str(iris_folder), "--max-rows", "50",
                   "--max-bytes", "20000"], ROOT)
    alone = _start([sys.executable, "serve.py", "--max-rows", "50"], service)
    try:
        for process, url in (core, alone):
            _wait(process, url)
        yield core[1], alone[1]
    finally:
        _stop(core[0])
        _stop(alone[0])


def _core_predict(capsys, folder: Path, rows: list[dict], tmp_path: Path) -> list[str]:
    import pandas as pd

    path = tmp_path / "rows.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    capsys.readouterr()
    assert cli_main(["predict", str(folder), str(path)]) == 0
    return capsys.readouterr().out.splitlines()


def test_core_serve_and_serve_py_answer_rows_like_core_predict(servers, iris_folder, capsys, tmp_path):
    expected = _core_predict(capsys, iris_folder, IRIS_ROWS, tmp_path)
    answers = []
    for url in servers:
        status, data = _post(url, {"rows": IRIS_ROWS})
        assert status == 200, data
        lines = [f"{p['input']}: {p['label']} ({max(p['probabilities'].values()):.1%})" for p in data["predictions"]]
        assert lines == expected
        assert any("'sepal width (cm)', 'petal width (cm)' empty" in w for w in data["warnings"])
        answers.append(np.array([list(p["probabilities"].values()) for p in data["predictions"]]))
    np.testing.assert_allclose(answers[0], answers[1], atol=1e-5)


def test_the_pages_and_health(servers):
    for url in servers:
        with urllib.request.urlopen(f"{url}/") as page:
            text = page.read().decode()
        assert "sepal length (cm)" in text and "curl" in text
        with urllib.request.urlopen(f"{url}/openapi.json") as spec:
            assert "/predict" in json.loads(spec.read())["paths"]
        assert _request(f"{url}/health")[1]["classes"] == ["setosa", "versicolor", "virginica"]


@pytest.mark.parametrize("body, status, code, says", [
    ({"rows": [{"sepal length (cm)": 5.0}]}, 400, "predict.missing_columns", "'sepal width (cm)', 'petal length (cm)'"),
    ({"texts": ["hello"]}, 400, "serve.wrong_request", 'JSON {"rows"'),
    ({"rows": "5.1,3.5"}, 400, "serve.needs_rows", "a list of objects"),
    ({"rows": [{**IRIS_ROWS[0], "petal width (cm)": [1, 2]}]}, 400, "serve.bad_value", "Row 1, column 'petal width (cm)'"),
    ({"rows": [dict.fromkeys(IRIS_COLUMNS, "x")]}, 400, "predict.row_unusable", "Row 1 has no value"),
    ({"rows": [IRIS_ROWS[0]] * 51}, 413, "serve.too_many_rows", "at most 50"),
    ({"rows": []}, 400, "predict.no_rows", "no rows"),
])
def test_bad_requests_get_plain_4xx_messages(servers, body, status, code, says):
    core, alone = servers
    for url in (core, alone):
        got, data = _post(url, body)
        assert (got, data["error"]["code"]) == (status, code), data
        assert says in data["error"]["message"] and "Traceback" not in json.dumps(data)
    assert _post(core, {"rows": [IRIS_ROWS[0]]})[0] == 200  # the next request is not affected


def test_broken_bodies_files_and_sizes(servers):
    core, _ = servers
    for body in (b"{not json", b"[" * 15_000):
        status, data = _request(f"{core}/predict", body)
        assert status == 400 and data["error"]["code"] == "serve.bad_json"
    status, data = _post_files(core, [("flower.png", encode_image(np.zeros((8, 8), np.uint8)))])
    assert status == 400 and data["error"]["code"] == "predict.needs_table"
    status, data = _post(core, {"rows": [IRIS_ROWS[0]], "padding": "x" * 30000})
    assert status == 413 and "larger than" in data["error"]["message"]


def test_a_burst_of_single_rows_is_answered_in_order(servers):
    core, _ = servers
    rows = [dict(zip(IRIS_COLUMNS, [4.5 + k * 0.1, 3.0, 1.0 + k * 0.2, 0.1 + k * 0.1])) for k in range(24)]
    with ThreadPoolExecutor(8) as pool:
        singles = list(pool.map(lambda row: _post(core, {"rows": [row]})[1]["predictions"][0], rows))
    together = _post(core, {"rows": rows})[1]["predictions"]
    for one, batch in zip(singles, together):
        assert one["label"] == batch["label"]
        assert max(abs(one["probabilities"][c] - batch["probabilities"][c]) for c in one["probabilities"]) < 1e-5


# ---------------------------------------------------------------- images, texts and forecasts, in process


def _model_folder(dataset, folder: Path) -> Path:
    from core import export
    from core.build import build_model
    from core.templates import default_template

    folder.mkdir(parents=True)
    model = build_model(default_template(dataset), dataset)  # untrained: the answers only need to agree
    (folder / "model.keras").write_bytes(export.keras_bytes(export.downloadable_model(model, dataset)))
    (folder / "labels.json").write_text(export.labels_json(dataset), encoding="utf-8")
    (folder / "preprocessing.json").write_text(export.preprocessing_json(dataset), encoding="utf-8")
    return folder


class _InThread:
    """core.serving.app's app on uvicorn in a thread of this process (Keras is loaded here already)."""

    def __init__(self, folder: Path) -> None:
        import uvicorn

        from core.serving.app import CorePredictor
        from core.serving.standalone import Limits, create_app

        self.predictor = CorePredictor(folder)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.predictor, Limits(max_files=3)), host="127.0.0.1",
                                                    port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def expected(self, inputs):
        from core.predict import predict_inputs

        return predict_inputs(self.predictor.model, self.predictor.contract, inputs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def kind_services(tmp_path_factory):
    from core.data import load_sample

    services = {}
    try:
        for name in ("digits", "sms_spam", "electrical_equipment"):
            dataset = load_sample(name)
            services[name] = (_InThread(_model_folder(dataset, tmp_path_factory.mktemp(name) / "model")), dataset)
        yield services
    finally:
        for service, _ in services.values():
            service.stop()


def test_images_are_answered_like_core_predict(kind_services):
    service, dataset = kind_services["digits"]
    files = [(f"digit{k}.png", encode_image(dataset.x_test[k][..., 0].astype(np.uint8))) for k in range(3)]
    status, data = _post_files(service.url, files)
    assert status == 200, data
    expected = service.expected(service.predictor.contract.inputs_from_images([d for _, d in files], [n for n, _ in files]))
    for got, want in zip(data["predictions"], expected.items):
        assert got["input"] == want.source and got["label"] == want.label
        np.testing.assert_allclose(list(got["probabilities"].values()), list(want.probabilities.values()), atol=1e-5)
    status, data = _post_files(service.url, [("notes.png", b"not an image")])
    assert status == 400 and "notes.png cannot be used as an image" in data["error"]["message"]
    status, data = _post_files(service.url, files + files)
    assert status == 413 and data["error"]["code"] == "serve.too_many_files"
    assert _post(service.url, {"rows": [{"a": 1}]})[1]["error"]["code"] == "predict.needs_images"


def test_texts_are_answered_like_core_predict(kind_services):
    service, _ = kind_services["sms_spam"]
    texts = ["WINNER!! Claim your free prize now, call 0800", "see you at lunch?"]
    status, data = _post(service.url, {"texts": texts})
    assert status == 200, data
    expected = service.expected(service.predictor.contract.inputs_from_texts(texts))
    for got, want in zip(data["predictions"], expected.items):
        assert got["label"] == want.label
        np.testing.assert_allclose(list(got["probabilities"].values()), list(want.probabilities.values()), atol=1e-5)
    status, data = _post(service.url, {"texts": ["", "  "]})
    assert status == 400 and data["error"]["code"] == "predict.no_texts"


def test_recent_rows_get_a_forecast_like_core_predict(kind_services):
    import pandas as pd

    service, dataset = kind_services["electrical_equipment"]
    rows = _recent_rows(dataset)
    status, data = _post(service.url, {"rows": rows})
    assert status == 200, data
    expected = service.expected(service.predictor.contract.inputs_from_frame(pd.DataFrame(rows)))
    (got,), (want,) = data["predictions"], expected.items
    assert got["times"] == want.steps and len(got["values"]) == dataset.series.horizon
    np.testing.assert_allclose(got["values"], want.values, rtol=1e-5)
    status, data = _post(service.url, {"rows": rows[:3]})
    assert status == 400 and data["error"]["code"] == "predict.series_too_few_rows"


def _recent_rows(dataset) -> list[dict]:
    from core.data.kinds import kind_of

    return kind_of(dataset).serving_examples(dataset)["example_rows"]
