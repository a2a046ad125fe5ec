"""Make my own image classes in the browser: pictures dropped per class and shots from a camera
(Chromium's fake device, fed a red video), used as the dataset, trained, and Try it with the camera."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.failure_artifacts import keep_failure_artifacts, run_failed
from uidriver import chromium, flows
from uidriver.ui import assert_no_traceback, go_to, open_app, press, wait_idle, widget

RED, BLUE = (200, 30, 30), (30, 60, 210)
SIDE = 32


def png_files(folder: Path, name: str, colour: tuple[int, int, int], n: int, seed: int) -> list[str]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        pixels = np.clip(np.array(colour) + rng.normal(0, 25, (SIDE, SIDE, 3)), 0, 255).astype(np.uint8)
        path = folder / f"{name}{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


def red_video(path: Path, frames: int = 30) -> Path:
    """A Y4M video of red noise (every frame different, so two shots differ) for the fake camera."""
    rng = np.random.default_rng(0)
    width, height = 64, 48
    r, g, b = RED
    y, u, v = 0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.169 * r - 0.331 * g + 0.5 * b, 128 + 0.5 * r - 0.419 * g - 0.081 * b
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(np.clip(y + rng.normal(0, 20, (height, width)), 0, 255).astype(np.uint8).tobytes())
            out.write(np.full((height // 2, width // 2), round(u), np.uint8).tobytes())
            out.write(np.full((height // 2, width // 2), round(v), np.uint8).tobytes())
    return path


@pytest.fixture
def camera_page(request: pytest.FixtureRequest, browser: Browser, app_url: str, server_log: Path,
                tmp_path: Path) -> Iterator[Page]:
    """A user whose browser has a camera that films red noise (a browser of its own: the flags are per launch)."""
    video = red_video(tmp_path / "red.y4m")
    with_camera = browser.browser_type.launch(
        executable_path=chromium.CHROMIUM, headless=True,
        args=[*chromium.CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"],
    )
    context = with_camera.new_context(viewport={"width": 1400, "height": 1000}, permissions=["camera"])
    context.set_default_timeout(30_000)
    page = context.new_page()
    open_app(page, app_url)
    try:
        yield page
        if run_failed(request.node):
            keep_failure_artifacts(request.node.name, [page], server_log)
    finally:
        context.close()
        with_camera.close()


def add_class(page: Page, name: str) -> None:
    field = widget(page, "new_class_name").locator("input")
    field.fill(name)
    field.press("Enter")
    wait_idle(page)
    press(page, "add_class")
    expect(widget(page, "my_classes")).to_contain_text(name)


def drop_files(page: Page, key: str, paths: list[str]) -> None:
    widget(page, key).locator("input[type=file]").set_input_files(paths)
    expect(widget(page, key).get_by_text(Path(paths[-1]).name)).to_be_visible()
    wait_idle(page)


def take_photo(page: Page, box) -> None:
    """Press Take Photo, wait for the picture to be used (the camera then offers Clear photo). A press
    before the video's first frame has arrived takes nothing (the page stays as it was): press again."""
    take = box.get_by_role("button", name="Take Photo")
    clear = box.get_by_role("button", name="Clear photo")
    expect(take).to_be_enabled(timeout=30_000)  # the stream is live
    for _ in range(10):
        if clear.is_visible():
            break
        try:
            take.click(timeout=2_000)
            expect(clear).to_be_visible(timeout=3_000)
        except (AssertionError, PlaywrightTimeoutError):  # nothing taken yet, or the upload is still on its way
            continue
    expect(clear).to_be_visible()
    wait_idle(page)


def test_classes_from_files_and_camera_train_and_the_camera_asks_the_model(camera_page: Page, tmp_path: Path) -> None:
    page = camera_page
    go_to(page, "Data")
    add_class(page, "apples")
    add_class(page, "sky")
    section = widget(page, "my_classes")
    drop_files(page, "class_files_1", png_files(tmp_path, "sky", BLUE, 10, seed=1))
    expect(section).to_contain_text(re.compile(r"sky · 10 pictures: enough to train"))
    drop_files(page, "class_files_0", png_files(tmp_path, "apples", RED, 8, seed=2))
    expect(section).to_contain_text("apples · 8 of at least 10 pictures")
    expect(widget(page, "use_my_classes").get_by_role("button")).to_be_disabled()

    widget(page, "class_camera_on_0").get_by_text("Use the camera").click()
    wait_idle(page)
    camera = widget(page, "class_camera_0")
    take_photo(page, camera)
    expect(section).to_contain_text("apples · 9 of at least 10 pictures")
    camera.get_by_role("button", name="Clear photo").click()
    wait_idle(page)
    take_photo(page, camera)
    expect(section).to_contain_text("apples · 10 pictures: enough to train")
    expect(section.get_by_test_id("stImage")).to_have_count(20)  # the thumbnails
    assert_no_traceback(page)

    press(page, "use_my_classes")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("my_classes")
    expect(page.get_by_test_id("stMain")).to_contain_text("20 images of 32×32 pixels, 2 classes")

    ended = flows.train(page, epochs=3, batch_size=8)
    assert "Training finished" in ended, ended

    go_to(page, "Evaluate")
    main = page.get_by_test_id("stMain")
    page.locator("[class*='st-key-try_camera_on_']").get_by_text("Use the camera").click()
    wait_idle(page)
    take_photo(page, page.locator("[class*='st-key-try_camera_run']"))
    prediction = main.get_by_text(re.compile(r"Prediction:")).first
    expect(prediction).to_be_visible(timeout=60_000)
    assert re.search(r"Prediction:\s*(apples|sky)\s*\(\d", prediction.inner_text()), prediction.inner_text()
    assert_no_traceback(page)
