"""A whole session through the app in a fresh interpreter, as the web server runs it:
data, design, train, evaluate, try it, every export file (each TFLite variant and the
variants report). Prints one JSON line: the ML libraries this process imported on the way
and what the user saw; the downloaded model.keras and the test split go into the folder named
by the first argument, for the caller to check. Run by tests/app/test_light_server.py
(`python -m tests.app.light_server_flow FOLDER`; `--text RUN_FOLDER`: a text session, see text_session;
`--series RUN_FOLDER`: a forecasting session, see series_session; `--backbone`: the designer's pretrained
backbone, see backbone_session).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import streamlit.testing.v1.app_test as app_test

from core.export import TFLITE_VARIANTS
from tests.app.apptest import exceptions, new_app
from tests.app.run_helpers import RecordingMediaStorage, download_bytes, run_until_ended

HEAVY = ("tensorflow", "keras", "jax", "torch", "tf_keras")  # LiteRT (ai_edge_litert) is light: it may answer Try it


def main(folder: Path) -> None:
    app_test.MemoryMediaFileStorage = RecordingMediaStorage  # downloads can be read back
    seen: dict = {"exceptions": []}
    at = new_app().run()
    at.button(key="quick_start").click().run()  # Home: iris and its default design, trains it on Train
    seen["exceptions"] += exceptions(at)
    at.switch_page("pages/data.py").run()
    seen["exceptions"] += exceptions(at)
    at.switch_page("pages/train.py").run()
    run_until_ended(at)
    ws = at.session_state["workspace"]
    run = ws.runs[0]
    seen["status"] = run.status
    (folder / "run_model.keras").write_bytes(download_bytes(at, "download_run_keras"))  # under the finished run
    seen["runs_table_accuracy"] = run.metrics.get("accuracy")

    at.switch_page("pages/evaluate.py").run()
    seen["exceptions"] += exceptions(at)
    seen["accuracy"] = next((m.value for m in at.metric if m.label == "Accuracy"), None)
    seen["confusion"] = ws.cache[("evaluation", run.id)].confusion.tolist()
    np.save(folder / "x_test.npy", ws.dataset.x_test)
    np.save(folder / "y_test.npy", ws.dataset.y_test)
    at.button(key=f"FormSubmitter:try_row_{run.id}-Predict").click().run()
    seen["exceptions"] += exceptions(at)
    seen["prediction"] = next((m.value for m in at.markdown if m.value.startswith("Prediction: **")), None)

    at.switch_page("pages/export.py").run()
    (folder / "model.keras").write_bytes(download_bytes(at, "download_keras"))
    sizes = {}
    for key in ("download_labels", "download_preprocessing", "download_script", "download_project"):
        sizes[key] = len(download_bytes(at, key))
    for variant in TFLITE_VARIANTS:
        at.radio(key="tflite_variant").set_value(variant).run()
        seen["exceptions"] += exceptions(at)
        data = download_bytes(at, "download_tflite")
        sizes[variant] = len(data) if data[4:8] == b"TFL3" else 0
    at.button(key="measure_tflite").click().run()
    seen["exceptions"] += exceptions(at)
    seen["variants_table_rows"] = len(at.dataframe[0].value) if at.dataframe else 0
    seen["errors"] = [e.value for e in at.error]
    seen["sizes"] = sizes
    seen["heavy_modules"] = sorted(name for name in HEAVY if name in sys.modules)
    print(json.dumps(seen), flush=True)


def text_session(run_folder: Path) -> None:
    """A text session: the sms_spam sample on the Data page (a settings change), Design, and
    Evaluate with Try it for a run trained elsewhere (the caller's process) into `run_folder`."""
    from components.state.runs import SessionRun
    from core.training.events import read_all
    from core.training.rundir import RunDir, read_job

    seen: dict = {"exceptions": []}
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="sample_dataset").set_value("sms_spam").run()
    at.number_input(key="text_sequence_length").set_value(40).run()
    seen["exceptions"] += exceptions(at)
    ws = at.session_state["workspace"]
    seen["sequence_length"] = ws.dataset.text.sequence_length
    at.switch_page("pages/design.py").run()
    seen["exceptions"] += exceptions(at)

    spec, dataset = read_job(RunDir(run_folder))
    run = SessionRun(id="run1-text", number=1, spec=spec.to_dict(), run_dir=run_folder, project=spec, dataset=dataset)
    run.absorb(read_all(RunDir(run_folder).events))
    ws.runs.append(run)
    at.switch_page("pages/evaluate.py").run()
    seen["exceptions"] += exceptions(at)
    seen["accuracy"] = next((m.value for m in at.metric if m.label == "Accuracy"), None)
    at.text_area(key="try_text").input("Call now to claim your free prize").run()
    at.button(key="try_text_predict").click().run()
    seen["exceptions"] += exceptions(at)
    seen["prediction"] = next((m.value for m in at.markdown if m.value.startswith("Prediction: **")), None)
    seen["errors"] = [e.value for e in at.error]
    seen["heavy_modules"] = sorted(name for name in HEAVY if name in sys.modules)
    print(json.dumps(seen), flush=True)


