"""``moderation bench ...``: runs the benchmark suite of a source checkout (``bench/``).

The suite is not part of the installed package (it drives the service from outside, with
real processes and HTTP load), so this command imports ``bench`` from the current
directory and says so plainly when it is not there.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def bench_command(
    ctx: typer.Context,
    args: Annotated[
        list[str] | None, typer.Argument(help="filters | e2e | all | compare A B, with options.")
    ] = None,
) -> None:
    """Run the benchmarks (same as `python -m bench ...` from a source checkout)."""
    del ctx
    root = Path.cwd()
    if not (root / "bench" / "cli.py").is_file():
        typer.echo(
            "moderation bench needs a source checkout: run it from the repository root "
            "(the directory that contains bench/), or use `python -m bench` there.",
            err=True,
        )
        raise typer.Exit(2)
    sys.path.insert(0, str(root))
    from bench.cli import app  # type: ignore[import-not-found,unused-ignore]

    app(args=list(args or ["--help"]), prog_name="moderation bench")
