from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from moderation.learning.features import META_PREFIX, features, meta_features, prepare, tokens
from moderation.learning.loader import PACKAGE_MODELS_DIR, load_model
from moderation.learning.model import LinearTextModel


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("rt @someone: hi &amp; bye", "zuserz hi & bye"),
        ("see http://bit.ly/abc now", "see zurlz bit now"),
        ("mail me at a.b@example.com", "mail me at zemailz"),
        ("call 0845 281 0075", "call znumz"),
        ("<a href='x'>2:19</a> best<br />part", "2:19 best part"),
        ("take 200mg", "take 200mg"),
        # runs of four or more of one character are read as three
        ("love this soooooooo much!!!!!!!!!!!!", "love this sooo much!!!"),
        ("ok!!! hmm", "ok!!! hmm"),
        ("ééééé....", "ééé..."),
    ],
)
def test_prepare(raw, prepared):
    assert prepare(raw) == prepared


@pytest.mark.parametrize("kind", ["spam", "abuse"])
def test_a_long_run_weighs_what_three_do(kind):
    # A token's character grams grow with its length: unbounded, "!!!!!!!!" alone decided
    # the abuse model (p = 1.00 for "Thank you for this article!!!!!!..." before runs were cut).
    model = load_model(kind)
    long, short = "thank you for this article" + "!" * 40, "thank you for this article!!!"
    assert model.probability(long) == model.probability(short)
    assert load_model("abuse").probability(long) < 0.5


def test_features_are_tokens_grams_and_bigrams():
    feats, n_tokens = features("hi you")
    assert n_tokens == 2
    assert "\x00hi" in feats
    assert "\x00hi you" in feats
    assert "<hi>" in feats
    assert "you>" in feats


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "check out my channel http://bit.ly/x and subscribe!!",
            {"len3", "url", "excl", "promo3", "topic0", "phrase2", "self1"},
        ),
        ("love this song", {"len1", "promo0", "topic2", "phrase0", "self0"}),
        (
            "Roar (official): https://youtu.be/CevxZvSJLk8",
            {"len2", "url_own", "promo0", "topic0", "phrase0", "self0"},
        ),
        ("since 2010 i watch it", {"len2", "digit", "promo1", "topic0", "phrase0", "self1"}),
        ("", {"len1", "promo0", "topic0", "phrase0", "self0"}),
    ],
)
def test_meta_features(raw, expected):
    prepared = prepare(raw.lower())
    feats = meta_features(tokens(prepared), prepared)
    assert {f.removeprefix(META_PREFIX) for f in feats} == expected
    assert len(feats) == len(expected)
    assert all(f.startswith(META_PREFIX) for f in feats)


def _meta_toy() -> LinearTextModel:
    return LinearTextModel(
        vocab=["\x00free", "\x01len1", "\x01promo1"],
        weights=np.array([2.0, 0.25, 1.5]),
        intercept=-0.5,
        calibration=(1.0, 0.0),
        meta={"kind": "spam", "version": "spam-test-1", "meta_features": True},
    )


def test_comment_signals_enter_once_and_unscaled(tmp_path):
    model = _meta_toy()
    # tokens: free, prize -> 2.0 / sqrt(2); signals len1 (0.25) and promo1 ("free": 1.5)
    assert model.decision("free prize") == pytest.approx(2.0 / np.sqrt(2) + 0.25 + 1.5 - 0.5)
    assert model.decision("") == pytest.approx(0.25 - 0.5)
    path = tmp_path / "spam.npz"
    model.save(path)
    loaded = LinearTextModel.load(path)
    assert loaded.uses_meta
    assert loaded.meta["format"] == 2
    assert loaded.probability("free prize") == model.probability("free prize")
    # A model without signals ignores them even if its vocabulary had such a name.
    plain = LinearTextModel(
        vocab=_meta_toy().vocab, weights=_meta_toy().weights, intercept=-0.5, calibration=(1.0, 0.0), meta={}
    )
    assert plain.decision("free prize") == pytest.approx(2.0 / np.sqrt(2) - 0.5)


def _toy() -> LinearTextModel:
    return LinearTextModel(
        vocab=["\x00free", "<fre", "\x00free prize", "\x00hello"],
        weights=np.array([2.0, 0.5, 1.0, -1.0]),
        intercept=-0.5,
        calibration=(1.0, 0.0),
        meta={"kind": "spam", "version": "spam-test-0"},
    )


def test_inference_matches_the_formula():
    model = _toy()
    # tokens: free, prize -> (2.0 + 0.5 + 0 + bigram 1.0) / sqrt(2) - 0.5
    z = (2.0 + 0.5 + 1.0) / np.sqrt(2) - 0.5
    assert model.decision("free prize") == pytest.approx(z)
    assert model.probability("FREE prize".lower()) == pytest.approx(1 / (1 + np.exp(-z)))
    assert model.decision("") == -0.5


def test_artifact_is_deterministic_and_safe(tmp_path):
    model = _toy()
    blob = model.to_bytes()
    assert blob == _toy().to_bytes()
    for info in zipfile.ZipFile(io.BytesIO(blob)).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
    path = tmp_path / "spam.npz"
    model.save(path)
    loaded = LinearTextModel.load(path)
    assert loaded.version == "spam-test-0"
    assert loaded.to_bytes() == blob
    assert loaded.probability("free prize") == model.probability("free prize")
    # Readable without pickle.
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"meta", "vocab", "weights"}


@pytest.mark.parametrize("kind", ["spam", "abuse"])
def test_shipped_artifacts_are_small_versioned_and_cached(kind):
    path = PACKAGE_MODELS_DIR / f"{kind}.npz"
    assert path.stat().st_size < 3_000_000
    model = load_model(kind)
    assert model is load_model(kind)
    assert model.version.startswith(f"{kind}-")
    assert model.version.endswith(model.meta["sha256"][:8])
    # The model's own verdict is p >= 0.5; the checks use the threshold set on this site.
    assert model.meta["threshold"] == 0.5
    assert model.threshold == model.meta["site_threshold"]
    assert 0.5 <= model.threshold < 1.0


def test_token_cache_stays_bounded_over_many_distinct_comments():
    # Every comment brings tokens no vocabulary holds (names, typos, codes): a worker that
    # reads 100,000 distinct comments must not keep them all.
    from moderation.filters.abuse import AbuseClassifierCheck
    from moderation.filters.classifiers import SpamClassifierCheck
    from moderation.filters.normalize import normalize
    from moderation.filters.types import Check, CommentInput
    from moderation.learning.loader import load_abuse_lexicon
    from moderation.learning.model import UNSEEN_TOKEN_LIMIT

    spam, abuse = load_model("spam"), load_model("abuse")
    checks: list[Check] = [SpamClassifierCheck(spam), AbuseClassifierCheck(abuse, load_abuse_lexicon())]
    sizes = []
    for i in range(20_000):
        text = f"My clinic kx{i}q said visit {i * 7919 % 100_003}zz and ask for nurse Qw{i}ert, damn"
        comment, norm = CommentInput(text), normalize(text)
        for check in checks:
            check(comment, norm)
        if i % 5_000 == 4_999:
            sizes.append((len(spam._token_cache), len(abuse._token_cache)))
    for model, size in zip((spam, abuse), zip(*sizes, strict=True), strict=True):
        assert max(size) <= len(model._known) + UNSEEN_TOKEN_LIMIT, size
    # The vocabulary's own words stay precomputed whatever was cleared.
    assert spam._known
    assert all(t in spam._token_cache for t in list(spam._known)[:100])
