"""lambda-slim: the smallest AWS Lambda deployment package for a Python project that still works.

The Python API: `build`, `verify`, `analyze` and `check`, each with a frozen options object whose fields are the
command's options (`None`: not given, [tool.slim] or the default applies), each returning a typed result. Nothing
prints or exits: every failure is a `SlimError`, whose subclasses name the stage that failed.
"""

import logging

from ._version import __version__
from .analyze import AnalyzeReport as Analysis
from .api import AnalyzeOptions, BuildOptions, CheckOptions, VerifyOptions, analyze, build, check, verify
from .archive import Artifact
from .budget import CheckResult, OverLambdaLimits
from .errors import (
    ArchiveError,
    CannotRunTarget,
    CompileError,
    ConfigError,
    InstallError,
    ProjectError,
    ResolveError,
    SlimError,
    StripError,
    TargetError,
    ToolError,
    VerifyError,
)
from .layers import LayerError
from .progress import Reporter
from .report import BuildReport
from .resolve import SdistOnly
from .verify import VerifyReport as VerifyResult
from .zipread import ArchiveError as ZipReadError

# A library configures no logging: without a handler of the application's, its warnings (also in the results) are
# not written to stderr by logging's last resort. The CLI configures the root logger.
logging.getLogger("lambda_slim").addHandler(logging.NullHandler())

__all__ = [
    "Analysis",
    "AnalyzeOptions",
    "ArchiveError",
    "Artifact",
    "BuildOptions",
    "BuildReport",
    "CannotRunTarget",
    "CheckOptions",
    "CheckResult",
    "CompileError",
    "ConfigError",
    "InstallError",
    "LayerError",
    "OverLambdaLimits",
    "ProjectError",
    "Reporter",
    "ResolveError",
    "SdistOnly",
    "SlimError",
    "StripError",
    "TargetError",
    "ToolError",
    "VerifyError",
    "VerifyOptions",
    "VerifyResult",
    "ZipReadError",
    "__version__",
    "analyze",
    "build",
    "check",
    "verify",
]
