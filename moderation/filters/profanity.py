"""Profanity: better-profanity's word list and variant rules through a fast matcher.

``better_profanity.profanity.contains_profanity`` compares every token (and every run of up
to ``MAX_NUMBER_COMBINATIONS + 1`` tokens) with each of its ~900 words in pure Python, about
20 ms per 200 characters. :class:`ProfanityMatcher` reproduces its verdicts exactly with one
regex split and hash lookups:

* text is split into better-profanity's tokens (runs of its ``ALLOWED_CHARACTERS``) and
  separators (everything else) by one compiled pattern;
* every token is reduced to a *class key* in which each group of characters that a variant
  rule can exchange collapses to one symbol (``a @ * 4 i l 1 o 0 u v e 3`` -> ``V``,
  ``s $ 5`` -> ``S``, ``t 7`` -> ``T``), so a token can only match a word with the same key;
* keys are looked up in precomputed sets (whole words, and prefixes of words for the
  multi-token forms "fu ck" and "blow job"); the rare key hit is confirmed with the exact
  per-character variant rule.

:func:`contains_profanity_raw` is the raw-text verdict, identical to better-profanity's
(``tests/unit/filters/test_profanity_differential.py`` proves it on a few thousand texts).
:class:`ProfanityCheck` runs the same matcher over the normalised views, so zero-width
characters, homoglyphs, spaced letters and leetspeak that better-profanity misses are caught,
and reports each hit with its span in the original text.

The module stays pure: :meth:`ProfanityMatcher.build` takes the word list, variant table and
token alphabet as arguments. :func:`better_profanity_matcher` and
:meth:`ProfanityCheck.default` read better-profanity's bundled package data once per process.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress, count
from operator import add
from typing import Any

import ahocorasick

from moderation.filters.normalize import Normalized, View
from moderation.filters.types import Category, CheckResult, CommentInput, Reason, ReasonCode

# Placeholder for every non-ASCII token character: none of them can equal a character of
# the (ASCII) word list, so one stand-in that is itself a token character is enough.
_OTHER_LETTER = "ß"
_NON_ASCII_SEPARATOR = re.compile(f"[^\\x00-\\x7f{_OTHER_LETTER}]")
# Class symbols are upper case: the keyed text is lower case, so they never collide.
_CLASS_SYMBOLS = "VST"
_FINE_SYMBOLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Words of better-profanity's list that are ordinary vocabulary in comments on a health
# article (anatomy, conditions, drugs, sexuality, everyday words). The raw matcher keeps them
# (it must agree with better-profanity); the check does not flag them. Violence and
# self-harm words ("kill", "murder") belong to the crisis and abuse checks, not here.
HEALTH_CONTEXT_ALLOWLIST: frozenset[str] = frozenset(
    {
        # anatomy and clinical terms
        "anus", "areole", "breasts", "clitoris", "ejaculate", "ejaculated", "ejaculates",
        "ejaculating", "ejaculation", "erect", "erection", "foreskin", "glans", "gonad",
        "gonads", "hymen", "labia", "menses", "menstruate", "menstruation", "nipple", "nipples",
        "oral", "orally", "organ", "orgasm", "orgasms", "ovary", "ovum", "ovums", "penile",
        "penis", "pubic", "pubis", "rectal", "rectum", "rectus", "scrotum", "semen", "sperm",
        "testes", "testical", "testicle", "testis", "urinal", "urine", "uterus", "vagina",
        "vulva", "womb", "masturbate", "masturbating", "masturbation", "tampon", "sexual",
        "sex", "naked", "virgin", "pee", "vomit",
        # conditions
        "hiv", "herpes", "stroke", "cipa", "pms",
        # drugs and drink, discussed in an article on ketamine
        "heroin", "opiate", "opium", "meth", "valium", "pcp", "peyote", "extacy", "extasy",
        "ganja", "hemp", "pot", "weed", "reefer", "stoned", "drunk", "vodka", "rum", "hookah",
        # identity terms
        "gay", "gays", "lesbians", "queer", "transsexual",
        # experiences readers describe (the crisis and abuse checks weigh these)
        "kill", "murder", "rape", "raped", "rapist", "incest", "molest", "hell", "god", "omg",
        # everyday words
        "fat", "len", "massa", "maxi", "revue", "sandbar", "paddy", "pawn", "seaman", "seamen",
        "strip", "screw", "screwed", "slave", "slope", "thrust", "ugly", "stupid", "dummy",
        "xx", "hitler", "nazi", "nazism", "reich", "napalm", "sniper", "potty", "nappy",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hit:
    """A word found in a string: ``[start, end)`` in that string's own offsets."""

    start: int
    end: int
    word: str


