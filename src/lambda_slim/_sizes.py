"""Sizes: as people write them in configuration ("50MB", "200 MiB", "1.5GB", a number of bytes), as messages
show them ("48.2 MiB"), and Lambda's limits on them.

Modules read a limit as `_sizes.UNZIPPED_LIMIT` when they use it, not `from ... import` it once, so that a test
lowering it with one monkeypatch lowers it everywhere.
"""

from __future__ import annotations

import re

# AWS limits (docs/lambda-facts.md#limits): a zip uploaded directly is at most 50 MiB; function plus layers
# unzipped at most 262,144,000 bytes; at most 5 layers.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 262_144_000
MAX_LAYERS = 5
# A container image: 10 GB uncompressed, all its layers together (the base image's too); taken as 10**10 bytes,
# the smaller reading of "GB".
IMAGE_LIMIT = 10_000_000_000

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


def is_decimal(value: object) -> bool:
    """Whether a size was written in powers of 1000 ("10MB", "1.5 GB", "500kB"): messages about it then keep that
    unit system, so a limit of "10MB" reads "10.0 MB" rather than "9.5 MiB"."""
    match = _SIZE.match(value) if isinstance(value, str) else None
    return match is not None and _UNITS.get(match.group(2).lower()) in (1000, 1000**2, 1000**3)


def human(size: int, *, decimal: bool = False) -> str:
    """A size as a message shows it: "48.2 MiB", "-3.0 KiB", "512 B" (powers of 1024, one decimal); with `decimal`,
    "50.6 MB", "3.0 kB" (powers of 1000), for a limit the user wrote that way."""
    sign = "-" if size < 0 else ""
    size = abs(size)
    units = (
        (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000))
        if decimal
        else (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))
    )
    for unit, scale in units:
        if size >= scale:
            return f"{sign}{size / scale:.1f} {unit}"
    return f"{sign}{size} B"
