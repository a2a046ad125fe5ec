"""Pretrained backbones (issue 22): the catalog, the spec entry's rules, the weights check, the Keras parts.

A design for images may start with one `Backbone` entry (always the first):
`{"type": "Backbone", "name": "MobileNetV3Small", "weights": "imagenet" | "none", "fine_tune_layers": 0, ...}`
(a keras.applications network without its classifier, its last feature map as output) or
`{"type": "Backbone", "model": "PATH/TO/model.keras", "fine_tune_layers": 0, ...}` (a LayerLab model's
network up to the user's last layer, its head removed).

Everything above "Keras" below is pure Python (no TensorFlow): the shape report and the designer use
the catalog numbers, and `check_weights_file` compares an uploaded weights file with the committed
manifest (core/backbone_weights/<name>.json, written by scripts/make_backbone_manifests.py) using h5py.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.catalog import Param
from core.errors import UserError

BACKBONE = "Backbone"
MANIFEST_DIR = Path(__file__).resolve().parent / "backbone_weights"
MIN_SIZE = 32
MAX_SIZE = 512
SIZE_STEP = 32  # every size a multiple of the downsampling factor: the feature map is size / 32 on each side
WEIGHTS_CHOICES = ("imagenet", "none")
MODEL_INFO_FORMAT = "layerlab-base-model/1"
MODEL_INFO_SUFFIX = ".backbone.json"  # next to a .keras file: what its network gives (core.backbones.model_info)
DEFAULT_FINE_TUNE_FACTOR = 0.1  # fine-tuning learning rate = the optimizer's × this, unless set


@dataclass(frozen=True)
class BackboneInfo:
    """One keras.applications network offered as a backbone (numbers for include_top=False)."""

    name: str  # the name in project files, e.g. "MobileNetV3Small"
    function: str  # keras.applications.<function>
    default_size: int  # the size its ImageNet weights were trained at
    channels: int  # channels of its last feature map
    params: int  # all weights without the classifier (any input size)
    trainable_params: int  # of which trainable (BatchNormalization statistics and input statistics are not)
    layers: int  # Keras layers in the network (fine_tune_layers counts from the end of these)
    preprocessing: str  # "included" (in the network), "tf" (-1..1), "caffe" (BGR, ImageNet means subtracted)
    weights_url: str  # where Keras downloads the no-top ImageNet weights from ({file} = weights_file)
    weights_file_pattern: str  # the file name Keras saves into $KERAS_HOME/models ({size} for MobileNetV2)
    note: str  # plain words on size and speed
    imagenet_sizes: tuple[int, ...] = ()  # sizes with ImageNet weights; () = any multiple of 32 from 32
    downsampling: int = 32
    activations_224: int = 0  # values every layer outputs for one 224×224 image (memory estimate when fine-tuning)
    # The checksum keras.applications passes to keras.utils.get_file for the no-top file (md5 for 32 hex digits,
    # sha256 for 64: get_file's hash_algorithm "auto"); None where Keras checks none (MobileNetV2).
    weights_hash: str | None = None

    def weights_file(self, size: int | None = None) -> str:
        return self.weights_file_pattern.format(size=size or self.default_size)

    def weights_file_url(self, size: int | None = None) -> str:
        return self.weights_url + self.weights_file(size)

    def feature_shape(self, size: int) -> tuple[int, int, int]:
        side = size // self.downsampling
        return (side, side, self.channels)


_GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"
BACKBONES: dict[str, BackboneInfo] = {
    b.name: b
    for b in (
        BackboneInfo(
            "MobileNetV3Small", "MobileNetV3Small", 224, 576, 939_120, 927_008, 157, "included",
            _GCS + "mobilenet_v3/", "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
            "Smallest and fastest (0.9 M weights, 4 MB): made for phones; a good first choice on a laptop.",
            activations_224=5_355_584, weights_hash="d3e8ec802a04aa4fc771ee12a9a9b836",
        ),
        BackboneInfo(
            "MobileNetV2", "MobileNetV2", 224, 1280, 2_257_984, 2_223_872, 154, "tf",
            _GCS + "mobilenet_v2/", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5",
            "Small and fast (2.3 M weights, 9 MB); ImageNet weights exist for 96, 128, 160, 192 and 224 pixels.",
            imagenet_sizes=(96, 128, 160, 192, 224), activations_224=21_813_680,
        ),
        BackboneInfo(
            "EfficientNetB0", "EfficientNetB0", 224, 1280, 4_049_571, 4_007_548, 237, "included",
            "https://storage.googleapis.com/keras-applications/", "efficientnetb0_notop.h5",
            "More accurate than the MobileNets for its size (4 M weights, 16 MB), about twice as slow.",
            activations_224=25_113_535, weights_hash="50bc09e76180e00e4465e1a485ddc09d",
        ),
        BackboneInfo(
            "ResNet50", "ResNet50", 224, 2048, 23_587_712, 23_534_592, 175, "caffe",
            _GCS + "resnet/", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "Large (23.6 M weights, 95 MB) and slow on a laptop: about 10× the work of MobileNetV2.",
            activations_224=37_117_164, weights_hash="4d473c1dd8becc155b73f8504c6f6626",
        ),
        BackboneInfo(
            "VGG16", "VGG16", 224, 512, 14_714_688, 14_714_688, 19, "caffe",
            _GCS + "vgg16/", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "The classic from the articles (14.7 M weights, 59 MB): simple but the slowest here, about 30× MobileNetV3Small.",
            activations_224=15_228_416, weights_hash="6d6bbae143d832006294945121d1f1fc",
        ),
    )
}

# ImageNet means (RGB order, 0-255) that "caffe" preprocessing subtracts after turning RGB into BGR.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# EfficientNet: keras.applications adds Rescaling(1/sqrt(stddev)) only for weights="imagenet" (not for a
# weights file); core.build puts the same step in front of the network (see efficientnet_correction).
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


# ---- the spec entry ---------------------------------------------------------------------------
def _fine_tune_params() -> tuple[Param, ...]:
    return (
        Param("fine_tune_layers", "int", 0,
              "After the new layers have learned with the backbone frozen, also train this many of the backbone's last "
              "layers (0 = keep the whole backbone frozen). BatchNormalization layers always stay frozen.",
              min=0, max=1000, label="Backbone layers to fine-tune"),
        Param("fine_tune_epochs", "int", 10, "Epochs of fine-tuning after the first training (only when layers are fine-tuned).",
              min=1, max=10000, label="Fine-tuning epochs"),
        Param("fine_tune_learning_rate", "float", None,
              "Learning rate while fine-tuning (empty = a tenth of the optimizer's learning rate).",
              min=1e-9, max=1.0, optional=True, label="Fine-tuning learning rate"),
        Param("cache_features", "bool", True,
              "While the backbone is frozen, compute its output once per image and train the new layers on it: 10-100× "
              "faster per epoch. Augmentation cannot run in front of a backbone either way.",
              label="Compute the backbone's features once"),
    )


NAMED_PARAMS: tuple[Param, ...] = (
    Param("name", "choice", "MobileNetV3Small", "Which pretrained network reads the images.", choices=tuple(BACKBONES),
          label="Pretrained network"),
    Param("weights", "choice", "imagenet",
          'The starting weights: "imagenet" (learned on 1.2 million photos) or "none" (random: the network must learn '
          "everything from your images).", choices=WEIGHTS_CHOICES, label="Starting weights"),
    Param("image_size", "int", None,
          "The size (pixels, square) the images are resized to for the backbone (empty = its usual 224). A multiple of 32; "
          "smaller is faster.", min=MIN_SIZE, max=MAX_SIZE, optional=True, label="Backbone image size"),
    *_fine_tune_params(),
)
MODEL_PARAMS: tuple[Param, ...] = _fine_tune_params()
MODEL_KEY = "model"
MAX_MODEL_PATH = 1000


def is_backbone(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("type") == BACKBONE


def has_backbone(spec: Any) -> bool:
    """The design starts with a backbone (the only place one may be)."""
    return bool(spec.layers) and is_backbone(spec.layers[0])


def is_model_backbone(entry: dict) -> bool:
    return MODEL_KEY in entry


def normalize_backbone(number: int | str, entry: dict, check_params: Any) -> dict[str, Any]:
    """A Backbone entry checked (core.spec calls this with its parameter checker); defaults filled in."""
    where = f"Layer {number} ({BACKBONE})"
    if MODEL_KEY in entry:
        path = entry[MODEL_KEY]
        if not isinstance(path, str) or not path.strip() or len(path) > MAX_MODEL_PATH or "\x00" in path:
            raise UserError("spec.backbone_model_path",
                            '{where}: "model" must be the path of a .keras file made by LayerLab, such as '
                            '"runs/digits/best.keras".', where=where, layer=number)
        if not path.lower().endswith(".keras"):
            raise UserError("spec.backbone_model_suffix",
                            '{where}: "model" must name a .keras file made by LayerLab, but "{path}" does not end in '
                            ".keras.", where=where, path=path[-80:], layer=number)
        if "name" in entry or "weights" in entry or "image_size" in entry:
            extra = next(k for k in ("name", "weights", "image_size") if k in entry)
            raise UserError("spec.backbone_both",
                            '{where}: a backbone is either a pretrained network ("name") or one of your models ("model"), '
                            'not both. Remove "{key}".', where=where, key=extra, layer=number)
        rest = {k: v for k, v in entry.items() if k != MODEL_KEY}
        values = check_params(rest, {p.name: p for p in MODEL_PARAMS}, where, BACKBONE, also=(MODEL_KEY,))
        return {"type": BACKBONE, MODEL_KEY: path, **values}
    values = check_params(entry, {p.name: p for p in NAMED_PARAMS}, where, BACKBONE, also=(MODEL_KEY,))
    return {"type": BACKBONE, **values}


def backbone_size(entry: dict) -> int:
    """The side the images are resized to for a named backbone."""
    return int(entry.get("image_size") or BACKBONES[entry["name"]].default_size)


def check_backbone_size(entry: dict) -> None:
    """LayerProblem when a named backbone's image size cannot work."""
    from core.catalog import LayerProblem

    info = BACKBONES[entry["name"]]
    size = backbone_size(entry)
    if size % SIZE_STEP:
        raise LayerProblem("build.backbone_size", "the backbone image size must be a multiple of {step} (such as 96, 128, "
                           "160 or 224), got {size}.", step=SIZE_STEP, size=size)
    if entry.get("weights") == "imagenet" and info.imagenet_sizes and size not in info.imagenet_sizes:
        raise LayerProblem("build.backbone_imagenet_size", "{name}'s ImageNet weights exist only for images of {sizes} "
                           "pixels, not {size}. Choose one of those sizes, or random starting weights.",
                           name=info.name, sizes=", ".join(map(str, info.imagenet_sizes)), size=size)


