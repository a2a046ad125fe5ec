"""Flow 6: two people use the app at the same time; neither sees the other's data, runs or files."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests import datafiles
from tests.e2e.model_check import predict_many_in_new_process
from uidriver import flows
from uidriver.ui import assert_no_traceback, download, go_to, page_text, widget


@dataclass
class User:
    page: Page
    csv: Path
    marker: str  # appears in this user's column names only
    classes: list[str]


def assert_sees_only_own(user: User, other: User) -> None:
    text = page_text(user.page) + user.page.get_by_test_id("stApp").text_content()
    assert user.csv.name in text or user.marker in text, f"{user.csv.name}: own data not shown"
    for foreign in (other.csv.name, other.marker, *other.classes):
        assert foreign not in text, f"{user.csv.name}'s page shows {foreign!r} from the other user"


def test_two_users_never_see_each_other(new_user: Callable[[], Page], tmp_path: Path) -> None:
    folder_a, folder_b = tmp_path / "a", tmp_path / "b"
    folder_a.mkdir(), folder_b.mkdir()
    a = User(new_user(), datafiles.garden_iris_csv(folder_a), "user_a", ["setosa", "versicolor", "virginica"])
    b = User(new_user(), datafiles.cellar_wine_csv(folder_b), "user_b", ["cellar_0", "cellar_1", "cellar_2"])
    pairs = ((a, b), (b, a))

    for user in (a, b):
        flows.upload_data(user.page, user.csv)
    for user, other in pairs:
        assert_sees_only_own(user, other)
        go_to(user.page, "Design")
        expect(widget(user.page, "template")).to_be_visible()
        flows.set_training(user.page, epochs=10, batch_size=8)
    # Both runs going at once.
    for user in (a, b):
        flows.start_training(user.page)
    for user, other in pairs:
        flows.wait_for_live_points(user.page, more_than=0)
        assert_sees_only_own(user, other)
    for user in (a, b):
        assert "Run 1: Training finished" in flows.wait_run_end(user.page)
        expect(user.page.get_by_test_id("stMain")).not_to_contain_text("Run 2")
    for user, other in pairs:
        assert_sees_only_own(user, other)
        classes, _ = flows.confusion_matrix_on_page(user.page)
        assert classes == user.classes
        assert_sees_only_own(user, other)

    # Each download is the user's own model: it takes that user's columns.
    from core.data import prepare_table, read_csv

    jobs, datasets = [], []
    for user, other in pairs:
        go_to(user.page, "Export")
        assert_sees_only_own(user, other)
        assert_no_traceback(user.page)
        folder = tmp_path / f"download-{user.marker}"
        folder.mkdir()
        dataset = prepare_table(read_csv(user.csv.read_bytes(), user.csv.name))
        jobs.append(("keras", download(user.page, "download_keras", folder), dataset.x_test))
        datasets.append(dataset)
    for (user, _), dataset, outputs in zip(pairs, datasets, predict_many_in_new_process(jobs, tmp_path)):
        assert list(dataset.classes) == user.classes
        assert outputs.shape == (len(dataset.x_test), len(user.classes))
        assert np.mean(outputs.argmax(axis=1) == dataset.y_test) > 0.5
