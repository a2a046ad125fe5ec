"""`python -m core inspect` and `python -m core summary` (the parser lives in core/cli/__init__.py)."""
from __future__ import annotations

import argparse

from core.cli.io import load_cli_data, print_json


def inspect_command(args: argparse.Namespace) -> int:

    dataset = load_cli_data(args)
    print_json(dataset.describe())
    return 0


def summary_command(args: argparse.Namespace) -> int:
    from core.cli.io import design_for
    from core.shapes import format_report, shape_report

    dataset = load_cli_data(args)
    spec = design_for(args, dataset)
    report = shape_report(spec, dataset)
    print(format_report(report))
    return 0 if report.ok else 2
