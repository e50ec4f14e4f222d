"""Load ``spam.yaml`` into the compiled :class:`~moderation.filters.spam.SpamRules`.

Kept apart from the other rule packs' loader: the spam pack has its own shape (link lists,
thresholds, phrase rules with trigger strings). Loaded once per process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

import ahocorasick
import yaml

from moderation.filters.spam import PhraseRule, SpamHeuristics, SpamRules
from moderation.filters.types import ReasonCode
from moderation.rules.leading import compile_led


class SpamRulesError(ValueError):
    """The spam rule pack is malformed; the message names the offending entry."""


_SPAM_CODES = {code.value: code for code in ReasonCode if code.value.startswith("spam.")}


def _score(section: Mapping[str, Any], key: str, where: str) -> float:
    value = section.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise SpamRulesError(f"{where}.{key}: a score in 0..1 is required, got {value!r}")
    return float(value)


def _positive_int(section: Mapping[str, Any], key: str, where: str) -> int:
    value = section.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpamRulesError(f"{where}.{key}: a positive integer is required, got {value!r}")
    return value


def _strings(section: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpamRulesError(f"{where}.{key}: a list of non-empty strings is required")
    return [v.lower() for v in value]


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise SpamRulesError(f"{key}: a mapping is required")
    return value


def _tld_alternatives(tlds: list[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(set(tlds), key=lambda t: (-len(t), t)))


def _tld_hint_pattern(tlds: list[str]) -> re.Pattern[str]:
    return re.compile(r"\.(?:" + _tld_alternatives(tlds) + r")(?![\w-])")


def _bare_domain_pattern(tlds: list[str]) -> re.Pattern[str]:
    # Labels are delimited by dots, so the repetition cannot backtrack across labels; the
    # look-behind lets a match start only at the start of a word.
    alternatives = _tld_alternatives(tlds)
    return re.compile(
        r"(?<![\w@.\-/:])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + alternatives + r"))"
        r"(?![\w-])(?:/[^\s<>\"'()\[\]]*)?"
    )


def _repeat_pattern(min_run: int) -> re.Pattern[str]:
    return re.compile(r"(\S)\1{" + str(min_run - 1) + ",}")


def parse_spam_rules(text: str, *, source: str = "spam.yaml") -> SpamRules:
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SpamRulesError(f"{source}: a mapping is required at the top level")
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise SpamRulesError(f"{source}: version is required")
    links = _section(data, "links")
    contact = _section(data, "contact")
    repeated = _section(data, "repeated_chars")
    shouting = _section(data, "shouting")

    phrases: list[PhraseRule] = []
    automaton = ahocorasick.Automaton()
    by_trigger: dict[str, list[int]] = {}
    raw_phrases = data.get("phrases")
    if not isinstance(raw_phrases, list) or not raw_phrases:
        raise SpamRulesError(f"{source}: phrases must be a non-empty list")
    seen: set[str] = set()
    for i, raw in enumerate(raw_phrases):
        where = f"phrases[{i}]"
        if not isinstance(raw, dict):
            raise SpamRulesError(f"{where}: a mapping is required")
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not rule_id or rule_id in seen:
            raise SpamRulesError(f"{where}.id: a unique non-empty id is required")
        seen.add(rule_id)
        where = f"phrases[{rule_id}]"
        code = _SPAM_CODES.get(str(raw.get("code")))
        if code is None:
            raise SpamRulesError(f"{where}.code: one of {sorted(_SPAM_CODES)} is required")
        try:
            pattern = re.compile(str(raw.get("pattern", "")))
        except re.error as exc:
            raise SpamRulesError(f"{where}.pattern: {exc}") from exc
        if not pattern.pattern:
            raise SpamRulesError(f"{where}.pattern: required")
        triggers = _strings(raw, "triggers", where)
        if not triggers:
            raise SpamRulesError(f"{where}.triggers: at least one trigger is required")
        detail = raw.get("detail", "")
        if not isinstance(detail, str):
            raise SpamRulesError(f"{where}.detail: a string is required")
        for trigger in triggers:
            by_trigger.setdefault(trigger, []).append(len(phrases))
        phrases.append(
            PhraseRule(rule_id, code, pattern, _score(raw, "score", where), detail, _ascii_twin(pattern))
        )
    for trigger, indices in by_trigger.items():
        automaton.add_word(trigger, tuple(indices))
    automaton.make_automaton()

    return SpamRules(
        version=version,
        link_score=_score(links, "score_per_link", "links"),
        author_link_score=_score(links, "author_url_score", "links"),
        shortener_score=_score(links, "shortener_score", "links"),
        max_link_reasons=_positive_int(links, "max_reasons", "links"),
        bare_domain=_bare_domain_pattern(_strings(links, "bare_domain_tlds", "links")),
        tld_hint=_tld_hint_pattern(_strings(links, "bare_domain_tlds", "links")),
        shorteners=frozenset(_strings(links, "shorteners", "links")),
        reputable=frozenset(_strings(links, "reputable", "links")),
        phone_score=_score(contact, "phone_score", "contact"),
        phone_allow=frozenset(_strings(contact, "phone_allow", "contact")),
        email_score=_score(contact, "email_score", "contact"),
        handle_score=_score(contact, "handle_score", "contact"),
        phrases=tuple(phrases),
        triggers=automaton,
        repeat_min_run=_positive_int(repeated, "min_run", "repeated_chars"),
        repeat_score=_score(repeated, "score", "repeated_chars"),
        repeat_long_run=_positive_int(repeated, "long_run", "repeated_chars"),
        repeat_long_score=_score(repeated, "long_score", "repeated_chars"),
        repeat_re=re.compile(
            r"(\S)\1{" + str(_positive_int(repeated, "min_run", "repeated_chars") - 1) + ",}"
        ),
        shout_min_letters=_positive_int(shouting, "min_letters", "shouting"),
        shout_min_ratio=_score(shouting, "min_ratio", "shouting"),
        shout_score=_score(shouting, "score", "shouting"),
    )


def _ascii_twin(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """``pattern`` in ASCII mode (see ``PhraseRule.ascii_pattern``), when it is itself ASCII:
    then the two modes differ only on non-ASCII text and on \\x1c-\\x1f (Unicode \\s).
    Compiled literal-led where it can be (:mod:`moderation.rules.leading`): the same match."""
    if not pattern.pattern.isascii():
        return None  # e.g. a case-insensitive non-ASCII letter can match an ASCII one
    try:
        return compile_led(pattern.pattern)
    except (re.error, ValueError):  # an inline (?u) refuses ASCII mode
        return None


def load_spam_rules() -> SpamRules:
    """Compile the packaged ``moderation/rules/spam.yaml`` (once per process)."""
    resource = files("moderation.rules").joinpath("spam.yaml")
    return parse_spam_rules(resource.read_text(encoding="utf-8"))


def load_spam_check() -> SpamHeuristics:
    return SpamHeuristics(load_spam_rules())
