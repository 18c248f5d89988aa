"""Cold-start impact: measured init (when this machine can run the target) and a documented estimate (always).

The estimate's coefficients and where each comes from are in docs/coldstart.md; change them there and here
together.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lambda_slim._errors import VerifyError
from lambda_slim._sandbox.runner import Layout, ProbeResult, probe, read_only, side_by_side
from lambda_slim._sandbox.trees import TreesUnderTest

# Fetching the code: Shilkov's Node.js measurements (1 KB -> 0.26 s, 14 MB -> 1.70 s, 35 MB -> 3.87 s median cold
# start) are linear with a slope of 103 ms per MB zipped.
FETCH_MS_PER_ZIPPED_MB = 103.0
# Unpacking: measured here, unzip of the etl build (199 MB unzipped, 2,605 files: 2.5 s) and of 10,000 tiny files
# (0.22 s).
UNPACK_MS_PER_UNZIPPED_MB = 12.6
UNPACK_MS_PER_FILE = 0.022
# Compiling a module without a valid pyc: measured here, compile() of the etl build's 624 modules (12.8 MB of
# source) took 2.2 s on one core.
COMPILE_MS_PER_SOURCE_MB = 173.0
# Share of a package's modules a handler imports: the files bench handlers touch are 55-68% of a naive install's
# bytes (docs/lambda-facts.md#cold-start-and-size).
IMPORTED_SHARE = 0.6
# Lambda gives one vCPU at 1,769 MB and proportionally less below (docs/lambda-facts.md#cold-start-and-size).
# Import work runs on one thread, so more memory than that does not make it faster.
FULL_VCPU_MB = 1769
MEMORY_SIZES = (128, 512, 1024, 1769, 3008)
# One core of the build machine is taken as one Lambda vCPU; docs/coldstart.md says why and how to change it.
HOST_TO_LAMBDA_CPU = 1.0


@dataclass(frozen=True)
class Measured:
    what: str  # "handler handler.handler" or "top-level modules"
    runs: int
    naive_ms: float  # the unslimmed install, valid pycs
    slim_ms: float  # the package built
    no_bytecode_ms: float | None  # the package built, every module compiled at import (bytecode stripped)

    @property
    def speedup_vs_no_bytecode(self) -> float | None:
        return self.no_bytecode_ms / self.slim_ms if self.no_bytecode_ms and self.slim_ms else None


@dataclass(frozen=True)
class Estimate:
    fetch_ms: float
    unpack_ms: float
    compile_ms: float  # modules without a valid pyc, compiled at each cold start

    @property
    def total_ms(self) -> float:
        return self.fetch_ms + self.unpack_ms + self.compile_ms


@dataclass(frozen=True)
class ColdStart:
    measured: Measured | None
    estimate: Estimate
    # (memory MB, init ms, cold start ms): init is the CPU-bound import scaled by the CPU share that memory buys;
    # the cold start adds fetching and unpacking, which Lambda's Init Duration does not include.
    memory_table: tuple[tuple[int, float, float], ...]
    basis: str  # what the init column scales: "measured" import time, or the "estimated" compile cost


def estimate(zipped_bytes: int, unzipped_bytes: int, files: int, uncompiled_source_bytes: int) -> Estimate:
    return Estimate(
        fetch_ms=FETCH_MS_PER_ZIPPED_MB * zipped_bytes / 1e6,
        unpack_ms=UNPACK_MS_PER_UNZIPPED_MB * unzipped_bytes / 1e6 + UNPACK_MS_PER_FILE * files,
        compile_ms=COMPILE_MS_PER_SOURCE_MB * uncompiled_source_bytes / 1e6 * IMPORTED_SHARE,
    )


def at_memory(cpu_ms: float, memory_mb: int) -> float:
    """CPU-bound work at a memory size: it stretches as the CPU share shrinks, and stops gaining at one vCPU."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return cpu_ms * HOST_TO_LAMBDA_CPU / share


def memory_table(cpu_ms: float, package: Estimate) -> tuple[tuple[int, float, float], ...]:
    rows = []
    for size in MEMORY_SIZES:
        init = at_memory(cpu_ms + package.compile_ms, size)
        rows.append((size, init, init + package.fetch_ms + package.unpack_ms))
    return tuple(rows)


def median_inits(
    variants: dict[str, Callable[[], ProbeResult]], runs: int, first: dict[str, float] | None = None
) -> dict[str, float]:
    """The median init of `runs` fresh processes per variant, `first` counting as one of them when given.

    Each round runs the variants side by side, one process per core, when there is a core for each (so they share
    the machine alike), else in turn with the order rotating, so that a noisy neighbour slows them alike. A
    failing run is an error, not a number.
    """
    values: dict[str, list[float]] = {name: [first[name]] if first and name in first else [] for name in variants}
    order = list(variants)
    for round_number in range(runs):
        due = [name for name in order if len(values[name]) < runs]
        if not due:
            break
        # Rotate who goes first, so no variant always runs right after another's page-cache and CPU warm-up.
        shift = round_number % len(due)
        due = due[shift:] + due[:shift]
        for name, result in zip(due, side_by_side([variants[name] for name in due]), strict=True):
            if result.init_ms is None:
                raise VerifyError(f"measuring the init of the {name} package failed.", details=result.error or "")
            values[name].append(result.init_ms)
    return {name: statistics.median(found) for name, found in values.items()}


def cold_start(measured: Measured | None, package: Estimate) -> ColdStart:
    if measured is not None:
        # The measured import already compiled whatever had no pyc: do not count the estimate of that again.
        measured_package = Estimate(package.fetch_ms, package.unpack_ms, 0.0)
        return ColdStart(measured, package, memory_table(measured.slim_ms, measured_package), "measured")
    return ColdStart(None, package, memory_table(0.0, package), "estimated")


def measure_init(
    trees: TreesUnderTest,
    modules: Sequence[str],
    runs: int,
    *,
    without_bytecode: bool = False,
    first: tuple[float, float] | None = None,
) -> Measured:
    """Init of the unslimmed install and of the package, and with `without_bytecode` of the package with its
    bytecode hidden (what shipping no pycs costs), each the median of `runs` fresh processes in the sandbox.
    `modules`: what is imported when there is no handler; `first`: the init of the unslimmed and the slimmed package
    in processes already run (the build's check)."""
    interpreter, handler = trees.interpreter, trees.handler
    naive, slim = trees.unslimmed_layout, trees.slimmed_layout
    targets = () if handler else tuple(modules)

    def run(layout: Layout, bytecode: bool = True) -> Callable[[], ProbeResult]:
        return lambda: probe(layout, interpreter, handler=handler, modules=targets, bytecode=bytecode)

    with read_only([trees.unslimmed, *slim.roots()]):
        variants = {"unslimmed": run(naive), "slimmed": run(slim)}
        if without_bytecode:
            variants["bytecode-stripped"] = run(slim, bytecode=False)
        first_round = {"unslimmed": first[0], "slimmed": first[1]} if first else None
        medians = median_inits(variants, runs, first_round)
    return Measured(
        what=f"handler {handler}" if handler else f"{len(modules)} top-level modules",
        runs=runs,
        naive_ms=medians["unslimmed"],
        slim_ms=medians["slimmed"],
        no_bytecode_ms=medians.get("bytecode-stripped"),
    )
