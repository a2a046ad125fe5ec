"""One network from design to download: the Design page's shape report, the model the app's
training worker trains, `python -m core train`'s model and the model train_model.py builds
are the same network, and with the same weights they give the same predictions on raw inputs.

Each case goes through the real paths: the run job the server writes and the worker's entry
(`train_job`, what the spawned worker runs; one case also through a spawned worker), the CLI's
`main`, and the generated script's own data loading and encoding. Every template that fits
each dataset goes through the worker and the script; the CLI (which builds with the same
`build_model` from its own load of the file) trains the default design of each dataset, to keep
the suite's time in bounds.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main as cli_main
from core.cli.predict import read_contract
from core.codegen import training_script
from core.data import load_data
from core.export import load_trained_model
from core.predict import predict_rows
from core.shapes import shape_report
from core.spec import ProjectSpec
from core.templates import templates_for
from core.training.rundir import RunDir, read_dataset, write_job
from core.training.trainer import train_job
from tests.datafiles import shop_wine_frame
from tests.unit.design_checks import assert_report_matches_model

SAMPLES = ("iris", "wine", "breast_cancer", "diabetes", "digits")
TOLERANCE = 1e-5  # absolute; plus float32 rounding (1e-6 relative) for regression answers in target units
RELATIVE = 1e-6


@lru_cache(maxsize=None)
def _csv(task: str, folder: str) -> Path:
    path = Path(folder) / f"shop-{task}.csv"
    shop_wine_frame(task).to_csv(path, index=False)
    return path


def _raw_rows(path: Path) -> pd.DataFrame:
    """Rows to predict as a user types them: the file's first rows plus an unseen category and blanks."""
    frame = pd.read_csv(path).head(6).astype({"region": object, "barrel": object})
    frame.loc[len(frame)] = {**frame.iloc[0].to_dict(), "region": "atlantis", "alcohol": np.nan, "barrel": None}
    return frame


def _layers(model) -> list[tuple[str, str, int]]:
    return [(layer.name, type(layer).__name__, layer.count_params()) for layer in model.layers]


def _one_epoch(spec: ProjectSpec) -> ProjectSpec:
    data = spec.to_dict()
    data["training"].update(epochs=1, early_stopping_patience=0)
    return ProjectSpec.from_dict(data)


def _script(spec: ProjectSpec, dataset) -> dict:
    namespace = {"__name__": "train_model"}
    exec(compile(training_script(spec, dataset), "train_model.py", "exec"), namespace)  # noqa: S102 - our own output
    return namespace


def _cases(tmp_root: Path):
    for name in SAMPLES:
        yield f"sample:{name}", None
    yield str(_csv("classification", str(tmp_root))), "cultivar"
    yield str(_csv("regression", str(tmp_root))), "price"


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("one-network")


@pytest.mark.parametrize("case", range(len(SAMPLES) + 2), ids=[*SAMPLES, "csv-classification", "csv-regression"])
def test_design_worker_cli_and_script_build_the_same_network(case, data_folder, tmp_path):
    source, target = list(_cases(data_folder))[case]
    dataset = load_data(source, target=target)
    fitting = templates_for(dataset)
    assert fitting, "every dataset has at least one template"
    for template in fitting:
        spec = _one_epoch(template.fresh_spec(dataset.task))
        label = f"{source} / {template.id}"
        report = shape_report(spec, dataset)
        assert report.ok, label

        # the app: the server writes the run job, the worker reads it back and trains
        run = RunDir(tmp_path / template.id / "run")
        write_job(run, spec, dataset)
        result = train_job(run.path)
        assert result.status == "finished", (label, result.message)
        worker_model = load_trained_model(run.best_model)
        assert_report_matches_model(report, worker_model)

        if template is not fitting[0]:  # the CLI builds with the same build_model: once per dataset
            if target is None:
                _assert_script_agrees(spec, dataset, source, worker_model, label)
            else:
                _assert_script_agrees_on_rows(spec, dataset, source, worker_model, label, tmp_path / template.id)
            continue

        # the command line, given the same design as a project file
        project = tmp_path / template.id / "project.json"
        project.write_text(spec.to_json(), encoding="utf-8")
        out = tmp_path / template.id / "cli"
        args = ["train", source, "--spec", str(project), "--out", str(out)] + (["--target", target] if target else [])
        assert cli_main(args) == 0, label
        cli_model = load_trained_model(out / "model.keras")
        assert _layers(cli_model) == _layers(worker_model), label
        assert cli_model.count_params() == report.total_params, label
        assert json.loads((out / "project.json").read_text()) == json.loads(spec.to_json())

        # the same weights give the same answers on the same raw inputs, whichever path prepared them
        cli_model.set_weights(worker_model.get_weights())
        if target is None:
            x = dataset.x_test.astype("float32")
            expected = worker_model.predict(x, verbose=0)
            np.testing.assert_allclose(cli_model.predict(x, verbose=0), expected, atol=TOLERANCE, rtol=RELATIVE, err_msg=label)
            _assert_script_agrees(spec, dataset, source, worker_model, label)
        else:
            expected, rows_file = _assert_script_agrees_on_rows(spec, dataset, source, worker_model, label, tmp_path / template.id)
            contract = read_contract(out)  # `core predict`'s reading of the same rows file
            cli_inputs = contract.inputs_from_files([rows_file])
            np.testing.assert_allclose(cli_model.predict(cli_inputs.x, verbose=0), expected, atol=TOLERANCE, rtol=RELATIVE, err_msg=label)


