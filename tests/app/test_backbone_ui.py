"""The designer's pretrained backbone (issue 22): choose a network and its weights, see where the
weights come from, upload a weights file (checked before use) or one of my models, and the two
phases on the Train page's curves. AppTest only: no TensorFlow, no network, no training."""
from __future__ import annotations

import json
import zipfile

import pytest

from tests.app.apptest import errors, exceptions, new_app, open_page, workspace_with_sample
from tests.backbone_files import weights_bytes

DESIGN = "pages/design.py"
TRAIN = "pages/train.py"
V3 = "MobileNetV3Small"


@pytest.fixture(autouse=True)
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache: nothing is found there unless a test puts it there (no downloads: conftest)."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


V3_FILE = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"


def make_official(monkeypatch, data: bytes, name: str = V3) -> None:
    """Make `data` the official ImageNet file of backbone `name` (its md5 in place of the one Keras checks)."""
    import dataclasses
    import hashlib

    from core.backbones import BACKBONES

    monkeypatch.setitem(BACKBONES, name, dataclasses.replace(BACKBONES[name], weights_hash=hashlib.md5(data).hexdigest()))


def page(ws, path: str = DESIGN):
    at = new_app()
    at.session_state["workspace"] = ws
    return open_page(at, path)


def choose_pretrained(at, name: str = V3, weights: str = "imagenet"):
    at.radio(key="backbone_source").set_value("pretrained").run()
    at.selectbox(key="backbone_name").set_value(name).run()
    return at.radio(key="backbone_weights").set_value(weights).run()


def setting(at, name: str):
    """The backbone panel's field for one of core.backbones' settings (its key carries a signature)."""
    return next(w for w in [*at.number_input, *at.checkbox]
                if w.key and w.key.startswith("backbone.") and w.key.endswith(f".{name}"))


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def test_only_images_are_offered_a_backbone():
    at = page(workspace_with_sample("iris"))
    assert not exceptions(at) and not [r for r in at.radio if r.key == "backbone_source"]
    at = page(workspace_with_sample("digits"))
    assert not exceptions(at)
    assert at.radio(key="backbone_source").value == "none"


def test_a_backbone_goes_first_says_which_weights_file_it_needs_and_can_be_changed_or_removed(keras_home):
    ws = workspace_with_sample("digits")
    at = choose_pretrained(page(ws))
    assert not exceptions(at)
    needed = texts(at.info)  # offline, nothing cached: which file, where it goes, that it can be uploaded
    assert "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5" in needed
    assert str(keras_home / "models") in needed and "upload it here" in needed
    assert [b for b in at.button if b.key == "backbone_download"] == []  # downloads are off here (conftest)
    assert "Augmentation is off with a frozen backbone" in texts(at.caption)

    at.button(key="backbone_apply").click().run()
    assert not exceptions(at) and not errors(at)
    assert [layer["type"] for layer in ws.spec.layers] == ["Backbone", "GlobalAveragePooling2D", "Dropout"]
    assert ws.spec.layers[0]["name"] == V3 and ws.spec.layers[0]["weights"] == "imagenet"
    markdown = texts(at.markdown)
    assert "MobileNetV3Small, ImageNet weights, 224×224 · frozen: only your layers learn" in markdown
    assert "`(7, 7, 576)` · 939,120 params · 939,120 frozen" in markdown
    assert "gray copied to 3 channels, resized to 224×224" in texts(at.caption)  # the locked preprocessing row

    setting(at, "fine_tune_layers").set_value(20).run()
    at.button(key="backbone_apply").click().run()
    assert ws.spec.layers[0]["fine_tune_layers"] == 20 and len(ws.spec.layers) == 3  # only the backbone changed
    assert "frozen first, then its top 20 layers fine-tuned" in texts(at.markdown)
    assert setting(at, "fine_tune_layers").value == 20  # the panel shows the design's backbone

    at.button(key="backbone_remove").click().run()
    assert [layer["type"] for layer in ws.spec.layers] == ["GlobalAveragePooling2D", "Dropout"]
    assert at.radio(key="backbone_source").value == "none"


def test_random_weights_are_labelled_and_augmentation_after_a_frozen_backbone_is_called_out():
    ws = workspace_with_sample("digits")
    at = choose_pretrained(page(ws), "MobileNetV2", "none")
    assert "Random weights" in texts(at.caption)
    at.button(key="backbone_apply").click().run()
    assert "MobileNetV2, random weights (not pretrained)" in texts(at.markdown)
    ws.spec.layers.insert(1, {"type": "RandomFlip", "mode": "horizontal"})
    at.run()
    assert not exceptions(at)
    warning = texts(at.warning)
    assert "Augmentation is off with a frozen backbone" in warning
    assert "Your RandomFlip comes after the backbone, so it changes the backbone's features, not the pictures." in warning


