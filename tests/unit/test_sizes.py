import pytest

from lambda_slim._sizes import parse_size


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
