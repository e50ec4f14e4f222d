"""The API's publish on a broker that accepts connections and never answers (hung, or caught
dying): one wait of at most ``publish_timeout`` per cooldown, then immediate failures, the
comment left to requeue-stuck. Without the cap a submission waited for the workers' 5 s
socket timeout."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from kombu.exceptions import OperationalError

from moderation.queue import BrokerUnavailableError, publisher
from workers.app import make_celery


def test_a_hung_broker_holds_one_submission_for_publish_timeout_then_none(sqlite_backend):
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        settings = sqlite_backend.settings(broker_url=f"redis://127.0.0.1:{port}/0", publish_timeout=0.5)
        publish = publisher(make_celery(settings), cooldown=1.0)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="Timeout"):  # asked, and no answer came
            publish(uuid.uuid4())
        assert time.monotonic() - started < 0.5 + 0.5
        for _ in range(20):
            started = time.monotonic()
            with pytest.raises(BrokerUnavailableError):
                publish(uuid.uuid4())
            assert time.monotonic() - started < 0.05
