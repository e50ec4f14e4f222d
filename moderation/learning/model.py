"""Linear text model: fast inference and a deterministic, pickle-free artifact.

Score of a prepared text with tokens ``t_1..t_T``::

    z = (sum_i c(t_i) + sum_i w[t_i t_i+1]) / sqrt(T) + sum_m w[m] + intercept
    p = sigmoid(a * z + b)

where ``c(t)`` is the weight of the token plus the weights of its character grams. ``c`` only
depends on the token, so it is computed once per distinct token and cached: a 200-character
comment then costs one regex pass and about 80 dict lookups. ``m`` runs over the comment-level
signals of :func:`~moderation.learning.features.meta_features` (format 2 artifacts only: the
spam model; the abuse model has none). ``a`` and ``b`` are a Platt
calibration fitted on out-of-fold scores, with the decision threshold folded into ``b`` so that
``p >= 0.5`` is the model's verdict.

The artifact is an ``.npz`` written with fixed zip timestamps (so a retrain on the same data
is byte-identical) and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from moderation.learning.features import (
    META_PREFIX,
    META_SIGNALS,
    WORD_PREFIX,
    meta_signals,
    prepare,
    token_features,
    tokens,
)

# 1: tokens, character grams and bigrams; 2: plus comment-level signals.
FORMAT = 1
FORMAT_META = 2
# Scores of tokens outside the vocabulary's words, kept between comments. Every distinct
# comment can bring a new one (a name, a typo, a number), so the cache is reset when it
# reaches this size: a worker's memory stays flat however many comments it reads.
UNSEEN_TOKEN_LIMIT = 4096
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@lru_cache(maxsize=256)
def _prepared_tokens(text: str) -> tuple[str, tuple[str, ...]]:
    # The spam and abuse models read the same comment one after the other: clean it once.
    prepared = prepare(text)
    return prepared, tuple(tokens(prepared))


class _TokenScores(dict[str, float]):
    """A model's token cache: a token missing from it is scored (and cached) on lookup."""

    __slots__ = ("_model",)

    def __init__(self, known: dict[str, float], *, model: LinearTextModel) -> None:
        super().__init__(known)
        self._model = model

    def __missing__(self, token: str) -> float:
        return self._model._token_score(token)


