"""Hostile and bad input, in one table: each row is a case of issue 13 ("no false green"), set up, run through
the CLI, and judged by its exit status and message. None may pass, and none may show a traceback.

A row's `make` builds the scenario under a temporary directory and returns the arguments of `slim`; `check`, when
given, looks at what the run left behind (what must not have shipped, what must not be littered).
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lambda_slim._cli.main import main
from tests.helpers import BUILD_BACKEND, write_wheel
from tests.key_samples import pem
from tests.local_index import QuietHTTPServer

pytestmark = pytest.mark.usefixtures("offline_pip")


@dataclass(frozen=True)
class Case:
    name: str  # the case it covers, spelled as the test id
    make: Callable[[Path], list[str]]  # the scenario under tmp_path, and slim's arguments
    exit_status: int
    message: str  # must appear on stderr
    check: Callable[[Path], None] | None = None  # what the run must (not) have left behind


def app_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """A one-module project with no dependencies: what most hostile cases start from."""
    project = root / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "hostile"\nversion = "0.1.0"\ndependencies = []\n')
    (project / "handler.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    for name, text in (files or {}).items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return project


OUTSIDE_SECRET = "root:x:0:0:outside the project:/root:/bin/bash\n"


def outside_file(root: Path) -> Path:
    """A stand-in for /etc/passwd: a file next to the project, whose content must never ship."""
    outside = root / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "passwd").write_text(OUTSIDE_SECRET)
    (outside / "__init__.py").write_text("")
    return outside / "passwd"


def package_with(root: Path, name: str, place: Callable[[Path], None]) -> list[str]:
    """The one-module project plus a package `pkg` holding one odd entry `name`, made by `place`."""
    project = app_project(root, {"pkg/__init__.py": ""})
    place(project / "pkg" / name)
    return ["build", str(project), "-q", "--measure-runs", "0"]


def link_to(target: Callable[[Path], Path | str], *, directory: bool = False) -> Callable[[Path], None]:
    def place(link: Path) -> None:
        link.symlink_to(target(link.parents[2]), target_is_directory=directory)

    return place


def nothing_written(root: Path) -> None:
    assert not (root / "project" / "dist" / "function.zip").exists()


def outside_content_never_shipped(root: Path) -> None:
    nothing_written(root)
    for path in root.rglob("*.zip"):
        with zipfile.ZipFile(path) as archive:
            assert not [name for name in archive.namelist() if archive.read(name) == OUTSIDE_SECRET.encode()], path


def linked_package(root: Path) -> list[str]:
    """A top-level package that is a link to a directory outside (a monorepo's shared code, say)."""
    project = app_project(root)
    (project / "linked").symlink_to(outside_file(root).parent, target_is_directory=True)
    return ["build", str(project), "-q", "--measure-runs", "0"]


def self_link(link: Path) -> None:
    link.symlink_to(link.name)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def latin1_named(path: Path) -> None:
    with open(os.fsencode(path.parent) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(b"menu\n")


# Case 8: symlinks that would ship files from outside the project.
SYMLINK_CASES: list[Case] = [
    Case(
        "08-symlink-to-a-file-outside-the-project",
        lambda root: package_with(root, "data.txt", link_to(outside_file)),
        1,
        "pkg/data.txt is a symbolic link to",
        outside_content_never_shipped,
    ),
    Case(
        "08-symlink-to-a-directory-outside-the-project",
        lambda root: package_with(root, "vendored", link_to(lambda r: outside_file(r).parent, directory=True)),
        1,
        "--exclude pkg/vendored",
        outside_content_never_shipped,
    ),
    Case(
        "08-top-level-package-linked-from-outside-the-project",
        linked_package,
        1,
        "linked is a symbolic link to",
        outside_content_never_shipped,
    ),
    Case(
        "08-directory-linked-to-its-own-ancestor",
        lambda root: package_with(root, "again", link_to(lambda r: "..", directory=True)),
        1,
        "pkg/again is a symbolic link loop",
        nothing_written,
    ),
    Case(
        "11-dangling-symlink",
        lambda root: package_with(root, "data.txt", link_to(lambda r: "missing.txt")),
        1,
        "pkg/data.txt is a symbolic link to missing.txt, which does not exist",
        nothing_written,
    ),
    Case(
        "11-symlink-loop",
        lambda root: package_with(root, "data.txt", self_link),
        1,
        "pkg/data.txt is a symbolic link loop",
        nothing_written,
    ),
]


# Case 9: private keys among the app's files.
def project_shipping_keys(root: Path) -> list[str]:
    project = app_project(
        root,
        {
            "app/__init__.py": "",
            "app/server.key": pem("RSA PRIVATE KEY"),
            "app/deploy/id_ed25519": pem("OPENSSH PRIVATE KEY"),
            "app/client.p12": "made-up PKCS#12 bytes",
            "app/cacert.pem": pem("CERTIFICATE"),  # a certificate alone is no secret
        },
    )
    return ["build", str(project), "-q", "--no-verify"]


def project_with_a_key_in_its_code(root: Path) -> list[str]:
    project = app_project(root, {"settings.py": f"SIGNING_KEY = {pem('PRIVATE KEY')!r}\n"})
    return ["build", str(project), "-q", "--no-verify"]


def nothing_built(root: Path) -> None:
    assert not (root / "project" / "dist").exists()


SECRET_CASES: list[Case] = [
    Case(
        "09-private-keys-in-the-app-fail-the-build",
        project_shipping_keys,
        1,
        'keep = ["app/client.p12", "app/deploy/id_ed25519", "app/server.key"]',
        nothing_built,
    ),
    Case(
        "09-private-key-pasted-into-app-code-fails-the-build",
        project_with_a_key_in_its_code,
        1,
        "settings.py: holds a PEM private key",
        nothing_built,
    ),
]


def unwritable_directory(parent: Path) -> Path:
    """A directory no one may create files in, root included: chmod does not stop root (the CI runs as root),
    but sysfs refuses new files to everyone, so as root the directory is a link to /sys/kernel."""
    directory = parent / "unwritable"
    if os.geteuid() == 0:
        if not os.path.isdir("/sys/kernel"):
            pytest.skip("running as root, and no /sys/kernel to stand for a directory root cannot write")
        directory.symlink_to("/sys/kernel")
    else:
        directory.mkdir(mode=0o555)
    return directory


def read_only_dist(root: Path) -> list[str]:
    project = app_project(root)
    unwritable_directory(root).rename(project / "dist")
    return ["build", str(project)]


def out_under_a_file(root: Path) -> list[str]:
    project = app_project(root)
    (root / "afile").write_text("not a directory\n")
    return ["build", str(project), "--out", str(root / "afile" / "dist")]


def report_under_a_file(root: Path) -> list[str]:
    project = app_project(root)
    (root / "afile").write_text("not a directory\n")
    return ["build", str(project), "-o", str(root / "afile" / "report.json")]


def report_in_unwritable_directory(root: Path) -> list[str]:
    project = app_project(root)
    return ["build", str(project), "-o", str(unwritable_directory(root) / "report.json")]


def nothing_built(root: Path) -> None:
    """The output was checked before building: no build ran, so no zip was written."""
    assert not (root / "project" / "dist" / "function.zip").exists()


# Case 11: tracebacks instead of messages (unwritable outputs, odd files in the project).
ODD_FILE_CASES: list[Case] = [
    Case("11-read-only-dist", read_only_dist, 2, "dist (the default PROJECT/dist): Permission denied", nothing_built),
    Case("11-out-under-a-file", out_under_a_file, 2, "(--out): a part of the path is not a directory: ", nothing_built),
    Case(
        "11-report-under-a-file",
        report_under_a_file,
        2,
        "(-o/--output): a part of the path is not a directory: ",
        nothing_built,
    ),
    Case(
        "11-report-in-an-unwritable-directory",
        report_in_unwritable_directory,
        2,
        "(-o/--output): Permission denied",
        nothing_built,
    ),
    Case(
        "11-fifo-in-the-app",
        lambda root: package_with(root, "pipe", fifo),
        1,
        "pkg/pipe is a FIFO",
        nothing_written,
    ),
    Case(
        "11-file-name-not-utf8",
        lambda root: package_with(root, "cafe.txt", latin1_named),
        1,
        "pkg/caf\\xe9.txt",
        nothing_written,
    ),
]


@pytest.fixture(autouse=True)
def environment_restored() -> Iterator[None]:
    """Rows that point pip and uv at another index set the environment in `make`: undone after every row."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def unreachable_index(installer: str) -> Callable[[Path], list[str]]:
    """A project needing a package the wheelhouse lacks, with pip's and uv's index on a closed port, behind
    credentials; retries and timeouts short, so the row fails fast."""

    def make(root: Path) -> list[str]:
        if (
            installer == "uv"
            and shutil.which("uv") is None
            and shutil.which("uv", path=Path(sys.executable).parent) is None
        ):
            pytest.skip("uv is not installed")
        index = f"http://user:secret@127.0.0.1:{closed_port()}/simple"
        os.environ.pop("PIP_NO_INDEX", None)
        os.environ.update(
            PIP_INDEX_URL=index, PIP_RETRIES="0", PIP_TIMEOUT="1", UV_INDEX_URL=index, UV_HTTP_RETRIES="0",
            UV_HTTP_TIMEOUT="1",
        )  # fmt: skip
        project = app_project(root)
        (project / "pyproject.toml").write_text(
            '[project]\nname = "hostile"\nversion = "0.1.0"\ndependencies = ["onlyontheindex"]\n'
        )
        return ["build", str(project), "--installer", installer]

    return make


def no_secret_left(root: Path) -> None:
    for path in (root / "project").rglob("*"):
        assert not path.is_file() or b"secret" not in path.read_bytes(), path
    assert not (root / "project" / "slim.lock").exists() and not (root / "project" / "dist").exists()


CLONED = "slimclonecheck"  # the project in the local git repository the VCS requirements name


def git_repository(root: Path) -> str:
    """A local git repository holding a tiny project, as a `git+file://` URL: nothing leaves the machine."""
    repo = root / "repo"
    (repo / CLONED).mkdir(parents=True)
    (repo / CLONED / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text(f'[project]\nname = "{CLONED}"\nversion = "1.0"\n')
    git = ["git", "-c", "user.name=slim", "-c", "user.email=slim@example.invalid", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    return f"git+{repo.as_uri()}"


def editable_vcs_requirement(root: Path) -> list[str]:
    project = app_project(root, {"requirements.txt": f"slimdep\n-e {git_repository(root)}#egg={CLONED}\n"})
    return ["build", str(project), "--requirements", str(project / "requirements.txt")]


def vcs_direct_reference(root: Path) -> list[str]:
    project = app_project(root)
    dependency = f"{CLONED} @ {git_repository(root)}"
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "hostile"\nversion = "0.1.0"\ndependencies = ["{dependency}"]\n'
    )
    return ["build", str(project)]


def nothing_cloned(root: Path) -> None:
    """pip clones editables into <environment>/src, or ./src outside a virtual environment: neither may exist."""
    for src in (Path(sys.prefix) / "src", Path.cwd() / "src"):
        assert not (src / CLONED).exists(), f"pip cloned the requirement into {src}"
    assert not (root / "project" / "dist").exists()


# Case 12: an unreachable index; case 14: -e git+ requirements.
INDEX_CASES: list[Case] = [
    Case(
        "12-unreachable-index-is-named-not-blamed-on-the-package",
        unreachable_index("pip"),
        1,
        "cannot reach the package index at http://user:****@127.0.0.1:",
        no_secret_left,
    ),
    Case(
        "12-unreachable-index-is-named-by-uv-too",
        unreachable_index("uv"),
        1,
        "cannot reach the package index at http://127.0.0.1:",
        no_secret_left,
    ),
    Case(
        "14-editable-git-requirement-is-refused-before-cloning",
        editable_vcs_requirement,
        1,
        "requirements.txt line 2: '-e git+file://",
        nothing_cloned,
    ),
    Case(
        "14-git-direct-reference-is-refused-before-cloning",
        vcs_direct_reference,
        1,
        "is a version-control reference",
        nothing_cloned,
    ),
]


def wrong_handler_from_the_cli(root: Path) -> list[str]:
    return ["build", str(app_project(root)), "--handler", "handler.handle", "--measure-runs", "0"]


def wrong_handler_from_pyproject(root: Path) -> list[str]:
    project = app_project(root)
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write('[tool.slim]\nhandler = "handler.handle"\nmeasure-runs = 0\n')
    return ["build", str(project)]


def handler_not_module_function(root: Path) -> list[str]:
    return ["build", str(app_project(root)), "--handler", "handler.handler()"]


def verify_handler_not_module_function(root: Path) -> list[str]:
    # Checked before the zip is even looked for: a usage error, whatever the package.
    return ["verify", "--zip", str(root / "missing.zip"), "--handler", "handler:handler"]


# Case 13: a wrong handler.
HANDLER_CASES: list[Case] = [
    Case(
        "13-wrong-handler-from-the-cli",
        wrong_handler_from_the_cli,
        1,
        "(--handler) is not in the package: module 'handler' has no attribute 'handle'; did you mean 'handler'?",
        nothing_built,
    ),
    Case(
        "13-wrong-handler-from-pyproject",
        wrong_handler_from_pyproject,
        1,
        "([tool.slim] handler in pyproject.toml) is not in the package: module 'handler' has no attribute 'handle'",
        nothing_built,
    ),
    Case(
        "13-handler-not-module-function",
        handler_not_module_function,
        2,
        "--handler must name a module and a function",
        nothing_built,
    ),
    Case(
        "13-verify-handler-not-module-function",
        verify_handler_not_module_function,
        2,
        "--handler must name a module and a function",
    ),
]


# Case 15: duplicate entry names in a zip given to verify.
def zip_naming_the_handler_twice(root: Path) -> list[str]:
    package = root / "twice.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns, and writes the second entry anyway
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return 'the first'\n")
            archive.writestr("handler.py", "def handler(event, context):\n    return 'the second'\n")
    return ["verify", "--zip", str(package), "--handler", "handler.handler"]


def nothing_extracted_beside(root: Path) -> None:
    assert sorted(path.name for path in root.iterdir()) == ["twice.zip"]


ZIP_CASES: list[Case] = [
    Case(
        "15-duplicate-entry-names-are-refused-by-verify",
        zip_naming_the_handler_twice,
        1,
        "'handler.py' is in it 2 times with different content",
        nothing_extracted_beside,
    ),
]


_INDEXES: dict[Path, QuietHTTPServer] = {}


def simple_index(root: Path, projects: dict[str, Path]) -> str:
    """A simple-API index on 127.0.0.1 serving `projects` (name -> wheel), logging every path asked for in
    root/index.log; its URL."""
    index = root / "index"
    for name, wheel in projects.items():
        (index / "simple" / name).mkdir(parents=True)
        shutil.copy(wheel, index / "simple" / name / wheel.name)
        (index / "simple" / name / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    log = root / "index.log"

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(index), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            with log.open("a") as file:
                file.write(self.path + "\n")

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _INDEXES[root] = server
    return f"http://127.0.0.1:{server.server_address[1]}/simple/"


def local_package_named_like_an_index_project(root: Path) -> list[str]:
    """A uv workspace member named `shared`, required by name alone, while the index serves another `shared`."""
    workspace = root / "ws"
    library = workspace / "libs" / "shared"
    (library / "shared").mkdir(parents=True)
    shutil.copy(BUILD_BACKEND, library / "backend.py")
    (library / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "shared"\nversion = "0.1.0"\ndependencies = ["indexdep"]\n'
    )
    (library / "shared" / "__init__.py").write_text("ORIGIN = 'the workspace'\n")
    (workspace / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["libs/*", "fn"]\n')
    function = app_project(workspace).rename(workspace / "fn")
    (function / "pyproject.toml").write_text(
        '[project]\nname = "fn"\nversion = "0.1.0"\ndependencies = ["shared"]\n'
        "[tool.uv.sources]\nshared = { workspace = true }\n"
    )
    (function / "handler.py").write_text("import shared\n\n\ndef handler(event, context):\n    return shared.ORIGIN\n")
    files = root / "files"
    files.mkdir()
    projects = {
        "shared": write_wheel(files, "shared", "9.9", {"shared/__init__.py": "ORIGIN = 'the index'\n"}),
        "indexdep": write_wheel(files, "indexdep", "1.0", {"indexdep/__init__.py": ""}),
    }
    url = simple_index(root, projects)
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS"):
        os.environ.pop(name, None)
    os.environ["PIP_INDEX_URL"] = url
    return ["build", str(function), "--handler", "handler.handler"]


def the_local_package_shipped_and_its_name_never_asked_for(root: Path) -> None:
    index = _INDEXES.pop(root)
    index.shutdown()
    index.server_close()  # shutdown() only stops serving: the listening socket stays open until closed
    asked = (root / "index.log").read_text().split()
    assert "/simple/indexdep/" in asked  # the index was used, for the library's own dependency
    assert not [path for path in asked if path.startswith("/simple/shared")], asked
    with zipfile.ZipFile(root / "ws" / "fn" / "dist" / "function.zip") as archive:
        assert archive.read("shared/__init__.py") == b"ORIGIN = 'the workspace'\n"
    assert "shared @ file:../libs/shared" in (root / "ws" / "fn" / "slim.lock").read_text()


# Issue 14: a workspace member or path dependency is never looked up on the index by its name.
LOCAL_PACKAGE_CASES: list[Case] = [
    Case(
        "14-local-package-named-like-an-index-project-is-never-fetched",
        local_package_named_like_an_index_project,
        0,
        "",
        the_local_package_shipped_and_its_name_never_asked_for,
    ),
]

CASES = [
    *SYMLINK_CASES,
    *SECRET_CASES,
    *ODD_FILE_CASES,
    *INDEX_CASES,
    *HANDLER_CASES,
    *ZIP_CASES,
    *LOCAL_PACKAGE_CASES,
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_fails_clearly(case: Case, tmp_path: Path) -> None:
    args = case.make(tmp_path)
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == case.exit_status, result.output
    assert case.message in result.stderr, result.stderr
    if case.check is not None:
        case.check(tmp_path)
