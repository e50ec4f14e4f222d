"""``moderation webhooks``: register endpoints that receive signed decision events."""

from __future__ import annotations

from typing import Annotated

import typer

from moderation.db import session_scope
from moderation.webhooks import service
from moderation.webhooks.service import EVENTS

app = typer.Typer(help="Manage webhook endpoints.", no_args_is_help=True)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The receiver's URL (http or https).")],
    events: Annotated[
        str, typer.Option(help=f"Comma-separated events; default all: {','.join(EVENTS)}.")
    ] = "",
    description: Annotated[str, typer.Option(help="A note for operators.")] = "",
) -> None:
    """Register an endpoint; prints its signing secret (shown only this once)."""
    try:
        with session_scope() as session:
            endpoint = service.add_endpoint(
                session=session, url=url, events=events.split(","), description=description
            )
            endpoint_id, secret, chosen = endpoint.id, endpoint.secret, endpoint.events
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"added webhook {endpoint_id}: {url}\n  events: {', '.join(chosen)}\n  secret: {secret}")
    typer.echo("Verify X-Moderation-Signature (t=<unix>,v1=HMAC-SHA256(secret, f'{t}.{body}')).")


@app.command("list")
def list_() -> None:
    """List endpoints and their last delivery attempt."""
    with session_scope() as session:
        for endpoint in service.list_endpoints(session=session):
            last = service.recent_deliveries(session=session, endpoint_id=endpoint.id, limit=1)
            state = "active" if endpoint.active else "inactive"
            summary = "never delivered"
            if last:
                d = last[0]
                summary = (
                    f"last {d.event} attempt {d.attempt}: {d.status_code or d.error} at {d.created_at:%F %T}"
                )
            typer.echo(f"{endpoint.id}\t{state}\t{endpoint.url}\t{','.join(endpoint.events)}\t{summary}")


@app.command("log")
def log(
    endpoint_id: Annotated[int, typer.Argument(help="Endpoint id (see `list`).")],
    limit: Annotated[int, typer.Option(help="How many attempts.")] = 20,
) -> None:
    """Show the last delivery attempts to one endpoint, newest first."""
    with session_scope() as session:
        for d in service.recent_deliveries(session=session, endpoint_id=endpoint_id, limit=limit):
            outcome = str(d.status_code) if d.status_code else "-"
            typer.echo(
                f"{d.created_at:%F %T}\t{d.event}\t{d.event_id}\tattempt {d.attempt}\t"
                f"{outcome}\t{d.error or ''}"
            )


@app.command("remove")
def remove(endpoint_id: Annotated[int, typer.Argument(help="Endpoint id (see `list`).")]) -> None:
    """Remove an endpoint and its delivery log."""
    with session_scope() as session:
        removed = service.remove_endpoint(session=session, endpoint_id=endpoint_id)
    if not removed:
        typer.echo(f"error: no webhook {endpoint_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed webhook {endpoint_id}")
