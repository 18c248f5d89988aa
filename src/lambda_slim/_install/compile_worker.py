"""Writes an unchecked-hash pyc beside each source, under the target's interpreter, so the pyc names and the magic
number are the target's.

compile.py runs this file by path under -I and -u: argv is the root, the root's path inside Lambda (what
tracebacks show) and the number of worker processes; stdin is the sources to compile (paths relative to the root)
as JSON, or null for every .py below the root. It prints the number of sources, an empty line as each is compiled
(the progress shown: -u sends each at once, from the pool's workers too), then {"compiled": [pyc paths],
"failed": [[source, why]]} on the last line. It runs on the
target's Python (3.9 and up), where lambda-slim is not installed: standard library only, and 3.9 syntax (ruff
checks it as py39).

Its names are chosen, not only its syntax. On Python 3.9 and 3.10, marshal marks a string of a pyc for reuse when
anything else in the process references it, so every name this file holds (its functions', its variables', even
those of annotations, which stay in its code objects) can change the bytes of a pyc whose module uses that name
once. It therefore names nothing that the script it replaces did not (test_compile checks), and it imports no
`from __future__` (that module's names would count too): annotations that 3.9 cannot evaluate are quoted.
"""

import functools
import importlib.util
import json
import multiprocessing
import os
import py_compile
import sys


def compile_one(root: str, display_root: str, rel: str) -> "tuple[str, str | None, str | None]":
    """(source, its pyc relative to the root or None, why it did not compile or None)."""
    source = os.path.join(root, rel)
    try:
        target = importlib.util.cache_from_source(source)
        py_compile.compile(
            source,
            cfile=target,
            dfile=display_root + "/" + rel,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        return rel, os.path.relpath(target, root).replace(os.sep, "/"), None
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError, OSError) as exc:
        return rel, None, str(getattr(exc, "msg", exc)).strip().splitlines()[-1][:300]
    finally:
        print()  # one source done


def main() -> None:
    root, display_root, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sources = json.load(sys.stdin)
    if sources is None:
        sources = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name.endswith(".py"):
                    sources.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    sources.sort()
    print(len(sources))
    if workers > 1 and len(sources) > 200:
        # fork explicitly: the workers start as copies of this process, where spawn and forkserver (3.14's
        # default) would start fresh interpreters that import this file again.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = list(
                pool.imap_unordered(functools.partial(compile_one, root, display_root), sources, chunksize=64)
            )
    else:
        results = [compile_one(root, display_root, rel) for rel in sources]
    compiled = sorted(pyc for _, pyc, error in results if pyc)
    failed = sorted((rel, error) for rel, _, error in results if error)
    json.dump({"compiled": compiled, "failed": failed}, sys.stdout)


if __name__ == "__main__":
    main()