def _groups(variants: Mapping[str, frozenset[str]], ignore: str) -> list[set[str]]:
    """Connected groups of characters that a variant rule exchanges, largest first."""
    groups: list[set[str]] = []
    for word_char, options in variants.items():
        members = {word_char, *options} - set(ignore)
        overlapping = [g for g in groups if g & members]
        for g in overlapping:
            members |= g
            groups.remove(g)
        groups.append(members)
    groups.sort(key=lambda g: (-len(g), sorted(g)))
    return groups


def _by_popularity(words: list[str], vocabulary: Collection[str]) -> tuple[str, ...]:
    """Words sharing a key, the stem of most list entries first ("fuck" before "fack")."""
    if len(words) == 1:
        return tuple(words)
    return tuple(sorted(words, key=lambda w: (-sum(w in v for v in vocabulary), w)))


@dataclass(frozen=True, slots=True)
class Screen:
    """Necessary conditions for a match, checked in one Aho-Corasick scan.

    A text can only contain a word if one of its tokens has the word's key, or two
    neighbouring tokens together start a word's key (bare or, for words with separators,
    as the word's first two pieces). Most texts fail all three and are done.

    With the tokens joined by single spaces (and a space at either end), each condition is
    a substring: `` key `` for a token, `` a b `` for neighbours ``a``, ``b`` whose join
    ``a + b`` starts a key (every split of every such prefix is a pattern), `` first
    second `` for the first two pieces of a word with separators. :meth:`may_match_sets`
    is the same test with set operations (the reference for the automaton).
    """

    space_table: Mapping[int, str]  # keyed ASCII char -> class symbol; separators -> " "
    plain_keys: frozenset[str]
    plain_pairs: frozenset[str]
    sep_pairs: frozenset[tuple[str, str]]
    # The only tokens a pair above can start with: proper prefixes of the words' keys and
    # the first pieces of the words with separators (few of a comment's tokens are either).
    pair_starts: frozenset[str]
    # ``space_table`` as a bytes table (ASCII text), None if a value is not one ASCII char
    space_bytes: bytes | None = None
    # Aho-Corasick automaton of the patterns above (pyahocorasick), None: use the sets
    joined: Any = None

    @classmethod
    def build(
        cls,
        words: Iterable[str],
        table: Mapping[int, str],
        token_chars: Collection[str],
        word_split: re.Pattern[str],
    ) -> Screen:
        plain_keys: set[str] = set()
        plain_pairs: set[str] = set()
        sep_pairs: set[tuple[str, str]] = set()
        for word in words:
            parts = word_split.split(word)
            if len(parts) == 1:
                key = word.translate(table)
                plain_keys.add(key)
                plain_pairs.update(key[:i] for i in range(2, len(key) + 1))
            elif parts[0] and len(parts) > 2:
                sep_pairs.add((parts[0].translate(table), parts[2].translate(table)))
        space_table = {i: table.get(i, chr(i)) if chr(i) in token_chars else " " for i in range(128)}
        # A token followed by a (non-empty) one joins into a pair of length >= 2 only if it is
        # a proper prefix of that pair.
        starts = {pair[:i] for pair in plain_pairs for i in range(1, len(pair))}
        starts.update(first for first, _ in sep_pairs)
        space_bytes = None
        if all(len(v) == 1 and v.isascii() for v in space_table.values()):
            space_bytes = bytes(ord(space_table[i]) if i < 128 else 32 for i in range(256))
        patterns = {f" {key} " for key in plain_keys}
        patterns.update(f" {pair[:i]} {pair[i:]} " for pair in plain_pairs for i in range(1, len(pair)))
        # a token is never empty: a pair with an empty piece can never match
        patterns.update(f" {first} {second} " for first, second in sep_pairs if first and second)
        pieces = [*plain_keys, *plain_pairs, *(piece for pair in sep_pairs for piece in pair)]
        joined = None
        if not any(c.isspace() for piece in pieces for c in piece):  # pieces are whole tokens
            joined = ahocorasick.Automaton()
            for pattern in sorted(patterns):
                joined.add_word(pattern, None)
            joined.make_automaton()
        return cls(
            space_table,
            frozenset(plain_keys),
            frozenset(plain_pairs),
            frozenset(sep_pairs),
            frozenset(starts),
            space_bytes,
            joined,
        )

    def _tokens(self, keyed: str) -> list[str]:
        if keyed.isascii():
            if self.space_bytes is not None:
                return keyed.encode("ascii").translate(self.space_bytes).decode("ascii").split()
            return keyed.translate(self.space_table).split()
        return _NON_ASCII_SEPARATOR.sub(" ", keyed).translate(self.space_table).split()

    def may_match(self, keyed: str) -> bool:
        if self.joined is None:
            return self.may_match_sets(keyed)
        toks = self._tokens(keyed)
        if not toks:
            return False
        return next(self.joined.iter(" " + " ".join(toks) + " "), None) is not None

    def may_match_sets(self, keyed: str) -> bool:
        spaced = keyed if keyed.isascii() else _NON_ASCII_SEPARATOR.sub(" ", keyed)
        toks = spaced.translate(self.space_table).split()
        if not self.plain_keys.isdisjoint(toks):
            return True
        # The neighbours (toks[i], toks[i + 1]) whose first can start a pair, at C level.
        can_start = list(map(self.pair_starts.__contains__, toks[:-1]))
        firsts = list(compress(toks, can_start))
        seconds = list(compress(toks[1:], can_start))
        return not (
            self.plain_pairs.isdisjoint(map(add, firsts, seconds))
            and self.sep_pairs.isdisjoint(zip(firsts, seconds, strict=True))
        )


