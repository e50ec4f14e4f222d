"""``moderation eval FILE``: score the pipeline on a labeled corpus.

Registered in :mod:`moderation.cli` as ``app.command("eval")(eval_command)``; also runnable
alone as ``python3 -m moderation.cli_eval tests/data/comments.jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from moderation.evaluation import SPLITS, evaluate, format_report, load_corpus, only_checks, parse_floors


def eval_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Labeled JSON Lines corpus.")],
    min_recall: Annotated[
        list[str] | None,
        typer.Option("--min-recall", help="LABEL=X: exit non-zero if LABEL's recall on --split is below X."),
    ] = None,
    split: Annotated[
        str, typer.Option(help="Split the floors apply to and whose errors are listed.")
    ] = "measure",
    obfuscation: Annotated[bool, typer.Option(help="Also run the obfuscation pass.")] = True,
    seed: Annotated[int, typer.Option(help="Seed for the obfuscation pass.")] = 1,
    limit: Annotated[int, typer.Option(help="Errors listed per kind.")] = 50,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only these checks (diagnosis; default: the whole pipeline)."),
    ] = None,
) -> None:
    """Run the production pipeline over FILE and print precision, recall, F1, confusion,
    errors, time per comment and the obfuscation pass, per split."""
    from moderation.review.pipeline import get_pipeline

    if split not in SPLITS:
        raise typer.BadParameter(f"split must be one of {', '.join(SPLITS)}", param_hint="--split")
    try:
        floors = parse_floors(min_recall or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--min-recall") from exc
    pipeline = get_pipeline()
    try:
        config = only_checks(pipeline, only) if only else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--only") from exc
    items = load_corpus(file)
    report = evaluate(pipeline, items, obfuscation=obfuscation, seed=seed, config=config)
    typer.echo(format_report(report, split, limit=limit))
    failed = report.floors_failed(floors, split)
    for line in failed:
        typer.echo(f"FAIL: {line}", err=True)
    if failed:
        raise typer.Exit(code=1)


def main() -> None:
    app = typer.Typer(add_completion=False)
    app.command()(eval_command)
    app()


if __name__ == "__main__":
    main()
