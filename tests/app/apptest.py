"""AppTest helpers: a fresh app, a page opened the way the menu does, a sample workspace,
and what a run of the app showed (errors, exceptions)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 60


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


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


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def exceptions(at: AppTest) -> list[str]:
    return [e.value for e in at.exception]
