"""Rendering a VerifyReport: what passed, what failed (with the error's last lines), and Lambda's REPORT line."""

from __future__ import annotations

import json

from lambda_slim._sandbox.verify import VerifyReport


def _headline(error: str) -> str:
    """The exception line of a traceback: `ModuleNotFoundError: No module named 'requests.models'`."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else error


def verify_text(report: VerifyReport) -> str:
    lines = [f"verify {', '.join(report.artifacts)} as {report.runtime} {report.arch}"]
    if report.modules_checked:
        failed = len(report.module_failures)
        lines.append(f"modules: {report.modules_checked - failed} of {report.modules_checked} top-level modules import")
        for name, error in sorted(report.module_failures.items()):
            lines.append(f"  FAILED {name}: {_headline(error)}")
    if report.handler:
        if report.error:
            lines.append(f"handler {report.handler}: FAILED: {_headline(report.error)}")
            lines += ["  " + line for line in report.error.strip().splitlines()[-8:]]
        elif report.invoked:
            lines.append(f"handler {report.handler}: imported and invoked")
        else:
            lines.append(f"handler {report.handler}: imported (no --event, so not invoked)")
        if report.matches_expected is True:
            lines.append("result: matches --expected exactly")
        elif report.matches_expected is False:
            lines += [
                "result: DIFFERS from --expected",
                f"  got:      {json.dumps(report.result, sort_keys=True)}",
                f"  expected: {json.dumps(report.expected, sort_keys=True)}",
            ]
        if report.error is None:
            lines.append(report.report_line())
    if report.checked_nothing:
        lines.append("nothing was checked: no handler was given, and the package has no top-level module to import")
    lines.append("PASSED" if report.ok else "FAILED")
    return "\n".join(lines) + "\n"


def verify_json(report: VerifyReport) -> str:
    data = {
        "schema": "lambda-slim/verify-report/1",
        "ok": report.ok,
        "runtime": report.runtime,
        "arch": report.arch,
        "artifacts": list(report.artifacts),
        "handler": report.handler,
        "request_id": report.request_id,
        "init_ms": report.init_ms,
        "duration_ms": report.duration_ms,
        "max_memory_mb": report.max_memory_mb,
        "memory_mb": report.memory_mb,
        "invoked": report.invoked,
        "result": report.result,
        "matches_expected": report.matches_expected,
        "error": report.error,
        "modules_checked": report.modules_checked,
        "module_failures": report.module_failures,
        # Why nothing stood in for the runtime's own packages (boto3 ...), or null.
        "runtime_packages_missing": report.runtime_packages_missing,
    }
    return json.dumps(data, indent=2) + "\n"
