"""Input and output helpers shared by the CLI commands."""
from __future__ import annotations

import json
from pathlib import Path

from core.errors import UserError


def read_spec_file(path: str | None):
    """Load a project file given on the command line, or None."""
    if not path:
        return None
    from core.spec import ProjectSpec

    p = Path(path)
    if not p.is_file():
        raise UserError("cli.spec_missing", "The project file {file} does not exist. Check the path.", file=path)
    return ProjectSpec.from_json(p.read_bytes())


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def load_cli_data(args):
    """The dataset a command names, with the --target / --task / --kind / --text-column / text / forecast options."""
    from core.data import load_data
    from core.data.tokens import TextSettings

    from core.data.series import SeriesSettings

    text = TextSettings(args.tokenization, args.vocabulary_size, args.sequence_length)
    inputs = tuple(c.strip() for c in args.inputs.split(",") if c.strip()) if args.inputs else None
    series = SeriesSettings(args.target, inputs, args.window, args.horizon, args.date_column, args.date_order)
    return load_data(args.data, target=args.target, task=args.task, kind=args.kind, text_column=args.text_column,
                     text_settings=text if text != TextSettings() else None,
                     series_settings=series if series != SeriesSettings(args.target) else None)
