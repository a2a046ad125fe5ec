"""The session's files for transfer learning (issue 22), drawing nothing: ImageNet weights files
the user uploaded (checked against their backbone, then installed into Keras' cache, where every
training worker looks: they are the public ImageNet files, not the user's data) and LayerLab .keras
files uploaded to start from ("Start from one of my models"), kept in the workspace's temp_dir and
gone with it (Workspace.cleanup).

The checks are core.backbones' pure-Python ones (h5py and zip/JSON reading): the server never
imports TensorFlow. A file that fails its check is deleted again and its UserError raised.
"""
from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.backbones import cached_weights_path
from core.errors import UserError
from core.sizes import human_size


@dataclass(frozen=True)
class KeptFile:
    """An uploaded file kept for this session: its name as uploaded, where it is, its size."""

    name: str
    path: Path
    size: int


@dataclass
class BackboneFiles:
    weights: dict[str, KeptFile] = field(default_factory=dict)  # backbone name -> the weights file the user gave
    models: list[KeptFile] = field(default_factory=list)  # uploaded LayerLab .keras files, oldest first


def _folder(temp_dir: Path, name: str) -> Path:
    folder = Path(temp_dir) / name / uuid.uuid4().hex[:8]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def weights_suffix(file_name: str) -> str:
    """Keep the layout the name says: Keras reads a ".weights.h5" file as Keras 3 weights and
    any other ".h5" as the legacy layout keras.applications downloads."""
    return ".weights.h5" if file_name.lower().endswith(".weights.h5") else ".h5"


def check_size(size: int, file_name: str) -> None:
    """Weights files and models are capped (core.data.limits: weights_bytes, 150 MB by default)."""
    from core.data.limits import current_limits

    limit = current_limits().weights_bytes
    if size > limit:
        raise UserError("backbone.upload_too_large",
                        "{file} is {size}, over the {limit} a weights file or a model may have here.",
                        file=file_name, size=human_size(size), limit=human_size(limit))


def keep_weights(files: BackboneFiles, temp_dir: Path, entry: dict, file_name: str, data: bytes) -> KeptFile:
    """Check an uploaded weights file against the named backbone of `entry` (layer names and
    shapes, h5py only) and install it into Keras' cache (core.backbones.install_weights), where
    every training worker finds it; the session remembers that the user gave it. Raises the
    check's UserError (and keeps nothing)."""
    from core.backbones import check_weights_file, install_weights

    check_size(len(data), file_name)
    folder = _folder(temp_dir, "weights")
    upload = folder / f"upload{weights_suffix(file_name)}"
    upload.write_bytes(data)
    try:
        check_weights_file(entry["name"], upload, shown_name=file_name)
        if keras3_layout(upload):  # Keras picks its loader by the file name: the cache's name is a legacy .h5
            upload = legacy_copy(upload, folder / "legacy.h5", entry["name"])
        installed = install_weights(entry, upload, shown_name=file_name)
    except OSError as err:
        raise UserError("backbone.cache_unwritable", "The weights file {file} fits, but it could not be put into "
                        "Keras' cache folder {folder} ({reason}). Ask whoever runs this server to make that folder "
                        "writable.", file=file_name, folder=str(cached_weights_path(entry).parent),
                        reason=err.strerror or type(err).__name__) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    kept = files.weights[entry["name"]] = KeptFile(file_name, installed, len(data))
    return kept


def keras3_layout(path: Path) -> bool:
    """A Keras 3 `.weights.h5` (`layers/<name>/vars/<i>`), not the legacy layout Keras downloads."""
    import h5py

    with h5py.File(path, "r") as h5:
        return "layer_names" not in h5.attrs and "model_weights" not in h5 and isinstance(h5.get("layers"), h5py.Group)


def keras3_keys(name: str) -> dict[str, str]:
    """Backbone layer name -> its group under "layers/" in a Keras 3 `.weights.h5`: `model.save_weights`
    names each layer of the model's list after its class in snake case, numbered from the second of a
    class (keras/src/saving/saving_lib.py `_save_container_state`), not by the layer's own name."""
    import re

    from core.backbones import manifest

    used: dict[str, int] = {}
    keys = {}
    for layer, class_name, _count in manifest(name)["all_layers"]:
        key = re.sub(r"\W+", "", class_name)
        key = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", key)
        key = re.sub("([a-z])([A-Z])", r"\1_\2", key).lower()
        used[key] = used.get(key, -1) + 1
        keys[layer] = f"{key}_{used[key]}" if used[key] else key
    return keys


