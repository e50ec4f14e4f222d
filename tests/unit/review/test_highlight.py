"""Highlight segments from stored reason spans (pure)."""

from __future__ import annotations

import pytest

from moderation.review.highlight import segments


def _r(start: int, end: int, category: str = "spam", code: str = "c") -> dict[str, object]:
    return {"span": [start, end], "category": category, "code": code}


@pytest.mark.parametrize(
    ("text", "reasons", "expected"),
    [
        ("hello", [], [("hello", ())]),
        ("buy now", [_r(0, 3)], [("buy", ("spam",)), (" now", ())]),
        (
            "abcdef",
            [_r(1, 4, "crisis"), _r(2, 6, "abuse")],
            [("a", ()), ("b", ("crisis",)), ("cd", ("crisis", "abuse")), ("ef", ("abuse",))],
        ),
        ("abc", [_r(-5, 99)], [("abc", ("spam",))]),  # clamped to the text
        ("abc", [_r(2, 2), {"span": None, "category": "x"}, {"category": "y"}], [("abc", ())]),
        ("<b>x</b>", [_r(0, 3)], [("<b>", ("spam",)), ("x</b>", ())]),
    ],
)
def test_segments(
    text: str, reasons: list[dict[str, object]], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    result = segments(text, reasons)
    assert [(s.text, s.categories) for s in result] == expected
    assert "".join(s.text for s in result) == text


def test_most_serious_category_picks_the_colour() -> None:
    (_, both, _) = segments("a bc d", [_r(2, 4, "spam"), _r(2, 4, "crisis")])
    assert both.category == "crisis"
    assert both.marked