class LinearTextModel:
    """A trained binary text classifier. Thread-safe; build once per process."""

    def __init__(
        self,
        *,
        vocab: Sequence[str],
        weights: Sequence[float] | np.ndarray,
        intercept: float,
        calibration: tuple[float, float],
        meta: dict[str, Any],
    ) -> None:
        self.vocab = list(vocab)
        self.weights = np.asarray(weights, dtype=np.float32)
        if len(self.vocab) != len(self.weights):
            raise ValueError("vocab and weights differ in length")
        self.intercept = float(intercept)
        self.calibration = (float(calibration[0]), float(calibration[1]))
        self.meta = dict(meta)
        self.kind: str = str(meta.get("kind", "model"))
        self.version: str = str(meta.get("version", "unversioned"))
        # The verdict threshold the checks use: the site threshold when the model has one
        # (see ``train.fit_model``), else its own, which the calibration shifted to 0.5.
        self.threshold: float = float(meta.get("site_threshold", meta.get("threshold", 0.5)))
        self.uses_meta: bool = bool(meta.get("meta_features", False))
        self._w: dict[str, float] = dict(zip(self.vocab, self.weights.tolist(), strict=True))
        # Bigram weights keyed by token pairs: looking up a tuple of two already-hashed
        # tokens is cheaper than building and hashing "a b" strings.
        self._bigrams: dict[tuple[str, str], float] = {}
        for feature, weight in self._w.items():
            if feature.startswith(WORD_PREFIX) and " " in feature:
                first, second = feature[len(WORD_PREFIX) :].split(" ", 1)
                self._bigrams[first, second] = weight
        # Every vocabulary word's whole contribution, computed once: most tokens of a comment
        # are found here. Tokens outside it are scored on first sight and cached up to
        # UNSEEN_TOKEN_LIMIT (see _token_score).
        get = self._w.get
        self._known: dict[str, float] = {
            token: sum(get(f, 0.0) for f in token_features(token))
            for token in (f[len(WORD_PREFIX) :] for f in self._w if f.startswith(WORD_PREFIX))
            if token and " " not in token
        }
        self._token_cache: dict[str, float] = _TokenScores(self._known, model=self)
        # Weight of every value of every comment-level signal, indexed as meta_signals()
        # returns them: no feature names are built per comment. A value that is no feature
        # (no link, no "!!") weighs nothing.
        self._meta_table: tuple[tuple[float, ...], ...] = tuple(
            tuple(get(META_PREFIX + name + value, 0.0) if value else 0.0 for value in values)
            for name, values in META_SIGNALS
        )
        self._lock = threading.Lock()

    # -- inference -------------------------------------------------------------------------

    def _token_score(self, token: str) -> float:
        score = self._token_cache.get(token)
        if score is None:
            get = self._w.get
            score = sum(get(f, 0.0) for f in token_features(token))
            if len(self._token_cache) >= len(self._known) + UNSEEN_TOKEN_LIMIT:
                with self._lock:
                    self._token_cache = _TokenScores(self._known, model=self)
            self._token_cache[token] = score
        return score

    def decision(self, prepared: str) -> float:
        """Uncalibrated linear score of a :func:`~moderation.learning.features.prepare`-d text."""
        return self._score(prepared, tokens(prepared))

    def _score(self, prepared: str, toks: Sequence[str]) -> float:
        base = self.intercept
        if self.uses_meta:
            signals = meta_signals(toks, prepared)
            base += sum([table[i] for table, i in zip(self._meta_table, signals, strict=True)])
        if not toks:
            return base
        # Cached tokens are summed by C-level map(); only unseen ones take the slow path
        # (_TokenScores.__missing__), in the same order, so the sum is the same float.
        total: float = sum(map(self._token_cache.__getitem__, toks))
        if len(toks) > 1:
            # zip (unlike pairwise) reuses its pair tuple when get() has let go of it.
            pairs = zip(toks, toks[1:], strict=False)  # noqa: RUF007 (see above)
            total += sum(map(self._bigrams.get, pairs, repeat(0.0)))
        return total / math.sqrt(len(toks)) + base

    def probability(self, text: str) -> float:
        """Probability that ``text`` (the normalised ``text`` view of a comment) is positive."""
        a, b = self.calibration
        z = a * self._score(*_prepared_tokens(text)) + b
        # Numerically safe logistic.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    # -- artifact --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = dict(self.meta)
        meta.update(
            format=FORMAT_META if self.uses_meta else FORMAT,
            intercept=self.intercept,
            calibration=list(self.calibration),
        )
        arrays = {
            "meta": np.frombuffer(_dumps(meta).encode(), dtype=np.uint8),
            "vocab": np.frombuffer("\n".join(self.vocab).encode(), dtype=np.uint8),
            "weights": self.weights.astype("<f4"),
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                member = io.BytesIO()
                np.lib.format.write_array(member, arr, allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, member.getvalue(), compresslevel=9)
        return buf.getvalue()

    def save(self, path: Path) -> None:
        """Write atomically: a worker loading the model never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            vocab_bytes = data["vocab"].tobytes().decode()
            weights = data["weights"].astype(np.float32)
        if meta.get("format") not in (FORMAT, FORMAT_META):
            raise ValueError(f"{path}: unsupported model format {meta.get('format')!r}")
        vocab = vocab_bytes.split("\n") if vocab_bytes else []
        a, b = meta["calibration"]
        return cls(vocab=vocab, weights=weights, intercept=meta["intercept"], calibration=(a, b), meta=meta)


def content_hash(
    vocab: Sequence[str], weights: np.ndarray, intercept: float, calibration: tuple[float, float]
) -> str:
    """sha256 of what decides a verdict (not of dates or metrics)."""
    h = hashlib.sha256()
    h.update("\n".join(vocab).encode())
    h.update(np.asarray(weights, dtype="<f4").tobytes())
    h.update(_dumps({"intercept": intercept, "calibration": list(calibration)}).encode())
    return h.hexdigest()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


__all__ = ["WORD_PREFIX", "LinearTextModel", "content_hash"]
