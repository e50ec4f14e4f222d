"""``moderation articles``: the articles readers can comment on."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from moderation.db import session_scope
from moderation.models import Article

app = typer.Typer(help="Manage articles.", no_args_is_help=True)


@app.command("add")
def add(
    slug: Annotated[str, typer.Argument(help="URL slug, e.g. ketamine-infusion-therapy.")],
    title: Annotated[str, typer.Option(help="Article title.")],
    summary: Annotated[str, typer.Option(help="Short summary.")] = "",
) -> None:
    """Add an article."""
    try:
        with session_scope() as session:
            session.add(Article(slug=slug, title=title, summary=summary))
    except IntegrityError:
        typer.echo(f"error: article {slug!r} already exists", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added {slug}")


@app.command("list")
def list_() -> None:
    """List articles."""
    with session_scope() as session:
        for article in session.scalars(select(Article).order_by(Article.id)):
            typer.echo(f"{article.slug}\t{article.title}")
