"""Rule-based spam heuristics: links, shorteners, contact handles, promotion, money offers,
repeated characters and shouting.

Each finding is a :class:`~moderation.filters.types.Reason` with a span in the original text
and a score in 0..1. The policy combines spam scores with a noisy-OR and flags at 0.5,
rejects at 0.9, so scores are calibrated as "how much of a spam verdict this alone is": one
ordinary link (0.45) or one promotional word stays published, two links and a pharmacy
offer reject. Links to reputable health sources score nothing.

The module is pure: word lists, patterns and thresholds arrive compiled in
:class:`SpamRules` (built by ``moderation.rules.spam_loader`` from ``spam.yaml``).
Every pattern runs in linear time; phrase rules run only when one of their trigger strings
occurs, found in one pass by an Aho-Corasick automaton.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moderation.filters.normalize import Normalized, may_have_run
from moderation.filters.rulematch import twin_safe
from moderation.filters.types import Category, CheckResult, CommentInput, Reason, ReasonCode

# URLs with a scheme or "www."; the host is group 1.
_URL_RE = re.compile(r"(?:https?://|www\.)(?:[^\s/?#@<>\"']*@)?([^\s/?#:<>\"'()\[\]]+)[^\s<>\"'()\[\]]*")
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24}\b")
# Phone-like: 7 to 15 digits with at most two separators between any two digits.
_PHONE_RE = re.compile(r"(?<![\w+.,/])(?:\+|00)?\(?\d(?:[ .()\-]{0,2}\d){6,14}(?![\w.,/]?\d)")
_PHONE_HINT_RE = re.compile(r"\d[\d .()\-]{5,}\d")  # starts with a digit: scanned quickly
# The same on ASCII text, where \d is [0-9]: a character class scans faster than a category.
_PHONE_HINT_ASCII_RE = re.compile(r"[0-9][0-9 .()\-]{5,}[0-9]")
_DIGIT_BYTES = b"0123456789"
_DATE_RE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_NOT_DIGIT = re.compile(r"\D")
_HANDLE_RE = re.compile(r"(?<![\w@.])@[a-z0-9_](?:[a-z0-9_.]{1,29}[a-z0-9_])")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_ASCII_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Deleting characters from bytes is several times faster than str.translate.
_UPPER_BYTES = _ASCII_LETTERS[:26].encode()
_LETTER_BYTES = _ASCII_LETTERS.encode()


@dataclass(frozen=True, slots=True)
class PhraseRule:
    rule_id: str
    code: ReasonCode
    pattern: re.Pattern[str]
    score: float
    detail: str
    # ``pattern`` in ASCII mode, which means the same where rulematch.twin_safe holds and
    # reads \w, \b, \d from a table instead of Unicode's; None when the pattern is not ASCII.
    ascii_pattern: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class SpamRules:
    """Compiled spam rule pack (see ``moderation/rules/spam.yaml`` for the meaning of each)."""

    version: str
    link_score: float
    author_link_score: float
    shortener_score: float
    max_link_reasons: int
    bare_domain: re.Pattern[str]  # host names without a scheme, e.g. "bit.ly/x", "pills.com"
    tld_hint: re.Pattern[str]  # ".<tld>" at the end of a word
    shorteners: frozenset[str]
    reputable: frozenset[str]  # domains and suffixes ("nih.gov", "gov", "nhs.uk")
    phone_score: float
    phone_allow: frozenset[str]  # digit strings never reported (crisis helplines)
    email_score: float
    handle_score: float
    phrases: tuple[PhraseRule, ...]
    # Aho-Corasick automaton: trigger string -> indices into ``phrases``
    triggers: Any
    repeat_min_run: int
    repeat_score: float
    repeat_long_run: int
    repeat_long_score: float
    repeat_re: re.Pattern[str]  # (\S)\1{repeat_min_run - 1,}: needs a run of repeat_min_run
    shout_min_letters: int
    shout_min_ratio: float
    shout_score: float


def _phone_hint(text: str) -> bool:
    """Whether ``text`` may hold a phone number (a necessary condition for _PHONE_RE)."""
    if not text.isascii():
        return _PHONE_HINT_RE.search(text) is not None
    raw = text.encode("ascii")
    if len(raw.translate(None, _DIGIT_BYTES)) == len(raw):
        return False  # no digit, no number (most comments): no scan
    return _PHONE_HINT_ASCII_RE.search(text) is not None


def _domain_in(host: str, domains: frozenset[str]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one."""
    if host in domains:
        return True
    dot = host.find(".")
    while dot != -1:
        if host[dot + 1 :] in domains:
            return True
        dot = host.find(".", dot + 1)
    return False


