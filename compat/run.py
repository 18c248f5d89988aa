"""Run the compatibility corpus and write docs/compat.md.

    python compat/run.py                     # the whole corpus (compat/corpus.txt); needs PyPI, about 30 min
    python compat/run.py --only numpy,flask  # some of it; docs/compat.md is only written for the whole corpus

Each pinned distribution is built alone with `slim build` for python3.11 x86_64; then every module the unslimmed
install can import must import from the slimmed package, and importlib.metadata must read every distribution's
version from both, in the verify sandbox. Exit status 1 when any distribution fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from compat.check import RUNTIME, Outcome, check  # noqa: E402

CORPUS = REPO / "compat" / "corpus.txt"
OUTPUT = REPO / "docs" / "compat.md"


def corpus(path: Path = CORPUS) -> list[tuple[str, str]]:
    """(requirement, category) for each line of the corpus file: `name==version  # category`."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        requirement, _, comment = line.partition("#")
        if requirement.strip():
            entries.append((requirement.strip(), comment.strip()))
    return entries


def render(rows: list[tuple[str, Outcome, float]], started: str) -> str:
    passed = sum(1 for _, outcome, _ in rows if outcome.passed)
    lines = [
        "# Compatibility corpus",
        "",
        f"Run {started} on {os.cpu_count()} cores ({platform.machine()}, Python {platform.python_version()}) by "
        f"`python compat/run.py`: {passed} of {len(rows)} distributions pass, "
        f"{sum(o.modules_checked for _, o, _ in rows):,} modules and {sum(o.distributions for _, o, _ in rows)} "
        "distributions' metadata checked.",
        "",
        f"Each distribution of `compat/corpus.txt` is built alone with `slim build` (default rules) for {RUNTIME} "
        "x86_64. In the `slim verify` sandbox, every module of the unslimmed install (every `.py` and extension "
        "module, found from the files, not by importing) is imported from a fresh interpreter; each one that "
        "imports there must import from the slimmed package too, and `importlib.metadata.version()` must give the "
        "same answer for every distribution installed. Modules whose own files a rule removed (tests, docs) are "
        "not imported: they are gone by design, and any kept module that needed one fails. A build in which the "
        "safety net had to put files back counts as a failure of the rules.",
        "",
        "| distribution | category | unzipped naive | unzipped slim | ratio | modules checked | removed by rules "
        "| fail unslimmed too | distributions | result |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for category, outcome, _ in rows:
        ratio = outcome.slim_bytes / outcome.naive_bytes if outcome.naive_bytes else 0.0
        result = "pass" if outcome.passed else f"**FAIL** ({len(outcome.failures)})"
        lines.append(
            f"| {outcome.requirement} | {category} | {outcome.naive_bytes:,} | {outcome.slim_bytes:,} | {ratio:.2f} "
            f"| {outcome.modules_checked:,} | {outcome.modules_removed:,} | {outcome.modules_skipped:,} "
            f"| {outcome.distributions} | {result} |"
        )
    failures = [(outcome.requirement, failure) for _, outcome, _ in rows for failure in outcome.failures]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {requirement}: {failure}" for requirement, failure in failures]
    total = sum(seconds for _, _, seconds in rows)
    lines += ["", f"The run took {total / 60:.0f} minutes.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated distribution names from the corpus")
    options = parser.parse_args()
    entries = corpus()
    if options.only:
        wanted = {name.strip().lower() for name in options.only.split(",")}
        entries = [e for e in entries if e[0].split("==")[0].split("[")[0].lower() in wanted]
    started = time.strftime("%Y-%m-%d")
    rows = []
    for requirement, category in entries:
        began = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="slim-compat-") as tmp:
            outcome = check(requirement, Path(tmp))
        seconds = time.perf_counter() - began
        status = "pass" if outcome.passed else "FAIL"
        print(f"{requirement:40} {status} {outcome.modules_checked:6} modules {seconds:6.1f} s", flush=True)
        for failure in outcome.failures:
            print(f"    {failure}", flush=True)
        rows.append((category, outcome, seconds))
    if not options.only:
        OUTPUT.write_text(render(rows, started), encoding="utf-8")
        print(f"wrote {OUTPUT}")
    return 0 if all(outcome.passed for _, outcome, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
