"""The design matrix, and model families linear in what :class:`LinearTextModel` scores.

:class:`Design` builds the features exactly as inference computes them. Every family returns
one or more ``(coef, intercept)`` components over that matrix (its last column is the
auxiliary-corpus indicator, whose weight is never exported). Because each is linear in the
features, a trained model is a weight vector over the vocabulary and ships in the existing
artifact, scored by the existing inference:

* ``lr``: L2 logistic regression (liblinear), the shipped family.
* ``mnb``: multinomial naive Bayes; the weight of a feature is its log-count ratio
  ``log p(f | spam) - log p(f | ham)`` (Laplace/Lidstone ``alpha``), the intercept the log
  prior ratio.
* ``cnb``: complement naive Bayes with weight normalisation (Rennie et al. 2003, scikit-learn's
  ``ComplementNB(norm=True)``); without normalisation a two-class CNB is MNB without its prior.
* ``nblr``: NB-SVM with a logistic loss (Wang & Manning 2012): logistic regression on the
  features scaled by the NB log-count ratio ``r``, interpolated towards the mean weight
  magnitude with ``beta`` (1 = none). In the original features the weight is ``w * r``.
* ``avg``: the average of the LR and MNB log-odds, each Platt-calibrated (:func:`platt`) on
  out-of-fold scores first (the caller does the calibration; see :func:`combine`).

Naive Bayes needs non-negative features; the design's values (scaled counts and 0/1
comment-level signals) are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no stubs; comes with scikit-learn

from moderation.learning.features import features, meta_features, tokens

Family = Literal["lr", "mnb", "cnb", "nblr", "avg"]
FAMILIES: tuple[Family, ...] = ("lr", "mnb", "cnb", "nblr", "avg")
Component = tuple[np.ndarray, float]


class Design:
    """Sparse design matrix built with the same features and scaling as inference."""

    def __init__(
        self,
        prepared: Sequence[str],
        min_df: int,
        always: Sequence[bool],
        *,
        meta: bool = False,
        groups: Sequence[str] | None = None,
        min_groups: int = 1,
    ) -> None:
        """``always``: rows whose every feature is kept (moderator labels). A text feature
        needs ``min_df`` rows and, when ``groups`` names each row's source (a video, the SMS
        corpus), rows from ``min_groups`` sources; comment-level signals need only ``min_df``."""
        docs = [features(p) for p in prepared]
        # Comment-level signals enter once each and unscaled, as in LinearTextModel._score.
        metas = [meta_features(tokens(p), p) if meta else [] for p in prepared]
        df: dict[str, int] = {}
        forced: set[str] = set()
        for (feats, _), mfeats, keep in zip(docs, metas, always, strict=True):
            for f in {*feats, *mfeats}:
                df[f] = df.get(f, 0) + 1
            if keep:
                forced.update(feats, mfeats)
        kept = {f for f, n in df.items() if n >= min_df}
        if groups is not None and min_groups > 1:
            kept -= _single_source(docs, groups, min_groups)
        self.vocab = sorted(kept | forced)
        index = {f: i for i, f in enumerate(self.vocab)}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for r, ((feats, n_tokens), mfeats) in enumerate(zip(docs, metas, strict=True)):
            counts: dict[int, int] = {}
            for f in feats:
                j = index.get(f)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            scale = 1.0 / math.sqrt(n_tokens)
            values = {j: c * scale for j, c in counts.items()}
            for f in mfeats:
                j = index.get(f)
                if j is not None:
                    values[j] = 1.0
            for j in sorted(values):
                rows.append(r)
                cols.append(j)
                vals.append(values[j])
        self.X = sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocab)), dtype=np.float64)


def _single_source(docs: Sequence[tuple[list[str], int]], groups: Sequence[str], min_groups: int) -> set[str]:
    """Text features found in rows of fewer than ``min_groups`` of the ``groups``.

    A word or gram that only one video's comments use (the artist, the song) says nothing
    about the comments of the next page: leave-one-video-out CV on YouTube 01-04 gained
    from dropping them (see ``train.SPAM``)."""
    per_group: dict[str, set[str]] = {}
    for (feats, _), group in zip(docs, groups, strict=True):
        per_group.setdefault(group, set()).update(feats)
    seen: dict[str, int] = {}
    for group_feats in per_group.values():
        for f in group_feats:
            seen[f] = seen.get(f, 0) + 1
    return {f for f, n in seen.items() if n < min_groups}


def fit_lr(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, C: float, seed: int) -> Component:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=1000, tol=1e-6)
    clf.fit(X, y, sample_weight=w)
    return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def _class_counts(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted feature totals of the negative and the positive class (aux column dropped)."""
    F = X[:, :-1]
    neg = np.asarray(F.T @ np.where(y == 0, w, 0.0)).ravel()
    pos = np.asarray(F.T @ np.where(y == 1, w, 0.0)).ravel()
    return neg, pos


