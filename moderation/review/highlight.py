"""Split a comment into plain and highlighted segments from its stored reason spans. Pure.

The page renders each segment's text through Jinja's autoescaping, so the markup around a
highlight comes from the template and never from the comment.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    # Categories and reason codes of every span covering this segment; empty = plain text.
    categories: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()

    @property
    def marked(self) -> bool:
        return bool(self.categories)

    @property
    def category(self) -> str:
        """The most serious category, which picks the highlight colour."""
        return min(self.categories, key=lambda c: SEVERITY.get(c, len(SEVERITY)))


SEVERITY = {"crisis": 0, "unsafe_medical": 1, "abuse": 2, "profanity": 3, "spam": 4, "system": 5}


def segments(text: str, reasons: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """Cut ``text`` at every span boundary. Spans out of range or empty are ignored, and
    overlapping spans mark the overlap with both their categories."""
    spans: list[tuple[int, int, str, str]] = []
    for reason in reasons:
        span = reason.get("span")
        if not span or len(span) != 2:
            continue
        start, end = int(span[0]), int(span[1])
        start, end = max(0, start), min(len(text), end)
        if start < end:
            spans.append((start, end, str(reason.get("category", "")), str(reason.get("code", ""))))
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    out: list[Segment] = []
    for left, right in itertools.pairwise(cuts):
        covering = [(c, k) for s, e, c, k in spans if s <= left and right <= e]
        cats = tuple(dict.fromkeys(c for c, _ in covering))
        codes = tuple(dict.fromkeys(k for _, k in covering))
        piece = text[left:right]
        if out and not cats and not out[-1].categories:
            out[-1] = Segment(out[-1].text + piece)
        else:
            out.append(Segment(piece, cats, codes))
    return out
