"""Precomputed speed-ups for rule-pack patterns; neither ever changes a match.

``re_twin(pattern)``
    The same pattern compiled with the standard :mod:`re` module in ASCII mode (about
    three times as fast as ``regex`` per search), when its syntax means the same thing in
    both. The engine uses it only on text that is pure ASCII and has none of the
    information separators ``\\x1c``-``\\x1f`` (see ``rulematch.twin_safe``): there
    ``\\w``, ``\\s``, ``\\d`` and ``\\b`` agree between the two modules (their Unicode
    tables differ), and ASCII mode reads them from a table instead of asking Unicode's.
``necessary_factors(pattern)``
    Groups of literal strings such that any text the pattern can match in contains at
    least one string of every group (``\\bhow (?:much|many)\\b`` -> ``[{"how much", "how
    many"}]``). When a group has no member in the comment, the search is skipped: it
    could not have matched.

Both only accept a conservative subset of the syntax (see :func:`_plain_syntax`); any
other pattern simply keeps the plain ``regex`` search.
"""

from __future__ import annotations

import importlib
import re
import warnings
from typing import Any

from moderation.rules.leading import compile_led

# The parser behind re.compile (Python 3.11+: re._parser); without it no factors or start
# characters are derived, and every pattern is simply searched.
try:
    _p: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - other interpreters
    _p = _c = None

# Letter escapes that mean the same in ``re`` and ``regex`` (V0) on ASCII text.
_CLASS_ESCAPES = set("bBwWsSdDAZntrfv")
_QUANTIFIER = re.compile(r"\{(?:\d+(?:,\d*)?|,\d+)\}")
_GROUP_OPENERS = ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>")
# Exact sets larger than this are summarised instead of multiplied out.
_MAX_EXACT = 64
# Shorter factors occur in nearly every comment: not worth looking for.
_MIN_FACTOR = 3


def _plain_syntax(pattern: str) -> bool:
    """True when every construct in ``pattern`` has one meaning in ``re`` and ``regex``.

    Refused: inline flags, named or numbered-group tricks other than plain capture,
    ``\\p{..}``-style and other letter escapes, literal or fuzzy ``{...}``, sets nested in
    sets and set operators (``--``, ``&&``, ``||``, ``~~``).
    """
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return False
            e = pattern[i + 1]
            if e.isalnum() and e not in _CLASS_ESCAPES:
                return False
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                if pattern[i] == "[" or pattern.startswith(("--", "&&", "||", "~~"), i):
                    return False
                if pattern[i] == "\\":
                    if i + 1 >= n:
                        return False
                    e = pattern[i + 1]
                    if e.isalnum() and e not in _CLASS_ESCAPES:
                        return False
                    i += 2
                    continue
                i += 1
            if i >= n:
                return False
            i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            if not pattern.startswith(_GROUP_OPENERS, i):
                return False
        elif c == "{":
            m = _QUANTIFIER.match(pattern, i)
            if m is None or i == 0:
                return False
            i = m.end()
            continue
        elif c == "}":
            return False
        i += 1
    return True


