"""The search space: which settings of a design may vary, and over what values.

A space is written as SPACE.json, an object whose keys are places in the project file and whose
values say how the setting varies:

    {"optimizer.learning_rate": {"log_uniform": [1e-4, 1e-1]},
     "optimizer.type": {"choice": ["Adam", "SGD"]},
     "layers.0.units": {"choice": [16, 32, 64]},
     "layers.1.rate": {"uniform": [0.0, 0.5]},
     "layers.2.repeat": {"int": [1, 3]},
     "training.batch_size": {"choice": [16, 32, 64]}}

Layer positions count from 0 and may go into blocks ("layers.2.layers.0.units" inside a residual
block, "layers.3.branches.1.0.units" in a branch). `repeat` is not a setting of the file: the entry
is written that many times in a row. Every value is checked against core.catalog, and with a
dataset every setting is tried at its ends with the pure-Python shape report, so a range that
makes every design invalid is refused naming the setting. Pure Python: no Keras, no Optuna here
(`SearchSpace.suggest` takes an Optuna trial but only calls its suggest_* methods).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from typing import Any

from core.blocks import BLOCK_PARAMS, is_block
from core.catalog import LAYERS, OPTIMIZERS, TRAINING_PARAMS, Param, ParamProblem
from core.errors import UserError

KINDS = ("log_uniform", "uniform", "int", "choice")
MAX_DIMENSIONS = 20
MAX_CHOICES = 50
MAX_REPEAT = 8
REPEAT = "repeat"
# Settings a search never varies: every trial shares the seed (and so the split and the start).
FIXED_TRAINING = ("seed",)
GRID_POINTS = 3  # a continuous range becomes this many grid points (ends included)
GRID_INT_POINTS = 5
REPEAT_PARAM = Param(REPEAT, "int", 1, "How many times this layer or block is written in a row.", min=1, max=MAX_REPEAT,
                     label="Repeats")


@dataclass(frozen=True)
class Dimension:
    """One setting that varies. `kind` is one of KINDS; `low`/`high` for ranges, `choices` for choice."""

    place: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple[Any, ...] = ()

    def grid(self) -> list[Any]:
        """The values a grid search tries: every choice, or a few points of a range, ends included."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            count = int(self.high) - int(self.low) + 1
            if count <= GRID_INT_POINTS:
                return list(range(int(self.low), int(self.high) + 1))
            return sorted({round(self.low + (self.high - self.low) * i / (GRID_INT_POINTS - 1))
                           for i in range(GRID_INT_POINTS)})
        if self.low == self.high:
            return [self.low]
        if self.kind == "log_uniform":
            ratio = math.log(self.high / self.low)
            return [float(f"{self.low * math.exp(ratio * i / (GRID_POINTS - 1)):.4g}") for i in range(GRID_POINTS)]
        return [float(f"{self.low + (self.high - self.low) * i / (GRID_POINTS - 1):.4g}") for i in range(GRID_POINTS)]

    def ends(self) -> list[Any]:
        """The values the shape check tries: every choice, or both ends of a range."""
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]

    def suggest(self, trial: Any) -> Any:
        """This setting's value for an Optuna trial (define-by-run)."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.place, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.place, int(self.low), int(self.high))
        return trial.suggest_float(self.place, float(self.low), float(self.high), log=self.kind == "log_uniform")

    def to_json(self) -> dict[str, Any]:
        return {self.kind: list(self.choices) if self.kind == "choice" else [self.low, self.high]}


@dataclass
class SearchSpace:
    """The settings that vary (in the order given) over a base design."""

    dimensions: list[Dimension]
    base: Any  # the ProjectSpec every trial starts from
    places: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.places = [d.place for d in self.dimensions]

    def grid(self) -> dict[str, list[Any]]:
        return {d.place: d.grid() for d in self.dimensions}

    @property
    def grid_size(self) -> int:
        return math.prod(len(values) for values in self.grid().values())

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {d.place: d.suggest(trial) for d in self.dimensions}

    def design(self, settings: dict[str, Any]) -> Any:
        return apply(self.base, settings)

    def to_json(self) -> dict[str, Any]:
        """The SPACE.json object this space was read from (normalised)."""
        out: dict[str, Any] = {}
        for d in self.dimensions:
            out.update({d.place: d.to_json()})
        return out


# ---- reading SPACE.json ------------------------------------------------------------------------
def parse_space(obj: Any, spec: Any, dataset: Any = None) -> SearchSpace:
    """A SearchSpace from SPACE.json's object (or its text) over the design `spec`.

    Raises UserError naming the setting for an unknown place, a value the catalog refuses, a
    malformed range, an empty space, and (given the dataset) a setting every value of which
    makes the design invalid in the shape report."""
    if isinstance(obj, (str, bytes)):
        obj = read_space_text(obj)
    if not isinstance(obj, dict):
        raise UserError("search.space_not_object", 'The search space must be a JSON object such as {example}.',
                        example='{"optimizer.learning_rate": {"log_uniform": [0.0001, 0.1]}}')
    if not obj:
        raise UserError("search.empty_space", "The search space is empty: nothing would vary, so every trial would "
                        "train the same design. Choose at least one setting to vary.")
    if len(obj) > MAX_DIMENSIONS:
        raise UserError("search.too_many_settings", "The search space varies {count} settings; at most {limit} can "
                        "vary at once. Keep the ones that matter most.", count=len(obj), limit=MAX_DIMENSIONS)
    spec = spec.validated()
    design = spec.to_dict()
    dimensions = [_dimension(str(place), rule, design) for place, rule in obj.items()]
    space = SearchSpace(dimensions, spec)
    if dataset is not None:
        check_designs(space, dataset)
    return space


def read_space_text(text: str | bytes) -> Any:
    """SPACE.json's text parsed as safely as a project file (size, depth, duplicate keys)."""
    from core.spec import parse_project_json

    try:
        return parse_project_json(text)
    except UserError as err:
        if "line" in err.params:  # a JSON syntax error: say where, about this file (not "the project file")
            raise UserError("search.space_not_json", "The search space file is not valid JSON (line {line}, column "
                            "{column}: {reason}). It should look like {example}.", line=err.params["line"],
                            column=err.params["column"], reason=err.params["reason"],
                            example='{"optimizer.learning_rate": {"log_uniform": [0.0001, 0.1]}}') from None
        raise UserError("search.space_unreadable", "The search space file cannot be read: {reason}", reason=err) from None


