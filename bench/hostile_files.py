"""Files built to exhaust a server: archive and image bombs and a wide table, made byte by byte.

The load test's hostile user uploads them (`hostile_uploads`); the unit tests build the same
files through tests/datafiles.py, which takes these builders from here (the benchmarks never
import the tests)."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


def zip_bytes(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def bzip2_bomb_zip(unpacked_bytes: int, name: str = "photos/cats/big.bmp") -> bytes:
    """A zip of one bzip2 entry of `unpacked_bytes` zeros (2 GB pack to 1.6 KB). It is
    compressed as it is written, 10 MB at a time, so building it needs no memory, only time
    (about 15 s a gigabyte on the 2-core development machine)."""
    chunk = bytes(10_000_000)
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_BZIP2
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zf.open(info, "w", force_zip64=unpacked_bytes >= zipfile.ZIP64_LIMIT) as entry:
        for start in range(0, unpacked_bytes, len(chunk)):
            entry.write(chunk[: unpacked_bytes - start])
    return buf.getvalue()


def zip_with_many_entries(n: int, *, declared: int | None = None) -> bytes:
    """A zip of `n` central-directory records (all naming one empty file) made byte by byte, fast.

    `declared` is the entry count the end records state (default `n`); from 65,535 entries the
    zip64 end records are written, as zip tools do."""
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    record = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    central = record * n
    count = n if declared is None else declared
    end = b""
    if count >= 0xFFFF:
        zip64_at = len(local) + len(central)
        end += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), len(local))
        end += struct.pack("<4sLQL", b"PK\x06\x07", 0, zip64_at, 1)
        count = 0xFFFF
    end += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    return local + central + end


def png_with_note(png: bytes, note: str) -> bytes:
    """The same PNG with a text chunk added: the same pixels, other bytes (no second encoding)."""
    body = b"tEXt" + b"note\x00" + note.encode("latin-1")
    chunk = struct.pack(">L", len(body) - 4) + body + struct.pack(">L", zlib.crc32(body))
    return png[:-12] + chunk + png[-12:]  # before IEND


def big_png(side: int, mode: str) -> bytes:
    """A `side`×`side` PNG of a left-to-right ramp (so it is not blank): "I;16" is 16-bit
    grayscale, "P" a palette image with a transparent colour, else any Pillow mode."""
    ramp = np.arange(side, dtype=np.uint32)
    if mode == "I;16":
        im = Image.fromarray(np.broadcast_to((ramp * 65535 // max(side - 1, 1)).astype(np.uint16), (side, side)).copy())
    else:
        gray = Image.fromarray(np.broadcast_to((ramp * 255 // max(side - 1, 1)).astype(np.uint8), (side, side)).copy())
        im = gray.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format="PNG", **({"transparency": 0} if mode == "P" else {}))
    return buf.getvalue()


def sixteen_bit_scans_zip(count: int = 10, side: int = 6300) -> bytes:
    """`count` 16-bit grayscale `side`×`side` PNGs in two class folders: the same ramp, each with
    its own note, so no two files are the same (6300² is just under the 40 Mpx cap)."""
    scan = big_png(side, "I;16")
    return zip_bytes({f"{'xrays' if i % 2 else 'scans'}/{i}.png": png_with_note(scan, f"scan {i}") for i in range(count)})


def gif_with_big_canvas(width: int, height: int, x: int = 0, y: int = 0) -> bytes:
    """A 35-byte GIF: a `width`×`height` canvas holding one 1×1 frame at (x, y); other x, y give other bytes."""
    screen = struct.pack("<6sHHBBB", b"GIF89a", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"," + struct.pack("<4HB", x, y, 1, 1, 0) + b"\x02\x02\x44\x01\x00"  # LZW: clear, pixel 0, end
    return screen + frame + b";"


def canvases_zip(per_class: int = 500, side: int = 6300) -> bytes:
    """Two class folders of tiny GIFs whose canvas is `side`×`side`, no two alike."""
    return zip_bytes({f"{folder}/{i}.gif": gif_with_big_canvas(side, side, x=i, y=y)
                      for y, folder in enumerate(["cats", "dogs"]) for i in range(per_class)})


def wide_csv_bytes(rows: int, columns: int, *, high: int = 10, seed: int = 0) -> bytes:
    """A wide, dense table of small whole numbers (0..high-1) with a 3-class 'label' last: 2 bytes a cell."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, high, (rows, columns - 1))
    header = ",".join(f"f{i}" for i in range(columns - 1)) + ",label\n"
    body = "".join(",".join(map(str, row)) + f",{'abc'[i % 3]}\n" for i, row in enumerate(values.tolist()))
    return (header + body).encode()


@dataclass(frozen=True)
class HostileUpload:
    path: Path
    what: str  # in words, for the report
    expected: str  # how the Data page must end: "refused" (a plain message) or "loaded" (within the caps)


def hostile_uploads(folder: Path) -> list[HostileUpload]:
    """Writes the load test's hostile files into `folder`, in the order they are uploaded (about
    a minute of building, mostly the bzip2 entry and the wide table)."""
    files = [
        ("bomb.zip", lambda: bzip2_bomb_zip(2_000_000_000), "one bzip2 entry that unpacks to 2 GB", "refused"),
        ("scans16.zip", sixteen_bit_scans_zip, "ten 16-bit 6300×6300 PNGs (39.7 Mpx each)", "loaded"),
        ("canvases.zip", canvases_zip, "1,000 35-byte GIFs with a 6300×6300 canvas", "refused"),
        ("million.zip", lambda: zip_with_many_entries(1_000_000), "a central directory of 1,000,000 entries", "refused"),
        ("wide.csv", lambda: wide_csv_bytes(15_000, 2_000), "2,000 columns × 15,000 rows of 0–9", "loaded"),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    uploads = []
    for name, build, what, expected in files:
        path = folder / name
        path.write_bytes(build())
        uploads.append(HostileUpload(path, what, expected))
    return uploads
