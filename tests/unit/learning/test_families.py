"""Model families: each is one linear model in the design's features, so it ships as is."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no stubs

from moderation.filters.normalize import normalize
from moderation.learning.data import Example
from moderation.learning.families import FAMILIES, Design, combine, fit_family, fit_lr, log_count_ratio
from moderation.learning.features import META_PREFIX, WORD_PREFIX
from moderation.learning.lovo import Candidate, Corpus, fit_predict
from moderation.learning.train import SPAM, fit_model


@pytest.fixture(scope="module")
def design():
    rng = np.random.default_rng(7)
    y = np.array([0, 1] * 60)
    # Two informative features, three noise ones, then the aux indicator (all zero here).
    X = rng.poisson(0.6, size=(120, 6)).astype(float)
    X[:, 0] += 2 * y
    X[:, 1] += 2 * (1 - y)
    X[:, 5] = 0.0
    return sp.csr_matrix(X), y, np.ones(120)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "avg"])
def test_each_family_separates_the_informative_features(design, family):
    X, y, w = design
    [(coef, b0)] = fit_family(family, X, y, w, C=1.0)
    assert coef.shape == (6,)
    assert coef[0] > 0 > coef[1]
    assert coef[5] == 0.0 or family in ("lr", "nblr")  # NB never weighs the aux column
    accuracy = np.mean(((X @ coef + b0) >= 0) == y)
    assert accuracy > 0.8


def test_mnb_is_scikit_learns_multinomial_nb(design):
    from sklearn.naive_bayes import MultinomialNB

    X, y, w = design
    [(coef, b0)] = fit_family("mnb", X, y, w, C=1.0, alpha=0.5)
    nb = MultinomialNB(alpha=0.5).fit(X[:, :-1], y)
    expected = nb.predict_joint_log_proba(X[:, :-1])
    np.testing.assert_allclose(X @ coef + b0, expected[:, 1] - expected[:, 0], atol=1e-9)


def test_cnb_is_scikit_learns_normalised_complement_nb(design):
    from sklearn.naive_bayes import ComplementNB

    X, y, w = design
    [(coef, b0)] = fit_family("cnb", X, y, w, C=1.0, alpha=1.0)
    nb = ComplementNB(alpha=1.0, norm=True).fit(X[:, :-1], y)
    flp = nb.feature_log_prob_
    np.testing.assert_allclose(coef[:-1], flp[1] - flp[0], atol=1e-12)
    assert b0 == 0.0


@pytest.mark.parametrize("beta", [1.0, 0.25])
def test_nblr_is_lr_on_ratio_scaled_features_mapped_back(design, beta):
    X, y, w = design
    [(coef, b0)] = fit_family("nblr", X, y, w, C=2.0, alpha=1.0, beta=beta)
    r = np.append(log_count_ratio(X, y, w, 1.0), 1.0)
    scaled, b_scaled = fit_lr(X @ sp.diags(r), y, w, 2.0, 0)
    if beta != 1.0:
        scaled = (1 - beta) * np.mean(np.abs(scaled[:-1])) + beta * scaled
    # The same score, from the original features with weights w * r.
    np.testing.assert_allclose(X @ coef + b0, (X @ sp.diags(r)) @ scaled + b_scaled, atol=1e-9)
    assert b0 == b_scaled


def test_avg_combines_calibrated_log_odds(design):
    X, y, w = design
    comps = fit_family("avg", X, y, w, C=1.0)
    assert len(comps) == 2
    cal = [(0.5, 0.1), (0.2, -0.3)]
    coef, b0 = combine(comps, cal)
    each = [a * (X @ c + i) + b for (c, i), (a, b) in zip(comps, cal, strict=True)]
    np.testing.assert_allclose(X @ coef + b0, np.mean(each, axis=0), atol=1e-9)


def test_unknown_family_is_refused(design):
    X, y, w = design
    with pytest.raises(ValueError, match="unknown family"):
        fit_family("svm", X, y, w, C=1.0)  # type: ignore[arg-type]


def test_candidate_specs_parse():
    c = Candidate.parse("nblr:C=3,alpha=0.5,balanced=True,scaling=binary")
    assert (c.family, c.C, c.alpha, c.balanced, c.scaling) == ("nblr", 3.0, 0.5, True, "binary")
    assert Candidate.parse("lr") == Candidate()


SPAMMY = [
    "check out my channel please subscribe",
    "subscribe to my channel for free money",
    "visit my website http://cheap.example.com now",
    "please like this comment and check my video",
    "free gift card click here www.gifts.com",
    "follow me on twitter and subscribe",
]
HAMMY = [
    "this song is so good i love it",
    "still listening in 2015 who else",
    "her voice is beautiful",
    "best music video ever made",
    "the dance in this video is amazing",
    "i remember when this came out",
]


def _toy() -> list[Example]:
    out = []
    for i in range(8):
        for text in SPAMMY:
            out.append(Example(f"{text} {i}", 1, "youtube", f"v{i % 3}"))
        for text in HAMMY:
            out.append(Example(f"{text} {i}", 0, "youtube", f"v{i % 3}"))
    out += [Example("win cash now txt 80086", 1, "sms"), Example("see you at lunch", 0, "sms")] * 3
    return out


@pytest.mark.parametrize("min_groups", [1, 2, 3])
@pytest.mark.parametrize("family", ["lr", "mnb", "nblr", "avg"])
def test_lovo_fold_matches_fit_model_and_artifact_inference(family, min_groups):
    # The LOVO harness works on matrix slices; what it measures must be what fit_model
    # trains and LinearTextModel scores, or LOVO would select a model that is never shipped.
    examples = _toy()
    corpus = Corpus(examples)
    cand = Candidate(family=family, C=3.0, min_groups=min_groups)
    train_idx = np.flatnonzero(corpus.group != "v1")
    test_idx = np.flatnonzero(corpus.group == "v1")
    expected = fit_predict(corpus, corpus.design("sqrt"), train_idx, test_idx, cand, folds=3)
    params = dataclasses.replace(SPAM, family=family, C=3.0, folds=3, min_groups=min_groups)
    model = fit_model("spam", [examples[i] for i in train_idx], params=params, date="2026.01.01")
    assert model.meta["params"].get("family", "lr") == family
    assert model.meta["params"].get("min_groups", 1) == min_groups
    probs = [model.probability(normalize(examples[i].text).text.text) for i in test_idx]
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert 0 < np.mean(expected >= 0.5) < 1


def test_min_groups_keeps_text_features_of_several_sources_and_every_signal():
    # "katy" is in one video's comments only: a model cannot learn from it what the next
    # video's comments look like. "song" is in two. Moderator rows' features are kept.
    prepared = ["katy song", "katy song", "song again", "subscribe lunch"]
    groups = ["v1", "v1", "v2", "moderator"]
    one = Design(prepared, 2, [False] * 4, meta=True, groups=groups, min_groups=1)
    two = Design(prepared, 2, [False] * 4, meta=True, groups=groups, min_groups=2)
    forced = Design(prepared, 2, [False, False, False, True], meta=True, groups=groups, min_groups=2)
    assert WORD_PREFIX + "katy" in one.vocab
    assert WORD_PREFIX + "katy" not in two.vocab
    assert WORD_PREFIX + "song" in two.vocab
    assert {f for f in one.vocab if f.startswith(META_PREFIX)} == {
        f for f in two.vocab if f.startswith(META_PREFIX)
    }
    assert WORD_PREFIX + "lunch" in forced.vocab
    assert WORD_PREFIX + "katy" not in forced.vocab
    assert Design(prepared, 2, [False] * 4, meta=True).vocab == one.vocab