def _dimension(place: str, rule: Any, design: dict) -> Dimension:
    param = setting_at(place, design)
    if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in KINDS:
        raise UserError("search.bad_rule", 'The search space\'s "{place}" must be one of {example}, got {value}.',
                        place=place, value=_shown(rule),
                        example='{"log_uniform": [a, b]}, {"uniform": [a, b]}, {"int": [a, b]}, {"choice": [...]}')
    kind, values = next(iter(rule.items()))
    if not isinstance(values, list) or not values:
        raise UserError("search.bad_values", '"{place}": {kind} needs a list of values, got {value}.',
                        place=place, kind=kind, value=_shown(values))
    if kind == "choice":
        if len(values) > MAX_CHOICES:
            raise UserError("search.too_many_choices", '"{place}" has {count} choices; at most {limit}.', place=place,
                            count=len(values), limit=MAX_CHOICES)
        checked = [_checked(place, param, v) for v in values]
        if len({json.dumps(v) for v in checked}) != len(checked):
            raise UserError("search.repeated_choice", '"{place}" lists the same choice twice. List each value once.',
                            place=place)
        return Dimension(place, kind, choices=tuple(checked))
    if param.type not in ("int", "float"):
        raise UserError("search.range_needs_number", '"{place}" is {expected}, so it can only vary over a list: '
                        '{{"choice": [...]}}.', place=place, expected=param.describe_type())
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise UserError("search.bad_range", '"{place}": {kind} needs two numbers [lowest, highest], got {value}.',
                        place=place, kind=kind, value=_shown(values))
    low, high = values
    if low > high:
        raise UserError("search.reversed_range", '"{place}": the lowest value {low} is above the highest {high}. '
                        "Swap them.", place=place, low=low, high=high)
    if kind == "int" and (param.type != "int" or low != int(low) or high != int(high)):
        raise UserError("search.int_range", '"{place}": "int" needs a whole-number setting and whole-number ends, got '
                        "{value}.", place=place, value=_shown(values))
    if kind != "int" and param.type == "int":
        raise UserError("search.int_setting", '"{place}" is a whole number: vary it with {{"int": [a, b]}} or '
                        '{{"choice": [...]}}.', place=place)
    if kind == "log_uniform" and low <= 0:
        raise UserError("search.log_needs_positive", '"{place}": a log scale needs numbers above 0, got {low}. Use '
                        '"uniform" to include 0.', place=place, low=low)
    low, high = _checked(place, param, low), _checked(place, param, high)
    return Dimension(place, kind, low=low, high=high)


