"""``moderation moderators``: accounts for the review page and the moderator API."""

from __future__ import annotations

from typing import Annotated

import typer

from moderation.accounts import service
from moderation.accounts.models import Role
from moderation.db import session_scope

app = typer.Typer(help="Manage moderator accounts.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="moderator or admin.")] = Role.MODERATOR,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (at least 10 characters); prompted for when omitted.", show_default=False
        ),
    ] = None,
) -> None:
    """Add a moderator who signs in to /moderate with a password."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            service.create_moderator(session=session, name=name, role=role, password=password)
    except service.AccountError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"added {role.value} {name}; sign in at /moderate/login")


@app.command("list")
def list_() -> None:
    """List moderators."""
    with session_scope() as session:
        for m in service.list_moderators(session=session):
            state = "disabled" if m.disabled else "active"
            last = m.last_login_at.isoformat(timespec="seconds") if m.last_login_at else "never"
            typer.echo(f"{m.name}\t{m.role.value}\t{state}\tlast login: {last}")


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a moderator: their sessions and claims end now, their API tokens stop working."""
    with session_scope() as session:
        moderator = service.get_moderator(session=session, name=name)
        if moderator is None:
            raise _fail(f"no moderator named {name!r}")
        service.set_disabled(session=session, moderator=moderator, disabled=True)
    typer.echo(f"disabled {name}")


@app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Enable a disabled moderator again."""
    with session_scope() as session:
        moderator = service.get_moderator(session=session, name=name)
        if moderator is None:
            raise _fail(f"no moderator named {name!r}")
        service.set_disabled(session=session, moderator=moderator, disabled=False)
    typer.echo(f"enabled {name}")


@app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="Login name.")],
    revoke_others: Annotated[bool, typer.Option(help="Revoke this moderator's earlier tokens.")] = False,
) -> None:
    """Print a new API token for NAME. It is shown once and stored only as a hash."""
    with session_scope() as session:
        moderator = service.get_moderator(session=session, name=name)
        if moderator is None:
            raise _fail(f"no moderator named {name!r}")
        if moderator.disabled:
            raise _fail(f"{name} is disabled")
        if revoke_others:
            service.revoke_tokens(session=session, moderator=moderator)
        secret = service.issue_token(session=session, moderator=moderator)
    typer.echo(secret)
    typer.echo(
        "Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <token>'.", err=True
    )