def series_session(run_folder: Path) -> None:
    """A forecasting session: a series sample on the Data page (its window changed), a dated table
    upload forecast instead, Design, and Evaluate with the verdict, the forecast beyond the data and
    Try it, for a run trained elsewhere (the caller's process) into `run_folder`."""
    from components.state.runs import SessionRun
    from core.training.events import read_all
    from core.training.rundir import RunDir, read_job
    from tests.datafiles import shop_days_csv

    seen: dict = {"exceptions": []}
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="sample_dataset").set_value("electrical_equipment").run()
    at.number_input(key="series_window").set_value(36).run()
    seen["exceptions"] += exceptions(at)
    ws = at.session_state["workspace"]
    seen["window"] = ws.dataset.series.window
    at.file_uploader(key="data_upload").set_value(("shop.csv", shop_days_csv(), "text/csv")).run()
    at.button(key="forecast_series").click().run()
    seen["exceptions"] += exceptions(at)
    seen["uploaded_kind"] = ws.dataset.kind
    at.switch_page("pages/design.py").run()
    seen["exceptions"] += exceptions(at)

    spec, dataset = read_job(RunDir(run_folder))
    run = SessionRun(id="run1-series", number=1, spec=spec.to_dict(), run_dir=run_folder, project=spec, dataset=dataset)
    run.absorb(read_all(RunDir(run_folder).events))
    ws.runs.append(run)
    at.switch_page("pages/evaluate.py").run()
    seen["exceptions"] += exceptions(at)
    seen["verdict"] = [s.value for s in at.success] + [w.value for w in at.warning]
    at.button(key="series_forecast_latest").click().run()
    seen["exceptions"] += exceptions(at)
    seen["forecast_rows"] = len(at.dataframe[-1].value) if at.dataframe else 0
    seen["errors"] = [e.value for e in at.error]
    seen["heavy_modules"] = sorted(name for name in HEAVY if name in sys.modules)
    print(json.dumps(seen), flush=True)


def backbone_session() -> None:
    """The designer's pretrained backbone on the digits: a weights file uploaded and checked (a Keras 3
    .weights.h5, not the official file: kept for the session), the backbone put first, a .keras upload refused, and the Train
    page with a run's two phases: all in the server, so with h5py and JSON only (the caller sets KERAS_HOME)."""
    from components.state.runs import SessionRun
    from tests.app.apptest import workspace_with_sample
    from tests.backbone_files import weights_bytes

    seen: dict = {"exceptions": []}
    ws = workspace_with_sample("digits")
    at = new_app()
    at.session_state["workspace"] = ws
    at.run()
    at.switch_page("pages/design.py").run()
    at.radio(key="backbone_source").set_value("pretrained").run()
    at.file_uploader(key="backbone_weights_file").set_value(
        ("mine.weights.h5", weights_bytes("MobileNetV3Small", "keras3"), "")).run()
    seen["exceptions"] += exceptions(at)
    seen["weights"] = sorted(ws.backbones.weights)
    at.button(key="backbone_apply").click().run()
    seen["exceptions"] += exceptions(at)
    seen["first_layer"] = ws.spec.layers[0].get("type")
    at.radio(key="backbone_source").set_value("mine").run()
    at.file_uploader(key="backbone_model_file").set_value(("notes.keras", b"not a model", "")).run()
    seen["exceptions"] += exceptions(at)
    seen["errors"] = [e.value for e in at.error]
    run = SessionRun(id="run1-test", number=1, spec=ws.spec.to_dict(), status="queued", run_dir=ws.temp_dir,
                     project=ws.spec, dataset=ws.dataset)
    logs = {"loss": 1.0, "val_loss": 1.1}
    run.absorb([{"type": "epoch", "epoch": 1, "epochs": 2, "phase": "head", "logs": logs},
                {"type": "phase", "phase": "fine_tune", "epoch": 1},
                {"type": "epoch", "epoch": 2, "epochs": 2, "phase": "fine_tune", "logs": logs},
                {"type": "end", "status": "finished", "message": "Finished."}])
    ws.runs.append(run)
    at.switch_page("pages/train.py").run()
    seen["exceptions"] += exceptions(at)
    seen["heavy_modules"] = sorted(name for name in HEAVY if name in sys.modules)
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--backbone"]:
        backbone_session()
        sys.exit()
    if sys.argv[1:2] == ["--text"]:
        text_session(Path(sys.argv[2]))
        sys.exit()
    if sys.argv[1:2] == ["--series"]:
        series_session(Path(sys.argv[2]))
        sys.exit()
    try:
        main(Path(sys.argv[1]))
    finally:
        from components.state.training_service import get_training_service

        get_training_service().shutdown()
