"""The [tool.slim.budget] table: the sizes and cold start a project allows itself, which `slim check` holds a
build to (the check itself is _report/budget.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_slim._errors import ConfigError, unknown_key
from lambda_slim._inputs.sources import setting_name
from lambda_slim._sizes import is_decimal, parse_size

BUDGET_KEYS = ("max-zipped", "max-unzipped", "max-files", "max-growth", "max-cold-start-ms", "max-import-ms")


@dataclass(frozen=True)
class Budget:
    max_zipped: int | None = None  # the largest zip (each zip is uploaded on its own)
    max_unzipped: int | None = None  # the function and its layers together
    max_files: int | None = None
    max_growth: float | None = None  # percent of unzipped bytes over the baseline
    max_cold_start_ms: float | None = None  # the measured init, else the estimated package cost
    # (module, ms): a module's cumulative import time in the handler's init, the least disturbed of the profile's runs
    max_import_ms: tuple[tuple[str, float], ...] | None = None
    # Whether max-zipped and max-unzipped were written in powers of 1000 ("10MB"): messages keep the user's units.
    # Set exactly when the size is, so a budget given on the command line replaces the pair together.
    max_zipped_decimal: bool | None = None
    max_unzipped_decimal: bool | None = None

    @property
    def empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.max_zipped,
                self.max_unzipped,
                self.max_files,
                self.max_growth,
                self.max_cold_start_ms,
                self.max_import_ms,
            )
        )


def budget_from(table: Mapping[str, Any], where: str = "[tool.slim.budget]") -> Budget:
    unknown = set(table) - set(BUDGET_KEYS)
    if unknown:
        raise unknown_key(sorted(unknown)[0], BUDGET_KEYS, where)

    def size(key: str) -> int | None:
        if key not in table:
            return None
        try:
            return parse_size(table[key])
        except ValueError as exc:
            raise ConfigError(f"{setting_name(where, key)} must be {exc}, not {table[key]!r}.") from exc

    def number(key: str, kind: str) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip().removesuffix("%").removesuffix("ms").strip()
            with contextlib.suppress(ValueError):
                value = float(text)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{setting_name(where, key)} must be {kind}, not {table[key]!r}.")
        return float(value)

    files = number("max-files", "a whole number of files")
    zipped, unzipped = size("max-zipped"), size("max-unzipped")
    return Budget(
        max_zipped=zipped,
        max_unzipped=unzipped,
        max_files=None if files is None else int(files),
        max_growth=number("max-growth", 'a percentage, such as 10 or "10%"'),
        max_cold_start_ms=number("max-cold-start-ms", "a number of milliseconds"),
        max_import_ms=import_budgets(table["max-import-ms"], where) if "max-import-ms" in table else None,
        max_zipped_decimal=None if zipped is None else is_decimal(table["max-zipped"]),
        max_unzipped_decimal=None if unzipped is None else is_decimal(table["max-unzipped"]),
    )


def import_budgets(value: Any, where: str) -> tuple[tuple[str, float], ...]:
    """max-import-ms: a table of module -> milliseconds (`{ handler = 300 }`), or MODULE=MS items as the command line
    gives them (`--max-import-ms handler=300`)."""
    usage = (
        f"{setting_name(where, 'max-import-ms')} must map module names to milliseconds, "
        'such as { handler = 300 } or "handler=300"'
    )
    items: list[tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = [
            (item.partition("=")[0].strip(), item.partition("=")[2])
            if isinstance(item, str) and "=" in item
            else (item, None)
            for item in value
        ]
    else:
        raise ConfigError(f"{usage}, not {value!r}.")
    budgets = []
    for module, limit in items:
        ms = limit
        if isinstance(ms, str):
            with contextlib.suppress(ValueError):
                ms = float(ms.strip().removesuffix("ms").strip())
        names = str(module).split(".")
        if not isinstance(module, str) or not all(name.isidentifier() for name in names):
            raise ConfigError(f"{usage}: {module!r} is not a module name.")
        if isinstance(ms, bool) or not isinstance(ms, int | float) or ms < 0:
            raise ConfigError(f"{usage}: {module}'s limit {limit!r} is not a number of milliseconds.")
        budgets.append((module, float(ms)))
    if not budgets:
        raise ConfigError(f"{usage}, not an empty table.")
    return tuple(budgets)
