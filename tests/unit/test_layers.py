"""Layer planning on numbers alone."""

from __future__ import annotations

import pytest

from lambda_slim._artifacts.inventory import APP
from lambda_slim._artifacts.layers import (
    SHARED_LAYER,
    LayerError,
    LayerSpec,
    Weight,
    check_fits,
    plan_auto,
    plan_explicit,
)

MIB = 1024 * 1024
ETL = [
    Weight(APP, 2_000),
    Weight("numpy", 52 * MIB),
    Weight("pandas", 36 * MIB),
    Weight("pyarrow", 99 * MIB),
    Weight("python-dateutil", 700_000),
    Weight("pytz", 1 * MIB),
    Weight("tzdata", 500_000),
]


def names(plan) -> dict[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return {layer.name: layer.distributions for layer in plan.layers}


def test_heavy_distributions_get_a_layer_each_and_light_ones_stay() -> None:
    assert names(plan_auto(ETL)) == {"numpy": ("numpy",), "pandas": ("pandas",), "pyarrow": ("pyarrow",)}


def test_the_app_is_never_layered_however_big() -> None:
    plan = plan_auto([Weight(APP, 50 * MIB), Weight("numpy", 52 * MIB)])
    assert names(plan) == {"numpy": ("numpy",)}


def test_more_heavy_distributions_than_slots_share_the_last_layer() -> None:
    plan = plan_auto(ETL, slots=2)
    assert names(plan) == {"pyarrow": ("pyarrow",), SHARED_LAYER: ("numpy", "pandas")}


def test_external_layers_leave_fewer_slots() -> None:
    assert plan_auto(ETL, slots=0).layers == ()
    assert names(plan_auto(ETL, slots=1)) == {SHARED_LAYER: ("numpy", "pandas", "pyarrow")}


def test_a_change_to_a_light_dependency_or_the_app_keeps_the_plan() -> None:
    changed = [Weight(w.distribution, w.unzipped_bytes + 300_000) if w.unzipped_bytes < MIB * 2 else w for w in ETL]
    assert plan_auto(changed) == plan_auto(ETL)


def test_heavy_threshold() -> None:
    assert names(plan_auto(ETL, heavy_bytes=40 * MIB)) == {"numpy": ("numpy",), "pyarrow": ("pyarrow",)}


def test_one_distribution_over_the_limit() -> None:
    with pytest.raises(LayerError) as error:
        plan_auto([Weight("huge", 300_000_000), Weight("small", 10)])
    message = str(error.value)
    assert "huge alone is 300,000,000 bytes unzipped, over Lambda's limit of 262,144,000 bytes" in message
    assert "Biggest: huge 286.1 MiB, small 10 B" in message
    assert "container image" in message and "exclude" in message and "bytecode" in message


def test_total_over_the_limit_says_by_how_much_including_external_layers() -> None:
    with pytest.raises(LayerError, match=r"over Lambda's limit") as error:
        check_fits([Weight("a", 150_000_000), Weight("b", 100_000_000)], external_bytes=20_000_000)
    message = str(error.value)
    assert "270,000,000 bytes unzipped (with 20,000,000 bytes of your own layers), 7,856,000 bytes" in message


def test_explicit_groups() -> None:
    plan = plan_explicit(ETL, {"data": ["numpy", "pandas", "pyarrow"]})
    assert plan.layers == (LayerSpec("data", ("numpy", "pandas", "pyarrow")),)
    assert plan.layer_of("pandas") == "data" and plan.layer_of("pytz") is None


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"data": ["scipy"]}, "names 'scipy', which this build does not install"),
        ({"a": ["numpy"], "b": ["numpy"]}, "'numpy' is in two layers, a and b"),
        ({f"l{i}": [] for i in range(6)}, "names 6 layers, but only 5 are free"),
    ],
)
def test_explicit_group_errors(groups: dict[str, list[str]], message: str) -> None:
    with pytest.raises(LayerError, match=message):
        plan_explicit(ETL, groups)
