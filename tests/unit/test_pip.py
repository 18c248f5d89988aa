from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from lambda_slim._credentials import mask_credentials
from lambda_slim._errors import ResolveError, ToolError
from lambda_slim._inputs.target import Target
from lambda_slim._install.pip import (
    Pip,
    UnreachableIndex,
    explain_missing_wheel,
    no_such_project,
    no_such_project_message,
    unavailable_requirement,
    unreachable_index,
)

TARGET = Target("python3.11", "x86_64")
SKIP = "  Skipping link: reason: https://files.example/{} (from https://pypi.org/simple/x/)\n"


def output(*files: str) -> str:
    return "".join(SKIP.format(name) for name in files)


def test_unavailable_requirement_is_read_from_pip_output() -> None:
    text = "ERROR: Could not find a version\nERROR: No matching distribution found for docopt==0.6.2\n"
    assert unavailable_requirement(text) == "docopt==0.6.2"
    assert unavailable_requirement("ResolutionImpossible") is None


def test_sdist_only() -> None:
    why = explain_missing_wheel("docopt==0.6.2", output("docopt-0.6.2.tar.gz", "docopt-0.6.1.tar.gz"), TARGET)
    assert "only a source distribution" in why


def test_no_wheel_for_this_python() -> None:
    why = explain_missing_wheel("numpy==1.10.0", output("numpy-1.10.0-cp27-cp27mu-manylinux1_x86_64.whl"), TARGET)
    assert "no wheel for CPython 3.11" in why and "cp27" in why


def test_no_wheel_for_this_architecture() -> None:
    files = ("fast-1.0-cp311-cp311-macosx_11_0_arm64.whl", "fast-1.0-cp311-cp311-win_amd64.whl")
    why = explain_missing_wheel("fast==1.0", output(*files), TARGET)
    assert "no wheel for Linux x86_64" in why


def test_wheels_need_a_newer_glibc() -> None:
    why = explain_missing_wheel("numpy==2.4.6", output("numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64.whl"), TARGET)
    assert "newer glibc" in why and "manylinux_2_28_x86_64" in why and "python3.12" in why


def test_versions_outside_the_specifier_are_ignored() -> None:
    files = ("fast-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", "fast-1.0.tar.gz")
    assert "only a source distribution" in explain_missing_wheel("fast==1.0", output(*files), TARGET)
    assert "no release matches" in explain_missing_wheel("fast==3.0", output(*files), TARGET)


# pip names the page it could not fetch only at -v and above: what its probe (`pip download -vvv`) shows.
PIP_REFUSED = (
    "Could not fetch URL http://user:****@127.0.0.1:35493/simple/six/: connection error: "
    "HTTPConnectionPool(host='127.0.0.1', port=35493): Max retries exceeded with url: /simple/six/ (Caused by "
    "NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f07>: Failed to establish a "
    "new connection: [Errno 111] Connection refused')) - skipping\n"
)
UV_REFUSED = (
    "error: Request failed after 3 retries in 9.1s\n"
    "  cause: Failed to fetch: http://127.0.0.1:57957/simple/six/\n"
    "  cause: error sending request for url (http://127.0.0.1:57957/simple/six/)\n"
    "  cause: client error (Connect)\n  cause: tcp connect error\n  cause: Connection refused (os error 111)\n"
)


