"""Behaviour signals turned into spam reasons: duplicates, floods, a first comment full of links.

The facts (how often this text, this author, this IP posted recently; whether this is the
author's first comment) are gathered before the checks run, by
``moderation.clients.behaviour``; this check only applies thresholds to them.
"""

from __future__ import annotations

import re

from moderation.filters.normalize import Normalized
from moderation.filters.types import AuthorFacts, Category, CheckResult, CommentInput, Reason, ReasonCode

_NO_FACTS = AuthorFacts()
_LINK_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|ly|co|io|info|biz|me|ru|xyz)\b")


class BehaviourCheck:
    name = "behaviour"

    def __init__(
        self,
        *,
        duplicate_threshold: int = 2,
        flood_threshold: int = 5,
        first_post_links: int = 2,
        duplicate_score: float = 0.6,
        flood_score: float = 0.6,
        first_post_links_score: float = 0.5,
        version: str = "behaviour-1",
    ) -> None:
        """Thresholds are counts of *earlier* comments in the store's window.

        ``duplicate_threshold=2``: the third copy of a text is a duplicate (two readers may
        well both write "thank you for this"). Each further copy or flood comment raises
        the score by a tenth, up to 0.95, so a bot repeating itself is rejected.
        """
        self.duplicate_threshold = duplicate_threshold
        self.flood_threshold = flood_threshold
        self.first_post_links = first_post_links
        self.duplicate_score = duplicate_score
        self.flood_score = flood_score
        self.first_post_links_score = first_post_links_score
        self.version = version
        # With no facts (all counts 0) no threshold above 0 is reached: the result is known.
        self._nothing_without_facts = duplicate_threshold > 0 and flood_threshold > 0
        # That result, built once (a result is never changed after it is made).
        self._nothing = CheckResult(
            self.name, version, (), {"behaviour_duplicate": 0.0, "behaviour_flood": 0.0}
        )

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:
        facts = comment.facts
        if self._nothing_without_facts and facts == _NO_FACTS:  # the usual input: nothing to find
            return self._nothing
        reasons: list[Reason] = []
        if facts.recent_same_text >= self.duplicate_threshold:
            extra = facts.recent_same_text - self.duplicate_threshold
            reasons.append(
                Reason(
                    ReasonCode.SPAM_DUPLICATE,
                    Category.SPAM,
                    None,
                    f"same text posted {facts.recent_same_text} times recently",
                    "duplicate",
                    min(0.95, self.duplicate_score + 0.1 * extra),
                )
            )
        flood = max(facts.recent_from_author, facts.recent_from_ip)
        if flood >= self.flood_threshold:
            who = "author" if facts.recent_from_author >= facts.recent_from_ip else "IP address"
            reasons.append(
                Reason(
                    ReasonCode.SPAM_FLOOD,
                    Category.SPAM,
                    None,
                    f"{flood} recent comments from this {who}",
                    "flood",
                    min(0.95, self.flood_score + 0.1 * (flood - self.flood_threshold)),
                )
            )
        if facts.is_first_comment:
            links = list(_LINK_RE.finditer(norm.text.text))
            if len(links) >= self.first_post_links:
                reasons.append(
                    Reason(
                        ReasonCode.SPAM_FIRST_POST_LINKS,
                        Category.SPAM,
                        norm.text.span(links[0].start(), links[0].end()),
                        f"first comment with {len(links)} links",
                        "first_post_links",
                        self.first_post_links_score,
                    )
                )
        counts = {
            "recent_same_text": float(facts.recent_same_text),
            "recent_from_author": float(facts.recent_from_author),
            "recent_from_ip": float(facts.recent_from_ip),
        }
        # Scores must stay in 0..1: record the counts as fractions of their thresholds, capped.
        scores = {
            "behaviour_duplicate": min(1.0, counts["recent_same_text"] / max(self.duplicate_threshold, 1)),
            "behaviour_flood": min(1.0, float(flood) / max(self.flood_threshold, 1)),
        }
        return CheckResult(self.name, self.version, tuple(reasons), scores)