def _checked(place: str, param: Param, value: Any) -> Any:
    if param.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    try:
        return param.check(value)
    except ParamProblem as problem:
        raise UserError("search.bad_value", 'The search space\'s "{place}": {problem}', place=place,
                        problem=UserError(problem.code, problem.template, where=param.plain_label, **problem.params)
                        ) from None


def setting_at(place: str, design: dict) -> Param:
    """The catalog Param of the setting `place` names in the project dict `design` (UserError if none)."""
    parts = place.split(".")
    if len(parts) < 2 or parts[0] not in ("layers", "optimizer", "training"):
        raise UserError("search.unknown_place", 'The search space names "{place}", which is not a place in a project '
                        'file. A place starts with "layers.N.", "optimizer." or "training.", such as '
                        '"optimizer.learning_rate" or "layers.0.units".', place=place[:80])
    if parts[0] == "optimizer":
        if len(parts) != 2:
            raise _needs_setting(place)
        if parts[1] == "type":
            return Param("type", "choice", design["optimizer"]["type"], "", choices=tuple(OPTIMIZERS), label="Optimizer")
        params = {p.name: p for p in OPTIMIZERS[design["optimizer"]["type"]].params}
        return _param_named(place, parts[1], params, f"Optimizer ({design['optimizer']['type']})")
    if parts[0] == "training":
        if len(parts) != 2:
            raise _needs_setting(place)
        if parts[1] in FIXED_TRAINING:
            raise UserError("search.fixed_setting", '"{place}" cannot vary: every trial uses the same seed, so trials '
                            "differ only by the settings searched.", place=place)
        return _param_named(place, parts[1], TRAINING_PARAMS, "Training settings")
    entry: Any = None
    walked = "layers"
    container: Any = design["layers"]  # a list being indexed, or None after an entry (a dict)
    for part in parts[1:-1]:
        if container is None:  # inside a block: its list of layers, or its branches
            if not is_block(entry) or part not in ("layers", "branches") or part not in entry:
                raise UserError("search.not_a_block", 'The search space names "{place}", but "{walked}" is one layer '
                                '({type}), not a block: name one of its settings right after it, such as '
                                '"{walked}.units".', place=place[:80], walked=walked, type=entry["type"])
            container = entry[part]
        elif not part.isdigit() or int(part) >= len(container):
            raise UserError("search.no_such_entry", 'The search space names "{place}", but "{walked}" has {count} '
                            "entries, counted from 0, so {part} is not one of them.", place=place[:80], walked=walked,
                            count=len(container), part=part[:20])
        else:
            entry = container[int(part)]
            container = None if isinstance(entry, dict) else entry
        walked += f".{part}"
    # the last part: a setting of `entry`, or the repeat of an entry in a list
    name = parts[-1]
    if container is not None or not isinstance(entry, dict) or "type" not in entry:
        raise _needs_setting(place)
    if name == REPEAT:
        return REPEAT_PARAM
    if is_block(entry):
        params = {p.name: p for p in BLOCK_PARAMS[entry["type"]]}
        if name in ("layers", "branches"):
            raise _needs_setting(place)
    else:
        params = {p.name: p for p in LAYERS[entry["type"]].params}
    return _param_named(place, name, params, f'"{walked}" ({entry["type"]})', (REPEAT,))


def _param_named(place: str, name: str, params: dict[str, Param], owner: str, extra: tuple[str, ...] = ()) -> Param:
    if name not in params:
        raise UserError("search.unknown_setting", 'The search space names "{place}", but {owner} has no setting '
                        '"{name}". Its settings: {known}.', place=place[:80], owner=owner, name=name[:40],
                        known=", ".join([*params, *extra]) or "no settings")
    return params[name]


