"""Text cleaning and tokens shared, byte for byte, by training and inference.

The input is the ``text`` view of :func:`moderation.filters.normalize.normalize` (casefolded,
accents and invisible characters removed). Links, e-mail addresses, @mentions and phone-like
numbers become placeholder tokens (``zurlz`` plus the link's domain, ``zemailz``, ``zuserz``,
``znumz``) so the model learns "has a link" rather than one spammer's URL. HTML entities and
tags, which the YouTube and Twitter corpora keep, are undone first.

A comment's features are its tokens, each token's character 3-5-grams (``<word>``-padded, as
scikit-learn's ``char_wb``) and adjacent-token bigrams. Because the character grams never
cross a token boundary, a token's whole contribution to a linear score can be cached, which
is what makes inference cost a few microseconds (see :mod:`moderation.learning.model`).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence

CHAR_NGRAMS = (3, 5)
# Marks a word/bigram feature so it can never collide with a character gram.
WORD_PREFIX = "\x00"

_TAG_RE = re.compile(r"<[^>]*>")
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MENTION_RE = re.compile(r"(?:\brt\s+)?@\w+:?")
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|ly|co|io|info|biz|me|tv|uk|gl|gd|us|ws|to|be|ru|pl|de|xyz)\b"
    r"(?:/\S*)?"
)
_URL_HOST_RE = re.compile(r"^(?:https?://)?(?:www\.)?")
# Every match of _URL_RE contains one of these, so a miss here skips the slow pattern.
_URL_HINT_RE = re.compile(
    r"https?://|www\.|\.(?:com|net|org|ly|co|io|info|biz|me|tv|uk|gl|gd|us|ws|to|be|ru|pl|de|xyz)\b"
)
_SPACE_SPLIT_RE = re.compile(r"(\s+)")
_NUM_RE = re.compile(r"\d(?:[\d ()-]{3,}\d)")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]+")


def _url_token(match: re.Match[str]) -> str:
    host = _URL_HOST_RE.sub("", match.group()).split("/", 1)[0].split(".")
    # "zurlz youtube": a link and the name under its public suffix (bit, youtube, ...).
    return " zurlz " + (host[-2] if len(host) > 1 else "") + " "


def prepare(text: str) -> str:
    """Clean a normalised (casefolded) text: entities, tags, links, handles, numbers."""
    # Each substitution runs only when a cheap test says it can match: most comments have
    # no link, tag or number, and the link pattern is the slow one.
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    if "@" in text:
        text = _EMAIL_RE.sub(" zemailz ", text)
        text = _MENTION_RE.sub(" zuserz ", text)
    if _URL_HINT_RE.search(text):
        # No link match spans whitespace, so matching chunk by chunk gives the same result
        # while sparing the pattern's backtracking on every other word.
        text = "".join(
            _URL_RE.sub(_url_token, part) if _URL_HINT_RE.search(part) else part
            for part in _SPACE_SPLIT_RE.split(text)
        )
    text = _NUM_RE.sub(" znumz ", text)
    return " ".join(text.split())


def tokens(prepared: str) -> list[str]:
    """Words and runs of punctuation (``!!!``, ``$``, emoji) of a prepared text."""
    return _TOKEN_RE.findall(prepared)


def token_features(token: str) -> list[str]:
    """The token itself plus its padded character n-grams."""
    padded = "<" + token + ">"
    n = len(padded)
    out = [WORD_PREFIX + token]
    for k in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        out.extend(padded[i : i + k] for i in range(n - k + 1))
    return out


def bigram_features(toks: Sequence[str]) -> list[str]:
    return [WORD_PREFIX + a + " " + b for a, b in itertools.pairwise(toks)]


def features(prepared: str) -> tuple[list[str], int]:
    """Every feature occurrence of a prepared text, and the token count used to scale them."""
    toks = tokens(prepared)
    out: list[str] = []
    for tok in toks:
        out.extend(token_features(tok))
    out.extend(bigram_features(toks))
    return out, max(len(toks), 1)
