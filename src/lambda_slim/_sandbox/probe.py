"""Runs inside the sandbox interpreter: imports the modules and the handler's module as Lambda would, invokes the
handler on the event, and writes what happened to a JSON file, so whatever the handler prints cannot spoil it.

runner.probe runs this file by path under `-I -S -B`, with one argument: the request as JSON. -I keeps this
file's directory off sys.path, so no module of lambda-slim can shadow one of the app's. It runs on the target's
Python (3.9 and up), where lambda-slim is not installed: standard library only, and 3.9 syntax (ruff checks it
as py39). It imports nothing at module level beyond what it needs, since every module it imports is one the
app then finds already imported; it adds no `from __future__ import` for the same reason (that imports a module).
"""

import contextlib
import difflib
import importlib
import importlib.util
import json
import os
import pkgutil
import resource
import sys
import time
import traceback

# typing is for the type checker only (annotations that name it are quoted): on 3.10 nothing else here imports
# it, and the app would find it imported.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional


def app_frames(summary: "Optional[traceback.TracebackException]") -> None:
    """Keep only the app's frames: this file's and the import machinery's say nothing about the app."""
    if summary is None:
        return
    summary.stack = traceback.StackSummary.from_list(
        [
            frame
            for frame in summary.stack
            if frame.filename != __file__
            and not frame.filename.startswith("<frozen importlib")
            and frame.filename != importlib.__file__
        ]
    )
    app_frames(summary.__cause__)
    app_frames(summary.__context__)


def failure(error: BaseException) -> str:
    """The last lines of the error's traceback, with the app's frames only."""
    summary = traceback.TracebackException(type(error), error, error.__traceback__)
    app_frames(summary)
    lines = "".join(summary.format()).strip().splitlines()
    return "\n".join(lines[-12:])


