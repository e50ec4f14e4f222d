"""``moderation check``: run the worker's pipeline over JSON lines, no database or broker."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from moderation.filters.types import CommentInput
from moderation.review.pipeline import Pipeline, get_pipeline
from moderation.review.policy import Verdict


def verdict_json(ident: Any, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": ident,
        "decision": verdict.decision.value,
        "priority": verdict.priority.value,
        "categories": [c.value for c in verdict.categories],
        "reasons": [
            {
                "code": r.code.value,
                "span": list(r.span) if r.span is not None else None,
                "detail": r.detail,
                "rule_id": r.rule_id,
            }
            for r in verdict.reasons
        ],
    }


def check_lines(lines: Iterable[str], pipeline: Pipeline) -> Iterator[dict[str, Any]]:
    """One output object per non-blank input line, in order; bad lines get an ``error``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('expected an object with a string "text"')
        except ValueError as exc:
            yield {"id": None, "line": number, "error": str(exc)}
            continue
        ident = item.get("id", number)
        yield verdict_json(ident, pipeline.run(CommentInput(text=item["text"])))


def check_command(
    file: Annotated[
        Path | None, typer.Argument(help="JSON lines file; standard input when omitted or '-'.")
    ] = None,
) -> None:
    """Check comments given as JSON lines {"text": ..., "id": ...}; print one JSON verdict per line."""
    pipeline = get_pipeline()
    errors = 0
    source: contextlib.AbstractContextManager[TextIO] = (
        open(file, encoding="utf-8")  # noqa: SIM115 (closed by the with below)
        if file and str(file) != "-"
        else contextlib.nullcontext(sys.stdin)
    )
    with source as stream:
        for result in check_lines(stream, pipeline):
            errors += "error" in result
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    if errors:
        raise typer.Exit(code=2)
