"""Training: reproducible bit for bit, learns from one moderator label, meets the targets."""

from __future__ import annotations

import dataclasses

import pytest

from moderation.filters.normalize import normalize
from moderation.learning import data as datasets
from moderation.learning.loader import PACKAGE_MODELS_DIR, load_model
from moderation.learning.train import SPAM, evaluate, extra_examples, fit_model, train

pytestmark = pytest.mark.shared_data

# The shipped spam parameters on a smaller corpus (see ``small_spam``).
SMALL = dataclasses.replace(SPAM, folds=3)


@pytest.fixture(scope="module")
def data_dir():
    return datasets.default_data_dir()


@pytest.fixture(scope="module")
def small_spam(data_dir):
    # Every YouTube training comment and the first 600 SMS: a few seconds to train.
    examples = datasets.spam_train(data_dir)
    youtube = [e for e in examples if e.source == "youtube"]
    sms = [e for e in examples if e.source == "sms"][:600]
    return youtube + sms


def test_training_is_reproducible_bit_for_bit(small_spam):
    a = fit_model("spam", small_spam, params=SMALL, date="2026.01.01")
    b = fit_model("spam", small_spam, params=SMALL, date="2026.01.01")
    assert a.to_bytes() == b.to_bytes()
    assert a.version == b.version


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # A real reader's comment the corpora-trained model calls spam ...
        ("Please subscribe to my newsletter about recovery from depression, it is free", "ham"),
        # ... and a spam the model lets through.
        ("Loved the article. Ask me about the clinic in Tijuana, they helped my cousin", "spam"),
    ],
)
def test_one_moderator_label_flips_the_next_models_verdict(small_spam, text, label):
    view = normalize(text).text.text
    before = fit_model("spam", small_spam, params=SMALL, date="2026.01.01")
    was_spam = before.probability(view) >= 0.5
    assert was_spam is (label == "ham"), before.probability(view)
    extra = extra_examples("spam", [(text, label)])
    after = fit_model("spam", small_spam, extra, params=SMALL, date="2026.01.01")
    assert (after.probability(view) >= 0.5) is (label == "spam"), after.probability(view)
    assert after.version != before.version
    assert after.meta["moderator_labels"] == 1


def test_labels_map_to_models():
    labels = [("a", "spam"), ("b", "ham"), ("c", "abuse"), ("d", "ok")]
    assert [(e.text, e.label) for e in extra_examples("spam", labels)] == [("a", 1), ("b", 0), ("d", 0)]
    assert [(e.text, e.label) for e in extra_examples("abuse", labels)] == [("b", 0), ("c", 1), ("d", 0)]


def test_shipped_models_meet_the_targets(data_dir):
    shakira = evaluate(load_model("spam"), datasets.spam_held_out(data_dir))
    assert shakira.n == 370
    assert shakira.accuracy >= 0.97
    assert shakira.f1 >= 0.97
    _, held_out = datasets.davidson_split(data_dir)
    davidson = evaluate(load_model("abuse"), held_out)
    assert davidson.n == 4957
    assert davidson.macro_f1 >= 0.92


# One kind per test: each retrain takes one to two minutes on a loaded two-core machine.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", ["spam", "abuse"])
def test_shipped_artifacts_are_reproduced_byte_for_byte(tmp_path, data_dir, kind):
    date = load_model(kind).version.split("-")[1]
    report = train(
        data_dir=data_dir,
        output=tmp_path,
        current_dir=PACKAGE_MODELS_DIR,
        date=date,
        tolerance=0.0,
        kinds=(kind,),
    )
    entry = report.by_kind(kind)
    assert entry.promoted, entry  # the same model is "not worse" than itself
    assert entry.candidate == entry.current
    assert (tmp_path / f"{kind}.npz").read_bytes() == (PACKAGE_MODELS_DIR / f"{kind}.npz").read_bytes()


def test_a_worse_candidate_is_not_promoted(tmp_path, data_dir, small_spam):
    # The current model in the output directory is the full one; a candidate trained with
    # every Shakira-like comment mislabelled is worse and must not replace it.
    (tmp_path / "spam.npz").write_bytes((PACKAGE_MODELS_DIR / "spam.npz").read_bytes())
    flipped = [(e.text, "ham" if e.label else "spam") for e in small_spam if e.source == "youtube"][:400]
    report = train(data_dir=data_dir, output=tmp_path, labels=flipped, kinds=("spam",), tolerance=0.0)
    entry = report.by_kind("spam")
    assert not entry.promoted
    assert (tmp_path / "spam.npz").read_bytes() == (PACKAGE_MODELS_DIR / "spam.npz").read_bytes()


def test_spam_params_are_the_documented_ones():
    assert (SPAM.C, SPAM.aux_weight, SPAM.min_df) == (30.0, 0.1, 2)
    assert SPAM.meta


def test_youtube_examples_carry_their_video(data_dir):
    groups = {e.group for e in datasets.spam_train(data_dir) if e.source == "youtube"}
    assert groups == {name.removesuffix(".csv") for name in datasets.YOUTUBE_TRAIN}
    assert {e.group for e in datasets.spam_held_out(data_dir)} == {"Youtube05-Shakira"}
