"""Cold-start impact: measured init (when this machine can run the target) and a documented estimate (always).

The estimate's coefficients and where each comes from are in docs/coldstart.md; change them there and here
together.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from lambda_slim._errors import VerifyError
from lambda_slim._inputs.config import InitCpu
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
# Lambda gives one vCPU at 1,769 MB and proportionally less below (docs/lambda-facts.md#cold-start-and-size): that
# throttles the handler's invocation. Init runs unthrottled, about two vCPUs, up to about 3 GB (Bite-Sized
# Serverless 2023, same place), and importing runs on one thread: at every size in the table init takes what it
# takes at one full vCPU. init-cpu = "proportional" scales init like the invocation instead.
FULL_VCPU_MB = 1769
MEMORY_SIZES = (128, 512, 1024, 1769, 3008)
# One core of the machine REFERENCE_MS was measured on is taken as one Lambda vCPU; docs/coldstart.md#the-host-factor
# says why and how to change it.
HOST_TO_LAMBDA_CPU = 1.0
# The reference workload (probe.reference_ms) took this long on that machine, fastest of a build's 5 runs: 26.6-28.0
# ms over 9 builds of the bench apps, quiet, 2026-12-02 (docs/coldstart.md#the-host-factor). A core that runs it in
# half the time is twice as fast, so what it measures counts double.
REFERENCE_MS = 27.0
# Lambda stops an init that runs past 10 s and runs it again inside the first invocation, under the function's
# timeout (docs/lambda-facts.md#cold-start-and-size).
INIT_LIMIT_MS = 10_000.0
# A measurement is noisy when a variant's runs spread over more than this share of their median (and by more than
# NOISY_FLOOR_MS: a few ms either way on a tiny import is no reason to doubt it), or when the machine's load was
# above its cores (docs/coldstart.md#how-steady-a-measurement-is).
NOISY_SPREAD = 0.25
NOISY_FLOOR_MS = 10.0

BASIS = {
    "unthrottled": (
        "init runs unthrottled (about two vCPUs up to ~3 GB: Bite-Sized Serverless 2023), so it is the same at every "
        f"size; the invocation scales with memory / {FULL_VCPU_MB:,} MB"
    ),
    "proportional": (
        f'init and the invocation scale with memory / {FULL_VCPU_MB:,} MB ([tool.slim] init-cpu = "proportional"; '
        "Lambda was measured to run init unthrottled: docs/coldstart.md)"
    ),
}


@dataclass(frozen=True)
class Timing:
    """One variant's runs: the median, and the least and the most of them."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Timing:
        # To a tenth of a millisecond, as the JSON report holds them: a build reported again from its JSON (the
        # reuse path) then judges its noise on the very same figures.
        return cls(*(round(value, 1) for value in (statistics.median(values), min(values), max(values))))

    @property
    def spread(self) -> float:
        """(max - min) / median: how far apart the runs were, as a share of their median."""
        return (self.high - self.low) / self.median if self.median else 0.0

    @property
    def wide(self) -> bool:
        return self.spread > NOISY_SPREAD and self.high - self.low > NOISY_FLOOR_MS


@dataclass(frozen=True)
class Machine:
    """The build machine while it measured: its cores and its 1-minute load average at the start and the end."""

    cores: int
    load_start: float
    load_end: float

    @property
    def busy(self) -> bool:
        return max(self.load_start, self.load_end) > self.cores

    @classmethod
    def now(cls, start: float | None = None) -> Machine:
        """The cores and the load now; `start`: the load taken when measuring began."""
        load = round(os.getloadavg()[0], 2)  # as the JSON report holds it
        return cls(os.cpu_count() or 1, load if start is None else round(start, 2), load)


