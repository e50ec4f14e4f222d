"""Rule packs as data: patterns, cues, rules and the compiled pack. Pure.

A rule pack is compiled by :mod:`moderation.rules` from YAML into these types and matched
by :mod:`moderation.filters.rulematch` (the engine and the check). A rule fires on the first
match of one of its ``match`` patterns that

* has every ``require`` pattern somewhere in its scope,
* has no ``unless`` pattern in its scope, and
* is not excused by one of the pack's named cues (negation, question, supervision, ...).

Scopes are measured around the match: ``match`` (the matched text), ``before`` (from
the start of the clause up to the match), ``clause_before`` (the same, plus the match:
where "don't" in "don't stop your meds" sits), ``sentence`` (including its final
punctuation, so a question can be seen) and ``comment``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import re

    import regex

    from moderation.filters.types import Category, ReasonCode

Scope = Literal["match", "before", "clause_before", "sentence", "comment"]
# A match from either regular-expression module (only .span() is used).
Match = Any
ViewName = Literal["text", "folded"]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled regular expression, the view it reads and where it looks."""

    regex: regex.Pattern[str]
    view: ViewName = "folded"
    scope: Scope = "sentence"
    # The same pattern under ``re``, used on ASCII text (None: ``regex`` only).
    fast: re.Pattern[str] | None = None
    # Without a ``fast`` twin: an ``re`` pattern that matches wherever this one can (and
    # maybe elsewhere), used on ASCII text to find the starts worth confirming.
    relaxed: re.Pattern[str] | None = None
    # Bits of the pack's literal groups (see ``RulePack.literals``) that must all be
    # present in the comment for a match to be possible (0: always search).
    need_mask: int = 0


@dataclass(frozen=True, slots=True)
class Cue:
    """A named exception: active when every ``when`` pattern hits and no ``unless`` does."""

    name: str
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    code: ReasonCode
    category: Category
    detail: str
    match: tuple[Pattern, ...]
    require: tuple[Pattern, ...] = ()
    unless: tuple[Pattern, ...] = ()
    cues: tuple[Cue, ...] = ()
    score: float = 1.0
    # The exceptions above, cheapest first (see :func:`plan_exceptions`).
    plan: tuple[Exception_, ...] = ()
    # Derived from ``match``, for the engine: the one view all its patterns read (None when
    # they read both) and each pattern's ``need_mask``.
    match_view: ViewName | None = field(init=False, compare=False, repr=False)
    match_needs: tuple[int, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        views = {p.view for p in self.match}
        object.__setattr__(self, "match_view", views.pop() if len(views) == 1 else None)
        object.__setattr__(self, "match_needs", tuple(p.need_mask for p in self.match))


# One exception test: ("require", pattern) excuses when the pattern is missing,
# ("unless", pattern) when it is found, ("cue", cue) when the cue is active.
Exception_ = tuple[str, "Pattern | Cue"]

_SCOPE_COST = {"match": 0, "before": 1, "clause_before": 1, "sentence": 2, "comment": 3}


def plan_exceptions(
    require: tuple[Pattern, ...], unless: tuple[Pattern, ...], cues: tuple[Cue, ...]
) -> tuple[Exception_, ...]:
    """Order a rule's exceptions so the cheap ones (short scopes) run first.

    Any one of them excuses a match, so the order never changes a result, only how soon
    an excused match (the usual case on a hard negative) stops costing time.
    """

    def cost(item: Exception_) -> int:
        _kind, obj = item
        patterns = obj.when + obj.unless if isinstance(obj, Cue) else (obj,)
        return max(_SCOPE_COST[p.scope] for p in patterns) if patterns else 0

    items: list[Exception_] = [("require", p) for p in require]
    items += [("unless", p) for p in unless]
    items += [("cue", c) for c in cues]
    return tuple(sorted(items, key=cost))


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    version: str
    rules: tuple[Rule, ...]
    sentence_end: regex.Pattern[str]
    clause_break: regex.Pattern[str]
    # Aho-Corasick automaton over the folded text: keyword -> bit mask of the rules'
    # keyword groups it belongs to (None when no rule has keywords). OR-ing the masks
    # found in a text says which groups have a hit.
    keywords: Any
    # Number of keyword groups per rule (0: tried on every comment).
    keyword_groups: tuple[int, ...] = ()
    # Per rule, the bits of its keyword groups: a rule is tried when all of them are set
    # in the folded text's mask.
    keyword_masks: tuple[int, ...] = ()
    # Matches examined per rule before giving up on a pathological comment; then the
    # rule fires anyway when ``flag_on_limit`` (crisis: err to flagging) or is skipped.
    max_attempts: int = 25
    flag_on_limit: bool = False
    # Sentence and clause scopes never reach further than this from the match.
    window: int = 300
    # ``re`` twins of the two boundary patterns, for ASCII text (None: use ``regex``).
    sentence_end_fast: re.Pattern[str] | None = None
    clause_break_fast: re.Pattern[str] | None = None
    # One-character classes every match of them starts with, when rare (punctuation):
    # scanning for those first is faster than trying the pattern everywhere.
    sentence_end_start: re.Pattern[str] | None = None
    clause_break_start: re.Pattern[str] | None = None
    # The same for the groups of literals patterns need (``Pattern.need_mask``), run
    # over a view only when a rule is tried on it.
    literals: Any = None
    # ``keywords`` and ``literals`` in one automaton (``keyword bits | literal bits <<
    # scan_shift``, ``scan_width`` bits in all, starting at bit ``scan_offset``), shared by
    # the packs :func:`moderation.rules.loader.link_packs` linked: one pass over the folded
    # text gives every pack both masks, and the literal mask stands for every view whose
    # text is the same (None: separate passes).
    scan: Any = None
    scan_shift: int = 0
    scan_width: int = 0
    scan_offset: int = 0
