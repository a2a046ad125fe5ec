"""The network as a Graphviz diagram (a DOT string for st.graphviz_chart: no extra package needed).

A layer is a box; a block is a dashed frame around its layers that ends in a merge node: a
residual block's shortcut runs from the block's input around its layers (through the projection
box when LayerLab adds one) to the "+" node; branches leave the block's input side by side and
join at the merge node (an empty branch is an arrow straight to it).
"""
from __future__ import annotations

from components.i18n import t, t_core
from core.blocks import RESIDUAL, is_block
from core.catalog import format_shape
from core.shapes import ShapeReport, ShapeRow

LOCKED_FILL = "#E5E7EB"  # input, preprocessing and output head: added by LayerLab, not editable
LAYER_FILL = "#E0E7FF"
MERGE_FILL = "#D1FAE5"  # where a block's paths meet
ERROR_FILL = "#FEE2E2"
WARNING_FILL = "#FEF3C7"
SHORTCUT_COLOR = "#059669"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(*lines: str) -> str:
    """A node label of several lines, escaped for DOT."""
    return "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)


def _title(row: ShapeRow) -> str:
    if row.number:
        return f"{row.number}. {row.type}" if len(row.path) <= 1 else f"{row.label} {row.type}"
    role = {"input": t("Input"), "preprocessing": t("Preprocessing"), "output": t("Output")}.get(row.role, "")
    return t("{role}: {type}", role=role, type=row.type) if role and role != row.type else row.type


def _params(count: int) -> str:
    return " · " + t("{n} params", n=f"{count:,}") if count else ""


def _label(row: ShapeRow) -> str:
    lines = [_title(row)]
    if row.settings:
        lines.append(t_core(row.settings))
    lines.append(f"→ {format_shape(row.output_shape)}" + _params(row.params))
    return _lines(*lines)


def _fill(row: ShapeRow) -> str:
    if row.error:
        return ERROR_FILL
    if row.warning:
        return WARNING_FILL
    return LAYER_FILL if row.role == "layer" else LOCKED_FILL


def _node_id(path: tuple[int, ...], suffix: str = "") -> str:
    return "n_" + "_".join(str(i) if i >= 0 else "s" for i in path) + suffix


class _Dot:
    """Nodes go where they are first written (inside a block's frame or not); edges all at the end."""

    def __init__(self) -> None:
        self.body: list[str] = []
        self.edges: list[str] = []
        self.indent = "  "

    def node(self, name: str, label: str, fill: str, extra: str = "") -> None:
        self.body.append(f'{self.indent}{name} [label="{label}", fillcolor={_quote(fill)}{extra}];')

    def edge(self, start: str, end: str, extra: str = "") -> None:
        self.edges.append(f"  {start} -> {end}{f' [{extra}]' if extra else ''};")

    def open_frame(self, name: str, label: str) -> None:
        self.body.append(f'{self.indent}subgraph cluster_{name} {{')
        self.indent += "  "
        self.body.append(f'{self.indent}label="{label}"; style="rounded,dashed"; color="#6366F1"; '
                         'fontname="Helvetica"; fontsize=11;')

    def close_frame(self) -> None:
        self.indent = self.indent[:-2]
        self.body.append(f"{self.indent}}}")


def _layer(dot: _Dot, path: tuple[int, ...], row: ShapeRow | None, entry: dict, start: str) -> str:
    name = _node_id(path)
    if row is None:
        dot.node(name, _lines(str(entry.get("type", "?"))), LAYER_FILL)
    else:
        dot.node(name, _label(row), _fill(row))
    dot.edge(start, name)
    return name


