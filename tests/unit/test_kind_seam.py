"""The seams the code grows along: data kinds are asked, not tested for; core stays headless."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KIND_HOMES = ("core/data/kinds/", "components/kind_views/")
# `x.kind == "table"`, `"images" != kind`, `kind in ("table", ...)`, `a.kind == b.kind`
KIND_TEST = re.compile(
    r"""(==|!=|\bin)\s*\(?\s*["'](table|images|text)["']|["'](table|images|text)["']\s*(==|!=)|\bkind\s*(==|!=)\s*[\w.]+\.kind\b"""
)


def _sources():
    for folder in ("core", "components", "pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    yield "app.py", (ROOT / "app.py").read_text(encoding="utf-8")


def test_only_the_kind_modules_tell_the_data_kinds_apart():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in _sources()
        if not name.startswith(KIND_HOMES) and not name.startswith("core/layers/")  # layers tag what they suit
        for number, line in enumerate(text.splitlines(), start=1)
        if KIND_TEST.search(line)
    ]
    # Template.suits is the one place a template's kind is matched with the data's.
    assert [place.split(":")[0] for place in found] == ["core/templates.py"], "\n".join(found)


def test_core_never_imports_streamlit():
    offenders = [
        name for name, text in _sources()
        if name.startswith("core/") and re.search(r"^\s*(import streamlit|from streamlit)", text, re.MULTILINE)
    ]
    assert offenders == []
    code = ("import sys, core.cli, core.data.loading, core.data.images, core.data.samples, core.build, core.codegen, "
            "core.export, core.training; print('streamlit' in sys.modules)")  # core.data imports its modules lazily
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip() == "False", done.stderr[-500:]
