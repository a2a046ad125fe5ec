"""Image zips and folders: nested class folders, junk, damaged files, modes, and every refusal."""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data import decode_image, load_data, load_image_folder, load_image_zip
from core.errors import UserError
from tests.datafiles import digit_images, digits_zip_entries, encode_image, write, zip_bytes


def _refusal(data: bytes, name: str = "photos.zip") -> UserError:
    with pytest.raises(UserError) as info:
        load_image_zip(data, name)
    return info.value


def test_nested_class_folders_with_junk_and_a_corrupt_file(tmp_path):
    entries = digits_zip_entries(per_class=8)
    good_png = next(iter(entries.values()))
    entries.update(
        {
            "__MACOSX/my photos/zero/._img000.png": b"\x00\x05\x16\x07junk",
            "my photos/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "my photos/readme.txt": b"cats and dogs",
            "my photos/one/broken.png": b"this is not a png at all",
            "my photos/two/truncated.png": good_png[: len(good_png) // 2],
            "my photos/two/more.zip": zip_bytes({"x.png": good_png}),
        }
    )
    ds = load_data(write(tmp_path / "photos.zip", zip_bytes(entries)))
    assert ds.kind == "images" and ds.classes == ["one", "two", "zero"]
    assert ds.n_rows == 24 and ds.image_size == (8, 8) and ds.channels == 1
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape[1:] == (8, 8, 1)
    skipped = {s.file: s.reason for s in ds.skipped}
    assert set(skipped) == {"my photos/one/broken.png", "my photos/two/truncated.png", "my photos/two/more.zip"}
    assert "not a PNG" in skipped["my photos/one/broken.png"]
    assert "truncated" in skipped["my photos/two/truncated.png"]
    assert "nested archives" in skipped["my photos/two/more.zip"]
    assert len(ds.files_test) == len(ds.x_test) and all(f.startswith("my photos/") for f in ds.files_test)


def test_images_are_accepted_by_content_not_by_name():
    entries = {}
    for i, (label, pixels) in enumerate(digit_images(6, classes=(3, 4))):
        fmt = ["PNG", "JPEG", "BMP", "GIF", "WEBP", "PNG"][i % 6]
        entries[f"./{label}/picture{i}.dat"] = encode_image(pixels, fmt)
    ds = load_image_zip(zip_bytes(entries), "mixed.zip")
    assert ds.n_rows == 12 and ds.skipped == [] and ds.classes == ["3", "4"]


def test_mixed_sizes_and_modes_become_one_size_in_colour():
    images = digit_images(6, classes=(5, 6))
    modes = ["L", "RGB", "RGBA", "P", "1", "L"]
    entries = {
        f"{label}/{i}.png": encode_image(pixels, mode=modes[i % 6], size=(16, 16) if i % 3 else (24, 12))
        for i, (label, pixels) in enumerate(images)
    }
    ds = load_image_zip(zip_bytes(entries), "mixed.zip")
    assert ds.channels == 3 and ds.image_size == (16, 16)
    assert ds.x_train.shape[1:] == (16, 16, 3)
    assert any("resized to 16×16" in w for w in ds.warnings)
    smaller = load_image_zip(zip_bytes(entries), "mixed.zip", image_size=(10, 12))
    assert smaller.input_shape == (10, 12, 3)


def test_sixteen_bit_and_cmyk_images_are_converted_properly():
    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1040)  # 0 .. 65520
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, format="PNG")
    gray = decode_image(buf.getvalue(), (8, 8), 1)
    assert (gray[0, 0, 0], gray[1, 0, 0], gray[7, 7, 0]) == (0, 32, 255)  # scaled down, not clipped at 255
    red = Image.new("RGB", (8, 8), (200, 30, 30)).convert("CMYK")
    buf = io.BytesIO()
    red.save(buf, format="JPEG", quality=95)
    rgb = decode_image(buf.getvalue(), (8, 8), 3)
    assert np.abs(rgb[4, 4].astype(int) - [200, 30, 30]).max() < 12


def test_transparent_pixels_become_white():
    im = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    assert decode_image(buf.getvalue(), (5, 10), 3).min() == 255


def test_decode_image_refuses_a_non_image():
    with pytest.raises(UserError) as info:
        decode_image(b"%PDF-1.4 not an image", (8, 8), 1)
    assert info.value.code == "image.unreadable" and "PNG, JPEG" in info.value.render()


def test_image_over_the_pixel_cap_is_skipped_and_the_rest_kept(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_IMAGE_PIXELS", "1000")
    entries = digits_zip_entries(per_class=6)
    entries["my photos/one/huge.png"] = encode_image(np.zeros((64, 64), np.uint8))
    ds = load_image_zip(zip_bytes(entries), "photos.zip")
    assert ds.n_rows == 18
    assert [s.file for s in ds.skipped] == ["my photos/one/huge.png"]
    assert "decompression bomb" in ds.skipped[0].reason


def test_format_outside_the_allow_list_is_skipped():
    entries = digits_zip_entries(per_class=6)
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, format="TIFF")
    entries["my photos/one/scan.tif"] = buf.getvalue()
    ds = load_image_zip(zip_bytes(entries), "photos.zip")
    assert [s.file for s in ds.skipped] == ["my photos/one/scan.tif"] and ds.n_rows == 18


