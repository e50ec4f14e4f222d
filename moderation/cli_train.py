"""``moderation train``: rebuild, evaluate and promote the spam and abuse models.

Registered by ``moderation.cli`` as ``moderation train``; also runnable as
``python3 -m moderation.cli_train --report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from moderation.learning import data as datasets
from moderation.learning.loader import PACKAGE_MODELS_DIR

app = typer.Typer(add_completion=False)
DEFAULT_DATA_DIR = datasets.default_data_dir()


def _print_report(data_dir: Path, models_dir: Path) -> None:
    from moderation.learning.loader import model_path
    from moderation.learning.model import LinearTextModel
    from moderation.learning.train import evaluate

    spam = LinearTextModel.load(model_path("spam", models_dir))
    abuse = LinearTextModel.load(model_path("abuse", models_dir))
    shakira = datasets.spam_held_out(data_dir)
    _, held_out = datasets.davidson_split(data_dir)
    s, a = evaluate(spam, shakira), evaluate(abuse, held_out)
    typer.echo(f"spam  {spam.version}: Youtube05-Shakira (n={s.n}) accuracy {s.accuracy:.4f} F1 {s.f1:.4f}")
    typer.echo(f"abuse {abuse.version}: Davidson 20% held-out (n={a.n}) macro-F1 {a.macro_f1:.4f}")
    # The checks run each model at the threshold set on this site's own comments; the same
    # held-out sets at that operating point:
    s2, a2 = evaluate(spam, shakira, spam.threshold), evaluate(abuse, held_out, abuse.threshold)
    typer.echo(
        f"  at the site thresholds (spam p>={spam.threshold}, abuse p>={abuse.threshold}): "
        f"Shakira accuracy {s2.accuracy:.4f} F1 {s2.f1:.4f}; Davidson macro-F1 {a2.macro_f1:.4f}"
    )


def train_command(
    report_only: Annotated[
        bool, typer.Option("--report", help="Only print the held-out figures of the current models.")
    ] = False,
    output: Annotated[
        Path, typer.Option(help="Directory the promoted models are written to.")
    ] = PACKAGE_MODELS_DIR,
    data_dir: Annotated[Path, typer.Option(help="The shared labelled corpora.")] = DEFAULT_DATA_DIR,
    with_labels: Annotated[
        bool, typer.Option("--with-labels", help="Add the moderator labels from the database.")
    ] = False,
    date: Annotated[
        str, typer.Option(help="Version date YYYY.MM.DD (default today); fix it to reproduce.")
    ] = "",
) -> None:
    """Train on the shared data (plus moderator labels) and promote models that are not worse."""
    if not datasets.has_shared_data(data_dir):
        typer.echo(f"no shared data at {data_dir}", err=True)
        raise typer.Exit(2)
    if report_only:
        _print_report(data_dir, output)
        return
    from moderation.learning.pinned import train_pinned

    labels: list[tuple[str, str]] = []
    if with_labels:
        from moderation.db import session_scope
        from moderation.learning.store import iter_labels

        with session_scope() as session:
            labels = list(iter_labels(session=session))
    # In a fresh interpreter with pinned floating-point kernels: the same bytes on any machine.
    for m in train_pinned(data_dir=data_dir, output=output, labels=labels, date=date or None):
        verdict = "promoted" if m["promoted"] else "kept current"
        typer.echo(
            f"{m['kind']}: candidate {m['candidate_version']} {m['held_out']} {m['candidate']}; "
            f"current {m['current_version']} {m['current']}; {verdict}"
        )