def describe_entry(entry: dict) -> str:
    """The designer's and the shape report's few words for a backbone entry (core.i18n.CORE_FRAGMENTS)."""
    layers = entry.get("fine_tune_layers") or 0
    if is_model_backbone(entry):
        if layers:
            return f"your model {Path(entry[MODEL_KEY]).name}, last {layers} layers fine-tuned"
        return f"your model {Path(entry[MODEL_KEY]).name}, frozen"
    weights = "ImageNet weights" if entry.get("weights") == "imagenet" else "random weights"
    if layers:
        return f"{entry['name']}, {weights}, {backbone_size(entry)} px, last {layers} layers fine-tuned"
    return f"{entry['name']}, {weights}, {backbone_size(entry)} px, frozen"


PREPROCESSING_WORDS = {
    "included": "the network scales the pixels itself",
    "tf": "pixels 0–255 → −1…1",
    "caffe": "RGB → BGR, ImageNet mean subtracted",
    "model": "your model scales the pixels itself",
}


def preprocessing_words(entry: dict, in_shape: tuple[int, ...], size: tuple[int, int], channels: int = 3) -> str:
    """The shape report's preprocessing row in front of a backbone (core.i18n.CORE_FRAGMENTS); `channels`: what
    the backbone reads (a named one 3; gray pictures are copied into 3 channels)."""
    steps = PREPROCESSING_WORDS["model" if is_model_backbone(entry) else BACKBONES[entry["name"]].preprocessing]
    resized = tuple(in_shape[:2]) != tuple(size)
    gray = in_shape[2] == 1 and channels == 3
    if gray and resized:
        return f"gray copied to 3 channels, resized to {size[0]}×{size[1]}; {steps}"
    if gray:
        return f"gray copied to 3 channels; {steps}"
    if resized:
        return f"resized to {size[0]}×{size[1]}; {steps}"
    return steps


