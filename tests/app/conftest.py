"""AppTest helpers: a fresh app per test, sample workspaces, CSV bytes from scikit-learn data."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 60


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


@pytest.fixture
def app() -> AppTest:
    """The app, not yet run."""
    return new_app()


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app once (Home), then open `page` ("pages/data.py") the way the menu does."""
    at.run()
    return at.switch_page(page).run()


def workspace_with_sample(name: str = "iris", with_design: bool = True):
    """A Workspace holding a built-in sample (and its default design), as after the Data step."""
    from components.designer import default_design
    from components.state.workspace import Workspace
    from core.data import load_sample

    ws = Workspace()
    ws.set_dataset(load_sample(name), f"sample:{name}")
    if with_design:
        ws.spec, ws.template_id = default_design(ws.dataset)
    return ws


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def wine_frame() -> pd.DataFrame:
    """scikit-learn's wine table with two label columns: the cultivar (3 classes, last) and a
    strength band (2 classes), so changing the target changes the classes."""
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame["strength"] = (frame["alcohol"] > frame["alcohol"].median()).map({True: "strong", False: "light"})
    frame["cultivar"] = [bunch.target_names[i] for i in bunch.target]
    return frame


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def exceptions(at: AppTest) -> list[str]:
    return [e.value for e in at.exception]
