from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim._errors import ResolveError
from lambda_slim._inputs.project import RequirementInputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.resolve import Lock, Pin, _pins_from_report, lock_key, read_lock, render_lock
from lambda_slim._install.uv import parse_compiled

TARGET = Target("python3.11", "x86_64")
INPUTS = RequirementInputs("requirements.txt", (), Path("requirements.txt"), "d" * 64, None)
SHA_A = "a" * 64
SHA_B = "b" * 64


def test_lock_round_trips_through_pip_tools_format(tmp_path: Path) -> None:
    lock = Lock(
        lock_key(INPUTS, TARGET), (Pin("numpy", "2.2.6", (SHA_A,), ("pandas",)), Pin("pandas", "2.3.2", (SHA_B,)))
    )
    text = render_lock(lock, INPUTS, TARGET)
    assert f"numpy==2.2.6 \\\n    --hash=sha256:{SHA_A}\n    # via pandas\n" in text
    path = tmp_path / "slim.lock"
    path.write_text(text)
    again = read_lock(path)
    assert again is not None
    assert again.key == lock.key
    assert [(p.name, p.version, p.hashes, p.via) for p in again.pins] == [
        ("numpy", "2.2.6", (SHA_A,), ("pandas",)),
        ("pandas", "2.3.2", (SHA_B,), ()),
    ]


def test_a_lock_with_every_file_of_a_version_keeps_every_hash(tmp_path: Path) -> None:
    lock = Lock(lock_key(INPUTS, TARGET), (Pin("numpy", "2.2.6", (SHA_A, SHA_B), ("pandas",)),))
    text = render_lock(lock, INPUTS, TARGET)
    assert f"numpy==2.2.6 \\\n    --hash=sha256:{SHA_A} \\\n    --hash=sha256:{SHA_B}\n    # via pandas\n" in text
    path = tmp_path / "slim.lock"
    path.write_text(text)
    again = read_lock(path)
    assert again is not None and again.pins[0].hashes == (SHA_A, SHA_B)


def test_lock_key_changes_with_target_and_inputs() -> None:
    key = lock_key(INPUTS, TARGET)
    assert key != lock_key(INPUTS, Target("python3.11", "arm64"))
    assert key != lock_key(INPUTS, Target("python3.12", "x86_64"))
    other = RequirementInputs("requirements.txt", (), Path("requirements.txt"), "e" * 64, None)
    assert key != lock_key(other, TARGET)


def test_a_lock_without_key_or_with_a_pin_lacking_its_hash_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "slim.lock"
    path.write_text("numpy==2.2.6 \\\n    --hash=sha256:" + SHA_A + "\n")
    assert read_lock(path) is None
    path.write_text(f"# slim-lock-key: {'c' * 64}\nnumpy==2.2.6\n")
    assert read_lock(path) is None
    assert read_lock(tmp_path / "missing.lock") is None


def test_pins_from_pip_report_old_and_new_hash_formats() -> None:
    report = {
        "install": [
            {
                "metadata": {"name": "Pandas", "version": "2.3.2", "requires_dist": ["numpy>=1.23"]},
                "download_info": {"url": "https://x/pandas.whl", "archive_info": {"hashes": {"sha256": SHA_B}}},
                "requested": True,
            },
            {
                "metadata": {"name": "numpy", "version": "2.2.6"},
                "download_info": {"url": "https://x/numpy.whl", "archive_info": {"hash": f"sha256={SHA_A}"}},
                "requested": False,
            },
        ]
    }
    pins = _pins_from_report(report, INPUTS)
    assert pins == (
        Pin("numpy", "2.2.6", (SHA_A,), ("pandas",)),
        Pin("pandas", "2.3.2", (SHA_B,), ("-r requirements.txt",)),
    )


FORK_URL = "https://files.example/forks/six-1.17.0%2Bfork-py2.py3-none-any.whl"


def test_a_url_requirement_loses_no_url_in_the_lock(tmp_path: Path) -> None:
    report = {
        "install": [
            {
                "metadata": {"name": "six", "version": "1.17.0+fork"},
                "download_info": {"url": FORK_URL, "archive_info": {"hashes": {"sha256": SHA_A}}},
                "is_direct": True,
                "requested": True,
            }
        ]
    }
    pins = _pins_from_report(report, INPUTS)
    assert pins[0].url == FORK_URL and pins[0].line == f"six @ {FORK_URL}"
    text = render_lock(Lock(lock_key(INPUTS, TARGET), pins), INPUTS, TARGET)
    assert f"six @ {FORK_URL} \\\n    --hash=sha256:{SHA_A}\n" in text
    path = tmp_path / "slim.lock"
    path.write_text(text)
    again = read_lock(path)
    assert again is not None
    assert again.pins == (Pin("six", "1.17.0+fork", (SHA_A,), ("-r requirements.txt",), FORK_URL),)