class SpamHeuristics:
    """Pure rule-based spam check. Thread-safe: holds only compiled, immutable rules."""

    name = "spam_heuristics"

    def __init__(self, rules: SpamRules) -> None:
        self.rules = rules
        self.version = rules.version

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:
        reasons: list[Reason] = []
        n_links, n_reputable = self._links(norm, reasons)
        self._author_url(comment.author_url, reasons)
        self._contacts(norm, reasons)
        self._phrases(norm, reasons)
        if norm.may_repeat or self.rules.repeat_min_run < 3:
            self._repeats(norm.original, reasons)
        self._shouting(norm.original, reasons)
        remaining = 1.0
        for r in reasons:
            remaining *= 1.0 - r.score
        return CheckResult(
            check=self.name,
            version=self.version,
            reasons=tuple(reasons),
            scores={
                "spam_heuristics": round(1.0 - remaining, 4),
                "links": float(n_links),
                "links_reputable": float(n_reputable),
            },
        )

    # -- links ---------------------------------------------------------------------------

    def _iter_links(self, text: str) -> Iterator[tuple[int, int, str]]:
        """``(start, end, host)`` for every URL and bare domain name in ``text``."""
        taken_until = -1
        found: list[tuple[int, int, str]] = []
        if "http" in text or "www." in text:
            for m in _URL_RE.finditer(text):
                found.append((m.start(), m.end(), m.group(1).rstrip(".,;:!?").removeprefix("www.")))
        # A bare domain ends in ".<tld>": find those (a literal-prefixed scan), then match
        # the full pattern from the start of the word around each one.
        bare = self.rules.bare_domain
        pos = 0
        while (hint := self.rules.tld_hint.search(text, pos)) is not None:
            start = hint.start()
            floor = max(0, start - 255)
            while start > floor and text[start - 1] in _HOST_CHARS:
                start -= 1
            domain = bare.match(text, start)
            if domain is not None and domain.end() >= hint.end():
                found.append((domain.start(), domain.end(), domain.group(1)))
                pos = domain.end()
            else:
                pos = hint.end()
        found.sort()
        for start, end, host in found:
            if start < taken_until:
                continue  # a bare domain inside a URL already counted
            taken_until = end
            yield start, end, host

    def _links(self, norm: Normalized, reasons: list[Reason]) -> tuple[int, int]:
        rules = self.rules
        view = norm.text
        n_links = n_reputable = 0
        for start, end, host in self._iter_links(view.text):
            if _domain_in(host, rules.reputable):
                n_reputable += 1
                continue
            n_links += 1
            if n_links > rules.max_link_reasons:
                continue  # the score is saturated; keep the reason list readable
            span = view.span(start, end)
            reasons.append(
                Reason(ReasonCode.SPAM_LINKS, Category.SPAM, span, host, "spam.link", rules.link_score)
            )
            if _domain_in(host, rules.shorteners):
                reasons.append(
                    Reason(
                        ReasonCode.SPAM_SHORTENER,
                        Category.SPAM,
                        span,
                        host,
                        "spam.shortener",
                        rules.shortener_score,
                    )
                )
        return n_links, n_reputable

    def _author_url(self, url: str | None, reasons: list[Reason]) -> None:
        if not url:
            return
        lowered = url.strip().lower()
        m = _URL_RE.match(lowered) or self.rules.bare_domain.match(lowered)
        if m is None:
            return
        host = m.group(1).removeprefix("www.")
        rules = self.rules
        if _domain_in(host, rules.reputable):
            return
        if _domain_in(host, rules.shorteners):
            code, rule_id, score = (
                ReasonCode.SPAM_SHORTENER,
                "spam.author_url_shortener",
                rules.shortener_score,
            )
        else:
            code, rule_id, score = ReasonCode.SPAM_LINKS, "spam.author_url", rules.author_link_score
        reasons.append(Reason(code, Category.SPAM, None, f"author url: {host}", rule_id, score))

    # -- contact handles -----------------------------------------------------------------

    def _contacts(self, norm: Normalized, reasons: list[Reason]) -> None:
        rules = self.rules
        view = norm.text
        text = view.text
        if "@" in text:
            m = _EMAIL_RE.search(text)
            if m:
                reasons.append(
                    Reason(
                        ReasonCode.SPAM_CONTACT,
                        Category.SPAM,
                        view.span(*m.span()),
                        "email address",
                        "spam.contact.email",
                        rules.email_score,
                    )
                )
            m = _HANDLE_RE.search(text)
            if m:
                reasons.append(
                    Reason(
                        ReasonCode.SPAM_CONTACT,
                        Category.SPAM,
                        view.span(*m.span()),
                        f"handle {m.group()}",
                        "spam.contact.handle",
                        rules.handle_score,
                    )
                )
        if _phone_hint(text):
            for m in _PHONE_RE.finditer(text):
                number = m.group()
                digits = _NOT_DIGIT.sub("", number)
                international = number.startswith(("+", "00"))
                if digits in rules.phone_allow or _DATE_RE.search(number):
                    continue
                if not (international and len(digits) >= 8) and len(digits) not in (10, 11):
                    continue
                reasons.append(
                    Reason(
                        ReasonCode.SPAM_CONTACT,
                        Category.SPAM,
                        view.span(*m.span()),
                        "phone number",
                        "spam.contact.phone",
                        rules.phone_score,
                    )
                )
                break  # one number is enough; more add nothing but noise

    # -- phrases -------------------------------------------------------------------------

    def _phrases(self, norm: Normalized, reasons: list[Reason]) -> None:
        view = norm.text
        text = view.text
        fired: set[int] = set()
        for _end, indices in self.rules.triggers.iter(text):
            fired.update(indices)
        if not fired:
            return
        phrases = self.rules.phrases
        ascii_ok = twin_safe(text)
        for i in sorted(fired):
            rule = phrases[i]
            pattern = rule.ascii_pattern if ascii_ok and rule.ascii_pattern is not None else rule.pattern
            m = pattern.search(text)
            if m is None:
                continue
            detail = f"{rule.detail}: {m.group().strip()}" if rule.detail else m.group().strip()
            reasons.append(
                Reason(rule.code, Category.SPAM, view.span(*m.span()), detail, rule.rule_id, rule.score)
            )

    # -- shape ---------------------------------------------------------------------------

    def _repeats(self, original: str, reasons: list[Reason]) -> None:
        rules = self.rules
        # repeat_re is ``(\S)\1{min_run - 1,}``: without such a run of any character there is
        # nothing to scan for (most comments).
        if not may_have_run(original, rules.repeat_min_run):
            return
        longest: re.Match[str] | None = None
        for m in rules.repeat_re.finditer(original):
            if longest is None or len(m.group()) > len(longest.group()):
                longest = m
        if longest is None:
            return
        run = len(longest.group())
        score = rules.repeat_long_score if run >= rules.repeat_long_run else rules.repeat_score
        reasons.append(
            Reason(
                ReasonCode.SPAM_REPEATED_CHARS,
                Category.SPAM,
                longest.span(),
                f"{longest.group(1)!r} repeated {run} times",
                "spam.repeated_chars",
                score,
            )
        )

    def _shouting(self, original: str, reasons: list[Reason]) -> None:
        rules = self.rules
        if len(original) < rules.shout_min_letters:
            return
        if original.isascii():
            raw = original.encode("ascii")
            upper = len(raw) - len(raw.translate(None, _UPPER_BYTES))
            if upper < rules.shout_min_ratio * rules.shout_min_letters:
                return  # too few capitals whatever the letter count (letters >= upper)
            letters = len(raw) - len(raw.translate(None, _LETTER_BYTES))
        else:
            upper = sum(map(str.isupper, original))
            letters = sum(map(str.isalpha, original))
        if letters < rules.shout_min_letters or upper < rules.shout_min_ratio * letters:
            return
        reasons.append(
            Reason(
                ReasonCode.SPAM_SHOUTING,
                Category.SPAM,
                (0, len(original)),
                f"{upper} of {letters} letters in capitals",
                "spam.shouting",
                rules.shout_score,
            )
        )
