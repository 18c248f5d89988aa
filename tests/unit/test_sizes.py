import json
from pathlib import Path

import pytest

from lambda_slim._sizes import DIRECT_UPLOAD_LIMIT, MAX_LAYERS, UNZIPPED_LIMIT, human, parse_size

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("text", "size"),
    [(1234, 1234), ("1234", 1234), ("50MB", 50_000_000), ("200 MiB", 200 * 2**20), ("1.5GB", 1_500_000_000),
     ("10kb", 10_000), ("3 KiB", 3072), ("2M", 2 * 2**20), ("7 b", 7)],
)  # fmt: skip
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "5 parsecs", "-1", -1, True, 1.5, None, "5 MB extra"])
def test_not_sizes(text: object) -> None:
    with pytest.raises(ValueError, match=r"a number of bytes or a size|negative|true/false"):
        parse_size(text)


def test_limits_constants() -> None:
    assert DIRECT_UPLOAD_LIMIT == 52_428_800
    assert UNZIPPED_LIMIT == 262_144_000
    assert MAX_LAYERS == 5


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (MIB, "1.0 MiB"),
        (3 * 1024 * MIB, "3.0 GiB"),
        (-2048, "-2.0 KiB"),
    ],
)
def test_human(size: int, shown: str) -> None:
    assert human(size) == shown


def test_lowering_the_unzipped_limit_in_one_place_lowers_it_for_every_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_slim._artifacts.archive import Artifact
    from lambda_slim._artifacts.layers import LayerError, Weight, check_fits
    from lambda_slim._artifacts.outputs import manifest_json
    from lambda_slim._inputs.target import Target
    from lambda_slim._report.budget import Measures, lambda_limits
    from tests.helpers import lower_the_unzipped_limit

    lower_the_unzipped_limit(monkeypatch, 1_000)
    check_fits([Weight("small", 1_000)])
    with pytest.raises(LayerError, match="over Lambda's limit of 1,000 bytes"):
        check_fits([Weight("big", 1_001)])
    over = Measures(largest_zip=10, unzipped=1_001, files=1, cold_start_ms=0.0, cold_start_basis="estimated",
                    distributions={})  # fmt: skip
    assert [v.limit for v in lambda_limits(over, ())] == ["1,000 bytes"]
    artifact = Artifact(Path("function.zip"), "function", 1, 10, 1_001, "0" * 64)
    totals = json.loads(manifest_json([artifact], Target("python3.12", "x86_64"), None, (0, 0)))["totals"]
    assert (totals["unzipped_limit_bytes"], totals["fits"]) == (1_000, False)
