"""Caps on what an upload may contain, so one user's file cannot exhaust the server.

Every cap has a default and can be changed by the server admin with an environment
variable `LAYERLAB_MAX_<NAME>` (for example `LAYERLAB_MAX_UPLOAD_BYTES=500000000`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from time import monotonic

from core.errors import UserError

MB = 1_000_000


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 200 * MB  # a CSV or zip as uploaded
    rows: int = 2_000_000  # CSV data rows
    columns: int = 2_000  # CSV columns
    cells: int = 50_000_000  # CSV rows × columns: memory grows with the cells, not the bytes ("1,0," is 2 bytes a cell)
    images: int = 50_000  # images in one archive or folder
    entries: int = 100_000  # entries of any kind in one zip
    uncompressed_bytes: int = 500 * MB  # sum of decompressed zip entries
    compression_ratio: int = 100  # decompressed / compressed, per entry
    image_pixels: int = 40_000_000  # one image; bigger is treated as a decompression bomb
    pixels_per_byte: int = 50_000  # pixels one byte of an image file may stand for (a blank 12 Mpx WebP: 23,000)
    image_side: int = 512  # largest height/width a user may ask images to be resized to
    pixel_bytes: int = 2_000 * MB  # decoded pixels of one image dataset (n × H × W × C bytes)
    categories: int = 1_000  # one-hot width of a single categorical column
    classes: int = 200  # classes of a classification target
    load_seconds: int = 60  # reading and decoding one image archive or folder
    weights_bytes: int = 150 * MB  # an uploaded backbone weights file (.h5) or a .keras model to start from (ResNet50: 95 MB)

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> "Limits":
        """Defaults, overridden by `LAYERLAB_MAX_<FIELD>` environment variables."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            key = f"LAYERLAB_MAX_{f.name.upper()}"
            raw = env.get(key)
            if raw is None or raw.strip() == "":
                continue
            try:
                value = int(float(raw.replace("_", "")))
            except ValueError:
                raise UserError(
                    "limits.bad_env",
                    "The server setting {key}={value} is not a whole number. Ask the administrator to fix it.",
                    key=key,
                    value=raw,
                ) from None
            if value <= 0:
                raise UserError(
                    "limits.bad_env",
                    "The server setting {key}={value} must be a positive number. Ask the administrator to fix it.",
                    key=key,
                    value=raw,
                )
            values[f.name] = value
        return cls(**values)


    def deadline(self) -> "Deadline":
        """The moment a load started now must end by (`load_seconds` from now)."""
        return Deadline(self.load_seconds, monotonic() + self.load_seconds)


@dataclass(frozen=True)
class Deadline:
    """When loading must stop: no cap on sizes bounds the time a slow decoder can take, so loads
    check this between files and end with a message instead of holding the server for an hour."""

    seconds: int
    ends: float  # time.monotonic() value

    def passed(self) -> bool:
        return monotonic() > self.ends

    def check(self, name: str) -> None:
        if self.passed():
            raise UserError(
                "limits.too_slow",
                "Loading {file} took longer than the {seconds} seconds this server allows, so it was stopped. "
                "Use fewer or smaller images (photos shrunk to about 1,000 pixels across load quickly), or ask "
                "the administrator to raise LAYERLAB_MAX_LOAD_SECONDS.",
                file=name, seconds=self.seconds,
            )


def current_limits() -> Limits:
    """The limits in force now (read from the environment each time, so tests and admins can change them)."""
    return Limits.from_env()
