"""``moderation metrics serve``: expose this host's worker metrics on a port (multi-host setups)."""

from __future__ import annotations

import time
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
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    directory = metrics.configure(get_settings())
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
    typer.echo(f"serving {directory} on http://{host}:{port}/metrics")
    while True:
        time.sleep(3600)