@lru_cache(maxsize=None)
def manifest(name: str) -> dict:
    """The committed manifest of a backbone's weights (core/backbone_weights/<name>.json)."""
    return json.loads((MANIFEST_DIR / f"{name}.json").read_text(encoding="utf-8"))


def fine_tuned_params(name: str, layers: int) -> int:
    """Weights fine-tuning trains when the last `layers` layers of a named backbone are unfrozen
    (BatchNormalization layers stay frozen, as do input statistics)."""
    if layers <= 0:
        return 0
    rows = manifest(name)["all_layers"][-layers:]
    return sum(count for _, class_name, count in rows if class_name not in FROZEN_CLASSES)


FROZEN_CLASSES = frozenset({"BatchNormalization", "Normalization"})


# ---- where ImageNet weights come from ---------------------------------------------------------
def keras_home() -> Path:
    """Keras' cache folder ($KERAS_HOME, else ~/.keras; Keras falls back to /tmp/.keras when that cannot be written)."""
    home = os.environ.get("KERAS_HOME")
    return Path(home) if home else Path(os.path.expanduser("~")) / ".keras"


def cached_weights_path(entry: dict) -> Path:
    """Where Keras keeps (and looks for) the ImageNet weights file of a named backbone."""
    info = BACKBONES[entry["name"]]
    return keras_home() / "models" / info.weights_file(backbone_size(entry))


