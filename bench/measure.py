"""What the end-to-end run measures: CPU and memory of the stack's processes from ``/proc``,
and comment counts and submit-to-decision latencies from the database.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime

from bench.filters import rss_kib
from bench.stack import POSTGRES_DB

# --- /proc ----------------------------------------------------------------------------------


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` (and of their reaped children) from /proc."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / _TICK


def _matching(fragment: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as fh:
                if fragment.encode() in fh.read():
                    out.append(int(entry))
    return out


def cpu_snapshot(api: int, worker: int) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (PostgreSQL: the bench database's
    backends; Redis: the whole server, which other users of this machine share)."""
    return {
        "api": cpu_seconds(family(api)),
        "worker": cpu_seconds(family(worker)),
        "postgres": cpu_seconds(_matching(f"postgres {POSTGRES_DB}")),
        "redis": cpu_seconds(_matching("redis-server")),
    }


def family_rss(pid: int) -> dict[str, int]:
    out = {}
    for p in family(pid):
        with contextlib.suppress(OSError, RuntimeError):
            out[str(p)] = rss_kib(p)
    return out


# --- the database side ----------------------------------------------------------------------


class Watcher:
    """Counts and latencies of comments created since a given instant, read from the database."""

    def __init__(self, url: str) -> None:
        from moderation.db import make_engine

        self.engine = make_engine(url, pool_size=2) if url.startswith("postgresql") else make_engine(url)

    def counts(self, since: datetime) -> tuple[int, int]:
        """(comments created since ``since``, of which still pending)."""
        from sqlalchemy import case, func, select

        from moderation.models import Comment, CommentStatus

        query = select(
            func.count(),
            func.coalesce(func.sum(case((Comment.status == CommentStatus.PENDING, 1), else_=0)), 0),
        ).where(Comment.created_at >= since)
        with self.engine.connect() as conn:
            total, pending = conn.execute(query).one()
        return int(total), int(pending)

    def decided_between(self, start: datetime, end: datetime) -> int:
        """Comments decided in ``[start, end]``, whichever phase submitted them."""
        from sqlalchemy import func, select

        from moderation.models import Comment

        query = select(func.count()).where(Comment.decided_at >= start, Comment.decided_at <= end)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def latencies_ms(self, since: datetime) -> list[float]:
        from sqlalchemy import select

        from moderation.models import Comment

        query = select(Comment.created_at, Comment.decided_at).where(
            Comment.created_at >= since, Comment.decided_at.is_not(None)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return sorted((d - c).total_seconds() * 1000 for c, d in rows if d is not None)

    def dispose(self) -> None:
        self.engine.dispose()


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)

    def pct(p: float) -> float:
        return round(values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))], 1)

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(values[-1], 1)}