def test_training_waits_for_the_imagenet_weights(keras_home):
    ws = workspace_with_sample("digits")
    ws.spec.layers = [{"type": "Backbone", "name": V3, "weights": "imagenet"}, {"type": "GlobalAveragePooling2D"}]
    ws.spec = ws.spec.validated()
    at = page(ws, TRAIN)
    assert not exceptions(at) and at.button(key="start_training").disabled
    assert at.info[-1].value.startswith("MobileNetV3Small needs its ImageNet weights file "
                                        "`weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5` first")
    (keras_home / "models").mkdir(parents=True)
    (keras_home / "models" / "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5").write_bytes(weights_bytes(V3))
    assert not at.run().button(key="start_training").disabled


def test_weights_are_found_in_the_keras_cache_or_uploaded_and_checked_first(keras_home, monkeypatch):
    ws = workspace_with_sample("digits")
    (keras_home / "models").mkdir(parents=True)
    cached = keras_home / "models" / V3_FILE
    cached.write_bytes(weights_bytes(V3))
    at = choose_pretrained(page(ws))
    assert f"Found the weights in Keras' cache: `{cached}`" in texts(at.success)

    cached.unlink()
    at.run()
    at.file_uploader(key="backbone_weights_file").set_value(("mobilenet_v2.h5", weights_bytes("MobileNetV2"), "")).run()
    assert not exceptions(at)
    assert errors(at)[0].startswith("The file mobilenet_v2.h5 does not fit the MobileNetV3Small backbone")
    assert ws.backbones.weights == {}  # refused: not kept

    official = weights_bytes(V3)
    make_official(monkeypatch, official)
    at.file_uploader(key="backbone_weights_file").set_value(("official.h5", official, "")).run()
    assert not exceptions(at) and not errors(at)
    assert texts(at.success).startswith("Your file official.h5 (")
    assert "is the official ImageNet weights file of MobileNetV3Small" in texts(at.success)
    # the official file is installed where every worker of every session looks, under Keras' name
    assert ws.backbones.weights[V3_FILE].shared and cached.read_bytes() == official


def test_a_weights_file_that_is_not_the_official_one_stays_in_its_session(keras_home, monkeypatch):
    """Keras' cache is shared by every session: a file with the right layers but other values must never reach it.
    It is the user's own, said so, used by that session's runs (the job carries it) and by no other session."""
    from components.state import runs
    from components.state.backbones import session_weights_file

    ws, other = workspace_with_sample("digits"), workspace_with_sample("digits")
    at = choose_pretrained(page(ws))
    at.file_uploader(key="backbone_weights_file").set_value(("mine.weights.h5", weights_bytes(V3, "keras3"), "")).run()
    assert not exceptions(at) and not errors(at)
    assert texts(at.success).startswith("Using your own weights file mine.weights.h5 (")
    assert "used only in your session" in texts(at.success)
    assert not (keras_home / "models" / V3_FILE).exists()  # the shared cache is untouched
    own = ws.backbones.weights[V3_FILE]
    assert not own.shared and own.path.is_relative_to(ws.temp_dir) and own.path.is_file()

    at.button(key="backbone_apply").click().run()
    train = page(ws, TRAIN)  # this session's weights are found, and its run's job carries them
    assert not exceptions(train) and not train.button(key="start_training").disabled
    started = {}

    class Service:
        def start(self, spec, dataset, run_dir, *, weights_file=None):
            started["weights_file"] = weights_file

    monkeypatch.setattr(runs, "get_training_service", Service)
    runs.start_run(ws)
    assert started["weights_file"] == own.path

    other.spec = ws.spec  # the same design in another session: its weights are not found there
    assert session_weights_file(other.backbones, other.spec) is None
    assert page(other, TRAIN).button(key="start_training").disabled
    at.button(key="backbone_forget_weights").click().run()  # and the user can stop using it
    assert ws.backbones.weights == {} and not own.path.exists()


def test_with_internet_the_page_downloads_the_weights_and_shows_its_progress(keras_home, tmp_path, monkeypatch):
    from core import backbones

    served = tmp_path / "served.h5"  # "the internet": a file:// URL in place of Keras' storage
    served.write_bytes(weights_bytes(V3))
    make_official(monkeypatch, served.read_bytes())
    real = backbones.download_weights
    monkeypatch.setattr(backbones, "download_weights", lambda entry, **kw: real(entry, url=served.as_uri(), **kw))
    monkeypatch.setenv("LAYERLAB_DOWNLOAD_WEIGHTS", "1")
    ws = workspace_with_sample("digits")
    at = choose_pretrained(page(ws))
    at.button(key="backbone_download").click().run()
    assert not exceptions(at) and not errors(at)
    assert (keras_home / "models" / V3_FILE).is_file()
    assert "Found the weights in Keras' cache" in texts(at.success)

    served.write_bytes(weights_bytes(V3, "keras3"))  # a download changed on the way: refused, never cached
    choose_pretrained(at, "EfficientNetB0").button(key="backbone_download").click().run()
    assert errors(at)[0].startswith("The downloaded file efficientnetb0_notop.h5 is not the official ImageNet weights "
                                    "file of EfficientNetB0")
    assert sorted(p.name for p in (keras_home / "models").iterdir()) == [V3_FILE]