@dataclass(frozen=True)
class Measured:
    what: str  # "handler handler.handler" or "top-level modules"
    runs: int
    naive: Timing  # the unslimmed install, valid pycs
    slim: Timing  # the package built
    no_bytecode: Timing | None  # the package built, every module compiled at import (bytecode stripped)
    # The package's first invocation on the event, in the same fresh processes (None: no handler or no event).
    invoke: Timing | None = None
    machine: Machine | None = None  # None in reports written before it was recorded
    # The reference workload, timed in each of the package's processes just before its import. None in reports
    # written before it was recorded (then the host factor is HOST_TO_LAMBDA_CPU).
    reference: Timing | None = None

    @property
    def naive_ms(self) -> float:
        return self.naive.median

    @property
    def slim_ms(self) -> float:
        return self.slim.median

    @property
    def no_bytecode_ms(self) -> float | None:
        return None if self.no_bytecode is None else self.no_bytecode.median

    @property
    def speedup_vs_no_bytecode(self) -> float | None:
        return self.no_bytecode_ms / self.slim_ms if self.no_bytecode_ms and self.slim_ms else None

    @property
    def host_factor(self) -> float:
        """How much longer Python takes on a Lambda vCPU than on this core, undisturbed: by the fastest reference
        run, as the init below is the fastest import (docs/coldstart.md#the-host-factor)."""
        if self.reference is None or not self.reference.low:
            return HOST_TO_LAMBDA_CPU
        return host_factor(self.reference.low)

    @property
    def lambda_init_ms(self) -> float:
        """The package's init on a Lambda vCPU: its fastest run times the host factor. The median moved by a third
        between builds here, as the virtual core switched speed for seconds at a time; the fastest runs of the
        import and of the reference, both taken at the core's undisturbed speed, moved by a few percent. A report
        written before the reference was recorded: its median, as then."""
        if self.reference is None:
            return self.slim_ms * HOST_TO_LAMBDA_CPU
        return self.slim.low * self.host_factor

    @property
    def lambda_invoke_ms(self) -> float | None:
        return None if self.invoke is None else self.invoke.median * self.host_factor

    def variants(self) -> tuple[tuple[str, Timing], ...]:
        """Each variant's timing, with how the reports name it."""
        named = [("unslimmed", self.naive), ("slimmed", self.slim)]
        return tuple(named + ([("bytecode-stripped", self.no_bytecode)] if self.no_bytecode else []))

    def noise(self) -> tuple[str, ...]:
        """Why these figures are not to be trusted as they stand; empty when the measurement looks steady."""
        reasons = [
            f"the {name} runs spread from {timing.low:,.0f} to {timing.high:,.0f} ms around a median of "
            f"{timing.median:,.0f} ms (over {NOISY_SPREAD:.0%})"
            for name, timing in self.variants()
            if timing.wide
        ]
        if self.machine is not None and self.machine.busy:
            machine = self.machine
            reasons.append(
                f"the load ({machine.load_start:.1f} at the start, {machine.load_end:.1f} at the end) was above the "
                f"machine's {machine.cores} cores"
            )
        return tuple(reasons)


@dataclass(frozen=True)
class Estimate:
    fetch_ms: float
    unpack_ms: float
    compile_ms: float  # modules without a valid pyc, compiled at each cold start

    @property
    def total_ms(self) -> float:
        return self.fetch_ms + self.unpack_ms + self.compile_ms


class MemoryRow(NamedTuple):
    memory_mb: int
    init_ms: float  # the package's init on Lambda at this size
    cold_start_ms: float  # init plus fetching and unpacking, which Lambda's Init Duration does not include
    invoke_ms: float | None = None  # the first invocation on the event, scaled by the CPU share this size buys


@dataclass(frozen=True)
class ColdStart:
    measured: Measured | None
    estimate: Estimate
    memory_table: tuple[MemoryRow, ...]
    basis: str  # what the init column scales: "measured" import time, or the "estimated" compile cost
    init_cpu: InitCpu = "unthrottled"  # how init scales with memory: BASIS says each in words

    @property
    def scaling(self) -> str:
        return BASIS[self.init_cpu]

    def over_init_limit(self) -> tuple[MemoryRow, ...]:
        return tuple(row for row in self.memory_table if row.init_ms > INIT_LIMIT_MS)

    def init_warning(self) -> str | None:
        """What Lambda would do with an init predicted over its limit, for the sizes where it is."""
        over = self.over_init_limit()
        if not over:
            return None
        sizes = ", ".join(f"{row.memory_mb} MB ({row.init_ms:,.0f} ms)" for row in over)
        return (
            f"the predicted init is over Lambda's {INIT_LIMIT_MS / 1000:.0f} s init limit at {sizes}: Lambda would "
            "stop it and run the init again inside the first invocation, under the function's timeout"
        )


def estimate(zipped_bytes: int, unzipped_bytes: int, files: int, uncompiled_source_bytes: int) -> Estimate:
    return Estimate(
        fetch_ms=FETCH_MS_PER_ZIPPED_MB * zipped_bytes / 1e6,
        unpack_ms=UNPACK_MS_PER_UNZIPPED_MB * unzipped_bytes / 1e6 + UNPACK_MS_PER_FILE * files,
        compile_ms=COMPILE_MS_PER_SOURCE_MB * uncompiled_source_bytes / 1e6 * IMPORTED_SHARE,
    )


def host_factor(reference_ms: float) -> float:
    """The host factor of a process that ran the reference workload in `reference_ms`."""
    return HOST_TO_LAMBDA_CPU * REFERENCE_MS / reference_ms


