"""``moderation metrics serve``: expose this host's worker metrics on a port (multi-host setups)."""

from __future__ import annotations

from typing import Annotated

import typer

from moderation import metrics
from moderation.settings import get_settings

app = typer.Typer(help="Prometheus metrics.", no_args_is_help=True)


@app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="TCP port for /metrics.")] = 9808,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "0.0.0.0",  # noqa: S104 (scraped)
) -> None:
    """Serve the metrics that this host's processes (workers) write, for Prometheus to scrape.

    Run one on each worker host that has no API process; on a host with the API, its
    /metrics already includes them.
    """
    settings = get_settings()
    server = metrics.exporter(settings, host, port)
    typer.echo(f"serving the metrics under {settings.resolved_metrics_dir} on http://{host}:{port}/metrics")
    server.serve_forever()


@app.command("reset")
def reset() -> None:
    """Delete this host's metric files; run it while the API and workers of this host are stopped."""
    removed = metrics.reset(get_settings())
    typer.echo(f"removed {removed} metric files")
