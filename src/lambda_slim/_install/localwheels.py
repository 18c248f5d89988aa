"""Wheels lambda-slim builds itself: of the project's local packages, and of dependencies published only as an sdist.

Each is built by pip in an isolated build with the project's own build backend, accepted only when the wheel is pure
Python (it would otherwise be built for this machine, not for Lambda), and then required by its file
(`name @ file:///.../name-1.0-py3-none-any.whl`), so pip and uv never look the name up on an index.

Built wheels are cached under the cache directory by what they are built from: a local package by the sha256 of
its source tree, an sdist by its own sha256. Builds run with SOURCE_DATE_EPOCH set, which makes the common backends'
wheels byte-identical from one build to the next; slim.lock records a local package by its path and its wheel's hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import parse_wheel_filename

from lambda_slim import _subprocess
from lambda_slim._errors import ProjectError, ResolveError, SlimError
from lambda_slim._inputs.config import ZIP_EPOCH
from lambda_slim._inputs.localpackages import LocalPackage
from lambda_slim._inputs.project import INCLUDE_OPTION, LocalRequirement, RequirementInputs, logical_lines
from lambda_slim._inputs.target import Target
from lambda_slim._install.distcache import publish
from lambda_slim._install.pip import Pip, sdist_only_message
from lambda_slim._install.resolve import Lock, Pin

_FIND_LINKS = re.compile(r"^(-f|--find-links)(?:\s+|=)(\S+)$")


@dataclass(frozen=True)
class BuiltWheel:
    name: str  # canonical
    version: str
    path: Path
    sha256: str

    @property
    def line(self) -> str:
        return f"{self.name} @ {self.path.as_uri()}"


def is_pure(wheel_name: str, target: Target) -> bool:
    """Whether the wheel runs on any platform with the target's Python: py3-none-any, py2.py3-none-any."""
    major, minor = target.python_version
    tags = parse_wheel_filename(wheel_name)[3]
    return any(
        tag.abi == "none" and tag.platform == "any" and tag.interpreter in (f"py{major}", f"py{major}{minor}")
        for tag in tags
    )


