"""Side-by-side benchmark on the bench apps: the naive recipe, the uv recipe, and `slim build` cold and warm.

    python bench/run.py [--apps api,etl,web] [--rounds 3] [--bench-apps ../shared/bench/apps]

Each round runs every variant of an app in turn (alternating, so a noisy machine slows them alike) in a fresh
copy of the app, and the table shows medians: wall time, peak memory of the whole process tree, zipped and
unzipped bytes, and the handler's init as `slim verify` measures it. Needs PyPI, and uv for its rows: the one on
PATH, else the one beside this Python (`pip install -e '.[test]'` installs it into the venv).

"time vs uv" is against the uv recipe with bytecode (`--compile-bytecode`): what `slim build --installer uv` ships
has pycs too, and a package without them pays for compiling every module at each cold start. A second table
gives the wall time and peak memory of `slim analyze` of each round's naive zip.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

import lambda_slim
from lambda_slim import SlimError, VerifyOptions

REPO = Path(__file__).resolve().parents[1]
PLATFORM = ["--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--only-binary=:all:"]


def run(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KB) of a command and its children."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss


def requirements(app: Path) -> list[str]:
    if (app / "requirements.txt").exists():
        return ["-r", "requirements.txt"]
    return list(tomllib.loads((app / "pyproject.toml").read_text())["project"]["dependencies"])


def sizes(zips: list[Path]) -> tuple[int, int]:
    zipped = sum(z.stat().st_size for z in zips)
    unzipped = sum(info.file_size for z in zips for info in zipfile.ZipFile(z).infolist())
    return zipped, unzipped


def init_ms(zip_path: Path) -> float:
    """The handler's init as `slim verify` measures it. Only the result counts here, not verify's own time or
    memory, so the API is called in this process rather than the command run in another."""
    try:
        result = lambda_slim.verify(zip_path, VerifyOptions(handler="handler.handler"))
    except SlimError:  # this machine cannot run the package, or it is not a package at all
        return float("nan")
    return float(result.init_ms or 0.0)


def naive(app: Path) -> tuple[float, int, list[Path]]:
    return _recipe(app, [sys.executable, "-m", "pip", "install", "-q", *requirements(app), "-t", "build", *PLATFORM],
                   "build", "naive.zip")  # fmt: skip


def find_uv() -> str | None:
    """uv on PATH, else beside this Python: the test extra installs it into the venv, which need not be on PATH."""
    return shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))


def uv(app: Path, *, bytecode: bool = False) -> tuple[float, int, list[Path]]:
    # uv names platforms by triple; manylinux2014 (glibc 2.17) is the one under python3.11's 2.26 that it knows.
    platform = ["--python-platform", "x86_64-manylinux2014", "--python-version", "3.11", "--only-binary", ":all:"]
    command = [UV or "uv", "pip", "install", "-q", *requirements(app), "--target", "uvbuild", *platform]
    # uv compiles with the interpreter it finds (this one: Python 3.11, the target's version).
    command += ["--compile-bytecode", "--python", sys.executable] if bytecode else []
    return _recipe(app, command, "uvbuild", "uv.zip")


def uv_bytecode(app: Path) -> tuple[float, int, list[Path]]:
    return uv(app, bytecode=True)


UV = find_uv()


def _recipe(app: Path, install: list[str], tree: str, zip_name: str) -> tuple[float, int, list[Path]]:
    """Install, copy the handler in, zip -r: one shell process, so wait4 sees the peak memory of all of it."""
    script = f"{shlex.join(install)} && cp handler.py {tree}/ && cd {tree} && zip -qr ../{zip_name} ."
    elapsed, peak = run(["sh", "-c", script], app)
    return elapsed, peak, [app / zip_name]


def analyze_zip(zip_path: Path) -> tuple[float, int]:
    """Wall seconds and peak memory (KB) of `slim analyze` of a zip, in a process of its own as a user runs it."""
    return run([sys.executable, "-m", "lambda_slim", "analyze", str(zip_path)], zip_path.parent)  # report: discarded


def slim(app: Path, *options: str) -> tuple[float, int, list[Path]]:
    # The command in a process of its own, not the API: the figures are the wall time and peak memory of
    # `slim build` as a user runs it, interpreter start-up and all its children included, as for the recipes.
    elapsed, peak = run([sys.executable, "-m", "lambda_slim", "build", ".", "-q", *options], app)
    return elapsed, peak, [app / "dist" / "function.zip"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default="api,etl,web")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bench-apps", type=Path, default=REPO.parent / "shared" / "bench" / "apps")
    options = parser.parse_args()
    # lambda-slim as pip installs it: with its modules' pycs. Without them (an editable install run with
    # PYTHONDONTWRITEBYTECODE, as on the machine this was tuned on) every `slim` process first compiles ~80
    # modules, about 0.1 s of CPU no user's install spends.
    compileall.compile_dir(Path(lambda_slim.__file__).parent, quiet=1)
    have_uv = UV is not None
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; medians of {options.rounds} rounds")  # fmt: skip
    rows = []
    analyzed: dict[str, list[tuple[float, int]]] = {}
    for name in options.apps.split(","):
        results: dict[str, list[tuple[float, int, int, int, float]]] = {}
        for _ in range(options.rounds):
            with tempfile.TemporaryDirectory(prefix="slim-bench-") as tmp:
                recipes = [("naive", "naive", naive)]
                recipes += [("uv", "uv", uv), ("uv --compile-bytecode", "uv-bytecode", uv_bytecode)] if have_uv else []
                for variant, copy_name, recipe in recipes:
                    app = Path(shutil.copytree(options.bench_apps / name, Path(tmp) / copy_name))
                    elapsed, peak, zips = recipe(app)
                    results.setdefault(variant, []).append((elapsed, peak, *sizes(zips), init_ms(zips[0])))
                    if variant == "naive":
                        analyzed.setdefault(name, []).append(analyze_zip(zips[0]))
                # Cold: a fresh copy of the app (no slim.lock) and an empty cache; warm: the same build again.
                slim_runs = [("slim cold", "slim", ()), ("slim warm", "slim", ())]
                if have_uv:
                    slim_runs.append(("slim cold --installer uv", "slim-uv", ("--installer", "uv")))
                for variant, copy_name, extra in slim_runs:
                    app = Path(tmp) / copy_name
                    if not app.exists():
                        shutil.copytree(options.bench_apps / name, app)
                    os.environ["SLIM_CACHE_DIR"] = str(Path(tmp) / f"cache-{copy_name}")
                    elapsed, peak, zips = slim(app, *extra)
                    results.setdefault(variant, []).append((elapsed, peak, *sizes(zips), init_ms(zips[0])))
        base = statistics.median(r[0] for r in results["naive"])
        uv_base = statistics.median(r[0] for r in results["uv --compile-bytecode"]) if have_uv else float("nan")
        for variant, values in results.items():
            medians = [statistics.median(column) for column in zip(*values, strict=True)]
            rows.append((name, variant, *medians, medians[0] / base, medians[0] / uv_base))
    print(
        "| app | variant | time (s) | peak memory (MB) | zipped (MB) | unzipped (MB) | init (ms) | time vs naive "
        "| time vs uv --compile-bytecode |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for app_name, variant, elapsed, peak, zipped, unzipped, init, ratio, uv_ratio in rows:
        print(
            f"| {app_name} | {variant} | {elapsed:.1f} | {peak / 1024:.0f} | {zipped / 1e6:.1f} | {unzipped / 1e6:.1f} "
            f"| {init:.0f} | {ratio:.2f}x | {uv_ratio:.2f}x |"
        )
    print()
    print("| app | `slim analyze` of the naive zip: time (s) | peak memory (MB) |")
    print("|---|---:|---:|")
    for app_name, runs in analyzed.items():
        elapsed, peak = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"| {app_name} | {elapsed:.2f} | {peak / 1024:.0f} |")


if __name__ == "__main__":
    main()