def test_a_url_requirement_compiled_by_uv_keeps_its_url() -> None:
    compiled = f"six @ {FORK_URL} \\\n    --hash=sha256:{SHA_A}\n    # via -r requirements.in\n"
    assert parse_compiled(compiled, "requirements.txt") == (
        Pin("six", "1.17.0+fork", (SHA_A,), ("-r requirements.txt",), FORK_URL),
    )


def test_credentials_in_a_url_requirement_are_never_locked(tmp_path: Path) -> None:
    url = "https://deploy:hunter2@files.example/six-1.17.0-py2.py3-none-any.whl"
    item = {
        "metadata": {"name": "six", "version": "1.17.0"},
        "download_info": {"url": url, "archive_info": {"hashes": {"sha256": SHA_A}}},
        "is_direct": True,
    }
    with pytest.raises(ResolveError, match="never writes credentials") as refused:
        _pins_from_report({"install": [item]}, INPUTS)
    assert "hunter2" not in str(refused.value) and "deploy:****@files.example" in str(refused.value)
    with pytest.raises(ResolveError, match="never writes credentials"):
        parse_compiled(f"six @ {url} \\\n    --hash=sha256:{SHA_A}\n", "requirements.txt")
    path = tmp_path / "slim.lock"
    path.write_text(f"# slim-lock-key: {'c' * 64}\nsix @ {url} \\\n    --hash=sha256:{SHA_A}\n")
    assert read_lock(path) is None


def test_a_url_requirement_to_a_source_distribution_is_refused() -> None:
    item = {
        "metadata": {"name": "six", "version": "1.17.0"},
        "download_info": {
            "url": "https://files.example/six-1.17.0.tar.gz",
            "archive_info": {"hash": f"sha256={SHA_A}"},
        },
        "is_direct": True,
    }
    with pytest.raises(ResolveError, match="names no wheel"):
        _pins_from_report({"install": [item]}, INPUTS)


def test_locked_pins_with_markers_are_judged_for_the_target_arch(tmp_path: Path) -> None:
    path = tmp_path / "slim.lock"
    path.write_text(
        f"# slim-lock-key: {'c' * 64}\n"
        f'armonly==1.0 ; platform_machine == "aarch64" \\\n    --hash=sha256:{SHA_A}\n'
        f'x86only==1.0 ; platform_machine == "x86_64" \\\n    --hash=sha256:{SHA_B}\n'
        f"both==1.0 \\\n    --hash=sha256:{SHA_A}\n"
    )
    arm = read_lock(path, Target("python3.11", "arm64"))
    x86 = read_lock(path, Target("python3.11", "x86_64"))
    assert arm is not None and arm.names() == {"armonly", "both"}
    assert x86 is not None and x86.names() == {"x86only", "both"}
    # Without a target to judge the markers by, the lock is not used.
    assert read_lock(path) is None


def test_a_local_package_and_an_sdist_built_pin_round_trip_through_the_lock(tmp_path: Path) -> None:
    lock = Lock(
        lock_key(INPUTS, TARGET),
        (
            Pin("docopt", "0.6.2", (SHA_A,), ("-r requirements.txt",), sdist=True),
            Pin("shared", "0.1.0", (SHA_B,), url="file:../../lib/shared"),
        ),
    )
    text = render_lock(lock, INPUTS, TARGET)
    assert f"shared @ file:../../lib/shared \\\n    --hash=sha256:{SHA_B}\n" in text
    assert "docopt==0.6.2 \\\n" in text and "# built by lambda-slim from this sdist" in text
    path = tmp_path / "slim.lock"
    path.write_text(text)
    again = read_lock(path)
    assert again is not None
    docopt, shared = again.pins
    assert docopt.sdist and docopt.hashes == (SHA_A,) and docopt.local_path is None
    # A local package's version is its built wheel's: known once it is built.
    assert not shared.sdist and shared.local_path == "../../lib/shared" and shared.version == ""
