"""Image datasets: a zip (or folder) of class folders -> one size, one colour mode, uint8 pixels.

Images are decoded straight from memory with Pillow, accepted by content (PNG, JPEG, BMP,
GIF, WebP), never by file name. A file that cannot be used is skipped and listed with the
reason; the rest are kept.
"""
from __future__ import annotations

import hashlib
import io
import os
import struct
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from core.data.archive import ArchiveFiles, class_folders, read_folder, read_zip
from core.data.dataset import Dataset, SkippedFile
from core.data.limits import Deadline, Limits, current_limits
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
# Images with more pixels to decode (after JPEG's reduced-scale decoding) are decoded one at a
# time on one thread: a pixel costs up to 8 bytes while it is decoded and shrunk (RGBA plus the
# premultiplied copy Pillow resizes), and glibc keeps what each thread freed for that thread
# (ten 40-megapixel RGBA PNGs held 1.2 GB on four threads, 450 MB on one).
BIG_IMAGE_PIXELS = 4_000_000
SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}
# Modes Pillow shrinks smoothly as they are (premultiplying LA and RGBA, so transparent pixels do
# not bleed their colour); anything else is converted first.
RESIZABLE_MODES = {"L", "LA", "RGB", "RGBA", "I", "F", *SIXTEEN_BIT}
_TURNS = {  # EXIF orientation -> the turn that makes a phone photo upright
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = {Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_270, Image.Transpose.TRANSVERSE,
                  Image.Transpose.ROTATE_90}


class _Unusable(Exception):
    """An image that cannot be used; the message is the reason shown to the user."""


def _open(data: bytes, limits: Limits) -> Image.Image:
    """Open (header only) with the format allow-list; bombs and unknown formats raise _Unusable.

    Pillow sizes the canvas from the header (a GIF's canvas includes its first frame), so the
    pixel count is known before anything is decoded. A canvas far bigger than its file can
    describe (a 35-byte GIF of 6300×6300) is refused like a zip bomb: decoding it is real work."""
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
    if width * height > limits.image_pixels:
        raise _Unusable(f"too many pixels ({width}×{height}, a possible decompression bomb)")
    if width * height > limits.pixels_per_byte * len(data):
        raise _Unusable(f"too many pixels for its file size ({width}×{height} in {len(data)} bytes, "
                        "a possible decompression bomb)")
    if width < 1 or height < 1:
        raise _Unusable("has no pixels")
    return im


def _turn(im: Image.Image) -> Image.Transpose | None:
    """The turn that makes a phone photo upright (JPEG and WebP store it in EXIF), or None."""
    if im.format not in ("JPEG", "WEBP"):
        return None
    return _TURNS.get(im.getexif().get(ExifTags.Base.Orientation, 1))


def _upright_size(im: Image.Image) -> tuple[int, int]:
    """(width, height) once turned upright."""
    try:
        turned = _turn(im) in _QUARTER_TURNS
    except _DECODE_ERRORS as err:  # a malformed EXIF block
        raise _Unusable(f"damaged or truncated ({err})") from None
    return im.size[::-1] if turned else im.size


def _stored_box(size: tuple[int, int], turn: Image.Transpose | None) -> tuple[int, int]:
    """(width, height) to shrink the image to as stored, so that once turned it is `size` (height, width)."""
    height, width = size
    return (height, width) if turn in _QUARTER_TURNS else (width, height)


def _draft(im: Image.Image, size: tuple[int, int], channels: int) -> None:
    """Let libjpeg decode a JPEG at a reduced scale (only the first call counts)."""
    try:
        if im.format == "JPEG":
            im.draft("L" if channels == 1 else "RGB", _stored_box(size, _turn(im)))
    except _DECODE_ERRORS as err:
        raise _Unusable(f"damaged or truncated ({err})") from None


def _decoded_pixels(im: Image.Image, size: tuple[int, int], channels: int) -> int:
    """Pixels decoding will produce (a JPEG is first set to decode at a reduced scale)."""
    try:
        _draft(im, size, channels)
    except _Unusable:
        pass  # decoding reports it
    return im.size[0] * im.size[1]


def _resizable(im: Image.Image, channels: int) -> Image.Image:
    """The image in a mode Pillow shrinks smoothly: palette, 1-bit, CMYK ... converted (full size)."""
    if im.mode in RESIZABLE_MODES:
        return im
    transparent = "A" in im.mode or (im.mode == "P" and "transparency" in im.info)
    if channels == 1:
        return im.convert("LA" if transparent else "L")
    return im.convert("RGBA" if transparent else "RGB")


def _eight_bits(im: Image.Image) -> Image.Image:
    """A (small) 16-bit or 32-bit grayscale image -> "L", scaled down (not clipped at 255)."""
    values = np.asarray(im)
    top = 1.0 if im.mode == "F" and values.max(initial=0) <= 1.0 else 65535.0
    return Image.fromarray(np.clip(np.rint(values.astype(np.float32) * (255.0 / top)), 0, 255).astype(np.uint8), "L")


def _flatten(im: Image.Image, channels: int) -> Image.Image:
    """A shrunk image -> "L" or "RGB": high bit depths scaled down, transparency on white."""
    if im.mode in ("I", "F") or im.mode in SIXTEEN_BIT:
        im = _eight_bits(im)
    if im.mode in ("RGBA", "LA"):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    target = "L" if channels == 1 else "RGB"
    return im if im.mode == target else im.convert(target)


def _pixels(im: Image.Image, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode an opened image to uint8 (H, W, C) at `size` (height, width).

    Shrunk first, in its own bit depth, then turned upright and flattened: a 40-megapixel image
    is never copied into wide types (16-bit through float64 took 1 GB an image)."""
    try:
        _draft(im, size, channels)
        turn = _turn(im)
        im.load()
        im = _resizable(im, channels)
        box = _stored_box(size, turn)
        if im.size != box:  # Pillow cannot reduce() 16-bit images; their plain resize copies nothing
            im = im.resize(box, Image.Resampling.BILINEAR, reducing_gap=None if im.mode in SIXTEEN_BIT else 2.0)
        if turn is not None:
            im = im.transpose(turn)
        im = _flatten(im, channels)
    except _DECODE_ERRORS as err:  # a malformed file can upset a decoder in many ways
        raise _Unusable(f"damaged or truncated ({err})") from None
    height, width = size
    return np.asarray(im, dtype=np.uint8).reshape(height, width, channels)


def _decode(data: bytes, size: tuple[int, int], channels: int, limits: Limits) -> np.ndarray:
    return _pixels(_open(data, limits), size, channels)


def decode_image(data: bytes, image_size: tuple[int, int], channels: int) -> np.ndarray:
    """One image of any size and mode -> uint8 (H, W, C) as the model expects (for predictions)."""
    try:
        return _decode(data, tuple(image_size), int(channels), current_limits())
    except _Unusable as err:
        raise UserError("image.unreadable", "This image cannot be used: it is {reason}.", reason=str(err)) from None


def preview_image(data: bytes, max_side: int = 512) -> np.ndarray:
    """An uploaded image for display: upright as the model sees it (EXIF rotation applied, as
    in decode_image), RGB, shrunk to at most `max_side` pixels on its longer side; uint8 (H, W, 3)."""
    try:
        im = _open(data, current_limits())
        width, height = _upright_size(im)
        scale = min(1.0, max_side / max(width, height))
        return _pixels(im, (max(1, round(height * scale)), max(1, round(width * scale))), 3)
    except _Unusable as err:
        raise UserError("image.unreadable", "This image cannot be used: it is {reason}.", reason=str(err)) from None


# ---------------------------------------------------------------- class folders


@dataclass
class _Candidate:
    path: str
    image: Image.Image | None  # opened (header read), decoded later; None once decoded
    size: tuple[int, int]  # (height, width), upright
    gray: bool
    digest: bytes  # of the file's bytes: byte-identical copies are used once


def _choose_size(sizes: list[tuple[int, int]], side_cap: int = AUTO_SIDE) -> tuple[int, int]:
    """The most common size if most images share it, else the median; the longer side capped."""
    (common, count), = Counter(sizes).most_common(1)
    height, width = common if count * 2 >= len(sizes) else (
        int(np.median([s[0] for s in sizes])), int(np.median([s[1] for s in sizes]))
    )
    scale = min(1.0, side_cap / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _candidates(
    found: ArchiveFiles, limits: Limits, deadline: Deadline, name: str
) -> tuple[list[_Candidate], list[SkippedFile], int]:
    skipped, kept, others = list(found.skipped), [], 0
    for path, data in found.files:
        deadline.check(name)
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
            im = _open(data, limits)
            width, height = _upright_size(im)
        except _Unusable as err:
            skipped.append(SkippedFile(path, str(err)))
            continue
        digest = hashlib.blake2b(data, digest_size=16).digest()
        kept.append(_Candidate(path, im, (height, width), im.mode in GRAY_MODES, digest))
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
    candidates: list[_Candidate], size: tuple[int, int], channels: int, deadline: Deadline, name: str
) -> tuple[np.ndarray, list[str | None]]:
    """Decode every candidate into one preallocated array within the deadline: big images one
    at a time on this thread, the others a few threads at a time.

    Returns the pixels and, per image, None or the reason it could not be decoded.
    """
    pixels = np.empty((len(candidates), size[0], size[1], channels), dtype=np.uint8)
    reasons: list[str | None] = [None] * len(candidates)

    def decode(slots: list[int]) -> None:
        for slot in slots:
            if deadline.passed():
                return
            cand = candidates[slot]
            try:
                pixels[slot] = _pixels(cand.image, size, channels)
            except _Unusable as err:
                reasons[slot] = str(err)
            cand.image = None  # let the decoded copy go

    is_big = [_decoded_pixels(cand.image, size, channels) > BIG_IMAGE_PIXELS for cand in candidates]
    decode([slot for slot, big in enumerate(is_big) if big])
    small = [slot for slot, big in enumerate(is_big) if not big]
    # Twice the cores: while one thread runs Python (holding the GIL) another decodes without it.
    threads = max(1, min(DECODE_THREADS, 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(decode, [small[k::threads] for k in range(threads)]))
    deadline.check(name)
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


def _without_copies(kept: list[_Candidate], labels: list[str]) -> tuple[list[_Candidate], list[str], list[SkippedFile]]:
    """Byte-identical files used once (the first met), so no image can be in both the training
    and the test split; the other copies are listed as skipped, naming the one used."""
    first: dict[bytes, str] = {}
    out, out_labels, copies = [], [], []
    for cand, label in zip(kept, labels):
        if cand.digest in first:
            copies.append(SkippedFile(cand.path, f"the same file as {first[cand.digest]}; only that one is used"))
            continue
        first[cand.digest] = cand.path
        out.append(cand)
        out_labels.append(label)
    return out, out_labels, copies


def build_image_dataset(
    name: str, found: ArchiveFiles, *, image_size: tuple[int, int] | None = None, seed: int = 42,
    deadline: Deadline | None = None,
) -> Dataset:
    """Files from a zip or folder -> an image Dataset (one size, one colour mode, split with `seed`).
    `deadline` (default: `load_seconds` from now) bounds the time it may take."""
    limits = current_limits()
    deadline = deadline or limits.deadline()
    kept, skipped, others = _candidates(found, limits, deadline, name)
    labels = class_folders([c.path for c in kept])
    loose = [c for c, label in zip(kept, labels) if label is None]
    skipped += [SkippedFile(c.path, "not inside a class folder") for c in loose]
    kept, labels = [c for c, lab in zip(kept, labels) if lab is not None], [lab for lab in labels if lab is not None]
    kept, labels, copies = _without_copies(kept, labels)
    skipped += copies
    if loose and not kept:
        raise UserError(
            "images.no_class_folders",
            "The images in {file} are not inside class folders. Put the images of each class in their own "
            "folder (for example cats/ and dogs/) and zip those folders.",
            file=name,
        )
    if not kept and skipped:  # say why, or a zip full of refused images reads as an empty one
        raise UserError(
            "images.none",
            "No usable image was found in {file}: {n} file(s) were skipped, for example '{example}': {reason}.",
            file=name, n=len(skipped), example=skipped[0].file, reason=skipped[0].reason,
        )
    if not kept:
        raise UserError(
            "images.none",
            "No usable image was found in {file}. Put one folder per class (for example cats/ and dogs/) with "
            "PNG, JPEG, BMP, GIF or WebP images inside, and zip them.",
            file=name,
        )
    classes = sort_labels(list(set(labels)))
    if len(classes) < 2 and loose:  # the class folders sit deeper than some images
        raise UserError(
            "images.mixed_depths",
            "{file} has images at different folder depths (for example '{shallow}' and '{deep}'), so it is not "
            "clear which folders are the classes. Arrange the images as one folder per class, side by side "
            "(for example cats/ and dogs/), with no images outside those folders.",
            file=name, shallow=loose[0].path, deep=kept[0].path,
        )
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
    pixels, reasons = _decode_all([kept[i] for i in order], size, channels, deadline, name)
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
    limits = current_limits()
    deadline = limits.deadline()  # one budget for reading the zip and decoding its images
    found = read_zip(source, name, limits, deadline)
    return build_image_dataset(name, found, image_size=image_size, seed=seed, deadline=deadline)


def load_image_folder(path: Path | str, *, image_size: tuple[int, int] | None = None, seed: int = 42) -> Dataset:
    """A local folder of class folders -> an image Dataset (for the command line)."""
    limits = current_limits()
    deadline = limits.deadline()
    found = read_folder(path, limits, deadline)
    return build_image_dataset(str(path), found, image_size=image_size, seed=seed, deadline=deadline)
