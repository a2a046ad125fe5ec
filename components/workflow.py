"""The five workflow steps and whether this session has done each one (Home ticks, sidebar status)."""
from __future__ import annotations

from dataclasses import dataclass

from components.i18n import t
from components.state.workspace import Workspace
from core.blocks import is_block, walk
from core.sources import sample_name


DONE_ICON = ":material/check_circle:"
PENDING_ICON = ":material/radio_button_unchecked:"


@dataclass(frozen=True)
class Step:
    key: str  # "data", "design", "train", "evaluate", "export"
    title: str
    page: str  # page file, for st.page_link
    done: bool
    detail: str  # one short line: what was done or what is missing

    @property
    def icon(self) -> str:
        return DONE_ICON if self.done else PENDING_ICON


def design_report(ws: Workspace):
    """The shape report of the current design on the current data (pure Python, microseconds)."""
    if ws.dataset is None or ws.spec is None:
        return None
    from core.shapes import shape_report

    return shape_report(ws.spec, ws.dataset)


def dataset_label(name: str) -> str:
    """"sample:iris" -> "iris (sample)"; file names stay as they are."""
    sample = sample_name(name)
    return t("{name} (sample)", name=sample) if sample is not None else name


def _data_step(ws: Workspace) -> Step:
    ds = ws.dataset
    if ds is None:
        return Step("data", t("Data"), "pages/data.py", False, t("no data yet"))
    return Step("data", t("Data"), "pages/data.py", True, dataset_label(ds.name))


def _design_step(ws: Workspace) -> Step:
    report = design_report(ws)
    if report is None:
        detail = t("no design yet")
    elif report.ok:
        count = sum(1 for _, entry in walk(ws.spec.layers) if not is_block(entry))  # the layers inside blocks too
        detail = t("1 layer, ready to train") if count == 1 else t("{n} layers, ready to train", n=count)
    else:
        detail = t("1 problem to fix") if len(report.errors) == 1 else t("{n} problems to fix", n=len(report.errors))
    return Step("design", t("Design"), "pages/design.py", bool(report and report.ok), detail)


def _train_step(ws: Workspace) -> Step:
    if ws.active_run is not None and getattr(ws.active_run, "state", "done") != "done":
        return Step("train", t("Train"), "pages/train.py", bool(ws.runs), t("training now"))
    if ws.search is not None and not ws.search.ended:  # a design search (the Train page's Search tab)
        return Step("train", t("Train"), "pages/train.py", bool(ws.runs), t("searching for a better design"))
    if ws.runs:
        return Step("train", t("Train"), "pages/train.py", True, t("1 run") if len(ws.runs) == 1 else t("{n} runs", n=len(ws.runs)))
    return Step("train", t("Train"), "pages/train.py", False, t("no runs yet"))


def _later_step(ws: Workspace, key: str, title: str, page: str) -> Step:
    done = key in ws.done_steps
    return Step(key, title, page, done, t("done") if done else (t("after training") if not ws.runs else t("not yet")))


def workflow_steps(ws: Workspace) -> list[Step]:
    return [
        _data_step(ws),
        _design_step(ws),
        _train_step(ws),
        _later_step(ws, "evaluate", t("Evaluate"), "pages/evaluate.py"),
        _later_step(ws, "export", t("Export"), "pages/export.py"),
    ]
