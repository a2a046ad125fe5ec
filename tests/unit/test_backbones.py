"""Pretrained backbones (issue 22): catalog and manifests, the spec entry, the shape report, the weights
check (h5py), and, with Keras, loading, the feature cache, fine-tuning, reusing a model, the CLI and codegen.

Everything that trains uses MobileNetV3Small at 32 px (its smallest size) on a few dozen 8×8 digits with
random weights saved to files: no network (LAYERLAB_DOWNLOAD_WEIGHTS=0, see conftest)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from core import backbones
from core.backbones import BACKBONES, check_weights_file, manifest
from core.errors import UserError
from core.shapes import shape_report
from core.spec import ProjectSpec
from tests.backbone_files import legacy_weights

SMALL = {"type": "Backbone", "name": "MobileNetV3Small", "weights": "none", "image_size": 32}


def _spec(*layers: dict, epochs: int = 2, **training) -> ProjectSpec:
    return ProjectSpec.from_dict({"layers": list(layers), "training": {"epochs": epochs, "seed": 3, "batch_size": 16,
                                                                       "early_stopping_patience": 0, **training}})


@pytest.fixture(scope="module")
def digits():
    """60 training, 20 validation and 20 test digits (8×8 gray)."""
    from core.data import load_sample

    ds = load_sample("digits")
    return dataclasses.replace(ds, x_train=ds.x_train[:60], y_train=ds.y_train[:60], x_val=ds.x_val[:20],
                               y_val=ds.y_val[:20], x_test=ds.x_test[:20], y_test=ds.y_test[:20],
                               files_test=list(ds.files_test[:20]))


# ---- pure Python -------------------------------------------------------------------------------
def test_catalog_numbers_agree_with_the_committed_manifests():
    for name, info in BACKBONES.items():
        m = manifest(name)
        assert (m["params"], m["trainable_params"], m["layers"]) == (info.params, info.trainable_params, info.layers)
        assert tuple(m["output_shape"]) == info.feature_shape(224)
        assert m["weights_file"] == info.weights_file() and info.weights_file_url().endswith(info.weights_file())
        assert m["activations_224"] == info.activations_224 and info.note
    assert BACKBONES["MobileNetV2"].weights_file(128).endswith("_1.0_128_no_top.h5")


def test_the_spec_entry_is_checked_and_filled_in():
    spec = ProjectSpec.from_dict({"layers": [{"type": "Backbone", "name": "VGG16"}, {"type": "Flatten"}]})
    assert spec.layers[0] == {"type": "Backbone", "name": "VGG16", "weights": "imagenet", "image_size": None,
                              "fine_tune_layers": 0, "fine_tune_epochs": 10, "fine_tune_learning_rate": None,
                              "cache_features": True}
    mine = ProjectSpec.from_dict({"layers": [{"type": "Backbone", "model": "runs/a/best.keras", "fine_tune_layers": 2}]})
    assert mine.layers[0]["model"] == "runs/a/best.keras" and "name" not in mine.layers[0]
    for bad, code in [({"name": "AlexNet"}, "spec.bad_choice"), ({"model": "a.h5"}, "spec.backbone_model_suffix"),
                      ({"model": "a.keras", "name": "VGG16"}, "spec.backbone_both"), ({"model": 3}, "spec.backbone_model_path"),
                      ({"name": "VGG16", "config": {}}, "spec.code_refused"), ({"name": "VGG16", "pooling": "avg"}, "spec.unknown_key")]:
        with pytest.raises(UserError) as err:
            ProjectSpec.from_dict({"layers": [{"type": "Backbone", **bad}]})
        assert err.value.code == code, bad


def test_shape_report_rows_for_a_backbone(digits):
    report = shape_report(_spec({**SMALL, "image_size": None, "fine_tune_layers": 10}, {"type": "GlobalAveragePooling2D"}), digits)
    assert report.ok, report.errors
    pre, row = report.rows[1], report.rows[2]
    assert (pre.role, pre.output_shape) == ("preprocessing", (224, 224, 3))
    assert pre.settings == "gray copied to 3 channels, resized to 224×224; the network scales the pixels itself"
    assert (row.type, row.number, row.label, row.output_shape, row.params) == ("Backbone", 1, "1", (7, 7, 576), 939_120)
    assert 0 < row.trainable_params == backbones.fine_tuned_params("MobileNetV3Small", 10) < 939_120
    assert report.rows[3].label == "2" and report.rows[-1].output_shape == (10,)
    assert report.total_params == 939_120 + 576 * 10 + 10
    # a frozen ResNet50 is within the parameter budget: only trained weights count
    assert shape_report(_spec({"type": "Backbone", "name": "ResNet50"}, {"type": "GlobalAveragePooling2D"}), digits).ok


def test_shape_report_refusals(digits):
    from core.data import load_sample

    cases = [
        (_spec({"type": "Flatten"}, SMALL), digits, "build.backbone_not_first"),
        (_spec({"type": "Residual", "layers": [SMALL]}), digits, "build.backbone_not_first"),
        (_spec(SMALL, {"type": "Flatten"}), load_sample("iris"), "build.backbone_on_non_images"),
        (_spec({**SMALL, "image_size": 100}), digits, "build.backbone_size"),
        (_spec({"type": "Backbone", "name": "MobileNetV2", "image_size": 64}), digits, "build.backbone_imagenet_size"),
        (_spec({"type": "Backbone", "model": "/nowhere/best.keras"}), digits, "build.backbone_model_missing"),
    ]
    for spec, data, code in cases:
        report = shape_report(spec, data)
        assert report.errors and report.errors[0].code == code, (code, report.errors)


def _legacy_h5(path: Path, layers: list) -> Path:
    """A weights file in the legacy layout Keras downloads (layer_names, weight_names), zeros of these shapes."""
    path.write_bytes(legacy_weights(layers))
    return path


def test_weights_files_are_checked_with_h5py(tmp_path):
    good = _legacy_h5(tmp_path / "small.h5", manifest("MobileNetV3Small")["layers_with_weights"])
    check_weights_file("MobileNetV3Small", good)
    vgg = _legacy_h5(tmp_path / "vgg.h5", manifest("VGG16")["layers_with_weights"])
    with pytest.raises(UserError) as err:
        check_weights_file("MobileNetV3Small", vgg)
    assert err.value.code == "backbone.weights_mismatch"
    text = err.value.render()
    assert "vgg.h5" in text and "MobileNetV3Small" in text and "weights for 13 layers" in text
    layers = [list(x) for x in manifest("VGG16")["layers_with_weights"]]
    layers[3] = [layers[3][0], [[3, 3, 64, 99], [99]]]
    with pytest.raises(UserError, match="block2_conv2 has weights of shapes 3×3×64×99, 99"):
        check_weights_file("VGG16", _legacy_h5(tmp_path / "bent.h5", layers))
    (tmp_path / "notes.h5").write_text("not hdf5")
    with pytest.raises(UserError, match="it is not a weights file"):
        check_weights_file("VGG16", tmp_path / "notes.h5")


def test_the_server_checks_weights_files_in_a_child_process(tmp_path):
    """The web server's check (an upload, a download) runs HDF5 in a short-lived child: the same answers, and a
    file that hangs or kills the reader is a plain "does not fit", never the server's end."""
    good = _legacy_h5(tmp_path / "small.h5", manifest("MobileNetV3Small")["layers_with_weights"])
    backbones.check_weights_file_apart("MobileNetV3Small", good, shown_name="mine.h5")
    vgg = _legacy_h5(tmp_path / "vgg.h5", manifest("VGG16")["layers_with_weights"])
    with pytest.raises(UserError) as err:
        backbones.check_weights_file_apart("MobileNetV3Small", vgg, shown_name="their.h5")
    assert err.value.code == "backbone.weights_mismatch" and "their.h5" in err.value.render()
    assert "weights for 13 layers" in err.value.render()
    with pytest.raises(UserError, match="could not be read in time"):
        backbones.check_weights_file_apart("MobileNetV3Small", good, timeout_s=0.001)