@dataclass(frozen=True)
class WheelBuilder:
    pip: Pip
    target: Target
    scratch: Path  # this build's own directory
    cache_root: Path | None  # the cache directory, or None when builds are not cached

    def local(self, package: LocalPackage) -> BuiltWheel:
        """The wheel of a local package, cached by its source tree."""
        where = f"the local package {package.path} ({package.origin})"
        wheel = self._built(f"tree-{package.digest}", package.path, where, ProjectError)
        if not is_pure(wheel.path.name, self.target):
            raise ProjectError(
                f"{where} builds into {wheel.path.name}, a wheel for this machine, not for Lambda: lambda-slim builds "
                "only pure-Python local packages. Build its wheel for the target (in the Lambda build image) and "
                "require that file, or pass it with --find-links."
            )
        if package.name is not None and package.name != wheel.name:
            raise ProjectError(
                f"{package.origin} requires {package.name}, but {package.path} builds {wheel.name}: fix the name."
            )
        return wheel

    def sdist(self, requirement: str, sha256: str | None = None, version: str | None = None) -> tuple[BuiltWheel, str]:
        """The pure wheel built from the sdist of `requirement` (with `sha256`, as slim.lock has it), and the sdist's
        sha256. A cached build is used without downloading when the sdist's hash is known."""
        if sha256 is not None:
            cached = self._cached(f"sdist-{sha256}")
            if cached is not None:
                return cached, sha256
        download = self.scratch / f"sdist-{uuid.uuid4().hex}"
        args = ["download", "--no-deps", "--no-binary", ":all:", "--quiet", "-d", str(download)]
        if sha256 is not None:
            locked = download.with_suffix(".txt")
            locked.parent.mkdir(parents=True, exist_ok=True)
            locked.write_text(f"{requirement}=={version} --hash=sha256:{sha256}\n", encoding="utf-8")
            args += ["--require-hashes", "-r", str(locked)]
        else:
            args.append(requirement)
        self.pip.run(
            args,
            what=f"downloading the sdist of {requirement}",
            hint="Only a source distribution is published for it: check that the index still serves it.",
            error=ResolveError,
        )
        sdists = list(download.iterdir())
        if len(sdists) != 1:
            raise ResolveError(f"downloading the sdist of {requirement} gave {len(sdists)} files, not one.")
        digest = hashlib.sha256(sdists[0].read_bytes()).hexdigest()
        wheel = self._built(f"sdist-{digest}", sdists[0], f"the sdist {sdists[0].name}", ResolveError)
        if not is_pure(wheel.path.name, self.target):
            raise ResolveError(
                f"no wheel for {self.target.describe()}: {sdist_only_message(requirement, wheel.path.name)}"
            )
        return wheel, digest

    def _cached(self, key: str) -> BuiltWheel | None:
        if self.cache_root is None:
            return None
        entry = self._entry(key)
        wheels = list(entry.glob("*.whl")) if entry.is_dir() else []
        if len(wheels) != 1:
            return None
        recorded = (entry / "sha256").read_text(encoding="utf-8").strip() if (entry / "sha256").is_file() else ""
        wheel = _built_wheel(wheels[0])
        if wheel.sha256 != recorded:  # changed in the cache since it was built: build it again
            shutil.rmtree(entry, ignore_errors=True)
            return None
        return wheel

    def _entry(self, key: str) -> Path:
        assert self.cache_root is not None
        return self.cache_root / "built-wheels" / f"{key}-{self.target.python_tag}"

    def _built(self, key: str, source: Path, what: str, error: type[SlimError]) -> BuiltWheel:
        cached = self._cached(key)
        if cached is not None:
            return cached
        out = self.scratch / f"wheel-{uuid.uuid4().hex}"
        environment = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH") or str(ZIP_EPOCH)}
        _subprocess.run(
            self.pip.command("wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)),
            what=f"building a wheel of {what}",
            hint="Its build backend failed: its output is below.",
            error=error,
            env={**environment, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"},
        )
        wheels = list(out.glob("*.whl"))
        if len(wheels) != 1:
            raise error(f"building a wheel of {what} gave {len(wheels)} wheels, not one.")
        if self.cache_root is None:
            return _built_wheel(wheels[0])
        built = _built_wheel(wheels[0])

        def fill(private: Path) -> None:
            private.mkdir(parents=True)
            shutil.copyfile(built.path, private / built.path.name)
            (private / "sha256").write_text(built.sha256 + "\n", encoding="utf-8")

        publish(self._entry(key), fill)
        return self._cached(key) or built


def _built_wheel(path: Path) -> BuiltWheel:
    name, version, _, _ = parse_wheel_filename(path.name)
    return BuiltWheel(name, str(version), path, hashlib.sha256(path.read_bytes()).hexdigest())


def local_wheels(
    inputs: RequirementInputs, builder: WheelBuilder, built: Callable[[int], None] = lambda count: None
) -> dict[Path, BuiltWheel]:
    """Each local package of the inputs built, by its directory; `built` is called with 1 as each is."""
    wheels = {}
    for local in inputs.local:
        wheels[local.package.path] = builder.local(local.package)
        built(1)
    return wheels


def resolvable(
    inputs: RequirementInputs, wheels: Mapping[Path, BuiltWheel], extra: Iterable[BuiltWheel], workdir: Path
) -> RequirementInputs:
    """The inputs as pip and uv are to read them: each local package required by its built wheel's file, and the
    wheels built from sdists (`extra`) added as requirements of their own, first: pip 23 looks a name up on the
    index when `name==1.0` comes before `name @ file:...` (not after), and fails on an sdist-only one."""
    replaced = {
        (local.file, local.line): _requirement_of(local, wheels[local.package.path])
        for local in inputs.local
        if not local.transitive
    }
    added = [wheels[local.package.path].line for local in inputs.local if local.transitive]
    added += [wheel.line for wheel in extra]
    if inputs.requirements_file is None:
        lines = [replaced.get((None, line), line) for line in inputs.requirement_lines]
        return replace(inputs, requirement_lines=(*added, *lines))
    if not replaced and not added:
        return inputs
    workdir.mkdir(parents=True, exist_ok=True)
    main = _rewrite(inputs.requirements_file, replaced, workdir, {}, added)
    return replace(inputs, requirements_file=main)


def _requirement_of(local: LocalRequirement, wheel: BuiltWheel) -> str:
    requirement = local.requirement
    if requirement is None:
        return wheel.line
    if requirement.specifier and not requirement.specifier.contains(wheel.version, prereleases=True):
        raise ProjectError(
            f"{local.package.origin} requires {requirement}, but {local.package.path} builds version "
            f"{wheel.version}: change the requirement or the package's version."
        )
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f" ; {requirement.marker}" if requirement.marker else ""
    return f"{wheel.name}{extras} @ {wheel.path.as_uri()}{marker}"


def _rewrite(
    path: Path,
    replaced: Mapping[tuple[Path | None, str], str],
    workdir: Path,
    copies: dict[Path, Path],
    first: list[str] | None = None,
) -> Path:
    """A copy of the requirements file `path` in `workdir`, local packages replaced, includes pointing at copies of
    theirs, and relative --find-links made absolute (pip reads them relative to the file that says them)."""
    resolved = path.resolve()
    if resolved in copies:
        return copies[resolved]
    copy = copies[resolved] = workdir / f"requirements-{len(copies)}.txt"
    lines = list(first or [])
    for _, line in logical_lines(resolved.read_text(encoding="utf-8")):
        include = INCLUDE_OPTION.match(line)
        links = _FIND_LINKS.match(line)
        if include:
            line = f"{include.group(1)} {_rewrite(resolved.parent / include.group(2), replaced, workdir, copies)}"
        elif links and (resolved.parent / links.group(2)).exists():
            line = f"{links.group(1)} {resolved.parent / links.group(2)}"
        lines.append(replaced.get((resolved, line), line))
    copy.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return copy


def locked_wheels(lock: Lock, wheels: Mapping[Path, BuiltWheel], project_dir: Path) -> dict[str, BuiltWheel]:
    """The built wheels of the lock's local packages, by name."""
    by_path = {os.path.relpath(path, project_dir.resolve()): wheel for path, wheel in wheels.items()}
    return {pin.name: by_path[pin.local_path] for pin in lock.pins if pin.local_path in by_path}


def stale_local_pins(lock: Lock, wheels: Mapping[str, BuiltWheel]) -> list[str]:
    """The lock's local packages whose wheel is not the one locked (or that were not built)."""
    return [
        pin.name
        for pin in lock.pins
        if pin.local_path is not None and (pin.name not in wheels or wheels[pin.name].sha256 not in pin.hashes)
    ]


def with_versions(lock: Lock, wheels: Mapping[str, BuiltWheel]) -> Lock:
    """Local packages' versions (a lock records their path, not their version) from their built wheels."""
    pins = tuple(replace(pin, version=wheels[pin.name].version) if pin.name in wheels else pin for pin in lock.pins)
    return replace(lock, pins=pins)


def relabelled(
    lock: Lock, wheels: Mapping[Path, BuiltWheel], sdists: Mapping[str, tuple[BuiltWheel, str]], project_dir: Path
) -> Lock:
    """The lock as slim.lock records it: a local package by its path relative to the project (with its wheel's
    hash), an sdist-built one by its version and the sdist's hash, never by a file of this machine's cache."""
    local = {wheel.path.as_uri(): path for path, wheel in wheels.items()}
    built = {wheel.path.as_uri(): (name, digest) for name, (wheel, digest) in sdists.items()}
    pins: list[Pin] = []
    for pin in lock.pins:
        if pin.url in local:
            pin = replace(pin, url="file:" + os.path.relpath(local[pin.url], project_dir.resolve()))
        elif pin.url in built:
            pin = replace(pin, url=None, hashes=(built[pin.url][1],), sdist=True)
        pins.append(pin)
    return replace(lock, pins=tuple(pins))


def sdist_wheels(pins: Iterable[Pin], builder: WheelBuilder) -> dict[str, BuiltWheel]:
    """The wheels of the locked sdist-built pins, from the cache or built from the sdist (checked by its hash)."""
    found = {}
    for pin in pins:
        if pin.sdist:
            found[pin.name] = builder.sdist(pin.name, pin.hashes[0], pin.version)[0]
    return found


def installable(lock: Lock, wheels: Mapping[str, BuiltWheel]) -> Lock:
    """The lock as the installers take it: each built package required by its wheel's file and that file's hash."""
    pins = tuple(
        replace(pin, url=wheels[pin.name].path.as_uri(), hashes=(wheels[pin.name].sha256,), sdist=False)
        if pin.name in wheels
        else pin
        for pin in lock.pins
    )
    return replace(lock, pins=pins)
