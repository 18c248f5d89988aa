from __future__ import annotations

import threading
import time

import pytest

from lambda_slim._errors import VerifyError
from lambda_slim._sandbox import coldstart
from lambda_slim._sandbox import runner as sandbox
from lambda_slim._sandbox.coldstart import Estimate, Measured, at_memory, cold_start, estimate, median_inits
from lambda_slim._sandbox.runner import ProbeResult


def test_estimate_terms_follow_the_documented_coefficients() -> None:
    package = estimate(
        zipped_bytes=10_000_000, unzipped_bytes=30_000_000, files=1_000, uncompiled_source_bytes=2_000_000
    )
    assert package.fetch_ms == pytest.approx(10 * coldstart.FETCH_MS_PER_ZIPPED_MB)
    assert package.unpack_ms == pytest.approx(
        30 * coldstart.UNPACK_MS_PER_UNZIPPED_MB + 1_000 * coldstart.UNPACK_MS_PER_FILE
    )
    assert package.compile_ms == pytest.approx(2 * coldstart.COMPILE_MS_PER_SOURCE_MB * coldstart.IMPORTED_SHARE)
    assert package.total_ms == pytest.approx(package.fetch_ms + package.unpack_ms + package.compile_ms)


def test_cpu_work_scales_with_memory_up_to_one_vcpu() -> None:
    assert at_memory(100.0, 1769) == pytest.approx(100.0)
    assert at_memory(100.0, 3008) == pytest.approx(100.0)
    assert at_memory(100.0, 128) == pytest.approx(100.0 * 1769 / 128)


def test_measured_table_does_not_count_compiling_twice() -> None:
    package = Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=999.0)
    result = cold_start(Measured("handler h.h", 3, 300.0, 200.0, 900.0), package)
    assert result.basis == "measured"
    row = dict((size, (init, total)) for size, init, total in result.memory_table)[1769]
    assert row == (pytest.approx(200.0), pytest.approx(260.0))


def test_estimated_table_without_measurement() -> None:
    result = cold_start(None, Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=100.0))
    assert result.basis == "estimated"
    assert [size for size, _, _ in result.memory_table] == list(coldstart.MEMORY_SIZES)
    assert dict((size, init) for size, init, _ in result.memory_table)[512] == pytest.approx(100.0 * 1769 / 512)


def test_median_inits_alternate_and_take_the_median(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.os, "cpu_count", lambda: 1)  # in turn, so the order shows
    calls: list[str] = []
    values = {"a": iter([5.0, 1.0, 3.0]), "b": iter([10.0, 30.0, 20.0])}

    def runner(name: str):  # type: ignore[no-untyped-def]
        def run() -> ProbeResult:
            calls.append(name)
            return ProbeResult(next(values[name]), None, 1.0)

        return run

    medians = median_inits({"a": runner("a"), "b": runner("b")}, runs=3)
    assert medians == {"a": 3.0, "b": 20.0}
    assert calls == ["a", "b", "b", "a", "a", "b"]


def test_median_inits_run_side_by_side_and_count_a_first_round(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.os, "cpu_count", lambda: 2)
    running = 0
    most = 0
    lock = threading.Lock()
    calls: list[str] = []

    def runner(name: str, value: float):  # type: ignore[no-untyped-def]
        def run() -> ProbeResult:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
                calls.append(name)
            time.sleep(0.05)
            with lock:
                running -= 1
            return ProbeResult(value, None, 1.0)

        return run

    medians = median_inits({"a": runner("a", 4.0), "b": runner("b", 8.0)}, runs=3, first={"a": 1.0, "b": 100.0})
    assert sorted(calls) == ["a", "a", "b", "b"]  # the first round was given: two more each
    assert most == 2
    assert medians == {"a": 4.0, "b": 8.0}


def test_a_failed_run_is_an_error_not_a_number() -> None:
    with pytest.raises(VerifyError, match="measuring the init of the slim package failed"):
        median_inits({"slim": lambda: ProbeResult(None, None, 0.0, error="ImportError: boom")}, runs=1)