def _md5(path: Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes()).hexdigest()


def _official(monkeypatch, name: str, path: Path) -> None:
    """Make `path` the official file of backbone `name` (its checksum in place of Keras')."""
    monkeypatch.setitem(BACKBONES, name, dataclasses.replace(BACKBONES[name], weights_hash=_md5(path)))


def test_imagenet_weights_come_from_the_cache_or_a_download_else_a_plain_message(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    entry = {"name": "VGG16", "weights": "imagenet", "image_size": None}
    with pytest.raises(UserError) as err:
        backbones.resolve_weights(entry, download=None)  # downloads are off in the tests
    assert err.value.code == "backbone.weights_missing"
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in err.value.render()
    assert str(tmp_path / "keras" / "models") in err.value.render()
    source = _legacy_h5(tmp_path / "vgg.h5", manifest("VGG16")["layers_with_weights"])
    _official(monkeypatch, "VGG16", source)
    seen = []
    path = backbones.download_weights(entry, url=source.as_uri(), progress=lambda done, total: seen.append(done))
    assert path == backbones.cached_weights_path(entry) and seen[-1] == source.stat().st_size
    assert backbones.resolve_weights(entry) == path
    path.unlink()
    with pytest.raises(UserError, match="cannot download"):
        backbones.download_weights(entry, url=(tmp_path / "absent.h5").as_uri())
    assert backbones.install_weights(entry, source) == path and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no .part left behind


def test_only_the_official_weights_file_reaches_the_shared_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    entry = {"name": "VGG16", "weights": "imagenet", "image_size": None}
    layers = manifest("VGG16")["layers_with_weights"]
    official = _legacy_h5(tmp_path / "official.h5", layers)
    _official(monkeypatch, "VGG16", official)
    tampered = _legacy_h5(tmp_path / "tampered.h5", layers)  # the same names and shapes, other values
    with h5py_open(tampered) as h5:
        h5["block1_conv1"]["block1_conv1/w0:0"][0, 0, 0, 0] = 1.0
    check_weights_file("VGG16", tampered)  # it fits the backbone...
    assert backbones.is_official_weights(entry, official) and not backbones.is_official_weights(entry, tampered)
    with pytest.raises(UserError) as err:  # ...but never goes where every session loads from
        backbones.install_weights(entry, tampered)
    assert err.value.code == "backbone.weights_not_official"
    with pytest.raises(UserError) as err:  # nor does a download changed on the way
        backbones.download_weights(entry, url=tampered.as_uri())
    assert err.value.code == "backbone.download_not_official"
    cache = backbones.cached_weights_path(entry).parent
    assert not cache.exists() or list(cache.iterdir()) == []
    # Keras checks no checksum for MobileNetV2: its download stays in the caller's folder, never in the cache
    v2 = {"name": "MobileNetV2", "weights": "imagenet", "image_size": None}
    assert BACKBONES["MobileNetV2"].weights_hash is None and not backbones.is_official_weights(v2, official)
    served = _legacy_h5(tmp_path / "v2.h5", manifest("MobileNetV2")["layers_with_weights"])
    kept = backbones.download_weights(v2, url=served.as_uri(), folder=tmp_path / "mine")
    assert kept == tmp_path / "mine" / backbones.cached_weights_path(v2).name and list(cache.iterdir()) == []


def h5py_open(path: Path):
    import h5py

    return h5py.File(path, "r+")


def test_official_checksums_are_the_ones_keras_checks():
    """The checksums keras.applications passes to keras.utils.get_file for each no-top file (read from its source,
    without importing Keras)."""
    import ast
    import importlib.util

    folder = Path(importlib.util.find_spec("keras").submodule_search_locations[0]) / "src" / "applications"

    def hashes(module: str) -> dict:
        tree = ast.parse((folder / f"{module}.py").read_text(encoding="utf-8"))
        node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "WEIGHTS_HASHES")
        return ast.literal_eval(node.value)

    vgg16 = (folder / "vgg16.py").read_text(encoding="utf-8")
    no_top = vgg16[vgg16.rindex('"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"'):]  # its get_file call
    assert BACKBONES["VGG16"].weights_hash in no_top.split("file_hash=")[1][:40]
    assert BACKBONES["MobileNetV3Small"].weights_hash == hashes("mobilenet_v3")["small_224_1.0_float"][1]
    assert BACKBONES["EfficientNetB0"].weights_hash == hashes("efficientnet")["b0"][1]
    assert BACKBONES["ResNet50"].weights_hash == hashes("resnet")["resnet50"][1]
    assert "file_hash" not in (folder / "mobilenet_v2.py").read_text(encoding="utf-8")
    assert BACKBONES["MobileNetV2"].weights_hash is None