def at_memory(vcpu_ms: float, memory_mb: int) -> float:
    """Throttled CPU-bound work at a memory size, from its time on one Lambda vCPU: it stretches as the CPU share
    shrinks, and stops gaining at one vCPU."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return vcpu_ms / share


def init_at_memory(vcpu_ms: float, memory_mb: int, init_cpu: InitCpu) -> float:
    """Init at a memory size: unthrottled, what it takes on one full vCPU; proportional, throttled like a handler."""
    return at_memory(vcpu_ms, memory_mb) if init_cpu == "proportional" else vcpu_ms


def memory_table(
    vcpu_ms: float, package: Estimate, init_cpu: InitCpu = "unthrottled", invoke_ms: float | None = None
) -> tuple[MemoryRow, ...]:
    """`vcpu_ms` and `invoke_ms`: the init and the first invocation on one Lambda vCPU."""
    rows = []
    for size in MEMORY_SIZES:
        init = init_at_memory(vcpu_ms + package.compile_ms * HOST_TO_LAMBDA_CPU, size, init_cpu)
        invoke = None if invoke_ms is None else at_memory(invoke_ms, size)
        rows.append(MemoryRow(size, init, init + package.fetch_ms + package.unpack_ms, invoke))
    return tuple(rows)


def measure_rounds(
    variants: dict[str, Callable[[], ProbeResult]],
    runs: int,
    first: dict[str, ProbeResult] | None = None,
    ran: Callable[[int], None] | None = None,
) -> dict[str, list[ProbeResult]]:
    """`runs` fresh processes per variant, interleaved: `first` (results of processes already run) counts as the
    first round of the variants it names. `ran` is called with the number of processes each round ran.

    Each round runs the variants side by side, one process per core, when there is a core for each (so they share
    the machine alike), else in turn with the order rotating, so that a noisy neighbour slows them alike. A
    failing run is an error, not a number.
    """
    results: dict[str, list[ProbeResult]] = {
        name: [first[name]] if first and name in first else [] for name in variants
    }
    order = list(variants)
    for round_number in range(runs):
        due = [name for name in order if len(results[name]) < runs]
        if not due:
            break
        # Rotate who goes first, so no variant always runs right after another's page-cache and CPU warm-up.
        shift = round_number % len(due)
        due = due[shift:] + due[:shift]
        for name, result in zip(due, side_by_side([variants[name] for name in due]), strict=True):
            if result.init_ms is None or result.error:
                raise VerifyError(f"measuring the init of the {name} package failed.", details=result.error or "")
            results[name].append(result)
        if ran is not None:
            ran(len(due))
    return results


def cold_start(measured: Measured | None, package: Estimate, init_cpu: InitCpu = "unthrottled") -> ColdStart:
    if measured is not None:
        # The measured import already compiled whatever had no pyc: do not count the estimate of that again.
        measured_package = Estimate(package.fetch_ms, package.unpack_ms, 0.0)
        table = memory_table(measured.lambda_init_ms, measured_package, init_cpu, measured.lambda_invoke_ms)
        return ColdStart(measured, package, table, "measured", init_cpu)
    return ColdStart(None, package, memory_table(0.0, package, init_cpu), "estimated", init_cpu)


def processes_to_measure(runs: int, *, without_bytecode: bool, first: bool) -> int:
    """How many processes measure_init starts: `runs` per variant, less the first round when it is given."""
    variants = 3 if without_bytecode else 2
    return runs * variants - (2 if first else 0)


def measure_init(
    trees: TreesUnderTest,
    modules: Sequence[str],
    runs: int,
    *,
    without_bytecode: bool = False,
    event: Any = None,
    first: tuple[ProbeResult, ProbeResult] | None = None,
    ran: Callable[[int], None] | None = None,
) -> Measured:
    """Init of the unslimmed install and of the package, and with `without_bytecode` of the package with its
    bytecode hidden (what shipping no pycs costs), each over `runs` fresh processes in the sandbox, the variants
    interleaved. With a handler and an `event`, the package's processes also invoke the handler on it once.
    `modules`: what is imported when there is no handler; `first`: the unslimmed and the slimmed package's
    processes already run (the build's check), counted as the first round; `ran`: see measure_rounds."""
    interpreter, handler = trees.interpreter, trees.handler
    naive, slim = trees.unslimmed_layout, trees.slimmed_layout
    targets = () if handler else tuple(modules)
    invoked = event if handler else None

    def run(layout: Layout, bytecode: bool = True, on: Any = None) -> Callable[[], ProbeResult]:
        return lambda: probe(
            layout, interpreter, handler=handler, modules=targets, bytecode=bytecode, event=on, reference=True
        )

    start = os.getloadavg()[0]
    with read_only([trees.unslimmed, *slim.roots()]):
        variants = {"unslimmed": run(naive), "slimmed": run(slim, on=invoked)}
        if without_bytecode:
            variants["bytecode-stripped"] = run(slim, bytecode=False)
        first_round = {"unslimmed": first[0], "slimmed": first[1]} if first else None
        results = measure_rounds(variants, runs, first_round, ran)
    inits = {name: Timing.of([r.init_ms for r in found if r.init_ms is not None]) for name, found in results.items()}
    durations = [r.duration_ms for r in results["slimmed"] if r.duration_ms is not None]
    references = [r.reference_ms for r in results["slimmed"] if r.reference_ms]
    return Measured(
        what=f"handler {handler}" if handler else f"{len(modules)} top-level modules",
        runs=runs,
        naive=inits["unslimmed"],
        slim=inits["slimmed"],
        no_bytecode=inits.get("bytecode-stripped"),
        invoke=Timing.of(durations) if invoked is not None and durations else None,
        machine=Machine.now(start),
        reference=Timing.of(references) if references else None,
    )
