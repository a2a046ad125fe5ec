"""train_model.py's fixed code as real Python files, and the functions that cut pieces out of them.

common.py (settings, split, the model's heads, arguments, fit, main), table.py, images.py, text.py and
series.py (each data kind's settings, data loading and the block that opens build_model; text.py also
its own main, series.py its own split, output head and main),
archives.py (class folders in a zip or folder, copied into the images and text scripts: a kind's
`KindScript.shared`) are valid modules: they compile, lint and read like the script they become. core.codegen never
imports them; it reads their text:

- `statements(template, first, last, values)`: the top-level statements from the one that
  defines `first` to the one that defines `last`, as written (with the comment lines right
  above `first`), the example values of the constants named in `values` replaced.
- `block(template, function)`: a function's body between its docstring and its final
  `return`, indented as build_model()'s body.
- `imports(*templates)`: the modules' import lines, standard library first.

A statement is found by the name it defines (def, class, assignment), by the call it makes
(`os.environ.setdefault`), or as `__main__` for the `if __name__ == "__main__":` guard.
"""
from __future__ import annotations

import ast
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

_FOLDER = Path(__file__).parent
_WIDTH = 96  # a long list constant is wrapped to lines of at most this width (an item may be longer)


def statements(template: str, first: str, last: str | None = None, values: dict[str, Any] | None = None) -> str:
    """Source of the statements `first`..`last` of `template`, constants in `values` set to theirs."""
    lines = _parsed(template)[0].splitlines()
    start = _statement(template, first)
    end = _statement(template, last) if last else start
    if end.lineno < start.lineno:
        raise ValueError(f"{template}.py defines {last!r} before {first!r}")
    top = _first_line(start)
    while top > 1 and lines[top - 2].lstrip().startswith("#"):  # the comment lines right above
        top -= 1
    piece = "\n".join(lines[top - 1:end.end_lineno])
    return _with_values(piece, values or {}, template)


def block(template: str, function: str) -> str:
    """The body of `function` between its docstring and its final `return` (which names what it makes)."""
    source, _ = _parsed(template)
    node = _statement(template, function)
    if not (isinstance(node, ast.FunctionDef) and ast.get_docstring(node) and isinstance(node.body[-1], ast.Return)):
        raise ValueError(f"{template}.{function} is not a block: a function with a docstring that ends in return")
    lines = source.splitlines()[node.body[0].end_lineno:node.body[-1].lineno - 1]
    return "\n".join(lines).strip("\n")


def imports(*templates: str) -> tuple[list[str], list[str]]:
    """The templates' top-level imports (not __future__ or core.*): standard library, then the rest.

    Each list is sorted as isort does: `import x` lines, then `from x import y` lines.
    """
    standard, others = set(), set()
    for template in templates:
        for node in _parsed(template)[1].body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if module == "__future__" or module.split(".")[0] == "core":
                    continue
                line = (isinstance(node, ast.ImportFrom), module, ast.unparse(node))
                (standard if module.split(".")[0] in sys.stdlib_module_names else others).add(line)
    return [line for *_, line in sorted(standard)], [line for *_, line in sorted(others)]


def literal(value: Any) -> str:
    """A Python literal for a JSON-like value (strings with double quotes, as in the JSON files)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _constant(value: Any) -> str:
    """A constant's literal; a list of dicts (the table's COLUMNS) one item per line, a long list of
    plain values (MISSING_MARKERS, many CLASSES) wrapped at _WIDTH."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return "[\n" + "".join(f"    {literal(item)},\n" for item in value) + "]"
    text = literal(value)
    if not isinstance(value, list) or len(text) <= _WIDTH:
        return text
    lines = [""]
    for item in (literal(item) + "," for item in value):
        if lines[-1] and len(lines[-1]) + len(item) + 5 > _WIDTH:
            lines.append("")
        lines[-1] += " " + item if lines[-1] else item
    return "[\n" + "".join(f"    {line}\n" for line in lines) + "]"


@lru_cache(maxsize=None)
def _parsed(template: str) -> tuple[str, ast.Module]:
    source = (_FOLDER / f"{template}.py").read_text(encoding="utf-8")
    return source, ast.parse(source, filename=f"{template}.py")


def _statement(template: str, key: str) -> ast.stmt:
    for node in _parsed(template)[1].body:
        if key in _keys(node):
            return node
    raise KeyError(f"core/script_templates/{template}.py has no top-level statement for {key!r}")


def _keys(node: ast.stmt) -> set[str]:
    """What a top-level statement is found by."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)}
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return {ast.unparse(node.value.func)}
    if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
        return {"__main__"}
    return set()


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _with_values(piece: str, values: dict[str, Any], template: str) -> str:
    """`piece` with the value of each constant `NAME = ...` in `values` replaced by its literal."""
    lines = piece.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, byte_column: int) -> int:  # ast columns count UTF-8 bytes
        line = lines[lineno - 1]
        return starts[lineno - 1] + len(line.encode("utf-8")[:byte_column].decode("utf-8"))

    edits = {}
    for node in ast.parse(piece).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in values:
                span = offset(node.value.lineno, node.value.col_offset), offset(node.value.end_lineno, node.value.end_col_offset)
                edits[name] = (*span, _constant(values[name]))
    missing = set(values) - set(edits)
    if missing:
        raise KeyError(f"core/script_templates/{template}.py has no constant {', '.join(sorted(missing))} there")
    for start, end, text in sorted(edits.values(), reverse=True):
        piece = piece[:start] + text + piece[end:]
    return piece
