"""Leave-one-video-out (LOVO) cross-validation of spam model candidates on YouTube 01-04.

The selection protocol of the spam model: each training video in turn is held out, a model is
trained on the other three plus the SMS corpus exactly as :func:`train.fit_model` trains
(vocabulary by ``min_df`` on the training rows, SMS with its own intercept and classes balanced
within it, Platt calibration and threshold from shuffled 5-fold out-of-fold scores of the
YouTube rows), and scored on the held-out video at ``p >= 0.5``; errors are pooled over the
1,586 comments. Shakira (file 05) is never read here.

The features of every comment are extracted once and each fold works on matrix slices, which
makes a candidate cost seconds instead of minutes; for the shipped family this reproduces the
LOVO of ``fit_model`` plus :class:`LinearTextModel` inference (see the sweep note in
:mod:`moderation.learning.train`). ``scaling`` other than ``sqrt`` (binary or raw counts) is
not what :class:`LinearTextModel` computes, so such candidates are measured but cannot ship.

    python -m moderation.learning.lovo lr mnb:alpha=0.1 nblr:C=3,beta=0.25 avg:scaling=binary
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no stubs; comes with scikit-learn

from moderation.learning import data as datasets
from moderation.learning.data import Example
from moderation.learning.families import Family, combine, fit_family, platt
from moderation.learning.features import META_PREFIX, features, meta_features, tokens
from moderation.learning.train import SPAM, _best_threshold, prepare_text

Scaling = Literal["sqrt", "tf", "binary"]


@dataclass(frozen=True, slots=True)
class Candidate:
    family: Family = "lr"
    scaling: Scaling = "sqrt"
    C: float = SPAM.C
    alpha: float = 1.0
    beta: float = 1.0
    aux_weight: float = SPAM.aux_weight
    balanced: bool = SPAM.balanced
    min_df: int = SPAM.min_df
    min_groups: int = SPAM.min_groups

    @classmethod
    def parse(cls, spec: str) -> Candidate:
        """``family[:key=value,...]``, e.g. ``nblr:C=3,alpha=0.5``."""
        family, _, rest = spec.partition(":")
        types = {f.name: type(getattr(cls(), f.name)) for f in fields(cls)}
        kwargs: dict[str, Any] = {"family": family}
        for item in filter(None, rest.split(",")):
            key, _, value = item.partition("=")
            kwargs[key] = value == "True" if types[key] is bool else types[key](value)
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Result:
    candidate: Candidate
    errors: int
    n: int
    accuracy: float
    f1: float
    per_video: dict[str, int]
    # Indices (into the corpus) of the misclassified comments, for paired comparisons.
    wrong: frozenset[int] = frozenset()

    def versus(self, other: Result) -> tuple[int, int]:
        """(comments only this one gets wrong, comments only ``other`` gets wrong)."""
        return len(self.wrong - other.wrong), len(other.wrong - self.wrong)

    def line(self) -> str:
        videos = " ".join(f"{v.split('-')[1]}={e}" for v, e in self.per_video.items())
        figures = f"acc {self.accuracy:.4f} F1 {self.f1:.4f} errors {self.errors}/{self.n}"
        return f"{self.candidate}: {figures} ({videos})"


class Corpus:
    """Every training example's feature counts, once; columns: text features, then signals."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self.examples = list(examples)
        index: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        meta_rows: list[tuple[int, int]] = []
        n_tokens = np.zeros(len(self.examples))
        for r, e in enumerate(self.examples):
            prepared = prepare_text(e.text)
            feats, n = features(prepared)
            n_tokens[r] = n
            counts: dict[int, int] = {}
            for f in feats:
                j = index.setdefault(f, len(index))
                counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                rows.append(r)
                cols.append(j)
                vals.append(c)
            for f in meta_features(tokens(prepared), prepared):
                meta_rows.append((r, index.setdefault(f, len(index))))
        shape = (len(self.examples), len(index))
        self.counts = sp.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float64)
        mr, mc = zip(*meta_rows, strict=True) if meta_rows else ((), ())
        self.signals = sp.csr_matrix((np.ones(len(mr)), (mr, mc)), shape=shape, dtype=np.float64)
        self.n_tokens = n_tokens
        self.y = np.array([e.label for e in self.examples], dtype=np.int64)
        self.aux = np.array([e.source == "sms" for e in self.examples])
        self.group = np.array([e.group for e in self.examples])  # "" for SMS
        # Comment-level signal columns, which the min_groups rule leaves alone.
        self.is_signal = np.zeros(len(index) + 1, dtype=bool)
        self.is_signal[[j for f, j in index.items() if f.startswith(META_PREFIX)]] = True

    def design(self, scaling: Scaling) -> sp.csr_matrix:
        """All rows, all columns, scaled; the aux indicator as the last column."""
        if scaling == "sqrt":
            text = sp.diags(1.0 / np.sqrt(self.n_tokens)) @ self.counts
        elif scaling == "binary":
            text = (self.counts > 0).astype(np.float64)
        else:
            text = self.counts
        return sp.hstack([text + self.signals, sp.csr_matrix(self.aux.astype(np.float64)).T], format="csr")


