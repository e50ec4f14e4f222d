"""Training with pinned floating-point kernels, so that the same data gives the same bytes on
any machine.

liblinear (scikit-learn's logistic regression) does its vector arithmetic through scipy's
OpenBLAS, and OpenBLAS picks a kernel for the CPU it loads on, and splits long dot products
across threads: the same fit on an AVX2 and an AVX-512 machine, or with 1 and 2 threads,
ends a few 1e-4 apart, and the artifact's bytes differ. numpy also picks its SIMD loops
(``exp``, ``log``, ``tanh``) per CPU. Both read their choice from the environment when they
load, before any code of ours runs, so :func:`train_pinned` runs :func:`train.train` in a
fresh interpreter started with :data:`PINNED` set. ``moderation train``, the nightly
``retrain`` job and the reproduction test all train this way; the library versions are
pinned in ``pyproject.toml`` and recorded in each artifact (``trained_with``).

    python -m moderation.learning.pinned < request.json   # what train_pinned runs
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

_X86 = platform.machine().lower() in {"x86_64", "amd64"}
# One thread: OpenBLAS splits a long dot product across threads, which changes its sums.
PINNED: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
if _X86:
    # The oldest x86-64 kernel OpenBLAS ships (SSE3): present on every x86-64 CPU. numpy's
    # AVX-512 loops (x86-64-v4 and up) are switched off; the ones below exist everywhere.
    PINNED |= {
        "OPENBLAS_CORETYPE": "Prescott",
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    }
LIBRARIES = ("numpy", "scipy", "scikit-learn")


def pinned_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**(os.environ if base is None else base), **PINNED}


def is_pinned(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return all(env.get(k) == v for k, v in PINNED.items())


def environment() -> dict[str, str]:
    """What a model was trained with: library versions and the pinned kernels."""
    versions = {name: metadata.version(name) for name in LIBRARIES}
    return {**versions, "machine": platform.machine().lower(), **{k: os.environ.get(k, "") for k in PINNED}}


def train_pinned(
    *,
    data_dir: Path,
    output: Path,
    labels: Iterable[tuple[str, str]] = (),
    current_dir: Path | None = None,
    date: str | None = None,
    tolerance: float | None = None,
    kinds: Sequence[str] = ("spam", "abuse"),
) -> list[dict[str, Any]]:
    """:func:`moderation.learning.train.train` in a fresh interpreter with :data:`PINNED`;
    returns its report, one dict per model (see :class:`train.ModelReport`)."""
    request = {
        "data_dir": str(data_dir),
        "output": str(output),
        "labels": [list(pair) for pair in labels],
        "current_dir": str(current_dir) if current_dir else None,
        "date": date,
        "tolerance": tolerance,
        "kinds": list(kinds),
    }
    done = subprocess.run(
        [sys.executable, "-m", "moderation.learning.pinned"],
        input=json.dumps(request),
        env=pinned_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"training failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    report: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    from moderation.learning.train import train

    if not is_pinned():
        raise SystemExit("run through train_pinned(): the floating-point kernels are not pinned")
    request = json.load(sys.stdin)
    kwargs: dict[str, Any] = {
        "data_dir": Path(request["data_dir"]),
        "output": Path(request["output"]),
        "labels": [tuple(pair) for pair in request["labels"]],
        "current_dir": Path(request["current_dir"]) if request["current_dir"] else None,
        "date": request["date"],
        "kinds": tuple(request["kinds"]),
        "trained_with": environment(),
    }
    if request["tolerance"] is not None:
        kwargs["tolerance"] = request["tolerance"]
    report = train(**kwargs)
    print(json.dumps([dataclasses.asdict(m) for m in report.models], default=str))


if __name__ == "__main__":
    main()