def _finished_image_run(ws, tmp_path):
    """A finished run of this session with a model and its description (as if trained here)."""
    from components.state.runs import SessionRun
    from core.backbones import ModelBackboneInfo, model_info_path

    run_dir = tmp_path / "run1"
    run_dir.mkdir()
    model = run_dir / "best.keras"
    model.write_bytes(b"not read by the server")
    info = ModelBackboneInfo((8, 8, 1), (8, 8, 16), 1234, 1234, 5, [0, 160, 0, 1074, 0], "layer_3_conv2d")
    model_info_path(model).write_text(json.dumps(info.to_json()))
    run = SessionRun(id="run1-test", number=1, spec=ws.spec.to_dict(), status="finished", run_dir=run_dir,
                     project=ws.spec, dataset=ws.dataset, metrics={"accuracy": 0.95})
    ws.runs.append(run)
    return run


def test_a_finished_run_of_this_session_can_be_the_backbone(tmp_path):
    ws = workspace_with_sample("digits")
    run = _finished_image_run(ws, tmp_path)
    at = page(ws)
    at.radio(key="backbone_source").set_value("mine").run()
    assert not exceptions(at)
    assert at.selectbox(key="backbone_model").value == str(run.best_model_path)
    assert "Run 1: 10 classes · test accuracy 95.0%" in at.selectbox(key="backbone_model").options
    at.checkbox(key="backbone_new_head").uncheck().run()  # keep my layers after it
    layers_before = [layer["type"] for layer in ws.spec.layers]
    at.button(key="backbone_apply").click().run()
    assert not exceptions(at) and not errors(at)
    assert ws.spec.layers[0] == {"type": "Backbone", "model": str(run.best_model_path), "fine_tune_layers": 0,
                                 "fine_tune_epochs": 10, "fine_tune_learning_rate": None, "cache_features": True}
    assert [layer["type"] for layer in ws.spec.layers[1:]] == layers_before
    assert "`(8, 8, 16)` · 1,234 params" in texts(at.markdown)


class FakeHelpers:
    """The training service's helper tasks, answering `backbone_info` as a helper would (it loads the model
    in safe mode and writes its description next to it): here without Keras."""

    def __init__(self):
        self.tasks, self.asked = self, []

    def run(self, op, run_dir, **args):
        from core.backbones import ModelBackboneInfo, model_info_path

        self.asked.append((op, args))
        info = ModelBackboneInfo((8, 8, 1), (32,), 5000, 5000, 6, [0, 320, 0, 4680, 0, 0], "layer_5_dense")
        model_info_path(args["model"]).write_text(json.dumps(info.to_json()))


