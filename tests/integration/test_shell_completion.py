"""Shell completion as README documents it: each `_SLIM_COMPLETE=<shell>_source slim` line prints that shell's
completion script for `slim`, and the script's completions come from the commands' real options."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

# The console script the README's first command installs, beside this interpreter.
SLIM = Path(sys.executable).parent / "slim"

# What each shell's script registers: the line that ties the completion function to the `slim` command.
REGISTERS = {
    "bash_source": "complete -o nosort -F _slim_completion slim",
    "zsh_source": "compdef _slim_completion slim",
    "fish_source": "complete --no-files --command slim",
}


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SLIM)], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_each_documented_completion_command_prints_its_shells_script() -> None:
    documented = re.findall(r"_SLIM_COMPLETE=(\w+) slim\b", (REPO / "README.md").read_text(encoding="utf-8"))
    assert set(documented) == set(REGISTERS), documented
    for instruction in set(documented):
        done = run({"_SLIM_COMPLETE": instruction})
        assert done.returncode == 0, done.stderr
        assert REGISTERS[instruction] in done.stdout, done.stdout


def test_completion_offers_the_commands_options() -> None:
    # What bash's script asks `slim` for when the user presses tab after `slim check --lo`.
    done = run({"_SLIM_COMPLETE": "bash_complete", "COMP_WORDS": "slim check --lo", "COMP_CWORD": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plain,--locked"]
    done = run({"_SLIM_COMPLETE": "bash_complete", "COMP_WORDS": "slim ch", "COMP_CWORD": "1"})
    assert done.stdout.split() == ["plain,check"]
