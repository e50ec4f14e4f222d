"""Text cleaning and tokens shared, byte for byte, by training and inference.

The input is the ``text`` view of :func:`moderation.filters.normalize.normalize` (casefolded,
accents and invisible characters removed). Links, e-mail addresses, @mentions and phone-like
numbers become placeholder tokens (``zurlz`` plus the link's domain, ``zemailz``, ``zuserz``,
``znumz``) so the model learns "has a link" rather than one spammer's URL. HTML entities and
tags, which the YouTube and Twitter corpora keep, are undone first, and runs of four or more of
one character are cut to three.

A comment's features are its tokens, each token's character 3-5-grams (``<word>``-padded, as
scikit-learn's ``char_wb``) and adjacent-token bigrams. Because the character grams never
cross a token boundary, a token's whole contribution to a linear score can be cached, which
is what makes inference cost a few microseconds (see :mod:`moderation.learning.model`).

The spam model also reads a handful of comment-level signals (:func:`meta_features`): length,
whether it links and where to, how many promotional and on-topic words it uses, shouting
punctuation, digits, promotional phrases and self-reference. Words are tied to one site's
vocabulary; these signals are what spam on a new page has in common with spam on the old
ones (leave-one-video-out CV on YouTube 01-04: 0.943 -> 0.95 accuracy).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence

from moderation.filters.normalize import may_have_run

CHAR_NGRAMS = (3, 5)
# Marks a word/bigram feature so it can never collide with a character gram.
WORD_PREFIX = "\x00"
# Marks a comment-level signal; these are not scaled by the comment's length.
META_PREFIX = "\x01"

# Words that ask the reader to do something for the writer, or sell something.
PROMO_WORDS = frozenset(
    [
        "subscribe", "sub", "subs", "subscribing", "subscriber", "channel", "check", "visit", "follow",
        "share", "click", "free", "money", "win", "cash", "earn", "website", "site", "page", "blog",
        "watch", "my", "please", "plz", "pls", "help", "vote", "like", "thumbs", "add", "join",
        "download", "offer", "gift", "card", "cheap", "buy", "sell", "promo", "views", "facebook",
        "twitter", "instagram", "google", "paypal", "youtube", "support", "new", "music", "cover"
    ]
)  # fmt: skip
# Words of readers talking about what they read or watched.
TOPIC_WORDS = frozenset(
    [
        "song", "songs", "music", "video", "dance", "dancing", "love", "best", "beautiful", "voice",
        "lyrics", "listen", "singer", "billion", "million", "views", "awesome", "amazing", "good",
        "great", "nice", "cool", "favorite", "favourite", "lol", "funny", "year", "years", "still",
        "ever", "who", "old", "back", "remember", "world"
    ]
)  # fmt: skip
PROMO_PHRASES = frozenset(
    [
        ("check", "out"),
        ("my", "channel"),
        ("my", "video"),
        ("my", "music"),
        ("please", "subscribe"),
        ("this", "comment"),
        ("thumbs", "up"),
        ("sub", "to"),
        ("subscribe", "to"),
        ("check", "my"),
        ("visit", "my"),
        ("my", "page"),
    ]
)
_PHRASE_FIRSTS = frozenset(first for first, _ in PROMO_PHRASES)
_PHRASE_SECONDS = frozenset(second for _, second in PROMO_PHRASES)
# Per first word of a phrase, the words that can follow it.
_PHRASE_SECONDS_OF = {
    first: frozenset(second for f, second in PROMO_PHRASES if f == first) for first in _PHRASE_FIRSTS
}
SELF_WORDS = frozenset(["my", "me", "i", "im", "our", "we", "mine"])
# Every word a comment-level signal counts: one pass over a comment's words finds the few
# it has, and each count then runs over those few.
_SIGNAL_WORDS = PROMO_WORDS | TOPIC_WORDS | SELF_WORDS | _PHRASE_FIRSTS | _PHRASE_SECONDS
_LINK_HOSTS_OWN = frozenset(["youtube", "youtu"])
_DIGIT_RE = re.compile(r"\d")
_DIGIT_BYTES = b"0123456789"  # what \d matches on ASCII text
_ASCII_SPACES = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"  # what str.split() splits on, besides " "

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
_ASCII_NUM_RE = re.compile(r"[0-9](?:[0-9 ()-]{3,}[0-9])")  # the same on ASCII text
# Four or more of one character: "soooooo", "!!!!!!!!" are "sooo", "!!!". A token's character
# grams grow with its length, so an unbounded run would outweigh the rest of a comment.
_LONG_RUN_RE = re.compile(r"(\S)\1{3,}")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]+")
# The same on ASCII text, with \w and \s spelled out (what they match among ASCII characters:
# str.isspace() holds for \x1c-\x1f too): a character class is faster than a category test.
_ASCII_TOKEN_RE = re.compile(r"[0-9A-Za-z_]+|[^0-9A-Za-z_\t\n\x0b\x0c\r\x1c-\x1f ]+")


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
    if not text.isascii():
        text = _NUM_RE.sub(" znumz ", text)
    elif _has_digit(text):  # no digit, no number (most comments)
        text = _ASCII_NUM_RE.sub(" znumz ", text)
    if may_have_run(text, 4):
        text = _LONG_RUN_RE.sub(r"\1\1\1", text)
    if _single_spaced(text):
        return text  # what the split and join below would give back
    return " ".join(text.split())


def _single_spaced(text: str) -> bool:
    """Whether ``" ".join(text.split()) == text``: ASCII words split by single spaces."""
    if not text.isascii() or "  " in text or text[:1] == " " or text[-1:] == " ":
        return False
    raw = text.encode("ascii")
    return len(raw.translate(None, _ASCII_SPACES)) == len(raw)


def tokens(prepared: str) -> list[str]:
    """Words and runs of punctuation (``!!!``, ``$``, emoji) of a prepared text."""
    if not prepared.isascii():
        return _TOKEN_RE.findall(prepared)
    # No token spans whitespace, and an all-letters-and-digits chunk is one token: only
    # the chunks with punctuation in them need the pattern (same tokens, in order).
    out: list[str] = []
    for chunk in prepared.split():
        if chunk.isalnum():
            out.append(chunk)
        else:
            out += _ASCII_TOKEN_RE.findall(chunk)
    return out


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


# What each comment-level signal can be, in the order meta_signals() returns them.
META_SIGNALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("len", ("1", "2", "3", "4", "5")),
    ("", ("", "url", "url_own")),  # no link / a link / a link to the page's own host
    ("", ("", "excl")),
    ("", ("", "digit")),
    ("promo", ("0", "1", "2", "3")),
    ("topic", ("0", "1", "2", "3")),
    ("phrase", ("0", "1", "2")),
    ("self", ("0", "1", "2")),
)


def _has_digit(text: str) -> bool:
    if text.isascii():  # deleting from bytes is several times faster than a regex scan
        raw = text.encode("ascii")
        return len(raw.translate(None, _DIGIT_BYTES)) != len(raw)
    return _DIGIT_RE.search(text) is not None


def meta_signals(toks: Sequence[str], prepared: str) -> tuple[int, int, int, int, int, int, int, int]:
    """Comment-level signals of a prepared text, each as the index of its value in META_SIGNALS."""
    n = len(toks)
    length = 0 if n < 4 else 1 if n < 8 else 2 if n < 16 else 3 if n < 32 else 4
    words = set(toks)
    url = 0
    if "zurlz" in words:
        i = toks.index("zurlz")
        url = 2 if (toks[i + 1] if i + 1 < n else "") in _LINK_HOSTS_OWN else 1
    excl = 1 if "!!" in prepared else 0
    digit = 1 if "znumz" in words or _has_digit(prepared) else 0
    listed = words.intersection(_SIGNAL_WORDS)
    # A phrase needs both of its words: most comments have no pair to look for.
    phrases = (
        len(PROMO_PHRASES.intersection(itertools.pairwise(toks)))
        if n > 1
        and any(not listed.isdisjoint(_PHRASE_SECONDS_OF[first]) for first in listed & _PHRASE_FIRSTS)
        else 0
    )
    return (
        length,
        url,
        excl,
        digit,
        min(len(listed & PROMO_WORDS), 3),
        min(len(listed & TOPIC_WORDS), 3),
        min(phrases, 2),
        min(len(listed & SELF_WORDS), 2),
    )


def meta_features(toks: Sequence[str], prepared: str) -> list[str]:
    """Comment-level signals of a prepared text whose tokens are ``toks`` (one of each)."""
    out = []
    for (name, values), i in zip(META_SIGNALS, meta_signals(toks, prepared), strict=True):
        if values[i]:
            out.append(META_PREFIX + name + values[i])
    return out
