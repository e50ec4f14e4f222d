"""The `moderation` command line, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO


def run_cli(*args: str, stdin: str = "", env=None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
    )


def test_check_prints_one_json_line_per_input_with_spans():
    lines = [
        {"text": "buy cheap pills at http://x.example http://y.example", "id": "spam"},
        {"text": "My clinic monitored my blood pressure; it helped.", "id": "ok"},
        {"text": "no id here"},
    ]
    result = run_cli("check", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["spam", "ok", 3]
    spam = out[0]
    assert spam["decision"] in ("flagged", "rejected")
    assert spam["reasons"]
    text = lines[0]["text"]
    for reason in spam["reasons"]:
        assert set(reason) >= {"code", "span", "detail"}
        if reason["span"] is not None:
            start, end = reason["span"]
            assert 0 <= start < end <= len(text)
    assert out[1]["decision"] == "approved"
    for o in out:
        assert o["priority"] in ("urgent", "high", "normal", "low")


def test_check_reports_bad_lines_and_keeps_going(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "fine"}\nnot json\n{"nope": 1}\n{"text": "also fine"}\n')
    result = run_cli("check", str(path))
    assert result.returncode == 2
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert "error" in out[1]
    assert "error" in out[2]
    assert out[3]["decision"] == "approved"


def test_articles_add_and_list(sqlite_backend):
    env = sqlite_backend.env()
    assert run_cli("articles", "add", "second-article", "--title", "Second", env=env).returncode == 0
    again = run_cli("articles", "add", "second-article", "--title", "Second", env=env)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    listing = run_cli("articles", "list", env=env)
    assert "ketamine-infusion-therapy" in listing.stdout
    assert "second-article" in listing.stdout