def _needs_setting(place: str) -> UserError:
    return UserError("search.needs_setting", 'The search space names "{place}": name a layer and one of its settings, '
                     'such as "layers.0.units", "optimizer.learning_rate" or "training.batch_size".', place=place[:80])


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---- designs ----------------------------------------------------------------------------------
def apply(spec: Any, settings: dict[str, Any]) -> Any:
    """The design `spec` with `settings` ({place: value}) written in, validated (a ProjectSpec).

    Positions name entries of `spec` as it is: settings are written first, then repeats expand
    (the last positions first, so the earlier ones still name the same entries)."""
    from core.spec import ProjectSpec

    design = spec.to_dict()
    repeats: list[tuple[list[int], int]] = []
    for place, value in settings.items():
        parts = place.split(".")
        if parts[0] == "optimizer" and parts[1] == "type":
            if value != design["optimizer"]["type"]:
                keep = {k: v for k, v in design["optimizer"].items() if k == "learning_rate"}
                design["optimizer"] = {"type": value, **keep}
            continue
        if parts[-1] == REPEAT:
            repeats.append(([int(p) if p.isdigit() else p for p in parts[1:-1]], int(value)))
            continue
        target = design
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[parts[-1]] = copy.deepcopy(value)
    # inner entries first (a repeated block copies its repeated layers), then the last positions first
    for path, count in sorted(repeats, key=lambda r: (len(r[0]), [p if isinstance(p, int) else -1 for p in r[0]]),
                              reverse=True):
        container: Any = design["layers"]
        for part in path[:-1]:
            container = container[part]
        index = path[-1]
        entry = container[index]
        container[index:index + 1] = [copy.deepcopy(entry) for _ in range(count)]
    return ProjectSpec.from_dict(design)


def check_designs(space: SearchSpace, dataset: Any) -> None:
    """Refuse a setting whose every tried value (each choice, both ends of a range) makes the design
    invalid in the shape report, the others staying as the design has them; also the base design."""
    from core.shapes import shape_report

    base = shape_report(space.base, dataset)
    if base.errors:
        raise UserError("search.design_invalid", "The design the search starts from does not work: {problem} Fix the "
                        "design first.", problem=base.errors[0].to_error())
    for dimension in space.dimensions:
        problems = []
        for value in dimension.ends():
            try:
                report = shape_report(apply(space.base, {dimension.place: value}), dataset)
            except UserError as err:  # e.g. more layers than a project may have
                problems.append(err)
                continue
            if not report.errors:
                break
            problems.append(report.errors[0].to_error())
        else:
            raise UserError("search.all_invalid", 'Every value of "{place}" makes the design invalid, for example: '
                            "{problem} Change the range of this setting.", place=dimension.place, problem=problems[0])


def default_space(spec: Any, dataset: Any) -> dict[str, Any]:
    """A sensible SPACE.json object for the design: the learning rate on a log scale around the
    design's, the batch size, each top-level layer's units or filters around its value and each
    dropout rate; only values the catalog and the shape report accept."""
    spec = spec.validated()
    design = spec.to_dict()
    space: dict[str, Any] = {}
    lr_param = {p.name: p for p in OPTIMIZERS[design["optimizer"]["type"]].params}["learning_rate"]
    lr = design["optimizer"]["learning_rate"]
    space["optimizer.learning_rate"] = {"log_uniform": [_sig(max(lr / 10, lr_param.min)), _sig(min(lr * 10, 0.5))]}
    n_train = len(dataset.x_train) if dataset is not None else 10**9
    batches = [b for b in (16, 32, 64, 128) if b <= max(16, n_train)]
    space["training.batch_size"] = {"choice": batches}
    for index, entry in enumerate(design["layers"]):
        if is_block(entry):
            continue
        for name, param in ((p.name, p) for p in LAYERS[entry["type"]].params):
            value = entry.get(name)
            if name in ("units", "filters") and isinstance(value, int):
                options = sorted({max(int(param.min or 1), value // 2), value, min(int(param.max or value * 2), value * 2)})
                space[f"layers.{index}.{name}"] = {"choice": options}
            elif name == "rate" and param.type == "float":
                space[f"layers.{index}.{name}"] = {"uniform": [0.0, min(0.5, param.max or 0.5)]}
    if dataset is not None:  # keep only settings that have at least one valid design
        kept = {}
        for place, rule in space.items():
            try:
                parse_space({place: rule}, spec, dataset)
            except UserError:
                continue
            kept[place] = rule
        space = kept
    return space


def _sig(value: float) -> float:
    return float(f"{value:.3g}")