@pytest.mark.parametrize(
    ("output", "url", "reason"),
    [
        (PIP_REFUSED, "http://user:****@127.0.0.1:35493/simple/six/", "[Errno 111] Connection refused"),
        ("Could not fetch URL https://pypi.example/simple/six/: timed out - skipping\n", None, "timed out"),
        (
            "Could not fetch URL https://tok@pypi.example/simple/six/: 401 Client Error: Unauthorized for url: "
            "https://pypi.example/simple/six/ - skipping\n",
            "https://****@pypi.example/simple/six/",
            "401 Client Error: Unauthorized",
        ),
        (
            "ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='files.example', "
            "port=443): Max retries exceeded with url: /six.whl (Caused by NewConnectionError('<x>: Failed to "
            "establish a new connection: [Errno -3] Temporary failure in name resolution'))\n",
            "https://files.example:443/six.whl",
            "[Errno -3] Temporary failure in name resolution",
        ),
        (UV_REFUSED, "http://127.0.0.1:57957/simple/six/", "Connection refused"),
        (
            "error: Failed to fetch: `https://pypi.example/simple/six/`\n  Caused by: HTTP status client error "
            "(401 Unauthorized) for url (https://pypi.example/simple/six/)\n",
            None,
            "401 Unauthorized",
        ),
    ],
)
def test_an_unreachable_index_is_read_from_pip_and_uv_output(output: str, url: str | None, reason: str) -> None:
    found = unreachable_index(output)
    assert found is not None
    assert found.url == (url or "https://pypi.example/simple/six/") and found.reason == reason
    assert found.url in found.message("six")
    refused = reason.startswith(("401", "403"))
    assert ("refused the credentials" in found.message(None)) is refused
    assert ("keep the cache warm" in found.message(None)) is not refused


def test_uvs_hint_about_refused_credentials_names_the_index() -> None:
    output = (
        "  cause: Because privonly was not found in the package registry and you require privonly==1.0, we can "
        "conclude that your requirements are unsatisfiable.\n\nhint: An index URL (http://127.0.0.1:46297/simple) "
        "could not be queried due to a lack of valid authentication credentials (401 Unauthorized)\n"
    )
    found = unreachable_index(output)
    assert found == UnreachableIndex("http://127.0.0.1:46297/simple", "401 Unauthorized")
    assert "the package index at http://127.0.0.1:46297/simple refused the credentials" in found.message("privonly")


@pytest.mark.parametrize(
    "output",
    [
        # A project the index does not have: the index answered.
        "Could not fetch URL https://pypi.org/simple/nosuch/: 404 Client Error: Not Found for url: "
        "https://pypi.org/simple/nosuch/ - skipping\n",
        "ERROR: No matching distribution found for six\n",
        "error: Failed to fetch: `https://pypi.org/simple/six/`\n  cause: 404 Not Found\n",
        "",
    ],
)
def test_an_index_that_answered_is_not_called_unreachable(output: str) -> None:
    assert unreachable_index(output) is None


def test_credentials_in_urls_are_masked_as_pip_masks_them() -> None:
    text = "see http://user:secret@127.0.0.1:9/simple/ and https://token@host/simple/ and https://host/simple/"
    assert mask_credentials(text) == (
        "see http://user:****@127.0.0.1:9/simple/ and https://****@host/simple/ and https://host/simple/"
    )


@pytest.mark.parametrize(("runtime", "arch"), [("python3.12", "arm64"), ("python3.9", "x86_64")])
def test_pip_judges_markers_with_the_target_environment(runtime: str, arch: str) -> None:
    # `pip inspect` reports the environment pip judges markers against: the target's, not this machine's.
    target = Target(runtime, arch)
    inspected = json.loads(Pip(target).run(["inspect", "--local"], what="inspecting", hint="", error=ToolError))
    assert inspected["environment"] == target.marker_environment()


def test_pip_is_not_run_when_its_markers_cannot_be_judged_for_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pip whose markers do not go through default_environment(): values fixed when the module was imported.
    package = tmp_path / "pip" / "_vendor" / "packaging"
    (tmp_path / "pip" / "_internal" / "cli").mkdir(parents=True)
    package.mkdir(parents=True)
    for directory in (
        tmp_path / "pip",
        tmp_path / "pip" / "_vendor",
        package,
        *(tmp_path / "pip" / "_internal").glob("**"),
    ):
        (directory / "__init__.py").write_text("")
    (package / "markers.py").write_text(
        "_FIXED = {'platform_machine': 'sparc'}\n\n\n"
        "def default_environment():\n    return dict(_FIXED)\n\n\n"
        "class Marker:\n"
        "    def __init__(self, text):\n        self.name, _, value = text.partition(' == ')\n"
        "        self.value = value.strip('\"')\n\n"
        "    def evaluate(self, environment=None):\n        return _FIXED.get(self.name) == self.value\n"
    )
    reached = tmp_path / "pip-ran"
    (tmp_path / "pip" / "_internal" / "cli" / "main.py").write_text(
        f"def main():\n    open({str(reached)!r}, 'w').close()\n    return 0\n"
    )
    fake_pip = types.ModuleType("pip")
    fake_pip.__file__ = str(tmp_path / "pip" / "__init__.py")
    monkeypatch.setitem(sys.modules, "pip", fake_pip)
    with pytest.raises(ToolError) as raised:
        Pip(Target("python3.12", "arm64")).run(["install", "x"], what="resolving", hint="", error=ResolveError)
    assert str(raised.value).startswith("lambda-slim could not make this pip")
    assert "judge environment markers for the Lambda target" in str(raised.value)
    assert not reached.exists()


