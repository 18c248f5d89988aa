"""The build's outputs: the slimmed tree split into the function and its layers, one deterministic zip each, and
dist/slim-manifest.json for infrastructure code. Old artifacts are replaced only once every new one is written."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lambda_slim import _sizes
from lambda_slim._artifacts.archive import Artifact, write_zip
from lambda_slim._artifacts.inventory import Inventory
from lambda_slim._artifacts.layers import LayerPlan, LayerSettings
from lambda_slim._artifacts.reuse import CACHE_FILE
from lambda_slim._atomic import unwritable, write_text_atomically
from lambda_slim._errors import ConfigError
from lambda_slim._inputs.target import Target
from lambda_slim._report.budget import Measures, OverLambdaLimits, refusal
from lambda_slim._slimming.strip import prune_empty_dirs

FUNCTION_ZIP = "function.zip"
MANIFEST = "slim-manifest.json"
MANIFEST_SCHEMA = "lambda-slim/manifest/1"
LAYER_PREFIX = "python/"  # Lambda puts /opt/python on sys.path


def layer_zip_name(layer: str) -> str:
    return f"layer-{layer}.zip"


SCRATCH_PREFIX = ".slim-"  # what write_outputs and atomic writes leave in dist/ when a build is killed


def prepare_dist_dir(dist_dir: Path, origin: str | None) -> None:
    """Before anything is built: a new file can be written in the output directory (or where it will be made).
    `origin`: the flag or key that named the directory, None for the default."""
    why = unwritable(dist_dir)
    if why is not None:
        fix = {
            None: "make it writable, or pass --out DIR",
            "--out": "pass --out a directory you can write to",
        }.get(origin, "change out-dir in [tool.slim], or pass --out DIR")
        raise ConfigError(
            f"cannot write the build's outputs to {dist_dir} ({origin or 'the default PROJECT/dist'}): {why}. "
            f"Nothing was built: {fix}."
        )


def remove_leftovers(dist_dir: Path) -> None:
    """Remove the scratch a killed build left in the output directory (all of it: two builds into one directory
    at once are not supported, the second would remove the first one's scratch)."""
    with contextlib.suppress(OSError):
        for leftover in list(dist_dir.glob(SCRATCH_PREFIX + "*")):
            if leftover.name == CACHE_FILE:
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def refuse_over_lambda_limits(after: Inventory, plan: LayerPlan, layers: LayerSettings, dist_dir: Path) -> None:
    """A package Lambda would refuse is no build: fail before writing, so the previous artifacts stay intact."""
    refused = over_lambda_limits(after, plan, layers, dist_dir)
    if refused is not None:
        raise refused


def over_lambda_limits(
    after: Inventory, plan: LayerPlan, layers: LayerSettings, dist_dir: Path
) -> OverLambdaLimits | None:
    """Why Lambda would refuse the zips of this plan, or None when it would take them."""
    return refusal(
        Measures(
            largest_zip=0,  # not zipped yet; the direct-upload limit is only a warning
            unzipped=after.total_bytes,
            files=len(after.files),
            cold_start_ms=0.0,
            cold_start_basis="",
            distributions={name: sum(f.size for f in files) for name, files in after.distributions().items()},
            layers=len(plan.layers) + layers.external_layers,
            external_bytes=layers.external_bytes,
        ),
        str(dist_dir),
    )


def write_outputs(
    root: Path,
    staging: Path,
    inventory: Inventory,
    plan: LayerPlan,
    dist_dir: Path,
    epoch: int,
    zipped: Callable[[int], None] | None = None,
) -> tuple[Artifact, ...]:
    """Move each layer's distributions out of `root` into its own tree under `staging`, then zip them all;
    `zipped` is called with each file's size as it is written into its zip."""
    layer_roots: dict[str, Path] = {}
    for entry in inventory.files:
        layer_name = plan.layer_of(entry.distribution)
        if layer_name is None:
            continue
        destination = staging / "layers" / layer_name / entry.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / entry.path, destination)
        layer_roots[layer_name] = staging / "layers" / layer_name
    prune_empty_dirs(root)
    in_layers = {d for layer in plan.layers for d in layer.distributions}
    function_dists = tuple(sorted({e.distribution for e in inventory.files} - in_layers))
    # All zips are written into a scratch directory beside their final place and moved there only when every one
    # is whole: a failed build leaves the previous build's artifacts as they were.
    dist_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=dist_dir))
    try:
        artifacts = [
            dataclasses.replace(
                write_zip(root, scratch / FUNCTION_ZIP, kind="function", epoch=epoch, zipped=zipped),
                distributions=function_dists,
            )
        ]
        for layer in plan.layers:
            layer_root = layer_roots.get(layer.name, staging / "layers" / layer.name)
            layer_root.mkdir(parents=True, exist_ok=True)
            artifact = write_zip(
                layer_root,
                scratch / layer_zip_name(layer.name),
                kind="layer",
                epoch=epoch,
                prefix=LAYER_PREFIX,
                zipped=zipped,
            )
            artifacts.append(dataclasses.replace(artifact, name=layer.name, distributions=layer.distributions))
        final = []
        for artifact in artifacts:
            os.replace(artifact.path, dist_dir / artifact.path.name)
            final.append(dataclasses.replace(artifact, path=dist_dir / artifact.path.name))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tuple(final)


