"""Load, validate and compile a YAML rule pack into a :class:`RulePack`.

The YAML schema (see ``medical.yaml`` for a commented example)::

    version: "2026.11.1"          # recorded with every decision
    name: medical
    category: unsafe_medical      # a moderation.filters.types.Category value
    sentence_end: <regex>         # where sentences end (folded view)
    clause_break: <regex>         # where clauses start inside a sentence
    vocab: {name: <regex fragment> | [<fragment>, ...]}   # used as {name} in patterns
    limits: {max_attempts: 25, flag_on_limit: false, window: 300}
    cues: {name: {when: [<pattern>...], unless: [<pattern>...]}}
    rules:
      - id: medical.dosing.amount   # unique, recorded with the decision
        code: medical.dosing        # a ReasonCode value of the pack's category
        detail: short explanation shown to moderators
        keywords: [mg, ml]          # substrings of the folded text that make the rule worth trying
                                    # ([[a, b], [c, d]]: one of each group must occur)
        match: [<pattern>...]       # any; the first acceptable match is reported
        require: [<pattern>...]     # all must be found (default scope: sentence)
        unless: [<pattern>...]      # none may be found (default scope: sentence)
        cues: [negation, question]  # named exceptions that excuse a match
        score: 1.0

A ``<pattern>`` is a regex string (folded view) or ``{pattern, view: text|folded,
scope: match|before|clause_before|sentence|comment}``. Patterns are compiled with the
``regex`` module; a quantified group that contains an unbounded quantifier (the shape
of catastrophic backtracking, e.g. ``(a+)+``) is refused.

Nothing in the YAML is about speed: the loader derives, per pattern, an ``re`` twin, the
literals a match needs and, for the boundary patterns, their start characters (see
:mod:`moderation.rules.prefilter`); the engine uses them without changing any result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import ahocorasick
import regex
import yaml

from moderation.filters.rulepack import Cue, Pattern, Rule, RulePack, Scope, ViewName, plan_exceptions
from moderation.filters.types import Category, ReasonCode
from moderation.rules.prefilter import necessary_factors, re_twin, relaxed_twin, start_chars

_SCOPES = ("match", "before", "clause_before", "sentence", "comment")
_VIEWS = ("text", "folded")
_VOCAB_REF = regex.compile(r"\{([a-z_][a-z0-9_]*)\}")
_PACK_KEYS = {
    "version",
    "name",
    "category",
    "description",
    "sentence_end",
    "clause_break",
    "vocab",
    "cues",
    "rules",
    "limits",
}
_RULE_KEYS = {"id", "code", "detail", "keywords", "match", "require", "unless", "cues", "score", "examples"}


class RulePackError(ValueError):
    """The rule pack is malformed; the message names the rule and the problem."""


def _expand(pattern: str, vocab: Mapping[str, str], where: str, depth: int = 0) -> str:
    if depth > 5:
        raise RulePackError(f"{where}: vocabulary nested too deeply")

    def sub(m: regex.Match[str]) -> str:
        name = str(m.group(1))
        if name not in vocab:
            raise RulePackError(f"{where}: unknown vocabulary {{{name}}}")
        return _expand(vocab[name], vocab, where, depth + 1)

    return _VOCAB_REF.sub(sub, pattern)


def check_backtracking(pattern: str, where: str) -> None:
    """Refuse a group repeated without bound that itself holds an unbounded quantifier."""
    stack: list[bool] = [False]  # per open group: does it contain an unbounded quantifier?
    atomic: list[bool] = [False]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            if _unbounded_quantifier(pattern, i):
                stack[-1] = True
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            unbounded = _unbounded_quantifier(pattern, i)
            if unbounded:
                stack[-1] = True
            continue
        if c == "(":
            stack.append(False)
            atomic.append(pattern.startswith("(?>", i))
            i += 1
            continue
        if c == ")":
            inner = stack.pop()
            is_atomic = atomic.pop()
            i += 1
            if _unbounded_quantifier(pattern, i):
                if inner and not is_atomic:
                    raise RulePackError(f"{where}: nested unbounded quantifier (catastrophic backtracking)")
                stack[-1] = True
            elif inner:
                stack[-1] = True
            continue
        i += 1
        if _unbounded_quantifier(pattern, i):
            stack[-1] = True


def _unbounded_quantifier(pattern: str, i: int) -> bool:
    if i >= len(pattern):
        return False
    c = pattern[i]
    if c in "*+":
        return not pattern.startswith(("*+", "++"), i)  # possessive never backtracks
    if c == "{":
        m = regex.match(r"\{(\d*),\}", pattern[i:])
        return m is not None
    return False


def _compile(pattern: str, vocab: Mapping[str, str], where: str) -> regex.Pattern[str]:
    expanded = _expand(pattern, vocab, where)
    check_backtracking(expanded, where)
    try:
        return regex.compile(expanded)
    except regex.error as exc:
        raise RulePackError(f"{where}: bad regex: {exc}") from exc


class _Slots:
    """Bit positions for groups of literals (a rule's keyword groups, or the groups of
    literals a pattern needs). One Aho-Corasick pass over a comment then says, as one
    integer, which groups have a member in it."""

    def __init__(self) -> None:
        self.bits: dict[frozenset[str], int] = {}

    def mask(self, groups: Any) -> int:
        mask = 0
        for group in groups:
            bit = self.bits.setdefault(frozenset(group), len(self.bits))
            mask |= 1 << bit
        return mask

    def by_word(self) -> dict[str, int]:
        """Literal -> the bits of every group it belongs to."""
        by_word: dict[str, int] = {}
        for group, bit in self.bits.items():
            for word in group:
                by_word[word] = by_word.get(word, 0) | 1 << bit
        return by_word

    def automaton(self) -> Any:
        """Literal -> the bits of every group it belongs to (None: no groups)."""
        return _automaton(self.by_word())


def _automaton(by_word: Mapping[str, int]) -> Any:
    if not by_word:
        return None
    automaton = ahocorasick.Automaton()
    for word in sorted(by_word):
        automaton.add_word(word, by_word[word])
    automaton.make_automaton()
    return automaton


def _pattern(spec: Any, vocab: Mapping[str, str], where: str, default_scope: Scope, slots: _Slots) -> Pattern:
    if isinstance(spec, str):
        spec = {"pattern": spec}
    if not isinstance(spec, dict) or "pattern" not in spec:
        raise RulePackError(f"{where}: a pattern is a string or a mapping with 'pattern'")
    extra = set(spec) - {"pattern", "view", "scope"}
    if extra:
        raise RulePackError(f"{where}: unknown keys {sorted(extra)}")
    view = spec.get("view", "folded")
    scope = spec.get("scope", default_scope)
    if view not in _VIEWS:
        raise RulePackError(f"{where}: view must be one of {_VIEWS}")
    if scope not in _SCOPES:
        raise RulePackError(f"{where}: scope must be one of {_SCOPES}")
    compiled = _compile(str(spec["pattern"]), vocab, where)
    # Speed-ups only (see moderation.rules.prefilter): a twin under `re` for ASCII text and
    # the literals a match cannot do without.
    return Pattern(
        compiled,
        cast(ViewName, view),
        cast(Scope, scope),
        fast=re_twin(compiled.pattern),
        relaxed=relaxed_twin(compiled.pattern),
        need_mask=slots.mask(necessary_factors(compiled.pattern)),
    )


def _patterns(
    specs: Any, vocab: Mapping[str, str], where: str, default_scope: Scope, slots: _Slots
) -> tuple[Pattern, ...]:
    if specs is None:
        return ()
    if not isinstance(specs, list):
        specs = [specs]
    return tuple(_pattern(s, vocab, f"{where}[{i}]", default_scope, slots) for i, s in enumerate(specs))


def _vocab(raw: Any) -> dict[str, str]:
    vocab: dict[str, str] = {}
    for name, value in (raw or {}).items():
        if isinstance(value, list):
            # Longest first, so "benzodiazepines" wins over "benzo" in an alternation.
            items = sorted((str(v) for v in value), key=len, reverse=True)
            vocab[name] = "(?:" + "|".join(items) + ")"
        else:
            vocab[name] = str(value)
    return vocab


def compile_pack(data: Mapping[str, Any], source: str = "<rules>") -> RulePack:
    """Validate parsed YAML and compile it. Raises :class:`RulePackError`."""
    if not isinstance(data, Mapping):
        raise RulePackError(f"{source}: the top level must be a mapping")
    extra = set(data) - _PACK_KEYS
    if extra:
        raise RulePackError(f"{source}: unknown keys {sorted(extra)}")
    for key in ("version", "name", "category", "rules"):
        if key not in data:
            raise RulePackError(f"{source}: missing '{key}'")
    try:
        category = Category(data["category"])
    except ValueError as exc:
        raise RulePackError(f"{source}: unknown category {data['category']!r}") from exc
    prefix = {Category.MEDICAL: "medical.", Category.CRISIS: "crisis."}.get(category, f"{category}.")
    vocab = _vocab(data.get("vocab"))
    slots = _Slots()  # literals patterns need
    keyword_slots = _Slots()  # the rules' keyword groups (few: small masks)
    cues: dict[str, Cue] = {}
    for name, spec in (data.get("cues") or {}).items():
        where = f"{source}: cue {name}"
        if not isinstance(spec, dict) or "when" not in spec:
            raise RulePackError(f"{where}: needs 'when'")
        cues[name] = Cue(
            name,
            _patterns(spec["when"], vocab, f"{where}.when", "sentence", slots),
            _patterns(spec.get("unless"), vocab, f"{where}.unless", "sentence", slots),
        )

    rules: list[Rule] = []
    seen: set[str] = set()
    group_counts: list[int] = []
    keyword_masks: list[int] = []
    for index, raw in enumerate(data["rules"]):
        rid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{source}: rule {rid or index}"
        if not isinstance(raw, dict) or not rid:
            raise RulePackError(f"{where}: every rule needs an 'id'")
        extra = set(raw) - _RULE_KEYS
        if extra:
            raise RulePackError(f"{where}: unknown keys {sorted(extra)}")
        if rid in seen:
            raise RulePackError(f"{where}: duplicate id")
        seen.add(rid)
        try:
            code = ReasonCode(str(raw.get("code")))
        except ValueError as exc:
            raise RulePackError(f"{where}: unknown code {raw.get('code')!r}") from exc
        if not code.value.startswith(prefix):
            raise RulePackError(f"{where}: code {code.value} does not belong to category {category}")
        if not raw.get("match"):
            raise RulePackError(f"{where}: needs at least one 'match' pattern")
        missing = [c for c in raw.get("cues") or () if c not in cues]
        if missing:
            raise RulePackError(f"{where}: unknown cues {missing}")
        score = float(raw.get("score", 1.0))
        if not 0.0 < score <= 1.0:
            raise RulePackError(f"{where}: score must be in (0, 1]")
        require = _patterns(raw.get("require"), vocab, f"{where}.require", "sentence", slots)
        unless = _patterns(raw.get("unless"), vocab, f"{where}.unless", "sentence", slots)
        rule_cues = tuple(cues[c] for c in raw.get("cues") or ())
        rules.append(
            Rule(
                id=rid,
                code=code,
                category=category,
                detail=str(raw.get("detail") or code.value),
                match=_patterns(raw["match"], vocab, f"{where}.match", "match", slots),
                require=require,
                unless=unless,
                cues=rule_cues,
                score=score,
                plan=plan_exceptions(require, unless, rule_cues),
            )
        )
        groups = _keyword_groups(raw.get("keywords"), where)
        group_counts.append(len(groups))
        keyword_masks.append(keyword_slots.mask(groups))

    limits = data.get("limits") or {}
    sentence_end = _compile(str(data.get("sentence_end", r"[!?\n]+|\.(?!\d)")), vocab, source)
    clause_break = _compile(str(data.get("clause_break", r"[,;:]")), vocab, source)
    return RulePack(
        name=str(data["name"]),
        version=str(data["version"]),
        rules=tuple(rules),
        sentence_end=sentence_end,
        clause_break=clause_break,
        keywords=keyword_slots.automaton(),
        literals=slots.automaton(),
        scan_shift=len(keyword_slots.bits),
        scan_width=len(keyword_slots.bits) + len(slots.bits),
        keyword_groups=tuple(group_counts),
        keyword_masks=tuple(keyword_masks),
        max_attempts=int(limits.get("max_attempts", 25)),
        flag_on_limit=bool(limits.get("flag_on_limit", False)),
        window=int(limits.get("window", 300)),
        sentence_end_fast=re_twin(sentence_end.pattern),
        clause_break_fast=re_twin(clause_break.pattern),
        sentence_end_start=start_chars(sentence_end.pattern),
        clause_break_start=start_chars(clause_break.pattern),
    )


def link_packs(packs: Sequence[RulePack]) -> list[RulePack]:
    """The same packs with one scan automaton for all of their keywords and literals (see
    ``RulePack.scan``; each pack its own range of bits), so that the pipeline reads a
    comment's folded text once for all of them. Results never change: a pack's bits of the
    joint mask are exactly its ``keywords`` and ``literals`` masks. Built only here (the
    pipeline's packs), so a pack loaded alone carries no third automaton."""
    joint: dict[str, int] = {}
    offset = 0
    linked: list[RulePack] = []
    for pack in packs:
        for automaton, shift in ((pack.keywords, 0), (pack.literals, pack.scan_shift)):
            for word, bits in automaton.items() if automaton is not None else ():
                joint[word] = joint.get(word, 0) | bits << (offset + shift)
        linked.append(replace(pack, scan_offset=offset))
        offset += pack.scan_width
    automaton = _automaton(joint)
    if automaton is None:
        return list(packs)
    return [replace(pack, scan=automaton) for pack in linked]


def _keyword_groups(raw: Any, where: str) -> list[list[str]]:
    """``[a, b]`` is one group (any of them); ``[[a, b], [c]]`` needs a hit in every group."""
    if not raw:
        return []
    if not isinstance(raw, list):
        raise RulePackError(f"{where}: keywords must be a list")
    groups = raw if all(isinstance(g, list) for g in raw) else [raw]
    for group in groups:
        for word in group:
            if not isinstance(word, str) or not word or word != word.casefold():
                raise RulePackError(f"{where}: keywords must be non-empty lower-case strings: {word!r}")
    return [list(g) for g in groups]


def parse_pack(text: str, source: str = "<rules>") -> RulePack:
    """Parse YAML text and compile it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulePackError(f"{source}: invalid YAML: {exc}") from exc
    return compile_pack(data, source)
