"""The examples README points to stay valid."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_sam_template_passes_cfn_lint() -> None:
    cfn_lint = shutil.which("cfn-lint")
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed (pip install cfn-lint)")
    done = subprocess.run([cfn_lint, str(EXAMPLES / "layers" / "template.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