def legacy_copy(source: Path, target: Path, name: str) -> Path:
    """The weights of a checked Keras 3 `.weights.h5` file rewritten in the legacy layout (layer names
    and each layer's weights in the backbone's loading order, trainable weights first, as both
    layouts keep them), which Keras reads from the cache's `.h5` name. h5py only."""
    import h5py

    from core.backbones import manifest

    keys = keras3_keys(name)
    with h5py.File(source, "r") as old, h5py.File(target, "w") as new:
        layers = [layer for layer, _ in manifest(name)["layers_with_weights"]]
        new.attrs["layer_names"] = [layer.encode("utf-8") for layer in layers]
        new.attrs["backend"] = b"tensorflow"
        new.attrs["keras_version"] = b"3"
        for layer in layers:
            variables = old["layers"][keys[layer]]["vars"]
            group = new.create_group(layer)
            names = [f"{layer}/weight_{i}" for i in range(len(variables))]
            group.attrs["weight_names"] = [n.encode("utf-8") for n in names]
            for i, weight in enumerate(names):
                group.create_dataset(weight, data=variables[str(i)][()])
    return target


def keep_model(files: BackboneFiles, temp_dir: Path, file_name: str, data: bytes) -> KeptFile:
    """Write an uploaded .keras file and check, without loading it, that it is a Keras model file
    holding no code and no custom objects (`check_model_file`); keep it for "Start from one of my
    models". What its network gives is then asked of a helper (`describe_model`). Raises a UserError."""
    check_size(len(data), file_name)
    path = _folder(temp_dir, "models") / "model.keras"
    path.write_bytes(data)
    try:
        check_model_file(path, file_name)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    kept = KeptFile(file_name, path, len(data))
    files.models.append(kept)
    return kept


def forget_model(files: BackboneFiles, file_name: str) -> None:
    """Drop the newest uploaded model of that name (it could not be read) and its folder."""
    for kept in reversed(files.models):
        if kept.name == file_name:
            files.models.remove(kept)
            shutil.rmtree(kept.path.parent, ignore_errors=True)
            return


# Keras classes a LayerLab model is made of come from these modules; anything else (a custom
# object, a registered class of someone's package) is refused before any Keras sees the file.
KERAS_MODULES = ("keras.", "keras")
CODE_CLASSES = {"Lambda", "TFOpLambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
PLAIN_VALUES = {"__keras_tensor__", "__tuple__", "__numpy__", "__tensor__", "__bytes__", "__typespec__", "__slice__",
                "__ellipsis__"}
MAX_CONFIG_BYTES = 20_000_000


def check_model_file(path: Path, file_name: str) -> None:
    """A .keras file is a zip holding config.json (the layers as JSON) and the weights: read the
    JSON and refuse what safe mode would have to trust (a Lambda's code, custom classes)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names or "model.weights.h5" not in names:
                raise ValueError("not a Keras 3 model file")
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise ValueError("its description is too large")
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError):
        raise UserError("backbone.model_not_keras", "{file} is not a Keras model file. Use a .keras file made by "
                        "LayerLab (the Export page, or the download under a finished run).", file=file_name) from None
    for item in _objects(config):
        module, class_name, registered = item.get("module"), item.get("class_name"), item.get("registered_name")
        if class_name in CODE_CLASSES or class_name == "__lambda__" or (
                isinstance(class_name, str) and class_name.startswith("__") and class_name not in PLAIN_VALUES):
            raise UserError("backbone.model_code", "{file} cannot be a starting model: it contains {what}, which runs "
                            "code. Use a .keras file made by LayerLab.", file=file_name, what=str(class_name))
        if isinstance(class_name, str) and class_name.startswith("__"):
            continue
        if not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))) or (
                registered is not None and registered != class_name):
            raise UserError("backbone.model_custom", "{file} cannot be a starting model: it uses {what}, which is not "
                            "part of Keras. Use a .keras file made by LayerLab.", file=file_name,
                            what=str(registered or class_name))


def _objects(config: Any, depth: int = 0):
    """Every serialized Keras object ({"module", "class_name", ...}) inside a config, at any depth."""
    if depth > 60:
        return
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from _objects(value, depth + 1)
    elif isinstance(config, list):
        for value in config:
            yield from _objects(value, depth + 1)