def keras_zip(path, layers):
    config = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
              "config": {"layers": [{"module": "keras.layers", "class_name": name, "registered_name": None,
                                     "config": {}} for name in layers]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")
    return path.read_bytes()


def test_an_uploaded_model_is_checked_without_loading_it_then_described_by_a_helper(tmp_path, monkeypatch):
    helpers = FakeHelpers()
    monkeypatch.setattr("components.state.training_service.get_training_service", lambda: helpers)
    ws = workspace_with_sample("digits")
    at = page(ws)
    at.radio(key="backbone_source").set_value("mine").run()
    assert "No model yet" in texts(at.info)
    bad = keras_zip(tmp_path / "lambda.keras", ["InputLayer", "Lambda", "Dense"])
    at.file_uploader(key="backbone_model_file").set_value(("lambda.keras", bad, "")).run()
    assert not exceptions(at)
    assert errors(at) == ["lambda.keras cannot be a starting model: it contains Lambda, which runs code. "
                          "Use a .keras file made by LayerLab."]
    assert ws.backbones.models == []
    at.file_uploader(key="backbone_model_file").set_value(("notes.keras", b"hello", "")).run()
    assert errors(at)[0].startswith("notes.keras is not a Keras model file.")
    assert helpers.asked == []  # nothing unsafe reached a helper

    good = keras_zip(tmp_path / "good.keras", ["InputLayer", "Rescaling", "Conv2D", "MaxPooling2D", "Dense"])
    at.file_uploader(key="backbone_model_file").set_value(("digits.keras", good, "")).run()
    assert not exceptions(at) and not errors(at)
    [kept] = ws.backbones.models
    assert helpers.asked == [("backbone_info", {"model": str(kept.path)})]
    assert at.selectbox(key="backbone_model").value == str(kept.path)
    assert at.selectbox(key="backbone_model").options == [f"digits.keras (uploaded, {len(good)} bytes)"]
    at.button(key="backbone_apply").click().run()
    assert ws.spec.layers[0]["model"] == str(kept.path)
    assert [layer["type"] for layer in ws.spec.layers[1:]] == ["Dropout"]  # its features are one vector already
    assert "`(32,)` · 5,000 params" in texts(at.markdown) and not errors(at)


def _phased_run(ws, tmp_path):
    """A run of a design with a backbone, as its events tell it: 3 epochs of the head, then 2 of fine-tuning."""
    from components.state.runs import SessionRun

    ws.spec.layers = [{"type": "Backbone", "name": V3, "weights": "none", "fine_tune_layers": 12,
                       "fine_tune_epochs": 2, "fine_tune_learning_rate": None, "cache_features": True, "image_size": 32},
                      {"type": "GlobalAveragePooling2D"}]
    ws.spec.training["epochs"] = 3
    run = SessionRun(id="run1-test", number=1, spec=ws.spec.to_dict(), status="queued", run_dir=tmp_path,
                     project=ws.spec, dataset=ws.dataset)
    logs = {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}
    run.absorb([{"type": "start", "epochs": 5}, {"type": "phase", "phase": "head", "epoch": 0},
                *({"type": "epoch", "epoch": n, "epochs": 5, "phase": "head", "logs": logs} for n in (1, 2, 3)),
                {"type": "phase", "phase": "fine_tune", "epoch": 3},
                *({"type": "epoch", "epoch": n, "epochs": 5, "phase": "fine_tune", "logs": logs} for n in (4, 5)),
                {"type": "end", "status": "finished", "message": "Training finished after 5 epochs.",
                 "template": "Training finished after {epochs} epochs.", "params": {"epochs": 5}, "best_epoch": 5}])
    ws.runs.append(run)
    return run


def test_the_train_page_shows_both_phases_and_where_fine_tuning_starts(tmp_path):
    ws = workspace_with_sample("digits")
    run = _phased_run(ws, tmp_path)
    assert run.fine_tune_from == 4 and run.phase == "fine_tune" and run.epochs_planned == 5
    at = page(ws, TRAIN)
    assert not exceptions(at)
    note = texts(at.info)
    assert "Phase 1" in note and "Phase 2: 2 more epochs also train the backbone's top 12 layers" in note
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    shaded = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert shaded and shaded[0]["x0"] == 3.5 and shaded[0]["x1"] == 5.5  # epochs 4 and 5, in every panel
    assert [a["text"] for a in figure["layout"]["annotations"] if a["text"] == "fine-tuning"]
    assert at.dataframe[0].value["Epochs"][0] == "5/5"  # both phases' epochs

    run.status = "running"  # while it runs, the progress says which phase is going
    at.run()
    assert "Phase 2: fine-tuning: the backbone's top layers learn too, at a lower learning rate (from epoch 4)." in \
        texts(at.caption)
    assert at.get("progress")[0].proto.text.startswith("5 of 5 epochs done")


def test_the_backbone_panel_and_both_phases_are_all_chinese(tmp_path):
    from tests.app.i18n_texts import assert_all_chinese, chinese_page

    ws = workspace_with_sample("digits")
    ws.spec.layers = [{"type": "Backbone", "name": V3, "weights": "imagenet", "fine_tune_layers": 12,
                       "fine_tune_epochs": 2, "fine_tune_learning_rate": None, "cache_features": True, "image_size": None},
                      {"type": "GlobalAveragePooling2D"}, {"type": "RandomFlip", "mode": "horizontal"}]
    assert_all_chinese(chinese_page(ws, DESIGN), ws)
    _phased_run(ws, tmp_path)
    assert_all_chinese(chinese_page(ws, TRAIN), ws)


def test_the_backbone_panel_never_imports_tensorflow_in_the_server_process(keras_home):
    """Weights checks are h5py, model checks JSON, the rest a helper's: measured in a fresh interpreter."""
    import subprocess
    import sys

    from tests.app.apptest import ROOT

    done = subprocess.run([sys.executable, "-m", "tests.app.light_server_flow", "--backbone"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy_modules"] == [] and seen["exceptions"] == [], seen
    assert seen["weights"] == [V3_FILE] and seen["first_layer"] == "Backbone"
    assert seen["errors"] == ["notes.keras is not a Keras model file. Use a .keras file made by LayerLab (the Export "
                              "page, or the download under a finished run)."]
    assert not (keras_home / "models" / V3_FILE).exists()  # not the official file: the session's own
