"""The network as a Graphviz diagram (a DOT string for st.graphviz_chart: no extra package needed)."""
from __future__ import annotations

from components.i18n import t, t_core
from core.catalog import format_shape
from core.shapes import ShapeReport, ShapeRow

LOCKED_FILL = "#E5E7EB"  # input, preprocessing and output head: added by LayerLab, not editable
LAYER_FILL = "#E0E7FF"
ERROR_FILL = "#FEE2E2"
WARNING_FILL = "#FEF3C7"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _title(row: ShapeRow) -> str:
    if row.number:
        return f"{row.number}. {row.type}"
    role = {"input": t("Input"), "preprocessing": t("Preprocessing"), "output": t("Output")}.get(row.role, "")
    return t("{role}: {type}", role=role, type=row.type) if role and role != row.type else row.type


def _label(row: ShapeRow) -> str:
    title = _title(row)
    lines = [title]
    if row.settings:
        lines.append(t_core(row.settings))
    lines.append(f"→ {format_shape(row.output_shape)}" + (" · " + t("{n} params", n=f"{row.params:,}") if row.params else ""))
    return "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)


def _fill(row: ShapeRow) -> str:
    if row.error:
        return ERROR_FILL
    if row.warning:
        return WARNING_FILL
    return LAYER_FILL if row.role == "layer" else LOCKED_FILL


def network_dot(report: ShapeReport) -> str:
    """One box per row of the shape report, top to bottom, arrows in data order."""
    lines = [
        "digraph network {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, color="#9CA3AF"];',
        '  edge [color="#6B7280"];',
    ]
    for index, row in enumerate(report.rows):
        style = ', style="rounded,filled,dashed"' if row.role != "layer" else ""
        lines.append(f'  n{index} [label="{_label(row)}", fillcolor={_quote(_fill(row))}{style}];')
    lines += [f"  n{i} -> n{i + 1};" for i in range(len(report.rows) - 1)]
    lines.append("}")
    return "\n".join(lines)
