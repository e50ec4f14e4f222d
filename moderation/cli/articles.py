"""``moderation articles``: the articles readers can comment on."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.articles import policy as article_policy
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


def _parse_assignment(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"expected key=value, got {item!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw  # plain strings need no quotes: mild_profanity=censor
    if key.strip() == "disabled_checks" and isinstance(value, str):
        value = [v for v in value.split(",") if v]
    return key.strip(), value


def _show(article: Article) -> None:
    from moderation.review.pipeline import get_pipeline

    typer.echo(f"{article.slug}  policy version {article.policy_version}")
    overrides = article.policy or {}
    for key, value in article_policy.effective(article, get_pipeline().config).items():
        if key == "version":
            continue
        marker = "*" if key in overrides else " "
        typer.echo(f" {marker} {key} = {json.dumps(value)}")
    typer.echo("(* = set for this article; the rest are the defaults)")


def _load(session: Session, slug: str) -> Article:
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        typer.echo(f"error: no article {slug!r}", err=True)
        raise typer.Exit(1)
    return article


@app.command("show")
def show(slug: Annotated[str, typer.Argument(help="Article slug.")]) -> None:
    """Print an article and the moderation policy in force for it."""
    with session_scope() as session:
        article = _load(session, slug)
        typer.echo(f"{article.title}\n{article.summary}\n")
        _show(article)


@app.command("policy")
def policy(
    slug: Annotated[str, typer.Argument(help="Article slug.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help='key=value (JSON values: true, 0.8, "2026-12-31T00:00:00Z").'),
    ] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="Key to reset to the default.")] = None,
) -> None:
    """Show an article's policy, or change it with --set/--unset (each change bumps its version).

    Keys: spam_flag_threshold, spam_reject_threshold, abuse_flag_threshold, auto_reject_spam,
    mild_profanity (flag|censor), premoderate, disabled_checks, closes_at, max_length.
    """
    changes = dict(_parse_assignment(item) for item in set_ or [])
    with session_scope() as session:
        article = _load(session, slug)
        if not changes and not unset:
            _show(article)
            return
        try:
            changed = article_policy.update_policy(
                session=session, article=article, changes=changes, unset=tuple(unset or ())
            )
        except article_policy.PolicyError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo("policy updated" if changed else "policy unchanged")
        _show(article)