# pip -vvv for a name no index or find-links directory has: its 404 page, the links it skipped, "versions: none".
NO_SUCH_PROJECT = (
    "Looking in indexes: http://reader:****@127.0.0.1:45545/simple\n"
    "Looking in links: /opt/wheels, /tmp/wh\n"
    "Fetching project page and analyzing links: http://reader:****@127.0.0.1:45545/simple/requestz-nonexistent-xyz/\n"
    "Could not fetch URL http://127.0.0.1:45545/simple/requestz-nonexistent-xyz/: 404 Client Error: Not Found for "
    "url: http://127.0.0.1:45545/simple/requestz-nonexistent-xyz/ - skipping\n"
    "Skipping link: not a file: http://127.0.0.1:45545/simple/requestz-nonexistent-xyz/\n"
    "Skipping link: wrong project name (not requestz-nonexistent-xyz): file:///tmp/wh/slimdemo-1.0-py3-none-any.whl\n"
    "ERROR: Could not find a version that satisfies the requirement requestz-nonexistent-xyz (from versions: none)\n"
)


def test_a_name_with_no_file_anywhere_is_no_such_project_and_the_message_names_where_pip_looked() -> None:
    assert no_such_project("requestz-nonexistent-xyz", NO_SUCH_PROJECT)
    # A file of the name in a find-links directory is a release, whatever pip skipped it for; names compare
    # canonicalized.
    assert not no_such_project("SlimDemo>=2", NO_SUCH_PROJECT)
    assert no_such_project_message("requestz-nonexistent-xyz", NO_SUCH_PROJECT, "requirements.txt") == (
        "requestz-nonexistent-xyz: no release of 'requestz-nonexistent-xyz' exists on the index "
        "http://reader:****@127.0.0.1:45545/simple nor in the find-links /opt/wheels, /tmp/wh, for any version or "
        "platform: check the name's spelling in requirements.txt."
    )


def test_the_default_index_is_named_by_the_page_pip_asked_for_with_credentials_masked() -> None:
    text = (
        "Fetching project page and analyzing links: https://user:secret@pypi.example/simple/nope/\n"
        "ERROR: Could not find a version that satisfies the requirement nope (from versions: none)\n"
    )
    message = no_such_project_message("nope", text, "pyproject.toml")
    assert "exists on the index https://user:****@pypi.example/simple, for any" in message and "secret" not in message


@pytest.mark.parametrize(
    "text",
    [
        # only wheels for another platform: pip skipped them, by name
        "Skipping link: none of the wheel's tags (cp311-cp311-win_amd64) are compatible: "
        "https://files.example/fast-1.0-cp311-cp311-win_amd64.whl (from https://pypi.org/simple/fast/)\n"
        "ERROR: Could not find a version that satisfies the requirement fast (from versions: none)\n",
        # only an sdist, with binaries only
        "Skipping link: No binaries permitted for fast: https://files.example/fast-1.0.tar.gz#sha256=ab\n"
        "ERROR: Could not find a version that satisfies the requirement fast (from versions: none)\n",
        # a version outside the specifier: pip found the release and says which versions there are
        "Found link https://files.example/fast-1.0-py3-none-any.whl#sha256=ab (from https://x/simple/fast/), "
        "version: 1.0\nERROR: Could not find a version that satisfies the requirement fast==9 (from versions: 1.0)\n",
    ],
)
def test_a_project_with_files_that_do_not_fit_is_not_no_such_project(text: str) -> None:
    assert not no_such_project("fast==9" if "versions: 1.0" in text else "fast", text)
