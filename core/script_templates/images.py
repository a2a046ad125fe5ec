"""train_model.py's pieces for images: reading class folders (or a .zip of them) the way LayerLab
does, and the start of build_model() that rescales raw pixels.

Real Python, so it can be read, linted and compiled; core.codegen copies the statements it
needs (see core/script_templates/__init__.py) and puts the dataset's values in place of the
example IMAGE_SIZE and CHANNELS.
"""
from __future__ import annotations

import functools
import hashlib
import io
import stat
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from core.script_templates.archives import class_folders, is_junk, zip_name  # copied from archives.py
from core.script_templates.common import CLASSES  # the shared settings; not copied

IMAGE_SIZE = (8, 8)  # (height, width): every image is resized to this
CHANNELS = 1  # 1 = grayscale, 3 = RGB


# ---- Data ------------------------------------------------------------------------------
IMAGE_FORMATS = ["BMP", "GIF", "JPEG", "PNG", "WEBP"]  # the formats LayerLab reads, judged by content
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".ico")
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")
RESIZABLE_MODES = ("L", "LA", "RGB", "RGBA", "I", "F", *SIXTEEN_BIT)  # modes Pillow shrinks smoothly as they are
TURNS = {  # a photo's EXIF orientation -> the turn that makes it upright
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
QUARTER_TURNS = (Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_270, Image.Transpose.TRANSVERSE,
                 Image.Transpose.ROTATE_90)
# What reading a damaged file raises: zipfile for a damaged entry, Pillow's decoders in many ways.
DAMAGED = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, ZeroDivisionError, struct.error,
           zipfile.BadZipFile, zlib.error)


def open_image(data: bytes) -> Image.Image:
    """The image in `data` with only its header read (PNG, JPEG, BMP, GIF or WebP, by content)."""
    return Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)


def read_image(data: bytes) -> np.ndarray:
    """One image of any size and mode -> uint8 pixels (height, width, channels), as LayerLab does:
    shrunk in its own mode and bit depth, turned upright (phone photos), transparency on white."""
    with open_image(data) as image:
        turn = TURNS.get(image.getexif().get(0x0112, 1)) if image.format in ("JPEG", "WEBP") else None
        height, width = IMAGE_SIZE
        stored = (height, width) if turn in QUARTER_TURNS else (width, height)  # the size before turning
        if image.format == "JPEG":
            image.draft("L" if CHANNELS == 1 else "RGB", stored)  # libjpeg decodes big photos at a reduced scale
        image.load()
        if image.mode not in RESIZABLE_MODES:  # palette, 1-bit, CMYK ... (full size)
            transparent = "A" in image.mode or (image.mode == "P" and "transparency" in image.info)
            image = image.convert(("LA" if transparent else "L") if CHANNELS == 1 else ("RGBA" if transparent else "RGB"))
        if image.size != stored:
            image = image.resize(stored, Image.Resampling.BILINEAR, reducing_gap=None if image.mode in SIXTEEN_BIT else 2.0)
        if turn is not None:
            image = image.transpose(turn)
        if image.mode in ("I", "F", *SIXTEEN_BIT):  # 16- and 32-bit gray: scaled down to 0-255, not cut off at 255
            values = np.asarray(image).astype(np.float32)
            top = 1.0 if image.mode == "F" and values.max(initial=0) <= 1.0 else 65535.0
            image = Image.fromarray(np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8), "L")
        if image.mode in ("RGBA", "LA"):  # transparent areas become white
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("L" if CHANNELS == 1 else "RGB")
        return np.asarray(image, dtype=np.uint8).reshape(height, width, CHANNELS)


def zip_files(archive: zipfile.ZipFile) -> list[tuple[str, Callable[[], bytes]]]:
    """(path, reader) of each file of the zip in the zip's own order, as LayerLab reads them; nothing
    is extracted. Password-protected entries and links are left out."""
    files = []
    for info in archive.infolist():
        name = zip_name(info)
        if not (info.is_dir() or is_junk(name) or info.flag_bits & 0x1 or stat.S_ISLNK(info.external_attr >> 16)):
            files.append((name, functools.partial(archive.read, info)))
    return files


def folder_files(folder: Path) -> list[tuple[str, Callable[[], bytes]]]:
    """(path, reader) of each file under `folder` in sorted order, as LayerLab reads them; links are left out."""
    paths = [(path, path.relative_to(folder).as_posix()) for path in sorted(folder.rglob("*"))]
    return [(name, path.read_bytes) for path, name in paths
            if path.is_file() and not path.is_symlink() and not is_junk(name)]


def load_images(files: list[tuple[str, Callable[[], bytes]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels, class indices, and which images decoded: the images LayerLab uses, in its order.

    Files that are not images, images outside a class folder and byte-identical copies (after the
    first) are skipped. An image whose header reads but whose pixels do not is kept with usable
    False: LayerLab splits before it decodes, so it takes its place in the draw (see split())."""
    found, skipped = [], []  # found: (path, reader, fingerprint) of each file that opens as an image
    for path, read in files:
        try:
            data = read()
            open_image(data).close()
        except DAMAGED as err:  # not an image (or one Pillow cannot even start to read)
            if path.lower().endswith(IMAGE_SUFFIXES):
                skipped.append(f"{path} (not a readable image: {type(err).__name__}: {err})")
            continue
        found.append((path, read, hashlib.sha256(data).digest()))
    used, first = [], {}
    for (path, read, fingerprint), name in zip(found, class_folders([path for path, *_ in found])):
        if name is None:
            skipped.append(f"{path} (not inside a class folder)")
        elif fingerprint in first:
            skipped.append(f"{path} (the same file as {first[fingerprint]}; only that one is used)")
        else:
            first[fingerprint] = path
            if name in CLASSES:
                used.append((path, read, CLASSES.index(name)))
    if not used:
        sys.exit(f"No images in class folders named {', '.join(CLASSES)} were found.")
    pixels = np.zeros((len(used), *IMAGE_SIZE, CHANNELS), dtype=np.uint8)
    usable = np.ones(len(used), dtype=bool)
    for k, (path, read, _) in enumerate(used):
        try:
            pixels[k] = read_image(read())
        except DAMAGED as err:
            skipped.append(f"{path} (damaged: {type(err).__name__}: {err})")
            usable[k] = False
    if skipped:
        print(f"Skipped {len(skipped)} file(s):", *skipped[:20], sep="\n  ")
    return pixels, np.asarray([label for *_, label in used], dtype="int64"), usable


def load_sample() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (values 0-16), as the 0-255 grayscale pixels LayerLab used."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = np.asarray([CLASSES.index(str(t)) for t in bunch.target], dtype="int64")
    return pixels, labels


def load_data(path: str | None) -> tuple[np.ndarray, ...]:
    """Pixels and class indices (and, from files, which images decoded: see load_images)."""
    if path is None:
        return load_sample()
    source = Path(path)
    if source.suffix.lower() == ".zip":
        with zipfile.ZipFile(source) as archive:
            return load_images(zip_files(archive))
    if not source.is_dir():
        sys.exit(f"{path} is not a folder of class folders (or a .zip of them).")
    return load_images(folder_files(source))


# ---- build_model() piece: core.codegen copies the function's body, between its docstring and its
# `return`, into build_model().
def rescaled_inputs(inputs: keras.KerasTensor) -> keras.KerasTensor:
    """Pixels from 0-255 to 0-1 inside the model."""
    # raw 0-255 pixels in, 0-1 inside: the saved model takes raw pixels
    x = keras.layers.Rescaling(scale=1.0 / 255.0, name="rescaling")(inputs)
    return x
