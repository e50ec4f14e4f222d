"""Prometheus metrics, collected from every process (API and Celery workers).

prometheus-client runs in multiprocess mode: each process writes its counters to mmap files
in ``<settings.resolved_metrics_dir>/<hostname>/`` (``PROMETHEUS_MULTIPROC_DIR``), and
``/metrics`` on the API sums the files of every process and every host directory under the
base (:func:`render`). A decision counted by a worker therefore shows up on the API's
``/metrics``: on one machine (``moderation serve``, or ``api`` + ``worker``), and across
containers that share the data volume (one subdirectory per container hostname, so process
ids from different PID namespaces never collide). Hosts that share no volume serve their
own files with ``moderation metrics serve --port``.

The first process to use a metric creates its directory (:func:`configure`). Files of
processes that have exited are kept, so a counter never goes down while the deployment runs
(a recycled worker process or a restarted API does not make totals drop); a new process that
reuses an old pid continues that file's counts. :func:`reset` empties the directory; it is
meant for the start of everything (``moderation serve``, or ``moderation metrics reset``
while the services are stopped), when Prometheus sees an ordinary counter reset.

Other engineers record through the helpers: :func:`record_moderator_action`,
:func:`record_job_run`; the pipeline and the API use :func:`record_received`,
:func:`record_decision`.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moderation.settings import Settings, get_settings

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 86400.0)


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        # registry=None: the files are the registry; /metrics reads them with a collector.
        self.received: Counter = Counter(
            "moderation_comments_received", "Comments stored and queued for moderation.", registry=None
        )
        self.decided: Counter = Counter(
            "moderation_comments_decided",
            "Comments decided, by source, decision and category (one increment per category).",
            ["source", "decision", "category"],
            registry=None,
        )
        self.latency: Histogram = Histogram(
            "moderation_decision_latency_seconds",
            "Time from submission to the pipeline's decision.",
            buckets=LATENCY_BUCKETS,
            registry=None,
        )
        self.moderator_actions: Counter = Counter(
            "moderation_moderator_actions", "Moderator actions, by action.", ["action"], registry=None
        )
        self.job_runs: Counter = Counter(
            "moderation_job_runs",
            "Scheduled job runs, by job and outcome.",
            ["job", "outcome"],
            registry=None,
        )
        self.webhook_deliveries: Counter = Counter(
            "moderation_webhook_deliveries",
            "Webhook delivery attempts, by event and outcome.",
            ["event", "outcome"],
            registry=None,
        )
        self.akismet_checks: Counter = Counter(
            "moderation_akismet_requests",
            "Akismet-compatible API requests, by operation and result.",
            ["operation", "result"],
            registry=None,
        )


_state: dict[str, Any] = {}


def configure(settings: Settings | None = None) -> Path:
    """Point this process at the multiprocess directory (once; the first call wins)."""
    if "dir" in _state:
        directory: Path = _state["dir"]
        return directory
    directory = host_dir((settings or get_settings()).resolved_metrics_dir)
    directory.mkdir(parents=True, exist_ok=True)
    # Written, not read, here: prometheus-client reads the variable (settings stays the reader).
    os.environ[ENV] = str(directory)
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        # prometheus_client was imported before the variable was set: switch it now,
        # before any metric exists.
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _state["dir"] = directory
    return directory


def reset(settings: Settings | None = None) -> int:
    """Delete this host's metric files (call only while no process of this host writes them)."""
    directory = host_dir((settings or get_settings()).resolved_metrics_dir)
    removed = 0
    for path in directory.glob("*.db"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def host_dir(base: Path) -> Path:
    """This host's subdirectory: process ids are only unique within one host (or container)."""
    return base / (re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host")


def _metrics() -> _Metrics:
    metrics: _Metrics | None = _state.get("metrics")
    if metrics is None:
        configure()
        metrics = _state["metrics"] = _Metrics()
    return metrics


# --- recording helpers (cheap; safe to call from any process) -------------------------------


def record_received() -> None:
    _metrics().received.inc()


def record_decision(
    *,
    source: str,
    decision: str,
    categories: Iterable[str],
    submitted_at: datetime | None = None,
    decided_at: datetime | None = None,
) -> None:
    metrics = _metrics()
    for category in list(categories) or ["none"]:
        metrics.decided.labels(source, decision, category).inc()
    if submitted_at is not None and decided_at is not None:
        metrics.latency.observe(max(0.0, (decided_at - submitted_at).total_seconds()))


def record_moderator_action(action: str) -> None:
    """Count one moderator action (``approve``, ``reject``, ``flag``, ``label``...)."""
    _metrics().moderator_actions.labels(action).inc()


def record_job_run(name: str, ok: bool) -> None:
    """Count one run of a scheduled job; ``ok=False`` counts it as a failure."""
    _metrics().job_runs.labels(name, "ok" if ok else "failed").inc()


def record_webhook_delivery(event: str, ok: bool) -> None:
    _metrics().webhook_deliveries.labels(event, "ok" if ok else "failed").inc()


def record_akismet(operation: str, result: str) -> None:
    _metrics().akismet_checks.labels(operation, result).inc()


def counting_publish(publish: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wrap the API's after-commit ``publish``: each call is one comment received."""
    import logging

    log = logging.getLogger("moderation.api")

    def wrapped(comment_id: Any) -> None:
        record_received()
        log.info("comment accepted", extra={"comment_id": str(comment_id)})
        publish(comment_id)

    return wrapped


# --- exposition -----------------------------------------------------------------------------


QueueProbe = Callable[[], Iterator[tuple[str, dict[str, str], float]]]


def render(base: Path, probes: Iterable[QueueProbe] = ()) -> tuple[bytes, str]:
    """Every process's metrics from every host directory under ``base``, plus gauges read now."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import Collector

    class _Probes(Collector):
        def collect(self) -> Iterator[GaugeMetricFamily]:
            families: dict[str, GaugeMetricFamily] = {}
            for probe in probes:
                for name, labels, value in probe():
                    family = families.get(name)
                    if family is None:
                        family = families[name] = GaugeMetricFamily(
                            name, _GAUGE_HELP.get(name, name), labels=sorted(labels)
                        )
                    family.add_metric([labels[k] for k in sorted(labels)], value)
            yield from families.values()

    class _Files(Collector):
        def collect(self) -> Iterator[Any]:
            files = [str(p) for p in sorted(base.glob("*/*.db"))]
            yield from MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call]

    registry = CollectorRegistry()
    registry.register(_Files())
    registry.register(_Probes())
    return generate_latest(registry), CONTENT_TYPE_LATEST


_GAUGE_HELP = {
    "moderation_comments_pending": "Comments waiting for a decision, by priority (read from the database).",
    "moderation_queue_length": "Messages waiting in the broker queue (Redis only).",
}


def exporter(settings: Settings, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering ``GET /metrics`` with this host's files (not started).

    ``moderation metrics serve`` runs it in the foreground; a worker command can run it in a
    daemon thread: ``threading.Thread(target=exporter(...).serve_forever, daemon=True).start()``.
    """
    configure(settings)
    base = settings.resolved_metrics_dir

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body, content_type = render(base)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)
