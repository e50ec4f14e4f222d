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
from collections.abc import Iterable
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

# Leetspeak: a run of these symbols touching a letter, and no other digit, is undone, so
# "b00bs", "a$$" and "sh1t" fold while "200mg" and "50mg" (a number with a unit) survive.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
)
_LEET_RUN_RE = re.compile(r"[013457@$!|]+")
_LEET_BYTES = b"013457@$!|"  # the characters of _LEET_RUN_RE
# Three or more single letters separated by one and the same separator: "k i l l",
# "k.i.l.l", "f-u-c-k". A letter after an apostrophe ("don't") never starts a run.
_SPACED_RE = re.compile(r"(?<![\w'’])[^\W\d_]([ .\-_*+])(?:[^\W\d_]\1)+[^\W\d_](?![\w'’])")
# "I" and "a" are words: "I w a n t" is "i want", "a d o c t o r" is "a doctor". A run spaced
# with blanks is joined whole only when it spells one of these stems ("a s s", "i d i o t").
_WORD_LETTERS = ("i", "a")
_JOINED_STEMS = ("ass", "arse", "anal", "anti", "idiot", "imbecil", "incel", "insane", "asinine")
# Nor is the first letter split off when what would remain cannot begin an English word: "a l c
# o h o l" is "alcohol", "a d d i c t e d" "addicted", "i n f u s i o n" "infusion" (no word
# begins "lc", "dd" or "nf"). What remains can begin a word when its first or second letter is a
# vowel (or y), or its first two are one of these onsets.
_VOWELS = frozenset("aeiouy")
_ONSETS = frozenset(
    [
        "bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gh", "gl", "gn", "gr", "kl", "kn",
        "kr", "ph", "pl", "pn", "pr", "ps", "rh", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "sq",
        "st", "sv", "sw", "th", "tr", "tw", "wh", "wr",
    ]
)  # fmt: skip


def _can_begin_word(letters: str) -> bool:
    return letters[0] in _VOWELS or letters[1] in _VOWELS or letters[:2] in _ONSETS


# A necessary condition for _SPACED_RE that starts with a character set, which the regex
# engine scans for quickly; the full pattern runs only when this finds something.
_SPACED_PRE_RE = re.compile(r"[ .\-_*+][^\W\d_][ .\-_*+][^\W\d_](?![^\W\d_])")
# The same on ASCII text, where [^\W\d_] is [A-Za-z]: a character class scans faster.
_SPACED_PRE_ASCII_RE = re.compile(r"[ .\-_*+][A-Za-z][ .\-_*+][A-Za-z](?![A-Za-z])")
_RUN_RE = re.compile(r"([^\W\d_])\1{2,}")
_RUN_ASCII_RE = re.compile(r"([a-z])\1{2,}")  # same on ASCII text, three times faster
_ASCII_CONTROL = str.maketrans({chr(c): " " for c in range(32)} | {"\x7f": " "})
# The same on bytes, with upper-case letters lowered too (what str.lower() does on ASCII).
_ASCII_LOWER_BYTES = bytes(32 if b < 32 or b == 127 else b + 32 if 65 <= b <= 90 else b for b in range(256))
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


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
    # False only when ``original`` has no three equal characters in a row (checks looking
    # for longer runs can skip their scan); always True for non-ASCII text.
    may_repeat: bool = True


def may_have_leet(s: str) -> bool:
    """False only when ``s`` has none of the characters leetspeak folding reads: on ASCII
    text, deleting them from the bytes is several times faster than scanning for them."""
    if not s.isascii():
        return True
    raw = s.encode("ascii")
    return len(raw.translate(None, _LEET_BYTES)) != len(raw)


def _leet(view: View) -> View:
    s = view.text
    if not may_have_leet(s) or not _LEET_RUN_RE.search(s):
        return view
    chars: list[str] | None = None
    n = len(s)
    for m in _LEET_RUN_RE.finditer(s):
        a, b = m.span()
        before = s[a - 1] if a > 0 else ""
        after = s[b] if b < n else ""
        if before.isdigit() or after.isdigit():
            continue  # part of a longer number: "200mg", "2015"
        left, right = before.isalpha(), after.isalpha()
        if not (left or right):
            continue  # a bare number or symbol: "50 pills", "$ 5"
        if not right and m.group().strip("!|") == "":
            continue  # punctuation closing a word: "idiot!", "stop!!"
        if not left and b - a > 1 and m.group().isdigit():
            continue  # a number with a unit: "50mg", "10x"
        if chars is None:
            chars = list(s)
        chars[a:b] = m.group().translate(_LEET)
    if chars is None:
        return view
    return View("".join(chars), view.starts, view.ends)  # 1:1, offsets unchanged


