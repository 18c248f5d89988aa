"""`slim build --image`: the slimmed function as a Lambda container image, for packages the zips cannot carry.

dist/image/ holds the whole slimmed tree as Lambda would see it: the function's files and the layers' (a layer's
python/ content) merged at one root. Merging is safe because a distribution is never split across artifacts, so
the function and its layers never hold the same path; in a zip deployment /var/task comes first on sys.path and
/opt/python after it, and with disjoint trees that order decides nothing. dist/Dockerfile copies that tree to
${LAMBDA_TASK_ROOT} of the AWS base image for the runtime and architecture (docs/lambda-facts.md#container-images)
and names the handler as CMD; dist/.dockerignore keeps the zips out of the build context, so `docker build dist/`
reads dist/image/ only and never needs a zip.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_slim._artifacts.inventory import Inventory
from lambda_slim._artifacts.outputs import SCRATCH_PREFIX
from lambda_slim._atomic import write_text_atomically
from lambda_slim._inputs.target import Target
from lambda_slim._version import __version__

IMAGE_DIR = "image"
DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
BASE_REPOSITORY = "public.ecr.aws/lambda/python"
# Lambda runs a single-architecture image: FROM --platform picks the base image's variant for the function's
# architecture whatever machine builds it.
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


@dataclass(frozen=True)
class ImageSpec:
    base: str  # public.ecr.aws/lambda/python:3.12
    platform: str  # linux/amd64 or linux/arm64
    handler: str

    def describe(self) -> dict[str, Any]:
        """The manifest's and the JSON report's fields for the image."""
        return {
            "dockerfile": DOCKERFILE,
            "tree": IMAGE_DIR,
            "base_image": self.base,
            "platform": self.platform,
            "cmd": self.handler,
        }


def image_spec(target: Target, handler: str) -> ImageSpec:
    return ImageSpec(f"{BASE_REPOSITORY}:{target.runtime.removeprefix('python')}", PLATFORMS[target.arch], handler)


def dockerfile_text(spec: ImageSpec) -> str:
    return "\n".join(
        [
            f"# Written by lambda-slim {__version__}: the slimmed function as a Lambda container image.",
            "# Build it from this directory, which is its context (.dockerignore leaves the zips out):",
            "#   docker build -t my-function dist/",
            f"FROM --platform={spec.platform} {spec.base}",
            "# The function and its layers' python/ content, merged as Lambda would see them.",
            f"COPY {IMAGE_DIR}/ ${{LAMBDA_TASK_ROOT}}/",
            f"CMD [{json.dumps(spec.handler)}]",
            "",
        ]
    )


def stage_image(root: Path, inventory: Inventory, dist_dir: Path) -> Path:
    """A copy of the slimmed tree in a scratch directory of dist/ (removed by the next build if this one dies),
    taken before the zips split the tree into the function and its layers. Copies, not links: the staged tree's
    files may be the cache's, and the image's permissions are normalised (Lambda's user must read every file)."""
    dist_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=dist_dir))
    try:
        for entry in inventory.files:
            destination = staged / entry.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / entry.path, destination)
            os.chmod(destination, 0o755 if entry.executable else 0o644)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def publish_image(staged: Path, spec: ImageSpec, dist_dir: Path) -> None:
    """dist/image/ replaced by the staged tree, then the Dockerfile and .dockerignore written atomically."""
    current = dist_dir / IMAGE_DIR
    if current.exists():
        old = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=dist_dir))
        os.replace(current, old / IMAGE_DIR)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(staged, current)
    write_text_atomically(dist_dir / DOCKERIGNORE, f"*\n!{IMAGE_DIR}\n")
    write_text_atomically(dist_dir / DOCKERFILE, dockerfile_text(spec))


def remove_image(dist_dir: Path) -> None:
    """What an earlier build with --image wrote, once a build without it replaces that build."""
    for name in (DOCKERFILE, DOCKERIGNORE):
        with contextlib.suppress(OSError):
            (dist_dir / name).unlink()
    shutil.rmtree(dist_dir / IMAGE_DIR, ignore_errors=True)
