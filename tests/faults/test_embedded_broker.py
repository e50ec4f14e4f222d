"""The embedded broker (kombu's SQLAlchemy transport on SQLite, `moderation serve` with no
configuration) under a SIGKILL: what it does and does not guarantee.

It keeps queued messages on disk, so a restart loses nothing that was waiting. But it has
no visibility timeout: a message a worker had taken is marked invisible and stays so if the
worker dies without acknowledging it. Those comments stay ``pending`` in the database, and
requeue-stuck is what brings them back; nothing is decided twice.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from moderation.queue import publisher
from tests.faults.conftest import REQUEUE_AFTER, fault_env, fault_settings, run_requeue_stuck
from tests.faults.helpers import create_pending, kill_group, tally, wait_all_decided
from tests.helpers import REPO, running_worker, wait_for
from workers.app import make_celery

pytestmark = [pytest.mark.faults]
N = 300


# A consumer that takes messages without acknowledging them and waits: SIGKILLing it is a
# worker dying mid-task, made deterministic (a real worker often holds nothing at the kill).
GRAB = """
import sys, time
from kombu import Connection
with Connection(sys.argv[1]) as conn:
    queue = conn.SimpleQueue("moderation")
    held = [queue.get(timeout=30) for _ in range(int(sys.argv[2]))]
    print("held", len(held), flush=True)
    time.sleep(600)
"""
HELD = 5


def waiting_messages(url: str) -> int:
    engine = sa.create_engine(url.removeprefix("sqla+"))
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT count(*) FROM kombu_message WHERE visible = 1")) or 0)
    finally:
        engine.dispose()


def test_embedded_broker_strands_taken_messages_and_requeue_stuck_recovers_them(sqlite_backend, tmp_path):
    broker_url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    settings = fault_settings(sqlite_backend, broker_url)
    assert settings.embedded
    celery = make_celery(settings)
    ids = create_pending(sessionmaker(bind=sqlite_backend.engine), N, publisher(celery))
    assert waiting_messages(broker_url) == N

    grabber = subprocess.Popen(
        [sys.executable, "-c", GRAB, broker_url, str(HELD)],
        stdout=subprocess.PIPE,
        start_new_session=True,
        cwd=REPO,
    )
    assert grabber.stdout is not None
    assert grabber.stdout.readline().startswith(b"held")
    kill_group(grabber)
    grabber.stdout.close()
    assert waiting_messages(broker_url) == N - HELD

    env = sqlite_backend.env(**fault_env(broker_url, sqlite_backend.url))
    with running_worker(env, tmp_path / "worker.log", "--concurrency=2"):
        wait_for(lambda: tally(sqlite_backend.engine, ids).decided == N - HELD, timeout=120, what="the rest")
        time.sleep(REQUEUE_AFTER + 1)  # nothing comes back on its own: no visibility timeout
        stranded = tally(sqlite_backend.engine, ids)
        runs = [run_requeue_stuck(settings, celery)]
        final = wait_all_decided(sqlite_backend.engine, ids, timeout=60)
    print(f"\nafter the consumer's SIGKILL and a drained queue: {stranded}\nrequeue-stuck {runs}; {final}")
    assert stranded.pending == HELD
    assert runs[0].get("requeued") == HELD
    assert final.accepted == final.decided == N
    assert final.decided_twice == 0
    assert final.lost == 0
    assert final.gave_up == 0