@dataclass(frozen=True, slots=True)
class ProfanityMatcher:
    """Compiled form of a word list; cheap to share between threads (immutable)."""

    # per word character: the text characters that may stand for it (better-profanity's
    # CHARS_MAPPING; characters without an entry only match themselves)
    variants: Mapping[str, frozenset[str]]
    max_combinations: int
    key_table: Mapping[int, str]  # lower-cased token character -> class symbol
    # quick rejection, with fine classes when the text has no bridging character, else coarse
    bridges: str
    fine: Screen
    coarse: Screen
    other_letters: frozenset[str]  # non-ASCII token characters
    keyed_split: re.Pattern[str]  # splits keyed text into tokens and separators
    class_split: re.Pattern[str]  # the same split on class-keyed text
    # class key -> words with that key, for single tokens and separator-free joins
    plain_words: Mapping[str, tuple[str, ...]]
    # class keys of every proper prefix, at token boundaries, of the words above
    plain_prefixes: frozenset[str]
    # the same for words with separators in them ("blow job", "f-u-c-k"), keyed with
    # their separators kept verbatim
    sep_words: Mapping[str, tuple[str, ...]]
    sep_prefixes: frozenset[str]
    # what two neighbouring tokens (joined bare, or with their separator) can start with
    plain_pairs: frozenset[str]
    sep_pairs: frozenset[str]
    # Every character a class symbol stands for is a token character: the keyed text and its
    # class-keyed translation (one for one) then split at the same offsets, and the keyed
    # parts are slices of the keyed text at the class parts' offsets (no second split).
    aligned: bool = False
    # The class keys of the first pieces of the words with separators: a separator join can
    # only start at such a token (None: not known, every token is tried)
    sep_firsts: frozenset[str] | None = None
    # ``key_table`` as a bytes table for ASCII text (None: a symbol is not one ASCII character)
    key_bytes: bytes | None = None

    @classmethod
    def build(
        cls,
        words: Iterable[str],
        chars_mapping: Mapping[str, Iterable[str]],
        allowed_characters: Collection[str],
        *,
        max_combinations: int | None = None,
        exclude: Collection[str] = (),
    ) -> ProfanityMatcher:
        """Compile ``words`` with better-profanity's rules.

        ``max_combinations`` defaults to better-profanity's rule (the largest number of
        separator characters in one word, at least 1); pass the value of the full list when
        ``exclude`` removes words, so that joins reach as far as better-profanity's do.
        """
        lowered = {w.lower() for w in words}
        allowed = frozenset(allowed_characters)
        if max_combinations is None:
            max_combinations = max([1, *(sum(c not in allowed for c in w) for w in lowered)])
        excluded = {w.lower() for w in exclude}
        variants = {k: frozenset(v) for k, v in chars_mapping.items()}

        groups = _groups(variants, ignore="")
        if len(groups) > len(_CLASS_SYMBOLS):
            raise ValueError("too many character classes in chars_mapping")
        key_table = {ord(c): sym for sym, g in zip(_CLASS_SYMBOLS, groups, strict=False) for c in g}
        # "*" and "@" stand for several letters and so bridge the groups into one big class;
        # without them the groups stay small, which rejects far more texts at once.
        bridges = "".join(sorted({c for o in variants.values() for c in o if not c.isalnum()}))
        fine_groups = _groups(variants, ignore=bridges)
        if len(fine_groups) > len(_FINE_SYMBOLS):
            raise ValueError("too many character classes in chars_mapping")
        fine_table = {ord(c): sym for sym, g in zip(_FINE_SYMBOLS, fine_groups, strict=False) for c in g}

        ascii_tokens = {c.lower() for c in allowed if c.isascii()}
        other_letters = frozenset(c for c in allowed if not c.isascii())
        if any(not c.isascii() for w in lowered for c in w) or any(
            not c.isascii() for opts in variants.values() for c in opts
        ):
            raise ValueError("words and variants must be ASCII")
        token_chars = "".join(sorted(ascii_tokens)) + _OTHER_LETTER
        keyed_away = {chr(i) for i in key_table}
        class_chars = "".join(sorted(ascii_tokens - keyed_away)) + _CLASS_SYMBOLS + _OTHER_LETTER
        keyed_split = re.compile(f"([^{re.escape(token_chars)}]+)")
        class_split = re.compile(f"([^{re.escape(class_chars)}]+)")

        def class_key(s: str) -> str:
            return s.translate(key_table)

        plain: dict[str, list[str]] = {}
        plain_prefixes: set[str] = set()
        seps: dict[str, list[str]] = {}
        sep_prefixes: set[str] = set()
        plain_pairs: set[str] = set()
        sep_pairs: set[str] = set()
        sep_firsts: set[str] = set()
        word_split = re.compile(f"([^{re.escape(''.join(sorted(ascii_tokens)))}]+)")
        for word in sorted(lowered - excluded):
            parts = word_split.split(word)
            key = class_key(word)
            if len(parts) == 1:
                plain.setdefault(key, []).append(word)
                # a join of several tokens starts with any proper prefix of the word
                plain_prefixes.update(key[:i] for i in range(1, len(key)))
                plain_pairs.update(key[:i] for i in range(2, len(key) + 1))
            elif parts[0] and parts[-1] and len(parts) // 2 <= max_combinations:
                # better-profanity joins whole tokens with the separators between them, so
                # a word that starts or ends with a separator ("s.o.b.") can never match
                seps.setdefault(key, []).append(word)
                joined = ""
                for i in range(0, len(parts) - 2, 2):
                    joined += class_key(parts[i]) + parts[i + 1]
                    sep_prefixes.add(joined[: -len(parts[i + 1])])
                    sep_prefixes.add(joined)
                sep_pairs.add(class_key(parts[0]) + parts[1] + class_key(parts[2]))
                sep_firsts.add(class_key(parts[0]))
        return cls(
            variants=variants,
            max_combinations=max_combinations,
            key_table=key_table,
            bridges=bridges,
            fine=Screen.build(lowered - excluded, fine_table, ascii_tokens, word_split),
            coarse=Screen.build(lowered - excluded, key_table, ascii_tokens, word_split),
            other_letters=other_letters,
            keyed_split=keyed_split,
            class_split=class_split,
            plain_words={k: _by_popularity(v, lowered) for k, v in plain.items()},
            plain_prefixes=frozenset(plain_prefixes),
            sep_words={k: tuple(v) for k, v in seps.items()},
            sep_prefixes=frozenset(sep_prefixes),
            plain_pairs=frozenset(plain_pairs),
            sep_pairs=frozenset(sep_pairs),
            aligned=all(len(sym) == 1 and chr(i) in ascii_tokens for i, sym in key_table.items()),
            sep_firsts=frozenset(sep_firsts),
            key_bytes=bytes(ord(key_table.get(i, chr(i))) for i in range(256))
            if all(len(sym) == 1 and sym.isascii() and i < 128 for i, sym in key_table.items())
            else None,
        )

    # -- matching -------------------------------------------------------------------------

    def _keyed(self, text: str) -> str:
        """Lower-case ``text`` 1:1, every non-ASCII token character as one placeholder."""
        if text.isascii():
            return text.lower()
        out = []
        for ch in text:
            if ch.isascii():
                out.append(ch.lower())
            elif ch in self.other_letters:
                low = ch.lower()  # KELVIN SIGN lower-cases to "k"
                out.append(low if len(low) == 1 and low.isascii() else _OTHER_LETTER)
            else:
                out.append(ch if ch != _OTHER_LETTER else "\x00")
        return "".join(out)

    def _same(self, candidate: str, word: str) -> bool:
        """better-profanity's VaryingString equality (every substitution is one character)."""
        if len(candidate) != len(word):
            return False
        variants = self.variants
        for c, w in zip(candidate, word, strict=True):
            if c != w and c not in variants.get(w, ()):
                return False
        return True

    def find(self, text: str, *, limit: int = 0, strict_end: bool = True) -> list[Hit]:
        """Every word in ``text`` as better-profanity tokenises it.

        ``limit`` stops after that many hits (0: no limit). ``strict_end`` keeps
        better-profanity's quirk that a one-character token at the
        very end of the text is never joined to the tokens before it (``"fuc k"``).
        """
        keyed = self._keyed(text)
        bridged = any(c in keyed for c in self.bridges)
        if not (self.coarse if bridged else self.fine).may_match(keyed):
            return []
        if self.key_bytes is not None and keyed.isascii():
            classed = keyed.encode("ascii").translate(self.key_bytes).decode("ascii")
        else:
            classed = keyed.translate(self.key_table)
        cparts = self.class_split.split(classed)
        ctoks = cparts[0::2]
        cseps = cparts[1::2]
        # Candidate tokens, found by C-level set operations; most texts stop here. A join
        # of two or more tokens is only possible where two neighbours already fit a word.
        pairs = list(map(add, ctoks[:-1], ctoks[1:]))
        candidates: set[int] = set()
        if not self.plain_words.keys().isdisjoint(ctoks):
            candidates.update(compress(count(), map(self.plain_words.__contains__, ctoks)))
        if not self.plain_pairs.isdisjoint(pairs):
            candidates.update(compress(count(), map(self.plain_pairs.__contains__, pairs)))
        sep_firsts = self.sep_firsts
        if sep_firsts is None:
            sep_pairs = list(map(add, map(add, ctoks[:-1], cseps), ctoks[1:]))
            if not self.sep_pairs.isdisjoint(sep_pairs):
                candidates.update(compress(count(), map(self.sep_pairs.__contains__, sep_pairs)))
        elif not sep_firsts.isdisjoint(ctoks):
            # a token, its separator and the next token spell a pair only if the token is the
            # key of a first piece (tokens and separators have no character in common)
            for k in compress(count(), map(sep_firsts.__contains__, ctoks[:-1])):
                if ctoks[k] + cseps[k] + ctoks[k + 1] in self.sep_pairs:
                    candidates.add(k)
        if not candidates:
            return []
        n = len(ctoks)
        if not ctoks[-1]:
            n -= 1  # trailing separator
        first_token = 0 if ctoks[0] else 1
        if n <= first_token:
            return []
        last_token_at_end = len(ctoks[n - 1]) == 1 and n == len(ctoks)
        if last_token_at_end and n - 1 == first_token:
            return []  # better-profanity's early return: the only token is its last character
        # joins may only reach tokens that better-profanity's look-ahead sees
        n_join = n - 1 if (strict_end and last_token_at_end) else n
        hits: list[tuple[int, int, str, bool]] = []  # first token, last token, word, joined
        kparts: list[str] = []
        ktoks: list[str] = []
        offsets: list[int] = []
        aligned = self.aligned
        plain_words, plain_prefixes = self.plain_words, self.plain_prefixes
        sep_words, sep_prefixes = self.sep_words, self.sep_prefixes
        max_j = self.max_combinations
        for k in sorted(candidates):
            if not first_token <= k < n:
                continue
            ck = ctoks[k]
            if aligned:
                # the keyed parts are slices of ``keyed`` at the class parts' offsets
                if not offsets:
                    offsets = list(accumulate(map(len, cparts), initial=0))
                ktok = keyed[offsets[2 * k] : offsets[2 * k + 1]]
            else:
                if not kparts:
                    kparts = self.keyed_split.split(keyed)
                    ktoks = kparts[0::2]
                ktok = ktoks[k]
            words = plain_words.get(ck)
            if words and ktok != "****":  # "****" censors to itself: no change, no hit
                hits.extend((k, k, w, False) for w in words if self._same(ktok, w))
            if ck in plain_prefixes:
                acc = ck
                for j in range(k + 1, min(k + max_j, n_join - 1) + 1):
                    acc += ctoks[j]
                    words = plain_words.get(acc)
                    if words:
                        if aligned:
                            cand = "".join(
                                [keyed[offsets[2 * i] : offsets[2 * i + 1]] for i in range(k, j + 1)]
                            )
                        else:
                            cand = "".join(ktoks[k : j + 1])
                        hits.extend((k, j, w, False) for w in words if self._same(cand, w))
                    if acc not in plain_prefixes:
                        break
            if ck in sep_prefixes:
                acc = ck
                for j in range(k + 1, min(k + max_j, n_join - 1) + 1):
                    acc += cseps[j - 1] + ctoks[j]
                    words = sep_words.get(acc)
                    if words:
                        if aligned:
                            cand = keyed[offsets[2 * k] : offsets[2 * j + 1]]
                        else:
                            cand = "".join(kparts[2 * k : 2 * j + 1])
                        hits.extend((k, j, w, True) for w in words if self._same(cand, w))
                    if acc not in sep_prefixes:
                        break
            if limit and len(hits) >= limit:
                break
        if not hits:
            return []
        # token index -> offsets, from the lengths of the split parts
        if not offsets:
            offsets = list(accumulate(map(len, cparts), initial=0))
        return [Hit(offsets[2 * k], offsets[2 * j + 1], w) for k, j, w, _ in hits]

    def contains(self, text: str) -> bool:
        return bool(self.find(text, limit=1))


