from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lambda_slim._errors import VerifyError
from lambda_slim._sandbox import coldstart
from lambda_slim._sandbox import runner as sandbox
from lambda_slim._sandbox.coldstart import (
    Estimate,
    Machine,
    Measured,
    Timing,
    at_memory,
    cold_start,
    estimate,
    measure_rounds,
)
from lambda_slim._sandbox.runner import ProbeResult
from lambda_slim._sandbox.trees import TreesUnderTest


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


def measured(slim_ms: float = 200.0, invoke_ms: float | None = None) -> Measured:
    return Measured(
        "handler h.h",
        3,
        Timing(300.0, 290.0, 310.0),
        Timing(slim_ms, slim_ms, slim_ms),
        Timing(900.0, 900.0, 900.0),
        None if invoke_ms is None else Timing(invoke_ms, invoke_ms, invoke_ms),
    )


def test_measured_table_does_not_count_compiling_twice() -> None:
    package = Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=999.0)
    result = cold_start(measured(), package)
    assert result.basis == "measured"
    row = {row.memory_mb: row for row in result.memory_table}[1769]
    assert (row.init_ms, row.cold_start_ms) == (pytest.approx(200.0), pytest.approx(260.0))


def test_init_runs_unthrottled_and_the_invocation_scales_with_memory() -> None:
    # Bite-Sized Serverless 2023: init has about two vCPUs at every size up to ~3 GB; the handler is throttled.
    result = cold_start(measured(invoke_ms=20.0), Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=0.0))
    assert result.init_cpu == "unthrottled"
    rows = {row.memory_mb: row for row in result.memory_table}
    assert [row.init_ms for row in rows.values()] == [pytest.approx(200.0 * coldstart.HOST_TO_LAMBDA_CPU)] * 5
    assert rows[128].invoke_ms == pytest.approx(20.0 * 1769 / 128)
    assert rows[1769].invoke_ms == rows[3008].invoke_ms == pytest.approx(20.0)
    assert [row.cold_start_ms for row in rows.values()] == [pytest.approx(260.0)] * 5  # without the invocation


def test_proportional_init_cpu_scales_init_like_the_invocation() -> None:
    result = cold_start(measured(), Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=0.0), "proportional")
    rows = {row.memory_mb: row for row in result.memory_table}
    assert rows[128].init_ms == pytest.approx(200.0 * 1769 / 128)
    assert rows[1769].init_ms == rows[3008].init_ms == pytest.approx(200.0)
    assert rows[128].invoke_ms is None  # nothing was invoked: no event


def test_the_init_limit_warning_names_the_sizes_over_it() -> None:
    # The boto3 + pypdf app of issue 16: 1,385 ms of import, 19 s at 128 MB when init was taken as throttled.
    package = Estimate(fetch_ms=0.0, unpack_ms=0.0, compile_ms=0.0)
    assert cold_start(measured(1385.0), package).init_warning() is None
    warning = cold_start(measured(1385.0), package, "proportional").init_warning()
    assert warning is not None and "at 128 MB (19,141 ms):" in warning and "512 MB" not in warning
    assert (
        cold_start(measured(10_500.0), package).over_init_limit()
        == cold_start(measured(10_500.0), package).memory_table
    )


def test_estimated_table_without_measurement() -> None:
    result = cold_start(None, Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=100.0), "proportional")
    assert result.basis == "estimated"
    assert [row.memory_mb for row in result.memory_table] == list(coldstart.MEMORY_SIZES)
    assert {row.memory_mb: row.init_ms for row in result.memory_table}[512] == pytest.approx(100.0 * 1769 / 512)
    unthrottled = cold_start(None, Estimate(fetch_ms=50.0, unpack_ms=10.0, compile_ms=100.0))
    assert {row.memory_mb: row.init_ms for row in unthrottled.memory_table}[512] == pytest.approx(100.0)


def test_timing_keeps_the_median_and_the_spread() -> None:
    timing = Timing.of([120.0, 100.0, 180.0])
    assert (timing.median, timing.low, timing.high) == (120.0, 100.0, 180.0)
    assert timing.spread == pytest.approx(80 / 120) and timing.wide
    assert not Timing.of([100.0, 110.0, 120.0]).wide  # 20%: within the documented 25%


def test_the_machine_records_cores_and_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coldstart.os, "getloadavg", lambda: (2.5, 1.0, 0.5))
    monkeypatch.setattr(coldstart.os, "cpu_count", lambda: 2)
    machine = Machine.now(start=1.25)
    assert machine == Machine(2, 1.25, 2.5) and machine.busy
    assert not Machine(2, 1.9, 2.0).busy and Machine(2, 2.5, 1.0).busy  # busy at the start is busy


def test_rounds_alternate_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.os, "cpu_count", lambda: 1)  # in turn, so the order shows
    calls: list[str] = []
    values = {"a": iter([5.0, 1.0, 3.0]), "b": iter([10.0, 30.0, 20.0])}

    def runner(name: str):  # type: ignore[no-untyped-def]
        def run() -> ProbeResult:
            calls.append(name)
            return ProbeResult(next(values[name]), None, 1.0)

        return run

    rounds = measure_rounds({"a": runner("a"), "b": runner("b")}, runs=3)
    assert {name: [r.init_ms for r in found] for name, found in rounds.items()} == {
        "a": [5.0, 1.0, 3.0],
        "b": [10.0, 30.0, 20.0],
    }
    assert calls == ["a", "b", "b", "a", "a", "b"]


