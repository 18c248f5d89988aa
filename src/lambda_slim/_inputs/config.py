"""`[tool.slim]` and command-line options -> one frozen Config. Precedence: CLI > pyproject > defaults."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from packaging.utils import canonicalize_name

from lambda_slim._credentials import has_literal_password, mask_credentials
from lambda_slim._errors import ConfigError, unknown_key
from lambda_slim._inputs.budget import Budget, budget_from
from lambda_slim._inputs.sources import COMMAND_LINE, PYPROJECT, flag_of, setting_name, setting_value
from lambda_slim._inputs.target import ARCHITECTURES, RUNTIMES, Arch, Target, host_runtime
from lambda_slim._sizes import parse_size

# SOURCE_DATE_EPOCH below this is clamped: zip timestamps cannot be earlier than 1980-01-01.
ZIP_EPOCH = 315532800
# ... nor later than 2107-12-31 23:59:58, the last time a DOS date field holds.
ZIP_LAST = 4354819198


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The values of the [tool.slim] keys that take one of a few words. Validation lists them with get_args, so a new
# word added here is accepted everywhere at once.
LayersMode = Literal["none", "auto"]  # or a table of groups: then Config.layers is "groups"
Installer = Literal["pip", "uv"]
RuntimeProvided = Literal["bundle", "exclude"]  # exclude: leave out boto3 and what only it needs
PruneMode = Literal["none", "traced"]  # traced: keep only what the handler touches on the events
# How the cold-start model scales init with memory: "unthrottled" (measured on Lambda: init runs at about two vCPUs
# up to ~3 GB, docs/lambda-facts.md#cold-start-and-size) or "proportional" (like the handler, memory / 1,769 MB).
InitCpu = Literal["unthrottled", "proportional"]


@dataclass(frozen=True)
class Config:
    project_dir: Path
    target: Target
    requirements: Path | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    out_dir: Path | None = None
    compile: bool = True
    python: str | None = None
    disable_rules: tuple[str, ...] = ()
    locked: bool = False
    verify: bool = True
    handler: str | None = None
    event: Path | None = None
    # Five: the fastest of five runs (what the cold-start table and budget use) agreed within a few percent across
    # builds on a 2-core VM whose core changes speed every few seconds (docs/coldstart.md#the-host-factor).
    measure_runs: int = 5
    # The package with its bytecode hidden imports several times slower; measuring that is opt-in, it would
    # dominate the build's time.
    measure_without_bytecode: bool = False
    init_cpu: InitCpu = "unthrottled"
    layers: LayersMode | Literal["groups"] = "none"  # "groups": layer_groups says which
    layer_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    external_layers: int = 0
    external_layers_bytes: int = 0
    layer_min_bytes: int = 5 * 1024 * 1024
    budget: Budget = field(default_factory=Budget)
    source_date_epoch: int = ZIP_EPOCH
    cache: bool = True
    installer: Installer = "pip"
    cache_dir: Path | None = None  # None: $SLIM_CACHE_DIR or the user's cache directory
    aws_services: tuple[str, ...] = ()  # service names, and/or "auto"; empty: every model stays
    runtime_provided: RuntimeProvided = "bundle"
    # What stands in for Lambda's /var/runtime in the build's checks; None: the documented set, from the cache.
    runtime_packages: Path | None = None
    prune: PruneMode = "none"
    # Also write dist/Dockerfile and dist/image/ (the slimmed tree) for a container image: the way to deploy a
    # package over the zips' limits, which then do not fail the build.
    image: bool = False
    events: tuple[str, ...] = ()  # globs of event files, relative to the project, for --prune traced
    # Where packages come from, as written (a ${VAR} is expanded only when an installer is started, so neither the
    # build's fingerprint nor slim.lock ever holds what it stands for); find-links paths made absolute.
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    # key -> "cli" or "pyproject", for the keys that were set: messages name where a value came from. Not part of
    # the build's fingerprint: the same value from another place builds the same package.
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    # The function's environment variables, set in the sandbox that verifies and measures: app code that reads
    # os.environ["TABLE_NAME"] at import needs them there as on Lambda. Never shipped.
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def dist_dir(self) -> Path:
        return self.out_dir if self.out_dir is not None else self.project_dir / "dist"

    @property
    def lock_path(self) -> Path:
        return self.project_dir / "slim.lock"

    def origin(self, key: str) -> str | None:
        """Where the setting `key` came from, as a user would look for it: its flag, its pyproject key, or None
        (the default)."""
        source = dict(self.origins).get(key)
        if source == "cli":
            return flag_of(key)
        if source == "pyproject":
            return f"[tool.slim] {key} in pyproject.toml"
        return None


# The architecture when neither [tool.slim] arch nor an option names one.
DEFAULT_ARCH: Arch = "x86_64"


def default(field_name: str) -> Any:
    """A setting's value when neither [tool.slim] nor an option sets it: Config's field default, the one place it
    is defined (the loader and the command line's help read it from there)."""
    return Config.__dataclass_fields__[field_name].default


def _string(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{setting_name(where, key)} must be a non-empty string, not {value!r}.")
    return value


def _strings(key: str, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f'{setting_name(where, key)} must be a list of strings, such as ["a", "b"], not {value!r}.')
    return tuple(value)


def parse_environment(key: str, value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """The function's environment variables, as Lambda's configuration would set them: names and string values."""
    if isinstance(value, list):  # the command line's NAME=VALUE items
        pairs = [str(item).partition("=") for item in value]
        if not all(name and sep for name, sep, _ in pairs):
            raise ConfigError(f"{setting_name(where, key)} takes NAME=VALUE items, not {value!r}.")
        value = {name: text for name, _, text in pairs}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(
            f"{setting_name(where, key)} must be a table of strings, "
            f'such as {{ TABLE_NAME = "orders" }}, not {value!r}.'
        )
    bad = [name for name in value if not _ENV_NAME.fullmatch(name)]
    if bad:
        raise ConfigError(
            f"{setting_name(where, key)}: {', '.join(map(repr, bad))} is not an environment variable name."
        )
    return tuple(sorted(value.items()))


def _index_url(key: str, value: Any, where: str) -> str:
    """An index's URL, whose password, if any, comes from the environment: pyproject.toml is committed."""
    url = _string(key, value, where)
    if not re.match(r"^(https?|file)://", url):
        raise ConfigError(
            f"{setting_name(where, key)} must be an http://, https:// or file:// URL, not {mask_credentials(url)!r}."
        )
    if has_literal_password(url):
        raise ConfigError(
            f"{setting_name(where, key)} spells out a password ({mask_credentials(url)}), and pyproject.toml is "
            "committed: name an environment variable instead "
            '("https://user:${INDEX_PASSWORD}@host/simple"), or leave the credentials '
            "to ~/.netrc or a keyring, which pip and uv read by host."
        )
    return url


def _index_urls(key: str, value: Any, where: str) -> tuple[str, ...]:
    return tuple(_index_url(key, url, where) for url in _strings(key, value, where))


def _boolean(key: str, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{setting_name(where, key)} must be true or false, not {value!r}.")
    return value


# A part of a handler's module: a file or directory name. Lambda's runtime imports the module with
# importlib.import_module, which takes names an import statement cannot (`lambda-handler.handler`, a CDK
# `lambda/apigw-handler/index.handler`): only the function must be an identifier.
_MODULE_PART = re.compile(r"\w[\w-]*")


def _handler(key: str, value: Any, where: str) -> str:
    """module.function, as Lambda's runtime reads it: the module may be a dotted or a path/like name."""
    module, _, function = value.rpartition(".") if isinstance(value, str) else ("", "", "")
    parts = module.replace("/", ".").split(".")
    if not (function.isidentifier() and all(_MODULE_PART.fullmatch(part) for part in parts)):
        raise ConfigError(
            f'{setting_name(where, key)} must name a module and a function, such as "handler.handler" or '
            f'"app/main.handler", not {value!r}.'
        )
    return str(value)


def check_handler(value: str, flag: str = "--handler") -> str:
    """A handler given on the command line, checked before anything is built or read."""
    return _handler(flag.removeprefix("--"), value, COMMAND_LINE)


def _runs(key: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
        raise ConfigError(
            f"{setting_name(where, key)} must be a whole number from 0 (do not measure) to 50, not {value!r}."
        )
    return value


_LAYER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,60}$")


def _layers(key: str, value: Any, where: str) -> str | tuple[tuple[str, tuple[str, ...]], ...]:
    """ "none", "auto", or a table of layer name -> distribution names ([tool.slim.layers])."""
    if value in get_args(LayersMode):
        return str(value)
    if isinstance(value, dict) and value:
        groups = []
        for name, members in value.items():
            if not _LAYER_NAME.match(name):
                raise ConfigError(
                    f"{setting_name(where, key)}: {name!r} is not a usable layer name "
                    "(letters, digits, - and _, at most 61)."
                )
            groups.append((name, tuple(canonicalize_name(m) for m in _strings(f"layers.{name}", members, where))))
        return tuple(groups)
    raise ConfigError(
        f'{setting_name(where, key)} must be "none", "auto", or a table such as '
        f'[tool.slim.layers] data = ["numpy", "pandas"], not {value!r}.'
    )


def _layer_count(key: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise ConfigError(
            f"{setting_name(where, key)} must be a whole number from 0 to 5 (Lambda allows 5 layers), not {value!r}."
        )
    return value


def _size(key: str, value: Any, where: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise ConfigError(f"{setting_name(where, key)} must be {exc}, not {value!r}.") from exc


def _budget(key: str, value: Any, where: str) -> Budget:
    if not isinstance(value, dict):
        raise ConfigError(
            f'{setting_name(where, key)} must be a table: [tool.slim.budget] with max-zipped = "50MB" and so on.'
        )
    return budget_from(value, "[tool.slim.budget]")


def _choice(choices: Collection[str], what: str = "allowed") -> Callable[[str, Any, str], str]:
    """One of a few words; `what` says what the words are ("a Lambda runtime"), else the value is "not allowed"."""

    def check(key: str, value: Any, where: str) -> str:
        if value not in choices:
            raise ConfigError(f"{setting_value(where, key, value)} is not {what}: choose one of {', '.join(choices)}.")
        return str(value)

    return check


_KEYS: dict[str, Callable[[str, Any, str], Any]] = {
    "runtime": _choice(RUNTIMES, "a Lambda runtime"),
    "arch": _choice(ARCHITECTURES),
    "requirements": _string,
    "extras": _strings,
    "groups": _strings,
    "include": _strings,
    "exclude": _strings,
    "keep": _strings,
    "out-dir": _string,
    "compile": _boolean,
    "python": _string,
    "disable-rules": _strings,
    "locked": _boolean,
    "verify": _boolean,
    "handler": _handler,
    "event": _string,
    "measure-runs": _runs,
    "measure-without-bytecode": _boolean,
    "init-cpu": _choice(get_args(InitCpu)),
    "layers": _layers,
    "external-layers": _layer_count,
    "external-layers-bytes": _size,
    "layer-min-bytes": _size,
    "budget": _budget,
    "cache": _boolean,
    "installer": _choice(get_args(Installer)),
    "aws-services": _strings,
    "runtime-provided": _choice(get_args(RuntimeProvided)),
    "prune": _choice(get_args(PruneMode)),
    "events": _strings,
    "image": _boolean,
    "cache-dir": _string,
    "environment": parse_environment,
    "runtime-packages": _string,
    "index-url": _index_url,
    "extra-index-urls": _index_urls,
    "find-links": _strings,
}
KNOWN_KEYS = tuple(_KEYS)


def read_pyproject(project_dir: Path) -> dict[str, Any]:
    """The parsed pyproject.toml of the project, or {} when it has none."""
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}): fix the file, then run again.") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}.") from exc


def tool_table(pyproject: Mapping[str, Any]) -> dict[str, Any]:
    tool = pyproject.get("tool", {})
    table = tool.get("slim", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError("[tool.slim] in pyproject.toml must be a table.")
    return table


def check_settings(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The settings checked as [tool.slim] checks them (keys as it spells them), messages naming them as `where`
    does: for the commands that take a few of them (`slim verify --runtime`) outside a build's Config."""
    return _validate({key: value for key, value in values.items() if value is not None}, where)


def _validate(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _KEYS:
            raise unknown_key(key, KNOWN_KEYS, where)
        checked[key] = _KEYS[key](key, value, where)
    return checked


def load_config(
    project_dir: Path, cli: Mapping[str, Any] | None = None, additive: tuple[str, ...] = (), where: str = COMMAND_LINE
) -> Config:
    """Merge defaults, `[tool.slim]` and the CLI's options (keys as in [tool.slim], None meaning unset).

    Keys in `additive` (pattern lists) are joined rather than replaced: a pattern on the command line adds to
    the project's patterns instead of silently dropping them. `where` names the options in messages: the
    command line's, or the Python API's options object.
    """
    if not project_dir.is_dir():
        raise ConfigError(f"{project_dir} is not a directory: pass the path of the project to build.")
    project_dir = project_dir.resolve()
    from_file = _validate(tool_table(read_pyproject(project_dir)), PYPROJECT)
    # The CLI passes every option; an option not given is None or an empty list, and must not hide the file's value.
    given = {k: v for k, v in (cli or {}).items() if v is not None and v != () and v != []}
    from_cli = _validate(given, where)
    merged = {**from_file, **from_cli}
    for key in additive:
        if key in from_file and key in from_cli:
            merged[key] = (*from_file[key], *from_cli[key])

    def path_option(key: str) -> Path | None:
        # Paths in the file are relative to the project; on the command line, to the working directory.
        if key in from_cli:
            return Path(str(from_cli[key])).resolve()
        if key in from_file:
            return (project_dir / str(from_file[key])).resolve()
        return None

    return Config(
        project_dir=project_dir,
        target=Target(runtime=merged.get("runtime") or host_runtime(), arch=merged.get("arch", DEFAULT_ARCH)),
        requirements=path_option("requirements"),
        extras=merged.get("extras", ()),
        groups=merged.get("groups", ()),
        include=merged.get("include"),
        exclude=merged.get("exclude", ()),
        keep=merged.get("keep", ()),
        out_dir=path_option("out-dir"),
        compile=merged.get("compile", default("compile")),
        python=merged.get("python"),
        disable_rules=merged.get("disable-rules", ()),
        locked=merged.get("locked", default("locked")),
        verify=merged.get("verify", default("verify")),
        handler=merged.get("handler"),
        event=path_option("event"),
        measure_runs=merged.get("measure-runs", default("measure_runs")),
        measure_without_bytecode=merged.get("measure-without-bytecode", default("measure_without_bytecode")),
        init_cpu=merged.get("init-cpu", default("init_cpu")),
        layers="groups" if isinstance(merged.get("layers"), tuple) else merged.get("layers", default("layers")),
        layer_groups=merged["layers"] if isinstance(merged.get("layers"), tuple) else (),
        external_layers=merged.get("external-layers", default("external_layers")),
        external_layers_bytes=merged.get("external-layers-bytes", default("external_layers_bytes")),
        layer_min_bytes=merged.get("layer-min-bytes", default("layer_min_bytes")),
        budget=merged.get("budget", Budget()),
        source_date_epoch=source_date_epoch(),
        cache=merged.get("cache", default("cache")),
        installer=merged.get("installer", default("installer")),
        aws_services=merged.get("aws-services", ()),
        runtime_provided=merged.get("runtime-provided", default("runtime_provided")),
        runtime_packages=path_option("runtime-packages"),
        prune=merged.get("prune", default("prune")),
        events=merged.get("events", ()),
        image=merged.get("image", default("image")),
        cache_dir=path_option("cache-dir"),
        # --env NAME=VALUE adds to [tool.slim] environment, and wins for a name both set.
        environment=tuple(sorted(dict(merged.get("environment", ())).items())),
        index_url=merged.get("index-url"),
        extra_index_urls=merged.get("extra-index-urls", ()),
        find_links=tuple(
            link if "://" in link or "${" in link else str((project_dir / link).resolve())
            for link in merged.get("find-links", ())
        ),
        origins=tuple(sorted({**dict.fromkeys(from_file, "pyproject"), **dict.fromkeys(from_cli, "cli")}.items())),
    )


def read_json(path: Path, what: str) -> Any:
    """A JSON file the user names (an event, an expected result, a baseline report), or a ConfigError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the {what} {path} is not valid JSON ({exc}).") from exc


def source_date_epoch() -> int:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None:
        return ZIP_EPOCH
    try:
        epoch = int(raw)
    except ValueError as exc:
        raise ConfigError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}.") from exc
    if epoch > ZIP_LAST:
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={raw} is after 2107-12-31, the last date a zip entry can hold: use an earlier time."
        )
    return max(epoch, ZIP_EPOCH)