def write_manifest(
    dist_dir: Path,
    artifacts: Sequence[Artifact],
    target: Target,
    handler: str | None,
    external: tuple[int, int],
    runtime_provided: dict[str, str] | None = None,
    image: dict[str, Any] | None = None,
) -> None:
    """dist/slim-manifest.json, then remove layer zips an earlier build wrote that this one no longer has."""
    previous = read_manifest(dist_dir)
    text = manifest_json(artifacts, target, handler, external, runtime_provided, image)
    write_text_atomically(dist_dir / MANIFEST, text)
    current = {artifact.path.name for artifact in artifacts}
    for stale in previous.get("artifacts", []) if previous else []:
        name = stale.get("file", "")
        if name.startswith("layer-") and name.endswith(".zip") and "/" not in name and name not in current:
            (dist_dir / name).unlink(missing_ok=True)


def manifest_json(
    artifacts: Sequence[Artifact],
    target: Target,
    handler: str | None,
    external: tuple[int, int],
    runtime_provided: dict[str, str] | None = None,
    image: dict[str, Any] | None = None,
) -> str:
    external_layers, external_bytes = external
    total = sum(a.unzipped_bytes for a in artifacts) + external_bytes
    layers = [a for a in artifacts if a.kind == "layer"]
    data: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "runtime": target.runtime,
        "architecture": target.arch,
        "handler": handler,
        # Left out for the runtime to provide: name -> the locked version, which `slim verify` stands in with.
        "runtime_provided": dict(sorted((runtime_provided or {}).items())),
        "artifacts": [
            {
                "file": artifact.path.name,
                **artifact.describe(),
                "compatible_runtimes": [target.runtime],
                "compatible_architectures": [target.arch],
                "fits_direct_upload": artifact.zipped_bytes <= _sizes.DIRECT_UPLOAD_LIMIT,
            }
            for artifact in artifacts
        ],
        "totals": {
            "unzipped_bytes": total,
            "unzipped_limit_bytes": _sizes.UNZIPPED_LIMIT,
            "unzipped_headroom_bytes": _sizes.UNZIPPED_LIMIT - total,
            "external_layers": external_layers,
            "external_layers_bytes": external_bytes,
            "layers": len(layers) + external_layers,
            "layers_limit": _sizes.MAX_LAYERS,
            "direct_upload_limit_bytes": _sizes.DIRECT_UPLOAD_LIMIT,
            "fits": total <= _sizes.UNZIPPED_LIMIT and len(layers) + external_layers <= _sizes.MAX_LAYERS,
        },
        # `slim build --image`: dist/Dockerfile and the tree it copies, dist/image/ (paths relative to dist/).
        "image": image,
    }
    return json.dumps(data, indent=2) + "\n"


def read_manifest(dist_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((dist_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == MANIFEST_SCHEMA else None