def test_rounds_run_side_by_side_and_count_a_first_round(monkeypatch: pytest.MonkeyPatch) -> None:
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

    first = {"a": ProbeResult(1.0, None, 1.0), "b": ProbeResult(100.0, 7.0, 1.0)}
    rounds = measure_rounds({"a": runner("a", 4.0), "b": runner("b", 8.0)}, runs=3, first=first)
    assert sorted(calls) == ["a", "a", "b", "b"]  # the first round was given: two more each
    assert most == 2
    assert {name: [r.init_ms for r in found] for name, found in rounds.items()} == {
        "a": [1.0, 4.0, 4.0],
        "b": [100.0, 8.0, 8.0],
    }


def test_a_failed_run_is_an_error_not_a_number() -> None:
    with pytest.raises(VerifyError, match="measuring the init of the slim package failed"):
        measure_rounds({"slim": lambda: ProbeResult(None, None, 0.0, error="ImportError: boom")}, runs=1)
    with pytest.raises(VerifyError, match="measuring the init of the slim package failed"):
        # Imported, then failed on the event: not a number either.
        measure_rounds({"slim": lambda: ProbeResult(5.0, None, 0.0, error="KeyError: 'body'")}, runs=1)


# --- the host factor (docs/coldstart.md#the-host-factor) ----------------------------------------------------------


def test_the_table_takes_the_fastest_init_times_the_host_factor_and_scales_the_invocation_by_it() -> None:
    # This machine's fastest reference run took half the reference core's time: it is twice as fast, so Lambda
    # takes twice as long as measured here.
    half = coldstart.REFERENCE_MS / 2
    here = dataclasses.replace(
        measured(invoke_ms=20.0),
        slim=Timing(210.0, 205.0, 320.0),
        reference=Timing(half * 1.4, half, half * 1.6),
    )
    assert here.host_factor == pytest.approx(2.0 * coldstart.HOST_TO_LAMBDA_CPU)
    assert here.lambda_init_ms == pytest.approx(410.0 * coldstart.HOST_TO_LAMBDA_CPU)  # 205 ms, the fastest run
    rows = {row.memory_mb: row for row in cold_start(here, Estimate(0.0, 0.0, 0.0)).memory_table}
    assert rows[1769].init_ms == pytest.approx(410.0 * coldstart.HOST_TO_LAMBDA_CPU)
    assert rows[1769].invoke_ms == pytest.approx(40.0 * coldstart.HOST_TO_LAMBDA_CPU)
    assert rows[128].invoke_ms == pytest.approx(40.0 * coldstart.HOST_TO_LAMBDA_CPU * 1769 / 128)


def test_a_report_without_a_reference_keeps_the_documented_factor_and_the_median() -> None:
    old = dataclasses.replace(measured(), slim=Timing(200.0, 150.0, 260.0))
    assert old.reference is None and old.host_factor == coldstart.HOST_TO_LAMBDA_CPU
    assert old.lambda_init_ms == pytest.approx(200.0 * coldstart.HOST_TO_LAMBDA_CPU)


def test_every_measured_process_times_the_reference(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ref = coldstart.REFERENCE_MS
    slimmed = iter([(150.0, ref * 1.5), (100.0, ref), (200.0, ref * 2)])

    def fake_probe(layout: Any, interpreter: str, **options: Any) -> ProbeResult:
        assert options["reference"] is True
        if layout.task_root.name == "slim":
            init, reference = next(slimmed)
            return ProbeResult(init, None, 10.0, reference_ms=reference)
        return ProbeResult(300.0, None, 10.0, reference_ms=ref)

    monkeypatch.setattr(coldstart, "probe", fake_probe)
    monkeypatch.setattr(coldstart, "side_by_side", lambda runs: [run() for run in runs])
    (tmp_path / "naive").mkdir()
    (tmp_path / "slim").mkdir()
    trees = TreesUnderTest(tmp_path / "naive", tmp_path / "slim", sys.executable, "3.11", handler="h.h")
    result = coldstart.measure_init(trees, (), runs=3)
    assert result.slim == Timing(150.0, 100.0, 200.0)  # what the clock said here
    assert result.reference == Timing(ref * 1.5, ref, ref * 2)
    assert result.lambda_init_ms == pytest.approx(100.0 * coldstart.HOST_TO_LAMBDA_CPU)


@pytest.mark.parametrize("without_bytecode", [False, True])
@pytest.mark.parametrize("given_first", [False, True])
def test_the_measurement_reports_each_process_it_ran(without_bytecode: bool, given_first: bool) -> None:
    # The progress bar counts the measurement's processes: the total it is given must be what the rounds run.
    variants = {"unslimmed": lambda: ProbeResult(2.0, None, 1.0), "slimmed": lambda: ProbeResult(1.0, None, 1.0)}
    if without_bytecode:
        variants["bytecode-stripped"] = lambda: ProbeResult(3.0, None, 1.0)
    first = {"unslimmed": ProbeResult(2.0, None, 1.0), "slimmed": ProbeResult(1.0, None, 1.0)} if given_first else None
    ran: list[int] = []
    measure_rounds(variants, runs=4, first=first, ran=ran.append)
    assert all(ran)  # a report each round that ran a process
    assert sum(ran) == coldstart.processes_to_measure(4, without_bytecode=without_bytecode, first=given_first)