def missing_weights_error(entry: dict) -> UserError:
    info = BACKBONES[entry["name"]]
    size = backbone_size(entry)
    return UserError(
        "backbone.weights_missing",
        "{name} needs its ImageNet weights file {file}, and this computer cannot download it. Download it from {url} on "
        "a computer with internet, then put it in {folder} (or upload it next to the backbone, or pass it with "
        "--weights FILE). Or choose random starting weights.",
        name=info.name, file=info.weights_file(size), url=info.weights_file_url(size), folder=str(keras_home() / "models"),
    )


def downloads_allowed() -> bool:
    """LAYERLAB_DOWNLOAD_WEIGHTS=0 turns downloads off (the tests set it: no network here)."""
    return os.environ.get("LAYERLAB_DOWNLOAD_WEIGHTS", "1").strip() not in ("0", "false", "no", "")


def resolve_weights(entry: dict, weights_file: str | os.PathLike | None = None, *, download: bool | None = False,
                    timeout_s: float = 10.0, progress: Any = None) -> Path | None:
    """The weights file a named backbone loads: None for random weights; the given file (checked),
    else Keras' cached copy (checked), else (download=True, or None and `downloads_allowed()`) a download
    (`download_weights`: the official file into the cache), else `backbone.weights_missing` saying which file is needed and where it goes."""
    if download is None:
        download = downloads_allowed()
    if is_model_backbone(entry) or entry.get("weights") != "imagenet":
        return None
    if weights_file is not None:
        path = Path(weights_file)
        check_weights_file(entry["name"], path)
        return path
    cached = cached_weights_path(entry)
    if cached.is_file():
        check_weights_file(entry["name"], cached)
        return cached
    if download:  # into the cache when official; MobileNetV2's (no checksum in Keras) into this process's folder
        path = download_weights(entry, timeout_s=timeout_s, progress=progress)
        check_weights_file(entry["name"], path)
        return path
    raise missing_weights_error(entry)