def _block(dot: _Dot, path: tuple[int, ...], entry: dict, rows: dict, start: str) -> str:
    """Draw a block after node `start`; returns its merge node (where the data leaves it)."""
    head = rows.get(path)
    if head is None or head.role != "block":  # the block's own settings are wrong: one box with the error
        return _layer(dot, path, head, entry, start)
    residual = entry["type"] == RESIDUAL
    kind = t("Residual block") if residual else t("Branches")
    total = head.block_params or 0
    dot.open_frame(_node_id(path), _lines(f"{head.label}. {kind}" + _params(total)))
    merge = _node_id(path, "_merge")
    if residual:
        what = t("+ input, then {activation}", activation=entry["activation"])
    else:
        what = t("merge: {merge}", merge=entry["merge"])
    dot.node(merge, _lines(what, f"→ {format_shape(head.output_shape)}"), ERROR_FILL if head.error else MERGE_FILL,
             ', shape=box, style="rounded,filled,bold"')
    if residual:
        last = start
        for index, inner in enumerate(entry["layers"]):
            last = _entry(dot, (*path, index), inner, rows, last)
        dot.edge(last, merge)
        projection = rows.get((*path, -1))
        shortcut = f'style=dashed, color="{SHORTCUT_COLOR}", fontcolor="{SHORTCUT_COLOR}", fontsize=10'
        if projection is not None:
            box = _node_id((*path, -1))
            dot.node(box, _lines(t("Shortcut: {type}", type=projection.type), t_core(projection.settings),
                                 f"→ {format_shape(projection.output_shape)}" + _params(projection.params)),
                     LOCKED_FILL, ', style="rounded,filled,dashed"')
            dot.edge(start, box, f'{shortcut}, label="{_lines(t("shortcut"))}"')
            dot.edge(box, merge, shortcut)
        else:
            dot.edge(start, merge, f'{shortcut}, label="{_lines(t("shortcut"))}"')
    else:
        for branch, entries in enumerate(entry["branches"]):
            last = start
            for index, inner in enumerate(entries):
                last = _entry(dot, (*path, branch, index), inner, rows, last)
            note = t("branch {n}", n=branch + 1) if entries else t("branch {n}: as it is", n=branch + 1)
            dot.edge(last, merge, f'label="{_lines(note)}", fontsize=10')
    dot.close_frame()
    return merge


def _entry(dot: _Dot, path: tuple[int, ...], entry: dict, rows: dict, start: str) -> str:
    if is_block(entry):
        return _block(dot, path, entry, rows, start)
    return _layer(dot, path, rows.get(path), entry, start)


def network_dot(report: ShapeReport, layers: list[dict] | None = None) -> str:
    """One box per row of the shape report, top to bottom, arrows in data order; with the design's
    `layers`, blocks are drawn as frames with their shortcut or branches (without them, the rows
    in a line)."""
    lines = [
        "digraph network {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, color="#9CA3AF"];',
        '  edge [color="#6B7280", fontname="Helvetica"];',
    ]
    if layers is None:
        for index, row in enumerate(report.rows):
            style = ', style="rounded,filled,dashed"' if row.role != "layer" else ""
            lines.append(f'  n{index} [label="{_label(row)}", fillcolor={_quote(_fill(row))}{style}];')
        lines += [f"  n{i} -> n{i + 1};" for i in range(len(report.rows) - 1)]
        lines.append("}")
        return "\n".join(lines)

    dot = _Dot()
    rows = {row.path: row for row in report.rows if row.path}
    last = None
    for row in report.rows:
        if row.role in ("input", "preprocessing"):
            name = f"n_{row.role}"
            dot.node(name, _label(row), _fill(row), ', style="rounded,filled,dashed"')
            if last is not None:
                dot.edge(last, name)
            last = name
    for index, entry in enumerate(layers):
        last = _entry(dot, (index,), entry, rows, last)
    output = next((row for row in report.rows if row.role == "output"), None)
    if output is not None:
        dot.node("n_output", _label(output), _fill(output), ', style="rounded,filled,dashed"')
        dot.edge(last, "n_output")
    return "\n".join(lines + dot.body + dot.edges + ["}"])
