"""Collect every user-facing English string and write locales/en.json; report what zh.json lacks.

    .venv/bin/python scripts/i18n_extract.py            # write en.json, report
    .venv/bin/python scripts/i18n_extract.py --check    # write nothing; exit 1 if en.json is stale or zh.json lacks keys
    .venv/bin/python scripts/i18n_extract.py --sync-zh  # also rewrite zh.json in en.json's order, dropping stale keys

Where strings come from:
- the source (AST): `t("…")` and `N_("…")` literals in app.py, pages/, components/; dicts read
  through `t(NAME[...])` / `t(NAME.get(...))` (module-level, or imported from core: then read by
  import) and module-level dicts named `*_EN`; error templates
  `UserError(code, "…")`, `ParamProblem`, `LayerProblem` (shown as "Layer N (Type): …"),
  shape-report `Notice(code, "…")` / `_layer_notice(code, "…")` anywhere in the tree;
- the catalog and other core tables, by import (pure Python, no Keras): layer, setting and
  optimizer help lines, the blocks' and the Backbone entry's own settings (help and label), the
  backbones' notes, template names and
  descriptions, sample descriptions, training end messages, and core.i18n.CORE_FRAGMENTS
  (English pieces core builds into rows and messages).

An f-string passed to t() cannot be a key: it is reported as a problem.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UI_SOURCES = ("app.py", "pages", "components")
ERROR_SOURCES = ("core", "pages", "components", "app.py")
ERROR_CLASSES = {"UserError", "ParamProblem", "LayerProblem", "Notice", "_layer_notice"}
# core.shapes puts this in front of a LayerProblem's template (see core.shapes._layer_notice).
LAYER_PREFIX = "Layer {layer} ({type}): "


def variant_key(code: str, number: int) -> str:
    return code if number == 1 else f"{code}#{number}"


@dataclass
class Catalog:
    messages: dict[str, str] = field(default_factory=dict)  # English text -> where first seen
    error_origin: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def message(self, text: str, where: str) -> None:
        if text.strip():
            self.messages.setdefault(text, where)

    variants: dict[str, list[str]] = field(default_factory=dict)  # code -> its templates, in source order

    def error(self, code: str, template: str, where: str) -> None:
        templates = self.variants.setdefault(code, [])
        if template not in templates:
            templates.append(template)
            self.error_origin.setdefault(variant_key(code, len(templates)), where)

    def error_keys(self, previous: dict[str, str]) -> dict[str, str]:
        """code (or code#N for a code raised with several templates) -> English template.

        A variant keeps the key it had in the previous en.json, so moving code around does not
        pair a translation with the wrong sentence; new variants take the next free number.
        """
        keys: dict[str, str] = {}
        for code, templates in self.variants.items():
            before = {template: key for key, template in previous.items() if key.split("#")[0] == code}
            taken = {before[t] for t in templates if t in before}
            free = (variant_key(code, n) for n in range(1, len(templates) + len(taken) + 2)
                    if variant_key(code, n) not in taken)
            for template in templates:
                keys[before.get(template) or next(free)] = template
        return dict(sorted(keys.items()))


def python_files(sources: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for name in sources:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _literal(node: ast.AST) -> str | None:
    """A plain string constant (implicit concatenation is already one Constant), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _strings_in(node: ast.AST) -> list[str]:
    """Every string constant inside a literal (dict values, tuples, nested)."""
    if isinstance(node, ast.Dict):
        return [s for value in node.values for s in _strings_in(value)]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for item in node.elts for s in _strings_in(item)]
    text = _literal(node)
    return [text] if text is not None else []


def _module_dicts(tree: ast.Module) -> dict[str, ast.Dict]:
    out: dict[str, ast.Dict] = {}
    for stmt in tree.body:
        target, value = None, None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            target, value = stmt.target.id, stmt.value
        if target and isinstance(value, ast.Dict):
            out[target] = value
    return out


def _dict_read_by_t(arg: ast.AST) -> str | None:
    """NAME for `t(NAME[...])` and `t(NAME.get(...))`."""
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
        return arg.value.id
    if (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "get"
            and isinstance(arg.func.value, ast.Name)):
        return arg.func.value.id
    return None


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """name -> module for every `from module import name` in the file (also inside functions)."""
    return {alias.asname or alias.name: node.module
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names}


def _imported_dict_values(module: str, name: str) -> list[str]:
    """String values of a dict another module defines (imported: core tables are plain data)."""
    import importlib

    value = getattr(importlib.import_module(module), name, None)
    return [v for v in value.values() if isinstance(v, str)] if isinstance(value, dict) else []


def scan_ui_file(path: Path, catalog: Catalog) -> None:
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    dicts = _module_dicts(tree)
    imported = _imported_names(tree)
    for name, node in dicts.items():
        if name.endswith("_EN"):
            for text in _strings_in(node):
                catalog.message(text, f"{rel} ({name})")
    for node in sorted(ast.walk(tree), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))):
        if not (isinstance(node, ast.Call) and _call_name(node) in ("t", "N_") and node.args):
            continue
        arg = node.args[0]
        text = _literal(arg)
        name = _dict_read_by_t(arg)
        if text is not None:
            catalog.message(text, f"{rel}:{node.lineno}")
        elif isinstance(arg, ast.JoinedStr):
            catalog.problems.append(f"{rel}:{node.lineno}: t() is given an f-string; use a {{placeholder}} instead")
        elif name in dicts:
            for value in _strings_in(dicts[name]):
                catalog.message(value, f"{rel} ({name})")
        elif name in imported:
            for value in _imported_dict_values(imported[name], name):
                catalog.message(value, f"{imported[name]} ({name})")


