"""The `slim` command group: logging and signals for every command, which each live in a module of their own."""

from __future__ import annotations

import logging
import sys

import click

from lambda_slim._cli.analyze import analyze_command
from lambda_slim._cli.build import build_command
from lambda_slim._cli.check import check_command
from lambda_slim._cli.common import stop_cleanly_on_signals
from lambda_slim._cli.profile import profile_command
from lambda_slim._cli.verify import verify_command
from lambda_slim._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-slim")
@click.option("-v", "--verbose", is_flag=True, help="Log every command lambda-slim runs (on stderr).")
def main(verbose: bool) -> None:
    """Build the smallest AWS Lambda deployment package for a Python project that still works."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)
    stop_cleanly_on_signals(click.get_current_context())


main.add_command(build_command)
main.add_command(verify_command)
main.add_command(analyze_command)
main.add_command(check_command)
main.add_command(profile_command)
