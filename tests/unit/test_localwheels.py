"""How built wheels reach pip and uv: local packages required by their wheel's file, in place of the line that
named them, wherever in a requirements file's includes that line is."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim._inputs.config import Config
from lambda_slim._inputs.project import requirement_inputs
from lambda_slim._inputs.target import Target
from lambda_slim._install.localwheels import BuiltWheel, is_pure, resolvable
from lambda_slim._pipeline import project_settings

TARGET = Target("python3.12", "x86_64")


@pytest.mark.parametrize(
    ("wheel", "pure"),
    [
        ("docopt-0.6.2-py2.py3-none-any.whl", True),
        ("lib-1.0-py3-none-any.whl", True),
        ("lib-1.0-py312-none-any.whl", True),
        ("lib-1.0-py2-none-any.whl", False),
        ("lib-1.0-cp312-cp312-linux_x86_64.whl", False),
        ("lib-1.0-cp312-abi3-manylinux_2_17_x86_64.whl", False),
    ],
)
def test_only_a_pure_python_wheel_is_accepted_from_a_build(wheel: str, pure: bool) -> None:
    assert is_pure(wheel, TARGET) is pure


def test_a_local_package_in_an_included_file_is_replaced_by_its_wheel(tmp_path: Path) -> None:
    project = tmp_path / "fn"
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "pyproject.toml").write_text('[project]\nname = "lib"\nversion = "1.0"\n')
    (project / "reqs").mkdir(parents=True)
    (project / "wheels").mkdir()
    (project / "requirements.txt").write_text("-r reqs/base.txt\n-f ./wheels\nslimdep\n")
    (project / "reqs" / "base.txt").write_text("-e ../../lib\nslimdemo\n")
    inputs = requirement_inputs(project_settings(Config(project_dir=project.resolve(), target=TARGET)))
    wheel = BuiltWheel("lib", "1.0", tmp_path / "built" / "lib-1.0-py3-none-any.whl", "a" * 64)
    extra = BuiltWheel("docopt", "0.6.2", tmp_path / "built" / "docopt-0.6.2-py2.py3-none-any.whl", "b" * 64)
    rewritten = resolvable(inputs, {(tmp_path / "lib").resolve(): wheel}, [extra], tmp_path / "work")
    assert rewritten.requirements_file is not None and rewritten.digest == inputs.digest
    main = rewritten.requirements_file.read_text().splitlines()
    # A wheel built from an sdist comes first: pip 23 looks `name==1.0` up on the index when it comes first.
    assert main[0] == f"docopt @ {extra.path.as_uri()}"
    assert main[2] == f"-f {project.resolve() / 'wheels'}" and main[3] == "slimdep"
    included = Path(main[1].removeprefix("-r ")).read_text().splitlines()
    assert included == [f"lib @ {wheel.path.as_uri()}", "slimdemo"]
