"""Hostile requests: an oversized body is refused before it is read, and input the database
cannot store or the parser cannot read is a 4xx with a JSON error, never a 5xx.

Malformed JSON (400), invalid UTF-8, a wrong content type (415) and Content-Length over
the limit through the test client live in tests/integration/api/test_comments.py; here the
413 is checked on a real socket, where "without reading the whole body" can be observed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from sqlalchemy import func, select

from moderation.api.app import create_app
from moderation.models import Comment
from tests.faults.helpers import free_port
from tests.helpers import wait_for
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


@pytest.fixture
def server(sqlite_backend, published) -> Iterator[int]:
    """A real uvicorn server on a free port (in a thread); yields the port."""
    settings = sqlite_backend.settings()
    app = create_app(settings, celery=make_celery(settings), publish=published.append)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    wait_for(lambda: srv.started, timeout=20, what="uvicorn")
    yield port
    srv.should_exit = True
    thread.join(10)


def read_response(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    return data


def test_huge_content_length_is_413_at_once_without_reading_the_body(server, published):
    """1 GB announced, 10 bytes sent: the answer comes at once, the server never waits for
    (or buffers) the rest, and the connection is closed."""
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        start = time.perf_counter()
        sock.sendall(
            b"POST " + URL.encode() + b" HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n" + b'{"body": "'
        )
        response = read_response(sock, timeout=5)
        elapsed = time.perf_counter() - start
        # The server closed its side: a further read gets EOF (or a reset), not a hang.
        sock.settimeout(5)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(1) == b""
    print(f"\n413 after {elapsed * 1000:.1f} ms")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), response[:300]
    assert json.loads(body)["error"] == "payload_too_large"
    assert elapsed < 1.0
    assert published == []


def test_streamed_body_over_the_limit_is_413_without_a_content_length(server):
    """Chunked transfer: no Content-Length to check, so the limit applies while reading."""
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(
            b"POST " + URL.encode() + b" HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * 16384
        start = time.perf_counter()
        try:
            for _ in range(8):  # 128 KiB, twice the 64 KiB limit
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before we finished: fine
        response = read_response(sock, timeout=5)
        elapsed = time.perf_counter() - start
    assert response.startswith(b"HTTP/1.1 413"), response[:300]
    assert elapsed < 2.0


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"body": "hel\\u0000lo"}', 422),  # NUL: PostgreSQL refuses it in text
        (b'{"body": "ok", "author_name": "a\\u0000b"}', 422),
        (b'{"body": "\\ud800 a lone surrogate"}', 422),  # valid JSON escape, not valid Unicode
        (b'{"body": "\\udfff\\ud800"}', 422),
        (b'{"body": "\xff\xfe not utf-8"}', 400),
        (b'{"body": "x"' + b"}" * 1, 202),  # sanity: the plain case is accepted
        (b"[" * 5000 + b"]" * 5000, 400),  # deep nesting: a parse error, not a RecursionError 500
        (b'{"body": 1e999}', 422),
        (b'{"body": "x", "body": ["dup"]}', 422),  # duplicate key: last wins, and it is not text
        (b"null", 422),
        (b'"just a string"', 422),
        (b"", 422),
    ],
)
def test_unreadable_or_unstorable_input_is_a_4xx_and_stores_nothing(backend, client, raw, status):
    with backend.session() as session:
        before = session.scalar(select(func.count()).select_from(Comment))
    response = client.post(URL, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    if status != 202:
        assert response.json()["error"] in ("bad_request", "validation_error")
        with backend.session() as session:
            assert session.scalar(select(func.count()).select_from(Comment)) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/articles/ket%00amine/comments",
        "/api/v1/articles/%ED%A0%80/comments",  # UTF-8 bytes of a surrogate in the path
        "/api/v1/comments/not-a-uuid",
        "/api/v1/articles/ketamine-infusion-therapy/comments?cursor=%00",
        "/api/v1/articles/ketamine-infusion-therapy/comments?limit=99999999999999999999",
    ],
)
def test_hostile_paths_and_queries_are_4xx(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
