from __future__ import annotations

import pytest

from moderation.filters.behaviour import BehaviourCheck
from moderation.filters.normalize import normalize
from moderation.filters.types import AuthorFacts, CommentInput, ReasonCode

TWO_LINKS = "Great read! see http://a.example.com and www.b-shop.net for cheap pills"


@pytest.mark.parametrize(
    ("facts", "text", "codes"),
    [
        (AuthorFacts(), TWO_LINKS, set()),
        (AuthorFacts(recent_same_text=1), "thanks", set()),
        (AuthorFacts(recent_same_text=2), "thanks", {ReasonCode.SPAM_DUPLICATE}),
        (AuthorFacts(recent_from_author=4), "hi", set()),
        (AuthorFacts(recent_from_author=5), "hi", {ReasonCode.SPAM_FLOOD}),
        (AuthorFacts(recent_from_ip=9), "hi", {ReasonCode.SPAM_FLOOD}),
        (AuthorFacts(is_first_comment=True), "one link http://a.example.com", set()),
        (AuthorFacts(is_first_comment=True), TWO_LINKS, {ReasonCode.SPAM_FIRST_POST_LINKS}),
        (AuthorFacts(is_first_comment=False), TWO_LINKS, set()),
        (
            AuthorFacts(is_first_comment=True, recent_same_text=3, recent_from_ip=6),
            TWO_LINKS,
            {ReasonCode.SPAM_DUPLICATE, ReasonCode.SPAM_FLOOD, ReasonCode.SPAM_FIRST_POST_LINKS},
        ),
    ],
)
def test_behaviour_reasons(facts, text, codes):
    result = BehaviourCheck()(CommentInput(text, facts=facts), normalize(text))
    assert {r.code for r in result.reasons} == codes
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())


def test_scores_grow_with_repeats_and_thresholds_are_injected():
    check = BehaviourCheck(duplicate_threshold=1, flood_threshold=2)
    text = "hi"
    few = check(CommentInput(text, facts=AuthorFacts(recent_same_text=1)), normalize(text)).reasons[0]
    many = check(CommentInput(text, facts=AuthorFacts(recent_same_text=9)), normalize(text)).reasons[0]
    assert few.score == pytest.approx(0.6)
    assert many.score == pytest.approx(0.95)
    flood = check(CommentInput(text, facts=AuthorFacts(recent_from_author=2)), normalize(text)).reasons
    assert [r.code for r in flood] == [ReasonCode.SPAM_FLOOD]


def test_first_post_link_span_is_original_offsets():
    text = "Ｈｉ！ visit http://a.example.com and www.b-shop.net"
    result = BehaviourCheck()(CommentInput(text, facts=AuthorFacts(is_first_comment=True)), normalize(text))
    (reason,) = result.reasons
    assert reason.span is not None
    assert text[reason.span[0] : reason.span[1]] == "http://a.example.com"
