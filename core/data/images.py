"""Image datasets: a zip (or folder) of class folders -> one size, one colour mode, uint8 pixels.

Images are decoded straight from memory with Pillow, accepted by content (PNG, JPEG, BMP,
GIF, WebP), never by file name. A file that cannot be used is skipped and listed with the
reason; the rest are kept.
"""
from __future__ import annotations

import io
import os
import struct
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from core.data.archive import ArchiveFiles, read_folder, read_zip
from core.data.dataset import Dataset, SkippedFile
from core.data.limits import Limits, current_limits
from core.data.split import split_indices
from core.data.tables import sort_labels
from core.errors import UserError

MIN_IMAGES_PER_CLASS = 5
AUTO_SIDE = 128  # longest side chosen automatically: photos shrink to a size a CPU can train on
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".ico"}
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


def sniff_format(data: bytes) -> str | None:
    """The accepted format the bytes are in, judged by content, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, ZeroDivisionError)
DECODE_THREADS = 4  # Pillow releases the GIL while decoding and resizing


class _Unusable(Exception):
    """An image that cannot be used; the message is the reason shown to the user."""


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only) with the format allow-list; bombs and unknown formats raise _Unusable."""
    fmt = sniff_format(data)
    if fmt is None:
        raise _Unusable("not a PNG, JPEG, BMP, GIF or WebP image (judged by its content)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _Unusable("too many pixels (a possible decompression bomb)") from None
    except _DECODE_ERRORS as err:
        raise _Unusable(f"cannot be decoded as {fmt} ({err})") from None
    width, height = im.size
    if width * height > max_pixels:
        raise _Unusable(f"too many pixels ({width}×{height}, a possible decompression bomb)")
    if width < 1 or height < 1:
        raise _Unusable("has no pixels")
    return im


def _flatten(im: Image.Image, channels: int) -> Image.Image:
    """Any mode -> "L" or "RGB": 16-bit scaled down (not clipped), transparency on white, CMYK converted."""
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        values = np.asarray(im, dtype=np.float64)
        top = 1.0 if im.mode == "F" and values.max(initial=0) <= 1.0 else 65535.0
        im = Image.fromarray(np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    target = "L" if channels == 1 else "RGB"
    return im if im.mode == target else im.convert(target)


def _pixels(im: Image.Image, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode an opened image to uint8 (H, W, C) at `size` (height, width)."""
    height, width = size
    try:
        if im.format == "JPEG":  # let libjpeg decode at a reduced scale when shrinking
            im.draft("L" if channels == 1 else "RGB", (width, height))
        im.load()
        if im.format in ("JPEG", "WEBP"):  # phone photos store their rotation in EXIF
            im = ImageOps.exif_transpose(im)
        im = _flatten(im, channels)
        if im.size != (width, height):
            im = im.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    except _DECODE_ERRORS as err:  # a malformed file can upset a decoder in many ways
        raise _Unusable(f"damaged or truncated ({err})") from None
    return np.asarray(im, dtype=np.uint8).reshape(height, width, channels)


def _decode(data: bytes, size: tuple[int, int], channels: int, max_pixels: int) -> np.ndarray:
    return _pixels(_open(data, max_pixels), size, channels)


def decode_image(data: bytes, image_size: tuple[int, int], channels: int) -> np.ndarray:
    """One image of any size and mode -> uint8 (H, W, C) as the model expects (for predictions)."""
    try:
        return _decode(data, tuple(image_size), int(channels), current_limits().image_pixels)
    except _Unusable as err:
        raise UserError("image.unreadable", "This image cannot be used: it is {reason}.", reason=str(err)) from None


def preview_image(data: bytes, max_side: int = 512) -> np.ndarray:
    """An uploaded image for display: upright as the model sees it (EXIF rotation applied, as
    in decode_image), RGB, shrunk to at most `max_side` pixels on its longer side; uint8 (H, W, 3)."""
    try:
        im = _open(data, current_limits().image_pixels)
        try:
            if im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))
            im.load()
            if im.format in ("JPEG", "WEBP"):
                im = ImageOps.exif_transpose(im)
            im = _flatten(im, 3)
            im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        except _DECODE_ERRORS as err:
            raise _Unusable(f"damaged or truncated ({err})") from None
    except _Unusable as err:
        raise UserError("image.unreadable", "This image cannot be used: it is {reason}.", reason=str(err)) from None
    return np.asarray(im, dtype=np.uint8)


# ---------------------------------------------------------------- class folders


@dataclass
class _Candidate:
    path: str
    image: Image.Image | None  # opened (header read), decoded later; None once decoded
    size: tuple[int, int]  # (height, width)
    gray: bool


def _class_of(paths: list[str]) -> list[str | None]:
    """Class folder of each image: the first folder below the deepest folder all images share.

    `my photos/cats/a.jpg` and `my photos/dogs/b.jpg` give cats and dogs; an archive whose
    images all sit in one folder gives that folder's name (one class).
    """
    dirs = [tuple(part for part in p.split("/")[:-1] if part not in ("", ".")) for p in paths]
    common: tuple[str, ...] = ()
    if dirs:
        first = dirs[0]
        n = min(len(d) for d in dirs)
        k = next((i for i in range(n) if any(d[i] != first[i] for d in dirs)), n)
        common = first[:k]
    depth = len(common) - 1 if all(d == common for d in dirs) and common else len(common)
    return [d[depth] if len(d) > depth else None for d in dirs]


def _choose_size(sizes: list[tuple[int, int]], side_cap: int = AUTO_SIDE) -> tuple[int, int]:
    """The most common size if most images share it, else the median; the longer side capped."""
    (common, count), = Counter(sizes).most_common(1)
    height, width = common if count * 2 >= len(sizes) else (
        int(np.median([s[0] for s in sizes])), int(np.median([s[1] for s in sizes]))
    )
    scale = min(1.0, side_cap / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _candidates(found: ArchiveFiles, limits: Limits) -> tuple[list[_Candidate], list[SkippedFile], int]:
    skipped, kept, others = list(found.skipped), [], 0
    for path, data in found.files:
        suffix = os.path.splitext(path)[1].lower()
        if sniff_format(data) is None:
            if data[:4] == b"PK\x03\x04" or suffix == ".zip":
                skipped.append(SkippedFile(path, "a zip inside the zip; nested archives are not opened"))
            elif suffix in IMAGE_SUFFIXES:
                skipped.append(SkippedFile(path, "not a PNG, JPEG, BMP, GIF or WebP image (judged by its content)"))
            else:
                others += 1
            continue
        try:
            im = _open(data, limits.image_pixels)
        except _Unusable as err:
            skipped.append(SkippedFile(path, str(err)))
            continue
        kept.append(_Candidate(path, im, (im.size[1], im.size[0]), im.mode in GRAY_MODES))
        if len(kept) > limits.images:
            raise UserError(
                "images.too_many",
                "There are more than {limit} images; this server accepts at most {limit}. Use fewer images.",
                limit=f"{limits.images:,}",
            )
    return kept, skipped, others


def _checked_size(image_size, n_images: int, channels: int, limits: Limits) -> tuple[int, int]:
    """A size the user asked for, if it is sensible and fits in memory."""
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        height = width = 0
    if not (1 <= height <= limits.image_side and 1 <= width <= limits.image_side):
        raise UserError(
            "images.bad_size",
            "The image size {size} is not possible: height and width must be whole numbers from 1 to {limit}.",
            size=str(image_size), limit=limits.image_side,
        )
    if n_images * height * width * channels > limits.pixel_bytes:
        raise UserError(
            "images.too_much_memory",
            "{n} images of {height}×{width} pixels would need more memory than this server allows. "
            "Choose a smaller image size or use fewer images.",
            n=n_images, height=height, width=width,
        )
    return height, width


def _decode_all(
    candidates: list[_Candidate], size: tuple[int, int], channels: int
) -> tuple[np.ndarray, list[str | None]]:
    """Decode every candidate into one preallocated array, a few threads at a time.

    Returns the pixels and, per image, None or the reason it could not be decoded.
    """
    pixels = np.empty((len(candidates), size[0], size[1], channels), dtype=np.uint8)
    reasons: list[str | None] = [None] * len(candidates)

    def decode_range(slots: range) -> None:
        for slot in slots:
            cand = candidates[slot]
            try:
                pixels[slot] = _pixels(cand.image, size, channels)
            except _Unusable as err:
                reasons[slot] = str(err)
            cand.image = None  # let the decoded copy go

    # Twice the cores: while one thread runs Python (holding the GIL) another decodes without it.
    threads = max(1, min(DECODE_THREADS, 2 * (os.cpu_count() or 1)))
    bounds = np.linspace(0, len(candidates), threads * 4 + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(decode_range, [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]))
    return pixels, reasons


def _target_size(
    kept: list[_Candidate], channels: int, image_size: tuple[int, int] | None, limits: Limits
) -> tuple[tuple[int, int], list[str]]:
    """The size every image is resized to, and a note when it had to shrink to fit in memory."""
    if image_size:
        return _checked_size(image_size, len(kept), channels, limits), []
    size = _choose_size([c.size for c in kept])
    budget = limits.pixel_bytes / (len(kept) * channels)
    if size[0] * size[1] <= budget:
        return size, []
    scale = (budget / (size[0] * size[1])) ** 0.5  # keep the shape
    size = (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))
    return size, [f"There are many images, so they were made smaller ({size[0]}×{size[1]}) to fit in memory."]


def build_image_dataset(
    name: str, found: ArchiveFiles, *, image_size: tuple[int, int] | None = None, seed: int = 42
) -> Dataset:
    """Files from a zip or folder -> an image Dataset (one size, one colour mode, split with `seed`)."""
    limits = current_limits()
    kept, skipped, others = _candidates(found, limits)
    labels = _class_of([c.path for c in kept])
    loose = [c for c, label in zip(kept, labels) if label is None]
    skipped += [SkippedFile(c.path, "not inside a class folder") for c in loose]
    kept, labels = [c for c, lab in zip(kept, labels) if lab is not None], [lab for lab in labels if lab is not None]
    if loose and not kept:
        raise UserError(
            "images.no_class_folders",
            "The images in {file} are not inside class folders. Put the images of each class in their own "
            "folder (for example cats/ and dogs/) and zip those folders.",
            file=name,
        )
    if not kept:
        raise UserError(
            "images.none",
            "No usable image was found in {file}. Put one folder per class (for example cats/ and dogs/) with "
            "PNG, JPEG, BMP, GIF or WebP images inside, and zip them.",
            file=name,
        )
    classes = sort_labels(list(set(labels)))
    if len(classes) < 2:
        raise UserError(
            "images.one_class",
            "{file} has images of only one class ('{label}'). Add at least one more class folder next to it "
            "(for example cats/ and dogs/), each with its own images.",
            file=name, label=classes[0],
        )
    index = {label: i for i, label in enumerate(classes)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    split = split_indices(y, task="classification", classes=classes, seed=seed, where=name, unit="images",
                          min_per_class=MIN_IMAGES_PER_CLASS)  # refuses before anything is decoded

    channels = 1 if all(c.gray for c in kept) else 3
    size, notes = _target_size(kept, channels, image_size, limits)
    # Decode in split order into one array, so the three splits are views, not copies.
    order = np.concatenate([split.train, split.val, split.test])
    parts = np.cumsum([0, len(split.train), len(split.val), len(split.test)])
    pixels, reasons = _decode_all([kept[i] for i in order], size, channels)
    good = np.array([r is None for r in reasons], dtype=bool)
    skipped += [SkippedFile(kept[i].path, r) for i, r in zip(order, reasons) if r is not None]
    if not good.all():  # rare: drop what failed to decode; each split stays one block
        parts = np.array([0, *np.cumsum([good[parts[k] : parts[k + 1]].sum() for k in range(3)])])
        pixels, order = pixels[good], order[good]
        split_indices(y[order], task="classification", classes=classes, seed=seed, where=name, unit="images",
                      min_per_class=MIN_IMAGES_PER_CLASS)
    x_train, x_val, x_test = (pixels[parts[k] : parts[k + 1]] for k in range(3))
    y_train, y_val, y_test = (y[order[parts[k] : parts[k + 1]]] for k in range(3))
    kept = [kept[i] for i in order]
    if len({c.size for c in kept}) > 1 or (image_size and any(c.size != size for c in kept)):
        notes.append(f"The images have different sizes; all were resized to {size[0]}×{size[1]} pixels.")
    if others:
        notes.append(f"{others} file(s) that are not images were ignored.")
    return Dataset(
        name=name, kind="images", task="classification",
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test,
        classes=classes, skipped=skipped, image_size=size, channels=channels,
        files_test=[c.path for c in kept[parts[2] :]], warnings=notes,
    )


def load_image_zip(
    source: Path | str | bytes, name: str | None = None, *, image_size: tuple[int, int] | None = None, seed: int = 42
) -> Dataset:
    """A zip of class folders (at any depth) -> an image Dataset."""
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "the uploaded zip")
    return build_image_dataset(name, read_zip(source, name, current_limits()), image_size=image_size, seed=seed)


def load_image_folder(path: Path | str, *, image_size: tuple[int, int] | None = None, seed: int = 42) -> Dataset:
    """A local folder of class folders -> an image Dataset (for the command line)."""
    return build_image_dataset(str(path), read_folder(path, current_limits()), image_size=image_size, seed=seed)
