"""The abuse check: a learned model plus rules for insults and threats aimed at people.

Mild profanity ("this shit actually worked for me") is removed before the abuse model scores
a comment: the profanity check reports it, and swearing in a friendly comment is not an
attack. Insults and threats are found by rules (word lists in ``moderation/rules/abuse.yaml``)
over the ``folded`` view so that leetspeak and spaced-out letters do not evade them; their
spans map back to the original text. The model reads both views when they differ and keeps the
higher score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from moderation.filters.classifiers import TextModel
from moderation.filters.normalize import Normalized, View
from moderation.filters.types import Category, CheckResult, CommentInput, Reason, ReasonCode


@dataclass(frozen=True, slots=True)
class AbuseLexicon:
    """Word lists from ``moderation/rules/abuse.yaml``; phrases use single spaces."""

    version: str
    targets: tuple[str, ...]
    persons: tuple[str, ...]
    fillers: tuple[str, ...]
    insults: tuple[str, ...]
    epithets: tuple[str, ...]
    dismissals: tuple[str, ...]
    superlatives: tuple[str, ...]
    works: tuple[str, ...]
    insult_phrases: tuple[str, ...]
    group_targets: tuple[str, ...]
    violence: tuple[str, ...]
    threat_phrases: tuple[str, ...]
    threat_subjects: tuple[str, ...]
    threat_verbs: tuple[str, ...]
    assault_verbs: tuple[str, ...]
    mild_profanity: tuple[str, ...]


_WORD_RE = re.compile(r"[^\W_]+")


# ASCII letters and digits kept, every other ASCII character a space: for an ASCII text,
# splitting the translation gives the words _WORD_RE finds, at half the cost.
_ASCII_WORD_TABLE = bytes(c if chr(c).isalnum() else 32 for c in range(256))


def _word_list(text: str) -> list[str]:
    """The _WORD_RE words of ``text``, in order."""
    if text.isascii():
        return text.encode().translate(_ASCII_WORD_TABLE).decode().split()
    return _WORD_RE.findall(text)


def _word_set(text: str) -> set[str]:
    """The set of _WORD_RE words of ``text``."""
    return set(_word_list(text))


def _words_in(text: str, vocabulary: frozenset[str]) -> AbstractSet[str]:
    """``_word_set(text) & vocabulary``, without building the set of every word."""
    return vocabulary.intersection(_word_list(text))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of the (sorted, disjoint) ``spans`` replaced by one space."""
    pieces: list[str] = []
    pos = 0
    for start, end in spans:
        pieces.append(text[pos:start])
        pieces.append(" ")
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _words(*phrases: str) -> frozenset[str]:
    return frozenset(w for p in phrases for w in _WORD_RE.findall(p.lower()))


# Words too common to tell whether a phrase can be present.
_COMMON = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "to",
        "i",
        "go",
        "just",
        "this",
        "will",
        "all",
        "you",
        "your",
        "u",
        "ur",
        "are",
        "be",
        "get",
    ]
)


def _anchor(words: list[str]) -> str:
    return max(words, key=lambda w: (w not in _COMMON, len(w)))


def _anchors(*phrases: str) -> frozenset[str]:
    """One word per phrase, the rarest-looking one: a match needs every word of its phrase,
    so if none of these words occurs in a comment, no phrase can match."""
    out = set()
    for phrase in phrases:
        words = _WORD_RE.findall(phrase.lower())
        if words:
            out.add(_anchor(words))
    return frozenset(out)


Phrases = dict[str, tuple[frozenset[str], ...]]


def _phrase_words(singles: frozenset[str], *phrases: str) -> Phrases:
    """Per anchor word of ``phrases`` (see :func:`_anchors`) that is not in ``singles``, the
    word sets of the phrases it stands for: such a phrase matches only if all its words occur."""
    out: dict[str, list[frozenset[str]]] = {}
    for phrase in phrases:
        words = _WORD_RE.findall(phrase.lower())
        if words and _anchor(words) not in singles:
            out.setdefault(_anchor(words), []).append(frozenset(words))
    return {anchor: tuple(sets) for anchor, sets in out.items()}


def _may_match(words: AbstractSet[str], anchors: frozenset[str], phrases: Phrases) -> bool:
    """Whether a pattern can match a comment with these words: it needs one of ``anchors``,
    and when that anchor stands for whole phrases only ("cry more", "no one asked"), every
    word of one of them ("asked" alone is common, "no one asked" is not)."""
    if words.isdisjoint(anchors):
        return False
    for anchor in words & anchors:
        need = phrases.get(anchor)
        if need is None or any(n <= words for n in need):
            return True
    return False


