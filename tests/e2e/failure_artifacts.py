"""What a failed browser test leaves behind: each page's screenshot and text, and the server log's tail."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from uidriver.ui import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"


def run_failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120]


def keep_failure_artifacts(test_name: str, pages: list[Page], server_log: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for number, page in enumerate(pages, start=1):
        stem = ARTIFACTS / f"{safe_name(test_name)}-user{number}"
        try:
            page.screenshot(path=f"{stem}.png", full_page=True)
            text = page.inner_text("body")
        except Exception as error:  # the page may have crashed; report what we can
            text = f"(page unreadable: {error})"
        Path(f"{stem}.txt").write_text(text)
        print(f"\n===== page text, user {number} ({page.url}) — screenshot {stem}.png =====\n{text}")
    log_tail = server_log.read_text(errors="replace")[-4000:] if server_log.exists() else ""
    print(f"\n===== streamlit server log (tail) =====\n{log_tail}", file=sys.stdout)