def test_not_a_zip_is_refused():
    err = _refusal(b"name,age\nann,3\n", "photos.zip")
    assert err.code == "archive.not_zip" and "photos.zip is not a zip archive" in err.render()


@pytest.mark.parametrize("entry", ["../evil.png", "/etc/evil.png", "one\\..\\..\\evil.png", "a/../../evil.png"])
def test_zip_slip_entries_are_refused(entry):
    entries = digits_zip_entries(per_class=6)
    entries[entry] = next(iter(entries.values()))
    err = _refusal(zip_bytes(entries))
    assert err.code == "archive.unsafe_path" and entry in err.render()


def test_symlink_entries_are_skipped_not_followed():
    entries = digits_zip_entries(per_class=6)
    buf = io.BytesIO(zip_bytes(entries))
    with zipfile.ZipFile(buf, "a") as zf:
        link = zipfile.ZipInfo("my photos/one/link.png")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    ds = load_image_zip(buf.getvalue(), "photos.zip")
    assert [(s.file, "symbolic link" in s.reason) for s in ds.skipped] == [("my photos/one/link.png", True)]


def test_zip_bomb_is_refused_by_ratio_while_reading():
    entries = digits_zip_entries(per_class=6)
    entries["my photos/one/big.bmp"] = b"BM" + bytes(20_000_000)
    err = _refusal(zip_bytes(entries))
    assert err.code == "archive.bomb" and "big.bmp" in err.render()


def test_total_uncompressed_size_is_capped(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_UNCOMPRESSED_BYTES", "2000")
    err = _refusal(zip_bytes(digits_zip_entries(per_class=10)))
    assert err.code == "archive.too_big_uncompressed" and "2.0 KB" in err.render()


def test_too_many_entries_is_refused(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_ENTRIES", "10")
    err = _refusal(zip_bytes(digits_zip_entries(per_class=6)))
    assert err.code == "archive.too_many_entries" and "18 entries" in err.render()


def test_a_single_class_is_refused():
    err = _refusal(zip_bytes(digits_zip_entries(per_class=6, classes=(7,))))
    assert err.code == "images.one_class" and "('seven')" in err.render()


def test_a_class_with_too_few_images_is_refused():
    entries = digits_zip_entries(per_class=6, classes=(1,))
    entries.update(digits_zip_entries(per_class=2, classes=(2,)))
    err = _refusal(zip_bytes(entries))
    assert err.code == "split.class_too_small" and "'two' (2)" in err.render()


def test_images_outside_class_folders_are_refused():
    entries = {f"img{i}.png": encode_image(p) for i, (_, p) in enumerate(digit_images(4))}
    assert _refusal(zip_bytes(entries)).code == "images.no_class_folders"


def test_image_folder_loads_like_a_zip_and_skips_links(tmp_path):
    for path, data in digits_zip_entries(per_class=6).items():
        write(tmp_path / path, data)
    os.symlink("/etc/passwd", tmp_path / "my photos" / "one" / "link.png")
    ds = load_data(tmp_path / "my photos")
    assert ds.classes == ["one", "two", "zero"] and ds.n_rows == 18
    assert [s.file for s in ds.skipped] == ["one/link.png"]
    assert load_image_folder(tmp_path).classes == ["one", "two", "zero"]


def test_phone_photo_rotation_is_applied():
    im = Image.new("RGB", (16, 8), (255, 0, 0))  # stored sideways: left half red, right half blue
    im.paste((0, 0, 255), (8, 0, 16, 8))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the left half ends up on top
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    upright = decode_image(buf.getvalue(), (16, 8), 3).astype(int)
    assert np.abs(upright[2, :] - [255, 0, 0]).max() < 40
    assert np.abs(upright[13, :] - [0, 0, 255]).max() < 40


def test_big_photos_shrink_by_default_and_sizes_are_checked(monkeypatch):
    entries = {
        f"{label}/{i}.jpg": encode_image(pixels, "JPEG", mode="RGB", size=(400, 300))
        for i, (label, pixels) in enumerate(digit_images(5, classes=(1, 2)))
    }
    data = zip_bytes(entries)
    assert load_image_zip(data, "photos.zip").image_size == (96, 128)
    with pytest.raises(UserError) as info:
        load_image_zip(data, "photos.zip", image_size=(0, 64))
    assert info.value.code == "images.bad_size"
    monkeypatch.setenv("LAYERLAB_MAX_PIXEL_BYTES", "30000")
    small = load_image_zip(data, "photos.zip")
    assert small.image_size[0] * small.image_size[1] * 3 * 10 <= 30000
    assert any("smaller" in w for w in small.warnings)
    with pytest.raises(UserError) as info:
        load_image_zip(data, "photos.zip", image_size=(64, 64))
    assert info.value.code == "images.too_much_memory" and "10 images of 64×64" in info.value.render()


def test_an_entry_whose_header_understates_its_size_is_not_trusted():
    entries = digits_zip_entries(per_class=6)
    entries["my photos/one/liar.bmp"] = b"BM" + bytes(500_000)
    data = bytearray(zip_bytes(entries))
    central = data.rindex(b"PK\x01\x02")  # the last entry's central directory record
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")  # claims 100 bytes uncompressed
    ds = load_image_zip(bytes(data), "photos.zip")
    assert ds.n_rows == 18
    assert [s.file for s in ds.skipped] == ["my photos/one/liar.bmp"] and "damaged" in ds.skipped[0].reason
