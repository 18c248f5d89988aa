"""Target: runtime -> Python version and glibc cap, and the pip platform tags that follow from them."""

from __future__ import annotations

import pytest
from packaging.markers import Marker, default_environment

from lambda_slim._errors import TargetError
from lambda_slim._inputs.target import ARCHITECTURES, RUNTIMES, Target


def legacy_x86_aliases() -> list[str]:
    return ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


@pytest.mark.parametrize(
    ("runtime", "python", "glibc"),
    [
        ("python3.9", (3, 9), (2, 26)),
        ("python3.10", (3, 10), (2, 26)),
        ("python3.11", (3, 11), (2, 26)),
        ("python3.12", (3, 12), (2, 34)),
        ("python3.13", (3, 13), (2, 34)),
    ],
)
def test_runtime_python_version_and_glibc_cap(runtime: str, python: tuple[int, int], glibc: tuple[int, int]) -> None:
    target = Target(runtime, "x86_64")
    assert RUNTIMES[runtime] == (python, glibc)
    assert target.python_version == python
    assert target.glibc == glibc
    assert target.python_tag == f"{python[0]}.{python[1]}"


def test_describe_names_runtime_arch_and_glibc() -> None:
    assert Target("python3.12", "arm64").describe() == "python3.12 arm64 (glibc 2.34)"


@pytest.mark.parametrize(("arch", "machine"), [("x86_64", "x86_64"), ("arm64", "aarch64")])
def test_machine_is_the_wheel_tag_name(arch: str, machine: str) -> None:
    assert Target("python3.11", arch).machine == machine


def test_x86_64_tags_on_amazon_linux_2() -> None:
    tags = Target("python3.11", "x86_64").platform_tags()
    expected = [f"manylinux_2_{minor}_x86_64" for minor in range(26, 4, -1)] + legacy_x86_aliases()
    assert tags == expected
    assert tags[0] == "manylinux_2_26_x86_64"
    assert "manylinux_2_27_x86_64" not in tags


def test_x86_64_tags_on_amazon_linux_2023_go_up_to_2_34() -> None:
    tags = Target("python3.12", "x86_64").platform_tags()
    assert tags[0] == "manylinux_2_34_x86_64"
    assert "manylinux_2_35_x86_64" not in tags
    assert tags[-4:] == ["manylinux_2_5_x86_64", *legacy_x86_aliases()]
    assert len(tags) == len(set(tags))


def test_arm64_tags_start_at_2_17() -> None:
    tags = Target("python3.11", "arm64").platform_tags()
    assert tags == [f"manylinux_2_{minor}_aarch64" for minor in range(26, 16, -1)] + ["manylinux2014_aarch64"]
    assert all("x86_64" not in tag for tag in tags)
    assert "manylinux2010_aarch64" not in tags
    assert "manylinux1_aarch64" not in tags


def test_tags_are_best_first() -> None:
    tags = Target("python3.13", "arm64").platform_tags()
    minors = [int(tag.split("_")[2]) for tag in tags if tag.startswith("manylinux_2_")]
    assert minors == sorted(minors, reverse=True)


def test_pip_args_name_every_platform_and_the_interpreter() -> None:
    target = Target("python3.12", "arm64")
    args = target.pip_args()
    platforms = [args[i + 1] for i, arg in enumerate(args) if arg == "--platform"]
    assert platforms == target.platform_tags()
    assert args[args.index("--python-version") + 1] == "3.12"
    assert args[args.index("--implementation") + 1] == "cp"
    assert "--only-binary=:all:" in args


@pytest.mark.parametrize(("runtime", "tag"), [("python3.11", "cpython-311"), ("python3.9", "cpython-39")])
def test_pyc_tag(runtime: str, tag: str) -> None:
    assert Target(runtime, "x86_64").pyc_tag == tag


def test_unknown_runtime_lists_the_runtimes() -> None:
    with pytest.raises(TargetError) as caught:
        Target("python2.7", "x86_64")
    message = str(caught.value)
    assert "'python2.7'" in message
    for runtime in RUNTIMES:
        assert runtime in message
    assert caught.value.exit_status == 2


@pytest.mark.parametrize("arch", ["aarch64", "amd64", "X86_64", ""])
def test_unknown_arch_lists_the_architectures(arch: str) -> None:
    with pytest.raises(TargetError) as caught:
        Target("python3.11", arch)
    message = str(caught.value)
    assert repr(arch) in message
    for name in ARCHITECTURES:
        assert name in message


def test_runtime_of_pycs_takes_the_most_common_known_tag() -> None:
    from lambda_slim._inputs.target import runtime_of_pycs

    paths = ["a/__pycache__/x.cpython-312.pyc", "a/__pycache__/y.cpython-312.pyc", "__pycache__/h.cpython-311.pyc"]
    assert runtime_of_pycs(paths) == "python3.12"
    assert runtime_of_pycs(["a/x.pyc", "a/__pycache__/x.pypy39.pyc", "a/x.py"]) is None


def test_arch_of_machines() -> None:
    from lambda_slim._inputs.target import arch_of_machines

    assert arch_of_machines(["aarch64", "aarch64", "x86_64"]) == "arm64"
    assert arch_of_machines(["x86_64"]) == "x86_64"
    assert arch_of_machines([]) == "x86_64"


@pytest.mark.parametrize(("arch", "machine"), [("x86_64", "x86_64"), ("arm64", "aarch64")])
def test_marker_environment_describes_the_target_arch(arch: str, machine: str) -> None:
    environment = Target("python3.12", arch).marker_environment()
    assert environment["platform_machine"] == machine
    assert environment["platform_release"].endswith(f".{machine}")
    assert (environment["platform_system"], environment["sys_platform"], environment["os_name"]) == (
        "Linux",
        "linux",
        "posix",
    )
    assert (environment["implementation_name"], environment["platform_python_implementation"]) == (
        "cpython",
        "CPython",
    )
    assert Marker('platform_machine == "aarch64"').evaluate(environment) is (arch == "arm64")


@pytest.mark.parametrize("runtime", list(RUNTIMES))
def test_marker_environment_follows_the_runtime_python_not_the_host(runtime: str) -> None:
    target = Target(runtime, "x86_64")
    environment = target.marker_environment()
    assert environment["python_version"] == target.python_tag
    assert environment["python_full_version"].startswith(f"{target.python_tag}.")
    assert environment["implementation_version"] == environment["python_full_version"]
    assert Marker(f'python_version == "{target.python_tag}"').evaluate(environment)
    assert Marker(f'python_full_version >= "{target.python_tag}.0"').evaluate(environment)


def test_marker_environment_names_every_variable_packaging_judges() -> None:
    # Every PEP 508 variable is set, so no marker is ever judged by the build machine's value.
    assert Target("python3.11", "arm64").marker_environment().keys() == default_environment().keys()
