from __future__ import annotations

import json

import pytest

from lambda_slim.errors import ToolError
from lambda_slim.pip import Pip, explain_missing_wheel, unavailable_requirement
from lambda_slim.target import Target

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


@pytest.mark.parametrize(("runtime", "arch"), [("python3.12", "arm64"), ("python3.9", "x86_64")])
def test_pip_judges_markers_with_the_target_environment(runtime: str, arch: str) -> None:
    # `pip inspect` reports the environment pip judges markers against: the target's, not this machine's.
    target = Target(runtime, arch)
    inspected = json.loads(Pip(target).run(["inspect", "--local"], what="inspecting", hint="", error=ToolError))
    assert inspected["environment"] == target.marker_environment()
