"""Which AWS services an app uses, so the `aws-services` rule can drop the botocore and boto3 models of the rest.

botocore ships a model for every AWS service (hundreds of directories under botocore/data/); a function
usually calls a few. `[tool.slim] aws-services = ["s3", "dynamodb"]` names them; `"auto"` reads the app's own
code for `boto3.client("s3")`, `boto3.resource("dynamodb")`, `session.client(...)` and `Session().client(...)`
with a literal service name, and refuses, naming the call, when a name is not a literal. Services used only
inside libraries (powertools' parameters use ssm, for instance) are not seen by "auto": list them too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from lambda_slim._errors import ConfigError

AUTO = "auto"
# botocore loads these itself, whatever the app calls: credential providers (assume-role, web identity, SSO).
ALWAYS_KEPT = frozenset({"sts", "sso", "sso-oidc"})
# Client names botocore accepts for a model stored under another directory.
_ALIASES = {"runtime.sagemaker": "sagemaker-runtime"}
_MODEL_ROOTS = ("botocore/data/", "boto3/data/")


def services_in_code(files: Iterable[tuple[str, Path]]) -> frozenset[str]:
    """The services named by client/resource calls in (display path, source file) pairs."""
    found: set[str] = set()
    for display, source in files:
        try:
            tree = ast.parse(source.read_bytes(), filename=display)
        except (SyntaxError, ValueError):
            continue  # the build's compile step reports files that do not compile
        from_boto3 = _names_imported_from_boto3(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_client_call(node, from_boto3):
                found.add(_service_name(node, display))
    return frozenset(_ALIASES.get(name, name) for name in found)


def _names_imported_from_boto3(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "boto3":
            names.update(alias.asname or alias.name for alias in node.names if alias.name in ("client", "resource"))
    return names


def _is_client_call(node: ast.Call, from_boto3: set[str]) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in from_boto3
    if not isinstance(func, ast.Attribute) or func.attr not in ("client", "resource"):
        return False
    receiver = ast.unparse(func.value).lower()
    return "boto3" in receiver or "session" in receiver


def _service_name(node: ast.Call, display: str) -> str:
    argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "service_name"), None)
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    raise ConfigError(
        f'aws-services = "auto" cannot tell which service {display}:{node.lineno} uses '
        f'({ast.unparse(node)}): name the services instead, such as aws-services = ["s3", "dynamodb"].'
    )


def kept_services(setting: tuple[str, ...], app_files: Iterable[tuple[str, Path]]) -> frozenset[str]:
    """The services whose models stay: those named, those the app's code uses for "auto", and ALWAYS_KEPT."""
    named = {_ALIASES.get(name, name) for name in setting if name != AUTO}
    if AUTO in setting:
        named |= services_in_code(app_files)
    return frozenset(named) | ALWAYS_KEPT


def service_of(path: str) -> str | None:
    """`botocore/data/s3/2006-03-01/service-2.json.gz` -> `s3`; None for shared files and other paths."""
    for root in _MODEL_ROOTS:
        if path.startswith(root):
            rest = path[len(root) :]
            return rest.split("/", 1)[0] if "/" in rest else None
    return None
