"""budget: Lambda's own limits always apply, whatever [tool.slim.budget] says; the project's budgets, growth against a
baseline, the measures read from reports, and the [tool.slim.budget] table."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from lambda_slim._errors import ConfigError
from lambda_slim._inputs.budget import Budget, budget_from
from lambda_slim._report.budget import (
    Measures,
    OverLambdaLimits,
    check,
    measures_from_analyze,
    measures_from_build,
    refusal,
    render,
    render_markdown,
    render_violations,
)
from lambda_slim._report.build_report import to_json
from lambda_slim._sandbox.coldstart import HOST_TO_LAMBDA_CPU, cold_start, estimate
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


def test_the_violations_only_rendering_is_the_renderings_violation_lines() -> None:
    result = check(measures(unzipped=UNZIPPED_LIMIT + 1, files=2_000), Budget(max_files=1_500))
    violations = render_violations(result)
    assert violations.splitlines() == [line for line in render(result).splitlines() if line in violations]
    assert violations.startswith("OVER BUDGET max-files: 2,000") and "OVER Lambda's unzipped limit" in violations
    assert violations.count("  largest contributors: numpy 57.2 MiB") == 2
    assert render_violations(check(measures(), Budget())) == ""


# --- the project's own budgets -------------------------------------------------------------------------------------


def test_max_files_and_max_cold_start_say_limit_actual_and_by_how_much() -> None:
    result = check(measures(files=1_500, cold_start_ms=450.0), Budget(max_files=1_200, max_cold_start_ms=400))
    files, cold = result.violations
    assert (files.budget, files.limit, files.actual, files.over_by) == ("max-files", "1,200", "1,500", "300 files")
    assert (cold.budget, cold.limit, cold.actual, cold.over_by) == (
        "max-cold-start-ms", "400 ms", "450 ms (estimated)", "50 ms"
    )  # fmt: skip
    assert files.contributors == ("numpy 57.2 MiB", "pandas 37.2 MiB", "(app) 976.6 KiB")  # biggest first
    assert not files.refused and render(result).endswith("2 budget(s) exceeded\n")
    assert check(measures(files=1_200, cold_start_ms=400.0), Budget(max_files=1_200, max_cold_start_ms=400)).ok


def test_a_size_limit_reads_in_the_unit_system_it_was_written_in() -> None:
    over = measures(largest_zip=10_500_000, unzipped=110_000_000)
    decimal = budget_from({"max-zipped": "10MB", "max-unzipped": "100 MB"})
    zipped, unzipped = check(over, decimal).violations
    assert (zipped.limit, zipped.actual, zipped.over_by) == ("10.0 MB", "10.5 MB", "500.0 kB")
    assert (unzipped.limit, unzipped.actual, unzipped.over_by) == ("100.0 MB", "110.0 MB", "10.0 MB")
    assert unzipped.contributors[0] == "numpy 60.0 MB"
    binary = budget_from({"max-zipped": "10 MiB", "max-unzipped": 100_000_000})
    zipped, unzipped = check(over, binary).violations
    assert (zipped.limit, zipped.actual) == ("10.0 MiB", "10.0 MiB")  # 10,500,000 bytes is 10.01 MiB
    assert (unzipped.limit, unzipped.actual) == ("95.4 MiB", "104.9 MiB")  # a number of bytes: powers of 1024


def test_a_size_limit_given_on_the_command_line_keeps_its_own_units_over_the_files() -> None:
    from_file = budget_from({"max-zipped": "10MB", "max-unzipped": "100 MB"})
    given = budget_from({"max-zipped": "9 MiB"}, "the command line")
    merged = dataclasses.replace(from_file, max_zipped=given.max_zipped, max_zipped_decimal=given.max_zipped_decimal)
    assert (merged.max_zipped_decimal, merged.max_unzipped_decimal) == (False, True)


def test_max_zipped_names_the_largest_zipped_contributors_and_max_files_the_most_files() -> None:
    over = measures(
        largest_zip=10_500_000,
        files=1_500,
        zipped_distributions={"pandas": 6_000_000, "numpy": 4_000_000, "(app)": 10_000},
        distribution_files={"numpy": 300, "pandas": 1_100, "(app)": 100},
    )
    zipped, files = check(over, Budget(max_zipped=10_000_000, max_files=1_000, max_zipped_decimal=True)).violations
    assert zipped.contributors == ("pandas 6.0 MB zipped", "numpy 4.0 MB zipped", "(app) 10.0 kB zipped")
    assert files.contributors == ("pandas 1,100 files", "numpy 300 files", "(app) 100 files")


def test_growth_against_a_baseline_names_what_grew() -> None:
    baseline = {
        "schema": "lambda-slim/analyze-report/1",
        "archives": [{"kind": "function", "zipped_bytes": 1}],
        "totals": {"unzipped_bytes": 80_000_000, "files": 1},
        "cold_start_estimate": {"total_ms": 1.0},
        "distributions": [
            {"name": "numpy", "unzipped_bytes": 50_000_000},
            {"name": "pandas", "unzipped_bytes": 29_000_000},
            {"name": "(app)", "unzipped_bytes": 1_000_000},
            {"name": "six", "unzipped_bytes": 50_000},
        ],
    }
    now = measures()  # numpy +10 MB, pandas +10 MB, (app) the same, six gone: 100 MB against 80.05 MB
    result = check(now, Budget(max_growth=10), baseline)
    assert [(g.name, g.after - g.before) for g in result.growth] == [
        ("numpy", 10_000_000), ("pandas", 10_000_000), ("six", -50_000)
    ]  # fmt: skip
    assert result.growth_percent == pytest.approx(100 * (100_000_000 - 80_050_000) / 80_050_000)
    (violation,) = result.violations
    assert (violation.budget, violation.limit) == ("max-growth", "10%")
    assert violation.actual == "+24.9% (19.0 MiB)" and violation.over_by == "14.9 points"
    assert violation.contributors == ("numpy 9.5 MiB", "pandas 9.5 MiB")  # only what grew
    assert "growth against the baseline: +24.9% unzipped" in render(result)
    assert check(now, Budget(max_growth=25), baseline).ok


def test_a_baseline_that_is_no_report_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="the baseline is not a lambda-slim JSON report"):
        check(measures(), Budget(), {"schema": "something-else"})


# --- reading the measures from reports ---------------------------------------------------------------------------


def build_report_json(**changes: Any) -> dict[str, Any]:
    from tests.unit.test_report import artifact, report

    built = report(artifact(zipped=9_000, unzipped=30_000), artifact(zipped=4_000, unzipped=50_000, kind="layer"))
    return json.loads(to_json(dataclasses.replace(built, **changes)))  # type: ignore[no-any-return]


def test_measures_from_a_build_report_count_every_zip_and_the_external_layers() -> None:
    measured = measures_from_build(build_report_json(external_layers=2, external_layers_bytes=7_000))
    assert (measured.largest_zip, measured.unzipped, measured.files) == (9_000, 80_000, 2 * 1_234)
    assert (measured.layers, measured.external_bytes) == (3, 7_000)  # one built, two of the user's
    # The fastest of the runs (391 ms; the median is 398.5) on a Lambda vCPU (host factor 27.0 / 27.0 ms): a busy
    # machine only ever slows an import down, and the host factor makes the budget hold on another machine.
    assert (measured.cold_start_ms, measured.cold_start_basis) == (
        391.0 * HOST_TO_LAMBDA_CPU,
        "measured init on a Lambda vCPU, fastest of 3 runs",
    )
    assert measured.distributions == {"numpy": 25_000_000, "botocore": 5_000_000, "(app)": 65_432, "six": 33_000}
    assert set(measured.distribution_files) == set(measured.distributions)
    assert measured.distribution_files["numpy"] == 700
    model = estimate(9_876_543, 31_415_926, 1_234, 0)
    estimated = measures_from_build(build_report_json(coldstart=cold_start(None, model)))
    assert (estimated.cold_start_ms, estimated.cold_start_basis) == (round(model.total_ms, 1), "estimated")
    assert estimated.cold_start_ms > 0


def test_a_report_without_the_host_factor_is_judged_on_its_fastest_run_as_measured() -> None:
    data = build_report_json()
    del data["cold_start"]["measured"]["reference"]
    measured = measures_from_build(data)
    assert (measured.cold_start_ms, measured.cold_start_basis) == (391.0, "measured init, fastest of 3 runs")


def test_a_report_without_the_runs_spread_is_judged_on_its_median() -> None:
    data = build_report_json()
    del data["cold_start"]["measured"]["spread"], data["cold_start"]["measured"]["reference"]
    assert (measures_from_build(data).cold_start_ms, measures_from_build(data).cold_start_basis) == (
        398.5,
        "measured init, median",
    )


def test_measures_from_an_analyze_report() -> None:
    data = {
        "archives": [{"kind": "function", "zipped_bytes": 5_000}, {"kind": "layer", "zipped_bytes": 7_000}],
        "totals": {"unzipped_bytes": 40_000, "files": 12},
        "cold_start_estimate": {"total_ms": 123.4},
        "distributions": [{"name": "numpy", "unzipped_bytes": 30_000}],
    }
    assert measures_from_analyze(data) == Measures(7_000, 40_000, 12, 123.4, "estimated", {"numpy": 30_000}, 1)
    data["distributions"] = [{"name": "numpy", "unzipped_bytes": 30_000, "files": 9}]
    assert measures_from_analyze(data).distribution_files == {"numpy": 9}


# --- refusing a build Lambda would refuse ----------------------------------------------------------------------------


def test_refusal_names_each_limit_the_contributors_and_that_nothing_was_written() -> None:
    assert refusal(measures(), "dist") is None
    error = refusal(measures(unzipped=UNZIPPED_LIMIT + 5, layers=MAX_LAYERS + 1), "/p/dist", top=1)
    assert isinstance(error, OverLambdaLimits)
    message = str(error)
    assert message.startswith("the package is over Lambda's limits, so Lambda would refuse it: Lambda's unzipped ")
    assert "over by 5 bytes; largest contributors: numpy 57.2 MiB; Lambda's layer limit: 6 layers, limit 5" in message
    assert "pandas" not in message  # top=1
    assert "Nothing was written: what is in /p/dist is still the previous build's." in message


def test_markdown_lists_every_violation_and_says_lambda_refuses_before_the_budgets() -> None:
    result = check(measures(unzipped=UNZIPPED_LIMIT + 1, files=2_000), Budget(max_files=1_000))
    markdown = render_markdown(result)
    assert markdown.startswith(
        "### lambda-slim check: **over Lambda's limits: Lambda refuses this package; 1 budget(s) exceeded**\n"
    )
    assert "| max-files | 1,000 | 2,000 | 1,000 files | numpy 57.2 MiB, pandas 37.2 MiB, (app) 976.6 KiB |" in markdown
    assert f"| Lambda's unzipped limit | {UNZIPPED_LIMIT:,} bytes |" in markdown
    assert render_markdown(check(measures(), Budget())).startswith("### lambda-slim check: within budget\n")


# --- [tool.slim.budget] -------------------------------------------------------------------------------------------


def test_the_budget_table_takes_sizes_percentages_and_milliseconds_as_people_write_them() -> None:
    table = {"max-zipped": "50MB", "max-unzipped": 1_000, "max-files": 3000, "max-growth": "10%",
             "max-cold-start-ms": "250 ms"}  # fmt: skip
    assert budget_from(table) == Budget(
        50_000_000, 1_000, 3_000, 10.0, 250.0, max_zipped_decimal=True, max_unzipped_decimal=False
    )
    assert budget_from({}).empty and not budget_from({"max-files": 0}).empty


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max-zip": "1MB"}, "unknown key 'max-zip' in [tool.slim.budget]. Did you mean 'max-zipped'?"),
        ({"max-zipped": "lots"}, "[tool.slim.budget] max-zipped must be a number of bytes or a size such as"),
        (
            {"max-growth": "-5%"},
            "[tool.slim.budget] max-growth must be a percentage, such as 10 or \"10%\", not '-5%'.",
        ),
        ({"max-files": True}, "[tool.slim.budget] max-files must be a whole number of files, not True."),
    ],
)
def test_a_bad_budget_value_says_which_key_and_what_it_takes(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        budget_from(table)
    assert str(caught.value).startswith(message)


def test_max_import_ms_takes_a_table_or_module_equals_ms_items() -> None:
    assert budget_from({"max-import-ms": {"handler": 300, "pandas.core": "120ms"}}).max_import_ms == (
        ("handler", 300.0),
        ("pandas.core", 120.0),
    )
    assert budget_from({"max-import-ms": ["handler=300"]}, "the options").max_import_ms == (("handler", 300.0),)
    assert not Budget(max_import_ms=(("handler", 1.0),)).empty
    for bad, message in (
        (300, "must map module names"),
        ({"not a module": 3}, "is not a module name"),
        (["handler=fast"], "not a number of milliseconds"),
        ({}, "not an empty table"),
    ):
        with pytest.raises(ConfigError, match=message):
            budget_from({"max-import-ms": bad})


def test_max_import_ms_judges_the_named_modules_least_disturbed_run() -> None:
    budget = Budget(max_import_ms=(("handler", 300.0), ("pandas", 100.0), ("missing", 5.0)))
    result = check(measures(import_ms={"handler": 250.0, "pandas": 180.5}, import_runs=5), budget)
    by_budget = [(v.limit, v.actual) for v in result.violations]
    assert by_budget == [
        ("pandas 100 ms", "pandas 180.5 ms (least of 5 runs)"),
        ("missing 5 ms", "missing is not imported by the handler's init: check the module name"),
    ]
    assert "import of handler: 250.0 ms (least of 5 runs" in render(result)


def test_max_zipped_contributors_are_read_from_the_largest_zip_under_the_reports_names() -> None:
    from types import SimpleNamespace

    from lambda_slim._api import _zipped_in_largest

    def archive(kind: str, size: int, *paths: str) -> SimpleNamespace:
        return SimpleNamespace(kind=kind, zipped_bytes=size, members=[SimpleNamespace(path=p) for p in paths])

    analysis: Any = SimpleNamespace(
        archives=[archive("function", 900, "handler.py", "pydantic_core/_core.so"), archive("layer", 50, "six.py")],
        entries=[
            ("function", "(app)", "handler.py", 40, 30),
            ("function", "pydantic_core", "pydantic_core/_core.so", 4_000, 800),
            ("layer", "six", "six.py", 90, 40),  # another zip's: not what max-zipped judges
        ],
    )
    assert _zipped_in_largest(analysis, ["pydantic-core", "six", "(app)"]) == {"pydantic-core": 800, "(app)": 30}
