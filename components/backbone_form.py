"""The designer's "Pretrained backbone" panel (issue 22), for data a backbone can read (images):
start the network from a pretrained one (ImageNet or random weights, labelled as such) or from one
of the user's own models, and choose how many of its top layers to fine-tune.

The design's first entry is then `{"type": "Backbone", ...}` (core.backbones); the layers after
it are the user's and the head is added as for any design. Nothing here imports TensorFlow:
the weights check reads the uploaded .h5 with h5py against core.backbones' manifest, and an
uploaded .keras is checked as a zip of JSON (core.backbones.check_model_file), never loaded.

Widget keys: the expander `backbone_open`; `backbone_source` ("none" | "pretrained" | "mine"),
`backbone_name`, `backbone_weights` ("imagenet" | "none"), `backbone_weights_file` (uploader), `backbone_download`,
`backbone_forget_weights` (stop using the session's own weights file),
`backbone_model` (a run's best.keras or an uploaded .keras path), `backbone_model_file` (uploader),
`backbone.<signature>.<setting>` for core.backbones' other settings (fine_tune_layers,
fine_tune_epochs, fine_tune_learning_rate, image_size, cache_features; the signature changes with
the design's backbone, so they show its values), `backbone_new_head`, `backbone_apply`,
`backbone_remove`.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import streamlit as st

from components.i18n import error_text, option_labels, show_error, t
from components.layer_form import param_input
from components.state.backbones import (download_weights, forget_model, forget_weights, keep_model, keep_weights,
                                        session_weights, weights_key)
from components.state.runs import runs_with_model
from components.state.workspace import Workspace
from components.uploads import UploadOnce
from core.errors import UserError
from core.sizes import human_size

SOURCES = ("none", "pretrained", "mine")
SOURCE_LABELS_EN = {
    "none": "Nothing: train from scratch",
    "pretrained": "A pretrained network",
    "mine": "One of my models",
}
WEIGHTS_LABELS_EN = {
    "imagenet": "ImageNet weights (pretrained on 1.3 million photos)",
    "none": "Random weights (not pretrained: learns from your images only)",
}
MIRROR_KEY = "backbone_form.mirror"
MODEL_INFO_TASK = "backbone_info"  # core.training.tasks: describe a .keras as a backbone
AUGMENTATION = "Augmentation"  # core.catalog's category of the Random* layers
OWN_WIDGETS = {"name", "weights"}  # drawn with their own words; core's other settings come from its Params
WEIGHTS_UPLOAD = UploadOnce("backbone_form.weights_file")
MODEL_UPLOAD = UploadOnce("backbone_form.model_file")
# What "Use this backbone" puts after a new backbone (unless the user keeps their layers): the
# backbone gives its last feature map, so a pooling layer makes it one vector per image (new_head_for).
NEW_HEAD = ({"type": "GlobalAveragePooling2D"}, {"type": "Dropout", "rate": 0.2})


# ---- what the design holds -------------------------------------------------------------------
def offers_backbones(dataset: Any) -> bool:
    """Whether a pretrained backbone can read the data (its kind's `takes_backbone`: images)."""
    from core.data.kinds import kind_of

    return dataset is not None and bool(kind_of(dataset).takes_backbone)


def current_backbone(ws: Workspace) -> dict | None:
    """The design's backbone entry (always its first), or None."""
    from core.backbones import has_backbone

    return ws.spec.layers[0] if ws.spec is not None and has_backbone(ws.spec) else None


def backbone_title(entry: dict, ws: Workspace | None = None) -> str:
    """"MobileNetV3Small, ImageNet weights" / "MobileNetV2, random weights (not pretrained)" / "Run 2"."""
    if entry.get("model"):
        return model_label(ws, entry["model"]) if ws is not None else Path(str(entry["model"])).name
    from core.backbones import backbone_size

    weights = t("ImageNet weights") if entry.get("weights") == "imagenet" else t("random weights (not pretrained)")
    size = backbone_size(entry)
    return f"{entry.get('name')}, {weights}, {size}×{size}"


def fine_tune_text(entry: dict) -> str:
    layers = int(entry.get("fine_tune_layers") or 0)
    if layers <= 0:
        return t("frozen: only your layers learn")
    return t("frozen first, then its top {n} layers fine-tuned", n=layers)


# ---- the panel -------------------------------------------------------------------------------
def backbone_panel(ws: Workspace) -> None:
    """The panel, drawn above the layer list for data that offers backbones."""
    entry = current_backbone(ws)
    with st.expander(t("Pretrained backbone"), expanded=entry is not None, icon=":material/neurology:",
                     key="backbone_open"):
        st.caption(t("A network already trained on many photos has learnt to see edges, textures and shapes: "
                     "start from it and only a small new part has to learn your classes, so a few dozen pictures "
                     "per class can be enough."))
        _mirror(ws, entry)
        source = st.radio(t("Start from"), SOURCES, key="backbone_source", horizontal=True,
                          format_func=option_labels(SOURCES, lambda s: t(SOURCE_LABELS_EN[s])))
        chosen: dict | None = None
        if source == "pretrained":
            chosen = _pretrained_choice(ws)
        elif source == "mine":
            chosen = _model_choice(ws)
        if chosen is not None:
            _frozen_note(ws, chosen)
        _buttons(ws, entry, chosen, source)


def _mirror(ws: Workspace, entry: dict | None) -> None:
    """Show the design's backbone in the widgets whenever the design's backbone changed (applied,
    removed, a project file loaded) or Streamlit dropped the widgets' values (page switches)."""
    from core.backbones import is_model_backbone

    mirror = (ws.data_version, _signature(entry))
    if st.session_state.get(MIRROR_KEY) == mirror and "backbone_source" in st.session_state:
        return
    st.session_state[MIRROR_KEY] = mirror
    if entry is None:
        st.session_state["backbone_source"] = "none"
        return
    if is_model_backbone(entry):
        st.session_state["backbone_source"] = "mine"
        st.session_state["backbone_model"] = str(entry["model"])
    else:
        st.session_state["backbone_source"] = "pretrained"
        st.session_state["backbone_name"] = entry.get("name")
        st.session_state["backbone_weights"] = entry.get("weights", "imagenet")


def _signature(entry: dict | None) -> str:
    """Part of the settings' keys: they start from the design's backbone again whenever it changes."""
    return hashlib.sha1(repr(sorted((entry or {}).items())).encode()).hexdigest()[:8]


def _settings(ws: Workspace, params: tuple) -> dict[str, Any]:
    """core.backbones' other settings (image size, fine-tuning), drawn from their catalog Params,
    starting from the design's backbone (keys `backbone.<signature>.<setting>`)."""
    entry = current_backbone(ws) or {}
    sig = _signature(entry)
    values = {}
    shown = [param for param in params if param.name not in OWN_WIDGETS]
    cols = st.columns(2)
    for i, param in enumerate(shown):
        with cols[i % 2]:
            values[param.name] = param_input(param, entry.get(param.name, param.default), f"backbone.{sig}.{param.name}")
    return values


def _pretrained_choice(ws: Workspace) -> dict | None:
    from core.backbones import BACKBONES, NAMED_PARAMS

    names = list(BACKBONES)
    if st.session_state.get("backbone_name") not in names:
        st.session_state["backbone_name"] = names[0]
    name = st.selectbox(t("Network"), names, key="backbone_name",
                        format_func=option_labels(names, lambda n: f"{n} · {backbone_note(n)}"),
                        help=t("Smaller networks train and answer faster; larger ones are often a little more "
                               "accurate. All were trained on ImageNet's photos of 1,000 kinds of things."))
    weights = st.radio(t("Weights"), tuple(WEIGHTS_LABELS_EN), key="backbone_weights",
                       format_func=option_labels(WEIGHTS_LABELS_EN, lambda w: t(WEIGHTS_LABELS_EN[w])))
    entry = {"type": "Backbone", "name": name, "weights": weights, **_settings(ws, NAMED_PARAMS)}
    if weights == "imagenet":
        weights_status(ws, entry)
    else:
        st.caption(t("Random weights: the network's shape without what it learnt, so it learns from your images only. "
                     "Useful to see how much the pretraining helps."))
    return entry


def backbone_note(name: str) -> str:
    """The backbone's plain note on size and speed, in the session's language."""
    from core.backbones import BACKBONES

    return t(BACKBONES[name].note)


def weights_status(ws: Workspace, entry: dict) -> None:
    """Where the ImageNet weights will come from: the session's own file, Keras' shared cache, or a
    download when training starts; offline, which file is needed and where. And the upload. Keras'
    cache is shared by every session, so only the official file goes there (core.backbones.is_official_weights);
    any other file is said plainly to be the user's own, used only in this session."""
    from core import backbones

    name = entry["name"]
    kept = ws.backbones.weights.get(weights_key(entry))
    own = session_weights(ws.backbones, entry)
    cached = backbones.cached_weights_path(entry)
    if own is not None:
        if own.downloaded:
            st.success(t("Downloaded {file} ({size}). Keras publishes no checksum for this file, so it is used only in "
                         "your session and not shared with anyone else.", file=own.name, size=human_size(own.size)),
                       icon=":material/check_circle:")
        else:
            st.success(t("Using your own weights file {file} ({size}), used only in your session: it fits {name}, but it "
                         "is not the official ImageNet file, so it is not shared with anyone else.", file=own.name,
                         size=human_size(own.size), name=name), icon=":material/check_circle:")
        if st.button(t("Stop using this file"), icon=":material/delete:", key="backbone_forget_weights"):
            forget_weights(ws.backbones, entry)
            st.rerun()
    elif kept is not None and kept.shared and cached.is_file():
        st.success(t("Your file {file} ({size}) is the official ImageNet weights file of {name}: it is now in Keras' "
                     "cache, shared by everyone on this server.", file=kept.name, size=human_size(kept.size), name=name),
                   icon=":material/check_circle:")
    elif cached.is_file():
        st.success(t("Found the weights in Keras' cache: `{path}`", path=str(cached)), icon=":material/check_circle:")
    else:
        url = backbones.BACKBONES[name].weights_file_url(backbones.backbone_size(entry))
        st.info(t("{name} needs the file `{file}` in Keras' cache `{folder}`. With internet, download it here once; "
                  "offline, download it from {url} on another computer and put it in that folder, or upload it here.",
                  name=name, file=cached.name, folder=str(cached.parent), url=url), icon=":material/download:")
        if backbones.downloads_allowed() and st.button(t("Download the ImageNet weights"), icon=":material/download:",
                                                      key="backbone_download"):
            download_weights_now(ws, entry)
    uploaded = st.file_uploader(t("Upload the weights file (`.h5` or `.weights.h5`)"), type=["h5"],
                                key="backbone_weights_file",
                                help=t("Checked against {name} (every layer's name and shape) before it is used. Only "
                                       "the official ImageNet file is shared with other users; any other file is used "
                                       "only in your session.", name=name))
    if WEIGHTS_UPLOAD.is_new(uploaded):
        try:
            keep_weights(ws.backbones, ws.temp_dir, entry, uploaded.name, uploaded.getvalue())
        except UserError as err:
            WEIGHTS_UPLOAD.failed(uploaded, error_text(err))
        else:
            st.rerun()
    WEIGHTS_UPLOAD.show_error(uploaded)


def download_weights_now(ws: Workspace, entry: dict) -> None:
    """Keras' download, done by the server (urllib, no TensorFlow) with its progress shown; the file is
    checked before it is used: the official file (Keras' checksum) goes into the shared cache, one Keras
    knows no checksum for stays in this session. No network: the message says which file is needed and where."""
    from core import backbones

    bar = st.progress(0.0, text=t("Downloading {file}…", file=backbones.cached_weights_path(entry).name))

    def progress(done: int, total: int | None) -> None:
        if total:
            bar.progress(min(1.0, done / total), text=t("Downloading {file}: {done} of {total}",
                                                       file=backbones.cached_weights_path(entry).name,
                                                       done=human_size(done), total=human_size(total)))

    try:
        download_weights(ws.backbones, ws.temp_dir, entry, progress=progress)
    except UserError as err:
        bar.empty()
        show_error(err)
        return
    st.rerun()


def _model_choice(ws: Workspace) -> dict | None:
    options = my_model_options(ws)
    if st.session_state.get("backbone_model") not in options and options:
        st.session_state["backbone_model"] = next(iter(options))
    if options:
        path = st.selectbox(t("Model"), list(options), key="backbone_model",
                            format_func=option_labels(options, options.__getitem__),
                            help=t("Its output layer is removed and a new one made for these classes; the rest "
                                   "is reused."))
    else:
        path = None
        st.info(t("No model yet: train one in this session (on any image data), or upload a .keras file made by "
                  "LayerLab."), icon=":material/info:")
    uploaded = st.file_uploader(t("Upload a model made by LayerLab (`.keras`)"), type=["keras"], key="backbone_model_file",
                                help=t("Checked without running it: files with code or custom layers are refused."))
    if MODEL_UPLOAD.is_new(uploaded):
        try:
            kept = keep_model(ws.backbones, ws.temp_dir, uploaded.name, uploaded.getvalue())
            read_model(kept.path)
        except UserError as err:
            forget_model(ws.backbones, uploaded.name)
            MODEL_UPLOAD.failed(uploaded, error_text(err))
        else:
            st.session_state["backbone_model"] = str(kept.path)
            st.rerun()
    MODEL_UPLOAD.show_error(uploaded)
    if not path:
        return None
    from core.backbones import MODEL_PARAMS

    return {"type": "Backbone", "model": path, **_settings(ws, MODEL_PARAMS)}


def read_model(path: Path | str) -> None:
    """Make sure the shape report can describe a .keras as a backbone: its description
    (`<file>.backbone.json`, core.backbones.read_model_info) is written by the training worker for
    every run; an uploaded file (or an older run's) gets it from a helper process, which loads the
    model in safe mode (the server never imports Keras). Raises the helper's UserError."""
    from core.backbones import read_model_info

    if read_model_info(path) is not None:
        return
    from components.state.training_service import get_training_service

    with st.spinner(t("Reading the model in a helper process…")):
        get_training_service().tasks.run(MODEL_INFO_TASK, Path(path).parent, model=str(path))


def my_model_options(ws: Workspace) -> dict[str, str]:
    """path -> label: this session's image runs that kept a model (newest first), then the uploaded
    .keras files."""
    options: dict[str, str] = {}
    for run in reversed(runs_with_model(ws)):
        if offers_backbones(run.dataset):
            options[str(run.best_model_path)] = _run_label(run)
    for kept in ws.backbones.models:
        options[str(kept.path)] = t("{file} (uploaded, {size})", file=kept.name, size=human_size(kept.size))
    return options


def _run_label(run: Any) -> str:
    accuracy = (run.metrics or {}).get("accuracy")
    classes = len(run.dataset.classes) if run.dataset is not None and run.dataset.classes else 0
    text = t("{run}: {n} classes", run=run.label, n=classes)
    return text + (" · " + t("test accuracy {a}", a=f"{accuracy:.1%}") if isinstance(accuracy, float) else "")


def model_label(ws: Workspace, path: Any) -> str:
    """How the designer names a "my model" backbone: its run, or the uploaded file's name."""
    options = my_model_options(ws)
    return options.get(str(path), Path(str(path)).name)


def _frozen_note(ws: Workspace, chosen: dict) -> None:
    """Augmentation cannot come before a backbone (it is the first entry), and while the backbone is
    frozen its features are computed once per image: say so, louder when the design augments."""
    from core.blocks import walk
    from core.catalog import LAYERS

    augmenting = sorted({entry["type"] for _, entry in walk(ws.spec.layers)
                         if LAYERS.get(entry.get("type")) is not None
                         and LAYERS[entry["type"]].category == AUGMENTATION})
    if chosen.get("cache_features", True):
        text = t("Augmentation is off with a frozen backbone: its features are computed once per image and reused "
                 "every epoch, which makes training many times faster.")
    else:
        text = t("Augmentation is off with a backbone: the backbone reads the pictures first, so nothing can change "
                 "them before it.")
    if augmenting:
        st.warning(text + " " + t("Your {layers} comes after the backbone, so it changes the backbone's features, "
                                  "not the pictures.", layers=", ".join(augmenting)), icon=":material/warning:")
    else:
        st.caption(":material/ac_unit: " + text)


def _buttons(ws: Workspace, entry: dict | None, chosen: dict | None, source: str) -> None:
    new_head = True
    if source != "none" and entry is None and ws.spec.layers:
        new_head = st.checkbox(t("Replace my layers with pooling and dropout (recommended)"), value=True,
                               key="backbone_new_head",
                               help=t("The backbone gives a small grid of features per image; "
                                      "GlobalAveragePooling2D turns it into one vector, Dropout keeps the new "
                                      "part from memorising. Untick to keep your layers after the backbone."))
    cols = st.columns(2)
    if source != "none" and cols[0].button(t("Use this backbone"), type="primary", icon=":material/check:",
                                           key="backbone_apply", disabled=chosen is None):
        apply_backbone(ws, chosen, new_head)
    if entry is not None and cols[1].button(t("Remove the backbone"), icon=":material/delete:", key="backbone_remove"):
        remove_backbone(ws)


def apply_backbone(ws: Workspace, entry: dict, new_head: bool = True) -> None:
    """Make `entry` the design's backbone: it replaces the one there, or goes first (followed by
    pooling and dropout instead of the old layers when `new_head`)."""
    from core.backbones import has_backbone, is_model_backbone
    from core.spec import normalize_entries

    if is_model_backbone(entry):
        try:
            read_model(entry["model"])
        except UserError as err:
            show_error(err)
            return

    layers = [dict(layer) for layer in ws.spec.layers]
    if has_backbone(ws.spec):
        layers[0] = entry
    else:
        layers = [entry, *(dict(layer) for layer in new_head_for(entry))] if new_head else [entry, *layers]
    try:
        layers = normalize_entries(layers)
    except UserError as err:
        show_error(err)
        return
    ws.spec = dataclasses.replace(ws.spec, layers=layers)
    ws.template_id = None
    st.rerun()


def new_head_for(entry: dict) -> tuple[dict, ...]:
    """What follows a new backbone: pooling and dropout after a feature map; dropout alone after a
    model of mine whose last layer already gives one vector per image (a Dense layer's)."""
    from core.backbones import is_model_backbone, read_model_info

    if is_model_backbone(entry):
        info = read_model_info(entry["model"])
        if info is not None and len(info.feature_shape) == 1:
            return NEW_HEAD[1:]
    return NEW_HEAD


def remove_backbone(ws: Workspace) -> None:
    """Take the backbone out (the layers after it stay)."""
    ws.spec = dataclasses.replace(ws.spec, layers=[dict(layer) for layer in ws.spec.layers[1:]])
    st.rerun()
