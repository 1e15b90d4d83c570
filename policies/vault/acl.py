"""Vault ACL policies, read the way Vault reads them (pure library: no pulumi imports).

:func:`parse` reads policy text (HCL, or JSON: the first non-blank character decides, as in Vault)
with a real HCL parser (pyhcl) and returns a :class:`Document`: the rules (path pattern ->
effective capabilities) and the problems, i.e. everything this reader does not understand. A
policy with problems is unreadable and the policies of the pack fail closed on it.

How the text is read
====================
* Top level: only ``path`` blocks (and Vault's ``name``). Anything else is a problem.
* A path block: ``capabilities`` (a list of capability names), the legacy ``policy = "read" |
  "write" | "sudo" | "deny"`` (mapped to capabilities as Vault maps it), and the keys that narrow a
  grant (``allowed_parameters``, ``denied_parameters``, ``required_parameters``, wrapping TTLs,
  ``mfa_methods``, ``control_group``, ``subscribe_event_types``, ``comment``). Any other key, a
  capability that is not a string or not a Vault capability, a ``capabilities`` that is not a list
  or a block that is not an object is a problem. ``root`` as a capability is kept (and reported as
  a grant of root by the least-privilege policy), not a problem.
* Repeated blocks for one path are merged (union of capabilities), as Vault merges them; pyhcl
  alone would keep the last block only, so the parser here keeps every key/value pair. ``deny``
  overrides every other capability of its path.
* A leading ``/`` is dropped, as Vault drops it. ``+*`` is a problem (Vault refuses it); so is a
  ``*`` anywhere but at the end (Vault matches it literally: it is never the glob the author meant)
  and any backslash escape other than ``\\"`` in HCL (pyhcl does not decode ``\\u002a`` the way
  Vault does, so the path read here could differ from the path Vault enforces).

Path patterns
=============
:class:`PathPattern`: ``*`` as the last character makes the path a prefix glob (it matches every
path starting with what precedes it, across ``/``); a segment that is exactly ``+`` matches any one
segment. :meth:`PathPattern.overlaps` decides whether two patterns can match a common path (a
product of the two patterns' automata), :meth:`PathPattern.matches` whether a pattern matches a
concrete path.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hcl.parser import HclParser

#: Every capability Vault knows (``recover``: restoring from a loaded snapshot, Vault 1.20+).
CAPABILITIES = frozenset(
    {
        "create",
        "read",
        "update",
        "patch",
        "delete",
        "list",
        "sudo",
        "deny",
        "subscribe",
        "recover",
    }
)
#: Capabilities that change what a path holds (``recover`` writes data back from a snapshot).
WRITE_CAPABILITIES = frozenset({"create", "update", "patch", "delete", "recover"})
#: The pre-0.9 ``policy = "..."`` syntax, as Vault maps it onto capabilities.
LEGACY_POLICIES: dict[str, frozenset[str]] = {
    "deny": frozenset({"deny"}),
    "read": frozenset({"read", "list"}),
    "write": frozenset({"create", "read", "update", "delete", "list"}),
    "sudo": frozenset({"create", "read", "update", "delete", "list", "sudo"}),
}
#: Keys of a path block that narrow a grant (parameters, wrapping, MFA...) or say nothing.
NARROWING_KEYS = frozenset(
    {
        "comment",
        "allowed_parameters",
        "denied_parameters",
        "required_parameters",
        "min_wrapping_ttl",
        "max_wrapping_ttl",
        "mfa_methods",
        "control_group",
        "subscribe_event_types",
    }
)


class _Pairs(list[tuple[Any, Any]]):
    """An HCL/JSON object as its ordered key/value pairs (repeated keys kept)."""


_PARSER_LOCK = threading.Lock()


@functools.cache
def _hcl_parser() -> Any:
    parser = HclParser()
    # pyhcl folds repeated keys into one (for repeated `path "x"` blocks the last one wins, which
    # would hide the capabilities of the others); keep every pair and merge them the way Vault does.
    parser.objectlist_flat = lambda items, _replace: _Pairs(items)
    return parser


def _entries(value: Any) -> list[tuple[Any, Any]] | None:
    if isinstance(value, _Pairs):
        return list(value)
    if isinstance(value, dict):
        return list(value.items())
    return None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bad_escape(text: str) -> bool:
    i = text.find("\\")
    while i != -1:
        if text[i + 1 : i + 2] != '"':
            return True
        i = text.find("\\", i + 2)
    return False


@dataclass(frozen=True)
class PathPattern:
    """One ``path "..."`` of a policy (leading ``/`` already dropped)."""

    text: str

    @property
    def prefix(self) -> bool:
        """A trailing ``*``: every path that starts with the rest."""
        return self.text.endswith("*")

    @property
    def segments(self) -> list[str]:
        """The ``/``-separated segments, the trailing ``*`` left out (``a/b/*`` -> a, b, '')."""
        return (self.text[:-1] if self.prefix else self.text).split("/")

    @property
    def is_glob(self) -> bool:
        return self.prefix or "+" in self.segments

    @property
    def only_wildcards(self) -> bool:
        """``*``, ``+``, ``+/+``, ``+/*``...: matches under every mount."""
        return self.is_glob and all(s in ("+", "") for s in self.segments)

    def literal_segments(self) -> int:
        """How many leading segments are whole literal names. For a prefix glob the segment the
        ``*`` ends is partial and does not count: ``a/b/c/d/*`` has 4, ``a/b/c/d*`` has 3,
        ``a/+/c`` has 1; an exact path counts its non-empty segments."""
        segments = self.segments
        if not self.is_glob:
            return sum(1 for s in segments if s)
        if self.prefix:
            segments = segments[:-1]
        count = 0
        for s in segments:
            if s == "+":
                break
            count += 1
        return count

    def matches(self, path: str) -> bool:
        """Whether this pattern matches the concrete path ``path``: equality for an exact path,
        a prefix test for ``a/b*``, a regex only when a ``+`` segment is involved."""
        path = path.lstrip("/")
        if "+" not in self.segments:
            return path.startswith(self.text[:-1]) if self.prefix else path == self.text
        return _segment_regex(self.text).fullmatch(path) is not None

    def _tokens(self) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for i, segment in enumerate(self.segments):
            if i:
                out.append(("c", "/"))
            if segment == "+":
                out.append(("seg", ""))
            else:
                out.extend(("c", ch) for ch in segment)
        if self.prefix:
            out.append(("any", ""))
        return tuple(out)

    def overlaps(self, other: PathPattern) -> bool:
        """Whether some path is matched by both patterns."""
        a, b = self._tokens(), other._tokens()

        def closure(i: int, toks: tuple[tuple[str, str], ...]) -> Iterator[int]:
            yield i
            while i < len(toks) and toks[i][0] != "c":
                i += 1
                yield i

        def moves(i: int, toks: tuple[tuple[str, str], ...]) -> list[tuple[tuple[str, str], int]]:
            if i >= len(toks):
                return []
            kind = toks[i][0]
            return [(toks[i], i + 1 if kind == "c" else i)]

        def meet(x: tuple[str, str], y: tuple[str, str]) -> bool:
            if x[0] == "any" or y[0] == "any":
                return True
            if x[0] == "seg" and y[0] == "seg":
                return True
            if x[0] == "seg":
                return y[1] != "/"
            if y[0] == "seg":
                return x[1] != "/"
            return x[1] == y[1]

        start = {(i, j) for i in closure(0, a) for j in closure(0, b)}
        seen, todo = set(start), list(start)
        while todo:
            i, j = todo.pop()
            if i == len(a) and j == len(b):
                return True
            for x, ni in moves(i, a):
                for y, nj in moves(j, b):
                    if not meet(x, y):
                        continue
                    for pair in ((ci, cj) for ci in closure(ni, a) for cj in closure(nj, b)):
                        if pair not in seen:
                            seen.add(pair)
                            todo.append(pair)
        return False


@functools.lru_cache(maxsize=4096)
def _segment_regex(text: str) -> re.Pattern[str]:
    """A pattern with ``+`` segments as a regex (compiled once per distinct pattern text)."""
    pattern = PathPattern(text)
    body = "/".join("[^/]*" if s == "+" else re.escape(s) for s in pattern.segments)
    return re.compile(body + (".*" if pattern.prefix else ""), re.S)


@dataclass(frozen=True)
class Rule:
    """The merged grant of one path pattern."""

    path: str
    #: Effective capabilities: ``{"deny"}`` alone when the path is denied.
    capabilities: frozenset[str]

    @property
    def pattern(self) -> PathPattern:
        return PathPattern(self.path)

    @property
    def denies(self) -> bool:
        return "deny" in self.capabilities


@dataclass(frozen=True)
class Document:
    rules: tuple[Rule, ...]
    #: What could not be read (empty: the whole text was understood).
    problems: tuple[str, ...]

    @property
    def readable(self) -> bool:
        return not self.problems


@functools.cache
def _lexer_template() -> Any:
    from hcl.lexer import Lexer

    return Lexer()


def _fresh_lexer() -> Any:
    """A new HCL lexer cloned from one built once: pyhcl builds (and validates) its ply lexer
    for every parse otherwise, most of the time a policy takes to read."""
    from hcl.lexer import Lexer

    lexer = Lexer.__new__(Lexer)
    lexer.lex = _lexer_template().lex.clone(lexer)
    lexer.lex.lexstatestack = []
    lexer.lex.begin("INITIAL")
    lexer.lex.lineno = 1
    return lexer


def _load(text: str) -> Any:
    if text.lstrip().startswith("{"):
        return json.loads(text, object_pairs_hook=_Pairs)
    with _PARSER_LOCK:
        return _hcl_parser().yacc.parse(text, lexer=_fresh_lexer(), debug=False)


def _capabilities(path: str, key: str, value: Any, problems: list[str]) -> set[str]:
    if key == "policy":
        if isinstance(value, str) and value in LEGACY_POLICIES:
            return set(LEGACY_POLICIES[value])
        problems.append(f'path "{path}": policy = {_short(value)} is not read, write, sudo or deny')
        return set()
    if not isinstance(value, list) or isinstance(value, _Pairs):
        problems.append(f'path "{path}": capabilities is not a list')
        return set()
    out: set[str] = set()
    for cap in value:
        if isinstance(cap, str) and (cap in CAPABILITIES or cap == "root"):
            out.add(cap)
        else:
            problems.append(f'path "{path}": {_short(cap)} is not a Vault capability')
    return out


def _blocks(value: Any) -> list[Any]:
    """``path`` as written in HCL (an object of path -> block) or JSON (the same, or a list)."""
    if isinstance(value, list) and not isinstance(value, _Pairs):
        return value
    return [value]


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Document:
    """The rules and problems of one policy text (never raises)."""
    problems: list[str] = []
    if not text.lstrip().startswith("{") and _bad_escape(text):
        problems.append(
            'a backslash escape other than \\" (Vault decodes it, this reader does not: the '
            "paths read here could differ from the paths Vault enforces)"
        )
    try:
        tree = _load(text)
    except Exception:  # pyhcl and ply raise several types; any of them means unreadable
        return Document((), ("the policy text cannot be parsed as HCL or JSON",))
    top = _entries(tree)
    if top is None:
        return Document((), ("the policy is not an object of path blocks",))
    merged: dict[str, set[str]] = {}
    for key, value in top:
        if key == "name":
            continue
        if key != "path":
            problems.append(f"unknown top-level key {_short(key)} (only path blocks)")
            continue
        for block in _blocks(value):
            rules = _entries(block)
            if rules is None:
                problems.append("path is not an object of path -> rules")
                continue
            for raw_path, body in rules:
                if not isinstance(raw_path, str):
                    problems.append(f"path {_short(raw_path)} is not a string")
                    continue
                path = raw_path.removeprefix("/")
                if not path:
                    problems.append("empty path")
                    continue
                if "+*" in path:
                    problems.append(f'path "{_short(path)}": "+*" is refused by Vault')
                    continue
                if "*" in path[:-1]:
                    problems.append(
                        f'path "{_short(path)}": "*" is only a glob as the last character '
                        "(Vault matches this one literally)"
                    )
                    continue
                items = _entries(body)
                if items is None:
                    problems.append(f'path "{_short(path)}": the rule is not a block')
                    continue
                caps = merged.setdefault(path, set())
                for field, field_value in items:
                    if field in ("capabilities", "policy"):
                        caps |= _capabilities(_short(path), field, field_value, problems)
                    elif field not in NARROWING_KEYS:
                        problems.append(f'path "{_short(path)}": unknown key {_short(field)}')
    rules_out = tuple(
        Rule(path, frozenset({"deny"}) if "deny" in caps else frozenset(caps))
        for path, caps in merged.items()
    )
    return Document(rules_out, tuple(problems))


def parse_policy(text: str) -> list[tuple[str, frozenset[str]]] | None:
    """(path, effective capabilities) of each rule; None if any part of the text is unreadable."""
    document = parse(text)
    if not document.readable:
        return None
    return [(r.path, r.capabilities) for r in document.rules]


# ---- a token's ACL: which rule decides a path ---------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What a token's policies allow on one concrete path: the one rule that decides it."""

    #: The deciding rule's path as written (None: no rule matches, so nothing is allowed).
    rule: str | None
    #: Its capabilities merged over the token's policies (``{"deny"}`` alone when denied).
    capabilities: frozenset[str]
    #: (policy name, capabilities it wrote on that rule) for each policy holding the rule.
    granting: tuple[tuple[str, frozenset[str]], ...] = ()

    def allows(self, capability: str) -> bool:
        return "deny" not in self.capabilities and capability in self.capabilities

    def policies_allowing(self, capability: str) -> tuple[str, ...]:
        if not self.allows(capability):
            return ()
        return tuple(p for p, caps in self.granting if capability in caps)


NOTHING = Decision(None, frozenset())
_ROOT = Decision("root", CAPABILITIES - {"deny"}, (("root", CAPABILITIES - {"deny"}),))


@dataclass
class _Merged:
    rule: str
    capabilities: frozenset[str]
    granting: list[tuple[str, frozenset[str]]]
    _decision: Decision | None = None

    def add(self, policy: str, capabilities: frozenset[str]) -> None:
        self._decision = None
        if "deny" in self.capabilities:
            return  # a deny already decided this rule
        if "deny" in capabilities:
            self.capabilities, self.granting = frozenset({"deny"}), [(policy, capabilities)]
            return
        self.capabilities |= capabilities
        self.granting.append((policy, capabilities))

    def decision(self) -> Decision:
        if self._decision is None:
            self._decision = Decision(self.rule, self.capabilities, tuple(self.granting))
        return self._decision


class ACL:
    """The policies of one token, merged and matched as Vault's ACL does (``vault/acl.go``).

    Every rule of every policy is filed by its path under one of three kinds: exact, prefix (a
    trailing ``*`` and no ``+``) or segment-wildcard (any ``+``). Rules of several policies on one
    path merge into one (union of capabilities; a ``deny`` on it wins over every grant on it).
    A concrete path is then decided by ONE rule, never by a union of the rules matching it:

    1. an exact rule for the path wins over everything;
    2. otherwise, among the longest matching prefix rule and every matching segment-wildcard rule,
       the highest priority wins: the first ``+`` or ``*`` later in the pattern; then not a prefix;
       then fewer ``+`` segments; then the longer pattern; then the lexically greater one.

    So ``deny`` on ``kv/data/*`` does not stop an exact ``read`` on ``kv/data/app`` (the exact rule
    decides), and ``read`` on ``kv/data/app/*`` is not stopped by a ``deny`` on ``kv/data/+/x``
    for ``kv/data/app/x`` (the ``*`` comes later than the ``+``). A policy named ``root`` allows
    everything. Matching follows Vault: ``+`` matches one segment (an empty one too), a trailing
    ``*`` any rest.
    """

    def __init__(self, policies: Iterator[tuple[str, Document]] | list[tuple[str, Document]]):
        self.root = False
        self.exact: dict[str, _Merged] = {}
        self.prefix: dict[str, _Merged] = {}
        self.segment: dict[str, _Merged] = {}
        for name, document in policies:
            if name == "root":
                self.root = True
            for rule in document.rules:
                path = rule.path
                if "+" in path:
                    table, key = self.segment, path
                elif path.endswith("*"):
                    table, key = self.prefix, path[:-1]
                else:
                    table, key = self.exact, path
                merged = table.get(key)
                if merged is None:
                    table[key] = _Merged(path, frozenset(), [])
                    merged = table[key]
                merged.add(name, rule.capabilities)
        #: the lengths of the prefix rules, longest first (a path tries only these)
        self._lengths = sorted({len(k) for k in self.prefix}, reverse=True)

    def rules(self) -> Iterator[str]:
        """Every merged rule's path as written."""
        for table in (self.exact, self.prefix, self.segment):
            for merged in table.values():
                yield merged.rule

    def decide(self, path: str) -> Decision:
        """The rule that decides ``path`` and what it allows (``sys/capabilities`` reports the
        same capabilities, or ``deny`` when none)."""
        path = path.lstrip("/")
        if self.root:
            return _ROOT
        exact = self.exact.get(path)
        if exact is not None:
            return exact.decision()
        best: tuple[tuple[int, int, int, int, str], _Merged] | None = None
        for i in self._lengths:
            found = self.prefix.get(path[:i]) if i <= len(path) else None
            if found is not None:
                best = ((i, 0, 0, i, path[:i]), found)
                break
        if self.segment:
            parts = path.split("/")
            for text, merged in self.segment.items():
                key = _segment_priority(text, parts)
                if key is not None and (best is None or key > best[0]):
                    best = (key, merged)
        return best[1].decision() if best is not None else NOTHING


def _segment_priority(text: str, parts: list[str]) -> tuple[int, int, int, int, str] | None:
    """Vault's priority key of a segment-wildcard rule if it matches the path split in ``parts``
    (greater wins), else None."""
    is_prefix = text.endswith("*")
    body = text[:-1] if is_prefix else text
    pattern = body.split("/")
    if len(parts) < len(pattern) or (not is_prefix and len(parts) != len(pattern)):
        return None
    wildcards = 0
    last = len(pattern) - 1
    for i, segment in enumerate(pattern):
        if segment == "+":
            wildcards += 1
        elif segment != parts[i] and not (is_prefix and i == last and parts[i].startswith(segment)):
            return None
    return (text.index("+"), 0 if is_prefix else 1, -wildcards, len(body), body)
