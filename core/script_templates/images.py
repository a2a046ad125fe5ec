"""train_model.py's pieces for images: reading class folders (or a .zip of them) the way LayerLab
does, and the start of build_model() that rescales raw pixels.

Real Python, so it can be read, linted and compiled; core.codegen copies the statements it
needs (see core/script_templates/__init__.py) and puts the dataset's values in place of the
example IMAGE_SIZE and CHANNELS.
"""
from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np

from core.script_templates.common import CLASSES  # the shared settings; not copied

IMAGE_SIZE = (8, 8)  # (height, width): every image is resized to this
CHANNELS = 1  # 1 = grayscale, 3 = RGB


# ---- Data ------------------------------------------------------------------------------
IMAGE_FORMATS = {"PNG", "JPEG", "BMP", "GIF", "WEBP"}  # the formats LayerLab reads, judged by content
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic"}


def read_image(path: Path) -> np.ndarray:
    """One image of any size and mode -> uint8 pixels (height, width, channels), as LayerLab does."""
    from PIL import Image

    with Image.open(path) as image:
        if image.format not in IMAGE_FORMATS:
            raise ValueError(f"a {image.format} image; LayerLab reads PNG, JPEG, BMP, GIF and WebP")
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")  # transparent areas become white
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("L" if CHANNELS == 1 else "RGB")
        height, width = IMAGE_SIZE
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return np.asarray(image, dtype=np.uint8).reshape(height, width, CHANNELS)


def is_junk(path: Path) -> bool:
    """macOS and Windows system files (__MACOSX/, ._IMG.JPG, .DS_Store, Thumbs.db), skipped silently."""
    return any(part == "__MACOSX" or part.startswith(".") for part in path.parts) or path.name in (
        "Thumbs.db", "desktop.ini")


def load_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images in class folders (the folder name is the class); files that are not readable images are skipped."""
    from PIL import UnidentifiedImageError

    pixels, labels, skipped = [], [], []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or is_junk(relative) or path.parent.name not in CLASSES:
            continue
        try:
            pixels.append(read_image(path))
        except (UnidentifiedImageError, OSError, ValueError) as err:  # not an image, or a damaged one
            if path.suffix.lower() in IMAGE_SUFFIXES:
                skipped.append(f"{relative} ({type(err).__name__}: {err})")
            continue
        labels.append(CLASSES.index(path.parent.name))
    if skipped:
        print(f"Skipped {len(skipped)} file(s) that could not be read as images:", *skipped[:20], sep="\n  ")
    if not pixels:
        sys.exit(f"No images in class folders named {', '.join(CLASSES)} were found in {folder}.")
    return np.stack(pixels), np.asarray(labels, dtype="int64")


def load_sample() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (values 0-16), as the 0-255 grayscale pixels LayerLab used."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = np.asarray([CLASSES.index(str(t)) for t in bunch.target], dtype="int64")
    return pixels, labels


def load_data(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    if path is None:
        return load_sample()
    source = Path(path)
    if source.suffix.lower() == ".zip":
        import tempfile
        import zipfile

        target = Path(tempfile.mkdtemp(prefix="train_model_"))
        with zipfile.ZipFile(source) as archive:
            archive.extractall(target)  # extractall keeps every file inside `target`
        source = target
    if not source.is_dir():
        sys.exit(f"{path} is not a folder of class folders (or a .zip of them).")
    return load_folder(source)


# ---- build_model() piece: core.codegen copies the function's body, between its docstring and its
# `return`, into build_model().
def rescaled_inputs(inputs: keras.KerasTensor) -> keras.KerasTensor:
    """Pixels from 0-255 to 0-1 inside the model."""
    # raw 0-255 pixels in, 0-1 inside: the saved model takes raw pixels
    x = keras.layers.Rescaling(scale=1.0 / 255.0, name="rescaling")(inputs)
    return x