def test_a_run_job_carries_its_weights_file(digits, tmp_path, monkeypatch):
    from core.training import trainer
    from core.training.rundir import RunDir, read_weights_file, write_job

    run, own = RunDir(tmp_path / "run"), tmp_path / "own.h5"
    write_job(run, _spec(SMALL), digits, weights_file=own)
    assert read_weights_file(run) == own
    seen = {}
    monkeypatch.setattr(trainer, "train_in_process", lambda *args, **kw: seen.update(kw))
    trainer.train_job(run.path)  # what the worker does with the job
    assert seen["weights_file"] == own
    write_job(run, _spec(SMALL), digits)  # the next job of that folder without one: Keras' cache
    assert read_weights_file(run) is None


# ---- Keras ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    from core.quiet import import_keras

    return import_keras()


@pytest.mark.parametrize("name", ["MobileNetV3Small", "VGG16"])
def test_manifest_still_matches_keras(keras, name):
    built = backbones.keras_backbone(name, 32)
    rows = [[layer.name, [list(w.shape) for w in [*layer.trainable_weights, *layer.non_trainable_weights]]]
            for layer in built.layers]
    assert [r for r in rows if r[1]] == manifest(name)["layers_with_weights"]
    assert built.count_params() == BACKBONES[name].params and len(built.layers) == BACKBONES[name].layers


