"""Archives and images built to exhaust the server: each ends in a plain message or a correct
dataset, and the ones that used to take gigabytes stay under a memory ceiling (peak RSS of a
fresh process, which is a limit, not a timing)."""
from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data import decode_image, load_image_folder, load_image_zip
from core.data.zip_directory import count_records, find_central_directory
from core.errors import UserError
from tests.datafiles import (
    big_png,
    bmp_rle_with_big_canvas,
    canvases_zip,
    digit_images,
    digits_zip_entries,
    encode_image,
    gif_with_big_canvas,
    png_with_note,
    without_utf8_flag,
    write,
    zip_bytes,
    zip_with_many_entries,
)

ROOT = Path(__file__).resolve().parents[2]
GB = 1 << 30


def _refusal(data: bytes, name: str = "photos.zip") -> UserError:
    with pytest.raises(UserError) as info:
        load_image_zip(data, name)
    return info.value


def _load_in_fresh_process(path: Path) -> dict:
    """load_image_zip(path) in a new Python: what it said, and its peak resident memory in bytes
    (Linux's VmHWM)."""
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from core.data import load_image_zip
from core.errors import UserError
try:
    ds = load_image_zip({str(path)!r})
    out = {{"rows": ds.n_rows, "classes": ds.classes, "low": int(ds.x_train.min()), "high": int(ds.x_train.max())}}
except UserError as err:
    out = {{"code": err.code, "message": err.render()}}
# VmHWM, not getrusage: ru_maxrss keeps the high-water mark of the process that forked this one
out["peak"] = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- zips