def log_count_ratio(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """``log(p / |p|_1) - log(q / |q|_1)`` with ``p``, ``q`` the smoothed class totals."""
    neg, pos = _class_counts(X, y, w)
    p, q = pos + alpha, neg + alpha
    return np.asarray(np.log(p / p.sum()) - np.log(q / q.sum()))


def fit_mnb(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, alpha: float) -> Component:
    r = log_count_ratio(X, y, w, alpha)
    prior = float(np.log(w[y == 1].sum() / w[y == 0].sum()))
    return np.append(r, 0.0), prior


def fit_cnb(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, alpha: float) -> Component:
    neg, pos = _class_counts(X, y, w)
    # Class c is scored by the normalised log probabilities of its complement's features.
    logged = []
    for comp in (pos + alpha, neg + alpha):  # complement of class 0, of class 1
        lp = np.log(comp / comp.sum())
        logged.append(lp / lp.sum())
    return np.append(logged[1] - logged[0], 0.0), 0.0


def fit_nblr(
    X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, C: float, alpha: float, beta: float, seed: int
) -> Component:
    r = np.append(log_count_ratio(X, y, w, alpha), 1.0)  # the aux column is not scaled
    coef, b0 = fit_lr(X @ sp.diags(r), y, w, C, seed)
    if beta != 1.0:
        coef = (1 - beta) * float(np.mean(np.abs(coef[:-1]))) + beta * coef
    return coef * r, b0


def fit_family(
    family: Family,
    X: sp.csr_matrix,
    y: np.ndarray,
    w: np.ndarray,
    *,
    C: float,
    alpha: float = 1.0,
    beta: float = 1.0,
    seed: int = 0,
) -> list[Component]:
    """The components of one family fitted on ``X`` (last column: the aux indicator)."""
    if family == "lr":
        return [fit_lr(X, y, w, C, seed)]
    if family == "mnb":
        return [fit_mnb(X, y, w, alpha)]
    if family == "cnb":
        return [fit_cnb(X, y, w, alpha)]
    if family == "nblr":
        return [fit_nblr(X, y, w, C, alpha, beta, seed)]
    if family == "avg":
        return [fit_lr(X, y, w, C, seed), fit_mnb(X, y, w, alpha)]
    raise ValueError(f"unknown family {family!r}")


def combine(components: Sequence[Component], calibrations: Sequence[tuple[float, float]]) -> Component:
    """One linear model scoring the mean of the components' calibrated log-odds."""
    k = len(components)
    coef = sum(a * c for (c, _), (a, _) in zip(components, calibrations, strict=True)) / k
    b0 = sum(a * i + b for (_, i), (a, b) in zip(components, calibrations, strict=True)) / k
    return np.asarray(coef, dtype=np.float64), float(b0)


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit p = sigmoid(a z + b) by damped Newton steps (deterministic, no solver state)."""
    # Platt's smoothed targets keep a separable fold from pushing a to infinity.
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(a: float, b: float) -> float:
        u = a * z + b
        return float(np.sum(np.logaddexp(0, u) - t * u))

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(200):
        p = 0.5 * (1 + np.tanh(0.5 * (a * z + b)))
        g = np.array([np.sum((p - t) * z), np.sum(p - t)])
        s = p * (1 - p) + 1e-12
        h = np.array([[np.sum(s * z * z), np.sum(s * z)], [np.sum(s * z), np.sum(s)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        scale = 1.0
        while scale > 1e-8:
            na, nb = a - scale * float(step[0]), b - scale * float(step[1])
            new = loss(na, nb)
            if new <= current:
                break
            scale /= 2
        else:
            break
        a, b = na, nb
        if current - new < 1e-12:
            break
        current = new
    return a, b
