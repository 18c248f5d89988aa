"""The `slim` command: one module a command; parses options, wires progress, maps errors."""

from lambda_slim._cli.main import main

__all__ = ["main"]
