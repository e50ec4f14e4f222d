"""Rewrite a pattern so that :mod:`re` finds its candidate starts by a character scan.

``re`` searches ``\\b(?:die|dying|be dead|...)`` by trying the whole alternation at every
position of the text: the leading ``\\b`` hides from it which characters a match can start
with. Written as a branch whose every alternative starts with a literal character, with the
word boundary moved into a one-character look-behind,

    (?:d(?<=\\bd)(?:ie|ying)|b(?<=\\bb)e dead|...)

the pattern gets a *charset prefix*: ``re`` skips, in C, every position whose character no
match can start with, and tries the branch only at the others (two to four times fewer
instructions per search on the rule packs' patterns).

The rewrite never changes a match. ``(?<=\\bc)`` after ``c`` tests exactly what ``\\b``
before ``c`` tested (look-behinds and ``\\b`` both read the text before ``pos``, as ``re``
defines them). Splitting ``(?:A|B)rest`` into alternatives ordered as ``re`` tries them
(``(?:x)?y`` -> ``xy``, then ``y``) and grouping them by first character keeps the order
among alternatives that can start at the same position; alternatives with different first
characters never can. Group numbers may change (a group can be copied or dropped), so the
rewrite is only for patterns whose callers use the whole match's span.

Anything outside a small, common subset of the syntax (see :func:`_alternatives`) is left
as it is: :func:`literal_led` returns None.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

try:
    _p: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - other interpreters
    _p = _c = None

# More alternatives than this and the rewritten pattern stops paying for its size.
MAX_ALTERNATIVES = 96
# A leading character class is split into one alternative per character up to this size.
MAX_CLASS = 3

_CATEGORY = {
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
}
_AT = {
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
    "AT_BEGINNING": "^",
    "AT_END": "$",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END_STRING": r"\Z",
}
# The flags that only say how text is read (str or bytes, Unicode or ASCII classes).
_TEXT_FLAGS = re.ASCII | re.UNICODE | re.LOCALE
# Zero-width tests that may stand before the first character (moved into the look-behind).
_MOVABLE = ("AT_BOUNDARY", "AT_NON_BOUNDARY")

_Items = list[tuple[Any, Any]]
# (zero-width tests before the character, the character, what follows it)
_Alternative = tuple[_Items, int, _Items]


class _Unsupported(Exception):
    pass


@lru_cache(maxsize=2048)  # a pack's loader asks for the same pattern's twins more than once
def literal_led(pattern: str, flags: int = re.ASCII) -> str | None:
    """``pattern`` rewritten to start with a branch of literal characters (see the module
    docstring), or None when it already does, may match empty, or uses other syntax."""
    if _p is None:  # pragma: no cover
        return None
    try:
        parsed = _p.parse(pattern, flags)
        if parsed.state.flags & ~_TEXT_FLAGS != flags & ~_TEXT_FLAGS:
            return None  # global inline flags ("(?i)..."): the rewrite would not carry them
        items: _Items = list(parsed)
        i = 0
        while i < len(items) and _movable(*items[i]):
            i += 1
        if i >= len(items):
            return None
        op = items[i][0]
        if op is _c.LITERAL and i == 0:
            return None  # re already scans for its literal prefix
        if op in (_c.SUBPATTERN, _c.BRANCH):
            # What follows the leading group stays after it, written once.
            alternatives, tail = _alternatives(items[: i + 1]), items[i + 1 :]
        else:
            alternatives, tail = _alternatives(items), []
        rewritten = "(?:" + "|".join(_grouped(alternatives)) + ")" + serialize(tail)
        re.compile(rewritten, flags)
    except (_Unsupported, KeyError, re.error, RecursionError):
        return None
    return rewritten


def compile_led(pattern: str, flags: int = re.ASCII) -> re.Pattern[str]:
    """``re.compile(pattern, flags)`` (raising what that raises), compiled in its
    literal-led form where it has one: the same matches, fewer positions tried."""
    re.compile(pattern, flags)
    return re.compile(literal_led(pattern, flags) or pattern, flags)


def _movable(op: Any, av: Any) -> bool:
    return op is _c.AT and str(av) in _MOVABLE


def _alternatives(seq: _Items) -> list[_Alternative]:
    """``seq`` as alternatives that each start with a literal character, in the order
    ``re`` tries them (raises _Unsupported when it cannot be written so)."""
    c = _c
    i = 0
    while i < len(seq) and _movable(*seq[i]):
        i += 1
    if i >= len(seq):
        raise _Unsupported("may match empty")
    lead, (op, av), rest = seq[:i], seq[i], seq[i + 1 :]
    found: list[_Alternative]
    if op is c.LITERAL:
        found = [([], av, rest)]
    elif op is c.SUBPATTERN:
        if av[1] or av[2]:
            raise _Unsupported("inline flags")
        found = _alternatives(list(av[3]) + rest)
    elif op is c.BRANCH:
        found = [a for branch in av[1] for a in _alternatives(list(branch) + rest)]
    elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and (av[0], av[1]) == (0, 1):
        take, skip = _alternatives(list(av[2]) + rest), _alternatives(rest)
        found = take + skip if op is c.MAX_REPEAT else skip + take  # greedy: take first
    elif op is c.IN and len(av) <= MAX_CLASS and all(o is c.LITERAL for o, _ in av):
        found = [([], ch, rest) for _, ch in av]  # one character: at most one matches
    else:
        raise _Unsupported(op)
    if len(found) > MAX_ALTERNATIVES:
        raise _Unsupported("too many alternatives")
    return [(lead + tests, ch, after) for tests, ch, after in found]


def _grouped(alternatives: list[_Alternative]) -> list[str]:
    """One branch per first character, its alternatives in their order."""
    by_char: dict[int, list[tuple[_Items, _Items]]] = {}
    for tests, ch, after in alternatives:
        by_char.setdefault(ch, []).append((tests, after))
    out = []
    for ch, members in by_char.items():
        first = _literal(ch)
        if len({serialize(t) for t, _ in members}) == 1:  # the same look-behind for all: written once
            look = _look_behind(members[0][0], ch)
            bodies = [serialize(after) for _, after in members]
        else:
            look = ""
            bodies = [_look_behind(t, ch) + serialize(after) for t, after in members]
        body = bodies[0] if len(bodies) == 1 else "(?:" + "|".join(bodies) + ")"
        out.append(first + look + body)
    return out


def _look_behind(tests: _Items, ch: int) -> str:
    return "(?<=" + serialize(tests) + _literal(ch) + ")" if tests else ""


# ------------------------------------------------------------------------- serializing


def serialize(items: _Items) -> str:
    """Pattern text for a parsed sequence (the subset :func:`_node` knows)."""
    return "".join(_node(op, av) for op, av in items)


def _literal(ch: int) -> str:
    return re.escape(chr(ch))


def _class_member(ch: int) -> str:
    s = chr(ch)
    if s.isalnum() or (s.isprintable() and s not in "\\]^-[ "):
        return s
    return f"\\x{ch:02x}" if ch < 0x100 else f"\\u{ch:04x}" if ch < 0x10000 else f"\\U{ch:08x}"


def _node(op: Any, av: Any) -> str:
    c = _c
    if op is c.LITERAL:
        return _literal(av)
    if op is c.NOT_LITERAL:
        return "[^" + _class_member(av) + "]"
    if op is c.ANY:
        return "."
    if op is c.IN:
        negate, members = "", []
        for item_op, item_av in av:
            if item_op is c.NEGATE:
                negate = "^"
            elif item_op is c.LITERAL:
                members.append(_class_member(item_av))
            elif item_op is c.RANGE:
                members.append(_class_member(item_av[0]) + "-" + _class_member(item_av[1]))
            elif item_op is c.CATEGORY:
                members.append(_CATEGORY[str(item_av)])
            else:
                raise _Unsupported(item_op)
        return "[" + negate + "".join(members) + "]"
    if op is c.BRANCH:
        return "(?:" + "|".join(serialize(list(b)) for b in av[1]) + ")"
    if op is c.SUBPATTERN:
        group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _Unsupported("inline flags")
        return ("(?:" if group is None else "(") + serialize(list(sub)) + ")"
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, sub = av
        return (
            "(?:" + serialize(list(sub)) + ")" + _quantifier(low, high) + ("?" if op is c.MIN_REPEAT else "")
        )
    if op is c.AT:
        return _AT[str(av)]
    if op in (c.ASSERT, c.ASSERT_NOT):
        direction, sub = av
        return (
            "(?"
            + ("<" if direction < 0 else "")
            + ("=" if op is c.ASSERT else "!")
            + serialize(list(sub))
            + ")"
        )
    raise _Unsupported(op)


def _quantifier(low: int, high: int) -> str:
    unbounded = high == _c.MAXREPEAT
    if (low, unbounded) == (0, True):
        return "*"
    if (low, unbounded) == (1, True):
        return "+"
    if (low, high) == (0, 1):
        return "?"
    if unbounded:
        return f"{{{low},}}"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"
