"""Pipeline throughput of two source trees, interleaved in one run (200-character comments).

On a shared machine one process's rate drifts by tens of percent from second to second, so
two separate ``bench filters`` runs cannot tell a 10 % change. This alternates fresh
interpreters of the two trees (``--alternations`` times, ``--rounds`` rounds of 0.3 s each)
and prints each tree's median and best rate and the ratio of the medians.

    git worktree add /tmp/before <commit>
    python -m bench.ab /tmp/before .        # before, after
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from bench import corpus
from bench.filters import rate
from moderation.filters.types import CommentInput
from moderation.review.pipeline import get_pipeline
p = get_pipeline()
inputs = [CommentInput(text=t) for t in corpus.comments(1000, 200)]
for c in inputs:
    p.run(c, p.config)
print(json.dumps([rate(lambda c: p.run(c, p.config), inputs, 0.3, 1) for _ in range(int(sys.argv[2]))]))
"""


def rates(tree: Path, rounds: int) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tree), str(rounds)],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    found: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?", default=Path("."))
    parser.add_argument("--alternations", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    seen: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.alternations):
        for name, tree in trees.items():
            seen[name].extend(rates(tree, args.rounds))
    for name, values in seen.items():
        print(f"{name:6} {trees[name]}: median {statistics.median(values):,.0f}/s, best {max(values):,.0f}/s")
    ratio = statistics.median(seen["after"]) / statistics.median(seen["before"])
    print(f"after/before (medians): {ratio:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
