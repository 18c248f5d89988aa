"""Sizes as people write them in configuration: "50MB", "200 MiB", "1.5GB", or a number of bytes."""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: object) -> int:
    """Bytes from an int or a string with an optional unit (kB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).

    Raises ValueError with the accepted forms when the value is not a size.
    """
    if isinstance(value, bool):
        raise ValueError("a size, not true/false")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match and match.group(2).lower() in _UNITS:
            return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    raise ValueError('a number of bytes or a size such as "50MB", "200 MiB" or "1.5GB"')
