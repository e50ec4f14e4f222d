"""The README is the front door: keep its configuration table and Quickstart true."""

from __future__ import annotations

import re

from moderation.settings import Settings
from tests.helpers import REPO

README = (REPO / "README.md").read_text()


def test_every_setting_is_documented():
    for name in Settings.model_fields:
        assert f"`MODERATION_{name.upper()}`" in README, f"MODERATION_{name.upper()} missing from README"


def test_quickstart_has_exactly_two_commands():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quickstart, re.S)
    assert len(blocks) == 2
    assert all(len(b.strip().splitlines()) == 1 for b in blocks)
    assert "moderation serve" in blocks[0]
    assert ".ci/run" in blocks[1]


def test_ci_runs_the_readme_test_command():
    found = re.search(r"the test command is:\n\n```sh\n(.*?)\n```", README)
    assert found, "the README names no test command"
    command = found.group(1)
    ci = (REPO / ".ci" / "run").read_text()
    assert command.replace("python ", ".venv/bin/python ") in ci
