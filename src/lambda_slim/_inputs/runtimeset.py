"""The packages a Lambda Python runtime has in /var/runtime, at the versions the sandbox puts in their place.

AWS publishes no version list (the "Runtime-included SDK versions" section of the Lambda Python docs says the
version depends on the runtime and the Region). These are representative, not measured on Lambda: what pip chose
for `boto3` and each runtime's Python on PyPI in December 2026, pinned with each wheel's sha256.
docs/runtime-packages.md says where they come from and how to refresh them; change them there and here together.
"""

from __future__ import annotations

# The distributions /var/runtime holds: a function may import any of them without declaring it.
RUNTIME_SET_NAMES = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)  # fmt: skip

# What they import as: nothing else may be importable from the stand-in.
RUNTIME_SET_MODULES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"})

_COMMON = {
    "jmespath": ("1.1.0", "a5663118de4908c91729bea0acadca56526eb2698e83de10cd116ae0f4e97c64"),
    "python-dateutil": ("2.9.0.post0", "a8b2bc7bffae282281c8140a97d3aa9c14da0b136dfe83f850eea9a5f7470427"),
    "six": ("1.17.0", "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"),
    "urllib3": ("2.8.0", "0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3"),
}
# boto3 1.44 requires Python 3.10: python3.9 keeps the last release that installs on it.
_PYTHON_39 = {
    **_COMMON,
    "boto3": ("1.43.107", "632a4f8298725b94144c8cd383cbdacb34624daa73221e954c3d33ac6e2528d6"),
    "botocore": ("1.43.107", "23cbe854e815dbaccf097f7fd32b461c9e1d2ed7e0c7dcc5658218704509d840"),
    "s3transfer": ("0.19.2", "d8168eccca828cbb2cd573675333f3bddd254313a9c42494b84c76b539e8ba25"),
}
_PYTHON_310_AND_LATER = {
    **_COMMON,
    "boto3": ("1.44.8", "099caf21553bbbfef118904aa02fadb8776a534704cf00bede0ed9f29a4da88e"),
    "botocore": ("1.44.8", "76342a76c338701db80dcb8afe1c9bd079283d6fffbb9d881442abb02a215043"),
    "s3transfer": ("0.19.3", "24eb7535804306355e31c952a90022bf5b2f9d760f9a11062c7493a217c08553"),
}
# runtime -> distribution -> (version, sha256 of its py3-none-any wheel)
RUNTIME_SETS: dict[str, dict[str, tuple[str, str]]] = {
    "python3.9": _PYTHON_39,
    "python3.10": _PYTHON_310_AND_LATER,
    "python3.11": _PYTHON_310_AND_LATER,
    "python3.12": _PYTHON_310_AND_LATER,
    "python3.13": _PYTHON_310_AND_LATER,
    "python3.14": _PYTHON_310_AND_LATER,
}
