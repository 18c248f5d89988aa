"""budget: Lambda's own limits are budgets that always apply, whatever [tool.slim.budget] says."""

from __future__ import annotations

import dataclasses
from typing import Any

from lambda_slim._inputs.budget import Budget
from lambda_slim._report.budget import Measures, check, render, render_markdown
from lambda_slim._sizes import DIRECT_UPLOAD_LIMIT, MAX_LAYERS, UNZIPPED_LIMIT


def measures(**changes: Any) -> Measures:
    fits = Measures(
        largest_zip=10_000_000,
        unzipped=100_000_000,
        files=1_000,
        cold_start_ms=300.0,
        cold_start_basis="estimated",
        distributions={"numpy": 60_000_000, "pandas": 39_000_000, "(app)": 1_000_000},
    )
    return dataclasses.replace(fits, **changes)


def test_check_without_budget_still_applies_lambda_limits() -> None:
    result = check(measures(unzipped=UNZIPPED_LIMIT + 1), Budget())
    assert not result.ok
    (violation,) = result.violations
    assert violation.budget == "Lambda's unzipped limit"
    assert violation.limit == f"{UNZIPPED_LIMIT:,} bytes"
    assert violation.contributors[0] == "numpy 57.2 MiB"
    text = render(result)
    assert "within budget" not in text and "Lambda refuses" in text
    assert f"OVER Lambda's unzipped limit: {UNZIPPED_LIMIT + 1:,} bytes" in text
    assert "Lambda's unzipped limit" in render_markdown(result)
    assert "within budget" not in render_markdown(result)


def test_exactly_at_the_unzipped_limit_fits() -> None:
    assert check(measures(unzipped=UNZIPPED_LIMIT), Budget()).ok


def test_a_generous_max_unzipped_does_not_lift_lambdas_limit() -> None:
    result = check(measures(unzipped=UNZIPPED_LIMIT + 1), Budget(max_unzipped=2 * UNZIPPED_LIMIT))
    assert [v.budget for v in result.violations] == ["Lambda's unzipped limit"]


def test_a_tighter_max_unzipped_is_reported_once() -> None:
    result = check(measures(unzipped=UNZIPPED_LIMIT + 1), Budget(max_unzipped=UNZIPPED_LIMIT // 2))
    assert [v.budget for v in result.violations] == ["max-unzipped"]


def test_external_layers_count_against_the_unzipped_limit() -> None:
    result = check(measures(unzipped=UNZIPPED_LIMIT - 10, external_bytes=20), Budget())
    (violation,) = result.violations
    assert "with 20 bytes of your own layers" in violation.actual
    assert check(measures(unzipped=UNZIPPED_LIMIT - 10, external_bytes=10), Budget()).ok


def test_more_than_five_layers_fails() -> None:
    assert check(measures(layers=MAX_LAYERS), Budget()).ok
    result = check(measures(layers=MAX_LAYERS + 1), Budget())
    (violation,) = result.violations
    assert violation.budget == "Lambda's layer limit"
    assert (violation.actual, violation.limit) == ("6 layers", "5 layers")


def test_over_the_direct_upload_limit_is_a_warning_unless_max_zipped_says_otherwise() -> None:
    over = measures(largest_zip=DIRECT_UPLOAD_LIMIT + 1)
    result = check(over, Budget())
    assert result.ok
    (warning,) = result.warnings
    assert "50.0 MiB direct-upload limit" in warning and "through S3" in warning
    assert "warning: " + warning in render(result) and warning in render_markdown(result)
    strict = check(over, Budget(max_zipped=DIRECT_UPLOAD_LIMIT))
    assert [v.budget for v in strict.violations] == ["max-zipped"] and not strict.warnings
    # A max-zipped above 50 MiB says the user uploads through S3: no warning either.
    assert check(over, Budget(max_zipped=2 * DIRECT_UPLOAD_LIMIT)).warnings == ()


def test_within_every_limit_says_so() -> None:
    result = check(measures(), Budget())
    assert result.ok and result.warnings == ()
    assert render(result).endswith("within budget\n")