def _weights(corpus: Corpus, idx: np.ndarray, cand: Candidate) -> np.ndarray:
    """fit_model's sample weights for the rows ``idx`` (no moderator or site rows here)."""
    y, aux = corpus.y[idx], corpus.aux[idx]
    w = np.ones(len(idx))
    if cand.balanced:
        for cls in (0, 1):
            w[y == cls] = len(idx) / (2 * max(int((y == cls).sum()), 1))
    for cls in (0, 1):
        mask = aux & (y == cls)
        w[mask] = cand.aux_weight * aux.sum() / (2 * max(int(mask.sum()), 1))
    return w


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1 + np.tanh(0.5 * z)))


def fit_predict(
    corpus: Corpus,
    X: sp.csr_matrix,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    cand: Candidate,
    folds: int = 5,
) -> np.ndarray:
    """Probabilities on ``test_idx`` of a model trained on ``train_idx`` as fit_model trains."""
    from sklearn.model_selection import StratifiedKFold

    # The vocabulary: features in at least min_df training rows (column order does not
    # matter to the fit, so columns keep the corpus order). The aux column always stays.
    present = X[train_idx] != 0
    df = np.asarray(present.sum(axis=0)).ravel()
    kept = df >= cand.min_df
    if cand.min_groups > 1:
        groups = corpus.group[train_idx]
        sources = sum(np.asarray(present[groups == g].sum(axis=0)).ravel() > 0 for g in sorted(set(groups)))
        kept &= (sources >= cand.min_groups) | corpus.is_signal
    keep = np.flatnonzero(kept)
    keep = np.union1d(keep, [X.shape[1] - 1])
    Xtr, Xte = X[train_idx][:, keep], X[test_idx][:, keep]
    y, w = corpus.y[train_idx], _weights(corpus, train_idx, cand)
    calib = ~corpus.aux[train_idx]

    def fit(rows: np.ndarray) -> list[tuple[np.ndarray, float]]:
        c = cand
        return fit_family(c.family, Xtr[rows], y[rows], w[rows], C=c.C, alpha=c.alpha, beta=c.beta)

    splitter = StratifiedKFold(folds, shuffle=True, random_state=SPAM.seed)
    oof = np.zeros((len(y), 2 if cand.family == "avg" else 1))
    for tr, te in splitter.split(np.arange(len(y)), y):
        for k, (coef, b0) in enumerate(fit(tr)):
            oof[te, k] = Xtr[te] @ coef + b0
    if oof.shape[1] == 1:
        scores = oof[:, 0]
        comp_cal: list[tuple[float, float]] = []
    else:
        comp_cal = [platt(oof[calib, k], y[calib]) for k in range(oof.shape[1])]
        scores = np.mean([a * oof[:, k] + b for k, (a, b) in enumerate(comp_cal)], axis=0)
    a, b = platt(scores[calib], y[calib])
    threshold = _best_threshold(y[calib], _sigmoid(a * scores[calib] + b), macro=cand.balanced)
    b -= math.log(threshold / (1 - threshold))
    comps = fit(np.arange(len(y)))
    coef, b0 = comps[0] if len(comps) == 1 else combine(comps, comp_cal)
    # Exported weights are float32, as in the artifact.
    z = Xte @ coef.astype(np.float32).astype(np.float64) + b0
    return _sigmoid(a * z + b)


def lovo(corpus: Corpus, cand: Candidate) -> Result:
    X = corpus.design(cand.scaling)
    videos = sorted({g for g in corpus.group if g})
    wrong = np.zeros(len(corpus.y), dtype=bool)
    tested = np.zeros(len(corpus.y), dtype=bool)
    pred = np.zeros(len(corpus.y), dtype=bool)
    per_video: dict[str, int] = {}
    for v in videos:
        test_idx = np.flatnonzero(corpus.group == v)
        train_idx = np.flatnonzero(corpus.group != v)
        pred[test_idx] = fit_predict(corpus, X, train_idx, test_idx, cand) >= 0.5
        tested[test_idx] = True
        wrong[test_idx] = pred[test_idx] != corpus.y[test_idx].astype(bool)
        per_video[v] = int(wrong[test_idx].sum())
    yt, yp = corpus.y[tested].astype(bool), pred[tested]
    tp = float(np.sum(yt & yp))
    f1 = 2 * tp / float(yt.sum() + yp.sum())
    n, errors = int(tested.sum()), int(wrong.sum())
    missed = frozenset(np.flatnonzero(wrong).tolist())
    return Result(cand, errors, n, round(1 - errors / n, 4), round(f1, 4), per_video, missed)


def main(argv: Sequence[str]) -> None:
    data_dir = datasets.default_data_dir()
    corpus = Corpus(datasets.spam_train(data_dir))
    base = lovo(corpus, Candidate())
    print("baseline", base.line(), flush=True)
    for spec in argv:
        result = lovo(corpus, Candidate.parse(spec))
        only_new, only_base = result.versus(base)
        print(f"{result.line()}; vs baseline: {only_new} new errors, {only_base} fixed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])


__all__ = ["Candidate", "Corpus", "Result", "lovo"]
