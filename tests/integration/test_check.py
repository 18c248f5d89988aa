"""slim check: budgets, baselines, the fast path when nothing changed, and the pre-commit hook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, commit_all, copy_fixture, git_head, lower_the_unzipped_limit, slim, snapshot_of_checkout


def with_budget(project: Path, budget: str) -> Path:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.slim]\nmeasure-runs = 0\n\n[tool.slim.budget]\n" + budget)
    return project


@pytest.mark.usefixtures("offline_pip")
def test_within_budget_passes_and_a_second_check_does_not_build(tmp_path: Path) -> None:
    project = with_budget(
        copy_fixture("minimal", tmp_path), 'max-zipped = "5MB"\nmax-unzipped = "10 MiB"\nmax-files = 500\n'
    )
    started = time.perf_counter()
    code, out, _ = slim("check", str(project))
    first = time.perf_counter() - started
    assert code == 0 and "within budget" in out
    started = time.perf_counter()
    code, out, err = slim("check", str(project))
    second = time.perf_counter() - started
    assert code == 0 and "nothing changed since the last build" in err
    assert second < 0.5 * first

    (project / "handler.py").write_text((project / "handler.py").read_text() + "\n# changed\n")
    code, _, err = slim("check", str(project))
    assert code == 0 and "nothing changed" not in err


@pytest.mark.usefixtures("offline_pip")
def test_check_given_the_builds_options_checks_that_build_and_says_which_options_differ(tmp_path: Path) -> None:
    project = with_budget(copy_fixture("minimal", tmp_path), "max-files = 500\n")
    code, _, err = slim("build", str(project), "-q", "--handler", "handler.handler")
    assert code == 0, err
    function_zip = project / "dist" / "function.zip"
    built = function_zip.stat().st_mtime_ns
    # --locked, and a budget: neither changes what is built.
    code, out, err = slim("check", str(project), "--handler", "handler.handler", "--locked", "--max-files", "400")
    assert code == 0 and "within budget" in out
    assert "nothing changed since the last build" in err and function_zip.stat().st_mtime_ns == built
    code, out, err = slim("check", str(project))  # without the build's --handler: another build
    assert code == 0 and "within budget" in out
    assert "built again: the last build had other settings (handler was 'handler.handler', now None)" in err
    assert function_zip.stat().st_mtime_ns != built


@pytest.mark.usefixtures("offline_pip")
@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--max-zipped", "0.1kB", "OVER BUDGET max-zipped"),
        ("--max-unzipped", "100", "OVER BUDGET max-unzipped"),
        ("--max-files", "3", "OVER BUDGET max-files: "),
        ("--max-cold-start-ms", "0.001", "OVER BUDGET max-cold-start-ms"),
    ],
)
def test_each_budget_over_fails_with_status_1(tmp_path: Path, option: str, value: str, expected: str) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, out, _ = slim("check", str(project), option, value)
    assert code == 1
    assert expected in out
    assert "largest contributors: slimdemo" in out or "largest contributors: slimdep" in out
    if option == "--max-cold-start-ms":
        # The least disturbed run, scaled by its host factor, and said so.
        assert "(measured init on a Lambda vCPU, fastest of 5 runs)" in out


@pytest.mark.usefixtures("offline_pip")
def test_each_budget_speaks_its_own_unit_and_names_what_fills_it(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    assert slim("build", str(project), "-q", "--measure-runs", "0")[0] == 0
    code, out, _ = slim("check", str(project), "--max-zipped", "1kB", "--max-files", "3", "--max-unzipped", "1 KiB")
    assert code == 1
    lines = out.splitlines()
    zipped = next(i for i, line in enumerate(lines) if line.startswith("OVER BUDGET max-zipped"))
    # As written: "1kB" is 1.0 kB, powers of 1000 throughout; "1 KiB" stays in powers of 1024.
    assert lines[zipped].endswith("kB, limit 1.0 kB, over by " + lines[zipped].rpartition("over by ")[2])
    assert "KiB" not in lines[zipped] and "MiB" not in lines[zipped]
    assert lines[zipped + 1].startswith("  largest contributors: ") and " zipped" in lines[zipped + 1]
    assert "B zipped" in lines[zipped + 1] and "KiB" not in lines[zipped + 1]
    unzipped = next(line for line in lines if line.startswith("OVER BUDGET max-unzipped"))
    assert "limit 1.0 KiB" in unzipped
    files = next(i for i, line in enumerate(lines) if line.startswith("OVER BUDGET max-files"))
    contributors = lines[files + 1].removeprefix("  largest contributors: ").split(", ")
    assert contributors and all(item.endswith(" files") for item in contributors), lines[files + 1]


def test_max_growth_without_a_baseline_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = slim("check", str(tmp_path), "--max-growth", "10")
    assert code == 2
    assert "Usage: " in err and "Error: --max-growth needs --baseline" in err


@pytest.mark.usefixtures("offline_pip")
def test_baseline_growth(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    baseline = tmp_path / "baseline.json"
    code, _, err = slim("build", str(project), "--format", "json", "-o", str(baseline), "-q", "--measure-runs", "0")
    assert code == 0, err
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["slimdemo"]', '["slimdemo", "metaimport"]'))
    code, out, _ = slim("check", str(project), "--baseline", str(baseline), "--max-growth", "0.1")
    assert code == 1
    assert "growth against the baseline: +" in out
    assert "metaimport" in out and "OVER BUDGET max-growth" in out
    code, out, _ = slim("check", str(project), "--baseline", str(baseline), "--max-growth", "50%")
    assert code == 0, out


@pytest.mark.usefixtures("offline_pip")
def test_check_existing_zips(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    assert slim("build", str(project), "-q", "--measure-runs", "0")[0] == 0
    code, out, _ = slim("check", str(project), "--zip", str(project / "dist" / "function.zip"), "--max-files", "2")
    assert code == 1 and "OVER BUDGET max-files" in out and "(estimated)" in out


@pytest.mark.usefixtures("offline_pip")
def test_step_summary(tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    summary = tmp_path / "summary.md"
    code, _, _ = slim("build", str(project), "-q", "--measure-runs", "0", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 0
    code, _, _ = slim("check", str(project), "--max-files", "1", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1
    text = summary.read_text()
    assert "### lambda-slim: minimal-app" in text and "### lambda-slim check: **1 budget(s) exceeded**" in text


def without_layers(project: Path) -> Path:
    """The fixture plans layers, which refuses an over-limit package early; without them the package is built."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('layers = "auto"', "measure-runs = 0"))
    return project