def suggestion(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def find_handler(handler: str, path: list[str]) -> "tuple[Optional[Callable[..., Any]], Optional[str]]":
    """The handler's function, or None and what is not there (a module, a function). `path` is where the app's
    top-level modules are, for a suggestion."""
    module_name, _, function_name = handler.rpartition(".")
    module_name = module_name.replace("/", ".")  # as Lambda's runtime reads path/module.function
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
            raise  # a module the handler's module imports is missing: the app's own failure
        tops = [] if "." in exc.name else [found.name for found in pkgutil.iter_modules(path)]
        return None, f"no module named {exc.name!r}" + suggestion(exc.name, tops)
    if not hasattr(module, function_name) or not callable(getattr(module, function_name)):
        functions = [name for name, value in vars(module).items() if callable(value) and not name.startswith("_")]
        what = "attribute" if not hasattr(module, function_name) else "function (it is not callable)"
        missing = f"module {module_name!r} has no {what} {function_name!r}"
        return None, missing + suggestion(function_name, functions)
    function: Callable[..., Any] = getattr(module, function_name)
    return function, None


class Context:
    """What Lambda passes a handler as its second argument."""

    function_name = "slim-verify"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:slim-verify"
    log_group_name = "/aws/lambda/slim-verify"
    log_stream_name = "slim-verify"

    def __init__(self, memory_limit_in_mb: int, aws_request_id: str) -> None:
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return 900000


def by_import_system() -> bool:
    """Whether the import system, not the app's code, made the call the audit hook is judging.

    The import system lists every directory it imports from: that is not the code looking for files. Frame 2
    called os.listdir (0 is this function, 1 the hook); code a module runs at import is not the import system.
    """
    return sys._getframe(2).f_code.co_filename.startswith("<frozen importlib")


def trace(touched: set[str], listed: set[str], dynamic: set[str]) -> None:
    """From now on, add every file the run opens to `touched`, every directory it lists to `listed` and every
    module it imports by a computed name to `dynamic`, by the interpreter's own audit events."""
    # importlib.import_module is how code imports by a computed name; it raises no audit event of its own.
    import_module = importlib.import_module

    def traced_import_module(name: str, package: "Optional[str]" = None) -> "Any":
        with contextlib.suppress(ImportError, ValueError, TypeError, AttributeError):
            dynamic.add(importlib.util.resolve_name(name, package) if name.startswith(".") else name)
        return import_module(name, package)

    importlib.import_module = traced_import_module

    def audit(event: str, event_args: "tuple[Any, ...]") -> None:
        if event == "open" or event in ("os.listdir", "os.scandir"):
            target: Any = event_args[0] if event_args else None
            if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
                path = os.path.abspath(os.fsdecode(target))
                if event == "open":
                    touched.add(path)
                elif not by_import_system():  # called here, so that frame 2 is still the caller of os.listdir
                    listed.add(path)

    sys.addaudithook(audit)


def called_modules(called: set[str]) -> None:
    """From now on, add to `called` the module of every function the run calls: its Python functions' by their
    globals' __name__ (right for sourceless pycs too, whose file names are the build machine's), C functions' by
    their __module__. What the import profile calls "used"."""

    def hook(frame: "Any", event: str, arg: "Any") -> None:
        if event == "call":
            called.add(frame.f_globals.get("__name__") or "")
        elif event == "c_call":
            module = getattr(arg, "__module__", None)
            if not isinstance(module, str):
                module = getattr(type(getattr(arg, "__self__", None)), "__module__", None)
            if isinstance(module, str):
                called.add(module)

    sys.setprofile(hook)
    import threading  # only now: the handler's own import must find it as Lambda would, not imported by us

    threading.setprofile(hook)


def timed_import_module() -> None:
    """importlib.import_module imports in Python, past the C import that -X importtime times: the modules a package
    imports by computed name (pydantic's lazy attributes) would get no line, and theirs would hang on the wrong
    parent. Through __import__ they get theirs, and the same module comes back."""

    def import_module(name: str, package: "Optional[str]" = None) -> "Any":
        resolved = importlib.util.resolve_name(name, package) if name.startswith(".") else name
        __import__(resolved)
        return sys.modules[resolved]

    importlib.import_module = import_module


# The reference workload: what importing does (compile, then run module bodies that define classes and functions,
# call a few of them, fill a dict), on code that imports nothing, so the app's import finds the interpreter as it
# was. Timed in the processes that time the import, it says how fast this machine runs Python: the cold-start
# model scales the fastest import by the fastest of these (docs/coldstart.md#the-host-factor).
REFERENCE_SOURCE = "".join(
    f"class C{i}:\n"
    f"    x = {i}\n"
    "    def __init__(self, a, b=2, *c, **d):\n"
    "        self.a = a\n"
    f"        self.b = b + {i}\n"
    "    def m(self, y):\n"
    "        return [k * y for k in range(self.b) if k % 3] + list({'k': y}.items())\n"
    "    @property\n"
    "    def p(self):\n"
    "        return self.a, self.b\n"
    f"def f{i}(a, b, c=None):\n"
    "    if a > b:\n"
    "        return {'a': a, 'b': (b, c)}\n"
    "    for q in range(a):\n"
    "        b += q\n"
    "    return b\n"
    for i in range(60)
)


def reference_ms() -> float:
    """Milliseconds this process takes to run the reference workload."""
    start = time.perf_counter()
    code = compile(REFERENCE_SOURCE, "<slim-reference>", "exec")
    for _ in range(12):
        namespace: dict[str, Any] = {"__name__": "slim_reference"}
        exec(code, namespace)
        for i in range(0, 60, 3):
            namespace[f"C{i}"](i, 5).m(3)
            namespace[f"f{i}"](40, 3)
    counts: dict[int, int] = {}
    for i in range(100000):
        counts[i % 997] = counts.get(i % 997, 0) + i
    return (time.perf_counter() - start) * 1000


def mark(text: str) -> None:
    """A line on stderr, written past any sys.stderr the app may replace: it frames the lines -X importtime writes
    there for the handler's import."""
    os.write(2, ("\nslim-probe: " + text + "\n").encode())


def main(request: str) -> None:
    started = time.perf_counter()
    args = json.loads(request)
    sys.path[:0] = args["path"]
    result: dict[str, Any] = {
        "init_ms": None,
        "duration_ms": None,
        "modules": {},
        "error": None,
        "result": None,
        "missing": None,
        "reference_ms": None,
    }
    if args.get("reference"):
        result["reference_ms"] = reference_ms()
        started = time.perf_counter()  # the modules' import time starts after the reference's
    touched: set[str] = set()
    listed: set[str] = set()
    dynamic: set[str] = set()
    if args.get("trace"):
        trace(touched, listed, dynamic)
    try:
        for name in args["modules"]:
            try:
                importlib.import_module(name)
                result["modules"][name] = None
            except BaseException as exc:
                result["modules"][name] = failure(exc)
        if args["handler"]:
            before = set(sys.modules)
            if args.get("importtime"):
                timed_import_module()
                mark("handler import begins")
                # importlib.import_module imports in Python, past the C import that -X importtime times: an import
                # statement's way first, so the handler's module gets its line. find_handler then finds it imported
                # (or fails the same way again, and says why).
                with contextlib.suppress(BaseException):
                    __import__(args["handler"].rpartition(".")[0].replace("/", "."))
            t0 = time.perf_counter()
            function, result["missing"] = find_handler(args["handler"], args["path"])
            result["init_ms"] = (time.perf_counter() - t0) * 1000
            if args.get("importtime"):
                mark("handler import ends")
                # Where each module the handler's import brought in lives, to say which distribution owns it.
                result["module_files"] = {
                    name: getattr(sys.modules[name], "__file__", None) for name in set(sys.modules) - before
                }
            called: set[str] = set()
            if args.get("calls") and function is not None:
                called_modules(called)
            if function is None:
                result["error"] = result["missing"]
            elif args["event"] is not None:
                t1 = time.perf_counter()
                value = function(args["event"], Context(args["memory"], args["request_id"]))
                result["duration_ms"] = (time.perf_counter() - t1) * 1000
                sys.setprofile(None)
                result["called"] = sorted(called)
                result["result"] = json.loads(json.dumps(value))
        elif args["modules"]:
            result["init_ms"] = (time.perf_counter() - started) * 1000
    except BaseException as exc:
        result["error"] = failure(exc)
    result["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.get("trace"):
        for module in list(sys.modules.values()):
            for attribute in ("__file__", "__cached__"):
                found = getattr(module, attribute, None)
                if isinstance(found, str):
                    touched.add(os.path.abspath(found))
        with open("/proc/self/maps") as maps:  # shared libraries the loader mapped, dependencies included
            touched.update(line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6)
        # This file is __main__'s, and tracebacks read it: it is the sandbox's, not a file the app touched.
        touched.discard(os.path.abspath(__file__))
        result["touched"], result["listed"], result["dynamic"] = sorted(touched), sorted(listed), sorted(dynamic)
    with open(args["out"], "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(sys.argv[1])