def better_profanity_matcher(*, health_context: bool = False) -> ProfanityMatcher:
    """better-profanity's bundled list and rules, compiled once per process.

    With ``health_context`` the words in :data:`HEALTH_CONTEXT_ALLOWLIST` are left out.
    """
    # One cache entry per variant, however the caller spells the argument.
    return _matcher(health_context)


@lru_cache(maxsize=2)
def _matcher(health_context: bool) -> ProfanityMatcher:
    # better-profanity builds its default instance on import; we take its rules from it
    from better_profanity import profanity as reference
    from better_profanity.utils import get_complete_path_of_file, read_wordlist

    words = list(read_wordlist(get_complete_path_of_file("profanity_wordlist.txt")))
    full = ProfanityMatcher.build(words, reference.CHARS_MAPPING, reference.ALLOWED_CHARACTERS)
    if not health_context:
        return full
    return ProfanityMatcher.build(
        words,
        reference.CHARS_MAPPING,
        reference.ALLOWED_CHARACTERS,
        max_combinations=full.max_combinations,
        exclude=HEALTH_CONTEXT_ALLOWLIST,
    )


def contains_profanity_raw(text: str) -> bool:
    """Same verdict as ``better_profanity.profanity.contains_profanity(text)``, microseconds."""
    return better_profanity_matcher().contains(text)