@pytest.mark.parametrize("method, named", [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")])
def test_bzip2_and_lzma_entries_are_refused_before_anything_is_unpacked(method, named):
    # zipfile unpacks a whole bzip2/LZMA block in one call: 3.6 KB became gigabytes before any cap
    buf = io.BytesIO(zip_bytes(digits_zip_entries(per_class=6)))
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("my photos/one/big.bmp", b"BM" + bytes(1_000_000), compress_type=method)
    err = _refusal(buf.getvalue())
    assert err.code == "archive.unsupported_compression"
    text = err.render()
    assert f"photos.zip was packed with {named} compression ('my photos/one/big.bmp')" in text
    assert "normal zip tool" in text


def test_an_unknown_compression_method_is_named_by_its_number():
    data = bytearray(zip_bytes(digits_zip_entries(per_class=6), compression=zipfile.ZIP_STORED))
    record = data.rindex(b"PK\x01\x02")
    data[record + 10 : record + 12] = (93).to_bytes(2, "little")  # Zstandard, which newer tools offer
    assert "Zstandard compression" in _refusal(bytes(data)).render()


def test_an_entry_whose_header_overstates_its_packed_size_is_measured_by_what_is_read():
    # 30 MB of zeros pack to 30 KB; the header claims 1 MB packed (ratio 30, under the cap of 100),
    # and a megabyte of other data follows, so zipfile reads on without noticing
    entries = {"my photos/one/big.bmp": b"BM" + bytes(30_000_000)}
    entries["my photos/notes.bin"] = np.random.default_rng(0).bytes(1_100_000)
    entries.update(digits_zip_entries(per_class=6))
    data = bytearray(zip_bytes(entries))
    record = data.index(b"PK\x01\x02")  # the bomb's directory record
    data[record + 20 : record + 24] = (1_000_000).to_bytes(4, "little")
    err = _refusal(bytes(data))
    assert err.code == "archive.bomb" and "'my photos/one/big.bmp' unpacks to more than 100 times" in err.render()


@pytest.fixture(scope="module")
def million_entries(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("million")
    write(folder / "million.zip", zip_with_many_entries(1_000_000))
    write(folder / "million_liar.zip", zip_with_many_entries(1_000_000, declared=10))
    return folder


@pytest.mark.parametrize("name, says", [
    ("million.zip", "million.zip holds 1,000,000 entries, more than the 100,000 this server accepts."),
    ("million_liar.zip", "million_liar.zip holds more than 100,000 files."),  # its end record says 10
])
def test_a_million_entries_are_refused_before_zipfile_parses_them(million_entries, name, says):
    out = _load_in_fresh_process(million_entries / name)
    assert out["code"] == "archive.too_many_entries" and says in out["message"]
    # Importing core.data is about 140 MB; zipfile's parse of the directory alone took 500 MB more.
    assert out["peak"] < 0.3 * GB


def test_the_directory_count_agrees_with_zipfile_on_ordinary_zips():
    plain = zip_bytes(digits_zip_entries(per_class=3))
    buf = io.BytesIO(plain)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.comment = b"made by a camera"
    commented = buf.getvalue()
    self_extracting = b"MZ" + bytes(5000) + plain  # data in front, as an .exe installer has
    zip64 = zip_with_many_entries(70_000)
    for data in (plain, commented, self_extracting, zip64):
        handle = io.BytesIO(data)
        directory = find_central_directory(handle)
        expected = len(zipfile.ZipFile(io.BytesIO(data)).infolist())
        assert count_records(handle, directory, stop_after=10**6) == expected
        assert directory.entries == expected


def test_a_damaged_directory_is_not_a_zip():
    data = bytearray(zip_bytes(digits_zip_entries(per_class=6)))
    record = data.index(b"PK\x01\x02")
    data[record : record + 4] = b"XXXX"
    assert _refusal(bytes(data)).code == "archive.not_zip"


def test_a_folder_of_too_many_files_is_refused_while_it_is_listed(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_ENTRIES", "10")
    for path, data in digits_zip_entries(per_class=6).items():
        write(tmp_path / path, data)
    with pytest.raises(UserError) as info:
        load_image_folder(tmp_path)
    assert info.value.code == "archive.too_many_entries" and "more than 10 files" in info.value.render()


# ---------------------------------------------------------------- images


@pytest.fixture(scope="module")
def big_images_zip(tmp_path_factory) -> Path:
    """Two classes of five 6300×6300 PNGs (39.7 Mpx): 16-bit grayscale ones (converted through
    float64 they took 1 GB each) and palette ones with a transparent colour (turned RGBA, 8 bytes
    a pixel while shrunk). Same pixels within a class, other bytes."""
    scan, poster = big_png(6300, "I;16"), big_png(6300, "P")
    entries = {}
    for i in range(5):
        entries[f"scans/{i}.png"] = png_with_note(scan, f"scan {i}")
        entries[f"posters/{i}.png"] = png_with_note(poster, f"poster {i}")
    return write(tmp_path_factory.mktemp("big") / "big.zip", zip_bytes(entries))


def test_forty_megapixel_16_bit_and_transparent_images_decode_under_1_gb(big_images_zip):
    out = _load_in_fresh_process(big_images_zip)
    assert out.get("rows") == 10 and out["classes"] == ["posters", "scans"], out
    assert out["low"] < 30 and out["high"] > 225  # the ramps survive: scaled, not clipped or blank
    assert out["peak"] < GB


def test_a_tiny_file_with_a_huge_canvas_is_skipped_as_a_bomb():
    entries = digits_zip_entries(per_class=6)
    entries["my photos/one/canvas.gif"] = gif_with_big_canvas(6300, 6300)  # 35 bytes, 40 Mpx
    entries["my photos/two/canvas.bmp"] = bmp_rle_with_big_canvas(6300, 6300)  # 164 bytes
    ds = load_image_zip(zip_bytes(entries), "photos.zip")
    assert ds.n_rows == 18
    reasons = {s.file: s.reason for s in ds.skipped}
    assert reasons["my photos/one/canvas.gif"] == (
        "too many pixels for its file size (6300×6300 in 35 bytes, a possible decompression bomb)")
    assert "in 164 bytes" in reasons["my photos/two/canvas.bmp"]


def test_an_archive_of_nothing_but_such_files_says_why_nothing_was_used():
    err = _refusal(canvases_zip(per_class=500, side=6300), "canvases.zip")  # cats/ and dogs/
    assert err.code == "images.none"
    assert err.render() == (
        "No usable image was found in canvases.zip: 1000 file(s) were skipped, for example 'cats/0.gif': "
        "too many pixels for its file size (6300×6300 in 35 bytes, a possible decompression bomb).")


def test_the_pixels_per_byte_cap_leaves_a_blank_photo_alone_and_can_be_raised(monkeypatch):
    buf = io.BytesIO()
    Image.new("L", (4000, 3000), 255).save(buf, format="WEBP", lossless=True)  # a white page: 23,000 px a byte
    assert decode_image(buf.getvalue(), (3, 4), 1).min() == 255
    canvas = gif_with_big_canvas(2000, 2000)
    with pytest.raises(UserError):
        decode_image(canvas, (8, 8), 1)
    monkeypatch.setenv("LAYERLAB_MAX_PIXELS_PER_BYTE", "200000")
    assert decode_image(canvas, (8, 8), 1).shape == (8, 8, 1)


@pytest.mark.parametrize("budget", [10, 60])  # runs out while the zip is read / while images decode
def test_loading_ends_at_the_time_budget_with_a_plain_message(monkeypatch, budget):
    monkeypatch.setenv("LAYERLAB_MAX_LOAD_SECONDS", str(budget))
    ticks = itertools.count()
    monkeypatch.setattr("core.data.limits.monotonic", lambda: next(ticks))  # a clock a second per look
    err = _refusal(zip_bytes(digits_zip_entries(per_class=8)), "slow.zip")
    assert err.code == "limits.too_slow"
    assert err.render().startswith(f"Loading slow.zip took longer than the {budget} seconds this server allows")
    assert "LAYERLAB_MAX_LOAD_SECONDS" in err.render()


def test_a_turned_photo_is_shrunk_to_its_upright_size():
    im = Image.new("RGB", (32, 16), (255, 0, 0))  # stored sideways: left half red, right half blue
    im.paste((0, 0, 255), (16, 0, 32, 16))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display: the left half ends up on top
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    upright = decode_image(buf.getvalue(), (8, 4), 3).astype(int)
    assert np.abs(upright[1, :] - [255, 0, 0]).max() < 40
    assert np.abs(upright[6, :] - [0, 0, 255]).max() < 40


# ---------------------------------------------------------------- class folders


def test_class_folders_differing_only_in_unicode_normalisation_are_one_class():
    entries = {}
    for i, (label, pixels) in enumerate(digit_images(6, classes=(1, 2))):
        # macOS writes "café" decomposed (e + combining accent), Windows and Linux composed
        folder = unicodedata.normalize("NFD" if i % 2 else "NFC", "café") if label == 1 else "thé"
        entries[f"{folder}/{i}.png"] = encode_image(pixels)
    ds = load_image_zip(zip_bytes(entries), "drinks.zip")
    assert ds.classes == ["café", "thé"] and ds.n_rows == 12
    assert ds.classes[0] == unicodedata.normalize("NFC", "café")


def test_utf8_folder_names_without_the_utf8_flag_are_read_as_utf8():
    entries = {}
    for i, (label, pixels) in enumerate(digit_images(6, classes=(1, 2))):
        folder = unicodedata.normalize("NFD", "café") if label == 1 else "猫"  # as macOS's Finder zips them
        entries[f"{folder}/{i}.png"] = encode_image(pixels)
    ds = load_image_zip(without_utf8_flag(zip_bytes(entries)), "finder.zip")
    assert ds.classes == ["café", "猫"]  # not "cafe╠ü" and "τî½"
    assert {unicodedata.normalize("NFC", f.split("/")[0]) for f in ds.files_test} == {"café", "猫"}  # paths too


def test_byte_identical_images_are_used_once_and_listed():
    entries = digits_zip_entries(per_class=6)
    original = "my photos/one/img006.png"
    entries["my photos/two/copy.png"] = entries[original]  # the same file in another class
    entries["my photos/one/again.png"] = entries[original]
    ds = load_image_zip(zip_bytes(entries), "photos.zip")
    assert ds.n_rows == 18
    assert {s.file: s.reason for s in ds.skipped} == {
        "my photos/two/copy.png": f"the same file as {original}; only that one is used",
        "my photos/one/again.png": f"the same file as {original}; only that one is used",
    }
    rows = np.concatenate([ds.x_train, ds.x_val, ds.x_test]).reshape(ds.n_rows, -1)
    assert len(np.unique(rows, axis=0)) == ds.n_rows  # no image in two places, so none in two splits


def test_images_at_several_depths_get_a_message_that_says_so():
    entries = digits_zip_entries(per_class=6, prefix="data/top/")
    entries["data/stray.png"] = encode_image(digit_images(1, classes=(9,))[0][1])
    err = _refusal(zip_bytes(entries), "nested.zip")
    assert err.code == "images.mixed_depths"
    assert err.render().startswith(
        "nested.zip has images at different folder depths (for example 'data/stray.png' and "
        "'data/top/zero/img000.png')")
    assert "one folder per class" in err.render() and "'top'" not in err.render()