@pytest.mark.usefixtures("offline_pip")
def test_check_without_budget_still_applies_lambda_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = without_layers(copy_fixture("one-distribution-over-the-limit", tmp_path))
    assert slim("build", str(project), "-q")[0] == 0
    # Judged against a lower limit, the build that was made is over it (the build itself refuses to write one).
    lower_the_unzipped_limit(monkeypatch, 200_000)
    code, out, _ = slim("check", str(project))
    assert code == 1, out
    assert "within budget" not in out
    assert "OVER Lambda's unzipped limit: " in out and "limit 200,000 bytes" in out
    assert "largest contributors: bigdist 293." in out
    code, out, _ = slim("check", str(project), "--zip", str(project / "dist" / "function.zip"))
    assert code == 1, out
    assert "OVER Lambda's unzipped limit: " in out and "bigdist" in out and "within budget" not in out
    code, out, _ = slim("check", str(project), "--quiet")
    assert code == 1 and "OVER Lambda's unzipped limit" in out


@pytest.mark.usefixtures("offline_pip")
def test_check_of_zips_with_more_layers_than_lambda_attaches_fails(tmp_path: Path) -> None:
    project = copy_fixture("layered", tmp_path)
    assert slim("build", str(project), "-q", "--measure-runs", "0")[0] == 0
    dist = project / "dist"
    layers = []
    for number in range(6):
        copy = tmp_path / f"layer-{number}.zip"
        shutil.copyfile(dist / "layer-demo.zip", copy)
        layers += ["--zip", str(copy)]
    code, out, _ = slim("check", str(project), "--zip", str(dist / "function.zip"), *layers)
    assert code == 1, out
    assert "OVER Lambda's layer limit: 6 layers, limit 5 layers" in out and "within budget" not in out
    code, out, _ = slim("check", str(project), "--zip", str(dist / "function.zip"), *layers[:10])
    assert code == 0 and "within budget" in out


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ('max-zipped = "big"', 'max-zipped must be a number of bytes or a size such as "50MB"'),
        ("max-growth = -5", "max-growth must be a percentage"),
        ("max-zipd = 5", "unknown key 'max-zipd' in [tool.slim.budget]. Did you mean 'max-zipped'?"),
    ],
)
def test_bad_budget_is_a_usage_error(tmp_path: Path, budget: str, message: str) -> None:
    project = with_budget(copy_fixture("minimal", tmp_path), budget + "\n")
    code, _, err = slim("check", str(project))
    assert code == 2
    assert message in err


