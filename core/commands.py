"""The work behind each CLI subcommand (argument parsing lives in core/cli.py)."""
from __future__ import annotations

import argparse

from core.cli import print_json, read_spec_file


def inspect_command(args: argparse.Namespace) -> int:
    from core.data import load_data

    dataset = load_data(args.data, target=args.target)
    print_json(dataset.describe())
    return 0


def summary_command(args: argparse.Namespace) -> int:
    from core.data import load_data
    from core.shapes import format_report, shape_report
    from core.templates import default_template

    dataset = load_data(args.data, target=args.target)
    spec = read_spec_file(args.spec) or default_template(dataset)
    report = shape_report(spec, dataset)
    print(format_report(report))
    return 0 if report.ok else 2


def train_command(args: argparse.Namespace) -> int:
    from core.training.cli_run import train_to_folder

    return train_to_folder(args)


def predict_command(args: argparse.Namespace) -> int:
    from core.predict_folder import predict_from_folder

    return predict_from_folder(args)
