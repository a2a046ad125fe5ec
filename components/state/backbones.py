"""The session's files for transfer learning (issue 22), drawing nothing: weights files the user
uploaded (checked against their backbone) and LayerLab .keras files uploaded to start from ("Start
from one of my models"), kept in the workspace's temp_dir and gone with it (Workspace.cleanup).

Keras' cache ($KERAS_HOME/models) is shared by every session of the server: an uploaded or downloaded
weights file goes there only when it is byte for byte the official ImageNet file (the checksum Keras
checks, core.backbones.is_official_weights). Any other file that fits the backbone is the user's own:
it stays in this session's folder and only this session's runs use it (`session_weights_file`, which
the run's job carries to the training worker).

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

from core.backbones import cached_weights_path, has_backbone, is_model_backbone
from core.errors import UserError
from core.sizes import human_size


@dataclass(frozen=True)
class KeptFile:
    """An uploaded file kept for this session: its name as uploaded, where it is, its size. `shared`: a weights
    file that is the official ImageNet file, now in Keras' shared cache (`path`); else the session's own.
    `downloaded`: the app downloaded it (a file Keras knows no checksum for), the user did not upload it."""

    name: str
    path: Path
    size: int
    shared: bool = False
    downloaded: bool = False


@dataclass
class BackboneFiles:
    weights: dict[str, KeptFile] = field(default_factory=dict)  # weights_key(entry) -> the weights file the user gave
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


def weights_key(entry: dict) -> str:
    """What a weights file is kept under: the file name Keras gives it (it names the backbone and, for
    MobileNetV2, the size the ImageNet weights were trained at)."""
    return cached_weights_path(entry).name


def keep_weights(files: BackboneFiles, temp_dir: Path, entry: dict, file_name: str, data: bytes) -> KeptFile:
    """Check an uploaded weights file against the named backbone of `entry` (layer names and shapes,
    h5py only). The official ImageNet file (same checksum as Keras checks) is installed into Keras'
    shared cache (core.backbones.install_weights); any other file is the user's own and stays in
    this session's folder, for this session's runs only. Raises the check's UserError (and keeps
    nothing)."""
    from core.backbones import check_weights_file_apart, install_weights, is_official_weights

    check_size(len(data), file_name)
    folder = _folder(temp_dir, "weights")
    upload = folder / f"upload{weights_suffix(file_name)}"
    try:
        upload.write_bytes(data)
        check_weights_file_apart(entry["name"], upload, shown_name=file_name)  # HDF5 never in the server
        if not is_official_weights(entry, upload):
            return _keep(files, entry, KeptFile(file_name, upload, len(data)))
        try:
            installed = install_weights(entry, upload, shown_name=file_name)
        except OSError as err:
            raise UserError("backbone.cache_unwritable", "The weights file {file} fits, but it could not be put into "
                            "Keras' cache folder {folder} ({reason}). Ask whoever runs this server to make that folder "
                            "writable.", file=file_name, folder=str(cached_weights_path(entry).parent),
                            reason=err.strerror or type(err).__name__) from None
        shutil.rmtree(folder, ignore_errors=True)
        return _keep(files, entry, KeptFile(file_name, installed, len(data), shared=True))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _keep(files: BackboneFiles, entry: dict, kept: KeptFile) -> KeptFile:
    """Remember `kept` for the entry's weights, deleting the session's own file it replaces."""
    forget_weights(files, entry)
    files.weights[weights_key(entry)] = kept
    return kept


def forget_weights(files: BackboneFiles, entry: dict) -> None:
    """Stop using the session's weights file for the entry (its own file is deleted; the shared cache stays)."""
    old = files.weights.pop(weights_key(entry), None)
    if old is not None and not old.shared:
        shutil.rmtree(old.path.parent, ignore_errors=True)


def download_weights(files: BackboneFiles, temp_dir: Path, entry: dict, progress: Any = None) -> KeptFile | None:
    """Download the entry's ImageNet weights (core.backbones.download_weights, checked): the official
    file goes into Keras' shared cache (None: nothing the session keeps); a file Keras knows no
    checksum for (MobileNetV2) is kept in this session's folder, for this session only."""
    from core.backbones import check_weights_file_apart, download_weights as download

    folder = _folder(temp_dir, "weights")
    try:
        path = download(entry, progress=progress, folder=folder)
        check_weights_file_apart(entry["name"], path)  # HDF5 never in the server
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if path == cached_weights_path(entry):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return _keep(files, entry, KeptFile(path.name, path, path.stat().st_size, downloaded=True))


def session_weights(files: BackboneFiles, entry: dict) -> KeptFile | None:
    """The session's own weights file for a named ImageNet backbone (not the shared cache's), if it has one."""
    kept = files.weights.get(weights_key(entry))
    return kept if kept is not None and not kept.shared and kept.path.is_file() else None


def session_weights_file(files: BackboneFiles, spec: Any) -> Path | None:
    """The weights file a run of `spec` in this session must build its backbone with (the job carries it to the
    training worker): the session's own file for the design's ImageNet backbone; None for Keras' cache."""
    if spec is None or not has_backbone(spec):
        return None
    entry = spec.layers[0]
    if is_model_backbone(entry) or entry.get("weights") != "imagenet":
        return None
    kept = session_weights(files, entry)
    return kept.path if kept is not None else None


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
