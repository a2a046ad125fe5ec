"""The suite's own layout. Tests share code through plain helper modules (data files from
tests/datafiles.py, AppTest helpers from tests/app/apptest.py), never by importing another test
module or a conftest; the benchmarks drive the browser through uidriver/, never through tests/."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` (a module of `package`) imports, function-level imports included.
    `from a.b import c` counts as importing both `a.b` and `a.b.c`, since `c` may be a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x` is the package itself, each dot one level up
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _imports(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every Python file under `folder`."""
    pairs = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        package = ".".join(path.relative_to(ROOT).parent.parts)
        pairs += [(str(path.relative_to(ROOT)), module) for module in imported_modules(path.read_text(encoding="utf-8"), package)]
    return pairs


def _is_test_or_conftest(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name.startswith("test_") or name == "conftest"


def test_no_test_file_imports_a_test_module_or_a_conftest():
    offenders = [f"{path} imports {module}" for path, module in _imports("tests") if _is_test_or_conftest(module)]
    assert offenders == []


def test_the_benchmarks_and_the_browser_driver_never_import_the_tests():
    offenders = [
        f"{path} imports {module}"
        for folder in ("bench", "uidriver")
        for path, module in _imports(folder)
        if module == "tests" or module.startswith("tests.")
    ]
    assert offenders == []


def test_the_check_sees_imports_inside_functions_and_relative_ones():
    source = (
        "def builder():\n"
        "    from tests.unit.test_data_csv import german_excel_wine\n"
        "from . import conftest\n"
        "from ..e2e import flows\n"
    )
    found = imported_modules(source, "tests.app")
    assert {"tests.unit.test_data_csv", "tests.app.conftest", "tests.e2e.flows"} <= found
    assert _is_test_or_conftest("tests.unit.test_data_csv") and _is_test_or_conftest("tests.app.conftest")
    assert not _is_test_or_conftest("tests.app.apptest")
