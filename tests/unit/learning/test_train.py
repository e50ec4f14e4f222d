"""Training: reproducible bit for bit, learns from one moderator label, meets the targets."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from moderation.filters.normalize import normalize
from moderation.learning import data as datasets
from moderation.learning import pinned
from moderation.learning.loader import PACKAGE_MODELS_DIR, load_model
from moderation.learning.train import (
    SITE_EXAMPLES,
    SPAM,
    evaluate,
    extra_examples,
    fit_model,
    site_examples,
    train,
)

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


def test_shipped_abuse_model_meets_its_target(data_dir):
    _, held_out = datasets.davidson_split(data_dir)
    davidson = evaluate(load_model("abuse"), held_out)
    assert davidson.n == 4957
    assert davidson.macro_f1 >= 0.92


def test_shipped_spam_model_holds_its_measured_level(data_dir):
    # Guards against regressions while the 0.97 target below is still open.
    shakira = evaluate(load_model("spam"), datasets.spam_held_out(data_dir))
    assert shakira.n == 370
    assert shakira.accuracy >= 0.96
    assert shakira.f1 >= 0.955


@pytest.mark.xfail(
    strict=True,
    reason="issue 9 target not met yet: Shakira accuracy 0.965, F1 0.962 (< 0.97); strict: a pass fails",
)
def test_shipped_spam_model_meets_the_target(data_dir):
    shakira = evaluate(load_model("spam"), datasets.spam_held_out(data_dir))
    assert shakira.accuracy >= 0.97
    assert shakira.f1 >= 0.97


def test_shipped_artifacts_record_the_installed_numerics():
    # Bit-for-bit reproduction needs the library versions the artifacts were trained with
    # (pinned in pyproject.toml) and the pinned kernels (moderation.learning.pinned).
    for kind in ("spam", "abuse"):
        recorded = load_model(kind).meta["trained_with"]
        installed = {name: metadata.version(name) for name in pinned.LIBRARIES}
        assert {k: recorded[k] for k in installed} == installed, f"retrain {kind} or pin {recorded}"
        assert {k: recorded[k] for k in pinned.PINNED} == pinned.PINNED


# One kind per test: each retrain takes one to two minutes on a loaded two-core machine.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", ["spam", "abuse"])
def test_shipped_artifacts_are_reproduced_byte_for_byte(tmp_path, data_dir, kind):
    # As `moderation train` trains: in a fresh interpreter with the pinned kernels.
    date = load_model(kind).version.split("-")[1]
    (entry,) = pinned.train_pinned(
        data_dir=data_dir,
        output=tmp_path,
        current_dir=PACKAGE_MODELS_DIR,
        date=date,
        tolerance=0.0,
        kinds=(kind,),
    )
    assert entry["promoted"], entry  # the same model is "not worse" than itself
    assert entry["candidate"] == entry["current"]
    assert entry["candidate_version"] == load_model(kind).version
    assert (tmp_path / f"{kind}.npz").read_bytes() == (PACKAGE_MODELS_DIR / f"{kind}.npz").read_bytes()


def test_training_refuses_to_run_unpinned():
    env = {k: v for k, v in os.environ.items() if k not in pinned.PINNED}
    done = subprocess.run(
        [sys.executable, "-m", "moderation.learning.pinned"],
        input="{}",
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "not pinned" in done.stderr
    assert pinned.is_pinned(pinned.pinned_env(env))


@pytest.mark.timeout(600)  # a full spam retrain, as above: 20 s here, minutes under load
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
    assert (SPAM.C, SPAM.aux_weight, SPAM.min_df, SPAM.min_groups) == (7.0, 0.1, 2, 2)
    assert SPAM.meta


def test_youtube_examples_carry_their_video(data_dir):
    groups = {e.group for e in datasets.spam_train(data_dir) if e.source == "youtube"}
    assert groups == {name.removesuffix(".csv") for name in datasets.YOUTUBE_TRAIN}
    assert {e.group for e in datasets.spam_held_out(data_dir)} == {"Youtube05-Shakira"}


def test_site_examples_are_the_tune_split_only():
    # The package ships the tune split of the labelled corpus, never the measure split.
    corpus = Path(__file__).resolve().parents[2] / "data" / "comments.jsonl"
    with corpus.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    tune = [{"id": r["id"], "text": r["text"], "label": r["label"]} for r in rows if r["split"] == "tune"]
    with SITE_EXAMPLES.open(encoding="utf-8") as fh:
        shipped = [json.loads(line) for line in fh if line.strip()]
    assert shipped == tune
    spam, abuse = site_examples("spam"), site_examples("abuse")
    assert [e.text for e in spam] == [r["text"] for r in tune]
    assert sum(e.label for e in spam) == sum(r["label"] == "spam" for r in tune)
    assert sum(e.label for e in abuse) == sum(r["label"] == "abuse" for r in tune)
    assert site_examples("spam", None) == []


def test_site_examples_at_weight_zero_only_set_the_threshold(small_spam):
    site = site_examples("spam")
    plain = fit_model("spam", small_spam, params=SMALL, date="2026.01.01")
    model = fit_model("spam", small_spam, site=site, params=SMALL, date="2026.01.01")
    assert model.vocab == plain.vocab
    assert model.weights.tobytes() == plain.weights.tobytes()
    assert model.calibration == plain.calibration
    info = model.meta["site"]
    assert info["examples"] == len(site)
    assert info["weight"] == 0.0
    assert info["false_positive_rate"] <= SMALL.site_max_fpr
    assert model.threshold == model.meta["site_threshold"] >= 0.5
    negatives = [normalize(e.text).text.text for e in site if not e.label]
    flagged = sum(model.probability(t) >= model.threshold for t in negatives)
    assert round(flagged / len(negatives), 4) == info["false_positive_rate"]


def test_site_examples_with_weight_are_learned_out_of_fold(small_spam):
    site = site_examples("spam")
    params = dataclasses.replace(SMALL, site_weight=5.0)
    model = fit_model("spam", small_spam, site=site, params=params, date="2026.01.01")
    plain = fit_model("spam", small_spam, params=SMALL, date="2026.01.01")
    assert model.meta["examples"] == len(small_spam) + len(site)
    assert model.meta["site"]["false_positive_rate"] <= params.site_max_fpr
    # Trained on, the site's harmless comments score lower than under the corpora-only model.
    negatives = [normalize(e.text).text.text for e in site if not e.label]
    assert sum(map(model.probability, negatives)) < sum(map(plain.probability, negatives))