def _delete(view: View, drop: set[int], stretch: dict[int, int]) -> View:
    """``view`` without the characters in ``drop``; a kept character ``i`` in ``stretch``
    also covers the original text of the dropped ones up to ``stretch[i]``."""
    if not drop:
        return view
    n = len(view.text)
    starts = view.starts if view.starts is not None else range(n)
    ends = view.ends if view.ends is not None else range(1, n + 1)
    keep = [i for i in range(n) if i not in drop]
    return View(
        "".join(view.text[i] for i in keep),
        tuple(starts[i] for i in keep),
        tuple(ends[stretch.get(i, i)] for i in keep),
    )


def may_have_run(s: str, length: int) -> bool:
    """False only when ``s`` has no ``length`` equal characters in a row: a necessary
    condition for a regex like ``(.)\\1{2,}``, tested without a per-position regex step.
    Non-ASCII text always gets True (the caller then runs its regex).

    ``d[i]`` (the XOR of each character with the next) is 0 exactly where ``s[i] ==
    s[i + 1]``, so a run of ``length`` is ``length - 1`` zero bytes in a row.
    """
    n = len(s)
    if n < length:
        return False
    if length < 2 or not s.isascii():
        return True
    b = s.encode("ascii")
    d = (int.from_bytes(b[:-1], "big") ^ int.from_bytes(b[1:], "big")).to_bytes(n - 1, "big")
    return b"\0" * (length - 1) in d


def _has_triple(s: str) -> bool:
    """Whether ASCII ``s`` may hold a _RUN_ASCII_RE match (three equal characters in a row)."""
    return may_have_run(s, 3)


def _fold(view: View, triple: bool | None = None) -> View:
    """``triple``: :func:`_has_triple` of ``view.text`` when already known."""
    unfolded = view
    view = _leet(view)
    if view is not unfolded:
        triple = None  # leetspeak changed the text
    s = view.text
    drop: set[int] = set()
    stretch: dict[int, int] = {}
    is_ascii = s.isascii()
    if (_SPACED_PRE_ASCII_RE if is_ascii else _SPACED_PRE_RE).search(s):
        for m in _SPACED_RE.finditer(s):
            start = m.start()
            letters = m.group()[::2]
            if (
                m.group(1) == " "
                and letters[0] in _WORD_LETTERS
                and len(letters) > 3
                and not letters.startswith(_JOINED_STEMS)
                and _can_begin_word(letters[1:])
            ):
                start += 2  # keep "i " / "a " as a word of its own
            drop.update(range(start + 1, m.end(), 2))
    if not is_ascii:
        runs: Iterable[re.Match[str]] = _RUN_RE.finditer(s)
    elif triple if triple is not None else _has_triple(s):
        runs = _RUN_ASCII_RE.finditer(s)
    else:
        runs = ()
    for m in runs:
        drop.update(range(m.start() + 2, m.end()))
        stretch[m.start() + 1] = m.end() - 1  # "soooo" -> "soo", the last o spans "ooo"
    return _delete(view, drop, stretch)


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


def _ascii_lower(s: str) -> str:
    """``s.translate(_ASCII_CONTROL).lower()`` for ASCII ``s``, as one bytes translation."""
    return s.encode("ascii").translate(_ASCII_LOWER_BYTES).decode("ascii")


def _unicode_view(original: str) -> View:
    # Fold the non-ASCII runs character by character and the ASCII stretches between them
    # in bulk (most non-ASCII comments only have a curly apostrophe or an emoji).
    pieces: list[str] = []
    runs: list[tuple[int, int, list[str]]] = []
    regular = True
    pos = 0
    for m in _NON_ASCII_RE.finditer(original):
        a, b = m.span()
        if a > pos:
            pieces.append(_ascii_lower(original[pos:a]))
        folded = [_fold_char(ch) for ch in m.group()]
        regular = regular and all(len(f) == 1 for f in folded)
        pieces.extend(folded)
        runs.append((a, b, folded))
        pos = b
    if pos < len(original):
        pieces.append(_ascii_lower(original[pos:]))
    text = "".join(pieces)
    if regular:
        return View(text)  # one character for one: offsets are the identity
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for a, b, folded in runs:
        starts.extend(range(pos, a))
        ends.extend(range(pos + 1, a + 1))
        for i, f in enumerate(folded, start=a):
            starts.extend([i] * len(f))
            ends.extend([i + 1] * len(f))
        pos = b
    starts.extend(range(pos, len(original)))
    ends.extend(range(pos + 1, len(original) + 1))
    return View(text, tuple(starts), tuple(ends))


def normalize(original: str) -> Normalized:
    """Normalise ``original`` once for all checks."""
    if not original.isascii():
        text = _unicode_view(original)
        return Normalized(original=original, text=text, folded=_fold(text))
    text = View(_ascii_lower(original))
    # The text view maps the original one character for one (equal to equal): a run in
    # the original is a run in it.
    triple = _has_triple(text.text)
    return Normalized(original=original, text=text, folded=_fold(text, triple), may_repeat=triple)