def scan_error_file(path: Path, catalog: Catalog) -> None:
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _call_name(node) in ERROR_CLASSES and len(node.args) >= 2):
            continue
        code, template = _literal(node.args[0]), _literal(node.args[1])
        if code is None:
            continue  # re-raising a caught problem: UserError(problem.code, problem.template, ...)
        where = f"{rel}:{node.lineno}"
        if template is None:
            catalog.problems.append(f"{where}: {_call_name(node)}({code!r}, ...) has no literal template")
            continue
        if _call_name(node) in ("LayerProblem", "_layer_notice"):
            template = LAYER_PREFIX + template
        catalog.error(code, template, where)


def scan_core_tables(catalog: Catalog) -> None:
    """Texts core keeps in tables (imported: they are built by code, not written as t() calls)."""
    from core import backbones
    from core import catalog as layer_catalog
    from core import templates
    from core.blocks import BLOCK_PARAMS
    from core.data.samples import SAMPLES
    from core.i18n import CORE_FRAGMENTS
    from core.training import outcome

    for layer in layer_catalog.LAYERS.values():
        catalog.message(layer.help, f"core catalog ({layer.name})")
        catalog.message(layer.category, f"core catalog ({layer.name} category)")
        for param in layer.params:
            catalog.message(param.help, f"core catalog ({layer.name}.{param.name})")
    for optimizer in layer_catalog.OPTIMIZERS.values():
        catalog.message(optimizer.help, f"core catalog ({optimizer.name})")
        for param in optimizer.params:
            catalog.message(param.help, f"core catalog ({optimizer.name}.{param.name})")
    for param in layer_catalog.TRAINING_PARAMS.values():
        catalog.message(param.help, f"core catalog (training.{param.name})")
    for type_name, params in BLOCK_PARAMS.items():  # a block's own settings, drawn like a layer's
        for param in params:
            catalog.message(param.help, f"core.blocks ({type_name}.{param.name})")
            catalog.message(param.label, f"core.blocks ({type_name}.{param.name} label)")
    for param in backbones.NAMED_PARAMS:  # the Backbone entry's settings (MODEL_PARAMS are among them)
        catalog.message(param.help, f"core.backbones ({param.name})")
        catalog.message(param.label, f"core.backbones ({param.name} label)")
    for info in backbones.BACKBONES.values():
        catalog.message(info.note, f"core.backbones ({info.name} note)")
    for tpl in templates.TEMPLATES:
        catalog.message(tpl.name, f"core.templates ({tpl.id})")
        catalog.message(tpl.description, f"core.templates ({tpl.id})")
    for name, description in SAMPLES.items():
        catalog.message(description, f"core.data.samples ({name})")
    for name, value in vars(outcome).items():
        if name.isupper() or name.startswith("_TEMPLATES"):
            texts = value.values() if isinstance(value, dict) else [value]
            for text in texts:
                for item in text if isinstance(text, tuple) else (text,):
                    if isinstance(item, str):
                        catalog.message(item, f"core.training.outcome ({name})")
    for text in CORE_FRAGMENTS:
        catalog.message(text, "core.i18n (CORE_FRAGMENTS)")
    from core.search import trials as search_trials

    for text in search_trials.MESSAGES:
        catalog.message(text, "core.search.trials (MESSAGES)")


def extract() -> Catalog:
    catalog = Catalog()
    for path in python_files(UI_SOURCES):
        scan_ui_file(path, catalog)
    for path in python_files(ERROR_SOURCES):
        scan_error_file(path, catalog)
    scan_core_tables(catalog)
    return catalog


def english_table(catalog: Catalog, previous_errors: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        "messages": {text: text for text in catalog.messages},
        "errors": catalog.error_keys(previous_errors),
    }


def _dump(table: dict) -> str:
    return json.dumps(table, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when something is out of date")
    parser.add_argument("--sync-zh", action="store_true", help="rewrite zh.json in en.json's order without stale keys")
    args = parser.parse_args(argv)

    from core.i18n import LOCALES_DIR, read_table

    catalog = extract()
    en_path = LOCALES_DIR / "en.json"
    previous = read_table(en_path)
    english = english_table(catalog, previous["errors"])
    stale_en = previous != english
    if not args.check:
        en_path.write_text(_dump(english), encoding="utf-8")

    failed = bool(catalog.problems) or (args.check and stale_en)
    for problem in catalog.problems:
        print(f"problem: {problem}")
    if args.check and stale_en:
        print("locales/en.json is out of date: run scripts/i18n_extract.py")
    zh_path = LOCALES_DIR / "zh.json"
    zh = read_table(zh_path)
    for section in ("messages", "errors"):
        missing = [key for key in english[section] if key not in zh[section]]
        stale = [key for key in zh[section] if key not in english[section]]
        failed |= bool(missing)
        print(f"{section}: {len(english[section])} in en.json, {len(missing)} missing from zh.json, {len(stale)} stale in zh.json")
        for key in missing:
            print(f"  missing: {key!r}  ({catalog.messages.get(key) or catalog.error_origin.get(key)})")
        for key in stale:
            print(f"  stale: {key!r}")
    if args.sync_zh and not args.check:
        synced = {section: {k: zh[section][k] for k in english[section] if k in zh[section]} for section in english}
        zh_path.write_text(_dump(synced), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
