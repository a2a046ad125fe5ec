"""What only image data shows: its summary line, worst mistakes as pictures, try-it with image files or the camera."""
from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from components.evaluation_views import ASKING_THE_MODEL, predict, predictions_download, show_prediction
from components.i18n import t
from components.state.derived import computed_once
from components.state.runs import SessionRun
from components.state.workspace import Workspace
from core.errors import UserError

IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]
MISTAKES_PER_ROW = 5


def summary(dataset: Any) -> str:
    h, w = dataset.input_shape[:2]
    return t("{n} images of {h}×{w} pixels, {k} classes", n=f"{dataset.n_rows:,}", h=h, w=w, k=len(dataset.classes))


def worst_mistakes(evaluation: Any, dataset: Any) -> None:
    st.caption(t("The test images the model got most confidently wrong."))
    for start in range(0, len(evaluation.worst), MISTAKES_PER_ROW):
        cols = st.columns(MISTAKES_PER_ROW)
        for col, mistake in zip(cols, evaluation.worst[start : start + MISTAKES_PER_ROW]):
            pixels = np.asarray(dataset.x_test[mistake.index])
            if pixels.ndim == 3 and pixels.shape[-1] == 1:
                pixels = pixels[..., 0]
            caption = t("true: {true} · predicted: {predicted} ({confidence})", true=mistake.true, predicted=mistake.predicted, confidence=f"{mistake.confidence:.0%}")
            col.image(pixels, caption=f"{caption}\n{mistake.source}", width="stretch")


def try_it(ws: Workspace, run: SessionRun) -> None:
    _try_images(ws, run)


def _try_images(ws: Workspace, run: SessionRun) -> None:
    left, right = st.columns([3, 2])
    files = left.file_uploader(
        t("Upload one or more images (any size; they are resized like the training images)"),
        type=IMAGE_TYPES,
        accept_multiple_files=True,
        key=f"try_images_{run.id}",
    )
    pictures = [(f.file_id, f.name, f.getvalue()) for f in files or []]
    with right:
        if st.toggle(t("Use the camera"), key=f"try_camera_on_{run.id}"):
            photo = st.camera_input(t("Take a picture to classify"), key=f"try_camera_{run.id}")
            if photo is not None:
                pictures.insert(0, (photo.file_id, t("camera picture"), photo.getvalue()))
    if not pictures:
        return
    from core.data.kinds import contract_for

    def predict_files() -> Any:
        inputs = contract_for(run.dataset).inputs_from_images([p[2] for p in pictures], [p[1] for p in pictures])
        return predict(run, inputs)

    key = ("try_images", run.id, tuple(p[0] for p in pictures))
    predictions = computed_once(ws, key, predict_files, spinner=t(ASKING_THE_MODEL))
    if predictions is None:
        return
    for (file_id, name, data), item in zip(pictures, predictions.items):
        left, right = st.columns([1, 3])
        left.image(_upright_preview(data), caption=name, width="stretch")
        with right:
            show_prediction(predictions, item, key=f"try_image_{file_id}")
    predictions_download(predictions, key=f"download_image_predictions_{run.id}")


def _upright_preview(data: bytes) -> Any:
    """The image as the model sees it (a phone photo's EXIF rotation applied); the raw bytes
    if it cannot be decoded (its prediction then says why)."""
    from core.data.images import preview_image

    try:
        return preview_image(data)
    except UserError:
        return data