def _present_anchors(words: AbstractSet[str], anchors: frozenset[str]) -> AbstractSet[str]:
    """The words that are anchors: ``words`` and these have the same anchors in common."""
    return words & anchors


def _windows(text: str, anchors: frozenset[str]) -> list[tuple[int, int]]:
    """Stretches of ``text`` around the anchor words present, merged, cut at word edges.

    Every pattern match contains an anchor word and is shorter than ``_REACH`` characters
    on either side of it, so scanning these stretches finds what scanning the whole text
    would, at a fraction of the cost (the patterns try many alternatives at each position).
    """
    spans: list[tuple[int, int]] = []
    for m_start, m_end in _anchor_spans(text, anchors):
        start = text.rfind(" ", 0, max(m_start - _REACH, 0)) + 1
        end = text.find(" ", min(m_end + _REACH, len(text)))
        end = len(text) if end < 0 else end
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _anchor_spans(text: str, anchors: frozenset[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of every _WORD_RE word of ``text`` that is in ``anchors``, in order."""
    if not text.isascii():
        return [m.span() for m in _WORD_RE.finditer(text) if m.group() in anchors]
    # On ASCII text the words are the runs between the spaces of the translation (1:1), so
    # each anchor present is found with str.find, padded with spaces: no per-word loop.
    padded = " " + text.encode().translate(_ASCII_WORD_TABLE).decode() + " "
    spans: list[tuple[int, int]] = []
    for word in anchors.intersection(padded.split()):
        needle = " " + word + " "
        size = len(word)
        i = padded.find(needle)
        while i >= 0:
            spans.append((i, i + size))  # padded index of the space before = text offset
            i = padded.find(needle, i + size + 1)
    spans.sort()
    return spans


_REACH = 100
# What a group target must be followed by to be an attack ("people like you should ...").
_GROUP_VERBS = ("should", "are", "deserve")
# Where a clause starts: the text's start, or just after , . ! ? ; : (and one space).
_CLAUSE_START = r"(?:(?<![\s\S])|(?<=[,.!?;:])|(?<=[,.!?;:]\s))"
# Where it ends: punctuation or the end of the text.
_CLAUSE_END = r"(?=\s*(?:[,.!?;:]|$))"
# A word that may modify a name ("pathetic", "pill-popping") but is no article, possessive or
# preposition: "as a boomer," "like a clown." are not name-calling.
_MODIFIER = (
    r"(?!(?:a|an|the|my|our|his|her|their|your|its|as|like|of|to|for|no|not|and|or|is|are|was)\s)[\w'-]+"
)


def _alt(phrases: Iterable[str]) -> str:
    # Longest first so "you are" wins over "you"; a space matches any run of whitespace or
    # hyphens ("brain dead" matches "brain-dead").
    items = sorted({p.strip().lower() for p in phrases if p.strip()}, key=lambda p: (-len(p), p))
    return "(?:" + "|".join(r"[\s-]+".join(re.escape(w) for w in p.split()) for p in items) + ")"


# Persons too generic to be insulted by an adjective in front of them ("a dumb guy like me").
_GENERIC_PERSONS = frozenset(
    ["person", "guy", "guys", "everyone", "everybody", "whoever", "you all", "all of you"]
)
# What may introduce a person spoken of: "the author", "this guy", "that doctor".
_DETERMINER = r"(?:the|this|that|these|those)\s+"
# "The author deserves to be shot", "people like you should die".
_WISH = r"\s+(?:should|deserves?\s+to|needs?\s+to|ought\s+to|must)\s+(?:all\s+|just\s+|go\s+)?"


class AbuseClassifierCheck:
    name = "abuse"

    def __init__(self, model: TextModel, lexicon: AbuseLexicon, *, insult_score: float = 0.8) -> None:
        self.model = model
        self.lexicon = lexicon
        self.insult_score = insult_score
        self.version = f"{model.version}+{lexicon.version}"
        w = r"[^\W_]"  # a letter or digit: phrases must not sit inside longer words
        targets, insults = _alt(lexicon.targets), _alt(lexicon.insults)
        fillers, epithets = _alt(lexicon.fillers), _alt(lexicon.epithets)
        persons = _alt(lexicon.persons)
        named = _alt(p for p in lexicon.persons if p.strip().lower() not in _GENERIC_PERSONS)
        self._insult = re.compile(
            rf"(?<!{w})(?:{targets}\s+(?:{fillers}\s+){{0,4}}{insults}"
            # An insult in front of a person: "half-wit journalist", "clueless author".
            rf"|{insults}\s+{named}(?!'s|\s+(?:visits?|appointments?|offices?|notes?|bills?|reviews?))"
            # Readers as a group: "full of morons", "a bunch of brain-dead sheep".
            rf"|(?:(?:full|bunch|pack|herd)\s+of|nothing\s+but)\s+(?:{_MODIFIER}\s+){{0,2}}{epithets}"
            rf"|only\s+(?:an?\s+)?{epithets}\s+(?:would|will|could|does|do|believes?|thinks?|falls?|trusts?|buys?)"
            rf"|are\s+(?:you|u)\s+(?:(?:a|an|just|really|that|so|completely|totally)\s+){{0,2}}{insults}"
            # Third person: "the author is a complete idiot", "whoever runs this site is a clown".
            rf"|{persons}(?:\s+[\w'-]+){{0,4}}?\s+(?:is|are|'s)\s+(?:{fillers}\s+){{0,4}}{insults}"
            rf"|{insults}\s+like\s+(?:you|u)"
            rf"|what\s+kind\s+of\s+{epithets}"
            rf"|{_alt(lexicon.superlatives)}\s+{_alt(lexicon.works)}"
            rf"|{_alt(lexicon.insult_phrases)}"
            # Name-calling as a clause of its own (", loser." "Pathetic idiots." ", you brat.").
            rf"|{_CLAUSE_START}(?:(?:you|u)\s+)?(?:{_MODIFIER}\s+){{0,2}}{epithets}{_CLAUSE_END}"
            # Put-downs as a command or retort ("Get a job." ", nobody asked").
            rf"|{_CLAUSE_START}{_alt(lexicon.dismissals)}"
            rf"(?:\s+(?:[\w'-]+\s+){{0,2}}?(?:else|elsewhere|already|now|here|then))?{_CLAUSE_END})(?!{w})"
        )
        violence = _alt(lexicon.violence)
        self._threat = re.compile(
            rf"(?<!{w})(?:{_alt(lexicon.threat_phrases)}"
            rf"|hope\s+(?:you|u|ya)(?:\s+all|\s+guys|\s+people)?\s+{violence}"
            rf"|{_alt(lexicon.threat_subjects)}\s+(?:\w+\s+)?{_alt(lexicon.threat_verbs)}\s+(?:you|u|ya)"
            # "I will find you a link": a favour, not a threat.
            r"(?!\s+(?:a|an|the|some|more|one|it|that|this|those|these|info|links?|sources?|studies)\b)"
            rf"|(?:{_alt(lexicon.group_targets)}|you|u){_WISH}{violence}"
            # Bodily harm to someone spoken of: "I'd slap the author", "I'll punch him".
            rf"|{_alt(lexicon.threat_subjects)}\s+(?:\w+\s+)?{_alt(lexicon.assault_verbs)}\s+"
            rf"(?:{_DETERMINER}(?:[\w'-]+\s+)?{persons}(?!'s)|whoever|him|her|them)"
            # The same wished on them: "the author deserves to be shot".
            rf"|(?:{_DETERMINER}{persons}(?:\s+(?:who|that|of|in|on|at)(?:\s+[\w'-]+){{1,3}}?)?"
            rf"|whoever(?:\s+[\w'-]+){{1,3}}?){_WISH}{violence})(?!{w})"
        )
        # "people like you should be banned": hostile, aimed at a group through the reader.
        verbs = "|".join(_GROUP_VERBS)
        self._group = re.compile(rf"(?<!{w}){_alt(lexicon.group_targets)}\s+(?:{verbs})(?!{w})")
        # The patterns above try dozens of alternatives at every position; a set lookup of
        # the comment's words skips them unless a word they need is present.
        self._insult_anchors = _anchors(
            *lexicon.insults,
            *lexicon.insult_phrases,
            *lexicon.epithets,
            *lexicon.dismissals,
            *lexicon.superlatives,
        )
        self._threat_anchors = _anchors(
            *lexicon.threat_phrases, *lexicon.threat_verbs, *lexicon.assault_verbs, *lexicon.violence
        )
        self._group_anchors = _anchors(*lexicon.group_targets)
        self._all_anchors = self._insult_anchors | self._threat_anchors | self._group_anchors
        # Anchors that only stand for whole phrases ("more" for "cry more"): the pattern
        # runs when all the words of one of those phrases occur, not on every "more".
        self._insult_phrases = _phrase_words(
            _anchors(*lexicon.insults, *lexicon.epithets, *lexicon.superlatives),
            *lexicon.insult_phrases,
            *lexicon.dismissals,
        )
        self._threat_phrases = _phrase_words(
            _anchors(*lexicon.threat_verbs, *lexicon.assault_verbs, *lexicon.violence),
            *lexicon.threat_phrases,
        )
        # A group match needs every word of one target phrase and one of the verbs after it
        # (most comments that say "people" have neither "people like you" nor "you people").
        self._group_phrases: Phrases = {}
        for target in lexicon.group_targets:
            words = _WORD_RE.findall(target.lower())
            if words:
                self._group_phrases[_anchor(words)] = self._group_phrases.get(_anchor(words), ()) + tuple(
                    frozenset([*words, verb]) for verb in _GROUP_VERBS
                )
        self._mild_anchors = _words(*lexicon.mild_profanity)
        # (pattern, anchors, phrases, reason code, rule id, score), in the order they run.
        self._rules: tuple[tuple[re.Pattern[str], frozenset[str], Phrases, ReasonCode, str, float], ...] = (
            (
                self._threat,
                self._threat_anchors,
                self._threat_phrases,
                ReasonCode.ABUSE_THREAT,
                "threat",
                1.0,
            ),
            (
                self._insult,
                self._insult_anchors,
                self._insult_phrases,
                ReasonCode.ABUSE_INSULT,
                "insult",
                self.insult_score,
            ),
            (
                self._group,
                self._group_anchors,
                self._group_phrases,
                ReasonCode.ABUSE_INSULT,
                "group_target",
                self.insult_score,
            ),
        )
        self._mild = re.compile(rf"(?<!{w}){_alt(lexicon.mild_profanity)}(?!{w})")
        # When every mild word is one _WORD_RE word, a _mild match is exactly such a word,
        # whole: on ASCII text they are found with str.find (see _anchor_spans), not a scan.
        self._mild_single = all(
            _WORD_RE.fullmatch(p.strip().lower()) for p in lexicon.mild_profanity if p.strip()
        )
        # Every word the checks below look up: a comment's words outside it change nothing.
        self._vocabulary = frozenset(
            self._all_anchors.union(
                self._mild_anchors,
                *(
                    n
                    for phrases in (self._insult_phrases, self._threat_phrases, self._group_phrases)
                    for need in phrases.values()
                    for n in need
                ),
            )
        )

    def _without_mild(self, text: str, words: AbstractSet[str]) -> str:
        """``text`` with its mild words blanked; ``words`` holds at least those it has."""
        mild = words & self._mild_anchors
        if not mild:
            return text
        if self._mild_single and text.isascii():
            return _blank(text, _anchor_spans(text, frozenset(mild)))
        return self._mild.sub(" ", text)

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:  # noqa: ARG002 (Check protocol)
        reasons: list[Reason] = []
        text = norm.text.text
        # Only the words some rule looks up (anchors, phrase words, mild words): with those,
        # every test below has the same outcome as with all the comment's words.
        words = _words_in(text, self._vocabulary)
        # Leetspeak folding also reads a trailing "!" as "i" ("idiot!" -> "idioti"), so a
        # pattern that finds nothing in the folded view gets a second try on the plain one.
        if norm.folded.text != text:
            views: tuple[View, ...] = (norm.folded, norm.text)
            folded_words = _words_in(norm.folded.text, self._vocabulary) | words
        else:
            views, folded_words = (norm.folded,), words
        # The anchor words present, for all three patterns in one pass over the comment's words.
        present = _present_anchors(folded_words, self._all_anchors)
        for pattern, anchors, phrases, code, rule, score in self._rules:
            if rule == "group_target" and reasons:
                break
            if present.isdisjoint(anchors) or not _may_match(folded_words, anchors, phrases):
                continue
            for view in views:
                found = [
                    Reason(code, Category.ABUSE, view.span(m.start(), m.end()), m.group(), rule, score)
                    for pos, endpos in _windows(view.text, anchors)
                    for m in pattern.finditer(view.text, pos, endpos)
                ]
                if found:
                    reasons.extend(found)
                    break
        p = self.model.probability(self._without_mild(text, words))
        if len(views) > 1:
            # Leetspeak or spaced-out letters ("cr4zy", "l o s e r s"): the model also reads
            # the text written plainly, mild words blanked alike, and the higher score holds.
            p = max(p, self.model.probability(self._without_mild(norm.folded.text, folded_words)))
        if p >= self.model.threshold:
            detail = f"abuse model p={p:.2f}"
            reasons.append(
                Reason(ReasonCode.ABUSE_CLASSIFIER, Category.ABUSE, None, detail, self.model.version, p)
            )
        return CheckResult(self.name, self.version, tuple(reasons), {"abuse_model": round(p, 4)})
