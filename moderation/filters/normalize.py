"""Text normalisation shared by every check, with a map back to the original offsets.

Evasion tricks (zero-width characters, homoglyphs, accents and combining marks, leetspeak,
s p a c e d letters, looooong runs) are undone once per comment. Every view keeps, for
each of its characters, the span of the original text it came from, so a match in a view
reports a span in the text the commenter wrote.

Two views:

``text``
    NFKD with combining marks dropped, zero-width and control characters removed,
    casefolded, confusable letters folded to Latin. Digits are kept: dosing rules
    ("200mg") match here.
``folded``
    ``text`` with leetspeak undone (``k1ll`` -> ``kill``), spaced-out letters joined
    (``k i l l`` -> ``kill``) and runs of three or more of one letter squeezed to two.
    Word rules (profanity, insults, crisis phrases) match here.

The ASCII fast path (most comments) never builds offset arrays unless a deletion happens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Latin look-alikes from Cyrillic, Greek and a few symbol blocks (after casefolding).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ɡ": "g", "ӏ": "l", "ү": "y", "һ": "h", "ԛ": "q", "ԝ": "w",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ѵ": "v", "ɑ": "a",
        "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
    }
)  # fmt: skip

# Leetspeak: applied only to a symbol touching a letter and no digit, so "200mg" survives.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"})
_LEET_RE = re.compile(r"(?<![0-9])[013457@$!|](?![0-9])")
# Three or more single letters separated by one separator: "k i l l", "k.i.l.l", "f-u-c-k".
_SPACED_RE = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ .\-_*+]){2,}[^\W\d_](?![^\W\d_])")
_RUN_RE = re.compile(r"([^\W\d_])\1{2,}")
_ASCII_CONTROL = str.maketrans({chr(c): " " for c in range(32)} | {"\x7f": " "})


@dataclass(frozen=True, slots=True)
class View:
    """Normalised text plus, per character, the original span it came from."""

    text: str
    starts: tuple[int, ...] | None = None  # None: offsets are the identity
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the view's ``[start, end)`` (end exclusive)."""
        if self.starts is None or self.ends is None:
            return (start, end)
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return (pos, pos)
        return (self.starts[start], self.ends[end - 1])


@dataclass(frozen=True, slots=True)
class Normalized:
    original: str
    text: View
    folded: View


def _letter_neighbour(s: str, i: int) -> bool:
    return (i > 0 and s[i - 1].isalpha()) or (i + 1 < len(s) and s[i + 1].isalpha())


def _leet(view: View) -> View:
    s = view.text
    if not _LEET_RE.search(s):
        return view
    chars = list(s)
    for m in _LEET_RE.finditer(s):
        if _letter_neighbour(s, m.start()):
            chars[m.start()] = m.group().translate(_LEET)
    return View("".join(chars), view.starts, view.ends)  # 1:1, offsets unchanged


def _delete(view: View, drop: set[int]) -> View:
    if not drop:
        return view
    n = len(view.text)
    starts = view.starts if view.starts is not None else range(n)
    ends = view.ends if view.ends is not None else range(1, n + 1)
    keep = [i for i in range(n) if i not in drop]
    return View(
        "".join(view.text[i] for i in keep),
        tuple(starts[i] for i in keep),
        tuple(ends[i] for i in keep),
    )


def _fold(view: View) -> View:
    view = _leet(view)
    s = view.text
    drop: set[int] = set()
    for m in _SPACED_RE.finditer(s):
        drop.update(range(m.start() + 1, m.end(), 2))
    for m in _RUN_RE.finditer(s):
        drop.update(range(m.start() + 2, m.end()))
    return _delete(view, drop)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """NFKD, drop marks and invisible characters, casefold, fold confusables."""
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        cat = unicodedata.category(c)
        if cat in ("Mn", "Me", "Cf") or c in "\u034f\u115f\u1160\u3164\uffa0":
            continue  # combining marks, zero-width and format characters, Hangul fillers
        if cat in ("Cc", "Zl", "Zp", "Zs"):
            out.append(" ")
            continue
        out.append(c.casefold().translate(_CONFUSABLES))
    return "".join(out)


def _unicode_view(original: str) -> View:
    text: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(original):
        folded = _fold_char(ch)
        for c in folded:
            text.append(c)
            starts.append(i)
            ends.append(i + 1)
    return View("".join(text), tuple(starts), tuple(ends))


def normalize(original: str) -> Normalized:
    """Normalise ``original`` once for all checks."""
    if original.isascii():
        text = View(original.translate(_ASCII_CONTROL).lower())
    else:
        text = _unicode_view(original)
    return Normalized(original=original, text=text, folded=_fold(text))
