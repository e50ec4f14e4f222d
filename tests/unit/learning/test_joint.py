"""The joint spam+abuse scorer gives exactly the probabilities of the models alone."""

from __future__ import annotations

import json
from pathlib import Path

from bench import corpus
from moderation.learning.joint import JointScorer
from moderation.learning.loader import classifier_checks, model_path
from moderation.learning.model import UNSEEN_TOKEN_LIMIT, LinearTextModel

COMMENTS = Path(__file__).resolve().parents[2] / "data" / "comments.jsonl"


def fresh(kind: str) -> LinearTextModel:
    return LinearTextModel.load(model_path(kind))


def test_joint_probabilities_are_bit_identical_to_each_model_alone():
    spam, abuse = fresh("spam"), fresh("abuse")
    scorer = JointScorer([fresh("spam"), fresh("abuse")])
    with COMMENTS.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    texts += [*corpus.mixed_lengths(1500, seed=5), "", "!!", "a", "zq", "http://x.example buy now!!"]
    # Unseen tokens beyond the cache limit: the joint cache is cleared and refilled meanwhile.
    texts += [f"{t} zq{i}x" for i, t in enumerate(texts * 3)]
    assert len(texts) > UNSEEN_TOKEN_LIMIT
    differ = [t for t in texts if scorer.probabilities(t) != (spam.probability(t), abuse.probability(t))]
    assert differ == []
    assert len(scorer._token_cache) <= len(scorer._known) + UNSEEN_TOKEN_LIMIT


def test_models_scored_jointly_build_no_tables_of_their_own():
    models = [fresh("spam"), fresh("abuse")]
    scorer = JointScorer(models)
    scorer.probabilities("buy cheap followers now, you idiot")
    for model in models:
        assert not {"_known", "_token_cache", "_bigrams"} & set(vars(model))
    # A model alone still scores through its own tables.
    assert models[0].probability("hello") == fresh("spam").probability("hello")


def test_the_last_text_is_remembered_for_the_second_check():
    scorer = JointScorer([fresh("spam"), fresh("abuse")])
    text = "check out my channel for free stuff"
    first = scorer.probabilities(text)
    assert scorer.probabilities(text) is first
    assert scorer.probabilities(text + " ") is not first


def test_the_pipeline_checks_share_one_scorer():
    spam_check, abuse_check, _ = classifier_checks()
    spam_view, abuse_view = spam_check.model, abuse_check.model  # type: ignore[attr-defined]
    assert spam_view.scorer is abuse_view.scorer
    assert (spam_view.version, abuse_view.version) == (fresh("spam").version, fresh("abuse").version)
    assert (spam_view.threshold, abuse_view.threshold) == (fresh("spam").threshold, fresh("abuse").threshold)