def test_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text('{"schema": "something-else"}')
    code, _, err = slim("check", str(copy_fixture("minimal", tmp_path)), "--baseline", str(baseline), "--zip", "x.zip")
    assert code in (1, 2)
    assert "baseline" in err or "does not exist" in err


def hook_repository(tmp_path: Path) -> Path:
    """A snapshot of this checkout as a git repository of its own, as a user's pre-commit fetches it."""
    repo = tmp_path / "hook-repo"
    commit_all(snapshot_of_checkout(repo))
    return repo


def pre_commit_command() -> str:
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return pre_commit


def test_the_readmes_pre_commit_example_gets_a_usable_rev_from_autoupdate(tmp_path: Path) -> None:
    # README's example, pointed at a snapshot of this repository (which has no tag, as the real one has none).
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\*\*pre-commit\*\*.*?```yaml\n(.*?)```", readme, re.DOTALL)
    assert found is not None
    example = yaml.safe_load(found.group(1))
    (hook,) = example["repos"]
    assert [entry["id"] for entry in hook["hooks"]] == ["slim-check"]
    # No version is tagged: the example names a commit, or a placeholder with the command that writes one.
    assert re.fullmatch(r"[0-9a-f]{40}", hook["rev"]) or (
        hook["rev"] == "<commit-sha>" and "run `pre-commit autoupdate`" in found.group(0)
    )
    repo = hook_repository(tmp_path)
    work = tmp_path / "user"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)  # pre-commit works in a repository
    config = work / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [{**hook, "repo": str(repo)}]}))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    pre_commit = pre_commit_command()
    for command in (["validate-manifest", str(REPO / ".pre-commit-hooks.yaml")], ["autoupdate"], ["validate-config"]):
        done = subprocess.run([pre_commit, *command], cwd=work, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    (updated,) = yaml.safe_load(config.read_text())["repos"]
    assert updated["rev"] == git_head(repo)  # a full commit sha, which pre-commit can check out


@pytest.mark.network
def test_pre_commit_hook_through_try_repo(tmp_path: Path, wheelhouse: Path) -> None:
    pre_commit = pre_commit_command()
    repo = hook_repository(tmp_path)  # try-repo wants a git repository
    work = copy_fixture("minimal", tmp_path / "user")
    with_budget(work, 'max-zipped = "5MB"\n')
    env = {**os.environ, "PIP_FIND_LINKS": str(wheelhouse), "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    env.pop("PIP_NO_INDEX", None)
    commit_all(work)
    done = subprocess.run(
        [pre_commit, "try-repo", str(repo), "slim-check", "--all-files", "--verbose"],
        cwd=work, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "within budget" in done.stdout
    again = subprocess.run(
        [pre_commit, "try-repo", str(repo), "slim-check", "--all-files", "--verbose"],
        cwd=work, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert again.returncode == 0 and "nothing changed since the last build" in again.stdout + again.stderr


def test_a_baseline_that_is_not_json(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text("[1, 2")
    code, _, err = slim("check", str(copy_fixture("minimal", tmp_path)), "--baseline", str(baseline))
    assert code == 2 and f"the baseline {baseline} is not valid JSON" in err
    missing = tmp_path / "missing.json"
    code, _, err = slim("check", str(tmp_path / "minimal"), "--baseline", str(missing))
    assert code == 2 and f"cannot read the baseline {missing}" in err
