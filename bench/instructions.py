"""Instructions per comment of the pipeline, counted by valgrind's callgrind.

On a shared machine a rate moves by tens of percent between runs, while the number of
instructions a run executes does not depend on what else the machine does: this is the
figure to compare two versions of the filters by. It runs the pipeline over
``bench.corpus.comments(1000, 200)`` once to warm it (caches, lazy tables), then
``--loops`` more times, under callgrind; a second run does only the warm-up, and the
difference divided by the comments is the cost of one comment. Both runs go in parallel
(about two minutes on two cores); ``PYTHONHASHSEED=0`` keeps set and dict orders, hence the
counts, the same from run to run.

    python -m bench.instructions              # this checkout
    python -m bench.instructions /tmp/before  # another tree (git worktree add /tmp/before <commit>)

Needs valgrind (Debian's ``valgrind`` package). Instructions are not time: cache misses,
which the pipeline has many of, cost cycles without instructions (see ``bench.ab`` for
wall-clock rates of two trees compared in one run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from bench import corpus
from moderation.filters.types import CommentInput
from moderation.review.pipeline import get_pipeline
p = get_pipeline()
inputs = [CommentInput(text=t) for t in corpus.comments(1000, 200)]
for _ in range(1 + int(sys.argv[2])):
    for c in inputs:
        p.run(c, p.config)
"""
COMMENTS = 1000


def _total(path: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", path.read_text(), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no instruction total in {path}")
    return int(found.group(1))


def per_comment(tree: Path, loops: int = 2) -> int:
    """Instructions per 200-character comment of ``tree``'s pipeline."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {n: Path(tmp) / f"callgrind.{n}" for n in (0, loops)}
        tool = [valgrind, "--tool=callgrind"]
        runs = [
            subprocess.Popen(
                [*tool, f"--callgrind-out-file={out}", sys.executable, "-c", _PROBE, str(tree), str(n)],
                cwd=tree,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n, out in outs.items()
        ]
        for run in runs:
            if run.wait() != 0:
                raise RuntimeError(f"callgrind run failed ({run.args!r})")
        return (_total(outs[loops]) - _total(outs[0])) // (loops * COMMENTS)


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n")[0])
    parser.add_argument("tree", type=Path, nargs="?", default=Path("."))
    parser.add_argument("--loops", type=int, default=2)
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    print(f"{tree}: {per_comment(tree, args.loops):,} instructions per 200-character comment")


if __name__ == "__main__":
    main(sys.argv[1:])