@pytest.fixture(scope="module")
def weight_files(keras, tmp_path_factory):
    """MobileNetV3Small's random weights saved in both layouts, and the weights themselves."""
    from keras.src.legacy.saving import legacy_h5_format
    import h5py

    folder = tmp_path_factory.mktemp("weights")
    model = backbones.keras_backbone("MobileNetV3Small", 32)
    model.save_weights(folder / "small.weights.h5")
    with h5py.File(folder / "small_legacy.h5", "w") as h5:
        legacy_h5_format.save_weights_to_hdf5_group(h5, model)
    return folder / "small.weights.h5", folder / "small_legacy.h5", model.get_weights()


def test_both_weights_layouts_are_accepted_and_loaded(weight_files, digits):
    from core.build import build_model

    new, legacy, weights = weight_files
    check_weights_file("MobileNetV3Small", legacy)
    model = build_model(_spec({**SMALL, "weights": "imagenet"}, {"type": "GlobalAveragePooling2D"}), digits, weights_file=new)
    backbone = model.get_layer("backbone")
    assert all(np.array_equal(a, b) for a, b in zip(backbone.get_weights(), weights))
    assert not backbone.trainable
    backbone.set_weights([np.zeros_like(w) for w in weights])
    backbone.load_weights(legacy)  # what keras_backbone does with a downloaded file
    assert all(np.array_equal(a, b) for a, b in zip(backbone.get_weights(), weights))
    with pytest.raises(UserError, match="does not fit the VGG16 backbone"):
        check_weights_file("VGG16", new)


# A small LayerLab network stands in for a pretrained one below: the phases, the feature cache and reusing a
# model run the same code for every backbone (bench/transfer.py times MobileNetV3Small at 224 px).
BASE_DESIGN = [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same"},
               {"type": "BatchNormalization"}, {"type": "Conv2D", "filters": 8, "kernel_size": 3},
               {"type": "GlobalAveragePooling2D"}]


@pytest.fixture(scope="module")
def runs(keras, digits, tmp_path_factory):
    """A small network trained on the digits; then a new head on it trained on cached features, the same
    through the frozen network, and a run that fine-tunes its last 3 layers."""
    from core.training.trainer import train_in_process

    base = tmp_path_factory.mktemp("base")
    out = {"base": (train_in_process(_spec(*BASE_DESIGN, epochs=1), digits, base), [], base)}
    reuse = {"type": "Backbone", "model": str(base / "best.keras")}
    for name, extra in (("cached", {}), ("through", {"cache_features": False}),
                        ("tuned", {"fine_tune_layers": 3, "fine_tune_epochs": 1})):
        folder = tmp_path_factory.mktemp(name)
        events: list[dict] = []
        result = train_in_process(_spec({**reuse, **extra}, {"type": "Dense", "units": 16}, {"type": "Dropout", "rate": 0.3},
                                        epochs=1), digits, folder, on_event=events.append)
        out[name] = (result, events, folder)
    return out


def test_cached_features_train_the_same_head_as_the_frozen_backbone(runs, digits):
    cached, through = runs["cached"][0], runs["through"][0]
    assert cached.status == through.status == "finished" and cached.epochs_run == 1
    a = cached.model.predict(digits.x_test, verbose=0)
    b = through.model.predict(digits.x_test, verbose=0)
    assert np.allclose(a, b, atol=1e-4), np.abs(a - b).max()
    assert [h["loss"] for h in cached.history] == pytest.approx([h["loss"] for h in through.history], rel=1e-3)
    start = next(e for e in runs["cached"][1] if e["type"] == "start")
    assert start["phases"] == [{"phase": "head", "epochs": 1, "cached_features": True}] and start["epochs"] == 1


