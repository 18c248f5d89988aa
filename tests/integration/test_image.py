"""`slim build --image`: dist/Dockerfile and dist/image/, a container image of the slimmed function, and a package
over the zips' limits that builds with it and says its zips are not deployable as zips."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from lambda_slim._artifacts.image import dockerfile_text, image_spec
from lambda_slim._inputs.target import Target
from tests.helpers import build_json, copy_fixture, lower_the_unzipped_limit, slim

pytestmark = pytest.mark.usefixtures("offline_pip")
HOST_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def parsed(dist: Path) -> tuple[str, str, str, str]:
    """FROM's image, its --platform, COPY's source and CMD, as a Dockerfile parser reads them."""
    parser = DockerfileParser(path=str(dist / "Dockerfile"))
    instructions = {item["instruction"]: item["value"] for item in parser.structure}
    platform, base = instructions["FROM"].split()
    source, destination = instructions["COPY"].split()
    assert destination == "${LAMBDA_TASK_ROOT}/" and parser.baseimage == base
    return base, platform.removeprefix("--platform="), source, json.loads(instructions["CMD"])[0]


def test_the_dockerfile_copies_the_merged_tree_and_names_the_handler(tmp_path: Path) -> None:
    project = copy_fixture("next-steps-boto3", tmp_path)
    report = build_json(project, "--image", "--layers", "auto")
    dist = project / "dist"
    base, platform, source, cmd = parsed(dist)
    assert (base, platform, cmd) == (f"public.ecr.aws/lambda/python:{HOST_PYTHON}", "linux/amd64", "handler.handler")
    tree = dist / source
    # The function's files and the layers' python/ content at one root: the handler, and what the layers hold.
    layers = [a for a in report["artifacts"] if a["kind"] == "layer"]
    assert layers and (tree / "handler.py").is_file() and (tree / "botocore" / "__init__.py").is_file()
    assert sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) == report["after"]["unzipped_bytes"]
    # The build context is dist/: the zips stay out of it.
    assert (dist / ".dockerignore").read_text() == "*\n!image\n"
    manifest = json.loads((dist / "slim-manifest.json").read_text())
    assert manifest["image"] == {
        "dockerfile": "Dockerfile",
        "tree": "image",
        "base_image": base,
        "platform": "linux/amd64",
        "cmd": "handler.handler",
    }
    assert report["image"]["zips_deployable"] is True and report["image"]["dockerfile"] == "dist/Dockerfile"
    # Nothing changed, but the image's tree is gone: built again rather than reused.
    shutil.rmtree(dist / "image")
    assert "nothing changed" not in build_json(project, "--image", "--layers", "auto")["dependencies"]["lock"]
    assert (dist / "image" / "handler.py").is_file()
    # Built again without --image: nothing of the image is left to go stale beside the new zips.
    assert slim("build", str(project), "-q", "--force")[0] == 0
    assert not any((dist / name).exists() for name in ("Dockerfile", ".dockerignore", "image"))
    assert json.loads((dist / "slim-manifest.json").read_text())["image"] is None


@pytest.mark.parametrize(("runtime", "arch", "tag", "platform"), [
    ("python3.12", "arm64", "3.12", "linux/arm64"), ("python3.9", "x86_64", "3.9", "linux/amd64"),
])  # fmt: skip
def test_from_matches_the_runtime_and_the_architecture(
    tmp_path: Path, runtime: str, arch: str, tag: str, platform: str
) -> None:
    (tmp_path / "Dockerfile").write_text(dockerfile_text(image_spec(Target(runtime, arch), "app/main.handler")))
    assert parsed(tmp_path) == (f"public.ecr.aws/lambda/python:{tag}", platform, "image/", "app/main.handler")


def test_over_the_zip_limits_the_image_builds_and_says_the_zips_do_not_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lower_the_unzipped_limit(monkeypatch, 200_000)
    project = copy_fixture("one-distribution-over-the-limit", tmp_path)
    (project / "handler.py").write_text("import bigdist\n\n\ndef handler(event, context):\n    return {}\n")
    code, _, err = slim("build", str(project), "-q", "--measure-runs", "0", "--handler", "handler.handler")
    assert code == 1 and "slim build --image" in err and not (project / "dist").exists()
    code, out, err = slim(
        "build", str(project), "--measure-runs", "0", "--handler", "handler.handler", "--image", "--format", "json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["image"]["zips_deployable"] is False and report["limits"]["fits_unzipped"] is False
    assert "over Lambda's limits" in report["image"]["zips_refused"]
    assert "Nothing was written" not in report["image"]["zips_refused"]  # this build did write
    assert "not deployable as zips" in err  # the warning, on stderr as every warning is
    assert (project / "dist" / "image" / "bigdist" / "blob.bin").is_file()
    code, text, _ = slim("build", str(project), "--measure-runs", "0", "--handler", "handler.handler", "--image")
    assert code == 0 and "the zips are NOT deployable as zips: the package is over Lambda's limits" in text


def test_an_image_needs_a_handler(tmp_path: Path) -> None:
    project = copy_fixture("one-distribution-over-the-limit", tmp_path)
    code, _, err = slim("build", str(project), "-q", "--image")
    assert code != 0 and "--image needs the handler, which is the image's CMD: pass --handler" in err
