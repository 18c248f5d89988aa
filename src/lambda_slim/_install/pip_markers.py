"""Runs pip with environment markers judged for the Lambda target instead of the build machine.

pip judges `; platform_machine == "aarch64"` or `; python_version < "3.12"` with its vendored packaging's
`default_environment()`, which describes the interpreter pip runs in, also under --platform and --python-version
(pip #11664, #13111), for direct and transitive requirements alike. Pex replaces that function with the target's
(pip #10050); so does this script. Every `Marker.evaluate()` pip makes (its resolver, and pkg_resources on the
Pythons before 3.11) calls that function, and so does the --report's "environment".

lambda-slim runs this file by path (see pip.py), on whichever Python builds for the runtime, so it imports nothing
of lambda-slim: argv[1] is the target's environment as JSON, argv[2] the directory pip is imported from, and pip's
own arguments follow.
"""

import os
import sys


def main() -> int:
    # Run by path, this file's directory comes first on sys.path: lambda-slim's modules (its pip.py among them)
    # must not shadow pip's or the standard library's.
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        del sys.path[0]
    import importlib
    import json
    from typing import Any

    environment = json.loads(sys.argv[1])
    pip_parent = sys.argv[2]
    sys.argv[:] = ["pip", *sys.argv[3:]]
    sys.path.insert(0, pip_parent)
    markers: Any = importlib.import_module("pip._vendor.packaging.markers")

    def target_environment() -> dict[str, str]:
        return dict(environment)

    # Before pip._internal is imported: some of its modules bind the function by name at import.
    markers.default_environment = target_environment
    for name, value in environment.items():
        if not markers.Marker(f'{name} == "{value}"').evaluate():
            sys.stderr.write(
                f"lambda-slim could not make this pip ({pip_parent}) judge environment markers for the Lambda "
                f"target: {name} is not {value!r} after the patch. Build with --installer uv, or report this pip "
                "version to lambda-slim.\n"
            )
            return 2
    pip_main = importlib.import_module("pip._internal.cli.main").main
    return int(pip_main())


if __name__ == "__main__":
    sys.exit(main())