def _assert_script_agrees_on_rows(spec: ProjectSpec, dataset, source: str, worker_model, label: str, folder: Path):
    """A CSV: the app's prediction of raw rows (blanks, an unseen category) == the script's encode()
    through its own model with the same weights. Returns the app's outputs and the rows file."""
    script = _script(spec, dataset)
    script_model = _script_model(script, source, worker_model, label)
    rows = _raw_rows(Path(source))
    folder.mkdir(parents=True, exist_ok=True)
    rows_file = folder / "rows.csv"
    rows.to_csv(rows_file, index=False)
    app = predict_rows(worker_model, dataset, rows)
    expected = np.asarray([[*item.probabilities.values()] or [item.value] for item in app.items])
    np.testing.assert_allclose(script_model.predict(script["encode"](rows), verbose=0), expected, atol=TOLERANCE, rtol=RELATIVE, err_msg=label)
    return expected, rows_file


def _script_model(script: dict, source: str, worker_model, label: str):
    """The model train_model.py builds from the data it loads and splits itself, given the worker's weights."""
    x_train, y_train = script["split"](*script["load_data"](None if source.startswith("sample:") else source))[0]
    model = script["build_model"](x_train, y_train)
    assert _layers(model) == _layers(worker_model), label
    model.set_weights(worker_model.get_weights())
    return model


def _assert_script_agrees(spec: ProjectSpec, dataset, source: str, worker_model, label: str) -> None:
    """A sample: the script loads it itself (scikit-learn), splits it and predicts its own test split."""
    script = _script(spec, dataset)
    model = _script_model(script, source, worker_model, label)
    scripted_test = script["split"](*script["load_data"](None))[2][0]
    expected = worker_model.predict(dataset.x_test.astype("float32"), verbose=0)
    np.testing.assert_allclose(model.predict(scripted_test, verbose=0), expected, atol=TOLERANCE, rtol=RELATIVE, err_msg=label)


def test_the_run_job_carries_everything_the_model_depends_on(data_folder, tmp_path):
    """The defect this file guards against: the worker's dataset lost the table's categories, so it
    normalised category positions instead of one-hot encoding them (663 vs 725 parameters)."""
    dataset = load_data(str(_csv("classification", str(data_folder))), target="cultivar")
    spec = templates_for(dataset)[0].fresh_spec(dataset.task)
    run = RunDir(tmp_path / "run")
    write_job(run, spec, dataset)
    again = read_dataset(run)
    assert again.preprocessor.to_json() == dataset.preprocessor.to_json()
    assert again.preprocessor.categorical_positions == dataset.preprocessor.categorical_positions == [(1, 4), (3, 2)]
    assert shape_report(spec, again).total_params == shape_report(spec, dataset).total_params
    assert again.describe() == dataset.describe()


def test_a_spawned_worker_trains_the_designed_network(data_folder, tmp_path):
    from core.training import TrainingService

    dataset = load_data(str(_csv("classification", str(data_folder))), target="cultivar")
    spec = _one_epoch(templates_for(dataset)[0].fresh_spec(dataset.task))
    service = TrainingService(max_concurrent=1, keep_warm=False)
    try:
        handle = service.start(spec, dataset, tmp_path / "run")
        handle.wait(timeout=240)
        handle.poll()
    finally:
        service.shutdown()
    assert handle.result is not None and handle.result.status == "finished", handle.result
    assert_report_matches_model(shape_report(spec, dataset), load_trained_model(handle.best_model_path))


@pytest.fixture(scope="module")
def sms_slice(data_folder) -> Path:
    from tests.datafiles import text_csv_bytes, text_sample_frame, write

    return write(data_folder / "sms slice.csv", text_csv_bytes(text_sample_frame("sms_spam", 160)))


@pytest.mark.parametrize("template_id", ["text_bag_of_embeddings", "text_multi_hot", "text_bilstm"])
def test_a_text_run_trains_the_designed_network_and_its_download_takes_strings(sms_slice, tmp_path, template_id):
    """Text: the run job carries the vocabulary, so the worker's Embedding (input_dim left empty) or
    multi-hot is as wide as the design says; the run's downloadable model.keras (TextVectorization in
    front of the trained network) answers raw strings as the network answers their token ids.
    (train_model.py for text is checked by the codegen tests.)"""
    from core.data.tokens import TextSettings
    from core.templates import template
    from core.training.tasks import downloadable_keras
    from tests.datafiles import MIXED_TEXTS

    dataset = load_data(str(sms_slice), text_settings=TextSettings(sequence_length=24))
    spec = _one_epoch(template(template_id).fresh_spec(dataset.task))
    report = shape_report(spec, dataset)
    assert report.ok
    run = RunDir(tmp_path / "run")
    write_job(run, spec, dataset)
    result = train_job(run.path)
    assert result.status == "finished", result.message
    worker_model = load_trained_model(run.best_model)
    assert_report_matches_model(report, worker_model)

    download = downloadable_keras(run.path)
    assert download != run.best_model  # exports/model.keras: the string model
    served = load_trained_model(download)
    texts = [*dataset.text.test_texts[:6], *MIXED_TEXTS, "", "Free entry " * 40]
    expected = worker_model.predict(dataset.text.ids(texts).astype("float32"), verbose=0)
    np.testing.assert_allclose(served.predict(np.array(texts, dtype=object), verbose=0), expected, atol=TOLERANCE)
