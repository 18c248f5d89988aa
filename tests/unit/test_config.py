"""load_config: defaults < [tool.slim] < command line, validation messages, SOURCE_DATE_EPOCH."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import click
import pytest

from lambda_slim._errors import ConfigError
from lambda_slim._inputs import config as config_module
from lambda_slim._inputs.config import (
    ZIP_EPOCH,
    Config,
    Installer,
    LayersMode,
    PruneMode,
    load_config,
    source_date_epoch,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "projects"


@pytest.fixture(autouse=True)
def _no_epoch_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def project(tmp_path: Path, slim_table: str = "", *, name: str = "proj") -> Path:
    """A project directory whose pyproject.toml has the given [tool.slim] body."""
    root = tmp_path / name
    root.mkdir()
    text = f'[project]\nname = "{name}"\nversion = "1.0"\ndependencies = []\n'
    if slim_table:
        text += "\n[tool.slim]\n" + slim_table + "\n"
    (root / "pyproject.toml").write_text(text)
    return root


def load(root: Path, **cli: Any) -> Config:
    """load_config with CLI keys spelled as Python names (out_dir -> out-dir), additive like the CLI."""
    options = {key.replace("_", "-"): value for key, value in cli.items()}
    return load_config(root, options, additive=("keep", "exclude", "disable-rules"))


def config_error(root: Path, **cli: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(root, **cli)
    assert caught.value.exit_status == 2
    return str(caught.value)


# --- precedence --------------------------------------------------------------------------------------------------


def test_defaults_without_tool_slim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_module, "host_runtime", lambda: "python3.13")
    root = project(tmp_path)
    config = load(root)
    assert config.project_dir == root.resolve()
    assert config.target.runtime == "python3.13"
    assert config.target.arch == "x86_64"
    assert config.requirements is None
    assert config.include is None
    assert (config.extras, config.groups, config.exclude, config.keep, config.disable_rules) == ((),) * 5
    assert config.compile is True
    assert config.locked is False
    assert config.python is None
    assert config.dist_dir == root.resolve() / "dist"
    assert config.lock_path == root.resolve() / "slim.lock"
    assert config.source_date_epoch == ZIP_EPOCH


def test_project_without_pyproject_uses_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, runtime="python3.12")
    assert config.target.runtime == "python3.12"
    assert config.compile is True


def test_tool_slim_overrides_defaults(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'runtime = "python3.12"\narch = "arm64"\ncompile = false\nlocked = true\nextras = ["aws"]\n'
        'include = ["src/**"]\npython = "/opt/python3.12"',
    )
    config = load(root)
    assert config.target.runtime == "python3.12"
    assert config.target.arch == "arm64"
    assert config.compile is False
    assert config.locked is True
    assert config.extras == ("aws",)
    assert config.include == ("src/**",)
    assert config.python == "/opt/python3.12"


def test_cli_overrides_tool_slim(tmp_path: Path) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\narch = "arm64"\ncompile = false\nextras = ["aws"]')
    config = load(root, runtime="python3.13", arch="x86_64", compile=True, extras=["gcp"])
    assert config.target.runtime == "python3.13"
    assert config.target.arch == "x86_64"
    assert config.compile is True
    assert config.extras == ("gcp",)


def test_unset_cli_options_do_not_override(tmp_path: Path) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\narch = "arm64"\nextras = ["aws"]\ncompile = false')
    config = load(root, runtime=None, arch=None, extras=(), compile=None)
    assert config.target.runtime == "python3.12"
    assert config.target.arch == "arm64"
    assert config.extras == ("aws",)
    assert config.compile is False


def test_empty_cli_lists_as_the_cli_passes_them_do_not_override(tmp_path: Path) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\nextras = ["aws"]\ngroups = ["prod"]')
    # The dict cli.build passes when neither --extra nor --group is given.
    config = load(root, extras=[], groups=[], keep=[], exclude=[], disable_rules=[])
    assert config.extras == ("aws",)
    assert config.groups == ("prod",)


def test_a_single_string_is_a_one_item_list(tmp_path: Path) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\nexclude = "*.md"')
    assert load(root).exclude == ("*.md",)


@pytest.mark.parametrize("key", ["keep", "exclude", "disable-rules"])
def test_additive_keys_join_file_and_cli(tmp_path: Path, key: str) -> None:
    root = project(tmp_path, f'runtime = "python3.12"\n{key} = ["from-file"]')
    config = load_config(root, {key: ["from-cli"]}, additive=("keep", "exclude", "disable-rules"))
    assert getattr(config, key.replace("-", "_")) == ("from-file", "from-cli")


def test_additive_key_only_on_one_side(tmp_path: Path) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\nkeep = ["a"]')
    assert load(root).keep == ("a",)
    assert load(root, exclude=["b"]).exclude == ("b",)


def test_non_additive_keys_are_replaced(tmp_path: Path) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\nexclude = ["from-file"]')
    config = load_config(root, {"exclude": ["from-cli"]}, additive=())
    assert config.exclude == ("from-cli",)


# --- paths --------------------------------------------------------------------------------------------------------


def test_paths_in_the_file_are_relative_to_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\nrequirements = "reqs/prod.txt"\nout-dir = "build/out"')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load(root)
    assert config.requirements == root.resolve() / "reqs" / "prod.txt"
    assert config.out_dir == root.resolve() / "build" / "out"
    assert config.dist_dir == config.out_dir


def test_paths_on_the_cli_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, 'runtime = "python3.12"\nrequirements = "reqs/prod.txt"')
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    config = load(root, requirements="other.txt", out_dir="out")
    assert config.requirements == cwd.resolve() / "other.txt"
    assert config.out_dir == cwd.resolve() / "out"


def test_relative_project_dir_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, 'runtime = "python3.12"')
    monkeypatch.chdir(tmp_path)
    assert load(Path("proj")).project_dir == root.resolve()


def test_project_dir_must_exist(tmp_path: Path) -> None:
    message = config_error(tmp_path / "missing")
    assert "missing" in message
    assert "not a directory" in message


# --- errors -------------------------------------------------------------------------------------------------------


def test_bad_toml_names_the_file() -> None:
    message = config_error(FIXTURES / "bad-toml")
    assert str(FIXTURES / "bad-toml" / "pyproject.toml") in message
    assert "not valid TOML" in message


def test_unknown_key_suggests_the_close_one() -> None:
    message = config_error(FIXTURES / "unknown-config-key")
    assert "'runtme'" in message
    assert "[tool.slim]" in message
    assert "Did you mean 'runtime'?" in message


def test_unknown_key_far_from_any_lists_the_known_keys(tmp_path: Path) -> None:
    message = config_error(project(tmp_path, 'zzzzqqq = "x"'))
    assert "'zzzzqqq'" in message
    assert "Did you mean" not in message
    for key in ("runtime", "arch", "disable-rules", "out-dir"):
        assert key in message


def test_unknown_cli_key_is_an_error(tmp_path: Path) -> None:
    message = config_error(project(tmp_path), archh="arm64")
    assert "'archh'" in message
    assert "'arch'" in message


def test_bad_value_names_the_key_and_the_allowed_values() -> None:
    message = config_error(FIXTURES / "bad-config-value")
    assert "arch" in message
    assert "'amd64'" in message
    assert "x86_64" in message
    assert "arm64" in message


def test_bad_runtime_value_lists_the_runtimes(tmp_path: Path) -> None:
    message = config_error(project(tmp_path, 'runtime = "python2.7"'))
    assert "runtime" in message
    assert "'python2.7'" in message
    assert "python3.11" in message
    assert "python3.12" in message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("compile = 1", ("compile", "true or false")),
        ('locked = "yes"', ("locked", "true or false")),
        ("exclude = [1, 2]", ("exclude", "list of strings")),
        ('keep = ["ok", ""]', ("keep", "list of strings")),
        ('requirements = ""', ("requirements", "non-empty string")),
        ("out-dir = 3", ("out-dir", "non-empty string")),
    ],
)
def test_bad_value_types(tmp_path: Path, body: str, words: tuple[str, ...]) -> None:
    message = config_error(project(tmp_path, 'runtime = "python3.12"\n' + body))
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("key", "allowed"),
    [("installer", "pip, uv"), ("prune", "none, traced"), ("runtime-provided", "bundle, exclude"),
     ("arch", "x86_64, arm64"), ("init-cpu", "unthrottled, proportional")],
)  # fmt: skip
def test_a_word_outside_its_literal_type_is_refused_listing_the_words(tmp_path: Path, key: str, allowed: str) -> None:
    message = config_error(project(tmp_path, f'runtime = "python3.12"\n{key} = "other"'))
    assert message == f"[tool.slim] {key} = 'other' is not allowed: choose one of {allowed}."


def test_the_literal_types_are_the_words_config_and_the_command_line_accept(tmp_path: Path) -> None:
    from lambda_slim._cli.build import build_command
    from lambda_slim._inputs.target import ARCHITECTURES, Arch

    assert tuple(ARCHITECTURES) == get_args(Arch)
    words = {"arch": Arch, "installer": Installer, "prune": PruneMode, "layers": LayersMode}
    for key, literal in words.items():
        option = next(p for p in build_command.params if p.name == key)
        assert isinstance(option.type, click.Choice) and tuple(option.type.choices) == get_args(literal)
        for word in get_args(literal):
            config = load(project(tmp_path, name=f"{key}-{word}"), runtime="python3.12", **{key: word})
            assert getattr(config.target if key == "arch" else config, key) == word
    assert load(project(tmp_path, 'runtime-provided = "exclude"', name="rp")).runtime_provided == "exclude"
    assert load(project(tmp_path, 'init-cpu = "proportional"', name="ic")).init_cpu == "proportional"


def test_tool_slim_must_be_a_table(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool]\nslim = "fast"\n')
    assert "[tool.slim]" in config_error(root)


def test_bad_cli_value_is_an_error(tmp_path: Path) -> None:
    message = config_error(project(tmp_path), runtime="python3.12", arch="mips")
    assert message == "--arch mips is not allowed: choose one of x86_64, arm64."


# --- SOURCE_DATE_EPOCH --------------------------------------------------------------------------------------------


def test_source_date_epoch_default_is_the_zip_epoch() -> None:
    assert source_date_epoch() == ZIP_EPOCH == 315532800


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000", 1700000000),
        ("315532800", 315532800),
        ("315532801", 315532801),
        ("315532799", 315532800),
        ("0", 315532800),
        ("-5", 315532800),
    ],
)
def test_source_date_epoch_parsed_and_clamped(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", raw)
    assert source_date_epoch() == expected


@pytest.mark.parametrize("raw", ["yesterday", "1.5e9", "", "0x10"])
def test_source_date_epoch_garbage_is_a_config_error(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", raw)
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch()


def test_load_config_reads_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert load(project(tmp_path, 'runtime = "python3.12"')).source_date_epoch == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "nope")
    assert "SOURCE_DATE_EPOCH" in config_error(project(tmp_path, 'runtime = "python3.12"', name="other"))


def test_source_date_epoch_beyond_the_zip_date_range_is_rejected_or_clamped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "5000000000")  # 2128-06-11
    last_dos_second = 4354819199  # 2107-12-31T23:59:59Z
    try:
        epoch = source_date_epoch()
    except ConfigError:
        return
    assert epoch <= last_dos_second


def test_layers_keys(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'runtime = "python3.11"\nexternal-layers = 2\nexternal-layers-bytes = "20 MiB"\n'
        'layer-min-bytes = "1MB"\n[tool.slim.layers]\ndata = ["NumPy", "pandas"]',
    )
    config = load(root)
    assert config.layers == "groups"
    assert config.layer_groups == (("data", ("numpy", "pandas")),)
    assert (config.external_layers, config.external_layers_bytes, config.layer_min_bytes) == (2, 20 * 2**20, 10**6)
    assert load(project(tmp_path, 'layers = "auto"', name="auto")).layers == "auto"
    assert load(project(tmp_path, 'runtime = "python3.11"', name="default")).layers == "none"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('layers = "some"', 'layers must be "none", "auto", or a table'),
        ("external-layers = 6", "external-layers must be a whole number from 0 to 5"),
        ('external-layers-bytes = "lots"', 'external-layers-bytes must be a number of bytes or a size such as "50MB"'),
        ('[tool.slim.layers]\n"bad name" = ["numpy"]', "'bad name' is not a usable layer name"),
    ],
)
def test_bad_layers_values(tmp_path: Path, body: str, message: str) -> None:
    assert message in config_error(project(tmp_path, body))


@pytest.mark.parametrize(
    "handler",
    [
        "handler.handler",
        "app.main.handler",
        "app/main.handler",
        "ünï.cödé",
        "lambda-handler.handler",
        "lambda/apigw-handler/index.handler",
    ],
)
def test_handler_shapes_lambda_accepts(tmp_path: Path, handler: str) -> None:
    assert load_config(project(tmp_path), {"handler": handler}).handler == handler


@pytest.mark.parametrize("handler", ["handler", "handler.", ".handler", "a..b", "handler.handler()", "app:main.h"])
def test_handler_not_module_function_names_the_flag(tmp_path: Path, handler: str) -> None:
    with pytest.raises(ConfigError, match=r"^--handler must name a module and a function"):
        load_config(project(tmp_path), {"handler": handler})
    with pytest.raises(ConfigError, match=r"^\[tool\.slim\] handler must name a module and a function"):
        load_config(project(tmp_path, f"handler = {handler!r}", name="from-file"))


def test_origin_names_the_flag_or_the_key_and_leaves_the_fingerprint_alone(tmp_path: Path) -> None:
    root = project(tmp_path, 'handler = "handler.handler"')
    from_file = load_config(root, {"out-dir": "out"})
    assert from_file.origin("handler") == "[tool.slim] handler in pyproject.toml"
    assert from_file.origin("out-dir") == "--out"
    assert from_file.origin("runtime") is None
    from_cli = load_config(root, {"handler": "handler.handler", "out-dir": "out"})
    assert from_cli.origin("handler") == "--handler"
    assert from_cli == from_file and repr(from_cli) == repr(from_file)


def test_the_function_environment_comes_from_the_table_and_env_flags(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.slim]\nenvironment = { TABLE_NAME = "orders", STAGE = "dev" }\n')
    config = load_config(tmp_path, {"environment": ["STAGE=prod", "EMPTY="]}, additive=("environment",))
    assert config.environment == (("EMPTY", ""), ("STAGE", "prod"), ("TABLE_NAME", "orders"))


@pytest.mark.parametrize(
    ("table", "message"),
    [("environment = { TABLE = 1 }", "must be a table of strings"), ('environment = { "A-B" = "x" }', "'A-B' is not")],
)
def test_a_bad_function_environment_is_a_usage_error(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.slim]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)
