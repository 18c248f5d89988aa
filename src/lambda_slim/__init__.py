"""lambda-slim: the smallest AWS Lambda deployment package for a Python project that still works.

The Python API: `build`, `verify`, `analyze`, `check` and `profile`, each with a frozen options object whose fields
are the command's options (`None`: not given, [tool.slim] or the default applies), each returning a typed result.
Nothing prints or exits: every failure is a `SlimError`, whose subclasses name the stage that failed.
"""

import logging

from lambda_slim._analyze.analysis import AnalyzeReport as Analysis
from lambda_slim._api import (
    AnalyzeOptions,
    BuildOptions,
    CheckOptions,
    ProfileOptions,
    VerifyOptions,
    analyze,
    build,
    check,
    profile,
    verify,
)
from lambda_slim._artifacts.archive import Artifact
from lambda_slim._artifacts.layers import LayerError
from lambda_slim._errors import (
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
from lambda_slim._install.resolve import SdistOnly
from lambda_slim._progress import Reporter
from lambda_slim._report.budget import CheckResult, OverLambdaLimits
from lambda_slim._report.build_report import BuildReport
from lambda_slim._sandbox.importprofile import ImportProfile
from lambda_slim._sandbox.verify import VerifyReport as VerifyResult
from lambda_slim._version import __version__

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
    "ImportProfile",
    "InstallError",
    "LayerError",
    "OverLambdaLimits",
    "ProfileOptions",
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
    "__version__",
    "analyze",
    "build",
    "check",
    "profile",
    "verify",
]
