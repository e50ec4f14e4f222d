"""Fault injection for the fault tests: a Redis of our own that can be killed and restarted
empty, and a TCP proxy in front of PostgreSQL that can be cut and restored.

Never stop the machine's shared Redis or PostgreSQL: other engineers and the parallel test
run use them. Everything here is started by the test and stopped by it.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session

from moderation.models import Comment, CommentStatus, Decision, DecisionSource
from tests.helpers import wait_for

ARTICLE_URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class OwnRedis:
    """A ``redis-server`` subprocess without persistence: killing it loses every message."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=2)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 (handed to the child)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for(self._answers, timeout=10, what="own redis-server to answer")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing saved (and there is no persistence anyway)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart_empty(self) -> None:
        self.kill()
        self.start()

    def __enter__(self) -> OwnRedis:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.kill()


class TcpProxy:
    """A threaded TCP proxy, ``127.0.0.1:port`` -> ``target``.

    ``cut()`` closes every open connection and the listening socket, so new connections are
    refused at once (as when the database host is down or restarting); ``restore()`` listens
    again on the same port. ``cut_on(pattern)`` cuts everything the first time a client sends
    bytes containing ``pattern`` (before forwarding them): e.g. ``b"COMMIT"`` loses the
    connection exactly between a flushed INSERT and its commit.
    """

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._trigger: bytes | None = None
        self.triggered = threading.Event()
        self.connections = 0

    def start(self) -> TcpProxy:
        self.restore()
        return self

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def cut_on(self, pattern: bytes) -> None:
        self.triggered.clear()
        self._trigger = pattern

    def stop(self) -> None:
        self._trigger = None
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._conns |= {client, upstream}
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                if client.fileno() < 0 or upstream.fileno() < 0:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    trigger = self._trigger
                    if sock is client and trigger is not None and trigger in data:
                        self._trigger = None
                        self.triggered.set()
                        self.cut()
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._conns -= {client, upstream}
            for sock in (client, upstream):
                with suppress(OSError):
                    sock.close()


def proxied_url(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parsed = sa.engine.make_url(url)
    return parsed.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Tally:
    """What happened to a set of accepted comments."""

    accepted: int
    decided: int
    decided_twice: int
    lost: int
    pending: int
    gave_up: int = 0  # flagged by requeue-stuck (processing_failed) instead of decided by the pipeline

    def __str__(self) -> str:
        return (
            f"accepted={self.accepted} decided={self.decided} decided_twice={self.decided_twice} "
            f"lost={self.lost} pending={self.pending} gave_up={self.gave_up}"
        )


def tally(engine: sa.Engine, ids: Iterable[uuid.UUID]) -> Tally:
    """Counts from the database: a comment is decided once it left ``pending``; it is decided
    twice when it has more than one pipeline (or system) decision; it is lost when it was
    accepted but has no row or is still pending (counted at the end of a test)."""
    wanted = set(ids)
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(sa_select(Comment.id, Comment.status).where(Comment.id.in_(wanted))).all()
        )
        per_comment = dict(
            conn.execute(
                sa_select(Decision.comment_id, func.count())
                .where(
                    Decision.comment_id.in_(wanted),
                    Decision.source.in_([DecisionSource.PIPELINE, DecisionSource.SYSTEM]),
                )
                .group_by(Decision.comment_id)
            ).all()
        )
        gave_up = conn.scalar(
            sa_select(func.count(func.distinct(Decision.comment_id))).where(
                Decision.comment_id.in_(wanted), Decision.source == DecisionSource.SYSTEM
            )
        )
    decided = sum(1 for i in wanted if statuses.get(i) not in (None, CommentStatus.PENDING))
    pending = sum(1 for i in wanted if statuses.get(i) is CommentStatus.PENDING)
    return Tally(
        accepted=len(wanted),
        decided=decided,
        decided_twice=sum(1 for n in per_comment.values() if n > 1),
        lost=sum(1 for i in wanted if statuses.get(i) in (None, CommentStatus.PENDING)),
        pending=pending,
        gave_up=int(gave_up or 0),
    )


def wait_all_decided(engine: sa.Engine, ids: list[uuid.UUID], timeout: float, what: str = "") -> Tally:
    def done() -> Tally | None:
        t = tally(engine, ids)
        return t if t.decided == t.accepted else None

    try:
        result = wait_for(done, timeout=timeout, interval=0.5, what=what or "every comment decided")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {tally(engine, ids)}") from None
    if result is None:  # wait_for only returns a truthy value
        raise AssertionError("unreachable")
    return result


def queue_length(client: redis.Redis, queue: str = "moderation") -> int:
    return int(client.llen(queue))


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL a worker and every process it forked (no chance to ack or requeue)."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def create_pending(
    sessions: Callable[[], Session],
    n: int,
    publish: Callable[[uuid.UUID], None] | None,
    prefix: str = "comment",
) -> list[uuid.UUID]:
    """Store ``n`` pending comments through the service (as the API does) in one transaction;
    ``publish`` runs after the commit for each one (``None``: published nowhere, as if the
    broker had lost every message)."""
    from moderation.review import service

    def nowhere(_: uuid.UUID) -> None:
        return None

    ids: list[uuid.UUID] = []
    with sessions() as session, session.begin():
        article = service.get_article(session=session, slug="ketamine-infusion-therapy")
        for i in range(n):
            comment, _ = service.create_comment(
                session=session,
                article=article,
                new=service.NewComment(body=f"{prefix} {i}: thanks, this helped", author_name=f"r{i}"),
                publish=publish or nowhere,
            )
            ids.append(comment.id)
    return ids


def pipeline_decisions(engine: sa.Engine, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa_select(Decision.comment_id, func.count())
            .where(Decision.comment_id.in_(list(ids)), Decision.source == DecisionSource.PIPELINE)
            .group_by(Decision.comment_id)
        ).all()
    return {row[0]: int(row[1]) for row in rows}
