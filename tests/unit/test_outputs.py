"""write_outputs and the manifest: the function and its layers, one zip each, replacing the previous build's only
once every new zip is whole; the manifest infrastructure code reads; what a killed build left behind."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lambda_slim._artifacts import outputs
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._artifacts.inventory import APP, FileEntry, Inventory
from lambda_slim._artifacts.layers import LayerPlan, LayerSpec
from lambda_slim._artifacts.outputs import (
    FUNCTION_ZIP,
    MANIFEST,
    layer_zip_name,
    manifest_json,
    prepare_dist_dir,
    read_manifest,
    remove_leftovers,
    write_manifest,
    write_outputs,
)
from lambda_slim._artifacts.reuse import CACHE_FILE
from lambda_slim._errors import ArchiveError, ConfigError
from lambda_slim._inputs.target import Target

EPOCH = 1_700_000_000
TARGET = Target("python3.12", "arm64")
FILES = {
    "handler.py": APP,
    "requests/__init__.py": "requests",
    "numpy/__init__.py": "numpy",
    "numpy/core/_multiarray.so": "numpy",
    "numpy-2.1.3.dist-info/METADATA": "numpy",
}
NUMPY_LAYER = LayerPlan((LayerSpec("numpy", ("numpy",)),))


def slimmed_tree(tmp_path: Path) -> tuple[Path, Inventory]:
    root = tmp_path / "root"
    for path in FILES:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"# {path}\n")
    entries = tuple(FileEntry(path, (root / path).stat().st_size, dist) for path, dist in sorted(FILES.items()))
    return root, Inventory(entries, frozenset())


def names_in(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return sorted(archive.namelist())


def build_into(tmp_path: Path, dist: Path, plan: LayerPlan = NUMPY_LAYER) -> tuple[Artifact, ...]:
    root, inventory = slimmed_tree(tmp_path / "work")
    return write_outputs(root, tmp_path / "work" / "staging", inventory, plan, dist, EPOCH)


def test_each_layer_gets_its_distributions_under_python_and_the_function_keeps_the_rest(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    function, layer = build_into(tmp_path, dist)
    assert (function.path, layer.path) == (dist / FUNCTION_ZIP, dist / "layer-numpy.zip")
    assert layer_zip_name("numpy") == "layer-numpy.zip"
    assert names_in(function.path) == ["handler.py", "requests/__init__.py"]
    assert names_in(layer.path) == [
        "python/numpy-2.1.3.dist-info/METADATA",
        "python/numpy/__init__.py",
        "python/numpy/core/_multiarray.so",
    ]
    assert (function.kind, function.distributions) == ("function", (APP, "requests"))
    assert (layer.kind, layer.name, layer.distributions) == ("layer", "numpy", ("numpy",))
    assert sorted(p.name for p in dist.iterdir()) == [FUNCTION_ZIP, "layer-numpy.zip"]  # no scratch left


def test_without_layers_everything_is_in_the_function_zip(tmp_path: Path) -> None:
    (function,) = build_into(tmp_path, tmp_path / "dist", LayerPlan(()))
    assert names_in(function.path) == sorted(FILES)


def test_a_failed_zip_leaves_the_previous_build_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / FUNCTION_ZIP).write_bytes(b"previous function")
    (dist / "layer-numpy.zip").write_bytes(b"previous layer")
    real_write_zip = outputs.write_zip

    def fail_on_the_layer(root: Path, dest: Path, **kwargs: object) -> Artifact:
        if dest.name != FUNCTION_ZIP:
            raise ArchiveError(f"cannot write {dest}: disk full.")
        return real_write_zip(root, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outputs, "write_zip", fail_on_the_layer)
    with pytest.raises(ArchiveError, match="disk full"):
        build_into(tmp_path, dist)
    assert (dist / FUNCTION_ZIP).read_bytes() == b"previous function"  # the new one was whole, yet not moved in
    assert (dist / "layer-numpy.zip").read_bytes() == b"previous layer"
    assert sorted(p.name for p in dist.iterdir()) == [FUNCTION_ZIP, "layer-numpy.zip"]


def test_a_new_build_replaces_the_previous_zips(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / FUNCTION_ZIP).write_bytes(b"previous function")
    function, _ = build_into(tmp_path, dist)
    assert zipfile.is_zipfile(dist / FUNCTION_ZIP) and function.path == dist / FUNCTION_ZIP


def artifact(name: str, kind: str, zipped: int, unzipped: int) -> Artifact:
    file = FUNCTION_ZIP if kind == "function" else layer_zip_name(name)
    return Artifact(Path("dist") / file, kind, 3, zipped, unzipped, "a" * 64, name, (name,))


def test_the_manifest_says_what_infrastructure_code_needs(tmp_path: Path) -> None:
    artifacts = [artifact("function", "function", 60 * 1024 * 1024, 1_000), artifact("numpy", "layer", 10, 2_000)]
    data = json.loads(manifest_json(artifacts, TARGET, "app.handler", (1, 500), {"boto3": "1.35.0"}))
    assert (data["schema"], data["runtime"], data["architecture"]) == ("lambda-slim/manifest/1", "python3.12", "arm64")
    assert (data["handler"], data["runtime_provided"]) == ("app.handler", {"boto3": "1.35.0"})
    function, layer = data["artifacts"]
    assert (function["file"], layer["file"]) == ("function.zip", "layer-numpy.zip")
    assert layer["compatible_runtimes"] == ["python3.12"] and layer["compatible_architectures"] == ["arm64"]
    assert (function["fits_direct_upload"], layer["fits_direct_upload"]) == (False, True)  # 60 MiB > 50 MiB
    assert data["totals"] == {
        "unzipped_bytes": 3_500,  # the external layer's bytes count too
        "unzipped_limit_bytes": 262_144_000,
        "unzipped_headroom_bytes": 262_144_000 - 3_500,
        "external_layers": 1,
        "external_layers_bytes": 500,
        "layers": 2,
        "layers_limit": 5,
        "direct_upload_limit_bytes": 52_428_800,
        "fits": True,
    }
    too_many = json.loads(manifest_json(artifacts, TARGET, None, (5, 0)))["totals"]
    assert (too_many["layers"], too_many["fits"]) == (6, False)


def test_writing_the_manifest_removes_only_the_layer_zips_the_build_no_longer_has(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("function.zip", "layer-numpy.zip", "layer-pandas.zip", "notes.zip"):
        (dist / name).write_bytes(b"x")
    old = [artifact("function", "function", 1, 1), artifact("numpy", "layer", 1, 1), artifact("pandas", "layer", 1, 1)]
    old_manifest = json.loads(manifest_json(old, TARGET, None, (0, 0)))
    old_manifest["artifacts"].append({"file": "../layer-outside.zip"})  # never followed out of dist/
    (tmp_path / "layer-outside.zip").write_bytes(b"x")
    (dist / MANIFEST).write_text(json.dumps(old_manifest))
    write_manifest(dist, old[:2], TARGET, None, (0, 0))
    assert sorted(p.name for p in dist.iterdir()) == ["function.zip", "layer-numpy.zip", "notes.zip", MANIFEST]
    assert (tmp_path / "layer-outside.zip").exists()
    assert [a["file"] for a in read_manifest(dist)["artifacts"]] == ["function.zip", "layer-numpy.zip"]  # type: ignore[index]


@pytest.mark.parametrize("text", ["{not json", '{"schema": "lambda-slim/manifest/2"}', "[]"])
def test_a_manifest_of_another_kind_is_not_read(tmp_path: Path, text: str) -> None:
    (tmp_path / MANIFEST).write_text(text)
    assert read_manifest(tmp_path) is None
    assert read_manifest(tmp_path / "missing") is None


def test_leftovers_of_a_killed_build_are_removed_and_the_last_builds_record_stays(tmp_path: Path) -> None:
    (tmp_path / ".slim-abc123").mkdir()
    (tmp_path / ".slim-abc123" / "function.zip").write_bytes(b"half")
    (tmp_path / ".slim-manifest.tmp").write_text("half")
    (tmp_path / CACHE_FILE).write_text("{}")
    (tmp_path / FUNCTION_ZIP).write_bytes(b"zip")
    remove_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [CACHE_FILE, FUNCTION_ZIP]


@pytest.mark.parametrize(
    ("origin", "fix"),
    [(None, "make it writable, or pass --out DIR"), ("--out", "pass --out a directory you can write to"),
     ("[tool.slim] out-dir in pyproject.toml", "change out-dir in [tool.slim], or pass --out DIR")],
)  # fmt: skip
def test_an_unwritable_output_directory_is_refused_before_building(
    tmp_path: Path, origin: str | None, fix: str
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with pytest.raises(ConfigError) as caught:
        prepare_dist_dir(blocked / "dist", origin)
    assert str(caught.value).startswith(f"cannot write the build's outputs to {blocked / 'dist'} (")
    assert str(caught.value).endswith(f"Nothing was built: {fix}.")
    prepare_dist_dir(tmp_path / "new" / "dist", None)  # not there yet, but can be made: fine
