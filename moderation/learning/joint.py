"""Score one comment with several linear models through one token table.

The pipeline runs the spam and the abuse model over the same text, one after the other.
Scored apart, each model looks every token and bigram up in its own tables (~10,000 words and
~30,000 bigrams each): two sets of dict probes over several MB per comment, which costs more in
cache misses than in instructions. :class:`JointScorer` keeps one table that maps a token (or a
token pair) to every model's contribution at once, so a comment costs one lookup per token and
one per bigram for all the models, and remembers the last text's probabilities, so the second
check reading the same text gets its figure for free.

Scores are bit-identical to :meth:`LinearTextModel.probability`: every model's terms are summed
in the same order, with the same zeros for bigrams it does not know, and go through the same
base and calibration code. A model loaded alone (``moderation train``, ``eval``) still scores
through its own tables; a model scored only through a joint table never builds them.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Sequence
from itertools import repeat

from moderation.learning.features import prepare, tokens
from moderation.learning.model import UNSEEN_TOKEN_LIMIT, LinearTextModel


class JointScorer:
    """Probabilities of several :class:`LinearTextModel` for one text. Thread-safe."""

    def __init__(self, models: Sequence[LinearTextModel]) -> None:
        self.models = tuple(models)
        known_words: dict[str, None] = {}
        for model in self.models:
            known_words.update(dict.fromkeys(model.vocab_tokens()))
        self._known: dict[str, tuple[float, ...]] = {
            token: tuple(model.token_value(token) for model in self.models) for token in known_words
        }
        self._token_cache: dict[str, tuple[float, ...]] = dict(self._known)
        self._zero = (0.0,) * len(self.models)
        bigrams: dict[tuple[str, str], list[float]] = {}
        for i, model in enumerate(self.models):
            for pair, weight in model.bigram_items():
                bigrams.setdefault(pair, list(self._zero))[i] = weight
        self._bigrams: dict[tuple[str, str], tuple[float, ...]] = {k: tuple(v) for k, v in bigrams.items()}
        self._last: tuple[str, tuple[float, ...]] = ("", self._probabilities(""))
        self._lock = threading.Lock()

    def view(self, index: int) -> JointModelView:
        """The ``index``-th model as a check sees it (``version``, ``threshold``, ``probability``)."""
        return JointModelView(self, index)

    def probabilities(self, text: str) -> tuple[float, ...]:
        """Every model's :meth:`LinearTextModel.probability` of ``text``."""
        last_text, last = self._last
        if text is last_text or text == last_text:
            return last
        result = self._probabilities(text)
        self._last = (text, result)
        return result

    def _probabilities(self, text: str) -> tuple[float, ...]:
        prepared = prepare(text)
        toks = tokens(prepared)
        bases = [model.base(prepared, toks) for model in self.models]
        if not toks:
            return tuple(m.calibrated(base) for m, base in zip(self.models, bases, strict=True))
        rows = list(map(self._token_cache.get, toks))
        if None in rows:
            rows = [self._token_row(t) if r is None else r for t, r in zip(toks, rows, strict=True)]
        # One column of token terms per model, in token order: each sums as the model alone would.
        totals: list[float] = [sum(column) for column in zip(*rows, strict=True)]
        if len(toks) > 1:
            pairs = list(map(self._bigrams.get, itertools.pairwise(toks), repeat(self._zero)))
            columns = zip(*pairs, strict=True)
            totals = [total + sum(column) for total, column in zip(totals, columns, strict=True)]
        root = math.sqrt(len(toks))
        return tuple(
            m.calibrated(total / root + base)
            for m, total, base in zip(self.models, totals, bases, strict=True)
        )

    def _token_row(self, token: str) -> tuple[float, ...]:
        row = self._token_cache.get(token)
        if row is None:
            row = tuple(model.token_value(token) for model in self.models)
            # Unseen tokens are kept up to UNSEEN_TOKEN_LIMIT, as a model alone keeps them.
            if len(self._token_cache) >= len(self._known) + UNSEEN_TOKEN_LIMIT:
                with self._lock:
                    self._token_cache = dict(self._known)
            self._token_cache[token] = row
        return row


class JointModelView:
    """One model of a :class:`JointScorer`, with the interface the checks use."""

    def __init__(self, scorer: JointScorer, index: int) -> None:
        self.scorer = scorer
        self.index = index
        self.model = scorer.models[index]
        self.version = self.model.version
        self.threshold = self.model.threshold
        self.kind = self.model.kind

    def probability(self, text: str) -> float:
        return self.scorer.probabilities(text)[self.index]