_DOUBLE_RE = re.compile(r"([^\W\d_])\1+")


def _squeeze(view: View) -> View | None:
    """``view`` with every doubled letter single, offsets kept; None if there is none."""
    text = view.text
    keep: list[int] = []
    pos = 0
    for m in _DOUBLE_RE.finditer(text):
        keep.extend(range(pos, m.start() + 1))
        pos = m.end()
    if pos == 0:
        return None
    keep.extend(range(pos, len(text)))
    starts = view.starts if view.starts is not None else range(len(text))
    ends = view.ends if view.ends is not None else range(1, len(text) + 1)
    return View("".join(text[i] for i in keep), tuple(starts[i] for i in keep), tuple(ends[i] for i in keep))


class ProfanityCheck:
    """Flags words of the list in the normalised comment text. Pure: the matcher is injected."""

    name = "profanity"
    version = "better-profanity-0.7.0+1"

    def __init__(self, matcher: ProfanityMatcher, *, max_hits: int = 50) -> None:
        self.matcher = matcher
        # Past a few dozen words the verdict cannot change; the cap bounds adversarial input.
        self.max_hits = max_hits

    @classmethod
    def default(cls) -> ProfanityCheck:
        """better-profanity's list minus the health-context allowlist."""
        return cls(better_profanity_matcher(health_context=True))

    def _hits(self, view: View, seen: dict[tuple[int, int], str]) -> None:
        # A trailing space lets a final one-letter token join the ones before it.
        by_span: dict[tuple[int, int], list[str]] = {}
        for hit in self.matcher.find(view.text + " ", limit=self.max_hits, strict_end=False):
            by_span.setdefault((hit.start, hit.end), []).append(hit.word)
        for (start, end), words in by_span.items():
            # "f*ck" fits fack, feck, fuck and fvck: report the spelling closest to the text,
            # and among equals the most common stem (the matcher lists it first)
            written = "".join(view.text[start:end].split())
            best = max(
                words,
                key=lambda w: sum(a == b for a, b in zip(written, w.replace(" ", ""), strict=False)),
            )
            seen.setdefault(view.span(start, end), best)

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:  # noqa: ARG002 (text only)
        seen: dict[tuple[int, int], str] = {}
        self._hits(norm.folded, seen)
        if norm.text.text != norm.folded.text:
            self._hits(norm.text, seen)  # variant rules on the unfolded text ("he11")
            if len(norm.folded.text) < len(norm.text.text):
                # the normaliser squeezed a run to two letters; "fuuuuck" needs one
                squeezed = _squeeze(norm.folded)
                if squeezed is not None:
                    self._hits(squeezed, seen)
        if not seen:  # most comments
            return CheckResult(self.name, self.version, (), {"profanity_hits": 0.0})
        # a span inside a longer hit adds nothing ("fuck" inside "f u c k i n g")
        spans = sorted(seen, key=lambda s: (s[0], -s[1]))
        kept: list[tuple[int, int]] = []
        for span in spans:
            if kept and span[0] >= kept[-1][0] and span[1] <= kept[-1][1]:
                continue
            kept.append(span)
        reasons = tuple(
            Reason(
                ReasonCode.PROFANITY,
                Category.PROFANITY,
                span=span,
                detail=seen[span],
                rule_id="better_profanity",
            )
            for span in kept
        )
        return CheckResult(
            check=self.name,
            version=self.version,
            reasons=reasons,
            scores={"profanity_hits": float(len(reasons))},
        )
