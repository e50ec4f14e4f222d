"""Throughput of the pure pipeline and of each check, per core, against better-profanity.

Rates are comments per CPU-second of this one process (``time.process_time``), i.e. per
core: on a shared machine the wall clock includes time other processes held the CPU, the
process clock does not. Each figure is the best of ``repeats`` rounds of at least
``min_time`` seconds, as ``timeit`` does. Memory is measured in a fresh interpreter
(:func:`memory_probe`, run as ``python -m bench _memory``) so nothing this process loaded
counts against it.

The spam and abuse models share the cleaning and tokenising of a comment (a small cache in
``moderation.learning.model``): in the pipeline the abuse check reuses the spam check's
tokens. Timed alone, a check cleans and tokenises a comment itself unless the cache (256
texts) still holds it: at 30 and 200 characters, with 2,000 and 1,000 distinct comments, it
never does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import corpus

if TYPE_CHECKING:
    from moderation.filters.normalize import Normalized
    from moderation.filters.types import Check, CheckResult, CommentInput

LENGTHS = (30, 200, 1000, 5000)
# Distinct comments per length (cycled); fewer for long ones, whose count matters less.
DISTINCT = {30: 2000, 200: 1000, 1000: 200, 5000: 30}
# better-profanity takes ~20 ms per 200 characters: a small sample is enough.
REFERENCE_SAMPLE = {30: 60, 200: 20, 1000: 6, 5000: 3}
REPO = Path(__file__).resolve().parents[1]
# Share of the memory run after which bounded caches count as full (see memory_probe).
WARMUP_SHARE = 0.1


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of ``pid`` in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")


def rate(fn: Callable[[Any], object], items: list[Any], min_time: float, repeats: int) -> float:
    """Best calls per CPU-second of ``fn`` over ``items`` (cycled until ``min_time`` elapsed)."""
    best = 0.0
    for _ in range(repeats):
        calls = 0
        start = time.process_time()
        elapsed = 0.0
        while elapsed < min_time:
            for item in items:
                fn(item)
            calls += len(items)
            elapsed = time.process_time() - start
        best = max(best, calls / elapsed)
    return best


def reference_rate(texts: list[str]) -> float:
    """better_profanity.profanity.contains_profanity, per CPU-second (one pass, it is slow)."""
    from better_profanity import profanity

    profanity.contains_profanity("warm up the word list")
    start = time.process_time()
    for text in texts:
        profanity.contains_profanity(text)
    return len(texts) / (time.process_time() - start)


def run(*, quick: bool = False, lengths: tuple[int, ...] = LENGTHS) -> dict[str, Any]:
    from moderation.filters.normalize import normalize
    from moderation.filters.types import CommentInput
    from moderation.review.pipeline import get_pipeline

    min_time, repeats = (0.1, 2) if quick else (0.3, 3)
    pipeline = get_pipeline()
    config = pipeline.config
    checks = [{"name": c.name, "version": c.version} for c in pipeline.checks]
    per_length: dict[str, Any] = {}
    for length in lengths:
        texts = corpus.comments(DISTINCT[length], length)
        inputs = [CommentInput(text=t) for t in texts]
        pairs = [(c, normalize(c.text)) for c in inputs]
        row: dict[str, Any] = {
            "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
            "pipeline": rate(lambda c: pipeline.run(c, config), inputs, min_time, repeats),
            "normalize": rate(normalize, texts, min_time, repeats),
            "checks": {},
        }
        for check in pipeline.checks:
            row["checks"][check.name] = rate(_bound(check), pairs, min_time, repeats)
        sample = texts[: REFERENCE_SAMPLE[length]]
        row["better_profanity"] = reference_rate(sample)
        row["ratio_vs_better_profanity"] = row["pipeline"] / row["better_profanity"]
        # Microseconds per comment, which is how check authors budget (~40 us at 200 chars).
        row["us_per_comment"] = {
            "pipeline": 1e6 / row["pipeline"],
            "normalize": 1e6 / row["normalize"],
            **{name: 1e6 / r for name, r in row["checks"].items()},
        }
        per_length[str(length)] = row
    return {
        "checks": checks,
        "policy": config.version,
        "lengths": per_length,
        "memory": memory(comments=10_000 if quick else 100_000),
    }


def _bound(check: Check) -> Callable[[tuple[CommentInput, Normalized]], CheckResult]:
    def call(pair: tuple[CommentInput, Normalized]) -> CheckResult:
        return check(*pair)

    return call


def memory(comments: int) -> dict[str, Any]:
    """Run :func:`memory_probe` in a fresh interpreter and return its JSON report."""
    out = subprocess.run(
        [sys.executable, "-m", "bench", "_memory", "--comments", str(comments)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def memory_probe(comments: int) -> dict[str, Any]:
    """RSS of a worker-like process: bare, after importing the worker, after loading the
    pipeline; then RSS over ``comments`` pipeline runs (the second half's texts all new), and
    last tracemalloc's top growth over ``comments // 10`` more new comments (after the RSS
    readings, which tracemalloc's own tables would inflate).

    The figure the target is checked on is ``growth_after_warmup_kib``: RSS at the end minus
    RSS after the first ``WARMUP_SHARE`` of the comments, by when the bounded caches (models'
    unseen tokens, regex and lru caches) have filled up; a leak keeps growing past that point.
    ``growth_kib`` (end minus just after loading) includes the warm-up and is reported too.
    """
    import gc
    import tracemalloc

    report: dict[str, Any] = {"rss_start_kib": rss_kib()}
    import workers.app  # noqa: F401 (what a worker process imports before the pipeline)

    report["rss_after_worker_import_kib"] = rss_kib()
    from moderation.filters.types import CommentInput
    from moderation.review.pipeline import get_pipeline

    pipeline = get_pipeline()
    report["rss_after_pipeline_kib"] = rss_kib()
    report["pipeline_kib"] = report["rss_after_pipeline_kib"] - report["rss_after_worker_import_kib"]
    # Distinct texts, so caches keyed on text would show up as growth.
    inputs = [CommentInput(text=t) for t in corpus.mixed_lengths(5000, seed=11)]
    half = comments // 2
    warmup = max(1, int(comments * WARMUP_SHARE))
    samples: list[tuple[int, int]] = []
    start = time.perf_counter()
    for i in range(comments):
        # The second half's texts are all new (a suffix), as a worker's comments are.
        comment = inputs[i % len(inputs)]
        pipeline.run(CommentInput(text=comment.text + f" #{i}") if i >= half else comment)
        if i % 10_000 == 0:
            samples.append((i, rss_kib()))
        if i + 1 == warmup:
            gc.collect()
            report["rss_after_warmup_kib"] = rss_kib()
        elif i + 1 == half:
            gc.collect()
            report["rss_after_first_half_kib"] = rss_kib()
    gc.collect()
    report["rss_end_kib"] = rss_kib()
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["comments"] = comments
    report["warmup_comments"] = warmup
    report["rss_samples"] = samples
    report["growth_kib"] = report["rss_end_kib"] - report["rss_after_pipeline_kib"]
    report["growth_after_warmup_kib"] = report["rss_end_kib"] - report["rss_after_warmup_kib"]
    # Then, after the RSS figures (tracemalloc's own tables would count in them), where
    # Python memory grows over a tenth as many more new comments, by line.
    extra = max(1, comments // 10)
    tracemalloc.start(5)
    before = tracemalloc.take_snapshot()
    for i in range(comments, comments + extra):
        pipeline.run(CommentInput(text=inputs[i % len(inputs)].text + f" #{i}"))
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = after.compare_to(before, "lineno")
    report["tracemalloc_comments"] = extra
    report["tracemalloc_net_kib"] = round(sum(s.size_diff for s in stats) / 1024, 1)
    report["tracemalloc_top"] = [
        {"where": str(s.traceback), "kib": round(s.size_diff / 1024, 1), "count": s.count_diff}
        for s in stats[:5]
    ]
    return report