def test_fine_tuning_is_a_second_phase_with_batchnorm_frozen(runs, keras):
    from core.training.phases import backbone_of

    result, events, folder = runs["tuned"]
    kinds = [(e["type"], e.get("phase"), e.get("epoch")) for e in events if e["type"] in ("phase", "epoch")]
    assert kinds == [("phase", "head", 0), ("epoch", "head", 1), ("phase", "fine_tune", 1), ("epoch", "fine_tune", 2)]
    phase = next(e for e in events if e.get("phase") == "fine_tune" and e["type"] == "phase")
    assert phase["learning_rate"] == pytest.approx(0.0001) and phase["backbone_trainable_params"] == 8 * 9 * 8 + 8
    assert result.epochs_run == 2 and events[-1]["type"] == "end"
    backbone = backbone_of(result.model)
    trainable = [layer.name for layer in backbone.layers if layer.trainable and layer.weights]
    assert trainable == ["layer_3_conv2d"]  # the last 3: the second Conv2D, pooling (no weights), ...
    assert not backbone.get_layer("layer_2_batchnormalization").trainable
    saved = keras.saving.load_model(folder / "best.keras", safe_mode=True, compile=False)  # the whole network
    assert saved.get_layer("backbone") is not None and saved.count_params() == result.model.count_params()
    info = backbones.read_model_info(folder / "best.keras")
    assert info.feature_layer == "layer_3_dropout" and info.feature_shape == (16,)


def test_a_finished_run_is_the_backbone_of_a_new_design(runs, digits):
    from core.build import build_model
    from core.training.phases import head_model

    best = runs["base"][2] / "best.keras"
    info = backbones.read_model_info(best)
    assert (info.input_shape, info.feature_shape, info.feature_layer) == ((8, 8, 1), (8,), "layer_4_globalaveragepooling2d")
    spec = _spec({"type": "Backbone", "model": str(best)}, {"type": "Dense", "units": 4})
    report = shape_report(spec, digits)
    assert report.ok, report.errors
    assert report.rows[1].settings == "your model scales the pixels itself"
    assert report.rows[2].output_shape == (8,) and report.rows[2].params == info.params
    model = build_model(spec, digits)
    assert model.count_params() == report.total_params
    assert head_model(model).count_params() == 8 * 4 + 4 + 4 * 10 + 10
    same = runs["base"][0].model.get_weights()[:len(model.get_layer("backbone").get_weights())]
    assert all(np.array_equal(a, b) for a, b in zip(same, model.get_layer("backbone").get_weights()))


def test_an_uploaded_model_is_described_by_a_helper_task(runs, digits, tmp_path):
    import shutil

    from core.training.tasks import run_task

    upload = tmp_path / "upload.keras"
    shutil.copyfile(runs["base"][2] / "best.keras", upload)
    spec = _spec({"type": "Backbone", "model": str(upload)}, {"type": "Dense", "units": 4})
    assert shape_report(spec, digits).errors[0].code == "build.backbone_model_unknown"
    answer = run_task("backbone_info", str(tmp_path), {"model": str(upload)})
    assert answer["feature_layer"] == "layer_4_globalaveragepooling2d" and backbones.read_model_info(upload) is not None
    assert shape_report(spec, digits).ok


def test_cli_refuses_a_weights_file_that_does_not_fit(weight_files, tmp_path, capsys):
    from core.cli import main

    project = tmp_path / "project.json"
    project.write_text(json.dumps({"layers": [{"type": "Backbone", "name": "VGG16", "image_size": 32},
                                              {"type": "GlobalAveragePooling2D"}]}))
    assert main(["summary", "sample:digits", "--spec", str(project), "--weights", str(weight_files[0])]) == 2
    err = capsys.readouterr().err
    assert "small.weights.h5" in err and "VGG16" in err
    assert main(["train", "sample:digits", "--spec", str(project), "--weights", str(weight_files[0]),
                 "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_cli_base_model_and_training_script(runs, digits, tmp_path, capsys):
    from core.cli import main
    from core.codegen import training_script

    assert main(["summary", "sample:digits", "--base-model", str(runs["base"][2])]) == 0
    out = capsys.readouterr().out
    assert "Backbone" in out and "your model best.keras, frozen" in out and "GlobalAveragePooling2D" not in out
    script = training_script(_spec({**SMALL, "weights": "imagenet", "fine_tune_layers": 4}, {"type": "GlobalAveragePooling2D"}), digits)
    compile(script, "train_model.py", "exec")
    assert "keras.applications.MobileNetV3Small(" in script and "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5" in script
    assert 'BACKBONE_WEIGHTS = "imagenet"' in script and "FINE_TUNE_LAYERS = 4" in script and "fine_tune(model" in script
    mine = training_script(_spec({"type": "Backbone", "model": str(runs["tuned"][2] / "best.keras")}, {"type": "Dense", "units": 4}), digits)
    assert 'base_network(BASE_MODEL, "layer_3_dropout")' in mine