def download_weights(entry: dict, *, url: str | None = None, timeout_s: float = 10.0, progress: Any = None,
                     folder: str | os.PathLike | None = None) -> Path:
    """Download a named backbone's ImageNet weights; `progress(done_bytes, total_bytes | None)` is called as it goes.
    Only the official file goes into Keras' shared cache: where Keras knows its checksum (`is_official_weights`), a
    download that matches is put there and its cached path returned, one that does not is deleted
    (`backbone.download_not_official`: damaged or changed on the way). Where Keras knows none (MobileNetV2), the
    file is kept in `folder` (a session's own; default a folder of this process, removed at exit), never shared.
    No network: `backbone.weights_missing`."""
    import tempfile
    import urllib.error
    import urllib.request

    target = cached_weights_path(entry)
    if official_hash(entry) is None:
        target = Path(folder or _process_folder()) / target.name
    url = url or BACKBONES[entry["name"]].weights_file_url(backbone_size(entry))
    limit = _weights_limit()
    part = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        part = Path(name)
        with urllib.request.urlopen(url, timeout=timeout_s) as answer, os.fdopen(handle, "wb") as out:  # noqa: S310 (https URL of the catalog)
            total = int(answer.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := answer.read(1 << 20):
                done += len(chunk)
                if done > limit:
                    raise UserError("backbone.weights_too_large", "The weights file {file} is over {limit} MB; that is not a "
                                    "backbone's weights file.", file=target.name, limit=limit // 1_000_000)
                out.write(chunk)
                if progress is not None:
                    progress(done, total)
        if official_hash(entry) is not None and not is_official_weights(entry, part):
            raise UserError("backbone.download_not_official", "The downloaded file {file} is not the official ImageNet "
                            "weights file of {name} (its checksum differs from the one Keras checks): it was damaged or "
                            "changed on the way, and was deleted. Try again later, or download it from {url} on another "
                            "computer and upload it here.", file=target.name, name=entry["name"], url=url)
        part.replace(target)
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        raise missing_weights_error(entry) from None
    finally:
        if part is not None:
            part.unlink(missing_ok=True)
    return target


def official_hash(entry: dict) -> str | None:
    """The checksum Keras checks for a named backbone's no-top ImageNet file; None where it checks none."""
    return BACKBONES[entry["name"]].weights_hash


def is_official_weights(entry: dict, path: str | os.PathLike) -> bool:
    """Whether `path` is byte for byte the official ImageNet weights file of the entry's backbone: its checksum is
    the one keras.applications passes to keras.utils.get_file (md5, or sha256 for 64 hex digits). False where
    Keras knows no checksum (nothing then proves a file official)."""
    expected = official_hash(entry)
    if not expected:
        return False
    stat = Path(path).stat()
    return _digest(str(path), stat.st_size, stat.st_mtime_ns, len(expected)) == expected.lower()


@lru_cache(maxsize=32)
def _digest(path: str, size: int, mtime_ns: int, hex_digits: int) -> str:
    """A file's sha256 (64 hex digits) or md5 digest, remembered while its size and time stay the same."""
    import hashlib

    digest = hashlib.sha256() if hex_digits == 64 else hashlib.md5()  # noqa: S324 (Keras' own checksums)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _process_folder() -> Path:
    """A folder of this process for weights files that must not go into the shared cache (removed at exit)."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="layerlab-weights-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _weights_limit() -> int:
    from core.data.limits import current_limits

    return current_limits().weights_bytes


# ---- checking a weights file (h5py only) ------------------------------------------------------
def check_weights_file(name: str, path: str | os.PathLike, *, shown_name: str | None = None) -> None:
    """Raise `backbone.weights_mismatch` (naming the backbone and the file) unless `path` holds every weight of
    backbone `name` with the right shapes: the legacy .h5 layout Keras downloads, or the Keras 3 `.weights.h5`
    layout `model.save_weights` writes. Uses h5py only (no TensorFlow)."""
    import h5py

    path = Path(path)
    shown = shown_name or path.name
    limit = _weights_limit()
    try:
        size = path.stat().st_size
    except OSError:
        raise UserError("backbone.weights_not_found", "The weights file {file} for {name} was not found.", file=str(path),
                        name=name) from None
    if size > limit:
        raise UserError("backbone.weights_too_large", "The weights file {file} is over {limit} MB; that is not a "
                        "backbone's weights file.", file=shown, limit=limit // 1_000_000)
    expected = [(layer, [tuple(s) for s in shapes]) for layer, shapes in manifest(name)["layers_with_weights"]]
    try:
        with h5py.File(path, "r") as h5:
            found = _weights_in_file(h5)
    except UserError:
        raise
    except Exception:  # not HDF5 at all, truncated, ...
        raise _mismatch(name, shown, "it is not a weights file (.h5)") from None
    if found is None:
        raise _mismatch(name, shown, "it holds no layer weights that LayerLab can read")
    layout, layers = found
    if layout == "legacy":  # loaded in order: the count and every shape must match
        if len(layers) != len(expected):
            raise _mismatch(name, shown, f"it has weights for {len(layers)} layers, {name} has {len(expected)}")
        for (have_name, have), (want_name, want) in zip(layers, expected):
            if have != want:
                raise _mismatch(name, shown, f"layer {have_name} has weights of shapes {_shapes(have)}, "
                                f"{name}'s layer {want_name} needs {_shapes(want)}")
        return
    by_key = dict(layers)  # Keras 3 files name each layer by its class, in the network's order (saving_lib)
    shapes_of = dict(expected)
    for key, layer_name in keras3_keys(name):
        want = shapes_of.get(layer_name)
        if want is None:
            continue
        have = by_key.get(key)
        if have is None:
            raise _mismatch(name, shown, f"it has no weights for layer {layer_name}")
        if have != want:
            raise _mismatch(name, shown, f"layer {layer_name} has weights of shapes {_shapes(have)} instead of {_shapes(want)}")
    if len(by_key) != len(expected):
        raise _mismatch(name, shown, f"it has weights for {len(by_key)} layers, {name} has {len(expected)}")


def _snake_case(name: str) -> str:
    """keras.src.utils.naming.to_snake_case."""
    import re

    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras3_keys(name: str) -> list[tuple[str, str]]:
    """(key in a Keras 3 .weights.h5, layer name) for every layer of a backbone: the class name in snake case,
    numbered from the second of a class on, as keras.saving writes them."""
    used: dict[str, int] = {}
    keys = []
    for layer_name, class_name, _ in manifest(name)["all_layers"]:
        key = _snake_case(class_name)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys.append((key, layer_name))
    return keys


def _shapes(shapes: list[tuple]) -> str:
    return ", ".join("×".join(map(str, s)) or "scalar" for s in shapes)


CHECK_MEMORY_BYTES = 2 * 1024**3  # the checking child's address space: HDF5 cannot take the server's memory
CHECK_TIMEOUT_S = 60.0


def check_weights_file_apart(name: str, path: str | os.PathLike, *, shown_name: str | None = None,
                             timeout_s: float = CHECK_TIMEOUT_S) -> None:
    """`check_weights_file` in a short-lived child process, for the web server: an uploaded or downloaded file
    reaches h5py's C library (HDF5) only there, so a file made to crash it or to eat memory ends that child,
    never the server every session shares. The same answers and messages; a child that dies or runs out of
    time is a file that does not fit."""
    import subprocess
    import sys

    shown = shown_name or Path(path).name
    command = [sys.executable, "-c", "from core.backbones import _check_in_child; _check_in_child()", name, str(path), shown]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, cwd=root, env=env)
    except subprocess.TimeoutExpired:
        raise _mismatch(name, shown, "it could not be read in time") from None
    lines = done.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if done.returncode == 0 and lines else {}
    if answer.get("error"):
        error = answer["error"]
        raise UserError(error["code"], error["template"], **error["params"])
    if not answer.get("ok"):
        raise _mismatch(name, shown, "it is not a weights file (.h5)")


def _check_in_child() -> None:
    """The child's side of check_weights_file_apart: memory capped, one JSON line out."""
    import resource
    import sys

    resource.setrlimit(resource.RLIMIT_AS, (CHECK_MEMORY_BYTES, CHECK_MEMORY_BYTES))
    name, path, shown = sys.argv[1:4]
    try:
        check_weights_file(name, path, shown_name=shown)
    except UserError as err:
        print(json.dumps({"error": {"code": err.code, "template": err.template, "params": err.params}}, default=str))
        return
    print(json.dumps({"ok": True}))


def _mismatch(name: str, file: str, reason: str) -> UserError:
    return UserError("backbone.weights_mismatch",
                     "The file {file} does not fit the {name} backbone: {reason}. Choose the no-top ImageNet weights file "
                     "of {name} ({expected}).", file=file, name=name, reason=reason,
                     expected=BACKBONES[name].weights_file() if name in BACKBONES else "")


def _weights_in_file(h5: Any) -> tuple[str, list[tuple[str, list[tuple]]]] | None:
    """("legacy" | "keras3", [(layer name, [weight shapes])]) for the layers that hold weights, or None."""
    import h5py

    group = h5["model_weights"] if "model_weights" in h5 else h5  # a whole-model .h5 keeps its weights there
    names = group.attrs.get("layer_names")
    if names is not None:
        layers = []
        for raw in names:
            layer = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            g = group.get(layer)
            weight_names = g.attrs.get("weight_names", []) if g is not None else []
            shapes = []
            for w in weight_names:
                key = w.decode("utf-8") if isinstance(w, bytes) else str(w)
                data = g.get(key)
                if not isinstance(data, h5py.Dataset):
                    raise _MalformedFile
                shapes.append(tuple(int(d) for d in data.shape))
            if shapes:
                layers.append((layer, shapes))
        return ("legacy", layers) if layers else None
    top = h5.get("layers")
    if isinstance(top, h5py.Group):
        layers = []
        for layer, g in top.items():
            vars_ = g.get("vars") if isinstance(g, h5py.Group) else None
            if isinstance(vars_, h5py.Group) and len(vars_):
                shapes = [tuple(int(d) for d in vars_[str(i)].shape) for i in range(len(vars_)) if str(i) in vars_]
                layers.append((layer, shapes))
        return ("keras3", layers) if layers else None
    return None


class _MalformedFile(Exception):
    pass


# ---- "one of my models" as the backbone -------------------------------------------------------
@dataclass(frozen=True)
class ModelBackboneInfo:
    """What a LayerLab model's network gives as a backbone, read without Keras from the JSON file
    written next to it (`model_info_path`) by `write_model_info` (at train time, or a helper task)."""

    input_shape: tuple[int, int, int]  # the raw pixels it takes (H, W, C)
    feature_shape: tuple[int, ...]  # the output of its last own layer (its head removed)
    params: int  # weights up to there
    trainable_params: int
    layers: int  # Keras layers up to there (fine_tune_layers counts from the end)
    fine_tunable: list[int]  # trainable weights of each of those layers, BatchNormalization as 0 (in order)
    feature_layer: str  # the Keras layer whose output is the features

    def to_json(self) -> dict:
        return {"format": MODEL_INFO_FORMAT, "input_shape": list(self.input_shape), "feature_shape": list(self.feature_shape),
                "params": self.params, "trainable_params": self.trainable_params, "layers": self.layers,
                "fine_tunable": list(self.fine_tunable), "feature_layer": self.feature_layer}

    @classmethod
    def from_json(cls, data: dict) -> "ModelBackboneInfo":
        if not isinstance(data, dict) or data.get("format") != MODEL_INFO_FORMAT:
            raise ValueError("not a LayerLab base-model description")
        shape = tuple(int(d) for d in data["input_shape"])
        if len(shape) != 3:
            raise ValueError("not an image model")
        return cls(shape, tuple(int(d) for d in data["feature_shape"]), int(data["params"]), int(data["trainable_params"]),
                   int(data["layers"]), [int(c) for c in data["fine_tunable"]], str(data["feature_layer"]))

    def fine_tuned_params(self, layers: int) -> int:
        return sum(self.fine_tunable[-layers:]) if layers > 0 else 0


def model_info_path(model_path: str | os.PathLike) -> Path:
    path = Path(model_path)
    return path.with_name(path.name + MODEL_INFO_SUFFIX)


def read_model_info(model_path: str | os.PathLike) -> ModelBackboneInfo | None:
    """The description written next to a .keras file (None when there is none or it is unreadable)."""
    try:
        return ModelBackboneInfo.from_json(json.loads(model_info_path(model_path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def model_problem(entry: dict) -> UserError | None:
    """Why a "model" backbone cannot be used as it stands (file missing, too large), else None."""
    path = Path(entry[MODEL_KEY])
    if not path.is_file():
        return UserError("backbone.model_not_found", "The model {file} to start from was not found. Choose a finished run "
                         "or upload a .keras file made by LayerLab.", file=str(path))
    if path.stat().st_size > _weights_limit():
        return UserError("backbone.model_too_large", "The model {file} is over {limit} MB; LayerLab reads models up to that "
                         "size.", file=path.name, limit=_weights_limit() // 1_000_000)
    return None


# ---- Keras (worker, helper and CLI processes only) ---------------------------------------------
def keras_backbone(name: str, size: int, weights: str | os.PathLike | None = None):
    """keras.applications.<name> without its classifier for size×size×3 inputs, weights from a file or random."""
    import keras

    info = BACKBONES[name]
    fn = getattr(keras.applications, info.function)
    kwargs: dict[str, Any] = {"include_top": False, "weights": None, "input_shape": (size, size, 3), "pooling": None}
    if info.function.startswith("MobileNetV3"):  # EfficientNet always includes its own
        kwargs["include_preprocessing"] = True
    model = fn(**kwargs)
    if weights is not None:
        model.load_weights(str(weights))
    model.name = "backbone"  # Keras 3: a model's name can be set
    return model


def load_base_model(path: str | os.PathLike):
    """A LayerLab .keras loaded safely (safe mode, no custom objects, not compiled)."""
    import keras

    problem = model_problem({MODEL_KEY: str(path)})
    if problem:
        raise problem
    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=True, custom_objects=None)
    except Exception as err:  # noqa: BLE001 - any failure is a file LayerLab cannot use
        raise UserError("backbone.model_unreadable", "The model {file} cannot be used: {reason}. Use a .keras file made by "
                        "LayerLab.", file=Path(path).name, reason=str(err).splitlines()[0][:160] if str(err) else
                        type(err).__name__) from None


def feature_layer_name(model: Any) -> str:
    """The layer whose output is a LayerLab model's features: its last own layer ("layer_N_..." or the backbone),
    i.e. everything from the input through the user's last layer, without the output head."""
    names = [layer.name for layer in model.layers if layer.name.startswith("layer_") or layer.name == "backbone"]
    if not names:
        raise UserError("backbone.model_no_layers", "This model has no layers of its own before its output, so there is "
                        "nothing to reuse. Choose a model whose design has layers.")
    return names[-1]


def base_network(model: Any):
    """The part of a LayerLab model from its raw-pixel input through its last own layer (a new Model sharing the layers)."""
    import keras

    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4:
        raise UserError("backbone.model_not_images", "Only a model trained on images can be the start of an image model; "
                        "this one takes {shape}.", shape=str(tuple(model.inputs[0].shape[1:])))
    feature = model.get_layer(feature_layer_name(model)).output
    return keras.Model(model.inputs[0], feature, name="backbone")


def describe_model(model: Any) -> ModelBackboneInfo:
    net = base_network(model)
    fine_tunable = []
    for layer in net.layers:
        frozen = type(layer).__name__ in FROZEN_CLASSES
        fine_tunable.append(0 if frozen else sum(int(_size(w)) for w in layer.trainable_weights))
    trainable = sum(int(_size(w)) for w in net.trainable_weights)
    return ModelBackboneInfo(
        tuple(int(d) for d in net.inputs[0].shape[1:]), tuple(int(d) for d in net.outputs[0].shape[1:]),
        int(net.count_params()), trainable, len(net.layers), fine_tunable, feature_layer_name(model),
    )


def _size(weight: Any) -> int:
    out = 1
    for d in weight.shape:
        out *= int(d)
    return out


def write_model_info(model_path: str | os.PathLike, model: Any | None = None) -> ModelBackboneInfo:
    """Describe a LayerLab .keras as a backbone and write that next to it (Keras; worker/helper/CLI)."""
    model = model if model is not None else load_base_model(model_path)
    info = describe_model(model)
    target = model_info_path(model_path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(info.to_json()), encoding="utf-8")
    tmp.replace(target)
    return info


def model_info(model_path: str | os.PathLike) -> ModelBackboneInfo:
    """The description next to the file, else made now (loads Keras: not in the Streamlit server)."""
    return read_model_info(model_path) or write_model_info(model_path)


def efficientnet_correction() -> tuple[list[float], list[float]]:
    """Rescaling(scale, offset) in front of EfficientNet loaded from a weights file, equal to the
    Rescaling(1/sqrt(stddev)) keras.applications adds after its Normalization only for weights="imagenet":
    x' = x / r + 255 · mean · (1 − 1/r), r = sqrt(stddev) per channel."""
    import math

    scale = [1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB]
    offset = [255.0 * m * (1.0 - k) for m, k in zip(IMAGENET_MEAN_RGB, scale)]
    return scale, offset


def install_weights(entry: dict, path: str | os.PathLike, *, shown_name: str | None = None) -> Path:
    """Copy the official ImageNet weights file of a named backbone into Keras' cache, where every worker of every
    session looks (`cached_weights_path`); the cached path. Checked first: a file that does not fit is
    `backbone.weights_mismatch`, one that fits but is not byte for byte the official file (`is_official_weights`)
    is `backbone.weights_not_official` and never reaches the cache (it could poison everyone's models)."""
    import shutil
    import tempfile

    check_weights_file(entry["name"], path, shown_name=shown_name)
    if not is_official_weights(entry, path):
        raise UserError("backbone.weights_not_official", "{file} fits {name}, but it is not the official ImageNet "
                        "weights file (its checksum differs from the one Keras checks), so it is not put into Keras' "
                        "shared cache.", file=shown_name or Path(path).name, name=entry["name"])
    target = cached_weights_path(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    part = Path(name)
    try:
        shutil.copyfile(path, part)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return target