def re_twin(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` compiled with :mod:`re`, or None when it may differ from ``regex``.

    Compiled in its literal-led form where it has one (see :mod:`moderation.rules.leading`):
    the same matches, found with fewer positions tried.
    """
    if not _plain_syntax(pattern):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return compile_led(pattern)
    except (re.error, Warning, ValueError):
        return None  # e.g. a variable-width look-behind, which only ``regex`` accepts


def relaxed_twin(pattern: str) -> re.Pattern[str] | None:
    """An :mod:`re` pattern that matches wherever ``pattern`` can, and maybe elsewhere.

    Made by dropping the look-behinds (``(?<=..)``, ``(?<!..)``), the usual reason a
    pattern has no exact :func:`re_twin` (``re`` wants them fixed-width). Dropping a
    condition only adds matches, so its leftmost match is never to the right of the
    original's: it finds candidate starts, and the original confirms each one.
    """
    if re_twin(pattern) is not None or not _plain_syntax(pattern):
        return None
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith(("(?<=", "(?<!"), i):
            i = _group_end(pattern, i)
            continue
        step = _token_end(pattern, i)
        out.append(pattern[i:step])
        i = step
    relaxed = "".join(out)
    if relaxed == pattern:
        return None
    return re_twin(relaxed)


def _token_end(pattern: str, i: int) -> int:
    """End of the token at ``i``: an escape, a whole character class or one character."""
    if pattern[i] == "\\":
        return i + 2
    if pattern[i] == "[":
        j = i + 1
        if j < len(pattern) and pattern[j] == "^":
            j += 1
        if j < len(pattern) and pattern[j] == "]":
            j += 1
        while j < len(pattern) and pattern[j] != "]":
            j += 2 if pattern[j] == "\\" else 1
        return j + 1
    return i + 1


def _group_end(pattern: str, i: int) -> int:
    """Index just past the group opening at ``i`` (which must be balanced)."""
    depth = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i = _token_end(pattern, i) if c in "\\[" else i + 1
    return i


def start_chars(pattern: str) -> re.Pattern[str] | None:
    """A one-character :mod:`re` pattern for the characters a match can start with, when
    that set is small and has no letter, digit or space (``[!?\\n]+|\\.(?!\\d)`` -> ``[!.?\\n]``).

    Such a class is found by a fast scan, so searching for it first and confirming with
    the pattern is quicker than letting the pattern try every position.
    """
    if _p is None or not _plain_syntax(pattern):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = _p.parse(pattern)
        if parsed.state.flags & (re.IGNORECASE | re.VERBOSE) or parsed.getwidth()[0] == 0:
            return None
        chars = _first(list(parsed))
    except (_Unsupported, re.error, Warning, ValueError, RecursionError):
        return None
    # Letters, digits and spaces are everywhere: scanning for them first would not pay.
    if not chars or len(chars) > 8 or any(c.isalnum() or c == "_" or c in " \t\r\f\v" for c in chars):
        return None
    return re.compile("[" + "".join(sorted(re.escape(c) for c in chars)) + "]")


def _first(items: list[tuple[Any, Any]]) -> set[str] | None:
    """Every character a match of the sequence can start with (None: unknown)."""
    c = _c
    for op, av in items:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero-width: the next item starts the match
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.IN:
            chars: set[str] = set()
            for item_op, item_av in av:
                if item_op is not c.LITERAL:
                    return None
                chars.add(chr(item_av))
            return chars
        if op is c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                first = _first(list(branch))
                if first is None:
                    return None
                union |= first
            return union
        if op is c.SUBPATTERN:
            if av[1] or av[2]:
                return None
            return _first(list(av[3]))
        if op is c.ATOMIC_GROUP:
            return _first(list(av))
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            return _first(list(av[2]))
        return None
    return None  # nothing but zero-width items: may match empty


# A node summary: (exact, needs). ``exact`` is every string the node can match (None:
# unknown or too many); ``needs`` is a list of groups, each a set of which any match's
# surrounding text must contain one member.
_Info = tuple[set[str] | None, list[set[str]]]
_EMPTY: _Info = ({""}, [])
_UNKNOWN: _Info = (None, [])


class _Unsupported(Exception):
    pass


def necessary_factors(pattern: str, max_groups: int = 8) -> tuple[frozenset[str], ...]:
    """Groups of literals, one of each necessarily in any text ``pattern`` matches in.

    Empty when nothing useful is known (the pattern is then always searched).
    """
    if _p is None or not _plain_syntax(pattern):
        return ()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = _p.parse(pattern)
        if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
            return ()
        exact, needs = _seq(list(parsed))
    except (_Unsupported, re.error, Warning, ValueError, RecursionError):
        return ()
    groups = list(needs)
    if exact is not None:
        groups.append(exact)
    useful = {frozenset(g) for g in groups if g and min(map(len, g)) >= _MIN_FACTOR}
    # The most selective first: long shortest member, few members.
    best = sorted(useful, key=lambda g: (-min(map(len, g)), len(g), sorted(g)))
    return tuple(best[:max_groups])


def _seq(items: list[tuple[Any, Any]]) -> _Info:
    """A concatenation: runs of known children multiply out; every child's needs hold."""
    needs: list[set[str]] = []
    run: set[str] = {""}  # every string the current run of known children can match
    known = True
    for op, av in items:
        exact, child_needs = _node(op, av)
        needs.extend(child_needs)
        if exact is not None and len(run) * len(exact) <= _MAX_EXACT:
            run = {a + b for a in run for b in exact}
            continue
        known = False
        needs.extend(_closed(run))
        run = set(exact) if exact is not None else {""}
    if known:
        return run, needs
    needs.extend(_closed(run))
    return None, needs


def _closed(run: set[str]) -> list[set[str]]:
    """A finished run is a need, unless it may match nothing."""
    return [] if "" in run else [run]


def _node(op: Any, av: Any) -> _Info:
    c = _c
    if op is c.LITERAL:
        return {chr(av)}, []
    if op is c.AT:
        return _EMPTY
    if op in (c.ANY, c.NOT_LITERAL, c.CATEGORY):
        return _UNKNOWN
    if op is c.IN:
        chars: set[str] = set()
        for item_op, item_av in av:
            if item_op is not c.LITERAL:
                return _UNKNOWN
            chars.add(chr(item_av))
        return (chars if len(chars) <= 8 else None), []
    if op is c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _Unsupported
        return _seq(list(sub))
    if op is c.ATOMIC_GROUP:
        return _seq(list(av))
    if op is c.BRANCH:
        _, branches = av
        infos = [_seq(list(b)) for b in branches]
        if all(e is not None for e, _ in infos):
            union: set[str] = set().union(*(e for e, _ in infos if e is not None))
            if len(union) <= _MAX_EXACT:
                return union, []
        # One group per branch, joined: a match goes through one branch.
        joined: set[str] = set()
        for exact, needs in infos:
            best = _best_group(exact, needs)
            if best is None:
                return _UNKNOWN
            joined |= best
        return None, [joined]
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, high, sub = av
        exact, needs = _seq(list(sub))
        if low == 0:
            if high == 1 and exact is not None:
                return exact | {""}, []
            return _UNKNOWN
        if low == high == 1:
            return exact, needs
        return None, _with_exact(exact, needs)
    if op is c.ASSERT:
        _direction, sub = av
        exact, needs = _seq(list(sub))
        # What a look-around sees is in the text too, though not in the match.
        return {""}, _with_exact(exact, needs)
    if op is c.ASSERT_NOT:
        return _EMPTY
    raise _Unsupported  # back-references, conditionals, anything new


def _with_exact(exact: set[str] | None, needs: list[set[str]]) -> list[set[str]]:
    if exact is not None and "" not in exact:
        return [*needs, exact]
    return list(needs)


def _best_group(exact: set[str] | None, needs: list[set[str]]) -> set[str] | None:
    groups = _with_exact(exact, needs)
    groups = [g for g in groups if g and "" not in g]
    if not groups:
        return None
    return max(groups, key=lambda g: (min(map(len, g)), -len(g)))
