"""How a message names a setting: as the user wrote it, where they wrote it.

The same setting can come from the command line (`--runtime python3.8`), from pyproject.toml (`[tool.slim] runtime`),
or from an options object of the Python API (`BuildOptions.runtime`); a message that says which one, in that
place's own spelling, tells the user what to edit. Validators take `where` (one of the names below) and the key as
[tool.slim] spells it, and ask `setting_name` or `setting_value` for the words.
"""

from __future__ import annotations

from typing import Any

COMMAND_LINE = "the command line"
PYPROJECT = "[tool.slim]"

# The command-line flag of each [tool.slim] key whose flag is not --KEY.
_FLAGS = {
    "out-dir": "--out",
    "extras": "--extra",
    "groups": "--group",
    "disable-rules": "--disable-rule",
    "environment": "--env",
}


def flag_of(key: str) -> str:
    return _FLAGS.get(key, f"--{key}")


def setting_name(where: str, key: str) -> str:
    """`--out`, `[tool.slim] out-dir`, `[tool.slim.budget] max-files`, or `BuildOptions.out_dir` (an API options
    object's field)."""
    if where == COMMAND_LINE:
        return flag_of(key)
    if where.startswith("[tool.slim"):
        return f"{where} {key}"
    return f"{where}.{key.replace('-', '_')}"


def setting_value(where: str, key: str, value: Any) -> str:
    """The setting with its value as it was written: `--runtime python3.8`, `[tool.slim] runtime = 'python3.8'`,
    `BuildOptions.runtime = 'python3.8'`."""
    if where == COMMAND_LINE:
        return f"{flag_of(key)} {value}"
    return f"{setting_name(where, key)} = {value!r}"
