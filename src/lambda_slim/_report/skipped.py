"""What a build will not do, decided before it starts: said in every report format, or refused when the work
that would be skipped is what the user asked for."""

from __future__ import annotations

from lambda_slim._errors import ConfigError
from lambda_slim._inputs.target import Target
from lambda_slim._report.build_report import Skipped

VERIFY_OFF = "turned off: --no-verify or [tool.slim] verify = false"


def cannot_run(target: Target) -> str:
    return (
        f"this machine cannot run {target.describe()}: it needs Linux {target.machine} and Python "
        f"{target.python_tag}; run `slim verify` where it can"
    )


def work_not_done(target: Target, runnable: bool, *, verify: bool, measure_runs: int) -> tuple[Skipped, ...]:
    """Verification and the cold-start measurement, when this build does not do them, each with the reason.
    `runnable`: this machine can run the target."""
    if not verify:
        return (
            Skipped("verification", VERIFY_OFF),
            Skipped("cold-start measurement", "it runs with verification, which is turned off"),
        )
    if not runnable:
        reason = cannot_run(target)
        return Skipped("verification", reason), Skipped("cold-start measurement", reason)
    if not measure_runs:
        return (Skipped("cold-start measurement", "--measure-runs 0 or [tool.slim] measure-runs = 0"),)
    return ()


def refuse_unverified_prune(target: Target, runnable: bool, *, prune: str, verify: bool) -> None:
    """--prune traced runs the handler on the events and checks every result: without that it would do nothing."""
    if prune != "traced" or (verify and runnable):
        return
    why = "verification is off (--no-verify or [tool.slim] verify = false)" if not verify else cannot_run(target)
    raise ConfigError(
        "--prune traced ([tool.slim] prune) runs the handler on the events and checks every result, as part of "
        f"verification, but {why}. Turn verification on and build where the target runs, or build without "
        '--prune traced (prune = "none").'
    )
